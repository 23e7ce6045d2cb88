//! What can go wrong when loading a configuration, in words a user can act on.
//!
//! A bad file is one [`ConfigError::Invalid`] carrying every [`Diagnostic`]
//! found in one pass, so `sundial check` shows all of them at once. An
//! insecure file (system mode) is a separate variant because the fix is a
//! `chmod`/`chown`, not an edit, and because its content must not be trusted.

use std::fmt;
use std::path::PathBuf;

/// One problem in a configuration file, at a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    /// The job the problem belongs to, when it is inside `jobs:`.
    pub job: Option<String>,
    pub message: String,
    /// What to write instead, when there is a likely fix.
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    /// `FILE:LINE:COL: job 'NAME': MESSAGE`, then `  hint: ...` on its own line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        if let Some(job) = &self.job {
            write!(f, "job '{job}': ")?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            // A hint of several lines (an example) stays indented under
            // `hint:` so it cannot be mistaken for the next diagnostic.
            write!(f, "\n  hint: {}", hint.replace('\n', "\n        "))?;
        }
        Ok(())
    }
}

/// Why a file is refused in system mode, and the command that fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsecureFile {
    pub path: PathBuf,
    /// E.g. "is writable by group and others".
    pub problem: String,
    /// The shell command(s) that fix it, e.g. `chmod go-w /etc/sundial/jobs.yaml`.
    pub fix: String,
}

impl fmt::Display for InsecureFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}; sundial runs its commands as root, so only root may change it\n  fix: {}",
            self.path.display(),
            self.problem,
            self.fix
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {source}; create it (jobs.yaml.example shows the format) or point --config or SUNDIAL_CONFIG at your jobs file", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Every problem found in the file, in file order.
    #[error("{}", DisplayAll(.0))]
    Invalid(Vec<Diagnostic>),
    /// System mode: the config file or a `from_file` secret could be changed
    /// by someone other than root.
    #[error("{}", DisplayInsecure(.files))]
    Insecure { files: Vec<InsecureFile> },
}

impl ConfigError {
    /// The process exit code for this error (SPEC 2): 78 (`EX_CONFIG`) for a
    /// file that is refused, 1 when it could not be read at all.
    pub fn exit_code(&self) -> i32 {
        match self {
            ConfigError::Read { .. } => 1,
            ConfigError::Invalid(_) | ConfigError::Insecure { .. } => 78,
        }
    }

    /// The diagnostics of an invalid file; empty for other errors.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ConfigError::Invalid(all) => all,
            _ => &[],
        }
    }
}

struct DisplayAll<'a>(&'a [Diagnostic]);

impl fmt::Display for DisplayAll<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{diagnostic}")?;
        }
        let count = self.0.len();
        write!(
            f,
            "\n{count} error{} in configuration",
            if count == 1 { "" } else { "s" }
        )
    }
}

struct DisplayInsecure<'a>(&'a [InsecureFile]);

impl fmt::Display for DisplayInsecure<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("refusing insecure configuration:")?;
        for file in self.0 {
            write!(f, "\n{file}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diagnostic(job: Option<&str>, hint: Option<&str>) -> Diagnostic {
        Diagnostic {
            file: "/etc/sundial/jobs.yaml".into(),
            line: 7,
            column: 14,
            job: job.map(str::to_owned),
            message: "unknown key 'comand'".into(),
            hint: hint.map(str::to_owned),
        }
    }

    #[test]
    fn diagnostic_display_has_position_job_and_hint() {
        assert_eq!(
            diagnostic(Some("backup"), Some("did you mean 'command'?")).to_string(),
            "/etc/sundial/jobs.yaml:7:14: job 'backup': unknown key 'comand'\n  hint: did you mean 'command'?"
        );
        assert_eq!(
            diagnostic(None, None).to_string(),
            "/etc/sundial/jobs.yaml:7:14: unknown key 'comand'"
        );
    }

    #[test]
    fn invalid_lists_every_diagnostic() {
        let err = ConfigError::Invalid(vec![diagnostic(None, None), diagnostic(Some("b"), None)]);
        let text = err.to_string();
        assert_eq!(text.lines().count(), 3);
        assert!(text.ends_with("2 errors in configuration"));
        assert_eq!(err.exit_code(), 78);
    }

    #[test]
    fn insecure_names_the_file_and_the_fix() {
        let err = ConfigError::Insecure {
            files: vec![InsecureFile {
                path: "/etc/sundial/jobs.yaml".into(),
                problem: "is writable by others".into(),
                fix: "chmod go-w /etc/sundial/jobs.yaml".into(),
            }],
        };
        let text = err.to_string();
        assert!(text.contains("/etc/sundial/jobs.yaml is writable by others"));
        assert!(text.contains("fix: chmod go-w /etc/sundial/jobs.yaml"));
        assert_eq!(err.exit_code(), 78);
    }
}
