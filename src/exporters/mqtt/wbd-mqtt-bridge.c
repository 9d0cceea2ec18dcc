/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "wbd-mqtt-client-private.h"

/*
 * The MQTT client's bridge from Paho's threads to the GLib main loop (see
 * wbd-mqtt-client.c and shared/specs/mqtt-clouds.md §6). Paho runs every callback on
 * its own threads: there they only copy what they got into a WbdMqttEvent and attach
 * an idle source to the main context that created the client; GLib objects are touched
 * only there. The callbacks' context is a WbdMqttBridge, reference counted, with a weak
 * reference to the client, so an event that arrives after the client is gone is
 * dropped.
 */

static void
event_free(gpointer event);

static void
bridge_clear(WbdMqttBridge *bridge)
{
	g_main_context_unref(bridge->context);
	g_weak_ref_clear(&bridge->client);
	if (bridge->password_destroy != NULL)
		bridge->password_destroy(bridge->password_data);
	g_queue_clear_full(&bridge->events, event_free);
	g_array_unref(bridge->acks);
	g_array_unref(bridge->acks_taken);
	g_mutex_clear(&bridge->lock);
}

/* a new password from password_func, any thread; NULL with @error */
gchar *
wbd_mqtt_bridge_make_password(WbdMqttBridge *bridge, GError **error)
{
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	gint64 expiry = 0;
	gchar *password = bridge->password_func(bridge->password_data, now, &expiry, error);

	if (password == NULL)
		return NULL;
	g_mutex_lock(&bridge->lock);
	bridge->issued = now;
	bridge->expiry = expiry;
	g_mutex_unlock(&bridge->lock);
	return password;
}

void
wbd_mqtt_wipe_password(gchar *password)
{
	if (password == NULL)
		return;
	memset(password, 0, strlen(password));
	g_free(password);
}

WbdMqttBridge *
wbd_mqtt_bridge_ref(WbdMqttBridge *bridge)
{
	return g_atomic_rc_box_acquire(bridge);
}

void
wbd_mqtt_bridge_unref(WbdMqttBridge *bridge)
{
	g_atomic_rc_box_release_full(bridge, (GDestroyNotify)bridge_clear);
}

static void
event_free(gpointer data)
{
	WbdMqttEvent *event = data;
	g_free(event->text);
	g_free(event->topic);
	g_clear_pointer(&event->payload, g_bytes_unref);
	g_free(event);
}

/* in the main context: every acknowledgement and event posted since the last time, in
 * order (one wake-up for a burst of them, not one each). The acknowledgements go first:
 * an event that ends the connection comes after them, and publishes of the next
 * connection are made only once its `connected` event was handled, a wake-up before. */
static gboolean
bridge_dispatch(gpointer user_data)
{
	WbdMqttBridge *bridge = user_data;
	g_autoptr(WbdMqttClient) self = g_weak_ref_get(&bridge->client);
	GQueue events = G_QUEUE_INIT;
	WbdMqttEvent *event;
	GArray *acks;

	g_mutex_lock(&bridge->lock);
	events = bridge->events;
	g_queue_init(&bridge->events);
	acks = bridge->acks;
	bridge->acks = bridge->acks_taken;
	bridge->acks_taken = acks;
	bridge->scheduled = FALSE;
	g_mutex_unlock(&bridge->lock);
	if (self != NULL && acks->len > 0)
		wbd_mqtt_client_handle_acks(self, (const gint *)(gpointer)acks->data, acks->len);
	g_array_set_size(acks, 0);
	while ((event = g_queue_pop_head(&events)) != NULL) {
		if (self != NULL)
			wbd_mqtt_client_handle_event(self, event);
		event_free(event);
	}
	return G_SOURCE_REMOVE;
}

/* on Paho's threads: copy, post, nothing else */

static void
bridge_schedule_unlocked(WbdMqttBridge *bridge, gboolean schedule);

/* after an event or acknowledgement was queued, the lock held: wakes the main context
 * unless a wake-up is pending */
static void
schedule_unlock(WbdMqttBridge *bridge)
{
	gboolean schedule = !bridge->scheduled;

	bridge->scheduled = TRUE;
	bridge_schedule_unlocked(bridge, schedule);
}

static void
bridge_schedule_unlocked(WbdMqttBridge *bridge, gboolean schedule)
{
	g_mutex_unlock(&bridge->lock);
	if (schedule) {
		GSource *source = g_idle_source_new();
		g_source_set_callback(source,
				      bridge_dispatch,
				      g_atomic_rc_box_acquire(bridge),
				      (GDestroyNotify)wbd_mqtt_bridge_unref);
		g_source_attach(source, bridge->context);
		g_source_unref(source);
	}
}

static void
post(WbdMqttBridge *bridge, WbdMqttEvent *event)
{
	g_mutex_lock(&bridge->lock);
	g_queue_push_tail(&bridge->events, event);
	schedule_unlock(bridge);
}

/* a publish acknowledged: its token in an array (no allocation once it has grown); the
 * main context is woken once wake_at of them are there (events wake it at once) */
static void
post_ack(WbdMqttBridge *bridge, gint token)
{
	g_mutex_lock(&bridge->lock);
	g_array_append_val(bridge->acks, token);
	if (bridge->acks->len >= bridge->wake_at)
		schedule_unlock(bridge);
	else
		g_mutex_unlock(&bridge->lock);
}

/**
 * wbd_mqtt_bridge_set_wake_at:
 * @count: at least 1, at most the publishes the main context waits for
 *
 * In the main context: acknowledgements wake it only once @count are queued, so that
 * a window of publishes is answered in bursts.
 */
void
wbd_mqtt_bridge_set_wake_at(WbdMqttBridge *bridge, guint count)
{
	g_mutex_lock(&bridge->lock);
	bridge->wake_at = MAX(count, 1);
	if (bridge->acks->len > 0 && bridge->acks->len >= bridge->wake_at)
		schedule_unlock(bridge);
	else
		g_mutex_unlock(&bridge->lock);
}

/* any thread: an event for the main context */
void
wbd_mqtt_bridge_post(WbdMqttBridge *bridge,
		     WbdMqttEventKind kind,
		     gint token,
		     gint code,
		     const gchar *text)
{
	WbdMqttEvent *event = g_new0(WbdMqttEvent, 1);
	event->kind = kind;
	event->token = token;
	event->code = code;
	event->text = g_strdup(text);
	post(bridge, event);
}

static void
on_connected(void *context, char *cause)
{
	wbd_mqtt_bridge_post(context, WBD_MQTT_EVENT_CONNECTED, 0, 0, NULL);
}

static void
on_connection_lost(void *context, char *cause)
{
	wbd_mqtt_bridge_post(context, WBD_MQTT_EVENT_LOST, 0, 0, cause != NULL ? cause : "connection lost");
}

static int
on_message(void *context, char *topic, int topic_len, MQTTAsync_message *message)
{
	WbdMqttEvent *event = g_new0(WbdMqttEvent, 1);

	event->kind = WBD_MQTT_EVENT_MESSAGE;
	/* topic_len is 0 unless the topic holds NULs: such topics are not ours */
	event->topic = topic_len > 0 ? g_strndup(topic, topic_len) : g_strdup(topic);
	if (message->payloadlen >= 0 && message->payloadlen <= WBD_MQTT_MAX_INBOUND)
		event->payload = g_bytes_new(message->payload, message->payloadlen);
	event->code = message->payloadlen;
	event->retained = message->retained != 0;
	MQTTAsync_freeMessage(&message);
	MQTTAsync_free(topic);
	post(context, event);
	return 1;
}

static void
on_connect_failure(void *context, MQTTAsync_failureData *response)
{
	wbd_mqtt_bridge_post(context,
		    WBD_MQTT_EVENT_CONNECT_FAILED,
		    0,
		    response != NULL ? response->code : -1,
		    response != NULL && response->message != NULL ? response->message
								    : "cannot connect");
}

static void
on_connect_failure5(void *context, MQTTAsync_failureData5 *response)
{
	wbd_mqtt_bridge_post(context,
		    WBD_MQTT_EVENT_CONNECT_FAILED,
		    0,
		    response != NULL ? (gint)response->reasonCode : -1,
		    response != NULL && response->message != NULL ? response->message
								    : "cannot connect");
}

/* a disconnect is done, for better or worse: whoever asked for it goes on */
static void
on_disconnected(void *context, MQTTAsync_successData *response)
{
	(*(WbdMqttDisconnectedFunc *)context)(context);
}

static void
on_disconnected5(void *context, MQTTAsync_successData5 *response)
{
	(*(WbdMqttDisconnectedFunc *)context)(context);
}

static void
on_disconnect_failed(void *context, MQTTAsync_failureData *response)
{
	(*(WbdMqttDisconnectedFunc *)context)(context);
}

static void
on_disconnect_failed5(void *context, MQTTAsync_failureData5 *response)
{
	(*(WbdMqttDisconnectedFunc *)context)(context);
}

/* @context: starts with the WbdMqttDisconnectedFunc to call when the disconnect is done */
void
wbd_mqtt_set_disconnected_callbacks(MQTTAsync_disconnectOptions *disc,
				    gboolean v5,
				    gpointer context)
{
	disc->context = context;
	if (v5) {
		disc->onSuccess5 = on_disconnected5;
		disc->onFailure5 = on_disconnect_failed5;
	} else {
		disc->onSuccess = on_disconnected;
		disc->onFailure = on_disconnect_failed;
	}
}

static void
bridge_renew_disconnected(gpointer context)
{
	wbd_mqtt_bridge_post(context, WBD_MQTT_EVENT_RENEW, 0, 0, NULL);
}

/* MQTT 5: the server sent DISCONNECT (Paho then does not call connectionLost, §6.9) */
static void
on_server_disconnect(void *context, MQTTProperties *properties, enum MQTTReasonCodes reason)
{
	g_autofree gchar *why =
	    g_strdup_printf("the broker disconnected: %s", MQTTReasonCode_toString(reason));
	wbd_mqtt_bridge_post(context, WBD_MQTT_EVENT_LOST, 0, (gint)reason, why);
}

/* before each automatic reconnect, with Paho's lock held: a fresh password */
static int
on_update_connect_options(void *context, MQTTAsync_connectData *data)
{
	WbdMqttBridge *bridge = context;
	g_autoptr(GError) error = NULL;
	gchar *password;
	gsize length;

	if (bridge->password_func == NULL)
		return 0;
	password = wbd_mqtt_bridge_make_password(bridge, &error);
	if (password == NULL) {
		/* reported at the connect's failure; the old password is tried */
		return 0;
	}
	length = strlen(password);
	data->binarypwd.data = MQTTAsync_malloc(length + 1);
	if (data->binarypwd.data == NULL) {
		wbd_mqtt_wipe_password(password);
		return 0;
	}
	memcpy((void *)data->binarypwd.data, password, length + 1);
	data->binarypwd.len = (int)length;
	wbd_mqtt_wipe_password(password);
	return 1;
}

static void
on_published(void *context, MQTTAsync_successData *response)
{
	post_ack(context, response->token);
}

static void
on_published5(void *context, MQTTAsync_successData5 *response)
{
	post_ack(context, response->token);
}

static void
on_publish_failure(void *context, MQTTAsync_failureData *response)
{
	wbd_mqtt_bridge_post(context,
		    WBD_MQTT_EVENT_PUBLISH_FAILED,
		    response->token,
		    response->code,
		    response->message);
}

static void
on_publish_failure5(void *context, MQTTAsync_failureData5 *response)
{
	wbd_mqtt_bridge_post(context,
		    WBD_MQTT_EVENT_PUBLISH_FAILED,
		    response->token,
		    response->reasonCode,
		    response->message);
}

/* in the main context */

/**
 * wbd_mqtt_bridge_new:
 *
 * The bridge of @client: its events go to the caller's thread-default main context.
 * Takes the password_func of @options (and its data).
 */
WbdMqttBridge *
wbd_mqtt_bridge_new(WbdMqttClient *client, const WbdMqttClientOptions *options)
{
	WbdMqttBridge *bridge = g_atomic_rc_box_new0(WbdMqttBridge);

	bridge->context = g_main_context_ref_thread_default();
	g_weak_ref_init(&bridge->client, client);
	g_mutex_init(&bridge->lock);
	bridge->acks = g_array_sized_new(FALSE, FALSE, sizeof(gint), WBD_MQTT_WINDOW);
	bridge->acks_taken = g_array_sized_new(FALSE, FALSE, sizeof(gint), WBD_MQTT_WINDOW);
	bridge->wake_at = 1;
	bridge->disconnected = bridge_renew_disconnected;
	bridge->password_func = options->password_func;
	bridge->password_data = options->password_data;
	bridge->password_destroy = options->password_destroy;
	return bridge;
}

/* the callbacks of the handle's life: connected, lost, messages, server's DISCONNECT
 * (5), and a fresh password before each automatic reconnect */
gint
wbd_mqtt_bridge_set_callbacks(WbdMqttBridge *bridge, MQTTAsync handle, gboolean v5)
{
	gint rc = MQTTAsync_setCallbacks(handle, bridge, on_connection_lost, on_message, NULL);

	if (rc == MQTTASYNC_SUCCESS)
		rc = MQTTAsync_setConnected(handle, bridge, on_connected);
	if (rc == MQTTASYNC_SUCCESS && v5)
		rc = MQTTAsync_setDisconnected(handle, bridge, on_server_disconnect);
	if (rc == MQTTASYNC_SUCCESS && bridge->password_func != NULL)
		rc = MQTTAsync_setUpdateConnectOptions(handle, bridge, on_update_connect_options);
	return rc;
}

/* a connect's failure (its context is the bridge) */
void
wbd_mqtt_bridge_set_connect_callbacks(MQTTAsync_connectOptions *options, gboolean v5)
{
	if (v5)
		options->onFailure5 = on_connect_failure5;
	else
		options->onFailure = on_connect_failure;
}

/* a publish's acknowledgement or failure */
void
wbd_mqtt_bridge_set_publish_callbacks(WbdMqttBridge *bridge,
				      MQTTAsync_responseOptions *options,
				      gboolean v5)
{
	options->context = bridge;
	if (v5) {
		options->onSuccess5 = on_published5;
		options->onFailure5 = on_publish_failure5;
	} else {
		options->onSuccess = on_published;
		options->onFailure = on_publish_failure;
	}
}
