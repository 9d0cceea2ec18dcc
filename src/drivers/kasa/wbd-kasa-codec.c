/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-json.h"
#include "wbd-kasa-codec.h"

#define WBD_KASA_INITIAL_KEY 171

/* the "autokey" XOR: each ciphertext byte is the key of the next byte */
void
wbd_kasa_encrypt(guint8 *data, gsize len)
{
	guint8 key = WBD_KASA_INITIAL_KEY;
	for (gsize i = 0; i < len; i++) {
		data[i] ^= key;
		key = data[i];
	}
}

void
wbd_kasa_decrypt(guint8 *data, gsize len)
{
	guint8 key = WBD_KASA_INITIAL_KEY;
	for (gsize i = 0; i < len; i++) {
		guint8 c = data[i];
		data[i] = c ^ key;
		key = c;
	}
}

/* a TCP frame: 4-byte big-endian length, then the encrypted payload */
GBytes *
wbd_kasa_frame_encode(const gchar *json)
{
	gsize len = strlen(json);
	guint8 *frame = g_malloc(WBD_KASA_HEADER_SIZE + len);
	guint32 be = GUINT32_TO_BE((guint32)len);
	memcpy(frame, &be, WBD_KASA_HEADER_SIZE);
	memcpy(frame + WBD_KASA_HEADER_SIZE, json, len);
	wbd_kasa_encrypt(frame + WBD_KASA_HEADER_SIZE, len);
	return g_bytes_new_take(frame, WBD_KASA_HEADER_SIZE + len);
}

gboolean
wbd_kasa_frame_parse_header(const guint8 *header, guint32 *length, GError **error)
{
	guint32 be;
	memcpy(&be, header, sizeof(be));
	*length = GUINT32_FROM_BE(be);
	if (*length == 0) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "Bad reply from the device: empty frame");
		return FALSE;
	}
	if (memcmp(header, "HTTP", 4) == 0) {
		/* an HTTP server (a KLAP/AES device's, or any other) answered our frame */
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_NOT_SUPPORTED,
				    "Not a Kasa XOR device: it answered HTTP (a TP-Link device on KLAP or "
				    "AES wants transport=auto, klap or aes, and the HTTP port in http-port)");
		return FALSE;
	}
	if (*length > WBD_KASA_MAX_FRAME) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_FAILED,
			    "Bad reply from the device: a frame of %u bytes is over the limit of %u",
			    *length,
			    (guint)WBD_KASA_MAX_FRAME);
		return FALSE;
	}
	return TRUE;
}

/**
 * wbd_kasa_payload_decode:
 * @payload: the encrypted payload, without a length prefix
 *
 * Returns: (transfer full): the JSON object the device sent
 */
JsonNode *
wbd_kasa_payload_decode(const guint8 *payload, gsize len, GError **error)
{
	g_autofree guint8 *plain = NULL;

	if (len == 0 || len > WBD_KASA_MAX_FRAME) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_FAILED,
			    "Bad reply from the device: %" G_GSIZE_FORMAT " bytes",
			    len);
		return NULL;
	}
	plain = g_memdup2(payload, len);
	wbd_kasa_decrypt(plain, len);
	return wbd_kasa_payload_parse((const gchar *)plain, len, error);
}

/**
 * wbd_kasa_payload_parse:
 * @plain: a decrypted payload of 1 to %WBD_KASA_MAX_FRAME bytes
 *
 * The second half of wbd_kasa_payload_decode(), for a payload already decrypted.
 *
 * Returns: (transfer full): the JSON object the device sent
 */
JsonNode *
wbd_kasa_payload_parse(const gchar *plain, gsize len, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	JsonNode *root;

	/* JSON text is never NUL; json-glib would stop at one silently */
	if (memchr(plain, '\0', len) != NULL) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "Bad reply from the device: not JSON (is it a Kasa device?)");
		return NULL;
	}
	root = wbd_json_parse_object(plain, len, &local_error);
	if (root == NULL) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_FAILED,
			    "Bad reply from the device: %s",
			    local_error->message);
		return NULL;
	}
	return root;
}

gchar *
wbd_kasa_build_request(const gchar *module,
		       const gchar *method,
		       JsonNode *params,
		       const gchar *child_id)
{
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(builder);
	if (child_id != NULL) {
		json_builder_set_member_name(builder, "context");
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "child_ids");
		json_builder_begin_array(builder);
		json_builder_add_string_value(builder, child_id);
		json_builder_end_array(builder);
		json_builder_end_object(builder);
	}
	json_builder_set_member_name(builder, module);
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, method);
	if (params != NULL) {
		json_builder_add_value(builder, json_node_copy(params));
	} else {
		json_builder_begin_object(builder);
		json_builder_end_object(builder);
	}
	json_builder_end_object(builder);
	json_builder_end_object(builder);

	root = json_builder_get_root(builder);
	json_generator_set_root(generator, root);
	return json_generator_to_data(generator, NULL);
}

static gboolean
get_err_code(JsonObject *obj, gint *err_code)
{
	gdouble code = 0;
	if (!wbd_json_get_number(obj, "err_code", &code))
		return FALSE;
	*err_code = (gint)CLAMP(code, G_MININT, G_MAXINT);
	return TRUE;
}

/**
 * wbd_kasa_reply_get_result:
 * @err_code: (out) (optional): the device's error code, when it reports one
 *
 * Finds the result of MODULE.METHOD in a reply, handling the three placements of
 * errors real devices use: module level, method level, and success (err_code 0).
 *
 * Returns: (transfer none): the result object, or %NULL with @error set
 */
JsonObject *
wbd_kasa_reply_get_result(JsonNode *reply,
			  const gchar *module,
			  const gchar *method,
			  gint *err_code,
			  GError **error)
{
	JsonObject *root = json_node_get_object(reply);
	JsonObject *mod;
	JsonObject *result;
	gint code = 0;

	if (err_code != NULL)
		*err_code = 0;
	mod = wbd_json_get_object(root, module);
	if (mod == NULL) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_FAILED,
			    "Bad reply from the device: no '%s' in the answer",
			    module);
		return NULL;
	}
	if (get_err_code(mod, &code) && code != 0) {
		const gchar *msg = wbd_json_get_string(mod, "err_msg");
		if (err_code != NULL)
			*err_code = code;
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_NOT_SUPPORTED,
			    "The device refused %s: %s (error %d)",
			    module,
			    msg != NULL && g_utf8_validate(msg, -1, NULL) ? msg : "no reason given",
			    code);
		return NULL;
	}
	result = wbd_json_get_object(mod, method);
	if (result == NULL) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_FAILED,
			    "Bad reply from the device: no '%s.%s' in the answer",
			    module,
			    method);
		return NULL;
	}
	if (get_err_code(result, &code) && code != 0) {
		const gchar *msg = wbd_json_get_string(result, "err_msg");
		if (err_code != NULL)
			*err_code = code;
		g_set_error(error,
			    WATTBUS_ERROR,
			    code == -1 || code == -2 ? WATTBUS_ERROR_NOT_SUPPORTED : WATTBUS_ERROR_FAILED,
			    "The device refused %s.%s: %s (error %d)",
			    module,
			    method,
			    msg != NULL && g_utf8_validate(msg, -1, NULL) ? msg : "no reason given",
			    code);
		return NULL;
	}
	return result;
}
