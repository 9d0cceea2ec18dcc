#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Lists the Wattbus devices with gdbus: id, model, online and every measured reading.
# Usage: gdbus-list.sh [--session|--system]   (or WATTBUS_BUS=session)
set -eu
. "$(dirname "$0")/wattbus-bus.sh"

# the devices are the child nodes of /org/wattbus/Wattbus1/Devices
nodes=$(gdbus introspect "$GDBUS_BUS" --dest "$NAME" --object-path "$ROOT/Devices")
for node in $(printf '%s\n' "$nodes" | sed -n 's/^  node \([^ ]*\) {$/\1/p' | sort); do
	# one line per property: "      readonly s Id = 'kettle';"
	props=$(gdbus introspect "$GDBUS_BUS" --dest "$NAME" --object-path "$ROOT/Devices/$node" \
		--only-properties | sed -n "s/^ *readonly [^ ]* \([A-Za-z]*\) = \(.*\);$/\1 \2/p")
	get() { printf '%s\n' "$props" | sed -n "s/^$1 //p" | head -n1 | tr -d "'"; }
	line="$(get Id) model=$(get Model) online=$(get Online)"
	# the readings that "Measured" names (['Power', 'Voltage']); the others are NaN
	for prop in $(get Measured | tr -d '[],'); do
		line="$line $prop=$(get "$prop")"
	done
	echo "$line"
done
