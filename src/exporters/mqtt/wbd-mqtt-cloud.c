/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-config.h"
#include "wbd-file.h"
#include "wbd-mqtt-cloud.h"
#include "wbd-mqtt-codec.h"

/*
 * What every MQTT kind shares (shared/specs/mqtt-clouds.md §0, §6): the settings of
 * the connection, one WbdMqttClient, its state in LastError, delivery of the spool's
 * batches at QoS 1, and commands run on the devices through wbd_device_command_async(),
 * the path D-Bus calls take, with the same checks. A kind says what its cloud wants
 * (client id, user name, a password that expires) and how readings and commands look
 * on its topics.
 */

#define WBD_MQTT_DEFAULT_PORT 1883
#define WBD_MQTT_DEFAULT_TLS_PORT 8883
/* a password-file holds one password */
#define WBD_MQTT_SECRET_FILE_MAX 4096
#define WBD_MQTT_CLOUD_MAX_BATCHES 4

typedef struct {
	WbdMqttClient *client;
	GPtrArray *filters; /* subscribed once the client exists */
	gboolean commands;
	gchar *last_error;  /* why the broker is not reachable */
	gchar *will_topic;  /* also said on a clean disconnect: the broker says it only on a loss */
	gchar *will_payload;
	guint start_id;
} WbdMqttCloudPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE(WbdMqttCloud, wbd_mqtt_cloud, WBD_TYPE_EXPORTER)

#define GET_PRIVATE(o) ((WbdMqttCloudPrivate *)wbd_mqtt_cloud_get_instance_private(o))
#define exp_id(self) wbd_exporter_get_id(WBD_EXPORTER(self))

/* settings helpers */

gboolean
wbd_mqtt_cloud_parse_bool(GHashTable *settings, const gchar *key, gboolean *value, GError **error)
{
	const gchar *text = g_hash_table_lookup(settings, key);

	if (text == NULL)
		return TRUE;
	if (!g_str_equal(text, "true") && !g_str_equal(text, "false")) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "%s must be true or false",
			    key);
		return FALSE;
	}
	*value = g_str_equal(text, "true");
	return TRUE;
}

/* a whole number of seconds from @min to @max; @value is left alone when not set */
gboolean
wbd_mqtt_cloud_parse_seconds(GHashTable *settings,
			     const gchar *key,
			     guint min,
			     guint max,
			     guint *value,
			     GError **error)
{
	const gchar *text = g_hash_table_lookup(settings, key);
	guint64 seconds;

	if (text == NULL)
		return TRUE;
	if (!g_ascii_string_to_unsigned(text, 10, min, max, &seconds, NULL)) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "%s must be from %u to %u seconds",
			    key,
			    min,
			    max);
		return FALSE;
	}
	*value = (guint)seconds;
	return TRUE;
}

/* a base topic: levels without wildcards, not starting with '$', none empty */
gboolean
wbd_mqtt_cloud_parse_topic(GHashTable *settings,
			   const gchar *key,
			   const gchar *fallback,
			   gchar **out,
			   GError **error)
{
	const gchar *text = g_hash_table_lookup(settings, key);
	g_auto(GStrv) levels = NULL;

	if (text == NULL)
		text = fallback;
	levels = g_strsplit(text, "/", -1);
	for (guint i = 0; levels[i] != NULL; i++) {
		if (!wbd_mqtt_topic_is_valid_level(levels[i])) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "%s must be topic levels separated by '/', without '+', '#', "
				    "empty levels or a leading '$' (e.g. %s)",
				    key,
				    fallback);
			return FALSE;
		}
	}
	*out = g_strdup(text);
	return TRUE;
}

/* a setting that must be there and be one topic level (ids that go into topics) */
gboolean
wbd_mqtt_cloud_require(GHashTable *settings, const gchar *key, const gchar *example, GError **error)
{
	const gchar *text = g_hash_table_lookup(settings, key);

	if (text != NULL && wbd_mqtt_topic_is_valid_level(text) && strlen(text) <= 128)
		return TRUE;
	g_set_error(error,
		    WATTBUS_ERROR,
		    WATTBUS_ERROR_INVALID_ARGUMENT,
		    "%s %s (at most 128 characters, without '/', '+', '#' or a leading '$'; "
		    "e.g. %s=%s)",
		    key,
		    text == NULL ? "is missing" : "is not valid",
		    key,
		    example);
	return FALSE;
}

static gboolean
check_file(GHashTable *settings, const gchar *key, GError **error)
{
	const gchar *path = g_hash_table_lookup(settings, key);

	if (path == NULL || g_file_test(path, G_FILE_TEST_IS_REGULAR))
		return TRUE;
	g_set_error(error,
		    WATTBUS_ERROR,
		    WATTBUS_ERROR_INVALID_ARGUMENT,
		    "%s: no file %s",
		    key,
		    path);
	return FALSE;
}

/**
 * wbd_mqtt_cloud_read_secret:
 * @key: e.g. `password`
 * @file_key: e.g. `password-file`: a file holding the secret (trailing white space
 *   dropped), so that it need not be in the configuration
 * @secret: (out) (transfer full) (nullable): the secret, or %NULL when neither is set;
 *   wipe it after use
 */
gboolean
wbd_mqtt_cloud_read_secret(GHashTable *settings,
			   const gchar *key,
			   const gchar *file_key,
			   gchar **secret,
			   GError **error)
{
	const gchar *value = g_hash_table_lookup(settings, key);
	const gchar *file = g_hash_table_lookup(settings, file_key);
	g_autoptr(GError) local_error = NULL;
	g_autoptr(GBytes) bytes = NULL;
	gchar *contents = NULL;
	guint8 *raw;
	gsize size = 0;

	*secret = NULL;
	if (value != NULL && file != NULL) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "give either %s or %s, not both",
			    key,
			    file_key);
		return FALSE;
	}
	if (file == NULL) {
		*secret = g_strdup(value);
		return TRUE;
	}
	/* a regular file of bounded size: not a FIFO or /dev/zero that would hang the start */
	bytes = wbd_file_read(file, WBD_MQTT_SECRET_FILE_MAX, &local_error);
	if (bytes == NULL) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "cannot read %s: %s",
			    file_key,
			    local_error->message);
		return FALSE;
	}
	raw = g_bytes_unref_to_data(g_steal_pointer(&bytes), &size);
	contents = g_strndup((const gchar *)raw, size);
	memset(raw, 0, size);
	g_free(raw);
	*secret = g_strdup(g_strchomp(contents));
	memset(contents, 0, strlen(contents));
	g_free(contents);
	return TRUE;
}

/* url=mqtt://host[:port] or mqtts://host[:port] → Paho's URI, and the target */
static gboolean
parse_url(WbdMqttCloud *self,
	  const gchar *url,
	  const WbdMqttCloudSetup *setup,
	  gchar **uri_out,
	  GError **error)
{
	g_autoptr(GUri) uri = NULL;
	gboolean tls;
	gint port;

	if (url == NULL)
		return wbd_config_invalid(error, "url is missing (e.g. url=mqtts://broker.lan:8883)");
	uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
	if (uri == NULL)
		return wbd_config_invalid(error, "url is not a valid URL (e.g. url=mqtts://broker.lan:8883)");
	if (g_ascii_strcasecmp(g_uri_get_scheme(uri), "mqtt") == 0)
		tls = FALSE;
	else if (g_ascii_strcasecmp(g_uri_get_scheme(uri), "mqtts") == 0)
		tls = TRUE;
	else
		return wbd_config_invalid(error, "url must start with mqtt:// or mqtts://");
	if (g_uri_get_host(uri) == NULL || g_uri_get_host(uri)[0] == '\0')
		return wbd_config_invalid(error, "url has no host");
	if (g_uri_get_userinfo(uri) != NULL || g_uri_get_query(uri) != NULL ||
	    g_uri_get_fragment(uri) != NULL ||
	    (g_uri_get_path(uri)[0] != '\0' && !g_str_equal(g_uri_get_path(uri), "/")))
		return wbd_config_invalid(error,
			       "url must be mqtt://HOST:PORT or mqtts://HOST:PORT: give the "
			       "user and password with username and password");
	if (setup->require_tls && !tls)
		wbd_exp_warning(self,
				"%s without TLS: only for tests, the cloud itself needs mqtts://",
				url);
	port = g_uri_get_port(uri);
	if (port <= 0 && setup->default_port > 0)
		port = (gint)setup->default_port;
	else if (port <= 0)
		port = tls ? WBD_MQTT_DEFAULT_TLS_PORT : WBD_MQTT_DEFAULT_PORT;
	*uri_out = g_strdup_printf("%s://%s:%d", tls ? "ssl" : "tcp", g_uri_get_host(uri), port);
	wbd_exporter_set_target(WBD_EXPORTER(self), g_uri_get_host(uri));
	return TRUE;
}

static void
setup_clear(WbdMqttCloudSetup *setup)
{
	g_free(setup->default_url);
	g_free(setup->client_id);
	g_free(setup->username);
	if (setup->password != NULL)
		memset(setup->password, 0, strlen(setup->password));
	g_free(setup->password);
	g_free(setup->will_topic);
	g_free(setup->will_payload);
	if (setup->password_destroy != NULL && setup->password_data != NULL)
		setup->password_destroy(setup->password_data);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(WbdMqttCloudSetup, setup_clear)

/* the connection */

static void
wbd_mqtt_cloud_connected_cb(WbdMqttClient *client, WbdMqttCloud *self)
{
	WbdMqttCloudPrivate *priv = GET_PRIVATE(self);

	if (priv->last_error != NULL)
		wbd_exp_message(self, "connected to the broker again");
	else
		wbd_exp_message(self, "connected to the broker");
	g_clear_pointer(&priv->last_error, g_free);
	if (WBD_MQTT_CLOUD_GET_CLASS(self)->connected != NULL)
		WBD_MQTT_CLOUD_GET_CLASS(self)->connected(self);
	wbd_exporter_retry_now(WBD_EXPORTER(self));
}

static void
wbd_mqtt_cloud_disconnected_cb(WbdMqttClient *client, const gchar *why, WbdMqttCloud *self)
{
	WbdMqttCloudPrivate *priv = GET_PRIVATE(self);

	if (g_strcmp0(priv->last_error, why) != 0)
		wbd_exp_warning(self, "no connection to the broker: %s", why);
	g_free(priv->last_error);
	priv->last_error = g_strdup(why);
}

static void
wbd_mqtt_cloud_message_cb(WbdMqttClient *client,
			  const gchar *topic,
			  GBytes *payload,
			  gboolean retained,
			  WbdMqttCloud *self)
{
	if (WBD_MQTT_CLOUD_GET_CLASS(self)->message != NULL)
		WBD_MQTT_CLOUD_GET_CLASS(self)->message(self, topic, payload, retained);
}

static gboolean
wbd_mqtt_cloud_start_cb(gpointer user_data)
{
	WbdMqttCloud *self = user_data;
	GET_PRIVATE(self)->start_id = 0;
	wbd_mqtt_client_start(GET_PRIVATE(self)->client);
	return G_SOURCE_REMOVE;
}

static gboolean
wbd_mqtt_cloud_configure(WbdExporter *exporter, GHashTable *settings, GError **error)
{
	WbdMqttCloud *self = WBD_MQTT_CLOUD(exporter);
	WbdMqttCloudPrivate *priv = GET_PRIVATE(self);
	g_auto(WbdMqttCloudSetup) setup = {0};
	WbdMqttClientOptions options = {0};
	const gchar *protocol = g_hash_table_lookup(settings, "protocol");
	const gchar *url = g_hash_table_lookup(settings, "url");
	const gchar *client_id = g_hash_table_lookup(settings, "client-id");
	g_autofree gchar *uri = NULL;
	g_autofree gchar *password = NULL;
	guint keep_alive = 60;
	gboolean unauthenticated = FALSE;

	if (!wbd_mqtt_cloud_parse_bool(settings, "commands", &priv->commands, error) ||
	    !wbd_mqtt_cloud_parse_bool(
		settings, "commands-unauthenticated", &unauthenticated, error) ||
	    !wbd_mqtt_cloud_parse_seconds(settings, "keep-alive", 5, 1177, &keep_alive, error) ||
	    !check_file(settings, "ca-file", error) || !check_file(settings, "cert-file", error) ||
	    !check_file(settings, "key-file", error))
		return FALSE;
	if (protocol != NULL && !g_str_equal(protocol, "3.1.1") && !g_str_equal(protocol, "5"))
		return wbd_config_invalid(error, "protocol must be 3.1.1 or 5");
	if (!WBD_MQTT_CLOUD_GET_CLASS(self)->configure_cloud(self, settings, &setup, error))
		return FALSE;
	if (!parse_url(self, url != NULL ? url : setup.default_url, &setup, &uri, error))
		return FALSE;
	if (client_id == NULL)
		client_id = setup.client_id;
	if (client_id == NULL || client_id[0] == '\0' || strlen(client_id) > 256 ||
	    !g_utf8_validate(client_id, -1, NULL))
		return wbd_config_invalid(error, "client-id must have from 1 to 256 characters");
	if (setup.password != NULL)
		password = g_strdup(setup.password);
	else if (setup.password_func == NULL &&
		 !wbd_mqtt_cloud_read_secret(settings, "password", "password-file", &password, error))
		return FALSE;
	options.uri = uri;
	options.client_id = client_id;
	options.username =
	    setup.username != NULL ? setup.username : g_hash_table_lookup(settings, "username");
	options.password = password;
	options.password_func = setup.password_func;
	options.password_data = g_steal_pointer(&setup.password_data);
	options.password_destroy = setup.password_destroy;
	options.ca_file = g_hash_table_lookup(settings, "ca-file");
	options.cert_file = g_hash_table_lookup(settings, "cert-file");
	options.key_file = g_hash_table_lookup(settings, "key-file");
	if (priv->commands && (options.username == NULL || options.username[0] == '\0') &&
	    options.cert_file == NULL) {
		/* anybody allowed to publish to an anonymous broker would switch devices */
		if (!unauthenticated)
			return wbd_config_invalid(
			    error,
			    "commands=true needs a connection that the broker authenticates "
			    "(username or cert-file): on a broker that lets anonymous clients "
			    "publish, anybody could switch devices past polkit; set "
			    "commands-unauthenticated=true to allow it anyway");
		wbd_exp_warning(self,
				"commands from a connection with neither username nor "
				"cert-file (commands-unauthenticated=true): whoever may publish "
				"on the broker can switch devices");
	}
	options.keep_alive = keep_alive;
	options.mqtt_version = g_strcmp0(protocol, "5") == 0 ? 5 : 4;
	options.will_topic = setup.will_topic;
	options.will_payload = setup.will_payload;
	options.persistent_session = setup.persistent_session;
	priv->will_topic = g_strdup(setup.will_topic);
	priv->will_payload = g_strdup(setup.will_payload);
	priv->client = wbd_mqtt_client_new(&options, error);
	if (password != NULL)
		memset(password, 0, strlen(password));
	if (priv->client == NULL)
		return FALSE;
	g_signal_connect(priv->client, "connected", G_CALLBACK(wbd_mqtt_cloud_connected_cb), self);
	g_signal_connect(priv->client,
			 "disconnected",
			 G_CALLBACK(wbd_mqtt_cloud_disconnected_cb),
			 self);
	g_signal_connect(priv->client, "message", G_CALLBACK(wbd_mqtt_cloud_message_cb), self);
	for (guint i = 0; i < priv->filters->len; i++)
		wbd_mqtt_client_subscribe(priv->client, g_ptr_array_index(priv->filters, i));
	/* once the exporter is in place: commands need its device lookup */
	priv->start_id = g_idle_add(wbd_mqtt_cloud_start_cb, self);
	return TRUE;
}

/* delivery */

static void
wbd_mqtt_cloud_send_async(WbdExporter *exporter,
			  GPtrArray *records,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data)
{
	WbdMqttCloud *self = WBD_MQTT_CLOUD(exporter);
	WbdMqttCloudPrivate *priv = GET_PRIVATE(self);
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);

	g_task_set_source_tag(task, wbd_mqtt_cloud_send_async);
	if (!wbd_mqtt_client_is_connected(priv->client)) {
		g_task_return_new_error(task,
					WBD_EXPORTER_ERROR,
					WBD_EXPORTER_ERROR_FAILED,
					"Not connected to the broker%s%s",
					priv->last_error != NULL ? ": " : "",
					priv->last_error != NULL ? priv->last_error : "");
		return;
	}
	/* done when the broker has acknowledged every message */
	wbd_mqtt_batch_begin(task);
	for (guint i = 0; i < records->len; i++) {
		const WbdSpoolRecord *record = g_ptr_array_index(records, i);
		/* no topic can carry it: never delivered, never blocking */
		if (!wbd_mqtt_topic_is_valid_level(record->device))
			continue;
		WBD_MQTT_CLOUD_GET_CLASS(self)->publish_record(self, task, record);
	}
	wbd_mqtt_batch_end(task);
}

static gboolean
wbd_mqtt_cloud_send_finish(WbdExporter *exporter, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, exporter), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

void
wbd_mqtt_cloud_batch_publish(WbdMqttCloud *self,
			     GTask *task,
			     const gchar *topic,
			     const gchar *payload,
			     gboolean retain)
{
	wbd_mqtt_batch_publish(GET_PRIVATE(self)->client, task, topic, payload, retain);
}

static void
wbd_mqtt_cloud_publish_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autofree gchar *topic = user_data;
	g_autoptr(GError) error = NULL;

	if (!wbd_mqtt_client_publish_finish(WBD_MQTT_CLIENT(source), res, &error))
		g_debug("publishing on %s: %s", topic, error->message);
}

/**
 * wbd_mqtt_cloud_publish:
 *
 * Publishes at QoS 1, fire and forget: for what the spool does not need to keep
 * (discovery, replies, reported state, which is made again on the next connect).
 */
void
wbd_mqtt_cloud_publish(WbdMqttCloud *self,
		       const gchar *topic,
		       const gchar *payload,
		       gsize length,
		       gboolean retain)
{
	wbd_mqtt_client_publish_async(GET_PRIVATE(self)->client,
				      topic,
				      payload,
				      length,
				      1,
				      retain,
				      NULL,
				      wbd_mqtt_cloud_publish_cb,
				      g_strdup(topic));
}

/**
 * wbd_mqtt_cloud_subscribe:
 * @filter: subscribed at QoS 1 at every connect
 *
 * For configure_cloud().
 */
void
wbd_mqtt_cloud_subscribe(WbdMqttCloud *self, const gchar *filter)
{
	WbdMqttCloudPrivate *priv = GET_PRIVATE(self);

	if (priv->client != NULL)
		wbd_mqtt_client_subscribe(priv->client, filter);
	else
		g_ptr_array_add(priv->filters, g_strdup(filter));
}

gboolean
wbd_mqtt_cloud_get_commands(WbdMqttCloud *self)
{
	return GET_PRIVATE(self)->commands;
}

WbdMqttClient *
wbd_mqtt_cloud_get_client(WbdMqttCloud *self)
{
	return GET_PRIVATE(self)->client;
}

/**
 * wbd_mqtt_cloud_device_state:
 *
 * Returns: (transfer full) (nullable): what a device's shadow, twin or state holds,
 *   the slowly changing part: `online`, and where it applies `state` ("ON"/"OFF")
 *   and `valve`; %NULL for an unknown device
 */
JsonObject *
wbd_mqtt_cloud_device_state(WbdMqttCloud *self, const gchar *device_id)
{
	WbdDevice *device = wbd_exporter_lookup_device(WBD_EXPORTER(self), device_id);
	WattbusWaterMeter *meter;
	JsonObject *state;

	if (device == NULL)
		return NULL;
	state = json_object_new();
	json_object_set_boolean_member(state, "online", wbd_device_get_online(device));
	if (wbd_device_get_capabilities(device) & WBD_DEVICE_CAP_OUTLET)
		json_object_set_string_member(state,
					      "state",
					      wbd_device_get_on(device) ? "ON" : "OFF");
	meter = wattbus_object_peek_water_meter(WATTBUS_OBJECT(wbd_device_get_object(device)));
	if (meter != NULL && wattbus_water_meter_get_valve(meter)[0] != '\0')
		json_object_set_string_member(state, "valve", wattbus_water_meter_get_valve(meter));
	return state;
}

/* the D-Bus properties wbd_mqtt_cloud_device_state() reports */
static const gchar *const wbd_mqtt_cloud_state_properties[] = {"Online", "On", "Valve"};

static void
wbd_mqtt_cloud_device_changed(WbdExporter *exporter, const gchar *device, GVariant *changes)
{
	WbdMqttCloud *self = WBD_MQTT_CLOUD(exporter);

	if (WBD_MQTT_CLOUD_GET_CLASS(self)->device_state_changed == NULL)
		return;
	for (guint i = 0; i < G_N_ELEMENTS(wbd_mqtt_cloud_state_properties); i++) {
		g_autoptr(GVariant) value =
		    g_variant_lookup_value(changes, wbd_mqtt_cloud_state_properties[i], NULL);
		if (value != NULL) {
			WBD_MQTT_CLOUD_GET_CLASS(self)->device_state_changed(self, device);
			return;
		}
	}
}

/* commands */

typedef struct {
	WbdDevice *device;
	GPtrArray *commands;
	guint next;
} CommandData;

static void
command_data_free(CommandData *data)
{
	g_clear_object(&data->device);
	g_clear_pointer(&data->commands, g_ptr_array_unref);
	g_free(data);
}

static void
wbd_mqtt_cloud_run_commands(GTask *task);

static void
wbd_mqtt_cloud_command_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	GError *error = NULL;

	if (!wbd_device_command_finish(WBD_DEVICE(source), res, &error)) {
		g_task_return_error(task, error);
		return;
	}
	wbd_mqtt_cloud_run_commands(g_steal_pointer(&task));
}

static void
wbd_mqtt_cloud_run_commands(GTask *task)
{
	CommandData *data = g_task_get_task_data(task);
	WbdMqttCommand *command;
	GVariant *value;

	if (data->next == data->commands->len) {
		g_task_return_boolean(task, TRUE);
		g_object_unref(task);
		return;
	}
	command = g_ptr_array_index(data->commands, data->next++);
	value = command->toggle ? g_variant_new_boolean(!wbd_device_get_on(data->device))
				: g_variant_ref(command->value);
	wbd_device_command_async(data->device,
				 command->property,
				 value,
				 NULL,
				 wbd_mqtt_cloud_command_cb,
				 task);
}

/**
 * wbd_mqtt_cloud_command_async:
 * @commands: (element-type WbdMqttCommand): run in order, each through
 *   wbd_device_command_async() (the checks of the D-Bus methods: the device's
 *   capabilities, its state, the value); the first failure ends the run
 *
 * Fails with %WATTBUS_ERROR_NOT_SUPPORTED unless `commands=true` or while the exporter
 * is disabled (Disable(), `enabled=false`), and with %WATTBUS_ERROR_NOT_FOUND for an
 * unknown device. Errors never quote a secret.
 */
void
wbd_mqtt_cloud_command_async(WbdMqttCloud *self,
			     const gchar *device_id,
			     GPtrArray *commands,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, NULL, callback, user_data);
	WbdDevice *device = wbd_exporter_lookup_device(WBD_EXPORTER(self), device_id);
	CommandData *data;

	g_task_set_source_tag(task, wbd_mqtt_cloud_command_async);
	if (!GET_PRIVATE(self)->commands) {
		g_task_return_new_error(task,
					WATTBUS_ERROR,
					WATTBUS_ERROR_NOT_SUPPORTED,
					"Commands are off for this exporter (commands=true turns "
					"them on)");
		return;
	}
	if (!wbd_exporter_get_enabled(WBD_EXPORTER(self))) {
		g_task_return_new_error(task,
					WATTBUS_ERROR,
					WATTBUS_ERROR_NOT_SUPPORTED,
					"Exporter '%s' is disabled: it runs no commands until it is "
					"enabled",
					exp_id(self));
		return;
	}
	if (device == NULL) {
		g_task_return_new_error(task,
					WATTBUS_ERROR,
					WATTBUS_ERROR_NOT_FOUND,
					"No device '%s'",
					device_id);
		return;
	}
	wbd_exp_info(self, "running %u command(s) for '%s'", commands->len, device_id);
	data = g_new0(CommandData, 1);
	data->device = g_object_ref(device);
	data->commands = g_ptr_array_ref(commands);
	g_task_set_task_data(task, data, (GDestroyNotify)command_data_free);
	wbd_mqtt_cloud_run_commands(g_steal_pointer(&task));
}

gboolean
wbd_mqtt_cloud_command_finish(WbdMqttCloud *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* lifetime */

static void
wbd_mqtt_cloud_stop(WbdExporter *exporter)
{
	WbdMqttCloudPrivate *priv = GET_PRIVATE(WBD_MQTT_CLOUD(exporter));

	g_clear_handle_id(&priv->start_id, g_source_remove);
	if (priv->client == NULL)
		return;
	g_signal_handlers_disconnect_by_data(priv->client, exporter);
	wbd_mqtt_client_close(priv->client, priv->will_topic, priv->will_payload);
}

static void
wbd_mqtt_cloud_finalize(GObject *object)
{
	WbdMqttCloudPrivate *priv = GET_PRIVATE(WBD_MQTT_CLOUD(object));

	g_clear_handle_id(&priv->start_id, g_source_remove);
	if (priv->client != NULL) {
		g_signal_handlers_disconnect_by_data(priv->client, object);
		g_clear_object(&priv->client);
	}
	g_clear_pointer(&priv->filters, g_ptr_array_unref);
	g_free(priv->last_error);
	g_free(priv->will_topic);
	g_free(priv->will_payload);
	G_OBJECT_CLASS(wbd_mqtt_cloud_parent_class)->finalize(object);
}

static void
wbd_mqtt_cloud_class_init(WbdMqttCloudClass *klass)
{
	WbdExporterClass *exporter_class = WBD_EXPORTER_CLASS(klass);

	G_OBJECT_CLASS(klass)->finalize = wbd_mqtt_cloud_finalize;
	exporter_class->configure = wbd_mqtt_cloud_configure;
	exporter_class->send_async = wbd_mqtt_cloud_send_async;
	exporter_class->send_finish = wbd_mqtt_cloud_send_finish;
	exporter_class->stop = wbd_mqtt_cloud_stop;
	exporter_class->device_changed = wbd_mqtt_cloud_device_changed;
	/* the broker acknowledges a stream: the next batches go while one is acknowledged
	 * (the client keeps at most its window of them in Paho) */
	exporter_class->max_batches = WBD_MQTT_CLOUD_MAX_BATCHES;
}

static void
wbd_mqtt_cloud_init(WbdMqttCloud *self)
{
	GET_PRIVATE(self)->filters = g_ptr_array_new_with_free_func(g_free);
}
