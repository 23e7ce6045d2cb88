#!/usr/bin/env python3
"""Soak test: many jobs every second for a long time.

    python3 contrib/bench/soak.py                    # 100 jobs, every second, 10 minutes
    python3 contrib/bench/soak.py --minutes 1 --jobs 20

Starts sundial in a temporary directory (through the real binary, with
--config --log-dir --state-dir --runtime-dir) with N jobs scheduled
`* * * * * *` running `true`, and every --every seconds prints the daemon's
open descriptors (/proc/PID/fd), threads (/proc/PID/task), VmRSS, context
switches, CPU, and its zombie children (state Z, parent = the daemon, seen in
two scans 0.2 s apart so a child caught between exit and reap is not
counted). At the end it stops the daemon and counts each job's runs in
`sundial history --json` against the seconds that passed: every second
between the first whole second after start and two seconds before stop must
have exactly one run with outcome ok.

Exit status: 0 when nothing was missed and fds, threads and zombies did not
grow; 1 otherwise. RSS growth is reported, not judged (the SQLite page cache
and allocator arenas grow to a plateau).

Does not need root.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    CLK_TCK,
    Sundial,
    cpu_ticks,
    ctx_switches,
    find_sundial,
    loadavg,
    machine,
    open_fds,
    parse_rfc3339,
    rss_kib,
    summary,
    threads,
    zombies_of,
)


def sample(pid: int, t0: float) -> dict:
    z1 = zombies_of(pid)
    time.sleep(0.2)
    z2 = zombies_of(pid)
    cpu, _ = cpu_ticks(pid)
    return {
        "t": time.time() - t0,
        "fds": open_fds(pid),
        "threads": threads(pid),
        "rss_kib": rss_kib(pid),
        "zombies": len(z1 & z2),
        "ctx": ctx_switches(pid),
        "cpu_s": cpu / CLK_TCK,
        "load": loadavg(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sundial", help="sundial binary (default: target/release/sundial, then $PATH)")
    ap.add_argument("--jobs", type=int, default=100)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--every", type=float, default=30, help="seconds between samples")
    ap.add_argument("--command", default="true", help="what each job runs")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()

    sd = Sundial(find_sundial(args.sundial), Path(tempfile.mkdtemp(prefix="sundial-soak-")))
    names = [f"s{i:03d}" for i in range(args.jobs)]
    sd.write_jobs({n: ("* * * * * *", args.command) for n in names})
    m = machine()
    print(f"{m['date']}: {m['nproc']} x {m['cpu']}, {m['mem_gib']} GiB, Linux {m['kernel']}")
    print(f"soak: {args.jobs} jobs every second for {args.minutes} min, sundial {sd.binary}")

    pid = sd.start()
    t_start = time.time()
    samples = []
    hdr = f"{'t (s)':>6} {'fds':>4} {'thr':>4} {'RSS KiB':>8} {'zomb':>4} {'ctx/s':>7} {'CPU %':>6}  load"
    print(hdr)
    prev = None
    end = t_start + args.minutes * 60
    try:
        while True:
            s = sample(pid, t_start)
            if prev:
                dt = s["t"] - prev["t"]
                rate = (s["ctx"] - prev["ctx"]) / dt
                cpu = (s["cpu_s"] - prev["cpu_s"]) / dt * 100
            else:
                rate = cpu = float("nan")
            print(f"{s['t']:6.0f} {s['fds']:4d} {s['threads']:4d} {s['rss_kib']:8d} "
                  f"{s['zombies']:4d} {rate:7.0f} {cpu:6.1f}  {s['load']}", flush=True)
            samples.append(s)
            prev = s
            if time.time() >= end:
                break
            time.sleep(max(0.0, min(args.every - 0.2, end - time.time())))
    finally:
        t_stop = time.time()
        sd.stop()

    # Fires that must have happened: whole seconds well inside the window.
    first = int(t_start) + 2
    last = int(t_stop) - 2
    expected = last - first + 1
    missed_total, extra_total = 0, 0
    outcomes: Counter = Counter()
    delays, worst = [], []
    for name in names:
        rows = sd.history(name, int(args.minutes * 60) + 120)
        seen = Counter()
        for r in rows:
            if not r.get("scheduled_at"):
                continue
            s = round(parse_rfc3339(r["scheduled_at"]))
            if first <= s <= last:
                outcomes[r["outcome"]] += 1
                if r["outcome"] == "ok":
                    seen[s] += 1
                    delays.append((parse_rfc3339(r["started_at"]) - parse_rfc3339(r["scheduled_at"])) * 1e3)
        missing = sum(1 for s in range(first, last + 1) if seen[s] == 0)
        extra = sum(c - 1 for c in seen.values() if c > 1)
        missed_total += missing
        extra_total += extra
        if missing:
            worst.append((missing, name))

    base = samples[min(2, len(samples) - 1)]  # after the first minute of warm-up
    last_s = samples[-1]
    print()
    print(f"expected {expected} fires per job x {args.jobs} jobs = {expected * args.jobs}; "
          f"missed {missed_total}; duplicated {extra_total}; outcomes {dict(outcomes)}")
    d = summary(delays)
    print(f"history started_at - scheduled_at (ms): median {d['median']}, p99 {d['p99']}, max {d['max']}")
    if worst:
        print("jobs with missed fires (missed, job):", sorted(worst, reverse=True)[:10])
    print(f"from t={base['t']:.0f}s to t={last_s['t']:.0f}s: fds {base['fds']} -> {last_s['fds']}, "
          f"threads {base['threads']} -> {last_s['threads']}, RSS {base['rss_kib']} -> {last_s['rss_kib']} KiB, "
          f"max zombies seen twice {max(s['zombies'] for s in samples)}")
    cpu_per_fire = (last_s["cpu_s"] - samples[0]["cpu_s"]) / max(1, (last_s["t"] - samples[0]["t"]) * args.jobs)
    print(f"daemon CPU per fire: {cpu_per_fire * 1e3:.3f} ms")
    ok = (missed_total == 0 and extra_total == 0
          and last_s["fds"] <= base["fds"] and last_s["threads"] <= base["threads"]
          and max(s["zombies"] for s in samples) == 0)
    print("PASS" if ok else "FAIL")
    if args.keep:
        print(f"kept {sd.root}")
    else:
        shutil.rmtree(sd.root, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
