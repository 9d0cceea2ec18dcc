#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""MQTT exporter throughput (kind=mqtt): a spool prefilled with a backlog (as
bench-emoncms.py makes it), the real wattbusd, a real Mosquitto on 127.0.0.1; how long
until every reading is acknowledged by the broker (QoS 1 PUBACK) and left the spool.
Not a test: it prints a table (tests/bench/RESULTS.md keeps the numbers).

Then the latency of one reading, live: an emulated Kasa plug's power is changed, the
daemon is asked to read it (Device.Refresh, not waited for), and the clock runs until a
subscriber of the broker has the new state: device change → daemon → spool → broker
(which forwards a QoS 1 message once it has taken it, i.e. as it sends the PUBACK) →
subscriber. p50/p99/max over CHANGES changes, one at a time.

  bench-mqtt.py [READINGS] [CHANGES]"""

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import wbtest  # noqa: E402
from emoncmsemu import EXPORTER, PLUG, exporter_path  # noqa: E402
from gi.repository import Gio, GLib  # noqa: E402
from mqttbroker import Broker  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_emoncms", os.path.join(HERE, "bench-emoncms.py"))
bench_emoncms = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_emoncms)


def dirs(tmp):
    """The config and state directories of a benchmark's daemon."""
    config_dir = os.path.join(tmp, "etc")
    state_dir = os.path.join(tmp, "state")
    os.makedirs(config_dir)
    os.makedirs(state_dir)
    return config_dir, state_dir


def start_daemon(tmp, config_dir, state_dir, config):
    """wattbusd on a private bus with @config: (bus, daemon, connection)."""
    with open(os.path.join(config_dir, "wattbus.conf"), "w") as f:
        f.write(config)
    bus = wbtest.Bus(tmp)
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=bus.address)
    env.pop("G_MESSAGES_DEBUG", None)
    daemon = subprocess.Popen([os.environ["WATTBUSD"], "--session", "--config", config_dir,
                               "--state-dir", state_dir],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conn = Gio.DBusConnection.new_for_address_sync(
        bus.address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
        Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
    return bus, daemon, conn


def run(n, batch, homeassistant):
    tmp = tempfile.mkdtemp(prefix="wattbus-bench-")
    broker = None
    try:
        config_dir, state_dir = dirs(tmp)
        broker = Broker(tmp)
        bench_emoncms.prefill(os.path.join(state_dir, "spool.db"), "bench", n)
        start = time.monotonic()
        bus, daemon, conn = start_daemon(
            tmp, config_dir, state_dir,
            "[exporter bench]\nkind=mqtt\nurl=%s\nbatch-size=%d\nhomeassistant=%s\n"
            % (broker.url, batch, "true" if homeassistant else "false"))

        def prop(name):
            try:
                reply = conn.call_sync(wbtest.BUS_NAME, exporter_path("bench"), "org.freedesktop.DBus.Properties",
                                       "Get", GLib.Variant("(ss)", (EXPORTER, name)), None,
                                       Gio.DBusCallFlags.NONE, 5000, None)
                return reply.unpack()[0]
            except GLib.Error:
                return None

        worst = 0.0
        while True:
            t = time.monotonic()
            queued = prop("Queued")
            worst = max(worst, time.monotonic() - t) if queued is not None else worst
            if queued == 0:
                break
            if time.monotonic() - start > 600:
                raise RuntimeError("not drained")
            time.sleep(0.02)
        seconds = time.monotonic() - start
        sent = prop("Sent")
        daemon.terminate()
        daemon.wait(10)
        bus.stop()
        assert sent == n, (sent, n)
        return seconds, worst
    finally:
        if broker is not None:
            broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def latency(changes):
    tmp = tempfile.mkdtemp(prefix="wattbus-bench-")
    broker = emu = daemon = bus = rec = None
    try:
        config_dir, state_dir = dirs(tmp)
        broker = Broker(tmp)
        rec = broker.client(subscribe=("wattbus/plug",))
        emu = wbtest.Emulator(PLUG)
        bus, daemon, conn = start_daemon(
            tmp, config_dir, state_dir,
            "[device plug]\ndriver=kasa\naddress=%s\npoll-interval=3600\n\n"
            "[exporter bench]\nkind=mqtt\nurl=%s\n" % (emu.address, broker.url))
        deadline = time.monotonic() + 20
        while not rec.json_on("wattbus/plug"):
            if time.monotonic() > deadline:
                raise RuntimeError("no first state")
            time.sleep(0.01)
        samples = []
        for i in range(changes):
            power_mw = 10000 + (i % 2) * 50000 + i  # a big change each time (deadband)
            emu.command("emeter power_mw=%d" % power_mw)
            want = power_mw / 1000
            start = time.monotonic()
            # it returns once the plug has answered: the reading is the daemon's from then on
            conn.call_sync(wbtest.BUS_NAME, wbtest.device_path("plug"), wbtest.DEVICE, "Refresh",
                           None, None, Gio.DBusCallFlags.NONE, 5000, None)
            while True:
                states = rec.json_on("wattbus/plug")
                if states and abs(states[-1].get("power", 0) - want) < 1e-6:
                    break
                if time.monotonic() - start > 5:
                    raise RuntimeError("reading %d did not arrive" % i)
                time.sleep(0.0002)
            samples.append(time.monotonic() - start)
        samples.sort()
        return (samples[len(samples) // 2], samples[int(len(samples) * 0.99)], samples[-1])
    finally:
        for thing in (rec, emu):
            if thing is not None:
                thing.stop()
        if daemon is not None:
            daemon.terminate()
            daemon.wait(10)
        if bus is not None:
            bus.stop()
        if broker is not None:
            broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    changes = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    print("MQTT exporter: a backlog of readings of 6 values from 10 devices, each published "
          "retained at QoS 1 to Mosquitto, removed from the spool on PUBACK\n")
    print("| batch | HA discovery | readings | seconds | readings/s | slowest D-Bus Get meanwhile |")
    print("|---:|---|---:|---:|---:|---:|")
    for batch, count, ha in ((1, min(n, 2000), False), (100, n, False), (500, n, False),
                             (500, n, True)):
        seconds, worst = run(count, batch, ha)
        print("| %d | %s | %d | %.2f | %.0f | %.0f ms |" % (batch, "yes" if ha else "no", count, seconds,
                                                           count / seconds, worst * 1000))
        sys.stdout.flush()
    p50, p99, worst = latency(changes)
    print("\nLive: %d changes of an emulated Kasa plug, one at a time, to a subscriber of the broker:"
          " p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (changes, p50 * 1000, p99 * 1000, worst * 1000))


if __name__ == "__main__":
    main()
