/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "wbc-format.h"
#include "wbc-json.h"
#include "wbc-table.h"
#include "wbc.h"

/* list */

/* why a device is offline, for the NOTE column */
static const gchar *
wbc_list_offline_note(WattbusDevice *device)
{
	const gchar *error = wattbus_device_get_last_error(device);

	if (wattbus_device_get_online(device))
		return NULL;
	if (error != NULL && error[0] != '\0')
		return error;
	if (wattbus_device_get_last_seen(device) == 0)
		return _("not seen yet");
	return NULL;
}

static void
wbc_list_add_row(WbcTable *table, WattbusObject *object, guint depth)
{
	WattbusDevice *device = wattbus_object_peek_device(object);
	WattbusOutlet *outlet = wattbus_object_peek_outlet(object);
	g_autofree gchar *id =
	    g_strdup_printf("%*s%s", (gint)depth * 2, "", wbc_device_get_id(object));
	g_autofree gchar *power = wbc_format_power(object);
	const gchar *measurement = NULL;
	const gchar *on = NULL;
	const gchar *cells[9];

	wbc_device_get_power(object, &measurement);
	if (outlet != NULL)
		on = wattbus_outlet_get_on(outlet) ? _("on") : _("off");
	cells[0] = id;
	cells[1] = wattbus_device_get_kind(device);
	cells[2] = wattbus_device_get_name(device);
	cells[3] = wattbus_device_get_model(device);
	cells[4] = wattbus_device_get_online(device) ? _("yes") : _("no");
	cells[5] = on;
	cells[6] = power;
	cells[7] = wbc_format_measurement(measurement);
	cells[8] = wbc_list_offline_note(device);
	wbc_table_add_row(table, cells);
}

typedef struct {
	WattbusObject *object;
	guint depth;
} WbcListEntry;

#define WBC_LIST_MAX_DEPTH 4

static void
wbc_list_append_tree(GArray *sorted, GList *devices, WattbusObject *object, guint depth)
{
	const gchar *path = g_dbus_object_get_object_path(G_DBUS_OBJECT(object));
	WbcListEntry entry = {object, depth};

	g_array_append_val(sorted, entry);
	if (depth >= WBC_LIST_MAX_DEPTH)
		return;
	for (GList *l = devices; l != NULL; l = l->next) {
		WattbusDevice *device = wattbus_object_peek_device(l->data);
		if (l->data != object && g_strcmp0(wattbus_device_get_parent(device), path) == 0)
			wbc_list_append_tree(sorted, devices, l->data, depth + 1);
	}
}

/* the devices with the child outlets of each strip right after it */
static GArray *
wbc_list_sort_tree(GList *devices)
{
	GArray *sorted = g_array_new(FALSE, FALSE, sizeof(WbcListEntry));
	g_autoptr(GHashTable) paths = g_hash_table_new(g_str_hash, g_str_equal);

	for (GList *l = devices; l != NULL; l = l->next)
		g_hash_table_add(paths, (gpointer)g_dbus_object_get_object_path(l->data));
	for (GList *l = devices; l != NULL; l = l->next) {
		WattbusDevice *device = wattbus_object_peek_device(l->data);
		const gchar *parent = wattbus_device_get_parent(device);
		/* a top-level device, or one whose parent is not there */
		if (parent == NULL || !g_hash_table_contains(paths, parent) ||
		    g_strcmp0(parent, g_dbus_object_get_object_path(l->data)) == 0)
			wbc_list_append_tree(sorted, devices, l->data, 0);
	}
	return sorted;
}

/* whether COMMAND can act on the device, for `list --for COMMAND` (and completion) */
static gboolean
wbc_list_device_can(WattbusObject *object, const gchar *command)
{
	const gchar *outlet_commands[] = {"on", "off", "toggle", NULL};
	const gchar *water_commands[] = {"valve", "water-switch", "water-sharing", NULL};

	if (g_strv_contains(outlet_commands, command))
		return wattbus_object_peek_outlet(object) != NULL;
	if (g_strv_contains(water_commands, command))
		return wattbus_object_peek_water_meter(object) != NULL;
	if (g_strcmp0(command, "remove") == 0)
		return wattbus_device_get_removable(wattbus_object_peek_device(object));
	return TRUE;
}

static GList *
wbc_list_filter(GList *devices, const gchar *command)
{
	GList *kept = NULL;

	for (GList *l = devices; l != NULL; l = l->next) {
		if (command == NULL || wbc_list_device_can(l->data, command))
			kept = g_list_prepend(kept, g_object_ref(l->data));
	}
	g_list_free_full(devices, g_object_unref);
	return g_list_reverse(kept);
}

WbcExit
wbc_cmd_list(WbcCtl *ctl, gint argc, gchar **argv)
{
	g_autofree gchar *for_command = NULL;
	const gchar *commands[] = {"show",
				   "on",
				   "off",
				   "toggle",
				   "refresh",
				   "remove",
				   "valve",
				   "water-switch",
				   "water-sharing",
				   NULL};
	const GOptionEntry entries[] = {
	    {"for", 0, 0, G_OPTION_ARG_STRING, &for_command,
	     N_("Only the devices COMMAND can act on: outlets for on, off and toggle, the removable "
		"ones for remove, water meters for valve, water-switch and water-sharing"),
	     N_("COMMAND")},
	    {NULL},
	};
	const gchar *headers[] = {C_("column", "ID"),
				  _("KIND"),
				  _("NAME"),
				  _("MODEL"),
				  _("ONLINE"),
				  _("ON"),
				  _("POWER"),
				  /* TRANSLATORS: what a meter's power is of: load, production, grid... */
				  _("ROLE"),
				  _("NOTE")};
	g_autoptr(WbcTable) table = NULL;
	g_autoptr(GArray) sorted = NULL;
	GList *devices;
	WbcExit rc;

	rc = wbc_ctl_parse_options(ctl, "list", "", entries, &argc, &argv, 0, 0);
	if (rc != WBC_EXIT_OK)
		return rc;
	if (for_command != NULL && !g_strv_contains(commands, for_command))
		return wbc_ctl_usage_error("list",
					   _("'%s' is not a command that acts on a device"),
					   for_command);
	rc = wbc_ctl_connect(ctl, TRUE);
	if (rc != WBC_EXIT_OK)
		return rc;

	devices = wbc_list_filter(wattbus_client_list_devices(ctl->client), for_command);
	sorted = wbc_list_sort_tree(devices);

	if (ctl->json) {
		g_autoptr(JsonNode) root = json_node_new(JSON_NODE_ARRAY);
		JsonArray *array = json_array_new();
		for (guint i = 0; i < sorted->len; i++) {
			WbcListEntry *entry = &g_array_index(sorted, WbcListEntry, i);
			json_array_add_element(array,
					       wbc_json_from_device(ctl->client, entry->object, FALSE));
		}
		json_node_take_array(root, array);
		wbc_json_print(root);
	} else if (sorted->len == 0) {
		g_print("%s\n", _("No devices."));
	} else {
		table = wbc_table_new(G_N_ELEMENTS(headers), headers);
		wbc_table_set_right_aligned(table, 6);
		/* what gives way when the terminal is narrow: the name, the model, the kind, the note */
		wbc_table_set_shrinkable(table, 2, 8);
		wbc_table_set_shrinkable(table, 3, 5);
		wbc_table_set_shrinkable(table, 1, 4);
		wbc_table_set_shrinkable(table, 8, 8);
		/* and then the model, the kind and the role go */
		wbc_table_set_droppable(table, 3);
		wbc_table_set_droppable(table, 1);
		wbc_table_set_droppable(table, 7);
		for (guint i = 0; i < sorted->len; i++) {
			WbcListEntry *entry = &g_array_index(sorted, WbcListEntry, i);
			wbc_list_add_row(table, entry->object, entry->depth);
		}
		wbc_table_print(table);
	}
	g_list_free_full(devices, g_object_unref);
	return WBC_EXIT_OK;
}

/* show */

typedef struct {
	gchar *label; /* NULL for a section title */
	gchar *value;
} WbcShowLine;

static void
wbc_show_line_free(WbcShowLine *line)
{
	g_free(line->label);
	g_free(line->value);
	g_free(line);
}

static void
wbc_show_add(GPtrArray *lines, gchar *label, gchar *value)
{
	WbcShowLine *line = g_new0(WbcShowLine, 1);
	line->label = label;
	line->value = value;
	g_ptr_array_add(lines, line);
}

static gchar *
wbc_show_format_value(WbcCtl *ctl, const gchar *property, GVariant *value)
{
	/* the parent by its id, as in 'list' */
	if (g_strcmp0(property, "Parent") == 0 &&
	    g_variant_is_of_type(value, G_VARIANT_TYPE_OBJECT_PATH)) {
		gchar *parent = wbc_json_device_id(ctl->client, g_variant_get_string(value, NULL));
		if (parent != NULL)
			return parent;
	}
	return wbc_format_value(property, value);
}

static void
wbc_show_print(WattbusObject *object, GPtrArray *lines)
{
	gsize width = 0;

	for (guint i = 0; i < lines->len; i++) {
		WbcShowLine *line = g_ptr_array_index(lines, i);
		if (line->label != NULL)
			width = MAX(width, (gsize)g_utf8_strlen(line->label, -1) + 1);
	}
	g_print("%s\n", g_dbus_object_get_object_path(G_DBUS_OBJECT(object)));
	for (guint i = 0; i < lines->len; i++) {
		WbcShowLine *line = g_ptr_array_index(lines, i);
		g_autofree gchar *label = NULL;
		if (line->label == NULL) {
			g_print("\n%s\n", line->value);
			continue;
		}
		label = g_strdup_printf("%s:", line->label);
		g_print("  %s%*s %s\n",
			label,
			(gint)(width - (gsize)g_utf8_strlen(label, -1)),
			"",
			line->value);
	}
}

WbcExit
wbc_cmd_show(WbcCtl *ctl, gint argc, gchar **argv)
{
	g_autoptr(WattbusObject) object = NULL;
	g_autoptr(GPtrArray) proxies = NULL;
	g_autoptr(GPtrArray) lines = NULL;
	WbcExit rc;

	rc = wbc_ctl_open_device(ctl, "show", &argc, &argv, &object);
	if (rc != WBC_EXIT_OK)
		return rc;

	if (ctl->json) {
		g_autoptr(JsonNode) root = wbc_json_from_device(ctl->client, object, TRUE);
		wbc_json_print(root);
		return WBC_EXIT_OK;
	}

	/* every interface, the ones this tool does not know too, without unmeasured values */
	lines = g_ptr_array_new_with_free_func((GDestroyNotify)wbc_show_line_free);
	proxies = wbc_object_list_interfaces(G_DBUS_OBJECT(object));
	for (guint i = 0; i < proxies->len; i++) {
		GDBusProxy *proxy = g_ptr_array_index(proxies, i);
		g_auto(GStrv) names = wbc_proxy_list_property_names(proxy);

		wbc_show_add(lines,
			     NULL,
			     wbc_format_interface_title(g_dbus_proxy_get_interface_name(proxy)));
		for (guint j = 0; names[j] != NULL; j++) {
			g_autoptr(GVariant) value = NULL;

			value = g_dbus_proxy_get_cached_property(proxy, names[j]);
			if (value == NULL || !wbc_proxy_has_reading(proxy, names[j], value))
				continue;
			wbc_show_add(lines,
				     wbc_format_property_label(names[j]),
				     wbc_show_format_value(ctl, names[j], value));
		}
	}
	wbc_show_print(object, lines);
	return WBC_EXIT_OK;
}

/* on, off, toggle */

typedef enum {
	WBC_SWITCH_ON,
	WBC_SWITCH_OFF,
	WBC_SWITCH_TOGGLE,
} WbcSwitch;

/* reads On from the daemon rather than from the cache, which may lag a signal behind */
static gboolean
wbc_outlet_read_on(WattbusOutlet *outlet)
{
	GDBusProxy *proxy = G_DBUS_PROXY(outlet);
	g_autoptr(GVariant) ret = NULL;
	g_autoptr(GVariant) value = NULL;
	g_autoptr(GError) error = NULL;

	ret = g_dbus_connection_call_sync(g_dbus_proxy_get_connection(proxy),
					  g_dbus_proxy_get_name(proxy),
					  g_dbus_proxy_get_object_path(proxy),
					  "org.freedesktop.DBus.Properties",
					  "Get",
					  g_variant_new("(ss)",
							g_dbus_proxy_get_interface_name(proxy),
							"On"),
					  G_VARIANT_TYPE("(v)"),
					  G_DBUS_CALL_FLAGS_NO_AUTO_START,
					  -1,
					  NULL,
					  &error);
	if (ret == NULL) {
		g_debug("cannot read On: %s", error->message);
		return wattbus_outlet_get_on(outlet);
	}
	g_variant_get(ret, "(v)", &value);
	if (!g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN))
		return wattbus_outlet_get_on(outlet);
	return g_variant_get_boolean(value);
}

static WbcExit
wbc_cmd_switch(WbcCtl *ctl, gint argc, gchar **argv, const gchar *command, WbcSwitch action)
{
	g_autoptr(WattbusObject) object = NULL;
	g_autoptr(WattbusOutlet) outlet = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *id;
	gboolean ok = FALSE;
	gboolean on;
	WbcExit rc;

	rc = wbc_ctl_open_device(ctl, command, &argc, &argv, &object);
	if (rc != WBC_EXIT_OK)
		return rc;
	id = wbc_device_get_id(object);
	outlet = wattbus_object_get_outlet(object);
	if (outlet == NULL)
		/* TRANSLATORS: as in "device 'kitchen' has no outlet" */
		return wbc_ctl_report_missing(object, _("outlet"));

	switch (action) {
	case WBC_SWITCH_ON:
		ok = wattbus_outlet_call_turn_on_sync(outlet, NULL, &error);
		break;
	case WBC_SWITCH_OFF:
		ok = wattbus_outlet_call_turn_off_sync(outlet, NULL, &error);
		break;
	case WBC_SWITCH_TOGGLE:
		ok = wattbus_outlet_call_toggle_sync(outlet, NULL, &error);
		break;
	default:
		g_assert_not_reached();
	}
	if (!ok)
		return wbc_ctl_report_error(error, id);

	wbc_ctl_flush_events();
	on = wbc_outlet_read_on(outlet);
	if (ctl->json) {
		g_autoptr(JsonNode) root = json_node_new(JSON_NODE_OBJECT);
		JsonObject *json = json_object_new();
		json_object_set_string_member(json, "id", id);
		json_object_set_string_member(json,
					      "path",
					      g_dbus_object_get_object_path(G_DBUS_OBJECT(object)));
		json_object_set_boolean_member(json, "on", on);
		json_node_take_object(root, json);
		wbc_json_print(root);
	} else {
		g_print("%s: %s\n", id, on ? _("on") : _("off"));
	}
	return WBC_EXIT_OK;
}

WbcExit
wbc_cmd_on(WbcCtl *ctl, gint argc, gchar **argv)
{
	return wbc_cmd_switch(ctl, argc, argv, "on", WBC_SWITCH_ON);
}

WbcExit
wbc_cmd_off(WbcCtl *ctl, gint argc, gchar **argv)
{
	return wbc_cmd_switch(ctl, argc, argv, "off", WBC_SWITCH_OFF);
}

WbcExit
wbc_cmd_toggle(WbcCtl *ctl, gint argc, gchar **argv)
{
	return wbc_cmd_switch(ctl, argc, argv, "toggle", WBC_SWITCH_TOGGLE);
}

/* refresh */

WbcExit
wbc_cmd_refresh(WbcCtl *ctl, gint argc, gchar **argv)
{
	g_autoptr(WattbusObject) object = NULL;
	g_autoptr(GError) error = NULL;
	WattbusDevice *device;
	WbcExit rc;

	rc = wbc_ctl_open_device(ctl, "refresh", &argc, &argv, &object);
	if (rc != WBC_EXIT_OK)
		return rc;
	device = wattbus_object_peek_device(object);
	if (!wattbus_device_call_refresh_sync(device, NULL, &error))
		return wbc_ctl_report_error(error, wbc_device_get_id(object));
	g_print("%s: %s\n", wbc_device_get_id(object), _("refreshed"));
	return WBC_EXIT_OK;
}
