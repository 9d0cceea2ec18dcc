/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <MQTTAsync.h>

#include "wbd-mqtt-client.h"

G_BEGIN_DECLS

/*
 * Private to the MQTT client, shared by its parts: wbd-mqtt-client.c (the object, in
 * the main context), wbd-mqtt-bridge.c (Paho's callbacks on Paho's threads, marshalled
 * to the main context) and wbd-mqtt-closing.c (clients closing in the background, and
 * the daemon's end). The kinds include only wbd-mqtt-client.h.
 */

/* the largest inbound message kept: the kinds' parsers take 64 KiB at most, and the
 * clouds send no more (Azure C2D 64 KiB); a broker may send up to 256 MB */
#define WBD_MQTT_MAX_INBOUND (256 * 1024)

/* what a finished MQTTAsync_disconnect() calls (on Paho's thread): the first member of
 * the context given to it */
typedef void (*WbdMqttDisconnectedFunc)(gpointer context);

/* shared with Paho's threads: the client (weakly), and the password maker */
typedef struct {
	WbdMqttDisconnectedFunc disconnected; /* a disconnect to renew the credentials is done */
	GMainContext *context;
	GWeakRef client;
	WbdMqttPasswordFunc password_func;
	gpointer password_data;
	GDestroyNotify password_destroy;
	GMutex lock;      /* guards what follows */
	gint64 issued;    /* when the current password was made, Unix seconds */
	gint64 expiry;    /* and when it expires */
	GQueue events;    /* WbdMqttEvents for the main context, oldest first */
	GArray *acks;     /* tokens of the publishes acknowledged since, oldest first */
	gboolean scheduled; /* an idle source will take them */
	guint wake_at;      /* acknowledgements that wake the main context */
	GArray *acks_taken; /* the main context's: being handled, or empty */
} WbdMqttBridge;

typedef enum {
	WBD_MQTT_EVENT_CONNECTED,
	WBD_MQTT_EVENT_LOST,
	WBD_MQTT_EVENT_CONNECT_FAILED,
	WBD_MQTT_EVENT_MESSAGE,
	WBD_MQTT_EVENT_PUBLISH_FAILED,
	WBD_MQTT_EVENT_RENEW, /* disconnected to renew the credentials */
} WbdMqttEventKind;

typedef struct {
	WbdMqttEventKind kind;
	gint token;
	gint code;
	gchar *text;
	gchar *topic;
	GBytes *payload;
	gboolean retained;
} WbdMqttEvent;

/* publishes handed to Paho at most at a time (wbd-mqtt-batch.c) */
#define WBD_MQTT_WINDOW 64

typedef struct _WbdMqttBatch WbdMqttBatch;

/* the client's publishes of batches, in the main context (wbd-mqtt-batch.c) */
typedef struct {
	GQueue waiting;     /* WbdMqttBatch with messages not yet handed to Paho, oldest first */
	GHashTable *tokens; /* Paho token → WbdMqttBatch, of the publishes Paho has */
	guint in_flight;    /* their number */
} WbdMqttFlow;

void
wbd_mqtt_flow_init(WbdMqttFlow *flow);
void
wbd_mqtt_flow_clear(WbdMqttFlow *flow);
void
wbd_mqtt_flow_pump(WbdMqttFlow *flow);
gboolean
wbd_mqtt_flow_answered(WbdMqttFlow *flow, gint token, const GError *error);
void
wbd_mqtt_flow_fail_all(WbdMqttFlow *flow, GQuark domain, gint code, const gchar *why);

/* wbd-mqtt-bridge.c */
WbdMqttBridge *
wbd_mqtt_bridge_new(WbdMqttClient *client, const WbdMqttClientOptions *options);
WbdMqttBridge *
wbd_mqtt_bridge_ref(WbdMqttBridge *bridge);
void
wbd_mqtt_bridge_unref(WbdMqttBridge *bridge);
gint
wbd_mqtt_bridge_set_callbacks(WbdMqttBridge *bridge, MQTTAsync handle, gboolean v5);
void
wbd_mqtt_bridge_set_connect_callbacks(MQTTAsync_connectOptions *options, gboolean v5);
void
wbd_mqtt_bridge_set_publish_callbacks(WbdMqttBridge *bridge,
				      MQTTAsync_responseOptions *options,
				      gboolean v5);
void
wbd_mqtt_set_disconnected_callbacks(MQTTAsync_disconnectOptions *disc,
				    gboolean v5,
				    gpointer context);
gchar *
wbd_mqtt_bridge_make_password(WbdMqttBridge *bridge, GError **error);
void
wbd_mqtt_bridge_post(WbdMqttBridge *bridge,
		     WbdMqttEventKind kind,
		     gint token,
		     gint code,
		     const gchar *text);
void
wbd_mqtt_wipe_password(gchar *password);
void
wbd_mqtt_bridge_set_wake_at(WbdMqttBridge *bridge, guint count);

/* wbd-mqtt-client.c: an event in the main context (dropped once the client is closed) */
void
wbd_mqtt_client_handle_event(WbdMqttClient *self, WbdMqttEvent *event);
/* and the publishes acknowledged since the last time, oldest first */
void
wbd_mqtt_client_handle_acks(WbdMqttClient *self, const gint *tokens, guint n_tokens);
WbdMqttFlow *
wbd_mqtt_client_get_flow(WbdMqttClient *self);
/* after publishes were handed to Paho or answered */
void
wbd_mqtt_client_update_wake(WbdMqttClient *self);
/* a QoS 1 publish to Paho, answered through the flow; FALSE with @error */
gboolean
wbd_mqtt_client_send(WbdMqttClient *self,
		     const gchar *topic,
		     const void *payload,
		     gsize length,
		     gboolean retain,
		     gint *token,
		     GError **error);

/* wbd-mqtt-closing.c: takes @handle, connected, and disconnects it in the background */
void
wbd_mqtt_closing_disconnect(MQTTAsync handle, WbdMqttBridge *bridge, gboolean v5);

G_END_DECLS
