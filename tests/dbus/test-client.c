/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libwattbus-glib's WattbusClient against the daemon core in this process, with the fake
 * driver: a client made with WATTBUS_CLIENT_FLAGS_DO_NOT_LOAD_DEVICES makes no
 * GetManagedObjects (counted by a filter on the daemon's connection) and gets one
 * device with wattbus_client_get_device(), with its interfaces; unknown ids and paths
 * are WATTBUS_ERROR_NOT_FOUND; a client with every device finds it among them. Only the
 * asynchronous API here: a blocking call would wait for the main loop that answers it.
 * (The Python tests of clients/ cover the blocking API; this one also runs in the
 * sanitizer build, which has no GIR for them.)
 */
#include "config.h"

#include <wattbus-glib.h>

#include "wbt-daemon.h"

typedef struct {
	WbtDaemon d;
	gint get_managed_objects; /* calls the daemon's connection received */
	guint filter_id;
	guint owner_id;
	gboolean named;
} Fixture;

static GDBusMessage *
count_filter(GDBusConnection *connection,
	     GDBusMessage *message,
	     gboolean incoming,
	     gpointer user_data)
{
	Fixture *f = user_data;

	if (incoming && g_dbus_message_get_message_type(message) == G_DBUS_MESSAGE_TYPE_METHOD_CALL &&
	    g_strcmp0(g_dbus_message_get_member(message), "GetManagedObjects") == 0)
		g_atomic_int_inc(&f->get_managed_objects);
	return message;
}

static void
name_acquired_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	Fixture *f = user_data;
	f->named = TRUE;
}

static gboolean
is_named(WbtDaemon *d, gconstpointer data)
{
	const Fixture *f = data;
	return f->named;
}

/* the daemon core, owning the daemon's name as wattbusd does */
static void
fixture_setup(Fixture *f, gconstpointer config)
{
	wbt_daemon_setup(&f->d, config);
	f->filter_id = g_dbus_connection_add_filter(f->d.daemon, count_filter, f, NULL);
	f->owner_id = g_bus_own_name_on_connection(f->d.daemon,
						   WATTBUS_DBUS_NAME,
						   G_BUS_NAME_OWNER_FLAGS_NONE,
						   name_acquired_cb,
						   NULL,
						   f,
						   NULL);
	wbt_wait_for(&f->d, is_named, f, 5000);
}

static void
fixture_teardown(Fixture *f, gconstpointer config)
{
	g_bus_unown_name(f->owner_id);
	g_dbus_connection_remove_filter(f->d.daemon, f->filter_id);
	wbt_daemon_teardown(&f->d, config);
}

static void
ready_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GAsyncResult **out = user_data;
	*out = g_object_ref(res);
}

static gboolean
has_result(WbtDaemon *d, gconstpointer data)
{
	GAsyncResult *const *res = data;
	return *res != NULL;
}

static WattbusClient *
client_new(Fixture *f, WattbusClientFlags flags)
{
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;
	WattbusClient *client;

	g_async_initable_new_async(WATTBUS_TYPE_CLIENT,
				   G_PRIORITY_DEFAULT,
				   NULL,
				   ready_cb,
				   &res,
				   "connection",
				   f->d.client,
				   "flags",
				   flags,
				   NULL);
	wbt_wait_for(&f->d, has_result, &res, 5000);
	client = wattbus_client_new_finish(res, &error);
	g_assert_no_error(error);
	g_assert_true(wattbus_client_is_running(client));
	g_assert_cmpuint(wattbus_client_get_flags(client), ==, flags);
	return client;
}

static WattbusObject *
get_device(Fixture *f, WattbusClient *client, const gchar *id_or_path, GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;

	wattbus_client_get_device(client, id_or_path, NULL, ready_cb, &res);
	wbt_wait_for(&f->d, has_result, &res, 5000);
	return wattbus_client_get_device_finish(client, res, error);
}

static void
assert_not_found(Fixture *f, WattbusClient *client, const gchar *id_or_path)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WattbusObject) object = get_device(f, client, id_or_path, &error);

	g_assert_null(object);
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_NOT_FOUND);
}

static void
test_get_device_alone(Fixture *f, gconstpointer config)
{
	g_autoptr(WattbusClient) client = NULL;
	g_autoptr(WattbusObject) plug = NULL;
	g_autoptr(WattbusObject) child = NULL;
	g_autoptr(WattbusDevice) device = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = wattbus_build_device_path("plug");
	GList *interfaces;

	wbt_wait_online(&f->d, "plug", 5000);
	client = client_new(f, WATTBUS_CLIENT_FLAGS_DO_NOT_LOAD_DEVICES);
	g_assert_null(wattbus_client_get_object_manager(client));
	g_assert_null(wattbus_client_list_devices(client));
	g_assert_null(wattbus_client_lookup_device(client, "plug"));

	plug = get_device(f, client, "plug", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(g_dbus_object_get_object_path(G_DBUS_OBJECT(plug)), ==, path);
	g_assert_cmpstr(wattbus_device_get_id(wattbus_object_peek_device(plug)), ==, "plug");
	g_assert_nonnull(wattbus_object_peek_outlet(plug));
	g_assert_nonnull(wattbus_object_peek_electricity_meter(plug));
	g_assert_null(wattbus_object_peek_water_meter(plug));
	g_object_get(plug, "device", &device, NULL);
	g_assert_true(device == wattbus_object_peek_device(plug));
	g_assert_true(g_dbus_interface_get_object(G_DBUS_INTERFACE(device)) == G_DBUS_OBJECT(plug));
	interfaces = g_dbus_object_get_interfaces(G_DBUS_OBJECT(plug));
	g_assert_cmpuint(g_list_length(interfaces), ==, 3);
	g_list_free_full(interfaces, g_object_unref);

	/* by path, a child outlet */
	child = get_device(f, client, WATTBUS_DBUS_DEVICES_PATH "/plug_5f1", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(wattbus_device_get_parent(wattbus_object_peek_device(child)), ==, path);

	assert_not_found(f, client, "nosuch");
	assert_not_found(f, client, "");
	assert_not_found(f, client, WATTBUS_DBUS_PATH);
	assert_not_found(f, client, WATTBUS_DBUS_DEVICES_PATH);
	assert_not_found(f, client, WATTBUS_DBUS_DEVICES_PATH "/plug/x");
	assert_not_found(f, client, "not/a/path/either//");
	g_assert_cmpint(g_atomic_int_get(&f->get_managed_objects), ==, 0);
}

static void
test_get_device_loaded(Fixture *f, gconstpointer config)
{
	g_autoptr(WattbusClient) client = NULL;
	g_autoptr(WattbusObject) plug = NULL;
	g_autoptr(WattbusObject) looked_up = NULL;
	g_autoptr(GError) error = NULL;

	wbt_wait_online(&f->d, "plug", 5000);
	client = client_new(f, WATTBUS_CLIENT_FLAGS_NONE);
	g_assert_nonnull(wattbus_client_get_object_manager(client));
	g_assert_cmpint(g_atomic_int_get(&f->get_managed_objects), ==, 1);
	plug = get_device(f, client, "plug", &error);
	g_assert_no_error(error);
	looked_up = wattbus_client_lookup_device(client, "plug");
	g_assert_true(plug == looked_up);
	assert_not_found(f, client, "nosuch");
	g_assert_cmpint(g_atomic_int_get(&f->get_managed_objects), ==, 1);
}

int
main(int argc, char **argv)
{
	const gchar *config = "[device plug]\ndriver=fake\naddress=p\nchildren=1\npoll-interval=3600\n";

	g_test_init(&argc, &argv, NULL);
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	g_test_add("/client/get-device-alone",
		   Fixture,
		   config,
		   fixture_setup,
		   test_get_device_alone,
		   fixture_teardown);
	g_test_add("/client/get-device-loaded",
		   Fixture,
		   config,
		   fixture_setup,
		   test_get_device_loaded,
		   fixture_teardown);
	return g_test_run();
}
