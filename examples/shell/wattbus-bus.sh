# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh disable=SC2034
# Sourced by the shell examples (". ./wattbus-bus.sh"): picks the bus as wattbusctl does
# (the system bus unless --session comes first or WATTBUS_BUS=session) and turns a
# device id into its object path.
#
# Sets: BUSCTL ("busctl --system" or "busctl --user"), GDBUS_BUS (--system or --session),
# NAME, ROOT, IFACE. Shifts --session/--system off the script's arguments.

NAME=org.wattbus.Wattbus1
ROOT=/org/wattbus/Wattbus1
IFACE=org.wattbus.Wattbus1

bus=${WATTBUS_BUS:-system}
case "${1:-}" in
--session) bus=session; shift ;;
--system) bus=system; shift ;;
esac
case "$bus" in
session) BUSCTL="busctl --user"; GDBUS_BUS=--session ;;
system) BUSCTL="busctl --system"; GDBUS_BUS=--system ;;
*) echo "WATTBUS_BUS must be 'session' or 'system', not '$bus'" >&2; exit 2 ;;
esac

# device_path ID: the object path of a device. Ids have only letters, digits, '-' and
# '_', which g_dbus_escape_object_path() turns into _2d and _5f; a path stays as it is.
device_path() {
	case "$1" in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/Devices/%s\n' "$ROOT" "$(printf '%s' "$1" | sed 's/_/_5f/g; s/-/_2d/g')" ;;
	esac
}

# outlet_method on|off|toggle: the Outlet method that does it
outlet_method() {
	case "$1" in
	on) echo TurnOn ;;
	off) echo TurnOff ;;
	toggle) echo Toggle ;;
	*) echo "$0: '$1' is not on, off or toggle" >&2; return 2 ;;
	esac
}
