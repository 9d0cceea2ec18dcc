# SPDX-License-Identifier: GPL-2.0-or-later
#
# Wattbus Tuya profile: three-phase DIN-rail meter with each phase in a raw DP
# (Yagusmart/Zemismart 3PN 63A, product fygozcnralhwbauo, model Metering_3PN_WiFi):
# shared/specs/tuya-gateway-and-meters.md §4.2 and §4.8.
#
# DPs 6, 7 and 8 are 8-byte records of phases A, B and C: voltage (0.1 V), current
# (mA), power (W). "CWkAARgAACo=" is 240.9 V, 0.280 A, 42 W. Power is the sum of the
# phases, Voltage their mean, Current their sum. DP 2's Tuya code reads cur_neutral,
# but it holds the reverse (exported) energy.
# See src/drivers/tuya/README.md for the format.

[profile]
description=Three-phase DIN-rail meter: energy on DPs 1 and 2, phase records on DPs 6 to 8
kind=meter

[dp 1]
name=forward_energy_total
type=value
# 0.01 kWh = 10 Wh
scale=-1
unit=Wh
property=ElectricityMeter.Energy

[dp 2]
name=reverse_energy_total
type=value
scale=-1
unit=Wh
property=ElectricityMeter.EnergyExported

[dp 6]
name=phase_a
type=raw
length=8

[field 6 voltage]
offset=0
length=2
scale=1
property=ElectricityMeter.Voltage
phase=1

[field 6 current]
offset=2
length=3
scale=3
property=ElectricityMeter.Current
phase=1

[field 6 power]
offset=5
length=3
property=ElectricityMeter.Power
phase=1

[dp 7]
name=phase_b
type=raw
length=8

[field 7 voltage]
offset=0
length=2
scale=1
property=ElectricityMeter.Voltage
phase=2

[field 7 current]
offset=2
length=3
scale=3
property=ElectricityMeter.Current
phase=2

[field 7 power]
offset=5
length=3
property=ElectricityMeter.Power
phase=2

[dp 8]
name=phase_c
type=raw
length=8

[field 8 voltage]
offset=0
length=2
scale=1
property=ElectricityMeter.Voltage
phase=3

[field 8 current]
offset=2
length=3
scale=3
property=ElectricityMeter.Current
phase=3

[field 8 power]
offset=5
length=3
property=ElectricityMeter.Power
phase=3

[dp 9]
name=fault
type=value

[dp 11]
name=switch_prepayment
type=bool
access=read-write

[dp 12]
# a reset button, not a reading
name=clear_energy
type=bool
access=read-write
