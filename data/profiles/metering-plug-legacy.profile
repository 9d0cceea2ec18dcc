# SPDX-License-Identifier: GPL-2.0-or-later
#
# Wattbus Tuya profile: metering plug, legacy layout (3.1-era plugs such as the
# first SP111: shared/specs/tuya-local.md §11). These plugs ignore UPDATEDPS.
# See src/drivers/tuya/README.md for the format.

[profile]
description=Metering plug, legacy layout: switch on DP 1, current, power and voltage on DPs 4 to 6
kind=outlet

[dp 1]
name=switch_1
type=bool
access=read-write
property=Outlet.On

[dp 2]
name=countdown_1
type=value
unit=s
access=read-write
min=0
max=86400

[dp 4]
name=cur_current
type=value
scale=3
unit=A
access=read-only
property=ElectricityMeter.Current

[dp 5]
name=cur_power
type=value
scale=1
unit=W
access=read-only
property=ElectricityMeter.Power

[dp 6]
name=cur_voltage
type=value
scale=1
unit=V
access=read-only
property=ElectricityMeter.Voltage
