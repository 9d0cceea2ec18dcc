[profile]
[dp 1]
type=float
