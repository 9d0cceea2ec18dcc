/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "wbc-format.h"
#include "wbc-json.h"
#include "wbc.h"

/* the commands of a water meter (org.wattbus.Wattbus1.WaterMeter), so that its valve
 * needs no busctl: valve, water-switch, water-sharing */

/* the device's water meter, or why there is none */
static WbcExit
wbc_water_open(WbcCtl *ctl,
	       const gchar *command,
	       const gchar *parameters,
	       gint *argc,
	       gchar ***argv,
	       gint n_args,
	       WattbusObject **object,
	       WattbusWaterMeter **meter)
{
	WbcExit rc = wbc_ctl_parse_options(ctl, command, parameters, NULL, argc, argv, n_args, n_args);

	if (rc == WBC_EXIT_OK)
		rc = wbc_ctl_connect_without_devices(ctl, TRUE);
	if (rc == WBC_EXIT_OK)
		rc = wbc_ctl_lookup_device(ctl, (*argv)[1], object);
	if (rc != WBC_EXIT_OK)
		return rc;
	*meter = wattbus_object_get_water_meter(*object);
	if (*meter == NULL)
		/* TRANSLATORS: as in "device 'kitchen' has no water meter" */
		return wbc_ctl_report_missing(*object, _("water meter"));
	return WBC_EXIT_OK;
}

/* "ID: valve closed", or {"id": ID, "valve": "closed"} */
static void
wbc_water_print(WbcCtl *ctl, WattbusObject *object, const gchar *property, GVariant *value)
{
	g_autoptr(GVariant) sunk = g_variant_ref_sink(value);
	const gchar *id = wbc_device_get_id(object);

	if (ctl->json) {
		g_autoptr(JsonNode) root = json_node_new(JSON_NODE_OBJECT);
		JsonObject *json = json_object_new();
		g_autofree gchar *key = wbc_json_name(property);
		json_object_set_string_member(json, "id", id);
		json_object_set_string_member(json,
					      "path",
					      g_dbus_object_get_object_path(G_DBUS_OBJECT(object)));
		json_object_set_member(json, key, wbc_json_from_property(ctl->client, property, sunk));
		json_node_take_object(root, json);
		wbc_json_print(root);
	} else {
		g_autofree gchar *label = wbc_format_property_label(property);
		g_autofree gchar *text = wbc_format_value(property, sunk);
		g_print("%s: %s %s\n", id, label, text);
	}
}

static gboolean
wbc_water_parse_percent(const gchar *arg, guint *percent)
{
	g_autofree gchar *number = g_strdup(arg);
	guint64 value;

	if (g_str_has_suffix(number, "%"))
		number[strlen(number) - 1] = '\0';
	if (!g_ascii_string_to_unsigned(number, 10, 0, 100, &value, NULL))
		return FALSE;
	*percent = (guint)value;
	return TRUE;
}

/* calls Method(value) of the water meter and says the property that was set */
static WbcExit
wbc_water_set(WbcCtl *ctl,
	      WattbusObject *object,
	      WattbusWaterMeter *meter,
	      const gchar *method,
	      const gchar *property,
	      GVariant *value)
{
	g_autoptr(GVariant) sunk = g_variant_ref_sink(value);
	g_autoptr(GVariant) ret = NULL;
	g_autoptr(GError) error = NULL;

	ret = g_dbus_proxy_call_sync(G_DBUS_PROXY(meter),
				     method,
				     g_variant_new_tuple(&sunk, 1),
				     G_DBUS_CALL_FLAGS_NONE,
				     -1,
				     NULL,
				     &error);
	if (ret == NULL)
		return wbc_ctl_report_error(error, wbc_device_get_id(object));
	wbc_water_print(ctl, object, property, g_variant_ref(sunk));
	return WBC_EXIT_OK;
}

/* valve DEVICE open|closed|PERCENT */
WbcExit
wbc_cmd_valve(WbcCtl *ctl, gint argc, gchar **argv)
{
	g_autoptr(WattbusObject) object = NULL;
	g_autoptr(WattbusWaterMeter) meter = NULL;
	guint percent = 0;
	WbcExit rc;

	rc = wbc_water_open(ctl,
			    "valve",
			    _("DEVICE open|closed|PERCENT"),
			    &argc,
			    &argv,
			    2,
			    &object,
			    &meter);
	if (rc != WBC_EXIT_OK)
		return rc;
	if (g_strcmp0(argv[2], "open") == 0 || g_strcmp0(argv[2], "opened") == 0)
		return wbc_water_set(ctl,
				     object,
				     meter,
				     "SetValve",
				     "Valve",
				     g_variant_new_string("opened"));
	if (g_strcmp0(argv[2], "close") == 0 || g_strcmp0(argv[2], "closed") == 0)
		return wbc_water_set(ctl,
				     object,
				     meter,
				     "SetValve",
				     "Valve",
				     g_variant_new_string("closed"));
	if (!wbc_water_parse_percent(argv[2], &percent))
		return wbc_ctl_usage_error("valve",
					   _("'%s' is not open, closed or a percentage from 0 to 100"),
					   argv[2]);
	return wbc_water_set(ctl,
			     object,
			     meter,
			     "SetValveOpenness",
			     "ValveOpenness",
			     g_variant_new_uint32(percent));
}

/* water-switch DEVICE on|off */
WbcExit
wbc_cmd_water_switch(WbcCtl *ctl, gint argc, gchar **argv)
{
	g_autoptr(WattbusObject) object = NULL;
	g_autoptr(WattbusWaterMeter) meter = NULL;
	WbcExit rc;

	rc = wbc_water_open(ctl, "water-switch", _("DEVICE on|off"), &argc, &argv, 2, &object, &meter);
	if (rc != WBC_EXIT_OK)
		return rc;
	if (g_strcmp0(argv[2], "on") != 0 && g_strcmp0(argv[2], "off") != 0)
		return wbc_ctl_usage_error("water-switch", _("'%s' is not on or off"), argv[2]);
	return wbc_water_set(ctl,
			     object,
			     meter,
			     "SetSwitch",
			     "Switch",
			     g_variant_new_boolean(g_strcmp0(argv[2], "on") == 0));
}

/* water-sharing DEVICE cold|hot TYPE; the daemon checks TYPE and names the values it takes */
WbcExit
wbc_cmd_water_sharing(WbcCtl *ctl, gint argc, gchar **argv)
{
	g_autoptr(WattbusObject) object = NULL;
	g_autoptr(WattbusWaterMeter) meter = NULL;
	WbcExit rc;

	rc = wbc_water_open(ctl,
			    "water-sharing",
			    _("DEVICE cold|hot TYPE"),
			    &argc,
			    &argv,
			    3,
			    &object,
			    &meter);
	if (rc != WBC_EXIT_OK)
		return rc;
	if (g_strcmp0(argv[2], "cold") == 0)
		return wbc_water_set(ctl,
				     object,
				     meter,
				     "SetColdSharingType",
				     "ColdSharingType",
				     g_variant_new_string(argv[3]));
	if (g_strcmp0(argv[2], "hot") == 0)
		return wbc_water_set(ctl,
				     object,
				     meter,
				     "SetHotSharingType",
				     "HotSharingType",
				     g_variant_new_string(argv[3]));
	return wbc_ctl_usage_error("water-sharing", _("'%s' is not cold or hot"), argv[2]);
}
