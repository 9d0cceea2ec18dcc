/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define WBD_TYPE_ENVOY_CLIENT (wbd_envoy_client_get_type())
G_DECLARE_FINAL_TYPE(WbdEnvoyClient, wbd_envoy_client, WBD, ENVOY_CLIENT, GObject)

/* the largest reply body read into memory */
#define WBD_ENVOY_MAX_BODY (2 * 1024 * 1024)

/**
 * WbdEnvoyAuth:
 * @WBD_ENVOY_AUTH_NONE: send no credentials (/info, and before /info was read)
 * @WBD_ENVOY_AUTH_DIGEST: HTTP digest, firmware before 7
 * @WBD_ENVOY_AUTH_TOKEN: a JWT as bearer header plus the session cookie, firmware 7+
 */
typedef enum {
	WBD_ENVOY_AUTH_NONE,
	WBD_ENVOY_AUTH_DIGEST,
	WBD_ENVOY_AUTH_TOKEN,
} WbdEnvoyAuth;

gboolean wbd_envoy_address_validate(const gchar *address, GError **error);
gboolean wbd_envoy_address_parse(const gchar *address,
				 gchar **scheme,
				 gchar **host,
				 guint16 *port,
				 GError **error);

WbdEnvoyClient *wbd_envoy_client_new(const gchar *device_id, const gchar *host, guint16 port);
void wbd_envoy_client_set_scheme(WbdEnvoyClient *self, const gchar *scheme);
const gchar *wbd_envoy_client_get_scheme(WbdEnvoyClient *self);
void wbd_envoy_client_set_ca_file(WbdEnvoyClient *self, const gchar *ca_file);
void wbd_envoy_client_set_pin_file(WbdEnvoyClient *self, const gchar *path);
const gchar *wbd_envoy_client_get_pin(WbdEnvoyClient *self);
gboolean wbd_envoy_client_knows_https(WbdEnvoyClient *self);
gboolean wbd_envoy_client_repin(WbdEnvoyClient *self, const gchar *fingerprint, GError **error);
gboolean wbd_envoy_client_forget_pin(WbdEnvoyClient *self, GError **error);
void wbd_envoy_client_set_digest(WbdEnvoyClient *self, const gchar *user, const gchar *password);
void wbd_envoy_client_set_token(WbdEnvoyClient *self, const gchar *token);
void wbd_envoy_client_set_auth(WbdEnvoyClient *self, WbdEnvoyAuth auth);
WbdEnvoyAuth wbd_envoy_client_get_auth(WbdEnvoyClient *self);
void wbd_envoy_client_get_async(WbdEnvoyClient *self,
				const gchar *path,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data);
GBytes *wbd_envoy_client_get_finish(WbdEnvoyClient *self, GAsyncResult *res, GError **error);
void wbd_envoy_client_open_stream_async(WbdEnvoyClient *self,
					const gchar *path,
					GCancellable *cancellable,
					GAsyncReadyCallback callback,
					gpointer user_data);
GInputStream *
wbd_envoy_client_open_stream_finish(WbdEnvoyClient *self, GAsyncResult *res, GError **error);
void wbd_envoy_client_abort(WbdEnvoyClient *self);

gchar *wbd_envoy_certificate_fingerprint(GTlsCertificate *certificate);
gchar *wbd_envoy_default_pin_file(const gchar *device_id);

G_END_DECLS
