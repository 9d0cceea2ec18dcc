#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Switches an outlet with busctl and prints its new state. On the system bus polkit
# asks for the right to (org.wattbus.Wattbus1.switch-outlet) unless the rules allow it.
# Usage: busctl-switch.sh [--session|--system] DEVICE on|off|toggle
set -eu
. "$(dirname "$0")/wattbus-bus.sh"
[ $# -eq 2 ] || { echo "usage: $0 [--session|--system] DEVICE on|off|toggle" >&2; exit 2; }
path=$(device_path "$1")
method=$(outlet_method "$2") || exit 2

# the method returns once the device confirmed the new state
$BUSCTL call "$NAME" "$path" "$IFACE.Outlet" "$method"
state=$($BUSCTL get-property "$NAME" "$path" "$IFACE.Outlet" On)
echo "$1: $(echo "$state" | sed 's/^b true$/on/; s/^b false$/off/')"
