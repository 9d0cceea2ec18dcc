/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "wbd-meter-reading.h"

G_BEGIN_DECLS

#define WBD_TUYA_PROFILE_SUFFIX ".profile"

typedef enum {
	WBD_TUYA_DP_BOOL,
	WBD_TUYA_DP_VALUE,
	WBD_TUYA_DP_ENUM,
	WBD_TUYA_DP_STRING,
} WbdTuyaDpType;

/**
 * WbdTuyaDp:
 * @id: the DP id, e.g. "18"
 * @name: the DP's Tuya identifier, e.g. "cur_current"
 * @type: bool, value, enum or string
 * @scale: decimal exponent: property value = raw / 10^@scale
 * @unit: the unit after scaling ("A", "m³", "s"...), or %NULL
 * @writable: whether the DP may be set
 * @interface: the D-Bus interface the DP feeds, without the org.wattbus.Wattbus1.
 *   prefix ("Outlet", "ElectricityMeter", "WaterMeter"), or %NULL
 * @property: the D-Bus property it feeds, or %NULL
 * @range: (array zero-terminated=1): the values of an enum, or %NULL
 * @writable_values: (array zero-terminated=1): the enum values a write may use
 *   (default: all of @range)
 * @has_min: whether @min is set
 * @min: the smallest raw value of a value DP
 * @has_max: whether @max is set
 * @max: the largest raw value of a value DP
 *
 * One data point of a profile.
 */
typedef struct {
	gchar *id;
	gchar *name;
	WbdTuyaDpType type;
	gint scale;
	gchar *unit;
	gboolean writable;
	gchar *interface;
	gchar *property;
	gchar **range;
	gchar **writable_values;
	gboolean has_min;
	gint64 min;
	gboolean has_max;
	gint64 max;
} WbdTuyaDp;

typedef struct _WbdTuyaProfile WbdTuyaProfile;

WbdTuyaProfile *
wbd_tuya_profile_ref(WbdTuyaProfile *self);
void
wbd_tuya_profile_unref(WbdTuyaProfile *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WbdTuyaProfile, wbd_tuya_profile_unref)

gchar **
wbd_tuya_profile_get_search_path(void);
gboolean
wbd_tuya_profile_name_is_valid(const gchar *name);
WbdTuyaProfile *
wbd_tuya_profile_load(const gchar *name, GError **error);
WbdTuyaProfile *
wbd_tuya_profile_new_from_data(const gchar *name, const gchar *data, gsize len, GError **error);

const gchar *
wbd_tuya_profile_get_name(WbdTuyaProfile *self);
const gchar *
wbd_tuya_profile_get_kind(WbdTuyaProfile *self);
const gchar *
wbd_tuya_profile_get_measurement(WbdTuyaProfile *self);
GPtrArray *
wbd_tuya_profile_get_dps(WbdTuyaProfile *self);
const WbdTuyaDp *
wbd_tuya_profile_lookup_dp(WbdTuyaProfile *self, const gchar *id);
const WbdTuyaDp *
wbd_tuya_profile_lookup_property(WbdTuyaProfile *self, const gchar *interface, const gchar *property);
gboolean
wbd_tuya_profile_uses_interface(WbdTuyaProfile *self, const gchar *interface);
const guint *
wbd_tuya_profile_get_update_dps(WbdTuyaProfile *self, guint *n_ids);
gchar **
wbd_tuya_profile_dup_dp_ids(WbdTuyaProfile *self);

/* values */
gboolean
wbd_tuya_dp_get_number(const WbdTuyaDp *dp, GVariant *raw, gdouble *value);
GVariant *
wbd_tuya_dp_to_property(const WbdTuyaDp *dp, GVariant *raw, const GVariantType *type);
GVariant *
wbd_tuya_dp_from_property(const WbdTuyaDp *dp, GVariant *value, GError **error);
gboolean
wbd_tuya_dp_check_raw(const WbdTuyaDp *dp, GVariant *raw, GError **error);
gboolean
wbd_tuya_quantity_from_property(const gchar *property, WbdQuantity *quantity);

G_END_DECLS
