/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-driver.h"

G_BEGIN_DECLS

void
wbd_kasa_discover_async(const WbdDiscoverOptions *options,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data);
GPtrArray *
wbd_kasa_discover_finish(GAsyncResult *res, GError **error);
GVariant *
wbd_kasa_discover_parse_reply(const guint8 *data, gsize len, const gchar *address, GError **error);
GVariant *
wbd_kasa_discover_parse_tdp(const guint8 *data, gsize len, const gchar *address, GError **error);

G_END_DECLS
