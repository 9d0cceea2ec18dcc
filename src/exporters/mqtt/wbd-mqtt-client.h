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
 */
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
} WbdMqttClientOptions;

#define WBD_TYPE_MQTT_CLIENT (wbd_mqtt_client_get_type())
G_DECLARE_FINAL_TYPE(WbdMqttClient, wbd_mqtt_client, WBD, MQTT_CLIENT, GObject)

WbdMqttClient *
wbd_mqtt_client_new(const WbdMqttClientOptions *options, GError **error);
void
wbd_mqtt_client_start(WbdMqttClient *self);
void
wbd_mqtt_client_close(WbdMqttClient *self, const gchar *farewell_topic, const gchar *farewell);
gboolean
wbd_mqtt_client_is_connected(WbdMqttClient *self);
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
