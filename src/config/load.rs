//! The loader's entry points: read the file (refusing an insecure one in
//! system mode), parse it into a tree, validate it, and in system mode check
//! the `from_file` secrets it names.
//!
//! [`load_with`] takes the [`Host`] as a parameter so tests can play root,
//! other users and file owners; [`load`] and [`load_str`] use the real machine.

use std::collections::HashSet;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::error::InsecureFile;
use super::host::{FileStatus, Host, SystemHost, check_secure};
use super::tree::{self, Pos};
use super::validate::{self, Ctx};
use super::{Config, ConfigError, Diagnostic, Mode};

/// Reads and validates the configuration file at `path`.
///
/// In system mode the file must be owned by root and not writable by group
/// or others; it is checked on the opened file, so a rename between the
/// check and the read cannot swap it.
pub fn load(path: &Path, mode: Mode) -> Result<Config, ConfigError> {
    let read_error = |source| ConfigError::Read {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read_error)?;
    let meta = file.metadata().map_err(read_error)?;
    let absolute = absolute(path);
    if mode == Mode::System {
        let status = FileStatus {
            uid: meta.uid(),
            mode: meta.mode(),
        };
        if let Some(insecure) = check_secure(&absolute, status) {
            return Err(ConfigError::Insecure {
                files: vec![insecure],
            });
        }
    }
    if meta.len() > tree::MAX_FILE_BYTES as u64 {
        return Err(ConfigError::Invalid(vec![Diagnostic {
            file: absolute,
            line: 1,
            column: 1,
            job: None,
            message: format!(
                "the file is {} bytes, more than the {} MiB sundial reads",
                meta.len(),
                tree::MAX_FILE_BYTES >> 20
            ),
            hint: Some("is this the right file?".into()),
        }]));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // `take` bounds the read even if the file grows after the size check.
    file.by_ref()
        .take(tree::MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
            let valid = std::str::from_utf8(valid).unwrap_or_default();
            let line = valid.matches('\n').count() + 1;
            let column = valid
                .rsplit('\n')
                .next()
                .unwrap_or_default()
                .chars()
                .count()
                + 1;
            return Err(ConfigError::Invalid(vec![Diagnostic {
                file: absolute,
                line,
                column,
                job: None,
                message: "the file is not valid UTF-8".into(),
                hint: Some("save it as UTF-8 text".into()),
            }]));
        }
    };
    load_with(&text, &absolute, mode, &mut SystemHost::default())
}

/// Validates configuration text. `path` names the file in messages and is
/// the base for relative paths in it; it need not exist.
pub fn load_str(text: &str, path: &Path, mode: Mode) -> Result<Config, ConfigError> {
    load_with(text, &absolute(path), mode, &mut SystemHost::default())
}

/// [`load_str`] against a given machine; `path` must be absolute.
pub(super) fn load_with(
    text: &str,
    path: &Path,
    mode: Mode,
    host: &mut dyn Host,
) -> Result<Config, ConfigError> {
    let mut ctx = Ctx::new(text, path, mode, host);
    let config = match tree::parse(text) {
        Ok(root) => validate::config(&mut ctx, &root),
        Err(err) => {
            ctx.error(err.pos, err.message, err.hint);
            None
        }
    };
    let insecure = if mode == Mode::System {
        check_secrets(&mut ctx)
    } else {
        Vec::new()
    };
    let mut diagnostics = std::mem::take(&mut ctx.diagnostics);
    match config {
        Some(config) if diagnostics.is_empty() && insecure.is_empty() => Ok(config),
        _ if !diagnostics.is_empty() => {
            // File order, whatever order the checks ran in (defaults are
            // read before jobs, whatever the file says).
            diagnostics.sort_by_key(|d| (d.line, d.column));
            Err(ConfigError::Invalid(diagnostics))
        }
        _ => Err(ConfigError::Insecure { files: insecure }),
    }
}

/// System mode: every `from_file` secret must exist, be owned by root and
/// not be writable by group or others. Missing or unreadable secrets become
/// diagnostics at the `from_file` value; insecure ones are returned.
fn check_secrets(ctx: &mut Ctx<'_>) -> Vec<InsecureFile> {
    let mut insecure: Vec<InsecureFile> = Vec::new();
    let mut checked: HashSet<PathBuf> = HashSet::new();
    for (path, pos, job) in std::mem::take(&mut ctx.secrets) {
        if !checked.insert(path.clone()) {
            continue;
        }
        match ctx.host.file_status(&path) {
            Ok(status) => insecure.extend(check_secure(&path, status)),
            Err(err) => {
                let message = if err.kind() == std::io::ErrorKind::NotFound {
                    format!("the secret file {} does not exist", path.display())
                } else {
                    format!("cannot check the secret file {}: {err}", path.display())
                };
                secret_error(ctx, pos, job, message);
            }
        }
    }
    insecure
}

fn secret_error(ctx: &mut Ctx<'_>, pos: Pos, job: Option<String>, message: String) {
    let saved = std::mem::replace(&mut ctx.job, job);
    ctx.error(
        pos,
        message,
        Some("create it, owned by root with mode 0600, or fix the path".into()),
    );
    ctx.job = saved;
}

/// The path made absolute against the current directory, without touching
/// the file system (the file may not exist for [`load_str`]).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}
