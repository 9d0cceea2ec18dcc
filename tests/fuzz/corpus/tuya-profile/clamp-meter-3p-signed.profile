# SPDX-License-Identifier: GPL-2.0-or-later
#
# Wattbus Tuya profile: three-phase clamp meter with signed 18-byte phase records
# (Owon PC341, product t88mk4nfhu7ejp4k): shared/specs/tuya-gateway-and-meters.md
# §4.2 and §4.4.
#
# DPs 6, 7 and 8 are phases A, B and C: voltage 2:2 (0.1 V), current 4:3 (mA), power
# 7:3 (W), reactive power 10:3 (var), apparent power 13:3 (VA), power factor 16:1
# (0.01), and in byte 17 the signs: bit 0 negates the current, bit 1 the power, bit 2
# the reactive power, bit 3 the power factor. A negative power is export. Power is
# the sum of the phases (net), Voltage their mean.
# See src/drivers/tuya/README.md for the format.

[profile]
description=Three-phase clamp meter: energy on DPs 1 and 2, signed phase records on DPs 6 to 8
kind=meter
measurement=net-consumption

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

[dp 9]
# the total power in W; the sum of the phases is published instead
name=total_power
type=value
unit=W

[dp 6]
name=phase_a
type=raw
length=18

[field 6 voltage]
offset=2
length=2
scale=1
property=ElectricityMeter.Voltage
phase=1

[field 6 current]
offset=4
length=3
scale=3
property=ElectricityMeter.Current
phase=1
negative-if-bit=17:0

[field 6 power]
offset=7
length=3
property=ElectricityMeter.Power
phase=1
negative-if-bit=17:1

[field 6 reactive]
offset=10
length=3
property=ElectricityMeter.ReactivePower
phase=1
negative-if-bit=17:2

[field 6 apparent]
offset=13
length=3
property=ElectricityMeter.ApparentPower
phase=1

[field 6 power-factor]
offset=16
length=1
scale=2
property=ElectricityMeter.PowerFactor
phase=1
negative-if-bit=17:3

[dp 7]
name=phase_b
type=raw
length=18

[field 7 voltage]
offset=2
length=2
scale=1
property=ElectricityMeter.Voltage
phase=2

[field 7 current]
offset=4
length=3
scale=3
property=ElectricityMeter.Current
phase=2
negative-if-bit=17:0

[field 7 power]
offset=7
length=3
property=ElectricityMeter.Power
phase=2
negative-if-bit=17:1

[field 7 reactive]
offset=10
length=3
property=ElectricityMeter.ReactivePower
phase=2
negative-if-bit=17:2

[field 7 apparent]
offset=13
length=3
property=ElectricityMeter.ApparentPower
phase=2

[field 7 power-factor]
offset=16
length=1
scale=2
property=ElectricityMeter.PowerFactor
phase=2
negative-if-bit=17:3

[dp 8]
name=phase_c
type=raw
length=18

[field 8 voltage]
offset=2
length=2
scale=1
property=ElectricityMeter.Voltage
phase=3

[field 8 current]
offset=4
length=3
scale=3
property=ElectricityMeter.Current
phase=3
negative-if-bit=17:0

[field 8 power]
offset=7
length=3
property=ElectricityMeter.Power
phase=3
negative-if-bit=17:1

[field 8 reactive]
offset=10
length=3
property=ElectricityMeter.ReactivePower
phase=3
negative-if-bit=17:2

[field 8 apparent]
offset=13
length=3
property=ElectricityMeter.ApparentPower
phase=3

[field 8 power-factor]
offset=16
length=1
scale=2
property=ElectricityMeter.PowerFactor
phase=3
negative-if-bit=17:3
