/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "wbc-format.h"

#define WBC_INTERFACE_PREFIX "org.wattbus.Wattbus1."

typedef struct {
	const gchar *name;  /* D-Bus property name */
	const gchar *label; /* for people, translated */
	const gchar *unit;  /* SI symbol, never translated */
	gint decimals;
} WbcPropertyInfo;

/* labels and units by property name, whatever the interface, so that an Inverter or a
 * WaterMeter with a Power or Voltage property formats it the same way */
static const WbcPropertyInfo wbc_property_infos[] = {
    {"Id", N_("ID"), NULL, 0},
    {"Name", N_("Name"), NULL, 0},
    {"Driver", N_("Driver"), NULL, 0},
    {"Kind", N_("Kind"), NULL, 0},
    {"Vendor", N_("Vendor"), NULL, 0},
    {"Model", N_("Model"), NULL, 0},
    {"SerialNumber", N_("Serial number"), NULL, 0},
    {"FirmwareVersion", N_("Firmware version"), NULL, 0},
    {"HardwareVersion", N_("Hardware version"), NULL, 0},
    {"MacAddress", N_("MAC address"), NULL, 0},
    {"Address", N_("Address"), NULL, 0},
    {"Parent", N_("Parent"), NULL, 0},
    {"Online", N_("Online"), NULL, 0},
    {"LastSeen", N_("Last seen"), NULL, 0},
    {"LastError", N_("Last error"), NULL, 0},
    {"PollInterval", N_("Poll interval"), "s", 0},
    {"On", N_("On"), NULL, 0},
    {"Measured", N_("Measured"), NULL, 0},
    {"Phases", N_("Phases"), NULL, 0},
    {"Power", N_("Power"), "W", 1},
    {"Voltage", N_("Voltage"), "V", 1},
    {"Current", N_("Current"), "A", 3},
    {"Energy", N_("Energy"), "Wh", 1},
    {"PowerFactor", N_("Power factor"), NULL, 2},
    {"Frequency", N_("Frequency"), "Hz", 2},
    {"ReactivePower", N_("Reactive power"), "var", 1},
    {"ApparentPower", N_("Apparent power"), "VA", 1},
    {"EnergyToday", N_("Energy today"), "Wh", 1},
    {"EnergyThisMonth", N_("Energy this month"), "Wh", 1},
    {"EnergyExported", N_("Energy exported"), "Wh", 1},
    {"PhasePower", N_("Power per phase"), "W", 1},
    {"PhaseVoltage", N_("Voltage per phase"), "V", 1},
    {"PhaseCurrent", N_("Current per phase"), "A", 3},
    {"PhasePowerFactor", N_("Power factor per phase"), NULL, 2},
    {"PhaseReactivePower", N_("Reactive power per phase"), "var", 1},
    {"PhaseApparentPower", N_("Apparent power per phase"), "VA", 1},
};

/* the interfaces this tool knows, in the order "show" prints them */
static const struct {
	const gchar *name;
	const gchar *title;
} wbc_interface_infos[] = {
    {WBC_INTERFACE_PREFIX "Device", N_("Device")},
    {WBC_INTERFACE_PREFIX "Outlet", N_("Outlet")},
    {WBC_INTERFACE_PREFIX "ElectricityMeter", N_("Electricity meter")},
};

static const WbcPropertyInfo *
wbc_property_info_lookup(const gchar *property)
{
	for (guint i = 0; i < G_N_ELEMENTS(wbc_property_infos); i++) {
		if (g_strcmp0(wbc_property_infos[i].name, property) == 0)
			return &wbc_property_infos[i];
	}
	return NULL;
}

/* "ReactivePower" → "Reactive power", for names this tool does not know */
static gchar *
wbc_split_camel_case(const gchar *name)
{
	GString *str = g_string_new(NULL);

	for (const gchar *p = name; *p != '\0'; p++) {
		if (g_ascii_isupper(*p) && str->len > 0) {
			g_string_append_c(str, ' ');
			g_string_append_c(str, g_ascii_tolower(*p));
		} else {
			g_string_append_c(str, *p);
		}
	}
	return g_string_free(str, FALSE);
}

/**
 * wbc_device_get_id:
 *
 * Returns: the Id of the device, or the last element of its path while the Id is unknown
 */
const gchar *
wbc_device_get_id(WattbusObject *object)
{
	WattbusDevice *device = wattbus_object_peek_device(object);
	const gchar *path = g_dbus_object_get_object_path(G_DBUS_OBJECT(object));
	const gchar *id = device != NULL ? wattbus_device_get_id(device) : NULL;

	if (id != NULL && id[0] != '\0')
		return id;
	return strrchr(path, '/') + 1;
}

const gchar *
wbc_interface_get_short_name(const gchar *interface_name)
{
	const gchar *dot = strrchr(interface_name, '.');
	return dot != NULL ? dot + 1 : interface_name;
}

static guint
wbc_interface_rank(const gchar *interface_name)
{
	for (guint i = 0; i < G_N_ELEMENTS(wbc_interface_infos); i++) {
		if (g_strcmp0(wbc_interface_infos[i].name, interface_name) == 0)
			return i;
	}
	return G_N_ELEMENTS(wbc_interface_infos);
}

static gint
wbc_interface_compare(gconstpointer a, gconstpointer b)
{
	const gchar *name_a = g_dbus_proxy_get_interface_name(*(GDBusProxy **)a);
	const gchar *name_b = g_dbus_proxy_get_interface_name(*(GDBusProxy **)b);
	guint rank_a = wbc_interface_rank(name_a);
	guint rank_b = wbc_interface_rank(name_b);

	if (rank_a != rank_b)
		return rank_a < rank_b ? -1 : 1;
	return g_strcmp0(name_a, name_b);
}

/**
 * wbc_object_list_interfaces:
 *
 * Returns: (transfer container) (element-type GDBusProxy): the interface proxies of the
 *   object, the known ones first
 */
GPtrArray *
wbc_object_list_interfaces(GDBusObject *object)
{
	GPtrArray *array = g_ptr_array_new_with_free_func(g_object_unref);
	GList *interfaces = g_dbus_object_get_interfaces(object);

	for (GList *l = interfaces; l != NULL; l = l->next) {
		if (G_IS_DBUS_PROXY(l->data))
			g_ptr_array_add(array, g_object_ref(l->data));
	}
	g_list_free_full(interfaces, g_object_unref);
	g_ptr_array_sort(array, wbc_interface_compare);
	return array;
}

static gint
wbc_strcmp_ptr(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar **)a, *(const gchar **)b);
}

/**
 * wbc_proxy_list_property_names:
 *
 * Returns: the cached properties of the proxy, in the order of the introspection data
 *   for an interface this tool knows, then any others sorted by name
 */
GStrv
wbc_proxy_list_property_names(GDBusProxy *proxy)
{
	GDBusInterfaceInfo *info = g_dbus_proxy_get_interface_info(proxy);
	g_auto(GStrv) cached = g_dbus_proxy_get_cached_property_names(proxy);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) others = g_ptr_array_new_with_free_func(g_free);

	if (cached == NULL)
		return g_new0(gchar *, 1);
	for (guint i = 0; info != NULL && info->properties != NULL && info->properties[i] != NULL;
	     i++) {
		if (g_strv_contains((const gchar *const *)cached, info->properties[i]->name))
			g_ptr_array_add(names, g_strdup(info->properties[i]->name));
	}
	for (guint i = 0; cached[i] != NULL; i++) {
		if (info == NULL || g_dbus_interface_info_lookup_property(info, cached[i]) == NULL)
			g_ptr_array_add(others, g_strdup(cached[i]));
	}
	g_ptr_array_sort(others, wbc_strcmp_ptr);
	for (guint i = 0; i < others->len; i++)
		g_ptr_array_add(names, g_strdup(g_ptr_array_index(others, i)));
	g_ptr_array_add(names, NULL);
	return (GStrv)g_ptr_array_free(g_steal_pointer(&names), FALSE);
}

/**
 * wbc_proxy_has_reading:
 *
 * Tells whether a property holds something worth showing: an interface with a
 * `Measured` property lists the readings that are real, every other reading is NaN or
 * empty; empty strings are left out too.
 */
gboolean
wbc_proxy_has_reading(GDBusProxy *proxy, const gchar *property, GVariant *value)
{
	gboolean is_double = g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE);
	gboolean is_doubles = g_variant_is_of_type(value, G_VARIANT_TYPE("ad"));
	g_autoptr(GVariant) measured = NULL;

	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING))
		return g_variant_get_string(value, NULL)[0] != '\0';
	if (!is_double && !is_doubles)
		return TRUE;
	if (is_double && isnan(g_variant_get_double(value)))
		return FALSE;
	if (is_doubles && g_variant_n_children(value) == 0)
		return FALSE;
	measured = g_dbus_proxy_get_cached_property(proxy, "Measured");
	if (measured != NULL && g_variant_is_of_type(measured, G_VARIANT_TYPE_STRING_ARRAY)) {
		g_autofree const gchar **names = g_variant_get_strv(measured, NULL);
		return g_strv_contains(names, property);
	}
	return TRUE;
}

gchar *
wbc_format_interface_title(const gchar *interface_name)
{
	for (guint i = 0; i < G_N_ELEMENTS(wbc_interface_infos); i++) {
		if (g_strcmp0(wbc_interface_infos[i].name, interface_name) == 0)
			return g_strdup(_(wbc_interface_infos[i].title));
	}
	if (!g_str_has_prefix(interface_name, WBC_INTERFACE_PREFIX))
		return g_strdup(interface_name);
	return wbc_split_camel_case(wbc_interface_get_short_name(interface_name));
}

gchar *
wbc_format_property_label(const gchar *property)
{
	const WbcPropertyInfo *info = wbc_property_info_lookup(property);

	if (info != NULL)
		return g_strdup(_(info->label));
	return wbc_split_camel_case(property);
}

gchar *
wbc_format_time_usec(guint64 usec)
{
	g_autoptr(GDateTime) dt = NULL;
	gint64 now = g_get_real_time();
	gint64 ago;
	g_autofree gchar *str = NULL;

	if (usec == 0)
		return g_strdup(_("never"));
	dt = g_date_time_new_from_unix_local((gint64)(usec / G_USEC_PER_SEC));
	if (dt == NULL)
		return g_strdup_printf("%" G_GUINT64_FORMAT, usec);
	str = g_date_time_format(dt, "%Y-%m-%d %H:%M:%S");
	ago = (now - (gint64)usec) / G_USEC_PER_SEC;
	if (ago >= 0 && ago < 120) {
		/* TRANSLATORS: a time, and how many seconds ago it was */
		return g_strdup_printf(_("%s (%u s ago)"), str, (guint)ago);
	}
	if (ago >= 0 && ago < 120 * 60) {
		/* TRANSLATORS: a time, and how many minutes ago it was */
		return g_strdup_printf(_("%s (%u min ago)"), str, (guint)(ago / 60));
	}
	return g_steal_pointer(&str);
}

static gchar *
wbc_format_number(const WbcPropertyInfo *info, GVariant *value)
{
	const gchar *unit = info != NULL ? info->unit : NULL;
	g_autofree gchar *number = NULL;

	if (g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE)) {
		gdouble d = g_variant_get_double(value);
		if (isnan(d))
			return g_strdup("-");
		number = g_strdup_printf("%.*f", info != NULL ? info->decimals : 3, d);
	} else {
		number = g_variant_print(value, FALSE);
	}
	if (unit == NULL)
		return g_steal_pointer(&number);
	return g_strdup_printf("%s %s", number, unit);
}

static gboolean
wbc_variant_is_number(GVariant *value)
{
	const gchar *types = "ynqiuxtd";
	return strchr(types, g_variant_get_type_string(value)[0]) != NULL &&
	       g_variant_get_type_string(value)[1] == '\0';
}

/**
 * wbc_format_value:
 *
 * Formats a property value for people, with its unit.
 */
gchar *
wbc_format_value(const gchar *property, GVariant *value)
{
	const WbcPropertyInfo *info = wbc_property_info_lookup(property);

	if (g_strcmp0(property, "LastSeen") == 0 &&
	    g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64))
		return wbc_format_time_usec(g_variant_get_uint64(value));
	if (g_strcmp0(property, "Parent") == 0 &&
	    g_strcmp0(g_variant_get_type_string(value), "o") == 0 &&
	    g_strcmp0(g_variant_get_string(value, NULL), "/") == 0)
		return g_strdup(_("none"));
	/* a child outlet has no poll interval of its own */
	if (g_strcmp0(property, "PollInterval") == 0 &&
	    g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32) && g_variant_get_uint32(value) == 0)
		return g_strdup(_("polled with its parent"));
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN)) {
		if (g_strcmp0(property, "On") == 0)
			return g_strdup(g_variant_get_boolean(value) ? _("on") : _("off"));
		return g_strdup(g_variant_get_boolean(value) ? _("yes") : _("no"));
	}
	if (wbc_variant_is_number(value))
		return wbc_format_number(info, value);
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING) ||
	    g_variant_is_of_type(value, G_VARIANT_TYPE_OBJECT_PATH)) {
		const gchar *str = g_variant_get_string(value, NULL);
		return g_strdup(str[0] != '\0' ? str : "-");
	}
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING_ARRAY)) {
		g_autofree const gchar **strv = g_variant_get_strv(value, NULL);
		if (strv[0] == NULL)
			return g_strdup("-");
		return g_strjoinv(", ", (gchar **)strv);
	}
	if (g_variant_is_of_type(value, G_VARIANT_TYPE("ad"))) {
		GString *str = g_string_new(NULL);
		for (gsize i = 0; i < g_variant_n_children(value); i++) {
			g_autoptr(GVariant) child = g_variant_get_child_value(value, i);
			g_autofree gchar *tmp = wbc_format_number(info, child);
			if (str->len > 0)
				g_string_append(str, ", ");
			/* TRANSLATORS: a phase of the grid, L1 to L3, and its reading */
			g_string_append_printf(str, _("L%u %s"), (guint)i + 1, tmp);
		}
		if (str->len == 0)
			g_string_append(str, "-");
		return g_string_free(str, FALSE);
	}
	return g_variant_print(value, FALSE);
}

static gchar *
wbc_quote_if_needed(const gchar *str)
{
	g_autofree gchar *escaped = NULL;

	if (str[0] != '\0' && strpbrk(str, " \t\n\"=\\") == NULL)
		return g_strdup(str);
	escaped = g_strescape(str, NULL);
	return g_strdup_printf("\"%s\"", escaped);
}

/**
 * wbc_format_value_compact:
 *
 * Formats a property value as one word, without unit, for `Property=value` lines.
 */
gchar *
wbc_format_value_compact(const gchar *property, GVariant *value)
{
	const WbcPropertyInfo *info = wbc_property_info_lookup(property);
	g_autofree gchar *printed = NULL;

	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN))
		return g_strdup(g_variant_get_boolean(value) ? "true" : "false");
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE)) {
		gdouble d = g_variant_get_double(value);
		if (isnan(d))
			return g_strdup("-");
		return g_strdup_printf("%.*f", info != NULL ? info->decimals : 3, d);
	}
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING) ||
	    g_variant_is_of_type(value, G_VARIANT_TYPE_OBJECT_PATH))
		return wbc_quote_if_needed(g_variant_get_string(value, NULL));
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING_ARRAY)) {
		g_autofree const gchar **strv = g_variant_get_strv(value, NULL);
		g_autofree gchar *joined = g_strjoinv(",", (gchar **)strv);
		return wbc_quote_if_needed(joined);
	}
	if (g_variant_is_of_type(value, G_VARIANT_TYPE("ad"))) {
		GString *str = g_string_new(NULL);
		for (gsize i = 0; i < g_variant_n_children(value); i++) {
			g_autoptr(GVariant) child = g_variant_get_child_value(value, i);
			if (str->len > 0)
				g_string_append_c(str, ',');
			g_string_append_printf(str,
					       "%.*f",
					       info != NULL ? info->decimals : 3,
					       g_variant_get_double(child));
		}
		return g_string_free(str, FALSE);
	}
	if (wbc_variant_is_number(value))
		return g_variant_print(value, FALSE);
	printed = g_variant_print(value, FALSE);
	return wbc_quote_if_needed(printed);
}

/**
 * wbc_format_power:
 *
 * Returns: the active power of the device with its unit, or %NULL when the device does
 *   not measure it
 */
gchar *
wbc_format_power(WattbusObject *object)
{
	WattbusElectricityMeter *meter = wattbus_object_peek_electricity_meter(object);
	const gchar *const *measured;
	gdouble power;

	if (meter == NULL)
		return NULL;
	measured = wattbus_electricity_meter_get_measured(meter);
	power = wattbus_electricity_meter_get_power(meter);
	if (measured == NULL || !g_strv_contains(measured, "Power") || isnan(power))
		return NULL;
	return g_strdup_printf("%.1f W", power);
}
