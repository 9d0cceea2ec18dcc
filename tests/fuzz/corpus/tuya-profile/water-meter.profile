# SPDX-License-Identifier: GPL-2.0-or-later
#
# Wattbus Tuya profile: smart water meter with a valve
#
# The standard data points of Tuya's water-meter integration
# (shared/specs/mqtt-clouds.md §5). Tuya's table gives no scale for the volume
# DPs; this profile reads them as litres (scale=3: raw / 1000 = m³), the usual
# resolution of such meters. Copy this file to /etc/wattbus/profiles/ under
# another name and change "scale" if your meter counts differently.
# See src/drivers/tuya/README.md for the format.

[profile]
description=Smart water meter: volumes, day and month readings, valve, sharing
kind=water-meter

[dp 1]
name=water_flow
type=value
scale=3
unit=m³
access=read-only
min=0
max=999999999
property=WaterMeter.Flow

[dp 2]
name=monthly_water_total
type=value
scale=3
unit=m³
access=read-only
min=0
max=999999999
property=WaterMeter.MonthlyTotal

[dp 3]
name=daily_water_total
type=value
scale=3
unit=m³
access=read-only
min=0
max=999999999
property=WaterMeter.DailyTotal

[dp 4]
name=switch_state
type=bool
access=read-write
property=WaterMeter.Switch

[dp 5]
name=d_begin_water_total
type=value
scale=3
unit=m³
access=read-only
property=WaterMeter.DayFirstReading

[dp 6]
name=d_end_water_total
type=value
scale=3
unit=m³
access=read-only
property=WaterMeter.DayLastReading

# Unix time in seconds, as a string
[dp 7]
name=d_begin_time
type=string
unit=s
access=read-only
property=WaterMeter.DayFirstTime

[dp 8]
name=d_end_time
type=string
unit=s
access=read-only
property=WaterMeter.DayLastTime

[dp 9]
name=valve_state
type=enum
range=opened;closed;opening;closing
# "opening" and "closing" are states the meter reports, not commands
writable-values=opened;closed
access=read-write
property=WaterMeter.Valve

[dp 10]
name=m_begin_water_total
type=value
scale=3
unit=m³
access=read-only
property=WaterMeter.MonthFirstReading

[dp 11]
name=m_end_water_total
type=value
scale=3
unit=m³
access=read-only
property=WaterMeter.MonthLastReading

[dp 12]
name=m_begin_time
type=string
unit=s
access=read-only
property=WaterMeter.MonthFirstTime

[dp 13]
name=m_end_time
type=string
unit=s
access=read-only
property=WaterMeter.MonthLastTime

[dp 14]
name=cold_stall_userdata
type=value
scale=3
unit=m³
access=read-only
property=WaterMeter.ColdSharedUsage

[dp 15]
name=cold_stall_type
type=enum
range=square_area;ignore;consumption;proportion;lease;power
access=read-write
property=WaterMeter.ColdSharingType

[dp 16]
name=hot_stall_userdata
type=value
scale=3
unit=m³
access=read-only
property=WaterMeter.HotSharedUsage

[dp 17]
name=hot_stall_type
type=enum
range=square_area;ignore;consumption;proportion;lease;power
access=read-write
property=WaterMeter.HotSharingType

[dp 18]
name=valve_open_degree
type=value
unit=%
access=read-write
min=0
max=100
property=WaterMeter.ValveOpenness
