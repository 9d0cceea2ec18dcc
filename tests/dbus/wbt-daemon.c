/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <wattbus-glib.h>

#include "wbd-auth.h"
#include "wbd-config.h"
#include "wbd-device.h"
#include "wbd-driver.h"
#include "wbt-daemon.h"

void
wbt_daemon_write_config(WbtDaemon *d, const gchar *config)
{
	g_autofree gchar *path = g_build_filename(d->config_dir, "wattbus.conf", NULL);
	g_autoptr(GError) error = NULL;
	g_file_set_contents_full(path, config, -1, G_FILE_SET_CONTENTS_NONE, 0640, &error);
	g_assert_no_error(error);
}

GDBusConnection *
wbt_connect(GTestDBus *bus)
{
	g_autoptr(GError) error = NULL;
	GDBusConnection *connection = g_dbus_connection_new_for_address_sync(
	    g_test_dbus_get_bus_address(bus),
	    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
	    NULL,
	    NULL,
	    &error);
	g_assert_no_error(error);
	return connection;
}

/* @config: the contents of wattbus.conf */
void
wbt_daemon_setup(WbtDaemon *d, gconstpointer config)
{
	static gboolean registered = FALSE;
	g_autoptr(GError) error = NULL;

	if (!registered) {
		(void)WATTBUS_ERROR;
		wbd_driver_table_register_all();
		registered = TRUE;
	}
	d->dir = g_dir_make_tmp("wattbus-dbus-XXXXXX", &error);
	g_assert_no_error(error);
	d->config_dir = g_build_filename(d->dir, "conf", NULL);
	d->state_dir = g_build_filename(d->dir, "state", NULL);
	g_assert_cmpint(g_mkdir(d->config_dir, 0750), ==, 0);
	g_assert_cmpint(g_mkdir(d->state_dir, 0700), ==, 0);
	wbt_daemon_write_config(d, config);

	d->bus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_test_dbus_up(d->bus);
	d->daemon = wbt_connect(d->bus);
	d->client = wbt_connect(d->bus);

	wbd_config_set_config_dir(d->config_dir);
	wbd_config_set_state_dir(d->state_dir);
	{
		g_autoptr(WbdAuth) auth = wbd_auth_new(FALSE);
		wbd_auth_set_default(auth);
	}
	d->manager = wbd_manager_new(d->daemon, d->config_dir, d->state_dir);
	g_assert_true(wbd_manager_start(d->manager, &error));
	g_assert_no_error(error);
}

static void
wbt_rm_rf(const gchar *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const gchar *name;
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *child = g_build_filename(path, name, NULL);
		if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
		    !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
			wbt_rm_rf(child);
		else
			g_unlink(child);
	}
	g_rmdir(path);
}

void
wbt_daemon_teardown(WbtDaemon *d, gconstpointer config)
{
	g_clear_object(&d->manager);
	/* let what the manager's end scheduled run, before the bus goes */
	wbt_run_for(50);
	wbd_auth_set_default(NULL);
	g_dbus_connection_close_sync(d->client, NULL, NULL);
	g_dbus_connection_close_sync(d->daemon, NULL, NULL);
	g_clear_object(&d->client);
	g_clear_object(&d->daemon);
	g_test_dbus_down(d->bus);
	g_clear_object(&d->bus);
	wbt_rm_rf(d->dir);
	g_free(d->dir);
	g_free(d->config_dir);
	g_free(d->state_dir);
}

gchar *
wbt_device_path(const gchar *id)
{
	return wbd_device_build_object_path(id);
}

typedef struct {
	gboolean done;
	GVariant *reply;
	GError *error;
} WbtCall;

static void
wbt_call_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	WbtCall *call = user_data;
	call->reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &call->error);
	call->done = TRUE;
}

/* a call from the client, with the main loop (the daemon's too) running meanwhile */
GVariant *
wbt_call(WbtDaemon *d,
	 const gchar *path,
	 const gchar *interface,
	 const gchar *method,
	 GVariant *args,
	 GError **error)
{
	WbtCall call = {FALSE, NULL, NULL};
	g_dbus_connection_call(d->client,
			       g_dbus_connection_get_unique_name(d->daemon),
			       path,
			       interface,
			       method,
			       args,
			       NULL,
			       G_DBUS_CALL_FLAGS_NO_AUTO_START,
			       120000,
			       NULL,
			       wbt_call_cb,
			       &call);
	while (!call.done)
		g_main_context_iteration(NULL, TRUE);
	if (call.error != NULL)
		g_propagate_error(error, call.error);
	return call.reply;
}

GVariant *
wbt_get_property(WbtDaemon *d, const gchar *id, const gchar *interface, const gchar *name)
{
	g_autofree gchar *path = wbt_device_path(id);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = wbt_call(d,
					     path,
					     "org.freedesktop.DBus.Properties",
					     "Get",
					     g_variant_new("(ss)", interface, name),
					     &error);
	GVariant *value = NULL;
	g_assert_no_error(error);
	g_variant_get(reply, "(v)", &value);
	return value;
}

gboolean
wbt_get_online(WbtDaemon *d, const gchar *id)
{
	g_autoptr(GVariant) v = wbt_get_property(d, id, "org.wattbus.Wattbus1.Device", "Online");
	return g_variant_get_boolean(v);
}

gchar *
wbt_get_last_error(WbtDaemon *d, const gchar *id)
{
	g_autoptr(GVariant) v = wbt_get_property(d, id, "org.wattbus.Wattbus1.Device", "LastError");
	return g_variant_dup_string(v, NULL);
}

gboolean
wbt_object_exists(WbtDaemon *d, const gchar *id)
{
	g_autofree gchar *path = wbt_device_path(id);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = wbt_call(d,
					     path,
					     "org.freedesktop.DBus.Properties",
					     "GetAll",
					     g_variant_new("(s)", "org.wattbus.Wattbus1.Device"),
					     &error);
	return reply != NULL;
}

static gboolean
wbt_flag_cb(gpointer user_data)
{
	*(gboolean *)user_data = TRUE;
	return G_SOURCE_REMOVE;
}

void
wbt_run_for(guint ms)
{
	gboolean done = FALSE;
	g_timeout_add(ms, wbt_flag_cb, &done);
	while (!done)
		g_main_context_iteration(NULL, TRUE);
}

void
wbt_wait_for(WbtDaemon *d, WbtCondition cond, gconstpointer data, guint timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	while (!cond(d, data)) {
		if (g_get_monotonic_time() > deadline)
			g_error("condition not met within %u ms", timeout_ms);
		wbt_run_for(20);
	}
}

static gboolean
wbt_is_online(WbtDaemon *d, gconstpointer id)
{
	return wbt_object_exists(d, id) && wbt_get_online(d, id);
}

void
wbt_wait_online(WbtDaemon *d, const gchar *id, guint timeout_ms)
{
	wbt_wait_for(d, wbt_is_online, id, timeout_ms);
}
