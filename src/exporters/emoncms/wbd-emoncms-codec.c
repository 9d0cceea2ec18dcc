/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <json-glib/json-glib.h>

#include "wbd-emoncms-codec.h"
#include "wbd-value.h"
#include "wbd-exporter.h"

#define WBD_EMONCMS_MAX_MESSAGE 200

/*
 * EmonCMS keeps only Unicode letters and digits, '_', white space, '-' and '.' of
 * node and input names and silently drops the rest (/[^\p{N}\p{L}_\s\-.]/u), see
 * shared/specs/emoncms.md §4. We do the same before sending, so that what we send
 * is what EmonCMS stores, and replace white space with '_' besides: names with
 * spaces are valid but awkward in URLs and scripts.
 */
static gboolean
wbd_emoncms_is_name_char(gunichar c)
{
	switch (g_unichar_type(c)) {
	case G_UNICODE_LOWERCASE_LETTER:
	case G_UNICODE_MODIFIER_LETTER:
	case G_UNICODE_OTHER_LETTER:
	case G_UNICODE_TITLECASE_LETTER:
	case G_UNICODE_UPPERCASE_LETTER:
	case G_UNICODE_DECIMAL_NUMBER:
	case G_UNICODE_LETTER_NUMBER:
	case G_UNICODE_OTHER_NUMBER:
		return TRUE;
	default:
		return c == '_' || c == '-' || c == '.';
	}
}

/**
 * wbd_emoncms_make_name:
 * @text: any UTF-8 text (invalid sequences are dropped)
 * @max_bytes: the longest result, cut at a character boundary
 *
 * Returns: (transfer full): @text as EmonCMS would store it, white space as '_';
 *   empty when nothing is left
 */
gchar *
wbd_emoncms_make_name(const gchar *text, gsize max_bytes)
{
	g_autofree gchar *valid = g_utf8_make_valid(text != NULL ? text : "", -1);
	GString *name = g_string_new(NULL);

	for (const gchar *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		gchar buf[6];
		gint len;

		if (g_unichar_isspace(c))
			c = '_';
		else if (!wbd_emoncms_is_name_char(c))
			continue;
		len = g_unichar_to_utf8(c, buf);
		if (name->len + (gsize)len > max_bytes)
			break;
		g_string_append_len(name, buf, len);
	}
	return g_string_free(name, FALSE);
}

/**
 * wbd_emoncms_make_node:
 * @device_id: the id of a device without a parent (ids are unique and of letters,
 *   digits, '-' and '_', all of which EmonCMS keeps)
 *
 * The default node of a device: a function of its id alone, so that it is the same
 * at every start, whatever the order in which devices appear, and never another
 * device's. An id of up to 16 bytes is the node; a longer one is cut to 10 bytes and
 * followed by '_' and the first 5 hex digits of the SHA-256 of the whole id
 * (`solar-gateway-garage` → `solar-gate_1c5a9`).
 *
 * Returns: (transfer full): the node
 */
gchar *
wbd_emoncms_make_node(const gchar *device_id)
{
	g_autofree gchar *node = wbd_emoncms_make_name(device_id, strlen(device_id));
	g_autofree gchar *hash = NULL;
	g_autofree gchar *head = NULL;

	if (node[0] != '\0' && strlen(node) <= WBD_EMONCMS_MAX_NODE && g_str_equal(node, device_id))
		return g_steal_pointer(&node);
	hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, device_id, -1);
	head = wbd_emoncms_make_name(node, WBD_EMONCMS_MAX_NODE - 6);
	return g_strdup_printf("%s_%.5s", head, hash);
}

/**
 * wbd_emoncms_child_prefix:
 * @device_id: a child device (an outlet, an inverter, a gateway's meter)
 * @top_id: the device at the top of its family (the strip, the gateway)
 *
 * A child's values are inputs of its family's node, named PREFIX_NAME: the prefix is
 * the child's id without the top device's id and '_' (`envoy_inverter_1215` of
 * `envoy` → `inverter_1215`; `strip_3` of `strip` → `3`).
 *
 * Returns: (transfer full): the prefix, made valid for an input name
 */
gchar *
wbd_emoncms_child_prefix(const gchar *device_id, const gchar *top_id)
{
	gsize n = strlen(top_id);
	const gchar *rest = device_id;

	if (g_str_has_prefix(device_id, top_id) && device_id[n] == '_' && device_id[n + 1] != '\0')
		rest = device_id + n + 1;
	return wbd_emoncms_make_name(rest, WBD_EMONCMS_MAX_NAME / 2);
}

/**
 * wbd_emoncms_encode_values:
 * @values_json: a spool record's values (wbd_values_to_json())
 *
 * EmonCMS keeps numbers only: numbers go as they are, booleans as 1 and 0 (as
 * EmonCMS itself stores `true`); strings (a valve's state) and times are left out.
 *
 * @prefix: (nullable): for a child device, what its input names start with (then '_')
 *
 * Returns: (transfer full): the `fulljson` object: names made valid, a name that
 *   EmonCMS would take for the time (`time` in any case) followed by '_'; or %NULL
 *   when @values_json is not a JSON object
 */
gchar *
wbd_emoncms_encode_values(const gchar *values_json, const gchar *prefix, GError **error)
{
	g_autoptr(GPtrArray) values = wbd_values_parse(values_json, error);
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GString) out = g_string_new("{");

	if (values == NULL)
		return NULL;
	/* sorted by name */
	for (guint i = 0; i < values->len; i++) {
		const WbdValue *value = g_ptr_array_index(values, i);
		g_autofree gchar *full = prefix != NULL && prefix[0] != '\0'
					     ? g_strconcat(prefix, "_", value->name, NULL)
					     : g_strdup(value->name);
		g_autofree gchar *name = wbd_emoncms_make_name(full, WBD_EMONCMS_MAX_NAME - 1);
		g_autofree gchar *number = NULL;
		gdouble v;

		if (!wbd_value_get_number(value, &v) || name[0] == '\0')
			continue;
		if (g_ascii_strcasecmp(name, "time") == 0) {
			g_autofree gchar *renamed = g_strconcat(name, "_", NULL);
			g_free(name);
			name = g_steal_pointer(&renamed);
		}
		/* two names that EmonCMS would take for one: the first wins */
		if (!g_hash_table_add(seen, g_strdup(name)))
			continue;
		number = wbd_exporter_format_double(v);
		/* valid names have no quote, backslash or control character to escape */
		g_string_append_printf(out, "%s\"%s\":%s", out->len > 1 ? "," : "", name, number);
	}
	g_string_append_c(out, '}');
	return g_string_free(g_steal_pointer(&out), FALSE);
}

static gint64
time_seconds(gint64 time_us)
{
	/* EmonCMS wants whole seconds: milliseconds break it (§2) */
	return time_us >= 0 ? time_us / G_USEC_PER_SEC
			    : -((-time_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
}

/* the form body of input/post: node, fulljson, time in seconds */
gchar *
wbd_emoncms_encode_post(const gchar *node, const gchar *fulljson, gint64 time_us)
{
	g_autofree gchar *enc_node = g_uri_escape_string(node, NULL, FALSE);
	g_autofree gchar *enc_json = g_uri_escape_string(fulljson, NULL, FALSE);
	return g_strdup_printf("node=%s&fulljson=%s&time=%" G_GINT64_FORMAT,
			       enc_node,
			       enc_json,
			       time_seconds(time_us));
}

/* the form body of input/bulk (with time=0 in the URL: absolute times):
 * data=[[t,"node",{...}],...] */
gchar *
wbd_emoncms_encode_bulk(const gchar *const *nodes,
			const gchar *const *fulljsons,
			const gint64 *times_us,
			guint n_rows)
{
	g_autoptr(GString) data = g_string_new("[");
	g_autofree gchar *encoded = NULL;

	for (guint i = 0; i < n_rows; i++)
		g_string_append_printf(data,
				       "%s[%" G_GINT64_FORMAT ",\"%s\",%s]",
				       i > 0 ? "," : "",
				       time_seconds(times_us[i]),
				       nodes[i],
				       fulljsons[i]);
	g_string_append_c(data, ']');
	encoded = g_uri_escape_string(data->str, NULL, FALSE);
	return g_strconcat("data=", encoded, NULL);
}

/* what EmonCMS said, cleaned up for LastError and the log */
static gchar *
wbd_emoncms_clean_message(const gchar *text, gsize length)
{
	g_autofree gchar *valid = g_utf8_make_valid(text, length);
	g_autofree gchar *line = NULL;
	g_strstrip(valid);
	for (gchar *p = valid; *p != '\0'; p++) {
		if (g_ascii_iscntrl(*p))
			*p = ' ';
	}
	line = g_utf8_substring(valid, 0, MIN(g_utf8_strlen(valid, -1), WBD_EMONCMS_MAX_MESSAGE));
	return g_steal_pointer(&line);
}

/**
 * wbd_emoncms_check_reply:
 * @status: the HTTP status
 * @body: the reply body, not necessarily nul-terminated
 *
 * Checks a reply of input/post or input/bulk sent with `fulljson` (§2, §3): only
 * HTTP 2xx with `{"success": true}` is success. A refusal (a wrong key, an empty
 * reply to a read key, `{"success": false, "message": …}`, a client error) is a
 * %WBD_EXPORTER_ERROR_REFUSED error with EmonCMS's own message; a server error or
 * an unexpected reply is %WBD_EXPORTER_ERROR_FAILED, worth a retry.
 */
gboolean
wbd_emoncms_check_reply(guint status, const gchar *body, gsize length, GError **error)
{
	g_autofree gchar *message = wbd_emoncms_clean_message(body != NULL ? body : "", length);
	g_autofree gchar *full = g_utf8_make_valid(body != NULL ? body : "", length);
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonObject *object = NULL;

	if (status == 401 || status == 403) {
		g_set_error(error,
			    WBD_EXPORTER_ERROR,
			    WBD_EXPORTER_ERROR_REFUSED,
			    "EmonCMS refused the API key (HTTP %u): %s",
			    status,
			    message[0] != '\0' ? message : "no reason given");
		return FALSE;
	}
	if (status == 408 || status == 429 || status >= 500 || status < 200) {
		g_set_error(error,
			    WBD_EXPORTER_ERROR,
			    WBD_EXPORTER_ERROR_FAILED,
			    "EmonCMS answered HTTP %u",
			    status);
		return FALSE;
	}
	if (status >= 300) {
		g_set_error(error,
			    WBD_EXPORTER_ERROR,
			    WBD_EXPORTER_ERROR_REFUSED,
			    "EmonCMS answered HTTP %u: is the url that of EmonCMS?",
			    status);
		return FALSE;
	}
	if (message[0] == '\0') {
		g_set_error_literal(error,
				    WBD_EXPORTER_ERROR,
				    WBD_EXPORTER_ERROR_REFUSED,
				    "EmonCMS stored nothing (empty reply): the API key must be the "
				    "write key of the account, not the read key");
		return FALSE;
	}
	if (json_parser_load_from_data(parser, full, -1, NULL) &&
	    JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
		object = json_node_get_object(json_parser_get_root(parser));
	if (object != NULL && json_object_has_member(object, "success") &&
	    JSON_NODE_HOLDS_VALUE(json_object_get_member(object, "success")) &&
	    json_node_get_value_type(json_object_get_member(object, "success")) == G_TYPE_BOOLEAN) {
		const gchar *text;
		g_autofree gchar *clean = NULL;
		if (json_object_get_boolean_member(object, "success"))
			return TRUE;
		text = json_object_has_member(object, "message") &&
			       JSON_NODE_HOLDS_VALUE(json_object_get_member(object, "message")) &&
			       json_node_get_value_type(
				   json_object_get_member(object, "message")) == G_TYPE_STRING
			   ? json_object_get_string_member(object, "message")
			   : "no reason given";
		clean = wbd_emoncms_clean_message(text, strlen(text));
		g_set_error(error,
			    WBD_EXPORTER_ERROR,
			    WBD_EXPORTER_ERROR_REFUSED,
			    "EmonCMS refused the readings: %s",
			    clean);
		return FALSE;
	}
	g_set_error(error,
		    WBD_EXPORTER_ERROR,
		    WBD_EXPORTER_ERROR_FAILED,
		    "Unexpected reply from EmonCMS: %s",
		    message);
	return FALSE;
}
