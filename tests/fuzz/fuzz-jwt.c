/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <wattbus-glib.h>

#include "fuzz-mqtt.h"
#include "wbd-jwt-codec.h"

/*
 * The inbound parsers of kind=jwt-iot-core, on the same input: as a topic (which of the
 * device's topics, the subfolder of a command), as a command on /commands (naming its
 * device) and on a subfolder, and as a config document of desired states; with the
 * result event made from each error. Invariants: a result or an error, never both;
 * every command names a property and has a value unless it is a toggle, and a desired
 * state is never a toggle; subfolders are valid topic levels; strings are UTF-8;
 * result events are JSON.
 */

static void
check_result(const gchar *device, const gchar *id, const GError *error)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autofree gchar *result = wbd_jwt_result_json(device, id, error, NULL);
	WBF_ASSERT(json_parser_load_from_data(parser, result, -1, NULL));
}

static void
fuzz_command(const gchar *subfolder, const gchar *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = NULL;
	g_autofree gchar *device = NULL;
	g_autoptr(GPtrArray) commands =
	    wbd_jwt_parse_command(subfolder, data, size, &id, &device, &error);

	wbf_mqtt_check_commands(commands, error, TRUE);
	WBF_ASSERT(id == NULL || g_utf8_validate(id, -1, NULL));
	WBF_ASSERT(device == NULL || g_utf8_validate(device, -1, NULL));
	WBF_ASSERT(commands == NULL || device != NULL);
	check_result(device, id, error);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree gchar *topic = g_strndup((const gchar *)data, size);
	g_autofree gchar *subfolder = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) desired = NULL;
	WbdJwtTopic type = wbd_jwt_parse_topic(topic, "home", &subfolder);

	WBF_ASSERT(type == WBD_JWT_TOPIC_COMMANDS || subfolder == NULL);
	WBF_ASSERT(subfolder == NULL || wbd_mqtt_topic_is_valid_level(subfolder));

	fuzz_command(NULL, (const gchar *)data, size);
	fuzz_command("plug1", (const gchar *)data, size);

	desired = wbd_jwt_parse_config((const gchar *)data, size, &error);
	WBF_ASSERT((desired == NULL) == (error != NULL));
	if (desired != NULL)
		wbf_mqtt_check_desired(desired);
	for (guint i = 0; desired != NULL && i < desired->len; i++) {
		WbdMqttDesired *entry = g_ptr_array_index(desired, i);
		check_result(entry->device, NULL, entry->error);
	}
	return 0;
}
