/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include <wattbus-glib.h>

#include "wbd-fd-watch.h"
#include "wbd-kasa-http-private.h"
#include "wbd-log.h"

/*
 * The HTTP/1.1 client of TP-Link's transports: one kept TCP connection a device, one
 * POST at a time, the request in one send and the reply read without blocking once the
 * socket is readable. An open socket stays in a WbdFdSet (wbd-fd-watch.c: one epoll set
 * and one main-loop source for every socket of a priority), which also holds the
 * request's time-out, as wbd-kasa-connection.c does for XOR: no GSource or timer a
 * request. While no request is under way, a readable socket means the device closed
 * it: it is closed then, and the next request connects. A libsoup SoupMessage a poll (headers, signals, a
 * GTask and sources of its own) cost 5-8 times an XOR poll's CPU at 1,000 plugs; the
 * devices speak a narrow HTTP: a POST with Content-Length, a reply with Content-Length
 * (no chunks, no redirects, no compression, no proxies).
 *
 * The reply is bounded: headers up to WBD_KASA_HTTP_MAX_HEAD bytes, a body with a
 * Content-Length up to WBD_KASA_HTTP_MAX_BODY. A device that closed the kept connection
 * before it answered (P100 after each reply, others when they like, kasa-smart.md §2)
 * gets the request once more on a new connection: not an error.
 */

#define WBD_KASA_HTTP_MAX_HEAD 8192

static GSocketClient *
wbd_kasa_http_socket_client(void)
{
	static GSocketClient *client;
	if (client == NULL) {
		client = g_socket_client_new();
		/* devices are on the local network: never through a proxy */
		g_socket_client_set_enable_proxy(client, FALSE);
	}
	return client;
}

static void
wbd_kasa_http_conn_close(WbdKasaHttp *self)
{
	if (self->connection == NULL)
		return;
	/* out of the epoll set before the descriptor closes; closing does not block */
	self->waiting = FALSE;
	wbd_fd_watch_remove(&self->watch);
	g_io_stream_close(G_IO_STREAM(self->connection), NULL, NULL);
	g_clear_object(&self->connection);
	self->requests_on_connection = 0;
}

/* ends the request in flight: @reply (the body) or @error */
static void
wbd_kasa_http_conn_done(WbdKasaHttp *self, GBytes *reply, GError *error)
{
	WbdKasaHttpConnDone done = self->conn_done;
	gpointer user_data = self->conn_user_data;

	gboolean unwatched = FALSE;

	self->waiting = FALSE;
	if (self->watch.set != NULL) {
		wbd_fd_watch_clear_deadline(&self->watch);
		/* idle: readable means closed by the device */
		unwatched = !wbd_fd_watch_set_condition(&self->watch, G_IO_IN, NULL);
	}
	self->conn_done = NULL;
	self->conn_user_data = NULL;
	if (error != NULL || self->close_after_reply || unwatched)
		wbd_kasa_http_conn_close(self);
	else
		self->requests_on_connection++;
	done(self, reply, error, user_data);
}

static void
wbd_kasa_http_conn_fail(WbdKasaHttp *self, GError *error)
{
	GError *mapped;
	if (self->timed_out) {
		mapped = g_error_new(WATTBUS_ERROR,
				     WATTBUS_ERROR_TIMEOUT,
				     "The device did not answer on HTTP port %u in %d s",
				     self->port,
				     WBD_KASA_HTTP_TIMEOUT_S);
	} else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || error->domain == WATTBUS_ERROR) {
		mapped = g_error_copy(error);
	} else {
		mapped = g_error_new(WATTBUS_ERROR,
				     WATTBUS_ERROR_DEVICE_OFFLINE,
				     "No answer on HTTP port %u: %s",
				     self->port,
				     error->message);
	}
	g_error_free(error);
	wbd_kasa_http_conn_done(self, NULL, mapped);
}

static void
wbd_kasa_http_conn_send(WbdKasaHttp *self);

/* the device closed a connection it had answered on before: once more on a new one */
static gboolean
wbd_kasa_http_conn_retry(WbdKasaHttp *self, GError *error)
{
	if (self->retried || self->requests_on_connection == 0 || self->cancelled ||
	    (error != NULL && (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
			       g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))))
		return FALSE;
	wbd_log_debug(self->log_id, "the device closed the kept connection: sending again on a new one");
	self->retried = TRUE;
	wbd_kasa_http_conn_close(self);
	wbd_kasa_http_conn_send(self);
	return TRUE;
}

static void
wbd_kasa_http_conn_io_cb(WbdFdWatch *watch, GIOCondition condition, gpointer user_data);

/* the set of the sockets at @priority (a poll's, or a command's) */
static WbdFdSet *
wbd_kasa_http_conn_get_set(gint priority)
{
	return wbd_fd_set_get_shared("[wattbus] TP-Link HTTP sockets", priority, 0);
}

/* waits for the socket, until the request's deadline (no timer of its own) */
static void
wbd_kasa_http_conn_wait(WbdKasaHttp *self, GIOCondition condition)
{
	WbdFdSet *set = wbd_kasa_http_conn_get_set(self->conn_priority);
	GSocket *socket = g_socket_connection_get_socket(self->connection);
	gint64 deadline = self->cancelled ? 0 : self->deadline;
	GError *error = NULL;
	gboolean ok;

	if (self->watch.set == set) {
		ok = wbd_fd_watch_set_condition(&self->watch, condition, &error);
	} else {
		wbd_fd_watch_remove(&self->watch);
		ok = wbd_fd_watch_add(set, &self->watch, g_socket_get_fd(socket), condition, wbd_kasa_http_conn_io_cb, self, &error);
	}
	if (!ok) {
		wbd_kasa_http_conn_fail(self, error);
		return;
	}
	self->waiting = TRUE;
	if (!self->watch.has_deadline || self->watch.deadline != deadline)
		wbd_fd_watch_set_deadline(&self->watch, deadline);
}

static GError *
bad_reply(const gchar *what)
{
	return g_error_new(WATTBUS_ERROR, WATTBUS_ERROR_FAILED, "Bad reply from the device: %s", what);
}

/* the status line and the headers this client needs; FALSE: @error set */
static gboolean
wbd_kasa_http_conn_parse_head(WbdKasaHttp *self, const gchar *head, gsize len, GError **error)
{
	g_autofree gchar *text = g_strndup(head, len);
	g_auto(GStrv) lines = g_strsplit(text, "\r\n", 64);
	gboolean have_length = FALSE;
	guint64 value = 0;

	if (lines[0] == NULL || (!g_str_has_prefix(lines[0], "HTTP/1.1 ") && !g_str_has_prefix(lines[0], "HTTP/1.0 ")) ||
	    !g_ascii_isdigit(lines[0][9]) || !g_ascii_isdigit(lines[0][10]) || !g_ascii_isdigit(lines[0][11]) ||
	    (lines[0][12] != ' ' && lines[0][12] != '\0')) {
		*error = bad_reply("not an HTTP/1.1 status line");
		return FALSE;
	}
	self->post_status = (guint)g_ascii_digit_value(lines[0][9]) * 100 + (guint)g_ascii_digit_value(lines[0][10]) * 10 +
			    (guint)g_ascii_digit_value(lines[0][11]);
	self->close_after_reply = lines[0][7] == '0';
	for (guint i = 1; lines[i] != NULL; i++) {
		gchar *colon = strchr(lines[i], ':');
		const gchar *v;
		if (colon == NULL)
			continue;
		*colon = '\0';
		v = g_strstrip(colon + 1);
		if (g_ascii_strcasecmp(lines[i], "Content-Length") == 0) {
			if (have_length || !g_ascii_string_to_unsigned(v, 10, 0, G_MAXUINT64, &value, NULL)) {
				*error = bad_reply("an HTTP Content-Length that is not one number");
				return FALSE;
			}
			have_length = TRUE;
		} else if (g_ascii_strcasecmp(lines[i], "Transfer-Encoding") == 0) {
			have_length = FALSE;
			break;
		} else if (g_ascii_strcasecmp(lines[i], "Set-Cookie") == 0) {
			/* several: joined as one list, as HTTP folds them */
			gchar *joined = self->post_cookie == NULL ? g_strdup(v) : g_strconcat(self->post_cookie, ", ", v, NULL);
			g_free(self->post_cookie);
			self->post_cookie = joined;
		} else if (g_ascii_strcasecmp(lines[i], "Connection") == 0) {
			self->close_after_reply = g_ascii_strcasecmp(v, "close") == 0 ||
						  (self->close_after_reply && g_ascii_strcasecmp(v, "keep-alive") != 0);
		}
	}
	if (!have_length || value > WBD_KASA_HTTP_MAX_BODY) {
		*error = g_error_new(WATTBUS_ERROR,
				     WATTBUS_ERROR_FAILED,
				     "Bad reply from the device: an HTTP body over %d bytes or without a length",
				     WBD_KASA_HTTP_MAX_BODY);
		return FALSE;
	}
	self->body_len = (gsize)value;
	return TRUE;
}

/* reads what the socket has of the reply; waits again, fails or finishes */
static void
wbd_kasa_http_conn_read(WbdKasaHttp *self)
{
	GSocket *socket = g_socket_connection_get_socket(self->connection);
	GError *error = NULL;

	for (;;) {
		gsize want = self->head_len == 0 ? WBD_KASA_HTTP_MAX_HEAD + 1 : self->head_len + self->body_len;
		gsize have = self->in->len;
		gssize n;

		if (self->head_len != 0 && have >= want)
			break;
		/* room for a header's worth at a time, never more than the reply may hold */
		g_byte_array_set_size(self->in, (guint)MIN(want, have + 4096));
		n = g_socket_receive_with_blocking(socket,
						   (gchar *)self->in->data + have,
						   self->in->len - have,
						   FALSE,
						   NULL,
						   &error);
		g_byte_array_set_size(self->in, (guint)(have + MAX(n, 0)));
		if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
			g_clear_error(&error);
			wbd_kasa_http_conn_wait(self, G_IO_IN);
			return;
		}
		if (n <= 0 && have == 0 && wbd_kasa_http_conn_retry(self, error)) {
			g_clear_error(&error);
			return;
		}
		if (n < 0) {
			wbd_kasa_http_conn_fail(self, error);
			return;
		}
		if (n == 0) {
			wbd_kasa_http_conn_fail(self,
						have == 0 ? bad_reply("the connection closed without an answer")
						: self->head_len == 0 ? bad_reply("the connection closed inside the HTTP headers")
								      : bad_reply("the connection closed inside the HTTP body"));
			return;
		}
		if (self->head_len == 0) {
			/* the end of the headers, searched from a little before the new bytes */
			gsize from = have > 3 ? have - 3 : 0;
			const guint8 *end = NULL;
			for (gsize i = from; i + 4 <= self->in->len && end == NULL; i++)
				if (memcmp(self->in->data + i, "\r\n\r\n", 4) == 0)
					end = self->in->data + i;
			if (end == NULL) {
				if (self->in->len > WBD_KASA_HTTP_MAX_HEAD) {
					wbd_kasa_http_conn_fail(self, bad_reply("HTTP headers too long"));
					return;
				}
				continue;
			}
			if (!wbd_kasa_http_conn_parse_head(self,
							   (const gchar *)self->in->data,
							   (gsize)(end - self->in->data),
							   &error)) {
				wbd_kasa_http_conn_fail(self, error);
				return;
			}
			self->head_len = (gsize)(end - self->in->data) + 4;
		}
	}
	/* more than the reply: the connection is out of step, not used again */
	if (self->in->len > self->head_len + self->body_len)
		self->close_after_reply = TRUE;
	wbd_kasa_http_conn_done(self, g_bytes_new(self->in->data + self->head_len, self->body_len), NULL);
}

/* sends what is left of the request (all of it in one send, but on a full buffer) */
static void
wbd_kasa_http_conn_write(WbdKasaHttp *self)
{
	GSocket *socket = g_socket_connection_get_socket(self->connection);
	GError *error = NULL;

	while (self->sent < self->out->len) {
		gssize n = g_socket_send_with_blocking(socket,
						       (const gchar *)self->out->data + self->sent,
						       self->out->len - self->sent,
						       FALSE,
						       NULL,
						       &error);
		if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
			g_clear_error(&error);
			wbd_kasa_http_conn_wait(self, G_IO_OUT);
			return;
		}
		if (n < 0) {
			if (!wbd_kasa_http_conn_retry(self, error))
				wbd_kasa_http_conn_fail(self, error);
			else
				g_error_free(error);
			return;
		}
		self->sent += (gsize)n;
	}
	/* the reply cannot be there yet: no receive before the socket says so */
	wbd_kasa_http_conn_wait(self, G_IO_IN);
}

/* the open socket is ready (@condition), or the request's deadline came (0) */
static void
wbd_kasa_http_conn_io_cb(WbdFdWatch *watch, GIOCondition condition, gpointer user_data)
{
	g_autoptr(WbdKasaHttp) self = g_object_ref(user_data);

	if (!self->waiting) {
		/* no request under way: the device closed the connection, or talks out of turn */
		if (self->conn_done == NULL && condition != 0) {
			wbd_log_debug(self->log_id, "the device closed the kept connection");
			wbd_kasa_http_conn_close(self);
		}
		return;
	}
	self->waiting = FALSE;
	if (self->cancelled)
		wbd_kasa_http_conn_fail(self, g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED, "Operation was cancelled"));
	else if (condition == 0 || g_get_monotonic_time() >= self->deadline) {
		self->timed_out = TRUE;
		wbd_kasa_http_conn_fail(self, g_error_new_literal(G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "Timed out"));
	} else if (self->sent < self->out->len)
		wbd_kasa_http_conn_write(self);
	else
		wbd_kasa_http_conn_read(self);
}

static gboolean
wbd_kasa_http_conn_timeout_cb(gpointer user_data)
{
	WbdKasaHttp *self = user_data;
	self->connect_timeout_id = 0;
	self->timed_out = TRUE;
	g_cancellable_cancel(self->connect_cancellable);
	return G_SOURCE_REMOVE;
}

static void
wbd_kasa_http_conn_connected(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(WbdKasaHttp) self = user_data;
	GError *error = NULL;
	GSocketConnection *connection = g_socket_client_connect_finish(G_SOCKET_CLIENT(source), res, &error);

	g_clear_handle_id(&self->connect_timeout_id, g_source_remove);
	g_clear_object(&self->connect_cancellable);
	if (connection != NULL && self->cancelled) {
		g_object_unref(connection);
		connection = NULL;
		error = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED, "Operation was cancelled");
	}
	if (connection == NULL) {
		wbd_kasa_http_conn_fail(self, error);
		return;
	}
	if (G_IS_TCP_CONNECTION(connection))
		g_socket_set_option(g_socket_connection_get_socket(connection), IPPROTO_TCP, TCP_NODELAY, 1, NULL);
	self->connection = connection;
	self->requests_on_connection = 0;
	wbd_kasa_http_conn_write(self);
}

static void
wbd_kasa_http_conn_send(WbdKasaHttp *self)
{
	g_autoptr(GSocketConnectable) address = NULL;
	gint64 left = self->deadline - g_get_monotonic_time();

	self->sent = 0;
	self->head_len = 0;
	self->body_len = 0;
	self->close_after_reply = FALSE;
	g_byte_array_set_size(self->in, 0);
	g_clear_pointer(&self->post_cookie, g_free);
	if (self->connection != NULL) {
		wbd_kasa_http_conn_write(self);
		return;
	}
	address = g_network_address_new(self->host, self->port);
	self->connect_cancellable = g_cancellable_new();
	self->connect_timeout_id = g_timeout_add((guint)MAX((left + 999) / 1000, 0), wbd_kasa_http_conn_timeout_cb, self);
	g_socket_client_connect_async(wbd_kasa_http_socket_client(),
				      address,
				      self->connect_cancellable,
				      wbd_kasa_http_conn_connected,
				      g_object_ref(self));
}

void
wbd_kasa_http_conn_post(WbdKasaHttp *self,
			const gchar *path,
			const gchar *content_type,
			gboolean with_cookie,
			GBytes *body,
			gint priority,
			WbdKasaHttpConnDone done,
			gpointer user_data)
{
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(body, &len);
	g_autofree gchar *head = NULL;
	g_autofree gchar *port = self->port != 80 ? g_strdup_printf(":%u", self->port) : g_strdup("");
	gboolean ipv6 = strchr(self->host, ':') != NULL;

	g_return_if_fail(self->conn_done == NULL);

	if (self->out == NULL) {
		self->out = g_byte_array_new();
		self->in = g_byte_array_new();
	}
	/* never an empty header (newer firmware answers those with an HTML page, §2) */
	head = g_strdup_printf("POST %s HTTP/1.1\r\nHost: %s%s%s%s\r\nContent-Type: %s\r\n"
			       "Content-Length: %" G_GSIZE_FORMAT "\r\n%s%s%s%s\r\n",
			       path,
			       ipv6 ? "[" : "",
			       self->host,
			       ipv6 ? "]" : "",
			       port,
			       content_type,
			       len,
			       with_cookie && self->session_id != NULL ? "Cookie: TP_SESSIONID=" : "",
			       with_cookie && self->session_id != NULL ? self->session_id : "",
			       with_cookie && self->session_id != NULL ? "\r\n" : "",
			       g_strcmp0(content_type, "application/json") == 0
				   ? "requestByApp: true\r\nAccept: application/json\r\n"
				   : "");
	g_byte_array_set_size(self->out, 0);
	g_byte_array_append(self->out, (const guint8 *)head, (guint)strlen(head));
	g_byte_array_append(self->out, data, (guint)len);
	self->conn_done = done;
	self->conn_user_data = user_data;
	self->conn_priority = priority;
	self->deadline = g_get_monotonic_time() + WBD_KASA_HTTP_TIMEOUT_S * G_USEC_PER_SEC;
	self->cancelled = FALSE;
	self->timed_out = FALSE;
	self->retried = FALSE;
	wbd_kasa_http_conn_send(self);
}

/* ends the request in flight with G_IO_ERROR_CANCELLED (from the main loop), and the connection */
void
wbd_kasa_http_conn_cancel(WbdKasaHttp *self)
{
	if (self->conn_done == NULL) {
		wbd_kasa_http_conn_close(self);
		return;
	}
	self->cancelled = TRUE;
	if (self->connect_cancellable != NULL)
		g_cancellable_cancel(self->connect_cancellable);
	else if (self->waiting)
		/* it ends (and closes) at the next dispatch */
		wbd_fd_watch_set_deadline(&self->watch, 0);
}

void
wbd_kasa_http_conn_clear(WbdKasaHttp *self)
{
	wbd_kasa_http_conn_close(self);
	g_clear_pointer(&self->out, g_byte_array_unref);
	g_clear_pointer(&self->in, g_byte_array_unref);
	g_clear_pointer(&self->post_cookie, g_free);
}
