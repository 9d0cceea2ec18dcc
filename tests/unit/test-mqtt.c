/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-mqtt-codec.h"
#include "wbd-mqtt-ha.h"
#include "wbd-tuya-edge-codec.h"
#include "wbd-mqtt-credentials.h"

/*
 * The MQTT exporters' pure parts: credentials against the vectors of
 * shared/specs/mqtt-clouds.md §7 (copied with the test keys to tests/data/mqtt-clouds;
 * the ES256 JWT, randomized, is verified with the openssl CLI by jwt-verify.sh), and
 * the kind=mqtt commands and state JSON against §1.
 */

#define AZ_HOST "myhub.azure-devices.net"
#define AZ_KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define JWT_CLAIMS "eyJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMCwiYXVkIjoibXktcHJvamVjdCJ9"

static gchar *
data_path(const gchar *name)
{
	const gchar *dir = g_getenv("WATTBUS_TEST_DATA");
	g_assert_nonnull(dir);
	return g_build_filename(dir, "mqtt-clouds", name, NULL);
}

static gchar *
read_data(const gchar *name, gsize *length)
{
	g_autofree gchar *path = data_path(name);
	gchar *contents = NULL;
	g_autoptr(GError) error = NULL;
	g_assert_true(g_file_get_contents(path, &contents, length, &error));
	return contents;
}

static void
test_azure_sas(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *t1 = wbd_mqtt_azure_sas_token(AZ_HOST, "device1", AZ_KEY, NULL, 1700000000, &error);
	g_autofree gchar *t2 = wbd_mqtt_azure_sas_token(AZ_HOST, "device1", AZ_KEY, NULL, 1700000002, &error);
	g_autofree gchar *t3 = wbd_mqtt_azure_sas_token(AZ_HOST,
							"device1",
							"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
							"device",
							1700000000,
							&error);
	g_autofree gchar *user = wbd_mqtt_azure_username(AZ_HOST, "device1");
	g_autofree gchar *bad = NULL;

	g_assert_no_error(error);
	g_assert_cmpstr(t1,
			==,
			"SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdevice1&sig="
			"gFSfLGMXDOvf906%2FiaX3KwzLLNFHgaFZyCbsGjxtd1Y%3D&se=1700000000");
	/* '+' in the signature is escaped */
	g_assert_cmpstr(t2,
			==,
			"SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdevice1&sig="
			"%2FdYP0heDYwwUpwRcX3mfMyR2nb2%2BXl%2Bds564lHzvKKU%3D&se=1700000002");
	g_assert_cmpstr(t3,
			==,
			"SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdevice1&sig="
			"4eKamxQsa4XH%2FAd%2FPeyw2gyPi8s0ob99nab1Lh7JCqo%3D&se=1700000000&skn=device");
	g_assert_cmpstr(user, ==, "myhub.azure-devices.net/device1/?api-version=2021-04-12");
	/* a key that is not base64: refused, never quoted */
	bad = wbd_mqtt_azure_sas_token(AZ_HOST, "device1", "not*base64!", NULL, 1, &error);
	g_assert_null(bad);
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_assert_null(strstr(error->message, "not*base64"));
}

static void
test_tuya_password(void)
{
	g_autofree gchar *pw = wbd_mqtt_tuya_edge_password("gw_6c1a2b3c4d5e6f70", "edge_user");
	g_assert_cmpstr(pw, ==, "18c289ab4d6a69673a5833989a1c3238");
}

static void
test_jwt_rs256(void)
{
	gsize length;
	g_autofree gchar *key = read_data("rs256-test-key.pem", &length);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *token =
	    wbd_mqtt_jwt("RS256", key, length, "my-project", 1700000000, 1700003600, &error);

	g_assert_no_error(error);
	/* deterministic: the spec's token byte for byte */
	g_assert_cmpstr(
	    token,
	    ==,
	    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." JWT_CLAIMS
	    ".knOXLJYL7NbYeBQK1EWCSLOfKdjWFiLaSH-wmGHiGlMK_-erZcw7i561WQrzktNfJ57U6-pWwUY5iqYlxdO8BiBgLE8M9"
	    "LDMNAhZy7rWeJg16LeYnr2Ulma5dfg_1Q3uMrAwREhkvtI7qSKhxA8AQcZntu02A5JSCfr64iL2kCFU_0MH4pOftPsTpP"
	    "T_KVQARxRzJ_ZJ8hhsSDmIRzLmu8unAYmIPvp7pPIAa3-bQks5vlU--Y8xZ8gf-mxXFRPOv7OeuBP4BAdUpcYXfXiN26i"
	    "3iXdKqeZs1IRosQWCNdUI3-VahUWsYI21pUm_ZgW6tx0EboSo0mZaiqmmPXLAUQ");
	/* the wrong kind of key for the algorithm */
	g_clear_pointer(&token, g_free);
	token = wbd_mqtt_jwt("ES256", key, length, "my-project", 1, 2, &error);
	g_assert_null(token);
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
}

/* jwt-verify.sh: openssl's own verification with the public key */
static gboolean
openssl_verifies(const gchar *pub, const gchar *token)
{
	g_autofree gchar *script = data_path("jwt-verify.sh");
	g_autofree gchar *pub_path = data_path(pub);
	const gchar *argv[] = {"/bin/bash", script, pub_path, token, NULL};
	gint status = -1;
	g_autoptr(GError) error = NULL;

	g_assert_true(g_spawn_sync(NULL,
				   (gchar **)argv,
				   NULL,
				   G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
				   NULL,
				   NULL,
				   NULL,
				   NULL,
				   &status,
				   &error));
	g_assert_no_error(error);
	return g_spawn_check_wait_status(status, NULL);
}

static void
test_jwt_es256(void)
{
	gsize length;
	g_autofree gchar *key = read_data("es256-test-key.pem", &length);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *token =
	    wbd_mqtt_jwt("ES256", key, length, "my-project", 1700000000, 1700003600, &error);
	g_auto(GStrv) parts = NULL;
	g_autofree gchar *tampered = NULL;

	g_assert_no_error(error);
	parts = g_strsplit(token, ".", -1);
	g_assert_cmpuint(g_strv_length(parts), ==, 3);
	g_assert_cmpstr(parts[0], ==, "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9");
	g_assert_cmpstr(parts[1], ==, JWT_CLAIMS);
	/* raw r||s: 64 bytes, 86 base64url characters, no padding */
	g_assert_cmpuint(strlen(parts[2]), ==, 86);
	g_assert_null(strpbrk(token, "=+/"));
	g_assert_true(openssl_verifies("es256-test-pub.pem", token));
	/* a changed claim fails verification: the check can fail */
	tampered = g_strdup_printf("%s.%s.%s",
				   parts[0],
				   "eyJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMSwiYXVkIjoibXktcHJvamVjdCJ9",
				   parts[2]);
	g_assert_false(openssl_verifies("es256-test-pub.pem", tampered));
}

static void
test_state_keys(void)
{
	const gchar *cases[][2] = {{"Power", "power"},
				   {"PowerFactor", "power_factor"},
				   {"PhasePower2", "phase_power2"},
				   {"On", "state"},
				   {"Flow", "water"},
				   {"State", "battery_state"},
				   {"ValveOpenness", "valve_openness"}};
	g_autoptr(JsonObject) state = json_object_new();
	g_autofree gchar *json = NULL;
	gint online = -1;

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *key = wbd_mqtt_state_key(cases[i][0]);
		g_assert_cmpstr(key, ==, cases[i][1]);
	}
	/* 1777 mW * 0.001 is not the double nearest 1.777: it keeps its 17 digits */
	wbd_mqtt_state_merge(state,
			     "{\"Power\":1.7770000000000001,\"On\":true,\"Online\":false}",
			     &online);
	wbd_mqtt_state_merge(state, "{\"Current\":0.451}", &online);
	wbd_mqtt_state_merge(state,
			     "{\"Voltage\":230.837,\"Switch\":false,\"Energy\":16323}",
			     &online);
	/* typed values: enums as strings, times ISO 8601 in UTC (never 1.7e+15), other
	 * booleans as JSON booleans */
	wbd_mqtt_state_merge(state,
			     "{\"Valve\":\"closing\",\"DayFirstTime\":{\"time\":1700000000000000},"
			     "\"MonthLastTime\":{\"time\":1700000000250000},\"Leak\":true}",
			     &online);
	json = wbd_mqtt_state_to_json(state);
	g_assert_cmpstr(json,
			==,
			"{\"power\":1.7770000000000001,\"state\":\"ON\",\"current\":0.451,"
			"\"voltage\":230.837,\"switch\":\"OFF\",\"energy\":16323,"
			"\"valve\":\"closing\",\"day_first_time\":\"2023-11-14T22:13:20Z\","
			"\"month_last_time\":\"2023-11-14T22:13:20.250Z\",\"leak\":true}");
	g_assert_cmpint(online, ==, 0);
}

/* strings are escaped without json-glib's generator, the way it escapes them */
static void
test_state_strings(void)
{
	const gchar *text = "q\"b\\s/\b\f\n\r\t\001\037\177\303\251\342\200\250<";
	g_autoptr(JsonObject) state = json_object_new();
	g_autoptr(JsonNode) node = json_node_init_string(json_node_alloc(), text);
	g_autofree gchar *by_json_glib = json_to_string(node, FALSE);
	g_autoptr(GString) want = g_string_new("{\"k\\\"ey\":");
	g_autofree gchar *json = NULL;
	g_autoptr(JsonNode) back = NULL;
	g_autoptr(GError) error = NULL;

	/* json-glib 1.6 leaves \037 raw, which JSON does not allow: ours escapes it */
	g_string_append(want, by_json_glib);
	g_string_replace(want, "\037", "\\u001f", 0);
	g_string_append_c(want, '}');
	json_object_set_string_member(state, "k\"ey", text);
	json = wbd_mqtt_state_to_json(state);
	g_assert_cmpstr(json, ==, want->str);
	back = json_from_string(json, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(back), "k\"ey"), ==, text);
}

static GPtrArray *
parse(const gchar *text, gchar **id, GError **error)
{
	return wbd_mqtt_parse_command(text, strlen(text), id, error);
}

static void
test_commands(void)
{
	const struct {
		const gchar *in;
		const gchar *property;
		const gchar *value; /* GVariant text, NULL for toggle */
	} ok[] = {
	    {"{\"state\":\"ON\"}", "On", "true"},
	    {"{\"state\":\"off\"}", "On", "false"},
	    {"{\"state\":true}", "On", "true"},
	    {"{\"state\":\"TOGGLE\"}", "On", NULL},
	    {"{\"valve\":\"CLOSE\"}", "Valve", "'closed'"},
	    {"{\"valve\":\"OPEN\"}", "Valve", "'opened'"},
	    {"{\"valve\":\"closed\"}", "Valve", "'closed'"},
	    {"{\"valve\":\"half\"}", "Valve", "'half'"}, /* the device refuses it */
	    {"{\"valve_openness\":40}", "ValveOpenness", "uint32 40"},
	    {"{\"switch\":\"OFF\"}", "Switch", "false"},
	    {"{\"cold_sharing_type\":\"lease\"}", "ColdSharingType", "'lease'"},
	    /* JSON's escapes, a surrogate pair among them (U+1F4A7, a droplet) */
	    {"{\"st\\u0061te\":\"\\u004fN\"}", "On", "true"},
	    {"{\"cold_sharing_type\":\"a\\/b\\ud83d\\udca7\"}", "ColdSharingType",
	     "'a/b\xf0\x9f\x92\xa7'"},
	};
	const struct {
		const gchar *in;
		gint code;
	} bad[] = {
	    {"", WATTBUS_ERROR_INVALID_ARGUMENT},
	    {"ON", WATTBUS_ERROR_INVALID_ARGUMENT},
	    {"[]", WATTBUS_ERROR_INVALID_ARGUMENT},
	    {"{}", WATTBUS_ERROR_INVALID_ARGUMENT},
	    {"{\"id\":1}", WATTBUS_ERROR_INVALID_ARGUMENT},
	    {"{\"state\":\"MAYBE\"}", WATTBUS_ERROR_INVALID_ARGUMENT},
	    {"{\"state\":1}", WATTBUS_ERROR_INVALID_ARGUMENT},
	    {"{\"switch\":\"TOGGLE\"}", WATTBUS_ERROR_INVALID_ARGUMENT},
	    {"{\"valve\":3}", WATTBUS_ERROR_INVALID_ARGUMENT},
	    {"{\"valve_openness\":-1}", WATTBUS_ERROR_INVALID_ARGUMENT},
	    {"{\"valve_openness\":4.5}", WATTBUS_ERROR_INVALID_ARGUMENT},
	    {"{\"valve_openness\":1e300}", WATTBUS_ERROR_INVALID_ARGUMENT},
	    {"{\"colour\":\"red\"}", WATTBUS_ERROR_NOT_SUPPORTED},
	    /* escapes json-glib takes that are not JSON's: octal makes bytes that are not UTF-8 */
	    {"{\"st\\141te\":\"ON\"}", WATTBUS_ERROR_INVALID_ARGUMENT},
	    {"{\"\\777\":\"ON\"}", WATTBUS_ERROR_INVALID_ARGUMENT},
	    {"{\"valve\":\"\\ud800\"}", WATTBUS_ERROR_INVALID_ARGUMENT},
	    {"{\"valve\":\"\\udca7\\ud83d\"}", WATTBUS_ERROR_INVALID_ARGUMENT},
	    {"{\"valve\":\"\\x41\"}", WATTBUS_ERROR_INVALID_ARGUMENT},
	    {"{\"valve\":\"\\u12\"}", WATTBUS_ERROR_INVALID_ARGUMENT},
	    {"{\"valve\":\"\\\"}", WATTBUS_ERROR_INVALID_ARGUMENT},
	};
	g_autoptr(GPtrArray) two = NULL;
	g_autofree gchar *id = NULL;
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
		g_autoptr(GPtrArray) commands = parse(ok[i].in, NULL, &error);
		WbdMqttCommand *command;
		g_assert_no_error(error);
		g_assert_cmpuint(commands->len, ==, 1);
		command = g_ptr_array_index(commands, 0);
		g_assert_cmpstr(command->property, ==, ok[i].property);
		if (ok[i].value == NULL) {
			g_assert_true(command->toggle);
			g_assert_null(command->value);
		} else {
			g_autofree gchar *text = g_variant_print(command->value, TRUE);
			g_assert_cmpstr(text, ==, ok[i].value);
		}
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GPtrArray) commands = parse(bad[i].in, NULL, &error);
		g_assert_null(commands);
		g_assert_error(error, WATTBUS_ERROR, bad[i].code);
		g_clear_error(&error);
	}
	/* several, in order, with the caller's id */
	two = parse("{\"id\":\"x7\",\"valve_openness\":40,\"switch\":\"ON\"}", &id, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(id, ==, "x7");
	g_assert_cmpuint(two->len, ==, 2);
	g_assert_cmpstr(((WbdMqttCommand *)g_ptr_array_index(two, 0))->property, ==, "ValveOpenness");
	g_assert_cmpstr(((WbdMqttCommand *)g_ptr_array_index(two, 1))->property, ==, "Switch");
	/* not NUL-terminated input is read only up to its length */
	g_clear_pointer(&two, g_ptr_array_unref);
	two = wbd_mqtt_parse_command("{\"state\":\"ON\"}garbage", 14, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(two->len, ==, 1);
}

static void
test_result(void)
{
	g_autoptr(GError) error =
	    g_error_new_literal(WATTBUS_ERROR, WATTBUS_ERROR_NOT_FOUND, "No device 'x'");
	g_autoptr(JsonObject) state = json_object_new();
	g_autofree gchar *failed = wbd_mqtt_result_json("c1", error, NULL);
	g_autofree gchar *done = NULL;

	json_object_set_string_member(state, "state", "OFF");
	done = wbd_mqtt_result_json(NULL, NULL, state);
	g_assert_cmpstr(failed,
			==,
			"{\"id\":\"c1\",\"status\":\"error\",\"error\":\"NotFound\",\"message\":\"No "
			"device 'x'\"}");
	g_assert_cmpstr(done, ==, "{\"status\":\"ok\",\"state\":{\"state\":\"OFF\"}}");
}

/* the clouds' forms: a command naming its device, bare words, statuses, telemetry */
static void
test_cloud_forms(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *device = NULL;
	g_autofree gchar *id = NULL;
	g_autoptr(GPtrArray) commands = NULL;
	g_autofree gchar *json = NULL;
	WbdMqttCommand *command;
	const gchar *text = "{\"device\":\"plug1\",\"state\":\"off\",\"id\":7}";
	const gchar *const not_words[] = {"", "onn", "{\"state\":\"ON\"}", "o n", "toggle toggle"};

	commands = wbd_mqtt_parse_device_command(text, strlen(text), &id, &device, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(device, ==, "plug1");
	g_assert_cmpstr(id, ==, "7");
	g_assert_cmpuint(commands->len, ==, 1);
	command = g_ptr_array_index(commands, 0);
	g_assert_cmpstr(command->property, ==, "On");
	g_assert_false(g_variant_get_boolean(command->value));
	g_clear_pointer(&commands, g_ptr_array_unref);
	g_clear_pointer(&device, g_free);

	/* no device, or not a string: refused */
	text = "{\"state\":\"ON\"}";
	commands = wbd_mqtt_parse_device_command(text, strlen(text), NULL, &device, &error);
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_assert_null(commands);
	g_clear_error(&error);
	text = "{\"device\":5,\"state\":\"ON\"}";
	commands = wbd_mqtt_parse_device_command(text, strlen(text), NULL, &device, &error);
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	/* and where the topic names the device, "device" is an unknown command */
	g_assert_null(parse("{\"device\":\"plug1\",\"state\":\"ON\"}", NULL, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_NOT_SUPPORTED);
	g_clear_error(&error);

	/* bare words, any case, white space around */
	commands = wbd_mqtt_parse_plain_command(" Off\n", 5);
	g_assert_nonnull(commands);
	command = g_ptr_array_index(commands, 0);
	g_assert_cmpstr(command->property, ==, "On");
	g_assert_false(g_variant_get_boolean(command->value));
	g_clear_pointer(&commands, g_ptr_array_unref);
	commands = wbd_mqtt_parse_plain_command("TOGGLE", 6);
	g_assert_true(((WbdMqttCommand *)g_ptr_array_index(commands, 0))->toggle);
	g_clear_pointer(&commands, g_ptr_array_unref);
	commands = wbd_mqtt_parse_plain_command("close", 5);
	command = g_ptr_array_index(commands, 0);
	g_assert_cmpstr(command->property, ==, "Valve");
	g_assert_cmpstr(g_variant_get_string(command->value, NULL), ==, "closed");
	g_clear_pointer(&commands, g_ptr_array_unref);
	for (guint i = 0; i < G_N_ELEMENTS(not_words); i++)
		g_assert_null(wbd_mqtt_parse_plain_command(not_words[i], strlen(not_words[i])));

	/* statuses */
	g_assert_cmpint(wbd_mqtt_error_status(NULL), ==, 200);
	g_set_error_literal(&error, WATTBUS_ERROR, WATTBUS_ERROR_NOT_FOUND, "x");
	g_assert_cmpint(wbd_mqtt_error_status(error), ==, 404);
	g_clear_error(&error);
	g_set_error_literal(&error, WATTBUS_ERROR, WATTBUS_ERROR_DEVICE_OFFLINE, "x");
	g_assert_cmpint(wbd_mqtt_error_status(error), ==, 503);
	g_clear_error(&error);
	g_set_error_literal(&error, G_IO_ERROR, G_IO_ERROR_FAILED, "x");
	g_assert_cmpint(wbd_mqtt_error_status(error), ==, 500);
	g_clear_error(&error);

	/* telemetry: 1700000000.25 s is 2023-11-14T22:13:20.250Z */
	json = wbd_mqtt_telemetry_json("plug1",
				       G_GINT64_CONSTANT(1700000000250000),
				       "{\"Power\":12.5,\"On\":true,\"Online\":false}");
	g_assert_cmpstr(json,
			==,
			"{\"device\":\"plug1\",\"time\":\"2023-11-14T22:13:20.250Z\",\"power\":12.5,"
			"\"state\":\"ON\",\"online\":false}");
}

static WbdMqttDesired *
desired_at(GPtrArray *desired, guint index)
{
	return g_ptr_array_index(desired, index);
}

/* the `devices` of Azure's desired properties and IoT Core's config */
static void
test_desired(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root =
	    json_from_string("{\"plug1\":{\"state\":\"OFF\"},"
			     "\"wm\":{\"valve\":\"CLOSE\",\"switch\":\"ON\"},"
			     "\"bad\":{\"state\":\"TOGGLE\"},\"worse\":5,\"gone\":null,"
			     "\"odd\":{\"colour\":\"red\"},\"seven\":{\"state\":7}}",
			     &error);
	g_autoptr(GPtrArray) desired = NULL;
	WbdMqttCommand *command;

	g_assert_no_error(error);
	desired = wbd_mqtt_parse_desired(json_node_get_object(root));
	/* by id; null (a deleted key) left out */
	g_assert_cmpuint(desired->len, ==, 6);
	g_assert_cmpstr(desired_at(desired, 0)->device, ==, "bad");
	g_assert_cmpstr(desired_at(desired, 1)->device, ==, "odd");
	g_assert_cmpstr(desired_at(desired, 2)->device, ==, "plug1");
	g_assert_cmpstr(desired_at(desired, 3)->device, ==, "seven");
	g_assert_cmpstr(desired_at(desired, 4)->device, ==, "wm");
	g_assert_cmpstr(desired_at(desired, 5)->device, ==, "worse");
	g_assert_no_error(desired_at(desired, 2)->error);
	command = g_ptr_array_index(desired_at(desired, 2)->commands, 0);
	g_assert_cmpstr(command->property, ==, "On");
	g_assert_false(g_variant_get_boolean(command->value));
	g_assert_no_error(desired_at(desired, 4)->error);
	g_assert_cmpuint(desired_at(desired, 4)->commands->len, ==, 2);
	command = g_ptr_array_index(desired_at(desired, 4)->commands, 0);
	g_assert_cmpstr(command->property, ==, "Valve");
	g_assert_cmpstr(g_variant_get_string(command->value, NULL), ==, "closed");
	command = g_ptr_array_index(desired_at(desired, 4)->commands, 1);
	g_assert_cmpstr(command->property, ==, "Switch");
	g_assert_true(g_variant_get_boolean(command->value));
	/* a desired state is never TOGGLE; each bad entry has its own error */
	for (guint i = 0; i < desired->len; i++) {
		gint code = i == 1 ? WATTBUS_ERROR_NOT_SUPPORTED : WATTBUS_ERROR_INVALID_ARGUMENT;
		if (i == 2 || i == 4)
			continue;
		g_assert_null(desired_at(desired, i)->commands);
		g_assert_error(desired_at(desired, i)->error, WATTBUS_ERROR, code);
	}
	g_clear_pointer(&desired, g_ptr_array_unref);

	/* no devices: none */
	desired = wbd_mqtt_parse_desired(NULL);
	g_assert_cmpuint(desired->len, ==, 0);
}

/* Home Assistant discovery: one retained config per entity, grouped by a device block */
static JsonObject *
ha_config(GPtrArray *configs, const gchar *topic, JsonNode **root)
{
	for (guint i = 0; i + 1 < configs->len; i += 2) {
		if (!g_str_equal(g_ptr_array_index(configs, i), topic))
			continue;
		*root = json_from_string(g_ptr_array_index(configs, i + 1), NULL);
		g_assert_nonnull(*root);
		return json_node_get_object(*root);
	}
	g_assert_not_reached();
}

static const gchar *
member(JsonObject *object, const gchar *key)
{
	return json_object_get_string_member(object, key);
}

static void
test_ha_discovery(void)
{
	const gchar *const measured[] = {"Power", "Energy", "Voltage", NULL};
	WbdMqttDeviceInfo plug = {.id = "plug.1",
				  .name = "Kettle",
				  .vendor = "TP-Link",
				  .model = "HS110",
				  .firmware = "1.5.6",
				  .outlet = TRUE,
				  .measured = measured};
	WbdMqttDeviceInfo meter = {.id = "water", .water_meter = TRUE, .valve = TRUE};
	g_autoptr(GPtrArray) configs = wbd_mqtt_ha_discovery("wattbus", "homeassistant", &plug);
	g_autoptr(JsonNode) power = NULL;
	g_autoptr(JsonNode) outlet = NULL;
	g_autoptr(JsonNode) water = NULL;
	g_autoptr(JsonNode) valve = NULL;
	JsonObject *object;
	JsonObject *device;

	/* three sensors (Measured, in the table's order) and the switch */
	g_assert_cmpuint(configs->len, ==, 8);
	g_assert_cmpstr(g_ptr_array_index(configs, 0),
			==,
			"homeassistant/sensor/wattbus_plug_1_power/config");
	g_assert_cmpstr(g_ptr_array_index(configs, 2),
			==,
			"homeassistant/sensor/wattbus_plug_1_energy/config");
	g_assert_cmpstr(g_ptr_array_index(configs, 4),
			==,
			"homeassistant/sensor/wattbus_plug_1_voltage/config");
	object = ha_config(configs, "homeassistant/sensor/wattbus_plug_1_power/config", &power);
	g_assert_cmpstr(member(object, "name"), ==, "Power");
	g_assert_cmpstr(member(object, "unique_id"), ==, "wattbus_plug_1_power");
	g_assert_cmpstr(member(object, "state_topic"), ==, "wattbus/plug.1");
	g_assert_cmpstr(member(object, "value_template"), ==, "{{ value_json.power }}");
	g_assert_cmpstr(member(object, "device_class"), ==, "power");
	g_assert_cmpstr(member(object, "state_class"), ==, "measurement");
	g_assert_cmpstr(member(object, "unit_of_measurement"), ==, "W");
	g_assert_cmpstr(member(object, "availability_mode"), ==, "all");
	g_assert_cmpuint(
		json_array_get_length(json_object_get_array_member(object, "availability")), ==, 2);
	device = json_object_get_object_member(object, "device");
	g_assert_cmpstr(json_array_get_string_element(
				json_object_get_array_member(device, "identifiers"), 0),
			==,
			"wattbus_plug_1");
	g_assert_cmpstr(member(device, "name"), ==, "Kettle");
	g_assert_cmpstr(member(device, "manufacturer"), ==, "TP-Link");
	g_assert_cmpstr(member(device, "sw_version"), ==, "1.5.6");
	g_assert_false(json_object_has_member(device, "serial_number")); /* none: left out */
	object = ha_config(configs, "homeassistant/switch/wattbus_plug_1_switch/config", &outlet);
	g_assert_true(json_object_get_null_member(object, "name"));
	g_assert_cmpstr(member(object, "command_topic"), ==, "wattbus/plug.1/set");
	g_assert_cmpstr(member(object, "payload_on"), ==, "{\"state\":\"ON\"}");
	g_assert_cmpstr(member(object, "device_class"), ==, "outlet");
	g_clear_pointer(&configs, g_ptr_array_unref);

	/* a water meter: the water sensor and the valve; no name: the id */
	configs = wbd_mqtt_ha_discovery("wattbus", "homeassistant", &meter);
	g_assert_cmpuint(configs->len, ==, 4);
	object = ha_config(configs, "homeassistant/sensor/wattbus_water_water/config", &water);
	g_assert_cmpstr(member(object, "name"), ==, "Water");
	g_assert_cmpstr(member(object, "unit_of_measurement"), ==, "m³");
	g_assert_cmpstr(
		member(json_object_get_object_member(object, "device"), "name"), ==, "water");
	object = ha_config(configs, "homeassistant/valve/wattbus_water_valve/config", &valve);
	g_assert_cmpstr(member(object, "payload_close"), ==, "{\"valve\":\"closed\"}");
	g_assert_cmpstr(member(object, "state_closing"), ==, "closing");
}

/* a battery: device classes battery (%), power (W), energy_storage (Wh), its State an
 * enum; a gateway's GridState an enum; what Measured lacks has no sensor */
static void
test_ha_discovery_battery(void)
{
	const gchar *const measured[] = {"StateOfCharge", "Power", "Capacity", "State", NULL};
	WbdMqttDeviceInfo battery = {.id = "envoy_batteries", .battery = measured};
	WbdMqttDeviceInfo gateway = {.id = "envoy", .gateway = TRUE};
	g_autoptr(GPtrArray) configs = wbd_mqtt_ha_discovery("wattbus", "homeassistant", &battery);
	g_autoptr(JsonNode) soc = NULL;
	g_autoptr(JsonNode) power = NULL;
	g_autoptr(JsonNode) capacity = NULL;
	g_autoptr(JsonNode) state = NULL;
	g_autoptr(JsonNode) grid = NULL;
	JsonObject *object;
	JsonArray *options;

	g_assert_cmpuint(configs->len, ==, 8);
	object = ha_config(
	    configs, "homeassistant/sensor/wattbus_envoy_batteries_state_of_charge/config", &soc);
	g_assert_cmpstr(member(object, "device_class"), ==, "battery");
	g_assert_cmpstr(member(object, "unit_of_measurement"), ==, "%");
	g_assert_cmpstr(member(object, "state_class"), ==, "measurement");
	g_assert_cmpstr(member(object, "value_template"), ==, "{{ value_json.state_of_charge }}");
	object =
	    ha_config(configs, "homeassistant/sensor/wattbus_envoy_batteries_power/config", &power);
	g_assert_cmpstr(member(object, "device_class"), ==, "power");
	g_assert_cmpstr(member(object, "unit_of_measurement"), ==, "W");
	object = ha_config(
	    configs, "homeassistant/sensor/wattbus_envoy_batteries_capacity/config", &capacity);
	g_assert_cmpstr(member(object, "device_class"), ==, "energy_storage");
	g_assert_cmpstr(member(object, "unit_of_measurement"), ==, "Wh");
	object = ha_config(
	    configs, "homeassistant/sensor/wattbus_envoy_batteries_battery_state/config", &state);
	g_assert_cmpstr(member(object, "device_class"), ==, "enum");
	g_assert_cmpstr(member(object, "value_template"), ==, "{{ value_json.battery_state }}");
	g_assert_false(json_object_has_member(object, "unit_of_measurement"));
	options = json_object_get_array_member(object, "options");
	g_assert_cmpuint(json_array_get_length(options), ==, 4);
	g_assert_cmpstr(json_array_get_string_element(options, 0), ==, "charging");
	g_clear_pointer(&configs, g_ptr_array_unref);

	configs = wbd_mqtt_ha_discovery("wattbus", "homeassistant", &gateway);
	g_assert_cmpuint(configs->len, ==, 2);
	object = ha_config(configs, "homeassistant/sensor/wattbus_envoy_grid_state/config", &grid);
	g_assert_cmpstr(member(object, "device_class"), ==, "enum");
	g_assert_cmpstr(member(object, "value_template"), ==, "{{ value_json.grid_state }}");
	options = json_object_get_array_member(object, "options");
	g_assert_cmpstr(json_array_get_string_element(options, 1), ==, "off-grid");
}

/* Tuya edge commands: what the message has, hostile input leaving members NULL */
static void
test_tuya_edge_command(void)
{
	const gchar *full = "{\"t\":1700000000,\"cid\":\"plug1\",\"request_id\":\"r-7\","
			    "\"param\":{\"id\":\"1\",\"value\":false}}";
	const gchar *bad[] = {
		"", "[]", "{", "true", "{\"cid\":3,\"param\":[]}", "{\"param\":{\"id\":1}}"};
	g_autofree gchar *huge = NULL;

	{
		g_auto(WbdTuyaEdgeCommand) command = {0};
		wbd_tuya_edge_parse_command(full, strlen(full), &command);
		g_assert_cmpstr(command.cid, ==, "plug1");
		g_assert_cmpstr(command.request_id, ==, "r-7");
		g_assert_cmpstr(command.dp_id, ==, "1");
		g_assert_nonnull(command.value);
		g_assert_cmpint(json_node_get_value_type(command.value), ==, G_TYPE_BOOLEAN);
		g_assert_false(json_node_get_boolean(command.value));
	}
	{
		/* no param: the ids only (the gateway answers that it is missing) */
		g_auto(WbdTuyaEdgeCommand) command = {0};
		wbd_tuya_edge_parse_command("{\"cid\":\"plug1\"}", 15, &command);
		g_assert_cmpstr(command.cid, ==, "plug1");
		g_assert_null(command.request_id);
		g_assert_null(command.dp_id);
		g_assert_null(command.value);
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_auto(WbdTuyaEdgeCommand) command = {0};
		wbd_tuya_edge_parse_command(bad[i], strlen(bad[i]), &command);
		g_assert_null(command.cid);
		g_assert_null(command.dp_id);
		g_assert_null(command.value);
	}
	{
		/* longer than a command may be: not read at all */
		g_auto(WbdTuyaEdgeCommand) command = {0};
		g_autofree gchar *pad = g_strnfill(WBD_MQTT_MAX_COMMAND, ' ');
		huge = g_strdup_printf("{\"cid\":\"plug1\"%s}", pad);
		wbd_tuya_edge_parse_command(huge, strlen(huge), &command);
		g_assert_null(command.cid);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mqtt/azure-sas", test_azure_sas);
	g_test_add_func("/mqtt/tuya-password", test_tuya_password);
	g_test_add_func("/mqtt/jwt-rs256", test_jwt_rs256);
	g_test_add_func("/mqtt/jwt-es256", test_jwt_es256);
	g_test_add_func("/mqtt/state-keys", test_state_keys);
	g_test_add_func("/mqtt/state-strings", test_state_strings);
	g_test_add_func("/mqtt/commands", test_commands);
	g_test_add_func("/mqtt/result", test_result);
	g_test_add_func("/mqtt/cloud-forms", test_cloud_forms);
	g_test_add_func("/mqtt/desired", test_desired);
	g_test_add_func("/mqtt/ha-discovery", test_ha_discovery);
	g_test_add_func("/mqtt/ha-discovery-battery", test_ha_discovery_battery);
	g_test_add_func("/mqtt/tuya-edge-command", test_tuya_edge_command);
	return g_test_run();
}
