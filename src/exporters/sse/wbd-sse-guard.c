/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "wbd-sse-guard.h"
#include "wbd-log.h"

/*
 * What the dashboard's server lets in, so that no local program or web page can hold
 * it up:
 * - at most max-connections connections; one more is closed at once (the first such
 *   refusal of a burst is a warning, the rest debug: a flood must not flood the log);
 * - a connection sends a whole request within WBD_SSE_REQUEST_TIMEOUT_MS of its start
 *   or of the end of its previous response, or it is closed (slowloris, idle
 *   keep-alive sockets); a request with a body is closed at its headers (nothing here
 *   takes one, and libsoup would keep it in memory);
 * - the Host a request names is the listen address, a localhost name, an IP address
 *   when listening on every address, or one of allowed-hosts: a page of another site
 *   whose name was made to resolve to this address (DNS rebinding) is refused.
 * Connections are known by their GSocket; libsoup closes it when it is done, which is
 * when an entry goes (looked at whenever a connection ends or a new one comes).
 */

typedef struct {
	WbdSseGuard *self;
	GSocket *socket;
	guint timeout_id; /* the request is due; 0 while one is served */
} GuardConnection;

struct _WbdSseGuard {
	GObject parent_instance;
	SoupServer *server;
	gchar *log_id;
	guint max_connections;
	GInetAddress *listen;
	GStrv allowed_hosts; /* lower case; "*" lets any in */
	GHashTable *connections; /* GSocket → GuardConnection */
	gboolean refusing;	 /* the cap was reached and said so */
};

G_DEFINE_TYPE(WbdSseGuard, wbd_sse_guard, G_TYPE_OBJECT)

static void
guard_connection_free(GuardConnection *conn)
{
	g_clear_handle_id(&conn->timeout_id, g_source_remove);
	g_object_unref(conn->socket);
	g_free(conn);
}

static void
wbd_sse_guard_prune(WbdSseGuard *self)
{
	GHashTableIter iter;
	GuardConnection *conn;

	g_hash_table_iter_init(&iter, self->connections);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&conn)) {
		if (g_socket_is_closed(conn->socket))
			g_hash_table_iter_remove(&iter);
	}
	if (g_hash_table_size(self->connections) < self->max_connections)
		self->refusing = FALSE;
}

static void
wbd_sse_guard_close(WbdSseGuard *self, GSocket *socket)
{
	/* libsoup reads the end of the stream and lets the connection go */
	g_socket_shutdown(socket, TRUE, TRUE, NULL);
	g_hash_table_remove(self->connections, socket);
}

static gboolean
wbd_sse_guard_timeout_cb(gpointer user_data)
{
	GuardConnection *conn = user_data;
	WbdSseGuard *self = conn->self;

	conn->timeout_id = 0;
	if (!g_socket_is_closed(conn->socket))
		wbd_log_debug(self->log_id, "closing a connection that sent no whole request within %u s",
			WBD_SSE_REQUEST_TIMEOUT_MS / 1000);
	wbd_sse_guard_close(self, conn->socket);
	return G_SOURCE_REMOVE;
}

static void
guard_connection_arm(GuardConnection *conn)
{
	g_clear_handle_id(&conn->timeout_id, g_source_remove);
	conn->timeout_id = g_timeout_add(WBD_SSE_REQUEST_TIMEOUT_MS, wbd_sse_guard_timeout_cb, conn);
}

static GuardConnection *
wbd_sse_guard_lookup(WbdSseGuard *self, SoupServerMessage *msg)
{
	GSocket *socket = soup_server_message_get_socket(msg);
	return socket != NULL ? g_hash_table_lookup(self->connections, socket) : NULL;
}

/* the whole request is in: no time-out while it is answered (a stream may last hours) */
static void
wbd_sse_guard_got_body_cb(SoupServerMessage *msg, WbdSseGuard *self)
{
	GuardConnection *conn = wbd_sse_guard_lookup(self, msg);
	if (conn != NULL)
		g_clear_handle_id(&conn->timeout_id, g_source_remove);
}

static void
wbd_sse_guard_got_headers_cb(SoupServerMessage *msg, WbdSseGuard *self)
{
	SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
	SoupEncoding encoding = soup_message_headers_get_encoding(headers);
	GSocket *socket = soup_server_message_get_socket(msg);

	if (socket == NULL || encoding == SOUP_ENCODING_NONE ||
	    (encoding == SOUP_ENCODING_CONTENT_LENGTH &&
	     soup_message_headers_get_content_length(headers) == 0))
		return;
	wbd_log_debug(self->log_id, "closing a connection that sends a request body");
	wbd_sse_guard_close(self, socket);
}

static void
wbd_sse_guard_disconnected_cb(SoupServerMessage *msg, WbdSseGuard *self)
{
	wbd_sse_guard_prune(self);
}

static void
wbd_sse_guard_request_started_cb(SoupServer *server, SoupServerMessage *msg, WbdSseGuard *self)
{
	GSocket *socket = soup_server_message_get_socket(msg);
	GuardConnection *conn;

	if (socket == NULL)
		return;
	conn = g_hash_table_lookup(self->connections, socket);
	if (conn == NULL) {
		/* a new connection */
		wbd_sse_guard_prune(self);
		if (g_hash_table_size(self->connections) >= self->max_connections) {
			if (!self->refusing)
				wbd_log_warning(self->log_id, "refusing connections: max-connections=%u are open",
					  self->max_connections);
			else
				wbd_log_debug(self->log_id, "refusing a connection: max-connections=%u are open",
					self->max_connections);
			self->refusing = TRUE;
			g_socket_shutdown(socket, TRUE, TRUE, NULL);
			return;
		}
		conn = g_new0(GuardConnection, 1);
		conn->self = self;
		conn->socket = g_object_ref(socket);
		g_hash_table_insert(self->connections, socket, conn);
		guard_connection_arm(conn);
	}
	/* a request on a kept-alive connection keeps the time its predecessor's end set */
	g_signal_connect_object(msg, "got-headers", G_CALLBACK(wbd_sse_guard_got_headers_cb), self, 0);
	g_signal_connect_object(msg, "got-body", G_CALLBACK(wbd_sse_guard_got_body_cb), self, 0);
	g_signal_connect_object(msg,
				"disconnected",
				G_CALLBACK(wbd_sse_guard_disconnected_cb),
				self,
				0);
}

/* a response went out: the connection, kept alive or not, has the time-out again */
static void
wbd_sse_guard_request_finished_cb(SoupServer *server, SoupServerMessage *msg, WbdSseGuard *self)
{
	GuardConnection *conn = wbd_sse_guard_lookup(self, msg);

	if (conn == NULL || g_socket_is_closed(conn->socket)) {
		wbd_sse_guard_prune(self);
		return;
	}
	guard_connection_arm(conn);
}

static gboolean
is_host_char(gchar c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '.' || c == '_';
}

/* the host of a Host header, lower case, without port, brackets or a final dot; NULL
 * when it is not one */
static gchar *
parse_host(const gchar *value)
{
	g_autofree gchar *host = NULL;
	const gchar *port = NULL;

	while (*value == ' ' || *value == '\t')
		value++;
	if (value[0] == '[') {
		const gchar *end = strchr(value, ']');
		if (end == NULL)
			return NULL;
		host = g_ascii_strdown(value + 1, end - value - 1);
		for (const gchar *p = host; *p != '\0'; p++) {
			if (!g_ascii_isxdigit(*p) && *p != ':' && *p != '.')
				return NULL;
		}
		port = end + 1;
	} else {
		const gchar *colon = strchr(value, ':');
		host = g_ascii_strdown(value, colon != NULL ? colon - value : -1);
		g_strchomp(host);
		for (const gchar *p = host; *p != '\0'; p++) {
			if (!is_host_char(*p))
				return NULL;
		}
		port = colon != NULL ? colon : "";
	}
	if (port[0] == ':')
		port++;
	for (; *port != '\0' && *port != ' ' && *port != '\t'; port++) {
		if (!g_ascii_isdigit(*port))
			return NULL;
	}
	if (g_str_has_suffix(host, "."))
		host[strlen(host) - 1] = '\0';
	if (host[0] == '\0')
		return NULL;
	return g_steal_pointer(&host);
}

/**
 * wbd_sse_guard_host_allowed:
 * @value: the request's Host header, or %NULL (HTTP/1.0 without one: not a browser)
 *
 * Returns: whether this server serves that host
 */
gboolean
wbd_sse_guard_host_allowed(WbdSseGuard *self, const gchar *value)
{
	g_autofree gchar *host = NULL;
	g_autoptr(GInetAddress) address = NULL;

	if (value == NULL)
		return TRUE;
	host = parse_host(value);
	if (host == NULL)
		return FALSE;
	if (self->allowed_hosts != NULL &&
	    (g_strv_contains((const gchar *const *)self->allowed_hosts, "*") ||
	     g_strv_contains((const gchar *const *)self->allowed_hosts, host)))
		return TRUE;
	if (g_str_equal(host, "localhost") || g_str_has_suffix(host, ".localhost"))
		return TRUE;
	/* a name that is not ours is what DNS rebinding sends; an address is not */
	address = g_inet_address_new_from_string(host);
	if (address == NULL)
		return FALSE;
	if (g_inet_address_get_is_any(self->listen) || g_inet_address_equal(address, self->listen))
		return TRUE;
	return g_inet_address_get_is_loopback(address) && g_inet_address_get_is_loopback(self->listen);
}

guint
wbd_sse_guard_get_connections(WbdSseGuard *self)
{
	wbd_sse_guard_prune(self);
	return g_hash_table_size(self->connections);
}

static void
wbd_sse_guard_dispose(GObject *object)
{
	WbdSseGuard *self = WBD_SSE_GUARD(object);
	if (self->server != NULL)
		g_signal_handlers_disconnect_by_data(self->server, self);
	g_clear_object(&self->server);
	if (self->connections != NULL)
		g_hash_table_remove_all(self->connections);
	G_OBJECT_CLASS(wbd_sse_guard_parent_class)->dispose(object);
}

static void
wbd_sse_guard_finalize(GObject *object)
{
	WbdSseGuard *self = WBD_SSE_GUARD(object);
	g_free(self->log_id);
	g_clear_object(&self->listen);
	g_strfreev(self->allowed_hosts);
	g_hash_table_unref(self->connections);
	G_OBJECT_CLASS(wbd_sse_guard_parent_class)->finalize(object);
}

static void
wbd_sse_guard_class_init(WbdSseGuardClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = wbd_sse_guard_dispose;
	G_OBJECT_CLASS(klass)->finalize = wbd_sse_guard_finalize;
}

static void
wbd_sse_guard_init(WbdSseGuard *self)
{
	self->connections =
	    g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)guard_connection_free);
}

/**
 * wbd_sse_guard_new:
 * @log_id: what log lines start with (the exporter's id)
 * @listen: the address @server listens on
 * @allowed_hosts: (nullable): more host names to serve, lower case; "*" for any
 *
 * Watches the connections of @server from now on.
 */
WbdSseGuard *
wbd_sse_guard_new(SoupServer *server,
		  const gchar *log_id,
		  guint max_connections,
		  GInetAddress *listen,
		  const gchar *const *allowed_hosts)
{
	WbdSseGuard *self = g_object_new(WBD_TYPE_SSE_GUARD, NULL);

	self->server = g_object_ref(server);
	self->log_id = g_strdup(log_id);
	self->max_connections = max_connections;
	self->listen = g_object_ref(listen);
	self->allowed_hosts = g_strdupv((gchar **)allowed_hosts);
	g_signal_connect(server,
			 "request-started",
			 G_CALLBACK(wbd_sse_guard_request_started_cb),
			 self);
	g_signal_connect(server,
			 "request-finished",
			 G_CALLBACK(wbd_sse_guard_request_finished_cb),
			 self);
	g_signal_connect(server,
			 "request-aborted",
			 G_CALLBACK(wbd_sse_guard_request_finished_cb),
			 self);
	return self;
}
