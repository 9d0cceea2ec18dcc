/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "wbd-fd-watch.h"
#include "wbd-tuya-codec.h"
#include "wbd-tuya-connection.h"

G_BEGIN_DECLS

/*
 * The inside of a WbdTuyaConnection, shared by its two files:
 * wbd-tuya-connection.c (connecting, the handshake, writing, the request queue,
 * heartbeats) and wbd-tuya-connection-read.c (the receive buffer, frames, matching
 * replies to the request waiting for one).
 */

#define WBD_TUYA_READ_SIZE 4096
#define WBD_TUYA_MAX_READS 16 /* reads of WBD_TUYA_READ_SIZE per wake-up, at most */
#define WBD_TUYA_MAX_BAD_FRAMES 3 /* bad frames in a row before the stream is given up */

typedef enum {
	STATE_CLOSED,
	STATE_CONNECTING,
	STATE_HANDSHAKE,
	STATE_READY,
} State;

typedef struct {
	guint32 cmd;
	gchar *json;
	WbdTuyaRequestKind kind;
} Request;

struct _WbdTuyaConnection {
	GObject parent_instance;
	gchar *host;
	guint16 port;
	gchar *device_id;
	gchar *log_id;
	guint8 local_key[WBD_TUYA_KEY_SIZE];
	guint8 session_key[WBD_TUYA_KEY_SIZE];
	guint8 client_nonce[WBD_TUYA_NONCE_SIZE];
	WbdTuyaVersion version;
	guint timeout_ms;

	GSocketClient *client;
	GSocketConnection *connection;
	GCancellable *cancellable; /* the current connection's I/O */
	guint generation;	   /* which connection an I/O callback belongs to */
	State state;
	gboolean have_session; /* the session key is in use */
	gboolean writing;      /* one write at a time on the stream */
	GQueue outq;	       /* Outgoing frames */
	guint32 seq;
	GByteArray *inbuf;
	guint8 *readbuf;
	/* the socket, while connected, in the drivers' one set of sockets; its deadline is
	 * the time-out of the handshake or of the current request */
	WbdFdWatch watch;
	GQueue queue;	/* GTask of Request, not sent yet */
	GTask *current; /* sent, waiting for its answer */
	guint timeout_id; /* the time-out while connecting (no socket to watch yet) */
	guint heartbeat_id;
	gint64 last_rx;
	gint64 last_tx;
	guint bad_frames;
	gboolean acks_update_dps; /* the device answered an UPDATEDPS on this connection */
};

/* an I/O callback's view of which connection it was started on */
typedef struct {
	WbdTuyaConnection *self;
	guint generation;
	GBytes *frame; /* what is being written */
	void (*written)(WbdTuyaConnection *self);
} IoData;

static inline IoData *
io_data_new(WbdTuyaConnection *self)
{
	IoData *io = g_new0(IoData, 1);
	io->self = g_object_ref(self);
	io->generation = self->generation;
	return io;
}

static inline void
io_data_free(IoData *io)
{
	g_object_unref(io->self);
	g_clear_pointer(&io->frame, g_bytes_unref);
	g_free(io);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(IoData, io_data_free)

static inline gboolean
io_data_is_current(IoData *io)
{
	return io->generation == io->self->generation && io->self->state != STATE_CLOSED;
}

/* wbd-tuya-connection.c */
const guint8 *
wbd_tuya_connection_key(WbdTuyaConnection *self);
void
wbd_tuya_connection_fail(WbdTuyaConnection *self, GError *error);
void
wbd_tuya_connection_timed_out(WbdTuyaConnection *self);
void
wbd_tuya_connection_clear_timeout(WbdTuyaConnection *self);
GError *
wbd_tuya_connection_map_io_error(WbdTuyaConnection *self, const GError *error);
void
wbd_tuya_connection_complete_current(WbdTuyaConnection *self, GVariant *dps);
void
wbd_tuya_connection_pump(WbdTuyaConnection *self);
void
wbd_tuya_connection_handle_session_response(WbdTuyaConnection *self, WbdTuyaFrame *frame);
void
wbd_tuya_connection_emit_dps(WbdTuyaConnection *self, GVariant *dps, guint32 cmd, GVariant *meta);
void
wbd_tuya_connection_emit_subdev_report(WbdTuyaConnection *self, GStrv online, GStrv offline);

/* wbd-tuya-connection-read.c */
gchar *
wbd_tuya_connection_describe_partial(WbdTuyaConnection *self);
gboolean
wbd_tuya_connection_watch(WbdTuyaConnection *self, GError **error);

G_END_DECLS
