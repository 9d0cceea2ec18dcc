/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "wbd-mqtt-client-private.h"

/*
 * Batches of QoS 1 publishes for the MQTT client (wbd-mqtt-client.h), and the client's
 * window of publishes handed to Paho (WbdMqttFlow). A batch's GTask completes when the
 * broker has acknowledged every one of its messages, or with the first error.
 *
 * Paho's cost per message grows with what it holds: each new message id is looked for
 * in its command queue, its in-flight list and its response list, one element at a
 * time, and every allocation goes into its heap tracker's tree. So the client hands Paho
 * at most WBD_MQTT_WINDOW publishes at a time, from the batches in order, and tops the
 * window up as the acknowledgements come in (in the main context, several a wake-up:
 * wbd-mqtt-bridge.c). That also bounds what one main-loop iteration does. A batch keeps
 * its messages in two arrays (no allocation per message); its publishes are found by
 * their Paho token. Paho's message ids count up from the last one and are taken again
 * only after 65,535 others: with at most WBD_MQTT_WINDOW in flight, an acknowledgement
 * still queued for the main context cannot be confused with a later publish.
 */

typedef struct {
	guint topic;   /* offsets in the batch's text */
	guint payload;
	guint length;
	gboolean retain;
} Message;

struct _WbdMqttBatch {
	GTask *task;           /* until completed */
	WbdMqttClient *client; /* until completed */
	GArray *messages;      /* Message */
	GByteArray *text;      /* the topics and payloads, NUL-terminated */
	guint next;            /* the first message not yet handed to Paho */
	guint outstanding;     /* handed to Paho and not yet answered */
	gboolean ended;        /* wbd_mqtt_batch_end() was called */
	gboolean waiting;      /* in the flow's queue */
	GSource *cancel_source;
};

static WbdMqttBatch *
batch_ref(WbdMqttBatch *batch)
{
	return g_rc_box_acquire(batch);
}

static void
batch_clear(WbdMqttBatch *batch)
{
	g_assert(batch->task == NULL && batch->cancel_source == NULL);
	g_array_unref(batch->messages);
	g_byte_array_unref(batch->text);
	g_clear_object(&batch->client);
}

static void
batch_unref(WbdMqttBatch *batch)
{
	g_rc_box_release_full(batch, (GDestroyNotify)batch_clear);
}

/* completes the batch's task (once): with @error, or with success */
static void
batch_complete(WbdMqttBatch *batch, GError *error)
{
	g_autoptr(GTask) task = g_steal_pointer(&batch->task);

	if (task == NULL) {
		g_clear_error(&error);
		return;
	}
	if (batch->cancel_source != NULL) {
		g_source_destroy(batch->cancel_source);
		g_clear_pointer(&batch->cancel_source, g_source_unref);
	}
	batch->next = batch->messages->len; /* nothing more goes to Paho */
	if (error != NULL)
		g_task_return_error(task, error);
	else
		g_task_return_boolean(task, TRUE);
}

static void
batch_check_done(WbdMqttBatch *batch)
{
	if (batch->ended && batch->next == batch->messages->len && batch->outstanding == 0)
		batch_complete(batch, NULL);
}

/* the flow: in the client, in the main context */

void
wbd_mqtt_flow_init(WbdMqttFlow *flow)
{
	g_queue_init(&flow->waiting);
	flow->tokens = g_hash_table_new_full(g_direct_hash,
					     g_direct_equal,
					     NULL,
					     (GDestroyNotify)batch_unref);
	flow->in_flight = 0;
}

/**
 * wbd_mqtt_flow_fail_all:
 *
 * Fails every batch the flow knows (the connection is lost, or the client closed): what
 * is left in Paho is forgotten (the spool sends it again).
 */
void
wbd_mqtt_flow_fail_all(WbdMqttFlow *flow, GQuark domain, gint code, const gchar *why)
{
	g_autoptr(GPtrArray) batches = g_ptr_array_new_with_free_func((GDestroyNotify)batch_unref);
	GHashTableIter iter;
	gpointer value;
	WbdMqttBatch *batch;

	g_hash_table_iter_init(&iter, flow->tokens);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		g_ptr_array_add(batches, batch_ref(value));
	while ((batch = g_queue_pop_head(&flow->waiting)) != NULL) {
		batch->waiting = FALSE;
		g_ptr_array_add(batches, batch); /* the queue's reference */
	}
	g_hash_table_remove_all(flow->tokens);
	flow->in_flight = 0;
	for (guint i = 0; i < batches->len; i++) {
		batch = g_ptr_array_index(batches, i);
		batch->outstanding = 0;
		batch_complete(batch, g_error_new_literal(domain, code, why));
	}
}

void
wbd_mqtt_flow_clear(WbdMqttFlow *flow)
{
	if (flow->tokens == NULL)
		return;
	wbd_mqtt_flow_fail_all(flow, G_IO_ERROR, G_IO_ERROR_CLOSED, "the MQTT client is gone");
	g_clear_pointer(&flow->tokens, g_hash_table_unref);
}

/**
 * wbd_mqtt_flow_answered:
 * @error: (nullable): why the broker did not take it; %NULL: acknowledged
 *
 * Returns: %FALSE if @token is not a batch's publish
 */
gboolean
wbd_mqtt_flow_answered(WbdMqttFlow *flow, gint token, const GError *error)
{
	WbdMqttBatch *batch = NULL;

	if (!g_hash_table_steal_extended(flow->tokens,
					 GINT_TO_POINTER(token),
					 NULL,
					 (gpointer *)&batch))
		return FALSE;
	flow->in_flight--;
	batch->outstanding--;
	if (error != NULL)
		batch_complete(batch, g_error_copy(error));
	else
		batch_check_done(batch);
	batch_unref(batch);
	return TRUE;
}

/**
 * wbd_mqtt_flow_pump:
 *
 * Tops the window up from the batches waiting, oldest first.
 */
void
wbd_mqtt_flow_pump(WbdMqttFlow *flow)
{
	WbdMqttBatch *batch;

	while (flow->in_flight < WBD_MQTT_WINDOW && (batch = g_queue_peek_head(&flow->waiting)) != NULL) {
		if (batch->next < batch->messages->len) {
			const Message *message = &g_array_index(batch->messages, Message, batch->next);
			const gchar *text = (const gchar *)batch->text->data;
			g_autoptr(GError) error = NULL;
			gint token = 0;

			if (!wbd_mqtt_client_send(batch->client,
						  text + message->topic,
						  text + message->payload,
						  message->length,
						  message->retain,
						  &token,
						  &error)) {
				batch_complete(batch, g_steal_pointer(&error));
			} else {
				batch->next++;
				batch->outstanding++;
				flow->in_flight++;
				g_hash_table_insert(flow->tokens, GINT_TO_POINTER(token), batch_ref(batch));
			}
		}
		if (batch->next == batch->messages->len) {
			g_queue_pop_head(&flow->waiting);
			batch->waiting = FALSE;
			batch_check_done(batch);
			batch_unref(batch);
		}
	}
}

/* batches */

static void
batch_task_data_free(gpointer data)
{
	batch_unref(data);
}

/**
 * wbd_mqtt_batch_begin:
 * @task: completed by wbd_mqtt_batch_end() and the acknowledgements
 */
void
wbd_mqtt_batch_begin(GTask *task)
{
	WbdMqttBatch *batch = g_rc_box_new0(WbdMqttBatch);

	batch->messages = g_array_new(FALSE, FALSE, sizeof(Message));
	batch->text = g_byte_array_new();
	g_task_set_task_data(task, batch, batch_task_data_free);
}

static guint
batch_add_text(WbdMqttBatch *batch, const gchar *text, gsize length)
{
	guint offset = batch->text->len;

	g_byte_array_append(batch->text, (const guint8 *)text, (guint)length);
	g_byte_array_append(batch->text, (const guint8 *)"", 1);
	return offset;
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
	WbdMqttBatch *batch = g_task_get_task_data(task);
	Message message = {0};

	if (batch->client == NULL)
		batch->client = g_object_ref(self);
	g_return_if_fail(batch->client == self && !batch->ended);
	message.length = (guint)strlen(payload);
	message.topic = batch_add_text(batch, topic, strlen(topic));
	message.payload = batch_add_text(batch, payload, message.length);
	message.retain = retain;
	g_array_append_val(batch->messages, message);
}

static gboolean
batch_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	WbdMqttBatch *batch = user_data;

	/* being dispatched: it goes by itself */
	g_clear_pointer(&batch->cancel_source, g_source_unref);
	batch_complete(batch, g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED, "Operation was cancelled"));
	return G_SOURCE_REMOVE;
}

/**
 * wbd_mqtt_batch_end:
 *
 * Hands the batch to its client: its publishes go to Paho as the window allows.
 */
void
wbd_mqtt_batch_end(GTask *task)
{
	WbdMqttBatch *batch = g_task_get_task_data(task);
	GCancellable *cancellable = g_task_get_cancellable(task);

	batch->ended = TRUE;
	if (g_task_return_error_if_cancelled(task))
		return;
	batch->task = g_object_ref(task);
	if (batch->messages->len == 0) {
		batch_complete(batch, NULL);
		return;
	}
	if (!wbd_mqtt_client_is_connected(batch->client)) {
		batch_complete(batch,
			       g_error_new_literal(G_IO_ERROR,
						   G_IO_ERROR_NOT_CONNECTED,
						   "not connected to the broker"));
		return;
	}
	if (cancellable != NULL) {
		batch->cancel_source = g_cancellable_source_new(cancellable);
		g_source_set_callback(batch->cancel_source,
				      G_SOURCE_FUNC(batch_cancelled_cb),
				      batch_ref(batch),
				      (GDestroyNotify)batch_unref);
		g_source_attach(batch->cancel_source, g_task_get_context(task));
	}
	batch->waiting = TRUE;
	g_queue_push_tail(&wbd_mqtt_client_get_flow(batch->client)->waiting, batch_ref(batch));
	wbd_mqtt_flow_pump(wbd_mqtt_client_get_flow(batch->client));
	wbd_mqtt_client_update_wake(batch->client);
}
