#!/usr/bin/env python3
"""Side-by-side benchmark of sundial, Debian's cron and busybox crond.

    sudo python3 contrib/bench/compare.py            # full run, ~25 minutes
    sudo python3 contrib/bench/compare.py --quick    # smoke test, ~5 minutes

Every daemon gets the same jobs, written in its own format, and runs in the
foreground in a temporary directory:

* sundial: `sundial --config --log-dir --state-dir --runtime-dir start`.
* Debian cron (`cron -f`): it has no flag for its spool, so it runs in a
  private mount namespace (`unshare -m`) where a temporary directory is
  bind-mounted over /var/spool/cron/crontabs and empty ones over /etc/cron.d
  and /etc/crontab. The host's cron files are never touched.
* busybox crond: `busybox crond -f -c DIR`. Debian's `busybox` package is
  built without crond, so when the installed busybox lacks the applet the
  `busybox-static` package (which has it) is downloaded with `apt-get
  download` and unpacked into the temporary directory, leaving the system's
  busybox alone.

Measured (see docs/performance.md for what each figure means and the gaps):

* fire latency: each job is `date +\\%s\\%N >> FILE`, scheduled `* * * * *`;
  latency = the time the job wrote minus the minute boundary. N jobs due
  together, for --fires consecutive minutes. Missed = (job, minute) pairs
  with no line. For sundial also its own history `started_at - scheduled_at`.
* idle: context switches (all threads) and CPU of the daemon over --idle
  seconds with one job that is not due.
* RSS (VmRSS) with 1, 1,000 and 10,000 jobs loaded, none due.
* daemon CPU per fire: utime+stime over the 1,000-job latency trial, divided
  by the fires; and the same plus reaped children's CPU minus what the job
  itself costs (measured), which charges cron's per-job helper process.
* output: a job printing 1 GiB (`head -c 1G /dev/zero`). sundial captures it
  (default log settings: 10 MiB files, keep 5); cron and busybox jobs
  redirect to a file (`> FILE 2>&1`, with MAILTO="" so nothing is mailed),
  which is what a user keeping the output of a cron job does; and the plain
  `head -c 1G /dev/zero | cat > FILE`.

Packages installed by this script (cron, and busybox if there is none) are
reported at the end and stay installed; --remove-installed purges them.
The pid file /run/crond.pid that both crons write is removed again if it did
not exist before.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    CLEAN_ENV,
    CLK_TCK,
    Sundial,
    cpu_ticks,
    ctx_switches,
    find_sundial,
    loadavg,
    machine,
    parse_rfc3339,
    rss_anon_kib,
    rss_kib,
    summary,
)

NEVER = "0 0 1 1 *"  # due once a year: "loaded but not due"
EVERY_MINUTE = "* * * * *"
GIB = 1 << 30
CROND_PID = Path("/run/crond.pid")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {loadavg()}] {msg}", file=sys.stderr, flush=True)


def stamp_cmd(path: Path) -> str:
    # `\%` is cron's escape for a literal %; every shell also reads `\%` as
    # `%`, so the one text works in all three daemons.
    return f"date +\\%s\\%N >> {path}"


# ---------------------------------------------------------------- packages

installed: list[str] = []


def apt_install(pkgs: list[str]) -> None:
    log(f"installing {' '.join(pkgs)} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *pkgs],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    installed.extend(pkgs)


def has_crond(busybox: str) -> bool:
    p = subprocess.run([busybox, "--list"], capture_output=True, text=True)
    return "crond" in p.stdout.split()


def ensure_peers(tmp: Path) -> tuple[str, str]:
    """Paths of Debian cron and of a busybox with crond."""
    if not shutil.which("cron"):
        apt_install(["cron"])
    if not shutil.which("busybox"):
        apt_install(["busybox"])
    busybox = shutil.which("busybox")
    if not has_crond(busybox):
        log("the installed busybox has no crond applet; unpacking busybox-static into the temp dir")
        d = tmp / "busybox-static"
        d.mkdir()
        os.chmod(d, 0o777)  # apt downloads as the unprivileged _apt user
        subprocess.run(["apt-get", "download", "busybox-static"], cwd=d, check=True,
                       stdout=subprocess.DEVNULL)
        deb = next(d.glob("busybox-static_*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(d / "root")], check=True)
        busybox = str(d / "root/bin/busybox")
        if not has_crond(busybox):
            raise SystemExit("compare: busybox-static has no crond applet either")
    return shutil.which("cron"), busybox


# ---------------------------------------------------------------- daemons


class Daemon:
    name = ""

    def __init__(self, tmp: Path):
        self.tmp = tmp / self.name
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.pid: int | None = None

    def start(self, jobs: dict[str, tuple[str, str]]) -> int:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def crontab(self, jobs: dict[str, tuple[str, str]]) -> str:
        lines = ['MAILTO=""', "SHELL=/bin/sh"]
        lines += [f"{sched} {cmd}" for sched, cmd in jobs.values()]
        return "\n".join(lines) + "\n"


class SundialDaemon(Daemon):
    name = "sundial"

    def __init__(self, tmp: Path, binary: Path):
        super().__init__(tmp)
        self.binary = binary
        self.runs = 0
        self.sd: Sundial | None = None

    def start(self, jobs):
        # A fresh directory each time: no history, logs or catch-up carried over.
        self.runs += 1
        root = self.tmp / f"s{self.runs}"
        self.sd = Sundial(self.binary, root)
        self.sd.write_jobs(jobs)
        self.pid = self.sd.start()
        return self.pid

    def stop(self):
        self.sd.stop()
        self.pid = None


class CronDaemon(Daemon):
    name = "cron"

    def __init__(self, tmp: Path, binary: str):
        super().__init__(tmp)
        self.binary = binary
        self.proc: subprocess.Popen | None = None
        (self.tmp / "empty.d").mkdir(exist_ok=True)
        (self.tmp / "crontab").write_text("")
        (self.tmp / "spool").mkdir(exist_ok=True)

    def start(self, jobs):
        tab = self.tmp / "spool" / "root"
        tab.write_text(self.crontab(jobs))
        os.chmod(tab, 0o600)  # cron refuses a spool crontab with another mode
        os.utime(self.tmp / "spool")
        script = (
            f"mount --bind {self.tmp}/empty.d /etc/cron.d && "
            f"mount --bind {self.tmp}/crontab /etc/crontab && "
            f"mount --bind {self.tmp}/spool /var/spool/cron/crontabs && "
            f"exec {self.binary} -f"
        )
        self.proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
            env=CLEAN_ENV, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(self.tmp / "cron.stderr", "ab"),
        )
        self.pid = self.proc.pid
        wait_comm(self.pid, "cron")
        time.sleep(1)  # it reads its crontabs right after starting
        return self.pid

    def stop(self):
        stop_proc(self.proc)
        self.pid = None


class BusyboxDaemon(Daemon):
    name = "busybox"

    def __init__(self, tmp: Path, binary: str):
        super().__init__(tmp)
        self.binary = binary
        self.proc: subprocess.Popen | None = None
        (self.tmp / "tabs").mkdir(exist_ok=True)

    def start(self, jobs):
        (self.tmp / "tabs" / "root").write_text(self.crontab(jobs))
        self.proc = subprocess.Popen(
            [self.binary, "crond", "-f", "-c", str(self.tmp / "tabs"), "-L", str(self.tmp / "crond.log")],
            env=CLEAN_ENV, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.pid = self.proc.pid
        time.sleep(1)
        return self.pid

    def stop(self):
        stop_proc(self.proc)
        self.pid = None


def wait_comm(pid: int, comm: str, timeout: float = 10) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == comm:
                return
        except FileNotFoundError:
            raise RuntimeError(f"{comm} exited at once; see its stderr in the temp dir")
        time.sleep(0.05)
    raise RuntimeError(f"pid {pid} never became {comm}")


def stop_proc(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------- baselines


def job_cost(tmp: Path, n: int) -> dict:
    """What the job itself costs when started directly: latency from just
    before the spawn to the stamp, and CPU (sh + date) per run."""
    out = tmp / "baseline-stamps"
    out.mkdir(exist_ok=True)
    lat = []
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for i in range(n):
        f = out / f"b{i}"
        t0 = time.time_ns()
        subprocess.run(["/bin/sh", "-c", stamp_cmd(f)], env=CLEAN_ENV)
        lat.append((int(f.read_text().split()[0]) - t0) / 1e6)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / n
    return {"latency_ms": summary(lat), "cpu_ms": cpu * 1e3}


def direct_burst(tmp: Path, n: int) -> dict:
    """Start n jobs at once from this script, no daemon: the floor for "n jobs
    due together" on this machine (n execs of sh + date on its cores)."""
    out = tmp / f"burst{n}"
    out.mkdir(exist_ok=True)
    t0 = time.time_ns()
    procs = [subprocess.Popen(["/bin/sh", "-c", stamp_cmd(out / f"j{i}")], env=CLEAN_ENV)
             for i in range(n)]
    for p in procs:
        p.wait()
    lat = [(int((out / f"j{i}").read_text().split()[0]) - t0) / 1e6 for i in range(n)]
    return summary(lat)


def plain_copy(tmp: Path) -> dict:
    f = tmp / "plain.out"
    t0 = time.monotonic()
    subprocess.run(["sh", "-c", f"head -c 1G /dev/zero | cat > {f}"], check=True)
    dt = time.monotonic() - t0
    size = f.stat().st_size
    f.unlink()
    return {"seconds": dt, "mib_s": size / dt / 2**20}


# ---------------------------------------------------------------- phases


def next_boundary(lead: float = 5.0) -> int:
    """The next minute boundary at least `lead` seconds away."""
    now = time.time()
    b = (int(now) // 60 + 1) * 60
    if b - now < lead:
        b += 60
    return b


def sleep_until(t: float) -> None:
    while (d := t - time.time()) > 0:
        time.sleep(min(d, 30))


def idle_and_rss(d: Daemon, tmp: Path, sizes: list[int], idle_s: int) -> dict:
    res = {"rss_kib": {}, "rss_anon_kib": {}, "idle": None}
    for n in sizes:
        out = tmp / "never"
        jobs = {f"j{i:05d}": (NEVER, stamp_cmd(out / f"j{i:05d}")) for i in range(n)}
        pid = d.start(jobs)
        time.sleep(3)
        rss, anon = rss_kib(pid), rss_anon_kib(pid)
        res["rss_kib"][n] = rss
        res["rss_anon_kib"][n] = anon
        log(f"{d.name}: {n} jobs loaded, VmRSS {rss} KiB, RssAnon {anon} KiB")
        if n == sizes[0] and idle_s > 0:
            c0, (t0, _), w0 = ctx_switches(pid), cpu_ticks(pid), time.monotonic()
            load0 = loadavg()
            time.sleep(idle_s)
            c1, (t1, _), w1 = ctx_switches(pid), cpu_ticks(pid), time.monotonic()
            per_min = 60 / (w1 - w0)
            res["idle"] = {
                "seconds": w1 - w0,
                "ctx_per_min": (c1 - c0) * per_min,
                "cpu_ms_per_min": (t1 - t0) / CLK_TCK * 1e3 * per_min,
                "load": f"{load0} -> {loadavg()}",
            }
            log(f"{d.name}: idle {res['idle']}")
        d.stop()
    return res


def latency_trial(d: Daemon, tmp: Path, n: int, fires: int) -> dict:
    out = tmp / f"lat-{d.name}-{n}"
    out.mkdir()
    names = [f"j{i:05d}" for i in range(n)]
    jobs = {name: (EVERY_MINUTE, stamp_cmd(out / name)) for name in names}
    first = next_boundary(lead=8)
    # Start 5 s before the first boundary (cron needs its crontab read).
    sleep_until(first - 6)
    pid = d.start(jobs)
    bounds = [first + 60 * k for k in range(fires)]
    sleep_until(bounds[0] - 1)
    load0 = loadavg()
    cpu0 = cpu_ticks(pid)
    sleep_until(bounds[-1] + 2)
    deadline = bounds[-1] + 55
    while True:
        done = sum(1 for name in names if count_lines(out / name) >= fires)
        if done == n or time.time() > deadline:
            break
        time.sleep(1)
    cpu1 = cpu_ticks(pid)
    load1 = loadavg()
    d.stop()

    lat, missed = [], 0
    for name in names:
        stamps = read_stamps(out / name)
        for b in bounds:
            mine = [t for t in stamps if b <= t < b + 60]
            if mine:
                lat.append((min(mine) - b) * 1e3)
            else:
                missed += 1
    started = max(1, n * fires - missed)
    res = {
        "jobs": n,
        "fires": fires,
        "latency_ms": summary(lat),
        "missed": missed,
        "cpu_self_ms_per_fire": (cpu1[0] - cpu0[0]) / CLK_TCK * 1e3 / started,
        "cpu_children_ms_per_fire": (cpu1[1] - cpu0[1]) / CLK_TCK * 1e3 / started,
        "load": f"{load0} -> {load1}",
    }
    if isinstance(d, SundialDaemon):
        hist = []
        for name in names:
            for row in d.sd.history(name, fires + 5):
                if row.get("scheduled_at") and row.get("started_at"):
                    s = parse_rfc3339(row["scheduled_at"])
                    if any(abs(s - b) < 0.5 for b in bounds):
                        hist.append((parse_rfc3339(row["started_at"]) - s) * 1e3)
        res["history_ms"] = summary(hist)
    log(f"{d.name} {n} jobs: {res}")
    return res


def count_lines(p: Path) -> int:
    try:
        return p.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def read_stamps(p: Path) -> list[float]:
    try:
        return [int(x) / 1e9 for x in p.read_text().split()]
    except FileNotFoundError:
        return []


def output_trial(d: Daemon, tmp: Path) -> dict:
    out = tmp / f"big-{d.name}"
    out.mkdir()
    if isinstance(d, SundialDaemon):
        pid = d.start({"big": (NEVER, "head -c 1G /dev/zero")})
        cpu0 = cpu_ticks(pid)
        t0 = time.monotonic()
        p = d.sd.run("trigger", "big", "--wait", check=False)
        wall = time.monotonic() - t0
        cpu1 = cpu_ticks(pid)
        row = d.sd.history("big", 1)[0]
        dt = parse_rfc3339(row["ended_at"]) - parse_rfc3339(row["started_at"])
        logs = sorted(p.name for p in (d.sd.root / "logs").glob("big.log*"))
        d.stop()
        res = {
            "seconds": dt,
            "mib_s": GIB / dt / 2**20,
            "trigger_wait_s": wall,
            "exit": p.returncode,
            "log_bytes": row.get("log_bytes"),
            "log_lost_bytes": row.get("log_lost_bytes"),
            "daemon_cpu_s": (cpu1[0] - cpu0[0]) / CLK_TCK,
            "log_files": logs,
        }
    else:
        cmd = (f"date +\\%s\\%N > {out}/start; head -c 1G /dev/zero > {out}/out 2>&1; "
               f"date +\\%s\\%N > {out}/end")
        b = next_boundary(lead=8)
        sleep_until(b - 6)
        pid = d.start({"big": (EVERY_MINUTE, cmd)})
        cpu0 = cpu_ticks(pid)
        sleep_until(b + 1)
        end = b + 55
        while not (out / "end").exists() and time.time() < end:
            time.sleep(0.5)
        cpu1 = cpu_ticks(pid)
        d.stop()
        t0 = read_stamps(out / "start")[0]
        t1 = read_stamps(out / "end")[0]
        size = (out / "out").stat().st_size
        (out / "out").unlink()
        res = {
            "seconds": t1 - t0,
            "mib_s": size / (t1 - t0) / 2**20,
            "bytes": size,
            "daemon_cpu_s": (cpu1[0] - cpu0[0]) / CLK_TCK,
        }
    res["load"] = loadavg()
    log(f"{d.name} 1 GiB output: {res}")
    return res


# ---------------------------------------------------------------- report


def fmt(v, digits=1) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if v != v:
            return "-"
        return f"{v:.{digits}f}"
    return str(v)


def ratio(a, b) -> str:
    if a is None or b is None or not b or a != a or b != b:
        return "-"
    return f"{a / b:.2f}"


def load1(res: dict | None) -> str:
    """The 1-minute load average when a measurement started."""
    try:
        return res["load"].split()[0]
    except (KeyError, TypeError, AttributeError, IndexError):
        return "-"


def table(results: dict) -> str:
    names = ["sundial", "cron", "busybox"]
    ds = results["daemons"]
    rows = []  # (label, values per daemon, digits, load column)

    def add(label, getter, digits=1, where=None):
        vals, loads = [], []
        for n in names:
            try:
                vals.append(getter(ds[n]))
            except (KeyError, TypeError, IndexError):
                vals.append(None)
            try:
                loads.append(load1(where(ds[n])) if where else "")
            except (KeyError, TypeError):
                loads.append("-")
        rows.append((label, vals, digits, "/".join(loads) if where else ""))

    for n in results["sizes"]:
        k = str(n)
        at = lambda r, k=k: r["latency"][k]
        for stat in ("median", "p99", "max"):
            add(f"latency, {n} job(s) due, {stat} (ms)",
                lambda r, k=k, s=stat: r["latency"][k]["latency_ms"][s], 1, at)
        add(f"missed fires, {n} job(s) due", lambda r, k=k: r["latency"][k]["missed"], 0, at)
        add(f"sundial history started-scheduled p99, {n} job(s) (ms)",
            lambda r, k=k: r["latency"][k]["history_ms"]["p99"], 1, at)
    add("idle context switches / min", lambda r: r["idle"]["ctx_per_min"], 1, lambda r: r["idle"])
    add("idle CPU ms / min", lambda r: r["idle"]["cpu_ms_per_min"], 2, lambda r: r["idle"])
    for n in results["rss_sizes"]:
        add(f"VmRSS with {n} jobs loaded (MiB)", lambda r, k=n: r["rss_kib"][k] / 1024, 2)
    for n in results["rss_sizes"]:
        add(f"RssAnon with {n} jobs loaded (MiB)", lambda r, k=n: r["rss_anon_kib"][k] / 1024, 2)
    big = str(max(results["sizes"], default=0))
    job_cpu = results["baseline"]["job"]["cpu_ms"]
    at = lambda r: r["latency"][big]
    add(f"daemon CPU per fire, own (ms, {big} jobs)",
        lambda r: r["latency"][big]["cpu_self_ms_per_fire"], 3, at)
    add(f"daemon CPU per fire, own + helpers (ms, {big} jobs)",
        lambda r: r["latency"][big]["cpu_self_ms_per_fire"]
        + max(0.0, r["latency"][big]["cpu_children_ms_per_fire"] - job_cpu), 3, at)
    add("1 GiB output (MiB/s)", lambda r: r["output"]["mib_s"], 0, lambda r: r["output"])
    add("daemon CPU for 1 GiB output (s)", lambda r: r["output"]["daemon_cpu_s"], 2,
        lambda r: r["output"])

    head = ["metric", *names, "sundial/cron", "sundial/busybox", "load s/c/b"]
    body = []
    for label, vals, digits, load in rows:
        body.append([label, *(fmt(v, digits) for v in vals), ratio(vals[0], vals[1]),
                     ratio(vals[0], vals[2]), load])
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]

    def line(r):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"

    text = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    text += [line(r) for r in body]
    b = results["baseline"]
    text.append("")
    text.append(f"reference: the job alone (sh + date, started from Python): "
                f"latency median {fmt(b['job']['latency_ms']['median'], 2)} ms, "
                f"CPU {fmt(job_cpu, 2)} ms per run")
    for n, s in b["burst"].items():
        text.append(f"reference: {n} jobs started at once from Python, no daemon: "
                    f"median {fmt(s['median'])} ms, p99 {fmt(s['p99'])} ms, max {fmt(s['max'])} ms")
    text.append(f"reference: head -c 1G /dev/zero | cat > FILE: "
                f"{fmt(b['plain_copy']['mib_s'], 0)} MiB/s")
    text.append("load s/c/b: 1-minute load average when the sundial/cron/busybox measurement began")
    return "\n".join(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sundial", help="sundial binary (default: target/release/sundial, then $PATH)")
    ap.add_argument("--daemons", default="sundial,cron,busybox")
    ap.add_argument("--sizes", default="1,100,1000", help="jobs due together, per latency trial")
    ap.add_argument("--rss-sizes", default="1,1000,10000")
    ap.add_argument("--fires", type=int, default=2, help="consecutive minutes per latency trial")
    ap.add_argument("--idle", type=int, default=60, help="seconds of idle measurement")
    ap.add_argument("--no-output", action="store_true", help="skip the 1 GiB output trial")
    ap.add_argument("--quick", action="store_true", help="sizes 1,100, one fire, 20 s idle, RSS 1,1000")
    ap.add_argument("--json", help="write raw results here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--remove-installed", action="store_true",
                    help="purge the packages this run installed when done")
    args = ap.parse_args()
    if args.quick:
        args.sizes, args.rss_sizes, args.fires, args.idle = "1,100", "1,1000", 1, 20
    if os.geteuid() != 0:
        raise SystemExit("compare: run as root (sudo): cron runs in a mount namespace and jobs run as root")

    sizes = [int(x) for x in args.sizes.split(",") if x]
    rss_sizes = [int(x) for x in args.rss_sizes.split(",")]
    sundial_bin = find_sundial(args.sundial) if "sundial" in args.daemons.split(",") else None
    tmp = Path(tempfile.mkdtemp(prefix="sundial-bench-"))
    os.chmod(tmp, 0o755)
    pidfile_before = CROND_PID.read_bytes() if CROND_PID.exists() else None
    results: dict = {"machine": machine(), "sizes": sizes, "rss_sizes": rss_sizes,
                     "fires": args.fires, "daemons": {}, "sundial": str(sundial_bin)}
    try:
        wanted = args.daemons.split(",")
        cron_bin, busybox_bin = ensure_peers(tmp) if {"cron", "busybox"} & set(wanted) else (None, None)
        daemons: list[Daemon] = []
        for w in wanted:
            if w == "sundial":
                daemons.append(SundialDaemon(tmp, sundial_bin))
            elif w == "cron":
                daemons.append(CronDaemon(tmp, cron_bin))
            elif w == "busybox":
                daemons.append(BusyboxDaemon(tmp, busybox_bin))
        log(f"machine: {results['machine']}")
        log("baselines: the job alone, direct bursts, plain copy")
        results["baseline"] = {
            "job": job_cost(tmp, 100),
            "burst": {str(n): direct_burst(tmp, n) for n in sizes if n > 1},
            "plain_copy": plain_copy(tmp) if not args.no_output else {"mib_s": None},
        }
        log(f"baselines: {results['baseline']}")
        for d in daemons:
            results["daemons"][d.name] = {"latency": {}}
        # Per size, every daemon in turn, so each row shares load conditions.
        for n in sizes:
            for d in daemons:
                results["daemons"][d.name]["latency"][str(n)] = latency_trial(d, tmp, n, args.fires)
        for d in daemons:
            results["daemons"][d.name].update(idle_and_rss(d, tmp, rss_sizes, args.idle))
            if not args.no_output:
                results["daemons"][d.name]["output"] = output_trial(d, tmp)
    finally:
        for d in locals().get("daemons", []):
            if d.pid:
                try:
                    d.stop()
                except Exception as e:  # noqa: BLE001 - cleanup must go on
                    log(f"stopping {d.name}: {e}")
        if pidfile_before is None:
            CROND_PID.unlink(missing_ok=True)
        else:
            CROND_PID.write_bytes(pidfile_before)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"kept {tmp}")
        if args.remove_installed and installed:
            subprocess.run(["apt-get", "purge", "-y", "-qq", *installed])
    results["machine"]["loadavg_end"] = loadavg()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    m = results["machine"]
    print(f"{m['date']}: {m['nproc']} x {m['cpu']}, {m['mem_gib']} GiB, Linux {m['kernel']}; "
          f"load {m['loadavg']} at start, {m['loadavg_end']} at end")
    print(table(results))
    if installed:
        print(f"\ninstalled by this run (still installed): {' '.join(installed)}")


if __name__ == "__main__":
    main()
