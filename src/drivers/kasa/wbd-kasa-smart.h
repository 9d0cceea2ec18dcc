/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-kasa-device.h"
#include "wbd-kasa-http.h"

G_BEGIN_DECLS

/*
 * A TP-Link device over KLAP or AES: the SMART JSON protocol (Tapo, newer Kasa), or
 * the XOR-era IOT JSON for IOT devices whose firmware moved to KLAP. Which one is
 * found out by the first request. Works on the WbdKasaDevice that owns it.
 */
typedef struct _WbdKasaSmart WbdKasaSmart;

WbdKasaSmart *
wbd_kasa_smart_new(WbdKasaDevice *device, WbdKasaHttp *http);
void
wbd_kasa_smart_free(WbdKasaSmart *self);
void
wbd_kasa_smart_refresh_async(WbdKasaSmart *self,
			     gint io_priority,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data);
void
wbd_kasa_smart_switch_async(WbdKasaSmart *self,
			    WbdDevice *target,
			    const gchar *child_id,
			    gboolean on,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data);
gboolean
wbd_kasa_smart_finish(WbdKasaDevice *device, GAsyncResult *res, GError **error);

G_END_DECLS
