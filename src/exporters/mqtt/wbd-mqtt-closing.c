/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "wbd-mqtt-client-private.h"

#define WBD_MQTT_FAREWELL_MS 500

/* Clients closing in the background: the farewell and the DISCONNECT go out while the
 * main loop goes on; the Paho handle is destroyed on the main thread once Paho is done
 * (never in Paho's callback, §6.9), or by wbd_mqtt_client_shutdown() when the daemon
 * ends. */
typedef struct {
	WbdMqttDisconnectedFunc disconnected;
	GMainContext *context;
	MQTTAsync handle;      /* NULL once destroyed */
	gboolean done;         /* Paho finished the disconnect */
	WbdMqttBridge *bridge; /* the context of the handle's other callbacks, kept alive */
} Closing;

static GMutex closing_lock;
static GCond closing_cond;
static GPtrArray *closings; /* Closing being closed; each holds a reference */

static void
closing_clear(Closing *closing)
{
	g_main_context_unref(closing->context);
	wbd_mqtt_bridge_unref(closing->bridge);
}

static void
closing_unref(Closing *closing)
{
	g_atomic_rc_box_release_full(closing, (GDestroyNotify)closing_clear);
}

/* removes @closing from the list; Returns: its handle, for the caller to destroy */
static MQTTAsync
closing_take_locked(Closing *closing)
{
	MQTTAsync handle = closing->handle;

	closing->handle = NULL;
	if (g_ptr_array_remove(closings, closing))
		closing_unref(closing);
	return handle;
}

static gboolean
closing_destroy_cb(gpointer user_data)
{
	MQTTAsync handle;

	g_mutex_lock(&closing_lock);
	handle = closing_take_locked(user_data);
	g_mutex_unlock(&closing_lock);
	if (handle != NULL)
		MQTTAsync_destroy(&handle);
	return G_SOURCE_REMOVE;
}

/* on Paho's thread */
static void
closing_disconnected(gpointer context)
{
	Closing *closing = context;
	GSource *source = g_idle_source_new();

	/* the idle's reference first: once done is seen, the list's may go */
	g_source_set_callback(source,
			      closing_destroy_cb,
			      g_atomic_rc_box_acquire(closing),
			      (GDestroyNotify)closing_unref);
	g_mutex_lock(&closing_lock);
	closing->done = TRUE;
	g_cond_broadcast(&closing_cond);
	g_mutex_unlock(&closing_lock);
	g_source_attach(source, closing->context);
	g_source_unref(source);
}

/**
 * wbd_mqtt_client_shutdown:
 *
 * When the daemon ends (the MQTT kinds' shutdown hook): waits (blocking, the main loop
 * has stopped) for the farewells of closed clients, at most
 * WBD_MQTT_CLIENT_SHUTDOWN_TIMEOUT_MS, then destroys what is left.
 */
void
wbd_mqtt_client_shutdown(void)
{
	const guint timeout_ms = WBD_MQTT_CLIENT_SHUTDOWN_TIMEOUT_MS;
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * G_TIME_SPAN_MILLISECOND;
	g_autoptr(GPtrArray) handles = g_ptr_array_new();

	g_mutex_lock(&closing_lock);
	while (closings != NULL) {
		gboolean all_done = TRUE;
		for (guint i = 0; i < closings->len; i++)
			all_done = all_done && ((Closing *)g_ptr_array_index(closings, i))->done;
		if (all_done || !g_cond_wait_until(&closing_cond, &closing_lock, deadline))
			break;
	}
	for (guint i = 0; closings != NULL && i < closings->len;) {
		Closing *closing = g_ptr_array_index(closings, i);
		MQTTAsync handle = closing->handle;

		closing->handle = NULL;
		if (handle != NULL)
			g_ptr_array_add(handles, handle);
		/* Paho may still call back one that is not done: it stays (in the list) */
		if (closing->done)
			closing_take_locked(closing);
		else
			i++;
	}
	g_mutex_unlock(&closing_lock);
	for (guint i = 0; i < handles->len; i++) {
		MQTTAsync handle = g_ptr_array_index(handles, i);
		MQTTAsync_destroy(&handle);
	}
}

/**
 * wbd_mqtt_closing_disconnect:
 * @handle: (transfer full): a connected client's handle, its farewell sent
 * @bridge: the context of the handle's callbacks
 *
 * Disconnects @handle in the background: what is in flight (the farewell) gets
 * WBD_MQTT_FAREWELL_MS; the handle is destroyed once Paho is done, or at
 * wbd_mqtt_client_shutdown().
 */
void
wbd_mqtt_closing_disconnect(MQTTAsync handle, WbdMqttBridge *bridge, gboolean v5)
{
	MQTTAsync_disconnectOptions disc = MQTTAsync_disconnectOptions_initializer;
	Closing *closing = g_atomic_rc_box_new0(Closing);

	closing->disconnected = closing_disconnected;
	closing->context = g_main_context_ref(bridge->context);
	closing->bridge = wbd_mqtt_bridge_ref(bridge);
	closing->handle = handle;
	g_mutex_lock(&closing_lock);
	if (closings == NULL)
		closings = g_ptr_array_new();
	g_ptr_array_add(closings, closing); /* the list's reference */
	g_mutex_unlock(&closing_lock);
	/* in flight (the farewell) gets this long */
	disc.timeout = WBD_MQTT_FAREWELL_MS;
	wbd_mqtt_set_disconnected_callbacks(&disc, v5, closing);
	if (MQTTAsync_disconnect(closing->handle, &disc) != MQTTASYNC_SUCCESS)
		closing_disconnected(closing);
}
