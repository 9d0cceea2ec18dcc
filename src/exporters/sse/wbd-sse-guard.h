/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* what the dashboard's HTTP server lets in: connections, their time to send a request,
 * and the Host they name */

/* a connection has this long to send a whole request, from its start or from the end
 * of its previous response */
#define WBD_SSE_REQUEST_TIMEOUT_MS 5000
#define WBD_SSE_DEFAULT_MAX_CONNECTIONS 64

#define WBD_TYPE_SSE_GUARD (wbd_sse_guard_get_type())
G_DECLARE_FINAL_TYPE(WbdSseGuard, wbd_sse_guard, WBD, SSE_GUARD, GObject)

WbdSseGuard *
wbd_sse_guard_new(SoupServer *server,
		  const gchar *log_id,
		  guint max_connections,
		  GInetAddress *listen,
		  const gchar *const *allowed_hosts);
guint
wbd_sse_guard_get_connections(WbdSseGuard *self);
gboolean
wbd_sse_guard_host_allowed(WbdSseGuard *self, const gchar *host);

G_END_DECLS
