#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""MQTT exporter throughput (kind=mqtt): a spool prefilled with a backlog, the real
wattbusd, a real Mosquitto on 127.0.0.1; how long until every reading is acknowledged by
the broker (QoS 1 PUBACK) and left the spool, and wattbusd's CPU time (all its threads,
utime + stime) a reading meanwhile. Not a test: it prints a table (tests/bench/RESULTS.md
keeps the numbers).

Then the latency of one reading, live: an emulated Kasa plug's power is changed, the
daemon is made to read it (Outlet.TurnOn, read back), and the clock runs until a subscriber of
the broker has the new state: device change → daemon → spool → broker (which forwards a
QoS 1 message once it has taken it, i.e. as it sends the PUBACK) → subscriber.
p50/p99/max over CHANGES changes, one at a time.

  bench-mqtt.py [READINGS] [CHANGES]"""

import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Daemon, prefill, spool_path  # noqa: E402
import wbtest  # noqa: E402
from emoncmsemu import PLUG  # noqa: E402
from mqttbroker import Broker  # noqa: E402


def run(n, batch, homeassistant):
    tmp = tempfile.mkdtemp(prefix="wattbus-bench-")
    broker = None
    try:
        broker = Broker(tmp)
        prefill(spool_path(tmp), "bench", n, typed=True)
        start = time.monotonic()
        daemon = Daemon(tmp, "[exporter bench]\nkind=mqtt\nurl=%s\nbatch-size=%d\nhomeassistant=%s\n"
                        % (broker.url, batch, "true" if homeassistant else "false"))
        seconds, worst, rate = daemon.drain(start)
        sent = daemon.prop("Sent")
        cpu = daemon.cpu_per_reading
        daemon.stop()
        assert sent == n, (sent, n)
        return seconds, worst, rate, cpu
    finally:
        if broker is not None:
            broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def latency(changes):
    tmp = tempfile.mkdtemp(prefix="wattbus-bench-")
    broker = plug = daemon = rec = None
    try:
        broker = Broker(tmp)
        rec = broker.client(subscribe=("wattbus/plug",))
        plug = wbtest.Emulator(PLUG)
        daemon = Daemon(tmp, "[device plug]\ndriver=kasa\naddress=%s\npoll-interval=3600\n\n"
                        "[exporter bench]\nkind=mqtt\nurl=%s\n" % (plug.address, broker.url))

        def arrived(i, watts):
            states = rec.json_on("wattbus/plug")
            return bool(states) and abs(states[-1].get("power", 0) - watts) < 1e-6
        return daemon.latency(plug, changes, arrived)
    finally:
        for thing in (daemon, rec, plug):
            if thing is not None:
                thing.stop()
        if broker is not None:
            broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    changes = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    print("MQTT exporter: a backlog of readings of 6 values from 10 devices (in today's spool format), "
          "each published "
          "retained at QoS 1 to Mosquitto, removed from the spool on PUBACK\n")
    print("| batch | HA discovery | readings | seconds | readings/s | readings/s after the first batch | "
          "wattbusd CPU a reading | slowest D-Bus Get meanwhile | load |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for batch, count, ha in ((1, min(n, 2000), False), (100, n, False), (500, n, False),
                             (500, n, True)):
        seconds, worst, rate, cpu = run(count, batch, ha)
        print("| %d | %s | %d | %.2f | %.0f | %s | %s | %.0f ms | %.1f |"
              % (batch, "yes" if ha else "no", count, seconds, count / seconds,
                 "%.0f" % rate if rate else "-", "%.0f µs" % (cpu * 1e6) if cpu else "-",
                 worst * 1000, os.getloadavg()[0]))
        sys.stdout.flush()
    p50, p99, worst = latency(changes)
    print("\nLive: %d changes of an emulated Kasa plug, one at a time, to a subscriber of the broker:"
          " p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (changes, p50 * 1000, p99 * 1000, worst * 1000))


if __name__ == "__main__":
    main()
