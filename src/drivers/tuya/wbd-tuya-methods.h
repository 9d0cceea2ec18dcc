/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <wattbus-glib.h>

#include "wbd-tuya-device.h"

G_BEGIN_DECLS

void
wbd_tuya_methods_connect_water_meter(WbdTuyaDevice *device, WattbusWaterMeter *iface);
void
wbd_tuya_methods_connect_tuya(WbdTuyaDevice *device, WattbusTuya *iface);

G_END_DECLS
