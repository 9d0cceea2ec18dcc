/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * WbdObjectManager (src/daemon/wbd-object-manager.c) against GLib's own
 * GDBusObjectManagerServer: the same objects exported by both on a private bus
 * (GTestDBus) must give the same GetManagedObjects reply, InterfacesAdded and
 * InterfacesRemoved, also after properties changed between two calls (WbdObjectManager
 * keeps each interface's properties from one call to the next, and must drop them on a
 * change), interfaces added to and removed from an exported object, objects unexported
 * and exported again, and a connection set after the objects were exported.
 */
#include "config.h"

#include <math.h>
#include <wattbus-glib.h>

#include "wbd-object-manager.h"
#include "wbd-skeleton.h"
#include "wbt-daemon.h"

#define OURS "/org/wattbus/Wattbus1"
#define GLIBS "/org/example/Reference"

typedef struct {
	GTestDBus *bus;
	GDBusConnection *server;
	GDBusConnection *client;
	WbdObjectManager *ours;
	GDBusObjectManagerServer *glibs;
	GPtrArray *signals; /* "Member path ifaces" lines, both managers' paths cut off */
	guint subscription;
} Fixture;

/* the path under a manager, the same for both */
static const gchar *
relative(const gchar *path)
{
	if (g_str_has_prefix(path, OURS))
		return path + strlen(OURS);
	g_assert_true(g_str_has_prefix(path, GLIBS));
	return path + strlen(GLIBS);
}

static gint
compare_lines(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

static void
signal_cb(GDBusConnection *connection,
	  const gchar *sender,
	  const gchar *path,
	  const gchar *interface,
	  const gchar *member,
	  GVariant *parameters,
	  gpointer user_data)
{
	Fixture *f = user_data;
	const gchar *object = NULL;
	g_autoptr(GVariant) rest = NULL;
	g_autoptr(GPtrArray) children = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *printed = NULL;

	/* a{sa{sv}} or as, in no particular order (GLib's manager keeps a hash table) */
	g_variant_get(parameters, "(&o*)", &object, &rest);
	for (gsize i = 0; i < g_variant_n_children(rest); i++) {
		g_autoptr(GVariant) child = g_variant_get_child_value(rest, i);
		g_ptr_array_add(children, g_variant_print(child, FALSE));
	}
	g_ptr_array_sort(children, compare_lines);
	g_ptr_array_add(children, NULL);
	printed = g_strjoinv(", ", (gchar **)children->pdata);
	g_ptr_array_add(f->signals,
			g_strdup_printf("%s %s %s %s", g_str_has_prefix(path, OURS) ? "ours" : "glib's",
					member, relative(object), printed));
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	f->bus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_test_dbus_up(f->bus);
	f->server = wbt_connect(f->bus);
	f->client = wbt_connect(f->bus);
	f->ours = wbd_object_manager_new(OURS);
	f->glibs = g_dbus_object_manager_server_new(GLIBS);
	f->signals = g_ptr_array_new_with_free_func(g_free);
	f->subscription = g_dbus_connection_signal_subscribe(f->client,
							     NULL,
							     "org.freedesktop.DBus.ObjectManager",
							     NULL,
							     NULL,
							     NULL,
							     G_DBUS_SIGNAL_FLAGS_NONE,
							     signal_cb,
							     f,
							     NULL);
	if (data == NULL) {
		wbd_object_manager_set_connection(f->ours, f->server);
		g_dbus_object_manager_server_set_connection(f->glibs, f->server);
	}
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	g_dbus_connection_signal_unsubscribe(f->client, f->subscription);
	g_clear_object(&f->ours);
	g_clear_object(&f->glibs);
	g_clear_pointer(&f->signals, g_ptr_array_unref);
	g_clear_object(&f->client);
	g_clear_object(&f->server);
	g_test_dbus_down(f->bus);
	g_clear_object(&f->bus);
}

static void
store_result_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	*(GAsyncResult **)user_data = g_object_ref(result);
}

/* both managers' GetManagedObjects, as {relative path: {interface: {property: value}}}
 * printed with sorted keys, so that the two compare as strings */
static gchar *
managed_objects(Fixture *f, const gchar *manager_path)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GAsyncResult) result = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariantIter) objects = NULL;
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
	const gchar *path;
	GVariantIter *interfaces;

	/* the managers answer in this thread's main context */
	g_dbus_connection_call(f->client,
			       g_dbus_connection_get_unique_name(f->server),
			       manager_path,
			       "org.freedesktop.DBus.ObjectManager",
			       "GetManagedObjects",
			       NULL,
			       G_VARIANT_TYPE("(a{oa{sa{sv}}})"),
			       G_DBUS_CALL_FLAGS_NONE,
			       5000,
			       NULL,
			       store_result_cb,
			       &result);
	while (result == NULL)
		g_main_context_iteration(NULL, TRUE);
	reply = g_dbus_connection_call_finish(f->client, result, &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(a{oa{sa{sv}}})", &objects);
	while (g_variant_iter_next(objects, "{&oa{sa{sv}}}", &path, &interfaces)) {
		const gchar *name;
		GVariantIter *properties;
		while (g_variant_iter_next(interfaces, "{&sa{sv}}", &name, &properties)) {
			const gchar *property;
			GVariant *value;
			while (g_variant_iter_next(properties, "{&sv}", &property, &value)) {
				g_autofree gchar *printed = g_variant_print(value, TRUE);
				g_ptr_array_add(lines,
						g_strdup_printf("%s %s.%s=%s", relative(path), name, property, printed));
				g_variant_unref(value);
			}
			/* an interface without properties still counts */
			g_ptr_array_add(lines, g_strdup_printf("%s %s", relative(path), name));
			g_variant_iter_free(properties);
		}
		g_variant_iter_free(interfaces);
	}
	g_ptr_array_sort(lines, compare_lines);
	for (guint i = 0; i < lines->len; i++)
		g_string_append_printf(out, "%s\n", (const gchar *)g_ptr_array_index(lines, i));
	return g_string_free(g_steal_pointer(&out), FALSE);
}

static void
assert_same_objects(Fixture *f, guint expected_objects)
{
	g_autofree gchar *ours = managed_objects(f, OURS);
	g_autofree gchar *glibs = managed_objects(f, GLIBS);
	g_autofree gchar *marker = g_strdup_printf(" org.wattbus.Wattbus1.Device\n");
	guint n = 0;

	g_assert_cmpstr(ours, ==, glibs);
	for (const gchar *p = ours; (p = strstr(p, marker)) != NULL; p += strlen(marker))
		n++;
	g_assert_cmpuint(n, ==, expected_objects);
}

/* the signals of both managers, ours and GLib's alternating, the same but for the name */
static void
assert_same_signals(Fixture *f, guint expected_each)
{
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

	/* delivered to the client's main context; one more turn shows nothing else came */
	while (f->signals->len < 2 * expected_each && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, FALSE);
	{
		g_autofree gchar *sync = managed_objects(f, OURS);
	}
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_assert_cmpuint(f->signals->len, ==, 2 * expected_each);
	for (guint i = 0; i < f->signals->len; i += 2) {
		const gchar *a = g_ptr_array_index(f->signals, i);
		const gchar *b = g_ptr_array_index(f->signals, i + 1);
		if (g_str_has_prefix(a, "glib's")) {
			const gchar *swap = a;
			a = b;
			b = swap;
		}
		g_assert_true(g_str_has_prefix(a, "ours "));
		g_assert_true(g_str_has_prefix(b, "glib's "));
		g_assert_cmpstr(a + strlen("ours "), ==, b + strlen("glib's "));
	}
	g_ptr_array_set_size(f->signals, 0);
}

/* the same object for both managers: one skeleton each, the same values */
static void
make_object(WattbusObjectSkeleton **objects, const gchar *id, gdouble power)
{
	const gchar *bases[] = {OURS, GLIBS};
	for (guint i = 0; i < 2; i++) {
		g_autofree gchar *path = g_strdup_printf("%s/Devices/%s", bases[i], id);
		g_autoptr(WattbusDevice) device = wattbus_device_skeleton_new();
		g_autoptr(WattbusElectricityMeter) meter = wattbus_electricity_meter_skeleton_new();
		objects[i] = wattbus_object_skeleton_new(path);
		wattbus_device_set_id(device, id);
		wattbus_device_set_name(device, "Plug é 1");
		wattbus_device_set_online(device, TRUE);
		wbd_skeleton_set_double(meter, "Power", power); /* NaN: not measured */
		wattbus_object_skeleton_set_device(objects[i], device);
		wattbus_object_skeleton_set_electricity_meter(objects[i], meter);
	}
}

static void
export_both(Fixture *f, WattbusObjectSkeleton **objects)
{
	wbd_object_manager_export(f->ours, G_DBUS_OBJECT_SKELETON(objects[0]));
	g_dbus_object_manager_server_export(f->glibs, G_DBUS_OBJECT_SKELETON(objects[1]));
}

static void
set_power_both(WattbusObjectSkeleton **objects, gdouble power)
{
	for (guint i = 0; i < 2; i++) {
		g_autoptr(WattbusElectricityMeter) meter = wattbus_object_get_electricity_meter(WATTBUS_OBJECT(objects[i]));
		wattbus_electricity_meter_set_power(meter, power);
	}
}

static void
test_same_as_glib(Fixture *f, gconstpointer data)
{
	WattbusObjectSkeleton *a[2], *b[2], *c[2];
	g_autofree gchar *before = NULL;

	make_object(a, "plug_a", 10.0);
	make_object(b, "plug_b", NAN);
	export_both(f, a);
	export_both(f, b);
	assert_same_objects(f, 2);
	assert_same_signals(f, 2);

	/* a change between two calls is in the second: the kept properties were dropped */
	before = managed_objects(f, OURS);
	set_power_both(a, 2500.5);
	assert_same_objects(f, 2);
	{
		g_autofree gchar *after = managed_objects(f, OURS);
		g_assert_cmpstr(before, !=, after);
		g_assert_nonnull(strstr(after, "ElectricityMeter.Power=2500.5"));
	}
	for (guint i = 0; i < 50; i++) {
		set_power_both(b, i * 1.25);
		if (i % 7 == 0)
			assert_same_objects(f, 2);
	}
	assert_same_objects(f, 2);

	/* an interface added to, then removed from, an exported object */
	for (guint i = 0; i < 2; i++) {
		g_autoptr(WattbusOutlet) outlet = wattbus_outlet_skeleton_new();
		wattbus_outlet_set_on(outlet, TRUE);
		wattbus_object_skeleton_set_outlet(a[i], outlet);
	}
	assert_same_objects(f, 2);
	assert_same_signals(f, 1);
	for (guint i = 0; i < 2; i++)
		wattbus_object_skeleton_set_electricity_meter(a[i], NULL);
	assert_same_objects(f, 2);
	assert_same_signals(f, 1);

	/* unexported, another one exported, the first again */
	g_assert_true(wbd_object_manager_unexport(f->ours, OURS "/Devices/plug_b"));
	g_assert_true(g_dbus_object_manager_server_unexport(f->glibs, GLIBS "/Devices/plug_b"));
	g_assert_false(wbd_object_manager_unexport(f->ours, OURS "/Devices/plug_b"));
	assert_same_objects(f, 1);
	assert_same_signals(f, 1);
	make_object(c, "plug_c", 0.0);
	export_both(f, c);
	export_both(f, b);
	set_power_both(b, 7.0);
	assert_same_objects(f, 3);
	assert_same_signals(f, 2);

	/* GDBusObjectManager, for the daemon's own lookups */
	{
		GDBusObjectManager *manager = G_DBUS_OBJECT_MANAGER(f->ours);
		g_autolist(GDBusObject) objects = g_dbus_object_manager_get_objects(manager);
		g_autoptr(GDBusInterface) iface =
		    g_dbus_object_manager_get_interface(manager, OURS "/Devices/plug_c", "org.wattbus.Wattbus1.Device");
		g_assert_cmpuint(g_list_length(objects), ==, 3);
		g_assert_cmpstr(g_dbus_object_manager_get_object_path(manager), ==, OURS);
		g_assert_true(WATTBUS_IS_DEVICE(iface));
		g_assert_null(g_dbus_object_manager_get_object(manager, OURS "/Devices/none"));
	}

	for (guint i = 0; i < 2; i++) {
		g_object_unref(a[i]);
		g_object_unref(b[i]);
		g_object_unref(c[i]);
	}
}

/* objects exported before the connection is set are on the bus once it is; an object's
 * interfaces leave the bus when the manager goes */
static void
test_connection_set_later(Fixture *f, gconstpointer data)
{
	WattbusObjectSkeleton *a[2];
	g_autoptr(GDBusInterfaceSkeleton) device = NULL;

	make_object(a, "plug_a", 42.0);
	export_both(f, a);
	wbd_object_manager_set_connection(f->ours, f->server);
	g_dbus_object_manager_server_set_connection(f->glibs, f->server);
	assert_same_objects(f, 1);
	g_assert_cmpuint(f->signals->len, ==, 0);

	device = G_DBUS_INTERFACE_SKELETON(wattbus_object_get_device(WATTBUS_OBJECT(a[0])));
	g_assert_cmpstr(g_dbus_interface_skeleton_get_object_path(device), ==, OURS "/Devices/plug_a");
	g_clear_object(&f->ours);
	g_assert_null(g_dbus_interface_skeleton_get_object_path(device));
	for (guint i = 0; i < 2; i++)
		g_object_unref(a[i]);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/object-manager/same-as-glib", Fixture, NULL, fixture_setup, test_same_as_glib, fixture_teardown);
	g_test_add("/object-manager/connection-set-later",
		   Fixture,
		   "later",
		   fixture_setup,
		   test_connection_set_later,
		   fixture_teardown);
	return g_test_run();
}
