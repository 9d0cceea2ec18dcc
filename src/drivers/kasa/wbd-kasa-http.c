/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>
#include <wattbus-glib.h>

#include "wbd-kasa-http-private.h"
#include "wbd-log.h"

/*
 * The part of TP-Link's HTTP transports that KLAP and AES share: the request queue
 * (one request in flight per device, kasa-smart.md §2), the session's cookie (only
 * TP_SESSIONID goes back, never an empty header), its lifetime (TIMEOUT minus 20
 * minutes, on the monotonic clock), and one re-handshake when the device says the
 * session is gone.
 */

#define WBD_KASA_SESSION_DEFAULT_TIMEOUT_S 86400
#define WBD_KASA_SESSION_MARGIN_S 1200

G_DEFINE_TYPE(WbdKasaHttp, wbd_kasa_http, G_TYPE_OBJECT)

gboolean
wbd_kasa_transport_parse(const gchar *text, WbdKasaTransport *transport)
{
	static const gchar *const names[] = {"auto", "xor", "klap", "aes"};
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		if (g_strcmp0(text, names[i]) == 0) {
			*transport = (WbdKasaTransport)i;
			return TRUE;
		}
	}
	return FALSE;
}

const gchar *
wbd_kasa_transport_to_string(WbdKasaTransport transport)
{
	switch (transport) {
	case WBD_KASA_TRANSPORT_XOR:
		return "xor";
	case WBD_KASA_TRANSPORT_KLAP:
		return "klap";
	case WBD_KASA_TRANSPORT_AES:
		return "aes";
	case WBD_KASA_TRANSPORT_AUTO:
	default:
		return "auto";
	}
}

typedef struct {
	gchar *json;
	guint handshakes; /* made for this request */
} RequestData;

static void
request_data_free(RequestData *data)
{
	g_free(data->json);
	g_free(data);
}

const gchar *
wbd_kasa_http_request_text(GTask *task)
{
	RequestData *data = g_task_get_task_data(task);
	return data->json;
}

static void
wbd_kasa_http_reset(WbdKasaHttp *self)
{
	self->established = FALSE;
	g_clear_pointer(&self->session_id, g_free);
	g_clear_pointer(&self->token, g_free);
	OPENSSL_cleanse(&self->klap, sizeof(self->klap));
	OPENSSL_cleanse(self->aes_key, sizeof(self->aes_key));
}

static void
wbd_kasa_http_run(WbdKasaHttp *self);

static void
wbd_kasa_http_complete(WbdKasaHttp *self, GTask *task, gchar *reply, GError *error)
{
	g_warn_if_fail(g_queue_peek_head(&self->queue) == task);
	g_queue_pop_head(&self->queue);
	self->busy = FALSE;
	if (error != NULL)
		g_task_return_error(task, error);
	else
		g_task_return_pointer(task, reply, g_free);
	g_object_unref(task);
	wbd_kasa_http_run(self);
}

static void
wbd_kasa_http_handshake(WbdKasaHttp *self, GTask *task)
{
	RequestData *data = g_task_get_task_data(task);
	data->handshakes++;
	wbd_kasa_http_reset(self);
	if (self->transport == WBD_KASA_TRANSPORT_AES)
		wbd_kasa_aes_handshake(self, task);
	else
		wbd_kasa_klap_handshake(self, task);
}

static void
wbd_kasa_http_send(WbdKasaHttp *self, GTask *task)
{
	if (self->transport == WBD_KASA_TRANSPORT_AES)
		wbd_kasa_aes_send(self, task);
	else
		wbd_kasa_klap_send(self, task);
}

void
wbd_kasa_http_handshake_done(WbdKasaHttp *self, GTask *task, GError *error)
{
	if (error != NULL) {
		wbd_kasa_http_reset(self);
		wbd_kasa_http_complete(self, task, NULL, error);
		return;
	}
	self->established = TRUE;
	wbd_kasa_http_send(self, task);
}

/* @session_dead: the device no longer knows the session (403, 9999): one new handshake */
void
wbd_kasa_http_send_done(WbdKasaHttp *self, GTask *task, gchar *reply, GError *error, gboolean session_dead)
{
	RequestData *data = g_task_get_task_data(task);
	if (session_dead && data->handshakes == 0) {
		wbd_log_debug(self->log_id, "the device ended the session: a new handshake");
		g_clear_error(&error);
		wbd_kasa_http_handshake(self, task);
		return;
	}
	if (session_dead)
		wbd_kasa_http_reset(self);
	wbd_kasa_http_complete(self, task, reply, error);
}

static void
wbd_kasa_http_run(WbdKasaHttp *self)
{
	GTask *task;

	if (self->busy || g_queue_is_empty(&self->queue))
		return;
	task = g_queue_peek_head(&self->queue);
	if (self->closed) {
		g_queue_pop_head(&self->queue);
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CLOSED, "The device was stopped");
		g_object_unref(task);
		wbd_kasa_http_run(self);
		return;
	}
	if (g_task_return_error_if_cancelled(task)) {
		g_queue_pop_head(&self->queue);
		g_object_unref(task);
		wbd_kasa_http_run(self);
		return;
	}
	self->busy = TRUE;
	if (!self->established || g_get_monotonic_time() >= self->expires)
		wbd_kasa_http_handshake(self, task);
	else
		wbd_kasa_http_send(self, task);
}

void
wbd_kasa_http_request_async(WbdKasaHttp *self,
			    const gchar *json,
			    gint io_priority,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	RequestData *data = g_new0(RequestData, 1);
	data->json = g_strdup(json);
	g_task_set_source_tag(task, wbd_kasa_http_request_async);
	g_task_set_priority(task, io_priority);
	g_task_set_task_data(task, data, (GDestroyNotify)request_data_free);
	/* a command goes before the polls waiting behind the one in flight */
	if (io_priority < G_PRIORITY_DEFAULT + 10 && !g_queue_is_empty(&self->queue)) {
		guint n = 1;
		while (n < g_queue_get_length(&self->queue) &&
		       g_task_get_priority(g_queue_peek_nth(&self->queue, n)) <= io_priority)
			n++;
		g_queue_push_nth(&self->queue, task, (gint)n);
	} else {
		g_queue_push_tail(&self->queue, task);
	}
	wbd_kasa_http_run(self);
}

gchar *
wbd_kasa_http_request_finish(WbdKasaHttp *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

/* the cookie of a handshake's answer: TP_SESSIONID (or SESSIONID) and TIMEOUT */
void
wbd_kasa_http_set_session(WbdKasaHttp *self, const gchar *header)
{
	g_auto(GStrv) pairs = NULL;
	guint64 timeout = WBD_KASA_SESSION_DEFAULT_TIMEOUT_S;
	gint64 life;

	g_clear_pointer(&self->session_id, g_free);
	if (header != NULL && strlen(header) < 1024) {
		pairs = g_strsplit_set(header, ";,", 16);
		for (guint i = 0; pairs[i] != NULL; i++) {
			gchar *pair = g_strstrip(pairs[i]);
			if ((g_str_has_prefix(pair, "TP_SESSIONID=") || g_str_has_prefix(pair, "SESSIONID=")) &&
			    self->session_id == NULL) {
				const gchar *value = strchr(pair, '=') + 1;
				gboolean ok = value[0] != '\0' && strlen(value) <= 128;
				for (const gchar *p = value; ok && *p != '\0'; p++)
					ok = g_ascii_isalnum(*p);
				if (ok)
					self->session_id = g_strdup(value);
			} else if (g_str_has_prefix(pair, "TIMEOUT=")) {
				if (!g_ascii_string_to_unsigned(pair + strlen("TIMEOUT="), 10, 60, 7 * 86400, &timeout, NULL))
					timeout = WBD_KASA_SESSION_DEFAULT_TIMEOUT_S;
			}
		}
	}
	/* device clocks drift: renew 20 minutes early, or at half time for short sessions */
	life = (gint64)timeout > 2 * WBD_KASA_SESSION_MARGIN_S ? (gint64)timeout - WBD_KASA_SESSION_MARGIN_S
							    : (gint64)timeout / 2;
	self->expires = g_get_monotonic_time() + life * G_USEC_PER_SEC;
}

/* the POST in flight (one a device) */
typedef struct {
	GTask *task;
	WbdKasaHttpPosted callback;
} PostCall;

static void
wbd_kasa_http_posted(WbdKasaHttp *self, GBytes *reply, GError *error, gpointer user_data)
{
	PostCall call = *(PostCall *)user_data;
	g_free(user_data);
	g_clear_pointer(&self->post_reply, g_bytes_unref);
	g_clear_error(&self->post_error);
	self->post_reply = reply;
	self->post_error = error;
	call.callback(self, call.task);
}

void
wbd_kasa_http_post(WbdKasaHttp *self,
		   const gchar *path,
		   const gchar *content_type,
		   GBytes *body,
		   gboolean with_cookie,
		   GTask *task,
		   WbdKasaHttpPosted callback)
{
	PostCall *call = g_new(PostCall, 1);
	call->task = task;
	call->callback = callback;
	wbd_kasa_http_conn_post(self,
				path,
				content_type,
				with_cookie,
				body,
				g_task_get_priority(task),
				wbd_kasa_http_posted,
				call);
}

/* the Set-Cookie header of the last reply (NULL: none) */
const gchar *
wbd_kasa_http_post_cookie(WbdKasaHttp *self)
{
	return self->post_cookie;
}

/* the reply's body for status 200 (else %NULL with @status set and no error), or an error */
GBytes *
wbd_kasa_http_post_finish(WbdKasaHttp *self, guint *status, GError **error)
{
	g_autoptr(GBytes) body = g_steal_pointer(&self->post_reply);

	*status = 0;
	if (body == NULL) {
		g_propagate_error(error, g_steal_pointer(&self->post_error));
		return NULL;
	}
	*status = self->post_status;
	if (*status != WBD_KASA_HTTP_OK)
		return NULL;
	return g_steal_pointer(&body);
}

/* credentials refused: name the account, never the password, and say what to check */
GError *
wbd_kasa_http_auth_error(WbdKasaHttp *self, const gchar *how)
{
	if (self->username == NULL)
		return g_error_new(WATTBUS_ERROR,
				   WATTBUS_ERROR_PERMISSION_DENIED,
				   "The device is bound to a TP-Link account (%s): set username and "
				   "password (your Tapo/Kasa app login) for it, or once for every "
				   "TP-Link device in a [driver kasa] group",
				   how);
	return g_error_new(WATTBUS_ERROR,
			   WATTBUS_ERROR_PERMISSION_DENIED,
			   "The device refused the account '%s' (%s): check the e-mail exactly as "
			   "registered in the Tapo/Kasa app (letter case counts) and its password; "
			   "a device keeps an old password until it is re-added in the app, and "
			   "2025+ firmware needs \"Third-Party Compatibility\" turned on in the app",
			   self->username,
			   how);
}

WbdKasaTransport
wbd_kasa_http_get_transport(WbdKasaHttp *self)
{
	return self->transport;
}

/* what the session runs on, e.g. "KLAP v2" (NULL before the first handshake) */
const gchar *
wbd_kasa_http_describe(WbdKasaHttp *self)
{
	return self->description;
}

void
wbd_kasa_http_close(WbdKasaHttp *self)
{
	self->closed = TRUE;
	wbd_kasa_http_conn_cancel(self);
	wbd_kasa_http_reset(self);
}

static void
wbd_kasa_http_finalize(GObject *object)
{
	WbdKasaHttp *self = WBD_KASA_HTTP(object);
	wbd_kasa_http_reset(self);
	wbd_kasa_http_conn_clear(self);
	g_clear_pointer(&self->post_reply, g_bytes_unref);
	g_clear_error(&self->post_error);
	g_free(self->host);
	g_free(self->log_id);
	g_free(self->username);
	if (self->password != NULL) {
		OPENSSL_cleanse(self->password, strlen(self->password));
		g_free(self->password);
	}
	g_free(self->description);
	OPENSSL_cleanse(self->auth_hash, sizeof(self->auth_hash));
	G_OBJECT_CLASS(wbd_kasa_http_parent_class)->finalize(object);
}

static void
wbd_kasa_http_class_init(WbdKasaHttpClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = wbd_kasa_http_finalize;
}

static void
wbd_kasa_http_init(WbdKasaHttp *self)
{
	g_queue_init(&self->queue);
}

WbdKasaHttp *
wbd_kasa_http_new(const gchar *host,
		  guint16 port,
		  WbdKasaTransport transport,
		  const gchar *username,
		  const gchar *password,
		  const gchar *log_id)
{
	WbdKasaHttp *self = g_object_new(WBD_TYPE_KASA_HTTP, NULL);
	self->host = g_strdup(host);
	self->port = port;
	self->transport = transport;
	self->username = g_strdup(username);
	self->password = g_strdup(password);
	self->log_id = g_strdup(log_id);
	return self;
}
