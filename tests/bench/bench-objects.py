#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Clients against a daemon with many devices: does a client stall wattbusd's main loop?

Not a test: it prints figures (tests/bench/RESULTS.md, issue 17 item 1). Everything
runs on 127.0.0.1 and on a private dbus-daemon; every phase is bounded in count and time.

  WATTBUS_BUILD_DIR=BUILD /usr/bin/python3 tests/bench/bench-objects.py \
      [--devices 1000] [--clients 20] [--seconds 20] [--fleet-cpu 1] [--perf FILE]

The fleet emulator serves N Kasa plugs (as in bench-fleet.py, which this reuses), the real
wattbusd polls them every second. Once every device is online and after a warm-up:

  - `GetManagedObjects`: CLIENTS clients one after the other, each a new bus connection
    calling it (what every libwattbus-glib client and `wattbusctl list` does first), or
    until SECONDS passed. Reported: the client's wall time per call (p50, max), wattbusd's
    CPU time per call (utime+stime over the phase, less what polling costs, measured
    just before over the same length of time), the reply's size, and wattbusd's peak RSS
    (VmHWM, reset through /proc/PID/clear_refs before the phase) against its RSS before.
  - meanwhile, on a connection of its own, a `Properties.Get` (Device.Online of one plug)
    every 5 ms: its round trip bounds how long the daemon's main loop was held (a
    skeleton's property is read by the main loop; GDBus answers `Peer.Ping` on its worker
    thread, which would prove nothing). Reported: p50, p99, max; the same probe before the
    clients start gives the baseline.
  - the main loop's iterations, timed in the kernel: `perf record` of the main thread's
    `poll()` system calls (tracepoints syscalls:sys_enter_poll/sys_exit_poll; GLib's main
    loop sleeps in poll()), an iteration's hold being the time from poll() returning to
    the next poll(): what the main loop did (prepare, dispatch, check) in one go, while
    nothing else it serves could be looked at, less the time it was preempted (switched
    off its CPU while runnable: sched:sched_switch with prev_state R), which is the
    machine's doing, not the daemon's; waiting for a lock counts. Reported: the longest,
    the 99th percentile, how many held it 20 ms or more, and the longest in wall time.
    Unlike the probe, this leaves out dbus-daemon and the clients (on two cores they
    compete for the same CPUs).
  - `wattbusctl list --json` and `wattbusctl show ID` run as processes, a few times each,
    the same probe running: what a user's command costs the daemon.

--perf FILE records wattbusd's main thread with `perf record -e cpu-clock -F 999
--call-graph dwarf` during the GetManagedObjects phase.
"""

import argparse
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from gi.repository import Gio, GLib

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
_spec = importlib.util.spec_from_file_location("bench_fleet", os.path.join(HERE, "bench-fleet.py"))
fleet = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fleet)

NAME, ROOT, DEVICE = fleet.NAME, fleet.ROOT, fleet.DEVICE


def connect(address):
    return Gio.DBusConnection.new_for_address_sync(
        address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
        Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)


class Probe:
    """Properties.Get every 5 ms on a connection of its own; round trips in ms."""

    def __init__(self, address, path):
        self.address, self.path = address, path
        self.rtt = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        bus = connect(self.address)
        args = GLib.Variant("(ss)", (DEVICE, "Online"))
        next_t = time.monotonic()
        while not self.stop.is_set():
            t = time.monotonic()
            bus.call_sync(NAME, self.path, "org.freedesktop.DBus.Properties", "Get", args,
                          None, Gio.DBusCallFlags.NONE, 10000, None)
            self.rtt.append((time.monotonic() - t) * 1000)
            next_t += 0.005
            time.sleep(max(0, next_t - time.monotonic()))
        bus.close_sync(None)

    def finish(self):
        self.stop.set()
        self.thread.join()
        r = self.rtt
        return {"gets": len(r), "get_p50_ms": fleet.pct(r, 50), "get_p99_ms": fleet.pct(r, 99),
                "get_max_ms": max(r)}


class LoopWatch:
    """The main thread's poll() calls and its switches off the CPU, recorded by perf; see
    the module's docstring."""

    def __init__(self, pid, tmp):
        self.pid = pid
        self.out = os.path.join(tmp, "loop-%d.perf" % time.monotonic_ns())
        self.perf = None
        if shutil.which("perf") is None:
            return
        own = "common_pid == %d" % pid
        self.perf = subprocess.Popen(
            ["perf", "record", "-q", "-a", "-e", "syscalls:sys_enter_poll", "--filter", own,
             "-e", "syscalls:sys_exit_poll", "--filter", own, "-e", "sched:sched_switch",
             "--filter", "prev_pid == %d || next_pid == %d" % (pid, pid), "-o", self.out],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)  # perf attaches

    def holds(self):
        script = subprocess.run(["perf", "script", "-i", self.out, "-F", "tid,time,event,trace"],
                                capture_output=True, text=True, timeout=300).stdout
        start = off = None
        waited = 0.0
        for line in script.splitlines():
            fields = line.split()
            if len(fields) < 3:
                continue
            tid, t, event = int(fields[0]), float(fields[1].rstrip(":")), fields[2]
            if event.startswith("syscalls:sys_exit_poll") and tid == self.pid:
                start, waited, off = t, 0.0, None
            elif event.startswith("syscalls:sys_enter_poll") and tid == self.pid:
                if start is not None:
                    yield (t - start) * 1000, (t - start - waited) * 1000
                start = None
            elif event.startswith("sched:sched_switch") and start is not None:
                trace = dict(f.split("=", 1) for f in fields[3:] if "=" in f)
                if trace.get("prev_pid") == str(self.pid) and trace.get("prev_state", "").startswith("R"):
                    off = t  # preempted: waiting for a CPU, not holding anything
                elif trace.get("next_pid") == str(self.pid) and off is not None:
                    waited += t - off
                    off = None

    def finish(self):
        if self.perf is None:
            return {}
        self.perf.send_signal(signal.SIGINT)
        self.perf.wait()
        holds = list(self.holds())
        if not holds:
            return {"loop_iterations": 0}
        wall = [h[0] for h in holds]
        own = [h[1] for h in holds]
        return {"loop_iterations": len(holds), "loop_hold_p99_ms": fleet.pct(own, 99),
                "loop_hold_max_ms": max(own), "loop_holds_over_20ms": sum(1 for h in own if h >= 20),
                "loop_wall_max_ms": max(wall)}


def reset_hwm(pid):
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")


def managed_objects_phase(bench, pid, clients, seconds):
    walls, size = [], 0
    reset_hwm(pid)
    rss0 = fleet.mem_kib(pid)["VmRSS"]
    c0, t0 = fleet.cpu_seconds(pid), time.monotonic()
    while len(walls) < clients and time.monotonic() - t0 < seconds:
        bus = connect(bench.address)
        t = time.monotonic()
        reply = bus.call_with_unix_fd_list_sync(
            NAME, ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", None,
            None, Gio.DBusCallFlags.NONE, 30000, None, None)[0]
        walls.append((time.monotonic() - t) * 1000)
        size = reply.get_size()
        n_objects = reply.get_child_value(0).n_children()
        bus.close_sync(None)
        del reply
    c1, t1 = fleet.cpu_seconds(pid), time.monotonic()
    return {"calls": len(walls), "objects": n_objects, "reply_bytes": size,
            "wall_p50_ms": fleet.pct(walls, 50), "wall_max_ms": max(walls),
            "phase_s": t1 - t0, "cpu_s": c1 - c0, "rss_before_kib": rss0,
            "hwm_kib": fleet.mem_kib(pid)["VmHWM"]}


def command_phase(bench, build, argv, count):
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=bench.address)
    ctl = os.path.join(build, "src", "cli", "wattbusctl")
    walls = []
    for _ in range(count):
        t = time.monotonic()
        subprocess.run([ctl, "--session"] + argv, env=env, check=True,
                       stdout=subprocess.DEVNULL, timeout=60)
        walls.append((time.monotonic() - t) * 1000)
    return {"runs": count, "wall_p50_ms": fleet.pct(walls, 50), "wall_max_ms": max(walls)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--devices", type=int, default=1000)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--commands", type=int, default=5)
    p.add_argument("--fleet-cpu", type=int, default=None)
    p.add_argument("--perf")
    args = p.parse_args()
    build = os.environ.get("WATTBUS_BUILD_DIR", os.path.join(SRC, "_build"))
    tmp = tempfile.mkdtemp(prefix="wattbus-bench-objects-")
    fleet.keep_off_cpu(p, args.fleet_cpu)
    bench = fleet.Bench(build, tmp, fleet_cpu=args.fleet_cpu, target=False)
    try:
        conf = bench.start_fleet(args.devices)
        t0 = time.monotonic()
        bench.start_daemon(conf)
        bench.wait_online(args.devices, t0)
        pid = bench.daemon.pid
        path = fleet.dev_path(bench.devices[0]["id"])
        time.sleep(5)
        # the baseline: polling alone, the probe running
        probe, watch = Probe(bench.address, path), LoopWatch(pid, tmp)
        c0, t0 = fleet.cpu_seconds(pid), time.monotonic()
        time.sleep(min(args.seconds, 10))
        base_cpu_per_s = (fleet.cpu_seconds(pid) - c0) / (time.monotonic() - t0)
        res = dict(probe.finish(), cpu_share=base_cpu_per_s, rss_kib=fleet.mem_kib(pid)["VmRSS"])
        res.update(watch.finish())
        fleet.fmt("idle N=%d" % args.devices, res)
        perf = None
        if args.perf:
            perf = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "999",
                                     "--call-graph", "dwarf", "-o", args.perf, "-t", str(pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        probe, watch = Probe(bench.address, path), LoopWatch(pid, tmp)
        res = managed_objects_phase(bench, pid, args.clients, args.seconds)
        res.update(probe.finish())
        res.update(watch.finish())
        if perf is not None:
            perf.send_signal(signal.SIGINT)
            perf.wait()
        res["cpu_per_call_ms"] = (res["cpu_s"] - base_cpu_per_s * res["phase_s"]) \
            / res["calls"] * 1000
        fleet.fmt("GetManagedObjects N=%d" % args.devices, res)
        time.sleep(2)
        if args.commands:
            dev = bench.devices[1]["id"]
            for argv in (["list", "--json"], ["show", dev]):
                probe, watch = Probe(bench.address, path), LoopWatch(pid, tmp)
                reset_hwm(pid)
                out = command_phase(bench, build, argv, args.commands)
                out.update(probe.finish())
                out.update(watch.finish())
                out["hwm_kib"] = fleet.mem_kib(pid)["VmHWM"]
                fleet.fmt("wattbusctl %s" % argv[0], out)
    finally:
        bench.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
