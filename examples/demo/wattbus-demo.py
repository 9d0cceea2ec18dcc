#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Runs wattbusd in the foreground on the session bus with emulated devices.

Starts the emulators from tests/emulators on 127.0.0.1: Kasa plugs and strips (a
metered plug, a six-socket HS300 with per-outlet meters, a three-socket KP303, a
KP125), a Tuya water meter with its valve (protocol 3.4), and an Enphase Envoy
gateway (firmware 5, three-phase meters live from its stream, microinverters). It
writes a configuration for them into a temporary directory, makes sure there is a
session bus that `busctl --user` finds, and runs wattbusd until Ctrl-C. The kettle's
load changes every few seconds, so `wattbusctl monitor` has something to show.
"""

import argparse
import json
import os
import random
import shutil
import signal
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
PROFILES = os.path.join(SOURCE_DIR, "data", "profiles")
TUYA_KEY = "demo-local-key16"

DEVICES = [
    ("kettle", "HS110(EU)_4.0_1.0.4.json", "Kettle"),
    ("office-strip", "HS300(US)_2.0_1.0.12.json", "Office strip"),
    ("garden", "KP303(US)_2.0_1.0.9.json", "Garden sockets"),
    ("heater", "KP125(US)_1.0_1.0.6.json", "Heater"),
]


def session_bus(tmp):
    """Returns (address, process or None): the user's session bus, or a new one at
    $XDG_RUNTIME_DIR/bus, which is where `busctl --user` looks."""
    if os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return os.environ["DBUS_SESSION_BUS_ADDRESS"], None
    runtime = os.environ.get("XDG_RUNTIME_DIR") or "/run/user/%d" % os.getuid()
    path = os.path.join(runtime, "bus")
    if os.path.exists(path):
        return "unix:path=" + path, None
    try:
        os.makedirs(runtime, mode=0o700, exist_ok=True)
    except PermissionError:
        runtime = tmp
        path = os.path.join(runtime, "bus")
    proc = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--address=unix:path=" + path,
                             "--print-address=1"], stdout=subprocess.PIPE)
    address = proc.stdout.readline().decode().strip()
    os.environ["XDG_RUNTIME_DIR"] = runtime
    return address, proc


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", default=os.path.join(SOURCE_DIR, "_build"))
    args = parser.parse_args()
    wattbusd = os.path.join(os.path.abspath(args.build_dir), "src", "wattbusd")

    tmp = tempfile.mkdtemp(prefix="wattbus-demo-")
    procs = []
    emulators = {}
    config = ["# written by examples/demo/wattbus-demo.py\n"]
    for dev_id, fixture, name in DEVICES:
        emu = subprocess.Popen(["/usr/bin/python3", EMULATOR, "--fixture", os.path.join(FIXTURES, fixture),
                                "--alias", name], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True, bufsize=1)
        ready = json.loads(emu.stdout.readline().split(" ", 1)[1])
        procs.append(emu)
        emulators[dev_id] = emu
        config.append("[device %s]\ndriver=kasa\naddress=127.0.0.1:%d\npoll-interval=2\n\n" % (dev_id, ready["tcp"]))
        if dev_id == "kettle":
            udp_port = ready["udp"]
    # a Tuya water meter (protocol 3.4) and an Enphase gateway with a live meter stream
    tuya = subprocess.Popen(["/usr/bin/python3", TUYA_EMULATOR, "--version", "3.4", "--profile", "water-meter",
                             "--device-id", "bfdemowatermeter0001", "--local-key", TUYA_KEY,
                             "--udp-ports", "0"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    ready = json.loads(tuya.stdout.readline().split(" ", 1)[1])
    procs.append(tuya)
    config.append("[device water]\ndriver=tuya\naddress=127.0.0.1:%d\ndevice-id=bfdemowatermeter0001\n"
                  "local-key=%s\nversion=3.4\nprofile=water-meter\nname=Water meter\n\n" % (ready["tcp"], TUYA_KEY))
    envoy = subprocess.Popen(["/usr/bin/python3", ENVOY_EMULATOR, "--fixture", os.path.join(ENVOY_FIXTURES, "5.0.62"),
                              "--stream", os.path.join(ENVOY_FIXTURES, "stream-meter",
                                                       "siliconjunction-blog-3phase-daytime.txt")],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    ready = json.loads(envoy.stdout.readline().split(" ", 1)[1])
    procs.append(envoy)
    config.append("[device solar]\ndriver=envoy\naddress=http://127.0.0.1:%d\nusername=installer\n"
                  "name=Solar gateway\n\n" % ready["port"])
    os.environ["WATTBUS_PROFILES_DIR"] = PROFILES
    os.makedirs(os.path.join(tmp, "etc", "conf.d"))
    with open(os.path.join(tmp, "etc", "wattbus.conf"), "w") as f:
        f.write("".join(config))

    address, bus = session_bus(tmp)
    if bus:
        procs.append(bus)
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address)

    print("Wattbus demo: %d emulated Kasa devices, a Tuya water meter and an Enphase gateway on 127.0.0.1,"
          " configuration in %s" % (len(DEVICES), tmp))
    print("In another terminal:")
    prefix = "" if not bus else "DBUS_SESSION_BUS_ADDRESS=%s " % address
    print("  %sbusctl --user tree org.wattbus.Wattbus1" % prefix)
    print("  %sWATTBUS_BUS=session %s/src/cli/wattbusctl list" % (prefix, os.path.abspath(args.build_dir)))
    print("  %sWATTBUS_BUS=session %s/src/cli/wattbusctl discover --target 127.0.0.1:%d"
          % (prefix, os.path.abspath(args.build_dir), udp_port))
    print("Ctrl-C stops the demo.\n", flush=True)

    stop = threading.Event()

    def vary_load():
        # a kettle that heats in bursts
        while not stop.wait(3):
            watts = random.choice([0, 0, 1850, 2150, 2200])
            try:
                emulators["kettle"].stdin.write("emeter power_mw=%d current_ma=%d\n" % (watts * 1000, watts * 1000 // 230))
                emulators["kettle"].stdin.flush()
            except (BrokenPipeError, ValueError):
                return

    threading.Thread(target=vary_load, daemon=True).start()
    daemon = subprocess.Popen([wattbusd, "--session", "--config", os.path.join(tmp, "etc"),
                               "--state-dir", os.path.join(tmp, "state")], env=env)
    signal.signal(signal.SIGTERM, lambda *a: daemon.terminate())
    try:
        code = daemon.wait()
    except KeyboardInterrupt:
        daemon.send_signal(signal.SIGINT)
        code = daemon.wait()
    finally:
        stop.set()
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
