/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <stdio.h>

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
 * wbc_json_from_proxy:
 *
 * Returns: an object with every cached property of the proxy, by D-Bus name
 */
JsonNode *
wbc_json_from_proxy(GDBusProxy *proxy)
{
	JsonObject *object = json_object_new();
	g_auto(GStrv) names = wbc_proxy_list_property_names(proxy);

	for (guint i = 0; names[i] != NULL; i++) {
		g_autoptr(GVariant) value = g_dbus_proxy_get_cached_property(proxy, names[i]);
		if (value != NULL)
			json_object_set_member(object, names[i], wbc_json_from_variant(value));
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
 * Returns: an object with the main facts of a device, by lower-case names
 */
JsonNode *
wbc_json_from_device(WattbusObject *object, gboolean all_interfaces)
{
	JsonObject *json = json_object_new();
	WattbusDevice *device = wattbus_object_peek_device(object);
	WattbusOutlet *outlet = wattbus_object_peek_outlet(object);
	WattbusElectricityMeter *meter = wattbus_object_peek_electricity_meter(object);
	const gchar *parent = wattbus_device_get_parent(device);
	guint64 last_seen = wattbus_device_get_last_seen(device);

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
	wbc_json_set_string_or_null(json,
				    "parent",
				    g_strcmp0(parent, "/") != 0 ? parent : NULL);
	json_object_set_boolean_member(json, "online", wattbus_device_get_online(device));
	if (last_seen > 0) {
		g_autoptr(GDateTime) dt =
		    g_date_time_new_from_unix_utc((gint64)(last_seen / G_USEC_PER_SEC));
		g_autofree gchar *str = dt != NULL ? g_date_time_format_iso8601(dt) : NULL;
		wbc_json_set_string_or_null(json, "last_seen", str);
	} else {
		json_object_set_null_member(json, "last_seen");
	}
	wbc_json_set_string_or_null(json, "last_error", wattbus_device_get_last_error(device));
	if (outlet != NULL)
		json_object_set_boolean_member(json, "on", wattbus_outlet_get_on(outlet));
	else
		json_object_set_null_member(json, "on");
	wbc_json_set_reading(json, "power", meter, "Power");
	wbc_json_set_reading(json, "energy", meter, "Energy");

	if (all_interfaces) {
		JsonObject *interfaces = json_object_new();
		g_autoptr(GPtrArray) proxies = wbc_object_list_interfaces(G_DBUS_OBJECT(object));
		for (guint i = 0; i < proxies->len; i++) {
			GDBusProxy *proxy = g_ptr_array_index(proxies, i);
			json_object_set_member(interfaces,
					       g_dbus_proxy_get_interface_name(proxy),
					       wbc_json_from_proxy(proxy));
		}
		json_object_set_object_member(json, "interfaces", interfaces);
	}
	return wbc_json_node_take_object(json);
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
