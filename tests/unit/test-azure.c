/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-azure-codec.h"
#include "wbd-mqtt-codec.h"

/*
 * kind=azure-iot-hub's pure parts: the topics of shared/specs/mqtt-clouds.md §3.3 (written
 * out here by hand), the cloud-to-device and direct-method parsers, the twin patch.
 */

#define AZ_DEV "gw"
#define C2D "devices/" AZ_DEV "/messages/devicebound/"

/* the one command of @commands: its property, and its value as text (or "toggle") */
static void
assert_command(GPtrArray *commands, const gchar *property, const gchar *value)
{
	WbdMqttCommand *command;
	g_autofree gchar *text = NULL;

	g_assert_nonnull(commands);
	g_assert_cmpuint(commands->len, ==, 1);
	command = g_ptr_array_index(commands, 0);
	g_assert_cmpstr(command->property, ==, property);
	if (command->toggle) {
		g_assert_cmpstr("toggle", ==, value);
		return;
	}
	text = g_variant_print(command->value, FALSE);
	g_assert_cmpstr(text, ==, value);
}

static void
test_telemetry_topic(void)
{
	g_autofree gchar *plain = wbd_azure_telemetry_topic("meter-gw", "plug1");
	g_autofree gchar *odd = wbd_azure_telemetry_topic("meter-gw", "a b/\xc3\xa4&x=1");

	g_assert_cmpstr(plain,
			==,
			"devices/meter-gw/messages/events/"
			"$.ct=application%2Fjson&$.ce=utf-8&device=plug1");
	g_assert_cmpstr(odd,
			==,
			"devices/meter-gw/messages/events/"
			"$.ct=application%2Fjson&$.ce=utf-8&device=a%20b%2F%C3%A4%26x%3D1");
}

static void
test_device_id(void)
{
	g_autofree gchar *long_id = g_strnfill(129, 'a');

	g_assert_true(wbd_azure_device_id_is_valid("plug1"));
	g_assert_true(wbd_azure_device_id_is_valid("Küche_2"));
	g_assert_false(wbd_azure_device_id_is_valid(NULL));
	g_assert_false(wbd_azure_device_id_is_valid(""));
	g_assert_false(wbd_azure_device_id_is_valid("a/b"));
	g_assert_false(wbd_azure_device_id_is_valid("a+b"));
	g_assert_false(wbd_azure_device_id_is_valid("$sys"));
	g_assert_false(wbd_azure_device_id_is_valid("a\nb"));
	g_assert_false(wbd_azure_device_id_is_valid(long_id));
	long_id[128] = '\0';
	g_assert_true(wbd_azure_device_id_is_valid(long_id));
}

static void
test_c2d_topic(void)
{
	static const struct {
		const gchar *topic;
		gboolean c2d;
		const gchar *device;
	} cases[] = {
	    {C2D "%24.mid=1&%24.to=%2Fdevices%2Fgw%2Fmessages%2FdeviceBound&device=plug1", TRUE, "plug1"},
	    {C2D "device=plug%201", TRUE, "plug 1"},
	    {C2D "device=a%2Fb", TRUE, "a/b"},
	    {C2D "device=%zz", TRUE, ""},
	    {C2D "device=", TRUE, ""},
	    {C2D "device", TRUE, NULL},
	    {C2D "%64evice=x", TRUE, "x"},
	    {C2D "devices=x&xdevice=y", TRUE, NULL},
	    {C2D "device=first&device=second", TRUE, "first"},
	    {C2D, TRUE, NULL},
	    {"devices/gw2/messages/devicebound/device=x", FALSE, NULL},
	    {"devices/gw/messages/events/device=x", FALSE, NULL},
	    {"$iothub/methods/POST/TurnOn/?$rid=1", FALSE, NULL},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *device = NULL;
		g_assert_cmpint(wbd_azure_parse_c2d_topic(cases[i].topic, AZ_DEV, &device),
				==,
				cases[i].c2d);
		g_assert_cmpstr(device, ==, cases[i].device);
	}
}

static void
test_c2d_payload(void)
{
	static const struct {
		const gchar *payload;
		const gchar *device;
		const gchar *property;
		const gchar *value;
	} good[] = {
	    {"on", NULL, "On", "true"},
	    {" OFF\n", NULL, "On", "false"},
	    {"Toggle", NULL, "On", "toggle"},
	    {"open", NULL, "Valve", "'opened'"},
	    {"close", NULL, "Valve", "'closed'"},
	    {"{\"state\":\"OFF\"}", NULL, "On", "false"},
	    {"{\"device\":\"plug1\",\"state\":\"ON\"}", "plug1", "On", "true"},
	    {"{\"device\":\"wm\",\"valve\":\"CLOSE\"}", "wm", "Valve", "'closed'"},
	};
	static const gchar *const bad[] = {"", "maybe", "{}", "[1]", "{\"state\":\"MAYBE\"}",
					   "{\"device\":\"plug1\"}", "{\"colour\":\"red\"}", "null"};

	for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *device = NULL;
		g_autoptr(GPtrArray) commands = wbd_azure_parse_c2d(good[i].payload,
								    strlen(good[i].payload),
								    &device,
								    &error);
		g_assert_no_error(error);
		g_assert_cmpstr(device, ==, good[i].device);
		assert_command(commands, good[i].property, good[i].value);
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *device = NULL;
		g_autoptr(GPtrArray) commands =
		    wbd_azure_parse_c2d(bad[i], strlen(bad[i]), &device, &error);
		g_assert_null(commands);
		g_assert_nonnull(error);
		g_assert_true(error->domain == WATTBUS_ERROR);
	}
	/* not NUL-terminated */
	{
		g_autoptr(GError) error = NULL;
		g_autofree gchar *device = NULL;
		g_autoptr(GPtrArray) commands = wbd_azure_parse_c2d("offset", 3, &device, &error);
		g_assert_no_error(error);
		assert_command(commands, "On", "false");
	}
}

static void
test_method_topic(void)
{
	g_autofree gchar *long_rid = g_strnfill(WBD_AZURE_MAX_RID + 1, '7');
	g_autofree gchar *long_topic =
	    g_strdup_printf("$iothub/methods/POST/TurnOn/?$rid=%s", long_rid);
	g_autofree gchar *max_topic = NULL;
	const struct {
		const gchar *topic;
		gboolean request;
		const gchar *method;
		const gchar *rid;
	} cases[] = {
	    {"$iothub/methods/POST/TurnOn/?$rid=42", TRUE, "TurnOn", "42"},
	    {"$iothub/methods/POST/SetValve/?$rid=a1&$other=2", TRUE, "SetValve", "a1"},
	    {"$iothub/methods/POST/Reboot/?x=1&$rid=%41", TRUE, "Reboot", "%41"},
	    {"$iothub/methods/POST/TurnOn/", TRUE, NULL, NULL},
	    {"$iothub/methods/POST/TurnOn/?x=1", TRUE, "TurnOn", NULL},
	    {"$iothub/methods/POST/TurnOn/?$rid=", TRUE, "TurnOn", NULL},
	    {"$iothub/methods/POST/TurnOn/?$rid", TRUE, "TurnOn", NULL},
	    {"$iothub/methods/POST/TurnOn/?$rid=a b", TRUE, "TurnOn", NULL},
	    {"$iothub/methods/POST/TurnOn/?$rid=a\x01", TRUE, "TurnOn", NULL},
	    {"$iothub/methods/POST/TurnOn/?$rid=\xc3\xa4", TRUE, "TurnOn", NULL},
	    {"$iothub/methods/POST/Turn On/?$rid=1", TRUE, NULL, "1"},
	    {"$iothub/methods/POST//?$rid=1", TRUE, NULL, "1"},
	    {long_topic, TRUE, "TurnOn", NULL},
	    {"$iothub/methods/res/200/?$rid=1", FALSE, NULL, NULL},
	    {"devices/gw/messages/devicebound/x", FALSE, NULL, NULL},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *method = NULL;
		g_autofree gchar *rid = NULL;
		g_assert_cmpint(wbd_azure_parse_method_topic(cases[i].topic, &method, &rid),
				==,
				cases[i].request);
		g_assert_cmpstr(method, ==, cases[i].method);
		g_assert_cmpstr(rid, ==, cases[i].rid);
	}
	/* the longest request id is taken */
	long_rid[WBD_AZURE_MAX_RID] = '\0';
	max_topic = g_strdup_printf("$iothub/methods/POST/TurnOn/?$rid=%s", long_rid);
	{
		g_autofree gchar *method = NULL;
		g_autofree gchar *rid = NULL;
		g_assert_true(wbd_azure_parse_method_topic(max_topic, &method, &rid));
		g_assert_cmpstr(rid, ==, long_rid);
	}
}

static void
test_method_payload(void)
{
	static const struct {
		const gchar *method;
		const gchar *payload;
		const gchar *device;
		const gchar *property;
		const gchar *value;
	} good[] = {
	    {"TurnOn", "", NULL, "On", "true"},
	    {"TurnOn", "null", NULL, "On", "true"},
	    {"TurnOff", " null \n", NULL, "On", "false"},
	    {"TurnOff", "{\"device\":\"plug1\"}", "plug1", "On", "false"},
	    {"Toggle", "{ \"device\" : \"plug1\" }", "plug1", "On", "toggle"},
	    {"SetValve", "{\"device\":\"wm\",\"valve\":\"closed\"}", "wm", "Valve", "'closed'"},
	    {"SetValve", "{\"valve\":\"OPEN\"}", NULL, "Valve", "'opened'"},
	    /* the device's own check refuses it: 400 from there */
	    {"SetValve", "{\"device\":\"wm\",\"valve\":\"half\"}", "wm", "Valve", "'half'"},
	};
	static const struct {
		const gchar *method;
		const gchar *payload;
		gint status;
	} bad[] = {
	    {"Reboot", "", 404},
	    {"turnon", "", 404},
	    {NULL, "", 400},
	    {"TurnOn", "{bad", 400},
	    {"TurnOn", "\"plug1\"", 400},
	    {"TurnOn", "[\"plug1\"]", 400},
	    {"TurnOn", "{}", 400},
	    {"TurnOn", "{\"device\":5}", 400},
	    {"TurnOn", "{\"device\":\"plug1\",\"state\":\"OFF\"}", 400},
	    {"SetValve", "", 400},
	    {"SetValve", "null", 400},
	    {"SetValve", "{\"device\":\"wm\"}", 400},
	    {"SetValve", "{\"device\":\"wm\",\"state\":\"ON\"}", 400},
	    {"SetValve", "{\"device\":\"wm\",\"valve_openness\":40}", 400},
	    {"SetValve", "{\"device\":\"wm\",\"colour\":\"red\"}", 400},
	};

	for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *device = NULL;
		g_autoptr(GPtrArray) commands = wbd_azure_parse_method(good[i].method,
								       good[i].payload,
								       strlen(good[i].payload),
								       &device,
								       &error);
		g_assert_no_error(error);
		g_assert_cmpstr(device, ==, good[i].device);
		assert_command(commands, good[i].property, good[i].value);
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *device = NULL;
		g_autoptr(GPtrArray) commands = wbd_azure_parse_method(bad[i].method,
								       bad[i].payload,
								       strlen(bad[i].payload),
								       &device,
								       &error);
		g_assert_null(commands);
		g_assert_nonnull(error);
		g_assert_cmpint(wbd_mqtt_error_status(error), ==, bad[i].status);
	}
	/* bounded */
	{
		g_autoptr(GError) error = NULL;
		g_autofree gchar *device = NULL;
		g_autofree gchar *big = g_strnfill(WBD_AZURE_MAX_PAYLOAD + 1, ' ');
		g_autoptr(GPtrArray) commands =
		    wbd_azure_parse_method("TurnOn", big, strlen(big), &device, &error);
		g_assert_null(commands);
		g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	}
}

static void
test_replies(void)
{
	g_autofree gchar *reply = wbd_azure_method_reply_topic(404, "a1");
	g_autofree gchar *rid = NULL;
	g_autofree gchar *rid2 = NULL;
	g_autofree gchar *rid3 = NULL;
	gint status = -1;

	g_assert_cmpstr(reply, ==, "$iothub/methods/res/404/?$rid=a1");
	g_assert_true(wbd_azure_parse_twin_topic("$iothub/twin/res/204/?$rid=3&$version=5",
						 &status,
						 &rid));
	g_assert_cmpint(status, ==, 204);
	g_assert_cmpstr(rid, ==, "3");
	g_assert_true(wbd_azure_parse_twin_topic("$iothub/twin/res/x/?$rid=4", &status, &rid2));
	g_assert_cmpint(status, ==, 0);
	g_assert_cmpstr(rid2, ==, "4");
	g_assert_false(wbd_azure_parse_twin_topic("$iothub/methods/POST/x/?$rid=4", &status, &rid3));
	g_assert_null(rid3);
}

static void
test_twin_patch(void)
{
	/* the values are NULL for a removed device: unreferenced here */
	g_autoptr(GHashTable) devices = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(JsonObject) plug = json_object_new();
	g_autoptr(JsonObject) wm = json_object_new();
	g_autofree gchar *patch = NULL;
	g_autofree gchar *empty = NULL;

	empty = wbd_azure_twin_patch(devices);
	g_assert_cmpstr(empty, ==, "{\"devices\":{}}");
	json_object_set_boolean_member(plug, "online", TRUE);
	json_object_set_string_member(plug, "state", "ON");
	json_object_set_boolean_member(wm, "online", FALSE);
	json_object_set_string_member(wm, "valve", "closed");
	g_hash_table_insert(devices, "wm", wm);
	g_hash_table_insert(devices, "plug1", plug);
	g_hash_table_insert(devices, "gone", NULL);
	patch = wbd_azure_twin_patch(devices);
	g_assert_cmpstr(patch,
			==,
			"{\"devices\":{\"gone\":null,\"plug1\":{\"online\":true,\"state\":\"ON\"},"
			"\"wm\":{\"online\":false,\"valve\":\"closed\"}}}");
}

static void
test_desired(void)
{
	static const gchar patch[] = "{\"devices\":{\"wm\":{\"valve\":\"CLOSE\"},\"plug1\":"
				     "{\"state\":\"OFF\"},\"gone\":null,\"bad\":{\"state\":7},"
				     "\"worse\":5},\"other\":1,\"$version\":12}";
	static const gchar twin[] = "{\"desired\":{\"devices\":{\"plug1\":{\"state\":\"ON\"}},"
				    "\"$version\":3},\"reported\":{\"$version\":40}}";
	static const gchar *const bad[] = {"", "{}", "[]", "{\"$version\":\"1\"}",
					   "{\"$version\":-1}", "{\"$version\":1.5}", "nope"};
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) items = NULL;
	g_autoptr(GPtrArray) full = NULL;
	gint64 version = -1;
	WbdMqttDesired *item;

	items = wbd_azure_parse_desired(patch, strlen(patch), FALSE, &version, &error);
	g_assert_no_error(error);
	g_assert_cmpint(version, ==, 12);
	/* by id; null (deleted) left out */
	g_assert_cmpuint(items->len, ==, 4);
	item = g_ptr_array_index(items, 0);
	g_assert_cmpstr(item->device, ==, "bad");
	g_assert_null(item->commands);
	g_assert_error(item->error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	item = g_ptr_array_index(items, 1);
	g_assert_cmpstr(item->device, ==, "plug1");
	g_assert_no_error(item->error);
	assert_command(item->commands, "On", "false");
	item = g_ptr_array_index(items, 2);
	g_assert_cmpstr(item->device, ==, "wm");
	assert_command(item->commands, "Valve", "'closed'");
	item = g_ptr_array_index(items, 3);
	g_assert_cmpstr(item->device, ==, "worse");
	g_assert_nonnull(item->error);

	/* a GET's whole twin: its desired part */
	full = wbd_azure_parse_desired(twin, strlen(twin), TRUE, &version, &error);
	g_assert_no_error(error);
	g_assert_cmpint(version, ==, 3);
	g_assert_cmpuint(full->len, ==, 1);
	assert_command(((WbdMqttDesired *)g_ptr_array_index(full, 0))->commands, "On", "true");

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) local_error = NULL;
		g_autoptr(GPtrArray) none =
		    wbd_azure_parse_desired(bad[i], strlen(bad[i]), FALSE, &version, &local_error);
		g_assert_null(none);
		g_assert_error(local_error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	}
	/* a patch is not a whole twin */
	{
		g_autoptr(GPtrArray) none =
		    wbd_azure_parse_desired(patch, strlen(patch), TRUE, &version, &error);
		g_assert_null(none);
		g_assert_nonnull(error);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/azure/telemetry-topic", test_telemetry_topic);
	g_test_add_func("/azure/device-id", test_device_id);
	g_test_add_func("/azure/c2d-topic", test_c2d_topic);
	g_test_add_func("/azure/c2d-payload", test_c2d_payload);
	g_test_add_func("/azure/method-topic", test_method_topic);
	g_test_add_func("/azure/method-payload", test_method_payload);
	g_test_add_func("/azure/replies", test_replies);
	g_test_add_func("/azure/twin-patch", test_twin_patch);
	g_test_add_func("/azure/desired", test_desired);
	return g_test_run();
}
