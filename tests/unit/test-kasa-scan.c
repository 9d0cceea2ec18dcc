/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-kasa-codec.h"
#include "wbd-kasa-scan.h"
#include "wbt-fixture.h"

/*
 * The poll reply's scanner (wbd-kasa-scan.c): real replies are read with the values
 * below, which were read by eye from the fixtures in tests/data/kasa; what it does not
 * handle is declined and then read by json-glib as before.
 */

#define ZERO_ID "0000000000000000000000000000000000000000"

/* what a plug answers to the combined poll, cut from a fixture (spec §5) */
static gchar *
fixture_poll_reply(const gchar *name, gboolean with_emeter)
{
	g_autoptr(JsonNode) fixture = wbt_fixture_load(name);
	g_autofree gchar *system = wbt_fixture_reply(fixture, "system", "get_sysinfo");
	g_autofree gchar *emeter = NULL;

	if (!with_emeter)
		return g_steal_pointer(&system);
	emeter = wbt_fixture_reply(fixture, "emeter", "get_realtime");
	/* {"system":{...}} + {"emeter":{...}} → {"system":{...},"emeter":{...}} */
	system[strlen(system) - 1] = '\0';
	return g_strconcat(system, ",", emeter + 1, NULL);
}

static gboolean
scan(const gchar *text, WbdKasaScan *result)
{
	return wbd_kasa_scan_poll_reply(text, strlen(text), result);
}

static void
assert_declined(const gchar *text)
{
	WbdKasaScan result;
	if (scan(text, &result))
		g_error("accepted: %s", text);
	g_assert_null(result.sysinfo);
	g_assert_false(result.has_realtime);
}

static void
assert_value(const WbdMeterReading *reading, WbdQuantity quantity, gdouble expected)
{
	g_assert_true(wbd_meter_reading_has(reading, quantity));
	g_assert_cmpfloat_with_epsilon(reading->values[quantity], expected, 1e-9);
}

static void
test_scan_hs110_eu_4(void)
{
	g_autofree gchar *text = fixture_poll_reply("HS110(EU)_4.0_1.0.4.json", TRUE);
	WbdKasaScan result;

	g_assert_true(scan(text, &result));
	g_assert_cmpstr(result.sysinfo->device_id, ==, ZERO_ID);
	g_assert_cmpstr(result.sysinfo->alias, ==, "#MASKED_NAME#");
	g_assert_cmpstr(result.sysinfo->model, ==, "HS110(EU)");
	g_assert_cmpstr(result.sysinfo->hw_ver, ==, "4.0");
	g_assert_cmpstr(result.sysinfo->sw_ver, ==, "1.0.4 Build 191111 Rel.143500");
	g_assert_cmpstr(result.sysinfo->mac, ==, "B0:95:75:00:00:00");
	g_assert_cmpstr(result.sysinfo->type, ==, "IOT.SMARTPLUGSWITCH");
	g_assert_cmpstr(result.sysinfo->dev_name, ==, "Smart Wi-Fi Plug With Energy Monitoring");
	g_assert_true(result.sysinfo->has_emeter);
	g_assert_cmpint(result.sysinfo->relay_state, ==, 1);
	g_assert_cmpuint(result.sysinfo->children->len, ==, 0);
	/* "power_mw":61753,"voltage_mv":230837,"current_ma":451,"total_wh":16323 */
	g_assert_true(result.has_realtime);
	assert_value(&result.realtime, WBD_QUANTITY_POWER, 61.753);
	assert_value(&result.realtime, WBD_QUANTITY_VOLTAGE, 230.837);
	assert_value(&result.realtime, WBD_QUANTITY_CURRENT, 0.451);
	assert_value(&result.realtime, WBD_QUANTITY_ENERGY, 16323);
	g_assert_cmpuint(result.realtime.measured,
			 ==,
			 1u << WBD_QUANTITY_POWER | 1u << WBD_QUANTITY_VOLTAGE |
			     1u << WBD_QUANTITY_CURRENT | 1u << WBD_QUANTITY_ENERGY);
	wbd_kasa_scan_clear(&result);
}

/* old firmware: "type", and the float style in W, V, A, kWh */
static void
test_scan_hs110_eu_1(void)
{
	g_autofree gchar *text = fixture_poll_reply("HS110(EU)_1.0_1.2.5.json", TRUE);
	WbdKasaScan result;

	g_assert_true(scan(text, &result));
	g_assert_cmpstr(result.sysinfo->model, ==, "HS110(EU)");
	g_assert_cmpstr(result.sysinfo->hw_ver, ==, "1.0");
	g_assert_cmpstr(result.sysinfo->sw_ver, ==, "1.2.5 Build 171213 Rel.101523");
	g_assert_cmpstr(result.sysinfo->mac, ==, "50:C7:BF:00:00:00");
	g_assert_cmpstr(result.sysinfo->type, ==, "IOT.SMARTPLUGSWITCH");
	g_assert_cmpstr(result.sysinfo->dev_name, ==, "Wi-Fi Smart Plug With Energy Monitoring");
	g_assert_true(result.sysinfo->has_emeter);
	g_assert_cmpint(result.sysinfo->relay_state, ==, 1);
	/* "current":0.014937,"power":0.928511,"total":55.139,"voltage":231.067823 */
	g_assert_true(result.has_realtime);
	assert_value(&result.realtime, WBD_QUANTITY_POWER, 0.928511);
	assert_value(&result.realtime, WBD_QUANTITY_VOLTAGE, 231.067823);
	assert_value(&result.realtime, WBD_QUANTITY_CURRENT, 0.014937);
	assert_value(&result.realtime, WBD_QUANTITY_ENERGY, 55139);
	wbd_kasa_scan_clear(&result);
}

static void
test_scan_kp115_eu(void)
{
	g_autofree gchar *text = fixture_poll_reply("KP115(EU)_1.0_1.0.16.json", TRUE);
	WbdKasaScan result;

	g_assert_true(scan(text, &result));
	g_assert_cmpstr(result.sysinfo->model, ==, "KP115(EU)");
	g_assert_cmpstr(result.sysinfo->sw_ver, ==, "1.0.16 Build 210205 Rel.163735");
	g_assert_cmpstr(result.sysinfo->mac, ==, "C0:06:C3:00:00:00");
	g_assert_cmpstr(result.sysinfo->dev_name, ==, "Smart Wi-Fi Plug Mini");
	g_assert_cmpint(result.sysinfo->relay_state, ==, 1);
	/* "current_ma":296,"power_mw":63499,"total_wh":12068,"voltage_mv":230577 */
	assert_value(&result.realtime, WBD_QUANTITY_POWER, 63.499);
	assert_value(&result.realtime, WBD_QUANTITY_VOLTAGE, 230.577);
	assert_value(&result.realtime, WBD_QUANTITY_CURRENT, 0.296);
	assert_value(&result.realtime, WBD_QUANTITY_ENERGY, 12068);
	wbd_kasa_scan_clear(&result);
}

/* a plug without a meter is polled with sysinfo alone */
static void
test_scan_sysinfo_only(void)
{
	g_autofree gchar *text = fixture_poll_reply("HS200(US)_5.0_1.0.11.json", FALSE);
	WbdKasaScan result;

	g_assert_true(scan(text, &result));
	g_assert_cmpstr(result.sysinfo->model, ==, "HS200(US)");
	g_assert_cmpstr(result.sysinfo->hw_ver, ==, "5.0");
	g_assert_cmpstr(result.sysinfo->sw_ver, ==, "1.0.11 Build 230908 Rel.160526");
	g_assert_cmpstr(result.sysinfo->mac, ==, "28:87:BA:00:00:00");
	g_assert_cmpstr(result.sysinfo->dev_name, ==, "Smart Wi-Fi Light Switch");
	g_assert_false(result.sysinfo->has_emeter);
	g_assert_cmpint(result.sysinfo->relay_state, ==, 0);
	g_assert_false(result.has_realtime);
	wbd_kasa_scan_clear(&result);
}

/* real replies the scanner leaves to json-glib */
static void
test_scan_fixtures_declined(void)
{
	/* a method-level error on get_realtime ("module not support") */
	g_autofree gchar *hs100_2 = fixture_poll_reply("HS100(US)_2.0_1.5.6.json", TRUE);
	/* a module-level error object instead of the method map */
	g_autofree gchar *hs100_1 = fixture_poll_reply("HS100(US)_1.0_1.2.5.json", TRUE);
	/* strips: children */
	g_autofree gchar *hs300 = fixture_poll_reply("HS300(US)_2.0_1.0.12.json", TRUE);
	g_autofree gchar *kp303 = fixture_poll_reply("KP303(US)_2.0_1.0.9.json", FALSE);

	assert_declined(hs100_2);
	assert_declined(hs100_1);
	assert_declined(hs300);
	assert_declined(kp303);
}

#define PLUG "\"deviceId\":\"D1\",\"model\":\"HS110(EU)\",\"relay_state\":1"
#define SYS(members) "{\"system\":{\"get_sysinfo\":{" members "}}}"
#define BOTH(members, realtime)                                                                    \
	"{\"system\":{\"get_sysinfo\":{" members "}},\"emeter\":{\"get_realtime\":{" realtime "}}}"

static void
test_scan_accepted_edges(void)
{
	WbdKasaScan result;
	gdouble zero;

	/* JSON's four whitespace characters, values of every type skipped */
	g_assert_true(scan(" \r\n\t{ \"system\" : {\"get_sysinfo\":{" PLUG
			   ",\"a\":[1,-2.5,[],{}],\"b\":{\"c\":[true,false,null]},\"d\":\"\"} } }\n",
			   &result));
	g_assert_cmpstr(result.sysinfo->device_id, ==, "D1");
	g_assert_null(result.sysinfo->alias);
	g_assert_null(result.sysinfo->mac);
	g_assert_null(result.sysinfo->type);
	g_assert_false(result.sysinfo->has_emeter);
	wbd_kasa_scan_clear(&result);

	/* UTF-8 as it is; mic_mac without colons; err_code 0 at both levels */
	g_assert_true(scan("{\"system\":{\"err_code\":0,\"get_sysinfo\":{" PLUG
			   ",\"alias\":\"K\xc3\xbc" "che\",\"mic_mac\":\"AABBCCDDEEFF\","
			   "\"feature\":\"ENE:TIM\",\"err_code\":0}}}",
			   &result));
	g_assert_cmpstr(result.sysinfo->alias, ==, "K\xc3\xbc" "che");
	g_assert_cmpstr(result.sysinfo->mac, ==, "AA:BB:CC:DD:EE:FF");
	g_assert_true(result.sysinfo->has_emeter);
	wbd_kasa_scan_clear(&result);

	/* relay_state 0; mic_type wins over type */
	g_assert_true(scan(SYS("\"deviceId\":\"D1\",\"model\":\"M\",\"relay_state\":0,"
			       "\"type\":\"X\",\"mic_type\":\"IOT.SMARTPLUGSWITCH\""),
			   &result));
	g_assert_cmpint(result.sysinfo->relay_state, ==, 0);
	g_assert_cmpstr(result.sysinfo->type, ==, "IOT.SMARTPLUGSWITCH");
	wbd_kasa_scan_clear(&result);

	/*
	 * json-glib: "-0" is the integer 0 (so +0.0), "-0.0" the double -0.0; bare keys win
	 * over milli ones; a realtime with nothing measured
	 */
	g_assert_true(scan(BOTH(PLUG, "\"power_mw\":-0,\"voltage\":-0.0,\"voltage_mv\":5,"
				      "\"current_ma\":123456789012345,\"total\":0.5"),
			   &result));
	g_assert_true(result.has_realtime);
	zero = result.realtime.values[WBD_QUANTITY_POWER];
	g_assert_true(zero == 0 && !signbit(zero));
	zero = result.realtime.values[WBD_QUANTITY_VOLTAGE];
	g_assert_true(zero == 0 && signbit(zero));
	g_assert_cmpfloat_with_epsilon(result.realtime.values[WBD_QUANTITY_CURRENT],
				       123456789012.345,
				       1e-3);
	assert_value(&result.realtime, WBD_QUANTITY_ENERGY, 500);
	wbd_kasa_scan_clear(&result);

	g_assert_true(scan(BOTH(PLUG, "\"err_code\":0"), &result));
	g_assert_true(result.has_realtime);
	g_assert_cmpuint(result.realtime.measured, ==, 0);
	wbd_kasa_scan_clear(&result);
}

static void
test_scan_declined_edges(void)
{
	static const gchar *const declined[] = {
	    /* escapes and control characters in strings */
	    SYS(PLUG ",\"alias\":\"a\\\"b\""),
	    SYS(PLUG ",\"alias\":\"\\u00fc\""),
	    SYS(PLUG ",\"x\":\"\\/\""),
	    SYS(PLUG ",\"alias\":\"a\tb\""),
	    /* a member the driver reads, twice (json-glib keeps the last) */
	    SYS(PLUG ",\"relay_state\":0"),
	    SYS(PLUG ",\"alias\":\"a\",\"alias\":\"b\""),
	    "{\"system\":{\"get_sysinfo\":{" PLUG "}},\"system\":{\"get_sysinfo\":{" PLUG "}}}",
	    /* of another type */
	    SYS(PLUG ",\"alias\":null"),
	    SYS(PLUG ",\"mac\":5"),
	    SYS("\"deviceId\":\"D1\",\"model\":\"M\",\"relay_state\":true"),
	    BOTH(PLUG, "\"power_mw\":\"5\""),
	    "{\"system\":{\"get_sysinfo\":[]}}",
	    "{\"system\":[]}",
	    /* errors, and err_code other than 0 (0.5 is 0 to the driver, -1 a refusal) */
	    SYS(PLUG ",\"err_code\":-1"),
	    SYS(PLUG ",\"err_code\":0.5"),
	    "{\"system\":{\"err_code\":-2,\"err_msg\":\"x\"}}",
	    "{\"system\":{\"err_code\":1,\"get_sysinfo\":{" PLUG "}}}",
	    BOTH(PLUG, "\"err_code\":-1,\"err_msg\":\"module not support\""),
	    "{\"system\":{\"get_sysinfo\":{" PLUG "}},\"emeter\":{\"err_code\":-1}}",
	    /* numbers json-glib reads its own way */
	    BOTH(PLUG, "\"power_mw\":6.1e4"),
	    BOTH(PLUG, "\"power_mw\":012"),
	    BOTH(PLUG, "\"power_mw\":1234567890123456"),
	    BOTH(PLUG, "\"power_mw\":1."),
	    BOTH(PLUG, "\"power_mw\":.5"),
	    BOTH(PLUG, "\"power_mw\":- 5"),
	    BOTH(PLUG, "\"power_mw\":0x10"),
	    BOTH(PLUG, "\"power\":1.000000000000000000000000000000001"),
	    /* not the reply to a poll, or not what the driver accepts */
	    "{\"system\":{\"get_sysinfo\":{" PLUG "}},\"time\":{\"get_time\":{}}}",
	    "{\"emeter\":{\"get_realtime\":{}}}",
	    "{\"system\":{\"get_sysinfo\":{" PLUG "}},\"emeter\":{}}",
	    "{}",
	    SYS("\"model\":\"M\",\"relay_state\":1"),
	    SYS("\"deviceId\":\"D1\",\"relay_state\":1"),
	    SYS("\"deviceId\":\"D1\",\"model\":\"M\""),
	    SYS(PLUG ",\"mic_type\":\"IOT.SMARTBULB\""),
	    SYS(PLUG ",\"children\":[]"),
	    /* JSON it leaves to json-glib: nesting, commas, trailing text, whitespace */
	    SYS(PLUG ",\"x\":[[[[[[[1]]]]]]]"),
	    SYS(PLUG ","),
	    "{\"system\":{\"get_sysinfo\":{" PLUG "}}}{}",
	    "{\"system\":{\"get_sysinfo\":{" PLUG "}}} x",
	    "\f{\"system\":{\"get_sysinfo\":{" PLUG "}}}",
	    "\xef\xbb\xbf{\"system\":{\"get_sysinfo\":{" PLUG "}}}",
	    SYS(PLUG ",\"alias\":\"\xc3\""),
	    SYS(PLUG ",\"x\":tru"),
	    SYS(PLUG ",\"x\":truex"),
	    SYS(PLUG ",'x':1"),
	    "{\"system\":{\"get_sysinfo\":{" PLUG "}}",
	    "",
	};

	for (guint i = 0; i < G_N_ELEMENTS(declined); i++)
		assert_declined(declined[i]);
	/* a NUL byte */
	{
		const gchar text[] = "{\"system\":{\"get_sysinfo\":{" PLUG ",\"a\":\"\0\"}}}";
		WbdKasaScan result;
		g_assert_false(wbd_kasa_scan_poll_reply(text, sizeof(text) - 1, &result));
	}
}

static WbdKasaReply *
decode(const gchar *text, GError **error)
{
	gsize len = strlen(text);
	guint8 *payload = g_memdup2(text, len);
	wbd_kasa_encrypt(payload, len);
	return wbd_kasa_reply_decode(payload, len, error);
}

/* the driver's way in: scanned, or json-glib's tree, or json-glib's error */
static void
test_reply_decode(void)
{
	g_autofree gchar *text = fixture_poll_reply("KP115(EU)_1.0_1.0.16.json", TRUE);
	g_autoptr(WbdKasaReply) scanned = NULL;
	g_autoptr(WbdKasaReply) parsed = NULL;
	g_autoptr(WbdKasaReply) bad = NULL;
	g_autoptr(GError) error = NULL;
	JsonNode *json;

	scanned = decode(text, &error);
	g_assert_no_error(error);
	g_assert_nonnull(scanned->scan.sysinfo);
	g_assert_null(scanned->json);
	g_assert_cmpstr(scanned->scan.sysinfo->model, ==, "KP115(EU)");
	/* the tree is still there for who needs it */
	json = wbd_kasa_reply_get_json(scanned, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(wbt_json_lookup_string(json, "system", "get_sysinfo", "model", NULL),
			==,
			"KP115(EU)");

	parsed = decode(SYS(PLUG ",\"alias\":\"a\\\"b\""), &error);
	g_assert_no_error(error);
	g_assert_null(parsed->scan.sysinfo);
	g_assert_cmpstr(
	    wbt_json_lookup_string(parsed->json, "system", "get_sysinfo", "alias", NULL), ==, "a\"b");

	/* the same errors as wbd_kasa_payload_decode() */
	bad = decode("{\"system\":", &error);
	g_assert_null(bad);
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
	g_assert_true(g_str_has_prefix(error->message, "Bad reply from the device: not JSON"));
}

int
main(int argc, char **argv)
{
	g_log_writer_default_set_use_stderr(TRUE);
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/kasa/scan/hs110-eu-4.0", test_scan_hs110_eu_4);
	g_test_add_func("/kasa/scan/hs110-eu-1.0", test_scan_hs110_eu_1);
	g_test_add_func("/kasa/scan/kp115-eu", test_scan_kp115_eu);
	g_test_add_func("/kasa/scan/sysinfo-only", test_scan_sysinfo_only);
	g_test_add_func("/kasa/scan/fixtures-declined", test_scan_fixtures_declined);
	g_test_add_func("/kasa/scan/accepted-edges", test_scan_accepted_edges);
	g_test_add_func("/kasa/scan/declined-edges", test_scan_declined_edges);
	g_test_add_func("/kasa/scan/reply-decode", test_reply_decode);
	return g_test_run();
}
