/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "wbd-mqtt-codec.h"
#include "wbd-mqtt-ha.h"

/*
 * Home Assistant MQTT discovery for the `mqtt` kind (shared/specs/mqtt-clouds.md §1):
 * the retained config messages that describe a device's entities. Pure, like the codec.
 */

static const struct {
	const gchar *property;
	const gchar *device_class;
	const gchar *state_class;
	const gchar *unit; /* NULL: none */
} ha_sensors[] = {
    {"Power", "power", "measurement", "W"},
    {"Energy", "energy", "total_increasing", "Wh"},
    /* HA takes a drop to 0 of a total_increasing sensor as a new cycle */
    {"EnergyToday", "energy", "total_increasing", "Wh"},
    {"EnergyThisMonth", "energy", "total_increasing", "Wh"},
    {"EnergyExported", "energy", "total_increasing", "Wh"},
    {"Voltage", "voltage", "measurement", "V"},
    {"Current", "current", "measurement", "A"},
    {"PowerFactor", "power_factor", "measurement", NULL},
    {"Frequency", "frequency", "measurement", "Hz"},
    {"Flow", "water", "total_increasing", "m³"},
};

/* a battery's (org.wattbus.Wattbus1.Battery): Power positive while charging */
static const struct {
	const gchar *property;
	const gchar *device_class;
	const gchar *unit;
} ha_battery_sensors[] = {
    {"StateOfCharge", "battery", "%"},
    {"Power", "power", "W"},
    {"Capacity", "energy_storage", "Wh"},
    {"AvailableEnergy", "energy_storage", "Wh"},
    {"ReserveLevel", "battery", "%"},
};

static const gchar *const battery_states[] = {"charging", "discharging", "idle", "unknown", NULL};
static const gchar *const grid_states[] = {"on-grid", "off-grid", "unknown", NULL};

static void
ha_add_string(JsonBuilder *builder, const gchar *key, const gchar *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	json_builder_set_member_name(builder, key);
	json_builder_add_string_value(builder, value);
}

/* the keys every entity of the device shares */
static void
ha_common(JsonBuilder *builder,
	  const gchar *prefix,
	  const WbdMqttDeviceInfo *info,
	  const gchar *unique_id,
	  const gchar *state_topic)
{
	g_autofree gchar *bridge = g_strdup_printf("%s/bridge/state", prefix);
	g_autofree gchar *availability = g_strdup_printf("%s/availability", state_topic);
	g_autofree gchar *ident = wbd_mqtt_object_id(prefix);
	g_autofree gchar *device_ident = NULL;
	g_autofree gchar *object_id = wbd_mqtt_object_id(info->id);

	device_ident = g_strdup_printf("%s_%s", ident, object_id);
	ha_add_string(builder, "unique_id", unique_id);
	ha_add_string(builder, "object_id", unique_id);
	ha_add_string(builder, "state_topic", state_topic);
	json_builder_set_member_name(builder, "availability");
	json_builder_begin_array(builder);
	json_builder_begin_object(builder);
	ha_add_string(builder, "topic", bridge);
	json_builder_end_object(builder);
	json_builder_begin_object(builder);
	ha_add_string(builder, "topic", availability);
	json_builder_end_object(builder);
	json_builder_end_array(builder);
	ha_add_string(builder, "availability_mode", "all");
	json_builder_set_member_name(builder, "device");
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "identifiers");
	json_builder_begin_array(builder);
	json_builder_add_string_value(builder, device_ident);
	json_builder_end_array(builder);
	ha_add_string(builder, "name", info->name != NULL ? info->name : info->id);
	ha_add_string(builder, "manufacturer", info->vendor);
	ha_add_string(builder, "model", info->model);
	ha_add_string(builder, "serial_number", info->serial);
	ha_add_string(builder, "sw_version", info->firmware);
	json_builder_end_object(builder);
	json_builder_set_member_name(builder, "origin");
	json_builder_begin_object(builder);
	ha_add_string(builder, "name", "wattbus");
	ha_add_string(builder, "sw_version", PACKAGE_VERSION);
	json_builder_end_object(builder);
}

static void
ha_add(GPtrArray *out,
       const gchar *discovery_prefix,
       const gchar *component,
       const gchar *unique_id,
       JsonBuilder *builder)
{
	g_autoptr(JsonNode) root = NULL;

	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	g_ptr_array_add(out,
			g_strdup_printf("%s/%s/%s/config", discovery_prefix, component, unique_id));
	g_ptr_array_add(out, json_to_string(root, FALSE));
}

/* a sensor of one state key: a number with its class and unit, or an enum of @options */
static void
ha_sensor(GPtrArray *out,
	  const gchar *prefix,
	  const gchar *discovery_prefix,
	  const WbdMqttDeviceInfo *info,
	  const gchar *base,
	  const gchar *property,
	  const gchar *name,
	  const gchar *device_class,
	  const gchar *state_class,
	  const gchar *unit,
	  const gchar *const *options)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autofree gchar *key = wbd_mqtt_state_key(property);
	g_autofree gchar *unique_id = g_strdup_printf("%s_%s", base, key);
	g_autofree gchar *template = g_strdup_printf("{{ value_json.%s }}", key);
	g_autofree gchar *state_topic = g_strdup_printf("%s/%s", prefix, info->id);

	json_builder_begin_object(builder);
	ha_add_string(builder, "name", name);
	ha_common(builder, prefix, info, unique_id, state_topic);
	ha_add_string(builder, "value_template", template);
	ha_add_string(builder, "device_class", options != NULL ? "enum" : device_class);
	ha_add_string(builder, "state_class", state_class);
	ha_add_string(builder, "unit_of_measurement", unit);
	if (options != NULL) {
		json_builder_set_member_name(builder, "options");
		json_builder_begin_array(builder);
		for (guint i = 0; options[i] != NULL; i++)
			json_builder_add_string_value(builder, options[i]);
		json_builder_end_array(builder);
	}
	ha_add(out, discovery_prefix, "sensor", unique_id, builder);
}

/**
 * wbd_mqtt_ha_discovery:
 * @prefix: the base topic (`wattbus`)
 * @discovery_prefix: Home Assistant's (`homeassistant`)
 *
 * Home Assistant MQTT discovery configs of one device, single-entity style, grouped
 * by a device block: a sensor per measured quantity (of a meter or a battery: a
 * battery's State as an enum), the grid state of a gateway (an enum), a switch for an
 * outlet, a valve for a water meter's valve.
 *
 * Returns: (transfer full) (element-type utf8): topic, payload, topic, payload, ...
 */
GPtrArray *
wbd_mqtt_ha_discovery(const gchar *prefix,
		      const gchar *discovery_prefix,
		      const WbdMqttDeviceInfo *info)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *state_topic = g_strdup_printf("%s/%s", prefix, info->id);
	g_autofree gchar *command_topic = g_strdup_printf("%s/set", state_topic);
	g_autofree gchar *base = NULL;
	g_autofree gchar *p = wbd_mqtt_object_id(prefix);
	g_autofree gchar *d = wbd_mqtt_object_id(info->id);

	base = g_strdup_printf("%s_%s", p, d);
	for (guint i = 0; i < G_N_ELEMENTS(ha_sensors); i++) {
		gboolean water = g_str_equal(ha_sensors[i].property, "Flow");

		if (water ? !info->water_meter
			  : info->measured == NULL ||
				!g_strv_contains(info->measured, ha_sensors[i].property))
			continue;
		ha_sensor(out,
			  prefix,
			  discovery_prefix,
			  info,
			  base,
			  ha_sensors[i].property,
			  water ? "Water" : ha_sensors[i].property,
			  ha_sensors[i].device_class,
			  ha_sensors[i].state_class,
			  ha_sensors[i].unit,
			  NULL);
	}
	for (guint i = 0; info->battery != NULL && i < G_N_ELEMENTS(ha_battery_sensors); i++) {
		if (!g_strv_contains(info->battery, ha_battery_sensors[i].property))
			continue;
		ha_sensor(out,
			  prefix,
			  discovery_prefix,
			  info,
			  base,
			  ha_battery_sensors[i].property,
			  ha_battery_sensors[i].property,
			  ha_battery_sensors[i].device_class,
			  "measurement",
			  ha_battery_sensors[i].unit,
			  NULL);
	}
	if (info->battery != NULL && g_strv_contains(info->battery, "State"))
		ha_sensor(out,
			  prefix,
			  discovery_prefix,
			  info,
			  base,
			  "State",
			  "Battery state",
			  NULL,
			  NULL,
			  NULL,
			  battery_states);
	if (info->gateway)
		ha_sensor(out,
			  prefix,
			  discovery_prefix,
			  info,
			  base,
			  "GridState",
			  "Grid",
			  NULL,
			  NULL,
			  NULL,
			  grid_states);
	if (info->outlet) {
		g_autoptr(JsonBuilder) builder = json_builder_new();
		g_autofree gchar *unique_id = g_strdup_printf("%s_switch", base);
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "name");
		json_builder_add_null_value(builder);
		ha_common(builder, prefix, info, unique_id, state_topic);
		ha_add_string(builder, "command_topic", command_topic);
		ha_add_string(builder, "payload_on", "{\"state\":\"ON\"}");
		ha_add_string(builder, "payload_off", "{\"state\":\"OFF\"}");
		ha_add_string(builder, "value_template", "{{ value_json.state }}");
		ha_add_string(builder, "state_on", "ON");
		ha_add_string(builder, "state_off", "OFF");
		ha_add_string(builder, "device_class", "outlet");
		ha_add(out, discovery_prefix, "switch", unique_id, builder);
	}
	if (info->valve) {
		g_autoptr(JsonBuilder) builder = json_builder_new();
		g_autofree gchar *unique_id = g_strdup_printf("%s_valve", base);
		json_builder_begin_object(builder);
		ha_add_string(builder, "name", "Valve");
		ha_common(builder, prefix, info, unique_id, state_topic);
		ha_add_string(builder, "command_topic", command_topic);
		ha_add_string(builder, "payload_open", "{\"valve\":\"opened\"}");
		ha_add_string(builder, "payload_close", "{\"valve\":\"closed\"}");
		ha_add_string(builder, "value_template", "{{ value_json.valve }}");
		ha_add_string(builder, "state_open", "opened");
		ha_add_string(builder, "state_opening", "opening");
		ha_add_string(builder, "state_closed", "closed");
		ha_add_string(builder, "state_closing", "closing");
		ha_add_string(builder, "device_class", "water");
		ha_add(out, discovery_prefix, "valve", unique_id, builder);
	}
	return out;
}
