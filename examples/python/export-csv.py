#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the readings of every meter (or of the devices named) as CSV for N seconds:
one row per meter at the start, then one row each time a meter reports new values
(from the D-Bus signals, no polling). Columns: time (UTC, ISO 8601), id, power (W),
voltage (V), current (A), energy (Wh); a field is empty when the device does not
measure it.

Usage: export-csv.py [--session|--system] [--seconds N] [--output FILE] [DEVICE...]
"""

import csv
import datetime
import sys

import wbexample
from gi.repository import GLib

COLUMNS = ["Power", "Voltage", "Current", "Energy"]


def main():
    p = wbexample.parser(__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60, help="how long to record (default 60)")
    p.add_argument("--output", default="-", help="the CSV file (default: standard output)")
    p.add_argument("devices", nargs="*", metavar="DEVICE", help="device ids (default: all)")
    args = p.parse_args()
    client = wbexample.connect(args)
    out = sys.stdout if args.output == "-" else open(args.output, "w", newline="")
    writer = csv.writer(out)
    writer.writerow(["time", "id"] + [c.lower() for c in COLUMNS])
    pending = set()  # meters with changes not written yet

    def write_row(obj):
        pending.discard(obj)
        meter = obj.get_electricity_meter()
        values = [wbexample.reading(meter, c) for c in COLUMNS]
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
        writer.writerow([now, obj.get_device().props.id] + ["" if v is None else v for v in values])
        out.flush()
        return GLib.SOURCE_REMOVE

    def changed(obj):
        # one update of a device notifies each property that changed: one row for them all
        if obj not in pending:
            pending.add(obj)
            GLib.idle_add(write_row, obj)

    def watch(obj, meter):
        if args.devices and obj.get_device().props.id not in args.devices:
            return
        write_row(obj)
        for c in COLUMNS:
            meter.connect("notify::" + c.lower(), lambda _m, _pspec: changed(obj))

    for device in args.devices:
        wbexample.lookup(client, device)
    wbexample.watch_meters(client, watch)

    loop = GLib.MainLoop()
    GLib.timeout_add(int(args.seconds * 1000), loop.quit)
    loop.run()
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
