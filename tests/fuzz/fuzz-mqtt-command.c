/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wattbus-glib.h>

#include "fuzz-mqtt.h"
#include "wbd-json.h"

/*
 * The inbound command parsers of the MQTT exporters, on the same input: what arrives on
 * PREFIX/DEVICE/set (kind=mqtt), with the reply made from its error, and a command of
 * Tuya's edge gateway (kind=tuya-edge), and the `devices` of a desired-state document
 * (Azure's desired properties, IoT Core's config). Invariants: a result or an error,
 * never both; every command names a property and has a value unless it is a toggle (a
 * desired state never is); the reply is JSON; the edge command's strings are UTF-8.
 */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = NULL;
	g_autofree gchar *reply = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GPtrArray) commands =
	    wbd_mqtt_parse_command((const gchar *)data, size, &id, &error);

	wbf_mqtt_check_commands(commands, error, TRUE);
	WBF_ASSERT(id == NULL || g_utf8_validate(id, -1, NULL));
	reply = wbd_mqtt_result_json(id, error, NULL);
	WBF_ASSERT(json_parser_load_from_data(parser, reply, -1, NULL));

	{
		g_auto(WbdTuyaEdgeCommand) edge = {0};
		wbd_tuya_edge_parse_command((const gchar *)data, size, &edge);
		WBF_ASSERT(edge.cid == NULL || g_utf8_validate(edge.cid, -1, NULL));
		WBF_ASSERT(edge.request_id == NULL || g_utf8_validate(edge.request_id, -1, NULL));
		WBF_ASSERT(edge.dp_id == NULL || g_utf8_validate(edge.dp_id, -1, NULL));
	}
	{
		g_autoptr(JsonNode) root = wbd_json_parse_object((const gchar *)data, size, NULL);
		g_autoptr(GPtrArray) desired =
		    wbd_mqtt_parse_desired(root != NULL ? json_node_get_object(root) : NULL);
		wbf_mqtt_check_desired(desired);
	}
	return 0;
}
