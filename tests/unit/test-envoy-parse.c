/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-envoy-auth.h"
#include "wbd-envoy-client.h"
#include "wbd-envoy-data.h"
#include "wbd-envoy-info.h"
#include "wbd-envoy-json.h"
#include "wbd-envoy-pin.h"

/*
 * The pure parts of the Envoy driver against the spec (shared/specs/envoy.md) and the
 * real replies in tests/data/envoy. Expected numbers are the fixtures' own, copied
 * here or read by the test with json-glib, never computed by the code under test.
 */

static gchar *
envoy_path(const gchar *folder, const gchar *name)
{
	const gchar *data = g_getenv("WATTBUS_TEST_DATA");
	g_assert_nonnull(data);
	return g_build_filename(data, "envoy", folder, name, NULL);
}

static gchar *
load_text(const gchar *folder, const gchar *name, gsize *len)
{
	g_autofree gchar *path = envoy_path(folder, name);
	g_autoptr(GError) error = NULL;
	gchar *contents = NULL;
	g_assert_true(g_file_get_contents(path, &contents, len, &error));
	g_assert_no_error(error);
	return contents;
}

static JsonNode *
load_json(const gchar *folder, const gchar *name)
{
	gsize len = 0;
	g_autofree gchar *text = load_text(folder, name, &len);
	g_autoptr(GError) error = NULL;
	JsonNode *node = wbd_envoy_json_parse(text, len, &error);
	g_assert_no_error(error);
	g_assert_nonnull(node);
	return node;
}

/* the test's own reading of a JSON number */
static gdouble
num(JsonNode *node, const gchar *key)
{
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	return json_object_get_double_member(json_node_get_object(node), key);
}

static void
assert_close(gdouble actual, gdouble expected)
{
	g_assert_cmpfloat_with_epsilon(actual, expected, 1e-9 * MAX(1.0, fabs(expected)));
}

/* spec §3.1 test vectors */
static void
test_passwords(void)
{
	static const struct {
		const gchar *serial;
		const gchar *password;
	} vectors[] = {
	    {"122112123456", "d525d2jh"},
	    {"121430030548", "34Be4859"},
	    {"123456789012", "7edE24ed"},
	};
	for (guint i = 0; i < G_N_ELEMENTS(vectors); i++) {
		g_autofree gchar *pw = wbd_envoy_derive_password("installer", vectors[i].serial);
		g_assert_cmpstr(pw, ==, vectors[i].password);
	}
	{
		g_autofree gchar *pw = wbd_envoy_derive_password("envoy", "121938119871");
		g_assert_cmpstr(pw, ==, "119871");
	}
	g_assert_null(wbd_envoy_derive_password("admin", "121938119871"));
	g_assert_null(wbd_envoy_derive_password("envoy", ""));
}

static gchar *
b64url(const gchar *text)
{
	g_autofree gchar *b64 = g_base64_encode((const guchar *)text, strlen(text));
	gchar *p;
	g_strdelimit(b64, "+", '-');
	g_strdelimit(b64, "/", '_');
	p = strchr(b64, '=');
	if (p != NULL)
		*p = '\0';
	return g_strdup(b64);
}

static void
test_token(void)
{
	g_autofree gchar *head = b64url("{\"alg\":\"ES256\",\"typ\":\"JWT\"}");
	g_autofree gchar *body = b64url("{\"aud\":\"122446001637\",\"iss\":\"Entrez\","
					"\"enphaseUser\":\"owner\",\"exp\":1767225600}");
	g_autofree gchar *token = g_strdup_printf("%s.%s.c2lnbmF0dXJl", head, body);
	g_autofree gchar *role = NULL;
	g_autoptr(GError) error = NULL;
	gint64 expiry = -1;

	g_assert_true(wbd_envoy_token_decode(token, &expiry, &role, &error));
	g_assert_no_error(error);
	g_assert_cmpint(expiry, ==, 1767225600);
	g_assert_cmpstr(role, ==, "owner");

	/* not JWTs; the errors never quote them */
	static const gchar *bad[] = {
	    "", "abc", "a.b", "a.b.c.d", "a b.c.d", "a.b\n.c", ".a.b", "eyJ.bm90IGpzb24.c2ln"};
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) e = NULL;
		g_autofree gchar *r = NULL;
		g_assert_false(wbd_envoy_token_decode(bad[i], &expiry, &r, &e));
		g_assert_error(e, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
		if (bad[i][0] != '\0')
			g_assert_null(strstr(e->message, bad[i]));
	}
}

/* the pin file's format, as the writer writes it (issue 12, item 1: 102 characters) */
static void
test_pin(void)
{
	static const gchar written[] = "sha256:dc:6a:96:14:9c:56:af:21:d9:94:84:f5:6e:53:ff:96:"
				       "97:27:57:49:aa:2d:7b:6e:9e:4a:ae:32:5b:ed:be:e9";
	static const gchar *const same[] = {
	    "sha256:dc:6a:96:14:9c:56:af:21:d9:94:84:f5:6e:53:ff:96:97:27:57:49:aa:2d:7b:6e:9e:4a:"
	    "ae:32:5b:ed:be:e9\n",
	    "  SHA256:DC:6A:96:14:9C:56:AF:21:D9:94:84:F5:6E:53:FF:96:97:27:57:49:AA:2D:7B:6E:9E:4A:"
	    "AE:32:5B:ED:BE:E9\r\n",
	};
	static const gchar *const bad[] = {
	    "",
	    "sha256",
	    "sha256:",
	    "sha1:dc:6a:96:14:9c:56:af:21:d9:94:84:f5:6e:53:ff:96:97:27:57:49",
	    /* 31 pairs, 33 pairs, a bad digit, no colon, something after */
	    "sha256:dc:6a:96:14:9c:56:af:21:d9:94:84:f5:6e:53:ff:96:97:27:57:49:aa:2d:7b:6e:9e:4a:"
	    "ae:32:5b:ed:be",
	    "sha256:dc:6a:96:14:9c:56:af:21:d9:94:84:f5:6e:53:ff:96:97:27:57:49:aa:2d:7b:6e:9e:4a:"
	    "ae:32:5b:ed:be:e9:00",
	    "sha256:dc:6a:96:14:9c:56:af:21:d9:94:84:f5:6e:53:ff:96:97:27:57:49:aa:2d:7b:6e:9e:4a:"
	    "ae:32:5b:ed:be:eg",
	    "sha256dc:6a:96:14:9c:56:af:21:d9:94:84:f5:6e:53:ff:96:97:27:57:49:aa:2d:7b:6e:9e:4a:"
	    "ae:32:5b:ed:be:e9",
	    "sha256:dc:6a:96:14:9c:56:af:21:d9:94:84:f5:6e:53:ff:96:97:27:57:49:aa:2d:7b:6e:9e:4a:"
	    "ae:32:5b:ed:be:e9 x",
	};
	g_autofree gchar *pin = wbd_envoy_pin_parse(written, strlen(written), NULL);

	g_assert_cmpuint(strlen(written), ==, 102);
	g_assert_cmpstr(pin, ==, written);
	for (guint i = 0; i < G_N_ELEMENTS(same); i++) {
		g_autofree gchar *other = wbd_envoy_pin_parse(same[i], strlen(same[i]), NULL);
		g_assert_cmpstr(other, ==, written);
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_assert_null(wbd_envoy_pin_parse(bad[i], strlen(bad[i]), &error));
		g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	}
	/* the length is what counts, not a NUL */
	g_assert_null(wbd_envoy_pin_parse(written, 50, NULL));
}

static void
test_address(void)
{
	static const struct {
		const gchar *address;
		const gchar *scheme;
		const gchar *host;
		guint port;
	} good[] = {
	    {"192.168.1.20", NULL, "192.168.1.20", 0},
	    {"envoy.local:8080", NULL, "envoy.local", 8080},
	    {"http://192.168.1.20", "http", "192.168.1.20", 0},
	    {"https://192.168.1.20/", "https", "192.168.1.20", 0},
	    {"https://127.0.0.1:4443", "https", "127.0.0.1", 4443},
	    {"[fe80::1]:443", NULL, "fe80::1", 443},
	};
	static const gchar *bad[] = {"",
				     "ftp://x",
				     "http://",
				     "http://x/info",
				     "http://u:p@x",
				     "http://x?a=b",
				     "x/y",
				     "a@b",
				     "host:99999",
				     "https://u@x",
				     "https://x y",
				     "/run/envoy.sock"};
	for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
		g_autofree gchar *scheme = NULL;
		g_autofree gchar *host = NULL;
		g_autoptr(GError) error = NULL;
		guint16 port = 1;
		g_assert_true(
		    wbd_envoy_address_parse(good[i].address, &scheme, &host, &port, &error));
		g_assert_no_error(error);
		g_assert_cmpstr(scheme, ==, good[i].scheme);
		g_assert_cmpstr(host, ==, good[i].host);
		g_assert_cmpuint(port, ==, good[i].port);
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree gchar *scheme = NULL;
		g_autofree gchar *host = NULL;
		g_autoptr(GError) error = NULL;
		guint16 port = 0;
		g_assert_false(wbd_envoy_address_parse(bad[i], &scheme, &host, &port, &error));
		g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	}
}

/* the text between <tag> and </tag>, found by the test itself */
static gchar *
xml_value(const gchar *xml, const gchar *tag)
{
	g_autofree gchar *open = g_strdup_printf("<%s>", tag);
	const gchar *start = strstr(xml, open);
	const gchar *end;
	if (start == NULL)
		return NULL;
	start += strlen(open);
	end = strchr(start, '<');
	return g_strstrip(g_strndup(start, (gsize)(end - start)));
}

static const gchar *folders[] = {
    "3.9.36",
    "4.10.35",
    "5.0.62",
    "7.3.130_no_consumption",
    "7.3.466_metered_disabled_cts",
    "7.6.175_with_cts_3phase",
    "8.2.4286_with_3cts_and_battery_split",
    "8.2.4345_with_device_data",
    "8.3.5433_tot_is_net_cons",
};

static void
test_info_fixtures(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(folders); i++) {
		gsize len = 0;
		g_autofree gchar *xml = load_text(folders[i], "info", &len);
		g_autofree gchar *sn = xml_value(xml, "sn");
		g_autofree gchar *software = xml_value(xml, "software");
		g_autofree gchar *imeter = xml_value(xml, "imeter");
		g_autoptr(GError) error = NULL;
		g_autoptr(WbdEnvoyInfo) info = wbd_envoy_info_parse(xml, len, &error);
		guint major = (guint)g_ascii_strtoull(software + 1, NULL, 10);

		g_assert_no_error(error);
		g_assert_cmpstr(info->serial, ==, sn);
		g_assert_cmpstr(info->software, ==, software);
		/* the first <pn> is the device's; those of the packages come later */
		g_assert_true(g_str_has_prefix(info->part_number, "800-"));
		g_assert_cmpuint(info->version[0], ==, major);
		g_assert_cmpint(
		    info->imeter, ==, imeter == NULL ? -1 : g_strcmp0(imeter, "true") == 0);
		g_assert_cmpint(info->web_tokens, ==, strstr(xml, "<web-tokens>true") != NULL);
		g_assert_cmpint(wbd_envoy_info_needs_token(info), ==, major >= 7);
	}
}

static void
test_info_version(void)
{
	const gchar *xml = "<envoy_info><device><sn>1</sn><software>D8.2.4345</software></device>"
			   "</envoy_info>";
	g_autoptr(WbdEnvoyInfo) info = wbd_envoy_info_parse(xml, strlen(xml), NULL);
	g_assert_nonnull(info);
	g_assert_cmpuint(info->version[0], ==, 8);
	g_assert_cmpuint(info->version[1], ==, 2);
	g_assert_cmpuint(info->version[2], ==, 4345);
	g_assert_true(wbd_envoy_info_needs_token(info));
}

static void
test_info_hostile(void)
{
	static const gchar *bad[] = {
	    "",
	    "not xml",
	    "<html><body>404</body></html>",
	    "<envoy_info><device><pn>800</pn></device></envoy_info>",
	    "<envoy_info><device><sn>1</sn></device>",
	    "<envoy_info><a><b><c><d><e><f><g><h><i>x</i></h></g></f></e></d></c></b></a></"
	    "envoy_info>",
	};
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(WbdEnvoyInfo) info = wbd_envoy_info_parse(bad[i], strlen(bad[i]), &error);
		g_assert_null(info);
		g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
	}
}

static void
test_json_guards(void)
{
	static const gchar *bad[] = {
	    "{}{}",
	    "[1] [2]",
	    "5",
	    "\"x\"",
	    "{'a':1}",
	    "{\"a\":1} x",
	    "{\"a\":/*c*/1}",
	    "{\"a\":",
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"};
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = wbd_envoy_json_parse(bad[i], strlen(bad[i]), &error);
		g_assert_null(node);
		g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
	}
	{
		const gchar nul[] = "{\"a\":1}\0";
		g_autoptr(GError) error = NULL;
		g_assert_null(wbd_envoy_json_parse(nul, sizeof(nul) - 1, &error));
	}
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = wbd_envoy_json_parse("{\"a\":{\"b\":true}}", 16, &error);
		gdouble v = 0;
		g_assert_no_error(error);
		/* a boolean is not a number, an object not a string */
		g_assert_false(wbd_envoy_json_number(wbd_envoy_json_member(node, "a"), "b", &v));
		g_assert_null(wbd_envoy_json_string(node, "a"));
	}
}

static WbdEnvoyCt *
find_ct(GPtrArray *cts, const gchar *measurement)
{
	for (guint i = 0; i < cts->len; i++) {
		WbdEnvoyCt *ct = g_ptr_array_index(cts, i);
		if (g_strcmp0(ct->measurement, measurement) == 0)
			return ct;
	}
	return NULL;
}

static void
test_cts(void)
{
	g_autoptr(JsonNode) m8 = load_json("8.3.5433_tot_is_net_cons", "ivp_meters");
	g_autoptr(GPtrArray) cts = wbd_envoy_parse_cts(m8);
	g_autoptr(JsonNode) m4 = load_json("8.2.4345_with_device_data", "ivp_meters");
	g_autoptr(GPtrArray) single = wbd_envoy_parse_cts(m4);
	g_autoptr(JsonNode) empty = load_json("5.0.62", "ivp_meters");
	g_autoptr(GPtrArray) none = wbd_envoy_parse_cts(empty);

	g_assert_cmpuint(cts->len, ==, 7);
	g_assert_true(find_ct(cts, "production")->enabled);
	g_assert_true(find_ct(cts, "total-consumption")->enabled);
	g_assert_false(find_ct(cts, "storage")->enabled);
	g_assert_cmpint(find_ct(cts, "total-consumption")->eid, ==, 704643584);
	g_assert_cmpuint(wbd_envoy_cts_get_phases(cts), ==, 2);
	/* phaseMode three with phaseCount 1 is single phase (spec §7.8) */
	g_assert_cmpuint(wbd_envoy_cts_get_phases(single), ==, 1);
	g_assert_cmpuint(none->len, ==, 0);
	g_assert_cmpuint(wbd_envoy_cts_get_phases(none), ==, 1);
}

/* spec §4.5: join by eid; 8.3.5433 lists 8 readings for 7 CT slots */
static void
test_ct_readings(void)
{
	g_autoptr(JsonNode) readings = load_json("8.3.5433_tot_is_net_cons", "ivp_meters_readings");
	WbdEnvoyCt total = {.eid = 704643584, .measurement = (gchar *)"total-consumption"};
	WbdEnvoyCt missing = {.eid = 42, .measurement = (gchar *)"production"};
	JsonNode *entry = NULL;
	JsonNode *channels;
	WbdMeterReading r;

	for (guint i = 0; i < json_array_get_length(json_node_get_array(readings)); i++) {
		JsonNode *e = json_array_get_element(json_node_get_array(readings), i);
		if (num(e, "eid") == 704643584)
			entry = e;
	}
	g_assert_nonnull(entry);
	channels = json_object_get_member(json_node_get_object(entry), "channels");
	g_assert_true(wbd_envoy_parse_ct_reading(readings, &total, 2, &r));
	assert_close(r.values[WBD_QUANTITY_POWER], num(entry, "activePower"));
	assert_close(r.values[WBD_QUANTITY_ENERGY], num(entry, "actEnergyDlvd"));
	/* the gateway sums voltage and power factor over the phases */
	assert_close(r.values[WBD_QUANTITY_VOLTAGE], num(entry, "voltage") / 2);
	assert_close(r.values[WBD_QUANTITY_POWER_FACTOR], num(entry, "pwrFactor") / 2);
	assert_close(r.values[WBD_QUANTITY_FREQUENCY], num(entry, "freq"));
	g_assert_cmpuint(r.n_phases, ==, 2);
	for (guint p = 0; p < 2; p++) {
		JsonNode *ch = json_array_get_element(json_node_get_array(channels), p);
		assert_close(r.phase[WBD_QUANTITY_POWER][p], num(ch, "activePower"));
		assert_close(r.phase[WBD_QUANTITY_VOLTAGE][p], num(ch, "voltage"));
		assert_close(r.phase[WBD_QUANTITY_CURRENT][p], num(ch, "current"));
	}
	g_assert_false(r.phase_measured & (1u << WBD_QUANTITY_FREQUENCY));
	g_assert_false(wbd_envoy_parse_ct_reading(readings, &missing, 2, &r));
	g_assert_cmpuint(r.measured, ==, 0);
}

/* a net meter counts import and export apart: 4.10.35's net CT */
static void
test_ct_net_energy(void)
{
	g_autoptr(JsonNode) readings = load_json("4.10.35", "ivp_meters_readings");
	WbdEnvoyCt net = {.eid = 704643584, .measurement = (gchar *)"net-consumption"};
	WbdMeterReading r;
	g_assert_true(wbd_envoy_parse_ct_reading(readings, &net, 1, &r));
	assert_close(r.values[WBD_QUANTITY_ENERGY], 16908208.78);
	assert_close(r.values[WBD_QUANTITY_ENERGY_EXPORTED], 17357690.272);
	assert_close(r.values[WBD_QUANTITY_POWER], 566.864);
	assert_close(r.values[WBD_QUANTITY_VOLTAGE], 247.736);
	g_assert_cmpuint(r.n_phases, ==, 0);
}

static void
test_eim(void)
{
	g_autoptr(JsonNode) p130 = load_json("7.3.130_no_consumption", "production.json");
	g_autoptr(JsonNode) p4345 =
	    load_json("8.2.4345_with_device_data", "production.json_details_1");
	g_autoptr(JsonNode) p7 = load_json("7.6.175_with_cts_3phase", "production.json");
	WbdMeterReading r;

	/* activeCount 0: junk, not used (spec §7.1) */
	g_assert_false(wbd_envoy_parse_eim(p130, "total-consumption", 2, &r));
	g_assert_cmpuint(r.measured, ==, 0);
	g_assert_true(wbd_envoy_parse_eim(p130, "production", 2, &r));
	assert_close(r.values[WBD_QUANTITY_POWER], 3780.646);

	/* a negative lifetime is the gateway's net counter, kept as it is */
	g_assert_true(wbd_envoy_parse_eim(p4345, "net-consumption", 1, &r));
	assert_close(r.values[WBD_QUANTITY_ENERGY], -235661.732);
	g_assert_false(wbd_meter_reading_has(&r, WBD_QUANTITY_FREQUENCY));

	g_assert_true(wbd_envoy_parse_eim(p7, "total-consumption", 3, &r));
	assert_close(r.values[WBD_QUANTITY_POWER], 209.084);
	assert_close(r.values[WBD_QUANTITY_VOLTAGE], 712.725 / 3);
	g_assert_cmpuint(r.n_phases, ==, 3);
}

static void
test_production_fallbacks(void)
{
	g_autoptr(JsonNode) v1 = load_json("7.3.466_metered_disabled_cts", "api_v1_production");
	g_autoptr(JsonNode) v1ok = load_json("3.9.36", "api_v1_production");
	g_autoptr(JsonNode) prod = load_json("7.3.466_metered_disabled_cts", "production.json");
	g_autoptr(JsonNode) std = load_json("5.0.62", "production.json");
	WbdMeterReading r;
	gboolean broken = FALSE;

	g_assert_true(wbd_envoy_parse_v1_production(v1, &r, &broken));
	g_assert_true(broken);
	g_assert_true(wbd_envoy_parse_v1_production(v1ok, &r, &broken));
	g_assert_false(broken);
	assert_close(r.values[WBD_QUANTITY_POWER], 1271);
	assert_close(r.values[WBD_QUANTITY_ENERGY], 6012540);
	assert_close(r.values[WBD_QUANTITY_ENERGY_TODAY], 1460);
	g_assert_cmpuint(r.measured,
			 ==,
			 (1u << WBD_QUANTITY_POWER) | (1u << WBD_QUANTITY_ENERGY) |
			     (1u << WBD_QUANTITY_ENERGY_TODAY));

	g_assert_true(wbd_envoy_parse_inverters_total(prod, &r));
	assert_close(r.values[WBD_QUANTITY_POWER], 751);
	assert_close(r.values[WBD_QUANTITY_ENERGY], 702919);
	/* a non-metered gateway has no eim entry at all (spec §7.4) */
	g_assert_false(wbd_envoy_parse_eim(std, "production", 1, &r));
	g_assert_true(wbd_envoy_parse_inverters_total(std, &r));
}

static void
test_inverters(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(folders); i++) {
		g_autoptr(JsonNode) root = load_json(folders[i], "api_v1_production_inverters");
		g_autoptr(GPtrArray) reports = wbd_envoy_parse_inverters(root);
		JsonArray *array = json_node_get_array(root);
		g_assert_cmpuint(reports->len, ==, json_array_get_length(array));
		for (guint j = 0; j < reports->len; j++) {
			WbdEnvoyInverterReport *report = g_ptr_array_index(reports, j);
			JsonNode *e = json_array_get_element(array, j);
			g_assert_cmpstr(
			    report->serial,
			    ==,
			    json_object_get_string_member(json_node_get_object(e), "serialNumber"));
			g_assert_cmpint(report->last_report, ==, (gint64)num(e, "lastReportDate"));
			assert_close(report->watts, num(e, "lastReportWatts"));
			assert_close(report->max_watts, num(e, "maxReportWatts"));
		}
	}
}

static void
test_inverters_hostile(void)
{
	const gchar *json =
	    "[{\"serialNumber\":\"1\",\"lastReportDate\":10,\"lastReportWatts\":5,"
	    "\"maxReportWatts\":9},"
	    " {\"serialNumber\":\"1\",\"lastReportDate\":11,\"lastReportWatts\":6,"
	    "\"maxReportWatts\":9},"
	    " {\"serialNumber\":\"2\",\"devType\":8,\"lastReportDate\":10,\"lastReportWatts\":5,"
	    "\"maxReportWatts\":9},"
	    " {\"serialNumber\":\"3\",\"lastReportDate\":\"10\",\"lastReportWatts\":5,"
	    "\"maxReportWatts\":9},"
	    " {\"serialNumber\":\"../"
	    "x\",\"lastReportDate\":10,\"lastReportWatts\":5,\"maxReportWatts\":9},"
	    " {\"serialNumber\":\"4\",\"lastReportDate\":10,\"lastReportWatts\":5},"
	    " 7, null, [],"
	    " {\"serialNumber\":\"5\",\"devType\":1,\"lastReportDate\":10,\"lastReportWatts\":-2,"
	    "\"maxReportWatts\":9}]";
	g_autoptr(JsonNode) root = wbd_envoy_json_parse(json, strlen(json), NULL);
	g_autoptr(GPtrArray) reports = wbd_envoy_parse_inverters(root);
	g_assert_cmpuint(reports->len, ==, 2);
	g_assert_cmpstr(((WbdEnvoyInverterReport *)g_ptr_array_index(reports, 0))->serial, ==, "1");
	g_assert_cmpint(
	    ((WbdEnvoyInverterReport *)g_ptr_array_index(reports, 0))->last_report, ==, 10);
	g_assert_cmpstr(((WbdEnvoyInverterReport *)g_ptr_array_index(reports, 1))->serial, ==, "5");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/envoy/passwords", test_passwords);
	g_test_add_func("/envoy/token", test_token);
	g_test_add_func("/envoy/address", test_address);
	g_test_add_func("/envoy/pin", test_pin);
	g_test_add_func("/envoy/info/fixtures", test_info_fixtures);
	g_test_add_func("/envoy/info/version", test_info_version);
	g_test_add_func("/envoy/info/hostile", test_info_hostile);
	g_test_add_func("/envoy/json/guards", test_json_guards);
	g_test_add_func("/envoy/cts", test_cts);
	g_test_add_func("/envoy/ct-readings", test_ct_readings);
	g_test_add_func("/envoy/ct-net-energy", test_ct_net_energy);
	g_test_add_func("/envoy/eim", test_eim);
	g_test_add_func("/envoy/production-fallbacks", test_production_fallbacks);
	g_test_add_func("/envoy/inverters", test_inverters);
	g_test_add_func("/envoy/inverters/hostile", test_inverters_hostile);
	return g_test_run();
}
