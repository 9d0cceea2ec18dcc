/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "wbd-driver.h"

G_BEGIN_DECLS

#define WBD_TUYA_DISCOVERY_PORT_PLAIN 6666
#define WBD_TUYA_DISCOVERY_PORT_ENCRYPTED 6667
#define WBD_TUYA_DISCOVERY_PORT_APP 7000

GVariant *
wbd_tuya_discover_parse_datagram(const guint8 *data, gsize len, const gchar *from, GError **error);
gboolean
wbd_tuya_discover_get_ports(guint16 *ports, GError **error);
GVariant *
wbd_tuya_discover_lookup(const gchar *device_id);

void
wbd_tuya_discover_async(const WbdDiscoverOptions *options,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data);
GPtrArray *
wbd_tuya_discover_finish(GAsyncResult *res, GError **error);

void
wbd_tuya_discover_find_async(const gchar *device_id,
			     guint timeout_ms,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data);
GVariant *
wbd_tuya_discover_find_finish(GAsyncResult *res, GError **error);

G_END_DECLS
