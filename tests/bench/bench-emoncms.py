#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""EmonCMS exporter throughput: a spool prefilled with a backlog, the real wattbusd, and
the EmonCMS emulator; how long until everything is acknowledged. Not a test: it prints
a table (tests/bench/RESULTS.md keeps the numbers).

  bench-emoncms.py [READINGS]

The emulator is Python and checks every rule, so it is likely the slower side: the
numbers are a lower bound of what the exporter does against a real server."""

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import wbtest  # noqa: E402
from emoncmsemu import EXPORTER, WRITE_KEY, EmoncmsEmulator, exporter_path  # noqa: E402
from gi.repository import Gio, GLib  # noqa: E402

SCHEMA = """CREATE TABLE IF NOT EXISTS readings (seq INTEGER PRIMARY KEY AUTOINCREMENT,
  exporter TEXT NOT NULL, device TEXT NOT NULL, label TEXT NOT NULL, time INTEGER NOT NULL,
  data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS readings_by_exporter ON readings (exporter);"""


def prefill(path, exporter, n, devices=10):
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    start = int(time.time() * 1e6) - n * 1000000
    rows = [(exporter, "dev%d" % (i % devices), "Device %d" % (i % devices), start + i * 1000000,
             '{"Current":0.451,"Energy":%d,"On":1,"Online":1,"Power":%.3f,"Voltage":230.837}'
             % (16323 + i, 50 + (i % 100) / 10)) for i in range(n)]
    db.executemany("INSERT INTO readings (exporter, device, label, time, data) VALUES (?,?,?,?,?)", rows)
    db.commit()
    db.close()


def run(n, batch):
    tmp = tempfile.mkdtemp(prefix="wattbus-bench-")
    try:
        config_dir = os.path.join(tmp, "etc")
        state_dir = os.path.join(tmp, "state")
        os.makedirs(config_dir)
        os.makedirs(state_dir)
        emu = EmoncmsEmulator()
        with open(os.path.join(config_dir, "wattbus.conf"), "w") as f:
            f.write("[exporter bench]\nkind=emoncms\nurl=%s\napikey=%s\nbatch-size=%d\n"
                    % (emu.url, WRITE_KEY, batch))
        prefill(os.path.join(state_dir, "spool.db"), "bench", n)
        bus = wbtest.Bus(tmp)
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=bus.address)
        env.pop("G_MESSAGES_DEBUG", None)
        start = time.monotonic()
        daemon = subprocess.Popen([os.environ.get("WATTBUSD", os.path.join(wbtest._BUILD, "src", "wattbusd")),
                                   "--session", "--config", config_dir, "--state-dir", state_dir],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        conn = Gio.DBusConnection.new_for_address_sync(
            bus.address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)

        def prop(name):
            try:
                reply = conn.call_sync(wbtest.BUS_NAME, exporter_path("bench"), "org.freedesktop.DBus.Properties",
                                       "Get", GLib.Variant("(ss)", (EXPORTER, name)), None,
                                       Gio.DBusCallFlags.NONE, 5000, None)
                return reply.unpack()[0]
            except GLib.Error:
                return None

        # latency of a D-Bus call while the exporter is busy
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
        stored = len(emu.stored())
        sent = prop("Sent")
        daemon.terminate()
        daemon.wait(10)
        emu.stop()
        bus.stop()
        assert sent == n, (sent, n)
        assert stored == 6 * n, (stored, n)
        return seconds, worst
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    print("EmonCMS exporter: a backlog of readings of 6 values from 10 devices, delivered to the emulator\n")
    print("| request | batch | readings | seconds | readings/s | slowest D-Bus Get meanwhile |")
    print("|---|---:|---:|---:|---:|---:|")
    for batch, count, api in ((1, min(n, 2000), "input/post"), (100, n, "input/bulk"),
                              (500, n, "input/bulk"), (1000, n, "input/bulk")):
        seconds, worst = run(count, batch)
        print("| %s | %d | %d | %.2f | %.0f | %.0f ms |" % (api, batch, count, seconds, count / seconds,
                                                           worst * 1000))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
