/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "wbd-json.h"
#include "wbd-value.h"

/*
 * The typed values of a reading, as the exporters take them from the devices and as
 * the spool keeps them. A device's D-Bus property becomes:
 *
 *   b                    a boolean
 *   y n q i u x d        a number (NaN, "not measured", is left out)
 *   t                    a time in µs since the epoch (0, "not reported", is left out):
 *                        every `t` property of a device is a time (LastReport,
 *                        the water meter's DayFirstTime, …)
 *   s                    a string, an enum's name (`Valve`: `opened`); an empty string
 *                        ("not reported") and the strings that describe the device
 *                        rather than measure it are left out
 *   ad                   numbers NAME1, NAME2, … (per phase)
 *   anything else        left out (lists, dictionaries, object paths)
 *
 * In the spool (format 2) a reading's values are one JSON object, names sorted:
 * numbers as JSON numbers, booleans as true/false, strings as JSON strings, times as
 * {"time":µs}: `{"DayFirstTime":{"time":1700000000000000},"On":true,"Power":12.5,
 * "Valve":"opened"}`. Format 1, written before values were typed, had numbers only
 * (booleans as 1/0, times as µs): wbd_values_upgrade_legacy() reads it.
 */

/* strings that describe a device (its set-up), not a reading */
static const gchar *const descriptive_strings[] = {
    "Measurement",     /* ElectricityMeter */
    "DeviceId",	       /* Tuya */
    "ProtocolVersion", /* Tuya */
    "ProductKey",      /* Tuya */
    "Profile",	       /* Tuya */
    NULL,
};

/* the booleans of the API before values were typed: format 1 had them as 1/0 */
static const gchar *const legacy_booleans[] = {"On", "Online", "Switch", NULL};

static WbdValue *
wbd_value_new(const gchar *name, WbdValueType type)
{
	WbdValue *value = g_new0(WbdValue, 1);
	value->name = g_strdup(name);
	value->type = type;
	return value;
}

WbdValue *
wbd_value_new_number(const gchar *name, gdouble number)
{
	WbdValue *value = wbd_value_new(name, WBD_VALUE_NUMBER);
	value->number = number;
	return value;
}

WbdValue *
wbd_value_new_boolean(const gchar *name, gboolean boolean)
{
	WbdValue *value = wbd_value_new(name, WBD_VALUE_BOOLEAN);
	value->boolean = boolean != FALSE;
	return value;
}

WbdValue *
wbd_value_new_string(const gchar *name, const gchar *string)
{
	WbdValue *value = wbd_value_new(name, WBD_VALUE_STRING);
	value->string = g_strdup(string);
	return value;
}

WbdValue *
wbd_value_new_time(const gchar *name, gint64 time_us)
{
	WbdValue *value = wbd_value_new(name, WBD_VALUE_TIME);
	value->time_us = time_us;
	return value;
}

WbdValue *
wbd_value_copy(const WbdValue *value)
{
	WbdValue *copy = g_new(WbdValue, 1);
	*copy = *value;
	copy->name = g_strdup(value->name);
	copy->string = g_strdup(value->string);
	return copy;
}

void
wbd_value_free(WbdValue *value)
{
	if (value == NULL)
		return;
	g_free(value->name);
	g_free(value->string);
	g_free(value);
}

/* the same type and content (names are not compared) */
gboolean
wbd_value_equal(const WbdValue *a, const WbdValue *b)
{
	if (a->type != b->type)
		return FALSE;
	switch (a->type) {
	case WBD_VALUE_NUMBER:
		return a->number == b->number;
	case WBD_VALUE_BOOLEAN:
		return a->boolean == b->boolean;
	case WBD_VALUE_STRING:
		return g_strcmp0(a->string, b->string) == 0;
	case WBD_VALUE_TIME:
		return a->time_us == b->time_us;
	}
	return FALSE;
}

/**
 * wbd_value_get_number:
 * @number: (out): a number as is, a boolean as 1 or 0
 *
 * For targets that take numbers only.
 *
 * Returns: %FALSE for a string or a time
 */
gboolean
wbd_value_get_number(const WbdValue *value, gdouble *number)
{
	if (value->type == WBD_VALUE_NUMBER)
		*number = value->number;
	else if (value->type == WBD_VALUE_BOOLEAN)
		*number = value->boolean ? 1 : 0;
	else
		return FALSE;
	return TRUE;
}

/**
 * wbd_value_format_time:
 * @time_us: µs since the Unix epoch
 *
 * Returns: (nullable): ISO 8601 in UTC, `2023-11-14T22:13:20Z`, with milliseconds
 *   (`…20.250Z`) when the time has them; %NULL for a time GLib cannot represent
 */
gchar *
wbd_value_format_time(gint64 time_us)
{
	gint64 seconds = time_us >= 0 ? time_us / G_USEC_PER_SEC
				       : -((-time_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
	gint ms = (gint)((time_us - seconds * G_USEC_PER_SEC) / 1000);
	g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc(seconds);
	g_autofree gchar *text = NULL;

	if (time == NULL)
		return NULL;
	text = g_date_time_format(time, "%Y-%m-%dT%H:%M:%S");
	if (ms == 0)
		return g_strconcat(text, "Z", NULL);
	return g_strdup_printf("%s.%03dZ", text, ms);
}

/* the shortest text that reads back as the same double */
gchar *
wbd_exporter_format_double(gdouble value)
{
	gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
	/* whole numbers (counters, energy in Wh) in full, never as 1.7e+15 */
	if (value == floor(value) && fabs(value) < 9007199254740992.0)
		return g_strdup_printf("%" G_GINT64_FORMAT, (gint64)value);
	g_ascii_formatd(buf, sizeof(buf), "%.15g", value);
	if (g_ascii_strtod(buf, NULL) != value)
		g_ascii_formatd(buf, sizeof(buf), "%.17g", value);
	return g_strdup(buf);
}

/* a set of values: name → WbdValue * (the table owns the values; the key is the
 * value's own name) */
GHashTable *
wbd_values_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)wbd_value_free);
}

/* takes @value, replacing one of the same name */
void
wbd_values_set(GHashTable *values, WbdValue *value)
{
	g_hash_table_replace(values, value->name, value);
}

static gboolean
variant_to_number(GVariant *value, gdouble *out)
{
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE))
		*out = g_variant_get_double(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_BYTE))
		*out = g_variant_get_byte(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT16))
		*out = g_variant_get_int16(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT16))
		*out = g_variant_get_uint16(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT32))
		*out = g_variant_get_int32(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32))
		*out = g_variant_get_uint32(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT64))
		*out = (gdouble)g_variant_get_int64(value);
	else
		return FALSE;
	/* NaN is how the device model says "not measured" */
	return isfinite(*out);
}

static WbdValue *
value_from_variant(const gchar *name, GVariant *value)
{
	gdouble number;

	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN))
		return wbd_value_new_boolean(name, g_variant_get_boolean(value));
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64)) {
		guint64 time_us = g_variant_get_uint64(value);
		if (time_us == 0 || time_us > G_MAXINT64)
			return NULL;
		return wbd_value_new_time(name, (gint64)time_us);
	}
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
		const gchar *text = g_variant_get_string(value, NULL);
		if (text[0] == '\0' || g_strv_contains(descriptive_strings, name))
			return NULL;
		return wbd_value_new_string(name, text);
	}
	if (variant_to_number(value, &number))
		return wbd_value_new_number(name, number);
	return NULL;
}

/**
 * wbd_values_from_variant:
 * @changes: a{sv} of D-Bus property name to value, as WbdDevice::values-changed has it
 *
 * Returns: (transfer full): the typed values (see the top of this file for which),
 *   name → #WbdValue
 */
GHashTable *
wbd_values_from_variant(GVariant *changes)
{
	GHashTable *values = wbd_values_new();
	GVariantIter iter;
	const gchar *name;
	GVariant *value;

	g_variant_iter_init(&iter, changes);
	while (g_variant_iter_next(&iter, "{&sv}", &name, &value)) {
		if (g_variant_is_of_type(value, G_VARIANT_TYPE("ad"))) {
			gsize n = 0;
			const gdouble *items =
			    g_variant_get_fixed_array(value, &n, sizeof(gdouble));
			for (gsize i = 0; i < n; i++) {
				g_autofree gchar *key =
				    g_strdup_printf("%s%" G_GSIZE_FORMAT, name, i + 1);
				if (isfinite(items[i]))
					wbd_values_set(values, wbd_value_new_number(key, items[i]));
			}
		} else {
			WbdValue *typed = value_from_variant(name, value);
			if (typed != NULL)
				wbd_values_set(values, typed);
		}
		g_variant_unref(value);
	}
	return values;
}

/**
 * wbd_json_append_string:
 * @text: UTF-8
 *
 * Appends @text as a JSON string, escaped as json-glib's generator does (`"`, `\\`,
 * the short escapes, other control characters as `\u00XX`), without a generator
 * object for each string.
 */
void
wbd_json_append_string(GString *out, const gchar *text)
{
	g_string_append_c(out, '"');
	for (const gchar *p = text; *p != '\0'; p++) {
		guchar c = (guchar)*p;

		switch (c) {
		case '"':
			g_string_append(out, "\\\"");
			break;
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\b':
			g_string_append(out, "\\b");
			break;
		case '\f':
			g_string_append(out, "\\f");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\r':
			g_string_append(out, "\\r");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				g_string_append_printf(out, "\\u%04x", c);
			else
				g_string_append_c(out, (gchar)c);
		}
	}
	g_string_append_c(out, '"');
}

/**
 * wbd_values_to_json:
 * @values: name → #WbdValue
 *
 * Returns: (transfer full): the spool's form (format 2), names sorted:
 *   `{"DayFirstTime":{"time":1700000000000000},"On":true,"Power":12.5,"Valve":"opened"}`
 */
gchar *
wbd_values_to_json(GHashTable *values)
{
	g_autoptr(GList) names =
	    g_list_sort(g_hash_table_get_keys(values), (GCompareFunc)g_strcmp0);
	GString *json = g_string_new("{");

	for (GList *l = names; l != NULL; l = l->next) {
		const WbdValue *value = g_hash_table_lookup(values, l->data);
		g_autofree gchar *number = NULL;

		if (json->len > 1)
			g_string_append_c(json, ',');
		wbd_json_append_string(json, value->name);
		g_string_append_c(json, ':');
		switch (value->type) {
		case WBD_VALUE_NUMBER:
			number = wbd_exporter_format_double(value->number);
			g_string_append(json, number);
			break;
		case WBD_VALUE_BOOLEAN:
			g_string_append(json, value->boolean ? "true" : "false");
			break;
		case WBD_VALUE_STRING:
			wbd_json_append_string(json, value->string);
			break;
		case WBD_VALUE_TIME:
			g_string_append_printf(json, "{\"time\":%" G_GINT64_FORMAT "}", value->time_us);
			break;
		}
	}
	g_string_append_c(json, '}');
	return g_string_free(json, FALSE);
}

static WbdValue *
value_from_node(const gchar *name, JsonNode *node)
{
	if (JSON_NODE_HOLDS_OBJECT(node)) {
		JsonNode *time = json_object_get_member(json_node_get_object(node), "time");
		if (time != NULL && JSON_NODE_HOLDS_VALUE(time) &&
		    json_node_get_value_type(time) == G_TYPE_INT64)
			return wbd_value_new_time(name, json_node_get_int(time));
		return NULL;
	}
	if (!JSON_NODE_HOLDS_VALUE(node))
		return NULL;
	switch (json_node_get_value_type(node)) {
	case G_TYPE_BOOLEAN:
		return wbd_value_new_boolean(name, json_node_get_boolean(node));
	case G_TYPE_INT64:
	case G_TYPE_DOUBLE:
		if (!isfinite(json_node_get_double(node)))
			return NULL;
		return wbd_value_new_number(name, json_node_get_double(node));
	case G_TYPE_STRING:
		if (!g_utf8_validate(json_node_get_string(node), -1, NULL))
			return NULL;
		return wbd_value_new_string(name, json_node_get_string(node));
	default:
		return NULL;
	}
}

/**
 * wbd_values_parse:
 * @json: a reading's values as the spool keeps them (wbd_values_to_json())
 *
 * What is not a value of the format (a corrupt spool) is left out.
 *
 * Returns: (transfer full) (element-type WbdValue): the values in the order of the
 *   text (the spool's is sorted by name), or %NULL when @json is not a JSON object
 */
GPtrArray *
wbd_values_parse(const gchar *json, GError **error)
{
	g_autoptr(JsonNode) root = wbd_json_parse_object(json, strlen(json), error);
	g_autoptr(GPtrArray) values = NULL;
	g_autoptr(GList) members = NULL;
	JsonObject *object;

	if (root == NULL)
		return NULL;
	values = g_ptr_array_new_with_free_func((GDestroyNotify)wbd_value_free);
	object = json_node_get_object(root);
	members = json_object_get_members(object);
	for (GList *l = members; l != NULL; l = l->next) {
		WbdValue *value = value_from_node(l->data, json_object_get_member(object, l->data));
		if (value != NULL && g_utf8_validate(value->name, -1, NULL))
			g_ptr_array_add(values, value);
		else
			wbd_value_free(value);
	}
	return g_steal_pointer(&values);
}

/**
 * wbd_values_upgrade_legacy:
 * @json: a reading's values in format 1: a JSON object of numbers
 *
 * Gives the numbers the types the daemon that wrote them had: `On`, `Online`,
 * `Switch` (then the only booleans) booleans, the names ending in `Time` (the water
 * meter's, then the only times) times; the rest numbers.
 *
 * Returns: (transfer full) (nullable): the values in format 2, or %NULL when @json
 *   is not a JSON object
 */
gchar *
wbd_values_upgrade_legacy(const gchar *json)
{
	g_autoptr(GPtrArray) parsed = wbd_values_parse(json, NULL);
	g_autoptr(GHashTable) values = NULL;

	if (parsed == NULL)
		return NULL;
	values = wbd_values_new();
	for (guint i = 0; i < parsed->len; i++) {
		const WbdValue *value = g_ptr_array_index(parsed, i);
		if (value->type != WBD_VALUE_NUMBER)
			continue;
		if (g_strv_contains(legacy_booleans, value->name))
			wbd_values_set(values, wbd_value_new_boolean(value->name, value->number != 0));
		else if (g_str_has_suffix(value->name, "Time") && value->number >= 0 &&
			 value->number < 9.2e18)
			wbd_values_set(values,
				       wbd_value_new_time(value->name, (gint64)value->number));
		else
			wbd_values_set(values, wbd_value_copy(value));
	}
	return wbd_values_to_json(values);
}
