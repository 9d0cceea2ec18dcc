/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wattbus-glib.h>

#include "fuzz-common.h"
#include "wbd-mqtt-codec.h"

/*
 * The inbound command parsers of the MQTT exporters, on the same input: what arrives on
 * PREFIX/DEVICE/set (kind=mqtt), with the reply made from its error, and a command of
 * Tuya's edge gateway (kind=tuya-edge). Invariants: a result or an error, never both;
 * every command names a property and has a value unless it is a toggle; the reply is
 * JSON; the edge command's strings are UTF-8.
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

	WBF_ASSERT((commands == NULL) == (error != NULL));
	if (commands != NULL) {
		WBF_ASSERT(commands->len > 0);
		for (guint i = 0; i < commands->len; i++) {
			WbdMqttCommand *command = g_ptr_array_index(commands, i);
			WBF_ASSERT(command->property != NULL && command->property[0] != '\0');
			WBF_ASSERT(command->toggle == (command->value == NULL));
		}
	} else {
		WBF_ASSERT(error->domain == WATTBUS_ERROR);
		WBF_ASSERT(g_utf8_validate(error->message, -1, NULL));
	}
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
	return 0;
}
