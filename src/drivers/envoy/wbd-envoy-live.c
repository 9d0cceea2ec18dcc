/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <wattbus-glib.h>

#include "wbd-envoy-live.h"
#include "wbd-envoy-stream.h"
#include "wbd-log.h"

#define WBD_ENVOY_LIVE_PATH "/stream/meter"
#define WBD_ENVOY_LIVE_READ_SIZE 4096

/*
 * The /stream/meter event stream of a metered gateway (spec §5): about one event a
 * second, for as long as the connection lasts. When it breaks, closes, or stays
 * silent for longer than the time-out, it is opened again after 1, 2, 4 ... 60 s.
 * A gateway that refuses it (401/403: the credentials are not an installer's, or
 * 404) is not asked again; the device then polls.
 */
struct _WbdEnvoyLive {
	GObject parent_instance;
	WbdEnvoyClient *client;
	gchar *device_id;
	guint timeout_s;
	WbdEnvoyStreamParser *parser;
	guint generation; /* of the connection; callbacks of older ones are ignored */
	GCancellable *cancellable;
	GInputStream *stream;
	guint retry_id;
	guint idle_id;
	guint backoff_s;
	gboolean running;
	gboolean refused;
	gboolean announced; /* the current connection has delivered an event */
	gint64 last_event;  /* monotonic µs */
};

G_DEFINE_TYPE(WbdEnvoyLive, wbd_envoy_live, G_TYPE_OBJECT)

enum { SIGNAL_EVENT, N_SIGNALS };
static guint signals[N_SIGNALS] = {0};

typedef struct {
	WbdEnvoyLive *self;
	guint generation;
} LiveOp;

static LiveOp *
live_op_new(WbdEnvoyLive *self)
{
	LiveOp *op = g_new0(LiveOp, 1);
	op->self = g_object_ref(self);
	op->generation = self->generation;
	return op;
}

static void
live_op_free(LiveOp *op)
{
	g_object_unref(op->self);
	g_free(op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LiveOp, live_op_free)

static gboolean
live_op_is_current(LiveOp *op)
{
	return op->self->running && op->generation == op->self->generation;
}

static void wbd_envoy_live_connect(WbdEnvoyLive *self);

static void
wbd_envoy_live_close(WbdEnvoyLive *self)
{
	self->generation++;
	if (self->cancellable != NULL)
		g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->stream);
	g_clear_handle_id(&self->idle_id, g_source_remove);
	g_clear_handle_id(&self->retry_id, g_source_remove);
}

static gboolean
wbd_envoy_live_retry_cb(gpointer user_data)
{
	WbdEnvoyLive *self = WBD_ENVOY_LIVE(user_data);
	self->retry_id = 0;
	wbd_envoy_live_connect(self);
	return G_SOURCE_REMOVE;
}

static void
wbd_envoy_live_reconnect_later(WbdEnvoyLive *self, const gchar *why)
{
	wbd_envoy_live_close(self);
	self->backoff_s =
	    self->backoff_s == 0 ? 1 : MIN(self->backoff_s * 2, WBD_ENVOY_LIVE_MAX_BACKOFF_S);
	wbd_log_debug(self->device_id, "live stream: %s; reconnecting in %u s", why, self->backoff_s);
	self->retry_id = g_timeout_add_seconds(self->backoff_s, wbd_envoy_live_retry_cb, self);
}

static gboolean
wbd_envoy_live_idle_cb(gpointer user_data)
{
	WbdEnvoyLive *self = WBD_ENVOY_LIVE(user_data);
	g_autofree gchar *why = g_strdup_printf("silent for %u s", self->timeout_s);
	self->idle_id = 0;
	wbd_envoy_live_reconnect_later(self, why);
	return G_SOURCE_REMOVE;
}

static void
wbd_envoy_live_arm_idle(WbdEnvoyLive *self)
{
	g_clear_handle_id(&self->idle_id, g_source_remove);
	self->idle_id = g_timeout_add_seconds(self->timeout_s, wbd_envoy_live_idle_cb, self);
}

static void
wbd_envoy_live_line_cb(const gchar *data, gsize len, gpointer user_data)
{
	WbdEnvoyLive *self = WBD_ENVOY_LIVE(user_data);
	WbdEnvoyStreamEvent event;

	if (!wbd_envoy_parse_stream_event(data, len, &event)) {
		wbd_log_debug(self->device_id, "live stream: skipping an event that is not a meter event");
		return;
	}
	if (!self->announced) {
		wbd_log_info(self->device_id, "live stream connected");
		self->announced = TRUE;
	}
	self->backoff_s = 0;
	self->last_event = g_get_monotonic_time();
	g_signal_emit(self, signals[SIGNAL_EVENT], 0, &event);
}

static void wbd_envoy_live_read_cb(GObject *source, GAsyncResult *res, gpointer user_data);

static void
wbd_envoy_live_read(WbdEnvoyLive *self, LiveOp *op)
{
	g_input_stream_read_bytes_async(self->stream,
					WBD_ENVOY_LIVE_READ_SIZE,
					G_PRIORITY_DEFAULT,
					self->cancellable,
					wbd_envoy_live_read_cb,
					op);
}

static void
wbd_envoy_live_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(LiveOp) op = user_data;
	WbdEnvoyLive *self = op->self;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) chunk =
	    g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), res, &error);
	gsize len = 0;
	const guint8 *data;

	if (!live_op_is_current(op))
		return;
	if (chunk == NULL) {
		wbd_envoy_live_reconnect_later(self, error->message);
		return;
	}
	data = g_bytes_get_data(chunk, &len);
	if (len == 0) {
		wbd_envoy_live_reconnect_later(self, "closed by the gateway");
		return;
	}
	wbd_envoy_live_arm_idle(self);
	wbd_envoy_stream_parser_feed(self->parser, data, len, wbd_envoy_live_line_cb, self);
	/* an event handler may have stopped us */
	if (!live_op_is_current(op))
		return;
	wbd_envoy_live_read(self, g_steal_pointer(&op));
}

static void
wbd_envoy_live_open_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(LiveOp) op = user_data;
	WbdEnvoyLive *self = op->self;
	g_autoptr(GError) error = NULL;
	g_autoptr(GInputStream) stream =
	    wbd_envoy_client_open_stream_finish(WBD_ENVOY_CLIENT(source), res, &error);

	if (!live_op_is_current(op))
		return;
	if (stream == NULL) {
		if (g_error_matches(error, WATTBUS_ERROR, WATTBUS_ERROR_PERMISSION_DENIED) ||
		    g_error_matches(error, WATTBUS_ERROR, WATTBUS_ERROR_NOT_SUPPORTED)) {
			wbd_log_info(self->device_id, "no live stream, polling instead: %s",
			       error->message);
			self->refused = TRUE;
			wbd_envoy_live_stop(self);
			return;
		}
		wbd_envoy_live_reconnect_later(self, error->message);
		return;
	}
	self->stream = g_steal_pointer(&stream);
	wbd_envoy_live_read(self, g_steal_pointer(&op));
}

static void
wbd_envoy_live_connect(WbdEnvoyLive *self)
{
	wbd_envoy_live_close(self);
	self->cancellable = g_cancellable_new();
	self->announced = FALSE;
	wbd_envoy_stream_parser_reset(self->parser);
	/* the time-out covers connecting too */
	wbd_envoy_live_arm_idle(self);
	wbd_envoy_client_open_stream_async(self->client,
					   WBD_ENVOY_LIVE_PATH,
					   self->cancellable,
					   wbd_envoy_live_open_cb,
					   live_op_new(self));
}

void
wbd_envoy_live_start(WbdEnvoyLive *self)
{
	if (self->running || self->refused)
		return;
	self->running = TRUE;
	self->backoff_s = 0;
	wbd_envoy_live_connect(self);
}

void
wbd_envoy_live_stop(WbdEnvoyLive *self)
{
	self->running = FALSE;
	wbd_envoy_live_close(self);
}

gboolean
wbd_envoy_live_is_running(WbdEnvoyLive *self)
{
	return self->running;
}

/* the gateway said no: it is not asked again */
gboolean
wbd_envoy_live_is_refused(WbdEnvoyLive *self)
{
	return self->refused;
}

/* whether the last event is recent enough to be the current value */
gboolean
wbd_envoy_live_is_fresh(WbdEnvoyLive *self)
{
	return self->running && self->last_event != 0 &&
	       g_get_monotonic_time() - self->last_event < (gint64)self->timeout_s * G_USEC_PER_SEC;
}

static void
wbd_envoy_live_dispose(GObject *object)
{
	WbdEnvoyLive *self = WBD_ENVOY_LIVE(object);
	wbd_envoy_live_stop(self);
	g_clear_object(&self->client);
	G_OBJECT_CLASS(wbd_envoy_live_parent_class)->dispose(object);
}

static void
wbd_envoy_live_finalize(GObject *object)
{
	WbdEnvoyLive *self = WBD_ENVOY_LIVE(object);
	g_free(self->device_id);
	wbd_envoy_stream_parser_free(self->parser);
	G_OBJECT_CLASS(wbd_envoy_live_parent_class)->finalize(object);
}

static void
wbd_envoy_live_class_init(WbdEnvoyLiveClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = wbd_envoy_live_dispose;
	object_class->finalize = wbd_envoy_live_finalize;

	/**
	 * WbdEnvoyLive::event:
	 * @event: (type gpointer): the #WbdEnvoyStreamEvent, valid during the emission
	 */
	signals[SIGNAL_EVENT] = g_signal_new("event",
					     G_TYPE_FROM_CLASS(klass),
					     G_SIGNAL_RUN_LAST,
					     0,
					     NULL,
					     NULL,
					     NULL,
					     G_TYPE_NONE,
					     1,
					     G_TYPE_POINTER);
}

static void
wbd_envoy_live_init(WbdEnvoyLive *self)
{
	self->parser = wbd_envoy_stream_parser_new();
}

WbdEnvoyLive *
wbd_envoy_live_new(WbdEnvoyClient *client, const gchar *device_id, guint silence_timeout_s)
{
	WbdEnvoyLive *self = g_object_new(WBD_TYPE_ENVOY_LIVE, NULL);
	self->client = g_object_ref(client);
	self->device_id = g_strdup(device_id);
	self->timeout_s = MAX(silence_timeout_s, 1);
	return self;
}
