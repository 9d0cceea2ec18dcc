/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * WbdMqttClientOptions:
 * @uri: `mqtt://host:port` or `mqtts://host:port`
 * @client_id: the MQTT client id
 * @username: (nullable): user name
 * @password: (nullable): password (a secret: never logged)
 * @ca_file: (nullable): PEM CA certificates for the server; %NULL: the system's
 * @cert_file: (nullable): PEM client certificate (mutual TLS)
 * @key_file: (nullable): PEM private key of @cert_file, if not in it
 * @keep_alive: seconds between keep-alive pings
 * @mqtt_version: 4 (3.1.1) or 5
 * @will_topic: (nullable): the Last Will's topic (retained, QoS 1)
 * @will_payload: (nullable): the Last Will's payload
 * @password_func: (nullable): makes the password at each connect, for credentials
 *   that expire (Azure SAS tokens, JWTs): called on the main thread by
 *   wbd_mqtt_client_start() and on one of Paho's threads before each automatic
 *   reconnect, so it must be thread-safe and must not block. It returns the new
 *   password (a secret) and its expiry (Unix seconds). The client reconnects by
 *   itself with a fresh one at 80 % of its lifetime. Overrides @password.
 * @password_data: (closure password_func): owned by the client from then on
 * @password_destroy: frees @password_data when the client is finalized
 * @persistent_session: keep the broker's session across connections (3.1.1
 *   cleansession=0, 5: no clean start and a session expiry of a day), so QoS 1
 *   messages for the client wait while it is away (Azure's cloud-to-device messages);
 *   default: a clean session on every connect
 */
typedef gchar *(*WbdMqttPasswordFunc)(gpointer data, gint64 now, gint64 *expiry, GError **error);

typedef struct {
	const gchar *uri;
	const gchar *client_id;
	const gchar *username;
	const gchar *password;
	const gchar *ca_file;
	const gchar *cert_file;
	const gchar *key_file;
	guint keep_alive;
	guint mqtt_version;
	const gchar *will_topic;
	const gchar *will_payload;
	WbdMqttPasswordFunc password_func;
	gpointer password_data;
	GDestroyNotify password_destroy;
	gboolean persistent_session;
} WbdMqttClientOptions;

#define WBD_TYPE_MQTT_CLIENT (wbd_mqtt_client_get_type())
G_DECLARE_FINAL_TYPE(WbdMqttClient, wbd_mqtt_client, WBD, MQTT_CLIENT, GObject)

WbdMqttClient *
wbd_mqtt_client_new(const WbdMqttClientOptions *options, GError **error);
void
wbd_mqtt_client_start(WbdMqttClient *self);
void
wbd_mqtt_client_close(WbdMqttClient *self, const gchar *farewell_topic, const gchar *farewell);
void
wbd_mqtt_client_shutdown(void);
/* how long the daemon's end waits for farewells still under way */
#define WBD_MQTT_CLIENT_SHUTDOWN_TIMEOUT_MS 1000
gboolean
wbd_mqtt_client_is_connected(WbdMqttClient *self);
gint64
wbd_mqtt_client_get_password_expiry(WbdMqttClient *self);
void
wbd_mqtt_client_subscribe(WbdMqttClient *self, const gchar *filter);
void
wbd_mqtt_client_publish_async(WbdMqttClient *self,
			      const gchar *topic,
			      const void *payload,
			      gsize length,
			      gint qos,
			      gboolean retain,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data);
gboolean
wbd_mqtt_client_publish_finish(WbdMqttClient *self, GAsyncResult *res, GError **error);

/* a batch of QoS 1 publishes that completes @task (a boolean GTask) when the broker has
 * acknowledged every one, or with the first error */
void
wbd_mqtt_batch_begin(GTask *task);
void
wbd_mqtt_batch_publish(WbdMqttClient *self,
		       GTask *task,
		       const gchar *topic,
		       const gchar *payload,
		       gboolean retain);
void
wbd_mqtt_batch_end(GTask *task);

G_END_DECLS
