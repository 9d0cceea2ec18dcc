/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "fuzz-tuya.h"
#include "wbd-tuya-codec.h"
#include "wbd-tuya-profile.h"

/*
 * A profile file (users write them), then a few DP values through it. A profile
 * either loads with sane DPs or is refused with an InvalidArgument error.
 */
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
	return 0;
}
