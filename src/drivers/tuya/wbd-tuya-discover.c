/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-json.h"
#include "wbd-tuya-codec.h"
#include "wbd-tuya-discover.h"

#define WBD_TUYA_DISCOVER_BUFFER 4096
#define WBD_TUYA_DISCOVER_MAX_RESULTS 1024
#define WBD_TUYA_DISCOVER_CACHE_MAX 1024
#define N_PORTS 3

/*
 * Tuya devices announce themselves by UDP broadcast: 3.1 in plain JSON on 6666,
 * 3.2 and later encrypted with the fixed broadcast key on 6667, and 3.5 devices answer
 * a solicitation (command 0x25 to port 7000) by unicast to our port 7000. We listen on
 * all three for a bounded time and solicit once at the start.
 *
 * WATTBUS_TUYA_DISCOVERY_PORTS ("6666,6667,7000") moves the three ports, for tests on
 * loopback and for hosts where other tools hold them.
 */

/* every device heard, by device id: the protocol version and product key for later */
static GHashTable *cache = NULL;

static void
wbd_tuya_discover_remember(const gchar *device_id, GVariant *result)
{
	if (cache == NULL)
		cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_variant_unref);
	if (g_hash_table_size(cache) >= WBD_TUYA_DISCOVER_CACHE_MAX && !g_hash_table_contains(cache, device_id))
		g_hash_table_remove_all(cache);
	g_hash_table_replace(cache, g_strdup(device_id), g_variant_ref(result));
}

/**
 * wbd_tuya_discover_lookup:
 *
 * Returns: (transfer full) (nullable): what the last broadcast of @device_id said
 */
GVariant *
wbd_tuya_discover_lookup(const gchar *device_id)
{
	GVariant *result = cache != NULL ? g_hash_table_lookup(cache, device_id) : NULL;
	return result != NULL ? g_variant_ref(result) : NULL;
}

static gboolean
is_printable(const gchar *s, gsize max)
{
	gsize len = s != NULL ? strlen(s) : 0;
	if (len == 0 || len > max)
		return FALSE;
	for (const gchar *p = s; *p != '\0'; p++) {
		if (!g_ascii_isgraph(*p))
			return FALSE;
	}
	return TRUE;
}

/**
 * wbd_tuya_discover_parse_datagram:
 * @from: the sender's IP address, used when the datagram names none
 *
 * Reads one discovery datagram: a 55AA frame (plain or encrypted with the broadcast
 * key) or a 6699 frame (GCM with the broadcast key).
 *
 * Returns: (transfer full) (nullable): an a{sv} for Discover(), or %NULL with an error
 *   for anything that is not a device's announcement (our own solicitations included)
 */
GVariant *
wbd_tuya_discover_parse_datagram(const guint8 *data, gsize len, const gchar *from, GError **error)
{
	g_autoptr(JsonNode) root = NULL;
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);
	WbdTuyaFrame frame = {0};
	gsize start = 0, frame_len = 0;
	const guint8 *plain;
	gsize plain_len = 0;
	JsonObject *obj;
	const gchar *id, *ip, *version, *product_key;
	g_autofree gchar *note = NULL;
	WbdTuyaVersion v;
	gboolean ok;

	if (wbd_tuya_frame_scan(data, len, &start, &frame_len) != WBD_TUYA_SCAN_FRAME || start != 0 ||
	    frame_len != len) {
		g_set_error_literal(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED, "Not one Tuya frame");
		return NULL;
	}
	ok = wbd_tuya_frame_decode(data,
				   len,
				   len >= 4 && data[2] == 0x66 ? WBD_TUYA_VERSION_3_5 : WBD_TUYA_VERSION_3_3,
				   wbd_tuya_udp_key,
				   TRUE,
				   &frame,
				   error);
	if (!ok)
		return NULL;
	plain = g_bytes_get_data(frame.payload, &plain_len);
	root = wbd_tuya_json_parse(plain, plain_len, NULL);
	wbd_tuya_frame_clear(&frame);
	if (root == NULL) {
		g_set_error_literal(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED, "Not a JSON announcement");
		return NULL;
	}
	obj = json_node_get_object(root);
	if (wbd_json_get_string(obj, "from") != NULL) {
		g_set_error_literal(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED, "An app's solicitation");
		return NULL;
	}
	id = wbd_json_get_string(obj, "gwId");
	if (id == NULL)
		id = wbd_json_get_string(obj, "devId");
	if (!is_printable(id, 64)) {
		g_set_error_literal(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED, "No device id");
		return NULL;
	}
	ip = wbd_json_get_string(obj, "ip");
	if (!g_hostname_is_ip_address(ip != NULL ? ip : ""))
		ip = from;
	version = wbd_json_get_string(obj, "version");
	v = wbd_tuya_version_from_string(version);
	product_key = wbd_json_get_string(obj, "productKey");

	g_variant_dict_insert(&dict, "driver", "s", "tuya");
	g_variant_dict_insert(&dict, "address", "s", ip);
	g_variant_dict_insert(&dict, "device-id", "s", id);
	g_variant_dict_insert(&dict, "supported", "b", v != WBD_TUYA_VERSION_UNKNOWN);
	if (v != WBD_TUYA_VERSION_UNKNOWN)
		g_variant_dict_insert(&dict, "version", "s", wbd_tuya_version_to_string(v));
	if (is_printable(product_key, 64))
		g_variant_dict_insert(&dict, "product-key", "s", product_key);
	else
		product_key = NULL;
	if (v == WBD_TUYA_VERSION_UNKNOWN)
		note = g_strdup("unknown protocol version");
	else if (product_key != NULL)
		note = g_strdup_printf("protocol %s, product key %s", wbd_tuya_version_to_string(v), product_key);
	else
		note = g_strdup_printf("protocol %s", wbd_tuya_version_to_string(v));
	g_variant_dict_insert(&dict, "note", "s", note);
	return g_variant_ref_sink(g_variant_dict_end(&dict));
}

/**
 * wbd_tuya_discover_get_ports:
 * @ports: (out): three ports: plain (6666), encrypted (6667), 3.5 answers (7000)
 */
gboolean
wbd_tuya_discover_get_ports(guint16 *ports, GError **error)
{
	const gchar *env = g_getenv("WATTBUS_TUYA_DISCOVERY_PORTS");
	g_auto(GStrv) parts = NULL;

	ports[0] = WBD_TUYA_DISCOVERY_PORT_PLAIN;
	ports[1] = WBD_TUYA_DISCOVERY_PORT_ENCRYPTED;
	ports[2] = WBD_TUYA_DISCOVERY_PORT_APP;
	if (env == NULL || env[0] == '\0')
		return TRUE;
	parts = g_strsplit(env, ",", -1);
	if (g_strv_length(parts) != N_PORTS) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "WATTBUS_TUYA_DISCOVERY_PORTS must be three ports, such as 6666,6667,7000");
		return FALSE;
	}
	for (guint i = 0; i < N_PORTS; i++) {
		guint64 port;
		if (!g_ascii_string_to_unsigned(g_strstrip(parts[i]), 10, 1, G_MAXUINT16, &port, NULL)) {
			g_set_error_literal(error,
					    WATTBUS_ERROR,
					    WATTBUS_ERROR_FAILED,
					    "WATTBUS_TUYA_DISCOVERY_PORTS must be three ports, such as "
					    "6666,6667,7000");
			return FALSE;
		}
		ports[i] = (guint16)port;
	}
	return TRUE;
}

/* listening */

typedef struct {
	GSocket *sockets[N_PORTS];
	GSource *sources[N_PORTS];
	guint8 *buffer;
	GHashTable *seen; /* device id */
	GPtrArray *results;
	gchar *wanted; /* find: stop at this device id */
	guint end_id;
	GCancellable *cancellable;
	gulong cancel_id;
} DiscoverData;

static void
discover_data_free(DiscoverData *data)
{
	g_clear_handle_id(&data->end_id, g_source_remove);
	for (guint i = 0; i < N_PORTS; i++) {
		if (data->sources[i] != NULL) {
			g_source_destroy(data->sources[i]);
			g_source_unref(data->sources[i]);
		}
		if (data->sockets[i] != NULL)
			g_socket_close(data->sockets[i], NULL);
		g_clear_object(&data->sockets[i]);
	}
	if (data->cancel_id != 0)
		g_cancellable_disconnect(data->cancellable, data->cancel_id);
	g_clear_object(&data->cancellable);
	g_clear_pointer(&data->seen, g_hash_table_unref);
	g_clear_pointer(&data->results, g_ptr_array_unref);
	g_free(data->wanted);
	g_free(data->buffer);
	g_free(data);
}

static void
wbd_tuya_discover_end(GTask *task)
{
	DiscoverData *data = g_task_get_task_data(task);
	g_clear_handle_id(&data->end_id, g_source_remove);
	for (guint i = 0; i < N_PORTS; i++) {
		if (data->sources[i] != NULL)
			g_source_destroy(data->sources[i]);
	}
	if (data->wanted != NULL) {
		if (data->results->len > 0)
			g_task_return_pointer(task,
					      g_variant_ref(g_ptr_array_index(data->results, 0)),
					      (GDestroyNotify)g_variant_unref);
		else
			g_task_return_new_error(task,
						WATTBUS_ERROR,
						WATTBUS_ERROR_NOT_FOUND,
						"No discovery broadcast from device %s",
						data->wanted);
	} else {
		g_task_return_pointer(task, g_steal_pointer(&data->results), (GDestroyNotify)g_ptr_array_unref);
	}
	g_object_unref(task);
}

static gboolean
wbd_tuya_discover_receive_cb(GSocket *socket, GIOCondition condition, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	DiscoverData *data = g_task_get_task_data(task);

	for (;;) {
		g_autoptr(GSocketAddress) from = NULL;
		g_autoptr(GError) error = NULL;
		g_autofree gchar *ip = NULL;
		g_autoptr(GVariant) result = NULL;
		const gchar *id = NULL;
		gssize n;

		n = g_socket_receive_from(socket,
					  &from,
					  (gchar *)data->buffer,
					  WBD_TUYA_DISCOVER_BUFFER,
					  NULL,
					  &error);
		if (n < 0)
			break;
		if (!G_IS_INET_SOCKET_ADDRESS(from))
			continue;
		ip = g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(from)));
		result = wbd_tuya_discover_parse_datagram(data->buffer, (gsize)n, ip, &error);
		if (result == NULL) {
			g_debug("ignoring a datagram from %s: %s", ip, error->message);
			continue;
		}
		g_variant_lookup(result, "device-id", "&s", &id);
		wbd_tuya_discover_remember(id, result);
		if (g_hash_table_contains(data->seen, id) || data->results->len >= WBD_TUYA_DISCOVER_MAX_RESULTS)
			continue;
		if (data->wanted != NULL && g_strcmp0(data->wanted, id) != 0)
			continue;
		g_debug("found the Tuya device %s at %s", id, ip);
		g_hash_table_add(data->seen, g_strdup(id));
		g_ptr_array_add(data->results, g_steal_pointer(&result));
		if (data->wanted != NULL) {
			wbd_tuya_discover_end(task);
			return G_SOURCE_REMOVE;
		}
	}
	return G_SOURCE_CONTINUE;
}

static gboolean
wbd_tuya_discover_end_cb(gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	DiscoverData *data = g_task_get_task_data(task);
	data->end_id = 0;
	wbd_tuya_discover_end(task);
	return G_SOURCE_REMOVE;
}

static void
wbd_tuya_discover_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	/* ends at the next main loop turn, outside the cancel handler */
	GTask *task = G_TASK(user_data);
	DiscoverData *data = g_task_get_task_data(task);
	if (data->end_id == 0)
		return;
	g_source_remove(data->end_id);
	data->end_id = g_idle_add(wbd_tuya_discover_end_cb, task);
}

/* Returns: (transfer full) (nullable): our address on the way to @target */
static gchar *
wbd_tuya_discover_local_ip(GSocketAddress *target)
{
	g_autoptr(GSocket) socket = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
	g_autoptr(GSocketAddress) local = NULL;
	if (socket == NULL)
		return NULL;
	g_socket_set_broadcast(socket, TRUE);
	if (!g_socket_connect(socket, target, NULL, NULL))
		return NULL;
	local = g_socket_get_local_address(socket, NULL);
	if (local == NULL || !G_IS_INET_SOCKET_ADDRESS(local))
		return NULL;
	return g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(local)));
}

/* asks 3.5 devices to announce themselves: cmd 0x25 to port 7000, GCM with the broadcast key */
static void
wbd_tuya_discover_solicit(GSocket *socket, GSocketAddress *target)
{
	g_autofree gchar *ip = wbd_tuya_discover_local_ip(target);
	g_autoptr(GString) json = g_string_new("{\"from\":\"app\",\"ip\":");
	g_autoptr(GBytes) frame = NULL;
	g_autoptr(GError) error = NULL;
	WbdTuyaEncode opts = {
	    .version = WBD_TUYA_VERSION_3_5,
	    .key = wbd_tuya_udp_key,
	    .cmd = WBD_TUYA_CMD_REQ_DEVINFO,
	    .retcode = -1,
	    .no_header = TRUE,
	};

	if (ip == NULL) {
		g_debug("no route for the 3.5 discovery solicitation");
		return;
	}
	wbd_tuya_json_append_string(json, ip);
	g_string_append_c(json, '}');
	frame = wbd_tuya_frame_encode(&opts, (const guint8 *)json->str, json->len);
	if (frame == NULL ||
	    g_socket_send_to(socket, target, g_bytes_get_data(frame, NULL), g_bytes_get_size(frame), NULL, &error) < 0)
		g_debug("cannot send the 3.5 discovery solicitation: %s", error != NULL ? error->message : "");
}

static GSocketAddress *
wbd_tuya_discover_parse_target(const gchar *target, guint16 port, GError **error)
{
	g_autoptr(GSocketConnectable) connectable = NULL;
	g_autoptr(GInetAddress) inet = NULL;
	const gchar *host;

	if (target == NULL || target[0] == '\0')
		target = "255.255.255.255";
	connectable = g_network_address_parse(target, port, NULL);
	host = connectable != NULL ? g_network_address_get_hostname(G_NETWORK_ADDRESS(connectable)) : NULL;
	inet = host != NULL ? g_inet_address_new_from_string(host) : NULL;
	if (inet == NULL || g_inet_address_get_family(inet) != G_SOCKET_FAMILY_IPV4) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "Discover: the target must be an IPv4 address, optionally with :port, "
				    "such as 192.168.1.255");
		return NULL;
	}
	return g_inet_socket_address_new(inet, g_network_address_get_port(G_NETWORK_ADDRESS(connectable)));
}

static void
wbd_tuya_discover_start(GTask *task, const gchar *target, guint timeout_ms, gboolean solicit)
{
	DiscoverData *data = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocketAddress) target_address = NULL;
	g_autoptr(GString) failures = g_string_new(NULL);
	guint16 ports[N_PORTS];
	guint listening = 0;

	if (!wbd_tuya_discover_get_ports(ports, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		g_object_unref(task);
		return;
	}
	if (solicit) {
		target_address = wbd_tuya_discover_parse_target(target, ports[2], &error);
		if (target_address == NULL) {
			g_task_return_error(task, g_steal_pointer(&error));
			g_object_unref(task);
			return;
		}
	}
	for (guint i = 0; i < N_PORTS; i++) {
		g_autoptr(GInetAddress) any = g_inet_address_new_any(G_SOCKET_FAMILY_IPV4);
		g_autoptr(GSocketAddress) local = g_inet_socket_address_new(any, ports[i]);
		g_autoptr(GError) local_error = NULL;
		GSocket *socket = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &local_error);

		/* other tools on the host often hold these ports: share them */
		if (socket == NULL || !g_socket_bind(socket, local, TRUE, &local_error)) {
			g_string_append_printf(failures, "%s%u (%s)", failures->len > 0 ? ", " : "", ports[i], local_error->message);
			g_clear_object(&socket);
			continue;
		}
		g_socket_set_blocking(socket, FALSE);
		g_socket_set_broadcast(socket, TRUE);
		data->sockets[i] = socket;
		data->sources[i] = g_socket_create_source(socket, G_IO_IN, NULL);
		g_source_set_callback(data->sources[i], G_SOURCE_FUNC(wbd_tuya_discover_receive_cb), task, NULL);
		g_source_attach(data->sources[i], g_main_context_get_thread_default());
		listening++;
	}
	if (listening == 0) {
		g_task_return_new_error(task,
					WATTBUS_ERROR,
					WATTBUS_ERROR_FAILED,
					"Cannot listen for Tuya broadcasts on UDP port %s",
					failures->str);
		g_object_unref(task);
		return;
	}
	if (failures->len > 0)
		g_debug("not listening on UDP port %s", failures->str);
	if (solicit && data->sockets[2] != NULL)
		wbd_tuya_discover_solicit(data->sockets[2], target_address);
	data->end_id = g_timeout_add(timeout_ms, wbd_tuya_discover_end_cb, task);
}

static GTask *
wbd_tuya_discover_task_new(GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
	GTask *task = g_task_new(NULL, cancellable, callback, user_data);
	DiscoverData *data = g_new0(DiscoverData, 1);
	data->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	data->results = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	data->buffer = g_malloc(WBD_TUYA_DISCOVER_BUFFER);
	g_task_set_task_data(task, data, (GDestroyNotify)discover_data_free);
	if (cancellable != NULL) {
		data->cancellable = g_object_ref(cancellable);
		data->cancel_id = g_cancellable_connect(cancellable, G_CALLBACK(wbd_tuya_discover_cancelled_cb), task, NULL);
	}
	return task;
}

/**
 * wbd_tuya_discover_async:
 * @options: @target is where the 3.5 solicitation goes (default: 255.255.255.255 on
 *   the third discovery port, 7000)
 *
 * Listens for Tuya announcements for @options' time-out.
 */
void
wbd_tuya_discover_async(const WbdDiscoverOptions *options,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data)
{
	GTask *task = wbd_tuya_discover_task_new(cancellable, callback, user_data);
	g_task_set_source_tag(task, wbd_tuya_discover_async);
	wbd_tuya_discover_start(task, options->target, options->timeout_ms, TRUE);
}

GPtrArray *
wbd_tuya_discover_finish(GAsyncResult *res, GError **error)
{
	return g_task_propagate_pointer(G_TASK(res), error);
}

/**
 * wbd_tuya_discover_find_async:
 *
 * Listens until @device_id announces itself, for at most @timeout_ms; used to learn
 * the protocol version of a device configured without one.
 */
void
wbd_tuya_discover_find_async(const gchar *device_id,
			     guint timeout_ms,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	GTask *task = wbd_tuya_discover_task_new(cancellable, callback, user_data);
	DiscoverData *data = g_task_get_task_data(task);
	g_task_set_source_tag(task, wbd_tuya_discover_find_async);
	data->wanted = g_strdup(device_id);
	wbd_tuya_discover_start(task, NULL, timeout_ms, FALSE);
}

GVariant *
wbd_tuya_discover_find_finish(GAsyncResult *res, GError **error)
{
	return g_task_propagate_pointer(G_TASK(res), error);
}
