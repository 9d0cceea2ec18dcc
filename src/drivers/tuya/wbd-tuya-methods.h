/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <wattbus-glib.h>

#include "wbd-tuya-device.h"

G_BEGIN_DECLS

void
wbd_tuya_methods_connect_water_meter(WbdTuyaDevice *device, WattbusWaterMeter *iface);
void
wbd_tuya_methods_connect_tuya(WbdTuyaDevice *device, WattbusTuya *iface);
void
wbd_tuya_methods_write_async(WbdTuyaDevice *device,
			     const gchar *property,
			     const gchar *dp_id,
			     GVariant *value,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data);
gboolean
wbd_tuya_methods_write_finish(WbdTuyaDevice *device, GAsyncResult *res, GError **error);

G_END_DECLS
