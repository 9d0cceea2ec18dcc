/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <MQTTAsync.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-mqtt-client.h"

/*
 * Eclipse Paho's asynchronous client (paho-mqtt3as) in the GLib main loop
 * (shared/specs/mqtt-clouds.md §6). Paho runs every callback on its own threads:
 * there they only copy what they got into an Event and attach an idle source to the
 * main context that created the client; GLib objects are touched only there. The
 * callbacks' context is a Bridge, reference counted, with a weak reference to the
 * client, so an event that arrives after the client is gone is dropped.
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
#define WBD_MQTT_FAREWELL_MS 500
#define WBD_MQTT_MAX_QUEUED 100000
/* the largest inbound message kept: the kinds' parsers take 64 KiB at most, and the
 * clouds send no more (Azure C2D 64 KiB); a broker may send up to 256 MB */
#define WBD_MQTT_MAX_INBOUND (256 * 1024)
#define WBD_MQTT_RENEW_DISCONNECT_MS 2000
#define WBD_MQTT_RENEW_MARGIN_MS 3000 /* for the new connect, before the old token expires */
#define WBD_MQTT_SESSION_EXPIRY_S 86400

/* what a finished MQTTAsync_disconnect() calls (on Paho's thread): the first member of
 * the context given to it */
typedef void (*DisconnectedFunc)(gpointer context);

/* shared with Paho's threads: the client (weakly), and the password maker */
typedef struct {
	DisconnectedFunc disconnected; /* a disconnect to renew the credentials is done */
	GMainContext *context;
	GWeakRef client;
	WbdMqttPasswordFunc password_func;
	gpointer password_data;
	GDestroyNotify password_destroy;
	GMutex lock;      /* guards what follows */
	gint64 issued;    /* when the current password was made, Unix seconds */
	gint64 expiry;    /* and when it expires */
	GQueue events;    /* Events for the main context, oldest first */
	gboolean scheduled; /* an idle source will take them */
} Bridge;

static void
event_free(gpointer event);

static void
bridge_clear(Bridge *bridge)
{
	g_main_context_unref(bridge->context);
	g_weak_ref_clear(&bridge->client);
	if (bridge->password_destroy != NULL)
		bridge->password_destroy(bridge->password_data);
	g_queue_clear_full(&bridge->events, event_free);
	g_mutex_clear(&bridge->lock);
}

/* a new password from password_func, any thread; NULL with @error */
static gchar *
bridge_make_password(Bridge *bridge, GError **error)
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

static void
wipe_password(gchar *password)
{
	if (password == NULL)
		return;
	memset(password, 0, strlen(password));
	g_free(password);
}

static void
bridge_unref(Bridge *bridge)
{
	g_atomic_rc_box_release_full(bridge, (GDestroyNotify)bridge_clear);
}

typedef enum {
	EVENT_CONNECTED,
	EVENT_LOST,
	EVENT_CONNECT_FAILED,
	EVENT_MESSAGE,
	EVENT_PUBLISHED,
	EVENT_PUBLISH_FAILED,
	EVENT_RENEW, /* disconnected to renew the credentials */
} EventKind;

typedef struct {
	EventKind kind;
	gint token;
	gint code;
	gchar *text;
	gchar *topic;
	GBytes *payload;
	gboolean retained;
} Event;

static void
event_free(gpointer data)
{
	Event *event = data;
	g_free(event->text);
	g_free(event->topic);
	g_clear_pointer(&event->payload, g_bytes_unref);
	g_free(event);
}

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
	Bridge *bridge;
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
};

G_DEFINE_TYPE(WbdMqttClient, wbd_mqtt_client, G_TYPE_OBJECT)

enum { SIGNAL_CONNECTED, SIGNAL_DISCONNECTED, SIGNAL_MESSAGE, N_SIGNALS };
static guint signals[N_SIGNALS] = {0};

/* in the main context */

static void
wbd_mqtt_client_fail_pending(WbdMqttClient *self, const gchar *why)
{
	g_autoptr(GList) tokens = g_hash_table_get_keys(self->pending);

	for (GList *l = tokens; l != NULL; l = l->next) {
		Pending *pending = g_hash_table_lookup(self->pending, l->data);
		g_autoptr(GTask) task = g_object_ref(pending->task);
		g_hash_table_remove(self->pending, l->data);
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "%s", why);
	}
}

static void
wbd_mqtt_client_complete(WbdMqttClient *self, Event *event)
{
	Pending *pending = g_hash_table_lookup(self->pending, GINT_TO_POINTER(event->token));
	g_autoptr(GTask) task = NULL;

	if (pending == NULL)
		return; /* cancelled or failed meanwhile */
	task = g_object_ref(pending->task);
	g_hash_table_remove(self->pending, GINT_TO_POINTER(event->token));
	if (event->kind == EVENT_PUBLISHED)
		g_task_return_boolean(task, TRUE);
	else
		g_task_return_new_error(task,
					G_IO_ERROR,
					G_IO_ERROR_FAILED,
					"the broker did not take the message (%d%s%s)",
					event->code,
					event->text != NULL ? ": " : "",
					event->text != NULL ? event->text : "");
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

static void
wbd_mqtt_client_handle(WbdMqttClient *self, Event *event)
{
	switch (event->kind) {
	case EVENT_CONNECTED:
		self->connected = TRUE;
		wbd_mqtt_client_schedule_renewal(self);
		for (guint i = 0; i < self->filters->len; i++)
			wbd_mqtt_client_subscribe_now(self, g_ptr_array_index(self->filters, i));
		g_signal_emit(self, signals[SIGNAL_CONNECTED], 0);
		break;
	case EVENT_RENEW:
		/* late: the connection was lost meanwhile, and restarted (below) */
		if (!self->renewing)
			break;
		/* what was still in flight is sent again by the exporter's spool */
		self->connected = FALSE;
		self->renewing = FALSE;
		wbd_mqtt_client_fail_pending(self, "reconnecting with new credentials");
		wbd_mqtt_client_start(self);
		break;
	case EVENT_LOST:
	case EVENT_CONNECT_FAILED:
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
	case EVENT_MESSAGE:
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
	case EVENT_PUBLISHED:
	case EVENT_PUBLISH_FAILED:
		wbd_mqtt_client_complete(self, event);
		break;
	}
}

/* in the main context: every event posted since the last time, in order (one wake-up
 * for a burst of acknowledgements, not one each) */
static gboolean
wbd_mqtt_client_dispatch(gpointer user_data)
{
	Bridge *bridge = user_data;
	g_autoptr(WbdMqttClient) self = g_weak_ref_get(&bridge->client);
	GQueue events = G_QUEUE_INIT;
	Event *event;

	g_mutex_lock(&bridge->lock);
	events = bridge->events;
	g_queue_init(&bridge->events);
	bridge->scheduled = FALSE;
	g_mutex_unlock(&bridge->lock);
	while ((event = g_queue_pop_head(&events)) != NULL) {
		if (self != NULL && !self->closed)
			wbd_mqtt_client_handle(self, event);
		event_free(event);
	}
	return G_SOURCE_REMOVE;
}

/* on Paho's threads: copy, post, nothing else */

static void
post(Bridge *bridge, Event *event)
{
	gboolean schedule;

	g_mutex_lock(&bridge->lock);
	g_queue_push_tail(&bridge->events, event);
	schedule = !bridge->scheduled;
	bridge->scheduled = TRUE;
	g_mutex_unlock(&bridge->lock);
	if (schedule) {
		GSource *source = g_idle_source_new();
		g_source_set_callback(source,
				      wbd_mqtt_client_dispatch,
				      g_atomic_rc_box_acquire(bridge),
				      (GDestroyNotify)bridge_unref);
		g_source_attach(source, bridge->context);
		g_source_unref(source);
	}
}

static void
post_simple(void *context, EventKind kind, gint token, gint code, const gchar *text)
{
	Event *event = g_new0(Event, 1);
	event->kind = kind;
	event->token = token;
	event->code = code;
	event->text = g_strdup(text);
	post(context, event);
}

static void
on_connected(void *context, char *cause)
{
	post_simple(context, EVENT_CONNECTED, 0, 0, NULL);
}

static void
on_connection_lost(void *context, char *cause)
{
	post_simple(context, EVENT_LOST, 0, 0, cause != NULL ? cause : "connection lost");
}

static int
on_message(void *context, char *topic, int topic_len, MQTTAsync_message *message)
{
	Event *event = g_new0(Event, 1);

	event->kind = EVENT_MESSAGE;
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
	post_simple(context,
		    EVENT_CONNECT_FAILED,
		    0,
		    response != NULL ? response->code : -1,
		    response != NULL && response->message != NULL ? response->message
								    : "cannot connect");
}

static void
on_connect_failure5(void *context, MQTTAsync_failureData5 *response)
{
	post_simple(context,
		    EVENT_CONNECT_FAILED,
		    0,
		    response != NULL ? (gint)response->reasonCode : -1,
		    response != NULL && response->message != NULL ? response->message
								    : "cannot connect");
}

/* a disconnect is done, for better or worse: whoever asked for it goes on */
static void
on_disconnected(void *context, MQTTAsync_successData *response)
{
	(*(DisconnectedFunc *)context)(context);
}

static void
on_disconnected5(void *context, MQTTAsync_successData5 *response)
{
	(*(DisconnectedFunc *)context)(context);
}

static void
on_disconnect_failed(void *context, MQTTAsync_failureData *response)
{
	(*(DisconnectedFunc *)context)(context);
}

static void
on_disconnect_failed5(void *context, MQTTAsync_failureData5 *response)
{
	(*(DisconnectedFunc *)context)(context);
}

static void
set_disconnected_callbacks(MQTTAsync_disconnectOptions *disc, gboolean v5, gpointer context)
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
	post_simple(context, EVENT_RENEW, 0, 0, NULL);
}

/* MQTT 5: the server sent DISCONNECT (Paho then does not call connectionLost, §6.9) */
static void
on_server_disconnect(void *context, MQTTProperties *properties, enum MQTTReasonCodes reason)
{
	g_autofree gchar *why =
	    g_strdup_printf("the broker disconnected: %s", MQTTReasonCode_toString(reason));
	post_simple(context, EVENT_LOST, 0, (gint)reason, why);
}

/* before each automatic reconnect, with Paho's lock held: a fresh password */
static int
on_update_connect_options(void *context, MQTTAsync_connectData *data)
{
	Bridge *bridge = context;
	g_autoptr(GError) error = NULL;
	gchar *password;
	gsize length;

	if (bridge->password_func == NULL)
		return 0;
	password = bridge_make_password(bridge, &error);
	if (password == NULL) {
		/* reported at the connect's failure; the old password is tried */
		return 0;
	}
	length = strlen(password);
	data->binarypwd.data = MQTTAsync_malloc(length + 1);
	if (data->binarypwd.data == NULL) {
		wipe_password(password);
		return 0;
	}
	memcpy((void *)data->binarypwd.data, password, length + 1);
	data->binarypwd.len = (int)length;
	wipe_password(password);
	return 1;
}

static void
on_published(void *context, MQTTAsync_successData *response)
{
	post_simple(context, EVENT_PUBLISHED, response->token, 0, NULL);
}

static void
on_published5(void *context, MQTTAsync_successData5 *response)
{
	post_simple(context, EVENT_PUBLISHED, response->token, 0, NULL);
}

static void
on_publish_failure(void *context, MQTTAsync_failureData *response)
{
	post_simple(context,
		    EVENT_PUBLISH_FAILED,
		    response->token,
		    response->code,
		    response->message);
}

static void
on_publish_failure5(void *context, MQTTAsync_failureData5 *response)
{
	post_simple(context,
		    EVENT_PUBLISH_FAILED,
		    response->token,
		    response->reasonCode,
		    response->message);
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
	return G_SOURCE_REMOVE;
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
	MQTTAsync_responseOptions opts = MQTTAsync_responseOptions_initializer;
	MQTTAsync_message message = MQTTAsync_message_initializer;
	Pending *pending;
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
	message.payload = (void *)payload;
	message.payloadlen = (int)length;
	message.qos = qos;
	message.retained = retain;
	opts.context = self->bridge;
	if (self->v5) {
		opts.onSuccess5 = on_published5;
		opts.onFailure5 = on_publish_failure5;
	} else {
		opts.onSuccess = on_published;
		opts.onFailure = on_publish_failure;
	}
	rc = MQTTAsync_sendMessage(self->handle, topic, &message, &opts);
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
	g_hash_table_replace(self->pending, GINT_TO_POINTER(opts.token), pending);
}

gboolean
wbd_mqtt_client_publish_finish(WbdMqttClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* batches: handed to Paho a slice at a time, so that a batch of hundreds does not hold
 * the main loop while Paho's threads contend for its lock */

#define WBD_MQTT_BATCH_SLICE 50

typedef struct {
	gchar *topic;
	gchar *payload;
	gboolean retain;
} Message;

static void
message_free(Message *message)
{
	g_free(message->topic);
	g_free(message->payload);
	g_free(message);
}

typedef struct {
	guint outstanding;
	GError *error;
	WbdMqttClient *client;
	GQueue messages; /* not yet handed to Paho */
	guint pump_id;
} Batch;

static void
batch_free(Batch *batch)
{
	g_clear_error(&batch->error);
	g_clear_handle_id(&batch->pump_id, g_source_remove);
	g_queue_clear_full(&batch->messages, (GDestroyNotify)message_free);
	g_clear_object(&batch->client);
	g_free(batch);
}

/**
 * wbd_mqtt_batch_begin:
 * @task: completed by wbd_mqtt_batch_end() and the acknowledgements
 */
void
wbd_mqtt_batch_begin(GTask *task)
{
	Batch *batch = g_new0(Batch, 1);
	batch->outstanding = 1; /* until wbd_mqtt_batch_end() */
	g_task_set_task_data(task, batch, (GDestroyNotify)batch_free);
}

/* one publish of the batch done, or the batch's end: the last one completes the task */
static void
batch_done(GTask *task, const GError *error)
{
	Batch *batch = g_task_get_task_data(task);

	if (error != NULL && batch->error == NULL)
		batch->error = g_error_copy(error);
	if (--batch->outstanding > 0)
		return;
	if (batch->error == NULL)
		g_task_return_boolean(task, TRUE);
	else
		g_task_return_error(task, g_steal_pointer(&batch->error));
}

static void
batch_publish_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GError) error = NULL;

	wbd_mqtt_client_publish_finish(WBD_MQTT_CLIENT(source), res, &error);
	batch_done(task, error);
}

/**
 * wbd_mqtt_batch_publish:
 *
 * Adds a QoS 1 publish to the batch; it goes to Paho after wbd_mqtt_batch_end(), in
 * the order added.
 */
void
wbd_mqtt_batch_publish(WbdMqttClient *self,
		       GTask *task,
		       const gchar *topic,
		       const gchar *payload,
		       gboolean retain)
{
	Batch *batch = g_task_get_task_data(task);
	Message *message = g_new0(Message, 1);

	if (batch->client == NULL)
		batch->client = g_object_ref(self);
	g_return_if_fail(batch->client == self);
	message->topic = g_strdup(topic);
	message->payload = g_strdup(payload);
	message->retain = retain;
	batch->outstanding++;
	g_queue_push_tail(&batch->messages, message);
}

static gboolean
batch_pump_cb(gpointer user_data)
{
	GTask *task = user_data;
	Batch *batch = g_task_get_task_data(task);

	for (guint i = 0; i < WBD_MQTT_BATCH_SLICE; i++) {
		Message *message = g_queue_pop_head(&batch->messages);
		if (message == NULL)
			break;
		wbd_mqtt_client_publish_async(batch->client,
					      message->topic,
					      message->payload,
					      strlen(message->payload),
					      1,
					      message->retain,
					      g_task_get_cancellable(task),
					      batch_publish_cb,
					      g_object_ref(task));
		message_free(message);
	}
	if (!g_queue_is_empty(&batch->messages))
		return G_SOURCE_CONTINUE;
	batch->pump_id = 0;
	batch_done(task, NULL); /* the end: what is outstanding now is Paho's */
	return G_SOURCE_REMOVE;
}

void
wbd_mqtt_batch_end(GTask *task)
{
	Batch *batch = g_task_get_task_data(task);

	if (g_queue_is_empty(&batch->messages)) {
		batch_done(task, NULL);
		return;
	}
	/* the first slice now, the rest from the main loop */
	if (batch_pump_cb(task) == G_SOURCE_CONTINUE)
		batch->pump_id = g_idle_add_full(G_PRIORITY_DEFAULT,
						 batch_pump_cb,
						 g_object_ref(task),
						 g_object_unref);
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
	set_disconnected_callbacks(&disc, self->v5, self->bridge);
	self->renewing = TRUE;
	/* nothing new from now on (the spool keeps it): only the in-flight to wait for */
	self->connected = FALSE;
	if (MQTTAsync_disconnect(self->handle, &disc) != MQTTASYNC_SUCCESS)
		post_simple(self->bridge, EVENT_RENEW, 0, 0, NULL);
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
		password = bridge_make_password(self->bridge, &error);
		if (password == NULL) {
			post_simple(self->bridge, EVENT_CONNECT_FAILED, 0, -1, error->message);
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
	if (self->v5)
		o->onFailure5 = on_connect_failure5;
	else
		o->onFailure = on_connect_failure;
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
	wipe_password(password);
	if (rc != MQTTASYNC_SUCCESS)
		post_simple(self->bridge, EVENT_CONNECT_FAILED, 0, rc, MQTTAsync_strerror(rc));
}

/* Clients closing in the background: the farewell and the DISCONNECT go out while the
 * main loop goes on; the Paho handle is destroyed on the main thread once Paho is done
 * (never in Paho's callback, §6.9), or by wbd_mqtt_client_shutdown() when the daemon
 * ends. */
typedef struct {
	DisconnectedFunc disconnected;
	GMainContext *context;
	MQTTAsync handle; /* NULL once destroyed */
	gboolean done;    /* Paho finished the disconnect */
	Bridge *bridge;   /* the context of the handle's other callbacks, kept alive */
} Closing;

static GMutex closing_lock;
static GCond closing_cond;
static GPtrArray *closings; /* Closing being closed; each holds a reference */

static void
closing_clear(Closing *closing)
{
	g_main_context_unref(closing->context);
	bridge_unref(closing->bridge);
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
		MQTTAsync_disconnectOptions disc = MQTTAsync_disconnectOptions_initializer;
		Closing *closing = g_atomic_rc_box_new0(Closing);

		if (farewell_topic != NULL) {
			message.payload = (void *)farewell;
			message.payloadlen = (int)strlen(farewell);
			message.qos = 1;
			message.retained = 1;
			MQTTAsync_sendMessage(self->handle, farewell_topic, &message, &opts);
		}
		closing->disconnected = closing_disconnected;
		closing->context = g_main_context_ref(self->bridge->context);
		closing->bridge = g_atomic_rc_box_acquire(self->bridge);
		closing->handle = g_steal_pointer(&self->handle);
		g_mutex_lock(&closing_lock);
		if (closings == NULL)
			closings = g_ptr_array_new();
		g_ptr_array_add(closings, closing); /* the list's reference */
		g_mutex_unlock(&closing_lock);
		/* in flight (the farewell) gets this long */
		disc.timeout = WBD_MQTT_FAREWELL_MS;
		set_disconnected_callbacks(&disc, self->v5, closing);
		if (MQTTAsync_disconnect(closing->handle, &disc) != MQTTASYNC_SUCCESS)
			closing_disconnected(closing);
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
	if (self->bridge != NULL)
		bridge_unref(self->bridge);
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
	self->bridge = g_atomic_rc_box_new0(Bridge);
	self->bridge->context = g_main_context_ref_thread_default();
	g_weak_ref_init(&self->bridge->client, self);
	g_mutex_init(&self->bridge->lock);
	self->bridge->disconnected = bridge_renew_disconnected;
	self->bridge->password_func = options->password_func;
	self->bridge->password_data = options->password_data;
	self->bridge->password_destroy = options->password_destroy;

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
	rc = MQTTAsync_setCallbacks(self->handle,
				    self->bridge,
				    on_connection_lost,
				    on_message,
				    NULL);
	if (rc == MQTTASYNC_SUCCESS)
		rc = MQTTAsync_setConnected(self->handle, self->bridge, on_connected);
	if (rc == MQTTASYNC_SUCCESS && self->v5)
		rc = MQTTAsync_setDisconnected(self->handle, self->bridge, on_server_disconnect);
	if (rc == MQTTASYNC_SUCCESS && self->bridge->password_func != NULL)
		rc = MQTTAsync_setUpdateConnectOptions(self->handle,
						       self->bridge,
						       on_update_connect_options);
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
