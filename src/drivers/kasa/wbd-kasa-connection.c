/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <wattbus-glib.h>

#include "wbd-kasa-codec.h"
#include "wbd-kasa-connection.h"
#include "wbd-log.h"

#define WBD_KASA_REQUEST_TIMEOUT_MS 5000
#define WBD_KASA_MAX_QUEUE 64

/*
 * One TCP connection per device, kept open and reused, one request in flight at a
 * time (devices misbehave with parallel requests), reconnecting after any error.
 * A peer that closes the connection after each reply costs one reconnect, not an
 * error.
 *
 * On an open connection a request is a non-blocking send and non-blocking receives,
 * with one GSocket source while it waits for the reply; that source's ready time is
 * the request's time-out. (GIO's async stream API costs a GTask per write and per
 * read, an idle source for each result, and a timer per request: at 1000 plugs
 * polled every second, a good part of the daemon's CPU.) Connecting, rare, goes
 * through GSocketClient with a cancellable and a timer.
 */
struct _WbdKasaConnection {
	GObject parent_instance;
	gchar *host;
	guint16 port;
	gchar *log_id;
	guint timeout_ms;
	GSocketClient *client;
	GSocketConnection *connection;
	guint requests_on_connection;

	GQueue queue; /* GTask waiting to be sent */
	GTask *current;
	GCancellable *io_cancellable; /* while connecting */
	guint timeout_id;             /* while connecting */
	gulong cancel_id;
	GCancellable *task_cancellable;
	gboolean cancelled; /* task_cancellable fired: end at the next dispatch */
	gint64 deadline;    /* monotonic µs: the request's time-out */
	GSource *io_source; /* waiting for the socket, with the deadline as ready time */
	gboolean timed_out;
	gboolean retried;
	GBytes *frame;
	gsize sent;
	guint8 header[WBD_KASA_HEADER_SIZE];
	gsize received; /* of the header, then of the body */
	guint8 *body;
	guint32 body_len;
};

G_DEFINE_TYPE(WbdKasaConnection, wbd_kasa_connection, G_TYPE_OBJECT)

static void
wbd_kasa_connection_next(WbdKasaConnection *self);
static void
wbd_kasa_connection_send(WbdKasaConnection *self);

void
wbd_kasa_connection_close(WbdKasaConnection *self)
{
	if (self->connection == NULL)
		return;
	if (self->io_source != NULL) {
		/* a request waits on the socket: it ends (and closes) at the next dispatch */
		self->cancelled = TRUE;
		g_source_set_ready_time(self->io_source, 0);
		return;
	}
	wbd_log_debug(self->log_id, "closing the connection");
	/* closing a socket does not block */
	g_io_stream_close(G_IO_STREAM(self->connection), NULL, NULL);
	g_clear_object(&self->connection);
	self->requests_on_connection = 0;
}

/* @reply: a JsonNode, or for a poll a WbdKasaReply (freed with @reply_free) */
static void
wbd_kasa_connection_finish_current(WbdKasaConnection *self,
				   gpointer reply,
				   GDestroyNotify reply_free,
				   GError *error)
{
	g_autoptr(GTask) task = g_steal_pointer(&self->current);

	g_clear_handle_id(&self->timeout_id, g_source_remove);
	if (self->io_source != NULL) {
		g_source_destroy(self->io_source);
		g_clear_pointer(&self->io_source, g_source_unref);
	}
	if (self->cancel_id != 0)
		g_cancellable_disconnect(self->task_cancellable, self->cancel_id);
	self->cancel_id = 0;
	g_clear_object(&self->task_cancellable);
	g_clear_object(&self->io_cancellable);
	g_clear_pointer(&self->body, g_free);
	g_clear_pointer(&self->frame, g_bytes_unref);

	if (error != NULL) {
		wbd_kasa_connection_close(self);
		g_task_return_error(task, error);
	} else {
		self->requests_on_connection++;
		g_task_return_pointer(task, reply, reply_free);
	}
	wbd_kasa_connection_next(self);
}

/* maps an I/O failure to what it means for the person reading LastError */
static void
wbd_kasa_connection_fail(WbdKasaConnection *self, GError *error)
{
	GError *mapped;
	if (self->timed_out) {
		mapped = g_error_new(WATTBUS_ERROR,
				     WATTBUS_ERROR_TIMEOUT,
				     "The device did not answer within %u s",
				     self->timeout_ms / 1000);
	} else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		mapped = g_error_copy(error);
	} else if (error->domain == WATTBUS_ERROR) {
		mapped = g_error_copy(error);
	} else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)) {
		mapped = g_error_new(G_IO_ERROR,
				     G_IO_ERROR_CONNECTION_REFUSED,
				     "The device refused the connection on port %u",
				     self->port);
	} else {
		mapped = g_error_new(WATTBUS_ERROR,
				     WATTBUS_ERROR_DEVICE_OFFLINE,
				     "The device is not reachable: %s",
				     error->message);
	}
	g_error_free(error);
	wbd_kasa_connection_finish_current(self, NULL, NULL, mapped);
}

/* the peer closed a connection we had used before: reconnect and send once more */
static gboolean
wbd_kasa_connection_maybe_retry(WbdKasaConnection *self)
{
	if (self->retried || self->requests_on_connection == 0)
		return FALSE;
	wbd_log_debug(self->log_id, "the device closed the connection; reconnecting");
	self->retried = TRUE;
	wbd_kasa_connection_close(self);
	wbd_kasa_connection_send(self);
	return TRUE;
}

static void
wbd_kasa_connection_wait(WbdKasaConnection *self, GIOCondition condition);

/* the peer closed or broke a connection we had used before: maybe retry, else fail */
static void
wbd_kasa_connection_fail_early(WbdKasaConnection *self, GError *error)
{
	if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
	    !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) &&
	    wbd_kasa_connection_maybe_retry(self)) {
		g_error_free(error);
		return;
	}
	wbd_kasa_connection_fail(self, error);
}

/* non-blocking: what is there; FALSE when the socket has nothing more for now */
static gboolean
wbd_kasa_connection_receive(WbdKasaConnection *self,
			    guint8 *buffer,
			    gsize size,
			    gssize *n,
			    GError **error)
{
	GSocket *socket = g_socket_connection_get_socket(self->connection);
	g_autoptr(GError) local_error = NULL;
	*n = g_socket_receive_with_blocking(socket,
					    (gchar *)buffer,
					    size,
					    FALSE,
					    NULL,
					    &local_error);
	if (*n >= 0)
		return TRUE;
	if (g_error_matches(local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
		return FALSE;
	g_propagate_error(error, g_steal_pointer(&local_error));
	return TRUE;
}

/* reads what the socket has of the reply; waits again, fails or finishes */
static void
wbd_kasa_connection_read(WbdKasaConnection *self)
{
	GError *error = NULL;
	JsonNode *reply;
	WbdKasaReply *poll_reply;
	gssize n;

	for (;;) {
		/* the 4-byte header, then the body it announces */
		gboolean in_header = self->received < WBD_KASA_HEADER_SIZE;
		guint8 *buffer = in_header ? self->header : self->body;
		gsize size = in_header ? WBD_KASA_HEADER_SIZE : self->body_len;
		gsize got = in_header ? self->received : self->received - WBD_KASA_HEADER_SIZE;

		if (!in_header && got == size)
			break;
		if (!wbd_kasa_connection_receive(self, buffer + got, size - got, &n, &error)) {
			wbd_kasa_connection_wait(self, G_IO_IN);
			return;
		}
		if (n < 0) {
			if (in_header)
				wbd_kasa_connection_fail_early(self, error);
			else
				wbd_kasa_connection_fail(self, error);
			return;
		}
		if (n == 0 && in_header && got == 0 && wbd_kasa_connection_maybe_retry(self))
			return;
		if (n == 0 && in_header) {
			error = g_error_new_literal(
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_FAILED,
			    got == 0 ? "The device closed the connection without answering"
				     : "Bad reply from the device: the connection closed inside "
				       "the frame header");
			wbd_kasa_connection_fail(self, error);
			return;
		}
		if (n == 0) {
			error = g_error_new(WATTBUS_ERROR,
					    WATTBUS_ERROR_FAILED,
					    "Bad reply from the device: the connection closed "
					    "after %" G_GSIZE_FORMAT " of %u bytes",
					    got,
					    self->body_len);
			wbd_kasa_connection_fail(self, error);
			return;
		}
		self->received += (gsize)n;
		if (in_header && self->received == WBD_KASA_HEADER_SIZE) {
			if (!wbd_kasa_frame_parse_header(self->header, &self->body_len, &error)) {
				wbd_kasa_connection_fail(self, error);
				return;
			}
			self->body = g_malloc(MAX(self->body_len, 1));
		}
	}
	if (g_task_get_source_tag(self->current) == wbd_kasa_connection_poll_async) {
		/* a poll's reply: the scanner first, json-glib when it declines */
		poll_reply = wbd_kasa_reply_decode(g_steal_pointer(&self->body), self->body_len, &error);
		if (poll_reply == NULL) {
			wbd_kasa_connection_fail(self, error);
			return;
		}
		wbd_kasa_connection_finish_current(self,
						   poll_reply,
						   (GDestroyNotify)wbd_kasa_reply_free,
						   NULL);
		return;
	}
	reply = wbd_kasa_payload_decode(self->body, self->body_len, &error);
	if (reply == NULL) {
		wbd_kasa_connection_fail(self, error);
		return;
	}
	wbd_kasa_connection_finish_current(self, reply, (GDestroyNotify)json_node_unref, NULL);
}

/* sends what is left of the frame (all of it, in one send, but on a full buffer) */
static void
wbd_kasa_connection_write(WbdKasaConnection *self)
{
	GSocket *socket = g_socket_connection_get_socket(self->connection);
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(self->frame, &len);
	GError *error = NULL;

	while (self->sent < len) {
		/* the whole frame in one send: some devices treat each segment as a message */
		gssize n = g_socket_send_with_blocking(socket,
						       (const gchar *)data + self->sent,
						       len - self->sent,
						       FALSE,
						       NULL,
						       &error);
		if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
			g_clear_error(&error);
			wbd_kasa_connection_wait(self, G_IO_OUT);
			return;
		}
		if (n < 0) {
			wbd_kasa_connection_fail_early(self, error);
			return;
		}
		self->sent += (gsize)n;
	}
	self->received = 0;
	wbd_kasa_connection_read(self);
}

static gboolean
wbd_kasa_connection_io_cb(GSocket *socket, GIOCondition condition, gpointer user_data)
{
	WbdKasaConnection *self = user_data;
	gsize len = 0;

	g_clear_pointer(&self->io_source, g_source_unref);
	g_bytes_get_data(self->frame, &len);
	if (self->cancelled || self->connection == NULL) {
		wbd_kasa_connection_fail(self,
					 g_error_new_literal(G_IO_ERROR,
							     G_IO_ERROR_CANCELLED,
							     "Operation was cancelled"));
	} else if (condition == 0 || g_get_monotonic_time() >= self->deadline) {
		/* the source's ready time: the deadline */
		self->timed_out = TRUE;
		wbd_kasa_connection_fail(self,
					 g_error_new_literal(G_IO_ERROR,
							     G_IO_ERROR_TIMED_OUT,
							     "Timed out"));
	} else if (self->sent < len) {
		wbd_kasa_connection_write(self);
	} else {
		wbd_kasa_connection_read(self);
	}
	return G_SOURCE_REMOVE;
}

/* one source a wait: its ready time is the deadline, so no timer of its own */
static void
wbd_kasa_connection_wait(WbdKasaConnection *self, GIOCondition condition)
{
	GSocket *socket = g_socket_connection_get_socket(self->connection);
	self->io_source = g_socket_create_source(socket, condition | G_IO_HUP | G_IO_ERR, NULL);
	g_source_set_callback(self->io_source,
			      G_SOURCE_FUNC(wbd_kasa_connection_io_cb),
			      g_object_ref(self),
			      g_object_unref);
	g_source_set_ready_time(self->io_source, self->cancelled ? 0 : self->deadline);
	g_source_set_priority(self->io_source, g_task_get_priority(self->current));
	g_source_attach(self->io_source, g_main_context_get_thread_default());
}

static void
wbd_kasa_connection_connect_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(WbdKasaConnection) self = user_data;
	GError *error = NULL;
	GSocketConnection *connection;

	connection = g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(source), res, &error);
	g_clear_handle_id(&self->timeout_id, g_source_remove);
	g_clear_object(&self->io_cancellable);
	if (connection == NULL) {
		wbd_kasa_connection_fail(self, error);
		return;
	}
	if (G_IS_TCP_CONNECTION(connection)) {
		GSocket *socket = g_socket_connection_get_socket(connection);
		g_socket_set_option(socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
	}
	self->connection = connection;
	self->requests_on_connection = 0;
	if (self->cancelled) {
		wbd_kasa_connection_fail(self,
					 g_error_new_literal(G_IO_ERROR,
							     G_IO_ERROR_CANCELLED,
							     "Operation was cancelled"));
		return;
	}
	wbd_kasa_connection_write(self);
}

static gboolean
wbd_kasa_connection_timeout_cb(gpointer user_data);

static void
wbd_kasa_connection_send(WbdKasaConnection *self)
{
	gint64 left = self->deadline - g_get_monotonic_time();
	self->sent = 0;
	if (self->connection != NULL) {
		wbd_kasa_connection_write(self);
		return;
	}
	wbd_log_debug(self->log_id, "connecting to %s:%u", self->host, self->port);
	self->io_cancellable = g_cancellable_new();
	self->timeout_id = g_timeout_add((guint)MAX((left + 999) / 1000, 0),
					 wbd_kasa_connection_timeout_cb,
					 self);
	g_socket_client_connect_to_host_async(self->client,
					      self->host,
					      self->port,
					      self->io_cancellable,
					      wbd_kasa_connection_connect_cb,
					      g_object_ref(self));
}

static gboolean
wbd_kasa_connection_timeout_cb(gpointer user_data)
{
	WbdKasaConnection *self = user_data;
	self->timeout_id = 0;
	self->timed_out = TRUE;
	g_cancellable_cancel(self->io_cancellable);
	return G_SOURCE_REMOVE;
}

/* runs inside g_cancellable_cancel(): only says so; the request ends from the loop */
static void
wbd_kasa_connection_task_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	WbdKasaConnection *self = user_data;
	self->cancelled = TRUE;
	if (self->io_cancellable != NULL)
		g_cancellable_cancel(self->io_cancellable);
	if (self->io_source != NULL)
		g_source_set_ready_time(self->io_source, 0);
}

static void
wbd_kasa_connection_next(WbdKasaConnection *self)
{
	GTask *task;
	while (self->current == NULL && (task = g_queue_pop_head(&self->queue)) != NULL) {
		if (g_task_return_error_if_cancelled(task)) {
			g_object_unref(task);
			continue;
		}
		self->current = task;
		self->retried = FALSE;
		self->timed_out = FALSE;
		self->cancelled = FALSE;
		self->deadline = g_get_monotonic_time() + (gint64)self->timeout_ms * 1000;
		self->frame = g_bytes_ref(g_task_get_task_data(task));
		self->task_cancellable = g_task_get_cancellable(task) != NULL
					     ? g_object_ref(g_task_get_cancellable(task))
					     : NULL;
		if (self->task_cancellable != NULL)
			self->cancel_id =
			    g_cancellable_connect(self->task_cancellable,
						  G_CALLBACK(wbd_kasa_connection_task_cancelled_cb),
						  self,
						  NULL);
		wbd_kasa_connection_send(self);
	}
}

/* @frame: (transfer full): @request, encoded */
static void
wbd_kasa_connection_queue(WbdKasaConnection *self,
			  gpointer source_tag,
			  const gchar *request,
			  GBytes *frame,
			  gint io_priority,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, source_tag);
	g_task_set_priority(task, io_priority);
	if (g_queue_get_length(&self->queue) >= WBD_KASA_MAX_QUEUE) {
		g_task_return_new_error(task,
					WATTBUS_ERROR,
					WATTBUS_ERROR_FAILED,
					"Too many requests are waiting for this device");
		g_bytes_unref(frame);
		g_object_unref(task);
		return;
	}
	g_task_set_task_data(task, frame, (GDestroyNotify)g_bytes_unref);
	wbd_log_debug(self->log_id, "→ %s", request);
	g_queue_push_tail(&self->queue, task);
	wbd_kasa_connection_next(self);
}

static gpointer
wbd_kasa_connection_propagate(WbdKasaConnection *self,
			      GAsyncResult *res,
			      gpointer source_tag,
			      GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	g_return_val_if_fail(g_task_get_source_tag(G_TASK(res)) == source_tag, NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

/**
 * wbd_kasa_connection_request_async:
 * @request: the JSON request text
 * @io_priority: the main-loop priority of its I/O (%WBD_DEVICE_POLL_PRIORITY for a
 *   poll, %G_PRIORITY_DEFAULT for a command)
 *
 * Queues a request; the reply is the whole JSON object the device sent back.
 */
void
wbd_kasa_connection_request_async(WbdKasaConnection *self,
				  const gchar *request,
				  gint io_priority,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data)
{
	wbd_kasa_connection_queue(self,
				  wbd_kasa_connection_request_async,
				  request,
				  wbd_kasa_frame_encode(request),
				  io_priority,
				  cancellable,
				  callback,
				  user_data);
}

JsonNode *
wbd_kasa_connection_request_finish(WbdKasaConnection *self, GAsyncResult *res, GError **error)
{
	return wbd_kasa_connection_propagate(self, res, wbd_kasa_connection_request_async, error);
}

/**
 * wbd_kasa_connection_poll_async:
 * @request: the JSON request text, for the log
 * @frame: @request as wbd_kasa_frame_encode() encodes it (a constant request is encoded
 *   once)
 *
 * Like wbd_kasa_connection_request_async(), for `system.get_sysinfo` (maybe with
 * `emeter.get_realtime`): the reply is read by wbd_kasa_reply_decode().
 */
void
wbd_kasa_connection_poll_async(WbdKasaConnection *self,
			       const gchar *request,
			       GBytes *frame,
			       gint io_priority,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data)
{
	wbd_kasa_connection_queue(self,
				  wbd_kasa_connection_poll_async,
				  request,
				  g_bytes_ref(frame),
				  io_priority,
				  cancellable,
				  callback,
				  user_data);
}

WbdKasaReply *
wbd_kasa_connection_poll_finish(WbdKasaConnection *self, GAsyncResult *res, GError **error)
{
	return wbd_kasa_connection_propagate(self, res, wbd_kasa_connection_poll_async, error);
}

void
wbd_kasa_connection_set_timeout(WbdKasaConnection *self, guint timeout_ms)
{
	self->timeout_ms = MAX(timeout_ms, 100);
}

static void
wbd_kasa_connection_dispose(GObject *object)
{
	WbdKasaConnection *self = WBD_KASA_CONNECTION(object);
	GTask *task;
	while ((task = g_queue_pop_head(&self->queue)) != NULL) {
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The device was removed");
		g_object_unref(task);
	}
	wbd_kasa_connection_close(self);
	g_clear_object(&self->client);
	G_OBJECT_CLASS(wbd_kasa_connection_parent_class)->dispose(object);
}

static void
wbd_kasa_connection_finalize(GObject *object)
{
	WbdKasaConnection *self = WBD_KASA_CONNECTION(object);
	g_free(self->host);
	g_free(self->log_id);
	G_OBJECT_CLASS(wbd_kasa_connection_parent_class)->finalize(object);
}

static void
wbd_kasa_connection_class_init(WbdKasaConnectionClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = wbd_kasa_connection_dispose;
	object_class->finalize = wbd_kasa_connection_finalize;
}

/* one client for every connection (they are all alike), alive while any is */
static GSocketClient *
wbd_kasa_connection_ref_client(void)
{
	static GSocketClient *client = NULL;
	if (client != NULL)
		return g_object_ref(client);
	client = g_socket_client_new();
	g_object_add_weak_pointer(G_OBJECT(client), (gpointer *)&client);
	/* devices are on the LAN: never ask a proxy resolver (libproxy) about them */
	g_socket_client_set_enable_proxy(client, FALSE);
	return client;
}

static void
wbd_kasa_connection_init(WbdKasaConnection *self)
{
	g_queue_init(&self->queue);
	self->timeout_ms = WBD_KASA_REQUEST_TIMEOUT_MS;
	self->client = wbd_kasa_connection_ref_client();
}

WbdKasaConnection *
wbd_kasa_connection_new(const gchar *host, guint16 port, const gchar *log_id)
{
	WbdKasaConnection *self = g_object_new(WBD_TYPE_KASA_CONNECTION, NULL);
	self->host = g_strdup(host);
	self->port = port;
	self->log_id = g_strdup(log_id);
	return self;
}
