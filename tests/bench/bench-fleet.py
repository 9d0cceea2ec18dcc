#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Fleet benchmark: the real wattbusd polling 1, 100, 1000 emulated Kasa plugs.

Not a test: it prints figures (see tests/bench/RESULTS.md). Everything runs on
127.0.0.1 and on a private dbus-daemon; every phase is bounded in time.

  WATTBUS_BUILD_DIR=BUILD /usr/bin/python3 tests/bench/bench-fleet.py \
      [--sizes 1,100,1000] [--window 20] [--turn-on 1000] [--no-node]
      [--fleet-nice N] [--fleet-cpu N] [--no-unit-env]
      [--tplink-klap] [--poll-interval S] [--node-modes M,...] [--tuya 33|34]

For each size N (poll-interval=1, tests/emulators/fleet-emulator.py serving
N HS110 plugs with an energy meter):
  - start-up: spawn of wattbusd to its bus name being owned (NameHasOwner
    polled every ms), then to every device Online;
  - over WINDOW seconds after a 5 s warm-up (nothing else talking to it): wattbusd's CPU (utime+stime from
    /proc/PID/stat) as a share of one core, RSS (VmRSS, VmHWM), polls done
    (requests with get_sysinfo served by the fleet: a poll is get_sysinfo +
    emeter get_realtime, in one request or two) and CPU time per poll;
  - main-loop lateness: wattbusd has no hook to time its own timers, so the
    observable proxy is the round trip of a Properties.Get (Device.Online)
    sent every 10 ms from here, over a second window of up to 10 s: skeleton property reads are answered by the
    daemon's main loop, unlike Peer.Ping, which GDBus answers on its worker
    thread. Reported: p50, p99, max.
  - TurnOn: TURN_ON calls of Outlet.TurnOn on one more plug, served by a
    kasa-emulator.py process of its own (in the fleet's single asyncio loop its
    replies would wait behind the polls of the others) (each after an untimed
    TurnOff), timed from the call to the reply: the Kasa driver replies on the
    device's answer to set_relay_state, which the emulator (like a plug) sends
    once the relay has switched (checked once more at the end, with the
    emulator's "state"). Idle (N=1) and while N devices are polled.
  - the same fleet polled by Node's tplink-smarthome-api 5.0.0 (npm, installed
    into a temporary directory with tuyapi; tests/bench/node-kasa-poll.js) at
    1 Hz, each mode of --node-modes in turn on a fresh fleet: CPU per poll,
    RSS, the ratios to wattbusd's, the errors the peer counted, and the
    sockets it holds at the end (a kept connection per device shows as ~N).
    Every window also reports the fleet emulator's CPU share and, from
    /proc/PID/schedstat, the share of the time the poller's main thread and
    the fleet waited runnable for a CPU (other load on the machine).
    Modes: default (TCP, the package's defaults: a new connection per
    request; the default), shared (TCP with useSharedSocket: true, which the
    package documents as "UDP only" and ignores for TCP: measured to show it),
    udp-shared (UDP with useSharedSocket: true, one kept socket per device,
    the package's closest to wattbusd's kept TCP connection).

--tuya 33|34: the N devices are Tuya 3.3 or 3.4 metering plugs instead
(fleet-emulator.py --tuya33/--tuya34 N; the config it writes: device-id,
local-key, version, profile=metering-plug, found in data/profiles through
WATTBUS_PROFILES_DIR). A wattbusd poll is what the driver sends every poll
interval on its kept connection: a heartbeat and UPDATEDPS for DPs 18-20,
the plug pushing them back (counted: the fleet's heartbeats). The peer is
the npm package tuyapi 7.7.1 (tests/bench/node-tuya-poll.js): one
connection per device, kept, then every second get({schema: true})
(--node-modes get: DP_QUERY, DP_QUERY_NEW on 3.4; the default) or
refresh({schema: true}) (refresh: UPDATEDPS, as wattbusd); its polls are
the fleet's count of those requests. No TurnOn target then. Typical:
--tuya 34 --sizes 100 --node-modes get,refresh --turn-on 0.

--tplink-klap: the N devices are TP-Link SMART plugs on KLAP v2 instead
(fleet-emulator.py --tplink-klap: the P110(UK) fixture, each plug an HTTP
server on its own port, one account in a [driver kasa] group, transport=klap
and http-port per device); a poll is one request with get_device_info (one
multipleRequest: AES-CBC + SHA-256 each way, in HTTP with a session cookie).
No Node peer then (its script speaks XOR). --poll-interval S (default 1)
polls every S seconds, for fleets the emulator cannot serve at 1 Hz.
--turn-on 0 leaves out the TurnOn target (the one more XOR plug of its own
process, which wattbusd polls too but whose polls are not counted).

--fleet-nice N runs the fleet emulator (not the TurnOn target's emulator) at
nice N: on a 2-core machine the Python fleet, standing in for 1000 devices that
would have their own hardware, takes most of a core, and the kernel's scheduler
then delays the other processes of a TurnOn (client, dbus-daemon, wattbusd, the
target's emulator) by milliseconds. Default 0 (as before). --fleet-cpu N pins
the fleet emulator to CPU N and everything else the benchmark starts (wattbusd or
the Node peer, dbus-daemon, the TurnOn target's emulator, the benchmark itself)
to the other CPUs: the devices on hardware of their own, as in a house.

wattbusd runs with the environment of data/wattbus.service.in
(G_SLICE=always-malloc: GLib before 2.76 holds freed GVariants in GSlice's
per-thread caches); --no-unit-env runs it without.
"""

import argparse
import json
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
FLEET = os.path.join(SRC, "tests", "emulators", "fleet-emulator.py")
KASA_EMULATOR = os.path.join(SRC, "tests", "emulators", "kasa-emulator.py")
FIXTURE = "HS110(EU)_4.0_1.0.4.json"
TARGET = "turnon-target"
NODE_SCRIPT = os.path.join(HERE, "node-kasa-poll.js")
NODE_TUYA_SCRIPT = os.path.join(HERE, "node-tuya-poll.js")
NODE_PACKAGES = ["tplink-smarthome-api@5.0.0", "tuyapi@7.7.1"]
# what a poll is, in Tuya requests counted by the fleet (by command number):
# wattbusd sends one UPDATEDPS (18) on every poll of a metering-plug (before
# bfcad38 after a heartbeat, 9; since, alone once the plug has acknowledged one);
# tuyapi's get() is DP_QUERY (10; 16 on 3.4), its refresh() UPDATEDPS (18)
TUYA_POLL = {"wattbusd": (18,), "get": (10, 16), "refresh": (18,)}
NAME = "org.wattbus.Wattbus1"
ROOT = "/org/wattbus/Wattbus1"
DEVICE = "org.wattbus.Wattbus1.Device"
OUTLET = "org.wattbus.Wattbus1.Outlet"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def dev_path(dev_id):
    return ROOT + "/Devices/" + Gio.dbus_escape_object_path(dev_id)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def run_wait_seconds(pid):
    """(running, waiting runnable) seconds of the process's main thread."""
    with open("/proc/%d/schedstat" % pid) as f:
        run, wait = f.read().split()[:2]
    return int(run) / 1e9, int(wait) / 1e9


def mem_kib(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    return out


def sockets(pid):
    """How many sockets the process has open now."""
    count = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            count += os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:")
        except OSError:
            pass
    return count


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


class Proc:
    """A child with line-based stdin/stdout (the fleet emulator)."""

    def __init__(self, args, **kw):
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, bufsize=1, **kw)

    def readline(self):
        return self.p.stdout.readline()

    def command(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        out = []
        while True:
            reply = self.readline().strip()
            out.append(reply)
            if reply == "OK" or reply.startswith("ERR"):
                return out

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


class Bench:
    def __init__(self, build, tmp, fleet_nice=0, unit_env=True, fleet_cpu=None,
                 klap=False, poll_interval=1, target=True, tuya=None):
        self.klap = klap
        self.tuya = tuya  # None, "33" or "34"
        self.poll_interval = poll_interval
        self.with_target = target
        self.target = None
        self.fleet_nice = fleet_nice
        self.fleet_cpu = fleet_cpu
        self.unit_env = unit_env
        self.wattbusd = os.environ.get("WATTBUSD", os.path.join(build, "src", "wattbusd"))
        self.tmp = tmp
        self.bus_proc = subprocess.Popen(["dbus-daemon", "--session", "--nofork",
                                          "--print-address=1"], stdout=subprocess.PIPE,
                                         text=True)
        self.address = self.bus_proc.stdout.readline().strip()
        self.bus = Gio.DBusConnection.new_for_address_sync(
            self.address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        self.daemon = None
        self.fleet = None

    def call(self, path, iface, method, args=None, dest=NAME, timeout=30000):
        return self.bus.call_sync(dest, path, iface, method, args, None,
                                  Gio.DBusCallFlags.NONE, timeout, None)

    def has_owner(self):
        return self.call("/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
                         GLib.Variant("(s)", (NAME,)), dest="org.freedesktop.DBus")[0]

    def online_count(self):
        objs = self.call(ROOT, "org.freedesktop.DBus.ObjectManager",
                         "GetManagedObjects")[0]
        return sum(1 for ifaces in objs.values()
                   if ifaces.get(DEVICE, {}).get("Online"))

    def start_fleet(self, n):
        conf_dir = os.path.join(self.tmp, "etc-%d" % n)
        os.makedirs(os.path.join(conf_dir, "conf.d"), exist_ok=True)
        nice = ["nice", "-n", str(self.fleet_nice)] if self.fleet_nice else []
        if self.fleet_cpu is not None:
            nice = ["taskset", "-c", str(self.fleet_cpu)] + nice
        kind = "--tplink-klap" if self.klap else "--tuya" + self.tuya if self.tuya \
            else "--kasa"
        self.fleet = Proc(nice + ["/usr/bin/python3", FLEET, kind, str(n),
                                  "--poll-interval", str(self.poll_interval), "--config",
                                  os.path.join(conf_dir, "wattbus.conf")])
        ready = self.fleet.readline()
        if not ready.startswith("READY "):
            raise RuntimeError("fleet emulator did not start: %r" % ready)
        self.devices = json.loads(ready[6:])["devices"]
        if not self.with_target:
            return conf_dir
        # the TurnOn target in a process of its own: in the fleet's single asyncio loop
        # its replies would queue behind up to a thousand poll replies
        self.target = Proc(["/usr/bin/python3", KASA_EMULATOR, "--fixture",
                            os.path.join(SRC, "tests", "data", "kasa", FIXTURE)])
        ready = self.target.readline()
        if not ready.startswith("READY "):
            raise RuntimeError("kasa emulator did not start: %r" % ready)
        with open(os.path.join(conf_dir, "wattbus.conf"), "a") as f:
            f.write("[device %s]\ndriver=kasa\naddress=127.0.0.1:%d\npoll-interval=%d\n"
                    % (TARGET, json.loads(ready[6:])["tcp"], self.poll_interval))
        return conf_dir

    def polls(self):
        return json.loads(self.fleet.command("stats")[0][6:])["polls"]

    def tuya_requests(self):
        return {int(k): v for k, v in
                json.loads(self.fleet.command("stats")[0][6:])["tuya"].items()}

    def tuya_polls(self, who):
        """A counter of the Tuya requests that make a poll of WHO (TUYA_POLL)."""
        return lambda: sum(self.tuya_requests().get(c, 0) for c in TUYA_POLL[who])

    def start_daemon(self, conf_dir):
        state = os.path.join(self.tmp, "state-%d" % time.monotonic_ns())
        os.makedirs(state)
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=self.address)
        env.pop("G_MESSAGES_DEBUG", None)
        # the Tuya fleet's profile=metering-plug, from the source tree
        env.setdefault("WATTBUS_PROFILES_DIR", os.path.join(SRC, "data", "profiles"))
        if self.unit_env:
            env["G_SLICE"] = "always-malloc"  # as wattbus.service sets it
        self.log = open(os.path.join(self.tmp, "wattbusd.log"), "a")
        t0 = time.monotonic()
        self.daemon = subprocess.Popen([self.wattbusd, "--config", conf_dir, "--state-dir",
                                        state, "--session"], env=env, stdout=self.log,
                                       stderr=subprocess.STDOUT)
        while not self.has_owner():
            if self.daemon.poll() is not None or time.monotonic() - t0 > 30:
                raise RuntimeError("wattbusd did not own its name")
            time.sleep(0.001)
        return time.monotonic() - t0

    def wait_online(self, n, t0, limit=60):
        limit += n / 10  # KLAP: a thousand handshakes with a Python fleet
        while self.online_count() < n:
            if time.monotonic() - t0 > limit:
                raise RuntimeError("only %d of %d devices online" % (self.online_count(), n))
            time.sleep(0.1)
        return time.monotonic() - t0

    def close(self):
        """Everything stopped, the private bus too, and the temporary directory gone."""
        self.stop_all()
        self.bus_proc.terminate()
        self.bus_proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def stop_all(self):
        if self.daemon is not None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(20)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
            self.daemon = None
            self.log.close()
        if self.fleet is not None:
            self.fleet.stop()
            self.fleet = None
        if self.target is not None:
            self.target.stop()
            self.target = None

    def lateness_probe(self, stop, out):
        """Properties.Get every 10 ms on its own connection, round trips in ms."""
        bus = Gio.DBusConnection.new_for_address_sync(
            self.address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        path = dev_path(self.devices[0]["id"])
        args = GLib.Variant("(ss)", (DEVICE, "Online"))
        next_t = time.monotonic()
        while not stop.is_set():
            t = time.monotonic()
            bus.call_sync(NAME, path, "org.freedesktop.DBus.Properties", "Get", args, None,
                          Gio.DBusCallFlags.NONE, 10000, None)
            out.append((time.monotonic() - t) * 1000)
            next_t += 0.010
            time.sleep(max(0, next_t - time.monotonic()))

    def measure(self, pid, window, count_polls, probe=True):
        stop = threading.Event()
        rtt = []
        thread = threading.Thread(target=self.lateness_probe, args=(stop, rtt))
        fleet = self.fleet.p.pid
        r0, c0, t0 = count_polls(), cpu_seconds(pid), time.monotonic()
        f0 = cpu_seconds(fleet)
        w0, fw0 = run_wait_seconds(pid)[1], run_wait_seconds(fleet)[1]
        if probe:
            thread.start()
        rss = []
        while time.monotonic() - t0 < window:
            time.sleep(1)
            rss.append(mem_kib(pid)["VmRSS"])
        r1, c1, t1 = count_polls(), cpu_seconds(pid), time.monotonic()
        f1 = cpu_seconds(fleet)
        w1, fw1 = run_wait_seconds(pid)[1], run_wait_seconds(fleet)[1]
        stop.set()
        if probe:
            thread.join()
        polls = r1 - r0
        res = {"seconds": t1 - t0, "cpu_s": c1 - c0, "cpu_share": (c1 - c0) / (t1 - t0),
               "polls": polls, "polls_per_s": polls / (t1 - t0),
               "cpu_per_poll_us": (c1 - c0) / polls * 1e6 if polls else float("nan"),
               "rss_kib": rss[-1], "rss_start_kib": rss[0], "hwm_kib": mem_kib(pid)["VmHWM"],
               # the emulated devices' side: near 1.0 = saturated (the polls/s then
               # measure the emulator, not the poller)
               "fleet_cpu_share": (f1 - f0) / (t1 - t0),
               # time the main thread (and the fleet's) waited runnable for a CPU: a
               # large share = the machine's other load, not the process, sets the pace
               "wait_share": (w1 - w0) / (t1 - t0),
               "fleet_wait_share": (fw1 - fw0) / (t1 - t0)}
        if probe:
            res.update({"get_p50_ms": pct(rtt, 50), "get_p99_ms": pct(rtt, 99),
                        "get_max_ms": max(rtt), "gets": len(rtt)})
        return res

    def turn_on(self, count):
        path = dev_path(TARGET)
        times = []
        for _ in range(count):
            self.call(path, OUTLET, "TurnOff")
            t = time.monotonic()
            self.call(path, OUTLET, "TurnOn")
            times.append((time.monotonic() - t) * 1000)
        state = json.loads(self.target.command("state")[0][6:])
        if state["sysinfo"]["relay_state"] != 1:
            raise RuntimeError("the emulated relay is not on after TurnOn")
        return {"calls": count, "p50_ms": pct(times, 50), "p99_ms": pct(times, 99),
                "max_ms": max(times)}


class Peer:
    """A Node peer (node-kasa-poll.js or node-tuya-poll.js); its last
    "POLLS n ERRORS n ..." line and its first error messages are kept."""

    def __init__(self, args, node_dir):
        env = dict(os.environ, NODE_PATH=os.path.join(node_dir, "node_modules"))
        self.proc = subprocess.Popen(["node"] + args, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.last = {}
        self.messages = []
        self.threads = [threading.Thread(target=self.read_out, daemon=True),
                        threading.Thread(target=self.read_err, daemon=True)]
        for t in self.threads:
            t.start()

    def read_out(self):
        for line in self.proc.stdout:
            words = line.split()
            self.last = {words[i].lower(): int(words[i + 1])
                         for i in range(0, len(words) - 1, 2)}

    def read_err(self):
        for line in self.proc.stderr:
            if len(self.messages) < 10:
                self.messages.append(line.strip())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait()
        for t in self.threads:
            t.join(5)


def node_peer(bench, n, window, node_dir, mode):
    """tplink-smarthome-api (mode "default" or "shared": useSharedSocket) or
    tuyapi (mode "get" or "refresh") polling the fleet at 1 Hz."""
    if bench.tuya:
        devices = [{"port": d["port"], "id": d["device-id"], "key": d["local-key"],
                    "version": d["version"]} for d in bench.devices]
        peer = Peer([NODE_TUYA_SCRIPT, json.dumps(devices), "1000", mode], node_dir)
        count = bench.tuya_polls(mode)
    else:
        ports = [d["port"] for d in bench.devices]
        peer = Peer([NODE_SCRIPT, json.dumps(ports), "1000",
                     mode], node_dir)
        count = bench.polls
    try:
        time.sleep(5 + n / 200)  # warm-up: getDevice or connect, then the first polls
        before = dict(peer.last)
        res = bench.measure(peer.proc.pid, window, count, probe=False)
        after = dict(peer.last)
        res["peer_sockets"] = sockets(peer.proc.pid)  # kept connections (shared: ~N)
    finally:
        peer.stop()
    # errors counted by the peer during the window (and in all), polls it completed
    res["peer_errors"] = after.get("errors", 0) - before.get("errors", 0)
    res["peer_errors_total"] = after.get("errors", 0)
    res["peer_polls"] = after.get("polls", 0) - before.get("polls", 0)
    if bench.tuya:
        res["peer_connected"] = after.get("connected", 0)
    if peer.messages:
        res["peer_messages"] = "; ".join(peer.messages[:3])
    return res


def install_node(tmp):
    node_dir = os.path.join(tmp, "node")
    os.makedirs(node_dir)
    subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix",
                    node_dir] + NODE_PACKAGES, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    return node_dir


def keep_off_cpu(parser, cpu):
    """This process, and every one it starts from now on, on the CPUs but @cpu (the
    fleet's: it is started with taskset there)."""
    if cpu is None:
        return
    others = os.sched_getaffinity(0) - {cpu}
    if not others:
        parser.error("--fleet-cpu needs a machine with more than one CPU")
    os.sched_setaffinity(0, others)


def fmt(name, res):
    print("%-28s " % name + " ".join("%s=%s" % (k, ("%.3f" % v) if isinstance(v, float)
                                                 else v) for k, v in res.items()), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="1,100,1000")
    p.add_argument("--window", type=float, default=20)
    p.add_argument("--turn-on", type=int, default=1000)
    p.add_argument("--no-node", action="store_true")
    p.add_argument("--fleet-nice", type=int, default=0)
    p.add_argument("--fleet-cpu", type=int, default=None)
    p.add_argument("--no-unit-env", action="store_true")
    p.add_argument("--tplink-klap", action="store_true")
    p.add_argument("--poll-interval", type=int, default=1)
    p.add_argument("--node-modes", default="default",
                   help="Kasa: default,shared (useSharedSocket); Tuya: get,refresh")
    p.add_argument("--tuya", choices=("33", "34"))
    args = p.parse_args()
    if args.poll_interval < 1:
        p.error("--poll-interval must be at least 1")
    if args.tplink_klap and args.tuya:
        p.error("--tplink-klap or --tuya, not both")
    if args.tplink_klap:
        args.no_node = True
    if args.tuya:
        args.turn_on = 0  # the TurnOn target is a Kasa plug
        if args.node_modes == "default":
            args.node_modes = "get"
    modes = args.node_modes.split(",")
    known = ("get", "refresh") if args.tuya else ("default", "shared", "udp-shared")
    if any(m not in known for m in modes):
        p.error("--node-modes: %s here" % ", ".join(known))
    build = os.environ.get("WATTBUS_BUILD_DIR", os.path.join(SRC, "_build"))
    tmp = tempfile.mkdtemp(prefix="wattbus-bench-fleet-")
    keep_off_cpu(p, args.fleet_cpu)
    bench = Bench(build, tmp, args.fleet_nice, not args.no_unit_env, args.fleet_cpu,
                  args.tplink_klap, args.poll_interval, args.turn_on > 0, args.tuya)
    node_dir = None
    if not args.no_node:
        if shutil.which("node") is None or shutil.which("npm") is None:
            print("node/npm not found: skipping the Node peer")
        else:
            try:
                node_dir = install_node(tmp)
                print("node %s, %s" % (subprocess.run(
                    ["node", "--version"], capture_output=True, text=True).stdout.strip(),
                    ", ".join(NODE_PACKAGES)))
            except (subprocess.SubprocessError, OSError) as e:
                print("npm install %s failed (%s): skipping the Node peer"
                      % (" ".join(NODE_PACKAGES), e))
    try:
        for n in [int(x) for x in args.sizes.split(",")]:
            conf = bench.start_fleet(n)
            t0 = time.monotonic()
            owned = bench.start_daemon(conf)
            online = bench.wait_online(n + bench.with_target, t0)
            fmt("startup N=%d" % n, {"name_owned_s": owned, "all_online_s": online})
            time.sleep(5 + 2 * args.poll_interval)
            # CPU without the probe (its Gets cost the daemon CPU), then lateness
            count = bench.tuya_polls("wattbusd") if args.tuya else bench.polls
            res = bench.measure(bench.daemon.pid, args.window, count, probe=False)
            if args.tuya:
                res["requests"] = bench.tuya_requests()
            fmt("wattbusd N=%d" % n, res)
            late = bench.measure(bench.daemon.pid, min(args.window, 10), count)
            fmt("lateness N=%d" % n, {k: v for k, v in late.items() if k.startswith("get")})
            if args.turn_on and n in (1, max(int(x) for x in args.sizes.split(","))):
                fmt("TurnOn N=%d polled" % n, bench.turn_on(args.turn_on))
            bench.stop_all()
            for mode in modes if node_dir is not None else []:
                conf = bench.start_fleet(n)  # a fresh fleet for each peer
                if bench.target is not None:
                    bench.target.stop()
                    bench.target = None
                res_node = node_peer(bench, n, args.window, node_dir, mode)
                if args.tuya:
                    res_node["requests"] = bench.tuya_requests()
                fmt("node %s N=%d" % (mode, n), res_node)
                if res["cpu_per_poll_us"] > 0:  # 0: below the kernel's 10 ms tick
                    fmt("ratio %s N=%d" % (mode, n),
                        {"node_cpu_per_poll / wattbusd_cpu_per_poll":
                         res_node["cpu_per_poll_us"] / res["cpu_per_poll_us"],
                         "node_rss / wattbusd_rss": res_node["rss_kib"] / res["rss_kib"]})
                bench.fleet.stop()
                bench.fleet = None
    finally:
        bench.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
