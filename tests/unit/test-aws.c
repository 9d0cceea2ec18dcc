/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-aws-codec.h"
#include "wbd-mqtt-codec.h"

/*
 * kind=aws-iot's pure parts against shared/specs/mqtt-clouds.md §2: the topic limits
 * (§2.3: ≤ 7 '/', ≤ 256 bytes), the named shadow topics and the documents of AWS's
 * shadow service (§2.4), written out here by hand.
 */

#define THING "home-1"

static void
test_topics(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *topic = NULL;
	g_autofree gchar *get = wbd_aws_shadow_topic(THING, "plug1", "get");
	g_autofree gchar *filter = wbd_aws_shadow_topic(THING, "+", "update/delta");
	g_autofree gchar *long_device = g_strnfill(250, 'x');
	g_autofree gchar *shadow = NULL;

	g_assert_cmpstr(get, ==, "$aws/things/home-1/shadow/name/plug1/get");
	g_assert_cmpstr(filter, ==, "$aws/things/home-1/shadow/name/+/update/delta");

	topic = wbd_aws_telemetry_topic("wattbus/{thing}/{device}", THING, "plug1", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(topic, ==, "wattbus/home-1/plug1");
	g_clear_pointer(&topic, g_free);
	/* replaced once: a thing named like a placeholder is not replaced again */
	topic = wbd_aws_telemetry_topic("{thing}/{device}/{x}", "{device}", "d", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(topic, ==, "{device}/d/{x}");
	g_clear_pointer(&topic, g_free);
	/* 7 '/' is AWS's limit, 8 is refused */
	g_assert_true(wbd_aws_check_topic_template("a/b/c/d/e/f/{thing}/{device}", THING, &error));
	g_assert_no_error(error);
	g_assert_false(
	    wbd_aws_check_topic_template("a/b/c/d/e/f/g/{thing}/{device}", THING, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	for (guint i = 0; i < 5; i++) {
		const gchar *bad[] = {"a/+/{device}", "a/#", "a//{device}", "$aws/x/{device}", ""};
		g_assert_false(wbd_aws_check_topic_template(bad[i], THING, &error));
		g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
		g_clear_error(&error);
	}
	/* a device whose topic would be too long is skipped, the others are not */
	g_assert_null(wbd_aws_telemetry_topic("wattbus/{device}", THING, long_device, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);

	g_assert_cmpint(
	    wbd_aws_shadow_parse_topic("$aws/things/home-1/shadow/name/plug1/update/delta",
				       THING,
				       &shadow),
	    ==,
	    WBD_AWS_SHADOW_DELTA);
	g_assert_cmpstr(shadow, ==, "plug1");
	g_clear_pointer(&shadow, g_free);
	g_assert_cmpint(
	    wbd_aws_shadow_parse_topic("$aws/things/home-1/shadow/name/m:2_a-b/get/accepted",
				       THING,
				       &shadow),
	    ==,
	    WBD_AWS_SHADOW_GET_ACCEPTED);
	g_assert_cmpstr(shadow, ==, "m:2_a-b");
	g_clear_pointer(&shadow, g_free);
	g_assert_cmpint(wbd_aws_shadow_parse_topic("$aws/things/home-1/shadow/name/p/get/rejected",
						   THING,
						   NULL),
			==,
			WBD_AWS_SHADOW_GET_REJECTED);
	g_assert_cmpint(
	    wbd_aws_shadow_parse_topic("$aws/things/home-1/shadow/name/p/update/rejected",
				       THING,
				       NULL),
	    ==,
	    WBD_AWS_SHADOW_UPDATE_REJECTED);
	for (guint i = 0; i < 7; i++) {
		const gchar *other[] = {
		    "$aws/things/home-1/shadow/name/p/update/accepted", /* not subscribed */
		    "$aws/things/home-2/shadow/name/p/update/delta",	/* another thing */
		    "$aws/things/home-1/shadow/update/delta",		/* the classic shadow */
		    "$aws/things/home-1/shadow/name//update/delta",
		    "$aws/things/home-1/shadow/name/a.b/update/delta", /* not a shadow name */
		    "$aws/things/home-1/shadow/name/p/update/delta/x",
		    "wattbus/home-1/p",
		};
		g_assert_cmpint(wbd_aws_shadow_parse_topic(other[i], THING, &shadow),
				==,
				WBD_AWS_SHADOW_NONE);
		g_assert_null(shadow);
	}
	g_assert_true(wbd_aws_shadow_name_is_valid("plug-1_a:b"));
	g_assert_false(wbd_aws_shadow_name_is_valid("plug 1"));
	g_assert_false(wbd_aws_shadow_name_is_valid(""));
	g_assert_false(wbd_aws_shadow_name_is_valid(long_device));
}

static void
test_delta(void)
{
	/* §2.4: /update/delta */
	const gchar *delta =
	    "{\"version\":12,\"timestamp\":1700000000,\"state\":{\"state\":\"OFF\"},"
	    "\"metadata\":{\"state\":{\"timestamp\":1700000000}},\"clientToken\":\"t\"}";
	const gchar *bad[] = {
	    "{\"state\":{\"state\":\"OFF\"}}",			  /* no version */
	    "{\"version\":\"12\",\"state\":{\"state\":\"OFF\"}}", /* not a number */
	    "{\"version\":1.5,\"state\":{}}",
	    "{\"version\":-1,\"state\":{}}",
	    "{\"version\":3,\"state\":\"OFF\"}",
	    "{\"version\":3}",
	    "[1]",
	    "",
	};
	g_autoptr(GError) error = NULL;
	g_autofree gchar *state = NULL;
	g_autofree gchar *refused = NULL;
	g_autoptr(GPtrArray) commands = NULL;
	WbdMqttCommand *command;
	gint64 version = 0;

	g_assert_true(wbd_aws_parse_delta(delta, strlen(delta), &version, &state, &error));
	g_assert_no_error(error);
	g_assert_cmpint(version, ==, 12);
	g_assert_cmpstr(state, ==, "{\"state\":\"OFF\"}");
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree gchar *none = NULL;
		g_assert_false(
		    wbd_aws_parse_delta(bad[i], strlen(bad[i]), &version, &none, &error));
		g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
		g_assert_null(none);
		g_clear_error(&error);
	}

	/* each key on its own: what the device supports is applied, the rest refused */
	commands =
	    wbd_aws_delta_commands("{\"state\":\"OFF\",\"online\":false,\"valve\":\"CLOSE\"}",
				   &refused);
	g_assert_cmpuint(commands->len, ==, 2);
	command = g_ptr_array_index(commands, 0);
	g_assert_cmpstr(command->property, ==, "On");
	g_assert_false(g_variant_get_boolean(command->value));
	command = g_ptr_array_index(commands, 1);
	g_assert_cmpstr(command->property, ==, "Valve");
	g_assert_cmpstr(g_variant_get_string(command->value, NULL), ==, "closed");
	g_assert_nonnull(strstr(refused, "online: "));
	g_clear_pointer(&commands, g_ptr_array_unref);
	g_clear_pointer(&refused, g_free);

	commands = wbd_aws_delta_commands("{\"state\":\"MAYBE\"}", &refused);
	g_assert_cmpuint(commands->len, ==, 0);
	g_assert_true(g_str_has_prefix(refused, "state: "));
	g_clear_pointer(&commands, g_ptr_array_unref);
	g_clear_pointer(&refused, g_free);

	commands = wbd_aws_delta_commands("{\"valve_openness\":40}", &refused);
	g_assert_cmpuint(commands->len, ==, 1);
	g_assert_null(refused);
}

static void
test_get_and_rejected(void)
{
	/* §2.4: the whole document from /get/accepted */
	const gchar *doc =
	    "{\"state\":{\"desired\":{\"state\":\"OFF\"},\"reported\":{\"online\":true,"
	    "\"state\":\"ON\"},\"delta\":{\"state\":\"OFF\"}},\"metadata\":{},\"version\":7,"
	    "\"timestamp\":1700000000}";
	const gchar *in_sync = "{\"state\":{\"reported\":{\"online\":true,\"state\":\"ON\"}},"
			       "\"version\":3}";
	const gchar *rejected =
	    "{\"code\":404,\"message\":\"No shadow exists with name: 'plug1'\"}";
	g_autoptr(GError) error = NULL;
	g_autofree gchar *delta = NULL;
	g_autofree gchar *message = NULL;
	g_autofree gchar *update = NULL;
	g_autoptr(JsonObject) reported = NULL;
	g_autoptr(JsonObject) state = json_object_new();
	gint64 version = 0;
	gint code = 0;

	g_assert_true(
	    wbd_aws_parse_get_accepted(doc, strlen(doc), &version, &delta, &reported, &error));
	g_assert_no_error(error);
	g_assert_cmpint(version, ==, 7);
	g_assert_cmpstr(delta, ==, "{\"state\":\"OFF\"}");
	g_assert_nonnull(reported);

	json_object_set_boolean_member(state, "online", TRUE);
	json_object_set_string_member(state, "state", "ON");
	g_assert_true(wbd_aws_reported_matches(reported, state));
	g_assert_false(wbd_aws_reported_matches(NULL, state));
	json_object_set_string_member(state, "state", "OFF");
	g_assert_false(wbd_aws_reported_matches(reported, state));
	update = wbd_aws_reported_json(state);
	g_assert_cmpstr(update,
			==,
			"{\"state\":{\"reported\":{\"online\":true,\"state\":\"OFF\"}}}");
	g_clear_pointer(&delta, g_free);
	g_clear_pointer(&reported, json_object_unref);

	g_assert_true(wbd_aws_parse_get_accepted(in_sync,
						 strlen(in_sync),
						 &version,
						 &delta,
						 &reported,
						 &error));
	g_assert_cmpint(version, ==, 3);
	g_assert_null(delta);
	g_assert_nonnull(reported);
	g_clear_pointer(&reported, json_object_unref);
	g_assert_false(
	    wbd_aws_parse_get_accepted("{\"state\":{}}", 12, &version, &delta, &reported, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);

	g_assert_true(wbd_aws_parse_rejected(rejected, strlen(rejected), &code, &message, &error));
	g_assert_no_error(error);
	g_assert_cmpint(code, ==, 404);
	g_assert_cmpstr(message, ==, "No shadow exists with name: 'plug1'");
	g_clear_pointer(&message, g_free);
	g_assert_false(wbd_aws_parse_rejected("{\"message\":\"x\"}", 15, &code, &message, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_assert_null(message);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/aws/topics", test_topics);
	g_test_add_func("/aws/delta", test_delta);
	g_test_add_func("/aws/get-and-rejected", test_get_and_rejected);
	return g_test_run();
}
