/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "wbc-format.h"
#include "wbc-json.h"
#include "wbc-table.h"
#include "wbc.h"

/* discover */

static gchar *
wbc_discover_note(WbcCtl *ctl, GVariant *found)
{
	const gchar *configured = NULL;
	const gchar *note = NULL;
	gboolean supported = TRUE;
	g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);

	g_variant_lookup(found, "configured", "&o", &configured);
	g_variant_lookup(found, "supported", "b", &supported);
	g_variant_lookup(found, "note", "&s", &note);
	if (configured != NULL && g_strcmp0(configured, "/") != 0) {
		g_autofree gchar *id = wbc_json_device_id(ctl->client, configured);
		g_ptr_array_add(parts, g_strdup_printf(_("configured as %s"), id));
	}
	if (!supported)
		g_ptr_array_add(parts, g_strdup(_("not supported")));
	if (note != NULL && note[0] != '\0')
		g_ptr_array_add(parts, g_strdup(note));
	g_ptr_array_add(parts, NULL);
	return g_strjoinv("; ", (gchar **)parts->pdata);
}

/* the members of one found device in `discover --json`, as wattbusctl(1) lists them:
 * the same keys whatever the driver says, null when it says nothing */
static const struct {
	const gchar *key;  /* in the daemon's dictionary */
	const gchar *type; /* its GVariant type */
} wbc_discover_keys[] = {
    {"driver", "s"},
    {"address", "s"},
    {"kind", "s"},
    {"model", "s"},
    {"name", "s"},
    {"mac-address", "s"},
    {"device-id", "s"},
    {"version", "s"},
    {"product-key", "s"},
    {"transport", "s"},
    {"http-port", "s"},
    {"credentials", "b"},
    {"supported", "b"},
    {"configured", "o"},
    {"note", "s"},
};

static JsonNode *
wbc_discover_to_json(WbcCtl *ctl, GVariant *found)
{
	g_autoptr(JsonNode) root = json_node_new(JSON_NODE_ARRAY);
	JsonArray *array = json_array_new();

	for (gsize i = 0; i < g_variant_n_children(found); i++) {
		g_autoptr(GVariant) dev = g_variant_get_child_value(found, i);
		JsonObject *object = json_object_new();
		JsonNode *node = json_node_new(JSON_NODE_OBJECT);

		for (guint k = 0; k < G_N_ELEMENTS(wbc_discover_keys); k++) {
			g_autofree gchar *key = wbc_json_name(wbc_discover_keys[k].key);
			g_autoptr(GVariant) value =
			    g_variant_lookup_value(dev,
						   wbc_discover_keys[k].key,
						   G_VARIANT_TYPE(wbc_discover_keys[k].type));
			guint64 port = 0;

			if (value == NULL)
				json_object_set_null_member(object, key);
			else if (g_str_equal(wbc_discover_keys[k].key, "http-port")) {
				/* a number for scripts; the daemon's string is 1..65535 */
				if (g_ascii_string_to_unsigned(g_variant_get_string(value, NULL),
							       10,
							       1,
							       65535,
							       &port,
							       NULL))
					json_object_set_int_member(object, key, (gint64)port);
				else
					json_object_set_null_member(object, key);
			} else
				json_object_set_member(object,
						       key,
						       wbc_json_from_property(ctl->client,
									      wbc_discover_keys[k].key,
									      value));
		}
		json_node_take_object(node, object);
		json_array_add_element(array, node);
	}
	json_node_take_array(root, array);
	return g_steal_pointer(&root);
}

WbcExit
wbc_cmd_discover(WbcCtl *ctl, gint argc, gchar **argv)
{
	g_autofree gchar *driver = NULL;
	g_autofree gchar *target = NULL;
	gint timeout = 0;
	const GOptionEntry entries[] = {
	    {"driver", 0, 0, G_OPTION_ARG_STRING, &driver,
	     N_("Only look for devices of this driver"), N_("NAME")},
	    {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
	     N_("Look for this long, from 1 to 60 seconds (default: 3)"), N_("SECONDS")},
	    {"target", 0, 0, G_OPTION_ARG_STRING, &target,
	     N_("Probe this address instead of broadcasting"), N_("ADDRESS")},
	    {NULL},
	};
	const gchar *headers[] = {_("DRIVER"),
				  _("ADDRESS"),
				  _("MODEL"),
				  _("NAME"),
				  _("MAC"),
				  _("DEVICE-ID"),
				  _("NOTE")};
	g_auto(GVariantDict) options = G_VARIANT_DICT_INIT(NULL);
	g_autoptr(GVariant) found = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(WbcTable) table = NULL;
	WbcExit rc;

	rc = wbc_ctl_parse_options(ctl, "discover", "", entries, &argc, &argv, 0, 0);
	if (rc != WBC_EXIT_OK)
		return rc;
	if (timeout < 0 || timeout > 60)
		return wbc_ctl_usage_error("discover",
					   _("the timeout must be from 1 to 60 seconds"));
	rc = wbc_ctl_connect_without_devices(ctl, TRUE);
	if (rc != WBC_EXIT_OK)
		return rc;

	if (driver != NULL)
		g_variant_dict_insert(&options, "driver", "s", driver);
	if (timeout > 0)
		g_variant_dict_insert(&options, "timeout", "u", (guint32)timeout);
	if (target != NULL)
		g_variant_dict_insert(&options, "target", "s", target);
	/* on stderr, so that it is never part of the output; not for scripts (--json) */
	if (ctl->json)
		;
	else if (target != NULL)
		g_printerr(_("Asking %s, for up to %d s…\n"), target, timeout > 0 ? timeout : 3);
	else if (driver != NULL)
		g_printerr(_("Looking for %s devices on the local network for %d s…\n"),
			   driver,
			   timeout > 0 ? timeout : 3);
	else
		g_printerr(_("Looking for devices on the local network for %d s…\n"),
			   timeout > 0 ? timeout : 3);
	found = wattbus_client_discover_sync(ctl->client,
					     g_variant_dict_end(&options),
					     NULL,
					     &error);
	if (found == NULL)
		return wbc_ctl_report_error(error, NULL);

	if (ctl->json) {
		g_autoptr(JsonNode) root = wbc_discover_to_json(ctl, found);
		wbc_json_print(root);
		return WBC_EXIT_OK;
	}
	if (g_variant_n_children(found) == 0) {
		g_print("%s\n", _("No devices found."));
		return WBC_EXIT_OK;
	}
	table = wbc_table_new(G_N_ELEMENTS(headers), headers);
	for (gsize i = 0; i < g_variant_n_children(found); i++) {
		g_autoptr(GVariant) dev = g_variant_get_child_value(found, i);
		const gchar *cells[G_N_ELEMENTS(headers)] = {NULL};
		g_autofree gchar *note = wbc_discover_note(ctl, dev);

		g_variant_lookup(dev, "driver", "&s", &cells[0]);
		g_variant_lookup(dev, "address", "&s", &cells[1]);
		g_variant_lookup(dev, "model", "&s", &cells[2]);
		g_variant_lookup(dev, "name", "&s", &cells[3]);
		g_variant_lookup(dev, "mac-address", "&s", &cells[4]);
		g_variant_lookup(dev, "device-id", "&s", &cells[5]);
		cells[6] = note;
		wbc_table_add_row(table, cells);
	}
	wbc_table_print(table);
	return WBC_EXIT_OK;
}

/* add */

/* reads the value of a secret setting from stdin, so that it does not show in ps */
static gchar *
wbc_add_read_value(const gchar *key, GError **error)
{
	g_autofree gchar *line = NULL;
	gsize size = 0;
	gssize len;
	struct termios saved;
	gboolean tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;

	if (tty) {
		struct termios quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		g_printerr(_("Value of %s: "), key);
		tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
	}
	len = getline(&line, &size, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
		g_printerr("\n");
	}
	if (len < 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_INVALID_DATA,
			    _("no value for '%s' on the standard input"),
			    key);
		return NULL;
	}
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	return g_steal_pointer(&line);
}

static WbcExit
wbc_add_insert(GVariantDict *settings, const gchar *key, GVariant *value)
{
	if (g_variant_dict_contains(settings, key)) {
		g_variant_unref(g_variant_ref_sink(value));
		return wbc_ctl_usage_error("add", _("'%s' is given twice"), key);
	}
	g_variant_dict_insert_value(settings, key, value);
	return WBC_EXIT_OK;
}

static WbcExit
wbc_add_parse_sets(GVariantDict *settings, gchar **sets)
{
	for (guint i = 0; sets != NULL && sets[i] != NULL; i++) {
		g_autofree gchar *key = NULL;
		g_autofree gchar *value = NULL;
		const gchar *eq = strchr(sets[i], '=');
		WbcExit rc;

		if (eq == NULL || eq == sets[i])
			return wbc_ctl_usage_error("add", _("'%s' is not KEY=VALUE"), sets[i]);
		key = g_strndup(sets[i], eq - sets[i]);
		if (g_strcmp0(eq + 1, "-") == 0) {
			g_autoptr(GError) error = NULL;
			value = wbc_add_read_value(key, &error);
			if (value == NULL) {
				g_printerr("wattbusctl: %s\n", error->message);
				return WBC_EXIT_USAGE;
			}
		} else {
			value = g_strdup(eq + 1);
		}
		rc = wbc_add_insert(settings, key, g_variant_new_string(value));
		if (rc != WBC_EXIT_OK)
			return rc;
	}
	return WBC_EXIT_OK;
}

/* the host of an address and its port, if it says one: "http://h:80/x" → "h", "80" */
static gchar *
wbc_add_address_host(const gchar *address, gchar **port)
{
	const gchar *start = strstr(address, "://");
	const gchar *end;
	const gchar *rest;

	start = start != NULL ? start + 3 : address;
	if (start[0] == '[') {
		end = strchr(start, ']');
		if (end == NULL)
			end = start + strlen(start);
		rest = end[0] == ']' ? end + 1 : end;
		start++;
	} else {
		end = start + strcspn(start, ":/");
		rest = end;
	}
	*port = rest[0] == ':' ? g_strndup(rest + 1, strcspn(rest + 1, "/")) : NULL;
	return g_ascii_strdown(start, end - start);
}

/* a top-level device at the same host and port (a missing port matches any) */
static WattbusObject *
wbc_add_find_same_address(WbcCtl *ctl, const gchar *address)
{
	g_autofree gchar *port = NULL;
	g_autofree gchar *host = wbc_add_address_host(address, &port);
	GList *devices = wattbus_client_list_devices(ctl->client);
	WattbusObject *found = NULL;

	for (GList *l = devices; l != NULL && found == NULL; l = l->next) {
		WattbusDevice *device = wattbus_object_peek_device(l->data);
		const gchar *other = wattbus_device_get_address(device);
		const gchar *parent = wattbus_device_get_parent(device);
		g_autofree gchar *other_port = NULL;
		g_autofree gchar *other_host = NULL;

		/* the children of a gateway or strip share its address */
		if (other == NULL || other[0] == '\0' || (parent != NULL && g_strcmp0(parent, "/") != 0))
			continue;
		other_host = wbc_add_address_host(other, &other_port);
		if (g_strcmp0(other_host, host) == 0 &&
		    (port == NULL || other_port == NULL || g_strcmp0(port, other_port) == 0))
			found = g_object_ref(l->data);
	}
	g_list_free_full(devices, g_object_unref);
	return found;
}

static void
wbc_add_device_notify_cb(GObject *device, GParamSpec *pspec, gpointer user_data)
{
	g_main_loop_quit(user_data);
}

static gboolean
wbc_add_timeout_cb(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_REMOVE;
}

/* waits for the new device's first poll, up to a few seconds: whether it answered */
static gchar *
wbc_add_check_answers(WattbusObject *object)
{
	WattbusDevice *device = wattbus_object_peek_device(object);
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	const gchar *error;
	gulong online_id;
	gulong error_id;
	guint timeout_id;

	online_id = g_signal_connect(device,
				     "notify::online",
				     G_CALLBACK(wbc_add_device_notify_cb),
				     loop);
	error_id = g_signal_connect(device,
				    "notify::last-error",
				    G_CALLBACK(wbc_add_device_notify_cb),
				    loop);
	timeout_id = g_timeout_add_seconds(8, wbc_add_timeout_cb, loop);
	error = wattbus_device_get_last_error(device);
	if (!wattbus_device_get_online(device) && (error == NULL || error[0] == '\0'))
		g_main_loop_run(loop);
	g_clear_handle_id(&timeout_id, g_source_remove);
	g_signal_handler_disconnect(device, online_id);
	g_signal_handler_disconnect(device, error_id);
	if (wattbus_device_get_online(device))
		return NULL;
	error = wattbus_device_get_last_error(device);
	if (error != NULL && error[0] != '\0')
		return g_strdup_printf(_("%s does not answer (%s); the daemon keeps trying"),
				       wbc_device_get_id(object),
				       error);
	return g_strdup_printf(_("%s has not answered yet; the daemon keeps trying"),
			       wbc_device_get_id(object));
}

WbcExit
wbc_cmd_add(WbcCtl *ctl, gint argc, gchar **argv)
{
	g_autofree gchar *driver = NULL;
	g_autofree gchar *address = NULL;
	g_autofree gchar *name = NULL;
	g_autofree gchar *id = NULL;
	g_auto(GStrv) sets = NULL;
	gint poll_interval = 0;
	const GOptionEntry entries[] = {
	    {"driver", 0, 0, G_OPTION_ARG_STRING, &driver,
	     N_("The driver of the device (see 'wattbusctl version')"), N_("NAME")},
	    {"address", 0, 0, G_OPTION_ARG_STRING, &address,
	     N_("The host or host:port of the device"), N_("ADDRESS")},
	    {"name", 0, 0, G_OPTION_ARG_STRING, &name, N_("A name for people"), N_("NAME")},
	    {"id", 0, 0, G_OPTION_ARG_STRING, &id,
	     N_("The device id (default: made from the name or the address)"), N_("ID")},
	    {"poll-interval", 0, 0, G_OPTION_ARG_INT, &poll_interval,
	     N_("Seconds between two polls"), N_("SECONDS")},
	    {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets,
	     N_("Another setting of the driver; VALUE '-' reads it from the standard input"),
	     N_("KEY=VALUE")},
	    {NULL},
	};
	g_auto(GVariantDict) settings = G_VARIANT_DICT_INIT(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(WattbusObject) object = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *new_id = NULL;
	g_autoptr(WattbusObject) same = NULL;
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	WbcExit rc;

	rc = wbc_ctl_parse_options(ctl, "add", "", entries, &argc, &argv, 0, 0);
	if (rc != WBC_EXIT_OK)
		return rc;
	if (driver == NULL || address == NULL)
		return wbc_ctl_usage_error("add", _("'add' needs --driver and --address"));
	if (poll_interval < 0)
		return wbc_ctl_usage_error("add", _("the poll interval must be positive"));
	g_variant_dict_insert(&settings, "driver", "s", driver);
	g_variant_dict_insert(&settings, "address", "s", address);
	if (name != NULL)
		g_variant_dict_insert(&settings, "name", "s", name);
	if (id != NULL)
		g_variant_dict_insert(&settings, "id", "s", id);
	if (poll_interval > 0)
		g_variant_dict_insert(&settings, "poll-interval", "u", (guint32)poll_interval);
	rc = wbc_add_parse_sets(&settings, sets);
	if (rc != WBC_EXIT_OK)
		return rc;
	rc = wbc_ctl_connect(ctl, TRUE);
	if (rc != WBC_EXIT_OK)
		return rc;

	same = wbc_add_find_same_address(ctl, address);
	if (same != NULL)
		g_ptr_array_add(warnings,
				g_strdup_printf(_("%s is configured already as %s"),
						address,
						wbc_device_get_id(same)));
	path = wattbus_client_add_device_sync(ctl->client,
					      g_variant_dict_end(&settings),
					      NULL,
					      &error);
	if (path == NULL)
		return wbc_ctl_report_error(error, NULL);

	/* the object arrived with InterfacesAdded before the reply */
	wbc_ctl_flush_events();
	object = wattbus_client_lookup_device(ctl->client, path);
	if (object != NULL) {
		g_autofree gchar *warning = NULL;
		new_id = g_strdup(wbc_device_get_id(object));
		warning = wbc_add_check_answers(object);
		if (warning != NULL)
			g_ptr_array_add(warnings, g_steal_pointer(&warning));
	} else {
		g_autofree guint8 *unescaped = g_dbus_unescape_object_path(strrchr(path, '/') + 1);
		new_id = g_strdup(unescaped != NULL ? (const gchar *)unescaped
						    : strrchr(path, '/') + 1);
	}
	if (ctl->json) {
		g_autoptr(JsonNode) root = json_node_new(JSON_NODE_OBJECT);
		JsonObject *json = json_object_new();
		JsonArray *array = json_array_new();
		json_object_set_string_member(json, "id", new_id);
		json_object_set_string_member(json, "path", path);
		for (guint i = 0; i < warnings->len; i++)
			json_array_add_string_element(array, g_ptr_array_index(warnings, i));
		json_object_set_array_member(json, "warnings", array);
		json_node_take_object(root, json);
		wbc_json_print(root);
	} else {
		g_print(_("Added device %s (%s)\n"), new_id, path);
	}
	for (guint i = 0; i < warnings->len; i++)
		g_printerr("wattbusctl: %s: %s\n",
			   _("warning"),
			   (const gchar *)g_ptr_array_index(warnings, i));
	return WBC_EXIT_OK;
}

/* remove */

WbcExit
wbc_cmd_remove(WbcCtl *ctl, gint argc, gchar **argv)
{
	g_autoptr(WattbusObject) object = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = NULL;
	WbcExit rc;

	rc = wbc_ctl_open_device(ctl, "remove", &argc, &argv, &object);
	if (rc != WBC_EXIT_OK)
		return rc;
	id = g_strdup(wbc_device_get_id(object));
	if (!wattbus_client_remove_device_sync(ctl->client,
					       g_dbus_object_get_object_path(G_DBUS_OBJECT(object)),
					       NULL,
					       &error))
		return wbc_ctl_report_error(error, id);
	g_print(_("Removed device %s\n"), id);
	return WBC_EXIT_OK;
}

/* reload */

WbcExit
wbc_cmd_reload(WbcCtl *ctl, gint argc, gchar **argv)
{
	g_autoptr(GError) error = NULL;
	WbcExit rc;

	rc = wbc_ctl_parse_options(ctl, "reload", "", NULL, &argc, &argv, 0, 0);
	if (rc != WBC_EXIT_OK)
		return rc;
	rc = wbc_ctl_connect_without_devices(ctl, TRUE);
	if (rc != WBC_EXIT_OK)
		return rc;
	if (!wattbus_client_reload_sync(ctl->client, NULL, &error))
		return wbc_ctl_report_error(error, NULL);
	g_print("%s\n", _("The configuration was reloaded."));
	return WBC_EXIT_OK;
}
