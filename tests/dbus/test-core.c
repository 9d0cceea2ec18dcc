/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The contracts of the daemon core, on a private bus with the fake driver: batching of
 * PropertiesChanged and of values-changed, back-off and time-outs, a dead device never delaying a live one,
 * every method call answered once on every path, Reload's keep/replace/drop, the poll
 * schedule's fairness, and deny-by-default authorization.
 */
#include "config.h"

#include <wattbus-glib.h>

#include "wbd-auth.h"
#include "wbd-fake-device.h"
#include "wbt-daemon.h"

#define DEVICE_IFACE "org.wattbus.Wattbus1.Device"
#define OUTLET_IFACE "org.wattbus.Wattbus1.Outlet"
#define METER_IFACE "org.wattbus.Wattbus1.ElectricityMeter"

static void
add_daemon_test(const gchar *path, const gchar *config, void (*fn)(WbtDaemon *, gconstpointer))
{
	g_test_add(path, WbtDaemon, config, wbt_daemon_setup, fn, wbt_daemon_teardown);
}

static gint64
poll_time(WbdFakeDevice *dev, guint i)
{
	return g_array_index(wbd_fake_device_get_poll_times(dev), gint64, i);
}

/* PropertiesChanged: one signal per interface per update, with every value it changed */

typedef struct {
	guint meter_signals;
	guint with_power_and_current;
} SignalCount;

static void
properties_changed_cb(GDBusConnection *connection,
		      const gchar *sender,
		      const gchar *path,
		      const gchar *interface,
		      const gchar *signal,
		      GVariant *parameters,
		      gpointer user_data)
{
	SignalCount *count = user_data;
	const gchar *iface = NULL;
	g_autoptr(GVariant) changed = NULL;
	g_autoptr(GVariant) power = NULL;
	g_autoptr(GVariant) current = NULL;

	g_variant_get(parameters, "(&s@a{sv}@as)", &iface, &changed, NULL);
	if (g_strcmp0(iface, METER_IFACE) != 0)
		return;
	count->meter_signals++;
	power = g_variant_lookup_value(changed, "Power", G_VARIANT_TYPE_DOUBLE);
	current = g_variant_lookup_value(changed, "Current", G_VARIANT_TYPE_DOUBLE);
	if (power != NULL && current != NULL)
		count->with_power_and_current++;
}

/* the fake plug "plug", online and switched on (it starts off, drawing nothing) */
static WbdFakeDevice *
plug_switched_on(WbtDaemon *d, const gchar *path)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	WbdFakeDevice *dev;

	wbt_wait_online(d, "plug", 5000);
	dev = wbd_fake_device_lookup("plug");
	g_assert_nonnull(dev);
	reply = wbt_call(d, path, OUTLET_IFACE, "TurnOn", NULL, &error);
	g_assert_no_error(error);
	wbt_run_for(100);
	return dev;
}

static void
test_properties_changed_batched(WbtDaemon *d, gconstpointer config)
{
	SignalCount count = {0, 0};
	g_autofree gchar *path = wbt_device_path("plug");
	WbdFakeDevice *dev;
	guint polls_before;
	guint sub;

	dev = plug_switched_on(d, path);

	sub = g_dbus_connection_signal_subscribe(d->client,
						 NULL,
						 "org.freedesktop.DBus.Properties",
						 "PropertiesChanged",
						 path,
						 NULL,
						 G_DBUS_SIGNAL_FLAGS_NONE,
						 properties_changed_cb,
						 &count,
						 NULL);
	polls_before = wbd_fake_device_get_polls(dev);
	/* power and current change together: one signal, not one per property */
	wbd_fake_device_set_power(dev, 460.0);
	wbt_run_for(2600);
	g_dbus_connection_signal_unsubscribe(d->client, sub);

	g_assert_cmpuint(count.meter_signals, >=, 1);
	g_assert_cmpuint(count.with_power_and_current, ==, 1);
	/* a steady device's poll changes at most its energy: never more than a signal a poll */
	g_assert_cmpuint(count.meter_signals, <=, wbd_fake_device_get_polls(dev) - polls_before);
	{
		g_autoptr(GVariant) power = wbt_get_property(d, "plug", METER_IFACE, "Power");
		g_assert_cmpfloat(g_variant_get_double(power), ==, 460.0);
	}
}

/* values-changed, for the exporters (wbd-device-values.c): one emission per main-loop
 * turn with every value that changed, and only real changes (GObject notifies on every
 * set: a poll sets On again, unchanged) */

typedef struct {
	guint emissions;
	guint with_power_and_current;
	guint with_on;
	guint64 since;
} ValuesCount;

static void
values_changed_cb(WbdDevice *device, guint64 since, GVariant *values, gpointer user_data)
{
	ValuesCount *count = user_data;
	g_autoptr(GVariant) power = g_variant_lookup_value(values, "Power", G_VARIANT_TYPE_DOUBLE);
	g_autoptr(GVariant) current = g_variant_lookup_value(values, "Current", NULL);
	g_autoptr(GVariant) on = g_variant_lookup_value(values, "On", NULL);

	count->emissions++;
	count->since = since;
	if (power != NULL && current != NULL && g_variant_get_double(power) == 460.0)
		count->with_power_and_current++;
	if (on != NULL)
		count->with_on++;
}

static void
test_values_changed_batched(WbtDaemon *d, gconstpointer config)
{
	ValuesCount count = {0};
	g_autofree gchar *path = wbt_device_path("plug");
	WbdFakeDevice *dev;
	guint polls_before;
	gulong handler;
	gint64 before = g_get_real_time();

	dev = plug_switched_on(d, path);
	handler = g_signal_connect(dev, "values-changed", G_CALLBACK(values_changed_cb), &count);
	polls_before = wbd_fake_device_get_polls(dev);
	wbd_fake_device_set_power(dev, 460.0);
	wbt_run_for(2600);
	g_signal_handler_disconnect(dev, handler);

	/* power and current together, once: not one emission per property, not again */
	g_assert_cmpuint(count.with_power_and_current, ==, 1);
	/* On, set by every poll, never changed */
	g_assert_cmpuint(count.with_on, ==, 0);
	g_assert_cmpuint(count.emissions, >=, 1);
	g_assert_cmpuint(count.emissions, <=, wbd_fake_device_get_polls(dev) - polls_before);
	/* stamped with when the first of them changed (real time, µs) */
	g_assert_cmpuint(count.since, >=, (guint64)before);
	g_assert_cmpuint(count.since, <=, (guint64)g_get_real_time());
}

/* a device that never answers delays no other device */

static void
test_dead_device_does_not_delay_live(WbtDaemon *d, gconstpointer config)
{
	g_autofree gchar *live_path = wbt_device_path("live");
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	WbdFakeDevice *live;
	WbdFakeDevice *dead;
	const GArray *times;
	guint first;

	wbt_wait_online(d, "live", 5000);
	live = wbd_fake_device_lookup("live");
	dead = wbd_fake_device_lookup("dead");
	g_assert_nonnull(dead);
	first = wbd_fake_device_get_polls(live);
	wbt_run_for(3500);

	/* the dead device's first poll is still waiting for its 30 s time-out */
	g_assert_cmpuint(wbd_fake_device_get_polls(dead), ==, 1);
	g_assert_false(wbt_get_online(d, "dead"));
	/* meanwhile the live one was polled at its interval, every time */
	times = wbd_fake_device_get_poll_times(live);
	g_assert_cmpuint(times->len, >=, first + 3);
	for (guint i = first + 1; i < times->len; i++)
		g_assert_cmpint(poll_time(live, i) - poll_time(live, i - 1), <, 1500000);
	/* and a switch goes through */
	reply = wbt_call(d, live_path, OUTLET_IFACE, "TurnOn", NULL, &error);
	g_assert_no_error(error);
	{
		g_autoptr(GVariant) on = wbt_get_property(d, "live", OUTLET_IFACE, "On");
		g_assert_true(g_variant_get_boolean(on));
	}
}

/* failures back off: the gaps between polls grow, and a success ends it */

static void
test_backoff(WbtDaemon *d, gconstpointer config)
{
	g_autofree gchar *path = wbt_device_path("flaky");
	g_autofree gchar *last_error = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	WbdFakeDevice *dev;
	const GArray *times;
	gint64 first_gap;
	gint64 last_gap;

	wbt_run_for(7600);
	dev = wbd_fake_device_lookup("flaky");
	g_assert_nonnull(dev);
	g_assert_false(wbt_get_online(d, "flaky"));
	last_error = wbt_get_last_error(d, "flaky");
	g_assert_nonnull(strstr(last_error, "fails on purpose"));

	/* at a 1 s interval, 7.6 s would take 7 or 8 polls; backing off, at most 5 */
	times = wbd_fake_device_get_poll_times(dev);
	g_assert_cmpuint(times->len, >=, 3);
	g_assert_cmpuint(times->len, <=, 5);
	for (guint i = 2; i < times->len; i++)
		g_assert_cmpint(poll_time(dev, i) - poll_time(dev, i - 1),
				>=,
				poll_time(dev, i - 1) - poll_time(dev, i - 2) - 200000);
	first_gap = poll_time(dev, 1) - poll_time(dev, 0);
	last_gap = poll_time(dev, times->len - 1) - poll_time(dev, times->len - 2);
	g_assert_cmpint(last_gap, >=, 2 * first_gap - 200000);

	/* the device answers again: a Refresh brings it online and clears the error (a
	 * Refresh within a second of the last poll answers with that poll's outcome, and
	 * the poll it asked for follows) */
	wbd_fake_device_set_fail(dev, FALSE);
	reply = wbt_call(d, path, DEVICE_IFACE, "Refresh", NULL, &error);
	if (error != NULL)
		g_test_message("Refresh right after a failed poll: %s", error->message);
	wbt_wait_online(d, "flaky", 3000);
	g_clear_pointer(&last_error, g_free);
	last_error = wbt_get_last_error(d, "flaky");
	g_assert_cmpstr(last_error, ==, "");
}

/* an operation that never ends is ended by the core's time-out, with a Timeout error */

static void
test_operation_timeout(WbtDaemon *d, gconstpointer config)
{
	g_autofree gchar *path = wbt_device_path("dead");
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *name = NULL;

	reply = wbt_call(d, path, OUTLET_IFACE, "TurnOn", NULL, &error);
	g_assert_null(reply);
	g_assert_nonnull(error);
	name = g_dbus_error_get_remote_error(error);
	g_assert_cmpstr(name, ==, "org.wattbus.Wattbus1.Error.Timeout");
}

/* every method call gets one answer, on every path */

static void
test_every_call_answered(WbtDaemon *d, gconstpointer config)
{
	static const gchar *const methods[][2] = {
	    {OUTLET_IFACE, "TurnOn"},
	    {OUTLET_IFACE, "TurnOff"},
	    {OUTLET_IFACE, "Toggle"},
	    {DEVICE_IFACE, "Refresh"},
	};
	static const gchar *const ids[] = {"good", "bad", "good_1", "bad_2"};

	wbt_wait_online(d, "good", 5000);
	wbt_wait_for(d, (WbtCondition)wbt_object_exists, "bad_2", 5000);
	for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
		g_autofree gchar *path = wbt_device_path(ids[i]);
		gboolean good = g_str_has_prefix(ids[i], "good");
		for (guint m = 0; m < G_N_ELEMENTS(methods); m++) {
			g_autoptr(GError) error = NULL;
			g_autoptr(GVariant) reply =
			    wbt_call(d, path, methods[m][0], methods[m][1], NULL, &error);
			g_test_message("%s.%s on %s: %s",
				       methods[m][0],
				       methods[m][1],
				       ids[i],
				       error != NULL ? error->message : "ok");
			if (good) {
				g_assert_no_error(error);
				g_assert_nonnull(reply);
			} else {
				g_autofree gchar *name = NULL;
				g_assert_nonnull(error);
				name = g_dbus_error_get_remote_error(error);
				g_assert_nonnull(name);
				g_assert_true(g_str_has_prefix(name, "org.wattbus.Wattbus1.Error."));
			}
		}
	}
}

/* a TurnOn to a device that goes away: its reply comes, as an error */

static void
pending_call_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GError **error = user_data;
	GVariant *reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, error);
	if (reply != NULL) {
		g_variant_unref(reply);
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, "succeeded");
	}
}

static gboolean
error_set(WbtDaemon *d, gconstpointer data)
{
	return *(GError *const *)data != NULL;
}

static void
test_call_to_removed_device_is_answered(WbtDaemon *d, gconstpointer config)
{
	g_autofree gchar *path = wbt_device_path("slow");
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) reload_error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autofree gchar *name = NULL;
	WbdFakeDevice *slow;

	wbt_wait_online(d, "slow", 5000);
	slow = wbd_fake_device_lookup("slow");
	wbd_fake_device_set_latency(slow, 5000);
	g_dbus_connection_call(d->client,
			       g_dbus_connection_get_unique_name(d->daemon),
			       path,
			       OUTLET_IFACE,
			       "TurnOn",
			       NULL,
			       NULL,
			       G_DBUS_CALL_FLAGS_NONE,
			       60000,
			       NULL,
			       pending_call_cb,
			       &error);
	wbt_run_for(200);
	g_assert_cmpuint(wbd_fake_device_get_switches(slow), ==, 1);
	wbt_daemon_write_config(d, "[device other]\ndriver=fake\naddress=o\npoll-interval=3600\n");
	reply = wbt_call(d, WATTBUS_DBUS_PATH, "org.wattbus.Wattbus1", "Reload", NULL, &reload_error);
	g_assert_no_error(reload_error);
	wbt_wait_for(d, error_set, &error, 4000);
	name = g_dbus_error_get_remote_error(error);
	g_test_message("TurnOn on a removed device: %s", error->message);
	g_assert_nonnull(name);
	g_assert_true(g_str_has_prefix(name, "org.wattbus.Wattbus1.Error."));
	g_assert_false(wbt_object_exists(d, "slow"));
}

/* Reload keeps what did not change, re-creates what did, drops what went, adds what came */

static void
test_reload_keep_replace_drop(WbtDaemon *d, gconstpointer config)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	WbdFakeDevice *kept;
	WbdFakeDevice *replaced;

	wbt_wait_online(d, "keep", 5000);
	wbt_wait_online(d, "replace", 5000);
	wbt_wait_online(d, "drop", 5000);
	kept = wbd_fake_device_lookup("keep");
	replaced = wbd_fake_device_lookup("replace");
	g_object_add_weak_pointer(G_OBJECT(kept), (gpointer *)&kept);
	g_object_add_weak_pointer(G_OBJECT(replaced), (gpointer *)&replaced);

	wbt_daemon_write_config(d,
				"[device keep]\ndriver=fake\naddress=k\npoll-interval=3600\n"
				"[device replace]\ndriver=fake\naddress=r\npower=7\npoll-interval=3600\n"
				"[device add]\ndriver=fake\naddress=a\npoll-interval=3600\n");
	reply = wbt_call(d, WATTBUS_DBUS_PATH, "org.wattbus.Wattbus1", "Reload", NULL, &error);
	g_assert_no_error(error);
	wbt_wait_online(d, "add", 5000);
	wbt_wait_online(d, "replace", 5000);

	g_assert_nonnull(kept);
	g_assert_true(wbd_fake_device_lookup("keep") == kept);
	g_assert_null(replaced);
	g_assert_nonnull(wbd_fake_device_lookup("replace"));
	g_assert_null(wbd_fake_device_lookup("drop"));
	g_assert_false(wbt_object_exists(d, "drop"));
	g_assert_true(wbt_object_exists(d, "add"));
	if (kept != NULL)
		g_object_remove_weak_pointer(G_OBJECT(kept), (gpointer *)&kept);
}

/* the poll schedule: many devices at one interval are each polled at it, spread out */

#define FAIR_DEVICES 60

static void
test_poll_schedule_fairness(WbtDaemon *d, gconstpointer config)
{
	g_autoptr(GHashTable) buckets = g_hash_table_new(g_direct_hash, g_direct_equal);
	gint64 start;

	wbt_wait_online(d, "dev59", 5000);
	start = g_get_monotonic_time();
	wbt_run_for(3200);
	for (guint i = 0; i < FAIR_DEVICES; i++) {
		g_autofree gchar *id = g_strdup_printf("dev%u", i);
		WbdFakeDevice *dev = wbd_fake_device_lookup(id);
		const GArray *times = wbd_fake_device_get_poll_times(dev);
		guint in_window = 0;
		for (guint j = 0; j < times->len; j++) {
			if (poll_time(dev, j) < start)
				continue;
			in_window++;
			g_hash_table_add(buckets,
					 GINT_TO_POINTER((gint)((poll_time(dev, j) - start) / 10000)));
		}
		/* 3.2 s at 1 s: 3 polls, give or take one */
		g_assert_cmpuint(in_window, >=, 2);
		g_assert_cmpuint(in_window, <=, 4);
	}
	/* not one burst a second: the polls of a second are spread over several slots */
	g_assert_cmpuint(g_hash_table_size(buckets), >=, 6);
}

/* authorization: a method the table does not know is refused */

static void
test_method_cb(GDBusConnection *connection,
	       const gchar *sender,
	       const gchar *path,
	       const gchar *interface,
	       const gchar *method,
	       GVariant *parameters,
	       GDBusMethodInvocation *invocation,
	       gpointer user_data);

static void
auth_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GDBusMethodInvocation *invocation = G_DBUS_METHOD_INVOCATION(user_data);
	g_autoptr(GError) error = NULL;
	if (!wbd_auth_check_finish(WBD_AUTH(source), res, &error))
		wbd_return_dbus_error(invocation, error);
	else
		g_dbus_method_invocation_return_value(invocation, NULL);
}

static void
test_method_cb(GDBusConnection *connection,
	       const gchar *sender,
	       const gchar *path,
	       const gchar *interface,
	       const gchar *method,
	       GVariant *parameters,
	       GDBusMethodInvocation *invocation,
	       gpointer user_data)
{
	wbd_auth_check_async(wbd_auth_get_default(), invocation, NULL, auth_done_cb, invocation);
}

static const gchar test_xml[] = "<node>"
				"<interface name='org.wattbus.Wattbus1.Outlet'>"
				"<method name='TurnOn'/><method name='Explode'/></interface>"
				"</node>";

static void
test_auth_deny_by_default(WbtDaemon *d, gconstpointer config)
{
	static const GDBusInterfaceVTable vtable = {test_method_cb, NULL, NULL, {0}};
	g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml(test_xml, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) ok = NULL;
	g_autoptr(GVariant) refused = NULL;
	g_autofree gchar *name = NULL;
	guint id = g_dbus_connection_register_object(d->daemon,
						     "/org/wattbus/Test",
						     node->interfaces[0],
						     &vtable,
						     NULL,
						     NULL,
						     &error);
	g_assert_no_error(error);

	/* a method of the table passes (the session bus: no polkit) */
	ok = wbt_call(d, "/org/wattbus/Test", OUTLET_IFACE, "TurnOn", NULL, &error);
	g_assert_no_error(error);
	/* one it does not know is refused, on the session bus too */
	refused = wbt_call(d, "/org/wattbus/Test", OUTLET_IFACE, "Explode", NULL, &error);
	g_assert_null(refused);
	name = g_dbus_error_get_remote_error(error);
	g_assert_cmpstr(name, ==, "org.wattbus.Wattbus1.Error.PermissionDenied");
	g_dbus_connection_unregister_object(d->daemon, id);
}

/* every method of the API either needs an action or is declared read-only here */

static void
test_auth_table_covers_api(void)
{
	/* methods that change nothing on a device or in the configuration */
	static const gchar *const read_only[] = {
	    "org.wattbus.Wattbus1.Device.Refresh",
	    "org.wattbus.Wattbus1.Discover",
	    NULL,
	};
	const gchar *dir = g_getenv("WATTBUS_INTROSPECTION_DIR");
	g_autoptr(GDir) listing = NULL;
	const gchar *file;
	guint checked = 0;

	g_assert_nonnull(dir);
	listing = g_dir_open(dir, 0, NULL);
	g_assert_nonnull(listing);
	while ((file = g_dir_read_name(listing)) != NULL) {
		g_autofree gchar *path = NULL;
		g_autofree gchar *xml = NULL;
		g_autoptr(GDBusNodeInfo) node = NULL;
		g_autoptr(GError) error = NULL;

		if (!g_str_has_suffix(file, ".xml"))
			continue;
		path = g_build_filename(dir, file, NULL);
		g_assert_true(g_file_get_contents(path, &xml, NULL, NULL));
		node = g_dbus_node_info_new_for_xml(xml, &error);
		g_assert_no_error(error);
		for (guint i = 0; node->interfaces[i] != NULL; i++) {
			GDBusInterfaceInfo *iface = node->interfaces[i];
			for (guint m = 0; iface->methods != NULL && iface->methods[m] != NULL; m++) {
				g_autofree gchar *full =
				    g_strdup_printf("%s.%s", iface->name, iface->methods[m]->name);
				gboolean known = wbd_auth_lookup_action(iface->name,
									iface->methods[m]->name) !=
						 NULL;
				if (!known && !g_strv_contains(read_only, full))
					g_error("%s changes state but has no polkit action", full);
				checked++;
			}
		}
	}
	g_assert_cmpuint(checked, >=, 17);
	g_assert_null(wbd_auth_lookup_action("org.wattbus.Wattbus1.Outlet", "Explode"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* a device that fails is a warning in the daemon's log, not a failed test; a
	 * critical (a programmer's error) still is */
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);

	add_daemon_test("/core/properties-changed/batched",
			"[device plug]\ndriver=fake\naddress=p\npoll-interval=1\npower=10\n",
			test_properties_changed_batched);
	add_daemon_test("/core/values-changed/batched",
			"[device plug]\ndriver=fake\naddress=p\npoll-interval=1\npower=10\n",
			test_values_changed_batched);
	add_daemon_test("/core/dead-device-does-not-delay-live",
			"[device dead]\ndriver=fake\naddress=d\nhang=true\npoll-interval=1\n"
			"[device live]\ndriver=fake\naddress=l\npoll-interval=1\n",
			test_dead_device_does_not_delay_live);
	add_daemon_test("/core/backoff",
			"[device flaky]\ndriver=fake\naddress=f\nfail=true\npoll-interval=1\n",
			test_backoff);
	add_daemon_test("/core/operation-timeout",
			"[device dead]\ndriver=fake\naddress=d\nhang=true\npoll-interval=3600\n",
			test_operation_timeout);
	add_daemon_test("/core/every-call-answered",
			"[device good]\ndriver=fake\naddress=a\nchildren=1\npoll-interval=3600\n"
			"[device bad]\ndriver=fake\naddress=b\nfail=true\nchildren=2\n"
			"poll-interval=3600\n",
			test_every_call_answered);
	add_daemon_test("/core/call-to-removed-device-is-answered",
			"[device slow]\ndriver=fake\naddress=s\npoll-interval=3600\n",
			test_call_to_removed_device_is_answered);
	add_daemon_test("/core/reload/keep-replace-drop",
			"[device keep]\ndriver=fake\naddress=k\npoll-interval=3600\n"
			"[device replace]\ndriver=fake\naddress=r\npoll-interval=3600\n"
			"[device drop]\ndriver=fake\naddress=x\npoll-interval=3600\n",
			test_reload_keep_replace_drop);
	{
		GString *fleet = g_string_new(NULL);
		for (guint i = 0; i < FAIR_DEVICES; i++)
			g_string_append_printf(fleet,
					       "[device dev%u]\ndriver=fake\naddress=f%u\n"
					       "poll-interval=1\n",
					       i,
					       i);
		add_daemon_test("/core/poll-schedule/fairness",
				g_string_free(fleet, FALSE),
				test_poll_schedule_fairness);
	}
	add_daemon_test("/core/auth/deny-by-default", "", test_auth_deny_by_default);
	g_test_add_func("/core/auth/table-covers-api", test_auth_table_covers_api);
	return g_test_run();
}
