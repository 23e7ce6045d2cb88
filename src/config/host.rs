//! What the loader asks of the machine: user and group accounts, who is
//! running sundial, and who owns a file.
//!
//! Behind a trait so the validation rules that depend on them (user mode
//! may not switch users; system mode refuses files others can write) are
//! tested without root and without particular accounts on the test machine.
//! The real implementation caches lookups: a 10,000-job file naming one user
//! asks NSS once.

use std::collections::HashMap;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::error::InsecureFile;

/// A user account, as far as the loader needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// Owner and permission bits of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FileStatus {
    pub uid: u32,
    pub mode: u32,
}

pub(super) trait Host {
    /// `Ok(None)` when there is no such user; `Err` when the lookup itself failed.
    fn user(&mut self, name: &str) -> Result<Option<Account>, String>;
    /// The group's gid; `Ok(None)` when there is no such group.
    fn group(&mut self, name: &str) -> Result<Option<u32>, String>;
    /// The user sundial runs as.
    fn current_user(&mut self) -> Account;
    /// Owner and mode of a file, following symlinks (the target is what gets read).
    fn file_status(&mut self, path: &Path) -> io::Result<FileStatus>;
}

/// The real machine, with cached lookups.
#[derive(Default)]
pub(super) struct SystemHost {
    users: HashMap<String, Result<Option<Account>, String>>,
    groups: HashMap<String, Result<Option<u32>, String>>,
    current: Option<Account>,
}

impl Host for SystemHost {
    fn user(&mut self, name: &str) -> Result<Option<Account>, String> {
        if let Some(known) = self.users.get(name) {
            return known.clone();
        }
        let found = match nix::unistd::User::from_name(name) {
            Ok(user) => Ok(user.map(|u| Account {
                name: u.name,
                uid: u.uid.as_raw(),
                gid: u.gid.as_raw(),
            })),
            Err(err) => Err(format!("cannot look up user '{name}': {err}")),
        };
        self.users.insert(name.to_owned(), found.clone());
        found
    }

    fn group(&mut self, name: &str) -> Result<Option<u32>, String> {
        if let Some(known) = self.groups.get(name) {
            return known.clone();
        }
        let found = match nix::unistd::Group::from_name(name) {
            Ok(group) => Ok(group.map(|g| g.gid.as_raw())),
            Err(err) => Err(format!("cannot look up group '{name}': {err}")),
        };
        self.groups.insert(name.to_owned(), found.clone());
        found
    }

    fn current_user(&mut self) -> Account {
        self.current
            .get_or_insert_with(|| {
                let uid = nix::unistd::geteuid();
                let gid = nix::unistd::getegid();
                // Without a passwd entry (a container's arbitrary uid) the uid
                // stands in for the name, so messages still say who we are.
                let name = nix::unistd::User::from_uid(uid)
                    .ok()
                    .flatten()
                    .map_or_else(|| uid.to_string(), |u| u.name);
                Account {
                    name,
                    uid: uid.as_raw(),
                    gid: gid.as_raw(),
                }
            })
            .clone()
    }

    fn file_status(&mut self, path: &Path) -> io::Result<FileStatus> {
        let meta = std::fs::metadata(path)?;
        Ok(FileStatus {
            uid: meta.uid(),
            mode: meta.mode(),
        })
    }
}

/// The system-mode rule for the config file and `from_file` secrets: owned
/// by root and not writable by group or others, since whoever can change
/// them can run commands as root. `None` when the file is safe.
pub(super) fn check_secure(path: &Path, status: FileStatus) -> Option<InsecureFile> {
    let mut problems = Vec::new();
    let mut fixes = Vec::new();
    let quoted = shell_quote(path);
    if status.uid != 0 {
        problems.push(format!("is owned by uid {}, not root", status.uid));
        fixes.push(format!("chown root {quoted}"));
    }
    let writers = match (status.mode & 0o020 != 0, status.mode & 0o002 != 0) {
        (true, true) => Some("group and others"),
        (true, false) => Some("group"),
        (false, true) => Some("others"),
        (false, false) => None,
    };
    if let Some(writers) = writers {
        problems.push(format!("is writable by {writers}"));
        fixes.push(format!("chmod go-w {quoted}"));
    }
    if problems.is_empty() {
        return None;
    }
    Some(InsecureFile {
        path: path.to_owned(),
        problem: problems.join(", and "),
        fix: fixes.join(" && "),
    })
}

/// Quotes a path for a copy-pasteable shell command, only when needed.
fn shell_quote(path: &Path) -> String {
    let text = path.display().to_string();
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@%".contains(c));
    if plain {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
pub(super) mod fake {
    //! A made-up machine for tests: users `root` and `alice`, groups `root`,
    //! `alice` and `backup`; the current user is chosen per test.
    use super::*;

    pub struct FakeHost {
        pub current: Account,
        pub files: HashMap<std::path::PathBuf, FileStatus>,
    }

    impl FakeHost {
        pub fn as_root() -> FakeHost {
            FakeHost {
                current: account("root").unwrap(),
                files: HashMap::new(),
            }
        }

        pub fn as_alice() -> FakeHost {
            FakeHost {
                current: account("alice").unwrap(),
                files: HashMap::new(),
            }
        }
    }

    fn account(name: &str) -> Option<Account> {
        let (uid, gid) = match name {
            "root" => (0, 0),
            "alice" => (1000, 1000),
            _ => return None,
        };
        Some(Account {
            name: name.into(),
            uid,
            gid,
        })
    }

    impl Host for FakeHost {
        fn user(&mut self, name: &str) -> Result<Option<Account>, String> {
            Ok(account(name))
        }

        fn group(&mut self, name: &str) -> Result<Option<u32>, String> {
            Ok(match name {
                "root" => Some(0),
                "alice" => Some(1000),
                "backup" => Some(34),
                _ => None,
            })
        }

        fn current_user(&mut self) -> Account {
            self.current.clone()
        }

        fn file_status(&mut self, path: &Path) -> io::Result<FileStatus> {
            self.files
                .get(path)
                .copied()
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(uid: u32, mode: u32) -> FileStatus {
        FileStatus { uid, mode }
    }

    #[test]
    fn root_owned_and_not_group_writable_is_secure() {
        let path = Path::new("/etc/sundial/jobs.yaml");
        assert_eq!(check_secure(path, status(0, 0o100644)), None);
        assert_eq!(check_secure(path, status(0, 0o100600)), None);
    }

    #[test]
    fn writable_by_others_names_the_chmod() {
        let path = Path::new("/etc/sundial/jobs.yaml");
        let bad = check_secure(path, status(0, 0o100666)).unwrap();
        assert_eq!(bad.problem, "is writable by group and others");
        assert_eq!(bad.fix, "chmod go-w /etc/sundial/jobs.yaml");
        let bad = check_secure(path, status(0, 0o100664)).unwrap();
        assert_eq!(bad.problem, "is writable by group");
        let bad = check_secure(path, status(0, 0o100646)).unwrap();
        assert_eq!(bad.problem, "is writable by others");
    }

    #[test]
    fn not_owned_by_root_names_the_chown() {
        let path = Path::new("/etc/sundial/my jobs.yaml");
        let bad = check_secure(path, status(1000, 0o100664)).unwrap();
        assert_eq!(
            bad.problem,
            "is owned by uid 1000, not root, and is writable by group"
        );
        assert_eq!(
            bad.fix,
            "chown root '/etc/sundial/my jobs.yaml' && chmod go-w '/etc/sundial/my jobs.yaml'"
        );
    }

    #[test]
    fn system_host_knows_root() {
        let mut host = SystemHost::default();
        let root = host.user("root").unwrap().unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(host.user("no-such-user-sundial-test"), Ok(None));
        assert_eq!(host.group("no-such-group-sundial-test"), Ok(None));
        assert!(!host.current_user().name.is_empty());
    }
}
