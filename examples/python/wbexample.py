# SPDX-License-Identifier: GPL-2.0-or-later
"""What the Python examples share: the choice of bus, as wattbusctl makes it (the system
bus unless --session is given or WATTBUS_BUS=session), and the connection to wattbusd
through libwattbus-glib (gi.repository.Wattbus)."""

import argparse
import math
import os
import re
import sys

import gi

try:
    gi.require_version("Wattbus", "1.0")
except ValueError:
    # not installed: run from a build tree, the library and typelib are not found
    BUILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "_build", "src", "libwattbus-glib")
    sys.exit("The Wattbus GObject introspection typelib (Wattbus-1.0.typelib) was not found.\n"
             "Install libwattbus-glib, or to run from a build tree:\n"
             "  export GI_TYPELIB_PATH=%s LD_LIBRARY_PATH=%s"
             % (os.path.normpath(BUILD), os.path.normpath(BUILD)))
from gi.repository import Gio, GLib, Wattbus  # noqa: E402


def parser(description):
    """An argument parser with --session and --system."""
    p = argparse.ArgumentParser(description=description)
    p.set_defaults(bus_name=None)
    bus = p.add_mutually_exclusive_group()
    bus.add_argument("--session", action="store_true", help="use the session bus")
    bus.add_argument("--system", action="store_true", help="use the system bus (the default)")
    return p


def connect(args, need_daemon=True, load_devices=True):
    """A Wattbus.Client on the chosen bus; exits with 3, as wattbusctl does, when the
    bus cannot be reached or (need_daemon) the daemon does not run. The client follows
    the daemon: it may start later, stop and come back. With load_devices=False it loads
    no device (Wattbus.ClientFlags.DO_NOT_LOAD_DEVICES): for a program that acts on one
    device among many, which it gets with get_device()."""
    env = os.environ.get("WATTBUS_BUS", "") or "system"
    if env not in ("session", "system"):
        sys.exit("WATTBUS_BUS must be 'session' or 'system', not '%s'" % env)
    session = args.session or (env == "session" and not args.system)
    args.bus_name = "session" if session else "system"
    try:
        flags = Wattbus.ClientFlags.NONE if load_devices else Wattbus.ClientFlags.DO_NOT_LOAD_DEVICES
        client = Wattbus.Client.new_with_flags_sync(Gio.BusType.SESSION if session else Gio.BusType.SYSTEM,
                                                    flags, None)
    except GLib.Error as e:
        print("cannot connect to the %s bus: %s" % ("session" if session else "system", e.message),
              file=sys.stderr)
        sys.exit(3)
    if need_daemon and not client.is_running():
        print("the wattbus daemon is not running", file=sys.stderr)
        sys.exit(3)
    return client


def lookup(client, device):
    """The Wattbus.Object of a device id or object path; exits with 4 when there is none."""
    obj = client.lookup_device(device)
    if obj is None:
        print("no device named '%s'" % device, file=sys.stderr)
        sys.exit(4)
    return obj


def get_device(client, device):
    """The Wattbus.Object of a device id or object path, asked from the daemon for this
    device alone when the client loads no device; exits with 4 when there is none."""
    try:
        return client.get_device_sync(device, None)
    except GLib.Error as e:
        if not e.matches(Wattbus.error_quark(), Wattbus.Error.NOT_FOUND):
            raise
    print("no device named '%s'" % device, file=sys.stderr)
    sys.exit(4)


def power_source(obj):
    """The proxy that has the power of a device: its ElectricityMeter, or the Inverter of
    an inverter (which has no ElectricityMeter: its power is Inverter.Power, always a real
    reading), or None when the device has neither."""
    return obj.get_electricity_meter() or obj.get_inverter()


def device_power(obj):
    """(power in W or None, role): role is what the power is of, the meter's Measurement
    ("load", "production", "net-consumption"...), "production" for an inverter, or ""."""
    meter = obj.get_electricity_meter()
    if meter is not None:
        return reading(meter, "Power"), meter.props.measurement or ""
    inverter = obj.get_inverter()
    if inverter is not None:
        return inverter.props.power, "production"
    return None, ""


def watch_meters(client, callback, inverters=False):
    """Calls callback(obj, meter) for every device with an ElectricityMeter (and with
    inverters=True, callback(obj, inverter) for every Inverter too: both have a power),
    now and whenever one appears: a new device gets these interfaces after its first
    poll."""
    seen = set()

    def check(obj):
        meter = power_source(obj) if inverters else obj.get_electricity_meter()
        if meter is not None and obj.get_object_path() not in seen:
            seen.add(obj.get_object_path())
            callback(obj, meter)

    for obj in client.list_devices():
        check(obj)
    client.connect("device-added", lambda _client, obj: check(obj))
    client.get_object_manager().connect("interface-added", lambda _m, obj, _iface: check(obj))
    client.connect("device-removed", lambda _client, obj: seen.discard(obj.get_object_path()))


def reading(meter, prop):
    """A reading of an ElectricityMeter proxy ("Power", "Energy", ...), or None when the
    device does not measure it (the property is NaN then). An Inverter proxy has no
    Measured: its values are always real readings."""
    if meter is None:
        return None
    if isinstance(meter, Wattbus.Inverter):
        if prop not in ("Power", "MaxPower"):
            return None
        value = meter.get_property(re.sub(r"(?<!^)([A-Z])", r"-\1", prop).lower())
        return None if math.isnan(value) else value
    if prop not in (meter.props.measured or []):
        return None
    # the GObject property of a D-Bus property: "PowerFactor" is "power-factor"
    value = meter.get_property(re.sub(r"(?<!^)([A-Z])", r"-\1", prop).lower())
    return None if math.isnan(value) else value
