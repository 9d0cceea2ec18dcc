/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <wattbus-glib.h>

#include "fuzz-tuya.h"
#include "wbd-tuya-codec.h"
#include "wbd-tuya-profile.h"



/* the DPs of a payload, as the driver would map them (by default with a water-meter profile) */
static const gchar water_profile[] =
    "[profile]\nkind=water-meter\n"
    "[dp 1]\ntype=value\nscale=3\nproperty=WaterMeter.Flow\n"
    "[dp 2]\ntype=value\nscale=-2\nproperty=ElectricityMeter.Power\n"
    "[dp 4]\ntype=bool\naccess=rw\nproperty=WaterMeter.Switch\n"
    "[dp 7]\ntype=string\nunit=s\nproperty=WaterMeter.DayFirstTime\n"
    "[dp 9]\ntype=enum\nrange=opened;closed\naccess=rw\nproperty=WaterMeter.Valve\n"
    "[dp 18]\ntype=value\nmin=0\nmax=100\naccess=rw\nproperty=WaterMeter.ValveOpenness\n"
    "[dp 20]\ntype=value\nproperty=Outlet.On\n";

void
wbf_tuya_check_dps(GVariant *dps, WbdTuyaProfile *profile)
{
	static WbdTuyaProfile *water = NULL;
	GVariantIter iter;
	const gchar *id;
	GVariant *raw;

	if (water == NULL) {
		g_autoptr(GError) error = NULL;
		water = wbd_tuya_profile_new_from_data("fuzz", water_profile, sizeof(water_profile) - 1, &error);
		WBF_ASSERT(water != NULL);
	}
	if (profile == NULL)
		profile = water;
	WBF_ASSERT(g_variant_is_of_type(dps, G_VARIANT_TYPE("a{sv}")));
	WBF_ASSERT(g_variant_n_children(dps) <= WBD_TUYA_MAX_DPS);
	g_variant_iter_init(&iter, dps);
	while (g_variant_iter_next(&iter, "{&sv}", &id, &raw)) {
		g_autoptr(GVariant) value = raw;
		const WbdTuyaDp *dp = wbd_tuya_profile_lookup_dp(profile, id);
		const GVariantType *types[] = {G_VARIANT_TYPE_BOOLEAN, G_VARIANT_TYPE_DOUBLE,
					       G_VARIANT_TYPE_UINT32, G_VARIANT_TYPE_UINT64,
					       G_VARIANT_TYPE_STRING};
		gdouble number;

		WBF_ASSERT(id[0] != '\0' && g_utf8_validate(id, -1, NULL));
		WBF_ASSERT(g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN) ||
				g_variant_is_of_type(value, G_VARIANT_TYPE_INT64) ||
				g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE) ||
				g_variant_is_of_type(value, G_VARIANT_TYPE_STRING));
		if (dp == NULL)
			continue;
		if (wbd_tuya_dp_get_number(dp, value, &number))
			WBF_ASSERT(isfinite(number));
		for (guint i = 0; i < G_N_ELEMENTS(types); i++) {
			g_autoptr(GVariant) converted = wbd_tuya_dp_to_property(dp, value, types[i]);
			g_autoptr(GError) error = NULL;
			g_autoptr(GVariant) back = NULL;
			if (converted == NULL)
				continue;
			WBF_ASSERT(g_variant_is_of_type(converted, types[i]));
			WBF_ASSERT(!g_variant_is_floating(converted));
			if (g_variant_is_of_type(converted, G_VARIANT_TYPE_DOUBLE))
				WBF_ASSERT(isfinite(g_variant_get_double(converted)));
			/* the way back, as a Set method takes it */
			back = wbd_tuya_dp_from_property(dp, converted, &error);
			if (back == NULL)
				wbf_check_error(error);
		}
		{
			g_autoptr(GError) error = NULL;
			if (!wbd_tuya_dp_check_raw(dp, value, &error))
				wbf_check_error(error);
		}
	}
}
