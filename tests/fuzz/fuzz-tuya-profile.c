/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>
#include <wattbus-glib.h>

#include "fuzz-tuya.h"
#include "wbd-tuya-codec.h"
#include "wbd-tuya-profile.h"
#include "wbd-tuya-record.h"

/*
 * A profile file (users write them), then a few DP values through it. A profile
 * either loads with sane DPs or is refused with an InvalidArgument error.
 */
/* records of every length and encoding through each raw DP and its fields */
static void
wbf_tuya_check_records(WbdTuyaProfile *profile)
{
	static const gchar *const values[] = {"COwABY8AARA=", "AAAJLwAyKAALigABnAALy2ID", "AQkAAJbn//+G+v//AA==",
					      "ff38", "", "====", "CWkAARgAACoA", "//////////8=", "00"};
	g_autoptr(GHashTable) all = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_variant_unref);
	GPtrArray *dps = wbd_tuya_profile_get_dps(profile);
	WbdMeterReading reading;

	wbd_meter_reading_init(&reading);
	g_hash_table_insert(all, g_strdup("102"), g_variant_ref_sink(g_variant_new_string("REVERSE")));
	for (guint i = 0; i < dps->len; i++) {
		const WbdTuyaDp *dp = g_ptr_array_index(dps, i);
		for (guint k = 0; k < G_N_ELEMENTS(values); k++) {
			g_autoptr(GError) error = NULL;
			g_autoptr(GVariant) raw = g_variant_ref_sink(g_variant_new_string(values[k]));
			if (wbd_tuya_meter_apply_dp(profile, dp, raw, all, &reading, &error))
				WBF_ASSERT(error == NULL);
			else if (error != NULL)
				wbf_check_error(error);
			if (dp->type == WBD_TUYA_DP_RAW) {
				g_autoptr(GError) local_error = NULL;
				g_autoptr(GBytes) record = wbd_tuya_dp_decode_record(dp, raw, &local_error);
				WBF_ASSERT((record == NULL) != (local_error == NULL));
				WBF_ASSERT(record == NULL || g_bytes_get_size(record) == dp->record_length);
				for (guint f = 0; record != NULL && f < dp->fields->len; f++) {
					gsize len;
					const guint8 *data = g_bytes_get_data(record, &len);
					WBF_ASSERT(isfinite(wbd_tuya_field_get_number(g_ptr_array_index(dp->fields, f), data, len)));
				}
			}
		}
	}
	wbd_tuya_meter_add_totals(profile, &reading);
	WBF_ASSERT(reading.n_phases <= WBD_METER_MAX_PHASES);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdTuyaProfile) profile = NULL;
	g_autoptr(GVariant) dps = NULL;
	GPtrArray *all;
	guint n_ids = 0;

	if (size > 16384)
		return 0;
	profile = wbd_tuya_profile_new_from_data("fuzz", (const gchar *)data, size, &error);
	if (profile == NULL) {
		wbf_check_error(error);
		WBF_ASSERT(error->code == WATTBUS_ERROR_INVALID_ARGUMENT);
		return 0;
	}
	WBF_ASSERT(error == NULL);
	all = wbd_tuya_profile_get_dps(profile);
	for (guint i = 0; i < all->len; i++) {
		const WbdTuyaDp *dp = g_ptr_array_index(all, i);
		guint64 id;
		WBF_ASSERT(g_ascii_string_to_unsigned(dp->id, 10, 1, 255, &id, NULL));
		WBF_ASSERT(wbd_tuya_profile_lookup_dp(profile, dp->id) == dp);
		WBF_ASSERT((dp->interface == NULL) == (dp->property == NULL));
		WBF_ASSERT(dp->type != WBD_TUYA_DP_ENUM || (dp->range != NULL && dp->range[0] != NULL));
		WBF_ASSERT(!dp->has_min || !dp->has_max || dp->min <= dp->max);
	}
	wbd_tuya_profile_get_update_dps(profile, &n_ids);
	WBF_ASSERT(n_ids <= size);
	dps = g_variant_ref_sink(g_variant_new_parsed("{'1': <true>, '2': <int64 -5>, '3': <'opened'>, "
						      "'4': <'1700000000'>, '5': <1.5e300>, '6': <int64 9223372036854775807>, "
						      "'7': <'-x'>, '18': <int64 100>, '19': <int64 86>}"));
	/* each DP's value through whatever the profile says */
	wbf_tuya_check_dps(dps, profile);
	wbf_tuya_check_records(profile);
	return 0;
}
