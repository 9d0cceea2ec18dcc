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
	WBD_TUYA_DP_RAW,
} WbdTuyaDpType;

/* the largest record a raw DP may declare, in bytes */
#define WBD_TUYA_MAX_RECORD 64
/* the largest phase (or channel) index a DP or a field may feed */
#define WBD_TUYA_MAX_PHASE WBD_METER_MAX_PHASES

/**
 * WbdTuyaField:
 * @name: the field's name, for messages (the group's last word)
 * @offset: its first byte in the record
 * @length: its length in bytes, 1 to 8
 * @little_endian: the byte order (default big-endian, as most meters)
 * @is_signed: two's complement over @length bytes
 * @scale: decimal exponent: value = raw / 10^@scale
 * @negate_byte: the record byte holding a sign flag for this field, or -1
 * @negate_bit: the flag's bit (0 = least significant) in @negate_byte
 * @property: the ElectricityMeter quantity it feeds ("Voltage"...)
 * @phase: 1 to 3 for the phase (or channel) it belongs to, 0 for a total
 *
 * One number in the record of a raw DP.
 */
typedef struct {
	gchar *name;
	guint offset;
	guint length;
	gboolean little_endian;
	gboolean is_signed;
	gint scale;
	gint negate_byte;
	guint negate_bit;
	gchar *property;
	guint phase;
} WbdTuyaField;

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
 * @hex: a raw DP's record comes as hex digits, not base64
 * @record_length: a raw DP's record length in bytes (checked before any field is read)
 * @fields: (element-type WbdTuyaField) (nullable): a raw DP's fields
 * @phase: 1 to 3 when the DP feeds one phase (or channel) of an ElectricityMeter
 *   quantity, 0 for the total
 * @negate_dp: the id of an enum DP that gives this DP's sign, or %NULL
 * @negate_value: the value of @negate_dp that makes this DP negative
 * @increment: the DP is an energy increment (`add_ele`): Energy is counted from it
 * @rated_power: an increment larger than this many watts over the time since the
 *   last counted one is refused (0: the default, 3680 W)
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
	gboolean hex;
	guint record_length;
	GPtrArray *fields;
	guint phase;
	gchar *negate_dp;
	gchar *negate_value;
	gboolean increment;
	guint rated_power;
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
guint
wbd_tuya_profile_get_n_phases(WbdTuyaProfile *self);
gboolean
wbd_tuya_profile_get_derive_apparent(WbdTuyaProfile *self);
gboolean
wbd_tuya_profile_feeds(WbdTuyaProfile *self, WbdQuantity quantity, guint phase);
const WbdTuyaDp *
wbd_tuya_profile_get_increment(WbdTuyaProfile *self);

/* for the parts of the loader in other files */
gboolean
wbd_tuya_profile_error(GError **error, const gchar *name, const gchar *group, const gchar *message);
gboolean
wbd_tuya_profile_check_keys(GKeyFile *kf,
			    const gchar *name,
			    const gchar *group,
			    const gchar *const *known,
			    GError **error);
gboolean
wbd_tuya_profile_parse_int(const gchar *text, gint64 min, gint64 max, gint64 *out);

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
