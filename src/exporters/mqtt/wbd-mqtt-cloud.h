/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "wbd-exporter.h"
#include "wbd-mqtt-client.h"

G_BEGIN_DECLS

/**
 * WbdMqttCloudSetup:
 * @default_url: (nullable): the url when the config has none (e.g.
 *   `mqtts://HUB.azure-devices.net:8883`); %NULL: url is required
 * @default_port: the port of a url without one; 0: 8883 for mqtts://, 1883 for mqtt://
 * @client_id: the client id the cloud wants; `client-id` in the config overrides it
 * @username: (nullable): the user name the cloud wants; overrides `username`
 * @password: (nullable): a password the kind makes (Tuya's MD5); overrides `password`
 * @password_func: (nullable): makes an expiring password at each connect (see
 *   #WbdMqttClientOptions); overrides `password`
 * @password_data: owned by the client once made
 * @password_destroy: frees @password_data
 * @will_topic: (nullable): the Last Will (retained, QoS 1)
 * @will_payload: (nullable): its payload
 * @persistent_session: see #WbdMqttClientOptions
 * @require_tls: the cloud only speaks TLS: url must be mqtts://
 *
 * What a kind's configure_cloud() fills in; the base class frees the strings.
 */
typedef struct {
	gchar *default_url;
	guint default_port;
	gchar *client_id;
	gchar *username;
	gchar *password;
	WbdMqttPasswordFunc password_func;
	gpointer password_data;
	GDestroyNotify password_destroy;
	gchar *will_topic;
	gchar *will_payload;
	gboolean persistent_session;
	gboolean require_tls;
} WbdMqttCloudSetup;

#define WBD_TYPE_MQTT_CLOUD (wbd_mqtt_cloud_get_type())
G_DECLARE_DERIVABLE_TYPE(WbdMqttCloud, wbd_mqtt_cloud, WBD, MQTT_CLOUD, WbdExporter)

/**
 * WbdMqttCloudClass:
 * @configure_cloud: reads the kind's own keys from @settings and fills @setup; may
 *   subscribe with wbd_mqtt_cloud_subscribe(). The common keys (url, client-id,
 *   username, password, password-file, ca-file, cert-file, key-file, commands,
 *   keep-alive, protocol) are read by the base class first. Required.
 * @connected: the connection is (re)made and subscribed: publish birth messages,
 *   ask for state (shadow, twin). Optional.
 * @publish_record: turns one spool record into publishes of the batch @task, with
 *   wbd_mqtt_cloud_batch_publish(). Required.
 * @message: a message arrived on a subscribed topic. Optional.
 * @device_state_changed: what wbd_mqtt_cloud_device_state() reports of @device (a
 *   device `devices` selects) may have changed: its Online, On or Valve changed, with
 *   or without a reading (a valve is a string: it never reaches the spool). For
 *   shadows, twins and state documents. Optional.
 *
 * The base class of the MQTT kinds: the client and its connection, the settings every
 * kind shares, delivery of spool batches at QoS 1 (a batch is acknowledged when the
 * broker acknowledged all of it), and commands to devices with the checks of D-Bus.
 */
struct _WbdMqttCloudClass {
	WbdExporterClass parent_class;

	gboolean (*configure_cloud)(WbdMqttCloud *self,
				    GHashTable *settings,
				    WbdMqttCloudSetup *setup,
				    GError **error);
	void (*connected)(WbdMqttCloud *self);
	void (*publish_record)(WbdMqttCloud *self, GTask *task, const WbdSpoolRecord *record);
	void (*message)(WbdMqttCloud *self, const gchar *topic, GBytes *payload, gboolean retained);
	void (*device_state_changed)(WbdMqttCloud *self, const gchar *device);

	gpointer padding[3];
};

/* the setting keys every MQTT kind has; a kind's key list starts with them */
#define WBD_MQTT_CLOUD_COMMON_KEYS                                                          \
	"url", "client-id", "username", "password", "password-file", "ca-file", "cert-file", \
	    "key-file", "commands", "commands-unauthenticated", "keep-alive", "protocol"

gboolean
wbd_mqtt_cloud_get_commands(WbdMqttCloud *self);
WbdMqttClient *
wbd_mqtt_cloud_get_client(WbdMqttCloud *self);
void
wbd_mqtt_cloud_subscribe(WbdMqttCloud *self, const gchar *filter);
void
wbd_mqtt_cloud_publish(WbdMqttCloud *self,
		       const gchar *topic,
		       const gchar *payload,
		       gsize length,
		       gboolean retain);
void
wbd_mqtt_cloud_batch_publish(WbdMqttCloud *self,
			     GTask *task,
			     const gchar *topic,
			     const gchar *payload,
			     gboolean retain);

JsonObject *
wbd_mqtt_cloud_device_state(WbdMqttCloud *self, const gchar *device_id);

void
wbd_mqtt_cloud_command_async(WbdMqttCloud *self,
			     const gchar *device_id,
			     GPtrArray *commands,
			     GAsyncReadyCallback callback,
			     gpointer user_data);
gboolean
wbd_mqtt_cloud_command_finish(WbdMqttCloud *self, GAsyncResult *res, GError **error);

/* settings helpers for the kinds */
gboolean
wbd_mqtt_cloud_parse_bool(GHashTable *settings, const gchar *key, gboolean *value, GError **error);
gboolean
wbd_mqtt_cloud_parse_seconds(GHashTable *settings,
			     const gchar *key,
			     guint min,
			     guint max,
			     guint *value,
			     GError **error);
gboolean
wbd_mqtt_cloud_parse_topic(GHashTable *settings,
			   const gchar *key,
			   const gchar *fallback,
			   gchar **out,
			   GError **error);
gboolean
wbd_mqtt_cloud_require(GHashTable *settings, const gchar *key, const gchar *example, GError **error);
gboolean
wbd_mqtt_cloud_read_secret(GHashTable *settings,
			   const gchar *key,
			   const gchar *file_key,
			   gchar **secret,
			   GError **error);

G_END_DECLS
