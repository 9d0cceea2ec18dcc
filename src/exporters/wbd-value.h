/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * WbdValueType:
 * @WBD_VALUE_NUMBER: a finite number in the D-Bus unit (W, Wh, m³, %, …)
 * @WBD_VALUE_BOOLEAN: true or false (`On`, `Online`, `Switch`)
 * @WBD_VALUE_STRING: a string or the name of an enum value (`Valve`: `opened`)
 * @WBD_VALUE_TIME: a time, µs since the Unix epoch (UTC): a D-Bus `t` property
 *
 * The types a reading carries through the spool to every exporter.
 */
typedef enum {
	WBD_VALUE_NUMBER,
	WBD_VALUE_BOOLEAN,
	WBD_VALUE_STRING,
	WBD_VALUE_TIME,
} WbdValueType;

/**
 * WbdValue:
 * @name: the value's name (a D-Bus property name, `PhasePower2` for an array's item)
 * @type: which of the members below holds it
 */
typedef struct {
	gchar *name;
	WbdValueType type;
	gdouble number;
	gboolean boolean;
	gint64 time_us;
	gchar *string;
} WbdValue;

WbdValue *
wbd_value_new_number(const gchar *name, gdouble number);
WbdValue *
wbd_value_new_boolean(const gchar *name, gboolean boolean);
WbdValue *
wbd_value_new_string(const gchar *name, const gchar *string);
WbdValue *
wbd_value_new_time(const gchar *name, gint64 time_us);
WbdValue *
wbd_value_copy(const WbdValue *value);
void
wbd_value_free(WbdValue *value);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WbdValue, wbd_value_free)
gboolean
wbd_value_equal(const WbdValue *a, const WbdValue *b);
gboolean
wbd_value_get_number(const WbdValue *value, gdouble *number);
gchar *
wbd_value_format_time(gint64 time_us);

GHashTable *
wbd_values_new(void);
void
wbd_values_set(GHashTable *values, WbdValue *value);
GHashTable *
wbd_values_from_variant(GVariant *changes);
gchar *
wbd_values_to_json(GHashTable *values);
GPtrArray *
wbd_values_parse(const gchar *json, GError **error);
gchar *
wbd_values_upgrade_legacy(const gchar *json);

gchar *
wbd_exporter_format_double(gdouble value);
void
wbd_json_append_string(GString *out, const gchar *text);

G_END_DECLS
