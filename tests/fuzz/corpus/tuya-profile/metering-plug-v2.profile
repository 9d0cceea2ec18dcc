# SPDX-License-Identifier: GPL-2.0-or-later
#
# Wattbus Tuya profile: metering plug, newer layout (the full "cz" plug of most
# 3.3+ firmware: shared/specs/tuya-local.md §11, and make-all/tuya-local's
# "smartplugv2_energy" device, e.g. productKey keyjup78v54myhan)
#
# Besides switch, current, power and voltage it has a countdown, the energy
# added since the last report, a fault bit field and the state after a power
# cut. DP 17 is an increment, not a meter reading: the daemon adds the increments
# the plug pushes into ElectricityMeter.Energy, a counter kept in its state
# directory (shared/specs/tuya-gateway-and-meters.md §4.7).
# See src/drivers/tuya/README.md for the format.

[profile]
description=Metering plug, newer layout: DPs 1, 9, 17 to 20, 26 and 38
kind=outlet
update-dps=18;19;20

[dp 1]
name=switch_1
type=bool
access=read-write
property=Outlet.On

[dp 9]
name=countdown_1
type=value
unit=s
access=read-write
min=0
max=86400

[dp 17]
name=add_ele
type=value
# Wh added since the previous report
unit=Wh
access=read-only
property=ElectricityMeter.Energy
increment=true
# an increment above 3680 W over the time since the last one is refused
rated-power=3680

[dp 18]
name=cur_current
type=value
scale=3
unit=A
access=read-only
property=ElectricityMeter.Current

[dp 19]
name=cur_power
type=value
scale=1
unit=W
access=read-only
property=ElectricityMeter.Power

[dp 20]
name=cur_voltage
type=value
scale=1
unit=V
access=read-only
property=ElectricityMeter.Voltage

[dp 26]
name=fault
type=value
access=read-only

[dp 38]
name=relay_status
type=enum
range=off;on;memory
access=read-write
