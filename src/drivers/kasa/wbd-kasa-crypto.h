/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The cryptography of TP-Link's HTTP transports (kasa-smart.md §3, §4, §6): KLAP v1/v2
 * hashes and session keys, KLAP request/reply frames, AES securePassthrough and its
 * login fields, the RSA key of the AES handshake, and the TDP discovery header. Pure
 * functions over OpenSSL's libcrypto: nothing here does I/O or logs, and no secret or
 * value derived from one ever appears in an error.
 */

#define WBD_KASA_KLAP_SEED_SIZE 16
#define WBD_KASA_KLAP_HASH_SIZE 32
#define WBD_KASA_KLAP_HANDSHAKE1_REPLY_SIZE 48
#define WBD_KASA_KLAP_MAX_AUTH_HASH 32
#define WBD_KASA_AES_KEY_SIZE 16
#define WBD_KASA_TDP_HEADER_SIZE 16
/* bigger than any reply a plug or strip sends; a frame beyond it is refused */
#define WBD_KASA_HTTP_MAX_BODY (256 * 1024)

typedef enum {
	WBD_KASA_KLAP_V1 = 1,
	WBD_KASA_KLAP_V2 = 2,
} WbdKasaKlapVersion;

typedef struct {
	guint8 key[WBD_KASA_AES_KEY_SIZE];
	guint8 iv_prefix[12];
	gint32 seq;
	guint8 sig[28];
} WbdKasaKlapSession;

gsize
wbd_kasa_klap_auth_hash(WbdKasaKlapVersion version,
			const gchar *username,
			const gchar *password,
			guint8 *out);
void
wbd_kasa_klap_server_hash(WbdKasaKlapVersion version,
			  const guint8 *local_seed,
			  const guint8 *remote_seed,
			  const guint8 *auth_hash,
			  gsize auth_len,
			  guint8 *out);
void
wbd_kasa_klap_handshake2_body(WbdKasaKlapVersion version,
			      const guint8 *local_seed,
			      const guint8 *remote_seed,
			      const guint8 *auth_hash,
			      gsize auth_len,
			      guint8 *out);
const gchar *
wbd_kasa_klap_match(const gchar *username,
		    const gchar *password,
		    const guint8 *local_seed,
		    const guint8 *remote_seed,
		    const guint8 *server_hash,
		    WbdKasaKlapVersion *version,
		    guint8 *auth_hash,
		    gsize *auth_len);
void
wbd_kasa_klap_session_init(WbdKasaKlapSession *session,
			   const guint8 *local_seed,
			   const guint8 *remote_seed,
			   const guint8 *auth_hash,
			   gsize auth_len);
GBytes *
wbd_kasa_klap_encrypt(WbdKasaKlapSession *session, const gchar *plaintext, gsize len, gint32 *seq);
gchar *
wbd_kasa_klap_decrypt(const WbdKasaKlapSession *session,
		      gint32 seq,
		      const guint8 *body,
		      gsize len,
		      GError **error);

GBytes *
wbd_kasa_aes_cbc(const guint8 *key,
		 const guint8 *iv,
		 const guint8 *data,
		 gsize len,
		 gboolean encrypt);
gchar *
wbd_kasa_aes_encrypt_base64(const guint8 *key, const guint8 *iv, const gchar *plaintext);
gchar *
wbd_kasa_aes_decrypt_base64(const guint8 *key, const guint8 *iv, const gchar *text, GError **error);
gchar *
wbd_kasa_aes_login_username(const gchar *username);
gchar *
wbd_kasa_aes_login_password(const gchar *password, gboolean v2);

gpointer
wbd_kasa_rsa_new(guint bits);
void
wbd_kasa_rsa_free(gpointer rsa);
gchar *
wbd_kasa_rsa_public_pem(gpointer rsa, gboolean one_line);
gboolean
wbd_kasa_rsa_unwrap(gpointer rsa, const gchar *key_b64, guint8 *key, guint8 *iv, GError **error);

gboolean
wbd_kasa_random(guint8 *out, gsize len);
void
wbd_kasa_tdp_header(guint8 *header, guint8 flags, const guint8 *serial, const guint8 *payload, gsize len);
gboolean
wbd_kasa_memeq(const guint8 *a, const guint8 *b, gsize len);

G_END_DECLS
