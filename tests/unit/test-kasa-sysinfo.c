/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-kasa-codec.h"
#include "wbd-kasa-discover.h"
#include "wbd-kasa-sysinfo.h"
#include "wbt-fixture.h"

#define DEVICE_ID "800600000000000000000000000000000000AA00"
/* the fields every hostile sysinfo below starts with */
#define BASE "\"deviceId\":\"" DEVICE_ID "\",\"model\":\"HS300(US)\""

/* the number of fixtures shipped in tests/data/kasa, see SOURCE.md */
#define N_FIXTURES 18

static gboolean
json_number(JsonNode *node, gdouble *value)
{
	GType type;
	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
		return FALSE;
	type = json_node_get_value_type(node);
	if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
		return FALSE;
	*value = json_node_get_double(node);
	return TRUE;
}

/* the test's own reading of "feature": a colon list that may contain ENE */
static gboolean
feature_has_ene(const gchar *feature)
{
	const gchar *p = feature;
	while (p != NULL && *p != '\0') {
		const gchar *end = strchr(p, ':');
		gsize len = end != NULL ? (gsize)(end - p) : strlen(p);
		if (len == 3 && memcmp(p, "ENE", 3) == 0)
			return TRUE;
		p = end != NULL ? end + 1 : NULL;
	}
	return FALSE;
}

/*
 * Spec §8.1: the bare key is in the unit (Energy: kWh, so ×1000 for Wh), else the
 * suffixed key is in milli-units (Energy: Wh as is); neither means unmeasured.
 */
static gboolean
expected_quantity(JsonNode *realtime,
		  const gchar *bare,
		  gdouble bare_scale,
		  const gchar *suffixed,
		  gdouble suffixed_scale,
		  gdouble *value)
{
	gdouble v;
	if (json_number(wbt_json_lookup(realtime, bare, NULL), &v)) {
		*value = v * bare_scale;
		return TRUE;
	}
	if (json_number(wbt_json_lookup(realtime, suffixed, NULL), &v)) {
		*value = v * suffixed_scale;
		return TRUE;
	}
	return FALSE;
}

static void
check_quantity(const WbdMeterReading *reading,
	       WbdQuantity quantity,
	       JsonNode *realtime,
	       const gchar *bare,
	       gdouble bare_scale,
	       const gchar *suffixed,
	       gdouble suffixed_scale)
{
	gdouble expected = 0;
	if (expected_quantity(realtime, bare, bare_scale, suffixed, suffixed_scale, &expected)) {
		g_assert_true(wbd_meter_reading_has(reading, quantity));
		g_assert_cmpfloat_with_epsilon(reading->values[quantity], expected, 1e-9);
	} else {
		g_assert_false(wbd_meter_reading_has(reading, quantity));
	}
}

static void
check_realtime(JsonNode *realtime, const WbdMeterReading *reading)
{
	check_quantity(reading, WBD_QUANTITY_POWER, realtime, "power", 1, "power_mw", 0.001);
	check_quantity(reading, WBD_QUANTITY_VOLTAGE, realtime, "voltage", 1, "voltage_mv", 0.001);
	check_quantity(reading, WBD_QUANTITY_CURRENT, realtime, "current", 1, "current_ma", 0.001);
	check_quantity(reading, WBD_QUANTITY_ENERGY, realtime, "total", 1000, "total_wh", 1);
	/* the Kasa meter knows nothing else */
	for (guint q = WBD_QUANTITY_ENERGY + 1; q < WBD_QUANTITY_LAST; q++)
		g_assert_false(wbd_meter_reading_has(reading, q));
	g_assert_cmpuint(reading->n_phases, ==, 0);
	g_assert_cmpuint(reading->phase_measured, ==, 0);
}

/* what discovery makes of the same sysinfo, sent as a UDP datagram */
static void
check_discovery(JsonNode *root, const gchar *json, const WbdKasaSysinfo *info)
{
	gsize len = strlen(json);
	g_autofree guint8 *datagram = g_memdup2(json, len);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) found = NULL;
	g_autoptr(GVariantDict) dict = NULL;
	g_autofree gchar *mac = NULL;
	const gchar *s = NULL;

	wbd_kasa_encrypt(datagram, len);
	found = wbd_kasa_discover_parse_reply(datagram, len, "192.0.2.1", &error);
	g_assert_no_error(error);
	g_assert_nonnull(found);
	g_assert_true(g_variant_is_of_type(found, G_VARIANT_TYPE_VARDICT));
	g_assert_false(g_variant_is_floating(found));
	dict = g_variant_dict_new(found);
	g_assert_true(g_variant_dict_lookup(dict, "driver", "&s", &s));
	g_assert_cmpstr(s, ==, "kasa");
	g_assert_true(g_variant_dict_lookup(dict, "address", "&s", &s));
	g_assert_cmpstr(s, ==, "192.0.2.1");
	g_assert_true(g_variant_dict_lookup(dict, "kind", "&s", &s));
	g_assert_cmpstr(s, ==, wbd_kasa_sysinfo_get_kind(info));
	g_assert_true(g_variant_dict_lookup(dict, "model", "&s", &s));
	g_assert_cmpstr(
	    s, ==, wbt_json_lookup_string(root, "system", "get_sysinfo", "model", NULL));
	g_assert_true(g_variant_dict_lookup(dict, "device-id", "&s", &s));
	g_assert_cmpstr(
	    s, ==, wbt_json_lookup_string(root, "system", "get_sysinfo", "deviceId", NULL));
	g_assert_true(g_variant_dict_lookup(dict, "name", "&s", &s));
	g_assert_cmpstr(
	    s, ==, wbt_json_lookup_string(root, "system", "get_sysinfo", "alias", NULL));
	/* D-Bus form of a MAC: lower case with colons */
	mac =
	    g_ascii_strdown(wbt_json_lookup_string(root, "system", "get_sysinfo", "mac", NULL), -1);
	g_assert_true(g_variant_dict_lookup(dict, "mac-address", "&s", &s));
	g_assert_cmpstr(s, ==, mac);
	g_assert_cmpint(g_variant_dict_contains(dict, "note"), ==, info->children->len > 0);
}

static void
test_sysinfo_fixture(gconstpointer data)
{
	const gchar *name = data;
	g_autoptr(JsonNode) root = wbt_fixture_load(name);
	JsonNode *sys = wbt_json_lookup(root, "system", "get_sysinfo", NULL);
	JsonNode *children_node = wbt_json_lookup(sys, "children", NULL);
	JsonArray *children = children_node != NULL && JSON_NODE_HOLDS_ARRAY(children_node)
				  ? json_node_get_array(children_node)
				  : NULL;
	guint n_children = children != NULL ? json_array_get_length(children) : 0;
	g_autofree gchar *sys_json = wbt_fixture_reply(root, "system", "get_sysinfo");
	g_autoptr(JsonNode) sys_reply = wbt_json_parse(sys_json);
	g_autoptr(WbdKasaSysinfo) info = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *type;
	const gchar *mac;
	JsonObject *result;
	JsonNode *realtime;
	gdouble relay = 0;
	gint code = 0;

	g_assert_nonnull(sys);
	result = wbd_kasa_reply_get_result(sys_reply, "system", "get_sysinfo", &code, &error);
	g_assert_no_error(error);
	g_assert_nonnull(result);
	g_assert_cmpint(code, ==, 0);
	info = wbd_kasa_sysinfo_parse(result, &error);
	g_assert_no_error(error);
	g_assert_nonnull(info);

	/* identity, compared with the fixture as read by json-glib here */
	g_assert_cmpstr(info->model, ==, wbt_json_lookup_string(sys, "model", NULL));
	g_assert_cmpstr(info->hw_ver, ==, wbt_json_lookup_string(sys, "hw_ver", NULL));
	g_assert_cmpstr(info->sw_ver, ==, wbt_json_lookup_string(sys, "sw_ver", NULL));
	g_assert_cmpstr(info->device_id, ==, wbt_json_lookup_string(sys, "deviceId", NULL));
	g_assert_cmpstr(info->alias, ==, wbt_json_lookup_string(sys, "alias", NULL));
	g_assert_cmpstr(info->dev_name, ==, wbt_json_lookup_string(sys, "dev_name", NULL));
	mac = wbt_json_lookup_string(sys, "mac", NULL);
	g_assert_nonnull(mac);
	g_assert_cmpstr(info->mac, ==, mac);
	type = wbt_json_lookup_string(sys, "mic_type", NULL);
	if (type == NULL)
		type = wbt_json_lookup_string(sys, "type", NULL);
	g_assert_cmpstr(info->type, ==, type);
	g_assert_cmpint(
	    info->has_emeter, ==, feature_has_ene(wbt_json_lookup_string(sys, "feature", NULL)));

	/* a strip has outlets and no relay of its own */
	g_assert_cmpuint(info->children->len, ==, n_children);
	if (n_children > 0) {
		gdouble child_num = 0;
		g_assert_cmpstr(wbd_kasa_sysinfo_get_kind(info), ==, "strip");
		g_assert_cmpint(info->relay_state, ==, -1);
		g_assert_true(json_number(wbt_json_lookup(sys, "child_num", NULL), &child_num));
		g_assert_cmpfloat(child_num, ==, n_children);
		for (guint i = 0; i < n_children; i++) {
			JsonNode *child = json_array_get_element(children, i);
			const WbdKasaChild *parsed = g_ptr_array_index(info->children, i);
			const gchar *id = wbt_json_lookup_string(child, "id", NULL);
			gdouble state = -1;

			g_assert_true(json_number(wbt_json_lookup(child, "state", NULL), &state));
			/* fixture ids are scrubbed, longer than the two digits of UDP: kept as is */
			g_assert_cmpuint(strlen(id), >, 2);
			g_assert_cmpstr(parsed->id, ==, id);
			g_assert_cmpstr(
			    parsed->alias, ==, wbt_json_lookup_string(child, "alias", NULL));
			g_assert_cmpint(parsed->on, ==, state != 0);
		}
	} else {
		g_assert_cmpstr(wbd_kasa_sysinfo_get_kind(info), ==, "outlet");
		g_assert_true(json_number(wbt_json_lookup(sys, "relay_state", NULL), &relay));
		g_assert_cmpint(info->relay_state, ==, relay != 0 ? 1 : 0);
	}

	/* the meter, if the fixture has one; the error placements otherwise */
	realtime = wbt_json_lookup(root, "emeter", "get_realtime", NULL);
	if (wbt_json_lookup(root, "emeter", NULL) != NULL) {
		g_autofree gchar *rt_json = wbt_fixture_reply(root, "emeter", "get_realtime");
		g_autoptr(JsonNode) rt_reply = wbt_json_parse(rt_json);
		gdouble err = 0;
		gboolean failed =
		    json_number(wbt_json_lookup(root, "emeter", "err_code", NULL), &err) ||
		    json_number(wbt_json_lookup(realtime, "err_code", NULL), &err);

		result =
		    wbd_kasa_reply_get_result(rt_reply, "emeter", "get_realtime", &code, &error);
		if (failed && err != 0) {
			g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_NOT_SUPPORTED);
			g_assert_null(result);
			g_assert_cmpint(code, ==, (gint)err);
			g_clear_error(&error);
		} else {
			WbdMeterReading reading;
			g_assert_no_error(error);
			g_assert_nonnull(result);
			g_assert_true(info->has_emeter);
			wbd_kasa_parse_realtime(result, &reading);
			check_realtime(realtime, &reading);
			/* every metering fixture has all four quantities */
			for (guint q = 0; q <= WBD_QUANTITY_ENERGY; q++)
				g_assert_true(wbd_meter_reading_has(&reading, q));
		}
	}

	check_discovery(root, sys_json, info);
}

static void
test_sysinfo_fixtures_present(void)
{
	g_autoptr(GPtrArray) names = wbt_fixture_list();
	guint n_meters = 0;
	guint n_strips = 0;

	g_assert_cmpuint(names->len, >=, N_FIXTURES);
	for (guint i = 0; i < names->len; i++) {
		g_autoptr(JsonNode) root = wbt_fixture_load(g_ptr_array_index(names, i));
		if (wbt_json_lookup(root, "emeter", "get_realtime", "power_mw", NULL) != NULL ||
		    wbt_json_lookup(root, "emeter", "get_realtime", "power", NULL) != NULL)
			n_meters++;
		if (wbt_json_lookup(root, "system", "get_sysinfo", "children", NULL) != NULL)
			n_strips++;
	}
	/* the per-fixture cases above really cover meters and strips */
	g_assert_cmpuint(n_meters, >=, 8);
	g_assert_cmpuint(n_strips, >=, 4);
}

static void
check_fixture_reading(const gchar *name, gdouble w, gdouble v, gdouble a, gdouble wh)
{
	g_autoptr(JsonNode) root = wbt_fixture_load(name);
	JsonNode *realtime = wbt_json_lookup(root, "emeter", "get_realtime", NULL);
	WbdMeterReading reading;

	g_assert_nonnull(realtime);
	wbd_kasa_parse_realtime(json_node_get_object(realtime), &reading);
	g_assert_cmpuint(reading.measured,
			 ==,
			 1u << WBD_QUANTITY_POWER | 1u << WBD_QUANTITY_VOLTAGE |
			     1u << WBD_QUANTITY_CURRENT | 1u << WBD_QUANTITY_ENERGY);
	g_assert_cmpfloat_with_epsilon(reading.values[WBD_QUANTITY_POWER], w, 1e-9);
	g_assert_cmpfloat_with_epsilon(reading.values[WBD_QUANTITY_VOLTAGE], v, 1e-9);
	g_assert_cmpfloat_with_epsilon(reading.values[WBD_QUANTITY_CURRENT], a, 1e-9);
	g_assert_cmpfloat_with_epsilon(reading.values[WBD_QUANTITY_ENERGY], wh, 1e-9);
}

/* the examples of spec §8.1 */
static void
test_realtime_examples(void)
{
	check_fixture_reading("HS110(EU)_1.0_1.2.5.json", 0.928511, 231.067823, 0.014937, 55139);
	check_fixture_reading("KP125(US)_1.0_1.0.6.json", 100.277, 119.425, 0.978, 12170);
	check_fixture_reading("HS110(EU)_4.0_1.0.4.json", 61.753, 230.837, 0.451, 16323);
}

static void
parse_realtime_json(const gchar *json, WbdMeterReading *reading)
{
	g_autoptr(JsonNode) node = wbt_json_parse(json);
	wbd_kasa_parse_realtime(json_node_get_object(node), reading);
}

static void
test_realtime_styles(void)
{
	WbdMeterReading r;

	/* new style: integers in milli-units, energy in Wh */
	parse_realtime_json("{\"power_mw\":1500,\"voltage_mv\":230000,\"current_ma\":7,\"total_"
			    "wh\":2}",
			    &r);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_POWER], 1.5, 1e-12);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_VOLTAGE], 230, 1e-12);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_CURRENT], 0.007, 1e-12);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_ENERGY], 2, 1e-12);

	/* old style: floats in the unit, energy in kWh */
	parse_realtime_json("{\"power\":1.5,\"voltage\":230.1,\"current\":0.007,\"total\":0.002}",
			    &r);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_POWER], 1.5, 1e-12);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_VOLTAGE], 230.1, 1e-12);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_CURRENT], 0.007, 1e-12);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_ENERGY], 2, 1e-12);

	/* old style with integer values (a device at exactly 0 W) */
	parse_realtime_json("{\"power\":0,\"total\":1}", &r);
	g_assert_true(wbd_meter_reading_has(&r, WBD_QUANTITY_POWER));
	g_assert_cmpfloat(r.values[WBD_QUANTITY_POWER], ==, 0);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_ENERGY], 1000, 1e-12);

	/* the bare key wins when both are there, whatever the magnitudes */
	parse_realtime_json("{\"power\":2.0,\"power_mw\":5000}", &r);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_POWER], 2.0, 1e-12);
}

static void
test_realtime_missing(void)
{
	WbdMeterReading r;

	/* missing is unknown, not 0 */
	parse_realtime_json("{\"err_code\":0,\"slot_id\":3,\"power_mw\":100}", &r);
	g_assert_cmpuint(r.measured, ==, 1u << WBD_QUANTITY_POWER);
	g_assert_false(wbd_meter_reading_has(&r, WBD_QUANTITY_VOLTAGE));
	g_assert_false(wbd_meter_reading_has(&r, WBD_QUANTITY_CURRENT));
	g_assert_false(wbd_meter_reading_has(&r, WBD_QUANTITY_ENERGY));
	g_assert_true(isnan(r.values[WBD_QUANTITY_VOLTAGE]));

	parse_realtime_json("{}", &r);
	g_assert_cmpuint(r.measured, ==, 0);

	/* wrong types are not readings */
	parse_realtime_json("{\"power\":\"12\",\"voltage_mv\":null,\"current\":[1],\"total_wh\":{},"
			    "\"total\":true}",
			    &r);
	g_assert_cmpuint(r.measured, ==, 0);

	/* a bad bare key does not hide a good suffixed one */
	parse_realtime_json("{\"power\":\"12\",\"power_mw\":12000}", &r);
	g_assert_cmpuint(r.measured, ==, 1u << WBD_QUANTITY_POWER);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_POWER], 12, 1e-12);

	/* a number too large for a double is not a reading */
	parse_realtime_json("{\"power\":1e999}", &r);
	g_assert_false(wbd_meter_reading_has(&r, WBD_QUANTITY_POWER));

	/* whatever was there before is forgotten */
	wbd_meter_reading_set(&r, WBD_QUANTITY_FREQUENCY, 50);
	parse_realtime_json("{\"voltage\":1}", &r);
	g_assert_cmpuint(r.measured, ==, 1u << WBD_QUANTITY_VOLTAGE);
}

static WbdKasaSysinfo *
parse_sysinfo_json(const gchar *json, GError **error)
{
	g_autoptr(JsonNode) node = wbt_json_parse(json);
	WbdKasaSysinfo *info;

	g_test_message("%s", json);
	info = wbd_kasa_sysinfo_parse(json_node_get_object(node), error);
	g_assert_true((info == NULL) == (*error != NULL));
	return info;
}

static void
assert_sysinfo_fails(const gchar *json, gint code)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdKasaSysinfo) info = parse_sysinfo_json(json, &error);
	g_assert_null(info);
	g_assert_error(error, WATTBUS_ERROR, code);
}

static void
test_sysinfo_children_types(void)
{
	static const gchar *const bad[] = {
	    "{" BASE ",\"children\":[1]}",
	    "{" BASE ",\"children\":[null]}",
	    "{" BASE ",\"children\":[\"00\"]}",
	    "{" BASE ",\"children\":[[\"00\",1]]}",
	    "{" BASE ",\"children\":[{\"id\":5,\"state\":1}]}",
	    "{" BASE ",\"children\":[{\"id\":\"00\",\"state\":\"1\"}]}",
	    "{" BASE ",\"children\":[{\"id\":\"00\"}]}",
	    "{" BASE ",\"children\":[{\"state\":1}]}",
	    "{" BASE ",\"children\":[{\"id\":\"\",\"state\":1}]}",
	    "{" BASE ",\"children\":[{\"id\":null,\"state\":1}]}",
	    /* one bad outlet spoils the strip */
	    "{" BASE ",\"children\":[{\"id\":\"00\",\"state\":1},{\"id\":\"01\",\"state\":{}}]}",
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdKasaSysinfo) info = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
		assert_sysinfo_fails(bad[i], WATTBUS_ERROR_FAILED);

	/* "children" that is not an array falls back to the relay */
	info =
	    parse_sysinfo_json("{" BASE ",\"children\":{\"id\":\"00\"},\"relay_state\":1}", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(info->children->len, ==, 0);
	g_assert_cmpint(info->relay_state, ==, 1);
	g_assert_cmpstr(wbd_kasa_sysinfo_get_kind(info), ==, "outlet");
	g_clear_pointer(&info, wbd_kasa_sysinfo_free);

	/* so does an empty list */
	info = parse_sysinfo_json("{" BASE ",\"children\":[],\"relay_state\":0}", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(info->children->len, ==, 0);
	g_assert_cmpint(info->relay_state, ==, 0);
	g_clear_pointer(&info, wbd_kasa_sysinfo_free);

	/* and a bad "children" without relay_state is an error */
	assert_sysinfo_fails("{" BASE ",\"children\":\"00\"}", WATTBUS_ERROR_FAILED);
}

static void
test_sysinfo_children_ids(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdKasaSysinfo) info = NULL;
	const WbdKasaChild *child;

	/* UDP replies carry only the two last digits: the parent id is prepended */
	info = parse_sysinfo_json("{" BASE ",\"children\":[{\"id\":\"00\",\"state\":0,\"alias\":"
					   "\"A\"},"
				  "{\"id\":\"01\",\"state\":1},"
				  "{\"id\":\"" DEVICE_ID "02\",\"state\":2,\"alias\":7}]}",
				  &error);
	g_assert_no_error(error);
	g_assert_cmpuint(info->children->len, ==, 3);
	g_assert_cmpint(info->relay_state, ==, -1);
	g_assert_cmpstr(wbd_kasa_sysinfo_get_kind(info), ==, "strip");
	child = g_ptr_array_index(info->children, 0);
	g_assert_cmpstr(child->id, ==, DEVICE_ID "00");
	g_assert_cmpstr(child->alias, ==, "A");
	g_assert_false(child->on);
	child = g_ptr_array_index(info->children, 1);
	g_assert_cmpstr(child->id, ==, DEVICE_ID "01");
	g_assert_null(child->alias);
	g_assert_true(child->on);
	child = g_ptr_array_index(info->children, 2);
	g_assert_cmpstr(child->id, ==, DEVICE_ID "02");
	g_assert_null(child->alias);
	g_assert_true(child->on);
}

static gchar *
make_strip(guint n)
{
	GString *json = g_string_new("{" BASE ",\"children\":[");
	for (guint i = 0; i < n; i++)
		g_string_append_printf(
		    json, "%s{\"id\":\"%02u\",\"state\":%u}", i > 0 ? "," : "", i, i % 2);
	g_string_append(json, "]}");
	return g_string_free(json, FALSE);
}

static void
test_sysinfo_children_limit(void)
{
	g_autofree gchar *json16 = make_strip(WBD_KASA_MAX_CHILDREN);
	g_autofree gchar *json17 = make_strip(WBD_KASA_MAX_CHILDREN + 1);
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdKasaSysinfo) info = NULL;

	g_assert_cmpuint(WBD_KASA_MAX_CHILDREN, ==, 16);
	info = parse_sysinfo_json(json16, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(info->children->len, ==, 16);
	assert_sysinfo_fails(json17, WATTBUS_ERROR_FAILED);
}

static void
test_sysinfo_identity(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdKasaSysinfo) info = NULL;

	/* both are required */
	assert_sysinfo_fails("{\"model\":\"HS100(US)\",\"relay_state\":1}", WATTBUS_ERROR_FAILED);
	assert_sysinfo_fails("{\"deviceId\":\"" DEVICE_ID "\",\"relay_state\":1}",
			     WATTBUS_ERROR_FAILED);
	assert_sysinfo_fails("{\"deviceId\":42,\"model\":\"HS100(US)\",\"relay_state\":1}",
			     WATTBUS_ERROR_FAILED);
	assert_sysinfo_fails("{}", WATTBUS_ERROR_FAILED);

	/* not a plug: bulbs and SMART devices */
	assert_sysinfo_fails("{" BASE ",\"type\":\"IOT.SMARTBULB\",\"relay_state\":1}",
			     WATTBUS_ERROR_NOT_SUPPORTED);
	assert_sysinfo_fails("{" BASE ",\"mic_type\":\"IOT.SMARTBULB\",\"light_state\":{}}",
			     WATTBUS_ERROR_NOT_SUPPORTED);
	assert_sysinfo_fails("{" BASE ",\"mic_type\":\"SMART.KASAPLUG\",\"relay_state\":1}",
			     WATTBUS_ERROR_NOT_SUPPORTED);

	/* mic_type wins over type; a missing type is accepted */
	info = parse_sysinfo_json("{" BASE ",\"mic_type\":\"IOT.SMARTPLUGSWITCH\",\"type\":\"IOT."
					   "SMARTBULB\","
				  "\"relay_state\":1}",
				  &error);
	g_assert_no_error(error);
	g_assert_cmpstr(info->type, ==, "IOT.SMARTPLUGSWITCH");
	g_clear_pointer(&info, wbd_kasa_sysinfo_free);
	info = parse_sysinfo_json("{" BASE ",\"relay_state\":1}", &error);
	g_assert_no_error(error);
	g_assert_null(info->type);
	g_assert_null(info->mac);
	g_assert_null(info->alias);
	g_assert_false(info->has_emeter);
}

static void
test_sysinfo_mac(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdKasaSysinfo) info = NULL;

	/* mic_mac has no separators */
	info =
	    parse_sysinfo_json("{" BASE ",\"mic_mac\":\"50C7BF123456\",\"relay_state\":1}", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(info->mac, ==, "50:C7:BF:12:34:56");
	g_clear_pointer(&info, wbd_kasa_sysinfo_free);

	/* mac wins over mic_mac */
	info = parse_sysinfo_json("{" BASE ",\"mac\":\"50:C7:BF:00:00:01\",\"mic_mac\":"
					   "\"50C7BF123456\","
				  "\"relay_state\":1}",
				  &error);
	g_assert_no_error(error);
	g_assert_cmpstr(info->mac, ==, "50:C7:BF:00:00:01");
	g_clear_pointer(&info, wbd_kasa_sysinfo_free);

	/* a mac that is not a string does not hide mic_mac */
	info = parse_sysinfo_json("{" BASE ",\"mac\":5,\"mic_mac\":\"50C7BF123456\",\"relay_"
					   "state\":1}",
				  &error);
	g_assert_no_error(error);
	g_assert_cmpstr(info->mac, ==, "50:C7:BF:12:34:56");
	g_clear_pointer(&info, wbd_kasa_sysinfo_free);

	/* a mic_mac of the wrong length is dropped, not cut or padded */
	info =
	    parse_sysinfo_json("{" BASE ",\"mic_mac\":\"50C7BF12345\",\"relay_state\":1}", &error);
	g_assert_no_error(error);
	g_assert_null(info->mac);
	g_clear_pointer(&info, wbd_kasa_sysinfo_free);
	info = parse_sysinfo_json("{" BASE ",\"mic_mac\":\"50C7BF1234567\",\"relay_state\":1}",
				  &error);
	g_assert_no_error(error);
	g_assert_null(info->mac);
}

static void
test_sysinfo_relay_state(void)
{
	static const struct {
		const gchar *value;
		gint relay_state;
	} cases[] = {
	    {"0", 0},
	    {"1", 1},
	    {"1.0", 1},
	    {"2", 1},
	    {"-1", 1},
	};
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *json =
		    g_strdup_printf("{" BASE ",\"relay_state\":%s}", cases[i].value);
		g_autoptr(WbdKasaSysinfo) info = parse_sysinfo_json(json, &error);
		g_assert_no_error(error);
		g_assert_cmpint(info->relay_state, ==, cases[i].relay_state);
	}
	/* neither a relay nor outlets */
	assert_sysinfo_fails("{" BASE ",\"relay_state\":\"1\"}", WATTBUS_ERROR_FAILED);
	assert_sysinfo_fails("{" BASE ",\"relay_state\":true}", WATTBUS_ERROR_FAILED);
	assert_sysinfo_fails("{" BASE ",\"relay_state\":null}", WATTBUS_ERROR_FAILED);
	assert_sysinfo_fails("{" BASE "}", WATTBUS_ERROR_FAILED);
}

static void
test_sysinfo_feature(void)
{
	static const struct {
		const gchar *feature;
		gboolean has_emeter;
	} cases[] = {
	    {"\"TIM:ENE\"", TRUE},
	    {"\"ENE\"", TRUE},
	    {"\"ENE:TIM\"", TRUE},
	    {"\"TIM\"", FALSE},
	    {"\"TIM:ENEX\"", FALSE},
	    {"\"TIM:XENE\"", FALSE},
	    {"\"\"", FALSE},
	    {"42", FALSE},
	    {"[\"ENE\"]", FALSE},
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *json = g_strdup_printf("{" BASE ",\"feature\":%s,\"relay_state\":"
								  "1}",
							 cases[i].feature);
		g_autoptr(GError) error = NULL;
		g_autoptr(WbdKasaSysinfo) info = parse_sysinfo_json(json, &error);
		g_assert_no_error(error);
		g_assert_cmpint(info->has_emeter, ==, cases[i].has_emeter);
		g_autoptr(JsonNode) node = wbt_json_parse(json);
		/* the test's own reading agrees */
		g_assert_cmpint(feature_has_ene(wbt_json_lookup_string(node, "feature", NULL)),
				==,
				cases[i].has_emeter);
	}
}

static void
set_reading(WbdMeterReading *r, gdouble w, gdouble v, gdouble a, gdouble wh)
{
	wbd_meter_reading_init(r);
	wbd_meter_reading_set(r, WBD_QUANTITY_POWER, w);
	wbd_meter_reading_set(r, WBD_QUANTITY_VOLTAGE, v);
	wbd_meter_reading_set(r, WBD_QUANTITY_CURRENT, a);
	wbd_meter_reading_set(r, WBD_QUANTITY_ENERGY, wh);
}

static void
test_sum_readings(void)
{
	WbdMeterReading outlets[3];
	WbdMeterReading total;

	set_reading(&outlets[0], 10, 230, 0.1, 100);
	set_reading(&outlets[1], 20, 232, 0.2, 200);
	set_reading(&outlets[2], 0, 234, 0, 0);
	wbd_kasa_sum_readings(outlets, 3, &total);
	g_assert_cmpfloat_with_epsilon(total.values[WBD_QUANTITY_POWER], 30, 1e-9);
	g_assert_cmpfloat_with_epsilon(total.values[WBD_QUANTITY_CURRENT], 0.3, 1e-9);
	g_assert_cmpfloat_with_epsilon(total.values[WBD_QUANTITY_ENERGY], 300, 1e-9);
	/* voltage is the mean, not the sum */
	g_assert_cmpfloat_with_epsilon(total.values[WBD_QUANTITY_VOLTAGE], 232, 1e-9);
	g_assert_cmpuint(total.measured,
			 ==,
			 1u << WBD_QUANTITY_POWER | 1u << WBD_QUANTITY_VOLTAGE |
			     1u << WBD_QUANTITY_CURRENT | 1u << WBD_QUANTITY_ENERGY);

	/* one outlet without power: the strip's power is unknown, the rest still adds up */
	wbd_meter_reading_init(&outlets[1]);
	wbd_meter_reading_set(&outlets[1], WBD_QUANTITY_VOLTAGE, 240);
	wbd_meter_reading_set(&outlets[1], WBD_QUANTITY_CURRENT, 0.2);
	wbd_meter_reading_set(&outlets[1], WBD_QUANTITY_ENERGY, 200);
	wbd_kasa_sum_readings(outlets, 3, &total);
	g_assert_false(wbd_meter_reading_has(&total, WBD_QUANTITY_POWER));
	g_assert_true(isnan(total.values[WBD_QUANTITY_POWER]));
	g_assert_cmpfloat_with_epsilon(total.values[WBD_QUANTITY_CURRENT], 0.3, 1e-9);
	g_assert_cmpfloat_with_epsilon(
	    total.values[WBD_QUANTITY_VOLTAGE], (230 + 240 + 234) / 3.0, 1e-9);

	/* voltage: the mean of the outlets that know it */
	wbd_meter_reading_init(&outlets[2]);
	wbd_kasa_sum_readings(outlets, 3, &total);
	g_assert_cmpfloat_with_epsilon(total.values[WBD_QUANTITY_VOLTAGE], 235, 1e-9);
	g_assert_false(wbd_meter_reading_has(&total, WBD_QUANTITY_CURRENT));
	g_assert_false(wbd_meter_reading_has(&total, WBD_QUANTITY_ENERGY));

	/* no voltage anywhere: unknown, not 0/0 */
	for (guint i = 0; i < 3; i++)
		wbd_meter_reading_init(&outlets[i]);
	wbd_kasa_sum_readings(outlets, 3, &total);
	g_assert_cmpuint(total.measured, ==, 0);

	/* no outlets at all */
	set_reading(&total, 1, 2, 3, 4);
	wbd_kasa_sum_readings(NULL, 0, &total);
	g_assert_cmpuint(total.measured, ==, 0);
}

/* the strip's total from the two HS300 fixtures' outlet-0 readings */
static void
test_sum_readings_fixtures(void)
{
	static const gchar *const names[] = {"HS300(US)_1.0_1.0.10.json",
					     "HS300(US)_2.0_1.0.12.json"};
	WbdMeterReading outlets[G_N_ELEMENTS(names)];
	WbdMeterReading total;

	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autoptr(JsonNode) root = wbt_fixture_load(names[i]);
		JsonNode *rt = wbt_json_lookup(root, "emeter", "get_realtime", NULL);
		wbd_kasa_parse_realtime(json_node_get_object(rt), &outlets[i]);
	}
	wbd_kasa_sum_readings(outlets, G_N_ELEMENTS(outlets), &total);
	/* 17 mW + 277 mW, 4 mA + 6 mA, 1279 Wh + 62 Wh, mean of 122.414 V and 120.110 V */
	g_assert_cmpfloat_with_epsilon(total.values[WBD_QUANTITY_POWER], 0.294, 1e-9);
	g_assert_cmpfloat_with_epsilon(total.values[WBD_QUANTITY_CURRENT], 0.010, 1e-9);
	g_assert_cmpfloat_with_epsilon(total.values[WBD_QUANTITY_ENERGY], 1341, 1e-9);
	g_assert_cmpfloat_with_epsilon(total.values[WBD_QUANTITY_VOLTAGE], 121.262, 1e-9);
}

static void
test_meter_reading(void)
{
	WbdMeterReading r;

	memset(&r, 0xaa, sizeof(r));
	wbd_meter_reading_init(&r);
	g_assert_cmpuint(r.measured, ==, 0);
	g_assert_cmpuint(r.n_phases, ==, 0);
	g_assert_cmpuint(r.phase_measured, ==, 0);
	for (guint q = 0; q < WBD_QUANTITY_LAST; q++) {
		g_assert_false(wbd_meter_reading_has(&r, q));
		g_assert_true(isnan(r.values[q]));
		for (guint p = 0; p < WBD_METER_MAX_PHASES; p++)
			g_assert_true(isnan(r.phase[q][p]));
	}

	wbd_meter_reading_set(&r, WBD_QUANTITY_ENERGY, 0);
	g_assert_true(wbd_meter_reading_has(&r, WBD_QUANTITY_ENERGY));
	g_assert_cmpfloat(r.values[WBD_QUANTITY_ENERGY], ==, 0);
	g_assert_cmpuint(r.measured, ==, 1u << WBD_QUANTITY_ENERGY);

	/* not a number is not a reading */
	wbd_meter_reading_set(&r, WBD_QUANTITY_POWER, NAN);
	wbd_meter_reading_set(&r, WBD_QUANTITY_VOLTAGE, INFINITY);
	wbd_meter_reading_set(&r, WBD_QUANTITY_CURRENT, -INFINITY);
	g_assert_cmpuint(r.measured, ==, 1u << WBD_QUANTITY_ENERGY);

	/* out of range is simply not there */
	g_assert_false(wbd_meter_reading_has(&r, WBD_QUANTITY_LAST));
	g_assert_false(wbd_meter_reading_has(&r, (WbdQuantity)31));
	g_assert_false(wbd_meter_reading_has(&r, (WbdQuantity)G_MAXINT));
}

int
main(int argc, char **argv)
{
	g_autoptr(GPtrArray) names = NULL;

	/* debug output (G_MESSAGES_DEBUG=all) must not mix with the TAP stream on stdout */
	g_log_writer_default_set_use_stderr(TRUE);
	g_test_init(&argc, &argv, NULL);

	names = wbt_fixture_list();
	for (guint i = 0; i < names->len; i++) {
		const gchar *name = g_ptr_array_index(names, i);
		g_autofree gchar *path = g_strdup_printf("/kasa/sysinfo/fixture/%s", name);
		g_test_add_data_func_full(path, g_strdup(name), test_sysinfo_fixture, g_free);
	}
	g_test_add_func("/kasa/sysinfo/fixtures-present", test_sysinfo_fixtures_present);
	g_test_add_func("/kasa/sysinfo/children/types", test_sysinfo_children_types);
	g_test_add_func("/kasa/sysinfo/children/ids", test_sysinfo_children_ids);
	g_test_add_func("/kasa/sysinfo/children/limit", test_sysinfo_children_limit);
	g_test_add_func("/kasa/sysinfo/identity", test_sysinfo_identity);
	g_test_add_func("/kasa/sysinfo/mac", test_sysinfo_mac);
	g_test_add_func("/kasa/sysinfo/relay-state", test_sysinfo_relay_state);
	g_test_add_func("/kasa/sysinfo/feature", test_sysinfo_feature);
	g_test_add_func("/kasa/realtime/examples", test_realtime_examples);
	g_test_add_func("/kasa/realtime/styles", test_realtime_styles);
	g_test_add_func("/kasa/realtime/missing", test_realtime_missing);
	g_test_add_func("/kasa/realtime/sum", test_sum_readings);
	g_test_add_func("/kasa/realtime/sum-fixtures", test_sum_readings_fixtures);
	g_test_add_func("/meter/reading", test_meter_reading);

	return g_test_run();
}
