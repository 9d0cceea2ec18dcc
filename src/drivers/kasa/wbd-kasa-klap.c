/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include <wattbus-glib.h>

#include "wbd-kasa-http-private.h"
#include "wbd-log.h"

/*
 * KLAP (kasa-smart.md §3): handshake1 sends a random seed and gets the device's seed
 * and a hash over the credentials the device holds, tested here against the user's
 * account and the default accounts, as v1 and v2, so that one answer tells both the
 * variant and the account; handshake2 proves ours; then each request is
 * signature || AES-CBC under the session's key, with a signed sequence number.
 */

static void
klap_handshake2_cb(WbdKasaHttp *self, GTask *task)
{
	GError *error = NULL;
	g_autoptr(GBytes) body = NULL;
	guint status = 0;

	body = wbd_kasa_http_post_finish(self, &status, &error);
	if (error == NULL && status != WBD_KASA_HTTP_OK) {
		if (status == WBD_KASA_HTTP_FORBIDDEN)
			error = wbd_kasa_http_auth_error(self, "KLAP handshake2 refused with HTTP 403");
		else
			error = g_error_new(WATTBUS_ERROR,
					    WATTBUS_ERROR_FAILED,
					    "The device answered KLAP's handshake2 with HTTP %u",
					    status);
	}
	if (error == NULL) {
		g_free(self->description);
		self->description = g_strdup_printf("KLAP v%d", self->klap_version);
	}
	wbd_kasa_http_handshake_done(self, task, error);
}

static void
klap_handshake1_cb(WbdKasaHttp *self, GTask *task)
{
	GError *error = NULL;
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GBytes) proof = NULL;
	guint8 hs2[WBD_KASA_KLAP_HASH_SIZE];
	const guint8 *data;
	const gchar *account;
	gsize len = 0;
	guint status = 0;

	body = wbd_kasa_http_post_finish(self, &status, &error);
	if (error != NULL) {
		wbd_kasa_http_handshake_done(self, task, error);
		return;
	}
	if (body != NULL)
		data = g_bytes_get_data(body, &len);
	if (body == NULL || len != WBD_KASA_KLAP_HANDSHAKE1_REPLY_SIZE) {
		if (self->transport == WBD_KASA_TRANSPORT_AUTO) {
			/* no KLAP here: AES securePassthrough is the other HTTP transport */
			wbd_log_debug(self->log_id, "no KLAP handshake (HTTP %u, %" G_GSIZE_FORMAT " bytes): trying AES",
				status,
				len);
			self->transport = WBD_KASA_TRANSPORT_AES;
			wbd_kasa_aes_handshake(self, task);
			return;
		}
		if (status == WBD_KASA_HTTP_FORBIDDEN)
			error = g_error_new_literal(WATTBUS_ERROR,
						    WATTBUS_ERROR_PERMISSION_DENIED,
						    "The device refused KLAP's handshake (HTTP 403): turn on "
						    "\"Third-Party Compatibility\" in the Tapo/Kasa app "
						    "(Me > Third-Party Services)");
		else if (body == NULL)
			error = g_error_new(WATTBUS_ERROR,
					    WATTBUS_ERROR_FAILED,
					    "The device answered KLAP's handshake1 with HTTP %u (transport=aes or auto?)",
					    status);
		else
			error = g_error_new(WATTBUS_ERROR,
					    WATTBUS_ERROR_FAILED,
					    "Bad reply from the device: a KLAP handshake1 answer of %" G_GSIZE_FORMAT
					    " bytes instead of 48",
					    len);
		wbd_kasa_http_handshake_done(self, task, error);
		return;
	}
	if (self->transport == WBD_KASA_TRANSPORT_AUTO)
		self->transport = WBD_KASA_TRANSPORT_KLAP;
	wbd_kasa_http_set_session(self, wbd_kasa_http_post_cookie(self));
	account = wbd_kasa_klap_match(self->username,
				      self->password,
				      self->local_seed,
				      data,
				      data + WBD_KASA_KLAP_SEED_SIZE,
				      &self->klap_version,
				      self->auth_hash,
				      &self->auth_len);
	if (account == NULL) {
		wbd_kasa_http_handshake_done(self,
					     task,
					     wbd_kasa_http_auth_error(self,
								      "its KLAP handshake matches neither that "
								      "account nor a default one"));
		return;
	}
	if (g_strcmp0(account, "given") != 0)
		wbd_log_info(self->log_id, "the device answers for %s, not for the configured account: it is not "
		       "provisioned with yours",
		       account);
	if (self->session_id == NULL) {
		wbd_kasa_http_handshake_done(self,
					     task,
					     g_error_new_literal(WATTBUS_ERROR,
								 WATTBUS_ERROR_FAILED,
								 "Bad reply from the device: KLAP's handshake1 set no "
								 "TP_SESSIONID cookie"));
		return;
	}
	wbd_kasa_klap_session_init(&self->klap, self->local_seed, data, self->auth_hash, self->auth_len);
	wbd_kasa_klap_handshake2_body(self->klap_version,
				      self->local_seed,
				      data,
				      self->auth_hash,
				      self->auth_len,
				      hs2);
	proof = g_bytes_new(hs2, sizeof(hs2));
	wbd_kasa_http_post(self, "/app/handshake2", "application/octet-stream", proof, TRUE, task, klap_handshake2_cb);
}

void
wbd_kasa_klap_handshake(WbdKasaHttp *self, GTask *task)
{
	g_autoptr(GBytes) seed = NULL;

	if (!wbd_kasa_random(self->local_seed, sizeof(self->local_seed))) {
		wbd_kasa_http_handshake_done(self,
					     task,
					     g_error_new_literal(WATTBUS_ERROR,
								 WATTBUS_ERROR_FAILED,
								 "No random bytes for KLAP's handshake"));
		return;
	}
	seed = g_bytes_new(self->local_seed, sizeof(self->local_seed));
	wbd_kasa_http_post(self, "/app/handshake1", "application/octet-stream", seed, FALSE, task, klap_handshake1_cb);
}

typedef struct {
	gint32 seq;
} KlapSend;

static void
klap_request_cb(WbdKasaHttp *self, GTask *task)
{
	KlapSend *send = g_object_get_data(G_OBJECT(task), "wbd-klap-send");
	GError *error = NULL;
	g_autoptr(GBytes) body = NULL;
	gchar *reply = NULL;
	guint status = 0;
	gsize len;
	const guint8 *data;

	body = wbd_kasa_http_post_finish(self, &status, &error);
	if (error != NULL) {
		wbd_kasa_http_send_done(self, task, NULL, error, FALSE);
		return;
	}
	if (body == NULL) {
		/* 403: the session is gone (expired, rebooted, displaced by another client) */
		wbd_kasa_http_send_done(self,
					task,
					NULL,
					g_error_new(WATTBUS_ERROR,
						    WATTBUS_ERROR_FAILED,
						    "The device answered a KLAP request with HTTP %u",
						    status),
					status == WBD_KASA_HTTP_FORBIDDEN);
		return;
	}
	data = g_bytes_get_data(body, &len);
	reply = wbd_kasa_klap_decrypt(&self->klap, send->seq, data, len, &error);
	wbd_kasa_http_send_done(self, task, reply, error, FALSE);
}

void
wbd_kasa_klap_send(WbdKasaHttp *self, GTask *task)
{
	const gchar *json = wbd_kasa_http_request_text(task);
	KlapSend *send = g_new0(KlapSend, 1);
	g_autoptr(GBytes) body = NULL;
	g_autofree gchar *path = NULL;

	/* never wrap the signed sequence number: a new session instead (§3.5) */
	if (self->klap.seq == G_MAXINT32) {
		g_free(send);
		wbd_kasa_http_send_done(self,
					task,
					NULL,
					g_error_new_literal(WATTBUS_ERROR, WATTBUS_ERROR_FAILED, "KLAP sequence used up"),
					TRUE);
		return;
	}
	body = wbd_kasa_klap_encrypt(&self->klap, json, strlen(json), &send->seq);
	if (body == NULL) {
		g_free(send);
		wbd_kasa_http_send_done(self,
					task,
					NULL,
					g_error_new_literal(WATTBUS_ERROR, WATTBUS_ERROR_FAILED, "Cannot encrypt a KLAP request"),
					FALSE);
		return;
	}
	g_object_set_data_full(G_OBJECT(task), "wbd-klap-send", send, g_free);
	path = g_strdup_printf("/app/request?seq=%d", send->seq);
	wbd_kasa_http_post(self, path, "application/octet-stream", body, TRUE, task, klap_request_cb);
}
