/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "wbd-mqtt-client.h"

/*
 * Batches of QoS 1 publishes for the MQTT client (wbd-mqtt-client.h): handed to Paho a
 * slice at a time, so that a batch of hundreds does not hold the main loop while Paho's
 * threads contend for its lock. The batch's GTask completes when the broker has
 * acknowledged every one, or with the first error.
 */

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
