/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-json.h"
#include "wbd-kasa-codec.h"
#include "wbd-kasa-energy.h"
#include "wbd-kasa-sysinfo.h"
#include "wbt-fixture.h"

/* the test vectors of shared/specs/kasa.md §2.3 */
#define VECTOR_A_JSON "{\"system\":{\"get_sysinfo\":{}}}"
#define VECTOR_A_ENC                                                                               \
	"d0 f2 81 f8 8b ff 9a f7 d5 ef 94 b6 d1 b4 c0 9f"                                          \
	"ec 95 e6 8f e1 87 e8 ca f0 8b f6 8b f6"
#define VECTOR_A_FRAME "0000001dd0f281f88bff9af7d5ef94b6d1b4c09fec95e68fe187e8caf08bf68bf6"

#define VECTOR_B_JSON "{\"system\":{\"set_relay_state\":{\"state\":1}}}"
#define VECTOR_B_ENC                                                                               \
	"d0 f2 81 f8 8b ff 9a f7 d5 ef 94 b6 c5 a0 d4 8b"                                          \
	"f9 9c f0 91 e8 b7 c4 b0 d1 a5 c0 e2 d8 a3 81 f2"                                          \
	"86 e7 93 f6 d4 ee df a2 df a2"

#define VECTOR_C_JSON "{\"emeter\":{\"get_realtime\":{}}}"
#define VECTOR_C_ENC                                                                               \
	"d0 f2 97 fa 9f eb 8e fc de e4 9f bd da bf cb 94"                                          \
	"e6 83 e2 8e fa 93 fe 9b b9 83 f8 85 f8 85"

#define VECTOR_D_FRAME                                                                             \
	"00 00 00 71 d0 f2 97 fa 9f eb 8e fc de e4 9f bd da bf cb 94"                              \
	"e6 83 e2 8e fa 93 fe 9b b9 83 f8 da b9 cc be cc a9 c7 b3 ec"                              \
	"81 e0 c2 f8 cc f9 c8 e4 c6 a3 d1 a3 fc 9f f0 94 f1 d3 e9 d9"                              \
	"f5 d7 a7 c8 bf da a8 f7 9a ed cf f5 c3 f2 c5 f0 c3 ef cd b9"                              \
	"d6 a2 c3 af f0 87 ef cd f7 c6 f0 c3 f1 c2 ee cc ba d5 b9 cd"                              \
	"ac cb ae f1 9c ea c8 f2 c0 f3 c3 fb c8 ff 82 ff 82"
#define VECTOR_D_JSON                                                                              \
	"{\"emeter\":{\"get_realtime\":{\"current_ma\":451,\"err_code\":0,\"power_mw\":61753,"     \
	"\"total_wh\":16323,\"voltage_mv\":230837}}}"

#define VECTOR_E_JSON                                                                              \
	"{\"context\":{\"child_ids\":[\"80060000000000000000000000000000000300AA02\"]},"           \
	"\"system\":{\"set_relay_state\":{\"state\":0}}}"
#define VECTOR_E_HEAD "d0 f2 91 fe 90 e4 81 f9 8d af 95 ee cc af c7 ae"
#define VECTOR_E_TAIL "f9 c9 b4 c9 b4"

static void
assert_bytes_equal(const guint8 *data, gsize len, GBytes *expected)
{
	gsize expected_len = 0;
	const guint8 *expected_data = g_bytes_get_data(expected, &expected_len);
	g_assert_cmpmem(data, len, expected_data, expected_len);
}

static void
check_encrypt_vector(const gchar *json, const gchar *hex)
{
	g_autoptr(GBytes) expected = wbt_hex_decode(hex);
	gsize len = strlen(json);
	g_autofree guint8 *buf = g_memdup2(json, len);

	wbd_kasa_encrypt(buf, len);
	assert_bytes_equal(buf, len, expected);
	wbd_kasa_decrypt(buf, len);
	g_assert_cmpmem(buf, len, json, len);
}

/* the frame is the 4-byte big-endian length, then the encrypted bytes */
static void
check_frame_vector(const gchar *json, const gchar *enc_hex)
{
	g_autoptr(GBytes) enc = wbt_hex_decode(enc_hex);
	g_autoptr(GBytes) frame = wbd_kasa_frame_encode(json);
	gsize frame_len = 0;
	const guint8 *data = g_bytes_get_data(frame, &frame_len);
	gsize len = strlen(json);
	guint32 length = 0;
	g_autoptr(GError) error = NULL;

	g_assert_cmpuint(frame_len, ==, WBD_KASA_HEADER_SIZE + len);
	g_assert_cmpuint(data[0], ==, (len >> 24) & 0xff);
	g_assert_cmpuint(data[1], ==, (len >> 16) & 0xff);
	g_assert_cmpuint(data[2], ==, (len >> 8) & 0xff);
	g_assert_cmpuint(data[3], ==, len & 0xff);
	assert_bytes_equal(data + WBD_KASA_HEADER_SIZE, frame_len - WBD_KASA_HEADER_SIZE, enc);
	g_assert_true(wbd_kasa_frame_parse_header(data, &length, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(length, ==, len);
}

static void
test_codec_vector_a(void)
{
	g_autoptr(GBytes) expected = wbt_hex_decode(VECTOR_A_FRAME);
	g_autoptr(GBytes) frame = wbd_kasa_frame_encode(VECTOR_A_JSON);

	g_assert_cmpuint(strlen(VECTOR_A_JSON), ==, 29);
	check_encrypt_vector(VECTOR_A_JSON, VECTOR_A_ENC);
	check_frame_vector(VECTOR_A_JSON, VECTOR_A_ENC);
	/* the complete 33-byte TCP frame, byte for byte */
	g_assert_cmpuint(g_bytes_get_size(frame), ==, 33);
	g_assert_true(g_bytes_equal(frame, expected));
}

static void
test_codec_vector_b(void)
{
	g_assert_cmpuint(strlen(VECTOR_B_JSON), ==, 42);
	check_encrypt_vector(VECTOR_B_JSON, VECTOR_B_ENC);
	check_frame_vector(VECTOR_B_JSON, VECTOR_B_ENC);
}

static void
test_codec_vector_c(void)
{
	g_assert_cmpuint(strlen(VECTOR_C_JSON), ==, 30);
	check_encrypt_vector(VECTOR_C_JSON, VECTOR_C_ENC);
	check_frame_vector(VECTOR_C_JSON, VECTOR_C_ENC);
}

static void
test_codec_vector_d(void)
{
	g_autoptr(GBytes) frame = wbt_hex_decode(VECTOR_D_FRAME);
	gsize frame_len = 0;
	const guint8 *data = g_bytes_get_data(frame, &frame_len);
	g_autofree guint8 *plain = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) reply = NULL;
	g_autoptr(GBytes) encoded = NULL;
	JsonObject *result;
	WbdMeterReading reading;
	guint32 length = 0;

	g_assert_cmpuint(frame_len, ==, 117);
	g_assert_true(wbd_kasa_frame_parse_header(data, &length, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(length, ==, 113);
	g_assert_cmpuint(length, ==, frame_len - WBD_KASA_HEADER_SIZE);

	/* decrypt to the exact text */
	plain = g_memdup2(data + WBD_KASA_HEADER_SIZE, length);
	wbd_kasa_decrypt(plain, length);
	g_assert_cmpmem(plain, length, VECTOR_D_JSON, strlen(VECTOR_D_JSON));

	/* and the other way round */
	encoded = wbd_kasa_frame_encode(VECTOR_D_JSON);
	g_assert_true(g_bytes_equal(encoded, frame));

	/* the whole receive path: decode, find the result, normalise */
	reply = wbd_kasa_payload_decode(data + WBD_KASA_HEADER_SIZE, length, &error);
	g_assert_no_error(error);
	g_assert_nonnull(reply);
	result = wbd_kasa_reply_get_result(reply, "emeter", "get_realtime", NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(result);
	wbd_kasa_parse_realtime(result, &reading);
	g_assert_cmpfloat_with_epsilon(reading.values[WBD_QUANTITY_POWER], 61.753, 1e-9);
	g_assert_cmpfloat_with_epsilon(reading.values[WBD_QUANTITY_VOLTAGE], 230.837, 1e-9);
	g_assert_cmpfloat_with_epsilon(reading.values[WBD_QUANTITY_CURRENT], 0.451, 1e-9);
	g_assert_cmpfloat_with_epsilon(reading.values[WBD_QUANTITY_ENERGY], 16323, 1e-9);
}

static void
test_codec_vector_e(void)
{
	g_autoptr(GBytes) head = wbt_hex_decode(VECTOR_E_HEAD);
	g_autoptr(GBytes) tail = wbt_hex_decode(VECTOR_E_TAIL);
	g_autoptr(GBytes) frame = wbd_kasa_frame_encode(VECTOR_E_JSON);
	gsize frame_len = 0;
	const guint8 *data = g_bytes_get_data(frame, &frame_len);
	const guint8 *enc = data + WBD_KASA_HEADER_SIZE;
	gsize len = frame_len - WBD_KASA_HEADER_SIZE;
	static const guint8 hdr[] = {0x00, 0x00, 0x00, 0x71};

	g_assert_cmpuint(strlen(VECTOR_E_JSON), ==, 113);
	g_assert_cmpuint(len, ==, 113);
	g_assert_cmpmem(data, WBD_KASA_HEADER_SIZE, hdr, sizeof(hdr));
	assert_bytes_equal(enc, g_bytes_get_size(head), head);
	assert_bytes_equal(enc + len - g_bytes_get_size(tail), g_bytes_get_size(tail), tail);
}

static void
test_codec_empty(void)
{
	guint8 canary[] = {0x5a};
	g_autoptr(GBytes) frame = wbd_kasa_frame_encode("");
	static const guint8 zero_header[] = {0, 0, 0, 0};

	/* nothing to do: the buffer is not touched */
	wbd_kasa_encrypt(canary, 0);
	g_assert_cmpuint(canary[0], ==, 0x5a);
	wbd_kasa_decrypt(canary, 0);
	g_assert_cmpuint(canary[0], ==, 0x5a);

	/* an empty message is a bare zero header */
	g_assert_cmpmem(g_bytes_get_data(frame, NULL),
			g_bytes_get_size(frame),
			zero_header,
			sizeof(zero_header));
}

static void
test_codec_roundtrip_random(void)
{
	for (guint round = 0; round < 200; round++) {
		gsize len = (gsize)g_test_rand_int_range(1, 4096);
		g_autofree guint8 *orig = g_malloc(len);
		g_autofree guint8 *buf = NULL;
		gboolean changed = FALSE;

		for (gsize i = 0; i < len; i++)
			orig[i] = (guint8)g_test_rand_int_range(0, 256);
		buf = g_memdup2(orig, len);
		wbd_kasa_encrypt(buf, len);
		for (gsize i = 0; i < len && !changed; i++)
			changed = buf[i] != orig[i];
		/* the first byte is XORed with 171, so it always changes */
		g_assert_true(changed);
		g_assert_cmpuint(buf[0], ==, orig[0] ^ 171);
		wbd_kasa_decrypt(buf, len);
		g_assert_cmpmem(buf, len, orig, len);

		/* and the other order: encrypt(decrypt(x)) == x */
		wbd_kasa_decrypt(buf, len);
		wbd_kasa_encrypt(buf, len);
		g_assert_cmpmem(buf, len, orig, len);
	}
}

/* spec §2: p[i] = c[i] XOR c[i-1], with c[-1] = 171 */
static void
test_codec_decrypt_local(void)
{
	g_autoptr(GBytes) enc = wbt_hex_decode(VECTOR_B_ENC);
	gsize len = 0;
	const guint8 *c = g_bytes_get_data(enc, &len);
	g_autofree guint8 *plain = g_memdup2(c, len);

	wbd_kasa_decrypt(plain, len);
	for (gsize i = 0; i < len; i++)
		g_assert_cmpuint(plain[i], ==, c[i] ^ (i == 0 ? 171 : c[i - 1]));
	g_assert_cmpmem(plain, len, VECTOR_B_JSON, strlen(VECTOR_B_JSON));
}

/* issue #16.5: an HTTP server on the XOR port is named as such, not as a huge frame */
static void
test_codec_header_http(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree guint8 *header = g_memdup2("HTTP", WBD_KASA_HEADER_SIZE);
	guint32 length = 0;

	g_assert_false(wbd_kasa_frame_parse_header(header, &length, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_NOT_SUPPORTED);
	g_assert_nonnull(strstr(error->message, "answered HTTP"));
	g_assert_null(strstr(error->message, "1213486160"));
}

static void
test_codec_header_bounds(void)
{
	static const struct {
		guint8 header[WBD_KASA_HEADER_SIZE];
		guint32 length;
		gboolean ok;
	} cases[] = {
	    {{0x00, 0x00, 0x00, 0x00}, 0, FALSE},
	    {{0x00, 0x00, 0x00, 0x01}, 1, TRUE},
	    {{0x00, 0x00, 0x01, 0x00}, 256, TRUE},
	    {{0x00, 0x04, 0x00, 0x00}, WBD_KASA_MAX_FRAME, TRUE},
	    {{0x00, 0x04, 0x00, 0x01}, WBD_KASA_MAX_FRAME + 1, FALSE},
	    {{0x01, 0x00, 0x00, 0x00}, 0x01000000, FALSE},
	    {{0x7f, 0xff, 0xff, 0xff}, 0x7fffffff, FALSE},
	    {{0xff, 0xff, 0xff, 0xff}, 0xffffffff, FALSE},
	};

	g_assert_cmpuint(WBD_KASA_MAX_FRAME, ==, 256 * 1024);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		/* exactly the four header bytes on the heap: reading past them is an ASan error */
		g_autofree guint8 *header = g_memdup2(cases[i].header, WBD_KASA_HEADER_SIZE);
		guint32 length = 0;
		gboolean ok = wbd_kasa_frame_parse_header(header, &length, &error);

		g_test_message(
		    "header %u: %02x%02x%02x%02x", i, header[0], header[1], header[2], header[3]);
		g_assert_cmpint(ok, ==, cases[i].ok);
		g_assert_cmpuint(length, ==, cases[i].length);
		if (ok) {
			g_assert_no_error(error);
		} else {
			g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
			g_assert_nonnull(
			    strstr(error->message, cases[i].length == 0 ? "empty" : "limit"));
		}
	}
}

static JsonNode *
decode_plain(const gchar *plain, gsize len, GError **error)
{
	g_autofree guint8 *buf = g_memdup2(plain, len);
	wbd_kasa_encrypt(buf, len);
	return wbd_kasa_payload_decode(buf, len, error);
}

static void
test_codec_payload_garbage(void)
{
	static const gchar *const bad[] = {
	    "{",
	    "}",
	    "{\"system\":",
	    "{\"a\":1,}x",
	    "not json at all",
	    "{\"a\":tru}",
	    "\xff\xfe\xfd",
	};
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = decode_plain(bad[i], strlen(bad[i]), &error);
		g_assert_null(node);
		g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
		g_assert_true(g_str_has_prefix(error->message, "Bad reply from the device"));
	}

	/* raw random bytes that were never encrypted */
	for (guint round = 0; round < 100; round++) {
		guint8 buf[64];
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = NULL;
		for (guint i = 0; i < sizeof(buf); i++)
			buf[i] = (guint8)g_test_rand_int_range(0, 256);
		node = wbd_kasa_payload_decode(buf, sizeof(buf), &error);
		/* random bytes might in theory decode to JSON, but then it must be an object */
		if (node != NULL)
			g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
		else
			g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
	}
}

static void
test_codec_payload_nul(void)
{
	/* a valid object followed by a NUL and more text: json-glib would stop at the NUL */
	static const gchar with_nul[] = "{\"system\":{}}\0{\"x\":1}";
	static const gchar only_nul[] = "\0";
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = decode_plain(with_nul, sizeof(with_nul) - 1, &error);

	g_assert_null(node);
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
	g_clear_error(&error);

	node = decode_plain(only_nul, 1, &error);
	g_assert_null(node);
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
}

static void
test_codec_payload_not_object(void)
{
	static const gchar *const bad[] = {
	    "[]", "[{\"system\":{}}]", "1", "\"system\"", "null", "true"};
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = decode_plain(bad[i], strlen(bad[i]), &error);
		g_assert_null(node);
		g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
	}
}

static void
test_codec_payload_length(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	guint8 dummy = 0;
	gsize big_len = WBD_KASA_MAX_FRAME + 1;
	g_autofree guint8 *big = g_malloc0(big_len);

	node = wbd_kasa_payload_decode(&dummy, 0, &error);
	g_assert_null(node);
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
	g_clear_error(&error);

	node = wbd_kasa_payload_decode(big, big_len, &error);
	g_assert_null(node);
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
}

static void
test_codec_payload_valid(void)
{
	/* pyHS100-style spacing is accepted too (spec §2) */
	static const gchar *const good[] = {
	    VECTOR_A_JSON,
	    "{ \"system\": { \"get_sysinfo\": null } }",
	    "{}",
	};
	for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = decode_plain(good[i], strlen(good[i]), &error);
		g_autoptr(JsonNode) expected = wbt_json_parse(good[i]);
		g_assert_no_error(error);
		g_assert_nonnull(node);
		g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
		g_assert_true(json_node_equal(node, expected));
	}
}

/*
 * A reply nested 120000 levels deep (240 KB, under WBD_KASA_MAX_FRAME): json-glib before
 * 1.10 recurses once per level without a limit and overflows the stack, so the decoder
 * must refuse it first. Run in a subprocess, so that a crash fails only this test.
 */
static void
test_codec_payload_deep(void)
{
	if (g_test_subprocess()) {
		const gsize depth = 120000;
		g_autoptr(GString) json = g_string_new("{\"system\":");
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = NULL;

		for (gsize i = 0; i < depth; i++)
			g_string_append_c(json, '[');
		for (gsize i = 0; i < depth; i++)
			g_string_append_c(json, ']');
		g_string_append_c(json, '}');
		g_assert_cmpuint(json->len, <=, WBD_KASA_MAX_FRAME);
		node = decode_plain(json->str, json->len, &error);
		g_assert_null(node);
		g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
}

/*
 * A reply is one JSON object. json-glib before 1.10 parses any further objects or
 * arrays after the first value and leaks them, so "{...}{...}" would leak memory on
 * every poll of a hostile device: the decoder refuses it.
 */
static void
test_codec_payload_trailing(void)
{
	static const gchar *const fine[] = {
	    "{\"system\":{}} ", "{\"system\":{}}\r\n", "\t{\"system\":{}}"};
	static const gchar *const bad[] = {
	    "{\"system\":{}}{\"x\":1}", "{\"system\":{}} []", "5{\"system\":{}}"};

	for (guint i = 0; i < G_N_ELEMENTS(fine); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = decode_plain(fine[i], strlen(fine[i]), &error);
		g_assert_no_error(error);
		g_assert_nonnull(wbt_json_lookup(node, "system", NULL));
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = decode_plain(bad[i], strlen(bad[i]), &error);
		g_assert_null(node);
		g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
	}
}

/*
 * Error messages go to LastError and into D-Bus errors, which must be UTF-8. json-glib
 * reads "\310" as the byte 0xc8 and quotes the unexpected token raw in its message.
 */
static void
test_codec_payload_error_utf8(void)
{
	static const gchar *const bad[] = {
	    "{\"a\" \"\\310\"}",
	    "{\"system\":{\"\\377\\376\" 1}}",
	};
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = decode_plain(bad[i], strlen(bad[i]), &error);
		g_assert_null(node);
		g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
		g_assert_true(g_utf8_validate(error->message, -1, NULL));
	}
}

static void
test_codec_build_request_plain(void)
{
	g_autofree gchar *req = wbd_kasa_build_request("system", "get_sysinfo", NULL, NULL);
	g_autofree gchar *relay = NULL;
	g_autoptr(JsonNode) params = wbt_json_parse("{\"state\":1}");
	g_autoptr(JsonNode) parsed = NULL;
	g_autoptr(JsonNode) expected = wbt_json_parse(VECTOR_B_JSON);

	/* compact, byte for byte the request of vector A */
	g_assert_cmpstr(req, ==, VECTOR_A_JSON);

	relay = wbd_kasa_build_request("system", "set_relay_state", params, NULL);
	parsed = wbt_json_parse(relay);
	g_assert_true(json_node_equal(parsed, expected));
	g_assert_cmpstr(relay, ==, VECTOR_B_JSON);
	/* the caller keeps its params */
	g_assert_true(JSON_NODE_HOLDS_OBJECT(params));
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(params), "state"), ==, 1);
}

static void
test_codec_build_request_child(void)
{
	static const gchar *child = "80060000000000000000000000000000000300AA02";
	g_autoptr(JsonNode) params = wbt_json_parse("{\"state\":0}");
	g_autofree gchar *req = wbd_kasa_build_request("system", "set_relay_state", params, child);
	g_autofree gchar *meter = wbd_kasa_build_request("emeter", "get_realtime", NULL, child);
	g_autofree gchar *hostile = NULL;
	g_autoptr(JsonNode) parsed = wbt_json_parse(req);
	g_autoptr(JsonNode) expected = wbt_json_parse(VECTOR_E_JSON);
	g_autoptr(JsonNode) meter_parsed = wbt_json_parse(meter);
	g_autoptr(JsonNode) hostile_parsed = NULL;
	JsonNode *ids;

	g_assert_true(json_node_equal(parsed, expected));

	ids = wbt_json_lookup(meter_parsed, "context", "child_ids", NULL);
	g_assert_nonnull(ids);
	g_assert_true(JSON_NODE_HOLDS_ARRAY(ids));
	g_assert_cmpuint(json_array_get_length(json_node_get_array(ids)), ==, 1);
	g_assert_cmpstr(json_array_get_string_element(json_node_get_array(ids), 0), ==, child);
	g_assert_true(
	    JSON_NODE_HOLDS_OBJECT(wbt_json_lookup(meter_parsed, "emeter", "get_realtime", NULL)));

	/* an id with JSON syntax in it stays one string */
	hostile = wbd_kasa_build_request("system", "get_sysinfo", NULL, "a\"],\"x\":{\"\\");
	hostile_parsed = wbt_json_parse(hostile);
	ids = wbt_json_lookup(hostile_parsed, "context", "child_ids", NULL);
	g_assert_cmpstr(
	    json_array_get_string_element(json_node_get_array(ids), 0), ==, "a\"],\"x\":{\"\\");
	g_assert_null(wbt_json_lookup(hostile_parsed, "x", NULL));
}

/* a fixture's slice, through the cipher and the framing, as the driver would receive it */
static JsonNode *
receive_fixture_reply(const gchar *fixture, const gchar *module, const gchar *method)
{
	g_autoptr(JsonNode) root = wbt_fixture_load(fixture);
	g_autofree gchar *json = wbt_fixture_reply(root, module, method);
	g_autoptr(GBytes) frame = wbd_kasa_frame_encode(json);
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(frame, &len);
	guint32 length = 0;
	JsonNode *reply;

	g_test_message("%s: %s", fixture, json);
	g_assert_true(wbd_kasa_frame_parse_header(data, &length, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(length, ==, len - WBD_KASA_HEADER_SIZE);
	reply = wbd_kasa_payload_decode(data + WBD_KASA_HEADER_SIZE, length, &error);
	g_assert_no_error(error);
	g_assert_nonnull(reply);
	return reply;
}

static void
test_codec_reply_module_error(void)
{
	g_autoptr(JsonNode) reply =
	    receive_fixture_reply("HS100(US)_1.0_1.2.5.json", "emeter", "get_realtime");
	g_autoptr(GError) error = NULL;
	gint code = 12345;

	/* the error object sits where the method map should be */
	g_assert_nonnull(wbt_json_lookup(reply, "emeter", "err_code", NULL));
	g_assert_null(wbt_json_lookup(reply, "emeter", "get_realtime", NULL));

	g_assert_null(wbd_kasa_reply_get_result(reply, "emeter", "get_realtime", &code, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_NOT_SUPPORTED);
	g_assert_cmpint(code, ==, -1);
	g_assert_nonnull(strstr(error->message, "module not support"));
	g_clear_error(&error);

	/* err_code is optional */
	g_assert_null(wbd_kasa_reply_get_result(reply, "emeter", "get_realtime", NULL, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_NOT_SUPPORTED);
}

static void
test_codec_reply_method_error(void)
{
	g_autoptr(JsonNode) reply =
	    receive_fixture_reply("HS100(US)_2.0_1.5.6.json", "emeter", "get_realtime");
	g_autoptr(GError) error = NULL;
	gint code = 12345;

	g_assert_nonnull(wbt_json_lookup(reply, "emeter", "get_realtime", "err_code", NULL));
	g_assert_null(wbd_kasa_reply_get_result(reply, "emeter", "get_realtime", &code, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_NOT_SUPPORTED);
	g_assert_cmpint(code, ==, -1);
	g_assert_nonnull(strstr(error->message, "module not support"));
}

static void
test_codec_reply_success(void)
{
	g_autoptr(JsonNode) reply =
	    receive_fixture_reply("HS110(EU)_4.0_1.0.4.json", "emeter", "get_realtime");
	g_autoptr(JsonNode) sysinfo =
	    receive_fixture_reply("HS110(EU)_4.0_1.0.4.json", "system", "get_sysinfo");
	g_autoptr(GError) error = NULL;
	JsonObject *result;
	gint code = 12345;

	result = wbd_kasa_reply_get_result(reply, "emeter", "get_realtime", &code, &error);
	g_assert_no_error(error);
	g_assert_nonnull(result);
	g_assert_cmpint(code, ==, 0);
	g_assert_cmpint(json_object_get_int_member(result, "power_mw"), ==, 61753);
	g_assert_cmpint(json_object_get_int_member(result, "voltage_mv"), ==, 230837);

	/* the same reply does not answer a different question */
	g_assert_null(wbd_kasa_reply_get_result(reply, "system", "get_sysinfo", &code, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
	g_assert_cmpint(code, ==, 0);
	g_clear_error(&error);
	g_assert_null(wbd_kasa_reply_get_result(reply, "emeter", "get_daystat", &code, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
	g_clear_error(&error);

	result = wbd_kasa_reply_get_result(sysinfo, "system", "get_sysinfo", &code, &error);
	g_assert_no_error(error);
	g_assert_nonnull(result);
	g_assert_cmpstr(json_object_get_string_member(result, "model"), ==, "HS110(EU)");
}

static void
test_codec_reply_hostile(void)
{
	static const struct {
		const gchar *json;
		gint code;
		gint domain_code;
	} cases[] = {
	    /* spec §6: method not supported, and codes from the simulator */
	    {"{\"system\":{\"nosuch\":{\"err_code\":-2,\"err_msg\":\"member not support\"}}}",
	     -2,
	     WATTBUS_ERROR_NOT_SUPPORTED},
	    {"{\"system\":{\"nosuch\":{\"err_code\":-14,\"err_msg\":\"entry not exist\"}}}",
	     -14,
	     WATTBUS_ERROR_FAILED},
	    {"{\"system\":{\"nosuch\":{\"err_code\":-3}}}", -3, WATTBUS_ERROR_FAILED},
	    /* a module-level error wins over whatever else is there */
	    {"{\"system\":{\"err_code\":-1,\"nosuch\":{\"err_code\":0}}}",
	     -1,
	     WATTBUS_ERROR_NOT_SUPPORTED},
	    /* wrong types: not an error code, not a result */
	    {"{\"system\":{\"nosuch\":{\"err_code\":\"-1\"}}}", 0, -1},
	    {"{\"system\":{\"nosuch\":[]}}", 0, WATTBUS_ERROR_FAILED},
	    {"{\"system\":[]}", 0, WATTBUS_ERROR_FAILED},
	    {"{\"system\":\"nosuch\"}", 0, WATTBUS_ERROR_FAILED},
	    {"{}", 0, WATTBUS_ERROR_FAILED},
	    /* an error message that is not a string */
	    {"{\"system\":{\"nosuch\":{\"err_code\":-2,\"err_msg\":42}}}",
	     -2,
	     WATTBUS_ERROR_NOT_SUPPORTED},
	    /* codes that do not fit a gint are clamped */
	    {"{\"system\":{\"nosuch\":{\"err_code\":-1e300}}}", G_MININT, WATTBUS_ERROR_FAILED},
	    {"{\"system\":{\"nosuch\":{\"err_code\":99999999999}}}", G_MAXINT, WATTBUS_ERROR_FAILED},
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(JsonNode) reply = wbt_json_parse(cases[i].json);
		g_autoptr(GError) error = NULL;
		gint code = 12345;
		JsonObject *result =
		    wbd_kasa_reply_get_result(reply, "system", "nosuch", &code, &error);

		g_test_message("%s", cases[i].json);
		g_assert_cmpint(code, ==, cases[i].code);
		if (cases[i].domain_code < 0) {
			/* the string "-1" is not a code: the result is used as is */
			g_assert_no_error(error);
			g_assert_nonnull(result);
		} else {
			g_assert_null(result);
			g_assert_error(error, WATTBUS_ERROR, cases[i].domain_code);
			g_assert_true(g_utf8_validate(error->message, -1, NULL));
		}
	}
}

static void
test_codec_json_helpers(void)
{
	g_autoptr(JsonNode) node = wbt_json_parse("{\"s\":\"text\",\"i\":42,\"d\":-1.5,\"b\":true,"
						  "\"n\":null,\"o\":{\"x\":1},\"a\":[1,2]}");
	JsonObject *obj = json_node_get_object(node);
	gdouble value = 0;

	g_assert_cmpstr(wbd_json_get_string(obj, "s"), ==, "text");
	g_assert_null(wbd_json_get_string(obj, "i"));
	g_assert_null(wbd_json_get_string(obj, "n"));
	g_assert_null(wbd_json_get_string(obj, "o"));
	g_assert_null(wbd_json_get_string(obj, "missing"));
	g_assert_null(wbd_json_get_string(NULL, "s"));

	g_assert_true(wbd_json_get_number(obj, "i", &value));
	g_assert_cmpfloat(value, ==, 42);
	g_assert_true(wbd_json_get_number(obj, "d", &value));
	g_assert_cmpfloat(value, ==, -1.5);
	value = 7;
	g_assert_false(wbd_json_get_number(obj, "s", &value));
	g_assert_false(wbd_json_get_number(obj, "b", &value));
	g_assert_false(wbd_json_get_number(obj, "n", &value));
	g_assert_false(wbd_json_get_number(obj, "a", &value));
	g_assert_false(wbd_json_get_number(obj, "missing", &value));
	g_assert_false(wbd_json_get_number(NULL, "i", &value));
	g_assert_cmpfloat(value, ==, 7);

	g_assert_nonnull(wbd_json_get_object(obj, "o"));
	g_assert_null(wbd_json_get_object(obj, "a"));
	g_assert_null(wbd_json_get_object(obj, "n"));
	g_assert_null(wbd_json_get_object(NULL, "o"));
	g_assert_nonnull(wbd_json_get_array(obj, "a"));
	g_assert_cmpuint(json_array_get_length(wbd_json_get_array(obj, "a")), ==, 2);
	g_assert_null(wbd_json_get_array(obj, "o"));
	g_assert_null(wbd_json_get_array(NULL, "a"));
}

/* emeter.get_daystat/get_monthstat (kasa.md §8.2): the entry searched from the end, Wh or
 * kWh, a missing entry 0, a hostile one an error */
static gboolean
stats_find(const gchar *json, const gchar *list, gint day, gdouble *wh, GError **error)
{
	g_autoptr(JsonNode) node = wbd_json_parse(json, strlen(json), NULL);
	g_assert_nonnull(node);
	return wbd_kasa_stats_find(json_node_get_object(node), list, 2026, 12, day, wh, error);
}

static void
test_codec_stats(void)
{
	g_autoptr(GError) error = NULL;
	gdouble wh = -1;

	/* new style, Wh; unordered, an older duplicate before the last one */
	g_assert_true(stats_find("{\"day_list\":[{\"year\":2026,\"month\":12,\"day\":7,\"energy_wh\":5},"
				 "{\"year\":2026,\"month\":12,\"day\":8,\"energy_wh\":9},"
				 "{\"year\":2026,\"month\":12,\"day\":7,\"energy_wh\":321}]}",
				 "day_list", 7, &wh, &error));
	g_assert_no_error(error);
	g_assert_cmpfloat(wh, ==, 321);
	/* old style, kWh */
	g_assert_true(stats_find("{\"month_list\":[{\"year\":2026,\"month\":11,\"energy\":9.5},"
				 "{\"year\":2026,\"month\":12,\"energy\":24.75}]}",
				 "month_list", 0, &wh, &error));
	g_assert_cmpfloat(wh, ==, 24750);
	/* no entry for the day: 0, not an error; other years and junk entries skipped */
	g_assert_true(stats_find("{\"day_list\":[7,null,{\"year\":2025,\"month\":12,\"day\":7,\"energy_wh\":4},"
				 "{\"year\":\"2026\",\"month\":12,\"day\":7,\"energy_wh\":4}]}",
				 "day_list", 7, &wh, &error));
	g_assert_no_error(error);
	g_assert_cmpfloat(wh, ==, 0);
	/* no list, or the entry's energy missing, negative or absurd: an error */
	g_assert_false(stats_find("{\"err_code\":0}", "day_list", 7, &wh, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
	g_clear_error(&error);
	g_assert_false(stats_find("{\"day_list\":{}}", "day_list", 7, &wh, &error));
	g_clear_error(&error);
	for (guint i = 0; i < 3; i++) {
		const gchar *bad[] = {"\"energy_wh\":-1", "\"energy\":1e300", "\"energy_wh\":\"5\""};
		g_autofree gchar *json = g_strdup_printf(
		    "{\"day_list\":[{\"year\":2026,\"month\":12,\"day\":7,%s}]}", bad[i]);
		g_assert_false(stats_find(json, "day_list", 7, &wh, &error));
		g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
		g_clear_error(&error);
	}
}

int
main(int argc, char **argv)
{
	/* debug output (G_MESSAGES_DEBUG=all) must not mix with the TAP stream on stdout */
	g_log_writer_default_set_use_stderr(TRUE);
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/kasa/codec/vector-a", test_codec_vector_a);
	g_test_add_func("/kasa/codec/header-http", test_codec_header_http);
	g_test_add_func("/kasa/codec/vector-b", test_codec_vector_b);
	g_test_add_func("/kasa/codec/vector-c", test_codec_vector_c);
	g_test_add_func("/kasa/codec/vector-d", test_codec_vector_d);
	g_test_add_func("/kasa/codec/vector-e", test_codec_vector_e);
	g_test_add_func("/kasa/codec/empty", test_codec_empty);
	g_test_add_func("/kasa/codec/roundtrip-random", test_codec_roundtrip_random);
	g_test_add_func("/kasa/codec/decrypt-local", test_codec_decrypt_local);
	g_test_add_func("/kasa/codec/header-bounds", test_codec_header_bounds);
	g_test_add_func("/kasa/codec/payload/garbage", test_codec_payload_garbage);
	g_test_add_func("/kasa/codec/payload/nul", test_codec_payload_nul);
	g_test_add_func("/kasa/codec/payload/not-object", test_codec_payload_not_object);
	g_test_add_func("/kasa/codec/payload/length", test_codec_payload_length);
	g_test_add_func("/kasa/codec/payload/valid", test_codec_payload_valid);
	g_test_add_func("/kasa/codec/payload/deep", test_codec_payload_deep);
	g_test_add_func("/kasa/codec/payload/trailing", test_codec_payload_trailing);
	g_test_add_func("/kasa/codec/payload/error-utf8", test_codec_payload_error_utf8);
	g_test_add_func("/kasa/codec/build-request/plain", test_codec_build_request_plain);
	g_test_add_func("/kasa/codec/build-request/child", test_codec_build_request_child);
	g_test_add_func("/kasa/codec/reply/module-error", test_codec_reply_module_error);
	g_test_add_func("/kasa/codec/reply/method-error", test_codec_reply_method_error);
	g_test_add_func("/kasa/codec/reply/success", test_codec_reply_success);
	g_test_add_func("/kasa/codec/reply/hostile", test_codec_reply_hostile);
	g_test_add_func("/kasa/codec/json-helpers", test_codec_json_helpers);
	g_test_add_func("/kasa/codec/stats", test_codec_stats);

	return g_test_run();
}
