/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-tuya-codec.h"

#define PREFIX_55AA 0x000055AAu
#define SUFFIX_55AA 0x0000AA55u
#define PREFIX_6699 0x00006699u
#define SUFFIX_6699 0x00009966u
#define HEADER_55AA 16
#define HEADER_6699 18
#define TRAILER_CRC 4
#define SUFFIX_SIZE 4

/* MD5 of the ASCII string "yGAdlopoPVldABfn": protects broadcasts only */
const guint8 wbd_tuya_udp_key[WBD_TUYA_KEY_SIZE] = {0x6c, 0x1e, 0xc8, 0xe2, 0xbb, 0x9b, 0xb5, 0x9a,
						    0xb5, 0x0b, 0x0d, 0xaf, 0x64, 0x9b, 0x41, 0x0a};

static guint32
read_be32(const guint8 *p)
{
	return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

static void
append_be32(GByteArray *buf, guint32 v)
{
	guint8 b[4] = {v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff};
	g_byte_array_append(buf, b, 4);
}

static void
write_be32(guint8 *p, guint32 v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

WbdTuyaVersion
wbd_tuya_version_from_string(const gchar *str)
{
	if (g_strcmp0(str, "3.1") == 0)
		return WBD_TUYA_VERSION_3_1;
	if (g_strcmp0(str, "3.2") == 0)
		return WBD_TUYA_VERSION_3_2;
	if (g_strcmp0(str, "3.3") == 0)
		return WBD_TUYA_VERSION_3_3;
	if (g_strcmp0(str, "3.4") == 0)
		return WBD_TUYA_VERSION_3_4;
	if (g_strcmp0(str, "3.5") == 0)
		return WBD_TUYA_VERSION_3_5;
	return WBD_TUYA_VERSION_UNKNOWN;
}

const gchar *
wbd_tuya_version_to_string(WbdTuyaVersion version)
{
	switch (version) {
	case WBD_TUYA_VERSION_3_1:
		return "3.1";
	case WBD_TUYA_VERSION_3_2:
		return "3.2";
	case WBD_TUYA_VERSION_3_3:
		return "3.3";
	case WBD_TUYA_VERSION_3_4:
		return "3.4";
	case WBD_TUYA_VERSION_3_5:
		return "3.5";
	case WBD_TUYA_VERSION_UNKNOWN:
	default:
		return "";
	}
}

/* tinytuya's list of commands whose payload never gets the version header */
gboolean
wbd_tuya_command_has_header(guint32 cmd)
{
	switch (cmd) {
	case WBD_TUYA_CMD_DP_QUERY:
	case WBD_TUYA_CMD_DP_QUERY_NEW:
	case WBD_TUYA_CMD_UPDATEDPS:
	case WBD_TUYA_CMD_HEART_BEAT:
	case WBD_TUYA_CMD_SESS_KEY_NEG_START:
	case WBD_TUYA_CMD_SESS_KEY_NEG_RESP:
	case WBD_TUYA_CMD_SESS_KEY_NEG_FINISH:
	case WBD_TUYA_CMD_LAN_EXT_STREAM:
		return FALSE;
	default:
		return TRUE;
	}
}

static gboolean
is_handshake(guint32 cmd)
{
	return cmd == WBD_TUYA_CMD_SESS_KEY_NEG_START || cmd == WBD_TUYA_CMD_SESS_KEY_NEG_RESP ||
	       cmd == WBD_TUYA_CMD_SESS_KEY_NEG_FINISH;
}

void
wbd_tuya_frame_clear(WbdTuyaFrame *frame)
{
	g_clear_pointer(&frame->payload, g_bytes_unref);
	memset(frame, 0, sizeof(*frame));
}

/* framing */

/**
 * wbd_tuya_frame_scan:
 * @start: (out): where the next frame starts; the bytes before it are garbage
 * @frame_len: (out): the size of the frame at @start (for %WBD_TUYA_SCAN_FRAME and
 *   %WBD_TUYA_SCAN_BAD_LENGTH)
 *
 * Finds the next 55AA or 6699 frame in a stream, whatever the version: the length
 * field is bounded before waiting for more bytes. On %WBD_TUYA_SCAN_NEED_MORE the
 * caller may drop the @start bytes before the (partial) frame. On
 * %WBD_TUYA_SCAN_BAD_LENGTH the stream is desynchronised: drop the prefix at @start
 * and scan again.
 */
WbdTuyaScan
wbd_tuya_frame_scan(const guint8 *data, gsize len, gsize *start, gsize *frame_len)
{
	gsize i;

	*frame_len = 0;
	for (i = 0; i + 4 <= len; i++) {
		guint32 prefix;
		guint32 length;
		guint64 total;
		gsize header;
		guint64 min_length;

		if (data[i] != 0 || data[i + 1] != 0)
			continue;
		prefix = read_be32(data + i);
		if (prefix != PREFIX_55AA && prefix != PREFIX_6699)
			continue;
		*start = i;
		header = prefix == PREFIX_55AA ? HEADER_55AA : HEADER_6699;
		if (len - i < header)
			return WBD_TUYA_SCAN_NEED_MORE;
		if (prefix == PREFIX_55AA) {
			length = read_be32(data + i + 12);
			total = (guint64)HEADER_55AA + length;
			min_length = TRAILER_CRC + SUFFIX_SIZE;
		} else {
			length = read_be32(data + i + 14);
			total = (guint64)HEADER_6699 + length + SUFFIX_SIZE;
			min_length = WBD_TUYA_GCM_IV_SIZE + WBD_TUYA_GCM_TAG_SIZE;
		}
		*frame_len = total > G_MAXSIZE ? G_MAXSIZE : (gsize)total;
		if (length < min_length || total > WBD_TUYA_MAX_FRAME)
			return WBD_TUYA_SCAN_BAD_LENGTH;
		if (len - i < total)
			return WBD_TUYA_SCAN_NEED_MORE;
		return WBD_TUYA_SCAN_FRAME;
	}
	/* nothing but garbage, except maybe the first bytes of a prefix */
	*start = len > 3 ? len - 3 : 0;
	return WBD_TUYA_SCAN_NEED_MORE;
}

static gboolean
set_decrypt_error(GError **error)
{
	g_set_error_literal(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_FAILED,
			    "Cannot decrypt the device's message: check the local key");
	return FALSE;
}

static gboolean
starts_with_version(const guint8 *p, gsize len)
{
	return len >= WBD_TUYA_VERSION_HEADER_SIZE && p[0] == '3' && p[1] == '.' &&
	       g_ascii_isdigit(p[2]);
}

/* AES-ECB with PKCS#7; a payload that is plain JSON is accepted as such */
static GBytes *
decrypt_ecb_payload(const guint8 *key, const guint8 *p, gsize n, GError **error)
{
	GBytes *plain = NULL;

	if (key != NULL && n % WBD_TUYA_AES_BLOCK == 0)
		plain = wbd_tuya_ecb_decrypt(key, p, n, TRUE);
	if (plain != NULL)
		return plain;
	if (n >= 2 && p[0] == '{' && p[n - 1] == '}')
		return g_bytes_new(p, n);
	set_decrypt_error(error);
	return NULL;
}

/* 3.1: plain JSON, or "3.1" + 16 hex characters of MD5 + base64(AES-ECB(json)) */
static GBytes *
decode_payload_31(const guint8 *key, const guint8 *p, gsize n, GError **error)
{
	g_autofree gchar *b64 = NULL;
	g_autofree guint8 *raw = NULL;
	gsize raw_len = 0;
	GBytes *plain;

	if (n < 19 || memcmp(p, "3.1", 3) != 0)
		return g_bytes_new(p, n);
	for (gsize i = 19; i < n; i++) {
		if (!g_ascii_isalnum(p[i]) && p[i] != '+' && p[i] != '/' && p[i] != '=') {
			set_decrypt_error(error);
			return NULL;
		}
	}
	b64 = g_strndup((const gchar *)p + 19, n - 19);
	raw = g_base64_decode(b64, &raw_len);
	if (key == NULL || raw_len == 0 || raw_len % WBD_TUYA_AES_BLOCK != 0) {
		set_decrypt_error(error);
		return NULL;
	}
	plain = wbd_tuya_ecb_decrypt(key, raw, raw_len, TRUE);
	if (plain == NULL)
		set_decrypt_error(error);
	return plain;
}

static gboolean
decode_55aa(const guint8 *data,
	    gsize len,
	    WbdTuyaVersion version,
	    const guint8 *key,
	    gboolean from_device,
	    WbdTuyaFrame *frame,
	    GError **error)
{
	gsize trailer = version == WBD_TUYA_VERSION_3_4 ? WBD_TUYA_HMAC_SIZE : TRAILER_CRC;
	const guint8 *body;
	gsize body_len;
	const guint8 *p;
	gsize n;
	g_autoptr(GBytes) plain = NULL;

	if (version == WBD_TUYA_VERSION_3_5) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "Protocol version mismatch: the device sends 55AA frames "
				    "(versions 3.1 to 3.4), but version 3.5 is configured");
		return FALSE;
	}
	if (len < HEADER_55AA + trailer + SUFFIX_SIZE ||
	    read_be32(data + 12) != len - HEADER_55AA) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    version == WBD_TUYA_VERSION_3_4
					? "Bad frame from the device: too short for an HMAC (is it "
					  "really a 3.4 device?)"
					: "Bad frame from the device: the length field is wrong");
		return FALSE;
	}
	if (read_be32(data + len - SUFFIX_SIZE) != SUFFIX_55AA) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "Bad frame from the device: no 0000AA55 suffix");
		return FALSE;
	}
	body_len = len - HEADER_55AA - trailer - SUFFIX_SIZE;
	if (version == WBD_TUYA_VERSION_3_4) {
		guint8 mac[WBD_TUYA_HMAC_SIZE];
		if (key == NULL)
			return set_decrypt_error(error);
		wbd_tuya_hmac_sha256(key, WBD_TUYA_KEY_SIZE, data, HEADER_55AA + body_len, mac);
		if (!wbd_tuya_memeq(mac, data + HEADER_55AA + body_len, WBD_TUYA_HMAC_SIZE)) {
			g_set_error_literal(error,
					    WATTBUS_ERROR,
					    WATTBUS_ERROR_FAILED,
					    "Bad HMAC in a frame from the device: the frame is "
					    "corrupt, or the key is wrong");
			return FALSE;
		}
	} else {
		guint32 crc = wbd_tuya_crc32(data, HEADER_55AA + body_len);
		guint32 got = read_be32(data + HEADER_55AA + body_len);
		if (crc != got) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "Bad CRC in a frame from the device (0x%08x, expected 0x%08x)",
				    got,
				    crc);
			return FALSE;
		}
	}

	frame->seq = read_be32(data + 4);
	frame->cmd = read_be32(data + 8);
	body = data + HEADER_55AA;
	p = body;
	n = body_len;
	/* device frames carry a return code; tolerate peers that leave it out */
	if (from_device && n >= 4 && body[0] == 0 && body[1] == 0 && body[2] == 0) {
		frame->has_retcode = TRUE;
		frame->retcode = read_be32(body);
		p += 4;
		n -= 4;
	}
	if (n == 0) {
		frame->payload = g_bytes_new(NULL, 0);
		return TRUE;
	}
	switch (version) {
	case WBD_TUYA_VERSION_3_1:
		plain = decode_payload_31(key, p, n, error);
		break;
	case WBD_TUYA_VERSION_3_4:
		plain = decrypt_ecb_payload(key, p, n, error);
		break;
	case WBD_TUYA_VERSION_3_2:
	case WBD_TUYA_VERSION_3_3:
	default:
		/* the clear version or source header: strip it whatever its 12 bytes */
		if (starts_with_version(p, n)) {
			p += WBD_TUYA_VERSION_HEADER_SIZE;
			n -= WBD_TUYA_VERSION_HEADER_SIZE;
		}
		plain = n == 0 ? g_bytes_new(NULL, 0) : decrypt_ecb_payload(key, p, n, error);
		break;
	}
	if (plain == NULL)
		return FALSE;
	if (version == WBD_TUYA_VERSION_3_4 && !is_handshake(frame->cmd)) {
		gsize plain_len = 0;
		const guint8 *q = g_bytes_get_data(plain, &plain_len);
		if (starts_with_version(q, plain_len)) {
			GBytes *stripped = g_bytes_new_from_bytes(plain,
								  WBD_TUYA_VERSION_HEADER_SIZE,
								  plain_len - WBD_TUYA_VERSION_HEADER_SIZE);
			g_bytes_unref(plain);
			plain = stripped;
		}
	}
	frame->payload = g_steal_pointer(&plain);
	return TRUE;
}

static gboolean
decode_6699(const guint8 *data,
	    gsize len,
	    WbdTuyaVersion version,
	    const guint8 *key,
	    gboolean from_device,
	    WbdTuyaFrame *frame,
	    GError **error)
{
	guint32 length;
	gsize ct_len;
	g_autofree guint8 *plain = NULL;
	const guint8 *p;
	gsize n;

	if (version != WBD_TUYA_VERSION_3_5 && version != WBD_TUYA_VERSION_UNKNOWN) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_FAILED,
			    "Protocol version mismatch: the device sends 3.5 frames (prefix 6699), "
			    "but version %s is configured",
			    wbd_tuya_version_to_string(version));
		return FALSE;
	}
	length = read_be32(data + 14);
	if (len < HEADER_6699 + WBD_TUYA_GCM_IV_SIZE + WBD_TUYA_GCM_TAG_SIZE + SUFFIX_SIZE ||
	    length != len - HEADER_6699 - SUFFIX_SIZE) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "Bad frame from the device: the length field is wrong");
		return FALSE;
	}
	if (read_be32(data + len - SUFFIX_SIZE) != SUFFIX_6699) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "Bad frame from the device: no 00009966 suffix");
		return FALSE;
	}
	if (key == NULL)
		return set_decrypt_error(error);
	ct_len = length - WBD_TUYA_GCM_IV_SIZE - WBD_TUYA_GCM_TAG_SIZE;
	plain = g_malloc(MAX(ct_len, 1));
	/* a frame whose tag does not verify is dropped whole */
	if (!wbd_tuya_gcm_decrypt(key,
				  data + HEADER_6699,
				  data + 4,
				  HEADER_6699 - 4,
				  data + HEADER_6699 + WBD_TUYA_GCM_IV_SIZE,
				  ct_len,
				  data + HEADER_6699 + WBD_TUYA_GCM_IV_SIZE + ct_len,
				  plain)) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "Cannot decrypt the device's message (the GCM tag does not "
				    "verify): check the local key");
		return FALSE;
	}
	frame->prefix_6699 = TRUE;
	frame->seq = read_be32(data + 6);
	frame->cmd = read_be32(data + 10);
	p = plain;
	n = ct_len;
	if (from_device && n >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 0) {
		frame->has_retcode = TRUE;
		frame->retcode = read_be32(p);
		p += 4;
		n -= 4;
	}
	if (!is_handshake(frame->cmd) && starts_with_version(p, n)) {
		p += WBD_TUYA_VERSION_HEADER_SIZE;
		n -= WBD_TUYA_VERSION_HEADER_SIZE;
	}
	frame->payload = g_bytes_new(p, n);
	return TRUE;
}

/**
 * wbd_tuya_frame_decode:
 * @data: one whole frame, as found by wbd_tuya_frame_scan()
 * @version: the version configured for the peer
 * @key: the key the frame is encrypted with (local key, session key or UDP key)
 * @from_device: whether the device sent it (device frames carry a return code)
 * @frame: (out caller-allocates): the frame; clear it with wbd_tuya_frame_clear()
 *
 * Checks the suffix and the CRC, HMAC or GCM tag before anything else, then
 * decrypts and removes the return code and the version or source header.
 */
gboolean
wbd_tuya_frame_decode(const guint8 *data,
		      gsize len,
		      WbdTuyaVersion version,
		      const guint8 *key,
		      gboolean from_device,
		      WbdTuyaFrame *frame,
		      GError **error)
{
	gboolean ok;

	memset(frame, 0, sizeof(*frame));
	if (len < 4 || len > WBD_TUYA_MAX_FRAME) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_FAILED,
			    "Bad frame from the device: %" G_GSIZE_FORMAT " bytes",
			    len);
		return FALSE;
	}
	if (read_be32(data) == PREFIX_55AA)
		ok = decode_55aa(data, len, version, key, from_device, frame, error);
	else if (read_be32(data) == PREFIX_6699)
		ok = decode_6699(data, len, version, key, from_device, frame, error);
	else {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "Bad frame from the device: no 000055AA or 00006699 prefix");
		ok = FALSE;
	}
	if (!ok)
		wbd_tuya_frame_clear(frame);
	return ok;
}

/**
 * wbd_tuya_frame_encode:
 * @payload: the plaintext (JSON, or the raw handshake bytes)
 *
 * Builds a whole frame: version header where the command needs one, encryption per
 * version, CRC32, HMAC-SHA256 or GCM tag.
 *
 * Returns: (transfer full) (nullable): the frame; %NULL only if the crypto library fails
 */
GBytes *
wbd_tuya_frame_encode(const WbdTuyaEncode *opts, const guint8 *payload, gsize len)
{
	g_autoptr(GByteArray) frame = g_byte_array_new();
	g_autoptr(GByteArray) plain = g_byte_array_new();
	/* an empty message (an ACK) has no header either */
	gboolean header = !opts->no_header && opts->version != WBD_TUYA_VERSION_3_1 && len > 0 &&
			  wbd_tuya_command_has_header(opts->cmd);
	static const guint8 zeros[12] = {0};
	const gchar *version = wbd_tuya_version_to_string(opts->version);

	if (opts->version == WBD_TUYA_VERSION_3_5) {
		guint8 iv[WBD_TUYA_GCM_IV_SIZE];
		guint8 tag[WBD_TUYA_GCM_TAG_SIZE];
		g_autofree guint8 *ct = NULL;
		guint8 reserved[2] = {0, 0};

		if (opts->retcode >= 0)
			append_be32(plain, (guint32)opts->retcode);
		if (header) {
			g_byte_array_append(plain, (const guint8 *)version, 3);
			g_byte_array_append(plain, zeros, 12);
		}
		if (len > 0)
			g_byte_array_append(plain, payload, len);
		if (opts->iv != NULL)
			memcpy(iv, opts->iv, sizeof(iv));
		else if (!wbd_tuya_random_bytes(iv, sizeof(iv)))
			return NULL;
		append_be32(frame, PREFIX_6699);
		g_byte_array_append(frame, reserved, 2);
		append_be32(frame, opts->seq);
		append_be32(frame, opts->cmd);
		append_be32(frame, WBD_TUYA_GCM_IV_SIZE + plain->len + WBD_TUYA_GCM_TAG_SIZE);
		ct = g_malloc(MAX(plain->len, 1));
		if (!wbd_tuya_gcm_encrypt(opts->key,
					  iv,
					  frame->data + 4,
					  HEADER_6699 - 4,
					  plain->data,
					  plain->len,
					  ct,
					  tag))
			return NULL;
		g_byte_array_append(frame, iv, sizeof(iv));
		g_byte_array_append(frame, ct, plain->len);
		g_byte_array_append(frame, tag, sizeof(tag));
		append_be32(frame, SUFFIX_6699);
		return g_byte_array_free_to_bytes(g_steal_pointer(&frame));
	}

	/* the payload as it goes into the 55AA frame */
	if (opts->version == WBD_TUYA_VERSION_3_1) {
		if (opts->cmd == WBD_TUYA_CMD_CONTROL && len > 0) {
			g_autoptr(GBytes) ct = wbd_tuya_ecb_encrypt(opts->key, payload, len, TRUE);
			g_autofree gchar *b64 = NULL;
			g_autoptr(GString) sign = NULL;
			g_autofree gchar *md5 = NULL;
			if (ct == NULL)
				return NULL;
			b64 = g_base64_encode(g_bytes_get_data(ct, NULL), g_bytes_get_size(ct));
			sign = g_string_new("data=");
			g_string_append(sign, b64);
			g_string_append(sign, "||lpv=3.1||");
			g_string_append_len(sign, (const gchar *)opts->key, WBD_TUYA_KEY_SIZE);
			md5 = wbd_tuya_md5_hex((const guint8 *)sign->str, sign->len);
			g_byte_array_append(plain, (const guint8 *)"3.1", 3);
			g_byte_array_append(plain, (const guint8 *)md5 + 8, 16);
			g_byte_array_append(plain, (const guint8 *)b64, strlen(b64));
		} else if (len > 0) {
			g_byte_array_append(plain, payload, len);
		}
	} else if (opts->version == WBD_TUYA_VERSION_3_4) {
		g_autoptr(GByteArray) inner = g_byte_array_new();
		if (header) {
			g_byte_array_append(inner, (const guint8 *)version, 3);
			g_byte_array_append(inner, zeros, 12);
		}
		if (len > 0)
			g_byte_array_append(inner, payload, len);
		if (inner->len > 0) {
			g_autoptr(GBytes) ct =
			    wbd_tuya_ecb_encrypt(opts->key, inner->data, inner->len, TRUE);
			if (ct == NULL)
				return NULL;
			g_byte_array_append(plain, g_bytes_get_data(ct, NULL), g_bytes_get_size(ct));
		}
	} else {
		if (header) {
			g_byte_array_append(plain, (const guint8 *)version, 3);
			g_byte_array_append(plain, zeros, 12);
		}
		if (len > 0) {
			g_autoptr(GBytes) ct = wbd_tuya_ecb_encrypt(opts->key, payload, len, TRUE);
			if (ct == NULL)
				return NULL;
			g_byte_array_append(plain, g_bytes_get_data(ct, NULL), g_bytes_get_size(ct));
		}
	}

	append_be32(frame, PREFIX_55AA);
	append_be32(frame, opts->seq);
	append_be32(frame, opts->cmd);
	append_be32(frame, 0); /* the length, below */
	if (opts->retcode >= 0)
		append_be32(frame, (guint32)opts->retcode);
	g_byte_array_append(frame, plain->data, plain->len);
	if (opts->version == WBD_TUYA_VERSION_3_4) {
		guint8 mac[WBD_TUYA_HMAC_SIZE];
		write_be32(frame->data + 12, frame->len - HEADER_55AA + WBD_TUYA_HMAC_SIZE + SUFFIX_SIZE);
		wbd_tuya_hmac_sha256(opts->key, WBD_TUYA_KEY_SIZE, frame->data, frame->len, mac);
		g_byte_array_append(frame, mac, sizeof(mac));
	} else {
		write_be32(frame->data + 12, frame->len - HEADER_55AA + TRAILER_CRC + SUFFIX_SIZE);
		append_be32(frame, wbd_tuya_crc32(frame->data, frame->len));
	}
	append_be32(frame, SUFFIX_55AA);
	return g_byte_array_free_to_bytes(g_steal_pointer(&frame));
}

/* the session-key handshake */

/**
 * wbd_tuya_session_key:
 *
 * 3.4: AES-ECB(localKey, Nc XOR Nd), one raw block. 3.5: the ciphertext of
 * AES-GCM(localKey, IV = Nc[0..11], Nc XOR Nd), tag dropped.
 */
void
wbd_tuya_session_key(WbdTuyaVersion version,
		     const guint8 *local_key,
		     const guint8 *client_nonce,
		     const guint8 *device_nonce,
		     guint8 *session_key)
{
	guint8 x[WBD_TUYA_NONCE_SIZE];
	for (guint i = 0; i < sizeof(x); i++)
		x[i] = client_nonce[i] ^ device_nonce[i];
	if (version == WBD_TUYA_VERSION_3_5) {
		guint8 tag[WBD_TUYA_GCM_TAG_SIZE];
		if (!wbd_tuya_gcm_encrypt(local_key, client_nonce, NULL, 0, x, sizeof(x), session_key, tag))
			memset(session_key, 0, WBD_TUYA_KEY_SIZE);
	} else {
		g_autoptr(GBytes) block = wbd_tuya_ecb_encrypt(local_key, x, sizeof(x), FALSE);
		if (block != NULL)
			memcpy(session_key, g_bytes_get_data(block, NULL), WBD_TUYA_KEY_SIZE);
		else
			memset(session_key, 0, WBD_TUYA_KEY_SIZE);
	}
}

/**
 * wbd_tuya_check_session_response:
 * @payload: the decrypted payload of the device's 0x04 frame
 * @device_nonce: (out): 16 bytes
 *
 * Checks that the device proved it knows the local key: HMAC(localKey, Nc).
 */
gboolean
wbd_tuya_check_session_response(const guint8 *local_key,
				const guint8 *client_nonce,
				GBytes *payload,
				guint8 *device_nonce,
				GError **error)
{
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(payload, &len);
	guint8 mac[WBD_TUYA_HMAC_SIZE];

	if (len < WBD_TUYA_NONCE_SIZE + WBD_TUYA_HMAC_SIZE) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_FAILED,
			    "Bad session-key answer from the device: %" G_GSIZE_FORMAT
			    " bytes instead of 48",
			    len);
		return FALSE;
	}
	wbd_tuya_hmac_sha256(local_key, WBD_TUYA_KEY_SIZE, client_nonce, WBD_TUYA_NONCE_SIZE, mac);
	if (!wbd_tuya_memeq(mac, data + WBD_TUYA_NONCE_SIZE, WBD_TUYA_HMAC_SIZE)) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "The device's session-key proof does not match: check the "
				    "local key");
		return FALSE;
	}
	memcpy(device_nonce, data, WBD_TUYA_NONCE_SIZE);
	return TRUE;
}
