/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-mqtt-codec.h"

/*
 * The inbound command parsers of the MQTT exporters, on the same input: what arrives on
 * PREFIX/DEVICE/set (kind=mqtt), with the reply made from its error, and a command of
 * Tuya's edge gateway (kind=tuya-edge). Invariants: a result or an error, never both;
 * every command names a property and has a value unless it is a toggle; the reply is
 * JSON; the edge command's strings are UTF-8.
 */

#define CHECK(expr)                                                                                \
	do {                                                                                       \
		if (!(expr)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #expr); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int
LLVMFuzzerInitialize(int *argc, char ***argv);
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* a critical or a warning from hostile input is a bug: make it a crash */
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = NULL;
	g_autofree gchar *reply = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GPtrArray) commands =
	    wbd_mqtt_parse_command((const gchar *)data, size, &id, &error);

	CHECK((commands == NULL) == (error != NULL));
	if (commands != NULL) {
		CHECK(commands->len > 0);
		for (guint i = 0; i < commands->len; i++) {
			WbdMqttCommand *command = g_ptr_array_index(commands, i);
			CHECK(command->property != NULL && command->property[0] != '\0');
			CHECK(command->toggle == (command->value == NULL));
		}
	} else {
		CHECK(error->domain == WATTBUS_ERROR);
		CHECK(g_utf8_validate(error->message, -1, NULL));
	}
	CHECK(id == NULL || g_utf8_validate(id, -1, NULL));
	reply = wbd_mqtt_result_json(id, error, NULL);
	CHECK(json_parser_load_from_data(parser, reply, -1, NULL));

	{
		g_auto(WbdTuyaEdgeCommand) edge = {0};
		wbd_tuya_edge_parse_command((const gchar *)data, size, &edge);
		CHECK(edge.cid == NULL || g_utf8_validate(edge.cid, -1, NULL));
		CHECK(edge.request_id == NULL || g_utf8_validate(edge.request_id, -1, NULL));
		CHECK(edge.dp_id == NULL || g_utf8_validate(edge.dp_id, -1, NULL));
	}
	return 0;
}
