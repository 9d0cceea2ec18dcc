/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* pure functions of the `mqtt` kind: topics, state JSON, commands, HA discovery */

/**
 * WbdMqttCommand:
 * @property: the device's writable D-Bus property (`On`, `Valve`, `Switch`, ...)
 * @value: its new value (%NULL with @toggle)
 * @toggle: `{"state":"TOGGLE"}`: the opposite of the outlet's state
 */
typedef struct {
	gchar *property;
	GVariant *value;
	gboolean toggle;
} WbdMqttCommand;

void
wbd_mqtt_command_free(WbdMqttCommand *command);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WbdMqttCommand, wbd_mqtt_command_free)

GPtrArray *
wbd_mqtt_parse_command(const gchar *payload, gsize length, gchar **id, GError **error);
GPtrArray *
wbd_mqtt_parse_device_command(const gchar *payload,
			      gsize length,
			      gchar **id,
			      gchar **device,
			      GError **error);
GPtrArray *
wbd_mqtt_parse_plain_command(const gchar *payload, gsize length);

/**
 * WbdMqttDesired:
 * @device: a device a desired-state document names
 * @commands: (element-type WbdMqttCommand) (nullable): what makes it so
 * @error: (nullable): why its entry is not valid (exactly one of @commands, @error)
 */
typedef struct {
	gchar *device;
	GPtrArray *commands;
	GError *error;
} WbdMqttDesired;

void
wbd_mqtt_desired_free(WbdMqttDesired *desired);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WbdMqttDesired, wbd_mqtt_desired_free)
GPtrArray *
wbd_mqtt_parse_desired(JsonObject *devices);
gint
wbd_mqtt_error_status(const GError *error);
gchar *
wbd_mqtt_telemetry_json(const gchar *device, gint64 time_us, const gchar *values_json);
gboolean
wbd_mqtt_topic_is_valid_level(const gchar *level);
gchar *
wbd_mqtt_object_id(const gchar *text);
gchar *
wbd_mqtt_state_key(const gchar *property);
void
wbd_mqtt_state_merge(JsonObject *state, const gchar *values_json, gint *online);
gchar *
wbd_mqtt_state_to_json(JsonObject *state);
gchar *
wbd_mqtt_result_json(const gchar *id, const GError *error, JsonObject *state);

/**
 * WbdTuyaEdgeCommand:
 * A command of Tuya's edge gateway (`gateway_id/GID/commands`): every member may be
 * %NULL when the message lacks it; @value is the DP value as sent (JSON).
 */
typedef struct {
	gchar *cid;
	gchar *request_id;
	gchar *dp_id;
	JsonNode *value;
} WbdTuyaEdgeCommand;

void
wbd_tuya_edge_command_clear(WbdTuyaEdgeCommand *command);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(WbdTuyaEdgeCommand, wbd_tuya_edge_command_clear)
void
wbd_tuya_edge_parse_command(const gchar *payload, gsize length, WbdTuyaEdgeCommand *command);

/**
 * WbdMqttDeviceInfo:
 * What Home Assistant discovery describes of a device.
 */
typedef struct {
	const gchar *id;
	const gchar *name;
	const gchar *vendor;
	const gchar *model;
	const gchar *serial;
	const gchar *firmware;
	gboolean outlet;
	gboolean water_meter;
	gboolean valve;
	const gchar *const *measured; /* ElectricityMeter Measured, or NULL */
} WbdMqttDeviceInfo;

GPtrArray *
wbd_mqtt_ha_discovery(const gchar *prefix,
		      const gchar *discovery_prefix,
		      const WbdMqttDeviceInfo *info);

G_END_DECLS
