/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <wattbus-glib.h>

#include "wbd-device.h"
#include "wbd-tuya-profile.h"

G_BEGIN_DECLS

/* the D-Bus methods of WaterMeter and Tuya, through wbd_device_command_async() */
void
wbd_tuya_methods_connect_water_meter(WbdDevice *device, WattbusWaterMeter *iface);
void
wbd_tuya_methods_connect_tuya(WbdDevice *device, WattbusTuya *iface);
GVariant *
wbd_tuya_methods_check_write(WbdTuyaProfile *profile,
			     const gchar *property,
			     const gchar *dp_id,
			     GVariant *value,
			     GError **error);

G_END_DECLS
