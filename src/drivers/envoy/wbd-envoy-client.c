/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <libsoup/soup.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-address.h"
#include "wbd-config.h"
#include "wbd-envoy-client.h"

/* per request; the device's 30 s operation time-out bounds a whole poll */
#define WBD_ENVOY_REQUEST_TIMEOUT_S 15
#define WBD_ENVOY_READ_CHUNK (64 * 1024)

/*
 * HTTP(S) to one gateway (spec §3): one request at a time on the main session, the
 * long-lived event stream on a second one. Credentials never reach a log or an error.
 *
 * TLS: with a CA file, the certificate must verify against it. Without one, the
 * gateway's self-signed certificate is trusted on first use: its SHA-256 fingerprint
 * is written to the pin file, and from then on only that certificate is accepted.
 */
struct _WbdEnvoyClient {
	GObject parent_instance;
	gchar *device_id;
	gchar *host;
	guint16 port;
	gchar *scheme;
	SoupSession *session;
	SoupSession *stream_session;
	gboolean have_ca_file;
	gchar *pin_file;
	gchar *pin; /* the pinned fingerprint, once known */
	WbdEnvoyAuth auth;
	gchar *user;
	gchar *password;
	gchar *token;
};

G_DEFINE_TYPE(WbdEnvoyClient, wbd_envoy_client, G_TYPE_OBJECT)

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
wbd_envoy_client_load_pin(WbdEnvoyClient *self)
{
	g_autofree gchar *contents = NULL;
	g_clear_pointer(&self->pin, g_free);
	if (self->pin_file == NULL || !g_file_get_contents(self->pin_file, &contents, NULL, NULL))
		return;
	g_strstrip(contents);
	if (g_str_has_prefix(contents, "sha256:") && strlen(contents) == 7 + 32 * 3)
		self->pin = g_steal_pointer(&contents);
	else
		g_warning("[%s] ignoring %s: not a certificate fingerprint",
			  self->device_id,
			  self->pin_file);
}

static gboolean
wbd_envoy_client_save_pin(WbdEnvoyClient *self, const gchar *fingerprint, GError **error)
{
	g_autofree gchar *dir = g_path_get_dirname(self->pin_file);
	g_autofree gchar *contents = g_strconcat(fingerprint, "\n", NULL);
	if (g_mkdir_with_parents(dir, 0750) != 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "Cannot create %s: %s",
			    dir,
			    g_strerror(errno));
		return FALSE;
	}
	return g_file_set_contents_full(
	    self->pin_file, contents, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0640, error);
}

/*
 * Called by libsoup for a certificate that does not verify, which without a CA file is
 * every gateway's. Accept the pinned one, pin the first one, refuse everything else.
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

	if (self->have_ca_file) {
		refusal = g_strdup_printf("The gateway's TLS certificate does not verify against "
					  "the configured ca-file (flags 0x%x); refusing it",
					  (guint)errors);
	} else if (fingerprint == NULL) {
		refusal = g_strdup("The gateway sent no usable TLS certificate");
	} else if (self->pin != NULL && g_strcmp0(self->pin, fingerprint) != 0) {
		refusal =
		    g_strdup_printf("The gateway's TLS certificate has changed (now %s, pinned "
				    "%s), so it is refused: if the gateway was replaced or "
				    "reset, delete %s",
				    fingerprint,
				    self->pin,
				    self->pin_file);
	} else if (self->pin == NULL) {
		if (self->pin_file == NULL ||
		    !wbd_envoy_client_save_pin(self, fingerprint, &error)) {
			refusal =
			    g_strdup_printf("Cannot pin the gateway's TLS certificate: %s",
					    error != NULL ? error->message : "no state directory");
		} else {
			g_message("[%s] trusting the gateway's TLS certificate %s from now on "
				  "(pinned in %s)",
				  self->device_id,
				  fingerprint,
				  self->pin_file);
			self->pin = g_strdup(fingerprint);
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
	gchar *path;
	GInputStream *stream;
	GByteArray *body;
} GetData;

static void
get_data_free(GetData *data)
{
	g_clear_object(&data->msg);
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

gboolean
wbd_envoy_client_set_ca_file(WbdEnvoyClient *self, const gchar *ca_file, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	g_autoptr(GTlsDatabase) database = g_tls_file_database_new(ca_file, &local_error);
	if (database == NULL) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "Cannot read the CA certificates in %s: %s",
			    ca_file,
			    local_error->message);
		return FALSE;
	}
	soup_session_set_tls_database(self->session, database);
	soup_session_set_tls_database(self->stream_session, database);
	self->have_ca_file = TRUE;
	return TRUE;
}

void
wbd_envoy_client_set_pin_file(WbdEnvoyClient *self, const gchar *path)
{
	g_free(self->pin_file);
	self->pin_file = g_strdup(path);
	wbd_envoy_client_load_pin(self);
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
	G_OBJECT_CLASS(wbd_envoy_client_parent_class)->finalize(object);
}

static void
wbd_envoy_client_class_init(WbdEnvoyClientClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = wbd_envoy_client_dispose;
	object_class->finalize = wbd_envoy_client_finalize;
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
	/* no read time-out: the device watches the stream for silence itself */
	self->stream_session = soup_session_new_with_options(
	    "timeout", 0, "max-conns-per-host", 1, "proxy-resolver", NULL, NULL);
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
