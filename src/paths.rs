//! Where sundial's files live (SPEC 1): the defaults of system and user mode,
//! overridden by the config file and then by the command line.

use std::path::{Path, PathBuf};

use crate::config::{Config, Mode};

/// The four locations every command needs, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub config: PathBuf,
    pub log_dir: PathBuf,
    pub state_dir: PathBuf,
    pub runtime_dir: PathBuf,
}

/// Command-line overrides (`--log-dir` ...). `None` means "not given".
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub log_dir: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub runtime_dir: Option<PathBuf>,
}

/// The environment the defaults are derived from; a value so tests can vary it.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub home: Option<PathBuf>,
    pub xdg_config_home: Option<PathBuf>,
    pub xdg_state_home: Option<PathBuf>,
    pub xdg_runtime_dir: Option<PathBuf>,
}

impl Env {
    pub fn from_process() -> Env {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
        };
        Env {
            home: var("HOME"),
            xdg_config_home: var("XDG_CONFIG_HOME"),
            xdg_state_home: var("XDG_STATE_HOME"),
            xdg_runtime_dir: var("XDG_RUNTIME_DIR"),
        }
    }

    fn config_home(&self) -> PathBuf {
        self.xdg_config_home
            .clone()
            .unwrap_or_else(|| self.home_dir().join(".config"))
    }

    fn state_home(&self) -> PathBuf {
        self.xdg_state_home
            .clone()
            .unwrap_or_else(|| self.home_dir().join(".local/state"))
    }

    fn home_dir(&self) -> PathBuf {
        self.home.clone().unwrap_or_else(|| PathBuf::from("/"))
    }
}

/// The config file used when neither `--config` nor `SUNDIAL_CONFIG` names one.
pub fn default_config(mode: Mode, env: &Env) -> PathBuf {
    match mode {
        Mode::System => PathBuf::from("/etc/sundial/jobs.yaml"),
        Mode::User => env.config_home().join("sundial/jobs.yaml"),
    }
}

/// Resolve every location: command line over config file over mode default.
pub fn resolve(
    config_path: &Path,
    config: Option<&Config>,
    overrides: &Overrides,
    mode: Mode,
    env: &Env,
) -> Paths {
    let from_file = |f: fn(&Config) -> &Option<PathBuf>| config.and_then(|c| f(c).clone());
    let (log, state) = match mode {
        Mode::System => (
            PathBuf::from("/var/log/sundial"),
            PathBuf::from("/var/lib/sundial"),
        ),
        Mode::User => {
            let state = env.state_home().join("sundial");
            (state.join("logs"), state)
        }
    };
    let absolute = |p: PathBuf| {
        if p.is_absolute() {
            p
        } else {
            std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
        }
    };
    let state_dir = absolute(
        overrides
            .state_dir
            .clone()
            .or_else(|| from_file(|c| &c.state_dir))
            .unwrap_or(state),
    );
    // User mode without XDG_RUNTIME_DIR: the state dir in use, so that two
    // configs with their own state dirs do not share one lock.
    let runtime = match mode {
        Mode::System => PathBuf::from("/run/sundial"),
        Mode::User => env
            .xdg_runtime_dir
            .as_ref()
            .map(|d| d.join("sundial"))
            .unwrap_or_else(|| state_dir.clone()),
    };
    Paths {
        config: absolute(config_path.to_path_buf()),
        log_dir: absolute(
            overrides
                .log_dir
                .clone()
                .or_else(|| from_file(|c| &c.log_dir))
                .unwrap_or(log),
        ),
        state_dir,
        runtime_dir: absolute(
            overrides
                .runtime_dir
                .clone()
                .or_else(|| from_file(|c| &c.runtime_dir))
                .unwrap_or(runtime),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env {
            home: Some("/home/ann".into()),
            ..Env::default()
        }
    }

    #[test]
    fn user_mode_defaults_follow_xdg() {
        let p = resolve(
            Path::new("/c.yaml"),
            None,
            &Overrides::default(),
            Mode::User,
            &env(),
        );
        assert_eq!(
            p.log_dir,
            PathBuf::from("/home/ann/.local/state/sundial/logs")
        );
        assert_eq!(p.state_dir, PathBuf::from("/home/ann/.local/state/sundial"));
        // No XDG_RUNTIME_DIR: the state dir holds the lock and socket.
        assert_eq!(
            p.runtime_dir,
            PathBuf::from("/home/ann/.local/state/sundial")
        );
        let mut e = env();
        e.xdg_runtime_dir = Some("/run/user/1000".into());
        e.xdg_config_home = Some("/cfg".into());
        let p = resolve(
            Path::new("/c.yaml"),
            None,
            &Overrides::default(),
            Mode::User,
            &e,
        );
        assert_eq!(p.runtime_dir, PathBuf::from("/run/user/1000/sundial"));
        assert_eq!(
            default_config(Mode::User, &e),
            PathBuf::from("/cfg/sundial/jobs.yaml")
        );
    }

    #[test]
    fn system_mode_defaults() {
        let p = resolve(
            Path::new("/etc/sundial/jobs.yaml"),
            None,
            &Overrides::default(),
            Mode::System,
            &env(),
        );
        assert_eq!(p.log_dir, PathBuf::from("/var/log/sundial"));
        assert_eq!(p.state_dir, PathBuf::from("/var/lib/sundial"));
        assert_eq!(p.runtime_dir, PathBuf::from("/run/sundial"));
    }

    #[test]
    fn user_runtime_dir_follows_a_custom_state_dir() {
        let o = Overrides {
            state_dir: Some("/srv/mine".into()),
            ..Overrides::default()
        };
        let p = resolve(Path::new("/c.yaml"), None, &o, Mode::User, &env());
        assert_eq!(p.runtime_dir, PathBuf::from("/srv/mine"));
    }

    #[test]
    fn command_line_wins() {
        let o = Overrides {
            log_dir: Some("/tmp/l".into()),
            ..Overrides::default()
        };
        let p = resolve(Path::new("/c.yaml"), None, &o, Mode::System, &env());
        assert_eq!(p.log_dir, PathBuf::from("/tmp/l"));
    }
}
