/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-mqtt-credentials.h"
#include "wbd-config.h"

#define WBD_AZURE_API_VERSION "2021-04-12"
#define WBD_ES256_PART 32

/* strict base64: g_base64_decode() takes anything */
static guchar *
decode_base64(const gchar *text, gsize *length)
{
	gsize n = strlen(text);

	if (n == 0 || n % 4 != 0)
		return NULL;
	for (gsize i = 0; i < n; i++) {
		gboolean pad = text[i] == '=' && i >= n - 2 && (i == n - 1 || text[n - 1] == '=');
		if (!g_ascii_isalnum(text[i]) && text[i] != '+' && text[i] != '/' && !pad)
			return NULL;
	}
	return g_base64_decode(text, length);
}

/**
 * wbd_mqtt_azure_sas_token:
 * @key_base64: the device's (or @policy's) symmetric key, base64
 * @policy: (nullable): a shared access policy name (`skn`), %NULL for a device key
 * @expiry: seconds since the epoch
 *
 * Azure IoT Hub's SAS token: HMAC-SHA256 with the decoded key over the URL-encoded
 * resource `HUB/devices/DEVICE`, a line feed and @expiry.
 *
 * Returns: `SharedAccessSignature sr=...&sig=...&se=...[&skn=...]`, or %NULL for a key
 *   that is not base64 (the error never quotes it)
 */
gchar *
wbd_mqtt_azure_sas_token(const gchar *hub_host,
			 const gchar *device_id,
			 const gchar *key_base64,
			 const gchar *policy,
			 gint64 expiry,
			 GError **error)
{
	g_autofree gchar *resource = g_strdup_printf("%s/devices/%s", hub_host, device_id);
	g_autofree gchar *sr = g_uri_escape_string(resource, NULL, FALSE);
	g_autofree gchar *input = g_strdup_printf("%s\n%" G_GINT64_FORMAT, sr, expiry);
	g_autofree guchar *key = NULL;
	g_autoptr(GHmac) hmac = NULL;
	guint8 digest[32];
	gsize digest_len = sizeof digest;
	gsize key_len = 0;
	g_autofree gchar *sig = NULL;
	g_autofree gchar *sig_escaped = NULL;
	gchar *token;

	key = decode_base64(key_base64, &key_len);
	if (key == NULL || key_len == 0) {
		wbd_config_invalid(error, "the device key must be base64, as the portal shows it");
		return NULL;
	}
	hmac = g_hmac_new(G_CHECKSUM_SHA256, key, key_len);
	memset(key, 0, key_len);
	g_hmac_update(hmac, (const guchar *)input, -1);
	g_hmac_get_digest(hmac, digest, &digest_len);
	sig = g_base64_encode(digest, digest_len);
	sig_escaped = g_uri_escape_string(sig, NULL, FALSE);
	token = g_strdup_printf("SharedAccessSignature sr=%s&sig=%s&se=%" G_GINT64_FORMAT "%s%s",
				sr,
				sig_escaped,
				expiry,
				policy != NULL ? "&skn=" : "",
				policy != NULL ? policy : "");
	return token;
}

/* what Azure IoT Hub wants as the MQTT user name */
gchar *
wbd_mqtt_azure_username(const gchar *hub_host, const gchar *device_id)
{
	return g_strdup_printf("%s/%s/?api-version=" WBD_AZURE_API_VERSION, hub_host, device_id);
}

/* base64url without padding */
static gchar *
base64url(const guchar *data, gsize length)
{
	gchar *text = g_base64_encode(data, length);
	gsize n = strlen(text);

	while (n > 0 && text[n - 1] == '=')
		text[--n] = '\0';
	for (gchar *p = text; *p != '\0'; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	}
	return text;
}

/* an ECDSA signature in DER → JOSE's raw r||s, 32 bytes each */
static gboolean
ecdsa_der_to_raw(const guchar *der, gsize der_len, guchar raw[2 * WBD_ES256_PART])
{
	const guchar *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	const BIGNUM *r, *s;
	gboolean ok;

	if (sig == NULL)
		return FALSE;
	ECDSA_SIG_get0(sig, &r, &s);
	ok = BN_bn2binpad(r, raw, WBD_ES256_PART) == WBD_ES256_PART &&
	     BN_bn2binpad(s, raw + WBD_ES256_PART, WBD_ES256_PART) == WBD_ES256_PART;
	ECDSA_SIG_free(sig);
	return ok;
}

static gboolean
jwt_sign(EVP_PKEY *pkey, const gchar *input, GByteArray *out, GError **error)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	gsize length = 0;
	gboolean ok;

	ok = ctx != NULL && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
	     EVP_DigestSign(ctx, NULL, &length, (const guchar *)input, strlen(input)) == 1;
	if (ok) {
		g_byte_array_set_size(out, (guint)length);
		ok = EVP_DigestSign(ctx, out->data, &length, (const guchar *)input, strlen(input));
		ok = ok == 1;
		g_byte_array_set_size(out, (guint)length);
	}
	EVP_MD_CTX_free(ctx);
	if (!ok)
		wbd_config_invalid(error, "cannot sign the JWT with the key");
	return ok;
}

/**
 * wbd_mqtt_jwt:
 * @algorithm: `ES256` (a P-256 key) or `RS256` (an RSA key)
 * @key_pem: the private key, PEM
 * @audience: the `aud` claim (Google/ClearBlade: the project id)
 *
 * A compact JWT `{"alg":ALG,"typ":"JWT"}.{"iat":..,"exp":..,"aud":..}.signature`, ES256
 * signatures as raw r||s (not DER), all parts base64url without padding.
 *
 * Returns: the token, or %NULL if the key does not fit @algorithm
 */
gchar *
wbd_mqtt_jwt(const gchar *algorithm,
	     const gchar *key_pem,
	     gsize key_length,
	     const gchar *audience,
	     gint64 issued_at,
	     gint64 expiry,
	     GError **error)
{
	gboolean es256 = g_strcmp0(algorithm, "ES256") == 0;
	g_autofree gchar *header_json = NULL;
	g_autofree gchar *claims_json = NULL;
	g_autofree gchar *header = NULL;
	g_autofree gchar *claims = NULL;
	g_autofree gchar *input = NULL;
	g_autofree gchar *signature = NULL;
	g_autoptr(GByteArray) sig = g_byte_array_new();
	g_autoptr(GString) aud = g_string_new(NULL);
	BIO *bio;
	EVP_PKEY *pkey;
	gboolean ok;

	if (!es256 && g_strcmp0(algorithm, "RS256") != 0) {
		wbd_config_invalid(error, "algorithm must be ES256 or RS256");
		return NULL;
	}
	bio = BIO_new_mem_buf(key_pem, (int)key_length);
	pkey = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (pkey == NULL ||
	    EVP_PKEY_get_base_id(pkey) != (es256 ? EVP_PKEY_EC : EVP_PKEY_RSA) ||
	    (es256 && EVP_PKEY_get_bits(pkey) != 256)) {
		EVP_PKEY_free(pkey);
		wbd_config_invalid(error,
			es256 ? "ES256 needs a P-256 private key in PEM"
			      : "RS256 needs an RSA private key in PEM");
		return NULL;
	}
	/* the audience as a JSON string */
	for (const gchar *p = audience; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			g_string_append_c(aud, '\\');
		if ((guchar)*p < 0x20)
			g_string_append_printf(aud, "\\u%04x", (guchar)*p);
		else
			g_string_append_c(aud, *p);
	}
	header_json = g_strdup_printf("{\"alg\":\"%s\",\"typ\":\"JWT\"}", algorithm);
	claims_json = g_strdup_printf("{\"iat\":%" G_GINT64_FORMAT ",\"exp\":%" G_GINT64_FORMAT
				      ",\"aud\":\"%s\"}",
				      issued_at,
				      expiry,
				      aud->str);
	header = base64url((const guchar *)header_json, strlen(header_json));
	claims = base64url((const guchar *)claims_json, strlen(claims_json));
	input = g_strdup_printf("%s.%s", header, claims);
	ok = jwt_sign(pkey, input, sig, error);
	EVP_PKEY_free(pkey);
	if (!ok)
		return NULL;
	if (es256) {
		guchar raw[2 * WBD_ES256_PART];
		if (!ecdsa_der_to_raw(sig->data, sig->len, raw)) {
			wbd_config_invalid(error, "cannot encode the ES256 signature");
			return NULL;
		}
		signature = base64url(raw, sizeof raw);
	} else {
		signature = base64url(sig->data, sig->len);
	}
	return g_strdup_printf("%s.%s", input, signature);
}

/* Tuya IoT Edge Gateway: lower-case hex MD5 of client id + user name */
gchar *
wbd_mqtt_tuya_edge_password(const gchar *client_id, const gchar *username)
{
	g_autofree gchar *input = g_strconcat(client_id, username, NULL);
	return g_compute_checksum_for_string(G_CHECKSUM_MD5, input, -1);
}
