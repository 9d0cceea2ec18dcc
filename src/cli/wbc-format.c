/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "wbc-format.h"

#define WBC_INTERFACE_PREFIX "org.wattbus.Wattbus1."

typedef enum {
	WBC_UNIT_NONE,
	WBC_UNIT_WATT,
	WBC_UNIT_VOLT,
	WBC_UNIT_AMPERE,
	WBC_UNIT_WATT_HOUR, /* shown in Wh, kWh or MWh */
	WBC_UNIT_HERTZ,
	WBC_UNIT_VAR,
	WBC_UNIT_VOLT_AMPERE,
	WBC_UNIT_SECOND,
	WBC_UNIT_PERCENT,
	WBC_UNIT_CUBIC_METRE, /* shown in L below 1 m³ */
	WBC_UNIT_TIME_USEC,   /* a time in µs since the epoch, 0 for none */
} WbcUnit;

typedef struct {
	const gchar *name;  /* D-Bus property name */
	const gchar *label; /* for people, translated */
	WbcUnit unit;
	gint decimals;
} WbcPropertyInfo;

/* labels and units by property name, whatever the interface, so that an Inverter or a
 * WaterMeter with a Power or Voltage property formats it the same way */
static const WbcPropertyInfo wbc_property_infos[] = {
    /* TRANSLATORS: the label of a device's id in 'wattbusctl show', not a column header */
    {"Id", NC_("property", "ID"), WBC_UNIT_NONE, 0},
    {"Name", N_("Name"), WBC_UNIT_NONE, 0},
    {"Driver", N_("Driver"), WBC_UNIT_NONE, 0},
    {"Kind", N_("Kind"), WBC_UNIT_NONE, 0},
    {"Vendor", N_("Vendor"), WBC_UNIT_NONE, 0},
    {"Model", N_("Model"), WBC_UNIT_NONE, 0},
    {"SerialNumber", N_("Serial number"), WBC_UNIT_NONE, 0},
    {"FirmwareVersion", N_("Firmware version"), WBC_UNIT_NONE, 0},
    {"HardwareVersion", N_("Hardware version"), WBC_UNIT_NONE, 0},
    {"MacAddress", N_("MAC address"), WBC_UNIT_NONE, 0},
    {"Address", N_("Address"), WBC_UNIT_NONE, 0},
    {"Parent", N_("Parent"), WBC_UNIT_NONE, 0},
    {"Online", N_("Online"), WBC_UNIT_NONE, 0},
    {"LastSeen", N_("Last seen"), WBC_UNIT_TIME_USEC, 0},
    {"LastError", N_("Last error"), WBC_UNIT_NONE, 0},
    {"PollInterval", N_("Poll interval"), WBC_UNIT_SECOND, 0},
    {"Removable", N_("Removable"), WBC_UNIT_NONE, 0},
    {"On", N_("On"), WBC_UNIT_NONE, 0},
    {"Measured", N_("Measured"), WBC_UNIT_NONE, 0},
    {"Measurement", N_("Measurement"), WBC_UNIT_NONE, 0},
    {"Phases", N_("Phases"), WBC_UNIT_NONE, 0},
    {"Power", N_("Power"), WBC_UNIT_WATT, 1},
    {"Voltage", N_("Voltage"), WBC_UNIT_VOLT, 1},
    {"Current", N_("Current"), WBC_UNIT_AMPERE, 3},
    {"Energy", N_("Energy"), WBC_UNIT_WATT_HOUR, 1},
    {"EnergyToday", N_("Energy today"), WBC_UNIT_WATT_HOUR, 1},
    {"EnergyThisMonth", N_("Energy this month"), WBC_UNIT_WATT_HOUR, 1},
    {"EnergyExported", N_("Energy exported"), WBC_UNIT_WATT_HOUR, 1},
    {"PowerFactor", N_("Power factor"), WBC_UNIT_NONE, 2},
    {"Frequency", N_("Frequency"), WBC_UNIT_HERTZ, 2},
    {"ReactivePower", N_("Reactive power"), WBC_UNIT_VAR, 1},
    {"ApparentPower", N_("Apparent power"), WBC_UNIT_VOLT_AMPERE, 1},
    {"PhasePower", N_("Power per phase"), WBC_UNIT_WATT, 1},
    {"PhaseVoltage", N_("Voltage per phase"), WBC_UNIT_VOLT, 1},
    {"PhaseCurrent", N_("Current per phase"), WBC_UNIT_AMPERE, 3},
    {"PhasePowerFactor", N_("Power factor per phase"), WBC_UNIT_NONE, 2},
    {"PhaseReactivePower", N_("Reactive power per phase"), WBC_UNIT_VAR, 1},
    {"PhaseApparentPower", N_("Apparent power per phase"), WBC_UNIT_VOLT_AMPERE, 1},
    /* Inverter */
    {"MaxPower", N_("Max power"), WBC_UNIT_WATT, 1},
    {"LastReport", N_("Last report"), WBC_UNIT_TIME_USEC, 0},
    /* WaterMeter */
    {"Flow", N_("Flow"), WBC_UNIT_CUBIC_METRE, 3},
    {"MonthlyTotal", N_("This month"), WBC_UNIT_CUBIC_METRE, 3},
    {"DailyTotal", N_("Today"), WBC_UNIT_CUBIC_METRE, 3},
    {"Switch", N_("Switch"), WBC_UNIT_NONE, 0},
    {"DayFirstReading", N_("Day's first reading"), WBC_UNIT_CUBIC_METRE, 3},
    {"DayLastReading", N_("Day's last reading"), WBC_UNIT_CUBIC_METRE, 3},
    {"DayFirstTime", N_("Day's first reading at"), WBC_UNIT_TIME_USEC, 0},
    {"DayLastTime", N_("Day's last reading at"), WBC_UNIT_TIME_USEC, 0},
    {"Valve", N_("Valve"), WBC_UNIT_NONE, 0},
    {"MonthFirstReading", N_("Month's first reading"), WBC_UNIT_CUBIC_METRE, 3},
    {"MonthLastReading", N_("Month's last reading"), WBC_UNIT_CUBIC_METRE, 3},
    {"MonthFirstTime", N_("Month's first reading at"), WBC_UNIT_TIME_USEC, 0},
    {"MonthLastTime", N_("Month's last reading at"), WBC_UNIT_TIME_USEC, 0},
    {"ColdSharedUsage", N_("Shared cold water"), WBC_UNIT_CUBIC_METRE, 3},
    {"ColdSharingType", N_("Cold water shared by"), WBC_UNIT_NONE, 0},
    {"HotSharedUsage", N_("Shared hot water"), WBC_UNIT_CUBIC_METRE, 3},
    {"HotSharingType", N_("Hot water shared by"), WBC_UNIT_NONE, 0},
    {"ValveOpenness", N_("Valve openness"), WBC_UNIT_PERCENT, 0},
    /* Tuya */
    {"Dps", N_("Data points"), WBC_UNIT_NONE, 0},
    {"DeviceId", N_("Tuya device id"), WBC_UNIT_NONE, 0},
    {"ProtocolVersion", N_("Protocol version"), WBC_UNIT_NONE, 0},
    {"ProductKey", N_("Product key"), WBC_UNIT_NONE, 0},
    {"Profile", N_("Profile"), WBC_UNIT_NONE, 0},
    /* Battery */
    {"Aggregate", N_("All batteries together"), WBC_UNIT_NONE, 0},
    {"StateOfCharge", N_("State of charge"), WBC_UNIT_PERCENT, 0},
    {"Capacity", N_("Capacity"), WBC_UNIT_WATT_HOUR, 1},
    {"AvailableEnergy", N_("Available energy"), WBC_UNIT_WATT_HOUR, 1},
    {"ReserveLevel", N_("Reserve level"), WBC_UNIT_PERCENT, 0},
    /* Gateway */
    {"GridState", N_("Grid state"), WBC_UNIT_NONE, 0},
    /* Exporter */
    {"Target", N_("Target"), WBC_UNIT_NONE, 0},
    {"State", N_("State"), WBC_UNIT_NONE, 0},
    {"Queued", N_("Queued"), WBC_UNIT_NONE, 0},
    {"Sent", N_("Sent"), WBC_UNIT_NONE, 0},
    {"Failed", N_("Failed"), WBC_UNIT_NONE, 0},
    {"Dropped", N_("Dropped"), WBC_UNIT_NONE, 0},
    {"LastSuccess", N_("Last success"), WBC_UNIT_TIME_USEC, 0},
};

/* the interfaces this tool knows, in the order "show" prints them */
static const struct {
	const gchar *name;
	const gchar *title;
} wbc_interface_infos[] = {
    {WBC_INTERFACE_PREFIX "Device", N_("Device")},
    {WBC_INTERFACE_PREFIX "Outlet", N_("Outlet")},
    {WBC_INTERFACE_PREFIX "ElectricityMeter", N_("Electricity meter")},
    {WBC_INTERFACE_PREFIX "Inverter", N_("Inverter")},
    {WBC_INTERFACE_PREFIX "Battery", N_("Battery")},
    {WBC_INTERFACE_PREFIX "Gateway", N_("Gateway")},
    {WBC_INTERFACE_PREFIX "WaterMeter", N_("Water meter")},
    {WBC_INTERFACE_PREFIX "Tuya", N_("Tuya")},
    {WBC_INTERFACE_PREFIX "Exporter", N_("Exporter")},
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

	/* not the column header "ID": a language may say them differently */
	if (g_strcmp0(property, "Id") == 0)
		return g_strdup(C_("property", "ID"));
	if (info != NULL)
		return g_strdup(_(info->label));
	return wbc_split_camel_case(property);
}

/**
 * wbc_property_is_time:
 *
 * Returns: whether the property is a time in µs since the Unix epoch (0 for none)
 */
gboolean
wbc_property_is_time(const gchar *property)
{
	const WbcPropertyInfo *info = wbc_property_info_lookup(property);
	return info != NULL && info->unit == WBC_UNIT_TIME_USEC;
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

/* a number without float noise: at most 6 significant digits */
static gchar *
wbc_format_plain_double(gdouble d)
{
	gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
	return g_strdup(g_ascii_formatd(buf, sizeof(buf), "%.6g", d));
}

/* energies in Wh, kWh or MWh, so that a lifetime counter stays readable */
static gchar *
wbc_format_energy(gdouble wh, gint decimals)
{
	gdouble magnitude = fabs(wh);

	if (magnitude >= 1e6)
		return g_strdup_printf("%.3f MWh", wh / 1e6);
	if (magnitude >= 1e3)
		return g_strdup_printf("%.3f kWh", wh / 1e3);
	return g_strdup_printf("%.*f Wh", decimals, wh);
}

/* volumes in m³, small ones in litres */
static gchar *
wbc_format_volume(gdouble m3)
{
	if (fabs(m3) < 1.0)
		return g_strdup_printf("%.1f L", m3 * 1000.0);
	return g_strdup_printf("%.3f m³", m3);
}

static const gchar *
wbc_unit_symbol(WbcUnit unit)
{
	switch (unit) {
	case WBC_UNIT_WATT:
		return "W";
	case WBC_UNIT_VOLT:
		return "V";
	case WBC_UNIT_AMPERE:
		return "A";
	case WBC_UNIT_HERTZ:
		return "Hz";
	case WBC_UNIT_VAR:
		return "var";
	case WBC_UNIT_VOLT_AMPERE:
		return "VA";
	case WBC_UNIT_SECOND:
		return "s";
	case WBC_UNIT_PERCENT:
		return "%";
	case WBC_UNIT_NONE:
	case WBC_UNIT_WATT_HOUR:
	case WBC_UNIT_CUBIC_METRE:
	case WBC_UNIT_TIME_USEC:
	default:
		return NULL;
	}
}

static gboolean
wbc_variant_is_number(GVariant *value)
{
	const gchar *types = "ynqiuxtd";
	return strchr(types, g_variant_get_type_string(value)[0]) != NULL &&
	       g_variant_get_type_string(value)[1] == '\0';
}

static gdouble
wbc_variant_get_number(GVariant *value)
{
	switch (g_variant_classify(value)) {
	case G_VARIANT_CLASS_BYTE:
		return g_variant_get_byte(value);
	case G_VARIANT_CLASS_INT16:
		return g_variant_get_int16(value);
	case G_VARIANT_CLASS_UINT16:
		return g_variant_get_uint16(value);
	case G_VARIANT_CLASS_INT32:
		return g_variant_get_int32(value);
	case G_VARIANT_CLASS_UINT32:
		return g_variant_get_uint32(value);
	case G_VARIANT_CLASS_INT64:
		return (gdouble)g_variant_get_int64(value);
	case G_VARIANT_CLASS_UINT64:
		return (gdouble)g_variant_get_uint64(value);
	case G_VARIANT_CLASS_DOUBLE:
	default:
		return g_variant_get_double(value);
	}
}

static gchar *
wbc_format_number(const WbcPropertyInfo *info, GVariant *value)
{
	WbcUnit unit = info != NULL ? info->unit : WBC_UNIT_NONE;
	const gchar *symbol = wbc_unit_symbol(unit);
	g_autofree gchar *number = NULL;
	gdouble d = wbc_variant_get_number(value);

	if (isnan(d))
		return g_strdup("-");
	if (unit == WBC_UNIT_TIME_USEC && g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64))
		return wbc_format_time_usec(g_variant_get_uint64(value));
	if (unit == WBC_UNIT_WATT_HOUR)
		return wbc_format_energy(d, info->decimals);
	if (unit == WBC_UNIT_CUBIC_METRE)
		return wbc_format_volume(d);
	if (!g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE))
		number = g_variant_print(value, FALSE);
	else if (info != NULL)
		number = g_strdup_printf("%.*f", info->decimals, d);
	else
		number = wbc_format_plain_double(d);
	if (symbol == NULL)
		return g_steal_pointer(&number);
	return g_strdup_printf("%s %s", number, symbol);
}

/* a value of a Tuya DP or another a{sv} as plain text: no GVariant syntax */
static gchar *
wbc_format_plain(GVariant *value)
{
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_VARIANT)) {
		g_autoptr(GVariant) child = g_variant_get_variant(value);
		return wbc_format_plain(child);
	}
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN))
		return g_strdup(g_variant_get_boolean(value) ? "true" : "false");
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE))
		return wbc_format_plain_double(g_variant_get_double(value));
	if (wbc_variant_is_number(value))
		return g_variant_print(value, FALSE);
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING) ||
	    g_variant_is_of_type(value, G_VARIANT_TYPE_OBJECT_PATH))
		return g_strdup(g_variant_get_string(value, NULL));
	return g_variant_print(value, FALSE);
}

static gint
wbc_dp_compare(gconstpointer a, gconstpointer b)
{
	const gchar *key_a = *(const gchar **)a;
	const gchar *key_b = *(const gchar **)b;
	guint64 num_a = g_ascii_strtoull(key_a, NULL, 10);
	guint64 num_b = g_ascii_strtoull(key_b, NULL, 10);

	if (num_a != num_b)
		return num_a < num_b ? -1 : 1;
	return g_strcmp0(key_a, key_b);
}

/* "1=true, 19=2305, 20=2400": by DP number */
static gchar *
wbc_format_dict(GVariant *value)
{
	g_autoptr(GPtrArray) keys = g_ptr_array_new();
	GString *str = g_string_new(NULL);
	GVariantIter iter;
	const gchar *key;

	g_variant_iter_init(&iter, value);
	while (g_variant_iter_next(&iter, "{&sv}", &key, NULL))
		g_ptr_array_add(keys, (gpointer)key);
	g_ptr_array_sort(keys, wbc_dp_compare);
	for (guint i = 0; i < keys->len; i++) {
		g_autoptr(GVariant) child =
		    g_variant_lookup_value(value, g_ptr_array_index(keys, i), NULL);
		g_autofree gchar *text = child != NULL ? wbc_format_plain(child) : NULL;
		if (str->len > 0)
			g_string_append(str, ", ");
		g_string_append_printf(str,
				       "%s=%s",
				       (const gchar *)g_ptr_array_index(keys, i),
				       text != NULL ? text : "");
	}
	if (str->len == 0)
		g_string_append(str, "-");
	return g_string_free(str, FALSE);
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

	if (g_strcmp0(property, "Parent") == 0 &&
	    g_strcmp0(g_variant_get_type_string(value), "o") == 0 &&
	    g_strcmp0(g_variant_get_string(value, NULL), "/") == 0)
		return g_strdup(_("none"));
	/* a child outlet has no poll interval of its own */
	if (g_strcmp0(property, "PollInterval") == 0 &&
	    g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32) && g_variant_get_uint32(value) == 0)
		return g_strdup(_("polled with its parent"));
	/* 0 is a single-phase meter that reports totals only */
	if (g_strcmp0(property, "Phases") == 0 && g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32)) {
		guint phases = MAX(g_variant_get_uint32(value), 1);
		return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u phase", "%u phases", phases),
				       phases);
	}
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN)) {
		if (g_strcmp0(property, "On") == 0 || g_strcmp0(property, "Switch") == 0)
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
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_VARDICT))
		return wbc_format_dict(value);
	return wbc_format_plain(value);
}

/**
 * wbc_device_get_power:
 * @measurement: (out) (optional): what the power is of: the meter's Measurement
 *   ("load", "production", "storage"...), "production" for an inverter, "battery" for a
 *   battery
 *
 * The active power of a device: its electricity meter's when it measures one, else its
 * inverter's (an inverter has no ElectricityMeter: tools read Inverter.Power), else its
 * battery's as Battery.Power has it (positive while charging), as `show`, the D-Bus API
 * and the dashboard show it. (A storage CT is a meter of its own role, "storage", in the
 * gateway's sign: positive while the batteries discharge.)
 *
 * Returns: the power in W, or NaN when the device has none
 */
gdouble
wbc_device_get_power(WattbusObject *object, const gchar **measurement)
{
	WattbusElectricityMeter *meter = wattbus_object_peek_electricity_meter(object);
	WattbusInverter *inverter = wattbus_object_peek_inverter(object);
	WattbusBattery *battery = wattbus_object_peek_battery(object);

	if (measurement != NULL)
		*measurement = NULL;
	if (meter != NULL) {
		const gchar *const *measured = wattbus_electricity_meter_get_measured(meter);
		const gchar *what = wattbus_electricity_meter_get_measurement(meter);
		if (measurement != NULL && what != NULL && what[0] != '\0')
			*measurement = what;
		if (measured != NULL && g_strv_contains(measured, "Power"))
			return wattbus_electricity_meter_get_power(meter);
		return NAN;
	}
	if (inverter != NULL) {
		if (measurement != NULL)
			*measurement = "production";
		return wattbus_inverter_get_power(inverter);
	}
	if (battery != NULL) {
		const gchar *const *measured = wattbus_battery_get_measured(battery);
		if (measurement != NULL)
			*measurement = "battery";
		if (measured != NULL && g_strv_contains(measured, "Power"))
			return wattbus_battery_get_power(battery);
		return NAN;
	}
	return NAN;
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
	gdouble power = wbc_device_get_power(object, NULL);

	if (isnan(power))
		return NULL;
	return g_strdup_printf("%.1f W", power);
}

/**
 * wbc_format_measurement:
 *
 * Returns: (nullable): what a meter measures, for people
 */
const gchar *
wbc_format_measurement(const gchar *measurement)
{
	if (measurement == NULL || measurement[0] == '\0')
		return NULL;
	if (g_strcmp0(measurement, "load") == 0)
		return C_("measurement", "load");
	if (g_strcmp0(measurement, "production") == 0)
		return C_("measurement", "production");
	if (g_strcmp0(measurement, "net-consumption") == 0)
		return C_("measurement", "grid");
	if (g_strcmp0(measurement, "total-consumption") == 0)
		return C_("measurement", "consumption");
	if (g_strcmp0(measurement, "storage") == 0)
		return C_("measurement", "storage");
	if (g_strcmp0(measurement, "battery") == 0)
		return C_("measurement", "battery");
	return measurement;
}
