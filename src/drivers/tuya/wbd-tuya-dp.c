/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-tuya-profile.h"

/*
 * The values of a profile's DPs: raw values to D-Bus properties and back, and the
 * checks a value passes before it is written.
 */

/**
 * wbd_tuya_dp_get_number:
 *
 * The raw value as a number, scaled: integers, doubles, booleans, and numbers in a
 * string (Tuya's times are strings).
 */
gboolean
wbd_tuya_dp_get_number(const WbdTuyaDp *dp, GVariant *raw, gdouble *value)
{
	gdouble v;
	if (g_variant_is_of_type(raw, G_VARIANT_TYPE_INT64))
		v = (gdouble)g_variant_get_int64(raw);
	else if (g_variant_is_of_type(raw, G_VARIANT_TYPE_DOUBLE))
		v = g_variant_get_double(raw);
	else if (g_variant_is_of_type(raw, G_VARIANT_TYPE_BOOLEAN))
		v = g_variant_get_boolean(raw) ? 1 : 0;
	else if (g_variant_is_of_type(raw, G_VARIANT_TYPE_STRING)) {
		const gchar *s = g_variant_get_string(raw, NULL);
		gchar *end = NULL;
		v = g_ascii_strtod(s, &end);
		if (end == s || *end != '\0')
			return FALSE;
	} else {
		return FALSE;
	}
	v /= pow(10, dp->scale);
	if (!isfinite(v))
		return FALSE;
	*value = v;
	return TRUE;
}

/* seconds, milliseconds or microseconds to µs */
static gdouble
time_factor(const gchar *unit)
{
	if (g_strcmp0(unit, "ms") == 0)
		return 1e3;
	if (g_strcmp0(unit, "us") == 0 || g_strcmp0(unit, "µs") == 0)
		return 1;
	return 1e6;
}

/**
 * wbd_tuya_dp_to_property:
 * @raw: the DP's value as wbd_tuya_payload_parse() gives it
 * @type: the property's D-Bus type
 *
 * Returns: (transfer full) (nullable): the property value in its SI unit, or %NULL
 *   when @raw does not fit
 */
GVariant *
wbd_tuya_dp_to_property(const WbdTuyaDp *dp, GVariant *raw, const GVariantType *type)
{
	gdouble v;

	if (g_variant_type_equal(type, G_VARIANT_TYPE_BOOLEAN)) {
		if (g_variant_is_of_type(raw, G_VARIANT_TYPE_BOOLEAN))
			return g_variant_ref_sink(g_variant_new_boolean(g_variant_get_boolean(raw)));
		if (g_variant_is_of_type(raw, G_VARIANT_TYPE_INT64))
			return g_variant_ref_sink(g_variant_new_boolean(g_variant_get_int64(raw) != 0));
		return NULL;
	}
	if (g_variant_type_equal(type, G_VARIANT_TYPE_STRING)) {
		if (g_variant_is_of_type(raw, G_VARIANT_TYPE_STRING))
			return g_variant_ref(raw);
		if (g_variant_is_of_type(raw, G_VARIANT_TYPE_INT64)) {
			g_autofree gchar *s = g_strdup_printf("%" G_GINT64_FORMAT, g_variant_get_int64(raw));
			return g_variant_ref_sink(g_variant_new_string(s));
		}
		return NULL;
	}
	if (!wbd_tuya_dp_get_number(dp, raw, &v))
		return NULL;
	if (g_variant_type_equal(type, G_VARIANT_TYPE_DOUBLE))
		return g_variant_ref_sink(g_variant_new_double(v));
	if (g_variant_type_equal(type, G_VARIANT_TYPE_UINT32)) {
		v = round(v);
		return g_variant_ref_sink(g_variant_new_uint32(v <= 0 ? 0 : v >= G_MAXUINT32 ? G_MAXUINT32 : (guint32)v));
	}
	if (g_variant_type_equal(type, G_VARIANT_TYPE_UINT64)) {
		v = round(v * time_factor(dp->unit));
		return g_variant_ref_sink(g_variant_new_uint64(v <= 0 ? 0 : v >= 1.8e19 ? G_MAXUINT64 : (guint64)v));
	}
	return NULL;
}

static gboolean
invalid(GError **error, const WbdTuyaDp *dp, const gchar *what)
{
	g_set_error(error,
		    WATTBUS_ERROR,
		    WATTBUS_ERROR_INVALID_ARGUMENT,
		    "DP %s (%s) %s",
		    dp->id,
		    dp->name,
		    what);
	return FALSE;
}

static gboolean
get_integer(GVariant *value, gint64 *out)
{
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT64))
		*out = g_variant_get_int64(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT32))
		*out = g_variant_get_int32(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32))
		*out = g_variant_get_uint32(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT16))
		*out = g_variant_get_int16(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT16))
		*out = g_variant_get_uint16(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_BYTE))
		*out = g_variant_get_byte(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64) && g_variant_get_uint64(value) <= G_MAXINT64)
		*out = (gint64)g_variant_get_uint64(value);
	else
		return FALSE;
	return TRUE;
}

/**
 * wbd_tuya_dp_check_raw:
 * @raw: a raw value a caller wants to write
 *
 * Checks @raw against the DP: writable, the right type, in range, one of the enum
 * values (and of the writable ones).
 */
gboolean
wbd_tuya_dp_check_raw(const WbdTuyaDp *dp, GVariant *raw, GError **error)
{
	gint64 n;

	if (!dp->writable)
		return invalid(error, dp, "is read-only");
	switch (dp->type) {
	case WBD_TUYA_DP_BOOL:
		if (!g_variant_is_of_type(raw, G_VARIANT_TYPE_BOOLEAN))
			return invalid(error, dp, "takes a boolean");
		return TRUE;
	case WBD_TUYA_DP_VALUE:
		if (!get_integer(raw, &n))
			return invalid(error, dp, "takes an integer");
		if ((dp->has_min && n < dp->min) || (dp->has_max && n > dp->max)) {
			g_autofree gchar *msg = NULL;
			msg = g_strdup_printf("takes a raw value from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
					      ", not %" G_GINT64_FORMAT,
					      dp->has_min ? dp->min : G_MININT64,
					      dp->has_max ? dp->max : G_MAXINT64,
					      n);
			return invalid(error, dp, msg);
		}
		return TRUE;
	case WBD_TUYA_DP_ENUM:
	case WBD_TUYA_DP_STRING:
	default:
		if (!g_variant_is_of_type(raw, G_VARIANT_TYPE_STRING))
			return invalid(error, dp, "takes a string");
		if (dp->type == WBD_TUYA_DP_ENUM) {
			gchar **allowed = dp->writable_values != NULL ? dp->writable_values : dp->range;
			if (!g_strv_contains((const gchar *const *)allowed, g_variant_get_string(raw, NULL))) {
				g_autofree gchar *list = g_strjoinv(", ", allowed);
				g_autofree gchar *msg = g_strdup_printf("takes one of %s", list);
				return invalid(error, dp, msg);
			}
		} else if (strlen(g_variant_get_string(raw, NULL)) > 255) {
			return invalid(error, dp, "takes at most 255 bytes");
		}
		return TRUE;
	}
}

/**
 * wbd_tuya_dp_from_property:
 * @value: the value of a Set method, in the property's SI unit
 *
 * The inverse of wbd_tuya_dp_to_property(), checked with wbd_tuya_dp_check_raw().
 *
 * Returns: (transfer full) (nullable): the raw value to send, or %NULL with an
 *   %WATTBUS_ERROR_INVALID_ARGUMENT error
 */
GVariant *
wbd_tuya_dp_from_property(const WbdTuyaDp *dp, GVariant *value, GError **error)
{
	g_autoptr(GVariant) raw = NULL;

	if (dp->type == WBD_TUYA_DP_VALUE && !g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN)) {
		gdouble v;
		if (g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE))
			v = g_variant_get_double(value);
		else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32))
			v = g_variant_get_uint32(value);
		else {
			invalid(error, dp, "takes a number");
			return NULL;
		}
		v = round(v * pow(10, dp->scale));
		if (!isfinite(v) || v < -9.2e18 || v > 9.2e18) {
			invalid(error, dp, "cannot take that value");
			return NULL;
		}
		raw = g_variant_ref_sink(g_variant_new_int64((gint64)v));
	} else if (dp->type == WBD_TUYA_DP_VALUE) {
		raw = g_variant_ref_sink(g_variant_new_int64(g_variant_get_boolean(value) ? 1 : 0));
	} else {
		raw = g_variant_ref(value);
	}
	if (!wbd_tuya_dp_check_raw(dp, raw, error))
		return NULL;
	return g_steal_pointer(&raw);
}
