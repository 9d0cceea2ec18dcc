# SPDX-License-Identifier: GPL-2.0-or-later
#
# Wattbus Tuya profile: metering plug (the standard "cz" plug layout)
#
# A plug that reports {"1": true, "18": 75, "19": 86, "20": 2284} is on and
# draws 0.075 A and 8.6 W at 228.4 V (shared/specs/tuya-local.md §11).
# See src/drivers/tuya/README.md for the format.

[profile]
description=Metering plug: switch on DP 1, current, power and voltage on DPs 18 to 20
kind=outlet
# many plugs only re-measure these when asked (UPDATEDPS, sent on every poll)
update-dps=18;19;20

[dp 1]
name=switch_1
type=bool
access=read-write
property=Outlet.On

[dp 18]
name=cur_current
type=value
# mA
scale=3
unit=A
access=read-only
property=ElectricityMeter.Current

[dp 19]
name=cur_power
type=value
# 0.1 W
scale=1
unit=W
access=read-only
property=ElectricityMeter.Power

[dp 20]
name=cur_voltage
type=value
# 0.1 V
scale=1
unit=V
access=read-only
property=ElectricityMeter.Voltage
