/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-config.h"
#include "wbd-json.h"
#include "wbd-jwt-codec.h"
#include "wbd-mqtt-codec.h"

/*
 * The wire format of the `jwt-iot-core` kind (Google Cloud IoT Core's MQTT bridge, as
 * ClearBlade keeps it; shared/specs/mqtt-clouds.md §4). Topics start with an empty
 * level: `/devices/ID/commands[/SUBFOLDER]`, `/devices/ID/config`. Commands are the
 * shared JSON of every kind (wbd-mqtt-codec.c); the config document is the desired
 * state of the devices, `{"devices":{"plug1":{"state":"OFF"},"wm":{"valve":"closed"}}}`.
 * Everything here is pure, for the fuzzer.
 */

/* the service's limit for a config document (§4) */
#define WBD_JWT_MAX_CONFIG (64 * 1024)

/**
 * wbd_jwt_client_id:
 *
 * Returns: `projects/PROJECT/locations/REGION/registries/REGISTRY/devices/DEVICE`
 */
gchar *
wbd_jwt_client_id(const gchar *project,
		  const gchar *region,
		  const gchar *registry,
		  const gchar *device_id)
{
	return g_strdup_printf("projects/%s/locations/%s/registries/%s/devices/%s",
			       project,
			       region,
			       registry,
			       device_id);
}

/**
 * wbd_jwt_parse_topic:
 * @topic: where a message arrived
 * @device_id: the cloud's device id (the `device-id` setting)
 * @subfolder: (out) (transfer full) (optional): for a command on a subfolder, the
 *   subfolder (one valid topic level), else %NULL
 *
 * Returns: which of the device's topics @topic is; a command topic with more than
 *   one subfolder level, or an empty or invalid one, is %WBD_JWT_TOPIC_OTHER
 */
WbdJwtTopic
wbd_jwt_parse_topic(const gchar *topic, const gchar *device_id, gchar **subfolder)
{
	g_autofree gchar *base = g_strdup_printf("/devices/%s/", device_id);
	const gchar *rest;

	if (subfolder != NULL)
		*subfolder = NULL;
	if (topic == NULL || !g_str_has_prefix(topic, base))
		return WBD_JWT_TOPIC_OTHER;
	rest = topic + strlen(base);
	if (g_str_equal(rest, "config"))
		return WBD_JWT_TOPIC_CONFIG;
	if (g_str_equal(rest, "commands"))
		return WBD_JWT_TOPIC_COMMANDS;
	if (!g_str_has_prefix(rest, "commands/") ||
	    !wbd_mqtt_topic_is_valid_level(rest + strlen("commands/")))
		return WBD_JWT_TOPIC_OTHER;
	if (subfolder != NULL)
		*subfolder = g_strdup(rest + strlen("commands/"));
	return WBD_JWT_TOPIC_COMMANDS;
}

/**
 * wbd_jwt_parse_command:
 * @subfolder: (nullable): the subfolder the command came on: the wattbus device id
 * @payload: (array length=length): the message, not NUL-terminated
 * @id: (out) (transfer full): the command's `id`, if any, to be echoed
 * @device: (out) (transfer full): the device the command is for (@subfolder, or the
 *   member `device` on `/commands` itself); may be set when parsing failed
 *
 * Returns: (transfer full) (element-type WbdMqttCommand): the commands, or %NULL with
 *   a %WATTBUS_ERROR_INVALID_ARGUMENT or %WATTBUS_ERROR_NOT_SUPPORTED error
 */
GPtrArray *
wbd_jwt_parse_command(const gchar *subfolder,
		      const gchar *payload,
		      gsize length,
		      gchar **id,
		      gchar **device,
		      GError **error)
{
	*id = NULL;
	*device = NULL;
	if (subfolder == NULL)
		return wbd_mqtt_parse_device_command(payload, length, id, device, error);
	*device = g_strdup(subfolder);
	return wbd_mqtt_parse_command(payload, length, id, error);
}

/**
 * wbd_jwt_parse_config:
 * @payload: (array length=length): the config document, not NUL-terminated; empty: no
 *   config
 *
 * Parses `{"devices":{"DEVICE":{"state":"OFF"},...}}` with wbd_mqtt_parse_desired().
 *
 * Returns: (transfer full) (element-type WbdMqttDesired): the devices (none for an
 *   empty @payload), or %NULL with a %WATTBUS_ERROR_INVALID_ARGUMENT error when the
 *   document is not of that shape
 */
GPtrArray *
wbd_jwt_parse_config(const gchar *payload, gsize length, GError **error)
{
	g_autoptr(JsonNode) root = NULL;
	JsonNode *devices;

	if (length == 0)
		return wbd_mqtt_parse_desired(NULL);
	if (length > WBD_JWT_MAX_CONFIG) {
		wbd_config_invalid(error, "The config is longer than 64 KiB");
		return NULL;
	}
	root = wbd_json_parse_object(payload, length, NULL);
	devices = root != NULL ? json_object_get_member(json_node_get_object(root), "devices")
			       : NULL;
	if (devices == NULL || !JSON_NODE_HOLDS_OBJECT(devices)) {
		wbd_config_invalid(error,
				   "The config is a JSON object with the member devices, e.g. "
				   "{\"devices\":{\"plug1\":{\"state\":\"OFF\"}}}");
		return NULL;
	}
	return wbd_mqtt_parse_desired(json_node_get_object(devices));
}

/**
 * wbd_jwt_result_json:
 * @device: (nullable): the device the command was for
 *
 * Returns: the result event of a command: wbd_mqtt_result_json() with the member
 *   `device` first, e.g. `{"device":"plug1","id":"c1","status":"ok","state":{...}}`
 */
gchar *
wbd_jwt_result_json(const gchar *device, const gchar *id, const GError *error, JsonObject *state)
{
	g_autofree gchar *result = wbd_mqtt_result_json(id, error, state);
	g_autoptr(JsonNode) node = NULL;
	g_autofree gchar *device_json = NULL;

	if (device == NULL || !g_utf8_validate(device, -1, NULL))
		return g_steal_pointer(&result);
	node = json_node_init_string(json_node_alloc(), device);
	device_json = json_to_string(node, FALSE);
	/* result is an object with at least "status": {"device":"…", + the rest */
	return g_strdup_printf("{\"device\":%s,%s", device_json, result + 1);
}
