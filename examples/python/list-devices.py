#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Lists the Wattbus devices through gi.repository.Wattbus: id, kind, online, outlet
state, power, its role and name, strip outlets after their strip. The power is the
ElectricityMeter's, or Inverter.Power for an inverter (role production).

Usage: list-devices.py [--session|--system]   (or WATTBUS_BUS=session)
"""

import wbexample


def main():
    args = wbexample.parser(__doc__.splitlines()[0]).parse_args()
    client = wbexample.connect(args)
    print("%-16s %-8s %-6s %-4s %10s %-15s  %s" % ("ID", "KIND", "ONLINE", "ON", "POWER", "ROLE", "NAME"))
    # list_devices() is sorted by object path, so a strip's outlets (strip_1, ...) follow it
    for obj in client.list_devices():
        dev = obj.get_device()
        outlet = obj.get_outlet()           # None when the device switches nothing
        # the meter's power, or an inverter's; None when the device measures nothing
        power, role = wbexample.device_power(obj)
        print("%-16s %-8s %-6s %-4s %10s %-15s  %s" % (
            dev.props.id, dev.props.kind, "yes" if dev.props.online else "no",
            "-" if outlet is None else ("on" if outlet.props.on else "off"),
            "-" if power is None else "%.1f W" % power, role or "-", dev.props.name))


if __name__ == "__main__":
    main()
