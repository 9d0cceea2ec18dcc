# SPDX-License-Identifier: GPL-2.0-or-later
#
# Wattbus Tuya profile: a hub (gateway) for Zigbee, BLE or RF sub-devices. It has no
# DPs of its own: it is not polled for them, only kept alive; its sub-devices are
# configured with gateway=<its id> (shared/specs/tuya-gateway-and-meters.md).
# See src/drivers/tuya/README.md for the format.

[profile]
description=Tuya hub: carries its sub-devices, no DPs of its own
kind=gateway
