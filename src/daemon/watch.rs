//! Watching the config file (SPEC 7): inotify on the file's folder, not the
//! file, because editors save by writing a new file and renaming it over the
//! old one, which a watch on the old inode would never see.
//!
//! The watcher only says "something happened to the config"; the scheduler
//! debounces (an editor's save is several events) and then reloads exactly as
//! `sundial reload` does.

use std::path::{Path, PathBuf};

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// Keeps the inotify watch alive; dropping it stops watching.
pub struct ConfigWatch {
    _watcher: notify::RecommendedWatcher,
}

/// Watch `config`'s folder and send `()` on every change that touches it.
pub fn watch(config: &Path, tx: mpsc::UnboundedSender<()>) -> notify::Result<ConfigWatch> {
    let dir = config
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    let name = config.file_name().map(|n| n.to_os_string());
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        let ours = event
            .paths
            .iter()
            .any(|p| p.file_name().map(|n| n.to_os_string()) == name);
        if ours {
            let _ = tx.send(());
        }
    })?;
    watcher.watch(&dir, RecursiveMode::NonRecursive)?;
    Ok(ConfigWatch { _watcher: watcher })
}
