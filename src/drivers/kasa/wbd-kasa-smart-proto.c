/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include <wattbus-glib.h>

#include "wbd-json.h"
#include "wbd-kasa-json.h"
#include "wbd-kasa-smart-proto.h"

/*
 * The SMART protocol's text (kasa-smart.md §5): the requests' envelopes, the replies'
 * results and error codes, names, identities and the energy methods' units. No I/O:
 * the unit tests and the fuzzer call these directly.
 */

static void
add_inner(JsonBuilder *b, const gchar *method, JsonNode *params)
{
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "method");
	json_builder_add_string_value(b, method);
	if (params != NULL) {
		json_builder_set_member_name(b, "params");
		json_builder_add_value(b, json_node_copy(params));
	}
	json_builder_end_object(b);
}

/* the outer envelope (§5.1): request_time_milis and terminal_uuid on every request */
gchar *
wbd_kasa_smart_request(const gchar *terminal_uuid, const gchar *method, JsonNode *params)
{
	g_autoptr(JsonBuilder) b = json_builder_new_immutable();
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "method");
	json_builder_add_string_value(b, method);
	json_builder_set_member_name(b, "request_time_milis");
	json_builder_add_int_value(b, g_get_real_time() / 1000);
	json_builder_set_member_name(b, "terminal_uuid");
	json_builder_add_string_value(b, terminal_uuid);
	if (params != NULL) {
		json_builder_set_member_name(b, "params");
		json_builder_add_value(b, json_node_copy(params));
	}
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	return json_generator_to_data(gen, NULL);
}

/* {"requests":[{"method":m}...]} */
JsonNode *
wbd_kasa_smart_multiple_params(GPtrArray *methods)
{
	g_autoptr(JsonBuilder) b = json_builder_new_immutable();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "requests");
	json_builder_begin_array(b);
	for (guint i = 0; i < methods->len; i++)
		add_inner(b, g_ptr_array_index(methods, i), NULL);
	json_builder_end_array(b);
	json_builder_end_object(b);
	return json_builder_get_root(b);
}

/* {"device_id":id,"requestData":{"method":m,"params":p}} */
JsonNode *
wbd_kasa_smart_control_child_params(const gchar *child_id, const gchar *method, JsonNode *params)
{
	g_autoptr(JsonBuilder) b = json_builder_new_immutable();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "device_id");
	json_builder_add_string_value(b, child_id);
	json_builder_set_member_name(b, "requestData");
	add_inner(b, method, params);
	json_builder_end_object(b);
	return json_builder_get_root(b);
}

/* replies */

/* the reply's result object (an empty one when it has none), or an error with the code */
JsonObject *
wbd_kasa_smart_parse_reply(JsonNode **root, const gchar *text, gsize len, GError **error)
{
	JsonObject *obj, *result;
	gdouble code = 0;

	*root = wbd_kasa_json_parse_object(text, len, error);
	if (*root == NULL)
		return NULL;
	obj = json_node_get_object(*root);
	if (!wbd_json_get_number(obj, "error_code", &code)) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "Bad reply from the device: no error_code (not a SMART device?)");
		return NULL;
	}
	if (code != 0) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    code == -1002 || code == -1008 ? WATTBUS_ERROR_NOT_SUPPORTED : WATTBUS_ERROR_FAILED,
			    "The device answered with error %.0f",
			    code);
		return NULL;
	}
	result = wbd_json_get_object(obj, "result");
	if (result == NULL) {
		json_object_set_object_member(obj, "result", json_object_new());
		result = wbd_json_get_object(obj, "result");
	}
	return result;
}

/* a nickname is base64 of UTF-8 (§5.5); NULL when empty or not text */
gchar *
wbd_kasa_smart_decode_name(const gchar *base64)
{
	g_autofree guchar *raw = NULL;
	gsize len = 0;
	if (base64 == NULL || base64[0] == '\0' || strlen(base64) > 1024)
		return NULL;
	raw = g_base64_decode(base64, &len);
	if (raw == NULL || len == 0 || !g_utf8_validate_len((const gchar *)raw, len, NULL) ||
	    memchr(raw, '\0', len) != NULL)
		return NULL;
	return g_strndup((const gchar *)raw, len);
}

static gboolean
get_whole(JsonObject *obj, const gchar *key, gdouble *value)
{
	return obj != NULL && wbd_json_get_number(obj, key, value) && isfinite(*value) && fabs(*value) < 1e12;
}

/* §5.7: power from get_emeter_data (mW), else get_energy_usage (mW), else get_current_power (W) */
void
wbd_kasa_smart_read_energy(JsonObject *energy_usage,
			   JsonObject *current_power,
			   JsonObject *emeter_data,
			   WbdMeterReading *reading)
{
	gdouble v;

	wbd_meter_reading_init(reading);
	if (get_whole(emeter_data, "power_mw", &v))
		wbd_meter_reading_set(reading, WBD_QUANTITY_POWER, v / 1000.0);
	else if (get_whole(energy_usage, "current_power", &v))
		wbd_meter_reading_set(reading, WBD_QUANTITY_POWER, v / 1000.0);
	else if (get_whole(current_power, "current_power", &v))
		wbd_meter_reading_set(reading, WBD_QUANTITY_POWER, v);
	if (get_whole(emeter_data, "voltage_mv", &v))
		wbd_meter_reading_set(reading, WBD_QUANTITY_VOLTAGE, v / 1000.0);
	if (get_whole(emeter_data, "current_ma", &v))
		wbd_meter_reading_set(reading, WBD_QUANTITY_CURRENT, v / 1000.0);
	if (get_whole(energy_usage, "today_energy", &v) && v >= 0)
		wbd_meter_reading_set(reading, WBD_QUANTITY_ENERGY_TODAY, v);
	if (get_whole(energy_usage, "month_energy", &v) && v >= 0)
		wbd_meter_reading_set(reading, WBD_QUANTITY_ENERGY_THIS_MONTH, v);
}

void
wbd_kasa_smart_apply_identity(WbdDevice *device, JsonObject *info, const gchar *fallback_name)
{
	g_autofree gchar *name = wbd_kasa_smart_decode_name(wbd_json_get_string(info, "nickname"));
	const gchar *mac = wbd_json_get_string(info, "mac");
	g_autofree gchar *colons = NULL;

	wbd_device_set_model(device, wbd_json_get_string(info, "model"));
	wbd_device_set_hardware_version(device, wbd_json_get_string(info, "hw_ver"));
	wbd_device_set_firmware_version(device, wbd_json_get_string(info, "fw_ver"));
	wbd_device_set_serial_number(device, wbd_json_get_string(info, "device_id"));
	/* outlets write the MAC without separators (§5.5) */
	if (mac != NULL && strlen(mac) == 12 && strspn(mac, "0123456789abcdefABCDEF") == 12) {
		colons = g_strdup_printf("%.2s:%.2s:%.2s:%.2s:%.2s:%.2s", mac, mac + 2, mac + 4, mac + 6, mac + 8, mac + 10);
		mac = colons;
	}
	wbd_device_set_mac_address(device, mac);
	wbd_device_set_device_name(device, name != NULL ? name : fallback_name);
}

gboolean
wbd_kasa_smart_info_on(JsonObject *info, gboolean *on)
{
	JsonNode *node = info != NULL ? json_object_get_member(info, "device_on") : NULL;
	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_BOOLEAN)
		return FALSE;
	*on = json_node_get_boolean(node);
	return TRUE;
}

const gchar *
wbd_kasa_smart_kind(JsonObject *info)
{
	const gchar *type = wbd_json_get_string(info, "type");
	if (type != NULL && g_str_has_suffix(type, "SWITCH"))
		return "switch";
	return "outlet";
}
