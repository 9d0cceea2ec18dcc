/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-json.h"

/* real replies of devices and clouds nest a handful of levels */
#define WBD_JSON_MAX_DEPTH 32

/* the 4 hex digits of a \u escape at @text, or -1 */
static gint
wbd_json_hex4(const guint8 *text, gsize avail)
{
	gint value = 0;
	if (avail < 4)
		return -1;
	for (guint k = 0; k < 4; k++) {
		if (!g_ascii_isxdigit(text[k]))
			return -1;
		value = value * 16 + g_ascii_xdigit_value(text[k]);
	}
	return value;
}

/*
 * The length of the escape at @text (its backslash), 0 if it is not one of JSON's:
 * json-glib 1.6 also takes GScanner's octal escapes ("\777") and lone UTF-16
 * surrogates ("\ud800"), and hands back bytes that are not UTF-8 for both.
 */
static gsize
wbd_json_escape_len(const guint8 *text, gsize avail)
{
	gint unit;

	if (avail < 2)
		return 0;
	if (strchr("\"\\/bfnrt", text[1]) != NULL && text[1] != '\0')
		return 2;
	if (text[1] != 'u' || (unit = wbd_json_hex4(text + 2, avail - 2)) < 0)
		return 0;
	if (unit < 0xD800 || unit > 0xDFFF)
		return 6;
	/* a high surrogate, then its low one */
	if (unit > 0xDBFF || avail < 12 || text[6] != '\\' || text[7] != 'u')
		return 0;
	unit = wbd_json_hex4(text + 8, avail - 8);
	return unit >= 0xDC00 && unit <= 0xDFFF ? 12 : 0;
}

/*
 * json-glib before 1.10 recurses once per nesting level with no limit (a reply of
 * 100 000 '[' overflows the stack) and parses, then leaks, any object or array after
 * the first value ("{...}{...}"). Let through only what a device or server sends: one object of
 * plain JSON (double-quoted strings with JSON's escapes, no comments), nested at most
 * WBD_JSON_MAX_DEPTH deep, with nothing but whitespace after it. Text that ends early is
 * left to json-glib to report.
 */
static gboolean
wbd_json_shape_ok(const guint8 *text, gsize len)
{
	gboolean in_string = FALSE;
	guint depth = 0;
	gsize i = 0;

	while (i < len && g_ascii_isspace(text[i]))
		i++;
	if (i == len || (text[i] != '{' && text[i] != '['))
		return FALSE;
	for (; i < len; i++) {
		guint8 c = text[i];
		if (in_string) {
			if (c == '\\') {
				gsize n = wbd_json_escape_len(text + i, len - i);
				if (n == 0)
					return FALSE;
				i += n - 1;
			} else if (c == '"')
				in_string = FALSE;
		} else if (c == '"') {
			in_string = TRUE;
		} else if (c == '\'' || c == '/') {
			/* json-glib's single-quoted strings and comments could hide brackets */
			return FALSE;
		} else if (c == '{' || c == '[') {
			if (++depth > WBD_JSON_MAX_DEPTH)
				return FALSE;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return FALSE;
			if (--depth == 0) {
				while (++i < len) {
					if (!g_ascii_isspace(text[i]))
						return FALSE;
				}
				return TRUE;
			}
		}
	}
	return TRUE;
}

/**
 * wbd_json_parse:
 * @text: JSON text from a device or a server: hostile
 *
 * Parses one JSON object or array, refusing deep nesting, trailing values and NUL
 * bytes; the error message is valid UTF-8 and quotes nothing but json-glib's diagnosis.
 *
 * Returns: (transfer full): the object or array node, or %NULL with @error set
 */
JsonNode *
wbd_json_parse(const gchar *text, gsize len, GError **error)
{
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) local_error = NULL;
	JsonNode *root;

	/* JSON text is never NUL; json-glib would stop at one silently */
	if (len == 0 || memchr(text, '\0', len) != NULL) {
		g_set_error_literal(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED, "not JSON");
		return NULL;
	}
	if (!wbd_json_shape_ok((const guint8 *)text, len)) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_FAILED,
			    "not JSON (one object or array, nested at most %d deep, JSON's escapes)",
			    WBD_JSON_MAX_DEPTH);
		return NULL;
	}
	parser = json_parser_new_immutable();
	if (!json_parser_load_from_data(parser, text, (gssize)len, &local_error)) {
		/* json-glib quotes the bad token as it is, which need not be UTF-8 */
		g_autofree gchar *why = g_utf8_make_valid(local_error->message, -1);
		g_set_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED, "not JSON (%s)", why);
		return NULL;
	}
	root = json_parser_get_root(parser);
	if (root == NULL || (!JSON_NODE_HOLDS_OBJECT(root) && !JSON_NODE_HOLDS_ARRAY(root))) {
		g_set_error_literal(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED, "not JSON");
		return NULL;
	}
	return json_node_ref(root);
}

/**
 * wbd_json_parse_object:
 *
 * Like wbd_json_parse(), for a reply that must be one object.
 */
JsonNode *
wbd_json_parse_object(const gchar *text, gsize len, GError **error)
{
	g_autoptr(JsonNode) root = wbd_json_parse(text, len, error);
	if (root == NULL)
		return NULL;
	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error_literal(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED, "not a JSON object");
		return NULL;
	}
	return g_steal_pointer(&root);
}

const gchar *
wbd_json_get_string(JsonObject *obj, const gchar *key)
{
	JsonNode *node = obj != NULL ? json_object_get_member(obj, key) : NULL;
	if (node == NULL || JSON_NODE_TYPE(node) != JSON_NODE_VALUE ||
	    json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(node);
}

gboolean
wbd_json_get_number(JsonObject *obj, const gchar *key, gdouble *value)
{
	JsonNode *node = obj != NULL ? json_object_get_member(obj, key) : NULL;
	GType type;
	if (node == NULL || JSON_NODE_TYPE(node) != JSON_NODE_VALUE)
		return FALSE;
	type = json_node_get_value_type(node);
	if (type == G_TYPE_INT64)
		*value = (gdouble)json_node_get_int(node);
	else if (type == G_TYPE_DOUBLE)
		*value = json_node_get_double(node);
	else
		return FALSE;
	return TRUE;
}

JsonObject *
wbd_json_get_object(JsonObject *obj, const gchar *key)
{
	JsonNode *node = obj != NULL ? json_object_get_member(obj, key) : NULL;
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
		return NULL;
	return json_node_get_object(node);
}

JsonArray *
wbd_json_get_array(JsonObject *obj, const gchar *key)
{
	JsonNode *node = obj != NULL ? json_object_get_member(obj, key) : NULL;
	if (node == NULL || !JSON_NODE_HOLDS_ARRAY(node))
		return NULL;
	return json_node_get_array(node);
}
