#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Reads the meter of one device with busctl: every quantity it measures, in SI units.
# Usage: busctl-read.sh [--session|--system] DEVICE   (an id from busctl-list.sh)
set -eu
. "$(dirname "$0")/wattbus-bus.sh"
[ $# -eq 1 ] || { echo "usage: $0 [--session|--system] DEVICE" >&2; exit 2; }
path=$(device_path "$1")

# "Measured" names the properties with real readings (as 4 "Power" "Voltage" ...);
# the others are NaN
measured=$($BUSCTL get-property "$NAME" "$path" "$IFACE.ElectricityMeter" Measured)
measured=$(echo "$measured" | cut -d' ' -f3- | tr -d '"')
for prop in $measured; do
	case "$prop" in
	Power | PhasePower) unit=W ;;
	Voltage | PhaseVoltage) unit=V ;;
	Current | PhaseCurrent) unit=A ;;
	Energy | EnergyToday | EnergyThisMonth | EnergyExported) unit=Wh ;;
	Frequency) unit=Hz ;;
	ReactivePower | PhaseReactivePower) unit=var ;;
	ApparentPower | PhaseApparentPower) unit=VA ;;
	*) unit= ;;
	esac
	# "d 61.753" for a number, "ad 3 1 2 3" for a per-phase array
	value=$($BUSCTL get-property "$NAME" "$path" "$IFACE.ElectricityMeter" "$prop" |
		sed 's/^d //; s/^ad [0-9]* //')
	echo "$prop: $value${unit:+ $unit}"
done
