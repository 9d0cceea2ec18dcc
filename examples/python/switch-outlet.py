#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Switches an outlet through gi.repository.Wattbus, asynchronously, and prints its new
state. On the system bus polkit decides (org.wattbus.Wattbus1.switch-outlet). The client
asks the daemon for this one device, not for all of them.

Usage: switch-outlet.py [--session|--system] DEVICE on|off|toggle
"""

import sys

import wbexample
from gi.repository import GLib, Wattbus


def main():
    p = wbexample.parser(__doc__.splitlines()[0])
    p.add_argument("device", help="a device id (see list-devices.py) or object path")
    p.add_argument("action", choices=["on", "off", "toggle"])
    args = p.parse_args()
    client = wbexample.connect(args, load_devices=False)
    outlet = wbexample.get_device(client, args.device).get_outlet()
    if outlet is None:
        sys.exit("%s has no outlet" % args.device)

    loop = GLib.MainLoop()
    result = {}

    def done(proxy, res):
        try:
            getattr(proxy, "call_%s_finish" % method)(res)
            # the daemon sends the new state before its reply: the proxy has it already
            result["on"] = proxy.props.on
        except GLib.Error as e:
            # errors of the daemon arrive as Wattbus.Error, e.g. DEVICE_OFFLINE
            result["error"] = e
        loop.quit()

    method = {"on": "turn_on", "off": "turn_off", "toggle": "toggle"}[args.action]
    getattr(outlet, "call_" + method)(None, done)
    loop.run()
    if "error" in result:
        e = result["error"]
        offline = e.matches(Wattbus.error_quark(), Wattbus.Error.DEVICE_OFFLINE)
        print("%s: %s" % (args.device, e.message), file=sys.stderr)
        sys.exit(6 if offline else 1)
    print("%s: %s" % (args.device, "on" if result["on"] else "off"))


if __name__ == "__main__":
    main()
