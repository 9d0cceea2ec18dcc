/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-envoy-json.h"
#include "wbd-json.h"

/**
 * wbd_envoy_json_parse:
 * @data: a reply body, not NUL-terminated
 *
 * Returns: (transfer full): the object or array the gateway sent, or %NULL with an
 *   error whose message names no content of the reply
 */
JsonNode *
wbd_envoy_json_parse(const gchar *data, gsize len, GError **error)
{
	JsonNode *root = NULL;

	if (data != NULL && len > 0 && len <= WBD_ENVOY_JSON_MAX_SIZE &&
	    g_utf8_validate(data, (gssize)len, NULL))
		root = wbd_json_parse(data, len, NULL);
	if (root == NULL)
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_FAILED,
			    "The gateway sent incomplete or broken JSON (%" G_GSIZE_FORMAT " bytes)",
			    len);
	return root;
}

JsonNode *
wbd_envoy_json_member(JsonNode *node, const gchar *key)
{
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
		return NULL;
	return json_object_get_member(json_node_get_object(node), key);
}

JsonNode *
wbd_envoy_json_element(JsonNode *node, guint index)
{
	JsonArray *array;
	if (node == NULL || !JSON_NODE_HOLDS_ARRAY(node))
		return NULL;
	array = json_node_get_array(node);
	if (index >= json_array_get_length(array))
		return NULL;
	return json_array_get_element(array, index);
}

guint
wbd_envoy_json_length(JsonNode *node)
{
	if (node == NULL || !JSON_NODE_HOLDS_ARRAY(node))
		return 0;
	return json_array_get_length(json_node_get_array(node));
}

static JsonObject *
wbd_envoy_json_object(JsonNode *node)
{
	return node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

/* a finite JSON number; booleans and numeric strings are not numbers */
gboolean
wbd_envoy_json_number(JsonNode *node, const gchar *key, gdouble *value)
{
	gdouble v;
	if (!wbd_json_get_number(wbd_envoy_json_object(node), key, &v) || !isfinite(v))
		return FALSE;
	*value = v;
	return TRUE;
}

const gchar *
wbd_envoy_json_string(JsonNode *node, const gchar *key)
{
	return wbd_json_get_string(wbd_envoy_json_object(node), key);
}

/* an HTML page (old firmware, or an error page) where JSON was asked for */
gboolean
wbd_envoy_json_is_html(GBytes *body)
{
	gsize len = 0;
	const gchar *text = g_bytes_get_data(body, &len);
	gsize i = 0;
	while (i < len && g_ascii_isspace(text[i]))
		i++;
	return i < len && text[i] == '<';
}
