/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <stdio.h>

#include "wbc-format.h"
#include "wbc-json.h"
#include "wbc.h"

/* prints one line per event, "HH:MM:SS ID Property=value unit, ...", until SIGINT or
 * SIGTERM; with --json one JSON object per line (JSON lines), as wattbusctl(1) says */

static WbcCtl *wbc_monitor_ctl; /* the command's, while it runs */

/* {"time": "...Z", "event": EVENT, "id": ID} and what the caller adds */
static JsonObject *
wbc_monitor_json_event(const gchar *event, const gchar *id)
{
	JsonObject *json = json_object_new();
	g_autoptr(JsonNode) now = wbc_json_from_time((guint64)g_get_real_time());

	json_object_set_member(json, "time", g_steal_pointer(&now));
	json_object_set_string_member(json, "event", event);
	if (id != NULL)
		json_object_set_string_member(json, "id", id);
	else
		json_object_set_null_member(json, "id");
	return json;
}

static void
wbc_monitor_json_print(JsonObject *json)
{
	g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);

	json_node_take_object(node, json);
	wbc_json_print_line(node);
}

static void
wbc_monitor_print(const gchar *format, ...) G_GNUC_PRINTF(1, 2);

static void
wbc_monitor_print(const gchar *format, ...)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree gchar *time = g_date_time_format(now, "%H:%M:%S");
	g_autofree gchar *message = NULL;
	va_list args;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	g_print("%s %s\n", time, message);
	/* a pipe to another program sees each event as it happens */
	fflush(stdout);
}

static const gchar *
wbc_monitor_object_id(GDBusObject *object)
{
	if (WATTBUS_IS_OBJECT(object) && wattbus_object_peek_device(WATTBUS_OBJECT(object)) != NULL)
		return wbc_device_get_id(WATTBUS_OBJECT(object));
	return g_dbus_object_get_object_path(object);
}

static void
wbc_monitor_properties_changed_cb(GDBusObjectManagerClient *manager,
				  GDBusObjectProxy *object,
				  GDBusProxy *interface,
				  GVariant *changed,
				  const gchar *const *invalidated,
				  gpointer user_data)
{
	const gchar *id = wbc_monitor_object_id(G_DBUS_OBJECT(object));
	g_autoptr(GString) str = g_string_new(id);
	GVariantIter iter;
	const gchar *name;
	GVariant *value;
	JsonObject *json = NULL;
	JsonObject *values = NULL;
	gboolean first = TRUE;

	if (wbc_monitor_ctl->json) {
		g_autofree gchar *iface = wbc_json_name(
		    wbc_interface_get_short_name(g_dbus_proxy_get_interface_name(interface)));
		json = wbc_monitor_json_event("changed", id);
		json_object_set_string_member(json, "interface", iface);
		values = json_object_new();
	}
	g_variant_iter_init(&iter, changed);
	while (g_variant_iter_next(&iter, "{&sv}", &name, &value)) {
		if (json != NULL) {
			g_autofree gchar *key = wbc_json_name(name);
			json_object_set_member(values,
					       key,
					       wbc_json_from_property(wbc_monitor_ctl->client,
								      name,
								      value));
		} else {
			g_autofree gchar *text = wbc_format_value(name, value);
			g_string_append_printf(str, "%s %s=%s", first ? "" : ";", name, text);
			first = FALSE;
		}
		g_variant_unref(value);
	}
	for (guint i = 0; invalidated != NULL && invalidated[i] != NULL; i++) {
		if (json != NULL) {
			g_autofree gchar *key = wbc_json_name(invalidated[i]);
			json_object_set_null_member(values, key);
		} else {
			g_string_append_printf(str, "%s %s=?", first ? "" : ";", invalidated[i]);
			first = FALSE;
		}
	}
	if (json != NULL) {
		json_object_set_object_member(json, "values", values);
		wbc_monitor_json_print(json);
		return;
	}
	wbc_monitor_print("%s", str->str);
}

static void
wbc_monitor_device_added_cb(WattbusClient *client, WattbusObject *object, gpointer user_data)
{
	if (wbc_monitor_ctl->json) {
		JsonObject *json = wbc_monitor_json_event("added", wbc_device_get_id(object));
		json_object_set_string_member(json,
					      "path",
					      g_dbus_object_get_object_path(G_DBUS_OBJECT(object)));
		wbc_monitor_json_print(json);
		return;
	}
	wbc_monitor_print("%s %s (%s)",
			  wbc_device_get_id(object),
			  _("added"),
			  g_dbus_object_get_object_path(G_DBUS_OBJECT(object)));
}

static void
wbc_monitor_device_removed_cb(WattbusClient *client, WattbusObject *object, gpointer user_data)
{
	if (wbc_monitor_ctl->json) {
		wbc_monitor_json_print(wbc_monitor_json_event("removed", wbc_device_get_id(object)));
		return;
	}
	wbc_monitor_print("%s %s", wbc_device_get_id(object), _("removed"));
}

static void
wbc_monitor_interface_cb(GDBusObject *object,
			 GDBusInterface *interface,
			 const gchar *event,
			 const gchar *what)
{
	GDBusInterfaceInfo *info = g_dbus_interface_get_info(interface);
	const gchar *name = NULL;

	if (info != NULL)
		name = info->name;
	else if (G_IS_DBUS_PROXY(interface))
		name = g_dbus_proxy_get_interface_name(G_DBUS_PROXY(interface));
	if (name == NULL)
		return;
	if (wbc_monitor_ctl->json) {
		g_autofree gchar *iface = wbc_json_name(wbc_interface_get_short_name(name));
		JsonObject *json = wbc_monitor_json_event(event, wbc_monitor_object_id(object));
		json_object_set_string_member(json, "interface", iface);
		wbc_monitor_json_print(json);
		return;
	}
	wbc_monitor_print("%s %s %s",
			  wbc_monitor_object_id(object),
			  what,
			  wbc_interface_get_short_name(name));
}

static void
wbc_monitor_interface_added_cb(GDBusObjectManager *manager,
			       GDBusObject *object,
			       GDBusInterface *interface,
			       gpointer user_data)
{
	/* TRANSLATORS: a device got a new interface, as in "kitchen gained Outlet" */
	wbc_monitor_interface_cb(object, interface, "interface_added", _("gained"));
}

static void
wbc_monitor_interface_removed_cb(GDBusObjectManager *manager,
				 GDBusObject *object,
				 GDBusInterface *interface,
				 gpointer user_data)
{
	/* TRANSLATORS: a device lost an interface, as in "kitchen lost Outlet" */
	wbc_monitor_interface_cb(object, interface, "interface_removed", _("lost"));
}

/* a watch of its own, so that "started" comes before the devices of the daemon */
static void
wbc_monitor_name_appeared_cb(GDBusConnection *connection,
			     const gchar *name,
			     const gchar *name_owner,
			     gpointer user_data)
{
	gboolean *first = user_data;

	if (!*first && wbc_monitor_ctl->json) {
		JsonObject *json = wbc_monitor_json_event("daemon_started", NULL);
		json_object_set_string_member(json, "owner", name_owner);
		wbc_monitor_json_print(json);
	} else if (!*first) {
		wbc_monitor_print("%s (%s)", _("the wattbus daemon started"), name_owner);
	}
	*first = FALSE;
}

static void
wbc_monitor_name_vanished_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	gboolean *first = user_data;

	if (wbc_monitor_ctl->json)
		wbc_monitor_json_print(
		    wbc_monitor_json_event(*first ? "daemon_not_running" : "daemon_stopped", NULL));
	else if (*first)
		wbc_monitor_print("%s", _("the wattbus daemon is not running; waiting for it"));
	else
		wbc_monitor_print("%s", _("the wattbus daemon stopped"));
	*first = FALSE;
}

static gboolean
wbc_monitor_quit_cb(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_CONTINUE;
}

WbcExit
wbc_cmd_monitor(WbcCtl *ctl, gint argc, gchar **argv)
{
	g_autoptr(GMainLoop) loop = NULL;
	GDBusObjectManager *manager;
	gboolean first = TRUE;
	guint watch_id;
	guint sigint_id;
	guint sigterm_id;
	WbcExit rc;

	rc = wbc_ctl_parse_options(ctl, "monitor", "", NULL, &argc, &argv, 0, 0);
	if (rc != WBC_EXIT_OK)
		return rc;
	/* the daemon may start later */
	rc = wbc_ctl_connect(ctl, FALSE);
	if (rc != WBC_EXIT_OK)
		return rc;

	wbc_monitor_ctl = ctl;
	loop = g_main_loop_new(NULL, FALSE);
	manager = wattbus_client_get_object_manager(ctl->client);
	g_signal_connect(manager,
			 "interface-proxy-properties-changed",
			 G_CALLBACK(wbc_monitor_properties_changed_cb),
			 NULL);
	g_signal_connect(manager,
			 "interface-added",
			 G_CALLBACK(wbc_monitor_interface_added_cb),
			 NULL);
	g_signal_connect(manager,
			 "interface-removed",
			 G_CALLBACK(wbc_monitor_interface_removed_cb),
			 NULL);
	g_signal_connect(ctl->client,
			 "device-added",
			 G_CALLBACK(wbc_monitor_device_added_cb),
			 NULL);
	g_signal_connect(ctl->client,
			 "device-removed",
			 G_CALLBACK(wbc_monitor_device_removed_cb),
			 NULL);
	watch_id = g_bus_watch_name_on_connection(wattbus_client_get_connection(ctl->client),
						  WATTBUS_DBUS_NAME,
						  G_BUS_NAME_WATCHER_FLAGS_NONE,
						  wbc_monitor_name_appeared_cb,
						  wbc_monitor_name_vanished_cb,
						  &first,
						  NULL);
	sigint_id = g_unix_signal_add(SIGINT, wbc_monitor_quit_cb, loop);
	sigterm_id = g_unix_signal_add(SIGTERM, wbc_monitor_quit_cb, loop);

	g_main_loop_run(loop);

	g_bus_unwatch_name(watch_id);
	g_source_remove(sigint_id);
	g_source_remove(sigterm_id);
	g_signal_handlers_disconnect_by_func(ctl->client, wbc_monitor_device_added_cb, NULL);
	g_signal_handlers_disconnect_by_func(ctl->client, wbc_monitor_device_removed_cb, NULL);
	g_signal_handlers_disconnect_by_func(manager, wbc_monitor_properties_changed_cb, NULL);
	g_signal_handlers_disconnect_by_func(manager, wbc_monitor_interface_added_cb, NULL);
	g_signal_handlers_disconnect_by_func(manager, wbc_monitor_interface_removed_cb, NULL);
	wbc_monitor_ctl = NULL;
	return WBC_EXIT_OK;
}
