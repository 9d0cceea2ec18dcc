/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <wattbus-glib.h>

#include "fuzz-mqtt.h"
#include "wbd-aws-codec.h"

/*
 * What kind=aws-iot takes from AWS (shared/specs/mqtt-clouds.md §2.4), all on the same
 * input: a delta (with its state turned into commands key by key), a get/accepted
 * document, a get/ or update/rejected answer, and the input as a topic (shadow name →
 * device). Invariants: a result or an error, never both; what comes out is UTF-8; every
 * command names a property and has a value unless it is a toggle; a shadow topic that
 * is recognized is made again from its parts.
 */

#define THING "home-1"

static void
check_commands(const gchar *state)
{
	g_autofree gchar *refused = NULL;
	g_autoptr(GPtrArray) commands = wbd_aws_delta_commands(state, &refused);

	WBF_ASSERT(commands != NULL);
	WBF_ASSERT(refused == NULL || g_utf8_validate(refused, -1, NULL));
	for (guint i = 0; i < commands->len; i++)
		wbf_mqtt_check_command(g_ptr_array_index(commands, i), TRUE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const gchar *text = (const gchar *)data;
	gint64 version = -1;

	{
		g_autoptr(GError) error = NULL;
		g_autofree gchar *state = NULL;
		gboolean ok = wbd_aws_parse_delta(text, size, &version, &state, &error);
		WBF_ASSERT(ok == (error == NULL));
		WBF_ASSERT(ok == (state != NULL));
		if (ok) {
			WBF_ASSERT(version >= 0);
			WBF_ASSERT(g_utf8_validate(state, -1, NULL));
			check_commands(state);
		} else {
			wbf_check_error(error);
		}
	}
	{
		g_autoptr(GError) error = NULL;
		g_autofree gchar *delta = NULL;
		g_autoptr(JsonObject) reported = NULL;
		gboolean ok =
		    wbd_aws_parse_get_accepted(text, size, &version, &delta, &reported, &error);
		WBF_ASSERT(ok == (error == NULL));
		if (ok) {
			g_autoptr(JsonObject) state = json_object_new();
			g_autofree gchar *update = NULL;
			WBF_ASSERT(version >= 0);
			if (delta != NULL)
				check_commands(delta);
			json_object_set_boolean_member(state, "online", TRUE);
			(void)wbd_aws_reported_matches(reported, state);
			update = wbd_aws_reported_json(state);
			WBF_ASSERT(g_utf8_validate(update, -1, NULL));
		} else {
			WBF_ASSERT(delta == NULL && reported == NULL);
			wbf_check_error(error);
		}
	}
	{
		g_autoptr(GError) error = NULL;
		g_autofree gchar *message = NULL;
		gint code = 0;
		gboolean ok = wbd_aws_parse_rejected(text, size, &code, &message, &error);
		WBF_ASSERT(ok == (error == NULL));
		if (ok)
			WBF_ASSERT(code >= 100 && code <= 999);
		else
			WBF_ASSERT(message == NULL);
		WBF_ASSERT(message == NULL || g_utf8_validate(message, -1, NULL));
	}
	{
		/* topics come from Paho as C strings */
		g_autofree gchar *topic = g_strndup(text, size);
		g_autofree gchar *shadow = NULL;
		WbdAwsShadowMessage kind = wbd_aws_shadow_parse_topic(topic, THING, &shadow);
		WBF_ASSERT((kind == WBD_AWS_SHADOW_NONE) == (shadow == NULL));
		if (shadow != NULL) {
			static const gchar *const suffixes[] = {NULL,
								"update/delta",
								"get/accepted",
								"get/rejected",
								"update/rejected"};
			g_autofree gchar *again = NULL;
			WBF_ASSERT(kind > WBD_AWS_SHADOW_NONE &&
				   kind <= WBD_AWS_SHADOW_UPDATE_REJECTED);
			WBF_ASSERT(wbd_aws_shadow_name_is_valid(shadow));
			again = wbd_aws_shadow_topic(THING, shadow, suffixes[kind]);
			WBF_ASSERT(g_str_equal(again, topic));
		}
	}
	{
		/* the input as a device id going into the telemetry topic */
		g_autofree gchar *device = g_strndup(text, size);
		g_autoptr(GError) error = NULL;
		g_autofree gchar *topic =
		    g_utf8_validate(device, -1, NULL)
			? wbd_aws_telemetry_topic("wattbus/{thing}/{device}", THING, device, &error)
			: NULL;
		WBF_ASSERT(topic == NULL || strpbrk(topic, "+#") == NULL);
	}
	return 0;
}
