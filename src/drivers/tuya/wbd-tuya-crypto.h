/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define WBD_TUYA_KEY_SIZE 16
#define WBD_TUYA_HMAC_SIZE 32
#define WBD_TUYA_GCM_IV_SIZE 12
#define WBD_TUYA_GCM_TAG_SIZE 16
#define WBD_TUYA_AES_BLOCK 16

/*
 * The primitives of the Tuya local protocol, on OpenSSL's EVP interface. Keys are
 * always 16 raw bytes. Nothing here logs, and no key ever appears in an error.
 */

guint32
wbd_tuya_crc32(const guint8 *data, gsize len);
gboolean
wbd_tuya_random_bytes(guint8 *out, gsize len);
void
wbd_tuya_hmac_sha256(const guint8 *key, gsize key_len, const guint8 *data, gsize len, guint8 *out);
gchar *
wbd_tuya_md5_hex(const guint8 *data, gsize len);
void
wbd_tuya_md5(const guint8 *data, gsize len, guint8 *out);
GBytes *
wbd_tuya_ecb_encrypt(const guint8 *key, const guint8 *data, gsize len, gboolean pad);
GBytes *
wbd_tuya_ecb_decrypt(const guint8 *key, const guint8 *data, gsize len, gboolean unpad);
gboolean
wbd_tuya_gcm_encrypt(const guint8 *key,
		     const guint8 *iv,
		     const guint8 *aad,
		     gsize aad_len,
		     const guint8 *data,
		     gsize len,
		     guint8 *out,
		     guint8 *tag);
gboolean
wbd_tuya_gcm_decrypt(const guint8 *key,
		     const guint8 *iv,
		     const guint8 *aad,
		     gsize aad_len,
		     const guint8 *data,
		     gsize len,
		     const guint8 *tag,
		     guint8 *out);
gboolean
wbd_tuya_memeq(const guint8 *a, const guint8 *b, gsize len);

G_END_DECLS
