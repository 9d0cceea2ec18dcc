/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-azure-codec.h"
#include "wbd-config.h"
#include "wbd-json.h"
#include "wbd-mqtt-codec.h"

/*
 * Azure IoT Hub's topics (shared/specs/mqtt-clouds.md §3.3), what arrives on them and
 * what goes back. The commands are the mqtt kind's (wbd-mqtt-codec.c): a cloud-to-device
 * message is a JSON command with or without "device", or a bare word (`on`, `off`, ...);
 * the direct methods TurnOn, TurnOff, Toggle and SetValve take {"device":"ID"} (and
 * "valve"). Everything here is pure and bounded: the input is hostile.
 */

static const gchar *const methods[] = {"TurnOn", "TurnOff", "Toggle", "SetValve", NULL};

/**
 * wbd_azure_telemetry_topic:
 * @azure_device: the hub's device id (the exporter's)
 * @device: the wattbus device the reading is of
 *
 * Returns: `devices/ID/messages/events/$.ct=application%2Fjson&$.ce=utf-8&device=DEVICE`,
 *   @device URL-encoded: JSON telemetry the hub can route on, with the device as an
 *   application property
 */
gchar *
wbd_azure_telemetry_topic(const gchar *azure_device, const gchar *device)
{
	g_autofree gchar *escaped = g_uri_escape_string(device, NULL, FALSE);

	return g_strdup_printf("devices/%s/messages/events/"
			       "$.ct=application%%2Fjson&$.ce=utf-8&device=%s",
			       azure_device,
			       escaped);
}

/**
 * wbd_azure_device_id_is_valid:
 *
 * Returns: whether a device id from the cloud is worth looking up (and logging): one
 *   topic level, UTF-8, at most 128 bytes, no control characters
 */
gboolean
wbd_azure_device_id_is_valid(const gchar *device)
{
	if (device == NULL || strlen(device) > 128 || !wbd_mqtt_topic_is_valid_level(device))
		return FALSE;
	for (const gchar *p = device; *p != '\0'; p++) {
		if (g_ascii_iscntrl(*p))
			return FALSE;
	}
	return TRUE;
}

/* a property bag `k1=v1&k2&k3=` (names and values URL-encoded): the value of @name
 * (decoded when @decode, "" when undecodable), %NULL when absent or a bare name (null) */
static gchar *
bag_lookup(const gchar *bag, const gchar *name, gboolean decode)
{
	g_auto(GStrv) pairs = g_strsplit(bag, "&", 64);

	for (guint i = 0; pairs[i] != NULL; i++) {
		gchar *eq = strchr(pairs[i], '=');
		g_autofree gchar *key = NULL;
		gchar *value;

		if (eq != NULL)
			*eq = '\0';
		key = g_uri_unescape_string(pairs[i], NULL);
		if (key == NULL || !g_str_equal(key, name))
			continue;
		if (eq == NULL)
			return NULL;
		value = decode ? g_uri_unescape_string(eq + 1, NULL) : g_strdup(eq + 1);
		return value != NULL ? value : g_strdup("");
	}
	return NULL;
}

/**
 * wbd_azure_parse_c2d_topic:
 * @topic: a topic a message arrived on
 * @azure_device: the hub's device id
 * @device: (out) (transfer full) (nullable): the application property `device` of the
 *   message's property bag (decoded, "" when undecodable; check it with
 *   wbd_azure_device_id_is_valid()), or %NULL when it has none
 *
 * Returns: whether @topic is a cloud-to-device message for @azure_device
 *   (`devices/ID/messages/devicebound/PROPERTY-BAG`)
 */
gboolean
wbd_azure_parse_c2d_topic(const gchar *topic, const gchar *azure_device, gchar **device)
{
	g_autofree gchar *prefix = g_strdup_printf("devices/%s/messages/devicebound/", azure_device);

	*device = NULL;
	if (!g_str_has_prefix(topic, prefix))
		return FALSE;
	*device = bag_lookup(topic + strlen(prefix), "device", TRUE);
	return TRUE;
}

static gboolean
payload_is_empty(const gchar *payload, gsize length)
{
	g_autofree gchar *text = NULL;

	if (length == 0)
		return TRUE;
	if (length > 16)
		return FALSE;
	text = g_strstrip(g_strndup(payload, length));
	return text[0] == '\0' || g_str_equal(text, "null");
}

/* a JSON command of the mqtt kind, with or without "device" */
static GPtrArray *
parse_json_command(const gchar *payload, gsize length, gchar **device, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	GPtrArray *commands;

	commands = wbd_mqtt_parse_device_command(payload, length, NULL, device, &local_error);
	if (commands != NULL || *device != NULL) {
		if (commands == NULL)
			g_propagate_error(error, g_steal_pointer(&local_error));
		return commands;
	}
	/* no device: it applies to the one the topic or default-device names */
	return wbd_mqtt_parse_command(payload, length, NULL, error);
}

/**
 * wbd_azure_parse_c2d:
 * @payload: (array length=length): a cloud-to-device message's body
 * @device: (out) (transfer full) (nullable): the JSON's `device`, %NULL when it has none
 *
 * A command as the mqtt kind's (`{"state":"OFF"}`, `{"device":"plug1","valve":"closed"}`),
 * or a bare word: `on`, `off`, `toggle`, `open`, `close`.
 *
 * Returns: (transfer full) (element-type WbdMqttCommand) (nullable): the commands, or
 *   %NULL with a %WATTBUS_ERROR
 */
GPtrArray *
wbd_azure_parse_c2d(const gchar *payload, gsize length, gchar **device, GError **error)
{
	GPtrArray *commands = wbd_mqtt_parse_plain_command(payload, length);

	*device = NULL;
	if (commands != NULL)
		return commands;
	return parse_json_command(payload, length, device, error);
}

/* printable ASCII that can go into a topic name and a query */
static gboolean
token_is_valid(const gchar *text, gsize max)
{
	gsize n = strlen(text);

	if (n == 0 || n > max)
		return FALSE;
	for (gsize i = 0; i < n; i++) {
		if (text[i] < 0x21 || text[i] > 0x7e || strchr("+#/&?", text[i]) != NULL)
			return FALSE;
	}
	return TRUE;
}

/* `STATUS-OR-METHOD/?$rid=RID[&...]` after a topic's prefix */
static gboolean
parse_request(const gchar *rest, gchar **name, gchar **rid)
{
	const gchar *query = strstr(rest, "/?");
	g_autofree gchar *value = NULL;

	*name = NULL;
	*rid = NULL;
	if (query == NULL)
		return FALSE;
	*name = g_strndup(rest, query - rest);
	if (!token_is_valid(*name, 64))
		g_clear_pointer(name, g_free);
	/* echoed as it came */
	value = bag_lookup(query + 2, "$rid", FALSE);
	if (value != NULL && token_is_valid(value, WBD_AZURE_MAX_RID))
		*rid = g_steal_pointer(&value);
	return TRUE;
}

/**
 * wbd_azure_parse_method_topic:
 * @topic: a topic a message arrived on
 * @method: (out) (transfer full) (nullable): the method's name, %NULL when it is not
 *   printable ASCII of at most 64 characters
 * @rid: (out) (transfer full) (nullable): the request id to answer with, %NULL when
 *   missing or not printable ASCII of at most %WBD_AZURE_MAX_RID characters
 *   (without `+#/&?`): then there is no way to answer
 *
 * Returns: whether @topic is a direct method request
 *   (`$iothub/methods/POST/METHOD/?$rid=RID`)
 */
gboolean
wbd_azure_parse_method_topic(const gchar *topic, gchar **method, gchar **rid)
{
	static const gchar prefix[] = "$iothub/methods/POST/";

	*method = NULL;
	*rid = NULL;
	if (!g_str_has_prefix(topic, prefix))
		return FALSE;
	parse_request(topic + strlen(prefix), method, rid);
	return TRUE;
}

/**
 * wbd_azure_parse_twin_topic:
 * @status: (out): the status of a twin response, 0 when not a number
 * @rid: (out) (transfer full) (nullable): its request id
 *
 * Returns: whether @topic is a twin response (`$iothub/twin/res/STATUS/?$rid=RID...`)
 */
gboolean
wbd_azure_parse_twin_topic(const gchar *topic, gint *status, gchar **rid)
{
	static const gchar prefix[] = "$iothub/twin/res/";
	g_autofree gchar *code = NULL;
	guint64 value = 0;

	*status = 0;
	*rid = NULL;
	if (!g_str_has_prefix(topic, prefix))
		return FALSE;
	if (parse_request(topic + strlen(prefix), &code, rid) && code != NULL &&
	    g_ascii_string_to_unsigned(code, 10, 100, 999, &value, NULL))
		*status = (gint)value;
	return TRUE;
}

/**
 * wbd_azure_parse_method:
 * @method: (nullable): the method's name, %NULL for one that was not valid
 * @payload: (array length=length): the request's body: `{"device":"plug1"}`, empty or
 *   `null` (TurnOn, TurnOff, Toggle: the default device), `{"device":"wm","valve":"closed"}`
 *   (SetValve; without "device": the default device)
 * @device: (out) (transfer full) (nullable): the device the request names, %NULL for the
 *   default device
 *
 * Returns: (transfer full) (element-type WbdMqttCommand) (nullable): the commands, or
 *   %NULL with %WATTBUS_ERROR_NOT_FOUND for an unknown method and
 *   %WATTBUS_ERROR_INVALID_ARGUMENT for a bad request
 */
GPtrArray *
wbd_azure_parse_method(const gchar *method,
		       const gchar *payload,
		       gsize length,
		       gchar **device,
		       GError **error)
{
	static const gchar *const words[] = {"on", "off", "toggle"};
	g_autoptr(GError) local_error = NULL;
	g_autoptr(GPtrArray) commands = NULL;
	g_autoptr(JsonNode) root = NULL;
	guint index;

	*device = NULL;
	if (method == NULL) {
		wbd_config_invalid(error, "The method's name is not valid");
		return NULL;
	}
	if (!g_strv_contains(methods, method)) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_NOT_FOUND,
			    "Unknown method '%s' (known: TurnOn, TurnOff, Toggle, SetValve)",
			    method);
		return NULL;
	}
	if (length > WBD_AZURE_MAX_PAYLOAD) {
		wbd_config_invalid(error, "The request is too long");
		return NULL;
	}
	if (g_str_equal(method, "SetValve")) {
		commands = payload_is_empty(payload, length)
			       ? NULL
			       : parse_json_command(payload, length, device, &local_error);
		for (guint i = 0; commands != NULL && i < commands->len; i++) {
			WbdMqttCommand *command = g_ptr_array_index(commands, i);
			if (!g_str_equal(command->property, "Valve"))
				g_clear_pointer(&commands, g_ptr_array_unref);
		}
		if (commands == NULL) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "SetValve takes {\"device\":\"ID\",\"valve\":\"opened\"|\"closed\"}%s%s",
				    local_error != NULL ? ": " : "",
				    local_error != NULL ? local_error->message : "");
			return NULL;
		}
		return g_steal_pointer(&commands);
	}
	for (index = 0; index < G_N_ELEMENTS(words); index++) {
		if (g_str_equal(method, methods[index]))
			break;
	}
	g_assert(index < G_N_ELEMENTS(words));
	if (!payload_is_empty(payload, length)) {
		JsonObject *object;
		g_autoptr(GList) members = NULL;
		root = wbd_json_parse_object(payload, length, NULL);
		object = root != NULL ? json_node_get_object(root) : NULL;
		members = object != NULL ? json_object_get_members(object) : NULL;
		if (object == NULL || wbd_json_get_string(object, "device") == NULL ||
		    g_list_length(members) != 1) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "%s takes {\"device\":\"ID\"}, or nothing for the default device",
				    method);
			return NULL;
		}
		*device = g_strdup(wbd_json_get_string(object, "device"));
	}
	return wbd_mqtt_parse_plain_command(words[index], strlen(words[index]));
}

/**
 * wbd_azure_method_reply_topic:
 * @rid: the request's id, as wbd_azure_parse_method_topic() gave it
 *
 * Returns: `$iothub/methods/res/STATUS/?$rid=RID`
 */
gchar *
wbd_azure_method_reply_topic(gint status, const gchar *rid)
{
	return g_strdup_printf("$iothub/methods/res/%d/?$rid=%s", status, rid);
}

/**
 * wbd_azure_twin_patch:
 * @devices: (element-type utf8 JsonObject): device id → its state
 *   (wbd_mqtt_cloud_device_state()), or %NULL for a device that is gone
 *
 * Returns: the reported properties' patch, `{"devices":{"plug1":{...},"old":null}}`,
 *   devices in the order of their ids
 */
gchar *
wbd_azure_twin_patch(GHashTable *devices)
{
	g_autoptr(JsonObject) all = json_object_new();
	g_autoptr(JsonObject) root = json_object_new();
	g_autoptr(GList) ids = g_list_sort(g_hash_table_get_keys(devices), (GCompareFunc)strcmp);
	g_autoptr(JsonNode) node = json_node_alloc();

	for (GList *l = ids; l != NULL; l = l->next) {
		JsonObject *state = g_hash_table_lookup(devices, l->data);
		if (state != NULL)
			json_object_set_object_member(all, l->data, json_object_ref(state));
		else
			json_object_set_null_member(all, l->data);
	}
	json_object_set_object_member(root, "devices", json_object_ref(all));
	json_node_init_object(node, root);
	return json_to_string(node, FALSE);
}

/**
 * wbd_azure_parse_desired:
 * @payload: (array length=length): a desired-properties patch (`{"devices":{"plug1":
 *   {"state":"OFF"},"wm":{"valve":"closed"}},"$version":7}`), or with @document the
 *   whole twin of a GET (`{"desired":{...},"reported":{...}}`)
 * @version: (out): the desired properties' `$version`
 *
 * `devices` goes to wbd_mqtt_parse_desired(); members other than `devices` are
 * ignored.
 *
 * Returns: (transfer full) (element-type WbdMqttDesired): one per device named, or
 *   %NULL with %WATTBUS_ERROR_INVALID_ARGUMENT when the payload is not a twin document
 *   or has no whole `$version`
 */
GPtrArray *
wbd_azure_parse_desired(const gchar *payload,
			gsize length,
			gboolean document,
			gint64 *version,
			GError **error)
{
	g_autoptr(JsonNode) root = NULL;
	JsonObject *desired;
	JsonNode *node;

	*version = 0;
	if (length > WBD_AZURE_MAX_TWIN) {
		wbd_config_invalid(error, "The twin document is too long");
		return NULL;
	}
	root = length > 0 ? wbd_json_parse_object(payload, length, NULL) : NULL;
	desired = root != NULL ? json_node_get_object(root) : NULL;
	if (desired != NULL && document)
		desired = wbd_json_get_object(desired, "desired");
	node = desired != NULL ? json_object_get_member(desired, "$version") : NULL;
	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_INT64 || json_node_get_int(node) < 0) {
		wbd_config_invalid(error, "Not desired properties with a $version");
		return NULL;
	}
	*version = json_node_get_int(node);
	return wbd_mqtt_parse_desired(wbd_json_get_object(desired, "devices"));
}
