/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "wbd-json.h"
#include "wbd-mqtt-codec.h"
#include "wbd-tuya-edge-codec.h"

/*
 * The `tuya-edge` kind's wire format (shared/specs/mqtt-clouds.md §5): Tuya IoT Edge
 * Gateway commands. Pure, for the fuzzer.
 */

void
wbd_tuya_edge_command_clear(WbdTuyaEdgeCommand *command)
{
	g_clear_pointer(&command->cid, g_free);
	g_clear_pointer(&command->request_id, g_free);
	g_clear_pointer(&command->dp_id, g_free);
	g_clear_pointer(&command->value, json_node_unref);
}

/**
 * wbd_tuya_edge_parse_command:
 * @command: (out caller-allocates): filled with what the message has
 *
 * Reads `{"t":..,"cid":..,"request_id":..,"param":{"id":..,"value":..}}`; hostile input
 * leaves members %NULL, never fails otherwise.
 */
void
wbd_tuya_edge_parse_command(const gchar *payload, gsize length, WbdTuyaEdgeCommand *command)
{
	g_autoptr(JsonNode) root = NULL;
	JsonObject *object;
	JsonObject *param;

	memset(command, 0, sizeof *command);
	if (length == 0 || length > WBD_MQTT_MAX_COMMAND)
		return;
	root = wbd_json_parse_object(payload, length, NULL);
	if (root == NULL)
		return;
	object = json_node_get_object(root);
	param = wbd_json_get_object(object, "param");
	command->cid = g_strdup(wbd_json_get_string(object, "cid"));
	command->request_id = g_strdup(wbd_json_get_string(object, "request_id"));
	if (param == NULL)
		return;
	command->dp_id = g_strdup(wbd_json_get_string(param, "id"));
	if (json_object_has_member(param, "value"))
		command->value = json_node_copy(json_object_get_member(param, "value"));
}
