/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-log.h"
#include "wbd-tuya-connection-private.h"
#include "wbd-tuya-gateway.h"

#define WBD_TUYA_TIMEOUT_MS 5000
#define WBD_TUYA_MAX_QUEUE 32
/* spec §9: a heartbeat after 10 s of idleness; the link is dead after 25 s of silence */
#define WBD_TUYA_HEARTBEAT_CHECK_S 5
#define WBD_TUYA_HEARTBEAT_IDLE_US (10 * G_USEC_PER_SEC)
#define WBD_TUYA_DEAD_US (25 * G_USEC_PER_SEC)

/*
 * One persistent TCP connection to a Tuya device: connect, the 3.4/3.5 session-key
 * handshake, then requests one at a time while every frame the device sends is read
 * as it comes. Any frame with DPs (replies and pushes alike) is announced with "dps".
 * A failed or stalled connection is closed and announced with "closed"; the next
 * request opens a new one (and a new session). Receiving is in
 * wbd-tuya-connection-read.c.
 */

G_DEFINE_TYPE(WbdTuyaConnection, wbd_tuya_connection, G_TYPE_OBJECT)

enum { SIGNAL_DPS, SIGNAL_SUBDEV_REPORT, SIGNAL_CLOSED, N_SIGNALS };
static guint signals[N_SIGNALS] = {0};

typedef void (*WrittenFunc)(WbdTuyaConnection *self);

typedef struct {
	GBytes *frame;
	WrittenFunc written;
} Outgoing;

static void
outgoing_free(Outgoing *out)
{
	g_bytes_unref(out->frame);
	g_free(out);
}

static void
request_free(Request *request)
{
	g_free(request->json);
	g_free(request);
}

const guint8 *
wbd_tuya_connection_key(WbdTuyaConnection *self)
{
	if (self->have_session)
		return self->session_key;
	return self->local_key;
}

static void
wbd_tuya_connection_fail_all(WbdTuyaConnection *self, const GError *error)
{
	g_autoptr(GTask) current = g_steal_pointer(&self->current);
	GTask *task;

	if (current != NULL)
		g_task_return_error(current, g_error_copy(error));
	while ((task = g_queue_pop_head(&self->queue)) != NULL) {
		g_task_return_error(task, g_error_copy(error));
		g_object_unref(task);
	}
}

/* ends the connection; @error says why, for the requests and the "closed" signal */
static void
wbd_tuya_connection_shutdown(WbdTuyaConnection *self, const GError *error, gboolean announce)
{
	/* a "closed" handler may drop the last reference */
	g_autoptr(WbdTuyaConnection) keep = g_object_ref(self);

	(void)keep;
	if (self->state == STATE_CLOSED)
		return;
	wbd_log_debug(self->log_id, "closing the connection: %s", error->message);
	self->state = STATE_CLOSED;
	self->generation++;
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	wbd_fd_watch_remove(&self->watch);
	/* the socket itself, so that the device sees the close even with I/O pending */
	if (self->connection != NULL)
		g_socket_close(g_socket_connection_get_socket(self->connection), NULL);
	g_clear_object(&self->connection);
	self->writing = FALSE;
	g_queue_clear_full(&self->outq, (GDestroyNotify)outgoing_free);
	self->have_session = FALSE;
	wbd_tuya_connection_clear_timeout(self);
	g_clear_handle_id(&self->heartbeat_id, g_source_remove);
	g_byte_array_set_size(self->inbuf, 0);
	memset(self->session_key, 0, sizeof(self->session_key));
	self->bad_frames = 0;
	self->acks_update_dps = FALSE;
	wbd_tuya_connection_fail_all(self, error);
	if (announce)
		g_signal_emit(self, signals[SIGNAL_CLOSED], 0, error);
}

void
wbd_tuya_connection_fail(WbdTuyaConnection *self, GError *error)
{
	wbd_tuya_connection_shutdown(self, error, TRUE);
	g_error_free(error);
}

/* maps an I/O error to what it means for LastError */
GError *
wbd_tuya_connection_map_io_error(WbdTuyaConnection *self, const GError *error)
{
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
		return g_error_new(WATTBUS_ERROR,
				   WATTBUS_ERROR_DEVICE_OFFLINE,
				   "The device refused the connection on port %u (is another app "
				   "connected to it?)",
				   self->port);
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
	    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
		return g_error_new_literal(WATTBUS_ERROR,
					   WATTBUS_ERROR_DEVICE_OFFLINE,
					   "The device closed the connection");
	return g_error_new(WATTBUS_ERROR,
			   WATTBUS_ERROR_DEVICE_OFFLINE,
			   "The device is not reachable: %s",
			   error->message);
}

/* time-outs */

void
wbd_tuya_connection_timed_out(WbdTuyaConnection *self)
{
	guint seconds = self->timeout_ms / 1000;
	g_autofree gchar *partial = NULL;
	GError *error;

	if (self->state == STATE_CONNECTING) {
		error = g_error_new(WATTBUS_ERROR,
				    WATTBUS_ERROR_TIMEOUT,
				    "The device did not accept a connection within %u s",
				    seconds);
	} else if (self->state == STATE_HANDSHAKE) {
		error = g_error_new(WATTBUS_ERROR,
				    WATTBUS_ERROR_TIMEOUT,
				    "The device did not answer the session-key handshake within "
				    "%u s: check the protocol version (%s) and the local key",
				    seconds,
				    wbd_tuya_version_to_string(self->version));
	} else if ((partial = wbd_tuya_connection_describe_partial(self)) != NULL) {
		error = g_error_new(WATTBUS_ERROR,
				    WATTBUS_ERROR_TIMEOUT,
				    "Truncated frame from the device: %s arrived within %u s",
				    partial,
				    seconds);
	} else {
		error = g_error_new(WATTBUS_ERROR,
				    WATTBUS_ERROR_TIMEOUT,
				    "The device did not answer within %u s",
				    seconds);
	}
	wbd_tuya_connection_fail(self, error);
}

static gboolean
wbd_tuya_connection_timeout_cb(gpointer user_data)
{
	WbdTuyaConnection *self = user_data;
	self->timeout_id = 0;
	wbd_tuya_connection_timed_out(self);
	return G_SOURCE_REMOVE;
}

void
wbd_tuya_connection_clear_timeout(WbdTuyaConnection *self)
{
	g_clear_handle_id(&self->timeout_id, g_source_remove);
	if (self->watch.set != NULL)
		wbd_fd_watch_clear_deadline(&self->watch);
}

static void
wbd_tuya_connection_arm_timeout(WbdTuyaConnection *self)
{
	wbd_tuya_connection_clear_timeout(self);
	/* connected, the deadline of the socket's watch: no timer to add and remove */
	if (self->watch.set != NULL)
		wbd_fd_watch_set_deadline(&self->watch,
					  g_get_monotonic_time() + (gint64)self->timeout_ms * 1000);
	else
		self->timeout_id = g_timeout_add(self->timeout_ms, wbd_tuya_connection_timeout_cb, self);
}

/* writing: frames are encoded when queued and written one at a time */

static void
wbd_tuya_connection_write_next(WbdTuyaConnection *self);

static void
wbd_tuya_connection_written_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(IoData) io = user_data;
	WbdTuyaConnection *self = io->self;
	g_autoptr(GError) error = NULL;
	gboolean ok = g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, &error);

	if (!io_data_is_current(io))
		return;
	self->writing = FALSE;
	if (!ok) {
		wbd_tuya_connection_fail(self, wbd_tuya_connection_map_io_error(self, error));
		return;
	}
	if (io->written != NULL)
		io->written(self);
	if (io_data_is_current(io))
		wbd_tuya_connection_write_next(self);
}

static void
wbd_tuya_connection_write_next(WbdTuyaConnection *self)
{
	Outgoing *out;
	IoData *io;
	GSocket *socket;
	gssize sent;
	gsize size;
	const guint8 *data;

	while (!self->writing && self->state != STATE_CLOSED && self->connection != NULL &&
	       (out = g_queue_pop_head(&self->outq)) != NULL) {
		WrittenFunc written = out->written;

		/* the whole frame in one write: some devices take each segment for a message */
		socket = g_socket_connection_get_socket(self->connection);
		data = g_bytes_get_data(out->frame, &size);
		sent = g_socket_send_with_blocking(socket, (const gchar *)data, size, FALSE, NULL, NULL);
		if (sent == (gssize)size) {
			/* sent at once (almost always): no GTask, no turn of the main loop */
			outgoing_free(out);
			if (written != NULL)
				written(self);
			continue;
		}
		/* the rest, or the error, the asynchronous way */
		self->writing = TRUE;
		io = io_data_new(self);
		io->frame = sent > 0 ? g_bytes_new_from_bytes(out->frame, (gsize)sent, size - (gsize)sent)
				     : g_bytes_ref(out->frame);
		io->written = written;
		outgoing_free(out);
		g_output_stream_write_all_async(g_io_stream_get_output_stream(G_IO_STREAM(self->connection)),
						g_bytes_get_data(io->frame, NULL),
						g_bytes_get_size(io->frame),
						G_PRIORITY_DEFAULT,
						self->cancellable,
						wbd_tuya_connection_written_cb,
						io);
	}
}

/* encodes now, with the current key and the next sequence number */
static gboolean
wbd_tuya_connection_write(WbdTuyaConnection *self,
			  guint32 cmd,
			  const guint8 *payload,
			  gsize len,
			  WrittenFunc written)
{
	WbdTuyaEncode opts = {
	    .version = self->version,
	    .key = wbd_tuya_connection_key(self),
	    .seq = ++self->seq,
	    .cmd = cmd,
	    .retcode = -1,
	};
	Outgoing *out;
	GBytes *frame = wbd_tuya_frame_encode(&opts, payload, len);

	if (frame == NULL) {
		wbd_tuya_connection_fail(self,
					 g_error_new_literal(WATTBUS_ERROR,
							     WATTBUS_ERROR_FAILED,
							     "Cannot encrypt the request"));
		return FALSE;
	}
	self->last_tx = g_get_monotonic_time();
	out = g_new0(Outgoing, 1);
	out->frame = frame;
	out->written = written;
	g_queue_push_tail(&self->outq, out);
	wbd_tuya_connection_write_next(self);
	return TRUE;
}

void
wbd_tuya_connection_complete_current(WbdTuyaConnection *self, GVariant *dps)
{
	g_autoptr(GTask) task = g_steal_pointer(&self->current);
	wbd_tuya_connection_clear_timeout(self);
	if (dps != NULL)
		g_task_return_pointer(task, g_variant_ref(dps), (GDestroyNotify)g_variant_unref);
	else
		g_task_return_pointer(task,
				      g_variant_ref_sink(g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
				      (GDestroyNotify)g_variant_unref);
	wbd_tuya_connection_pump(self);
}

static void
wbd_tuya_connection_request_written(WbdTuyaConnection *self)
{
	Request *request = self->current != NULL ? g_task_get_task_data(self->current) : NULL;
	if (request != NULL && request->kind == WBD_TUYA_REQUEST_NO_REPLY)
		wbd_tuya_connection_complete_current(self, NULL);
}

static void
wbd_tuya_connection_send_current(WbdTuyaConnection *self)
{
	Request *request = g_task_get_task_data(self->current);
	wbd_log_debug(self->log_id, "→ 0x%02x %s", request->cmd, request->json);
	wbd_tuya_connection_arm_timeout(self);
	wbd_tuya_connection_write(self,
				  request->cmd,
				  (const guint8 *)request->json,
				  strlen(request->json),
				  wbd_tuya_connection_request_written);
}

/* the session-key handshake of 3.4 and 3.5 */

void
wbd_tuya_connection_handle_session_response(WbdTuyaConnection *self, WbdTuyaFrame *frame)
{
	guint8 device_nonce[WBD_TUYA_NONCE_SIZE];
	guint8 proof[WBD_TUYA_HMAC_SIZE];
	GError *error = NULL;

	if (frame->cmd != WBD_TUYA_CMD_SESS_KEY_NEG_RESP) {
		wbd_log_debug(self->log_id, "ignoring command 0x%02x during the handshake", frame->cmd);
		return;
	}
	if (!wbd_tuya_check_session_response(self->local_key,
					     self->client_nonce,
					     frame->payload,
					     device_nonce,
					     &error)) {
		wbd_tuya_connection_fail(self, error);
		return;
	}
	wbd_tuya_hmac_sha256(self->local_key, WBD_TUYA_KEY_SIZE, device_nonce, sizeof(device_nonce), proof);
	/* 0x05 still goes out under the local key */
	if (!wbd_tuya_connection_write(self,
				       WBD_TUYA_CMD_SESS_KEY_NEG_FINISH,
				       proof,
				       sizeof(proof),
				       NULL))
		return;
	wbd_tuya_session_key(self->version,
			     self->local_key,
			     self->client_nonce,
			     device_nonce,
			     self->session_key);
	/* devices do not answer 0x05: the session is up */
	wbd_log_debug(self->log_id, "session key negotiated");
	self->have_session = TRUE;
	self->state = STATE_READY;
	wbd_tuya_connection_clear_timeout(self);
	wbd_tuya_connection_pump(self);
}

static void
wbd_tuya_connection_start_handshake(WbdTuyaConnection *self)
{
	self->state = STATE_HANDSHAKE;
	if (!wbd_tuya_random_bytes(self->client_nonce, sizeof(self->client_nonce))) {
		wbd_tuya_connection_fail(self,
					 g_error_new_literal(WATTBUS_ERROR,
							     WATTBUS_ERROR_FAILED,
							     "No random bytes for the session key"));
		return;
	}
	wbd_tuya_connection_arm_timeout(self);
	wbd_tuya_connection_write(self,
				  WBD_TUYA_CMD_SESS_KEY_NEG_START,
				  self->client_nonce,
				  sizeof(self->client_nonce),
				  NULL);
}

void
wbd_tuya_connection_emit_dps(WbdTuyaConnection *self, GVariant *dps, guint32 cmd, GVariant *meta)
{
	g_signal_emit(self, signals[SIGNAL_DPS], 0, dps, cmd, meta);
}

void
wbd_tuya_connection_emit_subdev_report(WbdTuyaConnection *self, GStrv online, GStrv offline)
{
	g_signal_emit(self, signals[SIGNAL_SUBDEV_REPORT], 0, online, offline);
}

/* heartbeats */

static void
wbd_tuya_connection_heartbeat_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GError) error = NULL;
	reply = wbd_tuya_connection_request_finish(WBD_TUYA_CONNECTION(source), res, &error);
	if (reply == NULL)
		wbd_log_debug(WBD_TUYA_CONNECTION(source)->log_id, "heartbeat failed: %s", error->message);
}

static gboolean
wbd_tuya_connection_heartbeat_timer_cb(gpointer user_data)
{
	WbdTuyaConnection *self = user_data;
	gint64 now = g_get_monotonic_time();
	g_autofree gchar *json = NULL;

	if (self->state != STATE_READY)
		return G_SOURCE_CONTINUE;
	if (now - self->last_rx > WBD_TUYA_DEAD_US) {
		self->heartbeat_id = 0;
		wbd_tuya_connection_fail(self,
					 g_error_new(WATTBUS_ERROR,
						     WATTBUS_ERROR_TIMEOUT,
						     "The device stopped answering: nothing received "
						     "for %u s",
						     (guint)(WBD_TUYA_DEAD_US / G_USEC_PER_SEC)));
		return G_SOURCE_REMOVE;
	}
	if (self->current != NULL || !g_queue_is_empty(&self->queue) ||
	    now - self->last_tx < WBD_TUYA_HEARTBEAT_IDLE_US)
		return G_SOURCE_CONTINUE;
	json = wbd_tuya_build_heartbeat(self->device_id);
	wbd_tuya_connection_request_async(self,
					  WBD_TUYA_CMD_HEART_BEAT,
					  json,
					  WBD_TUYA_REQUEST_REPLY,
					  NULL,
					  wbd_tuya_connection_heartbeat_cb,
					  NULL);
	return G_SOURCE_CONTINUE;
}

/* connecting */

static void
wbd_tuya_connection_connect_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(IoData) io = user_data;
	WbdTuyaConnection *self = io->self;
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocketConnection) connection = NULL;

	connection = g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(source), res, &error);
	if (!io_data_is_current(io))
		return;
	if (connection == NULL) {
		wbd_tuya_connection_fail(self, wbd_tuya_connection_map_io_error(self, error));
		return;
	}
	if (G_IS_TCP_CONNECTION(connection))
		g_socket_set_option(g_socket_connection_get_socket(connection), IPPROTO_TCP, TCP_NODELAY, 1, NULL);
	wbd_log_debug(self->log_id,
		      "connected to %s:%u (protocol %s)",
		      self->host,
		      self->port,
		      wbd_tuya_version_to_string(self->version));
	self->connection = g_steal_pointer(&connection);
	self->last_rx = self->last_tx = g_get_monotonic_time();
	self->heartbeat_id = g_timeout_add_seconds(WBD_TUYA_HEARTBEAT_CHECK_S,
						   wbd_tuya_connection_heartbeat_timer_cb,
						   self);
	if (!wbd_tuya_connection_watch(self, &error)) {
		wbd_tuya_connection_fail(self, wbd_tuya_connection_map_io_error(self, error));
		return;
	}
	if (self->version >= WBD_TUYA_VERSION_3_4) {
		wbd_tuya_connection_start_handshake(self);
		return;
	}
	wbd_tuya_connection_clear_timeout(self);
	self->state = STATE_READY;
	wbd_tuya_connection_pump(self);
}

static void
wbd_tuya_connection_connect(WbdTuyaConnection *self)
{
	self->state = STATE_CONNECTING;
	self->generation++;
	self->seq = 0;
	self->bad_frames = 0;
	g_byte_array_set_size(self->inbuf, 0);
	self->cancellable = g_cancellable_new();
	wbd_log_debug(self->log_id, "connecting to %s:%u", self->host, self->port);
	wbd_tuya_connection_arm_timeout(self);
	g_socket_client_connect_to_host_async(self->client,
					      self->host,
					      self->port,
					      self->cancellable,
					      wbd_tuya_connection_connect_cb,
					      io_data_new(self));
}

void
wbd_tuya_connection_pump(WbdTuyaConnection *self)
{
	GTask *task;

	if (self->state == STATE_CLOSED) {
		if (!g_queue_is_empty(&self->queue))
			wbd_tuya_connection_connect(self);
		return;
	}
	while (self->state == STATE_READY && self->current == NULL &&
	       (task = g_queue_pop_head(&self->queue)) != NULL) {
		if (g_task_return_error_if_cancelled(task)) {
			g_object_unref(task);
			continue;
		}
		self->current = task;
		wbd_tuya_connection_send_current(self);
	}
}

/**
 * wbd_tuya_connection_request_async:
 * @cmd: the command; the reply is matched by it
 * @json: the JSON payload (encrypted as the version says)
 * @kind: what completes the request
 *
 * Queues a request, connecting (and negotiating a session key) first if needed.
 * Finishes with the DPs of the frame that completed it (an empty a{sv} for an ACK).
 */
void
wbd_tuya_connection_request_async(WbdTuyaConnection *self,
				  guint32 cmd,
				  const gchar *json,
				  WbdTuyaRequestKind kind,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	Request *request = g_new0(Request, 1);

	g_task_set_source_tag(task, wbd_tuya_connection_request_async);
	request->cmd = cmd;
	request->json = g_strdup(json);
	request->kind = kind;
	g_task_set_task_data(task, request, (GDestroyNotify)request_free);
	if (g_queue_get_length(&self->queue) >= WBD_TUYA_MAX_QUEUE) {
		g_task_return_new_error(task,
					WATTBUS_ERROR,
					WATTBUS_ERROR_FAILED,
					"Too many requests are waiting for this device");
		return;
	}
	g_queue_push_tail(&self->queue, g_steal_pointer(&task));
	wbd_tuya_connection_pump(self);
}

GVariant *
wbd_tuya_connection_request_finish(WbdTuyaConnection *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

gboolean
wbd_tuya_connection_is_ready(WbdTuyaConnection *self)
{
	return self->state == STATE_READY;
}

/*
 * Whether the device has answered an UPDATEDPS (0x12) on the open connection: such a
 * request can then be a poll's proof of life on its own. Devices that ignore it never
 * do; a new connection starts without it.
 */
gboolean
wbd_tuya_connection_acks_update_dps(WbdTuyaConnection *self)
{
	return self->state == STATE_READY && self->acks_update_dps;
}

void
wbd_tuya_connection_set_version(WbdTuyaConnection *self, WbdTuyaVersion version)
{
	if (self->version == version)
		return;
	wbd_tuya_connection_close(self);
	self->version = version;
}

WbdTuyaVersion
wbd_tuya_connection_get_version(WbdTuyaConnection *self)
{
	return self->version;
}

void
wbd_tuya_connection_set_timeout(WbdTuyaConnection *self, guint timeout_ms)
{
	self->timeout_ms = MAX(timeout_ms, 100);
}

/* closes without the "closed" signal; pending requests fail as cancelled */
void
wbd_tuya_connection_close(WbdTuyaConnection *self)
{
	g_autoptr(GError) error =
	    g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED, "The connection was closed");
	GTask *task;

	wbd_tuya_connection_shutdown(self, error, FALSE);
	while ((task = g_queue_pop_head(&self->queue)) != NULL) {
		g_task_return_error(task, g_error_copy(error));
		g_object_unref(task);
	}
}

static void
wbd_tuya_connection_dispose(GObject *object)
{
	WbdTuyaConnection *self = WBD_TUYA_CONNECTION(object);
	wbd_tuya_connection_close(self);
	g_clear_object(&self->client);
	G_OBJECT_CLASS(wbd_tuya_connection_parent_class)->dispose(object);
}

static void
wbd_tuya_connection_finalize(GObject *object)
{
	WbdTuyaConnection *self = WBD_TUYA_CONNECTION(object);
	g_free(self->host);
	g_free(self->device_id);
	g_free(self->log_id);
	g_free(self->readbuf);
	g_byte_array_unref(self->inbuf);
	memset(self->local_key, 0, sizeof(self->local_key));
	G_OBJECT_CLASS(wbd_tuya_connection_parent_class)->finalize(object);
}

static void
wbd_tuya_connection_class_init(WbdTuyaConnectionClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = wbd_tuya_connection_dispose;
	object_class->finalize = wbd_tuya_connection_finalize;

	/**
	 * WbdTuyaConnection::dps:
	 * @dps: a{sv} of the DPs in the frame
	 * @cmd: the frame's command (0x08 for a push)
	 * @meta: a{sv}: `t` (x), `cid` (s) when the frame has them: DP values, replies or pushes
	 */
	signals[SIGNAL_DPS] = g_signal_new("dps",
					   G_TYPE_FROM_CLASS(klass),
					   G_SIGNAL_RUN_LAST,
					   0,
					   NULL,
					   NULL,
					   NULL,
					   G_TYPE_NONE,
					   3,
					   G_TYPE_VARIANT,
					   G_TYPE_UINT,
					   G_TYPE_VARIANT);
	/**
	 * WbdTuyaConnection::subdev-report:
	 * @online: the cids the frame says are online
	 * @offline: the cids it says are offline
	 *
	 * One frame of a 3.4+ hub's online/offline report (0x40), asked for or pushed.
	 * A hub may split its report over several frames: a cid missing from one is
	 * not absent.
	 */
	signals[SIGNAL_SUBDEV_REPORT] = g_signal_new("subdev-report",
						     G_TYPE_FROM_CLASS(klass),
						     G_SIGNAL_RUN_LAST,
						     0,
						     NULL,
						     NULL,
						     NULL,
						     G_TYPE_NONE,
						     2,
						     G_TYPE_STRV,
						     G_TYPE_STRV);
	/**
	 * WbdTuyaConnection::closed:
	 * @error: why
	 *
	 * The connection failed or the device closed it. Not emitted for
	 * wbd_tuya_connection_close().
	 */
	signals[SIGNAL_CLOSED] = g_signal_new("closed",
					      G_TYPE_FROM_CLASS(klass),
					      G_SIGNAL_RUN_LAST,
					      0,
					      NULL,
					      NULL,
					      NULL,
					      G_TYPE_NONE,
					      1,
					      G_TYPE_ERROR);
}

static void
wbd_tuya_connection_init(WbdTuyaConnection *self)
{
	g_queue_init(&self->queue);
	g_queue_init(&self->outq);
	self->timeout_ms = WBD_TUYA_TIMEOUT_MS;
	self->inbuf = g_byte_array_new();
	self->readbuf = g_malloc(WBD_TUYA_READ_SIZE);
	self->client = g_socket_client_new();
	/* devices are on the LAN: never ask a proxy resolver (libproxy) about them */
	g_socket_client_set_enable_proxy(self->client, FALSE);
}

WbdTuyaConnection *
wbd_tuya_connection_new(const gchar *host,
			guint16 port,
			const gchar *device_id,
			const guint8 *local_key,
			WbdTuyaVersion version,
			const gchar *log_id)
{
	WbdTuyaConnection *self = g_object_new(WBD_TYPE_TUYA_CONNECTION, NULL);
	self->host = g_strdup(host);
	self->port = port;
	self->device_id = g_strdup(device_id);
	self->log_id = g_strdup(log_id);
	memcpy(self->local_key, local_key, WBD_TUYA_KEY_SIZE);
	self->version = version;
	return self;
}
