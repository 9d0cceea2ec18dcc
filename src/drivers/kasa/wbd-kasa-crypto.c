/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <wattbus-glib.h>

#include "wbd-kasa-crypto.h"

static void
digest(const EVP_MD *md, const guint8 *const *parts, const gsize *lens, guint n, guint8 *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, md, NULL);
	for (guint i = 0; i < n; i++)
		EVP_DigestUpdate(ctx, parts[i], lens[i]);
	EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
}

static void
digest1(const EVP_MD *md, const void *data, gsize len, guint8 *out)
{
	const guint8 *parts[] = {data};
	digest(md, parts, &len, 1, out);
}

gboolean
wbd_kasa_memeq(const guint8 *a, const guint8 *b, gsize len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

gboolean
wbd_kasa_random(guint8 *out, gsize len)
{
	return RAND_bytes(out, (int)len) == 1;
}

/* KLAP §3.1: v1 md5(md5(u) || md5(p)), v2 sha256(sha1(u) || sha1(p)); returns the length */
gsize
wbd_kasa_klap_auth_hash(WbdKasaKlapVersion version,
			const gchar *username,
			const gchar *password,
			guint8 *out)
{
	guint8 both[2 * 20];
	const EVP_MD *inner = version == WBD_KASA_KLAP_V1 ? EVP_md5() : EVP_sha1();
	gsize half = version == WBD_KASA_KLAP_V1 ? 16 : 20;

	username = username != NULL ? username : "";
	password = password != NULL ? password : "";
	digest1(inner, username, strlen(username), both);
	digest1(inner, password, strlen(password), both + half);
	if (version == WBD_KASA_KLAP_V1) {
		digest1(EVP_md5(), both, 2 * half, out);
		OPENSSL_cleanse(both, sizeof(both));
		return 16;
	}
	digest1(EVP_sha256(), both, 2 * half, out);
	OPENSSL_cleanse(both, sizeof(both));
	return 32;
}

/* v1: sha256(first || auth), v2: sha256(first || second || auth) */
static void
seed_hash(WbdKasaKlapVersion version,
	  const guint8 *first,
	  const guint8 *second,
	  const guint8 *auth_hash,
	  gsize auth_len,
	  guint8 *out)
{
	const guint8 *parts[] = {first, second, auth_hash};
	const gsize lens[] = {WBD_KASA_KLAP_SEED_SIZE, WBD_KASA_KLAP_SEED_SIZE, auth_len};
	if (version == WBD_KASA_KLAP_V1) {
		const guint8 *v1[] = {first, auth_hash};
		const gsize v1_lens[] = {WBD_KASA_KLAP_SEED_SIZE, auth_len};
		digest(EVP_sha256(), v1, v1_lens, 2, out);
	} else {
		digest(EVP_sha256(), parts, lens, 3, out);
	}
}

/* §3.2: the hash in the device's handshake1 answer, over local then remote seed */
void
wbd_kasa_klap_server_hash(WbdKasaKlapVersion version,
			  const guint8 *local_seed,
			  const guint8 *remote_seed,
			  const guint8 *auth_hash,
			  gsize auth_len,
			  guint8 *out)
{
	seed_hash(version, local_seed, remote_seed, auth_hash, auth_len, out);
}

/* §3.3: the body of handshake2, over remote then local seed */
void
wbd_kasa_klap_handshake2_body(WbdKasaKlapVersion version,
			      const guint8 *local_seed,
			      const guint8 *remote_seed,
			      const guint8 *auth_hash,
			      gsize auth_len,
			      guint8 *out)
{
	seed_hash(version, remote_seed, local_seed, auth_hash, auth_len, out);
}

/* the accounts a device may hold besides the user's (§3.1), in python-kasa's order */
static const struct {
	const gchar *name;
	const gchar *username;
	const gchar *password;
} fallback_accounts[] = {
    {"the Kasa setup account", "kasa@tp-link.net", "kasaSetup"},
    {"a camera default account", "admin", "21232f297a57a5a743894a0e4a801fc3"},
    {"the Tapo setup account", "test@tp-link.net", "test"},
    {"a camera default account", "admin", "admin"},
    {"a camera default account", "admin", "TPL075526460603"},
    {"no account (never bound to the cloud)", "", ""},
};

/*
 * Which credentials the device's handshake1 answer was made with: the given ones, then
 * the fallbacks, each as v1 and v2. Returns %NULL when none matched, else "given" or
 * the fallback's description; @version, @auth_hash (32 bytes) and @auth_len get the match.
 */
const gchar *
wbd_kasa_klap_match(const gchar *username,
		    const gchar *password,
		    const guint8 *local_seed,
		    const guint8 *remote_seed,
		    const guint8 *server_hash,
		    WbdKasaKlapVersion *version,
		    guint8 *auth_hash,
		    gsize *auth_len)
{
	for (gint i = -1; i < (gint)G_N_ELEMENTS(fallback_accounts); i++) {
		const gchar *user = i < 0 ? username : fallback_accounts[i].username;
		const gchar *pass = i < 0 ? password : fallback_accounts[i].password;
		if (i < 0 && username == NULL && password == NULL)
			continue;
		for (WbdKasaKlapVersion v = WBD_KASA_KLAP_V1; v <= WBD_KASA_KLAP_V2; v++) {
			guint8 expected[WBD_KASA_KLAP_HASH_SIZE];
			gsize len = wbd_kasa_klap_auth_hash(v, user, pass, auth_hash);
			wbd_kasa_klap_server_hash(v, local_seed, remote_seed, auth_hash, len, expected);
			if (wbd_kasa_memeq(expected, server_hash, sizeof(expected))) {
				*version = v;
				*auth_len = len;
				return i < 0 ? "given" : fallback_accounts[i].name;
			}
		}
	}
	OPENSSL_cleanse(auth_hash, WBD_KASA_KLAP_MAX_AUTH_HASH);
	return NULL;
}

static void
derive(const gchar *label,
       const guint8 *local_seed,
       const guint8 *remote_seed,
       const guint8 *auth_hash,
       gsize auth_len,
       guint8 *out)
{
	const guint8 *parts[] = {(const guint8 *)label, local_seed, remote_seed, auth_hash};
	const gsize lens[] = {strlen(label), WBD_KASA_KLAP_SEED_SIZE, WBD_KASA_KLAP_SEED_SIZE, auth_len};
	digest(EVP_sha256(), parts, lens, 4, out);
}

/* §3.4 */
void
wbd_kasa_klap_session_init(WbdKasaKlapSession *session,
			   const guint8 *local_seed,
			   const guint8 *remote_seed,
			   const guint8 *auth_hash,
			   gsize auth_len)
{
	guint8 hash[WBD_KASA_KLAP_HASH_SIZE];

	derive("lsk", local_seed, remote_seed, auth_hash, auth_len, hash);
	memcpy(session->key, hash, sizeof(session->key));
	derive("iv", local_seed, remote_seed, auth_hash, auth_len, hash);
	memcpy(session->iv_prefix, hash, sizeof(session->iv_prefix));
	session->seq = (gint32)(((guint32)hash[28] << 24) | ((guint32)hash[29] << 16) |
				((guint32)hash[30] << 8) | hash[31]);
	derive("ldk", local_seed, remote_seed, auth_hash, auth_len, hash);
	memcpy(session->sig, hash, sizeof(session->sig));
	OPENSSL_cleanse(hash, sizeof(hash));
}

static void
klap_iv(const WbdKasaKlapSession *session, gint32 seq, guint8 *iv)
{
	guint32 u = (guint32)seq;
	memcpy(iv, session->iv_prefix, 12);
	iv[12] = u >> 24;
	iv[13] = u >> 16;
	iv[14] = u >> 8;
	iv[15] = u;
}

static void
klap_signature(const WbdKasaKlapSession *session, const guint8 *seq_be, const guint8 *ct, gsize len, guint8 *out)
{
	const guint8 *parts[] = {session->sig, seq_be, ct};
	const gsize lens[] = {sizeof(session->sig), 4, len};
	digest(EVP_sha256(), parts, lens, 3, out);
}

GBytes *
wbd_kasa_aes_cbc(const guint8 *key, const guint8 *iv, const guint8 *data, gsize len, gboolean encrypt)
{
	EVP_CIPHER_CTX *ctx;
	guint8 *out;
	int n1 = 0, n2 = 0;
	gboolean ok;

	if (len > WBD_KASA_HTTP_MAX_BODY || (!encrypt && (len == 0 || len % 16 != 0)))
		return NULL;
	ctx = EVP_CIPHER_CTX_new();
	out = g_malloc(len + 16);
	if (encrypt)
		ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, iv) == 1 &&
		     EVP_EncryptUpdate(ctx, out, &n1, data, (int)len) == 1 &&
		     EVP_EncryptFinal_ex(ctx, out + n1, &n2) == 1;
	else
		ok = EVP_DecryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, iv) == 1 &&
		     EVP_DecryptUpdate(ctx, out, &n1, data, (int)len) == 1 &&
		     EVP_DecryptFinal_ex(ctx, out + n1, &n2) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		g_free(out);
		return NULL;
	}
	return g_bytes_new_take(out, (gsize)(n1 + n2));
}

/*
 * §3.5: the next sequence number, the body signature(32) || ciphertext; @seq gets the
 * sequence number for the URL and for decrypting the reply.
 */
GBytes *
wbd_kasa_klap_encrypt(WbdKasaKlapSession *session, const gchar *plaintext, gsize len, gint32 *seq)
{
	guint8 iv[16];
	guint8 seq_be[4];
	g_autoptr(GBytes) ct = NULL;
	const guint8 *ct_data;
	gsize ct_len;
	guint8 *body;

	session->seq = (gint32)((guint32)session->seq + 1u);
	*seq = session->seq;
	klap_iv(session, *seq, iv);
	ct = wbd_kasa_aes_cbc(session->key, iv, (const guint8 *)plaintext, len, TRUE);
	if (ct == NULL)
		return NULL;
	ct_data = g_bytes_get_data(ct, &ct_len);
	memcpy(seq_be, iv + 12, 4);
	body = g_malloc(WBD_KASA_KLAP_HASH_SIZE + ct_len);
	klap_signature(session, seq_be, ct_data, ct_len, body);
	memcpy(body + WBD_KASA_KLAP_HASH_SIZE, ct_data, ct_len);
	return g_bytes_new_take(body, WBD_KASA_KLAP_HASH_SIZE + ct_len);
}

/* a reply body for the request @seq: checked signature, then the JSON text (NUL-ended) */
gchar *
wbd_kasa_klap_decrypt(const WbdKasaKlapSession *session,
		      gint32 seq,
		      const guint8 *body,
		      gsize len,
		      GError **error)
{
	guint8 iv[16];
	guint8 expected[WBD_KASA_KLAP_HASH_SIZE];
	g_autoptr(GBytes) plain = NULL;
	const gchar *data;
	gsize plain_len;

	if (len < WBD_KASA_KLAP_HASH_SIZE + 16 || len > WBD_KASA_HTTP_MAX_BODY ||
	    (len - WBD_KASA_KLAP_HASH_SIZE) % 16 != 0) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_FAILED,
			    "A KLAP reply of %" G_GSIZE_FORMAT " bytes is not a signature and whole AES blocks",
			    len);
		return NULL;
	}
	klap_iv(session, seq, iv);
	klap_signature(session, iv + 12, body + WBD_KASA_KLAP_HASH_SIZE, len - WBD_KASA_KLAP_HASH_SIZE, expected);
	if (!wbd_kasa_memeq(expected, body, sizeof(expected))) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "The KLAP reply's signature does not match the session");
		return NULL;
	}
	plain = wbd_kasa_aes_cbc(session->key,
				 iv,
				 body + WBD_KASA_KLAP_HASH_SIZE,
				 len - WBD_KASA_KLAP_HASH_SIZE,
				 FALSE);
	if (plain == NULL) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "The KLAP reply does not decrypt (bad padding)");
		return NULL;
	}
	data = g_bytes_get_data(plain, &plain_len);
	return g_strndup(data, plain_len);
}

/* AES securePassthrough (§4.2): base64 of AES-128-CBC with the session's fixed IV */
gchar *
wbd_kasa_aes_encrypt_base64(const guint8 *key, const guint8 *iv, const gchar *plaintext)
{
	g_autoptr(GBytes) ct = wbd_kasa_aes_cbc(key, iv, (const guint8 *)plaintext, strlen(plaintext), TRUE);
	gsize len;
	const guint8 *data;
	if (ct == NULL)
		return NULL;
	data = g_bytes_get_data(ct, &len);
	return g_base64_encode(data, len);
}

gchar *
wbd_kasa_aes_decrypt_base64(const guint8 *key, const guint8 *iv, const gchar *text, GError **error)
{
	g_autofree gchar *clean = NULL;
	g_autofree guchar *raw = NULL;
	g_autoptr(GBytes) plain = NULL;
	gsize len = 0, j = 0;
	const gchar *data;

	if (strlen(text) > WBD_KASA_HTTP_MAX_BODY) {
		g_set_error_literal(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED, "The AES reply is too long");
		return NULL;
	}
	/* base64 with line breaks is accepted (the Tapo app sends them) */
	clean = g_malloc(strlen(text) + 1);
	for (const gchar *p = text; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n')
			continue;
		if (!g_ascii_isalnum(*p) && *p != '+' && *p != '/' && *p != '=') {
			g_set_error_literal(error,
					    WATTBUS_ERROR,
					    WATTBUS_ERROR_FAILED,
					    "The AES reply is not base64");
			return NULL;
		}
		clean[j++] = *p;
	}
	clean[j] = '\0';
	raw = g_base64_decode(clean, &len);
	plain = wbd_kasa_aes_cbc(key, iv, raw, len, FALSE);
	if (plain == NULL) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "The AES reply does not decrypt with the session's key");
		return NULL;
	}
	data = g_bytes_get_data(plain, &len);
	return g_strndup(data, len);
}

static gchar *
sha1_hex_base64(const gchar *text)
{
	guint8 hash[20];
	gchar hex[41];
	digest1(EVP_sha1(), text, strlen(text), hash);
	for (guint i = 0; i < sizeof(hash); i++)
		g_snprintf(hex + 2 * i, 3, "%02x", hash[i]);
	return g_base64_encode((const guchar *)hex, 40);
}

/* §4.3: base64(hex(sha1(e-mail))) */
gchar *
wbd_kasa_aes_login_username(const gchar *username)
{
	return sha1_hex_base64(username != NULL ? username : "");
}

/* §4.3: login v1 base64(password), v2 base64(hex(sha1(password))) */
gchar *
wbd_kasa_aes_login_password(const gchar *password, gboolean v2)
{
	password = password != NULL ? password : "";
	if (v2)
		return sha1_hex_base64(password);
	return g_base64_encode((const guchar *)password, strlen(password));
}

/* an RSA pair (an EVP_PKEY): 1024 bits for the AES handshake (§4.1), 2048 for discovery */
gpointer
wbd_kasa_rsa_new(guint bits)
{
	return EVP_RSA_gen(bits);
}

void
wbd_kasa_rsa_free(gpointer rsa)
{
	EVP_PKEY_free(rsa);
}

/* the PEM of the public key; @one_line: the base64 on one line, as the AES handshake wants */
gchar *
wbd_kasa_rsa_public_pem(gpointer rsa, gboolean one_line)
{
	BIO *bio = BIO_new(BIO_s_mem());
	g_autoptr(GString) out = g_string_new(NULL);
	char *data = NULL;
	long len;
	gchar **lines;

	if (PEM_write_bio_PUBKEY(bio, rsa) != 1) {
		BIO_free(bio);
		return NULL;
	}
	len = BIO_get_mem_data(bio, &data);
	g_string_append_len(out, data, len);
	BIO_free(bio);
	if (!one_line)
		return g_string_free(g_steal_pointer(&out), FALSE);
	lines = g_strsplit(out->str, "\n", -1);
	g_string_truncate(out, 0);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (lines[i][0] == '\0')
			continue;
		if (g_str_has_prefix(lines[i], "-----")) {
			if (out->len > 0 && out->str[out->len - 1] != '\n')
				g_string_append_c(out, '\n');
			g_string_append(out, lines[i]);
			g_string_append_c(out, '\n');
		} else {
			g_string_append(out, lines[i]);
		}
	}
	g_strfreev(lines);
	return g_string_free(g_steal_pointer(&out), FALSE);
}

/* §4.1 step 4: the device's key, PKCS#1 v1.5-decrypted, is the AES key(16) || IV(16) */
gboolean
wbd_kasa_rsa_unwrap(gpointer rsa, const gchar *key_b64, guint8 *key, guint8 *iv, GError **error)
{
	g_autofree guchar *wrapped = NULL;
	guint8 out[256];
	size_t out_len = sizeof(out);
	gsize len = 0;
	EVP_PKEY_CTX *ctx;
	gboolean ok;

	if (strlen(key_b64) > 1024)
		goto bad;
	wrapped = g_base64_decode(key_b64, &len);
	if (len != 128)
		goto bad;
	ctx = EVP_PKEY_CTX_new(rsa, NULL);
	ok = ctx != NULL && EVP_PKEY_decrypt_init(ctx) == 1 &&
	     EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
	     EVP_PKEY_decrypt(ctx, out, &out_len, wrapped, len) == 1 && out_len == 32;
	EVP_PKEY_CTX_free(ctx);
	if (!ok)
		goto bad;
	memcpy(key, out, 16);
	memcpy(iv, out + 16, 16);
	OPENSSL_cleanse(out, sizeof(out));
	return TRUE;
bad:
	g_set_error_literal(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_FAILED,
			    "The device's AES handshake key does not unwrap to a 32-byte key and IV");
	return FALSE;
}

static guint32
crc32_ieee(const guint8 *data, gsize len, guint32 crc)
{
	crc = ~crc;
	for (gsize i = 0; i < len; i++) {
		crc ^= data[i];
		for (guint k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/* §6.1: the 16-byte TDP probe header for @payload */
void
wbd_kasa_tdp_header(guint8 *header, guint8 flags, const guint8 *serial, const guint8 *payload, gsize len)
{
	guint32 crc;
	header[0] = 2;
	header[1] = 0;
	header[2] = 0;
	header[3] = 1;
	header[4] = (len >> 8) & 0xff;
	header[5] = len & 0xff;
	header[6] = flags;
	header[7] = 0;
	memcpy(header + 8, serial, 4);
	header[12] = 0x5a;
	header[13] = 0x6b;
	header[14] = 0x7c;
	header[15] = 0x8d;
	crc = crc32_ieee(header, WBD_KASA_TDP_HEADER_SIZE, 0);
	crc = crc32_ieee(payload, len, crc);
	header[12] = crc >> 24;
	header[13] = crc >> 16;
	header[14] = crc >> 8;
	header[15] = crc;
}
