/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <glib/gi18n.h>

#include "wbc-format.h"
#include "wbc-json.h"
#include "wbc-table.h"
#include "wbc.h"

/* exporters: the objects with the Exporter interface, sorted by id */

static gint
wbc_exporter_compare(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(wattbus_exporter_get_id(WATTBUS_EXPORTER((gpointer)a)),
			 wattbus_exporter_get_id(WATTBUS_EXPORTER((gpointer)b)));
}

#define WBC_EXPORTERS_PATH WATTBUS_DBUS_PATH "/Exporters"

/* the exporters are the children of WBC_EXPORTERS_PATH: asked from Introspect, without
 * loading every device; a proxy each (one Properties.GetAll) */
static GList *
wbc_list_exporters(WbcCtl *ctl, GError **error)
{
	GDBusConnection *connection = wattbus_client_get_connection(ctl->client);
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GDBusNodeInfo) node = NULL;
	g_autoptr(GError) local_error = NULL;
	GList *exporters = NULL;
	const gchar *xml = NULL;

	reply = g_dbus_connection_call_sync(connection,
					    WATTBUS_DBUS_NAME,
					    WBC_EXPORTERS_PATH,
					    "org.freedesktop.DBus.Introspectable",
					    "Introspect",
					    NULL,
					    G_VARIANT_TYPE("(s)"),
					    G_DBUS_CALL_FLAGS_NONE,
					    -1,
					    NULL,
					    &local_error);
	/* no exporter: no such object */
	if (reply == NULL && g_error_matches(local_error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT))
		return NULL;
	if (reply == NULL) {
		g_propagate_error(error, g_steal_pointer(&local_error));
		return NULL;
	}
	g_variant_get(reply, "(&s)", &xml);
	node = g_dbus_node_info_new_for_xml(xml, error);
	if (node == NULL)
		return NULL;
	for (guint i = 0; node->nodes[i] != NULL; i++) {
		g_autofree gchar *path = NULL;
		WattbusExporter *exporter;

		if (node->nodes[i]->path == NULL || node->nodes[i]->path[0] == '/')
			continue;
		path = g_strconcat(WBC_EXPORTERS_PATH "/", node->nodes[i]->path, NULL);
		exporter = wattbus_exporter_proxy_new_sync(connection,
							   G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
							   WATTBUS_DBUS_NAME,
							   path,
							   NULL,
							   error);
		if (exporter == NULL) {
			g_list_free_full(exporters, g_object_unref);
			return NULL;
		}
		/* a child without the interface has no properties */
		if (wattbus_exporter_get_id(exporter) == NULL)
			g_object_unref(exporter);
		else
			exporters = g_list_prepend(exporters, exporter);
	}
	return g_list_sort(exporters, wbc_exporter_compare);
}

/* an exporter's State for people (JSON keeps the D-Bus value) */
static const gchar *
wbc_exporter_state_text(const gchar *state)
{
	static const struct {
		const gchar *state;
		const gchar *text;
	} states[] = {
	    {"connecting", NC_("exporter state", "connecting")},
	    {"connected", NC_("exporter state", "connected")},
	    {"backing-off", NC_("exporter state", "backing-off")},
	    {"error", NC_("exporter state", "error")},
	    {"disabled", NC_("exporter state", "disabled")},
	};
	for (guint i = 0; i < G_N_ELEMENTS(states); i++) {
		if (g_strcmp0(state, states[i].state) == 0)
			return g_dpgettext2(GETTEXT_PACKAGE, "exporter state", states[i].text);
	}
	return state; /* one added later: as the daemon says it */
}

static WbcExit
wbc_exporters_call(WbcCtl *ctl, GList *exporters, const gchar *action, const gchar *id)
{
	g_autoptr(GError) error = NULL;
	WattbusExporter *exporter = NULL;
	gboolean ok;

	for (GList *l = exporters; l != NULL && exporter == NULL; l = l->next) {
		if (g_strcmp0(wattbus_exporter_get_id(l->data), id) == 0)
			exporter = l->data;
	}
	if (exporter == NULL) {
		g_printerr("wattbusctl: ");
		g_printerr(_("no exporter named '%s' (see 'wattbusctl exporters')"), id);
		g_printerr("\n");
		return WBC_EXIT_NOT_FOUND;
	}
	if (g_strcmp0(action, "flush") == 0)
		ok = wattbus_exporter_call_flush_sync(exporter, NULL, &error);
	else if (g_strcmp0(action, "enable") == 0)
		ok = wattbus_exporter_call_enable_sync(exporter, NULL, &error);
	else
		ok = wattbus_exporter_call_disable_sync(exporter, NULL, &error);
	if (!ok)
		return wbc_ctl_report_error(g_steal_pointer(&error), NULL);
	wbc_ctl_flush_events();
	if (g_strcmp0(action, "flush") == 0) {
		/* the count as text: xgettext cannot see through G_GUINT64_FORMAT */
		g_autofree gchar *queued =
		    g_strdup_printf("%" G_GUINT64_FORMAT, wattbus_exporter_get_queued(exporter));
		g_print(_("Exporter %s: flushed (state %s, %s queued)\n"),
			id,
			wbc_exporter_state_text(wattbus_exporter_get_state(exporter)),
			queued);
	} else if (g_strcmp0(action, "enable") == 0)
		g_print(_("Exporter %s: enabled\n"), id);
	else
		g_print(_("Exporter %s: disabled\n"), id);
	return WBC_EXIT_OK;
}

static gchar *
wbc_exporters_format_counter(gboolean counts, guint64 value)
{
	if (!counts)
		return NULL;
	return g_strdup_printf("%" G_GUINT64_FORMAT, value);
}

WbcExit
wbc_cmd_exporters(WbcCtl *ctl, gint argc, gchar **argv)
{
	const gchar *headers[] = {C_("column", "ID"),
				  _("KIND"),
				  _("TARGET"),
				  _("STATE"),
				  _("QUEUED"),
				  _("SENT"),
				  _("FAILED"),
				  _("DROPPED"),
				  _("CLIENTS"),
				  _("LAST-SUCCESS"),
				  _("LAST-ERROR")};
	g_autoptr(WbcTable) table = NULL;
	g_autoptr(GError) error = NULL;
	GList *exporters;
	WbcExit rc;

	rc = wbc_ctl_parse_options(ctl,
				   "exporters",
				   _("[flush|enable|disable EXPORTER]"),
				   NULL,
				   &argc,
				   &argv,
				   0,
				   2);
	if (rc != WBC_EXIT_OK)
		return rc;
	if (argc == 2 || (argc == 3 && g_strcmp0(argv[1], "flush") != 0 &&
			  g_strcmp0(argv[1], "enable") != 0 && g_strcmp0(argv[1], "disable") != 0))
		return wbc_ctl_usage_error("exporters",
					   _("the action must be flush, enable or disable"));
	rc = wbc_ctl_connect_without_devices(ctl, TRUE);
	if (rc != WBC_EXIT_OK)
		return rc;

	exporters = wbc_list_exporters(ctl, &error);
	if (error != NULL)
		return wbc_ctl_report_error(error, NULL);
	if (argc == 3) {
		rc = wbc_exporters_call(ctl, exporters, argv[1], argv[2]);
	} else if (ctl->json) {
		g_autoptr(JsonNode) root = json_node_new(JSON_NODE_ARRAY);
		JsonArray *array = json_array_new();
		for (GList *l = exporters; l != NULL; l = l->next)
			json_array_add_element(array,
					       wbc_json_from_proxy(ctl->client, G_DBUS_PROXY(l->data)));
		json_node_take_array(root, array);
		wbc_json_print(root);
	} else if (exporters == NULL) {
		g_print("%s\n", _("No exporters."));
	} else {
		table = wbc_table_new(G_N_ELEMENTS(headers), headers);
		for (guint column = 4; column <= 8; column++)
			wbc_table_set_right_aligned(table, column);
		for (GList *l = exporters; l != NULL; l = l->next) {
			WattbusExporter *exporter = l->data;
			/* a live kind (sse) keeps no queue; it counts its clients and events */
			gboolean counts = g_strcmp0(wattbus_exporter_get_kind(exporter), "sse") != 0;
			g_autofree gchar *queued = wbc_exporters_format_counter(
			    counts, wattbus_exporter_get_queued(exporter));
			g_autofree gchar *sent =
			    wbc_exporters_format_counter(TRUE, wattbus_exporter_get_sent(exporter));
			g_autofree gchar *clients = wbc_exporters_format_counter(
			    !counts, wattbus_exporter_get_clients(exporter));
			g_autofree gchar *failed = wbc_exporters_format_counter(
			    counts, wattbus_exporter_get_failed(exporter));
			g_autofree gchar *dropped = wbc_exporters_format_counter(
			    counts, wattbus_exporter_get_dropped(exporter));
			g_autofree gchar *success =
			    wbc_format_time_usec(wattbus_exporter_get_last_success(exporter));
			const gchar *cells[] = {wattbus_exporter_get_id(exporter),
						wattbus_exporter_get_kind(exporter),
						wattbus_exporter_get_target(exporter),
						wbc_exporter_state_text(
						    wattbus_exporter_get_state(exporter)),
						queued,
						sent,
						failed,
						dropped,
						clients,
						success,
						wattbus_exporter_get_last_error(exporter)};
			wbc_table_add_row(table, cells);
		}
		wbc_table_print(table);
	}
	g_list_free_full(exporters, g_object_unref);
	return rc;
}
