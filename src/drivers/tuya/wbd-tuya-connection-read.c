/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-log.h"
#include "wbd-tuya-connection-private.h"
#include "wbd-tuya-gateway.h"

/*
 * The receiving half of a WbdTuyaConnection: bytes into the receive buffer, frames out
 * of it (resynchronising after a bad length, giving up after a few bad frames in a
 * row), and each frame to the handshake, the "dps" signal and the request waiting
 * for it.
 */

/* what is left of a frame the device began but did not finish, for the error message */
gchar *
wbd_tuya_connection_describe_partial(WbdTuyaConnection *self)
{
	gsize start = 0, frame_len = 0;
	const guint8 *p;
	guint have;

	if (self->inbuf->len == 0 ||
	    wbd_tuya_frame_scan(self->inbuf->data, self->inbuf->len, &start, &frame_len) != WBD_TUYA_SCAN_NEED_MORE ||
	    self->inbuf->len - start < 4)
		return NULL;
	p = self->inbuf->data + start;
	have = self->inbuf->len - (guint)start;
	if (frame_len > 0)
		return g_strdup_printf("%u of %" G_GSIZE_FORMAT " bytes", have, frame_len);
	if (p[0] == 0 && p[1] == 0 && ((p[2] == 0x55 && p[3] == 0xaa) || (p[2] == 0x66 && p[3] == 0x99)))
		return g_strdup_printf("%u bytes, not even the whole header", have);
	return NULL;
}

static gboolean
wbd_tuya_connection_matches(Request *request, WbdTuyaFrame *frame, gboolean has_dps)
{
	guint32 reply_cmd = request->cmd;
	switch (request->kind) {
	case WBD_TUYA_REQUEST_REPLY:
		return frame->cmd == reply_cmd;
	case WBD_TUYA_REQUEST_DPS:
		return has_dps && (frame->cmd == reply_cmd || frame->cmd == WBD_TUYA_CMD_STATUS);
	case WBD_TUYA_REQUEST_ACK:
		return frame->cmd == reply_cmd || (has_dps && frame->cmd == WBD_TUYA_CMD_STATUS);
	case WBD_TUYA_REQUEST_NO_REPLY:
	default:
		return FALSE;
	}
}

/* a refusal (return code 1, or a bare string) fails the request it answers */
static gboolean
wbd_tuya_connection_refused(WbdTuyaConnection *self, WbdTuyaFrame *frame, const gchar *what)
{
	Request *request = self->current != NULL ? g_task_get_task_data(self->current) : NULL;
	g_autoptr(GTask) task = NULL;

	wbd_log_debug(self->log_id, "← 0x%02x refused: %s", frame->cmd, what);
	if (request == NULL || frame->cmd != request->cmd)
		return FALSE;
	task = g_steal_pointer(&self->current);
	wbd_tuya_connection_clear_timeout(self);
	g_task_return_new_error(task,
				WATTBUS_ERROR,
				WATTBUS_ERROR_NOT_SUPPORTED,
				"The device refused the request: %s",
				what);
	wbd_tuya_connection_pump(self);
	return TRUE;
}

/* a hub's online/offline report (0x40), the answer to its query or pushed */
static gboolean
wbd_tuya_connection_handle_subdev_report(WbdTuyaConnection *self, WbdTuyaFrame *frame)
{
	gsize len = 0;
	const guint8 *plain = g_bytes_get_data(frame->payload, &len);
	g_auto(GStrv) online = NULL;
	g_auto(GStrv) offline = NULL;
	g_autoptr(GError) error = NULL;

	if (!wbd_tuya_payload_parse_subdev_report(plain, len, &online, &offline, &error)) {
		wbd_log_debug(self->log_id, "← 0x40: %s", error->message);
		return FALSE;
	}
	wbd_log_debug(self->log_id, "← 0x40 %u online, %u offline", g_strv_length(online), g_strv_length(offline));
	wbd_tuya_connection_emit_subdev_report(self, online, offline);
	/* a handler may have closed us */
	if (self->state == STATE_READY && self->current != NULL &&
	    wbd_tuya_connection_matches(g_task_get_task_data(self->current), frame, FALSE))
		wbd_tuya_connection_complete_current(self, NULL);
	return TRUE;
}

static void
wbd_tuya_connection_handle_frame(WbdTuyaConnection *self, WbdTuyaFrame *frame)
{
	gsize len = 0;
	const guint8 *plain = g_bytes_get_data(frame->payload, &len);
	g_autoptr(GVariant) dps = NULL;
	g_autoptr(GVariant) meta = NULL;
	g_autoptr(GError) error = NULL;
	gboolean has_dps = FALSE;
	Request *request;

	self->last_rx = g_get_monotonic_time();
	self->bad_frames = 0;
	if (self->state == STATE_HANDSHAKE) {
		wbd_tuya_connection_handle_session_response(self, frame);
		return;
	}
	if (frame->has_retcode && frame->retcode != 0) {
		g_autofree gchar *text = wbd_tuya_payload_to_text(plain, len);
		wbd_tuya_connection_refused(self, frame, text[0] != '\0' ? text : "(no reason given)");
		return;
	}
	if (frame->cmd == WBD_TUYA_CMD_UPDATEDPS)
		self->acks_update_dps = TRUE;
	if (frame->cmd == WBD_TUYA_CMD_LAN_EXT_STREAM && wbd_tuya_connection_handle_subdev_report(self, frame))
		return;
	dps = wbd_tuya_payload_parse_with_meta(plain, len, &has_dps, &meta, &error);
	if (dps == NULL) {
		g_autofree gchar *text = wbd_tuya_payload_to_text(plain, len);
		if (!wbd_tuya_connection_refused(self, frame, text))
			wbd_log_debug(self->log_id, "ignoring command 0x%02x: %s", frame->cmd, error->message);
		return;
	}
	wbd_log_debug(self->log_id, "← 0x%02x %" G_GSIZE_FORMAT " DPs", frame->cmd, g_variant_n_children(dps));
	if (has_dps && g_variant_n_children(dps) > 0)
		wbd_tuya_connection_emit_dps(self, dps, frame->cmd, meta);
	/* a handler may have closed us */
	if (self->state != STATE_READY || self->current == NULL)
		return;
	request = g_task_get_task_data(self->current);
	if (wbd_tuya_connection_matches(request, frame, has_dps))
		wbd_tuya_connection_complete_current(self, has_dps ? dps : NULL);
}

/* a frame that does not verify: it fails what waits for an answer; a few in a row end the stream */
static gboolean
wbd_tuya_connection_handle_bad_frame(WbdTuyaConnection *self, GError *error)
{
	g_autoptr(GTask) task = NULL;

	self->bad_frames++;
	wbd_log_debug(self->log_id, "dropping a frame: %s", error->message);
	if (self->state == STATE_HANDSHAKE || self->bad_frames >= WBD_TUYA_MAX_BAD_FRAMES) {
		wbd_tuya_connection_fail(self, error);
		return FALSE;
	}
	if (self->current != NULL) {
		task = g_steal_pointer(&self->current);
		wbd_tuya_connection_clear_timeout(self);
		g_task_return_error(task, error);
		wbd_tuya_connection_pump(self);
		return self->state != STATE_CLOSED;
	}
	wbd_log_warning(self->log_id, "%s", error->message);
	g_error_free(error);
	return TRUE;
}

static void
wbd_tuya_connection_process_input(WbdTuyaConnection *self)
{
	guint generation = self->generation;

	while (self->generation == generation && self->inbuf->len > 0) {
		gsize start = 0, frame_len = 0;
		WbdTuyaScan scan = wbd_tuya_frame_scan(self->inbuf->data, self->inbuf->len, &start, &frame_len);
		WbdTuyaFrame frame = {0};
		GError *error = NULL;
		gboolean ok;

		if (scan == WBD_TUYA_SCAN_NEED_MORE) {
			if (start > 0)
				g_byte_array_remove_range(self->inbuf, 0, (guint)start);
			return;
		}
		if (scan == WBD_TUYA_SCAN_BAD_LENGTH) {
			/* resynchronise: look for the next prefix after this one */
			g_byte_array_remove_range(self->inbuf, 0, (guint)start + 4);
			error = g_error_new(WATTBUS_ERROR,
					    WATTBUS_ERROR_FAILED,
					    frame_len > WBD_TUYA_MAX_FRAME
						? "The device sent an oversized frame (%" G_GSIZE_FORMAT
						  " bytes; the limit is %u)"
						: "The device sent a frame with a bad length field (%" G_GSIZE_FORMAT
						  " bytes; the limit is %u)",
					    frame_len,
					    (guint)WBD_TUYA_MAX_FRAME);
			if (!wbd_tuya_connection_handle_bad_frame(self, error))
				return;
			continue;
		}
		ok = wbd_tuya_frame_decode(self->inbuf->data + start,
					   frame_len,
					   self->version,
					   wbd_tuya_connection_key(self),
					   TRUE,
					   &frame,
					   &error);
		g_byte_array_remove_range(self->inbuf, 0, (guint)(start + frame_len));
		if (!ok) {
			if (self->state == STATE_HANDSHAKE) {
				GError *mapped = g_error_new(WATTBUS_ERROR,
							     WATTBUS_ERROR_FAILED,
							     "The device's session-key answer does not "
							     "verify: check the local key and the "
							     "protocol version (%s)",
							     error->message);
				g_error_free(error);
				error = mapped;
			}
			if (!wbd_tuya_connection_handle_bad_frame(self, error))
				return;
			continue;
		}
		wbd_tuya_connection_handle_frame(self, &frame);
		wbd_tuya_frame_clear(&frame);
	}
}

static void
wbd_tuya_connection_closed_by_device(WbdTuyaConnection *self)
{
	g_autofree gchar *partial = wbd_tuya_connection_describe_partial(self);
	if (partial != NULL)
		wbd_tuya_connection_fail(self,
					 g_error_new(WATTBUS_ERROR,
						     WATTBUS_ERROR_DEVICE_OFFLINE,
						     "Truncated frame from the device: it closed "
						     "the connection after %s",
						     partial));
	else
		wbd_tuya_connection_fail(self,
					 g_error_new_literal(WATTBUS_ERROR,
							     WATTBUS_ERROR_DEVICE_OFFLINE,
							     self->state == STATE_HANDSHAKE
								 ? "The device closed the connection "
								   "during the session-key handshake "
								   "(check the protocol version and the "
								   "local key)"
								 : "The device closed the connection"));
}

/*
 * The socket is readable (or the deadline came, @condition 0): what it holds is read
 * without blocking, in reads of WBD_TUYA_READ_SIZE until one comes back short, and
 * every whole frame in it is handled in this one wake-up. No GSource or GTask per read.
 */
static void
wbd_tuya_connection_io_cb(WbdFdWatch *watch, GIOCondition condition, gpointer user_data)
{
	WbdTuyaConnection *self = user_data;
	/* a handler of what was read may drop the last reference */
	g_autoptr(WbdTuyaConnection) keep = g_object_ref(self);
	guint generation = self->generation;
	GSocket *socket;

	if (condition == 0) {
		wbd_tuya_connection_timed_out(self);
		return;
	}
	socket = g_socket_connection_get_socket(self->connection);
	for (guint reads = 0; reads < WBD_TUYA_MAX_READS; reads++) {
		g_autoptr(GError) error = NULL;
		gssize n = g_socket_receive_with_blocking(socket,
							  (gchar *)self->readbuf,
							  WBD_TUYA_READ_SIZE,
							  FALSE,
							  NULL,
							  &error);

		if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
			/* nothing to read, yet the socket says it hung up: do not spin on it */
			if (reads == 0 && (condition & (G_IO_HUP | G_IO_ERR)) != 0)
				wbd_tuya_connection_closed_by_device(self);
			return;
		}
		if (n < 0) {
			wbd_tuya_connection_fail(self, wbd_tuya_connection_map_io_error(self, error));
			return;
		}
		if (n == 0) {
			wbd_tuya_connection_closed_by_device(self);
			return;
		}
		g_byte_array_append(self->inbuf, self->readbuf, (guint)n);
		wbd_tuya_connection_process_input(self);
		if (self->generation != generation || self->state == STATE_CLOSED || n < WBD_TUYA_READ_SIZE)
			return;
	}
}

/* the set of every Tuya connection's socket (one main-loop source for all) */
static WbdFdSet *
wbd_tuya_connection_get_set(void)
{
	return wbd_fd_set_get_shared("[wattbus] Tuya sockets", G_PRIORITY_DEFAULT, 0);
}

/* reads what the device sends from now on, for as long as the connection is open */
gboolean
wbd_tuya_connection_watch(WbdTuyaConnection *self, GError **error)
{
	GSocket *socket = g_socket_connection_get_socket(self->connection);
	return wbd_fd_watch_add(wbd_tuya_connection_get_set(),
				&self->watch,
				g_socket_get_fd(socket),
				G_IO_IN,
				wbd_tuya_connection_io_cb,
				self,
				error);
}
