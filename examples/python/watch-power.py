#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Prints the live power of every meter and inverter, or of the devices named, as it
changes: one line "TIME ID POWER W" per change (an inverter's Inverter.Power, which
changes at each of its reports, about every five minutes), from the D-Bus signals (GObject notify::power on the
proxies), without polling. Devices that appear later are watched too. Runs until
interrupted.

Usage: watch-power.py [--session|--system] [DEVICE...]
"""

import signal
import sys
import time

import wbexample
from gi.repository import GLib


def main():
    p = wbexample.parser(__doc__.splitlines()[0])
    p.add_argument("devices", nargs="*", metavar="DEVICE", help="device ids (default: all)")
    args = p.parse_args()
    client = wbexample.connect(args)

    def show(obj, meter):
        power = wbexample.reading(meter, "Power")
        if power is not None:
            print("%s %s %.1f W" % (time.strftime("%H:%M:%S"), obj.get_device().props.id, power),
                  flush=True)

    def watch(obj, meter):
        if args.devices and obj.get_device().props.id not in args.devices:
            return
        show(obj, meter)
        meter.connect("notify::power", lambda m, _pspec: show(obj, m))

    for device in args.devices:
        wbexample.lookup(client, device)
    wbexample.watch_meters(client, watch, inverters=True)

    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
