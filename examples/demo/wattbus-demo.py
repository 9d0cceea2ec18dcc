#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Runs wattbusd in the foreground on the session bus with emulated devices.

Starts the emulators from tests/emulators on 127.0.0.1: Kasa plugs and strips (a
metered kettle plug, a six-socket HS300 with per-outlet meters, a three-socket KP303, a
KP125 heater), a Tuya water meter with its valve (protocol 3.4), and an Enphase IQ
Gateway (firmware 8, HTTPS with a token) with production, net-consumption and storage
CTs, a battery and 35 microinverters, its meters live from the gateway's stream. Every
device has a real name (the fixtures' own names are redacted). It writes a configuration
for them, with the live dashboard (an `sse` exporter), into a temporary directory, makes
sure there is a session bus that `busctl --user` finds (a dead socket left by a demo
that crashed is replaced), and runs wattbusd until Ctrl-C. The kettle's load changes
every few seconds, so `wattbusctl monitor` and the dashboard have something to show.
"""

import argparse
import json
import math
import os
import random
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EMULATOR = os.path.join(SOURCE_DIR, "tests", "emulators", "kasa-emulator.py")
TUYA_EMULATOR = os.path.join(SOURCE_DIR, "tests", "emulators", "tuya-emulator.py")
ENVOY_EMULATOR = os.path.join(SOURCE_DIR, "tests", "emulators", "envoy-emulator.py")
FIXTURES = os.path.join(SOURCE_DIR, "tests", "data", "kasa")
ENVOY_FIXTURES = os.path.join(SOURCE_DIR, "tests", "data", "envoy")
# production, net-consumption and storage CTs (split phase), a battery, 35 inverters
ENVOY_FIXTURE = "8.2.4286_with_3cts_and_battery_split"
ENVOY_STREAM = os.path.join(ENVOY_FIXTURES, "stream-meter", "siliconjunction-blog-3phase-daytime.txt")
PROFILES = os.path.join(SOURCE_DIR, "data", "profiles")
TUYA_KEY = "demo-local-key16"
BUS_NAME = "org.wattbus.Wattbus1"
INFO_FILE = "wattbus-demo.json"  # in $XDG_RUNTIME_DIR while a demo runs

# id, fixture, name, the names of its sockets
DEVICES = [
    ("kettle", "HS110(EU)_4.0_1.0.4.json", "Kettle", []),
    ("office-strip", "HS300(US)_2.0_1.0.12.json", "Office strip",
     ["Desk lamp", "Monitor", "Laptop charger", "Printer", "Router", "Speakers"]),
    ("garden", "KP303(US)_2.0_1.0.9.json", "Garden sockets", ["Pond pump", "Garden lights", "Fountain"]),
    ("heater", "KP125(US)_1.0_1.0.6.json", "Heater", []),
]


def runtime_dir():
    return os.environ.get("XDG_RUNTIME_DIR") or "/run/user/%d" % os.getuid()


def bus_answers(address):
    """Whether a D-Bus message bus answers at address (connects and says Hello)."""
    from gi.repository import Gio, GLib
    try:
        conn = Gio.DBusConnection.new_for_address_sync(
            address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
    except GLib.Error:
        return False
    conn.close_sync(None)
    return True


def name_owned(address, name=BUS_NAME):
    from gi.repository import Gio, GLib
    try:
        conn = Gio.DBusConnection.new_for_address_sync(
            address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        reply = conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "NameHasOwner", GLib.Variant("(s)", (name,)), None,
                               Gio.DBusCallFlags.NONE, 5000, None)
        conn.close_sync(None)
        return reply.unpack()[0]
    except GLib.Error:
        return False


def is_dead_socket(path):
    """A socket file nobody listens on (what a crashed dbus-daemon leaves)."""
    try:
        if not stat.S_ISSOCK(os.stat(path).st_mode):
            return False
    except OSError:
        return False
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    finally:
        s.close()


def session_bus(tmp):
    """Returns (address, process or None): the user's session bus if one answers, or a
    new one at $XDG_RUNTIME_DIR/bus, which is where `busctl --user` looks."""
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if address:
        if bus_answers(address):
            return address, None
        print("DBUS_SESSION_BUS_ADDRESS=%s: no bus answers there, starting one" % address, flush=True)
        del os.environ["DBUS_SESSION_BUS_ADDRESS"]
    runtime = runtime_dir()
    path = os.path.join(runtime, "bus")
    if os.path.exists(path):
        if bus_answers("unix:path=" + path):
            return "unix:path=" + path, None
        if is_dead_socket(path) and os.stat(path).st_uid == os.getuid():
            # left by a bus that died (a demo killed with its bus): nobody listens there
            print("%s: a dead bus socket (nobody listens), replacing it" % path, flush=True)
            os.unlink(path)
        else:
            path = os.path.join(tmp, "bus")
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    except PermissionError:
        path = os.path.join(tmp, "bus")
    proc = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--address=unix:path=" + path,
                             "--print-address=1"], stdout=subprocess.PIPE)
    address = proc.stdout.readline().decode().strip()
    os.environ["XDG_RUNTIME_DIR"] = os.path.dirname(path)
    return address, proc


def already_running(address):
    """What to tell when a demo (or another wattbusd --session) owns the name already."""
    text = "A Wattbus demo already runs on this session bus (%s owns %s)" % (address, BUS_NAME)
    try:
        with open(os.path.join(runtime_dir(), INFO_FILE)) as f:
            info = json.load(f)
        os.kill(info["pid"], 0)
        text = ("A Wattbus demo already runs (process %d): its configuration is in %s,\n"
                "its dashboard at %s" % (info["pid"], info["config"], info["dashboard"]))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return text + ".\nUse that one, or stop it (Ctrl-C in its terminal) before starting another."


def dashboard_port(wanted):
    """wanted, or a free port when it is taken (0: any free port)."""
    for port in (wanted, 0):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return s.getsockname()[1]
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port for the dashboard")


def start(cmd, procs):
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    procs.append(proc)
    line = proc.stdout.readline()
    if not line.startswith("READY "):
        raise RuntimeError("%s did not start: %r" % (os.path.basename(cmd[1]), line))
    return proc, json.loads(line.split(" ", 1)[1])


def command(proc, line):
    """A command to an emulator; the lines it printed before OK."""
    proc.stdin.write(line + "\n")
    proc.stdin.flush()
    out = []
    while True:
        reply = proc.stdout.readline().strip()
        if reply == "OK" or not reply:
            return out
        if reply.startswith("ERR"):
            raise RuntimeError(reply)
        out.append(reply)


def day_stream(path):
    """A meter stream for the gateway that moves: the real capture's one event, its
    production under passing clouds and its consumption wandering, one event a second
    for two minutes (the emulator replays them in a loop). Net = consumption -
    production on every phase, as a gateway measures it."""
    with open(ENVOY_STREAM) as f:
        base = json.loads(next(line for line in f if line.startswith("data:"))[5:])
    lines = []
    for i in range(120):
        sun = 0.35 + 0.65 * abs(math.sin(math.pi * i / 120)) * (0.7 if 40 <= i % 60 < 50 else 1)
        load = 1 + 2.5 * max(0.0, math.sin(2 * math.pi * i / 30))
        event = json.loads(json.dumps(base))
        for phase, prod in event["production"].items():
            total = event["total-consumption"][phase]
            for key in ("p", "q", "s", "i"):
                prod[key] = round(base["production"][phase][key] * sun, 3)
                total[key] = round(base["total-consumption"][phase][key] * load, 3)
                net = total[key] - prod[key]
                event["net-consumption"][phase][key] = round(net if key in "pq" else abs(net), 3)
        lines.append("data: " + json.dumps(event, separators=(",", ":")) + "\n\n")
    with open(path, "w") as f:
        f.write("".join(lines))
    return path


def write_config(tmp, procs, emulators, dashboard):
    config = ["# written by examples/demo/wattbus-demo.py\n\n"]
    for dev_id, fixture, name, sockets in DEVICES:
        cmd = ["/usr/bin/python3", EMULATOR, "--fixture", os.path.join(FIXTURES, fixture), "--alias", name]
        for socket_name in sockets:
            cmd += ["--child-alias", socket_name]
        emu, ready = start(cmd, procs)
        emulators[dev_id] = (emu, ready)
        config.append("[device %s]\ndriver=kasa\naddress=127.0.0.1:%d\nname=%s\npoll-interval=2\n\n"
                      % (dev_id, ready["tcp"], name))
    # a Tuya water meter (protocol 3.4)
    _, ready = start(["/usr/bin/python3", TUYA_EMULATOR, "--version", "3.4", "--profile", "water-meter",
                      "--device-id", "bfdemowatermeter0001", "--local-key", TUYA_KEY, "--udp-ports", "0"],
                     procs)
    config.append("[device water]\ndriver=tuya\naddress=127.0.0.1:%d\ndevice-id=bfdemowatermeter0001\n"
                  "local-key=%s\nversion=3.4\nprofile=water-meter\nname=Water meter\n\n"
                  % (ready["tcp"], TUYA_KEY))
    # an Enphase IQ Gateway, firmware 8: HTTPS with its own CA, a token for the installer
    # (who may read the live meter stream)
    certs = os.path.join(tmp, "envoy-certs")
    os.makedirs(certs)
    envoy, ready = start(["/usr/bin/python3", ENVOY_EMULATOR, "--fixture",
                          os.path.join(ENVOY_FIXTURES, ENVOY_FIXTURE), "--cert-dir", certs,
                          "--stream", day_stream(os.path.join(tmp, "stream-meter.txt"))], procs)
    token = next(line for line in command(envoy, "token installer 31536000")
                 if line.startswith("TOKEN ")).split(" ", 1)[1]
    config.append("[device solar]\ndriver=envoy\naddress=https://127.0.0.1:%d\ntoken=%s\nca-file=%s\n"
                  "name=Solar gateway\n\n" % (ready["port"], token, ready["ca"]))
    config.append("# the live energy dashboard: http://127.0.0.1:%d/\n"
                  "[exporter dashboard]\nkind=sse\nlisten=127.0.0.1:%d\n" % (dashboard, dashboard))
    etc = os.path.join(tmp, "etc")
    os.makedirs(os.path.join(etc, "conf.d"))
    path = os.path.join(etc, "wattbus.conf")
    with open(os.path.join(etc, "wattbus.conf"), "w") as f:
        f.write("".join(config))
    os.chmod(path, 0o600)  # it holds a token and a local key
    return path


def instructions(args, address, own_bus, config, dashboard, udp_port):
    build = os.path.abspath(args.build_dir)
    lib = os.path.join(build, "src", "libwattbus-glib")
    bus = "export DBUS_SESSION_BUS_ADDRESS=%s\n  " % address if own_bus else ""
    print("""Wattbus demo: %(n)d emulated Kasa devices, a Tuya water meter and an Enphase gateway
(production, consumption and storage meters, a battery, 35 microinverters) on 127.0.0.1.

Configuration: %(config)s
Dashboard:     http://127.0.0.1:%(port)d/   (the [exporter dashboard] group of the
               configuration; --dashboard-port PORT moves it)

In another terminal:
  %(bus)sbusctl --user tree %(name)s
  export WATTBUS_BUS=session PATH=%(build)s/src/cli:$PATH
  wattbusctl list
  wattbusctl monitor
  wattbusctl discover --target 127.0.0.1:%(udp)d

The Python examples (examples/python/) need the library built here:
  export GI_TYPELIB_PATH=%(lib)s LD_LIBRARY_PATH=%(lib)s WATTBUS_LOCALEDIR=%(build)s/po
  /usr/bin/python3 examples/python/list-devices.py --session

Ctrl-C stops the demo.
""" % {"n": len(DEVICES), "config": config, "port": dashboard, "bus": bus, "name": BUS_NAME,
       "build": build, "udp": udp_port, "lib": lib}, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", default=os.path.join(SOURCE_DIR, "_build"))
    parser.add_argument("--dashboard-port", type=int, default=8642,
                        help="the dashboard's port on 127.0.0.1 (default 8642, or a free one)")
    args = parser.parse_args()
    wattbusd = os.path.join(os.path.abspath(args.build_dir), "src", "wattbusd")

    tmp = tempfile.mkdtemp(prefix="wattbus-demo-")
    procs = []
    emulators = {}
    info_path = None
    try:
        address, bus = session_bus(tmp)
        if bus:
            procs.append(bus)
        # one demo a bus: the second would only fail to own the name, after its instructions
        if name_owned(address):
            print(already_running(address), file=sys.stderr)
            return 1
        dashboard = dashboard_port(args.dashboard_port)
        os.environ["WATTBUS_PROFILES_DIR"] = PROFILES
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address)
        config = write_config(tmp, procs, emulators, dashboard)
        daemon = subprocess.Popen([wattbusd, "--session", "--config", os.path.dirname(config),
                                   "--state-dir", os.path.join(tmp, "state")], env=env)
        signal.signal(signal.SIGTERM, lambda *a: daemon.terminate())
        # the instructions once they work: when the daemon is on the bus
        while not name_owned(address) and daemon.poll() is None:
            time.sleep(0.1)
        if daemon.poll() is None:
            instructions(args, address, bus is not None, config, dashboard,
                         emulators["kettle"][1]["udp"])
        try:
            info_path = os.path.join(runtime_dir(), INFO_FILE)
            with open(info_path, "w") as f:
                json.dump({"pid": os.getpid(), "config": config,
                           "dashboard": "http://127.0.0.1:%d/" % dashboard}, f)
        except OSError:
            info_path = None

        stop = threading.Event()

        def vary_load():
            # a kettle that heats in bursts
            while not stop.wait(3):
                watts = random.choice([0, 0, 1850, 2150, 2200])
                try:
                    command(emulators["kettle"][0], "emeter power_mw=%d current_ma=%d"
                            % (watts * 1000, watts * 1000 // 230))
                except (BrokenPipeError, ValueError, RuntimeError, OSError):
                    return

        threading.Thread(target=vary_load, daemon=True).start()
        try:
            code = daemon.wait()
        except KeyboardInterrupt:
            daemon.send_signal(signal.SIGINT)
            code = daemon.wait()
        stop.set()
        return code
    finally:
        if info_path:
            try:
                os.unlink(info_path)
            except OSError:
                pass
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
