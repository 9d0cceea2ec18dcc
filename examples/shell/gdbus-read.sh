#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Reads properties of one device's meter with gdbus (default: Power, in W).
# Usage: gdbus-read.sh [--session|--system] DEVICE [PROPERTY...]
#   e.g. gdbus-read.sh kettle Power Voltage Energy
set -eu
. "$(dirname "$0")/wattbus-bus.sh"
[ $# -ge 1 ] || { echo "usage: $0 [--session|--system] DEVICE [PROPERTY...]" >&2; exit 2; }
path=$(device_path "$1")
shift
[ $# -ge 1 ] || set -- Power

for prop in "$@"; do
	# Properties.Get answers "(<61.753>,)"
	value=$(gdbus call "$GDBUS_BUS" --dest "$NAME" --object-path "$path" \
		--method org.freedesktop.DBus.Properties.Get "$IFACE.ElectricityMeter" "$prop")
	echo "$prop = $(echo "$value" | sed 's/^(<\(.*\)>,)$/\1/')"
done
