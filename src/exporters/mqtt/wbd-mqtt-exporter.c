/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-mqtt-client.h"
#include "wbd-mqtt-cloud.h"
#include "wbd-mqtt-codec.h"
#include "wbd-mqtt-ha.h"
#include "wbd-mqtt-exporter.h"

/*
 * kind=mqtt: any MQTT broker, Zigbee2MQTT style (shared/specs/mqtt-clouds.md §1).
 * Every reading is published retained at QoS 1 as the device's whole state JSON on
 * PREFIX/DEVICE; a batch is acknowledged to the spool only when the broker has
 * acknowledged every message of it. Online goes to PREFIX/DEVICE/availability, the
 * daemon's own state to PREFIX/bridge/state (online; offline is the Last Will).
 * With commands=true, JSON commands on PREFIX/DEVICE/set go to the devices through
 * wbd_device_command_async() and are answered on PREFIX/DEVICE/set/result. With
 * homeassistant=true, discovery configs go to DISCOVERY-PREFIX/... (retained), again
 * when Home Assistant says it is online; a removed device's configs, state and
 * availability are cleared (empty retained messages), so no ghost entities stay.
 */

#define exp_id(self) wbd_exporter_get_id(WBD_EXPORTER(self))

struct _WbdMqttExporter {
	WbdMqttCloud parent_instance;
	gchar *prefix;
	gchar *discovery_prefix;
	gboolean homeassistant;
	GHashTable *states;    /* device id → JsonObject, its state as published */
	GHashTable *online;    /* device id → GINT_TO_POINTER(1 + online) */
	GHashTable *announced; /* device id → WbdMqttAnnounced, on this connection */
};

/* what was announced of a device: its discovery topics, and the values measured then
 * (a strip's outlet appears before its first meter reading: announced again with it) */
typedef struct {
	GStrv topics;
	gchar *measured;
} WbdMqttAnnounced;

static void
wbd_mqtt_announced_free(WbdMqttAnnounced *announced)
{
	g_strfreev(announced->topics);
	g_free(announced->measured);
	g_free(announced);
}

G_DEFINE_TYPE(WbdMqttExporter, wbd_mqtt_exporter, WBD_TYPE_MQTT_CLOUD)

static const gchar *const mqtt_keys[] = {WBD_MQTT_CLOUD_COMMON_KEYS,
					 "prefix",
					 "homeassistant",
					 "discovery-prefix",
					 NULL};
static const gchar *const mqtt_secret_keys[] = {"password", NULL};

static const WbdExporterInfo mqtt_info = {
    .kind = "mqtt",
    .get_type = wbd_mqtt_exporter_get_type,
    .keys = mqtt_keys,
    .secret_keys = mqtt_secret_keys,
    .shutdown = wbd_mqtt_client_shutdown,
};

const WbdExporterInfo *
wbd_mqtt_exporter_get_info(void)
{
	return &mqtt_info;
}

/* publishing */

static void
wbd_mqtt_exporter_publish(WbdMqttExporter *self,
			  const gchar *topic,
			  const gchar *payload,
			  gboolean retain)
{
	wbd_mqtt_cloud_publish(WBD_MQTT_CLOUD(self), topic, payload, strlen(payload), retain);
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

/* for a command's reply: the valve as the device has it now, not as last published */
static void
wbd_mqtt_exporter_add_live(WbdMqttExporter *self, const gchar *device_id, JsonObject *state)
{
	g_autoptr(JsonObject) live = wbd_mqtt_cloud_device_state(WBD_MQTT_CLOUD(self), device_id);

	if (live != NULL && json_object_has_member(live, "valve"))
		json_object_set_string_member(state,
					      "valve",
					      json_object_get_string_member(live, "valve"));
}

/* adds "NAME:Power,Energy;" for a Measured property to @key (to see it change) */
static void
wbd_mqtt_exporter_add_names(GString *key, const gchar *name, const gchar *const *names)
{
	g_string_append(key, name);
	g_string_append_c(key, ':');
	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		g_string_append(key, names[i]);
		g_string_append_c(key, ',');
	}
	g_string_append_c(key, ';');
}

static void
wbd_mqtt_exporter_announce(WbdMqttExporter *self, const gchar *device_id)
{
	WbdDevice *device;
	WattbusObject *object;
	WattbusDevice *iface;
	WattbusElectricityMeter *meter;
	WattbusWaterMeter *water;
	WattbusBattery *battery;
	WbdMqttDeviceInfo info = {0};
	WbdMqttAnnounced *announced;
	g_autoptr(GPtrArray) configs = NULL;
	g_autoptr(GStrvBuilder) topics = g_strv_builder_new();
	g_autoptr(GString) key = g_string_new(NULL);

	if (!self->homeassistant)
		return;
	device = wbd_exporter_lookup_device(WBD_EXPORTER(self), device_id);
	if (device == NULL || !wbd_mqtt_topic_is_valid_level(device_id))
		return;
	object = WATTBUS_OBJECT(wbd_device_get_object(device));
	iface = wattbus_object_peek_device(object);
	meter = wattbus_object_peek_electricity_meter(object);
	water = wattbus_object_peek_water_meter(object);
	battery = wattbus_object_peek_battery(object);
	if (meter != NULL)
		wbd_mqtt_exporter_add_names(key, "meter", wattbus_electricity_meter_get_measured(meter));
	if (battery != NULL)
		wbd_mqtt_exporter_add_names(key, "battery", wattbus_battery_get_measured(battery));
	if (water != NULL)
		wbd_mqtt_exporter_add_names(key, "water", wattbus_water_meter_get_measured(water));
	announced = g_hash_table_lookup(self->announced, device_id);
	if (announced != NULL && g_str_equal(announced->measured, key->str))
		return;
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
	info.battery = battery != NULL ? wattbus_battery_get_measured(battery) : NULL;
	info.gateway = wattbus_object_peek_gateway(object) != NULL;
	info.valve = water != NULL && wattbus_water_meter_get_measured(water) != NULL &&
		     g_strv_contains(wattbus_water_meter_get_measured(water), "Valve");
	configs = wbd_mqtt_ha_discovery(self->prefix, self->discovery_prefix, &info);
	for (guint i = 0; i + 1 < configs->len; i += 2) {
		wbd_mqtt_exporter_publish(self,
					  g_ptr_array_index(configs, i),
					  g_ptr_array_index(configs, i + 1),
					  TRUE);
		g_strv_builder_add(topics, g_ptr_array_index(configs, i));
	}
	/* the topics of before too, so that a removal clears every one */
	for (guint i = 0; announced != NULL && announced->topics[i] != NULL; i++) {
		gboolean again = FALSE;
		for (guint k = 0; k + 1 < configs->len && !again; k += 2)
			again = g_str_equal(announced->topics[i], g_ptr_array_index(configs, k));
		if (!again)
			g_strv_builder_add(topics, announced->topics[i]);
	}
	announced = g_new0(WbdMqttAnnounced, 1);
	announced->topics = g_strv_builder_end(topics);
	announced->measured = g_string_free(g_steal_pointer(&key), FALSE);
	g_hash_table_insert(self->announced, g_strdup(device_id), announced);
}

static void
wbd_mqtt_exporter_publish_availability(WbdMqttExporter *self, const gchar *device, gboolean online)
{
	g_autofree gchar *topic = g_strdup_printf("%s/%s/availability", self->prefix, device);
	wbd_mqtt_exporter_publish(self, topic, online ? "online" : "offline", TRUE);
}

static void
wbd_mqtt_exporter_publish_record(WbdMqttCloud *cloud, GTask *task, const WbdSpoolRecord *record)
{
	WbdMqttExporter *self = WBD_MQTT_EXPORTER(cloud);
	JsonObject *state = wbd_mqtt_exporter_state(self, record->device);
	g_autofree gchar *topic = NULL;
	g_autofree gchar *json = NULL;
	gint online = -1;

	wbd_mqtt_state_merge(state, record->values, &online);
	wbd_mqtt_exporter_announce(self, record->device);
	if (online >= 0) {
		g_autofree gchar *avail =
		    g_strdup_printf("%s/%s/availability", self->prefix, record->device);
		g_hash_table_replace(self->online,
				     g_strdup(record->device),
				     GINT_TO_POINTER(1 + online));
		wbd_mqtt_cloud_batch_publish(cloud, task, avail, online ? "online" : "offline", TRUE);
	}
	if (json_object_get_size(state) == 0)
		return;
	topic = g_strdup_printf("%s/%s", self->prefix, record->device);
	json = wbd_mqtt_state_to_json(state);
	wbd_mqtt_cloud_batch_publish(cloud, task, topic, json, TRUE);
}

/* a removed device: no ghost entities, no stale retained state */
static void
wbd_mqtt_exporter_device_removed(WbdExporter *exporter, const gchar *device)
{
	WbdMqttExporter *self = WBD_MQTT_EXPORTER(exporter);
	WbdMqttAnnounced *announced = g_hash_table_lookup(self->announced, device);
	GStrv topics = announced != NULL ? announced->topics : NULL;
	g_autofree gchar *state_topic = NULL;
	g_autofree gchar *avail_topic = NULL;

	if (!wbd_mqtt_topic_is_valid_level(device) ||
	    !wbd_mqtt_client_is_connected(wbd_mqtt_cloud_get_client(WBD_MQTT_CLOUD(self))))
		return;
	wbd_exp_info(self, "clearing what was published of the removed device '%s'", device);
	for (guint i = 0; topics != NULL && topics[i] != NULL; i++)
		wbd_mqtt_cloud_publish(WBD_MQTT_CLOUD(self), topics[i], "", 0, TRUE);
	state_topic = g_strdup_printf("%s/%s", self->prefix, device);
	avail_topic = g_strdup_printf("%s/%s/availability", self->prefix, device);
	wbd_mqtt_cloud_publish(WBD_MQTT_CLOUD(self), state_topic, "", 0, TRUE);
	wbd_mqtt_cloud_publish(WBD_MQTT_CLOUD(self), avail_topic, "", 0, TRUE);
	g_hash_table_remove(self->announced, device);
	g_hash_table_remove(self->states, device);
	g_hash_table_remove(self->online, device);
}

/* commands */

typedef struct {
	WbdMqttExporter *self;
	gchar *device_id;
	gchar *id;
} CommandData;

static void
command_data_free(CommandData *data)
{
	g_clear_object(&data->self);
	g_free(data->device_id);
	g_free(data->id);
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
	g_autoptr(JsonObject) live = NULL;
	JsonObject *state = NULL;

	if (error == NULL)
		live = wbd_mqtt_cloud_device_state(WBD_MQTT_CLOUD(self), device_id);
	if (live != NULL) {
		state = wbd_mqtt_exporter_state(self, device_id);
		wbd_mqtt_exporter_add_live(self, device_id, state);
		if (json_object_has_member(live, "state"))
			json_object_set_string_member(state,
						      "state",
						      json_object_get_string_member(live, "state"));
	}
	json = wbd_mqtt_result_json(id, error, state);
	wbd_mqtt_exporter_publish(self, topic, json, FALSE);
}

static void
wbd_mqtt_exporter_command_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CommandData) data = user_data;
	g_autoptr(GError) error = NULL;

	if (!wbd_mqtt_cloud_command_finish(WBD_MQTT_CLOUD(source), res, &error))
		wbd_exp_message(data->self,
				"command for '%s' failed: %s",
				data->device_id,
				error->message);
	else
		wbd_exp_info(data->self, "command for '%s' done", data->device_id);
	wbd_mqtt_exporter_reply(data->self, data->device_id, data->id, error);
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
	gsize length;
	const gchar *bytes = g_bytes_get_data(payload, &length);

	/* an empty message only clears a retained one */
	if (length == 0)
		return;
	/* a retained command would run again on every reconnect */
	if (retained) {
		wbd_exp_message(self, "ignoring a retained command for '%s'", device_id);
		return;
	}
	/* a bare ON, OFF or TOGGLE (as Zigbee2MQTT users send it), or the JSON command */
	commands = wbd_mqtt_parse_plain_command(bytes, length);
	if (commands == NULL)
		commands = wbd_mqtt_parse_command(bytes, length, &id, &error);
	if (commands == NULL) {
		wbd_exp_message(self, "command for '%s' refused: %s", device_id, error->message);
		wbd_mqtt_exporter_reply(self, device_id, id, error);
		return;
	}
	data = g_new0(CommandData, 1);
	data->self = g_object_ref(self);
	data->device_id = g_strdup(device_id);
	data->id = g_steal_pointer(&id);
	wbd_mqtt_cloud_command_async(WBD_MQTT_CLOUD(self),
				     device_id,
				     commands,
				     wbd_mqtt_exporter_command_cb,
				     data);
}

static void
wbd_mqtt_exporter_message(WbdMqttCloud *cloud,
			  const gchar *topic,
			  GBytes *payload,
			  gboolean retained)
{
	WbdMqttExporter *self = WBD_MQTT_EXPORTER(cloud);
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
	if (!wbd_mqtt_cloud_get_commands(cloud) || strncmp(topic, self->prefix, prefix_len) != 0 ||
	    topic[prefix_len] != '/' || !g_str_has_suffix(topic, "/set"))
		return;
	device = g_strndup(topic + prefix_len + 1, strlen(topic) - prefix_len - 1 - 4);
	if (!wbd_mqtt_topic_is_valid_level(device))
		return;
	wbd_mqtt_exporter_handle_set(self, device, payload, retained);
}

/* the connection */

static void
wbd_mqtt_exporter_connected(WbdMqttCloud *cloud)
{
	WbdMqttExporter *self = WBD_MQTT_EXPORTER(cloud);
	g_autofree gchar *bridge = g_strdup_printf("%s/bridge/state", self->prefix);
	GHashTableIter iter;
	gpointer device, online;

	wbd_mqtt_exporter_publish(self, bridge, "online", TRUE);
	/* a broker without persistence may have lost them */
	g_hash_table_remove_all(self->announced);
	g_hash_table_iter_init(&iter, self->online);
	while (g_hash_table_iter_next(&iter, &device, &online)) {
		wbd_mqtt_exporter_announce(self, device);
		wbd_mqtt_exporter_publish_availability(self, device, GPOINTER_TO_INT(online) == 2);
	}
}

/* configuration */

static gboolean
wbd_mqtt_exporter_configure(WbdMqttCloud *cloud,
			    GHashTable *settings,
			    WbdMqttCloudSetup *setup,
			    GError **error)
{
	WbdMqttExporter *self = WBD_MQTT_EXPORTER(cloud);

	if (!wbd_mqtt_cloud_parse_topic(settings, "prefix", "wattbus", &self->prefix, error) ||
	    !wbd_mqtt_cloud_parse_topic(settings,
					"discovery-prefix",
					"homeassistant",
					&self->discovery_prefix,
					error) ||
	    !wbd_mqtt_cloud_parse_bool(settings, "homeassistant", &self->homeassistant, error))
		return FALSE;
	setup->client_id = g_strdup_printf("wattbus-%s-%s", g_get_host_name(), exp_id(self));
	setup->will_topic = g_strdup_printf("%s/bridge/state", self->prefix);
	setup->will_payload = g_strdup("offline");
	if (wbd_mqtt_cloud_get_commands(cloud)) {
		g_autofree gchar *filter = g_strdup_printf("%s/+/set", self->prefix);
		wbd_mqtt_cloud_subscribe(cloud, filter);
	}
	if (self->homeassistant) {
		g_autofree gchar *filter = g_strdup_printf("%s/status", self->discovery_prefix);
		wbd_mqtt_cloud_subscribe(cloud, filter);
	}
	return TRUE;
}

static void
wbd_mqtt_exporter_finalize(GObject *object)
{
	WbdMqttExporter *self = WBD_MQTT_EXPORTER(object);

	g_free(self->prefix);
	g_free(self->discovery_prefix);
	g_clear_pointer(&self->states, g_hash_table_unref);
	g_clear_pointer(&self->online, g_hash_table_unref);
	g_clear_pointer(&self->announced, g_hash_table_unref);
	G_OBJECT_CLASS(wbd_mqtt_exporter_parent_class)->finalize(object);
}

static void
wbd_mqtt_exporter_class_init(WbdMqttExporterClass *klass)
{
	WbdMqttCloudClass *cloud_class = WBD_MQTT_CLOUD_CLASS(klass);

	G_OBJECT_CLASS(klass)->finalize = wbd_mqtt_exporter_finalize;
	WBD_EXPORTER_CLASS(klass)->device_removed = wbd_mqtt_exporter_device_removed;
	cloud_class->configure_cloud = wbd_mqtt_exporter_configure;
	cloud_class->connected = wbd_mqtt_exporter_connected;
	cloud_class->publish_record = wbd_mqtt_exporter_publish_record;
	cloud_class->message = wbd_mqtt_exporter_message;
}

static void
wbd_mqtt_exporter_init(WbdMqttExporter *self)
{
	self->states = g_hash_table_new_full(g_str_hash,
					     g_str_equal,
					     g_free,
					     (GDestroyNotify)json_object_unref);
	self->online = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->announced =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)wbd_mqtt_announced_free);
}
