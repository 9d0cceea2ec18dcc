/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-json.h"
#include "wbd-tuya-codec.h"
#include "wbd-tuya-gateway.h"

/*
 * The JSON side of the Tuya protocol: reading the DPs out of what a device sends,
 * and building what we send (compact, keys in tinytuya's order). The framing and the
 * crypto are in wbd-tuya-codec.c.
 */

#define MAX_STRING_CHARS 1024
#define MAX_TEXT_CHARS 128

/* payloads */

/* hostile strings: valid UTF-8, bounded, no control characters */
static gchar *
clean_string(const gchar *value, gsize max_chars)
{
	g_autofree gchar *valid = g_utf8_make_valid(value, -1);
	for (gchar *p = valid; *p != '\0'; p++) {
		if ((guchar)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	if (g_utf8_strlen(valid, -1) > (glong)max_chars)
		return g_utf8_substring(valid, 0, (glong)max_chars);
	return g_steal_pointer(&valid);
}

/**
 * wbd_tuya_payload_to_text:
 *
 * Returns: (transfer full): a payload that is not JSON (an error string) made fit for
 *   a log line or an error message
 */
gchar *
wbd_tuya_payload_to_text(const guint8 *plain, gsize len)
{
	g_autofree gchar *raw = NULL;
	g_autofree gchar *clean = NULL;

	if (plain == NULL || len == 0)
		return g_strdup("");
	raw = g_strndup((const gchar *)plain, MIN(len, 4 * MAX_TEXT_CHARS));
	clean = clean_string(raw, MAX_TEXT_CHARS);
	return g_strdup(g_strstrip(clean));
}

static GVariant *
json_to_variant(JsonNode *node)
{
	if (JSON_NODE_HOLDS_VALUE(node)) {
		GType type = json_node_get_value_type(node);
		if (type == G_TYPE_BOOLEAN)
			return g_variant_new_boolean(json_node_get_boolean(node));
		if (type == G_TYPE_INT64)
			return g_variant_new_int64(json_node_get_int(node));
		if (type == G_TYPE_DOUBLE) {
			gdouble d = json_node_get_double(node);
			return isfinite(d) ? g_variant_new_double(d) : NULL;
		}
		if (type == G_TYPE_STRING) {
			g_autofree gchar *s = clean_string(json_node_get_string(node), MAX_STRING_CHARS);
			return g_variant_new_string(s);
		}
		return NULL;
	}
	if (JSON_NODE_HOLDS_OBJECT(node) || JSON_NODE_HOLDS_ARRAY(node)) {
		g_autofree gchar *text = json_to_string(node, FALSE);
		g_autofree gchar *s = clean_string(text, MAX_STRING_CHARS);
		return g_variant_new_string(s);
	}
	return NULL; /* null: "no value" in device22 answers */
}

static gboolean
is_dp_id(const gchar *id)
{
	gsize len = strlen(id);
	if (len == 0 || len > 32 || !g_utf8_validate(id, -1, NULL))
		return FALSE;
	for (const gchar *p = id; *p != '\0'; p++) {
		if ((guchar)*p < 0x20 || *p == 0x7f)
			return FALSE;
	}
	return TRUE;
}

/* DP ids in numeric order, for GPtrArray sorting */
gint
wbd_tuya_compare_dp_ids(gconstpointer a, gconstpointer b)
{
	const gchar *x = *(const gchar **)a;
	const gchar *y = *(const gchar **)b;
	guint64 nx = g_ascii_strtoull(x, NULL, 10);
	guint64 ny = g_ascii_strtoull(y, NULL, 10);
	if (nx != ny)
		return nx < ny ? -1 : 1;
	return strcmp(x, y);
}

/**
 * wbd_tuya_json_parse:
 *
 * Parses a device's JSON object with the daemon's guarded parser, after making it
 * valid UTF-8: a device once sent raw 0xFF bytes inside a JSON string, and the rest of
 * its DPs are worth keeping.
 *
 * Returns: (transfer full) (nullable): the object node
 */
JsonNode *
wbd_tuya_json_parse(const guint8 *text, gsize len, GError **error)
{
	g_autofree gchar *valid = NULL;

	if (text != NULL && len > 0 && memchr(text, '\0', len) == NULL &&
	    !g_utf8_validate_len((const gchar *)text, len, NULL)) {
		valid = g_utf8_make_valid((const gchar *)text, (gssize)len);
		text = (const guint8 *)valid;
		len = strlen(valid);
	}
	return wbd_json_parse_object((const gchar *)text, len, error);
}

/**
 * wbd_tuya_payload_parse:
 * @has_dps: (out): whether the payload carried a `dps` object (at the top or in `data`)
 *
 * Reads a decrypted JSON payload. DP values become b, x, d or s (objects and arrays
 * as their JSON text); nulls are left out.
 *
 * Returns: (transfer full) (nullable): an a{sv} of DP id to value, sorted by id, or
 *   %NULL with @error when the payload is not a JSON object
 */
GVariant *
wbd_tuya_payload_parse(const guint8 *plain, gsize len, gboolean *has_dps, GError **error)
{
	return wbd_tuya_payload_parse_with_meta(plain, len, has_dps, NULL, error);
}

/**
 * wbd_tuya_payload_parse_with_meta:
 * @meta: (out) (optional) (transfer full): wbd_tuya_payload_get_meta() of the same
 *   payload, from the same parse (one JSON parse a frame, not three)
 *
 * wbd_tuya_payload_parse() and wbd_tuya_payload_get_meta() together.
 */
GVariant *
wbd_tuya_payload_parse_with_meta(const guint8 *plain,
				 gsize len,
				 gboolean *has_dps,
				 GVariant **meta,
				 GError **error)
{
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(GPtrArray) ids = g_ptr_array_new();
	GVariantBuilder builder;
	JsonObject *root;
	JsonObject *dps;

	*has_dps = FALSE;
	if (meta != NULL)
		*meta = NULL;
	if (len == 0) {
		if (meta != NULL)
			*meta = g_variant_ref_sink(wbd_tuya_payload_meta_of(NULL));
		return g_variant_ref_sink(g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0));
	}
	node = wbd_tuya_json_parse(plain, len, NULL);
	if (node == NULL) {
		g_autofree gchar *text = wbd_tuya_payload_to_text(plain, len);
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_FAILED,
			    "The device sent something that is not a JSON object: \"%s\"",
			    text);
		return NULL;
	}
	root = json_node_get_object(node);
	if (meta != NULL)
		*meta = g_variant_ref_sink(wbd_tuya_payload_meta_of(root));
	dps = wbd_json_get_object(root, "dps");
	if (dps == NULL)
		dps = wbd_json_get_object(wbd_json_get_object(root, "data"), "dps");
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a{sv}"));
	if (dps != NULL) {
		g_autoptr(GList) members = json_object_get_members(dps);
		*has_dps = TRUE;
		for (GList *l = members; l != NULL; l = l->next) {
			if (is_dp_id(l->data) && ids->len < WBD_TUYA_MAX_DPS)
				g_ptr_array_add(ids, l->data);
		}
		g_ptr_array_sort(ids, wbd_tuya_compare_dp_ids);
		for (guint i = 0; i < ids->len; i++) {
			const gchar *id = g_ptr_array_index(ids, i);
			GVariant *value = json_to_variant(json_object_get_member(dps, id));
			if (value != NULL)
				g_variant_builder_add(&builder, "{sv}", id, value);
		}
	}
	return g_variant_ref_sink(g_variant_builder_end(&builder));
}

/**
 * wbd_tuya_payload_get_time:
 *
 * Returns: the payload's `t` (the device's time, seconds since the epoch), or -1
 */
gint64
wbd_tuya_payload_get_time(const guint8 *plain, gsize len)
{
	g_autoptr(JsonNode) node = len > 0 ? wbd_tuya_json_parse(plain, len, NULL) : NULL;
	return wbd_tuya_payload_time_of(node != NULL ? json_node_get_object(node) : NULL);
}

/* wbd_tuya_payload_get_time() of a payload already parsed (@root nullable) */
gint64
wbd_tuya_payload_time_of(JsonObject *root)
{
	gdouble t;

	if (root == NULL || !wbd_json_get_number(root, "t", &t) || t < 0 || t > 1e12)
		return -1;
	return (gint64)t;
}

/* requests: compact JSON, keys in tinytuya's order */

void
wbd_tuya_json_append_string(GString *str, const gchar *value)
{
	g_string_append_c(str, '"');
	for (const gchar *p = value; *p != '\0'; p++) {
		guchar c = (guchar)*p;
		if (c == '"' || c == '\\')
			g_string_append_printf(str, "\\%c", c);
		else if (c < 0x20)
			g_string_append_printf(str, "\\u%04x", c);
		else
			g_string_append_c(str, (gchar)c);
	}
	g_string_append_c(str, '"');
}

/* Returns: %FALSE for a type a DP cannot hold */
gboolean
wbd_tuya_json_append_value(GString *str, GVariant *value)
{
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_VARIANT)) {
		g_autoptr(GVariant) inner = g_variant_get_variant(value);
		return wbd_tuya_json_append_value(str, inner);
	}
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN))
		g_string_append(str, g_variant_get_boolean(value) ? "true" : "false");
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT64))
		g_string_append_printf(str, "%" G_GINT64_FORMAT, g_variant_get_int64(value));
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT32))
		g_string_append_printf(str, "%d", g_variant_get_int32(value));
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32))
		g_string_append_printf(str, "%u", g_variant_get_uint32(value));
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING))
		wbd_tuya_json_append_string(str, g_variant_get_string(value, NULL));
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE("mv")))
		g_string_append(str, "null");
	else
		return FALSE;
	return TRUE;
}

guint32
wbd_tuya_query_command(WbdTuyaVersion version)
{
	return version >= WBD_TUYA_VERSION_3_4 ? WBD_TUYA_CMD_DP_QUERY_NEW : WBD_TUYA_CMD_DP_QUERY;
}

guint32
wbd_tuya_control_command(WbdTuyaVersion version)
{
	return version >= WBD_TUYA_VERSION_3_4 ? WBD_TUYA_CMD_CONTROL_NEW : WBD_TUYA_CMD_CONTROL;
}

gchar *
wbd_tuya_build_query(WbdTuyaVersion version, const gchar *dev_id, gint64 t)
{
	GString *str;
	if (version >= WBD_TUYA_VERSION_3_4)
		return g_strdup("{}");
	str = g_string_new("{\"gwId\":");
	wbd_tuya_json_append_string(str, dev_id);
	g_string_append(str, ",\"devId\":");
	wbd_tuya_json_append_string(str, dev_id);
	g_string_append(str, ",\"uid\":");
	wbd_tuya_json_append_string(str, dev_id);
	g_string_append_printf(str, ",\"t\":\"%" G_GINT64_FORMAT "\"}", t);
	return g_string_free(str, FALSE);
}

/* a{sv} of DP id to b, i, u, x or s as a JSON object; %FALSE for another type */
gboolean
wbd_tuya_json_append_dps(GString *str, GVariant *dps)
{
	GVariantIter iter;
	const gchar *id;
	GVariant *value;
	gboolean first = TRUE;

	g_string_append_c(str, '{');
	g_variant_iter_init(&iter, dps);
	while (g_variant_iter_next(&iter, "{&sv}", &id, &value)) {
		g_autoptr(GVariant) v = value;
		if (!first)
			g_string_append_c(str, ',');
		first = FALSE;
		wbd_tuya_json_append_string(str, id);
		g_string_append_c(str, ':');
		if (!wbd_tuya_json_append_value(str, v))
			return FALSE;
	}
	g_string_append_c(str, '}');
	return TRUE;
}

/**
 * wbd_tuya_build_control:
 * @dps: a{sv} of DP id to b, i, u, x or s
 *
 * Returns: (transfer full) (nullable): the JSON of a set, or %NULL for a value type
 *   that a DP cannot hold
 */
gchar *
wbd_tuya_build_control(WbdTuyaVersion version, const gchar *dev_id, gint64 t, GVariant *dps)
{
	g_autoptr(GString) str = g_string_new(NULL);
	if (version >= WBD_TUYA_VERSION_3_4) {
		g_string_append_printf(str,
				       "{\"protocol\":5,\"t\":%" G_GINT64_FORMAT ",\"data\":{\"dps\":",
				       t);
		if (!wbd_tuya_json_append_dps(str, dps))
			return NULL;
		g_string_append(str, "}}");
		return g_string_free(g_steal_pointer(&str), FALSE);
	}
	g_string_append(str, "{\"devId\":");
	wbd_tuya_json_append_string(str, dev_id);
	g_string_append(str, ",\"uid\":");
	wbd_tuya_json_append_string(str, dev_id);
	g_string_append_printf(str, ",\"t\":\"%" G_GINT64_FORMAT "\",\"dps\":", t);
	if (!wbd_tuya_json_append_dps(str, dps))
		return NULL;
	g_string_append_c(str, '}');
	return g_string_free(g_steal_pointer(&str), FALSE);
}

/* the read that "device22" devices answer: CONTROL_NEW naming the DPs with nulls */
gchar *
wbd_tuya_build_device22_query(const gchar *dev_id, gint64 t, const gchar *const *ids)
{
	GString *str = g_string_new("{\"devId\":");
	wbd_tuya_json_append_string(str, dev_id);
	g_string_append(str, ",\"uid\":");
	wbd_tuya_json_append_string(str, dev_id);
	g_string_append_printf(str, ",\"t\":\"%" G_GINT64_FORMAT "\",\"dps\":{", t);
	for (guint i = 0; ids != NULL && ids[i] != NULL; i++) {
		if (i > 0)
			g_string_append_c(str, ',');
		wbd_tuya_json_append_string(str, ids[i]);
		g_string_append(str, ":null");
	}
	g_string_append(str, "}}");
	return g_string_free(str, FALSE);
}

gchar *
wbd_tuya_build_heartbeat(const gchar *dev_id)
{
	GString *str = g_string_new("{\"gwId\":");
	wbd_tuya_json_append_string(str, dev_id);
	g_string_append(str, ",\"devId\":");
	wbd_tuya_json_append_string(str, dev_id);
	g_string_append_c(str, '}');
	return g_string_free(str, FALSE);
}

gchar *
wbd_tuya_build_update_dps(const guint *ids, guint n_ids)
{
	GString *str = g_string_new("{\"dpId\":[");
	for (guint i = 0; i < n_ids; i++)
		g_string_append_printf(str, "%s%u", i > 0 ? "," : "", ids[i]);
	g_string_append(str, "]}");
	return g_string_free(str, FALSE);
}
