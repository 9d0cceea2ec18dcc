/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-fd-watch.h"
#include "wbd-kasa-codec.h"
#include "wbd-kasa-connection.h"
#include "wbd-log.h"
#include "wbd-poll-schedule.h"

#define WBD_KASA_REQUEST_TIMEOUT_MS 5000
#define WBD_KASA_MAX_QUEUE 64

/*
 * One TCP connection per device, kept open and reused, one request in flight at a
 * time (devices misbehave with parallel requests), reconnecting after any error.
 * A peer that closes the connection after each reply costs one reconnect, not an
 * error.
 *
 * On an open connection a request is one non-blocking send of its frame and, once
 * the socket is readable, non-blocking receives (header and body usually in one).
 * An open socket stays in a WbdFdSet (wbd-fd-watch.c: one epoll set and one
 * main-loop source for every connection of a priority), which also holds the
 * request's time-out: no GSource, timer or wake-up of the loop per request. (GIO's
 * async stream API costs a GTask per write and per read, an idle source for each
 * result, and a timer per request; a GSocket source per request still cost an
 * allocation and three writes to GLib's wake-up descriptor.) While no request is
 * under way, a readable socket means the device closed it (or sent what no one
 * asked): it is closed then, and the next request connects. Connecting, rare, goes
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
	/* the cancellable of the last request, whose handler stays connected for the next
	 * (a device polls with the same one each time) */
	gulong cancel_id;
	GCancellable *task_cancellable;
	gboolean cancelled; /* the request's cancellable fired: end at the next dispatch */
	gint64 deadline;    /* monotonic µs: the request's time-out */
	WbdFdWatch watch;   /* the open socket's, in the set of the request's priority */
	gboolean waiting;   /* the request waits for the socket (or its deadline) */
	gboolean extra;     /* the device sent more than the reply's frame */
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
	if (self->waiting) {
		/* a request waits on the socket: it ends (and closes) at the next dispatch */
		self->cancelled = TRUE;
		wbd_fd_watch_set_deadline(&self->watch, 0);
		return;
	}
	wbd_log_debug(self->log_id, "closing the connection");
	/* out of the epoll set before the descriptor closes; closing does not block */
	wbd_fd_watch_remove(&self->watch);
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
	gboolean unwatched = FALSE;

	g_clear_handle_id(&self->timeout_id, g_source_remove);
	self->waiting = FALSE;
	if (self->watch.set != NULL) {
		wbd_fd_watch_clear_deadline(&self->watch);
		/* idle: readable means closed by the device (see above) */
		unwatched = !wbd_fd_watch_set_condition(&self->watch, G_IO_IN, NULL);
	}
	g_clear_object(&self->io_cancellable);
	g_clear_pointer(&self->body, g_free);
	g_clear_pointer(&self->frame, g_bytes_unref);

	if (error != NULL) {
		wbd_kasa_connection_close(self);
		g_task_return_error(task, error);
	} else {
		self->requests_on_connection++;
		if (self->extra)
			/* what follows the frame would be taken for the next reply's */
			wbd_log_debug(self->log_id, "more than the reply's frame: closing");
		if (self->extra || unwatched)
			wbd_kasa_connection_close(self);
		g_task_return_pointer(task, reply, reply_free);
	}
	self->extra = FALSE;
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

/*
 * The header is read with whatever follows it into a buffer of the process (the
 * main thread's), so that a whole reply of the usual size is one receive; a body
 * longer than that is read straight into its own memory.
 */
#define WBD_KASA_READ_CHUNK 2048

/* a receive of the header (and what follows it) into the body; FALSE: failed */
static gboolean
wbd_kasa_connection_take_header(WbdKasaConnection *self, const guint8 *data, gsize n, GError **error)
{
	gsize take = MIN(n, WBD_KASA_HEADER_SIZE - self->received);
	gsize rest;

	memcpy(self->header + self->received, data, take);
	self->received += take;
	if (self->received < WBD_KASA_HEADER_SIZE)
		return TRUE;
	if (!wbd_kasa_frame_parse_header(self->header, &self->body_len, error))
		return FALSE;
	self->body = g_malloc(MAX(self->body_len, 1));
	rest = MIN(n - take, self->body_len);
	memcpy(self->body, data + take, rest);
	self->received += rest;
	self->extra = n - take > rest;
	return TRUE;
}

/* reads what the socket has of the reply; waits again, fails or finishes */
static void
wbd_kasa_connection_read(WbdKasaConnection *self)
{
	static guint8 chunk[WBD_KASA_READ_CHUNK];
	GError *error = NULL;
	JsonNode *reply;
	WbdKasaReply *poll_reply;
	gssize n;

	for (;;) {
		/* the 4-byte header (with what follows it), then the rest of the body */
		gboolean in_header = self->received < WBD_KASA_HEADER_SIZE;
		guint8 *buffer = in_header ? chunk : self->body;
		gsize got = in_header ? self->received : self->received - WBD_KASA_HEADER_SIZE;
		gsize size = in_header ? sizeof(chunk) : self->body_len - got;

		if (!in_header && got == self->body_len)
			break;
		if (!wbd_kasa_connection_receive(self, in_header ? buffer : buffer + got, size, &n, &error)) {
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
		if (!in_header) {
			self->received += (gsize)n;
		} else if (!wbd_kasa_connection_take_header(self, chunk, (gsize)n, &error)) {
			wbd_kasa_connection_fail(self, error);
			return;
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
	/* the reply cannot be there yet: wait for it, no receive that would block */
	self->received = 0;
	wbd_kasa_connection_wait(self, G_IO_IN);
}

/* the open socket is ready (@condition), or the request's deadline came (0) */
static void
wbd_kasa_connection_io_cb(WbdFdWatch *watch, GIOCondition condition, gpointer user_data)
{
	g_autoptr(WbdKasaConnection) self = g_object_ref(user_data);
	gsize len = 0;

	if (!self->waiting) {
		/* no request under way: the device closed the connection, or talks out of turn */
		if (self->current == NULL && condition != 0) {
			wbd_log_debug(self->log_id, "the device closed the connection (or sent unasked)");
			wbd_kasa_connection_close(self);
		}
		return;
	}
	self->waiting = FALSE;
	g_bytes_get_data(self->frame, &len);
	if (self->cancelled || self->connection == NULL) {
		wbd_kasa_connection_fail(self,
					 g_error_new_literal(G_IO_ERROR,
							     G_IO_ERROR_CANCELLED,
							     "Operation was cancelled"));
	} else if (condition == 0 || g_get_monotonic_time() >= self->deadline) {
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
}

/* the set of the connections' sockets at @priority (a poll's, or a command's) */
static WbdFdSet *
wbd_kasa_connection_get_set(gint priority)
{
	/* polls' replies a slot of the poll schedule at a time, not a wake-up each */
	return wbd_fd_set_get_shared("[wattbus] Kasa sockets",
				     priority,
				     priority == WBD_DEVICE_POLL_PRIORITY ? G_USEC_PER_SEC / WBD_POLL_SCHEDULE_SLOTS
									  : 0);
}

/* the socket in the set of the current request's priority, waiting for @condition */
static gboolean
wbd_kasa_connection_watch(WbdKasaConnection *self, GIOCondition condition, GError **error)
{
	WbdFdSet *set = wbd_kasa_connection_get_set(g_task_get_priority(self->current));
	GSocket *socket = g_socket_connection_get_socket(self->connection);

	if (self->watch.set == set)
		return wbd_fd_watch_set_condition(&self->watch, condition, error);
	wbd_fd_watch_remove(&self->watch);
	return wbd_fd_watch_add(set,
				&self->watch,
				g_socket_get_fd(socket),
				condition,
				wbd_kasa_connection_io_cb,
				self,
				error);
}

/* waits for the socket, until the request's deadline (no timer of its own) */
static void
wbd_kasa_connection_wait(WbdKasaConnection *self, GIOCondition condition)
{
	GError *error = NULL;
	gint64 deadline = self->cancelled ? 0 : self->deadline;

	if (!wbd_kasa_connection_watch(self, condition, &error)) {
		wbd_kasa_connection_fail(self, error);
		return;
	}
	self->waiting = TRUE;
	if (!self->watch.has_deadline || self->watch.deadline != deadline)
		wbd_fd_watch_set_deadline(&self->watch, deadline);
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
	if (!wbd_kasa_connection_watch(self, G_IO_IN, &error)) {
		wbd_kasa_connection_fail(self, error);
		return;
	}
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
	/* the handler outlives its request: only the current request's cancellable counts */
	if (self->current == NULL || g_task_get_cancellable(self->current) != cancellable)
		return;
	self->cancelled = TRUE;
	if (self->io_cancellable != NULL)
		g_cancellable_cancel(self->io_cancellable);
	if (self->waiting)
		wbd_fd_watch_set_deadline(&self->watch, 0);
}

/* not from inside a cancellation (only wbd_kasa_connection_next() and dispose call it) */
static void
wbd_kasa_connection_unfollow_cancellable(WbdKasaConnection *self)
{
	if (self->cancel_id != 0)
		g_cancellable_disconnect(self->task_cancellable, self->cancel_id);
	self->cancel_id = 0;
	g_clear_object(&self->task_cancellable);
}

/* the request's cancellable: connected once, kept while the next requests use it too */
static void
wbd_kasa_connection_follow_cancellable(WbdKasaConnection *self, GCancellable *cancellable)
{
	if (cancellable == self->task_cancellable)
		return;
	wbd_kasa_connection_unfollow_cancellable(self);
	if (cancellable == NULL)
		return;
	self->task_cancellable = g_object_ref(cancellable);
	self->cancel_id = g_cancellable_connect(cancellable,
						G_CALLBACK(wbd_kasa_connection_task_cancelled_cb),
						self,
						NULL);
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
		wbd_kasa_connection_follow_cancellable(self, g_task_get_cancellable(task));
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
	wbd_kasa_connection_unfollow_cancellable(self);
	g_clear_object(&self->client);
	G_OBJECT_CLASS(wbd_kasa_connection_parent_class)->dispose(object);
}

static void
wbd_kasa_connection_finalize(GObject *object)
{
	WbdKasaConnection *self = WBD_KASA_CONNECTION(object);
	wbd_fd_watch_remove(&self->watch);
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
