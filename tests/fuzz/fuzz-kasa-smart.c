/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>
#include <wattbus-glib.h>

#include "fuzz-kasa.h"
#include "wbd-json.h"
#include "wbd-kasa-discover.h"
#include "wbd-kasa-json.h"
#include "wbd-kasa-smart-proto.h"

/*
 * The SMART JSON of a KLAP/AES device as the driver reads it: a reply's error code and
 * result, the energy methods' units into a reading (finite, in range), base64 nicknames,
 * the device_on flag, a multipleRequest's responses and control_child's responseData;
 * and the same text as the JSON of a TDP discovery reply. The driver's fast JSON reader
 * must build json-glib's tree exactly (node and value types, members in order) whenever it
 * does not give up.
 */

/* the same tree, node for node: types, value types, values, members in order */
static gboolean
same_tree(JsonNode *a, JsonNode *b)
{
	if (JSON_NODE_TYPE(a) != JSON_NODE_TYPE(b) || json_node_is_immutable(a) != json_node_is_immutable(b))
		return FALSE;
	switch (JSON_NODE_TYPE(a)) {
	case JSON_NODE_OBJECT: {
		g_autoptr(GList) ka = json_object_get_members(json_node_get_object(a));
		g_autoptr(GList) kb = json_object_get_members(json_node_get_object(b));
		GList *x = ka, *y = kb;
		for (; x != NULL && y != NULL; x = x->next, y = y->next)
			if (strcmp(x->data, y->data) != 0 ||
			    !same_tree(json_object_get_member(json_node_get_object(a), x->data),
				       json_object_get_member(json_node_get_object(b), y->data)))
				return FALSE;
		return x == NULL && y == NULL;
	}
	case JSON_NODE_ARRAY: {
		JsonArray *xa = json_node_get_array(a), *ya = json_node_get_array(b);
		if (json_array_get_length(xa) != json_array_get_length(ya))
			return FALSE;
		for (guint i = 0; i < json_array_get_length(xa); i++)
			if (!same_tree(json_array_get_element(xa, i), json_array_get_element(ya, i)))
				return FALSE;
		return TRUE;
	}
	case JSON_NODE_VALUE:
		if (json_node_get_value_type(a) != json_node_get_value_type(b))
			return FALSE;
		if (json_node_get_value_type(a) == G_TYPE_INT64)
			return json_node_get_int(a) == json_node_get_int(b);
		if (json_node_get_value_type(a) == G_TYPE_DOUBLE)
			return memcmp(&(gdouble){json_node_get_double(a)}, &(gdouble){json_node_get_double(b)}, sizeof(gdouble)) == 0;
		if (json_node_get_value_type(a) == G_TYPE_BOOLEAN)
			return json_node_get_boolean(a) == json_node_get_boolean(b);
		return g_strcmp0(json_node_get_string(a), json_node_get_string(b)) == 0;
	case JSON_NODE_NULL:
	default:
		return TRUE;
	}
}
static void
check_result(JsonObject *result)
{
	WbdMeterReading reading;
	gboolean on;
	g_autofree gchar *name = wbd_kasa_smart_decode_name(wbd_json_get_string(result, "nickname"));

	if (name != NULL)
		WBF_ASSERT(g_utf8_validate(name, -1, NULL));
	wbd_kasa_smart_info_on(result, &on);
	WBF_ASSERT(wbd_kasa_smart_kind(result) != NULL);
	wbd_kasa_smart_read_energy(wbd_json_get_object(result, "get_energy_usage"),
				   wbd_json_get_object(result, "get_current_power"),
				   wbd_json_get_object(result, "get_emeter_data"),
				   &reading);
	for (guint q = 0; q < WBD_QUANTITY_LAST; q++)
		if (wbd_meter_reading_has(&reading, q))
			WBF_ASSERT(isfinite(reading.values[q]));
	wbd_kasa_smart_read_energy(result, result, result, &reading);
	for (guint q = 0; q < WBD_QUANTITY_LAST; q++)
		if (wbd_meter_reading_has(&reading, q))
			WBF_ASSERT(isfinite(reading.values[q]));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) found = NULL;
	JsonObject *result;
	JsonArray *responses;
	guint depth = 0;

	if (size == 0 || size > 256 * 1024 || !wbf_json_is_safe(data, size, &depth))
		return 0;
	{
		g_autoptr(JsonNode) fast = wbd_kasa_json_read_plain((const gchar *)data, size);
		g_autoptr(JsonNode) slow = NULL;
		if (fast != NULL) {
			slow = wbd_json_parse_object((const gchar *)data, size, NULL);
			WBF_ASSERT(slow != NULL && same_tree(fast, slow));
		}
	}
	result = wbd_kasa_smart_parse_reply(&root, (const gchar *)data, size, &error);
	if (result == NULL) {
		wbf_check_error(error);
	} else {
		JsonObject *child = wbd_json_get_object(result, "responseData");
		check_result(result);
		if (child != NULL && wbd_json_get_object(child, "result") != NULL)
			check_result(wbd_json_get_object(child, "result"));
		responses = wbd_json_get_array(result, "responses");
		for (guint i = 0; responses != NULL && i < json_array_get_length(responses) && i < 64; i++) {
			JsonNode *node = json_array_get_element(responses, i);
			if (JSON_NODE_HOLDS_OBJECT(node) && wbd_json_get_object(json_node_get_object(node), "result"))
				check_result(wbd_json_get_object(json_node_get_object(node), "result"));
		}
	}
	g_clear_error(&error);
	found = wbd_kasa_discover_parse_tdp(data, size, "192.0.2.1", &error);
	if (found == NULL) {
		wbf_check_error(error);
	} else {
		const gchar *note = NULL;
		WBF_ASSERT(g_variant_lookup(found, "note", "&s", &note));
		WBF_ASSERT(g_utf8_validate(note, -1, NULL));
	}
	return 0;
}
