/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-mqtt-client-private.h"

/*
 * Eclipse Paho's asynchronous client (paho-mqtt3as) in the GLib main loop
 * (shared/specs/mqtt-clouds.md §6). Paho runs every callback on its own threads:
 * there they only copy what they got into a WbdMqttEvent and attach an idle source to
 * the main context that created the client; GLib objects are touched only there
 * (wbd-mqtt-bridge.c). The callbacks' context is a WbdMqttBridge, reference counted,
 * with a weak reference to the client, so an event that arrives after the client is
 * gone is dropped. Batches of publishes are in wbd-mqtt-batch.c; closed clients finish
 * their farewell in the background (wbd-mqtt-closing.c).
 *
 * Paho reconnects by itself (automaticReconnect, 1 s doubling to 60 s); the
 * `connected` callback (re)subscribes. QoS 1 publishes complete when the broker's
 * PUBACK arrives (onSuccess with the publish's token); a lost connection fails
 * the ones under way, which the exporter's spool then sends again.
 *
 * Credentials that expire (a password_func) are made at every connect: by
 * wbd_mqtt_client_start() on the main thread, and by Paho's update-connect-options
 * callback before each automatic reconnect (§6.5). At 80 % of a token's lifetime the
 * client disconnects (letting what is in flight finish) and connects again with a new
 * one, before the cloud drops the connection.
 */

#define WBD_MQTT_MIN_RETRY_S 1
#define WBD_MQTT_MAX_RETRY_S 60
#define WBD_MQTT_CONNECT_TIMEOUT_S 10
#define WBD_MQTT_MAX_QUEUED 100000
#define WBD_MQTT_RENEW_DISCONNECT_MS 2000
#define WBD_MQTT_RENEW_MARGIN_MS 3000 /* for the new connect, before the old token expires */
#define WBD_MQTT_SESSION_EXPIRY_S 86400

typedef struct {
	GTask *task;
	GSource *cancel_source;
} Pending;

static void
pending_free(Pending *pending)
{
	if (pending->cancel_source != NULL) {
		g_source_destroy(pending->cancel_source);
		g_source_unref(pending->cancel_source);
	}
	g_clear_object(&pending->task);
	g_free(pending);
}

struct _WbdMqttClient {
	GObject parent_instance;
	MQTTAsync handle;
	WbdMqttBridge *bridge;
	gchar *uri;
	gchar *client_id;
	gchar *username;
	gchar *password;
	gchar *ca_file;
	gchar *cert_file;
	gchar *key_file;
	gchar *will_topic;
	gchar *will_payload;
	guint keep_alive;
	gboolean v5;
	gboolean persistent_session;
	gboolean connected;
	gboolean closed;
	gboolean renewing;
	guint renew_id;
	GPtrArray *filters;   /* subscribed again on every connect */
	GHashTable *pending;  /* token → Pending */
	WbdMqttFlow flow;     /* the batches' publishes */
};

G_DEFINE_TYPE(WbdMqttClient, wbd_mqtt_client, G_TYPE_OBJECT)

enum { SIGNAL_CONNECTED, SIGNAL_DISCONNECTED, SIGNAL_MESSAGE, N_SIGNALS };
static guint signals[N_SIGNALS] = {0};

/* in the main context */

static void
wbd_mqtt_client_fail_pending(WbdMqttClient *self, const gchar *why)
{
	g_autoptr(GList) tokens = g_hash_table_get_keys(self->pending);

	wbd_mqtt_flow_fail_all(&self->flow, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, why);
	for (GList *l = tokens; l != NULL; l = l->next) {
		Pending *pending = g_hash_table_lookup(self->pending, l->data);
		g_autoptr(GTask) task = g_object_ref(pending->task);
		g_hash_table_remove(self->pending, l->data);
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "%s", why);
	}
	wbd_mqtt_client_update_wake(self);
}

/* a publish answered: acknowledged, or refused with @event (PUBLISH_FAILED) */
static void
wbd_mqtt_client_complete(WbdMqttClient *self, gint token, WbdMqttEvent *event)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GTask) task = NULL;
	Pending *pending;

	if (event != NULL)
		error = g_error_new(G_IO_ERROR,
				    G_IO_ERROR_FAILED,
				    "the broker did not take the message (%d%s%s)",
				    event->code,
				    event->text != NULL ? ": " : "",
				    event->text != NULL ? event->text : "");
	if (wbd_mqtt_flow_answered(&self->flow, token, error))
		return;
	pending = g_hash_table_lookup(self->pending, GINT_TO_POINTER(token));
	if (pending == NULL)
		return; /* cancelled or failed meanwhile */
	task = g_object_ref(pending->task);
	g_hash_table_remove(self->pending, GINT_TO_POINTER(token));
	if (error == NULL)
		g_task_return_boolean(task, TRUE);
	else
		g_task_return_error(task, g_steal_pointer(&error));
}

void
wbd_mqtt_client_handle_acks(WbdMqttClient *self, const gint *tokens, guint n_tokens)
{
	if (self->closed)
		return;
	for (guint i = 0; i < n_tokens; i++)
		wbd_mqtt_client_complete(self, tokens[i], NULL);
	/* the window is topped up once half of it is free: Paho's send thread then takes
	 * a run of publishes at a wake-up, and the main context is woken a burst at a time */
	if (self->flow.in_flight <= WBD_MQTT_WINDOW / 2)
		wbd_mqtt_flow_pump(&self->flow);
	wbd_mqtt_client_update_wake(self);
}

/*
 * Acknowledgements wake the main context when the window is half free, or when every
 * publish under way is answered (the end of a backlog, a single publish): a publish
 * never waits for others that will not come (a lost connection wakes it at once).
 */
void
wbd_mqtt_client_update_wake(WbdMqttClient *self)
{
	guint waiting = self->flow.in_flight + g_hash_table_size(self->pending);

	wbd_mqtt_bridge_set_wake_at(self->bridge,
				    waiting > WBD_MQTT_WINDOW / 2 ? waiting - WBD_MQTT_WINDOW / 2
								  : waiting);
}

WbdMqttFlow *
wbd_mqtt_client_get_flow(WbdMqttClient *self)
{
	return &self->flow;
}

static void
wbd_mqtt_client_subscribe_now(WbdMqttClient *self, const gchar *filter)
{
	MQTTAsync_responseOptions opts = MQTTAsync_responseOptions_initializer;
	gint rc = MQTTAsync_subscribe(self->handle, filter, 1, &opts);
	if (rc != MQTTASYNC_SUCCESS)
		g_warning("cannot subscribe to %s on %s: %d", filter, self->uri, rc);
}

static void
wbd_mqtt_client_schedule_renewal(WbdMqttClient *self);

void
wbd_mqtt_client_handle_event(WbdMqttClient *self, WbdMqttEvent *event)
{
	if (self->closed)
		return;
	switch (event->kind) {
	case WBD_MQTT_EVENT_CONNECTED:
		self->connected = TRUE;
		wbd_mqtt_client_schedule_renewal(self);
		for (guint i = 0; i < self->filters->len; i++)
			wbd_mqtt_client_subscribe_now(self, g_ptr_array_index(self->filters, i));
		g_signal_emit(self, signals[SIGNAL_CONNECTED], 0);
		break;
	case WBD_MQTT_EVENT_RENEW:
		/* late: the connection was lost meanwhile, and restarted (below) */
		if (!self->renewing)
			break;
		/* what was still in flight is sent again by the exporter's spool */
		self->connected = FALSE;
		self->renewing = FALSE;
		wbd_mqtt_client_fail_pending(self, "reconnecting with new credentials");
		wbd_mqtt_client_start(self);
		break;
	case WBD_MQTT_EVENT_LOST:
	case WBD_MQTT_EVENT_CONNECT_FAILED:
		self->connected = FALSE;
		g_clear_handle_id(&self->renew_id, g_source_remove);
		wbd_mqtt_client_fail_pending(self, "the connection to the broker was lost");
		g_signal_emit(self, signals[SIGNAL_DISCONNECTED], 0, event->text);
		/* lost while disconnecting to renew: Paho does not reconnect after a
		 * disconnect we asked for */
		if (self->renewing) {
			self->renewing = FALSE;
			wbd_mqtt_client_start(self);
		}
		break;
	case WBD_MQTT_EVENT_MESSAGE:
		if (event->payload == NULL) {
			g_message("dropping a message of %d bytes on %s from %s: more than %d",
				  event->code,
				  g_utf8_validate(event->topic, -1, NULL) ? event->topic : "(not UTF-8)",
				  self->uri,
				  WBD_MQTT_MAX_INBOUND);
			break;
		}
		g_signal_emit(self,
			      signals[SIGNAL_MESSAGE],
			      0,
			      event->topic,
			      event->payload,
			      event->retained);
		break;
	case WBD_MQTT_EVENT_PUBLISH_FAILED:
		wbd_mqtt_client_complete(self, event->token, event);
		wbd_mqtt_flow_pump(&self->flow);
		wbd_mqtt_client_update_wake(self);
		break;
	}
}

/* API */

static gboolean
wbd_mqtt_client_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	WbdMqttClient *self = user_data;
	GHashTableIter iter;
	gpointer token;
	Pending *pending;

	g_hash_table_iter_init(&iter, self->pending);
	while (g_hash_table_iter_next(&iter, &token, (gpointer *)&pending)) {
		g_autoptr(GTask) task = NULL;
		if (g_task_get_cancellable(pending->task) != cancellable)
			continue;
		task = g_object_ref(pending->task);
		g_source_unref(pending->cancel_source);
		pending->cancel_source = NULL; /* being dispatched: it goes by itself */
		g_hash_table_iter_remove(&iter);
		g_task_return_error_if_cancelled(task);
		break;
	}
	wbd_mqtt_client_update_wake(self);
	return G_SOURCE_REMOVE;
}

/* hands a publish to Paho, its answer to come through the bridge; a Paho code */
static gint
wbd_mqtt_client_send_message(WbdMqttClient *self,
			     const gchar *topic,
			     const void *payload,
			     gsize length,
			     gint qos,
			     gboolean retain,
			     gint *token)
{
	MQTTAsync_responseOptions opts = MQTTAsync_responseOptions_initializer;
	MQTTAsync_message message = MQTTAsync_message_initializer;
	gint rc;

	message.payload = (void *)payload;
	message.payloadlen = (int)length;
	message.qos = qos;
	message.retained = retain;
	wbd_mqtt_bridge_set_publish_callbacks(self->bridge, &opts, self->v5);
	rc = MQTTAsync_sendMessage(self->handle, topic, &message, &opts);
	*token = opts.token;
	return rc;
}

gboolean
wbd_mqtt_client_send(WbdMqttClient *self,
		     const gchar *topic,
		     const void *payload,
		     gsize length,
		     gboolean retain,
		     gint *token,
		     GError **error)
{
	gint rc;

	if (!self->connected || self->closed) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "not connected to the broker");
		return FALSE;
	}
	rc = wbd_mqtt_client_send_message(self, topic, payload, length, 1, retain, token);
	if (rc != MQTTASYNC_SUCCESS) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot publish: %s", MQTTAsync_strerror(rc));
		return FALSE;
	}
	return TRUE;
}

/**
 * wbd_mqtt_client_publish_async:
 *
 * Publishes @payload on @topic. With @qos 1, completes when the broker acknowledged
 * (PUBACK); with 0, when Paho took it. Fails at once when not connected.
 */
void
wbd_mqtt_client_publish_async(WbdMqttClient *self,
			      const gchar *topic,
			      const void *payload,
			      gsize length,
			      gint qos,
			      gboolean retain,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	Pending *pending;
	gint token = 0;
	gint rc;

	g_task_set_source_tag(task, wbd_mqtt_client_publish_async);
	if (g_task_return_error_if_cancelled(task))
		return;
	if (!self->connected || self->closed) {
		g_task_return_new_error(task,
					G_IO_ERROR,
					G_IO_ERROR_NOT_CONNECTED,
					"not connected to the broker");
		return;
	}
	rc = wbd_mqtt_client_send_message(self, topic, payload, length, qos, retain, &token);
	if (rc != MQTTASYNC_SUCCESS) {
		g_task_return_new_error(task,
					G_IO_ERROR,
					G_IO_ERROR_FAILED,
					"cannot publish: %s",
					MQTTAsync_strerror(rc));
		return;
	}
	pending = g_new0(Pending, 1);
	pending->task = g_steal_pointer(&task);
	if (cancellable != NULL) {
		pending->cancel_source = g_cancellable_source_new(cancellable);
		g_source_set_callback(pending->cancel_source,
				      G_SOURCE_FUNC(wbd_mqtt_client_cancelled_cb),
				      self,
				      NULL);
		g_source_attach(pending->cancel_source, self->bridge->context);
	}
	/* the completion is posted to this thread, so it comes after this */
	g_hash_table_replace(self->pending, GINT_TO_POINTER(token), pending);
	wbd_mqtt_client_update_wake(self);
}

gboolean
wbd_mqtt_client_publish_finish(WbdMqttClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/**
 * wbd_mqtt_client_subscribe:
 * @filter: a topic filter, subscribed at QoS 1 now if connected and after every
 *   reconnect
 */
void
wbd_mqtt_client_subscribe(WbdMqttClient *self, const gchar *filter)
{
	g_ptr_array_add(self->filters, g_strdup(filter));
	if (self->connected)
		wbd_mqtt_client_subscribe_now(self, filter);
}

gboolean
wbd_mqtt_client_is_connected(WbdMqttClient *self)
{
	return self->connected;
}

static gboolean
wbd_mqtt_client_renew_cb(gpointer user_data)
{
	WbdMqttClient *self = user_data;
	MQTTAsync_disconnectOptions disc = MQTTAsync_disconnectOptions_initializer;

	self->renew_id = 0;
	if (!self->connected || self->closed || self->renewing)
		return G_SOURCE_REMOVE;
	g_info("renewing the credentials for %s: reconnecting", self->uri);
	/* in-flight publishes get this long to be acknowledged */
	disc.timeout = WBD_MQTT_RENEW_DISCONNECT_MS;
	wbd_mqtt_set_disconnected_callbacks(&disc, self->v5, self->bridge);
	self->renewing = TRUE;
	/* nothing new from now on (the spool keeps it): only the in-flight to wait for */
	self->connected = FALSE;
	if (MQTTAsync_disconnect(self->handle, &disc) != MQTTASYNC_SUCCESS)
		wbd_mqtt_bridge_post(self->bridge, WBD_MQTT_EVENT_RENEW, 0, 0, NULL);
	return G_SOURCE_REMOVE;
}

/*
 * At 80 % of the current password's lifetime, but early enough that the disconnect
 * (WBD_MQTT_RENEW_DISCONNECT_MS at most) and the new connect are done before it
 * expires, and not before half of it: with short lifetimes the margin counts.
 */
static void
wbd_mqtt_client_schedule_renewal(WbdMqttClient *self)
{
	gint64 now_ms = g_get_real_time() / 1000;
	gint64 issued_ms, expiry_ms, at_ms;

	g_clear_handle_id(&self->renew_id, g_source_remove);
	if (self->bridge->password_func == NULL)
		return;
	g_mutex_lock(&self->bridge->lock);
	issued_ms = self->bridge->issued * 1000;
	expiry_ms = self->bridge->expiry * 1000;
	g_mutex_unlock(&self->bridge->lock);
	if (expiry_ms <= issued_ms)
		return;
	at_ms = issued_ms + (expiry_ms - issued_ms) * 4 / 5;
	at_ms = MIN(at_ms, expiry_ms - WBD_MQTT_RENEW_DISCONNECT_MS - WBD_MQTT_RENEW_MARGIN_MS);
	at_ms = MAX(at_ms, issued_ms + (expiry_ms - issued_ms) / 2);
	self->renew_id = g_timeout_add_full(G_PRIORITY_DEFAULT,
					    (guint)CLAMP(at_ms - now_ms, 100, G_MAXINT),
					    wbd_mqtt_client_renew_cb,
					    self,
					    NULL);
}

/**
 * wbd_mqtt_client_get_password_expiry:
 *
 * Returns: when the password made by the password_func for the current connection
 *   expires (Unix seconds), or 0
 */
gint64
wbd_mqtt_client_get_password_expiry(WbdMqttClient *self)
{
	gint64 expiry;

	g_mutex_lock(&self->bridge->lock);
	expiry = self->bridge->expiry;
	g_mutex_unlock(&self->bridge->lock);
	return expiry;
}

/**
 * wbd_mqtt_client_start:
 *
 * Connects; Paho keeps trying (1 s doubling to 60 s) until wbd_mqtt_client_close().
 */
void
wbd_mqtt_client_start(WbdMqttClient *self)
{
	MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer;
	MQTTAsync_connectOptions opts5 = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_connectOptions *o = self->v5 ? &opts5 : &opts;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	MQTTProperties properties = MQTTProperties_initializer;
	g_autoptr(GError) error = NULL;
	gchar *password = NULL;
	gint rc;

	if (self->closed)
		return;
	if (self->bridge->password_func != NULL) {
		password = wbd_mqtt_bridge_make_password(self->bridge, &error);
		if (password == NULL) {
			wbd_mqtt_bridge_post(self->bridge, WBD_MQTT_EVENT_CONNECT_FAILED, 0, -1, error->message);
			return;
		}
	}
	o->keepAliveInterval = (int)self->keep_alive;
	o->automaticReconnect = 1;
	o->minRetryInterval = WBD_MQTT_MIN_RETRY_S;
	o->maxRetryInterval = WBD_MQTT_MAX_RETRY_S;
	o->connectTimeout = WBD_MQTT_CONNECT_TIMEOUT_S;
	o->retryInterval = 0;
	o->MQTTVersion = self->v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
	o->username = self->username;
	o->password = password != NULL ? password : self->password;
	o->context = self->bridge;
	if (self->v5) {
		o->cleanstart = !self->persistent_session;
		if (self->persistent_session) {
			MQTTProperty expiry = {.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL,
					       .value.integer4 = WBD_MQTT_SESSION_EXPIRY_S};
			MQTTProperties_add(&properties, &expiry);
			o->connectProperties = &properties;
		}
	} else {
		o->cleansession = !self->persistent_session;
	}
	wbd_mqtt_bridge_set_connect_callbacks(o, self->v5);
	if (self->will_topic != NULL) {
		will.topicName = self->will_topic;
		will.message = self->will_payload;
		will.retained = 1;
		will.qos = 1;
		o->will = &will;
	}
	if (g_str_has_prefix(self->uri, "mqtts://") || g_str_has_prefix(self->uri, "ssl://")) {
		/* the server's certificate and host name are checked (Paho's verify is off
		 * by default); no ca-file: the system's store */
		ssl.enableServerCertAuth = 1;
		ssl.verify = 1;
		ssl.trustStore = self->ca_file;
		ssl.keyStore = self->cert_file;
		ssl.privateKey = self->key_file;
		o->ssl = &ssl;
	}
	rc = MQTTAsync_connect(self->handle, o);
	MQTTProperties_free(&properties);
	wbd_mqtt_wipe_password(password);
	if (rc != MQTTASYNC_SUCCESS)
		wbd_mqtt_bridge_post(self->bridge, WBD_MQTT_EVENT_CONNECT_FAILED, 0, rc, MQTTAsync_strerror(rc));
}


/**
 * wbd_mqtt_client_close:
 * @farewell_topic: (nullable): a last retained message to publish before leaving (the
 *   Last Will's topic, with "offline"): the broker does not publish the Will on a clean
 *   disconnect
 *
 * Stops the client: what is under way fails, no signal is emitted any more. The farewell
 * and the DISCONNECT finish in the background (at most WBD_MQTT_FAREWELL_MS); the main
 * loop is not held.
 */
void
wbd_mqtt_client_close(WbdMqttClient *self, const gchar *farewell_topic, const gchar *farewell)
{
	if (self->closed)
		return;
	self->closed = TRUE;
	g_clear_handle_id(&self->renew_id, g_source_remove);
	wbd_mqtt_client_fail_pending(self, "the exporter stopped");
	if (self->handle != NULL && self->connected) {
		MQTTAsync_responseOptions opts = MQTTAsync_responseOptions_initializer;
		MQTTAsync_message message = MQTTAsync_message_initializer;

		if (farewell_topic != NULL) {
			message.payload = (void *)farewell;
			message.payloadlen = (int)strlen(farewell);
			message.qos = 1;
			message.retained = 1;
			MQTTAsync_sendMessage(self->handle, farewell_topic, &message, &opts);
		}
		wbd_mqtt_closing_disconnect(g_steal_pointer(&self->handle), self->bridge, self->v5);
	}
	self->connected = FALSE;
	if (self->handle != NULL)
		MQTTAsync_destroy(&self->handle);
}

static void
wbd_mqtt_client_dispose(GObject *object)
{
	WbdMqttClient *self = WBD_MQTT_CLIENT(object);
	wbd_mqtt_client_close(self, NULL, NULL);
	G_OBJECT_CLASS(wbd_mqtt_client_parent_class)->dispose(object);
}

static void
wbd_mqtt_client_finalize(GObject *object)
{
	WbdMqttClient *self = WBD_MQTT_CLIENT(object);

	if (self->password != NULL)
		memset(self->password, 0, strlen(self->password));
	g_free(self->password);
	g_free(self->uri);
	g_free(self->client_id);
	g_free(self->username);
	g_free(self->ca_file);
	g_free(self->cert_file);
	g_free(self->key_file);
	g_free(self->will_topic);
	g_free(self->will_payload);
	g_clear_pointer(&self->filters, g_ptr_array_unref);
	g_clear_pointer(&self->pending, g_hash_table_unref);
	wbd_mqtt_flow_clear(&self->flow);
	if (self->bridge != NULL)
		wbd_mqtt_bridge_unref(self->bridge);
	G_OBJECT_CLASS(wbd_mqtt_client_parent_class)->finalize(object);
}

static void
wbd_mqtt_client_class_init(WbdMqttClientClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = wbd_mqtt_client_dispose;
	object_class->finalize = wbd_mqtt_client_finalize;
	/* (re)connected: subscriptions are renewed; publish birth/availability now */
	signals[SIGNAL_CONNECTED] = g_signal_new("connected",
						 G_TYPE_FROM_CLASS(klass),
						 G_SIGNAL_RUN_LAST,
						 0,
						 NULL,
						 NULL,
						 NULL,
						 G_TYPE_NONE,
						 0);
	/* lost or refused (@why: Paho's reason, never a secret); Paho retries */
	signals[SIGNAL_DISCONNECTED] = g_signal_new("disconnected",
						    G_TYPE_FROM_CLASS(klass),
						    G_SIGNAL_RUN_LAST,
						    0,
						    NULL,
						    NULL,
						    NULL,
						    G_TYPE_NONE,
						    1,
						    G_TYPE_STRING);
	/* a message on a subscribed topic: topic, payload (GBytes), retained */
	signals[SIGNAL_MESSAGE] = g_signal_new("message",
					       G_TYPE_FROM_CLASS(klass),
					       G_SIGNAL_RUN_LAST,
					       0,
					       NULL,
					       NULL,
					       NULL,
					       G_TYPE_NONE,
					       3,
					       G_TYPE_STRING,
					       G_TYPE_BYTES,
					       G_TYPE_BOOLEAN);
}

static void
wbd_mqtt_client_init(WbdMqttClient *self)
{
	self->filters = g_ptr_array_new_with_free_func(g_free);
	self->pending = g_hash_table_new_full(g_direct_hash,
					      g_direct_equal,
					      NULL,
					      (GDestroyNotify)pending_free);
	wbd_mqtt_flow_init(&self->flow);
}

/**
 * wbd_mqtt_client_new:
 *
 * Creates the client (no connection yet: wbd_mqtt_client_start()). Its events are
 * delivered in the thread-default main context of the caller.
 */
WbdMqttClient *
wbd_mqtt_client_new(const WbdMqttClientOptions *options, GError **error)
{
	g_autoptr(WbdMqttClient) self = g_object_new(WBD_TYPE_MQTT_CLIENT, NULL);
	MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer;
	gint rc;

	self->uri = g_strdup(options->uri);
	self->client_id = g_strdup(options->client_id);
	self->username = g_strdup(options->username);
	self->password = g_strdup(options->password);
	self->ca_file = g_strdup(options->ca_file);
	self->cert_file = g_strdup(options->cert_file);
	self->key_file = g_strdup(options->key_file);
	self->will_topic = g_strdup(options->will_topic);
	self->will_payload = g_strdup(options->will_payload);
	self->keep_alive = options->keep_alive > 0 ? options->keep_alive : 60;
	self->v5 = options->mqtt_version == 5;
	self->persistent_session = options->persistent_session;
	self->bridge = wbd_mqtt_bridge_new(self, options);

	/* explicit versions: MQTTVERSION_DEFAULT doubles every CONNECT (3.1 fallback) */
	create.MQTTVersion = self->v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
	create.sendWhileDisconnected = 0;
	/* Paho's command queue bounds publishes under way even while connected: room for
	 * a whole batch of the exporter (a few messages a reading) */
	create.maxBufferedMessages = WBD_MQTT_MAX_QUEUED;
	rc = MQTTAsync_createWithOptions(&self->handle,
					 self->uri,
					 self->client_id,
					 MQTTCLIENT_PERSISTENCE_NONE,
					 NULL,
					 &create);
	if (rc != MQTTASYNC_SUCCESS) {
		self->handle = NULL;
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "cannot create an MQTT client for %s: %s",
			    self->uri,
			    MQTTAsync_strerror(rc));
		return NULL;
	}
	rc = wbd_mqtt_bridge_set_callbacks(self->bridge, self->handle, self->v5);
	if (rc != MQTTASYNC_SUCCESS) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_FAILED,
			    "cannot set up the MQTT client: %s",
			    MQTTAsync_strerror(rc));
		return NULL;
	}
	return g_steal_pointer(&self);
}
