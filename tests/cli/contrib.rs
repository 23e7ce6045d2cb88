//! `contrib/`: the service files are valid for the tools that read them.
//!
//! - The systemd units go through `systemd-analyze verify` (system and user
//!   manager). It checks that `ExecStart=` exists, so each unit is copied
//!   into a temporary folder with `/usr/bin/sundial` replaced by the binary
//!   under test. Where `systemd-analyze` is missing or cannot run (some
//!   containers), the test prints why and passes without checking.
//! - The init scripts must parse (`sh -n`, and `bash -n`/`dash -n` where
//!   installed), and the SysV script must turn sundial's exit codes into
//!   LSB's: it is run against a stand-in `sundial` that exits with a chosen
//!   code and records its arguments.
//!
//! Only std: no helpers of the test crate are needed.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn contrib(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("contrib")
        .join(path)
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A temporary folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "sundial-contrib-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A program on PATH, like `command -v`.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn write_executable(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

// -- systemd ------------------------------------------------------------------

/// Runs `systemd-analyze [--user] verify --man=no UNIT` in `dir`.
fn systemd_analyze(analyze: &Path, dir: &Path, unit: &Path, user: bool) -> Output {
    let runtime = dir.join("runtime");
    let _ = fs::create_dir_all(&runtime);
    let _ = fs::set_permissions(&runtime, fs::Permissions::from_mode(0o700));
    let mut command = Command::new(analyze);
    if user {
        // The user manager needs a runtime dir of its own.
        command.arg("--user").env("XDG_RUNTIME_DIR", &runtime);
    }
    command
        .args(["verify", "--man=no"])
        .arg(unit)
        .current_dir(dir)
        .env("SYSTEMD_LOG_COLOR", "0")
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", analyze.display()))
}

/// The `systemd-analyze` to use, or why it cannot be trusted here:
/// missing, or failing on a unit that is certainly valid.
fn usable_systemd_analyze(user: bool) -> Result<PathBuf, String> {
    let analyze = find_program("systemd-analyze")
        .ok_or_else(|| "systemd-analyze is not installed".to_string())?;
    let dir = TempDir::new("probe");
    let unit = dir.path().join("sundial-probe.service");
    fs::write(
        &unit,
        "[Unit]\nDescription=probe\n\n[Service]\nExecStart=/bin/true\n",
    )
    .expect("write probe unit");
    let output = systemd_analyze(&analyze, dir.path(), &unit, user);
    if output.status.success() && output.stderr.is_empty() {
        Ok(analyze)
    } else {
        Err(format!(
            "systemd-analyze{} verify fails on a valid unit here ({}): {}",
            if user { " --user" } else { "" },
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

fn verify_unit(path: &str, user: bool) {
    let analyze = match usable_systemd_analyze(user) {
        Ok(analyze) => analyze,
        Err(reason) => {
            eprintln!("skipped: {path} not verified: {reason}");
            return;
        }
    };
    let dir = TempDir::new("unit");
    let text = read(&contrib(path)).replace("/usr/bin/sundial", env!("CARGO_BIN_EXE_sundial"));
    let unit = dir.path().join("sundial.service");
    fs::write(&unit, text).expect("write unit copy");
    let output = systemd_analyze(&analyze, dir.path(), &unit, user);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Warnings (unknown keys, bad values) go to stderr with exit code 0, so
    // a clean unit is a silent one.
    assert!(
        output.status.success() && stderr.trim().is_empty(),
        "systemd-analyze verify {path}: {}\n{stderr}",
        output.status
    );
}

/// The `Key=Value` settings of a unit, in order (comments skipped).
fn unit_settings(path: &str) -> Vec<(String, String)> {
    read(&contrib(path))
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn setting<'a>(settings: &'a [(String, String)], key: &str) -> Option<&'a str> {
    settings
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[test]
fn systemd_system_unit_verifies() {
    verify_unit("systemd/sundial.service", false);
}

#[test]
fn systemd_user_unit_verifies() {
    verify_unit("systemd/user/sundial.service", true);
}

#[test]
fn systemd_units_say_what_sundial_needs() {
    for (path, install) in [
        ("systemd/sundial.service", "multi-user.target"),
        ("systemd/user/sundial.service", "default.target"),
    ] {
        let s = unit_settings(path);
        let get = |key: &str| setting(&s, key);
        assert_eq!(get("Type"), Some("notify"), "{path}");
        assert_eq!(get("ExecStart"), Some("/usr/bin/sundial run"), "{path}");
        assert_eq!(get("ExecReload"), Some("/usr/bin/sundial reload"), "{path}");
        assert_eq!(get("KillMode"), Some("mixed"), "{path}");
        assert_eq!(get("Restart"), Some("on-failure"), "{path}");
        assert_eq!(get("WantedBy"), Some(install), "{path}");
        // Above the default kill_grace (10s), so sundial stops its jobs first.
        let stop = get("TimeoutStopSec").and_then(|v| v.strip_suffix('s'));
        let stop: u32 = stop
            .and_then(|v| v.parse().ok())
            .expect("TimeoutStopSec=Ns");
        assert!(stop > 10, "{path}: TimeoutStopSec={stop}s");
        // An invalid configuration (78) must not restart in a loop.
        let prevent = get("RestartPreventExitStatus").unwrap_or_default();
        assert!(prevent.split_whitespace().any(|c| c == "78"), "{path}");
    }
    let s = unit_settings("systemd/sundial.service");
    for (key, value) in [
        ("RuntimeDirectory", "sundial"),
        ("RuntimeDirectoryPreserve", "yes"),
        ("StateDirectory", "sundial"),
        ("StateDirectoryMode", "0700"),
        ("LogsDirectory", "sundial"),
        ("LogsDirectoryMode", "0750"),
    ] {
        assert_eq!(setting(&s, key), Some(value), "{key}");
    }
}

// -- init scripts ---------------------------------------------------------------

const INIT_SCRIPTS: [&str; 2] = ["openrc/sundial", "sysvinit/sundial"];

#[test]
fn init_scripts_parse() {
    for script in INIT_SCRIPTS {
        let path = contrib(script);
        let mode = fs::metadata(&path)
            .expect("stat script")
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111, "{script} must be executable");
        for shell in ["sh", "bash", "dash"] {
            let Some(program) = find_program(shell) else {
                eprintln!("skipped: `{shell} -n {script}`: {shell} is not installed");
                continue;
            };
            let output = Command::new(program)
                .arg("-n")
                .arg(&path)
                .output()
                .expect("run shell");
            assert!(
                output.status.success(),
                "{shell} -n {script}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

#[test]
fn sysvinit_script_has_lsb_headers() {
    let text = read(&contrib("sysvinit/sundial"));
    let header = text
        .split("### BEGIN INIT INFO")
        .nth(1)
        .and_then(|rest| rest.split("### END INIT INFO").next())
        .expect("LSB header block");
    for key in [
        "Provides:",
        "Required-Start:",
        "Required-Stop:",
        "Default-Start:",
        "Default-Stop:",
        "Short-Description:",
    ] {
        assert!(header.contains(key), "missing {key}");
    }
}

/// Runs a copy of the SysV script whose sundial is a stand-in exiting with
/// `sundial_rc`; returns the script's exit code and the stand-in's arguments.
fn run_sysvinit(action: &str, sundial_rc: i32) -> (i32, String) {
    let dir = TempDir::new("sysv");
    let log = dir.path().join("calls");
    let fake = dir.path().join("sundial");
    write_executable(
        &fake,
        &format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexit {sundial_rc}\n",
            log.display()
        ),
    );
    let script = dir.path().join("sundial-init");
    let text = read(&contrib("sysvinit/sundial")).replace(
        "DAEMON=/usr/bin/sundial",
        &format!("DAEMON='{}'", fake.display()),
    );
    write_executable(&script, &text);
    let output = Command::new("/bin/sh")
        .arg(&script)
        .arg(action)
        .output()
        .expect("run init script");
    let calls = fs::read_to_string(&log).unwrap_or_default();
    (output.status.code().unwrap_or(-1), calls)
}

#[test]
fn sysvinit_script_maps_exit_codes_to_lsb() {
    for (action, sundial_rc, lsb_rc) in [
        ("start", 0, 0),
        ("start", 4, 0),  // already running
        ("start", 78, 6), // invalid configuration: not configured
        ("start", 1, 1),
        ("stop", 0, 0),
        ("stop", 3, 0), // not running
        ("stop", 1, 1),
        ("status", 0, 0),
        ("status", 3, 3),
        ("status", 1, 4),
        ("reload", 0, 0),
        ("reload", 3, 7), // not running
        ("reload", 78, 6),
        ("force-reload", 3, 7),
        ("restart", 0, 0),
        ("try-restart", 3, 0), // not running: nothing to do
        ("bogus", 0, 2),
    ] {
        let (rc, calls) = run_sysvinit(action, sundial_rc);
        assert_eq!(
            rc, lsb_rc,
            "{action} with sundial exiting {sundial_rc}: {calls}"
        );
    }
    let (_, calls) = run_sysvinit("stop", 0);
    assert_eq!(calls.trim(), "stop --timeout 30s");
    let (_, calls) = run_sysvinit("restart", 0);
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        ["stop --timeout 30s", "start"]
    );
    let (_, calls) = run_sysvinit("force-reload", 0);
    assert_eq!(calls.trim(), "reload");
}

#[test]
fn sysvinit_script_without_sundial_installed() {
    let dir = TempDir::new("sysv-missing");
    let script = dir.path().join("sundial-init");
    let text = read(&contrib("sysvinit/sundial")).replace(
        "DAEMON=/usr/bin/sundial",
        &format!("DAEMON='{}'", dir.path().join("missing").display()),
    );
    write_executable(&script, &text);
    for (action, rc) in [("status", 4), ("start", 5)] {
        let output = Command::new("/bin/sh")
            .arg(&script)
            .arg(action)
            .output()
            .expect("run init script");
        assert_eq!(output.status.code(), Some(rc), "{action}");
    }
}
