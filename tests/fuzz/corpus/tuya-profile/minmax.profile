[profile]
update-dps=1;2
[dp 2]
type=value
min=-5
max=5
scale=-3
access=rw
property=ElectricityMeter.Energy
[dp 3]
type=enum
range=opened;closed
writable-values=opened
access=rw
property=WaterMeter.Valve
