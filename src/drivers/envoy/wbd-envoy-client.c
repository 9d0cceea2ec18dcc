/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <libsoup/soup.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-address.h"
#include "wbd-config.h"
#include "wbd-envoy-client.h"
#include "wbd-envoy-pin.h"
#include "wbd-file.h"
#include "wbd-log.h"

/* per request; the device's 30 s operation time-out bounds a whole poll */
#define WBD_ENVOY_REQUEST_TIMEOUT_S 15
#define WBD_ENVOY_READ_CHUNK (64 * 1024)

/*
 * HTTP(S) to one gateway (spec §3): one request at a time on the main session, the
 * long-lived event stream on a second one. Credentials never reach a log or an error.
 *
 * TLS: the sessions have no certificate database, so that libsoup asks
 * accept-certificate about every certificate and the driver alone decides. With a CA
 * file, the certificate must verify against its CAs (and the host name), read off the
 * main loop before the first request. Without one, the gateway's self-signed
 * certificate is trusted on first use: its SHA-256 fingerprint is written to the pin
 * file (wbd-envoy-pin.c), and from then on only that certificate is accepted. A pin
 * file that cannot be read or parsed refuses every certificate until an admin re-pins
 * on purpose (wbd_envoy_client_repin()).
 */
struct _WbdEnvoyClient {
	GObject parent_instance;
	gchar *device_id;
	gchar *host;
	guint16 port;
	gchar *scheme;
	SoupSession *session;
	SoupSession *stream_session;
	gchar *ca_file;
	GPtrArray *cas; /* GTlsCertificate of ca_file, once read */
	gchar *pin_file;
	gchar *pin;	   /* the pinned fingerprint, once known */
	GError *pin_error; /* the pin file is there but unusable: refuse everything */
	WbdEnvoyAuth auth;
	gchar *user;
	gchar *password;
	gchar *token;
};

G_DEFINE_TYPE(WbdEnvoyClient, wbd_envoy_client, G_TYPE_OBJECT)

enum { PROP_0, PROP_PIN, N_PROPS };
static GParamSpec *props[N_PROPS];

/* why the certificate of a message was refused, set by the accept-certificate handler */
#define WBD_ENVOY_TLS_REFUSAL "wbd-envoy-tls-refusal"

/**
 * wbd_envoy_address_parse:
 * @address: host, host:port, or an http:// or https:// URL with nothing after the port
 * @scheme: (out) (transfer full) (nullable): "http", "https", or %NULL when @address
 *   does not say
 * @port: (out): the port, or 0 for the scheme's default
 */
gboolean
wbd_envoy_address_parse(const gchar *address,
			gchar **scheme,
			gchar **host,
			guint16 *port,
			GError **error)
{
	*scheme = NULL;
	*host = NULL;
	*port = 0;
	if (address == NULL || address[0] == '\0')
		goto bad;
	if (g_str_has_prefix(address, "http://") || g_str_has_prefix(address, "https://")) {
		g_autoptr(GUri) uri = g_uri_parse(address, G_URI_FLAGS_NONE, NULL);
		const gchar *path;
		if (uri == NULL || !wbd_address_is_valid_host(g_uri_get_host(uri)) ||
		    g_uri_get_userinfo(uri) != NULL || g_uri_get_query(uri) != NULL ||
		    g_uri_get_fragment(uri) != NULL)
			goto bad;
		path = g_uri_get_path(uri);
		if (path[0] != '\0' && g_strcmp0(path, "/") != 0)
			goto bad;
		*scheme = g_strdup(g_uri_get_scheme(uri));
		*host = g_strdup(g_uri_get_host(uri));
		*port = g_uri_get_port(uri) > 0 ? (guint16)g_uri_get_port(uri) : 0;
		return TRUE;
	}
	if (wbd_address_parse(address, 0, host, port, NULL))
		return TRUE;
bad:
	g_set_error_literal(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "The address must be a host, host:port, or an http:// or https:// URL "
			    "without a path, user name or password");
	return FALSE;
}

/* the driver's check of the `address` setting (WbdDriverInfo.validate_address) */
gboolean
wbd_envoy_address_validate(const gchar *address, GError **error)
{
	g_autofree gchar *scheme = NULL;
	g_autofree gchar *host = NULL;
	guint16 port = 0;
	return wbd_envoy_address_parse(address, &scheme, &host, &port, error);
}

/* where the trust-on-first-use pins live: the daemon's state directory (see README) */
gchar *
wbd_envoy_default_pin_file(const gchar *device_id)
{
	g_autofree gchar *name = g_strconcat(device_id, ".pin", NULL);
	return g_build_filename(wbd_config_get_state_dir(), "envoy", name, NULL);
}

/* "sha256:ab:cd:..." over the DER encoding */
gchar *
wbd_envoy_certificate_fingerprint(GTlsCertificate *certificate)
{
	g_autoptr(GByteArray) der = NULL;
	g_autoptr(GChecksum) checksum = g_checksum_new(G_CHECKSUM_SHA256);
	g_autoptr(GString) out = g_string_new("sha256");
	const gchar *hex;

	g_object_get(certificate, "certificate", &der, NULL);
	if (der == NULL)
		return NULL;
	g_checksum_update(checksum, der->data, der->len);
	hex = g_checksum_get_string(checksum);
	for (guint i = 0; hex[i] != '\0'; i += 2)
		g_string_append_printf(out, ":%c%c", hex[i], hex[i + 1]);
	return g_string_free(g_steal_pointer(&out), FALSE);
}

static void
wbd_envoy_client_set_pin(WbdEnvoyClient *self, const gchar *pin)
{
	if (g_strcmp0(self->pin, pin) == 0)
		return;
	g_free(self->pin);
	self->pin = g_strdup(pin);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PIN]);
}

/* whether a CA of the ca-file vouches for @certificate as the gateway's */
static gboolean
wbd_envoy_client_verify_ca(WbdEnvoyClient *self, GTlsCertificate *certificate)
{
	g_autoptr(GSocketConnectable) identity =
	    g_network_address_new(self->host, self->port > 0 ? self->port : 443);
	for (guint i = 0; self->cas != NULL && i < self->cas->len; i++) {
		if (g_tls_certificate_verify(
			certificate, identity, g_ptr_array_index(self->cas, i)) == 0)
			return TRUE;
	}
	return FALSE;
}

/*
 * Called by libsoup for every certificate (the sessions have no database). With a CA
 * file: accept what its CAs vouch for. Without: accept the pinned one, pin the first
 * one when there is no pin file, refuse everything else.
 */
static gboolean
wbd_envoy_client_accept_certificate_cb(SoupMessage *msg,
				       GTlsCertificate *certificate,
				       GTlsCertificateFlags errors,
				       WbdEnvoyClient *self)
{
	g_autofree gchar *fingerprint = wbd_envoy_certificate_fingerprint(certificate);
	g_autoptr(GError) error = NULL;
	gchar *refusal = NULL;

	if (self->ca_file != NULL) {
		if (self->cas == NULL)
			refusal = g_strdup("The configured ca-file is not read yet; refusing the "
					   "gateway's TLS certificate");
		else if (!wbd_envoy_client_verify_ca(self, certificate))
			refusal = g_strdup_printf(
			    "The gateway's TLS certificate does not verify against the "
			    "configured ca-file (flags 0x%x); refusing it",
			    (guint)errors);
	} else if (self->pin_error != NULL) {
		refusal = g_strdup(self->pin_error->message);
	} else if (fingerprint == NULL) {
		refusal = g_strdup("The gateway sent no usable TLS certificate");
	} else if (self->pin != NULL && g_strcmp0(self->pin, fingerprint) != 0) {
		refusal = g_strdup_printf(
		    "The gateway's TLS certificate has changed (now %s, pinned %s in %s), so it "
		    "is refused: if the gateway really was replaced or reset, re-pin it on "
		    "purpose with org.wattbus.Wattbus1.Envoy.Repin (see the README)",
		    fingerprint,
		    self->pin,
		    self->pin_file);
	} else if (self->pin == NULL) {
		if (self->pin_file == NULL ||
		    !wbd_envoy_pin_save(self->pin_file, fingerprint, &error)) {
			refusal =
			    g_strdup_printf("Cannot pin the gateway's TLS certificate: %s",
					    error != NULL ? error->message : "no state directory");
		} else {
			wbd_log_message(self->device_id, "trusting the gateway's TLS certificate %s from now on "
				  "(pinned in %s)",
				  fingerprint,
				  self->pin_file);
			wbd_envoy_client_set_pin(self, fingerprint);
		}
	}
	if (refusal != NULL) {
		g_object_set_data_full(G_OBJECT(msg), WBD_ENVOY_TLS_REFUSAL, refusal, g_free);
		return FALSE;
	}
	return TRUE;
}

static gboolean
wbd_envoy_client_authenticate_cb(SoupMessage *msg,
				 SoupAuth *auth,
				 gboolean retrying,
				 WbdEnvoyClient *self)
{
	if (retrying || self->auth != WBD_ENVOY_AUTH_DIGEST || self->user == NULL ||
	    self->password == NULL)
		return FALSE;
	soup_auth_authenticate(auth, self->user, self->password);
	return TRUE;
}

static SoupMessage *
wbd_envoy_client_new_message(WbdEnvoyClient *self, const gchar *path, GError **error)
{
	g_auto(GStrv) parts = g_strsplit(path, "?", 2);
	g_autofree gchar *uri = NULL;
	SoupMessage *msg;

	uri = g_uri_join(G_URI_FLAGS_ENCODED,
			 self->scheme,
			 NULL,
			 self->host,
			 self->port > 0 ? self->port : -1,
			 parts[0],
			 parts[1],
			 NULL);
	msg = soup_message_new("GET", uri);
	if (msg == NULL) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "Cannot build a request for %s",
			    path);
		return NULL;
	}
	/* missing endpoints redirect to HTML pages (spec §3.2) */
	soup_message_add_flags(msg, SOUP_MESSAGE_NO_REDIRECT);
	g_signal_connect_object(
	    msg, "accept-certificate", G_CALLBACK(wbd_envoy_client_accept_certificate_cb), self, 0);
	g_signal_connect_object(
	    msg, "authenticate", G_CALLBACK(wbd_envoy_client_authenticate_cb), self, 0);
	if (self->auth == WBD_ENVOY_AUTH_TOKEN && self->token != NULL) {
		g_autofree gchar *value = g_strconcat("Bearer ", self->token, NULL);
		soup_message_headers_replace(
		    soup_message_get_request_headers(msg), "Authorization", value);
	}
	return msg;
}

static GError *
wbd_envoy_client_status_error(WbdEnvoyClient *self, SoupMessage *msg, const gchar *path);

/* the error of a request that failed before a whole answer arrived */
static GError *
wbd_envoy_client_transport_error(WbdEnvoyClient *self,
				 SoupMessage *msg,
				 const gchar *path,
				 GError *error)
{
	const gchar *refusal = g_object_get_data(G_OBJECT(msg), WBD_ENVOY_TLS_REFUSAL);
	guint status = soup_message_get_status(msg);

	if (refusal != NULL) {
		g_error_free(error);
		return g_error_new_literal(WATTBUS_ERROR, WATTBUS_ERROR_PERMISSION_DENIED, refusal);
	}
	/* a 401 without a challenge makes libsoup retry until it gives up */
	if (g_error_matches(error, SOUP_SESSION_ERROR, SOUP_SESSION_ERROR_TOO_MANY_RESTARTS) &&
	    (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)) {
		g_error_free(error);
		return wbd_envoy_client_status_error(self, msg, path);
	}
	return error;
}

static GError *
wbd_envoy_client_status_error(WbdEnvoyClient *self, SoupMessage *msg, const gchar *path)
{
	guint status = soup_message_get_status(msg);

	if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN) {
		if (self->auth == WBD_ENVOY_AUTH_TOKEN)
			return g_error_new(
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_PERMISSION_DENIED,
			    "The gateway refused the token for %s (HTTP %u): it may "
			    "have expired, be for another gateway, or lack the rights",
			    path,
			    status);
		if (self->auth == WBD_ENVOY_AUTH_DIGEST)
			return g_error_new(WATTBUS_ERROR,
					   WATTBUS_ERROR_PERMISSION_DENIED,
					   "The gateway refused user '%s' for %s (HTTP %u): check "
					   "username and password",
					   self->user != NULL ? self->user : "",
					   path,
					   status);
		return g_error_new(WATTBUS_ERROR,
				   WATTBUS_ERROR_PERMISSION_DENIED,
				   "The gateway wants credentials for %s (HTTP %u)",
				   path,
				   status);
	}
	if (status == SOUP_STATUS_NOT_FOUND || (status >= 300 && status < 400))
		return g_error_new(WATTBUS_ERROR,
				   WATTBUS_ERROR_NOT_SUPPORTED,
				   "The gateway has no %s (HTTP %u)",
				   path,
				   status);
	return g_error_new(WATTBUS_ERROR,
			   WATTBUS_ERROR_FAILED,
			   "The gateway answered %s with HTTP %u",
			   path,
			   status);
}

/* GET: send, then read the body up to the limit */

typedef struct {
	SoupMessage *msg;
	SoupSession *session;
	GAsyncReadyCallback send_cb;
	gchar *path;
	GInputStream *stream;
	GByteArray *body;
} GetData;

static void
get_data_free(GetData *data)
{
	g_clear_object(&data->msg);
	g_clear_object(&data->session);
	g_clear_object(&data->stream);
	g_clear_pointer(&data->body, g_byte_array_unref);
	g_free(data->path);
	g_free(data);
}

static void wbd_envoy_client_read_cb(GObject *source, GAsyncResult *res, gpointer user_data);

static void
wbd_envoy_client_read_next(GTask *task)
{
	GetData *data = g_task_get_task_data(task);
	GCancellable *cancellable = g_task_get_cancellable(task);
	g_input_stream_read_bytes_async(data->stream,
					WBD_ENVOY_READ_CHUNK,
					G_PRIORITY_DEFAULT,
					cancellable,
					wbd_envoy_client_read_cb,
					task);
}

static void
wbd_envoy_client_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	GetData *data = g_task_get_task_data(task);
	GError *error = NULL;
	g_autoptr(GBytes) chunk =
	    g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), res, &error);

	if (chunk == NULL) {
		g_task_return_error(task, error);
		return;
	}
	if (g_bytes_get_size(chunk) == 0) {
		g_task_return_pointer(task,
				      g_byte_array_free_to_bytes(g_steal_pointer(&data->body)),
				      (GDestroyNotify)g_bytes_unref);
		return;
	}
	if (data->body->len + g_bytes_get_size(chunk) > WBD_ENVOY_MAX_BODY) {
		g_task_return_new_error(task,
					WATTBUS_ERROR,
					WATTBUS_ERROR_FAILED,
					"The gateway's reply to %s is larger than %u bytes",
					data->path,
					(guint)WBD_ENVOY_MAX_BODY);
		return;
	}
	g_byte_array_append(
	    data->body, g_bytes_get_data(chunk, NULL), (guint)g_bytes_get_size(chunk));
	wbd_envoy_client_read_next(g_steal_pointer(&task));
}

static void
wbd_envoy_client_send_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	WbdEnvoyClient *self = g_task_get_source_object(task);
	GetData *data = g_task_get_task_data(task);
	GError *error = NULL;
	guint status;

	data->stream = soup_session_send_finish(SOUP_SESSION(source), res, &error);
	if (data->stream == NULL) {
		g_task_return_error(
		    task, wbd_envoy_client_transport_error(self, data->msg, data->path, error));
		return;
	}
	status = soup_message_get_status(data->msg);
	if (!SOUP_STATUS_IS_SUCCESSFUL(status)) {
		g_task_return_error(task,
				    wbd_envoy_client_status_error(self, data->msg, data->path));
		return;
	}
	data->body = g_byte_array_new();
	wbd_envoy_client_read_next(g_steal_pointer(&task));
}

/* the CA certificates of a PEM file: every CERTIFICATE block, anything else ignored */
static GPtrArray *
parse_pem_certificates(GBytes *bytes, GError **error)
{
	static const gchar begin[] = "-----BEGIN CERTIFICATE-----";
	static const gchar end[] = "-----END CERTIFICATE-----";
	g_autoptr(GPtrArray) cas = g_ptr_array_new_with_free_func(g_object_unref);
	gsize len = 0;
	const gchar *text = g_bytes_get_data(bytes, &len);
	const gchar *limit = text + len;
	const gchar *p = text;

	while (p != NULL && p < limit) {
		const gchar *start = g_strstr_len(p, limit - p, begin);
		const gchar *stop;
		GTlsCertificate *ca;
		if (start == NULL)
			break;
		stop = g_strstr_len(start, limit - start, end);
		if (stop == NULL)
			break;
		stop += strlen(end);
		ca = g_tls_certificate_new_from_pem(start, stop - start, error);
		if (ca == NULL)
			return NULL;
		g_ptr_array_add(cas, ca);
		p = stop;
	}
	if (cas->len == 0) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "it holds no PEM certificate");
		return NULL;
	}
	return g_steal_pointer(&cas);
}

static void
wbd_envoy_client_read_cas_thread(GTask *task,
				 gpointer source,
				 gpointer task_data,
				 GCancellable *cancellable)
{
	GError *error = NULL;
	g_autoptr(GBytes) bytes = wbd_file_read(task_data, WBD_FILE_MAX_SIZE, &error);
	GPtrArray *cas = bytes != NULL ? parse_pem_certificates(bytes, &error) : NULL;
	if (cas == NULL)
		g_task_return_error(task, error);
	else
		g_task_return_pointer(task, cas, (GDestroyNotify)g_ptr_array_unref);
}

/* the CAs are read: the request waiting for them goes */
static void
wbd_envoy_client_cas_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	WbdEnvoyClient *self = WBD_ENVOY_CLIENT(source);
	GetData *data = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	GPtrArray *cas = g_task_propagate_pointer(G_TASK(res), &error);
	GCancellable *cancellable;

	if (cas == NULL) {
		g_task_return_new_error(task,
					WATTBUS_ERROR,
					WATTBUS_ERROR_INVALID_ARGUMENT,
					"Cannot use the ca-file %s: %s",
					self->ca_file,
					error->message);
		return;
	}
	if (self->cas == NULL)
		self->cas = cas;
	else
		g_ptr_array_unref(cas);
	cancellable = g_task_get_cancellable(task);
	soup_session_send_async(data->session,
				data->msg,
				G_PRIORITY_DEFAULT,
				cancellable,
				data->send_cb,
				g_steal_pointer(&task));
}

/* sends GET @path on @session; @send_cb gets the task, with a GetData */
static void
wbd_envoy_client_send(WbdEnvoyClient *self,
		      SoupSession *session,
		      const gchar *path,
		      gpointer source_tag,
		      GAsyncReadyCallback send_cb,
		      GCancellable *cancellable,
		      GAsyncReadyCallback callback,
		      gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	GetData *data = g_new0(GetData, 1);
	GError *error = NULL;

	g_task_set_source_tag(task, source_tag);
	g_task_set_task_data(task, data, (GDestroyNotify)get_data_free);
	data->path = g_strdup(path);
	data->msg = wbd_envoy_client_new_message(self, path, &error);
	if (data->msg == NULL) {
		g_task_return_error(task, error);
		return;
	}
	data->session = g_object_ref(session);
	data->send_cb = send_cb;
	/* the CAs first, read off the main loop (they decide whether the token may go) */
	if (self->ca_file != NULL && self->cas == NULL && g_strcmp0(self->scheme, "https") == 0) {
		g_autoptr(GTask) read =
		    g_task_new(self, cancellable, wbd_envoy_client_cas_read_cb, g_steal_pointer(&task));
		g_task_set_task_data(read, g_strdup(self->ca_file), g_free);
		g_task_run_in_thread(read, wbd_envoy_client_read_cas_thread);
		return;
	}
	soup_session_send_async(
	    session, data->msg, G_PRIORITY_DEFAULT, cancellable, send_cb, g_steal_pointer(&task));
}

/**
 * wbd_envoy_client_get_async:
 * @path: the endpoint with its query, e.g. "/production.json?details=1"
 *
 * Reads an endpoint with the current credentials. A status other than 2xx is an
 * error: %WATTBUS_ERROR_PERMISSION_DENIED for 401 and 403,
 * %WATTBUS_ERROR_NOT_SUPPORTED for 404 and redirects, else %WATTBUS_ERROR_FAILED.
 */
void
wbd_envoy_client_get_async(WbdEnvoyClient *self,
			   const gchar *path,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data)
{
	wbd_envoy_client_send(self,
			      self->session,
			      path,
			      wbd_envoy_client_get_async,
			      wbd_envoy_client_send_cb,
			      cancellable,
			      callback,
			      user_data);
}

GBytes *
wbd_envoy_client_get_finish(WbdEnvoyClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

/* the event stream: a response whose body does not end */

static void
wbd_envoy_client_stream_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	WbdEnvoyClient *self = g_task_get_source_object(task);
	GetData *data = g_task_get_task_data(task);
	GError *error = NULL;
	g_autoptr(GInputStream) stream =
	    soup_session_send_finish(SOUP_SESSION(source), res, &error);

	if (stream == NULL) {
		g_task_return_error(
		    task, wbd_envoy_client_transport_error(self, data->msg, data->path, error));
		return;
	}
	if (!SOUP_STATUS_IS_SUCCESSFUL(soup_message_get_status(data->msg))) {
		g_task_return_error(task,
				    wbd_envoy_client_status_error(self, data->msg, data->path));
		return;
	}
	g_task_return_pointer(task, g_steal_pointer(&stream), g_object_unref);
}

/* the response of an endpoint that never ends, for the caller to read */
void
wbd_envoy_client_open_stream_async(WbdEnvoyClient *self,
				   const gchar *path,
				   GCancellable *cancellable,
				   GAsyncReadyCallback callback,
				   gpointer user_data)
{
	wbd_envoy_client_send(self,
			      self->stream_session,
			      path,
			      wbd_envoy_client_open_stream_async,
			      wbd_envoy_client_stream_cb,
			      cancellable,
			      callback,
			      user_data);
}

GInputStream *
wbd_envoy_client_open_stream_finish(WbdEnvoyClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

/* settings */

void
wbd_envoy_client_set_scheme(WbdEnvoyClient *self, const gchar *scheme)
{
	g_free(self->scheme);
	self->scheme = g_strdup(scheme);
}

const gchar *
wbd_envoy_client_get_scheme(WbdEnvoyClient *self)
{
	return self->scheme;
}

/* verify against the CAs of @ca_file, read (off the main loop) before the first request */
void
wbd_envoy_client_set_ca_file(WbdEnvoyClient *self, const gchar *ca_file)
{
	g_free(self->ca_file);
	self->ca_file = g_strdup(ca_file);
	g_clear_pointer(&self->cas, g_ptr_array_unref);
}

/* trust on first use, with the pin in @path (read now: a small file of the daemon's) */
void
wbd_envoy_client_set_pin_file(WbdEnvoyClient *self, const gchar *path)
{
	g_autofree gchar *pin = NULL;
	g_free(self->pin_file);
	self->pin_file = g_strdup(path);
	g_clear_error(&self->pin_error);
	pin = wbd_envoy_pin_load(path, &self->pin_error);
	if (self->pin_error != NULL)
		wbd_log_warning(self->device_id, "%s", self->pin_error->message);
	wbd_envoy_client_set_pin(self, pin);
}

const gchar *
wbd_envoy_client_get_pin(WbdEnvoyClient *self)
{
	return self->pin;
}

/*
 * Whether the gateway is known to speak HTTPS: it has a pin file (even an unusable
 * one) or a ca-file. Such a gateway is never asked over plain HTTP first, where a man
 * in the middle could answer and be sent the token.
 */
gboolean
wbd_envoy_client_knows_https(WbdEnvoyClient *self)
{
	return self->pin != NULL || self->pin_error != NULL || self->ca_file != NULL;
}

/**
 * wbd_envoy_client_repin:
 * @fingerprint: the fingerprint to trust from now on (`sha256:xx:...`, e.g. the one a
 *   refusal named, checked on the gateway itself), or "" to trust the next certificate
 *   the gateway presents (trust on first use again)
 *
 * An admin's deliberate re-pin: replaces or deletes the pin file, clears a pin file
 * error, and closes the connections so that the next request shakes hands again.
 */
gboolean
wbd_envoy_client_repin(WbdEnvoyClient *self, const gchar *fingerprint, GError **error)
{
	g_autofree gchar *pin = NULL;

	if (self->pin_file == NULL) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_NOT_SUPPORTED,
				    "The gateway's certificate is verified against the configured "
				    "ca-file, not pinned");
		return FALSE;
	}
	if (fingerprint[0] != '\0') {
		pin = wbd_envoy_pin_parse(fingerprint, strlen(fingerprint), error);
		if (pin == NULL)
			return FALSE;
		if (!wbd_envoy_pin_save(self->pin_file, pin, error))
			return FALSE;
	} else if (!wbd_envoy_pin_remove(self->pin_file, error)) {
		return FALSE;
	}
	g_clear_error(&self->pin_error);
	wbd_envoy_client_set_pin(self, pin);
	wbd_envoy_client_abort(self);
	return TRUE;
}

/* the device is removed for good: its pin goes with it */
gboolean
wbd_envoy_client_forget_pin(WbdEnvoyClient *self, GError **error)
{
	if (self->pin_file == NULL)
		return TRUE;
	return wbd_envoy_pin_remove(self->pin_file, error);
}

void
wbd_envoy_client_set_digest(WbdEnvoyClient *self, const gchar *user, const gchar *password)
{
	g_free(self->user);
	self->user = g_strdup(user);
	if (self->password != NULL)
		memset(self->password, 0, strlen(self->password));
	g_free(self->password);
	self->password = g_strdup(password);
}

void
wbd_envoy_client_set_token(WbdEnvoyClient *self, const gchar *token)
{
	if (self->token != NULL)
		memset(self->token, 0, strlen(self->token));
	g_free(self->token);
	self->token = g_strdup(token);
}

void
wbd_envoy_client_set_auth(WbdEnvoyClient *self, WbdEnvoyAuth auth)
{
	self->auth = auth;
}

WbdEnvoyAuth
wbd_envoy_client_get_auth(WbdEnvoyClient *self)
{
	return self->auth;
}

/* cancels every request, the stream too */
void
wbd_envoy_client_abort(WbdEnvoyClient *self)
{
	soup_session_abort(self->session);
	soup_session_abort(self->stream_session);
}

static void
wbd_envoy_client_dispose(GObject *object)
{
	WbdEnvoyClient *self = WBD_ENVOY_CLIENT(object);
	if (self->session != NULL)
		soup_session_abort(self->session);
	if (self->stream_session != NULL)
		soup_session_abort(self->stream_session);
	g_clear_object(&self->session);
	g_clear_object(&self->stream_session);
	G_OBJECT_CLASS(wbd_envoy_client_parent_class)->dispose(object);
}

static void
wbd_envoy_client_finalize(GObject *object)
{
	WbdEnvoyClient *self = WBD_ENVOY_CLIENT(object);
	wbd_envoy_client_set_digest(self, NULL, NULL);
	wbd_envoy_client_set_token(self, NULL);
	g_free(self->device_id);
	g_free(self->host);
	g_free(self->scheme);
	g_free(self->pin_file);
	g_free(self->pin);
	g_clear_error(&self->pin_error);
	g_free(self->ca_file);
	g_clear_pointer(&self->cas, g_ptr_array_unref);
	G_OBJECT_CLASS(wbd_envoy_client_parent_class)->finalize(object);
}

static void
wbd_envoy_client_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	WbdEnvoyClient *self = WBD_ENVOY_CLIENT(object);
	switch (prop_id) {
	case PROP_PIN:
		g_value_set_string(value, self->pin);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
wbd_envoy_client_class_init(WbdEnvoyClientClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = wbd_envoy_client_dispose;
	object_class->finalize = wbd_envoy_client_finalize;
	object_class->get_property = wbd_envoy_client_get_property;
	/* the pinned fingerprint, or %NULL */
	props[PROP_PIN] = g_param_spec_string(
	    "pin", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);
}

static void
wbd_envoy_client_init(WbdEnvoyClient *self)
{
	/* one request at a time: gateways are slow and easily overwhelmed (spec §6) */
	self->session = soup_session_new_with_options("timeout",
						      WBD_ENVOY_REQUEST_TIMEOUT_S,
						      "max-conns-per-host",
						      1,
						      "proxy-resolver",
						      NULL,
						      NULL);
	soup_session_add_feature_by_type(self->session, SOUP_TYPE_COOKIE_JAR);
	/* no database: every certificate goes through accept-certificate */
	soup_session_set_tls_database(self->session, NULL);
	/* no read time-out: the device watches the stream for silence itself */
	self->stream_session = soup_session_new_with_options(
	    "timeout", 0, "max-conns-per-host", 1, "proxy-resolver", NULL, NULL);
	soup_session_set_tls_database(self->stream_session, NULL);
	self->scheme = g_strdup("http");
}

WbdEnvoyClient *
wbd_envoy_client_new(const gchar *device_id, const gchar *host, guint16 port)
{
	WbdEnvoyClient *self = g_object_new(WBD_TYPE_ENVOY_CLIENT, NULL);
	self->device_id = g_strdup(device_id);
	self->host = g_strdup(host);
	self->port = port;
	return self;
}
