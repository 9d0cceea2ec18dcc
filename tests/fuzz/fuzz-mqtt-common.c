/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "fuzz-mqtt.h"

/* a command names a property and has a value, unless it is a toggle */
void
wbf_mqtt_check_command(const WbdMqttCommand *command, gboolean toggle_allowed)
{
	WBF_ASSERT(command->property != NULL && command->property[0] != '\0');
	WBF_ASSERT(command->toggle == (command->value == NULL));
	WBF_ASSERT(toggle_allowed || !command->toggle);
}

/* a parser's result: commands (at least one) or an error, never both */
void
wbf_mqtt_check_commands(GPtrArray *commands, const GError *error, gboolean toggle_allowed)
{
	WBF_ASSERT((commands == NULL) == (error != NULL));
	if (commands == NULL) {
		wbf_check_error(error);
		return;
	}
	WBF_ASSERT(commands->len > 0);
	for (guint i = 0; i < commands->len; i++)
		wbf_mqtt_check_command(g_ptr_array_index(commands, i), toggle_allowed);
}

/* wbd_mqtt_parse_desired(): by id, UTF-8 ids, each with commands (never a toggle) or an
 * error */
void
wbf_mqtt_check_desired(GPtrArray *desired)
{
	const gchar *previous = NULL;

	for (guint i = 0; i < desired->len; i++) {
		WbdMqttDesired *entry = g_ptr_array_index(desired, i);
		WBF_ASSERT(entry->device != NULL && g_utf8_validate(entry->device, -1, NULL));
		WBF_ASSERT(previous == NULL || strcmp(previous, entry->device) <= 0);
		wbf_mqtt_check_commands(entry->commands, entry->error, FALSE);
		previous = entry->device;
	}
}
