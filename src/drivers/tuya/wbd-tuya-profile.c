/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-config.h"
#include "wbd-tuya-profile.h"
#include "wbd-tuya-record.h"

#define PROFILE_GROUP "profile"
#define DP_GROUP_PREFIX "dp "
#define FIELD_GROUP_PREFIX "field "
#define MAX_PROFILE_SIZE (64 * 1024)
#define MAX_DP_ID 255
#define MAX_SCALE 9

/*
 * A profile maps a device's data points (DPs) to D-Bus properties. It is a key file:
 *
 *   [profile]
 *   description=Metering plug
 *   kind=outlet
 *   update-dps=18;19;20
 *
 *   [dp 19]
 *   name=cur_power
 *   type=value
 *   scale=1
 *   unit=W
 *   access=read-only
 *   property=ElectricityMeter.Power
 *
 * See src/drivers/tuya/README.md for every key.
 */
struct _WbdTuyaProfile {
	gatomicrefcount ref;
	gchar *name;
	gchar *kind;
	gchar *measurement;
	GPtrArray *dps; /* WbdTuyaDp, sorted by numeric id */
	GArray *update_dps;
	guint n_phases;
	gboolean derive_apparent;
};

static const struct {
	const gchar *name;
	WbdQuantity quantity;
} quantities[] = {
    {"Power", WBD_QUANTITY_POWER},
    {"Voltage", WBD_QUANTITY_VOLTAGE},
    {"Current", WBD_QUANTITY_CURRENT},
    {"Energy", WBD_QUANTITY_ENERGY},
    {"PowerFactor", WBD_QUANTITY_POWER_FACTOR},
    {"Frequency", WBD_QUANTITY_FREQUENCY},
    {"ReactivePower", WBD_QUANTITY_REACTIVE_POWER},
    {"ApparentPower", WBD_QUANTITY_APPARENT_POWER},
    {"EnergyToday", WBD_QUANTITY_ENERGY_TODAY},
    {"EnergyThisMonth", WBD_QUANTITY_ENERGY_THIS_MONTH},
    {"EnergyExported", WBD_QUANTITY_ENERGY_EXPORTED},
};

gboolean
wbd_tuya_quantity_from_property(const gchar *property, WbdQuantity *quantity)
{
	for (guint i = 0; i < G_N_ELEMENTS(quantities); i++) {
		if (g_strcmp0(quantities[i].name, property) == 0) {
			*quantity = quantities[i].quantity;
			return TRUE;
		}
	}
	return FALSE;
}

static void
wbd_tuya_dp_free(WbdTuyaDp *dp)
{
	g_free(dp->id);
	g_free(dp->name);
	g_free(dp->unit);
	g_free(dp->interface);
	g_free(dp->property);
	g_strfreev(dp->range);
	g_strfreev(dp->writable_values);
	g_clear_pointer(&dp->fields, g_ptr_array_unref);
	g_free(dp->negate_dp);
	g_free(dp->negate_value);
	g_free(dp);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(WbdTuyaDp, wbd_tuya_dp_free)

WbdTuyaProfile *
wbd_tuya_profile_ref(WbdTuyaProfile *self)
{
	g_atomic_ref_count_inc(&self->ref);
	return self;
}

void
wbd_tuya_profile_unref(WbdTuyaProfile *self)
{
	if (!g_atomic_ref_count_dec(&self->ref))
		return;
	g_free(self->name);
	g_free(self->kind);
	g_free(self->measurement);
	g_ptr_array_unref(self->dps);
	g_array_unref(self->update_dps);
	g_free(self);
}

const gchar *
wbd_tuya_profile_get_name(WbdTuyaProfile *self)
{
	return self->name;
}

const gchar *
wbd_tuya_profile_get_kind(WbdTuyaProfile *self)
{
	return self->kind;
}

/* what its ElectricityMeter measures (see the interface), "load" unless the profile says */
const gchar *
wbd_tuya_profile_get_measurement(WbdTuyaProfile *self)
{
	return self->measurement != NULL ? self->measurement : "load";
}

GPtrArray *
wbd_tuya_profile_get_dps(WbdTuyaProfile *self)
{
	return self->dps;
}

const WbdTuyaDp *
wbd_tuya_profile_lookup_dp(WbdTuyaProfile *self, const gchar *id)
{
	for (guint i = 0; self != NULL && i < self->dps->len; i++) {
		const WbdTuyaDp *dp = g_ptr_array_index(self->dps, i);
		if (g_strcmp0(dp->id, id) == 0)
			return dp;
	}
	return NULL;
}

const WbdTuyaDp *
wbd_tuya_profile_lookup_property(WbdTuyaProfile *self, const gchar *interface, const gchar *property)
{
	for (guint i = 0; self != NULL && i < self->dps->len; i++) {
		const WbdTuyaDp *dp = g_ptr_array_index(self->dps, i);
		if (g_strcmp0(dp->interface, interface) == 0 && g_strcmp0(dp->property, property) == 0)
			return dp;
	}
	return NULL;
}

gboolean
wbd_tuya_profile_uses_interface(WbdTuyaProfile *self, const gchar *interface)
{
	for (guint i = 0; self != NULL && i < self->dps->len; i++) {
		const WbdTuyaDp *dp = g_ptr_array_index(self->dps, i);
		if (g_strcmp0(dp->interface, interface) == 0)
			return TRUE;
		if (dp->fields != NULL && dp->fields->len > 0 && g_strcmp0(interface, "ElectricityMeter") == 0)
			return TRUE;
	}
	return FALSE;
}

const guint *
wbd_tuya_profile_get_update_dps(WbdTuyaProfile *self, guint *n_ids)
{
	*n_ids = self->update_dps->len;
	return (const guint *)(gpointer)self->update_dps->data;
}

/* Returns: (transfer full): the DP ids, for a "device22" read */
gchar **
wbd_tuya_profile_dup_dp_ids(WbdTuyaProfile *self)
{
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	for (guint i = 0; i < self->dps->len; i++)
		g_strv_builder_add(builder, ((WbdTuyaDp *)g_ptr_array_index(self->dps, i))->id);
	return g_strv_builder_end(builder);
}

/* the number of phases (or channels) the profile's DPs and fields feed separately */
guint
wbd_tuya_profile_get_n_phases(WbdTuyaProfile *self)
{
	return self->n_phases;
}

/* whether ApparentPower is V × I (`derive-apparent-power=true`) */
gboolean
wbd_tuya_profile_get_derive_apparent(WbdTuyaProfile *self)
{
	return self->derive_apparent;
}

static gboolean
feeds(WbdTuyaProfile *self, const gchar *interface, const gchar *property, guint phase)
{
	for (guint i = 0; self != NULL && i < self->dps->len; i++) {
		const WbdTuyaDp *dp = g_ptr_array_index(self->dps, i);
		if (g_strcmp0(dp->interface, interface) == 0 && g_strcmp0(dp->property, property) == 0 &&
		    dp->phase == phase)
			return TRUE;
		for (guint j = 0; dp->fields != NULL && j < dp->fields->len; j++) {
			const WbdTuyaField *field = g_ptr_array_index(dp->fields, j);
			if (g_strcmp0(interface, "ElectricityMeter") == 0 &&
			    g_strcmp0(field->property, property) == 0 && field->phase == phase)
				return TRUE;
		}
	}
	return FALSE;
}

/* whether a DP or a record field feeds @quantity (of @phase, 0 for the total) */
gboolean
wbd_tuya_profile_feeds(WbdTuyaProfile *self, WbdQuantity quantity, guint phase)
{
	return feeds(self, "ElectricityMeter", wbd_quantity_to_string(quantity), phase);
}

/* the DP counted into Energy as increments (add_ele), or %NULL */
const WbdTuyaDp *
wbd_tuya_profile_get_increment(WbdTuyaProfile *self)
{
	for (guint i = 0; self != NULL && i < self->dps->len; i++) {
		const WbdTuyaDp *dp = g_ptr_array_index(self->dps, i);
		if (dp->increment)
			return dp;
	}
	return NULL;
}

/* loading */

gboolean
wbd_tuya_profile_name_is_valid(const gchar *name)
{
	gsize len = name != NULL ? strlen(name) : 0;
	if (len == 0 || len > 64 || name[0] == '.')
		return FALSE;
	for (const gchar *p = name; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
			return FALSE;
	}
	return TRUE;
}

/**
 * wbd_tuya_profile_get_search_path:
 *
 * Where profiles are looked for, first match wins: the folders of
 * `$WATTBUS_PROFILES_DIR` (':'-separated; for tests and development), the user's
 * `profiles` folder in the daemon's configuration directory (`--config`,
 * `$CONFIGURATION_DIRECTORY`, else /etc/wattbus), then the installed ones in the data
 * directory.
 *
 * Returns: (transfer full): the folders
 */
gchar **
wbd_tuya_profile_get_search_path(void)
{
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	const gchar *env = g_getenv("WATTBUS_PROFILES_DIR");
	g_autofree gchar *user = g_build_filename(wbd_config_get_config_dir(), "profiles", NULL);
	g_autofree gchar *installed = g_build_filename(WATTBUS_DATADIR, "profiles", NULL);

	if (env != NULL && env[0] != '\0') {
		g_auto(GStrv) dirs = g_strsplit(env, ":", -1);
		for (guint i = 0; dirs[i] != NULL; i++) {
			if (dirs[i][0] != '\0')
				g_strv_builder_add(builder, dirs[i]);
		}
	}
	g_strv_builder_add(builder, user);
	g_strv_builder_add(builder, installed);
	return g_strv_builder_end(builder);
}

/* the D-Bus type of a property a DP may feed, or NULL */
static const GVariantType *
target_type(const gchar *interface, const gchar *property)
{
	WbdQuantity quantity;
	GDBusPropertyInfo *info;

	if (g_strcmp0(interface, "Outlet") == 0)
		return g_strcmp0(property, "On") == 0 ? G_VARIANT_TYPE_BOOLEAN : NULL;
	if (g_strcmp0(interface, "ElectricityMeter") == 0)
		return wbd_tuya_quantity_from_property(property, &quantity) ? G_VARIANT_TYPE_DOUBLE : NULL;
	if (g_strcmp0(interface, "WaterMeter") == 0 && g_strcmp0(property, "Measured") != 0) {
		info = g_dbus_interface_info_lookup_property(wattbus_water_meter_interface_info(), property);
		return info != NULL ? G_VARIANT_TYPE(info->signature) : NULL;
	}
	return NULL;
}

static gboolean
type_fits(WbdTuyaDpType type, const GVariantType *target)
{
	if (g_variant_type_equal(target, G_VARIANT_TYPE_BOOLEAN))
		return type == WBD_TUYA_DP_BOOL || type == WBD_TUYA_DP_VALUE;
	if (g_variant_type_equal(target, G_VARIANT_TYPE_STRING))
		return type == WBD_TUYA_DP_ENUM || type == WBD_TUYA_DP_STRING;
	/* d, u, t: numbers, or numbers in a string (Tuya's times are strings) */
	return type == WBD_TUYA_DP_VALUE || type == WBD_TUYA_DP_STRING;
}

/* users write profiles: whatever they contain, the message is valid UTF-8 */
gboolean
wbd_tuya_profile_error(GError **error, const gchar *name, const gchar *group, const gchar *message)
{
	g_autofree gchar *clean_group = g_utf8_make_valid(group, -1);
	g_autofree gchar *clean_message = g_utf8_make_valid(message, -1);
	g_set_error(error,
		    WATTBUS_ERROR,
		    WATTBUS_ERROR_INVALID_ARGUMENT,
		    "Tuya profile '%s', [%s]: %s",
		    name,
		    clean_group,
		    clean_message);
	return FALSE;
}

/* every key of @group is one of @known */
gboolean
wbd_tuya_profile_check_keys(GKeyFile *kf,
			    const gchar *name,
			    const gchar *group,
			    const gchar *const *known,
			    GError **error)
{
	g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		if (!g_strv_contains(known, keys[i])) {
			g_autofree gchar *msg = g_strdup_printf("unknown key '%s'", keys[i]);
			return wbd_tuya_profile_error(error, name, group, msg);
		}
	}
	return TRUE;
}

gboolean
wbd_tuya_profile_parse_int(const gchar *text, gint64 min, gint64 max, gint64 *out)
{
	return text != NULL && g_ascii_string_to_signed(text, 10, min, max, out, NULL);
}

static WbdTuyaDp *
parse_dp(GKeyFile *kf, const gchar *name, const gchar *group, GError **error)
{
	g_autoptr(WbdTuyaDp) dp = g_new0(WbdTuyaDp, 1);
	const gchar *id = group + strlen(DP_GROUP_PREFIX);
	g_autofree gchar *type = g_key_file_get_string(kf, group, "type", NULL);
	g_autofree gchar *access = g_key_file_get_string(kf, group, "access", NULL);
	g_autofree gchar *scale = g_key_file_get_string(kf, group, "scale", NULL);
	g_autofree gchar *min = g_key_file_get_string(kf, group, "min", NULL);
	g_autofree gchar *max = g_key_file_get_string(kf, group, "max", NULL);
	g_autofree gchar *property = g_key_file_get_string(kf, group, "property", NULL);
	g_autofree gchar *encoding = g_key_file_get_string(kf, group, "encoding", NULL);
	g_autofree gchar *length = g_key_file_get_string(kf, group, "length", NULL);
	g_autofree gchar *phase = g_key_file_get_string(kf, group, "phase", NULL);
	g_autofree gchar *negative = g_key_file_get_string(kf, group, "negative-when", NULL);
	g_autofree gchar *increment = g_key_file_get_string(kf, group, "increment", NULL);
	g_autofree gchar *rated = g_key_file_get_string(kf, group, "rated-power", NULL);
	static const gchar *const known[] = {"name", "type", "scale", "unit", "access", "property",
					     "range", "writable-values", "min", "max", "encoding", "length",
					     "phase", "negative-when", "increment", "rated-power", NULL};
	gint64 n;

	if (!wbd_tuya_profile_check_keys(kf, name, group, known, error))
		return NULL;
	if (!wbd_tuya_profile_parse_int(id, 1, MAX_DP_ID, &n)) {
		wbd_tuya_profile_error(error, name, group, "the DP id must be a number from 1 to 255");
		return NULL;
	}
	dp->id = g_strdup_printf("%" G_GINT64_FORMAT, n);
	dp->name = g_key_file_get_string(kf, group, "name", NULL);
	if (dp->name == NULL)
		dp->name = g_strdup_printf("dp_%s", dp->id);
	if (g_strcmp0(type, "bool") == 0)
		dp->type = WBD_TUYA_DP_BOOL;
	else if (g_strcmp0(type, "value") == 0)
		dp->type = WBD_TUYA_DP_VALUE;
	else if (g_strcmp0(type, "enum") == 0)
		dp->type = WBD_TUYA_DP_ENUM;
	else if (g_strcmp0(type, "string") == 0)
		dp->type = WBD_TUYA_DP_STRING;
	else if (g_strcmp0(type, "raw") == 0)
		dp->type = WBD_TUYA_DP_RAW;
	else {
		wbd_tuya_profile_error(error, name, group, "type must be bool, value, enum, string or raw");
		return NULL;
	}
	if (dp->type == WBD_TUYA_DP_RAW) {
		if (encoding == NULL || g_strcmp0(encoding, "base64") == 0)
			dp->hex = FALSE;
		else if (g_strcmp0(encoding, "hex") == 0)
			dp->hex = TRUE;
		else {
			wbd_tuya_profile_error(error, name, group, "encoding must be base64 or hex");
			return NULL;
		}
		if (!wbd_tuya_profile_parse_int(length, 1, WBD_TUYA_MAX_RECORD, &n)) {
			wbd_tuya_profile_error(error, name, group, "a raw DP needs length=N, its record's bytes (1 to 64)");
			return NULL;
		}
		dp->record_length = (guint)n;
		dp->fields = g_ptr_array_new_with_free_func((GDestroyNotify)wbd_tuya_field_free);
	} else if (encoding != NULL || length != NULL) {
		wbd_tuya_profile_error(error, name, group, "encoding and length are for raw DPs");
		return NULL;
	}
	if (phase != NULL) {
		if (!wbd_tuya_profile_parse_int(phase, 1, WBD_TUYA_MAX_PHASE, &n)) {
			wbd_tuya_profile_error(error, name, group, "phase must be 1, 2 or 3");
			return NULL;
		}
		dp->phase = (guint)n;
	}
	if (negative != NULL) {
		g_auto(GStrv) parts = g_strsplit(negative, ":", 2);
		if (g_strv_length(parts) != 2 || !wbd_tuya_profile_parse_int(parts[0], 1, MAX_DP_ID, &n) || parts[1][0] == '\0') {
			wbd_tuya_profile_error(error, name, group, "negative-when must be DP:VALUE (e.g. 102:REVERSE)");
			return NULL;
		}
		dp->negate_dp = g_strdup_printf("%" G_GINT64_FORMAT, n);
		dp->negate_value = g_strdup(parts[1]);
	}
	if (increment != NULL) {
		if (g_strcmp0(increment, "true") != 0 && g_strcmp0(increment, "false") != 0) {
			wbd_tuya_profile_error(error, name, group, "increment must be true or false");
			return NULL;
		}
		dp->increment = g_str_equal(increment, "true");
	}
	if (rated != NULL) {
		if (!wbd_tuya_profile_parse_int(rated, 1, 1000000, &n)) {
			wbd_tuya_profile_error(error, name, group, "rated-power must be a whole number of watts");
			return NULL;
		}
		dp->rated_power = (guint)n;
	}
	if (access == NULL || g_strcmp0(access, "read-only") == 0 || g_strcmp0(access, "ro") == 0)
		dp->writable = FALSE;
	else if (g_strcmp0(access, "read-write") == 0 || g_strcmp0(access, "rw") == 0)
		dp->writable = TRUE;
	else {
		wbd_tuya_profile_error(error, name, group, "access must be read-only or read-write");
		return NULL;
	}
	if (scale != NULL) {
		if (!wbd_tuya_profile_parse_int(scale, -MAX_SCALE, MAX_SCALE, &n)) {
			wbd_tuya_profile_error(error, name, group, "scale must be a whole number from -9 to 9");
			return NULL;
		}
		dp->scale = (gint)n;
	}
	dp->unit = g_key_file_get_string(kf, group, "unit", NULL);
	dp->range = g_key_file_get_string_list(kf, group, "range", NULL, NULL);
	dp->writable_values = g_key_file_get_string_list(kf, group, "writable-values", NULL, NULL);
	if (dp->type == WBD_TUYA_DP_ENUM && (dp->range == NULL || dp->range[0] == NULL)) {
		wbd_tuya_profile_error(error, name, group, "an enum needs range=value;value;...");
		return NULL;
	}
	for (guint i = 0; dp->writable_values != NULL && dp->writable_values[i] != NULL; i++) {
		if (dp->range == NULL || !g_strv_contains((const gchar *const *)dp->range, dp->writable_values[i])) {
			wbd_tuya_profile_error(error, name, group, "writable-values must be taken from range");
			return NULL;
		}
	}
	if (min != NULL) {
		if (!wbd_tuya_profile_parse_int(min, G_MININT64, G_MAXINT64, &dp->min)) {
			wbd_tuya_profile_error(error, name, group, "min must be a whole number");
			return NULL;
		}
		dp->has_min = TRUE;
	}
	if (max != NULL) {
		if (!wbd_tuya_profile_parse_int(max, G_MININT64, G_MAXINT64, &dp->max)) {
			wbd_tuya_profile_error(error, name, group, "max must be a whole number");
			return NULL;
		}
		dp->has_max = TRUE;
	}
	if (dp->has_min && dp->has_max && dp->min > dp->max) {
		wbd_tuya_profile_error(error, name, group, "min is larger than max");
		return NULL;
	}
	if (property != NULL) {
		g_auto(GStrv) parts = g_strsplit(property, ".", 2);
		const GVariantType *target = NULL;
		if (g_strv_length(parts) == 2)
			target = target_type(parts[0], parts[1]);
		if (target == NULL) {
			wbd_tuya_profile_error(error,
				      name,
				      group,
				      "property must be Outlet.On, ElectricityMeter.<quantity> or "
				      "WaterMeter.<property>");
			return NULL;
		}
		if (!type_fits(dp->type, target)) {
			wbd_tuya_profile_error(error, name, group, "the DP's type does not fit the property");
			return NULL;
		}
		dp->interface = g_strdup(parts[0]);
		dp->property = g_strdup(parts[1]);
	}
	if ((dp->phase != 0 || dp->negate_dp != NULL) && g_strcmp0(dp->interface, "ElectricityMeter") != 0) {
		wbd_tuya_profile_error(error, name, group, "phase and negative-when are for ElectricityMeter DPs");
		return NULL;
	}
	if (dp->increment && (dp->type != WBD_TUYA_DP_VALUE || g_strcmp0(dp->property, "Energy") != 0 ||
			      dp->phase != 0 || dp->negate_dp != NULL)) {
		wbd_tuya_profile_error(error, name, group, "an increment is a value DP fed to ElectricityMeter.Energy");
		return NULL;
	}
	return g_steal_pointer(&dp);
}

static gint
compare_dps(gconstpointer a, gconstpointer b)
{
	const WbdTuyaDp *x = *(const WbdTuyaDp **)a;
	const WbdTuyaDp *y = *(const WbdTuyaDp **)b;
	return (gint)g_ascii_strtoll(x->id, NULL, 10) - (gint)g_ascii_strtoll(y->id, NULL, 10);
}

/**
 * wbd_tuya_profile_new_from_data:
 * @name: the profile's name, for messages
 *
 * Returns: (transfer full) (nullable): the profile, or %NULL with an
 *   %WATTBUS_ERROR_INVALID_ARGUMENT error naming the bad group and key
 */
WbdTuyaProfile *
wbd_tuya_profile_new_from_data(const gchar *name, const gchar *data, gsize len, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) local_error = NULL;
	g_auto(GStrv) groups = NULL;
	g_autofree gchar *update = NULL;
	WbdTuyaProfile *self;

	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &local_error)) {
		g_autofree gchar *clean = g_utf8_make_valid(local_error->message, -1);
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "Tuya profile '%s' is not a valid key file: %s",
			    name,
			    clean);
		return NULL;
	}
	if (!g_key_file_has_group(kf, PROFILE_GROUP)) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "Tuya profile '%s' has no [profile] group",
			    name);
		return NULL;
	}
	self = g_new0(WbdTuyaProfile, 1);
	g_atomic_ref_count_init(&self->ref);
	self->name = g_strdup(name);
	self->kind = g_key_file_get_string(kf, PROFILE_GROUP, "kind", NULL);
	self->measurement = g_key_file_get_string(kf, PROFILE_GROUP, "measurement", NULL);
	self->derive_apparent = g_key_file_get_boolean(kf, PROFILE_GROUP, "derive-apparent-power", NULL);
	self->dps = g_ptr_array_new_with_free_func((GDestroyNotify)wbd_tuya_dp_free);
	self->update_dps = g_array_new(FALSE, FALSE, sizeof(guint));

	update = g_key_file_get_string(kf, PROFILE_GROUP, "update-dps", NULL);
	if (update != NULL) {
		g_auto(GStrv) ids = g_strsplit(update, ";", -1);
		for (guint i = 0; ids[i] != NULL; i++) {
			gint64 n;
			if (g_strstrip(ids[i])[0] == '\0')
				continue;
			if (!wbd_tuya_profile_parse_int(ids[i], 1, MAX_DP_ID, &n)) {
				wbd_tuya_profile_error(error, name, PROFILE_GROUP, "update-dps must list DP ids");
				wbd_tuya_profile_unref(self);
				return NULL;
			}
			g_array_append_val(self->update_dps, n);
		}
	}
	groups = g_key_file_get_groups(kf, NULL);
	for (guint i = 0; groups[i] != NULL; i++) {
		WbdTuyaDp *dp;
		if (g_str_equal(groups[i], PROFILE_GROUP) || g_str_has_prefix(groups[i], FIELD_GROUP_PREFIX))
			continue;
		if (!g_str_has_prefix(groups[i], DP_GROUP_PREFIX)) {
			wbd_tuya_profile_error(error,
				      name,
				      groups[i],
				      "unknown group (expected [profile], [dp ID] or [field ID NAME])");
			wbd_tuya_profile_unref(self);
			return NULL;
		}
		dp = parse_dp(kf, name, groups[i], error);
		if (dp == NULL || wbd_tuya_profile_lookup_dp(self, dp->id) != NULL ||
		    (dp->property != NULL && feeds(self, dp->interface, dp->property, dp->phase)) ||
		    (dp->increment && wbd_tuya_profile_get_increment(self) != NULL)) {
			if (dp != NULL)
				wbd_tuya_profile_error(error, name, groups[i], "a second DP with this id or property");
			g_clear_pointer(&dp, wbd_tuya_dp_free);
			wbd_tuya_profile_unref(self);
			return NULL;
		}
		g_ptr_array_add(self->dps, dp);
		self->n_phases = MAX(self->n_phases, dp->phase);
	}
	/* the fields of raw DPs, once every DP is known */
	for (guint i = 0; groups[i] != NULL; i++) {
		g_autoptr(WbdTuyaField) field = NULL;
		WbdTuyaDp *dp;
		if (!g_str_has_prefix(groups[i], FIELD_GROUP_PREFIX))
			continue;
		field = wbd_tuya_field_parse(kf, name, groups[i], &dp, self, error);
		if (field == NULL) {
			wbd_tuya_profile_unref(self);
			return NULL;
		}
		if (feeds(self, "ElectricityMeter", field->property, field->phase)) {
			wbd_tuya_profile_error(error, name, groups[i], "a second DP or field feeds this property");
			wbd_tuya_profile_unref(self);
			return NULL;
		}
		self->n_phases = MAX(self->n_phases, field->phase);
		g_ptr_array_add(dp->fields, g_steal_pointer(&field));
	}
	g_ptr_array_sort(self->dps, compare_dps);
	return self;
}

/**
 * wbd_tuya_profile_load:
 *
 * Finds the profile @name along wbd_tuya_profile_get_search_path() and reads it.
 * Blocking file I/O, for configuration time only.
 */
WbdTuyaProfile *
wbd_tuya_profile_load(const gchar *name, GError **error)
{
	g_auto(GStrv) path = wbd_tuya_profile_get_search_path();
	g_autofree gchar *file_name = NULL;
	g_autofree gchar *dirs = NULL;

	if (!wbd_tuya_profile_name_is_valid(name)) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "A Tuya profile name has only letters, digits, '-', '_' and '.'");
		return NULL;
	}
	file_name = g_strconcat(name, WBD_TUYA_PROFILE_SUFFIX, NULL);
	for (guint i = 0; path[i] != NULL; i++) {
		g_autofree gchar *file = g_build_filename(path[i], file_name, NULL);
		g_autofree gchar *contents = NULL;
		g_autoptr(GError) local_error = NULL;
		gsize len = 0;

		if (!g_file_get_contents(file, &contents, &len, &local_error)) {
			if (g_error_matches(local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
				continue;
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "Cannot read the Tuya profile %s: %s",
				    file,
				    local_error->message);
			return NULL;
		}
		if (len > MAX_PROFILE_SIZE) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "The Tuya profile %s is too large",
				    file);
			return NULL;
		}
		g_debug("reading the Tuya profile %s", file);
		return wbd_tuya_profile_new_from_data(name, contents, len, error);
	}
	dirs = g_strjoinv(", ", path);
	g_set_error(error,
		    WATTBUS_ERROR,
		    WATTBUS_ERROR_INVALID_ARGUMENT,
		    "No Tuya profile '%s' (looked for %s in %s)",
		    name,
		    file_name,
		    dirs);
	return NULL;
}
