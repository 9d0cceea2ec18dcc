#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Serve a fleet of emulated devices from one process, for benchmarks.

Hundreds to thousands of Kasa IOT devices (and Tuya 3.3 / 3.4 devices, and
TP-Link SMART plugs on KLAP) on 127.0.0.1, each on its own TCP port, all in
one asyncio loop. The protocol code is NOT duplicated: kasa-emulator.py,
tuya-emulator.py and tplink-emulator.py, next to this file, are imported as
modules and one of their Emulator objects is started per device (so every
device speaks exactly what the single-device emulators and their tests speak;
a Kasa device also has its UDP socket, a Tuya device its; a KLAP plug is an
HTTP server on its own port, as a real plug, without discovery).

Usage:
  fleet-emulator.py [--kasa N] [--kasa-fixture NAME] [--tuya33 N]
                    [--tuya34 N] [--tplink-klap N] [--tplink-fixture NAME]
                    [--poll-interval S] [--config FILE]

  --kasa N           Kasa devices (default 0); ids kasa-0000, kasa-0001, ...
  --kasa-fixture F   fixture file name in tests/data/kasa/ (default
                     HS110(EU)_4.0_1.0.4.json: a plug with an energy meter)
  --tuya33 N         Tuya 3.3 devices (metering-plug profile); ids tuya33-0000..
  --tuya34 N         Tuya 3.4 devices; ids tuya34-0000, ...
  --tplink-klap N    TP-Link SMART plugs on KLAP (version from the fixture),
                     all bound to one account (KLAP_USER / KLAP_PASSWORD
                     below); ids klap-0000, ...
  --tplink-fixture F fixture file name in tests/data/kasa-smart/ (default
                     P110(UK)_1.0_1.3.0.json: a KLAP v2 plug with a meter)
  --poll-interval S  poll-interval written into the config (default 1)
  --config FILE      write a wattbusd config with one [device ID] group per
                     emulated device

The config gets transport=klap and http-port=PORT for each KLAP plug, and
the account once, in a [driver kasa] group; a Tuya device gets device-id,
local-key, version and profile=metering-plug (the DPs it reports).

File descriptors: every device holds 2 sockets (TCP listener + UDP) plus one
per connected client, so the soft RLIMIT_NOFILE is raised to the hard limit
at start (both are printed on stderr); the fleet refuses to start if
3 * devices + 64 does not fit.

After binding, one line is printed on stdout:
  READY {"devices": [{"id": ID, "driver": "kasa"|"tuya", "port": N,
          "version": V, "device-id": ID, "local-key": K (tuya),
          "transport": "klap", "http-port": N, "username": U,
          "password": P (KLAP)}...], "nofile": [SOFT, HARD]}
  (a KLAP plug's "port" is its HTTP port too)

Commands on stdin (each answered by "OK" or "ERR <reason>"):
  state ID           prints "STATE <json>" first: the Kasa emulator's
                     snapshot (sysinfo, realtime), the Tuya device's DPs or a
                     KLAP plug's on/off and handshake/request counts
  stats              prints "STATS {"requests": N, "polls": N, "tuya": {CMD: N}}"
                     first: Kasa requests served since start (TCP and UDP;
                     and KLAP requests decrypted), and those that asked
                     system.get_sysinfo (KLAP: get_device_info); Tuya
                     requests decoded, by command number in decimal (9
                     heartbeat, 10 DP_QUERY, 16 DP_QUERY_NEW, 18 UPDATEDPS,
                     3 and 5 the 3.4 handshake)
  quit               exit 0
SIGTERM/SIGINT exit cleanly, and so does the fleet when its parent dies.
"""

import argparse
import asyncio
import hashlib
import importlib.util
import json
import os
import resource
import signal
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
KASA_DATA = os.path.join(HERE, "..", "data", "kasa")
SMART_DATA = os.path.join(HERE, "..", "data", "kasa-smart")
TUYA_KEY = "k3y!Local_Tuya#1"
KLAP_USER = "fleet@example.com"
KLAP_PASSWORD = "fleet-Passw0rd"


def load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, file))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kasa = load("kasa_emulator", "kasa-emulator.py")
import emucontrol  # noqa: E402  (next to this file; the emulators put it on sys.path)
tuya = None  # loaded on demand: it needs python3-cryptography
tplink = None  # the same


def raise_nofile(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if needed > soft:
        raise SystemExit("fleet-emulator: %d file descriptors needed, the hard "
                         "limit is %d" % (needed, hard))
    return soft, hard


class Counter:
    """Counts the Kasa requests served and the polls among them (requests with
    system.get_sysinfo: a client may ask emeter.get_realtime in the same one or
    in its own), by wrapping Device.handle."""
    requests = 0
    polls = 0
    tuya = {}  # Tuya requests by command (9 heartbeat, 10/16 DP_QUERY, 18 UPDATEDPS...)


def kasa_device(fixture, index):
    device_id = hashlib.sha1(b"fleet-kasa-%d" % index).hexdigest().upper()
    device = kasa.Device(fixture, device_id, "Fleet plug %d" % index)
    handle = device.handle

    def counted(req):
        Counter.requests += 1
        system = req.get("system")
        if isinstance(system, dict) and "get_sysinfo" in system:
            Counter.polls += 1
        return handle(req)
    device.handle = counted
    args = argparse.Namespace(host="127.0.0.1", port=0, udp_port=None, klap=False,
                              misbehave="none", log=None)
    return kasa.Emulator(args, device)


def klap_plug(fixture, index):
    device = tplink.Device(fixture, 10)
    device_id = hashlib.sha1(b"fleet-klap-%d" % index).hexdigest().upper()
    device.root.info["device_id"] = device_id
    device.root.info["nickname"] = tplink.b64name("Fleet KLAP plug %d" % index)
    device.root.info["device_on"] = True  # a plug that is on reports its load
    handle = device.handle

    def counted(plain):
        Counter.requests += 1
        if b'"get_device_info"' in plain:
            Counter.polls += 1
        return handle(plain)
    device.handle = counted
    args = argparse.Namespace(host="127.0.0.1", port=0, udp_port=None, transport="klap",
                              klap_version=None, username=KLAP_USER, password=KLAP_PASSWORD,
                              session_timeout=86400, page_size=10, close_after_reply=False,
                              log=None)
    return tplink.Emulator(args, device)


def tuya_emulator(version, index):
    dev_id = "bf%018x" % (index + (0 if version == "3.3" else 1 << 40))
    args = argparse.Namespace(version=version, device_id=dev_id, local_key=TUYA_KEY,
                              profile="metering-plug", dps=None,
                              product_key="keyexample123456", host="127.0.0.1", port=0,
                              device22=False, udp_ports=None, broadcast_interval=0,
                              misbehave="none", log=None, sub=None, interleave=False)
    emu = tuya.Emulator(args)
    log_request = emu.log_request

    def counted(req):
        # every decoded request passes here (the emulator logs it when asked)
        cmd = req.get("cmd")
        if cmd is not None:
            Counter.tuya[cmd] = Counter.tuya.get(cmd, 0) + 1
        log_request(req)
    emu.log_request = counted
    return emu


def config_text(fleet, poll):
    out = []
    if any(entry.get("transport") == "klap" for entry, _ in fleet):
        out += ["[driver kasa]", "username=%s" % KLAP_USER, "password=%s" % KLAP_PASSWORD, ""]
    for entry, emu in fleet:
        out.append("[device %s]" % entry["id"])
        out.append("driver=%s" % entry["driver"])
        if entry.get("transport") == "klap":
            out.append("address=127.0.0.1")
            out.append("transport=klap")
            out.append("http-port=%d" % entry["http-port"])
        else:
            out.append("address=127.0.0.1:%d" % entry["port"])
        out.append("poll-interval=%d" % poll)
        if entry["driver"] == "tuya":
            out.append("device-id=%s" % emu.device.id)
            out.append("local-key=%s" % TUYA_KEY)
            out.append("version=%s" % entry["version"])
            out.append("profile=metering-plug")  # what the emulated plugs report
        out.append("")
    return "\n".join(out)


class Control:
    """The fleet's stdin commands, in the shape emucontrol.stdin_loop() drives."""

    def __init__(self, fleet):
        self.fleet = fleet

    async def command(self, line):
        words = line.split()
        if words[0] == "stats":
            return ["STATS " + json.dumps({"requests": Counter.requests,
                                           "polls": Counter.polls,
                                           "tuya": {str(k): v for k, v in
                                                    Counter.tuya.items()}}), "OK"]
        if words[0] == "state" and len(words) == 2:
            for entry, emu in self.fleet:
                if entry["id"] == words[1]:
                    if entry.get("transport") == "klap":
                        snap = {"on": emu.dev.snapshot(), "handshakes": emu.handshakes,
                                "requests": emu.requests}
                    elif entry["driver"] == "kasa":
                        snap = emu.device.snapshot()
                    else:
                        snap = {"dps": emu.device.dps}
                    return ["STATE " + kasa.dumps(snap).decode(), "OK"]
            return ["ERR no device %s" % words[1]]
        return ["ERR unknown command %s" % words[0]]


async def run(args, fixture, smart_fixture, limits):
    loop = asyncio.get_running_loop()
    fleet = []
    for i in range(args.kasa):
        emu = kasa_device(fixture, i)
        await emu.start()
        fleet.append(({"id": "kasa-%04d" % i, "driver": "kasa", "port": emu.tcp_port}, emu))
    for i in range(args.tplink_klap):
        emu = klap_plug(smart_fixture, i)
        await emu.start()
        fleet.append(({"id": "klap-%04d" % i, "driver": "kasa", "port": emu.http_port,
                       "transport": "klap", "http-port": emu.http_port,
                       "username": KLAP_USER, "password": KLAP_PASSWORD}, emu))
    for version, count in (("3.3", args.tuya33), ("3.4", args.tuya34)):
        for i in range(count):
            emu = tuya_emulator(version, i)
            await emu.start()
            fleet.append(({"id": "tuya%s-%04d" % (version.replace(".", ""), i),
                           "driver": "tuya", "port": emu.tcp_port, "version": version,
                           "device-id": emu.device.id, "local-key": TUYA_KEY}, emu))
    if args.config:
        with open(args.config, "w", encoding="utf-8") as f:
            f.write(config_text(fleet, args.poll_interval))
    emucontrol.say(["READY " + json.dumps({"devices": [e for e, _ in fleet],
                                     "nofile": list(limits)})])
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    threading.Thread(target=emucontrol.stdin_loop, args=(Control(fleet), loop, stop),
                     daemon=True).start()
    parent = os.getppid()
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except asyncio.TimeoutError:
            if os.getppid() != parent:
                break
    for _, emu in fleet:
        emu.close()


def main():
    global tuya, tplink
    p = argparse.ArgumentParser(description="fleet of emulated devices (see docstring)")
    p.add_argument("--kasa", type=int, default=0)
    p.add_argument("--kasa-fixture", default="HS110(EU)_4.0_1.0.4.json")
    p.add_argument("--tuya33", type=int, default=0)
    p.add_argument("--tuya34", type=int, default=0)
    p.add_argument("--tplink-klap", type=int, default=0)
    p.add_argument("--tplink-fixture", default="P110(UK)_1.0_1.3.0.json")
    p.add_argument("--poll-interval", type=int, default=1)
    p.add_argument("--config")
    args = p.parse_args()
    total = args.kasa + args.tuya33 + args.tuya34 + args.tplink_klap
    if total <= 0 or min(args.kasa, args.tuya33, args.tuya34, args.tplink_klap) < 0:
        p.error("no devices: give --kasa, --tuya33, --tuya34 or --tplink-klap")
    limits = raise_nofile(3 * total + 64)
    print("fleet-emulator: RLIMIT_NOFILE soft %d hard %d for %d devices"
          % (limits[0], limits[1], total), file=sys.stderr)
    if args.tuya33 or args.tuya34:
        tuya = load("tuya_emulator", "tuya-emulator.py")
    smart_fixture = None
    if args.tplink_klap:
        tplink = load("tplink_emulator", "tplink-emulator.py")
        with open(os.path.join(SMART_DATA, os.path.basename(args.tplink_fixture)),
                  encoding="utf-8") as f:
            smart_fixture = json.load(f)
    with open(os.path.join(KASA_DATA, args.kasa_fixture), encoding="utf-8") as f:
        fixture = json.load(f)
    try:
        asyncio.run(run(args, fixture, smart_fixture, limits))
    except OSError as e:
        print("fleet-emulator: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
