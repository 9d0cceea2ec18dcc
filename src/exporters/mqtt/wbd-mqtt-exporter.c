/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-mqtt-client.h"
#include "wbd-mqtt-codec.h"
#include "wbd-mqtt-exporter.h"
#include "wbd-config.h"

/*
 * kind=mqtt: any MQTT broker, Zigbee2MQTT style (shared/specs/mqtt-clouds.md §1).
 * Every reading is published retained at QoS 1 as the device's whole state JSON on
 * PREFIX/DEVICE; a batch is acknowledged to the spool only when the broker has
 * acknowledged every message of it. Online goes to PREFIX/DEVICE/availability, the
 * daemon's own state to PREFIX/bridge/state (online; offline is the Last Will).
 * With commands=true, JSON commands on PREFIX/DEVICE/set go to the devices through
 * wbd_device_command_async() and are answered on PREFIX/DEVICE/set/result. With
 * homeassistant=true, discovery configs go to DISCOVERY-PREFIX/... (retained), again
 * when Home Assistant says it is online.
 */

#define WBD_MQTT_DEFAULT_PORT 1883
#define WBD_MQTT_DEFAULT_TLS_PORT 8883

#define exp_id(self) wbd_exporter_get_id(WBD_EXPORTER(self))

struct _WbdMqttExporter {
	WbdExporter parent_instance;
	WbdMqttClient *client;
	gchar *prefix;
	gchar *discovery_prefix;
	gboolean commands;
	gboolean homeassistant;
	gchar *last_error;    /* why the broker is not reachable */
	GHashTable *states;   /* device id → JsonObject, its state as published */
	GHashTable *online;   /* device id → GINT_TO_POINTER(1 + online) */
	GHashTable *announced; /* device ids with discovery published on this connection */
	guint start_id;
};

G_DEFINE_TYPE(WbdMqttExporter, wbd_mqtt_exporter, WBD_TYPE_EXPORTER)

static const gchar *const mqtt_keys[] = {"url",
					 "client-id",
					 "username",
					 "password",
					 "password-file",
					 "ca-file",
					 "cert-file",
					 "key-file",
					 "prefix",
					 "commands",
					 "homeassistant",
					 "discovery-prefix",
					 "keep-alive",
					 "protocol",
					 NULL};
static const gchar *const mqtt_secret_keys[] = {"password", NULL};

static const WbdExporterInfo mqtt_info = {
    .kind = "mqtt",
    .get_type = wbd_mqtt_exporter_get_type,
    .keys = mqtt_keys,
    .secret_keys = mqtt_secret_keys,
};

const WbdExporterInfo *
wbd_mqtt_exporter_get_info(void)
{
	return &mqtt_info;
}

/* publishing */

static void
wbd_mqtt_exporter_publish_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autofree gchar *topic = user_data;
	g_autoptr(GError) error = NULL;

	if (!wbd_mqtt_client_publish_finish(WBD_MQTT_CLIENT(source), res, &error))
		g_debug("publishing on %s: %s", topic, error->message);
}

/* fire and forget: what the spool does not need to keep (discovery, replies) */
static void
wbd_mqtt_exporter_publish(WbdMqttExporter *self,
			  const gchar *topic,
			  const gchar *payload,
			  gboolean retain)
{
	wbd_mqtt_client_publish_async(self->client,
				      topic,
				      payload,
				      strlen(payload),
				      1,
				      retain,
				      NULL,
				      wbd_mqtt_exporter_publish_cb,
				      g_strdup(topic));
}

static JsonObject *
wbd_mqtt_exporter_state(WbdMqttExporter *self, const gchar *device)
{
	JsonObject *state = g_hash_table_lookup(self->states, device);
	if (state == NULL) {
		state = json_object_new();
		g_hash_table_insert(self->states, g_strdup(device), state);
	}
	return state;
}

/* what the spool does not carry (strings), from the device as it is now */
static void
wbd_mqtt_exporter_add_live(WbdMqttExporter *self, const gchar *device_id, JsonObject *state)
{
	WbdDevice *device = wbd_exporter_lookup_device(WBD_EXPORTER(self), device_id);
	WattbusWaterMeter *meter;

	if (device == NULL)
		return;
	meter = wattbus_object_peek_water_meter(WATTBUS_OBJECT(wbd_device_get_object(device)));
	if (meter != NULL && wattbus_water_meter_get_valve(meter)[0] != '\0')
		json_object_set_string_member(state, "valve", wattbus_water_meter_get_valve(meter));
}

/* the state as published: the readings, plus the live strings */
static gchar *
wbd_mqtt_exporter_state_json(WbdMqttExporter *self, const gchar *device_id, JsonObject *state)
{
	wbd_mqtt_exporter_add_live(self, device_id, state);
	return wbd_mqtt_state_to_json(state);
}

static void
wbd_mqtt_exporter_announce(WbdMqttExporter *self, const gchar *device_id)
{
	WbdDevice *device;
	WattbusObject *object;
	WattbusDevice *iface;
	WattbusElectricityMeter *meter;
	WattbusWaterMeter *water;
	WbdMqttDeviceInfo info = {0};
	g_autoptr(GPtrArray) configs = NULL;

	if (!self->homeassistant || g_hash_table_contains(self->announced, device_id))
		return;
	device = wbd_exporter_lookup_device(WBD_EXPORTER(self), device_id);
	if (device == NULL || !wbd_mqtt_topic_is_valid_level(device_id))
		return;
	object = WATTBUS_OBJECT(wbd_device_get_object(device));
	iface = wattbus_object_peek_device(object);
	meter = wattbus_object_peek_electricity_meter(object);
	water = wattbus_object_peek_water_meter(object);
	info.id = device_id;
	if (iface != NULL) {
		info.name = wattbus_device_get_name(iface);
		info.vendor = wattbus_device_get_vendor(iface);
		info.model = wattbus_device_get_model(iface);
		info.serial = wattbus_device_get_serial_number(iface);
		info.firmware = wattbus_device_get_firmware_version(iface);
	}
	info.outlet = (wbd_device_get_capabilities(device) & WBD_DEVICE_CAP_OUTLET) != 0;
	info.measured = meter != NULL ? wattbus_electricity_meter_get_measured(meter) : NULL;
	info.water_meter = water != NULL;
	info.valve = water != NULL && wattbus_water_meter_get_measured(water) != NULL &&
		     g_strv_contains(wattbus_water_meter_get_measured(water), "Valve");
	configs = wbd_mqtt_ha_discovery(self->prefix, self->discovery_prefix, &info);
	for (guint i = 0; i + 1 < configs->len; i += 2)
		wbd_mqtt_exporter_publish(self,
					  g_ptr_array_index(configs, i),
					  g_ptr_array_index(configs, i + 1),
					  TRUE);
	g_hash_table_add(self->announced, g_strdup(device_id));
}

static void
wbd_mqtt_exporter_publish_availability(WbdMqttExporter *self, const gchar *device, gboolean online)
{
	g_autofree gchar *topic = g_strdup_printf("%s/%s/availability", self->prefix, device);
	wbd_mqtt_exporter_publish(self, topic, online ? "online" : "offline", TRUE);
}

static void
wbd_mqtt_exporter_send_async(WbdExporter *exporter,
			     GPtrArray *records,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	WbdMqttExporter *self = WBD_MQTT_EXPORTER(exporter);
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);

	g_task_set_source_tag(task, wbd_mqtt_exporter_send_async);
	if (!wbd_mqtt_client_is_connected(self->client)) {
		g_task_return_new_error(task,
					WBD_EXPORTER_ERROR,
					WBD_EXPORTER_ERROR_FAILED,
					"Not connected to the broker%s%s",
					self->last_error != NULL ? ": " : "",
					self->last_error != NULL ? self->last_error : "");
		return;
	}
	/* done when the broker has acknowledged every message */
	wbd_mqtt_batch_begin(task);
	for (guint i = 0; i < records->len; i++) {
		WbdSpoolRecord *record = g_ptr_array_index(records, i);
		JsonObject *state = wbd_mqtt_exporter_state(self, record->device);
		g_autofree gchar *topic = NULL;
		g_autofree gchar *json = NULL;
		gint online = -1;

		if (!wbd_mqtt_topic_is_valid_level(record->device))
			continue; /* no topic can carry it: never delivered, never blocking */
		wbd_mqtt_state_merge(state, record->values, &online);
		wbd_mqtt_exporter_announce(self, record->device);
		if (online >= 0) {
			g_autofree gchar *avail =
			    g_strdup_printf("%s/%s/availability", self->prefix, record->device);
			g_hash_table_replace(self->online,
					     g_strdup(record->device),
					     GINT_TO_POINTER(1 + online));
			wbd_mqtt_batch_publish(self->client,
					       task,
					       avail,
					       online ? "online" : "offline",
					       TRUE);
		}
		if (json_object_get_size(state) == 0)
			continue;
		topic = g_strdup_printf("%s/%s", self->prefix, record->device);
		json = wbd_mqtt_exporter_state_json(self, record->device, state);
		wbd_mqtt_batch_publish(self->client, task, topic, json, TRUE);
	}
	wbd_mqtt_batch_end(task);
}

static gboolean
wbd_mqtt_exporter_send_finish(WbdExporter *exporter, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, exporter), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* commands */

typedef struct {
	WbdMqttExporter *self;
	WbdDevice *device;
	gchar *device_id;
	gchar *id;
	GPtrArray *commands;
	guint next;
} CommandData;

static void
command_data_free(CommandData *data)
{
	g_clear_object(&data->self);
	g_clear_object(&data->device);
	g_free(data->device_id);
	g_free(data->id);
	g_clear_pointer(&data->commands, g_ptr_array_unref);
	g_free(data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CommandData, command_data_free)

static void
wbd_mqtt_exporter_reply(WbdMqttExporter *self,
			const gchar *device_id,
			const gchar *id,
			const GError *error)
{
	g_autofree gchar *topic = g_strdup_printf("%s/%s/set/result", self->prefix, device_id);
	g_autofree gchar *json = NULL;
	WbdDevice *device = wbd_exporter_lookup_device(WBD_EXPORTER(self), device_id);
	JsonObject *state = NULL;

	if (error == NULL && device != NULL) {
		state = wbd_mqtt_exporter_state(self, device_id);
		wbd_mqtt_exporter_add_live(self, device_id, state);
		if (wbd_device_get_capabilities(device) & WBD_DEVICE_CAP_OUTLET)
			json_object_set_string_member(state,
						      "state",
						      wbd_device_get_on(device) ? "ON" : "OFF");
	}
	json = wbd_mqtt_result_json(id, error, state);
	wbd_mqtt_exporter_publish(self, topic, json, FALSE);
}

static void
wbd_mqtt_exporter_run_commands(CommandData *data);

static void
wbd_mqtt_exporter_command_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CommandData) data = user_data;
	g_autoptr(GError) error = NULL;

	if (!wbd_device_command_finish(WBD_DEVICE(source), res, &error)) {
		WbdMqttCommand *command = g_ptr_array_index(data->commands, data->next - 1);
		g_message("[%s] command %s for '%s' failed: %s",
			  exp_id(data->self),
			  command->property,
			  data->device_id,
			  error->message);
		wbd_mqtt_exporter_reply(data->self, data->device_id, data->id, error);
		return;
	}
	wbd_mqtt_exporter_run_commands(g_steal_pointer(&data));
}

static void
wbd_mqtt_exporter_run_commands(CommandData *data)
{
	WbdMqttCommand *command;
	GVariant *value;

	if (data->next == data->commands->len) {
		g_info("[%s] command for '%s' done", exp_id(data->self), data->device_id);
		wbd_mqtt_exporter_reply(data->self, data->device_id, data->id, NULL);
		command_data_free(data);
		return;
	}
	command = g_ptr_array_index(data->commands, data->next++);
	value = command->toggle ? g_variant_new_boolean(!wbd_device_get_on(data->device))
				: g_variant_ref(command->value);
	wbd_device_command_async(data->device,
				 command->property,
				 value,
				 NULL,
				 wbd_mqtt_exporter_command_cb,
				 data);
}

static void
wbd_mqtt_exporter_handle_set(WbdMqttExporter *self,
			     const gchar *device_id,
			     GBytes *payload,
			     gboolean retained)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = NULL;
	g_autoptr(GPtrArray) commands = NULL;
	CommandData *data;
	WbdDevice *device;
	gsize length;
	const gchar *bytes = g_bytes_get_data(payload, &length);

	/* an empty message only clears a retained one */
	if (length == 0)
		return;
	/* a retained command would run again on every reconnect */
	if (retained) {
		g_message("[%s] ignoring a retained command for '%s'", exp_id(self), device_id);
		return;
	}
	commands = wbd_mqtt_parse_command(bytes, length, &id, &error);
	device = wbd_exporter_lookup_device(WBD_EXPORTER(self), device_id);
	if (commands != NULL && device == NULL)
		g_set_error(&error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_NOT_FOUND,
			    "No device '%s'",
			    device_id);
	if (error != NULL) {
		g_message("[%s] command for '%s' refused: %s",
			  exp_id(self),
			  device_id,
			  error->message);
		wbd_mqtt_exporter_reply(self, device_id, id, error);
		return;
	}
	data = g_new0(CommandData, 1);
	data->self = g_object_ref(self);
	data->device = g_object_ref(device);
	data->device_id = g_strdup(device_id);
	data->id = g_steal_pointer(&id);
	data->commands = g_steal_pointer(&commands);
	wbd_mqtt_exporter_run_commands(data);
}

static void
wbd_mqtt_exporter_message_cb(WbdMqttClient *client,
			     const gchar *topic,
			     GBytes *payload,
			     gboolean retained,
			     WbdMqttExporter *self)
{
	g_autofree gchar *ha_status = g_strdup_printf("%s/status", self->discovery_prefix);
	gsize prefix_len = strlen(self->prefix);
	g_autofree gchar *device = NULL;

	if (self->homeassistant && g_str_equal(topic, ha_status)) {
		gsize length;
		const gchar *data = g_bytes_get_data(payload, &length);
		/* Home Assistant (re)started: it wants the configs again */
		if (length == 6 && memcmp(data, "online", 6) == 0) {
			g_autoptr(GList) devices = g_hash_table_get_keys(self->states);
			g_hash_table_remove_all(self->announced);
			for (GList *l = devices; l != NULL; l = l->next)
				wbd_mqtt_exporter_announce(self, l->data);
		}
		return;
	}
	if (!self->commands || strncmp(topic, self->prefix, prefix_len) != 0 ||
	    topic[prefix_len] != '/' || !g_str_has_suffix(topic, "/set"))
		return;
	device = g_strndup(topic + prefix_len + 1, strlen(topic) - prefix_len - 1 - 4);
	if (!wbd_mqtt_topic_is_valid_level(device))
		return;
	wbd_mqtt_exporter_handle_set(self, device, payload, retained);
}

/* the connection */

static void
wbd_mqtt_exporter_connected_cb(WbdMqttClient *client, WbdMqttExporter *self)
{
	g_autofree gchar *bridge = g_strdup_printf("%s/bridge/state", self->prefix);
	GHashTableIter iter;
	gpointer device, online;

	g_message("[%s] connected to the broker", exp_id(self));
	g_clear_pointer(&self->last_error, g_free);
	wbd_mqtt_exporter_publish(self, bridge, "online", TRUE);
	/* a broker without persistence may have lost them */
	g_hash_table_remove_all(self->announced);
	g_hash_table_iter_init(&iter, self->online);
	while (g_hash_table_iter_next(&iter, &device, &online)) {
		wbd_mqtt_exporter_announce(self, device);
		wbd_mqtt_exporter_publish_availability(self, device, GPOINTER_TO_INT(online) == 2);
	}
	wbd_exporter_retry_now(WBD_EXPORTER(self));
}

static void
wbd_mqtt_exporter_disconnected_cb(WbdMqttClient *client, const gchar *why, WbdMqttExporter *self)
{
	if (g_strcmp0(self->last_error, why) != 0)
		g_warning("[%s] no connection to the broker: %s", exp_id(self), why);
	g_free(self->last_error);
	self->last_error = g_strdup(why);
}

static gboolean
wbd_mqtt_exporter_start_cb(gpointer user_data)
{
	WbdMqttExporter *self = user_data;
	self->start_id = 0;
	wbd_mqtt_client_start(self->client);
	return G_SOURCE_REMOVE;
}

/* configuration */

static gboolean
parse_bool(GHashTable *settings, const gchar *key, gboolean *value, GError **error)
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

/* a base topic: levels without wildcards, not starting with '$', none empty */
static gboolean
parse_prefix(GHashTable *settings,
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

/* Returns: (transfer full): the password, from password= or password-file= */
static gboolean
read_password(GHashTable *settings, gchar **password, GError **error)
{
	const gchar *value = g_hash_table_lookup(settings, "password");
	const gchar *file = g_hash_table_lookup(settings, "password-file");
	g_autoptr(GError) local_error = NULL;
	gchar *contents = NULL;

	if (value != NULL && file != NULL)
		return wbd_config_invalid(error, "give either password or password-file, not both");
	if (file == NULL) {
		*password = g_strdup(value);
		return TRUE;
	}
	if (!g_file_get_contents(file, &contents, NULL, &local_error)) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "cannot read password-file: %s",
			    local_error->message);
		return FALSE;
	}
	*password = g_strdup(g_strchomp(contents));
	memset(contents, 0, strlen(contents));
	g_free(contents);
	return TRUE;
}

/* url=mqtt://host[:port] or mqtts://host[:port] → Paho's URI and the target */
static gboolean
parse_url(WbdMqttExporter *self, const gchar *url, gchar **uri_out, GError **error)
{
	g_autoptr(GUri) uri = NULL;
	gboolean tls;
	gint port;

	if (url == NULL)
		return wbd_config_invalid(error, "url is missing (e.g. url=mqtt://broker.lan:1883)");
	uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
	if (uri == NULL)
		return wbd_config_invalid(error, "url is not a valid URL (e.g. url=mqtt://broker.lan:1883)");
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
	port = g_uri_get_port(uri);
	if (port <= 0)
		port = tls ? WBD_MQTT_DEFAULT_TLS_PORT : WBD_MQTT_DEFAULT_PORT;
	*uri_out = g_strdup_printf("%s://%s:%d",
				   tls ? "ssl" : "tcp",
				   g_uri_get_host(uri),
				   port);
	wbd_exporter_set_target(WBD_EXPORTER(self), g_uri_get_host(uri));
	return TRUE;
}

static gboolean
wbd_mqtt_exporter_configure(WbdExporter *exporter, GHashTable *settings, GError **error)
{
	WbdMqttExporter *self = WBD_MQTT_EXPORTER(exporter);
	WbdMqttClientOptions options = {0};
	g_autofree gchar *uri = NULL;
	g_autofree gchar *password = NULL;
	g_autofree gchar *will_topic = NULL;
	g_autofree gchar *client_id = NULL;
	const gchar *keep_alive = g_hash_table_lookup(settings, "keep-alive");
	const gchar *protocol = g_hash_table_lookup(settings, "protocol");
	guint64 keep_alive_s = 60;

	if (!parse_url(self, g_hash_table_lookup(settings, "url"), &uri, error) ||
	    !parse_prefix(settings, "prefix", "wattbus", &self->prefix, error) ||
	    !parse_prefix(settings,
			  "discovery-prefix",
			  "homeassistant",
			  &self->discovery_prefix,
			  error) ||
	    !parse_bool(settings, "commands", &self->commands, error) ||
	    !parse_bool(settings, "homeassistant", &self->homeassistant, error) ||
	    !check_file(settings, "ca-file", error) || !check_file(settings, "cert-file", error) ||
	    !check_file(settings, "key-file", error) || !read_password(settings, &password, error))
		return FALSE;
	if (keep_alive != NULL &&
	    !g_ascii_string_to_unsigned(keep_alive, 10, 5, 3600, &keep_alive_s, NULL))
		return wbd_config_invalid(error, "keep-alive must be from 5 to 3600 seconds");
	if (protocol != NULL && !g_str_equal(protocol, "3.1.1") && !g_str_equal(protocol, "5"))
		return wbd_config_invalid(error, "protocol must be 3.1.1 or 5");
	client_id = g_strdup(g_hash_table_lookup(settings, "client-id"));
	if (client_id == NULL)
		client_id = g_strdup_printf("wattbus-%s-%s", g_get_host_name(), exp_id(self));
	if (client_id[0] == '\0' || strlen(client_id) > 128)
		return wbd_config_invalid(error, "client-id must have from 1 to 128 characters");
	will_topic = g_strdup_printf("%s/bridge/state", self->prefix);
	options.uri = uri;
	options.client_id = client_id;
	options.username = g_hash_table_lookup(settings, "username");
	options.password = password;
	options.ca_file = g_hash_table_lookup(settings, "ca-file");
	options.cert_file = g_hash_table_lookup(settings, "cert-file");
	options.key_file = g_hash_table_lookup(settings, "key-file");
	options.keep_alive = (guint)keep_alive_s;
	options.mqtt_version = g_strcmp0(protocol, "5") == 0 ? 5 : 4;
	options.will_topic = will_topic;
	options.will_payload = "offline";
	self->client = wbd_mqtt_client_new(&options, error);
	if (password != NULL)
		memset(password, 0, strlen(password));
	if (self->client == NULL)
		return FALSE;
	g_signal_connect(self->client,
			 "connected",
			 G_CALLBACK(wbd_mqtt_exporter_connected_cb),
			 self);
	g_signal_connect(self->client,
			 "disconnected",
			 G_CALLBACK(wbd_mqtt_exporter_disconnected_cb),
			 self);
	g_signal_connect(self->client, "message", G_CALLBACK(wbd_mqtt_exporter_message_cb), self);
	if (self->commands) {
		g_autofree gchar *filter = g_strdup_printf("%s/+/set", self->prefix);
		wbd_mqtt_client_subscribe(self->client, filter);
	}
	if (self->homeassistant) {
		g_autofree gchar *filter = g_strdup_printf("%s/status", self->discovery_prefix);
		wbd_mqtt_client_subscribe(self->client, filter);
	}
	/* once the exporter is in place: commands need its device lookup */
	self->start_id = g_idle_add(wbd_mqtt_exporter_start_cb, self);
	return TRUE;
}

static void
wbd_mqtt_exporter_stop(WbdExporter *exporter)
{
	WbdMqttExporter *self = WBD_MQTT_EXPORTER(exporter);
	g_autofree gchar *bridge = g_strdup_printf("%s/bridge/state", self->prefix);

	g_clear_handle_id(&self->start_id, g_source_remove);
	if (self->client == NULL)
		return;
	g_signal_handlers_disconnect_by_data(self->client, self);
	wbd_mqtt_client_close(self->client, bridge, "offline");
}

static void
wbd_mqtt_exporter_finalize(GObject *object)
{
	WbdMqttExporter *self = WBD_MQTT_EXPORTER(object);

	g_clear_handle_id(&self->start_id, g_source_remove);
	if (self->client != NULL) {
		g_signal_handlers_disconnect_by_data(self->client, self);
		g_clear_object(&self->client);
	}
	g_free(self->prefix);
	g_free(self->discovery_prefix);
	g_free(self->last_error);
	g_clear_pointer(&self->states, g_hash_table_unref);
	g_clear_pointer(&self->online, g_hash_table_unref);
	g_clear_pointer(&self->announced, g_hash_table_unref);
	G_OBJECT_CLASS(wbd_mqtt_exporter_parent_class)->finalize(object);
}

static void
wbd_mqtt_exporter_class_init(WbdMqttExporterClass *klass)
{
	WbdExporterClass *exporter_class = WBD_EXPORTER_CLASS(klass);

	G_OBJECT_CLASS(klass)->finalize = wbd_mqtt_exporter_finalize;
	exporter_class->configure = wbd_mqtt_exporter_configure;
	exporter_class->send_async = wbd_mqtt_exporter_send_async;
	exporter_class->send_finish = wbd_mqtt_exporter_send_finish;
	exporter_class->stop = wbd_mqtt_exporter_stop;
}

static void
wbd_mqtt_exporter_init(WbdMqttExporter *self)
{
	self->states = g_hash_table_new_full(g_str_hash,
					     g_str_equal,
					     g_free,
					     (GDestroyNotify)json_object_unref);
	self->online = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->announced = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}
