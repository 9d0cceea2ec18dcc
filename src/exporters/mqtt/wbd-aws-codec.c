/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-aws-codec.h"
#include "wbd-json.h"
#include "wbd-mqtt-codec.h"

/*
 * The pure part of kind=aws-iot (shared/specs/mqtt-clouds.md §2): the telemetry topic
 * with AWS's limits, the named shadows' topics, and the documents AWS's shadow service
 * sends (§2.4): a delta, a get/accepted document, a rejection. Everything that arrives
 * is hostile: bounded, type-checked, never trusted to be UTF-8 beyond what json-glib
 * checked.
 */

#define SHADOW_PREFIX "$aws/things/"
#define SHADOW_NAME "/shadow/name/"

/**
 * wbd_aws_shadow_topic:
 * @suffix: e.g. `get`, `update`
 *
 * Returns: (transfer full): `$aws/things/THING/shadow/name/SHADOW/SUFFIX`; @shadow
 *   may be `+` for a subscription
 */
gchar *
wbd_aws_shadow_topic(const gchar *thing, const gchar *shadow, const gchar *suffix)
{
	return g_strconcat(SHADOW_PREFIX, thing, SHADOW_NAME, shadow, "/", suffix, NULL);
}

/**
 * wbd_aws_shadow_name_is_valid:
 *
 * Returns: whether AWS takes @name as a shadow name: 1 to 64 of `A-Z a-z 0-9 : _ -`
 */
gboolean
wbd_aws_shadow_name_is_valid(const gchar *name)
{
	gsize length = name != NULL ? strlen(name) : 0;

	if (length == 0 || length > 64)
		return FALSE;
	for (gsize i = 0; i < length; i++) {
		if (!g_ascii_isalnum(name[i]) && strchr(":_-", name[i]) == NULL)
			return FALSE;
	}
	return TRUE;
}

/**
 * wbd_aws_shadow_parse_topic:
 * @shadow: (out) (transfer full) (optional): the shadow's name (= the device id) when
 *   the topic is one of ours
 *
 * Returns: what the message on @topic is, %WBD_AWS_SHADOW_NONE for any other topic
 */
WbdAwsShadowMessage
wbd_aws_shadow_parse_topic(const gchar *topic, const gchar *thing, gchar **shadow)
{
	static const struct {
		const gchar *suffix;
		WbdAwsShadowMessage kind;
	} kinds[] = {
	    {"update/delta", WBD_AWS_SHADOW_DELTA},
	    {"get/accepted", WBD_AWS_SHADOW_GET_ACCEPTED},
	    {"get/rejected", WBD_AWS_SHADOW_GET_REJECTED},
	    {"update/rejected", WBD_AWS_SHADOW_UPDATE_REJECTED},
	};
	g_autofree gchar *prefix = g_strconcat(SHADOW_PREFIX, thing, SHADOW_NAME, NULL);
	g_autofree gchar *name = NULL;
	const gchar *rest;
	const gchar *slash;

	if (shadow != NULL)
		*shadow = NULL;
	if (topic == NULL || !g_str_has_prefix(topic, prefix))
		return WBD_AWS_SHADOW_NONE;
	rest = topic + strlen(prefix);
	slash = strchr(rest, '/');
	if (slash == NULL)
		return WBD_AWS_SHADOW_NONE;
	name = g_strndup(rest, slash - rest);
	if (!wbd_aws_shadow_name_is_valid(name))
		return WBD_AWS_SHADOW_NONE;
	for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
		if (g_str_equal(slash + 1, kinds[i].suffix)) {
			if (shadow != NULL)
				*shadow = g_steal_pointer(&name);
			return kinds[i].kind;
		}
	}
	return WBD_AWS_SHADOW_NONE;
}

/* {thing} and {device} replaced, in one pass (neither is looked at again) */
static gchar *
expand(const gchar *template, const gchar *thing, const gchar *device)
{
	GString *out = g_string_new(NULL);

	for (const gchar *p = template; *p != '\0';) {
		if (g_str_has_prefix(p, "{thing}")) {
			g_string_append(out, thing);
			p += strlen("{thing}");
		} else if (g_str_has_prefix(p, "{device}")) {
			g_string_append(out, device);
			p += strlen("{device}");
		} else {
			g_string_append_c(out, *p++);
		}
	}
	return g_string_free(out, FALSE);
}

/* a topic AWS takes for a publish: ≤ 256 bytes, ≤ 7 '/', no wildcards, no empty
 * level, not a reserved `$` topic */
static gboolean
topic_ok(const gchar *topic, GError **error)
{
	g_auto(GStrv) levels = g_strsplit(topic, "/", -1);
	guint slashes = g_strv_length(levels) - 1;

	if (strlen(topic) > WBD_AWS_MAX_TOPIC || slashes > WBD_AWS_MAX_SLASHES) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "the topic would have %u '/' and %zu bytes (AWS allows %d and %d)",
			    slashes,
			    strlen(topic),
			    WBD_AWS_MAX_SLASHES,
			    WBD_AWS_MAX_TOPIC);
		return FALSE;
	}
	for (guint i = 0; levels[i] != NULL; i++) {
		if (!wbd_mqtt_topic_is_valid_level(levels[i])) {
			g_set_error_literal(error,
					    WATTBUS_ERROR,
					    WATTBUS_ERROR_INVALID_ARGUMENT,
					    "the topic would have a '+', '#', an empty level or "
					    "a level starting with '$'");
			return FALSE;
		}
	}
	return TRUE;
}

/**
 * wbd_aws_check_topic_template:
 *
 * Checks `telemetry-topic` with the thing name and a one-character device id: what
 * every device adds beyond that is checked per device by wbd_aws_telemetry_topic().
 */
gboolean
wbd_aws_check_topic_template(const gchar *template, const gchar *thing, GError **error)
{
	g_autofree gchar *topic = expand(template, thing, "d");
	g_autoptr(GError) local_error = NULL;

	if (topic_ok(topic, &local_error))
		return TRUE;
	g_set_error(
	    error,
	    WATTBUS_ERROR,
	    WATTBUS_ERROR_INVALID_ARGUMENT,
	    "telemetry-topic is not valid: %s (e.g. telemetry-topic=wattbus/{thing}/{device})",
	    local_error->message);
	return FALSE;
}

/**
 * wbd_aws_telemetry_topic:
 *
 * Returns: (transfer full) (nullable): @template with `{thing}` and `{device}`
 *   replaced, or %NULL with @error when AWS would refuse the topic
 */
gchar *
wbd_aws_telemetry_topic(const gchar *template,
			const gchar *thing,
			const gchar *device,
			GError **error)
{
	g_autofree gchar *topic = expand(template, thing, device);

	if (!topic_ok(topic, error))
		return NULL;
	return g_steal_pointer(&topic);
}

static JsonNode *
parse_document(const gchar *payload, gsize length, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	JsonNode *root;

	if (length > WBD_AWS_MAX_DOCUMENT) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "the shadow document is too long");
		return NULL;
	}
	root = wbd_json_parse_object(payload, length, &local_error);
	if (root == NULL)
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "the shadow document is not a JSON object: %s",
			    local_error->message);
	return root;
}

/* a whole number ≥ 0 (shadow versions start at 1) */
static gboolean
get_version(JsonObject *object, gint64 *version, GError **error)
{
	JsonNode *node = json_object_get_member(object, "version");

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_INT64 || json_node_get_int(node) < 0) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "the shadow document has no version");
		return FALSE;
	}
	*version = json_node_get_int(node);
	return TRUE;
}

/**
 * wbd_aws_parse_delta:
 * @payload: (array length=length): what arrived on `.../update/delta`:
 *   `{"version":N,"timestamp":T,"state":{...},"metadata":{...}}`
 * @state: (out) (transfer full): the `state` object as JSON: the desired values that
 *   differ from the reported ones, a command in the shared format
 */
gboolean
wbd_aws_parse_delta(const gchar *payload,
		    gsize length,
		    gint64 *version,
		    gchar **state,
		    GError **error)
{
	g_autoptr(JsonNode) root = parse_document(payload, length, error);
	JsonNode *node;

	*state = NULL;
	if (root == NULL || !get_version(json_node_get_object(root), version, error))
		return FALSE;
	node = json_object_get_member(json_node_get_object(root), "state");
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "the delta has no state object");
		return FALSE;
	}
	*state = json_to_string(node, FALSE);
	return TRUE;
}

/**
 * wbd_aws_parse_get_accepted:
 * @payload: (array length=length): the whole shadow document from `.../get/accepted`:
 *   `{"state":{"desired":{...},"reported":{...},"delta":{...}},"metadata":{...},
 *   "version":N,"timestamp":T}`
 * @delta: (out) (transfer full) (nullable): `state.delta` as JSON, %NULL when desired
 *   and reported agree
 * @reported: (out) (transfer full) (nullable): `state.reported`
 */
gboolean
wbd_aws_parse_get_accepted(const gchar *payload,
			   gsize length,
			   gint64 *version,
			   gchar **delta,
			   JsonObject **reported,
			   GError **error)
{
	g_autoptr(JsonNode) root = parse_document(payload, length, error);
	JsonObject *state;
	JsonObject *object;

	*delta = NULL;
	*reported = NULL;
	if (root == NULL || !get_version(json_node_get_object(root), version, error))
		return FALSE;
	state = wbd_json_get_object(json_node_get_object(root), "state");
	if (state == NULL)
		return TRUE;
	object = wbd_json_get_object(state, "delta");
	if (object != NULL) {
		g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), object);
		*delta = json_to_string(node, FALSE);
	}
	object = wbd_json_get_object(state, "reported");
	if (object != NULL)
		*reported = json_object_ref(object);
	return TRUE;
}

/**
 * wbd_aws_parse_rejected:
 * @payload: (array length=length): `{"code":404,"message":"No shadow exists with name:
 *   'plug1'","clientToken":...}` from `.../get/rejected` or `.../update/rejected`
 * @message: (out) (transfer full) (nullable): AWS's message, when there is one
 */
gboolean
wbd_aws_parse_rejected(const gchar *payload,
		       gsize length,
		       gint *code,
		       gchar **message,
		       GError **error)
{
	g_autoptr(JsonNode) root = parse_document(payload, length, error);
	JsonObject *object;
	JsonNode *node;

	*message = NULL;
	if (root == NULL)
		return FALSE;
	object = json_node_get_object(root);
	node = json_object_get_member(object, "code");
	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_INT64 || json_node_get_int(node) < 100 ||
	    json_node_get_int(node) > 999) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "the rejection has no code");
		return FALSE;
	}
	*code = (gint)json_node_get_int(node);
	*message = g_strdup(wbd_json_get_string(object, "message"));
	return TRUE;
}

/**
 * wbd_aws_delta_commands:
 * @state: the `state` of a delta, as JSON
 * @refused: (out) (transfer full) (nullable): why keys were refused (`key: reason; ...`),
 *   %NULL when none was
 *
 * Each key of the delta on its own through wbd_mqtt_parse_command() (`{"state":"OFF"}`,
 * `{"valve":"closed"}`): what the device supports is applied, the rest is refused
 * without stopping the rest (spec §2.4 step 3).
 *
 * Returns: (transfer full) (element-type WbdMqttCommand): the commands, maybe none
 */
GPtrArray *
wbd_aws_delta_commands(const gchar *state, gchar **refused)
{
	GPtrArray *commands = g_ptr_array_new_with_free_func((GDestroyNotify)wbd_mqtt_command_free);
	g_autoptr(JsonNode) root = state != NULL ? wbd_json_parse_object(state, strlen(state), NULL)
						 : NULL;
	g_autoptr(GString) why = g_string_new(NULL);
	g_autoptr(GList) members = NULL;
	JsonObject *object;

	*refused = NULL;
	if (root == NULL) {
		*refused = g_strdup("the delta is not a JSON object");
		return commands;
	}
	object = json_node_get_object(root);
	members = json_object_get_members(object);
	for (GList *l = members; l != NULL; l = l->next) {
		g_autoptr(JsonObject) one = json_object_new();
		g_autoptr(JsonNode) node = NULL;
		g_autofree gchar *json = NULL;
		g_autoptr(GPtrArray) parsed = NULL;
		g_autoptr(GError) error = NULL;

		json_object_set_member(one,
				       l->data,
				       json_node_copy(json_object_get_member(object, l->data)));
		node = json_node_init_object(json_node_alloc(), one);
		json = json_to_string(node, FALSE);
		parsed = wbd_mqtt_parse_command(json, strlen(json), NULL, &error);
		if (parsed == NULL) {
			g_string_append_printf(why,
					       "%s%s: %s",
					       why->len > 0 ? "; " : "",
					       (const gchar *)l->data,
					       error->message);
			continue;
		}
		while (parsed->len > 0)
			g_ptr_array_add(commands, g_ptr_array_steal_index(parsed, 0));
	}
	if (why->len > 0)
		*refused = g_strdup(why->str);
	return commands;
}

/**
 * wbd_aws_reported_json:
 * @state: the device's slow state (wbd_mqtt_cloud_device_state())
 *
 * Returns: (transfer full): the shadow update `{"state":{"reported":{...}}}`
 */
gchar *
wbd_aws_reported_json(JsonObject *state)
{
	g_autoptr(JsonObject) outer = json_object_new();
	g_autoptr(JsonObject) inner = json_object_new();
	g_autoptr(JsonNode) node = json_node_alloc();

	json_object_set_object_member(inner, "reported", json_object_ref(state));
	json_object_set_object_member(outer, "state", g_steal_pointer(&inner));
	json_node_init_object(node, outer);
	return json_to_string(node, FALSE);
}

/**
 * wbd_aws_reported_matches:
 * @reported: (nullable): the shadow's `state.reported`
 *
 * Returns: %TRUE when @reported already holds every value of @state
 */
gboolean
wbd_aws_reported_matches(JsonObject *reported, JsonObject *state)
{
	g_autoptr(GList) members = NULL;

	if (reported == NULL)
		return FALSE;
	members = json_object_get_members(state);
	for (GList *l = members; l != NULL; l = l->next) {
		JsonNode *have = json_object_get_member(reported, l->data);
		if (have == NULL || !json_node_equal(have, json_object_get_member(state, l->data)))
			return FALSE;
	}
	return TRUE;
}
