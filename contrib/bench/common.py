"""Shared pieces of the sundial benchmarks: /proc readers, statistics, the
machine description and a sundial sandbox driven through the real binary.

Only the Python 3.11 standard library is used.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

# The environment every daemon under test starts with: the same for all, and
# free of the caller's SHELL (busybox crond runs jobs with $SHELL).
CLEAN_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "SHELL": "/bin/sh",
    "HOME": "/root",
    "LANG": "C",
}


def find_sundial(explicit: str | None) -> Path:
    """The sundial binary: --sundial, else target/release, else $PATH."""
    candidates = [explicit] if explicit else []
    candidates += [str(REPO / "target/release/sundial"), shutil.which("sundial")]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return Path(c).resolve()
    raise SystemExit(
        "compare: no sundial binary found; run `cargo build --release` in "
        f"{REPO} or pass --sundial PATH"
    )


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "mem_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "loadavg": loadavg(),
    }


# ---------------------------------------------------------------- /proc


def cpu_ticks(pid: int) -> tuple[int, int]:
    """(utime+stime, cutime+cstime) of a process in clock ticks. utime and
    stime cover every thread; the c-fields are children it has reaped."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); utime is field 14.
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return utime + stime, cutime + cstime


def ctx_switches(pid: int) -> int:
    """Voluntary + nonvoluntary context switches summed over all threads."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            for line in (task / "status").read_text().splitlines():
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def rss_kib(pid: int) -> int:
    """VmRSS: everything resident, including the binary's and libraries'
    file-backed pages (shared with other processes, reclaimable)."""
    return status_kib(pid, "VmRSS")


def rss_anon_kib(pid: int) -> int:
    """RssAnon: the process's own heap, stacks and other private memory."""
    return status_kib(pid, "RssAnon")


def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def zombies_of(pid: int) -> set[int]:
    """Children of `pid` in state Z right now."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        rest = text[text.rindex(")") + 2 :].split()
        if rest[0] == "Z" and int(rest[1]) == pid:
            found.add(int(entry))
    return found


# ---------------------------------------------------------------- statistics


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); nan for no values."""
    if not values:
        return float("nan")
    import math

    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


def summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "median": None, "p99": None, "max": None}
    return {
        "n": len(values),
        "median": statistics.median(values),
        "p99": percentile(values, 99),
        "max": max(values),
    }


# ---------------------------------------------------------------- sundial


@dataclass
class Sundial:
    """A sundial daemon in its own directory, run through the real binary
    with --config --log-dir --state-dir --runtime-dir (as tests/cli does)."""

    binary: Path
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "etc" / "jobs.yaml"

    def cmd(self, *args: str) -> list[str]:
        return [
            str(self.binary),
            "--config", str(self.config),
            "--log-dir", str(self.root / "logs"),
            "--state-dir", str(self.root / "state"),
            "--runtime-dir", str(self.root / "run"),
            *args,
        ]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = dict(CLEAN_ENV, NO_COLOR="1")
        p = subprocess.run(self.cmd(*args), env=env, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise RuntimeError(f"sundial {' '.join(args)} failed ({p.returncode}): {p.stderr.strip()}")
        return p

    def write_jobs(self, jobs: dict[str, tuple[str, str]], extra: str = "") -> None:
        """jobs: name -> (schedule, shell command). Single-quoted YAML keeps
        backslashes literal, so commands match the crontab text byte for byte."""
        self.config.parent.mkdir(parents=True, exist_ok=True)
        lines = [extra.rstrip("\n")] if extra else []
        lines.append("jobs:")
        for name, (sched, command) in jobs.items():
            q = command.replace("'", "''")
            lines.append(f"  {name}:\n    schedule: '{sched}'\n    command: '{q}'")
        self.config.write_text("\n".join(lines) + "\n")

    def start(self) -> int:
        self.run("start")
        return int((self.root / "run" / "sundial.pid").read_text().strip())

    def stop(self) -> None:
        self.run("stop", "--timeout", "60s", check=False)

    def history(self, job: str, n: int) -> list[dict]:
        p = self.run("history", job, "--json", "-n", str(n), check=False)
        if p.returncode != 0:
            return []
        return json.loads(p.stdout)


def parse_rfc3339(s: str) -> float:
    """Seconds since the epoch from sundial's RFC 3339 (ms precision, offset)."""
    from datetime import datetime

    return datetime.fromisoformat(s).timestamp()
