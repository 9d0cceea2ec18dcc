/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "fuzz-tuya.h"
#include "wbd-tuya-codec.h"
#include "wbd-tuya-discover.h"

#define MAX_FRAMES 32

/*
 * What a device sends, through the frame parser of every version. The first byte picks
 * the version and the way the rest is used:
 *  - as a TCP stream: scanned for frames, each verified and decrypted with the spec's
 *    local key and session key, its payload parsed and mapped;
 *  - as a plaintext wrapped in a valid frame by the encoder, so that the fuzzer reaches
 *    the decryption, header and JSON code behind the CRC/HMAC/tag; it must come back
 *    unchanged;
 *  - as a UDP discovery datagram.
 */
static const WbdTuyaVersion versions[] = {WBD_TUYA_VERSION_3_1, WBD_TUYA_VERSION_3_2, WBD_TUYA_VERSION_3_3,
					  WBD_TUYA_VERSION_3_4, WBD_TUYA_VERSION_3_5};
/* the spec's test inputs (shared/specs/tuya-local.md §13) */
static const guint8 local_key[16] = "k3y!Local_Tuya#1";
static const guint8 session_34[16] = {0x0b, 0xb0, 0x9c, 0xf5, 0x77, 0x84, 0xad, 0x83,
				      0x1f, 0x9c, 0xd6, 0x49, 0x04, 0xc7, 0xbe, 0xe7};
static const guint8 session_35[16] = {0xb7, 0x80, 0x30, 0x5b, 0x69, 0x0a, 0x52, 0x10,
				      0x99, 0x19, 0xd8, 0x6d, 0x25, 0x46, 0xe9, 0x8c};

static void
check_payload(GBytes *payload)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) dps = NULL;
	g_autofree gchar *text = NULL;
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(payload, &len);
	gboolean has_dps = TRUE;

	dps = wbd_tuya_payload_parse(data, len, &has_dps, &error);
	if (dps == NULL) {
		wbf_check_error(error);
		WBF_ASSERT(!has_dps);
	} else {
		WBF_ASSERT(error == NULL);
		wbf_tuya_check_dps(dps, NULL);
	}
	text = wbd_tuya_payload_to_text(data, len);
	WBF_ASSERT(g_utf8_validate(text, -1, NULL));
}

static void
check_frame(const guint8 *data, gsize len, WbdTuyaVersion version, const guint8 *key)
{
	g_autoptr(GError) error = NULL;
	WbdTuyaFrame frame = {0};

	if (!wbd_tuya_frame_decode(data, len, version, key, TRUE, &frame, &error)) {
		wbf_check_error(error);
		WBF_ASSERT(frame.payload == NULL);
		return;
	}
	WBF_ASSERT(frame.payload != NULL);
	WBF_ASSERT(g_bytes_get_size(frame.payload) <= len);
	check_payload(frame.payload);
	wbd_tuya_frame_clear(&frame);
}

static void
check_stream(const guint8 *data, gsize size, WbdTuyaVersion version)
{
	const guint8 *key = version == WBD_TUYA_VERSION_3_4 ? session_34 : version == WBD_TUYA_VERSION_3_5 ? session_35 : local_key;
	gsize offset = 0;

	for (guint n = 0; n < MAX_FRAMES && offset < size; n++) {
		gsize start = 0, frame_len = 0;
		WbdTuyaScan scan = wbd_tuya_frame_scan(data + offset, size - offset, &start, &frame_len);

		WBF_ASSERT(start <= size - offset);
		if (scan == WBD_TUYA_SCAN_NEED_MORE)
			return;
		if (scan == WBD_TUYA_SCAN_BAD_LENGTH) {
			WBF_ASSERT(start + 4 <= size - offset);
			WBF_ASSERT(frame_len > WBD_TUYA_MAX_FRAME || frame_len < 50);
			offset += start + 4;
			continue;
		}
		WBF_ASSERT(frame_len >= 24 && frame_len <= WBD_TUYA_MAX_FRAME);
		WBF_ASSERT(start + frame_len <= size - offset);
		check_frame(data + offset + start, frame_len, version, key);
		/* the handshake frames are under the local key */
		if (version >= WBD_TUYA_VERSION_3_4)
			check_frame(data + offset + start, frame_len, version, local_key);
		offset += start + frame_len;
	}
}

/* a valid frame around the input comes back with the input */
static void
check_round_trip(const guint8 *data, gsize size, WbdTuyaVersion version, guint32 cmd)
{
	const guint8 *key = version == WBD_TUYA_VERSION_3_4 ? session_34 : local_key;
	static const guint8 iv[12] = "fuzz-iv-0001";
	WbdTuyaEncode opts = {
	    .version = version,
	    .key = key,
	    .seq = 7,
	    .cmd = cmd,
	    .retcode = 0,
	    .iv = iv,
	};
	g_autoptr(GBytes) frame = NULL;
	g_autoptr(GError) error = NULL;
	WbdTuyaFrame decoded = {0};
	gsize start = 0, frame_len = 0;
	gboolean header_like = size >= 15 && data[0] == '3' && data[1] == '.' && g_ascii_isdigit(data[2]);
	gboolean retcode_like = size >= 4 && data[0] == 0 && data[1] == 0 && data[2] == 0;

	if (size > 3000)
		return;
	frame = wbd_tuya_frame_encode(&opts, data, size);
	WBF_ASSERT(frame != NULL);
	WBF_ASSERT(wbd_tuya_frame_scan(g_bytes_get_data(frame, NULL), g_bytes_get_size(frame), &start,
					    &frame_len) == WBD_TUYA_SCAN_FRAME);
	WBF_ASSERT(start == 0 && frame_len == g_bytes_get_size(frame));
	if (!wbd_tuya_frame_decode(g_bytes_get_data(frame, NULL), g_bytes_get_size(frame), version, key, TRUE,
				   &decoded, &error)) {
		/* only a 3.1 payload that looks like the signed form may fail (it is not
		 * encrypted), or a 3.2/3.3 ciphertext that happens to begin with "3.N" */
		const guint8 *f = g_bytes_get_data(frame, NULL);
		wbf_check_error(error);
		WBF_ASSERT(version == WBD_TUYA_VERSION_3_1 ||
				(g_bytes_get_size(frame) > 23 && f[20] == '3' && f[21] == '.' && g_ascii_isdigit(f[22])));
		return;
	}
	WBF_ASSERT(decoded.has_retcode && decoded.retcode == 0);
	WBF_ASSERT(decoded.cmd == cmd && decoded.seq == 7);
	if (!header_like && !retcode_like && !(version == WBD_TUYA_VERSION_3_1 && size >= 19 && memcmp(data, "3.1", 3) == 0))
		WBF_ASSERT(g_bytes_get_size(decoded.payload) == size &&
				(size == 0 || memcmp(g_bytes_get_data(decoded.payload, NULL), data, size) == 0));
	check_payload(decoded.payload);
	wbd_tuya_frame_clear(&decoded);
}

static void
check_datagram(const guint8 *data, gsize size)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) found = wbd_tuya_discover_parse_datagram(data, size, "192.0.2.1", &error);
	const gchar *s = NULL;

	if (found == NULL) {
		wbf_check_error(error);
		return;
	}
	WBF_ASSERT(!g_variant_is_floating(found));
	WBF_ASSERT(g_variant_lookup(found, "driver", "&s", &s) && strcmp(s, "tuya") == 0);
	WBF_ASSERT(g_variant_lookup(found, "address", "&s", &s) && g_hostname_is_ip_address(s));
	WBF_ASSERT(g_variant_lookup(found, "device-id", "&s", &s) && s[0] != '\0');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	WbdTuyaVersion version;
	guint8 mode;

	if (size < 1)
		return 0;
	mode = data[0];
	version = versions[mode % G_N_ELEMENTS(versions)];
	data++;
	size--;
	check_stream(data, size, version);
	check_round_trip(data, size, version, (mode & 0x80) ? WBD_TUYA_CMD_STATUS : WBD_TUYA_CMD_DP_QUERY);
	check_datagram(data, size);
	return 0;
}
