/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* the credentials the clouds want, made from keys (shared/specs/mqtt-clouds.md §3.2,
 * §4, §5, vectors in §7): pure and thread-safe, so Paho's update-credentials callback
 * may call them too. The results are secrets: never log them. */

gchar *
wbd_mqtt_azure_sas_token(const gchar *hub_host,
			 const gchar *device_id,
			 const gchar *key_base64,
			 const gchar *policy,
			 gint64 expiry,
			 GError **error);
gchar *
wbd_mqtt_azure_username(const gchar *hub_host, const gchar *device_id);
gchar *
wbd_mqtt_jwt(const gchar *algorithm,
	     const gchar *key_pem,
	     gsize key_length,
	     const gchar *audience,
	     gint64 issued_at,
	     gint64 expiry,
	     GError **error);
gchar *
wbd_mqtt_tuya_edge_password(const gchar *client_id, const gchar *username);

G_END_DECLS
