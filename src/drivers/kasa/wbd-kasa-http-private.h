/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "wbd-fd-watch.h"
#include "wbd-kasa-crypto.h"
#include "wbd-kasa-http.h"

G_BEGIN_DECLS

#define WBD_KASA_HTTP_TIMEOUT_S 5
#define WBD_KASA_HTTP_OK 200
#define WBD_KASA_HTTP_FORBIDDEN 403
#define WBD_KASA_HTTP_NOT_FOUND 404

typedef void (*WbdKasaHttpConnDone)(WbdKasaHttp *self, GBytes *reply, GError *error, gpointer user_data);

/* the state the transports share (wbd-kasa-http.c, -klap.c, -aes.c) */
struct _WbdKasaHttp {
	GObject parent_instance;
	gchar *host;
	guint16 port;
	gchar *log_id;
	WbdKasaTransport transport; /* AUTO until a handshake settled it */
	gchar *username;	    /* NULL: none configured */
	gchar *password;
	GQueue queue; /* GTask, the requests waiting; the head is in flight */
	gboolean busy;
	gboolean closed; /* wbd_kasa_http_close(): nothing more is sent */

	/* the last POST's outcome, until wbd_kasa_http_post_finish() */
	GBytes *post_reply;
	GError *post_error;
	guint post_status;
	gchar *post_cookie; /* its Set-Cookie, NULL: none */

	/* the connection and the request on it (wbd-kasa-http-conn.c) */
	GSocketConnection *connection;
	guint requests_on_connection;
	GCancellable *connect_cancellable;
	guint connect_timeout_id;
	WbdFdWatch watch;   /* the open socket's, in the set of the request's priority */
	gboolean waiting;   /* a request waits on the watch */
	gint64 deadline;    /* monotonic µs */
	gint conn_priority;
	gboolean cancelled;
	gboolean timed_out;
	gboolean retried;
	gboolean close_after_reply;
	GByteArray *out; /* the request */
	gsize sent;
	GByteArray *in; /* the reply */
	gsize head_len; /* 0 until the headers are read */
	gsize body_len;
	WbdKasaHttpConnDone conn_done;
	gpointer conn_user_data;

	/* the session */
	gboolean established;
	gchar *session_id;
	gint64 expires; /* monotonic, µs */
	gchar *description; /* e.g. "KLAP v2", for logs and properties */

	/* KLAP */
	guint8 local_seed[WBD_KASA_KLAP_SEED_SIZE];
	WbdKasaKlapVersion klap_version;
	guint8 auth_hash[WBD_KASA_KLAP_MAX_AUTH_HASH];
	gsize auth_len;
	WbdKasaKlapSession klap;

	/* AES */
	guint8 aes_key[WBD_KASA_AES_KEY_SIZE];
	guint8 aes_iv[16];
	gchar *token;
	guint login_attempt; /* 0: password2 (login v2), 1: password (v1) */
	gint login_version;  /* the one that worked, 0 unknown */
};

typedef void (*WbdKasaHttpPosted)(WbdKasaHttp *self, GTask *task);

/* a POST to the device; @callback gets the task, finish with wbd_kasa_http_post_finish() */
void
wbd_kasa_http_post(WbdKasaHttp *self,
		   const gchar *path,
		   const gchar *content_type,
		   GBytes *body,
		   gboolean with_cookie,
		   GTask *task,
		   WbdKasaHttpPosted callback);
GBytes *
wbd_kasa_http_post_finish(WbdKasaHttp *self, guint *status, GError **error);
const gchar *
wbd_kasa_http_post_cookie(WbdKasaHttp *self);

void
wbd_kasa_http_conn_post(WbdKasaHttp *self,
			const gchar *path,
			const gchar *content_type,
			gboolean with_cookie,
			GBytes *body,
			gint priority,
			WbdKasaHttpConnDone done,
			gpointer user_data);
void
wbd_kasa_http_conn_cancel(WbdKasaHttp *self);
void
wbd_kasa_http_conn_clear(WbdKasaHttp *self);
void
wbd_kasa_http_set_session(WbdKasaHttp *self, const gchar *set_cookie);
void
wbd_kasa_http_handshake_done(WbdKasaHttp *self, GTask *task, GError *error);
void
wbd_kasa_http_send_done(WbdKasaHttp *self, GTask *task, gchar *reply, GError *error, gboolean session_dead);
const gchar *
wbd_kasa_http_request_text(GTask *task);
GError *
wbd_kasa_http_auth_error(WbdKasaHttp *self, const gchar *how);

void
wbd_kasa_klap_handshake(WbdKasaHttp *self, GTask *task);
void
wbd_kasa_klap_send(WbdKasaHttp *self, GTask *task);
void
wbd_kasa_aes_handshake(WbdKasaHttp *self, GTask *task);
void
wbd_kasa_aes_send(WbdKasaHttp *self, GTask *task);

G_END_DECLS
