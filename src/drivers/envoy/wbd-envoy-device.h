/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-device.h"

G_BEGIN_DECLS

#define WBD_TYPE_ENVOY_DEVICE (wbd_envoy_device_get_type())
G_DECLARE_FINAL_TYPE(WbdEnvoyDevice, wbd_envoy_device, WBD, ENVOY_DEVICE, WbdDevice)

G_END_DECLS
