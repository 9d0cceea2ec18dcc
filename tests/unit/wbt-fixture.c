/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdarg.h>

#include "wbt-fixture.h"

/**
 * wbt_fixture_dir:
 *
 * Returns: (transfer full): the folder of the Kasa device fixtures, from
 *   `$WATTBUS_TEST_DATA/kasa` (set by the test environment)
 */
gchar *
wbt_fixture_dir(void)
{
	const gchar *data = g_getenv("WATTBUS_TEST_DATA");
	if (data == NULL) {
		g_test_message("WATTBUS_TEST_DATA is not set; run the tests with meson test");
		g_assert_not_reached();
	}
	return g_build_filename(data, "kasa", NULL);
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar **)a, *(const gchar **)b);
}

/**
 * wbt_fixture_list:
 *
 * Returns: (transfer container): the file names of every `*.json` fixture, sorted
 */
GPtrArray *
wbt_fixture_list(void)
{
	g_autofree gchar *path = wbt_fixture_dir();
	g_autoptr(GError) error = NULL;
	g_autoptr(GDir) dir = g_dir_open(path, 0, &error);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	const gchar *name;

	g_assert_no_error(error);
	while ((name = g_dir_read_name(dir)) != NULL) {
		if (g_str_has_suffix(name, ".json"))
			g_ptr_array_add(names, g_strdup(name));
	}
	g_ptr_array_sort(names, compare_strings);
	return names;
}

JsonNode *
wbt_json_parse(const gchar *json)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	json_parser_load_from_data(parser, json, -1, &error);
	g_assert_no_error(error);
	g_assert_nonnull(json_parser_get_root(parser));
	return json_node_ref(json_parser_get_root(parser));
}

/* Returns: (transfer full): the fixture's JSON, which is always an object */
/* a JSON file of tests/data/@folder (the folder of $WATTBUS_TEST_DATA) */
JsonNode *
wbt_data_load(const gchar *folder, const gchar *name)
{
	g_autofree gchar *kasa = wbt_fixture_dir();
	g_autofree gchar *data = g_path_get_dirname(kasa);
	g_autofree gchar *path = g_build_filename(data, folder, name, NULL);
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;

	json_parser_load_from_file(parser, path, &error);
	g_assert_no_error(error);
	return json_node_ref(json_parser_get_root(parser));
}

JsonNode *
wbt_fixture_load(const gchar *name)
{
	g_autofree gchar *dir = wbt_fixture_dir();
	g_autofree gchar *path = g_build_filename(dir, name, NULL);
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;

	json_parser_load_from_file(parser, path, &error);
	g_assert_no_error(error);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)));
	return json_node_ref(json_parser_get_root(parser));
}

static JsonNode *
lookup_valist(JsonNode *node, va_list args)
{
	const gchar *key;
	while ((key = va_arg(args, const gchar *)) != NULL) {
		if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
			return NULL;
		node = json_object_get_member(json_node_get_object(node), key);
	}
	return node;
}

/* Returns: (transfer none) (nullable): the member at the path of keys, or %NULL */
JsonNode *
wbt_json_lookup(JsonNode *node, ...)
{
	va_list args;
	va_start(args, node);
	node = lookup_valist(node, args);
	va_end(args);
	return node;
}

/* Returns: (transfer none) (nullable): the string at the path, %NULL if absent or not a string */
const gchar *
wbt_json_lookup_string(JsonNode *node, ...)
{
	va_list args;
	va_start(args, node);
	node = lookup_valist(node, args);
	va_end(args);
	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(node);
}

/**
 * wbt_fixture_reply:
 *
 * Cuts what a device would have sent for MODULE.METHOD out of a merged fixture dump
 * (see tests/data/kasa/SOURCE.md): `{"module":{"method":{...}}}`, or `{"module":{...}}`
 * when the module answered with a module-level error object instead of a method map.
 *
 * Returns: (transfer full): the reply as compact JSON text
 */
gchar *
wbt_fixture_reply(JsonNode *fixture, const gchar *module, const gchar *method)
{
	JsonNode *mod = wbt_json_lookup(fixture, module, NULL);
	JsonNode *result = wbt_json_lookup(fixture, module, method, NULL);
	g_autoptr(JsonObject) root = json_object_new();
	g_autoptr(JsonNode) root_node = json_node_new(JSON_NODE_OBJECT);
	g_autoptr(JsonGenerator) generator = json_generator_new();

	g_assert_nonnull(mod);
	if (result != NULL) {
		JsonObject *inner = json_object_new();
		json_object_set_member(inner, method, json_node_copy(result));
		json_object_set_object_member(root, module, inner);
	} else {
		json_object_set_member(root, module, json_node_copy(mod));
	}
	json_node_set_object(root_node, root);
	json_generator_set_root(generator, root_node);
	return json_generator_to_data(generator, NULL);
}

/* "d0 f2 81" or "d0f281" → bytes */
GBytes *
wbt_hex_decode(const gchar *hex)
{
	g_autoptr(GByteArray) bytes = g_byte_array_new();
	gint high = -1;
	for (const gchar *p = hex; *p != '\0'; p++) {
		gint v;
		if (g_ascii_isspace(*p))
			continue;
		v = g_ascii_xdigit_value(*p);
		g_assert_cmpint(v, >=, 0);
		if (high < 0) {
			high = v;
		} else {
			guint8 b = (guint8)(high << 4 | v);
			g_byte_array_append(bytes, &b, 1);
			high = -1;
		}
	}
	g_assert_cmpint(high, ==, -1);
	return g_byte_array_free_to_bytes(g_steal_pointer(&bytes));
}
