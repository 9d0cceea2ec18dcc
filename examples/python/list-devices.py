#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Lists the Wattbus devices through gi.repository.Wattbus: id, kind, online, outlet
state, power and name, strip outlets after their strip.

Usage: list-devices.py [--session|--system]   (or WATTBUS_BUS=session)
"""

import wbexample


def main():
    args = wbexample.parser(__doc__.splitlines()[0]).parse_args()
    client = wbexample.connect(args)
    print("%-16s %-8s %-6s %-4s %10s  %s" % ("ID", "KIND", "ONLINE", "ON", "POWER", "NAME"))
    # list_devices() is sorted by object path, so a strip's outlets (strip_1, ...) follow it
    for obj in client.list_devices():
        dev = obj.get_device()
        outlet = obj.get_outlet()           # None when the device switches nothing
        meter = obj.get_electricity_meter()  # None when it measures nothing
        power = wbexample.reading(meter, "Power")
        print("%-16s %-8s %-6s %-4s %10s  %s" % (
            dev.props.id, dev.props.kind, "yes" if dev.props.online else "no",
            "-" if outlet is None else ("on" if outlet.props.on else "off"),
            "-" if power is None else "%.1f W" % power, dev.props.name))


if __name__ == "__main__":
    main()
