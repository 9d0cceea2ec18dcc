/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include <wattbus-glib.h>

#include "wbd-json.h"
#include "wbd-kasa-codec.h"
#include "wbd-kasa-crypto.h"
#include "wbd-kasa-discover.h"
#include "wbd-kasa-sysinfo.h"

#define WBD_KASA_DISCOVER_PROBES 3
#define WBD_KASA_DISCOVER_BUFFER (64 * 1024)
#define WBD_KASA_DISCOVER_MAX_RESULTS 1024
#define WBD_KASA_TDP_PORT 20002

/*
 * Legacy discovery: the encrypted, unprefixed get_sysinfo request as a UDP datagram
 * to the broadcast address (or a target) on port 9999, sent three times over the
 * window; every device answers with its sysinfo from its own address. Beside it, the
 * TDP probe of newer devices (kasa-smart.md §6) to port 20002; KLAP/AES devices answer
 * with a 16-byte header and JSON saying what they speak. A target with an explicit
 * port gets both probes on that port.
 */
typedef struct {
	GSocket *socket;
	GSource *source;
	GSocketAddress *target;
	GBytes *probe;
	GBytes *tdp_probe;
	GSocketAddress *tdp_target;
	gboolean done;
	guint8 *buffer;
	GHashTable *seen;
	GPtrArray *results;
	guint probes_sent;
	guint probe_id;
	guint end_id;
	guint interval_ms;
} DiscoverData;

static void
discover_data_free(DiscoverData *data)
{
	g_clear_handle_id(&data->probe_id, g_source_remove);
	g_clear_handle_id(&data->end_id, g_source_remove);
	if (data->source != NULL) {
		g_source_destroy(data->source);
		g_source_unref(data->source);
	}
	if (data->socket != NULL)
		g_socket_close(data->socket, NULL);
	g_clear_object(&data->socket);
	g_clear_object(&data->target);
	g_clear_pointer(&data->probe, g_bytes_unref);
	g_clear_pointer(&data->tdp_probe, g_bytes_unref);
	g_clear_object(&data->tdp_target);
	g_clear_pointer(&data->seen, g_hash_table_unref);
	g_clear_pointer(&data->results, g_ptr_array_unref);
	g_free(data->buffer);
	g_free(data);
}

/**
 * wbd_kasa_discover_parse_reply:
 * @address: where the datagram came from, as the device's address
 *
 * Returns: (transfer full): a floating-free a{sv} describing the device
 */
GVariant *
wbd_kasa_discover_parse_reply(const guint8 *data, gsize len, const gchar *address, GError **error)
{
	g_autoptr(JsonNode) reply = wbd_kasa_payload_decode(data, len, error);
	g_autoptr(WbdKasaSysinfo) info = NULL;
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);
	JsonObject *result;

	if (reply == NULL)
		return NULL;
	result = wbd_kasa_reply_get_result(reply, "system", "get_sysinfo", NULL, error);
	if (result == NULL)
		return NULL;
	info = wbd_kasa_sysinfo_parse(result, error);
	if (info == NULL)
		return NULL;
	g_variant_dict_insert(&dict, "driver", "s", "kasa");
	g_variant_dict_insert(&dict, "address", "s", address);
	g_variant_dict_insert(&dict, "kind", "s", wbd_kasa_sysinfo_get_kind(info));
	g_variant_dict_insert(&dict, "supported", "b", TRUE);
	if (info->alias != NULL && g_utf8_validate(info->alias, -1, NULL))
		g_variant_dict_insert(&dict, "name", "s", info->alias);
	if (g_utf8_validate(info->model, -1, NULL))
		g_variant_dict_insert(&dict, "model", "s", info->model);
	if (g_utf8_validate(info->device_id, -1, NULL))
		g_variant_dict_insert(&dict, "device-id", "s", info->device_id);
	if (info->mac != NULL && g_utf8_validate(info->mac, -1, NULL)) {
		g_autofree gchar *mac = g_ascii_strdown(info->mac, -1);
		g_strdelimit(mac, "-", ':');
		g_variant_dict_insert(&dict, "mac-address", "s", mac);
	}
	if (info->children->len > 0) {
		g_autofree gchar *note = g_strdup_printf("%u outlets", info->children->len);
		g_variant_dict_insert(&dict, "note", "s", note);
	}
	return g_variant_ref_sink(g_variant_dict_end(&dict));
}

/**
 * wbd_kasa_discover_parse_tdp:
 * @data: the JSON after the 16-byte TDP header
 * @address: where the datagram came from (the IP alone: KLAP and AES use http-port)
 *
 * Returns: (transfer full): a floating-free a{sv} describing the device: what
 *   `wattbusctl add` needs (transport, http-port) and whether it needs the account
 */
GVariant *
wbd_kasa_discover_parse_tdp(const guint8 *data, gsize len, const gchar *address, GError **error)
{
	g_autoptr(JsonNode) root = wbd_json_parse_object((const gchar *)data, len, error);
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);
	JsonObject *result, *schm;
	const gchar *type, *model, *encrypt, *mac, *id, *owner;
	g_autofree gchar *short_model = NULL;
	g_autoptr(GString) note = g_string_new(NULL);
	gboolean iot, supported, factory = FALSE;
	gdouble port = 80, lv = 0, new_klap = 0;
	JsonNode *node;

	if (root == NULL)
		return NULL;
	result = wbd_json_get_object(json_node_get_object(root), "result");
	type = result != NULL ? wbd_json_get_string(result, "device_type") : NULL;
	if (type == NULL) {
		g_set_error_literal(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED, "a TDP reply without result.device_type");
		return NULL;
	}
	schm = wbd_json_get_object(result, "mgt_encrypt_schm");
	encrypt = schm != NULL ? wbd_json_get_string(schm, "encrypt_type") : NULL;
	if (schm != NULL) {
		wbd_json_get_number(schm, "http_port", &port);
		wbd_json_get_number(schm, "lv", &lv);
		wbd_json_get_number(schm, "new_klap", &new_klap);
	}
	node = json_object_get_member(result, "factory_default");
	if (node != NULL && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_BOOLEAN)
		factory = json_node_get_boolean(node);
	iot = g_str_has_prefix(type, "IOT.");
	supported = (g_strcmp0(encrypt, "KLAP") == 0 || g_strcmp0(encrypt, "AES") == 0) &&
		    (iot || g_str_has_suffix(type, "PLUG") || g_str_has_suffix(type, "SWITCH")) && port >= 1 &&
		    port <= G_MAXUINT16;
	model = wbd_json_get_string(result, "device_model");
	if (model != NULL && g_utf8_validate(model, -1, NULL)) {
		short_model = g_strndup(model, strcspn(model, "("));
		g_variant_dict_insert(&dict, "model", "s", short_model);
	}
	g_variant_dict_insert(&dict, "driver", "s", "kasa");
	g_variant_dict_insert(&dict, "address", "s", address);
	g_variant_dict_insert(&dict, "kind", "s", g_str_has_suffix(type, "SWITCH") ? "switch" : "outlet");
	g_variant_dict_insert(&dict, "supported", "b", supported);
	mac = wbd_json_get_string(result, "mac");
	if (mac != NULL && strlen(mac) <= 32 && g_utf8_validate(mac, -1, NULL)) {
		g_autofree gchar *lower = g_ascii_strdown(mac, -1);
		g_strdelimit(lower, "-", ':');
		g_variant_dict_insert(&dict, "mac-address", "s", lower);
	}
	id = wbd_json_get_string(result, "device_id");
	if (id != NULL && strlen(id) <= 128 && g_utf8_validate(id, -1, NULL))
		g_variant_dict_insert(&dict, "device-id", "s", id);
	owner = wbd_json_get_string(result, "owner");
	if (supported) {
		g_autofree gchar *http_port = g_strdup_printf("%u", (guint)port);
		gint version = iot && lv != 2 && new_klap != 1 ? 1 : 2;
		g_autofree gchar *transport = g_ascii_strdown(encrypt, -1);
		g_variant_dict_insert(&dict, "transport", "s", transport);
		g_variant_dict_insert(&dict, "http-port", "s", http_port);
		g_variant_dict_insert(&dict, "credentials", "b", !factory && owner != NULL && owner[0] != '\0');
		if (g_strcmp0(encrypt, "KLAP") == 0)
			g_string_append_printf(note, "KLAP v%d", version);
		else
			g_string_append_printf(note, "AES, login v%d", lv == 2 ? 2 : 1);
		g_string_append(note, iot ? ", IOT protocol" : ", SMART protocol");
		if (!factory && owner != NULL && owner[0] != '\0')
			g_string_append(note, "; needs the TP-Link account (username, password)");
		/* what `wattbusctl add` needs besides the address */
		g_string_append_printf(note, "; add with --set transport=%s", transport);
		if ((guint)port != 80)
			g_string_append_printf(note, " --set http-port=%s", http_port);
	} else {
		g_string_append_printf(note,
				       "%s over %s: not supported",
				       g_utf8_validate(type, -1, NULL) ? type : "?",
				       encrypt != NULL && g_utf8_validate(encrypt, -1, NULL) ? encrypt : "an unknown scheme");
	}
	g_variant_dict_insert(&dict, "note", "s", note->str);
	return g_variant_ref_sink(g_variant_dict_end(&dict));
}

static gchar *
format_address(GInetSocketAddress *address)
{
	g_autofree gchar *ip = g_inet_address_to_string(g_inet_socket_address_get_address(address));
	guint16 port = g_inet_socket_address_get_port(address);
	if (port == WBD_KASA_DEFAULT_PORT)
		return g_steal_pointer(&ip);
	if (strchr(ip, ':') != NULL)
		return g_strdup_printf("[%s]:%u", ip, port);
	return g_strdup_printf("%s:%u", ip, port);
}

static gboolean
wbd_kasa_discover_receive_cb(GSocket *socket, GIOCondition condition, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	DiscoverData *data = g_task_get_task_data(task);

	for (;;) {
		g_autoptr(GSocketAddress) from = NULL;
		g_autoptr(GError) error = NULL;
		g_autofree gchar *address = NULL;
		g_autoptr(GVariant) result = NULL;
		gssize n;

		n = g_socket_receive_from(socket,
					  &from,
					  (gchar *)data->buffer,
					  WBD_KASA_DISCOVER_BUFFER,
					  NULL,
					  &error);
		if (n < 0)
			break;
		if (!G_IS_INET_SOCKET_ADDRESS(from))
			continue;
		if (n > WBD_KASA_TDP_HEADER_SIZE && data->buffer[0] == 2 && data->buffer[WBD_KASA_TDP_HEADER_SIZE] == '{') {
			/* a TDP reply: the device's IP is its address (KLAP/AES use http-port) */
			g_autofree gchar *key = NULL;
			address = g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(from)));
			key = g_strconcat("tdp ", address, NULL);
			if (g_hash_table_contains(data->seen, key) || data->results->len >= WBD_KASA_DISCOVER_MAX_RESULTS)
				continue;
			result = wbd_kasa_discover_parse_tdp(data->buffer + WBD_KASA_TDP_HEADER_SIZE,
							     (gsize)n - WBD_KASA_TDP_HEADER_SIZE,
							     address,
							     &error);
			if (result == NULL) {
				g_debug("ignoring a TDP reply from %s: %s", address, error->message);
				continue;
			}
			g_debug("found a TP-Link device at %s (TDP)", address);
			g_hash_table_add(data->seen, g_steal_pointer(&key));
			g_ptr_array_add(data->results, g_steal_pointer(&result));
			continue;
		}
		address = format_address(G_INET_SOCKET_ADDRESS(from));
		if (g_hash_table_contains(data->seen, address) ||
		    data->results->len >= WBD_KASA_DISCOVER_MAX_RESULTS)
			continue;
		result = wbd_kasa_discover_parse_reply(data->buffer, (gsize)n, address, &error);
		if (result == NULL) {
			g_debug("ignoring a discovery reply from %s: %s", address, error->message);
			continue;
		}
		g_debug("found a Kasa device at %s", address);
		g_hash_table_add(data->seen, g_steal_pointer(&address));
		g_ptr_array_add(data->results, g_steal_pointer(&result));
	}
	return G_SOURCE_CONTINUE;
}

static void
wbd_kasa_discover_send_tdp(DiscoverData *data)
{
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	const gchar *probe;

	if (data->tdp_probe == NULL || data->done)
		return;
	probe = g_bytes_get_data(data->tdp_probe, &len);
	if (g_socket_send_to(data->socket, data->tdp_target, probe, len, NULL, &error) < 0)
		g_debug("cannot send the TDP discovery probe: %s", error->message);
}

/*
 * The public key the TDP probe carries (§6.1). Devices use it only to wrap the
 * `encrypt_info` of hubs and cameras, which this driver does not read, so a fixed
 * RSA-2048 public key (its private half was thrown away) does: no key is made at run
 * time, and no thread is left making one when the daemon exits.
 */
static const gchar tdp_public_key[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwCCM/qvNhTB5vUONZ75/\n"
	"r0Eui5TnEkv5FsgnoV+eVWx67zeTga4t8WQXwetWqR2D3ZSPJOjusuSXIjyBq+af\n"
	"qeuWrTJ1Tv1anlN1VhEFFjzTSWS25AoXWwdnEEKu/fkpKjTl3mZhNwDLZMXxVxnq\n"
	"lKSjjY9fCBJftTPE29Sybxjur+0JL7dj0KHUTvwP/P0xEPsUhVco7i+VHMnyBIxV\n"
	"T8bXp1y96GgyfO3ce+XcCM1nx9/hSNUpqEhqmVhmIv76+64HrktetM4DYmXAEGCq\n"
	"O/7qSCwx25HI8uTj/JktVJsM8/kDy+bp7VNTwRJyInOgRgQIDuqXz8HcQFIo4onl\n"
	"JwIDAQAB\n"
	"-----END PUBLIC KEY-----\n";

/* the TDP probe: {"params":{"rsa_key":PEM}} after its 16-byte header */
static GBytes *
wbd_kasa_discover_tdp_probe(void)
{
	g_autoptr(JsonBuilder) b = json_builder_new_immutable();
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree gchar *payload = NULL;
	guint8 serial[4];
	guint8 *packet;
	gsize len;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "params");
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "rsa_key");
	json_builder_add_string_value(b, tdp_public_key);
	json_builder_end_object(b);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	payload = json_generator_to_data(gen, &len);
	if (!wbd_kasa_random(serial, sizeof(serial)))
		memset(serial, 0, sizeof(serial));
	packet = g_malloc(WBD_KASA_TDP_HEADER_SIZE + len);
	wbd_kasa_tdp_header(packet, 0x11, serial, (const guint8 *)payload, len);
	memcpy(packet + WBD_KASA_TDP_HEADER_SIZE, payload, len);
	return g_bytes_new_take(packet, WBD_KASA_TDP_HEADER_SIZE + len);
}

static void
wbd_kasa_discover_send_probe(DiscoverData *data)
{
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	const gchar *probe = g_bytes_get_data(data->probe, &len);
	data->probes_sent++;
	if (g_socket_send_to(data->socket, data->target, probe, len, NULL, &error) < 0)
		g_debug("cannot send the discovery probe: %s", error->message);
	wbd_kasa_discover_send_tdp(data);
}

static gboolean
wbd_kasa_discover_probe_cb(gpointer user_data)
{
	DiscoverData *data = user_data;
	wbd_kasa_discover_send_probe(data);
	if (data->probes_sent >= WBD_KASA_DISCOVER_PROBES) {
		data->probe_id = 0;
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static gboolean
wbd_kasa_discover_end_cb(gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	DiscoverData *data = g_task_get_task_data(task);
	data->end_id = 0;
	data->done = TRUE;
	/* the task may outlive this (the TDP key's thread holds it): nothing more is
	 * received or sent, and the socket goes now, not when the key is made */
	g_clear_handle_id(&data->probe_id, g_source_remove);
	if (data->source != NULL) {
		g_source_destroy(data->source);
		g_clear_pointer(&data->source, g_source_unref);
	}
	if (data->socket != NULL)
		g_socket_close(data->socket, NULL);
	g_task_return_pointer(task, g_steal_pointer(&data->results), (GDestroyNotify)g_ptr_array_unref);
	g_object_unref(task);
	return G_SOURCE_REMOVE;
}

static GSocketAddress *
wbd_kasa_discover_parse_target(const gchar *target, GError **error)
{
	g_autoptr(GSocketConnectable) connectable = NULL;
	g_autoptr(GInetAddress) inet = NULL;
	const gchar *host;

	if (target == NULL || target[0] == '\0')
		target = "255.255.255.255";
	connectable = g_network_address_parse(target, WBD_KASA_DEFAULT_PORT, NULL);
	host = connectable != NULL ? g_network_address_get_hostname(G_NETWORK_ADDRESS(connectable))
				   : NULL;
	inet = host != NULL ? g_inet_address_new_from_string(host) : NULL;
	if (inet == NULL || g_inet_address_get_family(inet) != G_SOCKET_FAMILY_IPV4) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "Discover: the target must be an IPv4 address, optionally with :port, "
			    "such as 192.168.1.255");
		return NULL;
	}
	return g_inet_socket_address_new(inet,
					 g_network_address_get_port(G_NETWORK_ADDRESS(connectable)));
}

void
wbd_kasa_discover_async(const WbdDiscoverOptions *options,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data)
{
	GTask *task = g_task_new(NULL, cancellable, callback, user_data);
	DiscoverData *data = g_new0(DiscoverData, 1);
	g_autoptr(GError) error = NULL;
	g_autoptr(GInetAddress) any = g_inet_address_new_any(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) local = g_inet_socket_address_new(any, 0);
	g_autofree gchar *request = wbd_kasa_build_request("system", "get_sysinfo", NULL, NULL);
	gsize len = strlen(request);
	guint8 *probe = (guint8 *)g_strdup(request);

	g_task_set_source_tag(task, wbd_kasa_discover_async);
	g_task_set_task_data(task, data, (GDestroyNotify)discover_data_free);
	wbd_kasa_encrypt(probe, len);
	data->probe = g_bytes_new_take(probe, len);
	data->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	data->results = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	data->buffer = g_malloc(WBD_KASA_DISCOVER_BUFFER);

	data->target = wbd_kasa_discover_parse_target(options->target, &error);
	if (data->target == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		g_object_unref(task);
		return;
	}
	data->socket = g_socket_new(G_SOCKET_FAMILY_IPV4,
				    G_SOCKET_TYPE_DATAGRAM,
				    G_SOCKET_PROTOCOL_UDP,
				    &error);
	if (data->socket == NULL || !g_socket_bind(data->socket, local, TRUE, &error)) {
		g_task_return_new_error(task,
					WATTBUS_ERROR,
					WATTBUS_ERROR_FAILED,
					"Cannot open a socket for discovery: %s",
					error->message);
		g_object_unref(task);
		return;
	}
	/* the TDP probe goes to 20002, or to the target's own port when one is given */
	data->tdp_target = g_inet_socket_address_new(
	    g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(data->target)),
	    options->target != NULL && strchr(options->target, ':') != NULL
		? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(data->target))
		: WBD_KASA_TDP_PORT);
	data->tdp_probe = wbd_kasa_discover_tdp_probe();
	g_socket_set_blocking(data->socket, FALSE);
	g_socket_set_broadcast(data->socket, TRUE);
	data->source = g_socket_create_source(data->socket, G_IO_IN, cancellable);
	g_source_set_callback(data->source,
			      G_SOURCE_FUNC(wbd_kasa_discover_receive_cb),
			      task,
			      NULL);
	g_source_attach(data->source, g_main_context_get_thread_default());

	data->interval_ms = MAX(options->timeout_ms / WBD_KASA_DISCOVER_PROBES, 50);
	wbd_kasa_discover_send_probe(data);
	data->probe_id = g_timeout_add(data->interval_ms, wbd_kasa_discover_probe_cb, data);
	data->end_id = g_timeout_add(options->timeout_ms, wbd_kasa_discover_end_cb, task);
}

GPtrArray *
wbd_kasa_discover_finish(GAsyncResult *res, GError **error)
{
	return g_task_propagate_pointer(G_TASK(res), error);
}
