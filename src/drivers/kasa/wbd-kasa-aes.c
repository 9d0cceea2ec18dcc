/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include <wattbus-glib.h>

#include "wbd-json.h"
#include "wbd-kasa-http-private.h"

/*
 * AES "securePassthrough" (kasa-smart.md §4): an RSA-1024 public key goes to the device,
 * which answers with the session's AES key and IV wrapped in it; login_device then
 * gives a token; every request is base64(AES-CBC(JSON)) inside a securePassthrough
 * request. The RSA pair is made once per process, in a thread (it takes milliseconds).
 */

static gpointer rsa_key;
static gchar *rsa_body; /* the 314-byte handshake request */
static GPtrArray *rsa_waiting; /* GTask, handshakes waiting for the key */

static void
aes_fail(WbdKasaHttp *self, GTask *task, GError *error)
{
	wbd_kasa_http_handshake_done(self, task, error);
}

static gchar *
aes_envelope(const gchar *method, const gchar *member, const gchar *value)
{
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "method");
	json_builder_add_string_value(builder, method);
	json_builder_set_member_name(builder, "params");
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, member);
	json_builder_add_string_value(builder, value);
	json_builder_end_object(builder);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	json_generator_set_root(gen, root);
	return json_generator_to_data(gen, NULL);
}

/* the outer reply: error_code, and result (borrowed from @root) */
static JsonObject *
aes_outer(GBytes *body, JsonNode **root, gint64 *code, GError **error)
{
	gsize len = 0;
	const gchar *data = g_bytes_get_data(body, &len);
	gdouble value = -100000;
	JsonObject *obj;

	*root = wbd_json_parse_object(data, len, error);
	if (*root == NULL)
		return NULL;
	obj = json_node_get_object(*root);
	if (!wbd_json_get_number(obj, "error_code", &value)) {
		g_set_error_literal(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED, "Bad reply from the device: no error_code");
		return NULL;
	}
	/* a device's error codes are small; anything out of range is just "an error" */
	*code = value >= -1e9 && value <= 1e9 ? (gint64)value : G_MININT32;
	return obj;
}

static void
aes_login(WbdKasaHttp *self, GTask *task);

static void
aes_login_cb(WbdKasaHttp *self, GTask *task);

static void
aes_handshake_cb(WbdKasaHttp *self, GTask *task)
{
	GError *error = NULL;
	g_autoptr(GBytes) body = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonObject *obj, *result;
	const gchar *key;
	gint64 code = 0;
	guint status = 0;

	body = wbd_kasa_http_post_finish(self, &status, &error);
	if (body == NULL) {
		if (error == NULL)
			error = g_error_new(WATTBUS_ERROR,
					    WATTBUS_ERROR_FAILED,
					    "The device answered the AES handshake with HTTP %u%s",
					    status,
					    status == WBD_KASA_HTTP_NOT_FOUND ? " (not a TP-Link KLAP or AES device?)" : "");
		aes_fail(self, task, error);
		return;
	}
	obj = aes_outer(body, &root, &code, &error);
	if (obj != NULL && code == 1003) {
		/* a KLAP device answers the AES handshake with 1003 (§1) */
		g_clear_error(&error);
		aes_fail(self,
			 task,
			 g_error_new_literal(WATTBUS_ERROR,
					     WATTBUS_ERROR_NOT_SUPPORTED,
					     "The device speaks KLAP, not AES: set transport=klap or auto"));
		return;
	}
	if (obj != NULL && code != 0)
		error = g_error_new(WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "The device refused the AES handshake (error %" G_GINT64_FORMAT ")",
				    code);
	result = obj != NULL && code == 0 ? wbd_json_get_object(obj, "result") : NULL;
	key = result != NULL ? wbd_json_get_string(result, "key") : NULL;
	if (error == NULL && key == NULL)
		error = g_error_new_literal(WATTBUS_ERROR,
					    WATTBUS_ERROR_FAILED,
					    "Bad reply from the device: an AES handshake without a key");
	if (error == NULL)
		wbd_kasa_rsa_unwrap(rsa_key, key, self->aes_key, self->aes_iv, &error);
	if (error == NULL)
		wbd_kasa_http_set_session(self, wbd_kasa_http_post_cookie(self));
	if (error == NULL && self->session_id == NULL)
		error = g_error_new_literal(WATTBUS_ERROR,
					    WATTBUS_ERROR_FAILED,
					    "Bad reply from the device: the AES handshake set no session cookie");
	if (error != NULL) {
		aes_fail(self, task, error);
		return;
	}
	if (self->transport == WBD_KASA_TRANSPORT_AUTO)
		self->transport = WBD_KASA_TRANSPORT_AES;
	aes_login(self, task);
}

static void
aes_post_handshake(WbdKasaHttp *self, GTask *task)
{
	g_autoptr(GBytes) body = g_bytes_new_static(rsa_body, strlen(rsa_body));
	wbd_kasa_http_post(self, "/app", "application/json", body, FALSE, task, aes_handshake_cb);
}

static void
rsa_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
	g_task_return_pointer(task, wbd_kasa_rsa_new(1024), NULL);
}

static void
rsa_ready(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GPtrArray) waiting = g_steal_pointer(&rsa_waiting);
	g_autofree gchar *pem = NULL;

	rsa_key = g_task_propagate_pointer(G_TASK(res), NULL);
	if (rsa_key != NULL)
		pem = wbd_kasa_rsa_public_pem(rsa_key, TRUE);
	if (pem != NULL)
		rsa_body = aes_envelope("handshake", "key", pem);
	for (guint i = 0; i < waiting->len; i++) {
		GTask *task = g_ptr_array_index(waiting, i);
		WbdKasaHttp *self = g_task_get_source_object(task);
		if (rsa_body == NULL)
			aes_fail(self,
				 task,
				 g_error_new_literal(WATTBUS_ERROR, WATTBUS_ERROR_FAILED, "No RSA key for the AES handshake"));
		else
			aes_post_handshake(self, task);
	}
}

void
wbd_kasa_aes_handshake(WbdKasaHttp *self, GTask *task)
{
	self->login_attempt = 0;
	if (rsa_body != NULL) {
		aes_post_handshake(self, task);
		return;
	}
	if (rsa_waiting == NULL) {
		g_autoptr(GTask) gen = g_task_new(NULL, NULL, rsa_ready, NULL);
		rsa_waiting = g_ptr_array_new();
		g_task_run_in_thread(gen, rsa_thread);
	}
	g_ptr_array_add(rsa_waiting, task);
}

/* a securePassthrough: @json encrypted, posted to /app (with ?token= after login) */
static void
aes_passthrough(WbdKasaHttp *self, GTask *task, const gchar *json, WbdKasaHttpPosted callback)
{
	g_autofree gchar *inner = wbd_kasa_aes_encrypt_base64(self->aes_key, self->aes_iv, json);
	g_autofree gchar *outer = aes_envelope("securePassthrough", "request", inner != NULL ? inner : "");
	g_autofree gchar *path = self->token != NULL ? g_strconcat("/app?token=", self->token, NULL) : NULL;
	gsize len = strlen(outer);
	g_autoptr(GBytes) body = g_bytes_new_take(g_steal_pointer(&outer), len);
	wbd_kasa_http_post(self, path != NULL ? path : "/app", "application/json", body, TRUE, task, callback);
}

/* the inner reply of a passthrough, as text; @session_dead for 9999 */
static gchar *
aes_inner(WbdKasaHttp *self, gboolean *session_dead, GError **error)
{
	g_autoptr(GBytes) body = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonObject *obj, *result;
	const gchar *response;
	gchar *text;
	gint64 code = 0;
	guint status = 0;

	*session_dead = FALSE;
	body = wbd_kasa_http_post_finish(self, &status, error);
	if (body == NULL) {
		if (status != 0)
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "The device answered an AES request with HTTP %u",
				    status);
		return NULL;
	}
	obj = aes_outer(body, &root, &code, error);
	if (obj == NULL)
		return NULL;
	if (code != 0) {
		*session_dead = code == 9999 || code == -1301;
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_FAILED,
			    "The device refused an AES request (error %" G_GINT64_FORMAT ")",
			    code);
		return NULL;
	}
	result = wbd_json_get_object(obj, "result");
	response = result != NULL ? wbd_json_get_string(result, "response") : NULL;
	if (response == NULL) {
		g_set_error_literal(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED, "Bad reply from the device: no response");
		return NULL;
	}
	text = wbd_kasa_aes_decrypt_base64(self->aes_key, self->aes_iv, response, NULL);
	if (text == NULL) {
		/* some firmware answers in clear inside the envelope (§4.2) */
		g_autoptr(JsonNode) clear = wbd_json_parse_object(response, strlen(response), NULL);
		if (clear == NULL) {
			g_set_error_literal(error,
					    WATTBUS_ERROR,
					    WATTBUS_ERROR_FAILED,
					    "Bad reply from the device: the AES response does not decrypt");
			return NULL;
		}
		text = g_strdup(response);
	}
	return text;
}

static void
aes_login(WbdKasaHttp *self, GTask *task)
{
	/* login v2 (password2) first unless v1 is known to work: discovery's lv tells which */
	gboolean v2 = self->login_version != 0 ? self->login_version == 2 : self->login_attempt == 0;
	g_autofree gchar *user = wbd_kasa_aes_login_username(self->username != NULL ? self->username : "");
	g_autofree gchar *pass = wbd_kasa_aes_login_password(self->password != NULL ? self->password : "", v2);
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree gchar *json = NULL;

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "method");
	json_builder_add_string_value(builder, "login_device");
	json_builder_set_member_name(builder, "params");
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, v2 ? "password2" : "password");
	json_builder_add_string_value(builder, pass);
	json_builder_set_member_name(builder, "username");
	json_builder_add_string_value(builder, user);
	json_builder_end_object(builder);
	json_builder_set_member_name(builder, "request_time_milis");
	json_builder_add_int_value(builder, g_get_real_time() / 1000);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	json_generator_set_root(gen, root);
	json = json_generator_to_data(gen, NULL);
	g_object_set_data(G_OBJECT(task), "wbd-aes-v2", GINT_TO_POINTER(v2 ? 2 : 1));
	aes_passthrough(self, task, json, aes_login_cb);
	memset(json, 0, strlen(json));
}

static void
aes_login_cb(WbdKasaHttp *self, GTask *task)
{
	GError *error = NULL;
	gboolean dead = FALSE;
	g_autofree gchar *text = aes_inner(self, &dead, &error);
	g_autoptr(JsonNode) root = NULL;
	JsonObject *result;
	const gchar *token = NULL;
	gdouble code = -100000;

	if (text == NULL) {
		aes_fail(self, task, error);
		return;
	}
	root = wbd_json_parse_object(text, strlen(text), NULL);
	if (root != NULL)
		wbd_json_get_number(json_node_get_object(root), "error_code", &code);
	result = root != NULL ? wbd_json_get_object(json_node_get_object(root), "result") : NULL;
	token = result != NULL ? wbd_json_get_string(result, "token") : NULL;
	if (code == 0 && token != NULL && strlen(token) <= 128) {
		gboolean ok = TRUE;
		for (const gchar *p = token; ok && *p != '\0'; p++)
			ok = g_ascii_isalnum(*p);
		if (ok) {
			self->token = g_strdup(token);
			self->login_version = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(task), "wbd-aes-v2"));
			g_free(self->description);
			self->description = g_strdup_printf("AES (login v%d)", self->login_version);
			wbd_kasa_http_handshake_done(self, task, NULL);
			return;
		}
	}
	if (self->login_version == 0 && self->login_attempt == 0) {
		/* the session is spent after a refused login: a new handshake for login v1 */
		g_free(self->session_id);
		self->session_id = NULL;
		self->login_attempt = 1;
		aes_post_handshake(self, task);
		return;
	}
	self->login_attempt = 0;
	if (code == -1501 || code == 1111 || code == -1005 || code == 1100 || code == 1003) {
		g_autofree gchar *how = g_strdup_printf("AES login_device error %d", (gint)code);
		aes_fail(self, task, wbd_kasa_http_auth_error(self, how));
		return;
	}
	aes_fail(self,
		 task,
		 g_error_new(WATTBUS_ERROR,
			     WATTBUS_ERROR_FAILED,
			     "Bad reply from the device to login_device (error %.0f)",
			     code));
}

static void
aes_request_cb(WbdKasaHttp *self, GTask *task)
{
	GError *error = NULL;
	gboolean dead = FALSE;
	gchar *text = aes_inner(self, &dead, &error);

	/* a session time-out may also come inside: {"error_code":9999} */
	if (text != NULL && strstr(text, "\"error_code\":9999") != NULL && strlen(text) < 40) {
		g_free(text);
		text = NULL;
		dead = TRUE;
		error = g_error_new_literal(WATTBUS_ERROR, WATTBUS_ERROR_FAILED, "The device's AES session timed out");
	}
	wbd_kasa_http_send_done(self, task, text, error, dead);
}

void
wbd_kasa_aes_send(WbdKasaHttp *self, GTask *task)
{
	aes_passthrough(self, task, wbd_kasa_http_request_text(task), aes_request_cb);
}
