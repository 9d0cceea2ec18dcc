/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* what `transport=` says; AUTO resolves to one of the others at run time */
typedef enum {
	WBD_KASA_TRANSPORT_AUTO,
	WBD_KASA_TRANSPORT_XOR,
	WBD_KASA_TRANSPORT_KLAP,
	WBD_KASA_TRANSPORT_AES,
} WbdKasaTransport;

gboolean
wbd_kasa_transport_parse(const gchar *text, WbdKasaTransport *transport);
const gchar *
wbd_kasa_transport_to_string(WbdKasaTransport transport);

#define WBD_TYPE_KASA_HTTP (wbd_kasa_http_get_type())
G_DECLARE_FINAL_TYPE(WbdKasaHttp, wbd_kasa_http, WBD, KASA_HTTP, GObject)

/*
 * One device's session over TP-Link's HTTP transports (KLAP or AES securePassthrough,
 * or AUTO: KLAP's handshake first, then AES). Requests are JSON text, queued and sent
 * one at a time; the session is set up, renewed on expiry and re-made on a 403 or a
 * session time-out without the caller noticing. Credentials never leave this object.
 */
WbdKasaHttp *
wbd_kasa_http_new(const gchar *host,
		  guint16 port,
		  WbdKasaTransport transport,
		  const gchar *username,
		  const gchar *password,
		  const gchar *log_id);
void
wbd_kasa_http_request_async(WbdKasaHttp *self,
			    const gchar *json,
			    gint io_priority,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data);
gchar *
wbd_kasa_http_request_finish(WbdKasaHttp *self, GAsyncResult *res, GError **error);
WbdKasaTransport
wbd_kasa_http_get_transport(WbdKasaHttp *self);
const gchar *
wbd_kasa_http_describe(WbdKasaHttp *self);
void
wbd_kasa_http_close(WbdKasaHttp *self);

G_END_DECLS
