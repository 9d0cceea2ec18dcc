#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Lists the Wattbus devices with busctl: id, kind, online, outlet state, power, role, name.
# The power is the ElectricityMeter's, or Inverter.Power for an inverter (role production).
# Usage: busctl-list.sh [--session|--system]   (or WATTBUS_BUS=session)
set -eu
. "$(dirname "$0")/wattbus-bus.sh"

# the value of a property, without busctl's type prefix and quotes ("s \"x\"" → x)
prop() {
	$BUSCTL get-property "$NAME" "$1" "$IFACE.$2" "$3" | sed 's/^[a-z]* //; s/^"\(.*\)"$/\1/'
}

# every object of the daemon; fails when it does not run
objects=$($BUSCTL tree --list "$NAME")
printf '%-16s %-8s %-6s %-4s %10s %-15s  %s\n' ID KIND ONLINE ON POWER ROLE NAME
for path in $(printf '%s\n' "$objects" | grep "^$ROOT/Devices/"); do
	on=-
	power=-
	role=-
	# an outlet has the Outlet interface, a meter ElectricityMeter; Power is only a
	# reading when "Measured" names it (else it is NaN)
	interfaces=$($BUSCTL introspect "$NAME" "$path" | grep ' interface ')
	if printf '%s\n' "$interfaces" | grep -q "^$IFACE.Outlet "; then
		on=$(prop "$path" Outlet On | sed 's/true/on/; s/false/off/')
	fi
	if printf '%s\n' "$interfaces" | grep -q "^$IFACE.ElectricityMeter "; then
		if prop "$path" ElectricityMeter Measured | grep -q '"Power"'; then
			power="$(prop "$path" ElectricityMeter Power) W"
		fi
		role=$(prop "$path" ElectricityMeter Measurement)
		[ -n "$role" ] || role=-
	elif printf '%s\n' "$interfaces" | grep -q "^$IFACE.Inverter "; then
		# an inverter has no ElectricityMeter; its Power is always a reading
		power="$(prop "$path" Inverter Power) W"
		role=production
	fi
	printf '%-16s %-8s %-6s %-4s %10s %-15s  %s\n' "$(prop "$path" Device Id)" \
		"$(prop "$path" Device Kind)" "$(prop "$path" Device Online | sed 's/true/yes/; s/false/no/')" \
		"$on" "$power" "$role" "$(prop "$path" Device Name)"
done
