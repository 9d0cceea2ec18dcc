/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* pure functions of the `mqtt` kind: topics, state JSON, commands (HA discovery:
 * wbd-mqtt-ha.h) */

/* the largest command message read */
#define WBD_MQTT_MAX_COMMAND 4096

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

G_END_DECLS
