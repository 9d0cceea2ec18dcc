/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "fuzz-kasa.h"
#include "wbd-kasa-crypto.h"

/*
 * What a KLAP or AES device sends back: the input as a KLAP reply body (signature and
 * ciphertext) for a session made from kasa-smart.md §8's seeds, and as the base64
 * "response" of an AES securePassthrough. Whatever comes back is bounded text or a
 * clean error. And as a plaintext, the input must come back unchanged through the
 * session's own request frame (encrypt, then decrypt as the device's reply would be).
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const guint8 key[16] = "0123456789abcdef";
	static const guint8 iv[16] = "fedcba9876543210";
	guint8 local[16], remote[16], auth[32];
	WbdKasaKlapSession session;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *plain = NULL;
	g_autofree gchar *text = NULL;
	g_autoptr(GBytes) frame = NULL;
	gsize auth_len;
	gint32 seq = 0;

	if (size > WBD_KASA_HTTP_MAX_BODY)
		return 0;
	for (guint i = 0; i < 16; i++) {
		local[i] = i;
		remote[i] = 0x10 + i;
	}
	auth_len = wbd_kasa_klap_auth_hash(WBD_KASA_KLAP_V2, "user@example.com", "secret", auth);
	wbd_kasa_klap_session_init(&session, local, remote, auth, auth_len);

	plain = wbd_kasa_klap_decrypt(&session, session.seq + 1, data, size, &error);
	if (plain == NULL)
		wbf_check_error(error);
	else
		WBF_ASSERT(strlen(plain) <= size);
	g_clear_error(&error);

	/* the AES reply's base64 text, NUL-terminated as json-glib hands it over */
	text = g_strndup((const gchar *)data, size);
	g_clear_pointer(&plain, g_free);
	plain = wbd_kasa_aes_decrypt_base64(key, iv, text, &error);
	if (plain == NULL)
		wbf_check_error(error);
	g_clear_error(&error);

	/* round trip: a request frame of the session decrypts to the same text */
	frame = wbd_kasa_klap_encrypt(&session, text, strlen(text), &seq);
	if (frame != NULL) {
		gsize len = 0;
		const guint8 *body = g_bytes_get_data(frame, &len);
		g_autofree gchar *back = wbd_kasa_klap_decrypt(&session, seq, body, len, &error);
		WBF_ASSERT(back != NULL);
		WBF_ASSERT(strcmp(back, text) == 0);
	}
	return 0;
}
