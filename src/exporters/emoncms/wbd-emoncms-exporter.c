/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <libsoup/soup.h>
#include <wattbus-glib.h>

#include "wbd-emoncms-codec.h"
#include "wbd-emoncms-exporter.h"
#include "wbd-config.h"

/*
 * EmonCMS (shared/specs/emoncms.md): live readings one at a time with input/post and
 * fulljson, each with its own time; backlogs with input/bulk, oldest first, with
 * absolute times (time=0). The write key goes in the Authorization header only.
 */

#define WBD_EMONCMS_APIKEY_LEN 32

struct _WbdEmoncmsExporter {
	WbdExporter parent_instance;
	gchar *base_url; /* without a trailing '/' */
	gchar *apikey;
	GHashTable *configured_nodes; /* device id → node, from node= */
	GHashTable *node_owners;      /* node → the device id whose node it is */
	SoupSession *session;
};

G_DEFINE_TYPE(WbdEmoncmsExporter, wbd_emoncms_exporter, WBD_TYPE_EXPORTER)

static const gchar *const emoncms_keys[] =
    {"url", "apikey", "apikey-file", "node", "ca-file", NULL};
static const gchar *const emoncms_secret_keys[] = {"apikey", NULL};

static const WbdExporterInfo emoncms_info = {
    .kind = "emoncms",
    .get_type = wbd_emoncms_exporter_get_type,
    .keys = emoncms_keys,
    .secret_keys = emoncms_secret_keys,
};

const WbdExporterInfo *
wbd_emoncms_exporter_get_info(void)
{
	return &emoncms_info;
}

/* configuration */

static gboolean
wbd_emoncms_exporter_configure_url(WbdEmoncmsExporter *self, const gchar *url, GError **error)
{
	g_autoptr(GUri) uri = NULL;
	const gchar *scheme;

	if (url == NULL)
		return wbd_config_invalid(error, "url is missing (e.g. url=https://emoncms.org)");
	uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
	if (uri == NULL)
		return wbd_config_invalid(error, "url is not a valid URL (e.g. url=https://emoncms.org)");
	scheme = g_uri_get_scheme(uri);
	if (g_ascii_strcasecmp(scheme, "http") != 0 && g_ascii_strcasecmp(scheme, "https") != 0)
		return wbd_config_invalid(error, "url must start with http:// or https://");
	if (g_uri_get_host(uri) == NULL || g_uri_get_host(uri)[0] == '\0')
		return wbd_config_invalid(error, "url has no host");
	/* a key or password in the URL would end up in logs and properties */
	if (g_uri_get_userinfo(uri) != NULL || g_uri_get_query(uri) != NULL ||
	    g_uri_get_fragment(uri) != NULL)
		return wbd_config_invalid(error,
			       "url must not contain a user, a query or a fragment: give the write "
			       "key with apikey or apikey-file");
	self->base_url = g_strdup(url);
	while (g_str_has_suffix(self->base_url, "/"))
		self->base_url[strlen(self->base_url) - 1] = '\0';
	wbd_exporter_set_target(WBD_EXPORTER(self), g_uri_get_host(uri));
	return TRUE;
}

static gboolean
wbd_emoncms_exporter_configure_key(WbdEmoncmsExporter *self, GHashTable *settings, GError **error)
{
	const gchar *key = g_hash_table_lookup(settings, "apikey");
	const gchar *file = g_hash_table_lookup(settings, "apikey-file");
	g_autofree gchar *contents = NULL;
	g_autoptr(GError) local_error = NULL;

	if ((key == NULL) == (file == NULL))
		return wbd_config_invalid(error, "give the write API key with either apikey or apikey-file");
	if (file != NULL) {
		if (!g_file_get_contents(file, &contents, NULL, &local_error)) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "cannot read apikey-file: %s",
				    local_error->message);
			return FALSE;
		}
		key = g_strstrip(contents);
	}
	if (strlen(key) != WBD_EMONCMS_APIKEY_LEN)
		goto bad;
	for (const gchar *p = key; *p != '\0'; p++) {
		if (!g_ascii_isxdigit(*p))
			goto bad;
	}
	self->apikey = g_strdup(key);
	return TRUE;
bad:
	/* never quote the key */
	return wbd_config_invalid(error,
		       "the API key must be the 32 hexadecimal characters of the account's write "
		       "key (My Account in EmonCMS)");
}

/* node=DEVICE:NODE;DEVICE:NODE */
static gboolean
wbd_emoncms_exporter_configure_nodes(WbdEmoncmsExporter *self, const gchar *value, GError **error)
{
	g_auto(GStrv) items = NULL;

	if (value == NULL)
		return TRUE;
	items = g_strsplit(value, ";", -1);
	for (guint i = 0; items[i] != NULL; i++) {
		const gchar *colon;
		g_autofree gchar *device = NULL;
		g_autofree gchar *node = NULL;
		GHashTableIter iter;
		gpointer other, other_node;

		g_strstrip(items[i]);
		if (items[i][0] == '\0')
			continue;
		colon = strchr(items[i], ':');
		if (colon == NULL)
			return wbd_config_invalid(error,
				       "node must be DEVICE:NODE items separated by ';' (e.g. "
				       "node=kitchen-plug:kitchen;solar:pv)");
		device = g_strstrip(g_strndup(items[i], colon - items[i]));
		node = wbd_emoncms_make_name(colon + 1, WBD_EMONCMS_MAX_NODE);
		if (node[0] == '\0' || device[0] == '\0')
			return wbd_config_invalid(error,
				       "node: a device id and a node name of letters, digits, '_', "
				       "'-' or '.' are needed in every DEVICE:NODE item");
		/* two devices in one node: a configuration error, never merged readings */
		g_hash_table_iter_init(&iter, self->configured_nodes);
		while (g_hash_table_iter_next(&iter, &other, &other_node)) {
			if (g_str_equal(other_node, node) && !g_str_equal(other, device)) {
				g_set_error(error,
					    WATTBUS_ERROR,
					    WATTBUS_ERROR_INVALID_ARGUMENT,
					    "node: devices '%s' and '%s' both have node '%s': a node "
					    "holds one device (and its children)",
					    (const gchar *)other,
					    device,
					    node);
				return FALSE;
			}
		}
		g_hash_table_replace(self->configured_nodes,
				     g_steal_pointer(&device),
				     g_steal_pointer(&node));
	}
	return TRUE;
}

static gboolean
wbd_emoncms_exporter_configure(WbdExporter *exporter, GHashTable *settings, GError **error)
{
	WbdEmoncmsExporter *self = WBD_EMONCMS_EXPORTER(exporter);
	const gchar *timeout = g_hash_table_lookup(settings, "timeout");
	const gchar *ca_file = g_hash_table_lookup(settings, "ca-file");

	if (!wbd_emoncms_exporter_configure_url(self,
						g_hash_table_lookup(settings, "url"),
						error) ||
	    !wbd_emoncms_exporter_configure_key(self, settings, error) ||
	    !wbd_emoncms_exporter_configure_nodes(self,
						  g_hash_table_lookup(settings, "node"),
						  error))
		return FALSE;
	/* no proxy resolver: its D-Bus round trip is not worth it for a home server;
	 * TLS is verified against the system's CAs, or those of ca-file. The base
	 * class times the whole request out; libsoup's I/O time-out is a backstop. */
	self->session =
	    soup_session_new_with_options("proxy-resolver",
					  NULL,
					  "timeout",
					  (timeout != NULL ? (guint)atoi(timeout) : 30) + 5,
					  "user-agent",
					  "wattbus/" PACKAGE_VERSION,
					  NULL);
	if (ca_file != NULL) {
		g_autoptr(GError) local_error = NULL;
		g_autoptr(GTlsDatabase) db = g_tls_file_database_new(ca_file, &local_error);
		if (db == NULL) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "ca-file: %s",
				    local_error->message);
			return FALSE;
		}
		soup_session_set_tls_database(self->session, db);
	}
	return TRUE;
}

/* nodes
 *
 * One node per family of devices: a device without a parent has its own (node=, else
 * made from its id: wbd_emoncms_make_node()), its children (a strip's outlets, a
 * gateway's meters and inverters) are inputs of that node, named after their own ids
 * (wbd_emoncms_child_prefix()), unless node= gives a child a node of its own. Decided
 * when a reading is taken, and kept with it in the spool as its label
 * ("\x1fNODE\x1fPREFIX\x1fOWNER", OWNER the device whose node it is): a backlog goes to
 * the nodes it was read for, even when its devices are gone or not there yet. Two
 * owners never share a node: the delivery is refused (a configuration error) instead.
 */

#define LABEL_MARK "\x1f"

static gchar *
wbd_emoncms_exporter_record_label(WbdExporter *exporter, const gchar *device, const gchar *name)
{
	WbdEmoncmsExporter *self = WBD_EMONCMS_EXPORTER(exporter);
	const gchar *configured = g_hash_table_lookup(self->configured_nodes, device);
	WbdDevice *dev = configured == NULL ? wbd_exporter_lookup_device(exporter, device) : NULL;
	WbdDevice *top = dev;
	g_autofree gchar *node = NULL;
	g_autofree gchar *prefix = NULL;
	const gchar *top_id;

	if (configured != NULL)
		return g_strconcat(LABEL_MARK, configured, LABEL_MARK, LABEL_MARK, device, NULL);
	while (top != NULL && wbd_device_get_parent(top) != NULL)
		top = wbd_device_get_parent(top);
	top_id = top != NULL ? wbd_device_get_id(top) : device;
	configured = g_hash_table_lookup(self->configured_nodes, top_id);
	node = configured != NULL ? g_strdup(configured) : wbd_emoncms_make_node(top_id);
	prefix = top != dev ? wbd_emoncms_child_prefix(device, top_id) : g_strdup("");
	return g_strconcat(LABEL_MARK, node, LABEL_MARK, prefix, LABEL_MARK, top_id, NULL);
}

/* a record's node and input prefix; %FALSE with a refusal when its node is another's */
static gboolean
wbd_emoncms_exporter_node(WbdEmoncmsExporter *self,
			  const WbdSpoolRecord *record,
			  gchar **node,
			  gchar **prefix,
			  GError **error)
{
	g_autofree gchar *made = NULL;
	g_auto(GStrv) parts = NULL;
	const gchar *owner;
	const gchar *label = record->label;

	/* a reading spooled by a daemon before families: its node as it would be now */
	if (!g_str_has_prefix(label, LABEL_MARK)) {
		made = wbd_emoncms_exporter_record_label(WBD_EXPORTER(self), record->device, label);
		label = made;
	}
	parts = g_strsplit(label + 1, LABEL_MARK, 3);
	if (g_strv_length(parts) != 3 || parts[0][0] == '\0') {
		g_set_error(error,
			    WBD_EXPORTER_ERROR,
			    WBD_EXPORTER_ERROR_REFUSED,
			    "A damaged reading of '%s' in the spool",
			    record->device);
		return FALSE;
	}
	owner = g_hash_table_lookup(self->node_owners, parts[0]);
	if (owner != NULL && !g_str_equal(owner, parts[2])) {
		g_set_error(error,
			    WBD_EXPORTER_ERROR,
			    WBD_EXPORTER_ERROR_REFUSED,
			    "Node '%s' would hold the readings of both '%s' and '%s': give one of "
			    "them another node (node=DEVICE-ID:NODE)",
			    parts[0],
			    owner,
			    parts[2]);
		return FALSE;
	}
	if (owner == NULL) {
		wbd_exp_debug(self, "node '%s' is that of '%s'", parts[0], parts[2]);
		g_hash_table_insert(self->node_owners, g_strdup(parts[0]), g_strdup(parts[2]));
	}
	*node = g_strdup(parts[0]);
	*prefix = g_strdup(parts[1]);
	return TRUE;
}

/* sending */

static void
wbd_emoncms_exporter_send_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	SoupMessage *msg = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) body = NULL;
	gsize length = 0;
	const gchar *data;

	body = soup_session_send_and_read_finish(SOUP_SESSION(source), res, &error);
	if (body == NULL) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		g_task_return_new_error(task,
					WBD_EXPORTER_ERROR,
					WBD_EXPORTER_ERROR_FAILED,
					"Cannot reach EmonCMS: %s",
					error->message);
		return;
	}
	data = g_bytes_get_data(body, &length);
	if (!wbd_emoncms_check_reply(soup_message_get_status(msg), data, length, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

/* the request for @records; %NULL when none has a value EmonCMS keeps (only strings,
 * times: nothing to send, they are done) or with @error when one has no node */
static gchar *
wbd_emoncms_exporter_encode(WbdEmoncmsExporter *self,
			    GPtrArray *records,
			    const gchar **path,
			    GError **error)
{
	g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) jsons = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) times = g_array_new(FALSE, FALSE, sizeof(gint64));

	for (guint i = 0; i < records->len; i++) {
		WbdSpoolRecord *record = g_ptr_array_index(records, i);
		g_autoptr(GError) local_error = NULL;
		g_autofree gchar *node = NULL;
		g_autofree gchar *prefix = NULL;
		gchar *json;

		if (!wbd_emoncms_exporter_node(self, record, &node, &prefix, error))
			return NULL;
		json = wbd_emoncms_encode_values(record->values, prefix, &local_error);
		if (json == NULL) {
			/* only a corrupted spool has this: skip it rather than block the queue */
			wbd_exp_warning(self,
					"skipping a damaged reading of '%s': %s",
					record->device,
					local_error->message);
			continue;
		}
		if (g_str_equal(json, "{}")) {
			g_free(json);
			continue;
		}
		g_ptr_array_add(nodes, g_steal_pointer(&node));
		g_ptr_array_add(jsons, json);
		g_array_append_val(times, record->time_us);
	}
	if (jsons->len == 0)
		return NULL;
	if (jsons->len == 1) {
		*path = "/input/post";
		return wbd_emoncms_encode_post(g_ptr_array_index(nodes, 0),
					       g_ptr_array_index(jsons, 0),
					       g_array_index(times, gint64, 0));
	}
	*path = "/input/bulk?time=0&fulljson=1";
	return wbd_emoncms_encode_bulk((const gchar *const *)nodes->pdata,
				       (const gchar *const *)jsons->pdata,
				       (const gint64 *)(gpointer)times->data,
				       jsons->len);
}

static void
wbd_emoncms_exporter_send_async(WbdExporter *exporter,
				GPtrArray *records,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data)
{
	WbdEmoncmsExporter *self = WBD_EMONCMS_EXPORTER(exporter);
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	g_autofree gchar *auth = g_strconcat("Bearer ", self->apikey, NULL);
	g_autofree gchar *url = NULL;
	g_autoptr(GBytes) body = NULL;
	g_autoptr(SoupMessage) msg = NULL;
	const gchar *path = NULL;
	g_autoptr(GError) error = NULL;
	gchar *form;

	g_task_set_source_tag(task, wbd_emoncms_exporter_send_async);
	form = wbd_emoncms_exporter_encode(self, records, &path, &error);
	if (form == NULL && error != NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	if (form == NULL) {
		g_task_return_boolean(task, TRUE);
		return;
	}
	body = g_bytes_new_take(form, strlen(form));
	url = g_strconcat(self->base_url, path, NULL);
	msg = soup_message_new(SOUP_METHOD_POST, url);
	if (msg == NULL) {
		g_task_return_new_error(task,
					WBD_EXPORTER_ERROR,
					WBD_EXPORTER_ERROR_REFUSED,
					"The url is not usable for HTTP");
		return;
	}
	soup_message_set_request_body_from_bytes(msg, "application/x-www-form-urlencoded", body);
	soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization", auth);
	g_task_set_task_data(task, g_object_ref(msg), g_object_unref);
	soup_session_send_and_read_async(self->session,
					 msg,
					 G_PRIORITY_DEFAULT,
					 cancellable,
					 wbd_emoncms_exporter_send_cb,
					 g_steal_pointer(&task));
}

static gboolean
wbd_emoncms_exporter_send_finish(WbdExporter *exporter, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, exporter), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

static void
wbd_emoncms_exporter_stop(WbdExporter *exporter)
{
	WbdEmoncmsExporter *self = WBD_EMONCMS_EXPORTER(exporter);
	if (self->session != NULL)
		soup_session_abort(self->session);
}

static void
wbd_emoncms_exporter_finalize(GObject *object)
{
	WbdEmoncmsExporter *self = WBD_EMONCMS_EXPORTER(object);
	g_free(self->base_url);
	if (self->apikey != NULL)
		memset(self->apikey, 0, strlen(self->apikey));
	g_free(self->apikey);
	g_clear_pointer(&self->configured_nodes, g_hash_table_unref);
	g_clear_pointer(&self->node_owners, g_hash_table_unref);
	g_clear_object(&self->session);
	G_OBJECT_CLASS(wbd_emoncms_exporter_parent_class)->finalize(object);
}

static void
wbd_emoncms_exporter_class_init(WbdEmoncmsExporterClass *klass)
{
	WbdExporterClass *exporter_class = WBD_EXPORTER_CLASS(klass);
	G_OBJECT_CLASS(klass)->finalize = wbd_emoncms_exporter_finalize;
	exporter_class->configure = wbd_emoncms_exporter_configure;
	exporter_class->send_async = wbd_emoncms_exporter_send_async;
	exporter_class->send_finish = wbd_emoncms_exporter_send_finish;
	exporter_class->stop = wbd_emoncms_exporter_stop;
	exporter_class->record_label = wbd_emoncms_exporter_record_label;
}

static void
wbd_emoncms_exporter_init(WbdEmoncmsExporter *self)
{
	self->configured_nodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->node_owners = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}
