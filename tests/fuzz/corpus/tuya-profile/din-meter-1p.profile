# SPDX-License-Identifier: GPL-2.0-or-later
#
# Wattbus Tuya profile: single-phase DIN-rail meter/breaker with its phase in one raw
# DP (SmartMCB SMT006-8, products 3xhdofmeo6lgpvd5 and i5mqmxkho1vahdt2; Tongou TOSA1
# is alike): shared/specs/tuya-gateway-and-meters.md §4.2 and §4.8.
#
# DP 6 is an 8-byte record: voltage (0.1 V), current (mA), power (W). A meter
# reporting {"1": 152347, "6": "COwABY8AARA=", "16": true} is switched on, has used
# 1523.47 kWh and draws 272 W, 1.423 A at 228.4 V (325 VA).
# DP 13 (prepayment balance) is not energy and is shown raw only.
# See src/drivers/tuya/README.md for the format.

[profile]
description=Single-phase DIN-rail meter: switch on DP 16, energy on DP 1, phase record on DP 6
kind=meter
# V x I of the record, as ApparentPower
derive-apparent-power=true

[dp 1]
name=total_forward_energy
type=value
# 0.01 kWh = 10 Wh
scale=-1
unit=Wh
property=ElectricityMeter.Energy

[dp 6]
name=phase_a
type=raw
length=8

[field 6 voltage]
offset=0
length=2
scale=1
property=ElectricityMeter.Voltage

[field 6 current]
offset=2
length=3
scale=3
property=ElectricityMeter.Current

[field 6 power]
offset=5
length=3
property=ElectricityMeter.Power

[dp 9]
name=fault
type=value

[dp 11]
name=switch_prepayment
type=bool
access=read-write

[dp 13]
name=balance_energy
type=value

[dp 15]
name=leakage_current
type=value
unit=mA

[dp 16]
name=switch
type=bool
access=read-write
property=Outlet.On

[dp 103]
name=temp_current
type=value
unit=°C
