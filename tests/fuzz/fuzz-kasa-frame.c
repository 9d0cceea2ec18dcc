/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "fuzz-kasa.h"
#include "wbd-kasa-codec.h"

/* a reply is rarely more than two frames; do not spend the run on tiny ones */
#define MAX_FRAMES 64

/*
 * The input is what a device sent: over TCP a stream of length-prefixed encrypted
 * frames, each decoded and mapped like the driver does; over UDP one unprefixed
 * datagram, as discovery receives it.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gsize offset = 0;
	g_autofree guint8 *copy = NULL;

	/* the cipher is its own inverse pair on any bytes */
	if (size > 0) {
		copy = g_memdup2(data, size);
		wbd_kasa_encrypt(copy, size);
		wbd_kasa_decrypt(copy, size);
		WBF_ASSERT(memcmp(copy, data, size) == 0);
	}

	if (wbf_kasa_payload_is_safe(data, size))
		wbf_kasa_check_datagram(data, size);

	for (guint frames = 0; frames < MAX_FRAMES && size - offset >= WBD_KASA_HEADER_SIZE;
	     frames++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) reply = NULL;
		guint32 length = 0;

		if (!wbd_kasa_frame_parse_header(data + offset, &length, &error)) {
			wbf_check_error(error);
			WBF_ASSERT(length == 0 || length > WBD_KASA_MAX_FRAME);
			break;
		}
		WBF_ASSERT(error == NULL);
		WBF_ASSERT(length > 0 && length <= WBD_KASA_MAX_FRAME);
		offset += WBD_KASA_HEADER_SIZE;
		/* a short read: the driver would wait for the rest */
		if (length > size - offset)
			break;
		if (!wbf_kasa_payload_is_safe(data + offset, length)) {
			offset += length;
			continue;
		}
		reply = wbd_kasa_payload_decode(data + offset, length, &error);
		if (reply != NULL) {
			WBF_ASSERT(error == NULL);
			wbf_kasa_check_reply(reply);
		} else {
			wbf_check_error(error);
		}
		offset += length;
	}
	return 0;
}
