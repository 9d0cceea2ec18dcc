/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "wbc-format.h"
#include "wbc-json.h"

static JsonNode *
wbc_json_node_take_object(JsonObject *object)
{
	JsonNode *node = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(node, object);
	return node;
}

static JsonNode *
wbc_json_node_take_array(JsonArray *array)
{
	JsonNode *node = json_node_new(JSON_NODE_ARRAY);
	json_node_take_array(node, array);
	return node;
}

static JsonNode *
wbc_json_from_double(gdouble value)
{
	/* JSON has no NaN; a value that is not measured is null */
	if (!isfinite(value))
		return json_node_new(JSON_NODE_NULL);
	return json_node_init_double(json_node_alloc(), value);
}

/**
 * wbc_json_from_variant:
 *
 * Converts a D-Bus value: dictionaries become objects, other containers arrays,
 * NaN becomes null.
 */
JsonNode *
wbc_json_from_variant(GVariant *value)
{
	const GVariantType *type = g_variant_get_type(value);

	switch (g_variant_classify(value)) {
	case G_VARIANT_CLASS_BOOLEAN:
		return json_node_init_boolean(json_node_alloc(), g_variant_get_boolean(value));
	case G_VARIANT_CLASS_BYTE:
		return json_node_init_int(json_node_alloc(), g_variant_get_byte(value));
	case G_VARIANT_CLASS_INT16:
		return json_node_init_int(json_node_alloc(), g_variant_get_int16(value));
	case G_VARIANT_CLASS_UINT16:
		return json_node_init_int(json_node_alloc(), g_variant_get_uint16(value));
	case G_VARIANT_CLASS_INT32:
		return json_node_init_int(json_node_alloc(), g_variant_get_int32(value));
	case G_VARIANT_CLASS_UINT32:
		return json_node_init_int(json_node_alloc(), g_variant_get_uint32(value));
	case G_VARIANT_CLASS_INT64:
		return json_node_init_int(json_node_alloc(), g_variant_get_int64(value));
	case G_VARIANT_CLASS_UINT64:
		return json_node_init_int(json_node_alloc(), (gint64)g_variant_get_uint64(value));
	case G_VARIANT_CLASS_HANDLE:
		return json_node_init_int(json_node_alloc(), g_variant_get_handle(value));
	case G_VARIANT_CLASS_DOUBLE:
		return wbc_json_from_double(g_variant_get_double(value));
	case G_VARIANT_CLASS_STRING:
	case G_VARIANT_CLASS_OBJECT_PATH:
	case G_VARIANT_CLASS_SIGNATURE:
		return json_node_init_string(json_node_alloc(), g_variant_get_string(value, NULL));
	case G_VARIANT_CLASS_VARIANT: {
		g_autoptr(GVariant) child = g_variant_get_variant(value);
		return wbc_json_from_variant(child);
	}
	case G_VARIANT_CLASS_MAYBE: {
		g_autoptr(GVariant) child = g_variant_get_maybe(value);
		if (child == NULL)
			return json_node_new(JSON_NODE_NULL);
		return wbc_json_from_variant(child);
	}
	case G_VARIANT_CLASS_ARRAY:
		if (g_variant_type_is_dict_entry(g_variant_type_element(type)) &&
		    g_variant_type_is_subtype_of(g_variant_type_key(g_variant_type_element(type)),
						 G_VARIANT_TYPE_STRING)) {
			JsonObject *object = json_object_new();
			GVariantIter iter;
			const gchar *key;
			GVariant *child;

			g_variant_iter_init(&iter, value);
			while (g_variant_iter_next(&iter, "{&s@*}", &key, &child)) {
				json_object_set_member(object, key, wbc_json_from_variant(child));
				g_variant_unref(child);
			}
			return wbc_json_node_take_object(object);
		}
		/* fall through */
	case G_VARIANT_CLASS_TUPLE:
	case G_VARIANT_CLASS_DICT_ENTRY:
	default: {
		JsonArray *array = json_array_new();
		for (gsize i = 0; i < g_variant_n_children(value); i++) {
			g_autoptr(GVariant) child = g_variant_get_child_value(value, i);
			json_array_add_element(array, wbc_json_from_variant(child));
		}
		return wbc_json_node_take_array(array);
	}
	}
}

/**
 * wbc_json_name:
 *
 * Returns: the JSON name of a D-Bus name: "LastSeen" → "last_seen",
 *   "mac-address" → "mac_address", "ElectricityMeter" → "electricity_meter"
 */
gchar *
wbc_json_name(const gchar *name)
{
	GString *str = g_string_new(NULL);

	for (const gchar *p = name; *p != '\0'; p++) {
		if (*p == '-') {
			g_string_append_c(str, '_');
		} else if (g_ascii_isupper(*p)) {
			/* no underscore inside an acronym: "SOC" → "soc" */
			gboolean after_lower = p > name && !g_ascii_isupper(p[-1]) && p[-1] != '-';
			gboolean acronym_end = p > name && g_ascii_isupper(p[-1]) && g_ascii_islower(p[1]);
			if (str->len > 0 && (after_lower || acronym_end))
				g_string_append_c(str, '_');
			g_string_append_c(str, g_ascii_tolower(*p));
		} else {
			g_string_append_c(str, *p);
		}
	}
	return g_string_free(str, FALSE);
}

/**
 * wbc_json_from_time:
 *
 * Returns: a time in µs since the epoch as ISO 8601 text in UTC, or null for 0
 */
JsonNode *
wbc_json_from_time(guint64 usec)
{
	g_autoptr(GDateTime) dt = NULL;
	g_autofree gchar *str = NULL;

	if (usec == 0)
		return json_node_new(JSON_NODE_NULL);
	dt = g_date_time_new_from_unix_utc((gint64)(usec / G_USEC_PER_SEC));
	str = dt != NULL ? g_date_time_format_iso8601(dt) : NULL;
	if (str == NULL)
		return json_node_new(JSON_NODE_NULL);
	return json_node_init_string(json_node_alloc(), str);
}

/**
 * wbc_json_device_id:
 *
 * Returns: (nullable): the id of the device at a path, %NULL for "/" (no device)
 */
gchar *
wbc_json_device_id(WattbusClient *client, const gchar *path)
{
	g_autoptr(WattbusObject) object = NULL;
	const gchar *slash;
	g_autofree guint8 *unescaped = NULL;

	if (path == NULL || path[0] == '\0' || g_strcmp0(path, "/") == 0)
		return NULL;
	if (client != NULL)
		object = wattbus_client_lookup_device(client, path);
	if (object != NULL)
		return g_strdup(wbc_device_get_id(object));
	slash = strrchr(path, '/');
	unescaped = g_dbus_unescape_object_path(slash != NULL ? slash + 1 : path);
	return g_strdup(unescaped != NULL ? (const gchar *)unescaped
					  : (slash != NULL ? slash + 1 : path));
}

static JsonNode *
wbc_json_from_string_or_null(const gchar *value)
{
	if (value == NULL)
		return json_node_new(JSON_NODE_NULL);
	return json_node_init_string(json_node_alloc(), value);
}

/**
 * wbc_json_from_property:
 *
 * Converts a property for the JSON contract: times as ISO 8601 (null for none), the
 * parent by its id (null for none), NaN as null.
 */
JsonNode *
wbc_json_from_property(WattbusClient *client, const gchar *property, GVariant *value)
{
	if (wbc_property_is_time(property) && g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64))
		return wbc_json_from_time(g_variant_get_uint64(value));
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_OBJECT_PATH)) {
		g_autofree gchar *id =
		    wbc_json_device_id(client, g_variant_get_string(value, NULL));
		return wbc_json_from_string_or_null(id);
	}
	return wbc_json_from_variant(value);
}

/**
 * wbc_json_from_proxy:
 *
 * Returns: an object with every cached property of the proxy, by snake_case name
 */
JsonNode *
wbc_json_from_proxy(WattbusClient *client, GDBusProxy *proxy)
{
	JsonObject *object = json_object_new();
	g_auto(GStrv) names = wbc_proxy_list_property_names(proxy);

	for (guint i = 0; names[i] != NULL; i++) {
		g_autoptr(GVariant) value = g_dbus_proxy_get_cached_property(proxy, names[i]);
		g_autofree gchar *key = wbc_json_name(names[i]);
		if (value != NULL)
			json_object_set_member(object,
					       key,
					       wbc_json_from_property(client, names[i], value));
	}
	return wbc_json_node_take_object(object);
}

static void
wbc_json_set_string_or_null(JsonObject *object, const gchar *member, const gchar *value)
{
	if (value == NULL || value[0] == '\0')
		json_object_set_null_member(object, member);
	else
		json_object_set_string_member(object, member, value);
}

static void
wbc_json_set_reading(JsonObject *object,
		     const gchar *member,
		     WattbusElectricityMeter *meter,
		     const gchar *property)
{
	g_autoptr(GVariant) value = NULL;

	if (meter != NULL)
		value = g_dbus_proxy_get_cached_property(G_DBUS_PROXY(meter), property);
	if (value == NULL || !wbc_proxy_has_reading(G_DBUS_PROXY(meter), property, value)) {
		json_object_set_null_member(object, member);
		return;
	}
	json_object_set_member(object, member, wbc_json_from_variant(value));
}

/**
 * wbc_json_from_device:
 * @all_interfaces: also add an "interfaces" member with every property of every interface
 *
 * Returns: an object with the main facts of a device, as wattbusctl(1) documents them
 */
JsonNode *
wbc_json_from_device(WattbusClient *client, WattbusObject *object, gboolean all_interfaces)
{
	JsonObject *json = json_object_new();
	WattbusDevice *device = wattbus_object_peek_device(object);
	WattbusOutlet *outlet = wattbus_object_peek_outlet(object);
	WattbusElectricityMeter *meter = wattbus_object_peek_electricity_meter(object);
	g_autofree gchar *parent = wbc_json_device_id(client, wattbus_device_get_parent(device));
	const gchar *measurement = NULL;
	gdouble power = wbc_device_get_power(object, &measurement);

	json_object_set_string_member(json, "id", wbc_device_get_id(object));
	json_object_set_string_member(json,
				      "path",
				      g_dbus_object_get_object_path(G_DBUS_OBJECT(object)));
	wbc_json_set_string_or_null(json, "name", wattbus_device_get_name(device));
	wbc_json_set_string_or_null(json, "kind", wattbus_device_get_kind(device));
	wbc_json_set_string_or_null(json, "driver", wattbus_device_get_driver(device));
	wbc_json_set_string_or_null(json, "vendor", wattbus_device_get_vendor(device));
	wbc_json_set_string_or_null(json, "model", wattbus_device_get_model(device));
	wbc_json_set_string_or_null(json, "address", wattbus_device_get_address(device));
	wbc_json_set_string_or_null(json, "parent", parent);
	json_object_set_boolean_member(json, "online", wattbus_device_get_online(device));
	json_object_set_member(json,
			       "last_seen",
			       wbc_json_from_time(wattbus_device_get_last_seen(device)));
	wbc_json_set_string_or_null(json, "last_error", wattbus_device_get_last_error(device));
	if (outlet != NULL)
		json_object_set_boolean_member(json, "on", wattbus_outlet_get_on(outlet));
	else
		json_object_set_null_member(json, "on");
	json_object_set_member(json, "power", wbc_json_from_double(power));
	wbc_json_set_string_or_null(json, "measurement", measurement);
	wbc_json_set_reading(json, "energy", meter, "Energy");
	json_object_set_boolean_member(json, "removable", wattbus_device_get_removable(device));

	if (all_interfaces) {
		JsonObject *interfaces = json_object_new();
		g_autoptr(GPtrArray) proxies = wbc_object_list_interfaces(G_DBUS_OBJECT(object));
		for (guint i = 0; i < proxies->len; i++) {
			GDBusProxy *proxy = g_ptr_array_index(proxies, i);
			g_autofree gchar *key = wbc_json_name(
			    wbc_interface_get_short_name(g_dbus_proxy_get_interface_name(proxy)));
			json_object_set_member(interfaces, key, wbc_json_from_proxy(client, proxy));
		}
		json_object_set_object_member(json, "interfaces", interfaces);
	}
	return wbc_json_node_take_object(json);
}

/* one line of JSON, for JSON lines (monitor --json) */
void
wbc_json_print_line(JsonNode *node)
{
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autofree gchar *text = NULL;

	json_generator_set_root(generator, node);
	text = json_generator_to_data(generator, NULL);
	fputs(text, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

void
wbc_json_print(JsonNode *node)
{
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autofree gchar *text = NULL;

	json_generator_set_pretty(generator, TRUE);
	json_generator_set_indent(generator, 2);
	json_generator_set_root(generator, node);
	text = json_generator_to_data(generator, NULL);
	/* JSON is UTF-8 whatever the locale, so no g_print() charset conversion */
	fputs(text, stdout);
	fputc('\n', stdout);
}
