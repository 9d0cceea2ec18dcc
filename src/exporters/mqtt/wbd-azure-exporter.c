/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-azure-codec.h"
#include "wbd-azure-exporter.h"
#include "wbd-config.h"
#include "wbd-mqtt-client.h"
#include "wbd-mqtt-codec.h"
#include "wbd-mqtt-credentials.h"

/*
 * kind=azure-iot-hub: the daemon as one device of an Azure IoT Hub
 * (shared/specs/mqtt-clouds.md §3), MQTT 3.1.1 over TLS, as Microsoft's device SDK does it:
 * client id = the device id, the user name HUB/DEVICE/?api-version=2021-04-12, a SAS
 * token made from the device key as the password (remade at every connect, renewed by the
 * client at 80 % of token-lifetime) or an X.509 client certificate, and a persistent
 * session so that cloud-to-device messages wait while the daemon is away.
 *
 * Every reading is a telemetry message (QoS 1, through the spool) on
 * devices/ID/messages/events/ with the wattbus device as the property `device`. With
 * commands=true, cloud-to-device messages (a JSON command or a bare `on`/`off`/...) and
 * the direct methods TurnOn, TurnOff, Toggle and SetValve run on the devices through
 * wbd_mqtt_cloud_command_async(); methods are answered with a status and the state.
 * The twin's reported properties hold {"devices":{ID:{"online":..,"state":..}}}: every
 * known device at each connect, then the devices whose state changed.
 */

#define WBD_AZURE_PORT 8883
#define WBD_AZURE_TOKEN_LIFETIME 3600

/* what the twin still has to learn of a device */
enum { TWIN_CHECK = 1, TWIN_REMOVED = 2 };

struct _WbdAzureExporter {
	WbdMqttCloud parent_instance;
	gchar *hub;
	gchar *device_id;      /* the hub's device: the daemon */
	gchar *default_device; /* for commands that name none */
	GHashTable *reported;  /* wattbus device id → its state JSON as last reported, or NULL */
	GHashTable *pending;   /* wattbus device id → TWIN_CHECK / TWIN_REMOVED */
	guint flush_id;
	guint64 rid;
	gchar *get_rid;        /* of the twin GET after connecting */
	gint64 desired_version; /* of the desired properties last applied */
};

G_DEFINE_TYPE(WbdAzureExporter, wbd_azure_exporter, WBD_TYPE_MQTT_CLOUD)

static const gchar *const azure_keys[] = {WBD_MQTT_CLOUD_COMMON_KEYS,
					  "hub",
					  "device-id",
					  "device-key",
					  "device-key-file",
					  "token-lifetime",
					  "default-device",
					  NULL};
static const gchar *const azure_secret_keys[] = {"password", "device-key", NULL};

static const WbdExporterInfo azure_info = {
    .kind = "azure-iot-hub",
    .get_type = wbd_azure_exporter_get_type,
    .keys = azure_keys,
    .secret_keys = azure_secret_keys,
    .shutdown = wbd_mqtt_client_shutdown,
};

const WbdExporterInfo *
wbd_azure_exporter_get_info(void)
{
	return &azure_info;
}

/* the SAS token, made on any thread at each connect */

typedef struct {
	gchar *hub;
	gchar *device_id;
	gchar *key;
	guint lifetime;
} SasData;

static void
sas_data_free(gpointer user_data)
{
	SasData *data = user_data;

	g_free(data->hub);
	g_free(data->device_id);
	if (data->key != NULL)
		memset(data->key, 0, strlen(data->key));
	g_free(data->key);
	g_free(data);
}

static gchar *
wbd_azure_exporter_make_token(gpointer user_data, gint64 now, gint64 *expiry, GError **error)
{
	SasData *data = user_data;

	*expiry = now + data->lifetime;
	return wbd_mqtt_azure_sas_token(data->hub, data->device_id, data->key, NULL, *expiry, error);
}

/* the twin's reported properties */

static gboolean
wbd_azure_exporter_connected_now(WbdAzureExporter *self)
{
	return wbd_mqtt_client_is_connected(wbd_mqtt_cloud_get_client(WBD_MQTT_CLOUD(self)));
}

static void
state_unref(gpointer state)
{
	if (state != NULL)
		json_object_unref(state);
}

static gboolean
wbd_azure_exporter_flush_cb(gpointer user_data)
{
	WbdAzureExporter *self = user_data;
	g_autoptr(GHashTable) patch = NULL;
	g_autofree gchar *topic = NULL;
	g_autofree gchar *json = NULL;
	GHashTableIter iter;
	gpointer device, what;

	self->flush_id = 0;
	/* kept for the next connect, which reports everything anyway */
	if (!wbd_azure_exporter_connected_now(self))
		return G_SOURCE_REMOVE;
	patch = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, state_unref);
	g_hash_table_iter_init(&iter, self->pending);
	while (g_hash_table_iter_next(&iter, &device, &what)) {
		g_autoptr(JsonObject) state = NULL;
		g_autofree gchar *state_json = NULL;

		if (GPOINTER_TO_INT(what) == TWIN_REMOVED) {
			g_hash_table_insert(patch, g_strdup(device), NULL);
			continue;
		}
		state = wbd_mqtt_cloud_device_state(WBD_MQTT_CLOUD(self), device);
		if (state == NULL)
			continue;
		state_json = wbd_mqtt_state_to_json(state);
		if (g_strcmp0(state_json, g_hash_table_lookup(self->reported, device)) == 0)
			continue;
		g_hash_table_replace(self->reported, g_strdup(device), g_steal_pointer(&state_json));
		g_hash_table_insert(patch, g_strdup(device), g_steal_pointer(&state));
	}
	g_hash_table_remove_all(self->pending);
	if (g_hash_table_size(patch) == 0)
		return G_SOURCE_REMOVE;
	json = wbd_azure_twin_patch(patch);
	topic = g_strdup_printf("$iothub/twin/PATCH/properties/reported/?$rid=%" G_GUINT64_FORMAT,
				++self->rid);
	wbd_exp_debug(self, "reporting %u device(s) to the twin", g_hash_table_size(patch));
	wbd_mqtt_cloud_publish(WBD_MQTT_CLOUD(self), topic, json, strlen(json), FALSE);
	return G_SOURCE_REMOVE;
}

/* @device's state goes to the twin soon, if it changed */
static void
wbd_azure_exporter_twin_update(WbdAzureExporter *self, const gchar *device, gint what)
{
	if (what == TWIN_CHECK && !g_hash_table_contains(self->reported, device))
		g_hash_table_insert(self->reported, g_strdup(device), NULL);
	/* a removal stays a removal until it is reported */
	if (GPOINTER_TO_INT(g_hash_table_lookup(self->pending, device)) != TWIN_REMOVED ||
	    what == TWIN_REMOVED)
		g_hash_table_replace(self->pending, g_strdup(device), GINT_TO_POINTER(what));
	if (self->flush_id == 0)
		self->flush_id = g_idle_add(wbd_azure_exporter_flush_cb, self);
}

/* the slow state also changes without a reading in the spool (the valve is a string) */
static void
wbd_azure_exporter_device_state_changed(WbdMqttCloud *cloud, const gchar *device)
{
	WbdAzureExporter *self = WBD_AZURE_EXPORTER(cloud);

	/* the devices the twin knows: those with a reading or a command */
	if (g_hash_table_contains(self->reported, device))
		wbd_azure_exporter_twin_update(self, device, TWIN_CHECK);
}

static void
wbd_azure_exporter_device_removed(WbdExporter *exporter, const gchar *device)
{
	WbdAzureExporter *self = WBD_AZURE_EXPORTER(exporter);

	if (!g_hash_table_remove(self->reported, device))
		return;
	wbd_exp_info(self, "removing the removed device '%s' from the twin", device);
	wbd_azure_exporter_twin_update(self, device, TWIN_REMOVED);
}

static void
wbd_azure_exporter_connected(WbdMqttCloud *cloud)
{
	WbdAzureExporter *self = WBD_AZURE_EXPORTER(cloud);
	GHashTableIter iter;
	gpointer device, state;

	/* the twin may have been changed meanwhile: every known device again */
	g_hash_table_iter_init(&iter, self->reported);
	while (g_hash_table_iter_next(&iter, &device, &state)) {
		g_hash_table_iter_replace(&iter, NULL);
		wbd_azure_exporter_twin_update(self, device, TWIN_CHECK);
	}
	if (g_hash_table_size(self->pending) > 0 && self->flush_id == 0)
		self->flush_id = g_idle_add(wbd_azure_exporter_flush_cb, self);
	/* desired properties only come while connected: what changed meanwhile */
	if (wbd_mqtt_cloud_get_commands(cloud)) {
		g_autofree gchar *topic = NULL;
		g_free(self->get_rid);
		self->get_rid = g_strdup_printf("%" G_GUINT64_FORMAT, ++self->rid);
		topic = g_strdup_printf("$iothub/twin/GET/?$rid=%s", self->get_rid);
		wbd_mqtt_cloud_publish(cloud, topic, "", 0, FALSE);
	}
}

/* telemetry */

static void
wbd_azure_exporter_publish_record(WbdMqttCloud *cloud, GTask *task, const WbdSpoolRecord *record)
{
	WbdAzureExporter *self = WBD_AZURE_EXPORTER(cloud);
	g_autofree gchar *topic = wbd_azure_telemetry_topic(self->device_id, record->device);
	g_autofree gchar *json =
	    wbd_mqtt_telemetry_json(record->device, record->time_us, record->values);

	/* the hub stores no retained messages */
	wbd_mqtt_cloud_batch_publish(cloud, task, topic, json, FALSE);
	wbd_azure_exporter_twin_update(self, record->device, TWIN_CHECK);
}

/* commands: cloud-to-device messages and direct methods */

typedef struct {
	WbdAzureExporter *self;
	GPtrArray *commands;
	gchar *device;
	gchar *method; /* NULL for a cloud-to-device message */
	gchar *rid;
} CommandData;

static void
command_data_free(CommandData *data)
{
	g_clear_object(&data->self);
	g_clear_pointer(&data->commands, g_ptr_array_unref);
	g_free(data->device);
	g_free(data->method);
	g_free(data->rid);
	g_free(data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CommandData, command_data_free)

/* @commands: (nullable): done; what the device acknowledged but may not have said yet
 * (a Tuya valve reports its new state a moment later) is taken from them */
static void
wbd_azure_exporter_method_reply(WbdAzureExporter *self,
				const gchar *rid,
				const gchar *device,
				GPtrArray *commands,
				const GError *error)
{
	g_autofree gchar *topic = wbd_azure_method_reply_topic(wbd_mqtt_error_status(error), rid);
	g_autoptr(JsonObject) state = NULL;
	g_autofree gchar *body = NULL;

	if (error == NULL && device != NULL)
		state = wbd_mqtt_cloud_device_state(WBD_MQTT_CLOUD(self), device);
	for (guint i = 0; state != NULL && commands != NULL && i < commands->len; i++) {
		WbdMqttCommand *command = g_ptr_array_index(commands, i);
		if (g_str_equal(command->property, "Valve"))
			json_object_set_string_member(state,
						      "valve",
						      g_variant_get_string(command->value, NULL));
	}
	body = wbd_mqtt_result_json(NULL, error, state);
	wbd_mqtt_cloud_publish(WBD_MQTT_CLOUD(self), topic, body, strlen(body), FALSE);
}

static void
wbd_azure_exporter_command_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CommandData) data = user_data;
	g_autoptr(GError) error = NULL;
	const gchar *what = data->method != NULL ? data->method : "cloud-to-device command";

	if (!wbd_mqtt_cloud_command_finish(WBD_MQTT_CLOUD(source), res, &error))
		wbd_exp_message(data->self,
				"%s for '%s' failed: %s",
				what,
				data->device,
				error->message);
	else
		wbd_exp_info(data->self, "%s for '%s' done", what, data->device);
	if (data->rid != NULL)
		wbd_azure_exporter_method_reply(data->self,
						data->rid,
						data->device,
						data->commands,
						error);
	/* C2D has no reply: the new state goes to the twin */
	if (error == NULL)
		wbd_azure_exporter_twin_update(data->self, data->device, TWIN_CHECK);
}

/* the device a command is for: its own, else default-device; %NULL with @error */
static const gchar *
wbd_azure_exporter_command_device(WbdAzureExporter *self, const gchar *named, GError **error)
{
	if (named == NULL && self->default_device == NULL) {
		wbd_config_invalid(error,
				   "The command names no device and there is no default-device");
		return NULL;
	}
	if (named == NULL)
		return self->default_device;
	if (!wbd_azure_device_id_is_valid(named)) {
		g_set_error(error, WATTBUS_ERROR, WATTBUS_ERROR_NOT_FOUND, "No such device");
		return NULL;
	}
	return named;
}

static void
wbd_azure_exporter_run(WbdAzureExporter *self,
		       const gchar *device,
		       GPtrArray *commands,
		       const gchar *method,
		       const gchar *rid)
{
	CommandData *data = g_new0(CommandData, 1);

	data->self = g_object_ref(self);
	data->commands = g_ptr_array_ref(commands);
	data->device = g_strdup(device);
	data->method = g_strdup(method);
	data->rid = g_strdup(rid);
	wbd_mqtt_cloud_command_async(WBD_MQTT_CLOUD(self),
				     device,
				     commands,
				     wbd_azure_exporter_command_cb,
				     data);
}

static void
wbd_azure_exporter_handle_method(WbdAzureExporter *self,
				 const gchar *method,
				 const gchar *rid,
				 GBytes *payload)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) commands = NULL;
	g_autofree gchar *named = NULL;
	const gchar *device = NULL;
	gsize length;
	const gchar *bytes = g_bytes_get_data(payload, &length);

	if (rid == NULL) {
		wbd_exp_message(self, "ignoring a direct method request without a valid $rid");
		return;
	}
	if (!wbd_mqtt_cloud_get_commands(WBD_MQTT_CLOUD(self))) {
		g_set_error(&error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_NOT_SUPPORTED,
			    "Commands are off for this exporter (commands=true turns them on)");
	} else {
		commands = wbd_azure_parse_method(method, bytes, length, &named, &error);
		if (commands != NULL)
			device = wbd_azure_exporter_command_device(self, named, &error);
	}
	if (device == NULL) {
		wbd_exp_message(self,
				"direct method %s refused: %s",
				method != NULL ? method : "request",
				error->message);
		wbd_azure_exporter_method_reply(self, rid, NULL, NULL, error);
		return;
	}
	wbd_azure_exporter_run(self, device, commands, method, rid);
}

static void
wbd_azure_exporter_handle_c2d(WbdAzureExporter *self,
			      const gchar *bag_device,
			      GBytes *payload,
			      gboolean retained)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) commands = NULL;
	g_autofree gchar *named = NULL;
	const gchar *device = NULL;
	gsize length;
	const gchar *bytes = g_bytes_get_data(payload, &length);

	/* the hub never retains; a broker that does would run it at every reconnect */
	if (retained) {
		wbd_exp_message(self, "ignoring a retained cloud-to-device message");
		return;
	}
	commands = wbd_azure_parse_c2d(bytes, length, &named, &error);
	if (commands != NULL)
		device = wbd_azure_exporter_command_device(self,
							   named != NULL ? named : bag_device,
							   &error);
	if (device == NULL) {
		wbd_exp_message(self, "cloud-to-device message refused: %s", error->message);
		return;
	}
	wbd_azure_exporter_run(self, device, commands, NULL, NULL);
}

/* desired properties: the cloud's wish for each device's state, newer versions only */
static void
wbd_azure_exporter_handle_desired(WbdAzureExporter *self,
				  GBytes *payload,
				  gboolean document)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) desired = NULL;
	gint64 version;
	gsize length;
	const gchar *bytes = g_bytes_get_data(payload, &length);

	desired = wbd_azure_parse_desired(bytes, length, document, &version, &error);
	if (desired == NULL) {
		wbd_exp_message(self, "desired properties refused: %s", error->message);
		return;
	}
	if (version <= self->desired_version)
		return;
	self->desired_version = version;
	for (guint i = 0; i < desired->len; i++) {
		WbdMqttDesired *item = g_ptr_array_index(desired, i);
		if (!wbd_azure_device_id_is_valid(item->device)) {
			wbd_exp_message(self, "desired properties name an invalid device");
		} else if (item->error != NULL) {
			wbd_exp_message(self,
					"desired properties for '%s' refused: %s",
					item->device,
					item->error->message);
		} else {
			wbd_azure_exporter_run(self,
					       item->device,
					       item->commands,
					       "desired properties",
					       NULL);
		}
	}
}

static void
wbd_azure_exporter_message(WbdMqttCloud *cloud,
			   const gchar *topic,
			   GBytes *payload,
			   gboolean retained)
{
	WbdAzureExporter *self = WBD_AZURE_EXPORTER(cloud);
	g_autofree gchar *method = NULL;
	g_autofree gchar *rid = NULL;
	g_autofree gchar *device = NULL;
	gint status;

	if (wbd_azure_parse_method_topic(topic, &method, &rid)) {
		wbd_azure_exporter_handle_method(self, method, rid, payload);
	} else if (wbd_azure_parse_twin_topic(topic, &status, &rid)) {
		if (rid != NULL && g_strcmp0(rid, self->get_rid) == 0) {
			g_clear_pointer(&self->get_rid, g_free);
			if (status == 200)
				wbd_azure_exporter_handle_desired(self, payload, TRUE);
			else
				wbd_exp_message(self, "reading the twin failed: status %d", status);
		} else if (status < 200 || status >= 300) {
			wbd_exp_message(self,
					"the twin refused reported properties: status %d",
					status);
		}
	} else if (g_str_has_prefix(topic, "$iothub/twin/PATCH/properties/desired/")) {
		if (wbd_mqtt_cloud_get_commands(cloud))
			wbd_azure_exporter_handle_desired(self, payload, FALSE);
	} else if (wbd_azure_parse_c2d_topic(topic, self->device_id, &device)) {
		wbd_azure_exporter_handle_c2d(self, device, payload, retained);
	}
}

/* configuration */

static gboolean
wbd_azure_exporter_check_hub(const gchar *hub)
{
	if (hub == NULL || hub[0] == '\0' || strlen(hub) > 253)
		return FALSE;
	for (const gchar *p = hub; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-')
			return FALSE;
	}
	return TRUE;
}

/* base64 of at least 16 bytes (the portal's keys have 32) */
static gboolean
wbd_azure_exporter_check_key(WbdAzureExporter *self, const gchar *key, GError **error)
{
	g_autofree gchar *token = NULL;
	g_autofree guchar *raw = NULL;
	gsize length = 0;

	token = wbd_mqtt_azure_sas_token(self->hub, self->device_id, key, NULL, 0, error);
	if (token == NULL)
		return FALSE;
	memset(token, 0, strlen(token));
	raw = g_base64_decode(key, &length);
	if (raw != NULL)
		memset(raw, 0, length);
	if (length < 16)
		return wbd_config_invalid(error,
					  "the device key is too short: give the primary or "
					  "secondary key as the portal shows it (base64)");
	return TRUE;
}

static gboolean
wbd_azure_exporter_configure(WbdMqttCloud *cloud,
			     GHashTable *settings,
			     WbdMqttCloudSetup *setup,
			     GError **error)
{
	WbdAzureExporter *self = WBD_AZURE_EXPORTER(cloud);
	const gchar *hub = g_hash_table_lookup(settings, "hub");
	const gchar *default_device = g_hash_table_lookup(settings, "default-device");
	const gchar *cert_file = g_hash_table_lookup(settings, "cert-file");
	g_autofree gchar *key = NULL;
	guint lifetime = WBD_AZURE_TOKEN_LIFETIME;
	SasData *data;

	if (g_strcmp0(g_hash_table_lookup(settings, "protocol"), "5") == 0)
		return wbd_config_invalid(error,
					  "protocol=5 is not possible: Azure IoT Hub's MQTT 5 is a "
					  "preview; leave protocol out (3.1.1)");
	if (!wbd_azure_exporter_check_hub(hub))
		return wbd_config_invalid(error,
					  "hub must be the hub's host name "
					  "(e.g. hub=myhub.azure-devices.net)");
	if (!wbd_mqtt_cloud_require(settings, "device-id", "meter-gateway", error) ||
	    !wbd_mqtt_cloud_parse_seconds(settings, "token-lifetime", 10, 86400, &lifetime, error) ||
	    !wbd_mqtt_cloud_read_secret(settings, "device-key", "device-key-file", &key, error))
		return FALSE;
	if (default_device != NULL && !wbd_azure_device_id_is_valid(default_device))
		return wbd_config_invalid(error, "default-device is not a valid device id");
	self->hub = g_strdup(hub);
	self->device_id = g_strdup(g_hash_table_lookup(settings, "device-id"));
	self->default_device = g_strdup(default_device);
	if (key != NULL && cert_file != NULL) {
		memset(key, 0, strlen(key));
		return wbd_config_invalid(error,
					  "give either device-key (SAS) or cert-file and key-file "
					  "(X.509), not both");
	}
	if (key == NULL && (cert_file == NULL || g_hash_table_lookup(settings, "key-file") == NULL))
		return wbd_config_invalid(error,
					  "device-key (or device-key-file) is missing; for X.509 "
					  "give cert-file and key-file");
	if (key != NULL && !wbd_azure_exporter_check_key(self, key, error)) {
		memset(key, 0, strlen(key));
		return FALSE;
	}
	setup->default_url = g_strdup_printf("mqtts://%s:%d", hub, WBD_AZURE_PORT);
	setup->default_port = WBD_AZURE_PORT;
	setup->client_id = g_strdup(self->device_id);
	setup->username = wbd_mqtt_azure_username(hub, self->device_id);
	setup->persistent_session = TRUE;
	setup->require_tls = TRUE;
	if (key != NULL) {
		data = g_new0(SasData, 1);
		data->hub = g_strdup(hub);
		data->device_id = g_strdup(self->device_id);
		data->key = g_steal_pointer(&key);
		data->lifetime = lifetime;
		setup->password_func = wbd_azure_exporter_make_token;
		setup->password_data = data;
		setup->password_destroy = sas_data_free;
	}
	/* at most 5 subscriptions per device */
	{
		g_autofree gchar *c2d =
		    g_strdup_printf("devices/%s/messages/devicebound/#", self->device_id);
		wbd_mqtt_cloud_subscribe(cloud, c2d);
	}
	wbd_mqtt_cloud_subscribe(cloud, "$iothub/methods/POST/#");
	wbd_mqtt_cloud_subscribe(cloud, "$iothub/twin/res/#");
	if (wbd_mqtt_cloud_get_commands(cloud))
		wbd_mqtt_cloud_subscribe(cloud, "$iothub/twin/PATCH/properties/desired/#");
	return TRUE;
}

static void
wbd_azure_exporter_stop(WbdExporter *exporter)
{
	WbdAzureExporter *self = WBD_AZURE_EXPORTER(exporter);

	g_clear_handle_id(&self->flush_id, g_source_remove);
	WBD_EXPORTER_CLASS(wbd_azure_exporter_parent_class)->stop(exporter);
}

static void
wbd_azure_exporter_finalize(GObject *object)
{
	WbdAzureExporter *self = WBD_AZURE_EXPORTER(object);

	g_clear_handle_id(&self->flush_id, g_source_remove);
	g_free(self->hub);
	g_free(self->device_id);
	g_free(self->default_device);
	g_free(self->get_rid);
	g_clear_pointer(&self->reported, g_hash_table_unref);
	g_clear_pointer(&self->pending, g_hash_table_unref);
	G_OBJECT_CLASS(wbd_azure_exporter_parent_class)->finalize(object);
}

static void
wbd_azure_exporter_class_init(WbdAzureExporterClass *klass)
{
	WbdMqttCloudClass *cloud_class = WBD_MQTT_CLOUD_CLASS(klass);

	G_OBJECT_CLASS(klass)->finalize = wbd_azure_exporter_finalize;
	WBD_EXPORTER_CLASS(klass)->device_removed = wbd_azure_exporter_device_removed;
	WBD_EXPORTER_CLASS(klass)->stop = wbd_azure_exporter_stop;
	cloud_class->configure_cloud = wbd_azure_exporter_configure;
	cloud_class->connected = wbd_azure_exporter_connected;
	cloud_class->publish_record = wbd_azure_exporter_publish_record;
	cloud_class->message = wbd_azure_exporter_message;
	cloud_class->device_state_changed = wbd_azure_exporter_device_state_changed;
}

static void
wbd_azure_exporter_init(WbdAzureExporter *self)
{
	self->reported = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}
