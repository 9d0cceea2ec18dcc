/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-jwt-codec.h"
#include "wbd-mqtt-codec.h"

/*
 * kind=jwt-iot-core's pure parts against shared/specs/mqtt-clouds.md §4 and §7.3: the
 * client id, the topics (with their leading '/'), the commands on /commands and on a
 * subfolder, the config document of desired states, and the result events. The JWT
 * itself is wbd_mqtt_jwt(), tested against §7.3 in test-mqtt.c.
 */

static void
test_client_id(void)
{
	g_autofree gchar *id =
	    wbd_jwt_client_id("my-project", "us-central1", "my-registry", "meter-1");
	/* §7.3 */
	g_assert_cmpstr(id,
			==,
			"projects/my-project/locations/us-central1/registries/my-registry/devices/"
			"meter-1");
}

static void
test_topics(void)
{
	static const struct {
		const gchar *topic;
		WbdJwtTopic type;
		const gchar *subfolder;
	} cases[] = {
	    {"/devices/home/commands", WBD_JWT_TOPIC_COMMANDS, NULL},
	    {"/devices/home/commands/plug1", WBD_JWT_TOPIC_COMMANDS, "plug1"},
	    {"/devices/home/config", WBD_JWT_TOPIC_CONFIG, NULL},
	    {"/devices/home/commands/", WBD_JWT_TOPIC_OTHER, NULL},
	    {"/devices/home/commands/a/b", WBD_JWT_TOPIC_OTHER, NULL},
	    {"/devices/home/commands/$x", WBD_JWT_TOPIC_OTHER, NULL},
	    {"/devices/home/events", WBD_JWT_TOPIC_OTHER, NULL},
	    {"/devices/home/configx", WBD_JWT_TOPIC_OTHER, NULL},
	    {"devices/home/config", WBD_JWT_TOPIC_OTHER, NULL},
	    {"/devices/other/config", WBD_JWT_TOPIC_OTHER, NULL},
	    {"/devices/home2/config", WBD_JWT_TOPIC_OTHER, NULL},
	    {"/devices/home", WBD_JWT_TOPIC_OTHER, NULL},
	    {"", WBD_JWT_TOPIC_OTHER, NULL},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *subfolder = NULL;
		g_assert_cmpint(wbd_jwt_parse_topic(cases[i].topic, "home", &subfolder),
				==,
				cases[i].type);
		g_assert_cmpstr(subfolder, ==, cases[i].subfolder);
	}
	g_assert_cmpint(wbd_jwt_parse_topic(NULL, "home", NULL), ==, WBD_JWT_TOPIC_OTHER);
}

static void
test_commands(void)
{
	const gchar *with_device = "{\"device\":\"plug1\",\"state\":\"OFF\",\"id\":\"c1\"}";
	const gchar *without = "{\"valve\":\"CLOSE\",\"id\":7}";
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = NULL;
	g_autofree gchar *device = NULL;
	g_autoptr(GPtrArray) commands = NULL;
	WbdMqttCommand *command;

	/* on /commands: the device is in the message */
	commands =
	    wbd_jwt_parse_command(NULL, with_device, strlen(with_device), &id, &device, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(commands->len, ==, 1);
	command = g_ptr_array_index(commands, 0);
	g_assert_cmpstr(command->property, ==, "On");
	g_assert_false(g_variant_get_boolean(command->value));
	g_assert_cmpstr(id, ==, "c1");
	g_assert_cmpstr(device, ==, "plug1");
	g_clear_pointer(&commands, g_ptr_array_unref);
	g_clear_pointer(&id, g_free);
	g_clear_pointer(&device, g_free);

	/* on a subfolder: the subfolder is the device */
	commands = wbd_jwt_parse_command("wm", without, strlen(without), &id, &device, &error);
	g_assert_no_error(error);
	command = g_ptr_array_index(commands, 0);
	g_assert_cmpstr(command->property, ==, "Valve");
	g_assert_cmpstr(g_variant_get_string(command->value, NULL), ==, "closed");
	g_assert_cmpstr(id, ==, "7");
	g_assert_cmpstr(device, ==, "wm");
	g_clear_pointer(&commands, g_ptr_array_unref);
	g_clear_pointer(&id, g_free);
	g_clear_pointer(&device, g_free);

	/* on /commands without a device: refused */
	commands = wbd_jwt_parse_command(NULL, without, strlen(without), &id, &device, &error);
	g_assert_null(commands);
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_assert_null(device);
	g_clear_error(&error);
	g_clear_pointer(&id, g_free);

	/* a bad value on a subfolder: the device is still known, for the result */
	commands =
	    wbd_jwt_parse_command("plug1", "{\"state\":\"MAYBE\"}", 17, &id, &device, &error);
	g_assert_null(commands);
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_assert_cmpstr(device, ==, "plug1");
}

/* the config's envelope; its devices are wbd_mqtt_parse_desired()'s (test-mqtt.c) */
static void
test_config(void)
{
	const gchar *doc = "{\"version\":3,\"devices\":{\"wm\":{\"valve\":\"closed\"},"
			   "\"plug1\":{\"state\":\"OFF\"},\"bad\":{\"state\":\"TOGGLE\"}}}";
	static const gchar *const not_config[] = {
	    "not json", "[]", "{}", "{\"devices\":[]}", "{\"devices\":\"plug1\"}", "\"x\"",
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) desired = wbd_jwt_parse_config(doc, strlen(doc), &error);
	g_autofree gchar *big = NULL;
	WbdMqttDesired *entry;

	g_assert_no_error(error);
	g_assert_cmpuint(desired->len, ==, 3);
	entry = g_ptr_array_index(desired, 0);
	g_assert_cmpstr(entry->device, ==, "bad");
	g_assert_error(entry->error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	entry = g_ptr_array_index(desired, 1);
	g_assert_cmpstr(entry->device, ==, "plug1");
	g_assert_cmpstr(((WbdMqttCommand *)g_ptr_array_index(entry->commands, 0))->property,
			==,
			"On");
	entry = g_ptr_array_index(desired, 2);
	g_assert_cmpstr(entry->device, ==, "wm");
	g_assert_cmpstr(((WbdMqttCommand *)g_ptr_array_index(entry->commands, 0))->property,
			==,
			"Valve");
	g_clear_pointer(&desired, g_ptr_array_unref);

	/* empty: no config */
	desired = wbd_jwt_parse_config("", 0, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(desired->len, ==, 0);
	g_clear_pointer(&desired, g_ptr_array_unref);

	for (guint i = 0; i < G_N_ELEMENTS(not_config); i++) {
		desired = wbd_jwt_parse_config(not_config[i], strlen(not_config[i]), &error);
		g_assert_null(desired);
		g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
		g_clear_error(&error);
	}
	/* the service's limit: 64 KiB */
	big = g_strdup_printf("{\"devices\":{},\"pad\":\"%65536d\"}", 1);
	desired = wbd_jwt_parse_config(big, strlen(big), &error);
	g_assert_null(desired);
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
}

static void
test_result(void)
{
	g_autoptr(GError) error =
	    g_error_new(WATTBUS_ERROR, WATTBUS_ERROR_NOT_FOUND, "No device 'x'");
	g_autoptr(JsonObject) state = json_object_new();
	g_autofree gchar *ok = NULL;
	g_autofree gchar *failed = NULL;
	g_autofree gchar *quoted = NULL;
	g_autofree gchar *anonymous = NULL;

	json_object_set_string_member(state, "state", "OFF");
	ok = wbd_jwt_result_json("plug1", "c1", NULL, state);
	g_assert_cmpstr(ok,
			==,
			"{\"device\":\"plug1\",\"id\":\"c1\",\"status\":\"ok\","
			"\"state\":{\"state\":\"OFF\"}}");
	failed = wbd_jwt_result_json("x", NULL, error, NULL);
	g_assert_cmpstr(failed,
			==,
			"{\"device\":\"x\",\"status\":\"error\",\"error\":\"NotFound\","
			"\"message\":\"No device 'x'\"}");
	quoted = wbd_jwt_result_json("a\"b", NULL, NULL, NULL);
	g_assert_cmpstr(quoted, ==, "{\"device\":\"a\\\"b\",\"status\":\"ok\"}");
	anonymous = wbd_jwt_result_json(NULL, NULL, error, NULL);
	g_assert_true(g_str_has_prefix(anonymous, "{\"status\":\"error\""));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/jwt/client-id", test_client_id);
	g_test_add_func("/jwt/topics", test_topics);
	g_test_add_func("/jwt/commands", test_commands);
	g_test_add_func("/jwt/config", test_config);
	g_test_add_func("/jwt/result", test_result);
	return g_test_run();
}
