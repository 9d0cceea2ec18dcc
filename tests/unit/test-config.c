/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <wattbus-glib.h>

#include "wbd-config.h"
#include "wbd-kasa-driver.h"

/* the daemon core logs in this domain */
#define CORE_DOMAIN "Wattbus"

typedef struct {
	gchar *root;
	gchar *config_dir;
	gchar *state_dir;
} Fixture;

static void
rm_rf(const gchar *path)
{
	if (!g_file_test(path, G_FILE_TEST_IS_SYMLINK) && g_file_test(path, G_FILE_TEST_IS_DIR)) {
		g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
		const gchar *name;
		while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
			g_autofree gchar *child = g_build_filename(path, name, NULL);
			rm_rf(child);
		}
	}
	g_remove(path);
}

static void
fixture_setup(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dropins = NULL;

	fixture->root = g_dir_make_tmp("wattbus-test-config-XXXXXX", &error);
	g_assert_no_error(error);
	fixture->config_dir = g_build_filename(fixture->root, "etc", NULL);
	fixture->state_dir = g_build_filename(fixture->root, "state", NULL);
	dropins = g_build_filename(fixture->config_dir, WBD_CONFIG_DROPIN_DIR, NULL);
	g_assert_cmpint(g_mkdir_with_parents(dropins, 0700), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(fixture->state_dir, 0700), ==, 0);
}

static void
fixture_teardown(Fixture *fixture, gconstpointer user_data)
{
	rm_rf(fixture->root);
	g_assert_false(g_file_test(fixture->root, G_FILE_TEST_EXISTS));
	g_free(fixture->root);
	g_free(fixture->config_dir);
	g_free(fixture->state_dir);
}

static void
write_file(const gchar *dir, const gchar *name, const gchar *contents)
{
	g_autofree gchar *path = g_build_filename(dir, name, NULL);
	g_autoptr(GError) error = NULL;
	g_file_set_contents(path, contents, -1, &error);
	g_assert_no_error(error);
}

static void
write_config(Fixture *fixture, const gchar *name, const gchar *contents)
{
	write_file(fixture->config_dir, name, contents);
}

static WbdDeviceConfig *
find_device(WbdConfig *config, const gchar *id)
{
	for (guint i = 0; i < config->devices->len; i++) {
		WbdDeviceConfig *dev = g_ptr_array_index(config->devices, i);
		if (g_strcmp0(dev->id, id) == 0)
			return dev;
	}
	return NULL;
}

static const gchar *
setting(WbdConfig *config, const gchar *id, const gchar *key)
{
	WbdDeviceConfig *dev = find_device(config, id);
	g_assert_nonnull(dev);
	return g_hash_table_lookup(dev->settings, key);
}

static GHashTable *
make_settings(const gchar *first_key, ...) G_GNUC_NULL_TERMINATED;

static GHashTable *
make_settings(const gchar *first_key, ...)
{
	GHashTable *settings = wbd_config_settings_new();
	va_list args;
	va_start(args, first_key);
	for (const gchar *key = first_key; key != NULL; key = va_arg(args, const gchar *))
		g_hash_table_insert(settings, g_strdup(key), g_strdup(va_arg(args, const gchar *)));
	va_end(args);
	return settings;
}

static void
test_config_empty(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdConfig) config = NULL;
	g_autofree gchar *missing = g_build_filename(fixture->root, "nonexistent", NULL);

	/* no files at all is a valid, empty configuration */
	config = wbd_config_load(fixture->config_dir, fixture->state_dir, TRUE, &error);
	g_assert_no_error(error);
	g_assert_nonnull(config);
	g_assert_cmpuint(config->devices->len, ==, 0);
	g_assert_cmpuint(config->exporters->len, ==, 0);
	g_clear_pointer(&config, wbd_config_free);

	config = wbd_config_load(missing, missing, TRUE, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(config->devices->len, ==, 0);
	g_clear_pointer(&config, wbd_config_free);

	config = wbd_config_load(missing, NULL, TRUE, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(config->devices->len, ==, 0);
}

static void
test_config_main(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdConfig) config = NULL;
	WbdDeviceConfig *dev;

	write_config(fixture,
		     WBD_CONFIG_FILE,
		     "# comment\n"
		     "[device desk]\n"
		     "driver=kasa\n"
		     "address=192.0.2.1\n"
		     "name=Desk lamp\n"
		     "poll-interval=1\n"
		     "enabled=false\n"
		     "\n"
		     "[device heater]\n"
		     "id=ignored\n"
		     "driver = kasa\n"
		     "address = 192.0.2.2:9999  \n"
		     "poll-interval=86400\n"
		     "enabled=true\n"
		     "http-port=80\n"
		     "\n"
		     "[exporter mqtt]\n"
		     "host=localhost\n");
	config = wbd_config_load(fixture->config_dir, fixture->state_dir, TRUE, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(config->devices->len, ==, 2);

	dev = g_ptr_array_index(config->devices, 0);
	g_assert_cmpstr(dev->id, ==, "desk");
	g_assert_cmpint(dev->origin, ==, WBD_CONFIG_ORIGIN_CONFIG);
	g_assert_cmpuint(g_hash_table_size(dev->settings), ==, 5);
	g_assert_cmpstr(g_hash_table_lookup(dev->settings, "driver"), ==, "kasa");
	g_assert_cmpstr(g_hash_table_lookup(dev->settings, "address"), ==, "192.0.2.1");
	g_assert_cmpstr(g_hash_table_lookup(dev->settings, "name"), ==, "Desk lamp");
	g_assert_cmpstr(g_hash_table_lookup(dev->settings, "poll-interval"), ==, "1");
	g_assert_cmpstr(g_hash_table_lookup(dev->settings, "enabled"), ==, "false");

	/* "id" is the group name, never a setting; values are trimmed */
	dev = g_ptr_array_index(config->devices, 1);
	g_assert_cmpstr(dev->id, ==, "heater");
	g_assert_false(g_hash_table_contains(dev->settings, "id"));
	g_assert_cmpstr(g_hash_table_lookup(dev->settings, "address"), ==, "192.0.2.2:9999");
	g_assert_cmpstr(g_hash_table_lookup(dev->settings, "http-port"), ==, "80");

	g_assert_cmpuint(config->exporters->len, ==, 1);
	g_assert_cmpstr(
	    ((WbdExporterConfig *)g_ptr_array_index(config->exporters, 0))->id, ==, "mqtt");
}

static void
test_config_dropins(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdConfig) config = NULL;

	write_config(fixture,
		     WBD_CONFIG_FILE,
		     "[device a]\ndriver=kasa\naddress=192.0.2.1\nname=A\npoll-interval=5\n"
		     "[device b]\ndriver=kasa\naddress=192.0.2.2\n");
	/* created out of order: the names decide, not the directory order */
	write_config(fixture,
		     WBD_CONFIG_DROPIN_DIR "/20-late.conf",
		     "[device a]\ndriver=kasa\naddress=192.0.2.20\n");
	write_config(fixture,
		     WBD_CONFIG_DROPIN_DIR "/10-early.conf",
		     "[device a]\ndriver=kasa\naddress=192.0.2.10\nname=Early\n"
		     "[device c]\ndriver=kasa\naddress=192.0.2.3\n");
	/* not drop-ins: would be syntax errors if they were read */
	write_config(fixture, WBD_CONFIG_DROPIN_DIR "/README", "not a key file\n");
	write_config(fixture, WBD_CONFIG_DROPIN_DIR "/.hidden.conf", "not a key file\n");
	write_config(fixture, WBD_CONFIG_DROPIN_DIR "/30-old.conf.bak", "not a key file\n");

	config = wbd_config_load(fixture->config_dir, fixture->state_dir, TRUE, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(config->devices->len, ==, 3);

	/* the last group wins as a whole: nothing of the earlier ones is merged in */
	g_assert_cmpstr(setting(config, "a", "address"), ==, "192.0.2.20");
	g_assert_null(setting(config, "a", "name"));
	g_assert_null(setting(config, "a", "poll-interval"));
	g_assert_cmpuint(g_hash_table_size(find_device(config, "a")->settings), ==, 2);
	g_assert_cmpstr(setting(config, "b", "address"), ==, "192.0.2.2");
	g_assert_cmpstr(setting(config, "c", "address"), ==, "192.0.2.3");
	for (guint i = 0; i < config->devices->len; i++) {
		WbdDeviceConfig *dev = g_ptr_array_index(config->devices, i);
		g_assert_cmpint(dev->origin, ==, WBD_CONFIG_ORIGIN_CONFIG);
	}
}

static void
test_config_state(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdConfig) config = NULL;

	write_config(fixture,
		     WBD_CONFIG_FILE,
		     "[device shared]\ndriver=kasa\naddress=192.0.2.1\nname=From config\n");
	write_file(fixture->state_dir,
		   WBD_STATE_DEVICES_FILE,
		   "[device shared]\ndriver=kasa\naddress=192.0.2.99\n"
		   "[device added]\ndriver=kasa\naddress=192.0.2.2\n");

	g_test_expect_message(
	    CORE_DOMAIN, G_LOG_LEVEL_WARNING, "*device 'shared' is also configured*");
	config = wbd_config_load(fixture->config_dir, fixture->state_dir, TRUE, &error);
	g_test_assert_expected_messages();
	g_assert_no_error(error);
	g_assert_cmpuint(config->devices->len, ==, 2);

	/* the administrator's configuration takes precedence */
	g_assert_cmpint(find_device(config, "shared")->origin, ==, WBD_CONFIG_ORIGIN_CONFIG);
	g_assert_cmpstr(setting(config, "shared", "address"), ==, "192.0.2.1");
	g_assert_cmpstr(setting(config, "shared", "name"), ==, "From config");
	g_assert_cmpint(find_device(config, "added")->origin, ==, WBD_CONFIG_ORIGIN_STATE);
	g_assert_cmpstr(setting(config, "added", "address"), ==, "192.0.2.2");
	g_clear_pointer(&config, wbd_config_free);

	/* without a state directory the state file is not read */
	config = wbd_config_load(fixture->config_dir, NULL, TRUE, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(config->devices->len, ==, 1);
}

static void
test_config_state_lenient(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdConfig) config = NULL;

	/* a bad entry in the daemon's own file never stops a strict reload */
	write_file(fixture->state_dir,
		   WBD_STATE_DEVICES_FILE,
		   "[device gone]\ndriver=oldplugin\naddress=192.0.2.1\n"
		   "[device fine]\ndriver=kasa\naddress=192.0.2.2\n");
	g_test_expect_message(
	    CORE_DOMAIN, G_LOG_LEVEL_WARNING, "*'gone'*unknown driver 'oldplugin'*");
	config = wbd_config_load(fixture->config_dir, fixture->state_dir, TRUE, &error);
	g_test_assert_expected_messages();
	g_assert_no_error(error);
	g_assert_cmpuint(config->devices->len, ==, 1);
	g_assert_nonnull(find_device(config, "fine"));
}

typedef struct {
	const gchar *contents;
	const gchar *expect[3]; /* substrings of the error message */
} BadConfig;

static const BadConfig bad_configs[] = {
    {"[device plug1]\ndriver=kasa\naddress=192.0.2.1\ncolour=red\n",
     {"'plug1'", "'colour'", "kasa"}},
    {"[device plug1]\ndriver=nosuch\naddress=192.0.2.1\n", {"'plug1'", "'nosuch'", "known: kasa"}},
    {"[device plug1]\naddress=192.0.2.1\n", {"'plug1'", "driver"}},
    {"[device plug1]\ndriver=kasa\n", {"'plug1'", "address"}},
    {"[device plug1]\ndriver=kasa\naddress=\n", {"'plug1'", "address"}},
    {"[device plug1]\ndriver=kasa\naddress=192.0.2.1 9999\n", {"'plug1'", "address"}},
    {"[device plug1]\ndriver=kasa\naddress=192.0.2.1\npoll-interval=0\n",
     {"'plug1'", "poll-interval"}},
    {"[device plug1]\ndriver=kasa\naddress=192.0.2.1\npoll-interval=86401\n",
     {"'plug1'", "poll-interval"}},
    {"[device plug1]\ndriver=kasa\naddress=192.0.2.1\npoll-interval=abc\n",
     {"'plug1'", "poll-interval"}},
    {"[device plug1]\ndriver=kasa\naddress=192.0.2.1\npoll-interval=-5\n",
     {"'plug1'", "poll-interval"}},
    {"[device plug1]\ndriver=kasa\naddress=192.0.2.1\npoll-interval=1.5\n",
     {"'plug1'", "poll-interval"}},
    {"[device plug1]\ndriver=kasa\naddress=192.0.2.1\npoll-interval=\n",
     {"'plug1'", "poll-interval"}},
    {"[device plug1]\ndriver=kasa\naddress=192.0.2.1\nenabled=yes\n", {"'plug1'", "enabled"}},
    {"[device plug 1]\ndriver=kasa\naddress=192.0.2.1\n", {"'plug 1'"}},
    {"[device plug/1]\ndriver=kasa\naddress=192.0.2.1\n", {"'plug/1'"}},
    {"[device plüg]\ndriver=kasa\naddress=192.0.2.1\n", {"'plüg'"}},
    {"[device ]\ndriver=kasa\naddress=192.0.2.1\n", {"1 to 64"}},
    {"[device aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n"
     "driver=kasa\naddress=192.0.2.1\n",
     {"1 to 64"}},
    {"[devices plug1]\ndriver=kasa\naddress=192.0.2.1\n", {"[devices plug1]"}},
    {"[plug1]\ndriver=kasa\naddress=192.0.2.1\n", {"[plug1]"}},
    {"this is not a key file\n", {WBD_CONFIG_FILE}},
    {"[device plug1\ndriver=kasa\n", {WBD_CONFIG_FILE}},
};

static void
test_config_strict_errors(Fixture *fixture, gconstpointer user_data)
{
	for (guint i = 0; i < G_N_ELEMENTS(bad_configs); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(WbdConfig) config = NULL;
		g_autofree gchar *contents = g_strconcat("[device "
							 "good]\ndriver=kasa\naddress=192.0.2."
							 "200\n\n",
							 bad_configs[i].contents,
							 NULL);

		write_config(fixture, WBD_CONFIG_FILE, contents);
		config = wbd_config_load(fixture->config_dir, fixture->state_dir, TRUE, &error);
		g_test_message("case %u: %s", i, error != NULL ? error->message : "(no error)");
		g_assert_null(config);
		g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
		g_assert_true(g_utf8_validate(error->message, -1, NULL));
		for (guint j = 0;
		     j < G_N_ELEMENTS(bad_configs[i].expect) && bad_configs[i].expect[j] != NULL;
		     j++)
			g_assert_nonnull(strstr(error->message, bad_configs[i].expect[j]));
	}
}

static void
test_config_strict_dropin(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdConfig) config = NULL;

	write_config(fixture, WBD_CONFIG_FILE, "[device good]\ndriver=kasa\naddress=192.0.2.1\n");
	write_config(fixture,
		     WBD_CONFIG_DROPIN_DIR "/50-bad.conf",
		     "[device other]\ndriver=kasa\naddress=192.0.2.2\nenabled=1\n");
	config = wbd_config_load(fixture->config_dir, fixture->state_dir, TRUE, &error);
	g_assert_null(config);
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	/* the message says which file and which device */
	g_assert_nonnull(strstr(error->message, "50-bad.conf"));
	g_assert_nonnull(strstr(error->message, "'other'"));
}

static void
test_config_unreadable(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdConfig) config = NULL;
	g_autofree gchar *main_path = g_build_filename(fixture->config_dir, WBD_CONFIG_FILE, NULL);
	g_autoptr(GString) big = g_string_new("[device big]\ndriver=kasa\naddress=192.0.2.1\n");

	/* a directory where the file should be */
	g_assert_cmpint(g_mkdir(main_path, 0700), ==, 0);
	config = wbd_config_load(fixture->config_dir, fixture->state_dir, TRUE, &error);
	g_assert_null(config);
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(error->message, main_path));
	g_clear_error(&error);
	g_assert_cmpint(g_rmdir(main_path), ==, 0);

	/* over 1 MiB */
	while (big->len <= 1024 * 1024)
		g_string_append(big, "# padding padding padding padding padding padding padding\n");
	write_config(fixture, WBD_CONFIG_FILE, big->str);
	config = wbd_config_load(fixture->config_dir, fixture->state_dir, TRUE, &error);
	g_assert_null(config);
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(error->message, "larger than"));
}

static void
test_config_lenient(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdConfig) config = NULL;

	write_config(fixture,
		     WBD_CONFIG_FILE,
		     "[device good1]\ndriver=kasa\naddress=192.0.2.1\n"
		     "[device bad-driver]\ndriver=nosuch\naddress=192.0.2.2\n"
		     "[device no-address]\ndriver=kasa\n"
		     "[device slow]\ndriver=kasa\naddress=192.0.2.3\npoll-interval=0\n"
		     "[device bad id!]\ndriver=kasa\naddress=192.0.2.4\n"
		     "[whatever]\nx=1\n"
		     "[device extra]\ndriver=kasa\naddress=192.0.2.5\ncolour=red\n"
		     "[device good2]\ndriver=kasa\naddress=192.0.2.6\n");
	write_config(fixture, WBD_CONFIG_DROPIN_DIR "/50-broken.conf", "[device x\n");
	write_config(fixture,
		     WBD_CONFIG_DROPIN_DIR "/60-more.conf",
		     "[device good3]\ndriver=kasa\naddress=192.0.2.7\n");

	/* each problem is logged once, in file order, and the rest is kept */
	g_test_expect_message(
	    CORE_DOMAIN, G_LOG_LEVEL_WARNING, "*'bad-driver'*unknown driver 'nosuch'*");
	g_test_expect_message(CORE_DOMAIN, G_LOG_LEVEL_WARNING, "*'no-address' has no address*");
	g_test_expect_message(CORE_DOMAIN, G_LOG_LEVEL_WARNING, "*'slow'*poll-interval*");
	g_test_expect_message(CORE_DOMAIN, G_LOG_LEVEL_WARNING, "*'bad id!'*");
	g_test_expect_message(CORE_DOMAIN, G_LOG_LEVEL_WARNING, "*unknown group [whatever]*");
	g_test_expect_message(
	    CORE_DOMAIN, G_LOG_LEVEL_WARNING, "*'extra'*unknown setting 'colour'*");
	g_test_expect_message(CORE_DOMAIN, G_LOG_LEVEL_WARNING, "*50-broken.conf*");
	config = wbd_config_load(fixture->config_dir, fixture->state_dir, FALSE, &error);
	g_test_assert_expected_messages();
	g_assert_no_error(error);
	g_assert_nonnull(config);

	g_assert_cmpuint(config->devices->len, ==, 4);
	g_assert_cmpstr(
	    ((WbdDeviceConfig *)g_ptr_array_index(config->devices, 0))->id, ==, "good1");
	g_assert_cmpstr(
	    ((WbdDeviceConfig *)g_ptr_array_index(config->devices, 1))->id, ==, "extra");
	g_assert_cmpstr(
	    ((WbdDeviceConfig *)g_ptr_array_index(config->devices, 2))->id, ==, "good2");
	g_assert_cmpstr(
	    ((WbdDeviceConfig *)g_ptr_array_index(config->devices, 3))->id, ==, "good3");
	/* an unknown key is only a warning at start-up */
	g_assert_cmpstr(setting(config, "extra", "colour"), ==, "red");
}

static void
test_config_validate_device(void)
{
	g_autoptr(GHashTable) settings =
	    make_settings("driver", "kasa", "address", "192.0.2.1", NULL);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *long_value = g_strnfill(4096, 'x');
	g_autofree gchar *too_long = g_strnfill(4097, 'x');

	g_assert_true(wbd_config_validate_device("plug", settings, TRUE, &error));
	g_assert_no_error(error);

	g_hash_table_insert(settings, g_strdup("name"), g_strdup(long_value));
	g_assert_true(wbd_config_validate_device("plug", settings, TRUE, &error));
	g_assert_no_error(error);

	g_hash_table_insert(settings, g_strdup("name"), g_strdup(too_long));
	g_assert_false(wbd_config_validate_device("plug", settings, TRUE, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	/* the value itself may be a secret and is never quoted */
	g_assert_nonnull(strstr(error->message, "'name'"));
	g_assert_null(strstr(error->message, "xxxx"));
	g_clear_error(&error);

	g_hash_table_insert(settings, g_strdup("name"), g_strdup("\xff\xfe"));
	g_assert_false(wbd_config_validate_device("plug", settings, TRUE, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_assert_true(g_utf8_validate(error->message, -1, NULL));
	g_clear_error(&error);

	g_hash_table_insert(settings, g_strdup("name"), g_strdup("ok"));
	g_hash_table_insert(settings, g_strdup("address"), g_strdup("192.0.2.1\t"));
	g_assert_false(wbd_config_validate_device("plug", settings, TRUE, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);

	/* a non-UTF-8 id is not echoed */
	g_hash_table_insert(settings, g_strdup("address"), g_strdup("192.0.2.1"));
	g_assert_false(wbd_config_validate_device("pl\xffug", settings, TRUE, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_assert_true(g_utf8_validate(error->message, -1, NULL));
	g_clear_error(&error);

	/* unknown keys: an error when strict, a warning otherwise */
	g_hash_table_insert(settings, g_strdup("colour"), g_strdup("red"));
	g_assert_false(wbd_config_validate_device("plug", settings, TRUE, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	g_test_expect_message(
	    CORE_DOMAIN, G_LOG_LEVEL_WARNING, "*'plug'*unknown setting 'colour'*");
	g_assert_true(wbd_config_validate_device("plug", settings, FALSE, &error));
	g_test_assert_expected_messages();
	g_assert_no_error(error);
}

static void
test_config_make_id(void)
{
	static const struct {
		const gchar *name;
		const gchar *id;
	} cases[] = {
	    {"Living Room plug #2", "living-room-plug-2"},
	    {"", "device"},
	    {"  --  ", "device"},
	    {"  Kitchen  ", "kitchen"},
	    {"HS110(EU) #1", "hs110-eu-1"},
	    {"already-an-id", "already-an-id"},
	    {"UPPER_lower", "upper-lower"},
	    {"Küche Steckdose", "k-che-steckdose"},
	};
	g_autofree gchar *null_id = wbd_config_make_id(NULL);
	g_autofree gchar *long_name = g_strnfill(100, 'A');
	g_autofree gchar *long_id = wbd_config_make_id(long_name);
	g_autofree gchar *expected_long = g_strnfill(64, 'a');

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *id = wbd_config_make_id(cases[i].name);
		g_assert_cmpstr(id, ==, cases[i].id);
		g_assert_true(wbd_config_validate_id(id, NULL));
	}
	g_assert_cmpstr(null_id, ==, "device");
	/* very long names are cut to the longest id allowed */
	g_assert_cmpstr(long_id, ==, expected_long);
	g_assert_true(wbd_config_validate_id(long_id, NULL));
}

/* checks an id made from a name: a valid id, whatever the name */
static void
check_made_id(const gchar *id)
{
	g_autoptr(GError) error = NULL;
	gsize len = strlen(id);

	g_assert_cmpuint(len, >, 0);
	g_assert_false(g_str_has_prefix(id, "-"));
	g_assert_false(g_str_has_suffix(id, "-"));
	for (const gchar *p = id; *p != '\0'; p++)
		g_assert_true(g_ascii_islower(*p) || g_ascii_isdigit(*p) || *p == '-');
	g_assert_cmpuint(len, <=, 64);
	g_assert_true(wbd_config_validate_id(id, &error));
	g_assert_no_error(error);
}

/* a separator right at the length limit must not push the id over it */
static void
test_config_make_id_limit(void)
{
	for (guint len = 60; len <= 66; len++) {
		g_autofree gchar *word = g_strnfill(len, 'a');
		g_autofree gchar *name = g_strconcat(word, " b c", NULL);
		g_autofree gchar *id = wbd_config_make_id(name);

		g_test_message("%u: %s (%u characters)", len, id, (guint)strlen(id));
		check_made_id(id);
		g_assert_true(g_str_has_prefix(id, word) || g_str_has_prefix(word, id));
	}
}

/* whatever the name, the result is a valid id */
static void
test_config_make_id_random(void)
{
	static const gchar alphabet[] = "aZ09 -_#.!/\t\xc3\xbc\xff";
	for (guint round = 0; round < 2000; round++) {
		guint len = (guint)g_test_rand_int_range(0, 150);
		g_autofree gchar *name = g_malloc(len + 1);
		g_autofree gchar *id = NULL;

		for (guint i = 0; i < len; i++)
			name[i] = alphabet[g_test_rand_int_range(0, sizeof(alphabet) - 1)];
		name[len] = '\0';
		id = wbd_config_make_id(name);
		check_made_id(id);
	}
}

static void
test_config_settings_from_variant(void)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	g_autoptr(GVariant) dict = NULL;
	g_autoptr(GHashTable) settings = NULL;
	g_autoptr(GError) error = NULL;

	g_variant_builder_add(&builder, "{sv}", "id", g_variant_new_string("plug-1"));
	g_variant_builder_add(&builder, "{sv}", "driver", g_variant_new_string("kasa"));
	g_variant_builder_add(&builder, "{sv}", "address", g_variant_new_string("192.0.2.1"));
	g_variant_builder_add(&builder, "{sv}", "poll-interval", g_variant_new_uint32(30));
	g_variant_builder_add(&builder, "{sv}", "enabled", g_variant_new_boolean(FALSE));
	dict = g_variant_ref_sink(g_variant_builder_end(&builder));
	settings = wbd_config_settings_from_variant(dict, &error);
	g_assert_no_error(error);
	g_assert_nonnull(settings);
	g_assert_cmpuint(g_hash_table_size(settings), ==, 5);
	g_assert_cmpstr(g_hash_table_lookup(settings, "id"), ==, "plug-1");
	g_assert_cmpstr(g_hash_table_lookup(settings, "driver"), ==, "kasa");
	g_assert_cmpstr(g_hash_table_lookup(settings, "poll-interval"), ==, "30");
	g_assert_cmpstr(g_hash_table_lookup(settings, "enabled"), ==, "false");
	g_clear_pointer(&settings, g_hash_table_unref);
	g_clear_pointer(&dict, g_variant_unref);

	/* empty is fine */
	dict = g_variant_ref_sink(g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0));
	settings = wbd_config_settings_from_variant(dict, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(g_hash_table_size(settings), ==, 0);
}

static void
assert_variant_rejected(const gchar *text, const gchar *expect1, const gchar *expect2)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) dict =
	    g_variant_parse(G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &error);
	g_autoptr(GHashTable) settings = NULL;

	g_assert_no_error(error);
	settings = wbd_config_settings_from_variant(dict, &error);
	g_test_message("%s: %s", text, error != NULL ? error->message : "(accepted)");
	g_assert_null(settings);
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(error->message, expect1));
	if (expect2 != NULL)
		g_assert_nonnull(strstr(error->message, expect2));
}

static void
test_config_settings_from_variant_bad(void)
{
	assert_variant_rejected("{'driver': <'kasa'>, 'address': <int32 42>}", "'address'", "(s)");
	/* only poll-interval may be a number, and only a u */
	assert_variant_rejected("{'poll-interval': <int32 30>}", "'poll-interval'", NULL);
	assert_variant_rejected("{'poll-interval': <uint64 30>}", "'poll-interval'", NULL);
	assert_variant_rejected("{'name': <uint32 30>}", "'name'", NULL);
	assert_variant_rejected("{'enabled': <'yes'>, 'driver': <true>}", "'driver'", NULL);
	assert_variant_rejected("{'address': <<'192.0.2.1'>>}", "'address'", NULL);
	assert_variant_rejected("{'address': <['192.0.2.1']>}", "'address'", NULL);
	assert_variant_rejected("{'driver': <'kasa'>, 'driver': <'kasa'>}", "'driver'", "twice");
	assert_variant_rejected(
	    "{'poll-interval': <uint32 5>, 'poll-interval': <'5'>}", "'poll-interval'", "twice");
}

static void
test_config_settings_equal(void)
{
	g_autoptr(GHashTable) a = make_settings("driver", "kasa", "address", "192.0.2.1", NULL);
	g_autoptr(GHashTable) b = make_settings("address", "192.0.2.1", "driver", "kasa", NULL);
	g_autoptr(GHashTable) c = make_settings("driver", "kasa", "address", "192.0.2.2", NULL);
	g_autoptr(GHashTable) d = make_settings("driver", "kasa", NULL);
	g_autoptr(GHashTable) e = make_settings("driver", "kasa", "name", "192.0.2.1", NULL);

	g_assert_true(wbd_config_settings_equal(a, b));
	g_assert_false(wbd_config_settings_equal(a, c));
	g_assert_false(wbd_config_settings_equal(a, d));
	g_assert_false(wbd_config_settings_equal(d, a));
	g_assert_false(wbd_config_settings_equal(a, e));
}

static void
assert_file_mode(const gchar *path, guint mode)
{
	GStatBuf st;
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 07777, ==, mode);
}

static void
test_state_round_trip(Fixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *state_dir = g_build_filename(fixture->state_dir, "sub", "dir", NULL);
	g_autofree gchar *path = g_build_filename(state_dir, WBD_STATE_DEVICES_FILE, NULL);
	g_autoptr(GHashTable) desk = make_settings("driver",
						   "kasa",
						   "address",
						   "192.0.2.7",
						   "name",
						   "Desk; lamp #1 = [x]\nsecond line \xc3\xa9",
						   "poll-interval",
						   "15",
						   NULL);
	g_autoptr(GHashTable) desk2 = make_settings("driver", "kasa", "address", "192.0.2.8", NULL);
	g_autoptr(GHashTable) fan = make_settings("driver", "kasa", "address", "fan.example", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdConfig) config = NULL;

	/* removing from a file that is not there is not an error, and writes nothing */
	g_assert_true(wbd_state_remove_device(state_dir, "desk", &error));
	g_assert_no_error(error);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));

	/* the state directory is created on the first save */
	g_assert_true(wbd_state_save_device(state_dir, "desk", desk, &error));
	g_assert_no_error(error);
	assert_file_mode(path, 0600);

	config = wbd_config_load(fixture->config_dir, state_dir, TRUE, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(config->devices->len, ==, 1);
	g_assert_cmpint(find_device(config, "desk")->origin, ==, WBD_CONFIG_ORIGIN_STATE);
	g_assert_true(wbd_config_settings_equal(find_device(config, "desk")->settings, desk));
	g_clear_pointer(&config, wbd_config_free);

	/* a second device, then the first one replaced as a whole */
	g_assert_true(wbd_state_save_device(state_dir, "fan", fan, &error));
	g_assert_no_error(error);
	g_assert_true(wbd_state_save_device(state_dir, "desk", desk2, &error));
	g_assert_no_error(error);
	assert_file_mode(path, 0600);
	config = wbd_config_load(fixture->config_dir, state_dir, TRUE, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(config->devices->len, ==, 2);
	g_assert_true(wbd_config_settings_equal(find_device(config, "desk")->settings, desk2));
	g_assert_true(wbd_config_settings_equal(find_device(config, "fan")->settings, fan));
	g_clear_pointer(&config, wbd_config_free);

	/* remove one, then the same again and one that never was */
	g_assert_true(wbd_state_remove_device(state_dir, "desk", &error));
	g_assert_no_error(error);
	g_assert_true(wbd_state_remove_device(state_dir, "desk", &error));
	g_assert_no_error(error);
	g_assert_true(wbd_state_remove_device(state_dir, "nosuch", &error));
	g_assert_no_error(error);
	assert_file_mode(path, 0600);
	config = wbd_config_load(fixture->config_dir, state_dir, TRUE, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(config->devices->len, ==, 1);
	g_assert_null(find_device(config, "desk"));
	g_assert_true(wbd_config_settings_equal(find_device(config, "fan")->settings, fan));
}

static void
test_state_corrupt(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GHashTable) fan = make_settings("driver", "kasa", "address", "fan.example", NULL);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = g_build_filename(fixture->state_dir, WBD_STATE_DEVICES_FILE, NULL);
	g_autofree gchar *contents = NULL;

	/* a damaged state file is reported, not overwritten with the one new device */
	write_file(fixture->state_dir, WBD_STATE_DEVICES_FILE, "[device x\n");
	g_assert_false(wbd_state_save_device(fixture->state_dir, "fan", fan, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
	g_clear_error(&error);
	g_assert_false(wbd_state_remove_device(fixture->state_dir, "fan", &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
	g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
	g_assert_cmpstr(contents, ==, "[device x\n");
}

#define add_fixture_test(path, func)                                                               \
	g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)

int
main(int argc, char **argv)
{
	/* debug output (G_MESSAGES_DEBUG=all) must not mix with the TAP stream on stdout */
	g_log_writer_default_set_use_stderr(TRUE);
	g_test_init(&argc, &argv, NULL);

	/* validation looks the driver up */
	wbd_driver_register(wbd_kasa_driver_get_info());

	add_fixture_test("/config/load/empty", test_config_empty);
	add_fixture_test("/config/load/main", test_config_main);
	add_fixture_test("/config/load/dropins", test_config_dropins);
	add_fixture_test("/config/load/state", test_config_state);
	add_fixture_test("/config/load/state-lenient", test_config_state_lenient);
	add_fixture_test("/config/load/strict-errors", test_config_strict_errors);
	add_fixture_test("/config/load/strict-dropin", test_config_strict_dropin);
	add_fixture_test("/config/load/unreadable", test_config_unreadable);
	add_fixture_test("/config/load/lenient", test_config_lenient);
	g_test_add_func("/config/validate-device", test_config_validate_device);
	g_test_add_func("/config/make-id", test_config_make_id);
	g_test_add_func("/config/make-id/limit", test_config_make_id_limit);
	g_test_add_func("/config/make-id/random", test_config_make_id_random);
	g_test_add_func("/config/settings/from-variant", test_config_settings_from_variant);
	g_test_add_func("/config/settings/from-variant-bad", test_config_settings_from_variant_bad);
	g_test_add_func("/config/settings/equal", test_config_settings_equal);
	add_fixture_test("/config/state/round-trip", test_state_round_trip);
	add_fixture_test("/config/state/corrupt", test_state_corrupt);

	return g_test_run();
}
