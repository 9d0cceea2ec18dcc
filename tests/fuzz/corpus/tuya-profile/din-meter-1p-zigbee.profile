# SPDX-License-Identifier: GPL-2.0-or-later
#
# Wattbus Tuya profile: single-phase DIN-rail meter with a relay, Zigbee, behind a
# Tuya hub (Zemismart SPM01, product qhlxve78, model Metering_1PN_Zigbee):
# shared/specs/tuya-gateway-and-meters.md §4.8 and shared/fixtures/tuya/meters.json.
#
# {"1": 30, "2": 0, "16": true, "101": 5000, "102": 2398, "103": 63, "104": 4} is
# switched on, 0.3 kWh used, nothing exported, 50 Hz, 239.8 V, 0.063 A, 4 W. DP 2's
# Tuya code reads cur_neutral, but it holds the reverse (exported) energy; DP 104 is
# in W.
# See src/drivers/tuya/README.md for the format.

[profile]
description=Single-phase DIN-rail meter (Zigbee): switch on DP 16, energy on DPs 1 and 2, readings on DPs 101 to 104
kind=meter

[dp 1]
name=total_forward_energy
type=value
# 0.01 kWh = 10 Wh
scale=-1
unit=Wh
property=ElectricityMeter.Energy

[dp 2]
name=reverse_energy
type=value
scale=-1
unit=Wh
property=ElectricityMeter.EnergyExported

[dp 9]
name=fault
type=value

[dp 15]
name=leakage_current
type=value
# 0.01 mA
scale=2
unit=mA

[dp 16]
name=switch
type=bool
access=read-write
property=Outlet.On

[dp 101]
name=frequency
type=value
scale=2
unit=Hz
property=ElectricityMeter.Frequency

[dp 102]
name=voltage
type=value
scale=1
unit=V
property=ElectricityMeter.Voltage

[dp 103]
name=current
type=value
scale=3
unit=A
property=ElectricityMeter.Current

[dp 104]
name=power
type=value
unit=W
property=ElectricityMeter.Power
