/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "wbd-exporter-private.h"

/*
 * Delivering what the spool holds (part of WbdExporter, wbd-exporter-private.h): peek
 * the oldest readings not yet handed out, send them as a batch, and remove them from
 * the spool once the kind says the target acknowledged all of them. A kind may have
 * several batches under way (WbdExporterClass.max_batches: MQTT, whose broker
 * acknowledges a stream); removal stays in order, through the last batch of the
 * acknowledged run at the head, so the spool never loses a reading that was not
 * acknowledged. When a batch fails, the others still under way are cancelled and
 * waited for, every batch from the oldest unacknowledged one on is dropped, and after
 * the back-off the next peek starts there again (what follows it may then arrive
 * twice, which at-least-once delivery allows).
 */

#define GET_PRIVATE(o) wbd_exporter_get_private(o)

typedef struct {
	WbdExporter *self; /* while the kind sends */
	GPtrArray *records;
	gint64 last_seq;
	gboolean running; /* send_async under way */
	gboolean done;    /* acknowledged */
	gboolean timed_out;
	GCancellable *cancellable;
	guint timeout_id;
} SendData;

static void
send_data_free(SendData *data)
{
	g_clear_handle_id(&data->timeout_id, g_source_remove);
	g_clear_object(&data->cancellable);
	g_clear_pointer(&data->records, g_ptr_array_unref);
	g_free(data);
}

static guint
wbd_exporter_max_batches(WbdExporter *self)
{
	return MAX(WBD_EXPORTER_GET_CLASS(self)->max_batches, 1);
}

static void
wbd_exporter_retry_later(WbdExporter *self);

static gboolean
wbd_exporter_retry_cb(gpointer user_data)
{
	WbdExporter *self = WBD_EXPORTER(user_data);
	GET_PRIVATE(self)->retry_id = 0;
	wbd_exporter_kick(self);
	return G_SOURCE_REMOVE;
}

static void
wbd_exporter_fail(WbdExporter *self, const GError *error)
{
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	const gchar *old = wattbus_exporter_get_last_error(priv->iface);
	gboolean refused = g_error_matches(error, WBD_EXPORTER_ERROR, WBD_EXPORTER_ERROR_REFUSED);

	wattbus_exporter_set_failed(priv->iface, wattbus_exporter_get_failed(priv->iface) + 1);
	if (g_strcmp0(old, error->message) != 0 || refused)
		wbd_exp_warning(self,
				"%s: %s",
				refused ? "refused, not retrying until flushed or reconfigured"
					: "delivery failed",
				error->message);
	wattbus_exporter_set_last_error(priv->iface, error->message);
	if (refused) {
		priv->refused = TRUE;
		wbd_exporter_set_state(self, STATE_ERROR);
		return;
	}
	wbd_exporter_retry_later(self);
}

static void
wbd_exporter_retry_later(WbdExporter *self)
{
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	priv->backoff_s =
	    priv->backoff_s == 0 ? 1 : MIN(priv->backoff_s * 2, WBD_EXPORTER_MAX_BACKOFF_S);
	wbd_exp_debug(self, "retrying in %u s", priv->backoff_s);
	if (priv->enabled)
		wbd_exporter_set_state(self, STATE_BACKING_OFF);
	g_clear_handle_id(&priv->retry_id, g_source_remove);
	priv->retry_id = g_timeout_add_seconds(priv->backoff_s, wbd_exporter_retry_cb, self);
}

/* the batches under way have failed or will be let fail: the first reason is kept */
static void
wbd_exporter_rewind(WbdExporter *self, GError *error)
{
	WbdExporterPrivate *priv = GET_PRIVATE(self);

	if (priv->rewind != NULL) {
		g_error_free(error);
		return;
	}
	priv->rewind = error;
	for (GList *l = priv->sends.head; l != NULL; l = l->next) {
		SendData *data = l->data;
		if (data->running)
			g_cancellable_cancel(data->cancellable);
	}
}

static void
wbd_exporter_settle(WbdExporter *self);

static void
wbd_exporter_remove_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(WbdExporter) self = WBD_EXPORTER(user_data);
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	g_autoptr(GError) error = NULL;
	guint64 count = 0;
	guint64 sent = 0;
	SendData *data;

	priv->removing = FALSE;
	/* delivered but still there: they will be delivered again, which is allowed */
	if (!wbd_spool_remove_through_finish(WBD_SPOOL(source), res, &count, &error))
		wbd_exp_warning(self, "cannot remove delivered readings: %s", error->message);
	while ((data = g_queue_peek_head(&priv->sends)) != NULL && data->done &&
	       data->last_seq <= priv->removed_through) {
		g_queue_pop_head(&priv->sends);
		sent += data->records->len;
		priv->sends_records -= data->records->len;
		send_data_free(data);
	}
	wattbus_exporter_set_sent(priv->iface, wattbus_exporter_get_sent(priv->iface) + sent);
	if (error == NULL)
		wattbus_exporter_set_queued(priv->iface, count);
	wbd_exporter_settle(self);
}

/*
 * After a batch's end: removes the acknowledged run at the head (one removal at a
 * time), rewinds once nothing is under way after a failure, and peeks again.
 */
static void
wbd_exporter_settle(WbdExporter *self)
{
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	SendData *last_done = NULL;

	if (wbd_exporter_is_stopped(self))
		return;
	for (GList *l = priv->sends.head; priv->rewind != NULL && l != NULL; l = l->next) {
		if (((SendData *)l->data)->running)
			return; /* wait for every batch under way */
	}
	/* and for a peek under way: it would hand out readings past the rewind */
	if (priv->rewind != NULL && priv->peeking)
		return;
	if (priv->rewind != NULL) {
		g_autoptr(GError) error = g_steal_pointer(&priv->rewind);
		GList *l = priv->sends.head;
		SendData *data;

		while (l != NULL && ((SendData *)l->data)->done)
			l = l->next;
		/* from the oldest batch not acknowledged on: dropped, to be peeked again */
		while (l != NULL) {
			GList *next = l->next;
			data = l->data;
			priv->sends_records -= data->records->len;
			send_data_free(data);
			g_queue_delete_link(&priv->sends, l);
			l = next;
		}
		data = g_queue_peek_tail(&priv->sends);
		priv->peeked_through = data != NULL ? data->last_seq : priv->removed_through;
		wbd_exporter_fail(self, error);
	}
	for (GList *l = priv->sends.head; l != NULL && ((SendData *)l->data)->done; l = l->next)
		last_done = l->data;
	if (!priv->removing && last_done != NULL) {
		priv->removing = TRUE;
		priv->removed_through = last_done->last_seq;
		wbd_spool_remove_through_async(priv->spool,
					       priv->id,
					       last_done->last_seq,
					       NULL,
					       wbd_exporter_remove_cb,
					       g_object_ref(self));
	}
	wbd_exporter_kick(self);
}

static void
wbd_exporter_send_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	SendData *data = user_data;
	g_autoptr(WbdExporter) self = g_steal_pointer(&data->self);
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	g_autoptr(GError) error = NULL;
	gboolean ok;

	data->running = FALSE;
	g_clear_handle_id(&data->timeout_id, g_source_remove);
	ok = WBD_EXPORTER_GET_CLASS(self)->send_finish(self, res, &error);
	if (wbd_exporter_is_stopped(self))
		return;
	if (!ok) {
		if (data->timed_out) {
			g_clear_error(&error);
			g_set_error(&error,
				    WBD_EXPORTER_ERROR,
				    WBD_EXPORTER_ERROR_FAILED,
				    "No answer from %s within %u s",
				    wattbus_exporter_get_target(priv->iface),
				    priv->timeout_s);
		}
		wbd_exporter_rewind(self, g_steal_pointer(&error));
		wbd_exporter_settle(self);
		return;
	}
	data->done = TRUE;
	if (priv->rewind == NULL) {
		if (priv->backoff_s > 0 ||
		    !g_str_equal(wattbus_exporter_get_state(priv->iface), STATE_CONNECTED))
			wbd_exp_info(self,
				     "delivering to %s",
				     wattbus_exporter_get_target(priv->iface));
		priv->backoff_s = 0;
		g_object_set(priv->iface,
			     "last-success",
			     (guint64)g_get_real_time(),
			     "last-error",
			     "",
			     NULL);
		if (priv->enabled)
			wbd_exporter_set_state(self, STATE_CONNECTED);
	}
	wbd_exporter_settle(self);
}

static gboolean
wbd_exporter_send_timeout_cb(gpointer user_data)
{
	SendData *data = user_data;
	data->timeout_id = 0;
	data->timed_out = TRUE;
	g_cancellable_cancel(data->cancellable);
	return G_SOURCE_REMOVE;
}

static void
wbd_exporter_peek_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(WbdExporter) self = WBD_EXPORTER(user_data);
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	g_autoptr(GPtrArray) records = NULL;
	g_autoptr(GError) error = NULL;
	SendData *data;

	priv->peeking = FALSE;
	records = wbd_spool_peek_finish(WBD_SPOOL(source), res, &error);
	if (records == NULL) {
		wbd_exporter_rewind(self, g_steal_pointer(&error));
		wbd_exporter_settle(self);
		return;
	}
	if (priv->rewind != NULL) {
		wbd_exporter_settle(self); /* dropped: the rewind waited for it */
		return;
	}
	if (records->len == 0 || wbd_exporter_is_stopped(self) || !priv->enabled)
		return;
	data = g_new0(SendData, 1);
	data->records = g_steal_pointer(&records);
	data->last_seq = ((WbdSpoolRecord *)g_ptr_array_index(data->records,
							       data->records->len - 1))
			     ->seq;
	priv->peeked_through = data->last_seq;
	priv->sends_records += data->records->len;
	g_queue_push_tail(&priv->sends, data);
	data->self = g_object_ref(self);
	data->running = TRUE;
	data->cancellable = g_cancellable_new();
	data->timeout_id = g_timeout_add_seconds(priv->timeout_s, wbd_exporter_send_timeout_cb, data);
	wbd_exp_debug(self, "sending %u readings", data->records->len);
	WBD_EXPORTER_GET_CLASS(self)->send_async(self,
						 data->records,
						 data->cancellable,
						 wbd_exporter_send_cb,
						 data);
	wbd_exporter_kick(self); /* the next batch, if the kind takes several */
}

/* peeks the oldest queued readings not handed out yet, unless something stands in the way */
void
wbd_exporter_kick(WbdExporter *self)
{
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	guint64 queued = wattbus_exporter_get_queued(priv->iface);

	if (!priv->started || wbd_exporter_is_stopped(self) || !priv->enabled || priv->refused ||
	    priv->retry_id != 0 || wbd_exporter_is_live(self) || priv->peeking ||
	    priv->rewind != NULL || priv->sends.length >= wbd_exporter_max_batches(self) ||
	    queued <= priv->sends_records)
		return;
	priv->peeking = TRUE;
	if (!g_str_equal(wattbus_exporter_get_state(priv->iface), STATE_CONNECTED))
		wbd_exporter_set_state(self, STATE_CONNECTING);
	wbd_spool_peek_after_async(priv->spool,
				   priv->id,
				   priv->peeked_through,
				   priv->batch_size,
				   NULL,
				   wbd_exporter_peek_cb,
				   g_object_ref(self));
}

/* a peek, a send or a removal is under way */
gboolean
wbd_exporter_is_sending(WbdExporter *self)
{
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	return priv->peeking || priv->removing || priv->sends.length > 0;
}

/* the exporter stops: what is under way is cancelled */
void
wbd_exporter_cancel_sends(WbdExporter *self)
{
	WbdExporterPrivate *priv = GET_PRIVATE(self);

	for (GList *l = priv->sends.head; l != NULL; l = l->next) {
		SendData *data = l->data;
		g_clear_handle_id(&data->timeout_id, g_source_remove);
		g_cancellable_cancel(data->cancellable);
	}
}

void
wbd_exporter_clear_sends(WbdExporter *self)
{
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	g_queue_clear_full(&priv->sends, (GDestroyNotify)send_data_free);
	g_clear_error(&priv->rewind);
}

/**
 * wbd_exporter_retry_now:
 *
 * For kinds that learn by themselves that the target is reachable again (a broker
 * connection is back): ends a back-off, not a refusal, and delivers what is queued.
 */
void
wbd_exporter_retry_now(WbdExporter *self)
{
	WbdExporterPrivate *priv = GET_PRIVATE(self);

	if (priv->retry_id == 0)
		return;
	g_clear_handle_id(&priv->retry_id, g_source_remove);
	wbd_exporter_kick(self);
}
