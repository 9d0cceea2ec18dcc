#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What one wattbusctl command costs the daemon at N emulated Kasa plugs (issue 17).

Not a test: it prints figures (see tests/bench/RESULTS.md). The fleet, the private
dbus-daemon and wattbusd are those of bench-fleet.py (its Bench class).

  WATTBUS_BUILD_DIR=BUILD /usr/bin/python3 tests/bench/bench-ctl.py \
      --ctl NAME=PATH [--ctl NAME=PATH ...] [--size 1000] [--calls 10] [--rounds 2]
      [--poll-interval 1]

For each round, each wattbusctl (alternated, so that the machine's load falls on all of
them alike) runs `show ID` and then `on ID` CALLS times each, on one plug of the fleet;
per call: its wall time, its own CPU (wait4), and wattbusd's CPU meanwhile (the
run time of all its threads from /proc/PID/task/*/schedstat, in ns: /proc/PID/stat
counts 10 ms ticks, too coarse for one call), less what wattbusd spends polling in the
same time, measured over a quiet second before each batch. Meanwhile a Properties.Get of another
device every 10 ms (bench-fleet.py's lateness probe) shows how long the daemon's main
loop was held: its slowest round trip. Reported: medians and maxima per binary and
command.
"""

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("bench_fleet", os.path.join(HERE, "bench-fleet.py"))
bench_fleet = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_fleet)


def cpu_seconds(pid):
    """The CPU time of every thread of PID so far, from schedstat (ns)."""
    total = 0
    task_dir = "/proc/%d/task" % pid
    for tid in os.listdir(task_dir):
        try:
            with open(os.path.join(task_dir, tid, "schedstat")) as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:
            pass  # a thread that ended meanwhile
    return total / 1e9


def run_ctl(bench, ctl, args):
    """One wattbusctl call: (wall ms, its own CPU ms, wattbusd CPU ms)."""
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=bench.address, LANG="C")
    env.pop("G_MESSAGES_DEBUG", None)
    c0 = cpu_seconds(bench.daemon.pid)
    t0 = time.monotonic()
    proc = subprocess.Popen([ctl, "--session"] + args, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    c1 = cpu_seconds(bench.daemon.pid)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError("%s %s: %s" % (ctl, args, proc.stderr.read().decode()))
    proc.stderr.close()
    return wall * 1000, (usage.ru_utime + usage.ru_stime) * 1000, (c1 - c0) * 1000, wall


def idle_rate(bench, seconds=1.0):
    """wattbusd's CPU seconds per second while nothing but the polls runs."""
    c0, t0 = cpu_seconds(bench.daemon.pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(bench.daemon.pid) - c0) / (time.monotonic() - t0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ctl", action="append", required=True, help="NAME=PATH of a wattbusctl")
    p.add_argument("--size", type=int, default=1000)
    p.add_argument("--calls", type=int, default=10)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--poll-interval", type=int, default=1)
    args = p.parse_args()
    ctls = [c.split("=", 1) for c in args.ctl]
    build = os.environ.get("WATTBUS_BUILD_DIR", os.path.join(bench_fleet.SRC, "_build-bench"))
    with open("/proc/loadavg") as f:
        print("load average before:", f.read().split()[:3], flush=True)

    tmp = tempfile.mkdtemp(prefix="wattbus-bench-ctl-")
    bench = bench_fleet.Bench(build, tmp, poll_interval=args.poll_interval, target=False)
    results = {}  # (name, command) -> list of (wall, ctl cpu, daemon cpu net, probe max)
    try:
        conf_dir = bench.start_fleet(args.size)
        t0 = time.monotonic()
        bench.start_daemon(conf_dir)
        bench.wait_online(args.size, t0)
        target = bench.devices[args.size // 2]["id"]
        time.sleep(3)
        for _ in range(args.rounds):
            for name, ctl in ctls:
                for command in (["show", target], ["on", target]):
                    rate = idle_rate(bench)
                    stop = threading.Event()
                    rtt = []
                    probe = threading.Thread(target=bench.lateness_probe, args=(stop, rtt))
                    probe.start()
                    time.sleep(0.2)
                    for _ in range(args.calls):
                        wall, ctl_cpu, daemon_cpu, wall_s = run_ctl(bench, ctl, command)
                        results.setdefault((name, command[0]), []).append(
                            (wall, ctl_cpu, daemon_cpu - rate * wall_s * 1000))
                    stop.set()
                    probe.join()
                    results.setdefault((name, command[0] + " probe"), []).append(max(rtt))
    finally:
        bench.close()
    with open("/proc/loadavg") as f:
        print("load average after:", f.read().split()[:3])

    print("\n%d plugs, poll interval %d s, %d calls x %d rounds per cell; ms"
          % (args.size, args.poll_interval, args.calls, args.rounds))
    print("| wattbusctl | command | wall p50 | wall max | its CPU p50 | wattbusd CPU p50 "
          "| wattbusd CPU max | slowest Properties.Get meanwhile |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for command in ("show", "on"):
        for name, _ in ctls:
            rows = results[(name, command)]
            probe = results[(name, command + " probe")]
            print("| %s | %s ID | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |" % (
                name, command,
                statistics.median(r[0] for r in rows), max(r[0] for r in rows),
                statistics.median(r[1] for r in rows),
                statistics.median(r[2] for r in rows), max(r[2] for r in rows),
                max(probe)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
