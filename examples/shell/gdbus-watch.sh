#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Watches the devices' signals with gdbus monitor and prints one line per change:
#   kettle ElectricityMeter Power=1200.5 Current=5.2
# A device sends one PropertiesChanged per interface and update, and only what changed;
# the LastSeen stamp of every poll is left out here. Runs until interrupted.
# Usage: gdbus-watch.sh [--session|--system] [DEVICE]
set -eu
. "$(dirname "$0")/wattbus-bus.sh"
# every object of the daemon, or one device's
if [ $# -ge 1 ]; then
	set -- --object-path "$(device_path "$1")"
fi

# gdbus prints "PATH: org.freedesktop.DBus.Properties.PropertiesChanged
# ('org.wattbus.Wattbus1.ElectricityMeter', {'Power': <1200.5>}, @as [])"
gdbus monitor "$GDBUS_BUS" --dest "$NAME" "$@" | while IFS= read -r line; do
	case "$line" in
	*"{'LastSeen': <uint64 "[0-9]*">}"*) continue ;;
	"$ROOT/Devices/"*": org.freedesktop.DBus.Properties.PropertiesChanged ('$IFACE."*) ;;
	*) continue ;;
	esac
	# the id, unescaped from the path (_5f is '_', _2d is '-')
	id=$(echo "${line%%:*}" | sed "s|^$ROOT/Devices/||; s/_2d/-/g; s/_5f/_/g")
	changes=$(echo "$line" | sed "s/^[^(]*('$IFACE\.\([A-Za-z]*\)', {\(.*\)}, [^)]*)$/\1 \2/;
		s/'\([A-Za-z]*\)': <\([^>]*\)>/\1=\2/g; s/, \([A-Za-z]*=\)/ \1/g")
	echo "$id $changes"
done
