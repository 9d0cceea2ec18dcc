/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-device.h"
#include "wbd-tuya-profile.h"

G_BEGIN_DECLS

#define WBD_TYPE_TUYA_DEVICE (wbd_tuya_device_get_type())
G_DECLARE_FINAL_TYPE(WbdTuyaDevice, wbd_tuya_device, WBD, TUYA_DEVICE, WbdDevice)

void
wbd_tuya_device_write_dps_async(WbdTuyaDevice *self,
				GVariant *dps,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data);
gboolean
wbd_tuya_device_write_dps_finish(WbdTuyaDevice *self, GAsyncResult *res, GError **error);
WbdTuyaProfile *
wbd_tuya_device_get_profile(WbdTuyaDevice *self);

G_END_DECLS
