/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <libsoup/soup.h>
#include <sys/socket.h>
#include <wattbus-glib.h>

#include "wbd-sse-exporter.h"
#include "wbd-sse-guard.h"
#include "wbd-sse-model.h"
#include "wbd-sse-resources.h"
#include "wbd-config.h"

/*
 * The live energy dashboard: an HTTP server in the daemon's main loop with a
 * server-sent events stream at /events (`device` events on every change of a device,
 * an `energy` event every second) and a static page at /. A live kind: the base class
 * hands it every change at once (push_live), nothing is spooled. Clients that do not
 * keep up are dropped: the main loop never waits for them.
 */

#define WBD_SSE_DEFAULT_LISTEN "127.0.0.1:8642"
#define WBD_SSE_DEFAULT_PORT 8642
#define WBD_SSE_DEFAULT_MAX_CLIENTS 16
#define WBD_SSE_DEFAULT_CLIENT_BUFFER (256 * 1024)
/* the kernel's send buffer of a stream: without a bound, Linux lets it grow to
 * megabytes for a client that does not read, before wattbusd notices anything */
#define WBD_SSE_SOCKET_BUFFER (64 * 1024)
#define WBD_SSE_KEEPALIVE_S 15
#define WBD_SSE_RETRY_MS 3000
#define WBD_SSE_PAGE "/org/wattbus/dashboard/index.html"

typedef struct {
	WbdSseExporter *self; /* not a reference: clients go before the exporter */
	SoupServerMessage *msg;
	gsize queued; /* bytes appended to the body, not yet written to the socket */
	gsize limit;  /* client-buffer, plus the initial state */
	gboolean dropped;
} SseClient;

struct _WbdSseExporter {
	WbdExporter parent_instance;
	gchar *token;
	guint max_clients;
	gsize client_buffer; /* bytes a client may have waiting before it is dropped */
	SoupServer *server;
	WbdSseGuard *guard; /* connections, their time to send a request, Host */
	WbdSseModel *model;
	GPtrArray *clients; /* SseClient */
	guint64 event_id;
	guint energy_id;
	guint keepalive_id;
};

G_DEFINE_TYPE(WbdSseExporter, wbd_sse_exporter, WBD_TYPE_EXPORTER)

static const gchar *const sse_keys[] =
    {"listen", "token", "max-clients", "client-buffer", "max-connections", "allowed-hosts", NULL};
static const gchar *const sse_secret_keys[] = {"token", NULL};

static const WbdExporterInfo sse_info = {
    .kind = "sse",
    .get_type = wbd_sse_exporter_get_type,
    .keys = sse_keys,
    .secret_keys = sse_secret_keys,
};

const WbdExporterInfo *
wbd_sse_exporter_get_info(void)
{
	return &sse_info;
}

/* clients */

static void
sse_client_free(SseClient *client)
{
	g_signal_handlers_disconnect_by_data(client->msg, client);
	g_object_unref(client->msg);
	g_free(client);
}

static void
sse_client_wrote_cb(SoupServerMessage *msg, guint size, SseClient *client)
{
	client->queued -= MIN(client->queued, size);
}

static WattbusExporter *
wbd_sse_exporter_get_iface(WbdSseExporter *self)
{
	return wattbus_object_peek_exporter(
	    WATTBUS_OBJECT(wbd_exporter_get_object(WBD_EXPORTER(self))));
}

/* Exporter.Clients: what `wattbusctl exporters` shows for a live kind */
static void
wbd_sse_exporter_count_clients(WbdSseExporter *self)
{
	WattbusExporter *iface = wbd_sse_exporter_get_iface(self);

	if (iface != NULL)
		wattbus_exporter_set_clients(iface, self->clients->len);
}

static void
sse_client_finished_cb(SoupServerMessage *msg, SseClient *client)
{
	WbdSseExporter *self = client->self;
	wbd_exp_debug(self, "a client left, %u remain", self->clients->len - 1);
	g_ptr_array_remove(self->clients, client);
	wbd_sse_exporter_count_clients(self);
}

/* a client that reads slower than the events come: its socket is shut, which ends
 * its message with an error at the next write, and "finished" frees it */
static void
sse_client_drop(SseClient *client)
{
	GSocket *socket = soup_server_message_get_socket(client->msg);

	wbd_exp_warning(client->self,
			"dropping a client that does not keep up (%" G_GSIZE_FORMAT
			" bytes waiting)",
			client->queued);
	client->dropped = TRUE;
	if (socket != NULL)
		g_socket_shutdown(socket, TRUE, TRUE, NULL);
	soup_server_message_unpause(client->msg);
}

static void
sse_client_send(SseClient *client, const gchar *text, gsize len)
{
	if (client->dropped)
		return;
	if (client->queued + len > client->limit) {
		sse_client_drop(client);
		return;
	}
	client->queued += len;
	soup_message_body_append(soup_server_message_get_response_body(client->msg),
				 SOUP_MEMORY_COPY,
				 text,
				 len);
	soup_server_message_unpause(client->msg);
}

/* one event in the wire format; @json has no line break */
static gchar *
wbd_sse_exporter_format_event(WbdSseExporter *self, const gchar *event, const gchar *json)
{
	return g_strdup_printf("event: %s\nid: %" G_GUINT64_FORMAT "\ndata: %s\n\n",
			       event,
			       ++self->event_id,
			       json);
}

static void
wbd_sse_exporter_broadcast(WbdSseExporter *self, const gchar *event, const gchar *json)
{
	g_autofree gchar *text = NULL;
	WattbusExporter *iface;
	gsize len;

	if (self->clients->len == 0 || !wbd_exporter_get_enabled(WBD_EXPORTER(self)))
		return;
	text = wbd_sse_exporter_format_event(self, event, json);
	len = strlen(text);
	/* a dropped client leaves the array only when its message finishes */
	for (guint i = 0; i < self->clients->len; i++)
		sse_client_send(g_ptr_array_index(self->clients, i), text, len);
	/* Exporter.Sent: the events handed to clients */
	iface = wbd_sse_exporter_get_iface(self);
	if (iface != NULL)
		wattbus_exporter_set_sent(iface,
					  wattbus_exporter_get_sent(iface) + self->clients->len);
}

static gchar *
wbd_sse_exporter_energy_json(WbdSseExporter *self)
{
	WbdSseEnergy energy;
	wbd_sse_model_get_energy(self->model, &energy);
	return wbd_sse_energy_to_json(&energy);
}

static gboolean
wbd_sse_exporter_energy_cb(gpointer user_data)
{
	WbdSseExporter *self = WBD_SSE_EXPORTER(user_data);
	g_autofree gchar *json = NULL;

	if (self->clients->len == 0)
		return G_SOURCE_CONTINUE;
	json = wbd_sse_exporter_energy_json(self);
	wbd_sse_exporter_broadcast(self, "energy", json);
	return G_SOURCE_CONTINUE;
}

/* a comment line keeps proxies and idle time-outs from closing the stream */
static gboolean
wbd_sse_exporter_keepalive_cb(gpointer user_data)
{
	WbdSseExporter *self = WBD_SSE_EXPORTER(user_data);
	static const gchar keepalive[] = ": keep-alive\n\n";
	for (guint i = 0; i < self->clients->len; i++)
		sse_client_send(g_ptr_array_index(self->clients, i),
				keepalive,
				sizeof(keepalive) - 1);
	return G_SOURCE_CONTINUE;
}

/* a device's kind and parent, as the device has them now (empty until it answered) */
static void
wbd_sse_exporter_learn_device_info(WbdSseExporter *self, const gchar *device)
{
	WbdDevice *dev = wbd_exporter_lookup_device(WBD_EXPORTER(self), device);
	WattbusDevice *iface =
	    dev != NULL ? wattbus_object_peek_device(WATTBUS_OBJECT(wbd_device_get_object(dev)))
			: NULL;
	WbdDevice *parent = dev != NULL ? wbd_device_get_parent(dev) : NULL;
	if (iface != NULL)
		wbd_sse_model_set_device_info(self->model,
					      device,
					      wattbus_device_get_kind(iface),
					      parent != NULL ? wbd_device_get_id(parent) : NULL);
}

/* what the kind is handed: every change of a selected device */
static void
wbd_sse_exporter_push_live(WbdExporter *exporter,
			   const gchar *device,
			   const gchar *label,
			   gint64 time_us,
			   GVariant *values)
{
	WbdSseExporter *self = WBD_SSE_EXPORTER(exporter);
	g_autofree gchar *json = NULL;

	/* a device new to the page (or that has not answered yet): its kind and parent,
	 * for grouping */
	if (values != NULL && wbd_sse_model_needs_device_info(self->model, device))
		wbd_sse_exporter_learn_device_info(self, device);
	json = wbd_sse_model_update(self->model, device, label, time_us, values);
	if (json != NULL)
		wbd_sse_exporter_broadcast(self, "device", json);
}

/* HTTP */

/* constant time, so that the answer's timing does not tell how much of it was right */
static gboolean
token_equal(const gchar *given, const gchar *token)
{
	gsize len = strlen(token);
	guchar diff = 0;

	if (given == NULL || strlen(given) != len)
		return FALSE;
	for (gsize i = 0; i < len; i++)
		diff |= (guchar)given[i] ^ (guchar)token[i];
	return diff == 0;
}

/* the token from `Authorization: Bearer …` or `?token=…` */
static gboolean
wbd_sse_exporter_authorized(WbdSseExporter *self, SoupServerMessage *msg)
{
	const gchar *auth;
	const gchar *query;

	if (self->token == NULL)
		return TRUE;
	auth = soup_message_headers_get_one(soup_server_message_get_request_headers(msg),
					    "Authorization");
	if (auth != NULL && g_ascii_strncasecmp(auth, "Bearer ", 7) == 0 &&
	    token_equal(auth + 7, self->token))
		return TRUE;
	query = g_uri_get_query(soup_server_message_get_uri(msg));
	if (query != NULL) {
		g_autoptr(GHashTable) params =
		    g_uri_parse_params(query, -1, "&", G_URI_PARAMS_NONE, NULL);
		if (params != NULL && token_equal(g_hash_table_lookup(params, "token"), self->token))
			return TRUE;
	}
	return FALSE;
}

static void
set_plain_response(SoupServerMessage *msg, guint status, const gchar *text)
{
	soup_server_message_set_status(msg, status, NULL);
	soup_server_message_set_response(msg,
					 "text/plain; charset=utf-8",
					 SOUP_MEMORY_COPY,
					 text,
					 strlen(text));
}

/* a request for a name that is not ours: DNS rebinding, or a misconfigured proxy */
static gboolean
wbd_sse_exporter_check_host(WbdSseExporter *self, SoupServerMessage *msg)
{
	const gchar *host =
	    soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Host");

	if (wbd_sse_guard_host_allowed(self->guard, host))
		return TRUE;
	wbd_exp_debug(self, "refusing a request for a host name that is not in allowed-hosts");
	set_plain_response(msg,
			   SOUP_STATUS_MISDIRECTED_REQUEST,
			   "this server does not answer to that host name (see allowed-hosts)\n");
	return FALSE;
}

static void
wbd_sse_exporter_handle_events(SoupServer *server,
			       SoupServerMessage *msg,
			       const gchar *path,
			       GHashTable *query,
			       gpointer user_data)
{
	WbdSseExporter *self = WBD_SSE_EXPORTER(user_data);
	SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);
	const gchar *last_id;
	GSocket *socket;
	g_autoptr(GError) error = NULL;
	SseClient *client;
	g_autoptr(GPtrArray) devices = NULL;
	g_autofree gchar *energy = NULL;
	g_autofree gchar *retry = NULL;

	if (!wbd_sse_exporter_check_host(self, msg))
		return;
	if (soup_server_message_get_method(msg) != SOUP_METHOD_GET) {
		soup_message_headers_replace(headers, "Allow", "GET");
		set_plain_response(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "GET only\n");
		return;
	}
	if (!wbd_sse_exporter_authorized(self, msg)) {
		soup_message_headers_replace(headers, "WWW-Authenticate", "Bearer");
		set_plain_response(msg, SOUP_STATUS_UNAUTHORIZED, "a valid token is needed\n");
		return;
	}
	if (self->clients->len >= self->max_clients) {
		wbd_exp_warning(self,
				"refusing a client: max-clients=%u are connected",
				self->max_clients);
		soup_message_headers_replace(headers, "Retry-After", "10");
		set_plain_response(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "too many clients\n");
		return;
	}
	/* every client, new or back, starts with the whole current state: nothing is
	 * replayed, so Last-Event-ID needs no history */
	last_id = soup_message_headers_get_one(soup_server_message_get_request_headers(msg),
					       "Last-Event-ID");
	if (last_id != NULL)
		wbd_exp_debug(self, "a client is back (Last-Event-ID received)");
	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	soup_message_headers_replace(headers, "Content-Type", "text/event-stream; charset=utf-8");
	soup_message_headers_replace(headers, "Cache-Control", "no-store");
	soup_message_headers_replace(headers, "X-Accel-Buffering", "no");
	soup_message_headers_set_encoding(headers, SOUP_ENCODING_CHUNKED);
	soup_message_body_set_accumulate(soup_server_message_get_response_body(msg), FALSE);

	socket = soup_server_message_get_socket(msg);
	if (socket != NULL &&
	    !g_socket_set_option(socket, SOL_SOCKET, SO_SNDBUF, WBD_SSE_SOCKET_BUFFER, &error))
		wbd_exp_debug(self, "cannot bound the send buffer: %s", error->message);
	client = g_new0(SseClient, 1);
	client->self = self;
	client->msg = g_object_ref(msg);
	client->limit = self->client_buffer;
	g_signal_connect(msg, "wrote-body-data", G_CALLBACK(sse_client_wrote_cb), client);
	g_signal_connect(msg, "finished", G_CALLBACK(sse_client_finished_cb), client);
	g_ptr_array_add(self->clients, client);
	wbd_exp_debug(self, "a client connected, %u now", self->clients->len);
	wbd_sse_exporter_count_clients(self);

	/* the initial state does not count against client-buffer, however many devices */
	retry = g_strdup_printf("retry: %u\n\n", WBD_SSE_RETRY_MS);
	client->limit += strlen(retry);
	sse_client_send(client, retry, strlen(retry));
	if (!wbd_exporter_get_enabled(WBD_EXPORTER(self)))
		return;
	/* a kind that came after the device's last change (a gateway's, once its info was
	 * read) is in the whole state all the same */
	{
		g_autoptr(GPtrArray) unknown = wbd_sse_model_dup_unknown_kinds(self->model);
		for (guint i = 0; i < unknown->len; i++)
			wbd_sse_exporter_learn_device_info(self, g_ptr_array_index(unknown, i));
	}
	devices = wbd_sse_model_snapshot(self->model);
	energy = wbd_sse_exporter_energy_json(self);
	g_ptr_array_add(devices, NULL); /* the energy event, last */
	for (guint i = 0; i < devices->len; i++) {
		const gchar *json = g_ptr_array_index(devices, i);
		g_autofree gchar *text = wbd_sse_exporter_format_event(self,
								       json != NULL ? "device"
										    : "energy",
								       json != NULL ? json : energy);
		client->limit += strlen(text);
		sse_client_send(client, text, strlen(text));
	}
}

/* the dashboard: one static page, compiled in */
static void
wbd_sse_exporter_handle_page(SoupServer *server,
			     SoupServerMessage *msg,
			     const gchar *path,
			     GHashTable *query,
			     gpointer user_data)
{
	SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);
	const gchar *method = soup_server_message_get_method(msg);
	g_autoptr(GBytes) page = NULL;
	gsize len = 0;
	gconstpointer data;

	if (!wbd_sse_exporter_check_host(WBD_SSE_EXPORTER(user_data), msg))
		return;
	if (!g_str_equal(path, "/") && !g_str_equal(path, "/index.html")) {
		set_plain_response(msg, SOUP_STATUS_NOT_FOUND, "not found: the page is at /\n");
		return;
	}
	if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
		soup_message_headers_replace(headers, "Allow", "GET, HEAD");
		set_plain_response(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "GET only\n");
		return;
	}
	page = g_resource_lookup_data(wbd_sse_get_resource(), WBD_SSE_PAGE, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
	g_return_if_fail(page != NULL);
	data = g_bytes_get_data(page, &len);
	soup_message_headers_replace(headers, "Cache-Control", "no-cache");
	soup_message_headers_replace(headers, "X-Content-Type-Options", "nosniff");
	soup_message_headers_replace(headers,
				     "Content-Security-Policy",
				     "default-src 'none'; script-src 'unsafe-inline'; "
				     "style-src 'unsafe-inline'; connect-src 'self'");
	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	soup_server_message_set_response(msg,
					 "text/html; charset=utf-8",
					 SOUP_MEMORY_COPY,
					 data,
					 len);
}

/* configuration */

static GSocketAddress *
parse_listen(const gchar *listen, GError **error)
{
	g_autoptr(GSocketConnectable) parsed = NULL;
	g_autoptr(GInetAddress) address = NULL;

	parsed = g_network_address_parse(listen, WBD_SSE_DEFAULT_PORT, NULL);
	if (parsed != NULL)
		address = g_inet_address_new_from_string(
		    g_network_address_get_hostname(G_NETWORK_ADDRESS(parsed)));
	if (address == NULL) {
		wbd_config_invalid(error,
			"listen must be an IP address and a port, e.g. listen=127.0.0.1:8642 or "
			"listen=[::1]:8642");
		return NULL;
	}
	return g_inet_socket_address_new(address,
					 g_network_address_get_port(G_NETWORK_ADDRESS(parsed)));
}

static gboolean
wbd_sse_exporter_configure_token(WbdSseExporter *self, const gchar *token, GError **error)
{
	if (token == NULL)
		return TRUE;
	/* usable in a header and a URL as it is; never quoted in a message */
	if (token[0] == '\0')
		return wbd_config_invalid(error, "token must not be empty");
	for (const gchar *p = token; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && strchr("-._~", *p) == NULL)
			return wbd_config_invalid(error,
				       "token may contain only letters, digits and '-', '.', '_', "
				       "'~' (e.g. the output of: openssl rand -hex 16)");
	}
	self->token = g_strdup(token);
	return TRUE;
}

/* allowed-hosts: host names (or "*"), separated by ';' or ',', lower-cased */
static gboolean
parse_allowed_hosts(const gchar *value, GStrv *out, GError **error)
{
	g_auto(GStrv) parts = NULL;
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

	if (value == NULL)
		return TRUE;
	parts = g_strsplit_set(value, ";,", -1);
	for (guint i = 0; parts[i] != NULL; i++) {
		gchar *host = g_strstrip(parts[i]);
		if (host[0] == '\0')
			continue;
		for (const gchar *p = host; *p != '\0'; p++) {
			if (!g_ascii_isalnum(*p) && strchr("-._:*", *p) == NULL)
				return wbd_config_invalid(error,
					"allowed-hosts must be host names or addresses without port, "
					"separated by ';', or * for any, e.g. "
					"allowed-hosts=energy.home.arpa;192.168.1.5");
		}
		for (gchar *p = host; *p != '\0'; p++)
			*p = g_ascii_tolower(*p);
		g_strv_builder_add(builder, host);
	}
	*out = g_strv_builder_end(builder);
	return TRUE;
}

static gboolean
wbd_sse_exporter_configure(WbdExporter *exporter, GHashTable *settings, GError **error)
{
	WbdSseExporter *self = WBD_SSE_EXPORTER(exporter);
	const gchar *listen = g_hash_table_lookup(settings, "listen");
	const gchar *max_clients = g_hash_table_lookup(settings, "max-clients");
	const gchar *client_buffer = g_hash_table_lookup(settings, "client-buffer");
	const gchar *max_connections = g_hash_table_lookup(settings, "max-connections");
	g_autoptr(GSocketAddress) address = NULL;
	g_auto(GStrv) allowed_hosts = NULL;
	guint64 connections = WBD_SSE_DEFAULT_MAX_CONNECTIONS;
	g_autoptr(GError) local_error = NULL;
	g_autoptr(GSList) uris = NULL;
	g_autofree gchar *target = NULL;
	guint64 max = WBD_SSE_DEFAULT_MAX_CLIENTS;
	guint64 buffer = WBD_SSE_DEFAULT_CLIENT_BUFFER;
	GInetAddress *inet;

	if (listen == NULL)
		listen = WBD_SSE_DEFAULT_LISTEN;
	address = parse_listen(listen, error);
	if (address == NULL)
		return FALSE;
	if (max_clients != NULL &&
	    !g_ascii_string_to_unsigned(max_clients, 10, 1, 1000, &max, NULL))
		return wbd_config_invalid(error, "max-clients must be a whole number from 1 to 1000");
	self->max_clients = (guint)max;
	if (client_buffer != NULL &&
	    !g_ascii_string_to_unsigned(client_buffer, 10, 1024, 64 * 1024 * 1024, &buffer, NULL))
		return wbd_config_invalid(error,
			       "client-buffer must be a number of bytes from 1024 to 67108864");
	self->client_buffer = (gsize)buffer;
	if (max_connections != NULL &&
	    !g_ascii_string_to_unsigned(max_connections, 10, 1, 10000, &connections, NULL))
		return wbd_config_invalid(error,
			       "max-connections must be a whole number from 1 to 10000");
	if (connections < max)
		return wbd_config_invalid(error,
			       "max-connections must be at least max-clients (every stream is a "
			       "connection)");
	if (!parse_allowed_hosts(g_hash_table_lookup(settings, "allowed-hosts"),
				 &allowed_hosts,
				 error))
		return FALSE;
	if (!wbd_sse_exporter_configure_token(self, g_hash_table_lookup(settings, "token"), error))
		return FALSE;

	self->server = soup_server_new("server-header", "wattbus/" PACKAGE_VERSION " ", NULL);
	soup_server_add_handler(self->server,
				"/events",
				wbd_sse_exporter_handle_events,
				self,
				NULL);
	soup_server_add_handler(self->server, NULL, wbd_sse_exporter_handle_page, self, NULL);
	inet = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(address));
	self->guard = wbd_sse_guard_new(self->server,
					wbd_exporter_get_id(exporter),
					(guint)connections,
					inet,
					(const gchar *const *)allowed_hosts);
	if (!soup_server_listen(self->server, address, 0, &local_error)) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "cannot listen on %s: %s",
			    listen,
			    local_error->message);
		return FALSE;
	}
	uris = soup_server_get_uris(self->server);
	if (uris != NULL) {
		GUri *uri = uris->data;
		const gchar *host = g_uri_get_host(uri);
		target = strchr(host, ':') != NULL
			     ? g_strdup_printf("[%s]:%d", host, g_uri_get_port(uri))
			     : g_strdup_printf("%s:%d", host, g_uri_get_port(uri));
	}
	g_slist_free_full(g_steal_pointer(&uris), (GDestroyNotify)g_uri_unref);
	wbd_exporter_set_target(exporter, target != NULL ? target : listen);
	if (!g_inet_address_get_is_loopback(inet))
		wbd_exp_warning(self,
				"listening on %s, not a loopback address: whoever reaches it "
				"sees every reading%s",
				target != NULL ? target : listen,
				self->token != NULL
				    ? " once they have the token, sent in the clear"
				    : ": set a token (token=, e.g. the output of openssl rand "
				      "-hex 16), or keep listen on loopback behind a TLS proxy");
	else
		wbd_exp_info(self, "dashboard at http://%s/", target != NULL ? target : listen);
	self->energy_id = g_timeout_add_seconds(1, wbd_sse_exporter_energy_cb, self);
	self->keepalive_id =
	    g_timeout_add_seconds(WBD_SSE_KEEPALIVE_S, wbd_sse_exporter_keepalive_cb, self);
	return TRUE;
}

/* life cycle */

static void
wbd_sse_exporter_stop(WbdExporter *exporter)
{
	WbdSseExporter *self = WBD_SSE_EXPORTER(exporter);

	g_clear_handle_id(&self->energy_id, g_source_remove);
	g_clear_handle_id(&self->keepalive_id, g_source_remove);
	/* the clients first, so that no callback finds a half-gone exporter */
	g_ptr_array_set_size(self->clients, 0);
	g_clear_object(&self->guard);
	if (self->server != NULL)
		soup_server_disconnect(self->server);
}

static void
wbd_sse_exporter_dispose(GObject *object)
{
	WbdSseExporter *self = WBD_SSE_EXPORTER(object);
	wbd_sse_exporter_stop(WBD_EXPORTER(self));
	g_clear_object(&self->server);
	G_OBJECT_CLASS(wbd_sse_exporter_parent_class)->dispose(object);
}

static void
wbd_sse_exporter_finalize(GObject *object)
{
	WbdSseExporter *self = WBD_SSE_EXPORTER(object);
	if (self->token != NULL)
		memset(self->token, 0, strlen(self->token));
	g_free(self->token);
	g_clear_pointer(&self->model, wbd_sse_model_free);
	g_clear_pointer(&self->clients, g_ptr_array_unref);
	G_OBJECT_CLASS(wbd_sse_exporter_parent_class)->finalize(object);
}

static void
wbd_sse_exporter_class_init(WbdSseExporterClass *klass)
{
	WbdExporterClass *exporter_class = WBD_EXPORTER_CLASS(klass);
	G_OBJECT_CLASS(klass)->dispose = wbd_sse_exporter_dispose;
	G_OBJECT_CLASS(klass)->finalize = wbd_sse_exporter_finalize;
	exporter_class->configure = wbd_sse_exporter_configure;
	exporter_class->push_live = wbd_sse_exporter_push_live;
	exporter_class->stop = wbd_sse_exporter_stop;
}

static void
wbd_sse_exporter_init(WbdSseExporter *self)
{
	self->model = wbd_sse_model_new();
	self->clients = g_ptr_array_new_with_free_func((GDestroyNotify)sse_client_free);
}
