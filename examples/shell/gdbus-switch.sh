#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Switches an outlet with gdbus and prints its new state. On the system bus polkit
# asks for the right to (org.wattbus.Wattbus1.switch-outlet) unless the rules allow it.
# Usage: gdbus-switch.sh [--session|--system] DEVICE on|off|toggle
set -eu
. "$(dirname "$0")/wattbus-bus.sh"
[ $# -eq 2 ] || { echo "usage: $0 [--session|--system] DEVICE on|off|toggle" >&2; exit 2; }
path=$(device_path "$1")
method=$(outlet_method "$2") || exit 2

# answers "()" once the device confirmed the new state
gdbus call "$GDBUS_BUS" --dest "$NAME" --object-path "$path" --method "$IFACE.Outlet.$method" \
	>/dev/null
state=$(gdbus call "$GDBUS_BUS" --dest "$NAME" --object-path "$path" \
	--method org.freedesktop.DBus.Properties.Get "$IFACE.Outlet" On)
echo "$1: $(echo "$state" | sed 's/^(<true>,)$/on/; s/^(<false>,)$/off/')"
