/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-tuya-codec.h"
#include "wbd-tuya-gateway.h"
#include "wbt-fixture.h"

/*
 * Hubs (gateways) and their sub-devices, the payload side: every gateway vector of
 * shared/specs/tuya-gateway-and-meters.md §3.9 (tests/data/tuya/gateway-vectors.json),
 * our requests byte for byte, the gateway's frames decoded and routed by cid, and the
 * online/offline reports of tests/data/tuya/meters.json.
 */

static JsonNode *
load_data(const gchar *name)
{
	return wbt_data_load("tuya", name);
}

/* the DPs of a plaintext's "dps" (3.3) or "data.dps" (3.4+) as a{sv} */
static GVariant *
plaintext_dps(JsonObject *root)
{
	JsonObject *dps = json_object_has_member(root, "dps")
			      ? json_object_get_object_member(root, "dps")
			      : json_object_get_object_member(json_object_get_object_member(root, "data"), "dps");
	g_autoptr(GList) members = json_object_get_members(dps);
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("a{sv}"));
	for (GList *l = members; l != NULL; l = l->next)
		g_variant_builder_add(&builder,
				      "{sv}",
				      (const gchar *)l->data,
				      g_variant_new_boolean(json_object_get_boolean_member(dps, l->data)));
	return g_variant_ref_sink(g_variant_builder_end(&builder));
}

/* our request for the vector's command, from the cid and DPs its plaintext names */
static gchar *
build_request(JsonObject *v, WbdTuyaVersion version)
{
	g_autoptr(JsonNode) plain = wbt_json_parse(json_object_get_string_member(v, "plaintext"));
	JsonObject *root = json_node_get_object(plain);
	const gchar *cid = json_object_has_member(root, "cid") ? json_object_get_string_member(root, "cid") : NULL;
	guint cmd = json_object_get_int_member(v, "cmd");
	const guint ids[] = {18, 19, 20};
	g_autoptr(GVariant) dps = NULL;

	switch (cmd) {
	case WBD_TUYA_CMD_DP_QUERY:
	case WBD_TUYA_CMD_DP_QUERY_NEW:
		g_assert_cmpuint(cmd, ==, wbd_tuya_query_command(version));
		return wbd_tuya_build_sub_query(version, cid, 1700000000);
	case WBD_TUYA_CMD_CONTROL:
	case WBD_TUYA_CMD_CONTROL_NEW:
		g_assert_cmpuint(cmd, ==, wbd_tuya_control_command(version));
		dps = plaintext_dps(root);
		return wbd_tuya_build_sub_control(version, cid, 1700000000, dps);
	case WBD_TUYA_CMD_UPDATEDPS:
		return wbd_tuya_build_sub_update_dps(cid, ids, G_N_ELEMENTS(ids));
	case WBD_TUYA_CMD_LAN_EXT_STREAM:
		return wbd_tuya_build_subdev_query();
	default:
		g_assert_not_reached();
		return NULL;
	}
}

static JsonNode *vectors_root = NULL;

static void
test_gateway_vector(gconstpointer user_data)
{
	JsonObject *v = (JsonObject *)user_data;
	JsonObject *inputs = json_object_get_object_member(json_node_get_object(vectors_root), "inputs");
	WbdTuyaVersion version = wbd_tuya_version_from_string(json_object_get_string_member(v, "version"));
	gboolean from_gateway = g_str_has_prefix(json_object_get_string_member(v, "dir"), "gateway");
	const gchar *plaintext = json_object_get_string_member(v, "plaintext");
	g_autoptr(GBytes) frame_bytes = wbt_hex_decode(json_object_get_string_member(v, "frame_hex"));
	g_autoptr(GBytes) key = NULL;
	g_autoptr(GError) error = NULL;
	WbdTuyaFrame frame = {0};
	gsize len = 0, plain_len = 0;
	const guint8 *data = g_bytes_get_data(frame_bytes, &len);
	const guint8 *plain;

	if (version == WBD_TUYA_VERSION_3_3)
		key = g_bytes_new_static(json_object_get_string_member(inputs, "local_key"), 16);
	else
		key = wbt_hex_decode(json_object_get_string_member(
		    inputs, version == WBD_TUYA_VERSION_3_4 ? "v34_session_key_hex" : "v35_session_key_hex"));

	/* every frame decodes to its plaintext */
	g_assert_true(wbd_tuya_frame_decode(data, len, version, g_bytes_get_data(key, NULL), from_gateway, &frame, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(frame.cmd, ==, json_object_get_int_member(v, "cmd"));
	g_assert_cmpuint(frame.seq, ==, json_object_get_int_member(v, "seq"));
	plain = g_bytes_get_data(frame.payload, &plain_len);
	g_assert_cmpmem(plain, plain_len, plaintext, strlen(plaintext));

	if (!from_gateway) {
		/* our request: the same JSON, the same frame byte for byte */
		g_autofree gchar *json = build_request(v, version);
		g_autoptr(GBytes) iv = NULL;
		g_autoptr(GBytes) encoded = NULL;
		WbdTuyaEncode opts = {
		    .version = version,
		    .key = g_bytes_get_data(key, NULL),
		    .seq = json_object_get_int_member(v, "seq"),
		    .cmd = json_object_get_int_member(v, "cmd"),
		    .retcode = -1,
		};
		g_assert_cmpstr(json, ==, plaintext);
		if (json_object_has_member(v, "iv")) {
			const gchar *ivs = json_object_get_string_member(v, "iv");
			iv = g_bytes_new(ivs, strlen(ivs));
			opts.iv = g_bytes_get_data(iv, NULL);
		}
		encoded = wbd_tuya_frame_encode(&opts, (const guint8 *)json, strlen(json));
		g_assert_cmpmem(g_bytes_get_data(encoded, NULL), g_bytes_get_size(encoded), data, len);
	} else if (frame.cmd == WBD_TUYA_CMD_LAN_EXT_STREAM) {
		g_auto(GStrv) online = NULL;
		g_auto(GStrv) offline = NULL;
		const gchar *const want[] = {"a4c138f0e1d2c3b4", "a4c1380011223344", NULL};
		g_assert_true(wbd_tuya_payload_parse_subdev_report(plain, plain_len, &online, &offline, &error));
		g_assert_true(g_strv_equal((const gchar *const *)online, want));
		g_assert_cmpuint(g_strv_length(offline), ==, 0);
		g_assert_null(wbd_tuya_payload_get_cid(plain, plain_len));
	} else {
		/* routed by the cid it names, at the top (3.3) or in data (3.4, 3.5) */
		g_autoptr(JsonNode) node = wbt_json_parse(plaintext);
		g_autofree gchar *cid = wbd_tuya_payload_get_cid(plain, plain_len);
		const gchar *want = wbt_json_lookup_string(node, "cid", NULL);
		if (want == NULL)
			want = wbt_json_lookup_string(node, "data", "cid", NULL);
		g_assert_nonnull(want);
		g_assert_cmpstr(cid, ==, want);
	}
	wbd_tuya_frame_clear(&frame);
}

/* the fixture's gateway messages: every frame reaches the cid it names; split reports */
static void
test_fixture_messages(void)
{
	g_autoptr(JsonNode) meters = load_data("meters.json");
	JsonArray *devices = json_object_get_array_member(json_node_get_object(meters), "devices");
	JsonObject *hub = json_array_get_object_element(devices, 0);
	JsonArray *messages = json_object_get_array_member(hub, "messages");

	g_assert_cmpstr(json_object_get_string_member(hub, "id"), ==, "zigbee_gateway_with_two_meters");
	for (guint i = 0; i < json_array_get_length(messages); i++) {
		JsonObject *m = json_array_get_object_element(messages, i);
		g_autofree gchar *payload = json_to_string(json_object_get_member(m, "payload"), FALSE);
		JsonObject *expect = json_object_get_object_member(m, "expect");
		g_autofree gchar *cid = wbd_tuya_payload_get_cid((const guint8 *)payload, strlen(payload));

		if (g_str_equal(json_object_get_string_member(m, "cmd"), "0x40")) {
			g_auto(GStrv) online = NULL;
			g_auto(GStrv) offline = NULL;
			JsonObject *avail = json_object_get_object_member(expect, "availability");
			g_autoptr(GList) cids = json_object_get_members(avail);
			g_assert_true(wbd_tuya_payload_parse_subdev_report((const guint8 *)payload,
									   strlen(payload),
									   &online,
									   &offline,
									   NULL));
			/* "online" in the fixture: in the frame's online list; "unchanged": in neither */
			for (GList *l = cids; l != NULL; l = l->next) {
				const gchar *state = json_object_get_string_member(avail, l->data);
				gboolean listed = g_strv_contains((const gchar *const *)online, l->data) ||
						  g_strv_contains((const gchar *const *)offline, l->data);
				if (g_str_equal(state, "online"))
					g_assert_true(g_strv_contains((const gchar *const *)online, l->data));
				else
					g_assert_false(listed);
			}
			g_assert_null(cid);
			continue;
		}
		g_assert_nonnull(cid);
		if (g_str_has_prefix(json_object_get_string_member(expect, "route"), "none"))
			g_assert_cmpstr(cid, ==, "a4c13817b2d6e908"); /* an unknown cid: the hub drops it */
		else
			g_assert_cmpstr(cid, ==, json_object_get_string_member(expect, "route"));
	}
}

static void
test_bad_input(void)
{
	const gchar *const bad[] = {
	    "{\"dps\":{\"1\":true}}",			/* the hub's own */
	    "{\"cid\":\"\",\"dps\":{}}",		/* empty */
	    "{\"cid\":12,\"dps\":{}}",			/* not a string */
	    "{\"cid\":\"a b\",\"dps\":{}}",		/* a space */
	    "{\"data\":{\"cid\":[\"x\"]}}",		/* not a string */
	    "not json",
	    "",
	};
	g_autofree gchar *long_cid = g_strdup_printf("{\"cid\":\"%s\"}", "0123456789abcdef0123456789abcdef"
									 "0123456789abcdef0123456789abcdef0");
	g_auto(GStrv) online = NULL;
	g_auto(GStrv) offline = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *report = "{\"reqType\":\"subdev_online_stat_report\",\"data\":{\"online\":[\"a\",7,\"b c\",\"d\"],"
			      "\"nearby\":[\"e\"]}}";

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_null(wbd_tuya_payload_get_cid((const guint8 *)bad[i], strlen(bad[i])));
	g_assert_null(wbd_tuya_payload_get_cid((const guint8 *)long_cid, strlen(long_cid)));
	g_assert_true(wbd_tuya_cid_is_valid("131"));
	g_assert_false(wbd_tuya_cid_is_valid("a\"b"));
	/* invalid cids are dropped, a missing list is empty */
	g_assert_true(wbd_tuya_payload_parse_subdev_report((const guint8 *)report, strlen(report), &online, &offline,
							   &error));
	g_assert_cmpuint(g_strv_length(online), ==, 2);
	g_assert_cmpstr(online[1], ==, "d");
	g_assert_cmpuint(g_strv_length(offline), ==, 0);
	g_assert_false(wbd_tuya_payload_parse_subdev_report((const guint8 *)"{\"dps\":{}}", 10, &online, &offline,
							    &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
}

/* one parse a frame: the DPs and the meta of wbd_tuya_payload_parse_with_meta() are
 * those of wbd_tuya_payload_parse() and wbd_tuya_payload_get_meta() */
static void
test_parse_with_meta(void)
{
	static const gchar *const payloads[] = {
	    "{\"dps\":{\"1\":true,\"19\":86},\"t\":1700000000}",
	    "{\"cid\":\"a4c138abcdef\",\"dps\":{\"1\":false}}",
	    "{\"protocol\":4,\"t\":1700000001,\"data\":{\"cid\":\"zb01\",\"dps\":{\"18\":75}}}",
	    "{\"t\":-5,\"cid\":\"bad\\\"cid\",\"dps\":{}}",
	    "{}",
	    "",
	};

	for (guint i = 0; i < G_N_ELEMENTS(payloads); i++) {
		const guint8 *plain = (const guint8 *)payloads[i];
		gsize len = strlen(payloads[i]);
		gboolean has1 = FALSE, has2 = FALSE;
		g_autoptr(GVariant) meta = NULL;
		g_autoptr(GVariant) expected_meta = g_variant_ref_sink(wbd_tuya_payload_get_meta(plain, len));
		g_autoptr(GVariant) dps1 = wbd_tuya_payload_parse(plain, len, &has1, NULL);
		g_autoptr(GVariant) dps2 = wbd_tuya_payload_parse_with_meta(plain, len, &has2, &meta, NULL);

		g_assert_nonnull(dps2);
		g_assert_true(g_variant_equal(dps1, dps2));
		g_assert_cmpint(has1, ==, has2);
		g_assert_nonnull(meta);
		g_assert_true(g_variant_equal(meta, expected_meta));
	}
	/* what the meta holds, for one of them */
	{
		const gchar *payload = payloads[2];
		gboolean has = FALSE;
		g_autoptr(GVariant) meta = NULL;
		g_autoptr(GVariant) dps =
		    wbd_tuya_payload_parse_with_meta((const guint8 *)payload, strlen(payload), &has, &meta, NULL);
		gint64 t = 0;
		const gchar *cid = NULL;
		g_assert_true(g_variant_lookup(meta, "t", "x", &t));
		g_assert_cmpint(t, ==, 1700000001);
		g_assert_true(g_variant_lookup(meta, "cid", "&s", &cid));
		g_assert_cmpstr(cid, ==, "zb01");
	}
	/* not JSON: an error, no meta */
	{
		gboolean has = FALSE;
		g_autoptr(GVariant) meta = NULL;
		g_autoptr(GError) error = NULL;
		g_assert_null(wbd_tuya_payload_parse_with_meta((const guint8 *)"nope", 4, &has, &meta, &error));
		g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
		g_assert_null(meta);
	}
}

int
main(int argc, char **argv)
{
	JsonArray *vectors;

	g_test_init(&argc, &argv, NULL);
	vectors_root = load_data("gateway-vectors.json");
	vectors = json_object_get_array_member(json_node_get_object(vectors_root), "vectors");
	for (guint i = 0; i < json_array_get_length(vectors); i++) {
		JsonObject *v = json_array_get_object_element(vectors, i);
		g_autofree gchar *path = g_strdup_printf("/tuya/gateway/vector/%s", json_object_get_string_member(v, "name"));
		g_test_add_data_func(path, v, test_gateway_vector);
	}
	g_test_add_func("/tuya/gateway/fixture-messages", test_fixture_messages);
	g_test_add_func("/tuya/gateway/bad-input", test_bad_input);
	g_test_add_func("/tuya/gateway/parse-with-meta", test_parse_with_meta);
	return g_test_run();
}
