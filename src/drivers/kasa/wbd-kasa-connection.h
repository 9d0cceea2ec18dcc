/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "wbd-kasa-scan.h"

G_BEGIN_DECLS

#define WBD_TYPE_KASA_CONNECTION (wbd_kasa_connection_get_type())
G_DECLARE_FINAL_TYPE(WbdKasaConnection, wbd_kasa_connection, WBD, KASA_CONNECTION, GObject)

WbdKasaConnection *
wbd_kasa_connection_new(const gchar *host, guint16 port, const gchar *log_id);
void
wbd_kasa_connection_request_async(WbdKasaConnection *self,
				  const gchar *request,
				  gint io_priority,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data);
JsonNode *
wbd_kasa_connection_request_finish(WbdKasaConnection *self, GAsyncResult *res, GError **error);
void
wbd_kasa_connection_poll_async(WbdKasaConnection *self,
			       const gchar *request,
			       GBytes *frame,
			       gint io_priority,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data);
WbdKasaReply *
wbd_kasa_connection_poll_finish(WbdKasaConnection *self, GAsyncResult *res, GError **error);
void
wbd_kasa_connection_close(WbdKasaConnection *self);
void
wbd_kasa_connection_set_timeout(WbdKasaConnection *self, guint timeout_ms);

G_END_DECLS
