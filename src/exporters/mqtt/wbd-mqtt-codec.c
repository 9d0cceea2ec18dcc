/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-json.h"
#include "wbd-mqtt-codec.h"
#include "wbd-value.h"
#include "wbd-config.h"

/*
 * The `mqtt` kind's wire format (shared/specs/mqtt-clouds.md §1, Zigbee2MQTT style):
 * a device's state is one JSON object with snake_case keys (`power`, `energy`,
 * `state`: "ON"/"OFF", `valve`, `water`), commands are JSON objects with the same
 * keys, answered on `.../set/result`. Everything here is pure, for the fuzzer.
 */

void
wbd_mqtt_command_free(WbdMqttCommand *command)
{
	g_free(command->property);
	g_clear_pointer(&command->value, g_variant_unref);
	g_free(command);
}

/* the state keys the D-Bus names map to, where snake_case is not enough */
static const struct {
	const gchar *property;
	const gchar *key;
} state_keys[] = {
    {"On", "state"},
    {"Flow", "water"},
    /* a battery's (charging, idle, …): `state` is the outlet's ON/OFF */
    {"State", "battery_state"},
};

/**
 * wbd_mqtt_state_key:
 * @property: a D-Bus property name, e.g. `PowerFactor`, `PhasePower2`
 *
 * Returns: the state JSON key: `power_factor`, `phase_power2`; `On` is `state`,
 *   the water meter's `Flow` is `water`, the battery's `State` is `battery_state`
 */
gchar *
wbd_mqtt_state_key(const gchar *property)
{
	GString *key = g_string_new(NULL);

	for (guint i = 0; i < G_N_ELEMENTS(state_keys); i++) {
		if (g_str_equal(property, state_keys[i].property)) {
			g_string_free(key, TRUE);
			return g_strdup(state_keys[i].key);
		}
	}
	for (const gchar *p = property; *p != '\0'; p++) {
		if (g_ascii_isupper(*p) && p != property)
			g_string_append_c(key, '_');
		g_string_append_c(key, g_ascii_tolower(*p));
	}
	return g_string_free(key, FALSE);
}

/**
 * wbd_mqtt_state_merge:
 * @state: the device's state JSON, updated
 * @values_json: a spool record's values (wbd_values_to_json(): `{"On":true,"Power":12.5}`)
 * @online: (out): 1 or 0 when the record has `Online`, else left alone
 *
 * Numbers stay numbers; `On` and `Switch` become "ON"/"OFF", other booleans
 * true/false; strings and enums (`valve`: "opened") strings; times ISO 8601 in UTC
 * (`"day_first_time":"2023-11-14T22:13:20Z"`). `Online` goes to availability, not the
 * state.
 */
void
wbd_mqtt_state_merge(JsonObject *state, const gchar *values_json, gint *online)
{
	g_autoptr(GPtrArray) values = wbd_values_parse(values_json, NULL);

	for (guint i = 0; values != NULL && i < values->len; i++) {
		const WbdValue *value = g_ptr_array_index(values, i);
		g_autofree gchar *key = NULL;
		g_autofree gchar *time = NULL;

		if (g_str_equal(value->name, "Online")) {
			gdouble v;
			if (wbd_value_get_number(value, &v))
				*online = v != 0;
			continue;
		}
		key = wbd_mqtt_state_key(value->name);
		switch (value->type) {
		case WBD_VALUE_NUMBER:
			json_object_set_double_member(state, key, value->number);
			break;
		case WBD_VALUE_BOOLEAN:
			if (g_str_equal(value->name, "On") || g_str_equal(value->name, "Switch"))
				json_object_set_string_member(state,
							      key,
							      value->boolean ? "ON" : "OFF");
			else
				json_object_set_boolean_member(state, key, value->boolean);
			break;
		case WBD_VALUE_STRING:
			json_object_set_string_member(state, key, value->string);
			break;
		case WBD_VALUE_TIME:
			time = wbd_value_format_time(value->time_us);
			if (time != NULL)
				json_object_set_string_member(state, key, time);
			break;
		}
	}
}

/* the shortest of %.15g and %.17g that reads back as @value: 230.837, not 230.83700000000002 */
static void
append_number(GString *out, gdouble value)
{
	gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

	g_ascii_formatd(buf, sizeof buf, "%.15g", value);
	if (g_ascii_strtod(buf, NULL) != value)
		g_ascii_formatd(buf, sizeof buf, "%.17g", value);
	g_string_append(out, buf);
}

/**
 * wbd_mqtt_state_to_json:
 * @state: a state object of numbers and strings
 *
 * Returns: its compact JSON, numbers in their shortest exact form
 */
gchar *
wbd_mqtt_state_to_json(JsonObject *state)
{
	GString *out = g_string_new("{");
	g_autoptr(GList) names = json_object_get_members(state);

	for (GList *l = names; l != NULL; l = l->next) {
		JsonNode *node = json_object_get_member(state, l->data);
		GType type = JSON_NODE_HOLDS_VALUE(node) ? json_node_get_value_type(node) : G_TYPE_INVALID;

		if (out->len > 1)
			g_string_append_c(out, ',');
		/* once a reading: no generator for the plain values */
		wbd_json_append_string(out, l->data);
		g_string_append_c(out, ':');
		if (type == G_TYPE_DOUBLE) {
			append_number(out, json_node_get_double(node));
		} else if (type == G_TYPE_STRING) {
			wbd_json_append_string(out, json_node_get_string(node));
		} else if (type == G_TYPE_BOOLEAN) {
			g_string_append(out, json_node_get_boolean(node) ? "true" : "false");
		} else {
			g_autofree gchar *text = json_to_string(node, FALSE);
			g_string_append(out, text);
		}
	}
	g_string_append_c(out, '}');
	return g_string_free(out, FALSE);
}

/* a topic level or HA object id: not empty, no wildcards, separators or NULs */
gboolean
wbd_mqtt_topic_is_valid_level(const gchar *level)
{
	if (level == NULL || level[0] == '\0' || level[0] == '$')
		return FALSE;
	return strpbrk(level, "+#/") == NULL && g_utf8_validate(level, -1, NULL);
}

/* Home Assistant ids: [a-zA-Z0-9_-] only */
gchar *
wbd_mqtt_object_id(const gchar *text)
{
	gchar *id = g_strdup(text);
	for (gchar *p = id; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
			*p = '_';
	}
	return id;
}

/* "ON"/"OFF" (any case) or true/false */
static gboolean
parse_on_off(JsonNode *node, const gchar *key, gboolean *on, gboolean *toggle, GError **error)
{
	const gchar *text;

	if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_BOOLEAN) {
		*on = json_node_get_boolean(node);
		return TRUE;
	}
	text = JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING
		   ? json_node_get_string(node)
		   : NULL;
	if (text != NULL && g_ascii_strcasecmp(text, "ON") == 0)
		*on = TRUE;
	else if (text != NULL && g_ascii_strcasecmp(text, "OFF") == 0)
		*on = FALSE;
	else if (text != NULL && toggle != NULL && g_ascii_strcasecmp(text, "TOGGLE") == 0)
		*toggle = TRUE;
	else {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "%s must be \"ON\", \"OFF\"%s",
			    key,
			    toggle != NULL ? " or \"TOGGLE\"" : "");
		return FALSE;
	}
	return TRUE;
}

static const gchar *
node_string(JsonNode *node)
{
	/* json-glib lets some escapes through as bytes that are not UTF-8 */
	if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING &&
	    g_utf8_validate(json_node_get_string(node), -1, NULL))
		return json_node_get_string(node);
	return NULL;
}

/* the valve words of HA (OPEN/CLOSE) and of the WaterMeter (opened/closed) */
static gchar *
valve_state(const gchar *text)
{
	if (g_ascii_strcasecmp(text, "open") == 0 || g_ascii_strcasecmp(text, "opened") == 0)
		return g_strdup("opened");
	if (g_ascii_strcasecmp(text, "close") == 0 || g_ascii_strcasecmp(text, "closed") == 0)
		return g_strdup("closed");
	/* anything else goes to the device's own check, which refuses it */
	return g_strdup(text);
}

static WbdMqttCommand *
command_new(const gchar *property, GVariant *value)
{
	WbdMqttCommand *command = g_new0(WbdMqttCommand, 1);
	command->property = g_strdup(property);
	command->value = value != NULL ? g_variant_ref_sink(value) : NULL;
	return command;
}

static WbdMqttCommand *
parse_member(const gchar *key, JsonNode *node, GError **error)
{
	gboolean on = FALSE, toggle = FALSE;
	const gchar *text = node_string(node);

	if (g_str_equal(key, "state")) {
		WbdMqttCommand *command;
		if (!parse_on_off(node, key, &on, &toggle, error))
			return NULL;
		command = command_new("On", toggle ? NULL : g_variant_new_boolean(on));
		command->toggle = toggle;
		return command;
	}
	if (g_str_equal(key, "switch")) {
		if (!parse_on_off(node, key, &on, NULL, error))
			return NULL;
		return command_new("Switch", g_variant_new_boolean(on));
	}
	if (g_str_equal(key, "valve")) {
		g_autofree gchar *state = NULL;
		if (text == NULL) {
			wbd_config_invalid(error,
				"valve must be \"OPEN\" or \"CLOSE\" (or \"opened\", \"closed\")");
			return NULL;
		}
		state = valve_state(text);
		return command_new("Valve", g_variant_new_string(state));
	}
	if (g_str_equal(key, "valve_openness") || g_str_equal(key, "position")) {
		GType type = JSON_NODE_HOLDS_VALUE(node) ? json_node_get_value_type(node)
							 : G_TYPE_INVALID;
		gdouble value;
		if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE) {
			wbd_config_invalid(error, "valve_openness must be a number from 0 to 100");
			return NULL;
		}
		value = json_node_get_double(node);
		if (!(value >= 0 && value <= G_MAXUINT32) || value != floor(value)) {
			wbd_config_invalid(error, "valve_openness must be a whole number from 0 to 100");
			return NULL;
		}
		return command_new("ValveOpenness", g_variant_new_uint32((guint32)value));
	}
	if (g_str_equal(key, "cold_sharing_type") || g_str_equal(key, "hot_sharing_type")) {
		if (text == NULL) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "%s must be a string",
				    key);
			return NULL;
		}
		return command_new(key[0] == 'c' ? "ColdSharingType" : "HotSharingType",
				   g_variant_new_string(text));
	}
	/* quoted back to the sender: UTF-8 (json-glib lets some escapes through as bytes), short */
	g_autofree gchar *shown = g_utf8_make_valid(key, MIN(strlen(key), 64));
	g_set_error(error,
		    WATTBUS_ERROR,
		    WATTBUS_ERROR_NOT_SUPPORTED,
		    "Unknown command \"%s\" (known: state, switch, valve, valve_openness, "
		    "cold_sharing_type, hot_sharing_type)",
		    shown);
	return NULL;
}

/**
 * wbd_mqtt_parse_command:
 * @payload: (array length=length): what arrived on `PREFIX/DEVICE/set`, not
 *   NUL-terminated
 *
 * Parses a JSON command object, e.g. `{"state":"TOGGLE"}` or `{"valve":"CLOSE"}`;
 * the key `id` (a string or a number) is returned in @id, to be echoed in the reply.
 *
 * Returns: (transfer full) (element-type WbdMqttCommand): the commands in the order
 *   given, or %NULL with a %WATTBUS_ERROR_INVALID_ARGUMENT or
 *   %WATTBUS_ERROR_NOT_SUPPORTED error
 */
static GPtrArray *
parse_command(const gchar *payload, gsize length, gchar **id, gchar **device, GError **error);

GPtrArray *
wbd_mqtt_parse_command(const gchar *payload, gsize length, gchar **id, GError **error)
{
	return parse_command(payload, length, id, NULL, error);
}

/**
 * wbd_mqtt_parse_device_command:
 * @device: (out) (transfer full): the member `device`, a string, required
 *
 * Like wbd_mqtt_parse_command(), for the clouds where the topic does not name the
 * device: `{"device":"plug1","state":"OFF"}`.
 */
GPtrArray *
wbd_mqtt_parse_device_command(const gchar *payload,
			      gsize length,
			      gchar **id,
			      gchar **device,
			      GError **error)
{
	g_autoptr(GPtrArray) commands = parse_command(payload, length, id, device, error);

	if (commands != NULL && *device == NULL) {
		wbd_config_invalid(error,
				   "The command names no device, e.g. "
				   "{\"device\":\"plug1\",\"state\":\"ON\"}");
		return NULL;
	}
	return g_steal_pointer(&commands);
}

/**
 * wbd_mqtt_parse_plain_command:
 * @payload: (array length=length): a bare word, any case, surrounding white space
 *   ignored: `on`, `off`, `toggle` (the outlet), `open`, `close` (the valve)
 *
 * For users who send plain words: `kind=mqtt`'s `/set` (as Zigbee2MQTT takes them) and Azure
 * IoT Hub's cloud-to-device `on`/`off`.
 *
 * Returns: (transfer full) (element-type WbdMqttCommand) (nullable): the command, or
 *   %NULL when @payload is not one of those words (no error: it may be JSON)
 */
GPtrArray *
wbd_mqtt_parse_plain_command(const gchar *payload, gsize length)
{
	static const struct {
		const gchar *word;
		const gchar *json;
	} words[] = {
	    {"on", "{\"state\":\"ON\"}"},
	    {"off", "{\"state\":\"OFF\"}"},
	    {"toggle", "{\"state\":\"TOGGLE\"}"},
	    {"open", "{\"valve\":\"opened\"}"},
	    {"close", "{\"valve\":\"closed\"}"},
	};
	g_autofree gchar *word = NULL;

	if (length == 0 || length > 16)
		return NULL;
	word = g_strstrip(g_strndup(payload, length));
	for (guint i = 0; i < G_N_ELEMENTS(words); i++) {
		if (g_ascii_strcasecmp(word, words[i].word) == 0)
			return parse_command(words[i].json, strlen(words[i].json), NULL, NULL, NULL);
	}
	return NULL;
}

void
wbd_mqtt_desired_free(WbdMqttDesired *desired)
{
	g_free(desired->device);
	g_clear_pointer(&desired->commands, g_ptr_array_unref);
	g_clear_error(&desired->error);
	g_free(desired);
}

static WbdMqttDesired *
parse_desired(const gchar *device, JsonNode *node)
{
	WbdMqttDesired *desired = g_new0(WbdMqttDesired, 1);
	g_autofree gchar *json = NULL;

	/* a member name: json-glib lets some escapes through as bytes that are not UTF-8 */
	desired->device = g_utf8_make_valid(device, -1);
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		wbd_config_invalid(&desired->error,
				   "The desired state of a device is an object, e.g. "
				   "{\"state\":\"OFF\"}");
		return desired;
	}
	/* the same keys and values as a command, from the same parser */
	json = json_to_string(node, FALSE);
	desired->commands = parse_command(json, strlen(json), NULL, NULL, &desired->error);
	for (guint i = 0; desired->commands != NULL && i < desired->commands->len; i++) {
		WbdMqttCommand *command = g_ptr_array_index(desired->commands, i);
		if (command->toggle) {
			g_clear_pointer(&desired->commands, g_ptr_array_unref);
			wbd_config_invalid(&desired->error,
					   "A desired state cannot be TOGGLE: give ON or OFF");
		}
	}
	return desired;
}

/**
 * wbd_mqtt_parse_desired:
 * @devices: (nullable): the member `devices` of a desired-state document (Azure's
 *   desired properties, IoT Core's config): `{"plug1":{"state":"OFF"},"wm":{"valve":
 *   "closed"}}`, each device's desired state in the keys of a command
 *
 * The envelope (its size, `$version`, ...) is the kind's. A member that is `null` (a
 * deleted key) is left out; an entry that is not valid (not an object, TOGGLE, a bad
 * key or value) has its own error, the others stand.
 *
 * Returns: (transfer full) (element-type WbdMqttDesired): one per device named, in the
 *   order of their ids; none for a %NULL @devices
 */
GPtrArray *
wbd_mqtt_parse_desired(JsonObject *devices)
{
	GPtrArray *desired = g_ptr_array_new_with_free_func((GDestroyNotify)wbd_mqtt_desired_free);
	g_autoptr(GList) ids = devices != NULL ? json_object_get_members(devices) : NULL;

	ids = g_list_sort(ids, (GCompareFunc)strcmp);
	for (GList *l = ids; l != NULL; l = l->next) {
		JsonNode *node = json_object_get_member(devices, l->data);
		if (!JSON_NODE_HOLDS_NULL(node))
			g_ptr_array_add(desired, parse_desired(l->data, node));
	}
	return desired;
}

static GPtrArray *
parse_command(const gchar *payload, gsize length, gchar **id, gchar **device, GError **error)
{
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GPtrArray) commands =
	    g_ptr_array_new_with_free_func((GDestroyNotify)wbd_mqtt_command_free);
	JsonObject *object;
	g_autoptr(GList) members = NULL;

	if (length > WBD_MQTT_MAX_COMMAND) {
		wbd_config_invalid(error, "The command is too long");
		return NULL;
	}
	/* bounded: hostile input from the broker */
	root = length > 0 ? wbd_json_parse_object(payload, length, NULL) : NULL;
	if (root == NULL) {
		wbd_config_invalid(error, "A command is a JSON object, e.g. {\"state\":\"ON\"}");
		return NULL;
	}
	object = json_node_get_object(root);
	if (id != NULL && json_object_has_member(object, "id")) {
		JsonNode *node = json_object_get_member(object, "id");
		GType type =
		    JSON_NODE_HOLDS_VALUE(node) ? json_node_get_value_type(node) : G_TYPE_NONE;
		if (type == G_TYPE_STRING)
			*id = g_strdup(node_string(node));
		else if (type == G_TYPE_INT64)
			*id = g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(node));
	}
	if (device != NULL) {
		JsonNode *node = json_object_get_member(object, "device");
		*device = node != NULL ? g_strdup(node_string(node)) : NULL;
	}
	members = json_object_get_members(object);
	for (GList *l = members; l != NULL; l = l->next) {
		WbdMqttCommand *command;
		if (g_str_equal(l->data, "id") || (device != NULL && g_str_equal(l->data, "device")))
			continue;
		command = parse_member(l->data, json_object_get_member(object, l->data), error);
		if (command == NULL)
			return NULL;
		g_ptr_array_add(commands, command);
	}
	if (commands->len == 0) {
		wbd_config_invalid(error, "The command is empty, e.g. {\"state\":\"ON\"}");
		return NULL;
	}
	return g_steal_pointer(&commands);
}

/**
 * wbd_mqtt_result_json:
 * @id: (nullable): the command's `id`, echoed
 * @error: (nullable): why it failed, or %NULL
 * @state: (nullable): the device's state after the command
 *
 * Returns: `{"status":"ok","state":{...}}` or `{"status":"error","error":"InvalidArgument",
 *   "message":"..."}` (the error name of org.wattbus.Wattbus1.Error)
 */
gchar *
wbd_mqtt_result_json(const gchar *id, const GError *error, JsonObject *state)
{
	g_autoptr(JsonObject) head = json_object_new();
	g_autofree gchar *head_json = NULL;

	if (id != NULL)
		json_object_set_string_member(head, "id", id);
	json_object_set_string_member(head, "status", error == NULL ? "ok" : "error");
	if (error != NULL) {
		g_autofree gchar *name = g_dbus_error_encode_gerror(error);
		const gchar *dot = strrchr(name, '.');
		gboolean ours = error->domain == WATTBUS_ERROR && dot != NULL;
		json_object_set_string_member(head, "error", ours ? dot + 1 : "Failed");
		json_object_set_string_member(head, "message", error->message);
	}
	head_json = wbd_mqtt_state_to_json(head);
	if (error != NULL || state == NULL)
		return g_steal_pointer(&head_json);
	/* {"status":"ok"} + ,"state":{...}} */
	{
		g_autofree gchar *state_json = wbd_mqtt_state_to_json(state);
		head_json[strlen(head_json) - 1] = '\0';
		return g_strdup_printf("%s,\"state\":%s}", head_json, state_json);
	}
}

/**
 * wbd_mqtt_error_status:
 * @error: (nullable): a command's failure
 *
 * Returns: the HTTP-style status the clouds' replies carry (Azure's direct methods,
 *   the results of the others): 200 for %NULL, 404 an unknown device, 400 a bad
 *   value or command, 501 not supported by the device, 503 device offline, 504 time-out,
 *   403 not allowed, 500 anything else
 */
gint
wbd_mqtt_error_status(const GError *error)
{
	if (error == NULL)
		return 200;
	if (error->domain != WATTBUS_ERROR)
		return 500;
	switch (error->code) {
	case WATTBUS_ERROR_NOT_FOUND:
		return 404;
	case WATTBUS_ERROR_INVALID_ARGUMENT:
		return 400;
	case WATTBUS_ERROR_NOT_SUPPORTED:
		return 501;
	case WATTBUS_ERROR_DEVICE_OFFLINE:
		return 503;
	case WATTBUS_ERROR_TIMEOUT:
		return 504;
	case WATTBUS_ERROR_PERMISSION_DENIED:
		return 403;
	default:
		return 500;
	}
}

/**
 * wbd_mqtt_telemetry_json:
 * @device: the device id
 * @time_us: the reading's time (Unix µs)
 * @values_json: a spool record's values
 *
 * Returns: the telemetry message of the clouds: `{"device":"plug1",
 *   "time":"2026-11-21T10:00:00.250Z","power":12.5,"state":"ON","online":true}`, the
 *   values named as in the `mqtt` kind's state (wbd_mqtt_state_merge())
 */
gchar *
wbd_mqtt_telemetry_json(const gchar *device, gint64 time_us, const gchar *values_json)
{
	g_autoptr(JsonObject) message = json_object_new();
	g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc(time_us / G_USEC_PER_SEC);
	g_autofree gchar *stamp = NULL;
	gint online = -1;

	json_object_set_string_member(message, "device", device);
	if (time != NULL) {
		g_autofree gchar *seconds = g_date_time_format(time, "%Y-%m-%dT%H:%M:%S");
		stamp = g_strdup_printf("%s.%03dZ", seconds, (gint)((time_us % G_USEC_PER_SEC) / 1000));
		json_object_set_string_member(message, "time", stamp);
	}
	wbd_mqtt_state_merge(message, values_json, &online);
	if (online >= 0)
		json_object_set_boolean_member(message, "online", online);
	return wbd_mqtt_state_to_json(message);
}
