# SPDX-License-Identifier: GPL-2.0-or-later
#
# Wattbus Tuya profile: two-channel bidirectional clamp meter (KKMoon / MatSee
# PJ-1203A, Wi-Fi z95s7p3z54xbsjnl and Zigbee 81yrt3lo):
# shared/specs/tuya-gateway-and-meters.md §4.8 and shared/fixtures/tuya/meters.json.
#
# The two clamps (A and B) are the ElectricityMeter's two "phases": PhasePower,
# PhaseCurrent and PhasePowerFactor hold channel A then B. A channel's power is
# negative when its direction DP (102 for A, 104 for B) says REVERSE. Power is the
# meter's total (DP 115), Voltage and Frequency are shared by both channels.
# DPs 106 to 109 (energy per channel) are shown raw; 116 to 128 are calibration.
# See src/drivers/tuya/README.md for the format.

[profile]
description=Two-channel clamp meter: channels A and B as phases 1 and 2, total power on DP 115
kind=meter

[dp 1]
name=energy_forward
type=value
# 0.01 kWh = 10 Wh
scale=-1
unit=Wh
property=ElectricityMeter.Energy

[dp 2]
name=energy_reverse
type=value
scale=-1
unit=Wh
property=ElectricityMeter.EnergyExported

[dp 101]
name=power_a
type=value
scale=1
unit=W
property=ElectricityMeter.Power
phase=1
negative-when=102:REVERSE

[dp 102]
name=direction_a
type=enum
range=FORWARD;REVERSE

[dp 104]
name=direction_b
type=enum
range=FORWARD;REVERSE

[dp 105]
name=power_b
type=value
scale=1
unit=W
property=ElectricityMeter.Power
phase=2
negative-when=104:REVERSE

[dp 110]
name=power_factor
type=value
scale=2
property=ElectricityMeter.PowerFactor
phase=1

[dp 111]
name=freq
type=value
scale=2
unit=Hz
property=ElectricityMeter.Frequency

[dp 112]
name=voltage
type=value
scale=1
unit=V
property=ElectricityMeter.Voltage

[dp 113]
name=current_a
type=value
scale=3
unit=A
property=ElectricityMeter.Current
phase=1

[dp 114]
name=current_b
type=value
scale=3
unit=A
property=ElectricityMeter.Current
phase=2

[dp 115]
name=total_power
type=value
scale=1
unit=W
property=ElectricityMeter.Power

[dp 121]
name=power_factor_b
type=value
scale=2
property=ElectricityMeter.PowerFactor
phase=2
