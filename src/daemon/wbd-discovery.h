/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Discover() runs at most this many at once, one per caller (D-Bus sender) */
#define WBD_DISCOVERY_MAX_RUNNING 4

#define WBD_TYPE_DISCOVERY (wbd_discovery_get_type())
G_DECLARE_FINAL_TYPE(WbdDiscovery, wbd_discovery, WBD, DISCOVERY, GObject)

WbdDiscovery *
wbd_discovery_new(void);
void
wbd_discovery_run_async(WbdDiscovery *self,
			GDBusMethodInvocation *invocation,
			GVariant *options,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data);
GPtrArray *
wbd_discovery_run_finish(WbdDiscovery *self, GAsyncResult *res, GError **error);

G_END_DECLS
