/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-kasa-crypto.h"
#include "wbt-fixture.h"

/* the test vectors of shared/specs/kasa-smart.md §8 */
#define USER "user@example.com"
#define PASS "secret"
#define REQUEST                                                                                    \
	"{\"method\":\"set_device_info\",\"request_time_milis\":1700000000000,"                    \
	"\"terminal_uuid\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"params\":{\"device_on\":false}}"
#define REPLY "{\"error_code\":0}"

typedef struct {
	WbdKasaKlapVersion version;
	const gchar *auth_hash;
	const gchar *server_hash;
	const gchar *handshake2;
	const gchar *key;
	const gchar *iv_prefix;
	gint32 seq;
	const gchar *sig;
	const gchar *request_signature;
	const gchar *request_ct;
	const gchar *reply_ct;
	const gchar *reply_signature;
} KlapVector;

static const KlapVector klap_vectors[] = {
    {WBD_KASA_KLAP_V1,
     "9d6ce791ce44316e9e52fc1bc9d36496",
     "c2d456076f946c707000874d2e226a1c09e89a21e459272b8ec0f01cdaf774cf",
     "50ef3325d42cd7c999aa9e47e8cb0f8a7f6f239f1d51b39d46d581a4bb75c8c5",
     "c5d896030359050e711d402b829b53cd",
     "3dcdd2bc7801fec3a7a7eb96",
     -59551828,
     "4617dcf442a7c0101e3e8bdcfee6978938be30821c84b70c71571fab",
     "5a848deb42ccaefb03af52478b31f37c110da0e957fa17651dd1e97a5aeb2ac4",
     "dfb90b54d012c89fc4c7577d69c4a3e791b1ab134f6f02b7b65d3cda1b2b887a7cdc5b164911754fc4f2ece79b07"
     "8f8384e7c494fd8f0fe745401f6ab46744018d54f48fca381113dfeea4b6d70c8defd7e60aa092cf1c77c7a8b714"
     "d3a3fc539afe491fa3ada3afca756a508cb12dc027eb3f70b3d233c4f9f6d4971b15e0145a27b3c365be9d29230b"
     "103c8cc542ac",
     "341b25c595c7e8de6c8ac4784be35ca2b35871235cd2a14f039c4d31d4edfdc0",
     "b5fcfde4ebadae7876fda9e5fd2515e13074491d6cbe78602b1e809c5c32f4c3"},
    {WBD_KASA_KLAP_V2,
     "b039216532fc844e9ae0cc8fe3ea911c9ba09c641bb96a3e1f776d93f7b5ae9b",
     "8ed3b905e654fbee23900d0244156a33029c025b71b03bfcc601eff33aaebb70",
     "1e590e7a4dc128da48ed17e06fe23ddb6ec646bb6da2eb00708d590f194201d7",
     "35dcf29cd535ce140a239c67f641d395",
     "863e09a70667472d3fa152a4",
     -903964344,
     "777443e2fdd5cb21052633a60e830f44c8654b3a701f449231ed11fa",
     "97a7daecbf35368f314aee4ff00184f6eb245d32aaf777138a6630d9d790701f",
     "737b620aacb29b41e0e160fa62aaf79fc82e70e130773f40a4a9c26e1b347f554c7ea6dbf96ae08a36b82b895b6a"
     "77025033eb1ba2328230755e110aedeaa30e2ed5ab61adbf796aad2f9a660c961a75cf81fd34b247326c88153287"
     "fb27868397594d22f9d1d2aa8b7e9785e16f0c15436a3f9e08e98c23ec8710fecd51ac366a2787a633e41de40e1e"
     "b44c885ed0cf",
     "275699a92c3e481b4c546db138fd306dc257820658d1aa1124d88a4171c31823",
     "8cddc3bab2bb37abb947a4833b8d1ea4d58a387174d71b24d0c5b6cd12db0fec"},
};

static void
seeds(guint8 *local, guint8 *remote)
{
	for (guint i = 0; i < 16; i++) {
		local[i] = i;
		remote[i] = 0x10 + i;
	}
}

static void
assert_hex(const guint8 *data, gsize len, const gchar *hex)
{
	g_autoptr(GBytes) expected = wbt_hex_decode(hex);
	gsize expected_len = 0;
	const guint8 *expected_data = g_bytes_get_data(expected, &expected_len);
	g_assert_cmpmem(data, len, expected_data, expected_len);
}

static void
test_klap_vector(gconstpointer user_data)
{
	const KlapVector *v = user_data;
	guint8 local[16], remote[16], auth[32], hash[32], matched[32];
	WbdKasaKlapVersion version = 0;
	WbdKasaKlapSession session;
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GBytes) reply_ct = wbt_hex_decode(v->reply_ct);
	g_autoptr(GBytes) reply_sig = wbt_hex_decode(v->reply_signature);
	g_autoptr(GByteArray) reply = g_byte_array_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *plain = NULL;
	const guint8 *data;
	gsize len, auth_len, matched_len = 0;
	gint32 seq = 0;

	seeds(local, remote);
	auth_len = wbd_kasa_klap_auth_hash(v->version, USER, PASS, auth);
	assert_hex(auth, auth_len, v->auth_hash);
	wbd_kasa_klap_server_hash(v->version, local, remote, auth, auth_len, hash);
	assert_hex(hash, sizeof(hash), v->server_hash);
	wbd_kasa_klap_handshake2_body(v->version, local, remote, auth, auth_len, hash);
	assert_hex(hash, sizeof(hash), v->handshake2);

	/* one handshake1 answer tells the variant and the account */
	wbd_kasa_klap_server_hash(v->version, local, remote, auth, auth_len, hash);
	g_assert_cmpstr(wbd_kasa_klap_match(USER, PASS, local, remote, hash, &version, matched, &matched_len),
			==,
			"given");
	g_assert_cmpint(version, ==, v->version);
	g_assert_cmpmem(matched, matched_len, auth, auth_len);
	g_assert_null(wbd_kasa_klap_match(USER, "Secret", local, remote, hash, &version, matched, &matched_len));

	wbd_kasa_klap_session_init(&session, local, remote, auth, auth_len);
	assert_hex(session.key, sizeof(session.key), v->key);
	assert_hex(session.iv_prefix, sizeof(session.iv_prefix), v->iv_prefix);
	g_assert_cmpint(session.seq, ==, v->seq);
	assert_hex(session.sig, sizeof(session.sig), v->sig);

	body = wbd_kasa_klap_encrypt(&session, REQUEST, strlen(REQUEST), &seq);
	g_assert_nonnull(body);
	g_assert_cmpint(seq, ==, v->seq + 1);
	data = g_bytes_get_data(body, &len);
	g_assert_cmpuint(len, ==, 176);
	assert_hex(data, 32, v->request_signature);
	assert_hex(data + 32, len - 32, v->request_ct);

	g_byte_array_append(reply, g_bytes_get_data(reply_sig, NULL), 32);
	g_byte_array_append(reply, g_bytes_get_data(reply_ct, NULL), g_bytes_get_size(reply_ct));
	plain = wbd_kasa_klap_decrypt(&session, seq, reply->data, reply->len, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(plain, ==, REPLY);

	/* a flipped bit in the signature or the ciphertext, the wrong seq, a short body */
	reply->data[3] ^= 1;
	g_assert_null(wbd_kasa_klap_decrypt(&session, seq, reply->data, reply->len, NULL));
	reply->data[3] ^= 1;
	reply->data[40] ^= 1;
	g_assert_null(wbd_kasa_klap_decrypt(&session, seq, reply->data, reply->len, NULL));
	reply->data[40] ^= 1;
	g_assert_null(wbd_kasa_klap_decrypt(&session, seq + 1, reply->data, reply->len, NULL));
	g_assert_null(wbd_kasa_klap_decrypt(&session, seq, reply->data, 40, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
}

/* §8.2: the fallback accounts, matched from a v2 answer */
static void
test_klap_fallbacks(void)
{
	static const struct {
		const gchar *user, *pass, *v1, *v2, *server_v2, *name;
	} accounts[] = {
	    {"", "", "5873dd45edd01f09c1ef2e7819369e8e",
	     "b8628ab91c74f531603f6d5b45e730e54c123a7247b8978272c03f1e13560cea",
	     "8622b663572c383ddb5140b7ef10bfeea1b9f193df8abb0cedb8a021979c0762",
	     "no account (never bound to the cloud)"},
	    {"kasa@tp-link.net", "kasaSetup", "74b751bdd208bc155ae2a6d4167cc44d",
	     "49fc4839a2733ffbf464337648f65dc411778d4c03ec82c5e4cccc682163fa64",
	     "54a39a10c8341759f552c7721bd433af09076e3f02529bafab6317cada0878d6",
	     "the Kasa setup account"},
	    {"test@tp-link.net", "test", "a7317ea07dd83e3393fb702d9bf309a7",
	     "7d5ae9ac18f5bb37843a4577867dd4348d8dff26c4b261ebff1b74d88adc063b",
	     "682fd05f4732835a3e1954e257816f741a946d7e755f1d4a38148ef3b310b1f2",
	     "the Tapo setup account"},
	};
	guint8 local[16], remote[16];

	seeds(local, remote);
	for (guint i = 0; i < G_N_ELEMENTS(accounts); i++) {
		guint8 auth[32], matched[32];
		g_autoptr(GBytes) server = wbt_hex_decode(accounts[i].server_v2);
		WbdKasaKlapVersion version = 0;
		gsize len;

		len = wbd_kasa_klap_auth_hash(WBD_KASA_KLAP_V1, accounts[i].user, accounts[i].pass, auth);
		assert_hex(auth, len, accounts[i].v1);
		len = wbd_kasa_klap_auth_hash(WBD_KASA_KLAP_V2, accounts[i].user, accounts[i].pass, auth);
		assert_hex(auth, len, accounts[i].v2);
		g_assert_cmpstr(wbd_kasa_klap_match(USER,
						    PASS,
						    local,
						    remote,
						    g_bytes_get_data(server, NULL),
						    &version,
						    matched,
						    &len),
				==,
				accounts[i].name);
		g_assert_cmpint(version, ==, WBD_KASA_KLAP_V2);
		/* no credentials configured: the fallbacks are still tried */
		g_assert_nonnull(wbd_kasa_klap_match(NULL,
						     NULL,
						     local,
						     remote,
						     g_bytes_get_data(server, NULL),
						     &version,
						     matched,
						     &len));
	}
}

#define AES_KEY "202122232425262728292a2b2c2d2e2f"
#define AES_IV "303132333435363738393a3b3c3d3e3f"

/* §8.3 */
static void
test_aes_vectors(void)
{
	g_autoptr(GBytes) key = wbt_hex_decode(AES_KEY);
	g_autoptr(GBytes) iv = wbt_hex_decode(AES_IV);
	const guint8 *k = g_bytes_get_data(key, NULL);
	const guint8 *i = g_bytes_get_data(iv, NULL);
	g_autofree gchar *username = wbd_kasa_aes_login_username(USER);
	g_autofree gchar *password = wbd_kasa_aes_login_password(PASS, FALSE);
	g_autofree gchar *password2 = wbd_kasa_aes_login_password(PASS, TRUE);
	g_autofree gchar *login = NULL;
	g_autofree gchar *enc = NULL;
	g_autofree gchar *dec = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_cmpstr(username, ==, "NjNhNzEwNTY5MjYxYTI0YjM3NjYyNzViNzAwMGNlOGQ3YjMyZTJmNw==");
	g_assert_cmpstr(password, ==, "c2VjcmV0");
	g_assert_cmpstr(password2, ==, "ZTVlOWZhMWJhMzFlY2QxYWU4NGY3NWNhYWE0NzRmM2E2NjNmMDVmNA==");
	login = g_strdup_printf("{\"method\":\"login_device\",\"params\":{\"password2\":\"%s\",\"username\":"
				"\"%s\"},\"request_time_milis\":1700000000000}",
				password2,
				username);
	g_assert_cmpuint(strlen(login), ==, 212);
	enc = wbd_kasa_aes_encrypt_base64(k, i, login);
	g_assert_cmpstr(enc,
			==,
			"A1NB62bxN1ocfLEel2zqeSREaMW9dbwfD85YNRapDOEYZi4uTuwa+SOoua2bds0oLQJDbZPUAhuZFVbNMWk8Mvzi"
			"hbPfE/JwLcKhIn7BH1rV8Kpiw4R6WIZvquZXGVrPObKHxJ3Xtg8otIQ+EF57yUq5W6BktL/KnhKKYzYgaKUb1qEM6"
			"8wTEerZ9dvaL0fvtyKZCE4ybI8QsnwYntj0WZX5xKEZb6qjqo8+mbmkvsKOC0tMlbQMjRrokO6lV8CbcK8u4sNTyzxE"
			"U8QxExl6BBHwtAgN2IBszIlVUOHF5S8=");
	g_clear_pointer(&enc, g_free);
	enc = wbd_kasa_aes_encrypt_base64(k, i, REQUEST);
	g_assert_cmpstr(enc,
			==,
			"d3JVXNPzdHorzCtnedNdGvtUne8FjLVXCFWoe+YnaOPpBg/CT+tJJqRp9wbnhB+ivepUXEPKLZ2pBcSw/CmKOHKAhd+"
			"QG+oWMA0PXlC2uJDt7PbJkCsTZyBWNiHKTcohb0i1o7OCv7a/yGKGURTSIdZi2UvONWFhM53MQ3P6QzSD2/21UL1b0q"
			"Q0zCuKoVDV");
	dec = wbd_kasa_aes_decrypt_base64(k,
					  i,
					  "HkwJvXMwqj6Qdj0gfd7rjdfPJ9JGyMXeDKGfLNk40xkGWUUtC7fmjgEoG8ws4hKPJJuX\r\n"
					  "qtuCI8U5P3XlGIixTyMdb6p3wATZLxgpjLPUH0U=",
					  &error);
	g_assert_no_error(error);
	g_assert_cmpstr(dec, ==, "{\"error_code\":0,\"result\":{\"token\":\"0123456789ABCDEF0123456789ABCDEF\"}}");
	g_clear_pointer(&dec, g_free);
	dec = wbd_kasa_aes_decrypt_base64(k, i, "JylPt2b6C9FCkfC0cqCQv77CddhUW3rL8u8ksxz8vds=", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(dec, ==, "{\"error_code\":-1501}");
	g_clear_pointer(&dec, g_free);
	/* not base64, not whole blocks, bad padding */
	g_assert_null(wbd_kasa_aes_decrypt_base64(k, i, "{\"a\":1}", &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
	g_clear_error(&error);
	g_assert_null(wbd_kasa_aes_decrypt_base64(k, i, "AAAA", NULL));
	g_assert_null(wbd_kasa_aes_decrypt_base64(k, i, "AAAAAAAAAAAAAAAAAAAAAA==", NULL));
}

/* §4.1: the handshake body around any RSA-1024 key is 314 bytes; the unwrap wants 32 */
static void
test_rsa(void)
{
	gpointer rsa = wbd_kasa_rsa_new(1024);
	g_autofree gchar *pem = wbd_kasa_rsa_public_pem(rsa, TRUE);
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree gchar *body = NULL;
	g_autoptr(GError) error = NULL;
	guint8 key[16], iv[16];

	g_assert_true(g_str_has_prefix(pem, "-----BEGIN PUBLIC KEY-----\n"));
	g_assert_true(g_str_has_suffix(pem, "\n-----END PUBLIC KEY-----\n"));
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "method");
	json_builder_add_string_value(builder, "handshake");
	json_builder_set_member_name(builder, "params");
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "key");
	json_builder_add_string_value(builder, pem);
	json_builder_end_object(builder);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	json_generator_set_root(gen, root);
	body = json_generator_to_data(gen, NULL);
	g_assert_cmpuint(strlen(body), ==, 314);
	g_assert_false(wbd_kasa_rsa_unwrap(rsa, "AAAA", key, iv, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
	wbd_kasa_rsa_free(rsa);
}

/* §8.4 */
static void
test_tdp_header(void)
{
	guint8 header[16];
	const guint8 zero[4] = {0, 0, 0, 0};
	const guint8 serial[4] = {1, 2, 3, 4};
	const gchar *payload = "{\"params\":{\"rsa_key\":\"X\"}}";

	wbd_kasa_tdp_header(header, 0, zero, NULL, 0);
	assert_hex(header, 16, "020000010000000000000000463cb5d3");
	wbd_kasa_tdp_header(header, 0x11, serial, (const guint8 *)payload, strlen(payload));
	assert_hex(header, 16, "02000001001a110001020304cce1d1f9");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_data_func("/kasa/crypto/klap-v1", &klap_vectors[0], test_klap_vector);
	g_test_add_data_func("/kasa/crypto/klap-v2", &klap_vectors[1], test_klap_vector);
	g_test_add_func("/kasa/crypto/klap-fallbacks", test_klap_fallbacks);
	g_test_add_func("/kasa/crypto/aes", test_aes_vectors);
	g_test_add_func("/kasa/crypto/rsa", test_rsa);
	g_test_add_func("/kasa/crypto/tdp-header", test_tdp_header);
	return g_test_run();
}
