/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-device.h"
#include "wbd-kasa-sysinfo.h"

G_BEGIN_DECLS

#define WBD_TYPE_KASA_DEVICE (wbd_kasa_device_get_type())
G_DECLARE_FINAL_TYPE(WbdKasaDevice, wbd_kasa_device, WBD, KASA_DEVICE, WbdDevice)

void
wbd_kasa_device_switch_async(WbdKasaDevice *self,
			     WbdDevice *target,
			     const gchar *child_id,
			     gboolean on,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data);
gboolean
wbd_kasa_device_switch_finish(WbdKasaDevice *self, GAsyncResult *res, GError **error);

void
wbd_kasa_device_apply_sysinfo(WbdKasaDevice *self, WbdKasaSysinfo *info);

G_END_DECLS
