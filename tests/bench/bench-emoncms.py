#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""EmonCMS exporter throughput: a spool prefilled with a backlog, the real wattbusd, and
the EmonCMS emulator; how long until everything is acknowledged. Then the live latency of
one reading: an emulated Kasa plug's power changed, Outlet.TurnOn (read back), and the clock runs
until the exporter's Sent counter says EmonCMS acknowledged it (device change → daemon →
spool on disk → EmonCMS's "ok"). Not a test: it prints tables (tests/bench/RESULTS.md
keeps the numbers).

  bench-emoncms.py [READINGS] [CHANGES]

The emulator is Python and checks every rule, so it is likely the slower side: the
numbers are a lower bound of what the exporter does against a real server."""

import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Daemon, prefill, spool_path  # noqa: E402
import wbtest  # noqa: E402
from emoncmsemu import PLUG, WRITE_KEY, EmoncmsEmulator  # noqa: E402


def run(n, batch):
    tmp = tempfile.mkdtemp(prefix="wattbus-bench-")
    try:
        emu = EmoncmsEmulator()
        prefill(spool_path(tmp), "bench", n)
        start = time.monotonic()
        daemon = Daemon(tmp, "[exporter bench]\nkind=emoncms\nurl=%s\napikey=%s\nbatch-size=%d\n"
                        % (emu.url, WRITE_KEY, batch))
        seconds, worst, rate = daemon.drain(start)
        stored = len(emu.stored())
        sent = daemon.prop("Sent")
        daemon.stop()
        emu.stop()
        assert sent == n, (sent, n)
        assert stored == 6 * n, (stored, n)
        return seconds, worst, rate
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def latency(changes):
    tmp = tempfile.mkdtemp(prefix="wattbus-bench-")
    emoncms = plug = daemon = None
    try:
        emoncms = EmoncmsEmulator()
        plug = wbtest.Emulator(PLUG)
        daemon = Daemon(tmp, "[device plug]\ndriver=kasa\naddress=%s\npoll-interval=3600\n\n"
                        "[exporter bench]\nkind=emoncms\nurl=%s\napikey=%s\nvalues=Power\n"
                        % (plug.address, emoncms.url, WRITE_KEY))
        sent = [None]

        def arrived(i, watts):
            # one reading a change (values=Power): acknowledged when Sent moves
            if sent[0] is None:
                sent[0] = daemon.prop("Sent")
            if daemon.prop("Sent") > sent[0]:
                sent[0] += 1
                return True
            return False
        return daemon.latency(plug, changes, arrived)
    finally:
        for thing in (daemon, plug, emoncms):
            if thing is not None:
                thing.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    changes = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    print("EmonCMS exporter: a backlog of readings of 6 values from 10 devices, delivered to the emulator\n")
    print("| request | batch | readings | seconds | readings/s | readings/s after the first batch | "
          "slowest D-Bus Get meanwhile |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for batch, count, api in ((1, min(n, 2000), "input/post"), (100, n, "input/bulk"),
                              (500, n, "input/bulk"), (1000, n, "input/bulk")):
        seconds, worst, rate = run(count, batch)
        print("| %s | %d | %d | %.2f | %.0f | %s | %.0f ms |"
              % (api, batch, count, seconds, count / seconds,
                 "%.0f" % rate if rate else "-", worst * 1000))
        sys.stdout.flush()
    p50, p99, worst = latency(changes)
    print("\nLive: %d changes of an emulated Kasa plug, one at a time, until EmonCMS acknowledged:"
          " p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (changes, p50 * 1000, p99 * 1000, worst * 1000))


if __name__ == "__main__":
    main()
