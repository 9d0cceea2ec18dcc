/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

#include "wbd-tuya-crypto.h"

/* the zlib/IEEE CRC-32: reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF */
static guint32 crc_table[256];

static void
wbd_tuya_crc32_init(void)
{
	for (guint32 i = 0; i < 256; i++) {
		guint32 c = i;
		for (guint k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

guint32
wbd_tuya_crc32(const guint8 *data, gsize len)
{
	static gsize initialized = 0;
	guint32 crc = 0xFFFFFFFFu;

	if (g_once_init_enter(&initialized)) {
		wbd_tuya_crc32_init();
		g_once_init_leave(&initialized, 1);
	}
	for (gsize i = 0; i < len; i++)
		crc = crc_table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
	return crc ^ 0xFFFFFFFFu;
}

gboolean
wbd_tuya_random_bytes(guint8 *out, gsize len)
{
	return RAND_bytes(out, (int)len) == 1;
}

/* constant time, for tags and HMACs */
gboolean
wbd_tuya_memeq(const guint8 *a, const guint8 *b, gsize len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

void
wbd_tuya_md5(const guint8 *data, gsize len, guint8 *out)
{
	unsigned int out_len = 16;
	if (EVP_Digest(data, len, out, &out_len, EVP_md5(), NULL) != 1)
		memset(out, 0, 16);
}

gchar *
wbd_tuya_md5_hex(const guint8 *data, gsize len)
{
	guint8 digest[16];
	gchar *hex = g_malloc(33);
	wbd_tuya_md5(data, len, digest);
	for (guint i = 0; i < 16; i++)
		g_snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return hex;
}

/*
 * Cipher contexts kept per thread, one per algorithm and direction: setting one up
 * from nothing (EVP_CipherInit_ex() with the cipher) looks the algorithm up in the
 * provider and allocates, which cost more than the AES of a whole frame; a kept one
 * is only given the next frame's key (and its key schedule is kept as long as the key
 * does not change). A context whose use failed is freed, not reused.
 */
typedef struct {
	EVP_CIPHER_CTX *ecb[2]; /* [encrypt] */
	guint8 ecb_key[2][WBD_TUYA_KEY_SIZE];
	EVP_CIPHER_CTX *gcm[2];
	EVP_MAC *hmac;
	EVP_MAC_CTX *hmac_ctx; /* HMAC-SHA256 */
} CipherCache;

static void
cipher_cache_free(gpointer data)
{
	CipherCache *cache = data;
	for (guint i = 0; i < 2; i++) {
		EVP_CIPHER_CTX_free(cache->ecb[i]);
		EVP_CIPHER_CTX_free(cache->gcm[i]);
	}
	EVP_MAC_CTX_free(cache->hmac_ctx);
	EVP_MAC_free(cache->hmac);
	OPENSSL_cleanse(cache, sizeof(*cache));
	g_free(cache);
}

static GPrivate cipher_cache = G_PRIVATE_INIT(cipher_cache_free);

static CipherCache *
cipher_cache_get(void)
{
	CipherCache *cache = g_private_get(&cipher_cache);
	if (cache == NULL) {
		cache = g_new0(CipherCache, 1);
		g_private_set(&cipher_cache, cache);
	}
	return cache;
}

static void
cipher_cache_drop(EVP_CIPHER_CTX **slot)
{
	EVP_CIPHER_CTX_free(*slot);
	*slot = NULL;
}

/* the thread's ECB context for @encrypt, keyed with @key */
static EVP_CIPHER_CTX *
wbd_tuya_ecb_context(const guint8 *key, gboolean encrypt)
{
	CipherCache *cache = cipher_cache_get();
	guint i = encrypt ? 1 : 0;

	if (cache->ecb[i] != NULL && CRYPTO_memcmp(cache->ecb_key[i], key, WBD_TUYA_KEY_SIZE) == 0)
		return cache->ecb[i];
	if (cache->ecb[i] == NULL) {
		cache->ecb[i] = EVP_CIPHER_CTX_new();
		if (cache->ecb[i] == NULL ||
		    EVP_CipherInit_ex(cache->ecb[i], EVP_aes_128_ecb(), NULL, key, NULL, (int)i) != 1) {
			cipher_cache_drop(&cache->ecb[i]);
			return NULL;
		}
	} else if (EVP_CipherInit_ex(cache->ecb[i], NULL, NULL, key, NULL, (int)i) != 1) {
		cipher_cache_drop(&cache->ecb[i]);
		return NULL;
	}
	if (EVP_CIPHER_CTX_set_padding(cache->ecb[i], 0) != 1) {
		cipher_cache_drop(&cache->ecb[i]);
		return NULL;
	}
	memcpy(cache->ecb_key[i], key, WBD_TUYA_KEY_SIZE);
	return cache->ecb[i];
}

/* the thread's HMAC-SHA256 context (the algorithm looked up once), or %NULL */
static EVP_MAC_CTX *
wbd_tuya_hmac_context(CipherCache *cache)
{
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
	    OSSL_PARAM_construct_end(),
	};

	if (cache->hmac_ctx != NULL)
		return cache->hmac_ctx;
	if (cache->hmac == NULL)
		cache->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (cache->hmac == NULL || (cache->hmac_ctx = EVP_MAC_CTX_new(cache->hmac)) == NULL)
		return NULL;
	if (EVP_MAC_CTX_set_params(cache->hmac_ctx, params) != 1) {
		EVP_MAC_CTX_free(cache->hmac_ctx);
		cache->hmac_ctx = NULL;
	}
	return cache->hmac_ctx;
}

void
wbd_tuya_hmac_sha256(const guint8 *key, gsize key_len, const guint8 *data, gsize len, guint8 *out)
{
	CipherCache *cache = cipher_cache_get();
	EVP_MAC_CTX *ctx = wbd_tuya_hmac_context(cache);
	static const guint8 empty = 0;
	unsigned int one_shot_len = WBD_TUYA_HMAC_SIZE;
	size_t out_len = 0;

	/* a kept context is given the key each time (an empty key would mean "the last one") */
	if (ctx != NULL && key_len > 0 && EVP_MAC_init(ctx, key, key_len, NULL) == 1 &&
	    (len == 0 || EVP_MAC_update(ctx, data, len) == 1) &&
	    EVP_MAC_final(ctx, out, &out_len, WBD_TUYA_HMAC_SIZE) == 1 && out_len == WBD_TUYA_HMAC_SIZE)
		return;
	if (ctx != NULL && key_len > 0) {
		EVP_MAC_CTX_free(cache->hmac_ctx);
		cache->hmac_ctx = NULL;
	}
	/* no kept context (or it failed): the one-shot way */
	if (HMAC(EVP_sha256(), key, (int)key_len, len > 0 ? data : &empty, len, out, &one_shot_len) == NULL)
		memset(out, 0, WBD_TUYA_HMAC_SIZE);
}

/* AES-128-ECB over whole blocks; our own PKCS#7 so that its check is strict */
static gboolean
wbd_tuya_ecb(const guint8 *key, gboolean encrypt, const guint8 *in, gsize len, guint8 *out)
{
	EVP_CIPHER_CTX *ctx = wbd_tuya_ecb_context(key, encrypt);
	int n = 0;

	if (ctx == NULL)
		return FALSE;
	if (len == 0)
		return TRUE;
	/* whole blocks without padding: nothing stays buffered in the context */
	if (EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1 || (gsize)n != len) {
		cipher_cache_drop(&cipher_cache_get()->ecb[encrypt ? 1 : 0]);
		return FALSE;
	}
	return TRUE;
}

/**
 * wbd_tuya_ecb_encrypt:
 * @pad: add PKCS#7 padding (always at least one byte); without it @len must be a
 *   multiple of 16
 *
 * Returns: (transfer full) (nullable): the ciphertext
 */
GBytes *
wbd_tuya_ecb_encrypt(const guint8 *key, const guint8 *data, gsize len, gboolean pad)
{
	gsize padded = pad ? (len / WBD_TUYA_AES_BLOCK + 1) * WBD_TUYA_AES_BLOCK : len;
	g_autofree guint8 *buf = NULL;
	g_autofree guint8 *out = NULL;

	if (padded % WBD_TUYA_AES_BLOCK != 0)
		return NULL;
	buf = g_malloc(MAX(padded, 1));
	out = g_malloc(MAX(padded, 1));
	if (len > 0)
		memcpy(buf, data, len);
	memset(buf + len, (int)(padded - len), padded - len);
	if (!wbd_tuya_ecb(key, TRUE, buf, padded, out))
		return NULL;
	return g_bytes_new_take(g_steal_pointer(&out), padded);
}

/**
 * wbd_tuya_ecb_decrypt:
 * @unpad: check and remove PKCS#7 padding
 *
 * Returns: (transfer full) (nullable): the plaintext, or %NULL when @len is not a
 *   whole number of blocks or the padding is not valid (the usual sign of a wrong key)
 */
GBytes *
wbd_tuya_ecb_decrypt(const guint8 *key, const guint8 *data, gsize len, gboolean unpad)
{
	g_autofree guint8 *out = NULL;
	gsize plain_len = len;

	if (len % WBD_TUYA_AES_BLOCK != 0 || (unpad && len == 0))
		return NULL;
	out = g_malloc(MAX(len, 1));
	if (!wbd_tuya_ecb(key, FALSE, data, len, out))
		return NULL;
	if (unpad) {
		guint8 pad = out[len - 1];
		if (pad == 0 || pad > WBD_TUYA_AES_BLOCK)
			return NULL;
		for (gsize i = len - pad; i < len; i++) {
			if (out[i] != pad)
				return NULL;
		}
		plain_len = len - pad;
	}
	return g_bytes_new_take(g_steal_pointer(&out), plain_len);
}

static gboolean
wbd_tuya_gcm(gboolean encrypt,
	     const guint8 *key,
	     const guint8 *iv,
	     const guint8 *aad,
	     gsize aad_len,
	     const guint8 *in,
	     gsize len,
	     guint8 *out,
	     guint8 *tag)
{
	EVP_CIPHER_CTX **slot = &cipher_cache_get()->gcm[encrypt ? 1 : 0];
	EVP_CIPHER_CTX *ctx;
	guint8 final[WBD_TUYA_AES_BLOCK];
	int n = 0;
	gboolean ok = TRUE;

	if (*slot == NULL) {
		*slot = EVP_CIPHER_CTX_new();
		ok = *slot != NULL &&
		     EVP_CipherInit_ex(*slot, EVP_aes_128_gcm(), NULL, NULL, NULL, encrypt ? 1 : 0) == 1 &&
		     EVP_CIPHER_CTX_ctrl(*slot, EVP_CTRL_GCM_SET_IVLEN, WBD_TUYA_GCM_IV_SIZE, NULL) == 1;
	}
	/* the key and the IV set the whole state of a kept context */
	ok = ok && EVP_CipherInit_ex(*slot, NULL, NULL, key, iv, encrypt ? 1 : 0) == 1;
	ctx = *slot;
	if (ok && aad_len > 0)
		ok = EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) == 1;
	if (ok && len > 0)
		ok = EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1 && (gsize)n == len;
	if (ok && !encrypt)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, WBD_TUYA_GCM_TAG_SIZE, tag) == 1;
	/* decrypting, this is where the tag is checked */
	if (ok)
		ok = EVP_CipherFinal_ex(ctx, final, &n) == 1 && n == 0;
	if (ok && encrypt)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, WBD_TUYA_GCM_TAG_SIZE, tag) == 1;
	/* a tag that did not verify, too: the next use starts from a new context */
	if (!ok)
		cipher_cache_drop(slot);
	return ok;
}

/* AES-128-GCM, 12-byte IV, 16-byte tag; @out has room for @len bytes */
gboolean
wbd_tuya_gcm_encrypt(const guint8 *key,
		     const guint8 *iv,
		     const guint8 *aad,
		     gsize aad_len,
		     const guint8 *data,
		     gsize len,
		     guint8 *out,
		     guint8 *tag)
{
	return wbd_tuya_gcm(TRUE, key, iv, aad, aad_len, data, len, out, tag);
}

/* Returns: %FALSE when the tag does not verify; @out is then not to be used */
gboolean
wbd_tuya_gcm_decrypt(const guint8 *key,
		     const guint8 *iv,
		     const guint8 *aad,
		     gsize aad_len,
		     const guint8 *data,
		     gsize len,
		     const guint8 *tag,
		     guint8 *out)
{
	guint8 tag_copy[WBD_TUYA_GCM_TAG_SIZE];
	memcpy(tag_copy, tag, sizeof(tag_copy));
	return wbd_tuya_gcm(FALSE, key, iv, aad, aad_len, data, len, out, tag_copy);
}
