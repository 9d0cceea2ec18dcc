# SPDX-License-Identifier: GPL-2.0-or-later
"""What the exporter benchmarks share: a spool prefilled with a backlog, the real wattbusd
on a private bus, draining the backlog while timing D-Bus calls, and the live latency of
one reading (an emulated Kasa plug's change until the exporter's target has it)."""

import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import wbtest  # noqa: E402
from emoncmsemu import EXPORTER, exporter_path  # noqa: E402
from gi.repository import Gio, GLib  # noqa: E402

SCHEMA = """CREATE TABLE IF NOT EXISTS readings (seq INTEGER PRIMARY KEY AUTOINCREMENT,
  exporter TEXT NOT NULL, device TEXT NOT NULL, label TEXT NOT NULL, time INTEGER NOT NULL,
  data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS readings_by_exporter ON readings (exporter);"""


def prefill(path, exporter, n, devices=10, typed=False):
    """A backlog of @n readings of 6 values from @devices devices, one a second, in the
    schema and format of a daemon before typed values (format 1, numbers only): the
    daemon upgrades it at every peek. @typed: in today's format (2, booleans as
    booleans), as a backlog of this daemon."""
    db = sqlite3.connect(path)
    db.executescript(SCHEMA if not typed else SCHEMA.replace(
        "data TEXT NOT NULL)", "data TEXT NOT NULL, format INTEGER NOT NULL DEFAULT 1)"))
    start = int(time.time() * 1e6) - n * 1000000
    on = "true" if typed else "1"
    rows = [(exporter, "dev%d" % (i % devices), "Device %d" % (i % devices), start + i * 1000000,
             '{"Current":0.451,"Energy":%d,"On":%s,"Online":%s,"Power":%.3f,"Voltage":230.837}'
             % (16323 + i, on, on, 50 + (i % 100) / 10)) for i in range(n)]
    if typed:
        db.executemany("INSERT INTO readings (exporter, device, label, time, data, format) "
                       "VALUES (?,?,?,?,?,2)", rows)
    else:
        db.executemany("INSERT INTO readings (exporter, device, label, time, data) VALUES (?,?,?,?,?)",
                       rows)
    db.commit()
    db.close()


def spool_path(tmp):
    """The spool of the daemon Daemon(tmp, ...) will start: prefill it before."""
    os.makedirs(os.path.join(tmp, "state"), exist_ok=True)
    return os.path.join(tmp, "state", "spool.db")


class Daemon:
    """wattbusd on a private session bus, with @config in a fresh config dir under @tmp
    and the state dir tmp/state."""

    def __init__(self, tmp, config):
        self.config_dir = os.path.join(tmp, "etc")
        self.state_dir = os.path.join(tmp, "state")
        os.makedirs(self.config_dir, exist_ok=True)
        os.makedirs(self.state_dir, exist_ok=True)
        with open(os.path.join(self.config_dir, "wattbus.conf"), "w") as f:
            f.write(config)
        self.bus = wbtest.Bus(tmp)
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=self.bus.address)
        env.pop("G_MESSAGES_DEBUG", None)
        self.proc = subprocess.Popen([os.environ["WATTBUSD"], "--session", "--config",
                                      self.config_dir, "--state-dir", self.state_dir],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.conn = Gio.DBusConnection.new_for_address_sync(
            self.bus.address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)

    def prop(self, name, exp_id="bench"):
        """An Exporter property, or None while the daemon is not there yet."""
        try:
            reply = self.conn.call_sync(wbtest.BUS_NAME, exporter_path(exp_id),
                                        "org.freedesktop.DBus.Properties", "Get",
                                        GLib.Variant("(ss)", (EXPORTER, name)), None,
                                        Gio.DBusCallFlags.NONE, 5000, None)
            return reply.unpack()[0]
        except GLib.Error:
            return None

    def drain(self, start, limit=600):
        """Waits until the exporter's Queued is 0; returns (seconds since @start, the
        slowest Get of Queued meanwhile: the main loop's responsiveness while busy,
        readings a second from the first acknowledged batch on: the rate without the
        daemon's start and its connect)."""
        worst = 0.0
        first = None  # (time, Sent, CPU s) when a batch was first seen delivered
        self.cpu_per_reading = None
        while True:
            t = time.monotonic()
            queued = self.prop("Queued")
            worst = max(worst, time.monotonic() - t) if queued is not None else worst
            if first is None and queued is not None:
                sent = self.prop("Sent")
                if sent:
                    first = (time.monotonic(), sent, self.cpu())
            if queued == 0:
                end = time.monotonic()
                cpu = self.cpu()
                total = self.prop("Sent")
                rate = ((total - first[1]) / (end - first[0])
                        if first is not None and end > first[0] and total > first[1] else None)
                if rate is not None:
                    self.cpu_per_reading = (cpu - first[2]) / (total - first[1])
                return end - start, worst, rate
            if time.monotonic() - start > limit:
                raise RuntimeError("not drained")
            time.sleep(0.02)

    def cpu(self):
        """The daemon's CPU time so far (user + system, all its threads), seconds."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def latency(self, emu, changes, arrived):
        """@changes changes of the plug emulator @emu (device "plug"), one at a time: its
        power set, Outlet.TurnOn called (the plug is on already; its meter is read back
        right after the answer: a Refresh within a second of the last poll would be
        answered from that poll), the clock stopped when arrived(i, watts) says the
        target has it. Returns (p50, p99, max) s."""
        deadline = time.monotonic() + 20
        while self.prop("Sent") in (None, 0):
            if time.monotonic() > deadline:
                raise RuntimeError("no first reading delivered")
            time.sleep(0.01)
        samples = []
        for i in range(changes):
            power_mw = 10000 + (i % 2) * 50000 + i  # a big change each time
            emu.command("emeter power_mw=%d" % power_mw)
            start = time.monotonic()
            self.conn.call_sync(wbtest.BUS_NAME, wbtest.device_path("plug"), wbtest.OUTLET,
                                "TurnOn", None, None, Gio.DBusCallFlags.NONE, 5000, None)
            while not arrived(i, power_mw / 1000):
                if time.monotonic() - start > 5:
                    raise RuntimeError("reading %d did not arrive" % i)
                time.sleep(0.0002)
            samples.append(time.monotonic() - start)
        samples.sort()
        return samples[len(samples) // 2], samples[int(len(samples) * 0.99)], samples[-1]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.bus.stop()
