/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <wattbus-glib.h>

#include "fuzz-tuya.h"
#include "wbd-tuya-codec.h"
#include "wbd-tuya-profile.h"

void
wbf_tuya_fail(const gchar *file, gint line, const gchar *expr)
{
	fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, expr);
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* a critical or a warning from hostile input is a bug: make it a crash */
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
	return 0;
}

/* an error for D-Bus and LastError: our domain, and a message D-Bus can carry */
void
wbf_tuya_check_error(const GError *error)
{
	WBF_TUYA_ASSERT(error != NULL);
	WBF_TUYA_ASSERT(error->domain == WATTBUS_ERROR);
	WBF_TUYA_ASSERT(error->message != NULL && error->message[0] != '\0');
	WBF_TUYA_ASSERT(g_utf8_validate(error->message, -1, NULL));
}

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
		WBF_TUYA_ASSERT(water != NULL);
	}
	if (profile == NULL)
		profile = water;
	WBF_TUYA_ASSERT(g_variant_is_of_type(dps, G_VARIANT_TYPE("a{sv}")));
	WBF_TUYA_ASSERT(g_variant_n_children(dps) <= WBD_TUYA_MAX_DPS);
	g_variant_iter_init(&iter, dps);
	while (g_variant_iter_next(&iter, "{&sv}", &id, &raw)) {
		g_autoptr(GVariant) value = raw;
		const WbdTuyaDp *dp = wbd_tuya_profile_lookup_dp(profile, id);
		const GVariantType *types[] = {G_VARIANT_TYPE_BOOLEAN, G_VARIANT_TYPE_DOUBLE,
					       G_VARIANT_TYPE_UINT32, G_VARIANT_TYPE_UINT64,
					       G_VARIANT_TYPE_STRING};
		gdouble number;

		WBF_TUYA_ASSERT(id[0] != '\0' && g_utf8_validate(id, -1, NULL));
		WBF_TUYA_ASSERT(g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN) ||
				g_variant_is_of_type(value, G_VARIANT_TYPE_INT64) ||
				g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE) ||
				g_variant_is_of_type(value, G_VARIANT_TYPE_STRING));
		if (dp == NULL)
			continue;
		if (wbd_tuya_dp_get_number(dp, value, &number))
			WBF_TUYA_ASSERT(isfinite(number));
		for (guint i = 0; i < G_N_ELEMENTS(types); i++) {
			g_autoptr(GVariant) converted = wbd_tuya_dp_to_property(dp, value, types[i]);
			g_autoptr(GError) error = NULL;
			g_autoptr(GVariant) back = NULL;
			if (converted == NULL)
				continue;
			WBF_TUYA_ASSERT(g_variant_is_of_type(converted, types[i]));
			WBF_TUYA_ASSERT(!g_variant_is_floating(converted));
			if (g_variant_is_of_type(converted, G_VARIANT_TYPE_DOUBLE))
				WBF_TUYA_ASSERT(isfinite(g_variant_get_double(converted)));
			/* the way back, as a Set method takes it */
			back = wbd_tuya_dp_from_property(dp, converted, &error);
			if (back == NULL)
				wbf_tuya_check_error(error);
		}
		{
			g_autoptr(GError) error = NULL;
			if (!wbd_tuya_dp_check_raw(dp, value, &error))
				wbf_tuya_check_error(error);
		}
	}
}
