/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-tuya-codec.h"
#include "wbd-tuya-crypto.h"
#include "wbt-fixture.h"

/*
 * Every vector of shared/specs/tuya-local.md §13 (tests/data/tuya/vectors.json, made by
 * the spec's generator and checked with tinytuya and tuyapi), and the real-device frames
 * of tests/data/tuya/real-frames.json. Expected bytes come from those files only.
 */

static JsonNode *vectors_root = NULL;

static JsonNode *
load_data(const gchar *name)
{
	return wbt_data_load("tuya", name);
}

static const gchar *
input(const gchar *name)
{
	JsonObject *inputs = json_object_get_object_member(json_node_get_object(vectors_root), "inputs");
	return json_object_get_string_member(inputs, name);
}

static GBytes *
input_bytes(const gchar *name)
{
	return wbt_hex_decode(input(name));
}

static JsonObject *
vector(const gchar *name)
{
	JsonArray *arr = json_object_get_array_member(json_node_get_object(vectors_root), "vectors");
	for (guint i = 0; i < json_array_get_length(arr); i++) {
		JsonObject *v = json_array_get_object_element(arr, i);
		if (g_strcmp0(json_object_get_string_member(v, "name"), name) == 0)
			return v;
	}
	g_assert_not_reached();
	return NULL;
}

static void
assert_bytes(GBytes *got, GBytes *expected)
{
	gsize a = 0, b = 0;
	const guint8 *pa = g_bytes_get_data(got, &a);
	const guint8 *pb = g_bytes_get_data(expected, &b);
	g_assert_cmpmem(pa, a, pb, b);
}

/* the key a vector is encrypted with, from the spec's inputs */
static GBytes *
vector_key(JsonObject *v)
{
	const gchar *name = json_object_get_string_member(v, "name");
	gint64 cmd = json_object_get_int_member(v, "cmd");
	if (g_str_has_prefix(name, "udp_"))
		return input_bytes("udp_key_hex");
	if (g_str_has_prefix(name, "v34_") && cmd > 5)
		return input_bytes("v34_session_key_hex");
	if (g_str_has_prefix(name, "v35_") && cmd > 5)
		return input_bytes("v35_session_key_hex");
	return input_bytes("local_key_hex");
}

static GBytes *
vector_plaintext(JsonObject *v)
{
	if (json_object_has_member(v, "plaintext_hex"))
		return wbt_hex_decode(json_object_get_string_member(v, "plaintext_hex"));
	return g_bytes_new(json_object_get_string_member(v, "plaintext"),
			   strlen(json_object_get_string_member(v, "plaintext")));
}

static void
test_vector(gconstpointer user_data)
{
	JsonObject *v = vector(user_data);
	const gchar *name = json_object_get_string_member(v, "name");
	gboolean from_device = g_str_has_prefix(json_object_get_string_member(v, "dir"), "device");
	WbdTuyaVersion version = wbd_tuya_version_from_string(json_object_get_string_member(v, "version"));
	g_autoptr(GBytes) frame_bytes = wbt_hex_decode(json_object_get_string_member(v, "frame_hex"));
	g_autoptr(GBytes) key = vector_key(v);
	g_autoptr(GBytes) plaintext = vector_plaintext(v);
	g_autoptr(GError) error = NULL;
	WbdTuyaFrame frame = {0};
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(frame_bytes, &len);
	gsize start = 99, frame_len = 0;
	gboolean source_header = json_object_has_member(v, "source_header_hex");

	g_assert_cmpuint(len, ==, json_object_get_int_member(v, "frame_len"));

	/* the stream scanner finds exactly this frame */
	g_assert_cmpint(wbd_tuya_frame_scan(data, len, &start, &frame_len), ==, WBD_TUYA_SCAN_FRAME);
	g_assert_cmpuint(start, ==, 0);
	g_assert_cmpuint(frame_len, ==, len);
	/* one byte short: wait for more */
	g_assert_cmpint(wbd_tuya_frame_scan(data, len - 1, &start, &frame_len), ==, WBD_TUYA_SCAN_NEED_MORE);
	g_assert_cmpuint(start, ==, 0);

	/* decode */
	g_assert_true(wbd_tuya_frame_decode(data, len, version, g_bytes_get_data(key, NULL), from_device,
					    &frame, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(frame.seq, ==, json_object_get_int_member(v, "seq"));
	g_assert_cmpuint(frame.cmd, ==, json_object_get_int_member(v, "cmd"));
	g_assert_cmpint(frame.prefix_6699, ==, version == WBD_TUYA_VERSION_3_5);
	if (from_device) {
		g_assert_true(frame.has_retcode);
		g_assert_cmpuint(frame.retcode, ==, json_object_get_int_member(v, "retcode"));
	} else {
		g_assert_false(frame.has_retcode);
	}
	assert_bytes(frame.payload, plaintext);
	wbd_tuya_frame_clear(&frame);

	/* encode: byte for byte (the source header of a real push is the device's own) */
	if (!source_header) {
		g_autoptr(GBytes) iv = NULL;
		g_autoptr(GBytes) encoded = NULL;
		WbdTuyaEncode opts = {
		    .version = version,
		    .key = g_bytes_get_data(key, NULL),
		    .seq = (guint32)json_object_get_int_member(v, "seq"),
		    .cmd = (guint32)json_object_get_int_member(v, "cmd"),
		    .retcode = from_device ? json_object_get_int_member(v, "retcode") : -1,
		    .no_header = g_str_has_prefix(name, "udp_"),
		};
		if (json_object_has_member(v, "iv")) {
			const gchar *ivs = json_object_get_string_member(v, "iv");
			iv = g_bytes_new(ivs, strlen(ivs));
			g_assert_cmpuint(g_bytes_get_size(iv), ==, WBD_TUYA_GCM_IV_SIZE);
			opts.iv = g_bytes_get_data(iv, NULL);
		}
		encoded = wbd_tuya_frame_encode(&opts,
						g_bytes_get_data(plaintext, NULL),
						g_bytes_get_size(plaintext));
		g_assert_nonnull(encoded);
		assert_bytes(encoded, frame_bytes);
	}
}

/* the derived values of §13 */
static void
test_derived(void)
{
	g_autoptr(GBytes) local_key = input_bytes("local_key_hex");
	const guint8 *lk = g_bytes_get_data(local_key, NULL);
	const gchar *nc = input("client_nonce");
	const gchar *nd = input("device_nonce");
	g_autoptr(GBytes) udp_key = input_bytes("udp_key_hex");
	g_autoptr(GBytes) hmac_nc = input_bytes("hmac_localkey_client_nonce_hex");
	g_autoptr(GBytes) hmac_nd = input_bytes("hmac_localkey_device_nonce_hex");
	g_autoptr(GBytes) sk34 = input_bytes("v34_session_key_hex");
	g_autoptr(GBytes) sk35 = input_bytes("v35_session_key_hex");
	g_autoptr(GBytes) ks35 = input_bytes("v35_keystream_block_hex");
	g_autoptr(GBytes) block = NULL;
	guint8 md5[16], mac[32], key[16], counter[16];

	g_assert_cmpmem(input("local_key"), 16, lk, 16);
	wbd_tuya_md5((const guint8 *)"yGAdlopoPVldABfn", 16, md5);
	g_assert_cmpmem(md5, 16, g_bytes_get_data(udp_key, NULL), 16);
	g_assert_cmpmem(wbd_tuya_udp_key, 16, g_bytes_get_data(udp_key, NULL), 16);
	wbd_tuya_hmac_sha256(lk, 16, (const guint8 *)nc, 16, mac);
	g_assert_cmpmem(mac, 32, g_bytes_get_data(hmac_nc, NULL), 32);
	wbd_tuya_hmac_sha256(lk, 16, (const guint8 *)nd, 16, mac);
	g_assert_cmpmem(mac, 32, g_bytes_get_data(hmac_nd, NULL), 32);
	wbd_tuya_session_key(WBD_TUYA_VERSION_3_4, lk, (const guint8 *)nc, (const guint8 *)nd, key);
	g_assert_cmpmem(key, 16, g_bytes_get_data(sk34, NULL), 16);
	wbd_tuya_session_key(WBD_TUYA_VERSION_3_5, lk, (const guint8 *)nc, (const guint8 *)nd, key);
	g_assert_cmpmem(key, 16, g_bytes_get_data(sk35, NULL), 16);
	/* the spec's shortcut: GCM's first block is ECB(Nc[0..11] || 00000002) */
	memcpy(counter, nc, 12);
	counter[12] = counter[13] = counter[14] = 0;
	counter[15] = 2;
	block = wbd_tuya_ecb_encrypt(lk, counter, 16, FALSE);
	assert_bytes(block, ks35);
}

static void
test_crc_self_check(void)
{
	g_autoptr(GBytes) frame = wbt_hex_decode("000055aa00000000000000090000000c00000000b051ab030000aa55");
	g_assert_cmphex(wbd_tuya_crc32(g_bytes_get_data(frame, NULL), 20), ==, 0xb051ab03);
	g_assert_cmphex(wbd_tuya_crc32((const guint8 *)"123456789", 9), ==, 0xcbf43926);
	g_assert_cmphex(wbd_tuya_crc32(NULL, 0), ==, 0);
}

/* the handshake of the vectors, from the client's side */
static void
test_session_response(void)
{
	JsonObject *v = vector("v34_sess_resp");
	g_autoptr(GBytes) frame_bytes = wbt_hex_decode(json_object_get_string_member(v, "frame_hex"));
	g_autoptr(GBytes) local_key = input_bytes("local_key_hex");
	g_autoptr(GBytes) wrong = g_bytes_new("0000000000000000", 16);
	g_autoptr(GError) error = NULL;
	WbdTuyaFrame frame = {0};
	guint8 nd[16];

	g_assert_true(wbd_tuya_frame_decode(g_bytes_get_data(frame_bytes, NULL),
					    g_bytes_get_size(frame_bytes), WBD_TUYA_VERSION_3_4,
					    g_bytes_get_data(local_key, NULL), TRUE, &frame, &error));
	g_assert_true(wbd_tuya_check_session_response(g_bytes_get_data(local_key, NULL),
						      (const guint8 *)input("client_nonce"),
						      frame.payload, nd, &error));
	g_assert_no_error(error);
	g_assert_cmpmem(nd, 16, input("device_nonce"), 16);
	/* another client nonce: the proof does not match */
	g_assert_false(wbd_tuya_check_session_response(g_bytes_get_data(local_key, NULL),
						       (const guint8 *)"fedcba9876543210",
						       frame.payload, nd, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, "check the local key"));
	wbd_tuya_frame_clear(&frame);
	g_clear_error(&error);

	/* a wrong local key: the frame's HMAC already fails */
	g_assert_false(wbd_tuya_frame_decode(g_bytes_get_data(frame_bytes, NULL),
					     g_bytes_get_size(frame_bytes), WBD_TUYA_VERSION_3_4,
					     g_bytes_get_data(wrong, NULL), TRUE, &frame, &error));
	g_assert_nonnull(strstr(error->message, "Bad HMAC"));
}

/* the JSON the client sends, as in the vectors */
static void
test_requests(void)
{
	const gchar *id = input("dev_id");
	gint64 t = json_object_get_int_member(json_object_get_object_member(json_node_get_object(vectors_root),
									    "inputs"),
					      "t");
	g_autofree gchar *q31 = wbd_tuya_build_query(WBD_TUYA_VERSION_3_1, id, t);
	g_autofree gchar *q34 = wbd_tuya_build_query(WBD_TUYA_VERSION_3_4, id, t);
	g_autofree gchar *hb = wbd_tuya_build_heartbeat(id);
	guint ids[] = {18, 19, 20};
	g_autofree gchar *upd = wbd_tuya_build_update_dps(ids, 3);
	g_autoptr(GVariant) on = g_variant_ref_sink(g_variant_new_parsed("{'1': <true>}"));
	g_autoptr(GVariant) off = g_variant_ref_sink(g_variant_new_parsed("{'1': <false>}"));
	g_autoptr(GVariant) bad = g_variant_ref_sink(g_variant_new_parsed("{'1': <@ay []>}"));
	g_autofree gchar *c33 = wbd_tuya_build_control(WBD_TUYA_VERSION_3_3, id, t, on);
	g_autofree gchar *c34 = wbd_tuya_build_control(WBD_TUYA_VERSION_3_4, id, t, off);
	g_autofree gchar *c35 = wbd_tuya_build_control(WBD_TUYA_VERSION_3_5, id, t, on);
	const gchar *const d22_ids[] = {"1", "19", NULL};
	g_autofree gchar *d22 = wbd_tuya_build_device22_query(id, t, d22_ids);
	g_autofree gchar *escaped = wbd_tuya_build_heartbeat("a\"b\\c\n");

	g_assert_cmpstr(q31, ==, json_object_get_string_member(vector("v31_dp_query"), "plaintext"));
	g_assert_cmpstr(q34, ==, json_object_get_string_member(vector("v34_dp_query_new"), "plaintext"));
	g_assert_cmpstr(hb, ==, json_object_get_string_member(vector("v33_heartbeat"), "plaintext"));
	g_assert_cmpstr(upd, ==, json_object_get_string_member(vector("v33_updatedps"), "plaintext"));
	g_assert_cmpstr(c33, ==, json_object_get_string_member(vector("v33_control"), "plaintext"));
	g_assert_cmpstr(c34, ==, json_object_get_string_member(vector("v34_control_new"), "plaintext"));
	g_assert_cmpstr(c35, ==, json_object_get_string_member(vector("v35_control_new"), "plaintext"));
	/* spec §6 device22 read */
	g_assert_cmpstr(d22, ==,
			"{\"devId\":\"bf0123456789abcdef01\",\"uid\":\"bf0123456789abcdef01\","
			"\"t\":\"1700000000\",\"dps\":{\"1\":null,\"19\":null}}");
	g_assert_cmpstr(escaped, ==, "{\"gwId\":\"a\\\"b\\\\c\\u000a\",\"devId\":\"a\\\"b\\\\c\\u000a\"}");
	g_assert_null(wbd_tuya_build_control(WBD_TUYA_VERSION_3_3, id, t, bad));
	g_assert_cmpuint(wbd_tuya_query_command(WBD_TUYA_VERSION_3_3), ==, 0x0a);
	g_assert_cmpuint(wbd_tuya_query_command(WBD_TUYA_VERSION_3_5), ==, 0x10);
	g_assert_cmpuint(wbd_tuya_control_command(WBD_TUYA_VERSION_3_1), ==, 0x07);
	g_assert_cmpuint(wbd_tuya_control_command(WBD_TUYA_VERSION_3_4), ==, 0x0d);
}

static GVariant *
parse_ok(const gchar *json, gboolean expect_dps)
{
	g_autoptr(GError) error = NULL;
	gboolean has_dps = !expect_dps;
	GVariant *dps = wbd_tuya_payload_parse((const guint8 *)json, strlen(json), &has_dps, &error);
	g_assert_no_error(error);
	g_assert_nonnull(dps);
	g_assert_cmpint(has_dps, ==, expect_dps);
	return dps;
}

static void
parse_fails(const guint8 *data, gsize len)
{
	g_autoptr(GError) error = NULL;
	gboolean has_dps = TRUE;
	g_autoptr(GVariant) dps = wbd_tuya_payload_parse(data, len, &has_dps, &error);
	g_assert_null(dps);
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
	g_assert_true(g_utf8_validate(error->message, -1, NULL));
	g_assert_false(has_dps);
}

static void
test_payloads(void)
{
	g_autoptr(GVariant) a = parse_ok(json_object_get_string_member(vector("v33_dp_query_reply"), "plaintext"), TRUE);
	g_autoptr(GVariant) b = parse_ok(json_object_get_string_member(vector("v35_status_push"), "plaintext"), TRUE);
	g_autoptr(GVariant) c = parse_ok("{\"devId\":\"x\",\"t\":5}", FALSE);
	g_autoptr(GVariant) d = parse_ok("{\"dps\":{\"2\":\"on\",\"10\":null,\"3\":1.5,\"4\":{\"a\":[1]},\"\":1}}", TRUE);
	g_autoptr(GVariant) e = parse_ok("{\"dps\":{\"1\":\"a\xff" "b\"}}", TRUE);
	g_autofree gchar *a_text = g_variant_print(a, TRUE);
	g_autofree gchar *d_text = g_variant_print(d, TRUE);
	g_autofree gchar *e_text = g_variant_print(e, FALSE);
	g_autofree gchar *deep = NULL;
	g_autofree gchar *text = NULL;
	GString *nest = g_string_new("{\"dps\":");

	/* the example: a real plug's report, ids in numeric order */
	g_assert_cmpstr(a_text, ==, "{'1': <true>, '18': <int64 75>, '19': <int64 86>, '20': <int64 2284>}");
	g_assert_true(g_variant_equal(a, b));
	g_assert_cmpuint(g_variant_n_children(c), ==, 0);
	g_assert_cmpstr(d_text, ==, "{'2': <'on'>, '3': <1.5>, '4': <'{\"a\":[1]}'>}");
	g_assert_cmpstr(e_text, ==, "{'1': <'a\xef\xbf\xbd" "b'>}");

	/* what json-glib 1.6 must never see, and what is not JSON at all */
	parse_fails((const guint8 *)"{}{}", 4);
	parse_fails((const guint8 *)"{\"dps\":{}} x", 12);
	parse_fails((const guint8 *)"[1]", 3);
	parse_fails((const guint8 *)"{/*c*/}", 7);
	parse_fails((const guint8 *)"{\"a\":1", 6);
	parse_fails((const guint8 *)"json obj data unvalid", 21);
	parse_fails((const guint8 *)"{\"a\0\":1}", 8);
	for (guint i = 0; i < 40; i++)
		g_string_append(nest, "{\"a\":");
	deep = g_string_free(nest, FALSE);
	parse_fails((const guint8 *)deep, strlen(deep));
	text = wbd_tuya_payload_to_text((const guint8 *)"bad\x01\xff" "error\n", 11);
	g_assert_cmpstr(text, ==, "bad \xef\xbf\xbd" "error");
}

static void
test_versions(void)
{
	g_assert_cmpint(wbd_tuya_version_from_string("3.1"), ==, WBD_TUYA_VERSION_3_1);
	g_assert_cmpint(wbd_tuya_version_from_string("3.5"), ==, WBD_TUYA_VERSION_3_5);
	g_assert_cmpint(wbd_tuya_version_from_string("3.6"), ==, WBD_TUYA_VERSION_UNKNOWN);
	g_assert_cmpint(wbd_tuya_version_from_string(NULL), ==, WBD_TUYA_VERSION_UNKNOWN);
	g_assert_cmpstr(wbd_tuya_version_to_string(WBD_TUYA_VERSION_3_4), ==, "3.4");
	/* tinytuya's no-header list, spec §2 */
	g_assert_false(wbd_tuya_command_has_header(0x0a));
	g_assert_false(wbd_tuya_command_has_header(0x10));
	g_assert_false(wbd_tuya_command_has_header(0x12));
	g_assert_false(wbd_tuya_command_has_header(0x09));
	g_assert_false(wbd_tuya_command_has_header(0x03));
	g_assert_false(wbd_tuya_command_has_header(0x40));
	g_assert_true(wbd_tuya_command_has_header(0x07));
	g_assert_true(wbd_tuya_command_has_header(0x0d));
	g_assert_true(wbd_tuya_command_has_header(0x08));
}

static GBytes *
vector_frame(const gchar *name)
{
	return wbt_hex_decode(json_object_get_string_member(vector(name), "frame_hex"));
}

static void
decode_fails(GBytes *bytes, WbdTuyaVersion version, GBytes *key, const gchar *expected)
{
	g_autoptr(GError) error = NULL;
	WbdTuyaFrame frame = {0};
	g_assert_false(wbd_tuya_frame_decode(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes),
					     version, key != NULL ? g_bytes_get_data(key, NULL) : NULL,
					     TRUE, &frame, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
	g_test_message("%s", error->message);
	g_assert_nonnull(strstr(error->message, expected));
	g_assert_null(frame.payload);
}

static GBytes *
flip(GBytes *bytes, gsize offset)
{
	gsize len = g_bytes_get_size(bytes);
	guint8 *copy = g_memdup2(g_bytes_get_data(bytes, NULL), len);
	g_assert_cmpuint(offset, <, len);
	copy[offset] ^= 0x01;
	return g_bytes_new_take(copy, len);
}

/* each kind of bad input gives its own message */
static void
test_bad_frames(void)
{
	g_autoptr(GBytes) lk = input_bytes("local_key_hex");
	g_autoptr(GBytes) sk34 = input_bytes("v34_session_key_hex");
	g_autoptr(GBytes) sk35 = input_bytes("v35_session_key_hex");
	g_autoptr(GBytes) wrong = g_bytes_new("wrong_local_key!", 16);
	g_autoptr(GBytes) v33 = vector_frame("v33_dp_query_reply");
	g_autoptr(GBytes) v34 = vector_frame("v34_status_push");
	g_autoptr(GBytes) v35 = vector_frame("v35_status_push");
	g_autoptr(GBytes) v33_crc = flip(v33, 40);
	g_autoptr(GBytes) v33_suffix = flip(v33, g_bytes_get_size(v33) - 1);
	g_autoptr(GBytes) v34_mac = flip(v34, 50);
	g_autoptr(GBytes) v35_tag = flip(v35, 40);

	decode_fails(v33, WBD_TUYA_VERSION_3_3, wrong, "check the local key");
	decode_fails(v33_crc, WBD_TUYA_VERSION_3_3, lk, "Bad CRC");
	decode_fails(v33_suffix, WBD_TUYA_VERSION_3_3, lk, "suffix");
	decode_fails(v34_mac, WBD_TUYA_VERSION_3_4, sk34, "Bad HMAC");
	decode_fails(v34, WBD_TUYA_VERSION_3_4, lk, "Bad HMAC");
	decode_fails(v35_tag, WBD_TUYA_VERSION_3_5, sk35, "check the local key");
	decode_fails(v35, WBD_TUYA_VERSION_3_5, lk, "check the local key");
	/* the wrong version: 6699 frames to a 3.3 client and 55AA frames to a 3.5 one */
	decode_fails(v35, WBD_TUYA_VERSION_3_3, lk, "Protocol version mismatch");
	decode_fails(v33, WBD_TUYA_VERSION_3_5, lk, "Protocol version mismatch");
	/* a 3.3 frame read as 3.4: too short for the HMAC, or the HMAC does not match */
	decode_fails(vector_frame("v33_control_ack"), WBD_TUYA_VERSION_3_4, lk, "HMAC");
	/* a truncated frame: its length field does not match */
	{
		g_autoptr(GBytes) cut = g_bytes_new_from_bytes(v33, 0, g_bytes_get_size(v33) - 8);
		decode_fails(cut, WBD_TUYA_VERSION_3_3, lk, "length");
	}
}

static void
test_scan(void)
{
	g_autoptr(GBytes) a = vector_frame("v33_control_ack");
	g_autoptr(GBytes) b = vector_frame("v35_status_push");
	g_autoptr(GByteArray) stream = g_byte_array_new();
	static const guint8 garbage[] = {0x12, 0x00, 0x00, 0x55, 0x00, 0x00};
	static const guint8 huge[] = {0x00, 0x00, 0x55, 0xaa, 0, 0, 0, 1, 0, 0, 0, 8, 0x7f, 0xff, 0xff, 0xf0};
	static const guint8 tiny[] = {0x00, 0x00, 0x55, 0xaa, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0, 4};
	static const guint8 huge35[] = {0x00, 0x00, 0x66, 0x99, 0, 0, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0x10, 0};
	gsize start = 0, len = 0;

	g_byte_array_append(stream, garbage, sizeof(garbage));
	g_byte_array_append(stream, g_bytes_get_data(a, NULL), g_bytes_get_size(a));
	g_byte_array_append(stream, g_bytes_get_data(b, NULL), g_bytes_get_size(b));
	g_assert_cmpint(wbd_tuya_frame_scan(stream->data, stream->len, &start, &len), ==, WBD_TUYA_SCAN_FRAME);
	g_assert_cmpuint(start, ==, sizeof(garbage));
	g_assert_cmpuint(len, ==, g_bytes_get_size(a));
	g_byte_array_remove_range(stream, 0, start + len);
	g_assert_cmpint(wbd_tuya_frame_scan(stream->data, stream->len, &start, &len), ==, WBD_TUYA_SCAN_FRAME);
	g_assert_cmpuint(start, ==, 0);
	g_assert_cmpuint(len, ==, g_bytes_get_size(b));

	/* garbage only: keep the last 3 bytes, a prefix may start there */
	g_assert_cmpint(wbd_tuya_frame_scan(garbage, sizeof(garbage), &start, &len), ==, WBD_TUYA_SCAN_NEED_MORE);
	g_assert_cmpuint(start, ==, 3);
	/* a header cut short */
	g_assert_cmpint(wbd_tuya_frame_scan(huge, 10, &start, &len), ==, WBD_TUYA_SCAN_NEED_MORE);
	g_assert_cmpuint(start, ==, 0);
	/* oversized and undersized length fields are refused before any waiting */
	g_assert_cmpint(wbd_tuya_frame_scan(huge, sizeof(huge), &start, &len), ==, WBD_TUYA_SCAN_BAD_LENGTH);
	g_assert_cmpuint(len, ==, 16 + 0x7ffffff0u);
	g_assert_cmpint(wbd_tuya_frame_scan(tiny, sizeof(tiny), &start, &len), ==, WBD_TUYA_SCAN_BAD_LENGTH);
	g_assert_cmpint(wbd_tuya_frame_scan(huge35, sizeof(huge35), &start, &len), ==, WBD_TUYA_SCAN_BAD_LENGTH);
	g_assert_cmpuint(len, ==, 18 + 0x1000 + 4);
}

/* bytes no Wattbus code produced: frames from real devices */
static void
test_real_frames(void)
{
	g_autoptr(JsonNode) root = load_data("real-frames.json");
	JsonArray *frames = json_object_get_array_member(json_node_get_object(root), "frames");
	g_autoptr(GBytes) vk = input_bytes("local_key_hex");

	for (guint i = 0; i < json_array_get_length(frames); i++) {
		JsonObject *f = json_array_get_object_element(frames, i);
		JsonObject *decoded = json_object_get_object_member(f, "decoded");
		const gchar *name = json_object_get_string_member(f, "name");
		g_autoptr(GBytes) bytes = wbt_hex_decode(json_object_get_string_member(f, "frame_hex"));
		WbdTuyaVersion version = wbd_tuya_version_from_string(json_object_get_string_member(f, "version"));
		g_autoptr(GBytes) key = NULL;
		g_autoptr(GError) error = NULL;
		WbdTuyaFrame frame = {0};
		gsize start = 0, len = 0;
		gboolean ok;

		g_test_message("real frame %s", name);
		g_assert_cmpint(wbd_tuya_frame_scan(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes),
						    &start, &len), ==, WBD_TUYA_SCAN_FRAME);
		g_assert_cmpuint(len, ==, g_bytes_get_size(bytes));
		if (json_object_has_member(f, "local_key"))
			key = g_bytes_new(json_object_get_string_member(f, "local_key"), 16);
		else if (g_str_has_prefix(name, "v33_udp"))
			key = g_bytes_new(wbd_tuya_udp_key, 16);
		else
			key = g_bytes_ref(vk); /* not the device's key */
		ok = wbd_tuya_frame_decode(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes), version,
					   g_bytes_get_data(key, NULL), TRUE, &frame, &error);
		if (g_str_equal(name, "v34_heartbeat_reply")) {
			/* session key unknown: only the HMAC can fail */
			g_assert_false(ok);
			g_assert_nonnull(strstr(error->message, "Bad HMAC"));
			continue;
		}
		if (json_object_has_member(decoded, "ciphertext_len") || json_object_has_member(decoded, "plaintext_reported")) {
			/* encrypted with a key nobody published: CRC fine, decryption refused */
			g_assert_false(ok);
			g_assert_nonnull(strstr(error->message, "check the local key"));
			continue;
		}
		g_assert_no_error(error);
		g_assert_true(ok);
		g_assert_cmpuint(frame.seq, ==, json_object_get_int_member(decoded, "seq"));
		g_assert_cmpuint(frame.cmd, ==, json_object_get_int_member(decoded, "cmd"));
		g_assert_true(frame.has_retcode);
		g_assert_cmpuint(frame.retcode, ==, json_object_get_int_member(decoded, "retcode"));
		if (json_object_has_member(decoded, "plaintext")) {
			const gchar *plain = json_object_get_string_member(decoded, "plaintext");
			g_assert_cmpmem(g_bytes_get_data(frame.payload, NULL), g_bytes_get_size(frame.payload),
					plain, strlen(plain));
		} else {
			g_assert_cmpuint(g_bytes_get_size(frame.payload), ==, 0);
		}
		wbd_tuya_frame_clear(&frame);
	}
}

/*
 * The kept cipher contexts (wbd-tuya-crypto.c): keys alternating frame by frame, as
 * with many devices, each give their own known answer (FIPS-197 C.1 and SP 800-38A
 * F.1.1 for AES, RFC 4231 for HMAC-SHA256); a failed GCM tag check does not spoil
 * the next one.
 */
static void
assert_bytes_hex(GBytes *bytes, const gchar *hex)
{
	g_autoptr(GBytes) expected = wbt_hex_decode(hex);
	g_assert_nonnull(bytes);
	g_assert_true(g_bytes_equal(bytes, expected));
}

static void
test_kept_cipher_contexts(void)
{
	g_autoptr(GBytes) key_a = wbt_hex_decode("000102030405060708090a0b0c0d0e0f");
	g_autoptr(GBytes) plain_a = wbt_hex_decode("00112233445566778899aabbccddeeff");
	g_autoptr(GBytes) key_b = wbt_hex_decode("2b7e151628aed2a6abf7158809cf4f3c");
	g_autoptr(GBytes) plain_b = wbt_hex_decode("6bc1bee22e409f96e93d7e117393172a");
	const guint8 *ka = g_bytes_get_data(key_a, NULL);
	const guint8 *kb = g_bytes_get_data(key_b, NULL);
	const guint8 iv[WBD_TUYA_GCM_IV_SIZE] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	const guint8 aad[4] = {0, 0, 0x66, 0x99};
	guint8 sealed_a[16], sealed_b[16], tag_a[WBD_TUYA_GCM_TAG_SIZE], tag_b[WBD_TUYA_GCM_TAG_SIZE];
	guint8 bad_tag[WBD_TUYA_GCM_TAG_SIZE], opened[16];

	for (guint round = 0; round < 3; round++) {
		g_autoptr(GBytes) ea = wbd_tuya_ecb_encrypt(ka, g_bytes_get_data(plain_a, NULL), 16, FALSE);
		g_autoptr(GBytes) eb = wbd_tuya_ecb_encrypt(kb, g_bytes_get_data(plain_b, NULL), 16, FALSE);
		g_autoptr(GBytes) da = NULL;
		g_autoptr(GBytes) db = NULL;
		g_autoptr(GBytes) wrong = NULL;

		assert_bytes_hex(ea, "69c4e0d86a7b0430d8cdb78070b4c55a");
		assert_bytes_hex(eb, "3ad77bb40d7a3660a89ecaf32466ef97");
		/* a wrong key's padding check fails; the next decryption is unharmed */
		wrong = wbd_tuya_ecb_decrypt(ka, g_bytes_get_data(eb, NULL), 16, TRUE);
		(void)wrong;
		db = wbd_tuya_ecb_decrypt(kb, g_bytes_get_data(eb, NULL), 16, FALSE);
		da = wbd_tuya_ecb_decrypt(ka, g_bytes_get_data(ea, NULL), 16, FALSE);
		g_assert_true(g_bytes_equal(da, plain_a));
		g_assert_true(g_bytes_equal(db, plain_b));
	}

	/* HMAC-SHA256 with alternating keys: RFC 4231 test cases 1 and 2 */
	for (guint round = 0; round < 2; round++) {
		const guint8 key1[20] = {0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
					 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b};
		guint8 mac[WBD_TUYA_HMAC_SIZE];
		g_autoptr(GBytes) mac1 = NULL;
		g_autoptr(GBytes) mac2 = NULL;

		wbd_tuya_hmac_sha256(key1, sizeof(key1), (const guint8 *)"Hi There", 8, mac);
		mac1 = g_bytes_new(mac, sizeof(mac));
		assert_bytes_hex(mac1, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
		wbd_tuya_hmac_sha256((const guint8 *)"Jefe", 4, (const guint8 *)"what do ya want for nothing?", 28, mac);
		mac2 = g_bytes_new(mac, sizeof(mac));
		assert_bytes_hex(mac2, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	}

	for (guint round = 0; round < 2; round++) {
		g_assert_true(wbd_tuya_gcm_encrypt(ka, iv, aad, sizeof(aad), g_bytes_get_data(plain_a, NULL), 16, sealed_a, tag_a));
		g_assert_true(wbd_tuya_gcm_encrypt(kb, iv, aad, sizeof(aad), g_bytes_get_data(plain_a, NULL), 16, sealed_b, tag_b));
		g_assert_true(memcmp(sealed_a, sealed_b, 16) != 0);
		memcpy(bad_tag, tag_a, sizeof(bad_tag));
		bad_tag[0] ^= 1;
		g_assert_false(wbd_tuya_gcm_decrypt(ka, iv, aad, sizeof(aad), sealed_a, 16, bad_tag, opened));
		g_assert_false(wbd_tuya_gcm_decrypt(kb, iv, aad, sizeof(aad), sealed_a, 16, tag_a, opened));
		g_assert_true(wbd_tuya_gcm_decrypt(ka, iv, aad, sizeof(aad), sealed_a, 16, tag_a, opened));
		g_assert_cmpmem(opened, 16, g_bytes_get_data(plain_a, NULL), 16);
		g_assert_true(wbd_tuya_gcm_decrypt(kb, iv, aad, sizeof(aad), sealed_b, 16, tag_b, opened));
		g_assert_cmpmem(opened, 16, g_bytes_get_data(plain_a, NULL), 16);
	}
}

int
main(int argc, char **argv)
{
	JsonArray *arr;
	int ret;

	g_test_init(&argc, &argv, NULL);
	vectors_root = load_data("vectors.json");
	arr = json_object_get_array_member(json_node_get_object(vectors_root), "vectors");
	g_assert_cmpuint(json_array_get_length(arr), ==, 25);
	for (guint i = 0; i < json_array_get_length(arr); i++) {
		const gchar *name = json_object_get_string_member(json_array_get_object_element(arr, i), "name");
		g_autofree gchar *path = g_strdup_printf("/tuya/codec/vector/%s", name);
		g_test_add_data_func(path, name, test_vector);
	}
	g_test_add_func("/tuya/codec/derived", test_derived);
	g_test_add_func("/tuya/codec/crc", test_crc_self_check);
	g_test_add_func("/tuya/codec/session-response", test_session_response);
	g_test_add_func("/tuya/codec/requests", test_requests);
	g_test_add_func("/tuya/codec/payloads", test_payloads);
	g_test_add_func("/tuya/codec/versions", test_versions);
	g_test_add_func("/tuya/codec/bad-frames", test_bad_frames);
	g_test_add_func("/tuya/codec/scan", test_scan);
	g_test_add_func("/tuya/codec/real-frames", test_real_frames);
	g_test_add_func("/tuya/codec/kept-cipher-contexts", test_kept_cipher_contexts);
	ret = g_test_run();
	json_node_unref(vectors_root);
	return ret;
}
