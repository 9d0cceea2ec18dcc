/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-tuya-profile.h"

/*
 * The shipped DP profiles (data/profiles/) and the profile format. Expected values are
 * the and the spec's: a plug reporting {"1": true, "18": 75, "19": 86,
 * "20": 2284} is on and draws 0.075 A and 8.6 W at 228.4 V.
 */

static WbdTuyaProfile *
load(const gchar *name)
{
	g_autoptr(GError) error = NULL;
	WbdTuyaProfile *profile = wbd_tuya_profile_load(name, &error);
	g_assert_no_error(error);
	g_assert_nonnull(profile);
	return profile;
}

static gdouble
to_double(const WbdTuyaDp *dp, GVariant *raw)
{
	g_autoptr(GVariant) sunk = g_variant_ref_sink(raw);
	g_autoptr(GVariant) value = wbd_tuya_dp_to_property(dp, sunk, G_VARIANT_TYPE_DOUBLE);
	g_assert_nonnull(value);
	return g_variant_get_double(value);
}

static void
test_metering_plug(void)
{
	g_autoptr(WbdTuyaProfile) profile = load("metering-plug");
	const WbdTuyaDp *on = wbd_tuya_profile_lookup_property(profile, "Outlet", "On");
	const WbdTuyaDp *current = wbd_tuya_profile_lookup_dp(profile, "18");
	const WbdTuyaDp *power = wbd_tuya_profile_lookup_dp(profile, "19");
	const WbdTuyaDp *voltage = wbd_tuya_profile_lookup_dp(profile, "20");
	g_auto(GStrv) ids = wbd_tuya_profile_dup_dp_ids(profile);
	const gchar *const expected_ids[] = {"1", "18", "19", "20", NULL};
	guint n = 0;
	const guint *update = wbd_tuya_profile_get_update_dps(profile, &n);
	WbdQuantity q;

	g_assert_cmpstr(wbd_tuya_profile_get_kind(profile), ==, "outlet");
	g_assert_nonnull(on);
	g_assert_cmpstr(on->id, ==, "1");
	g_assert_true(on->writable);
	g_assert_cmpint(on->type, ==, WBD_TUYA_DP_BOOL);
	g_assert_cmpfloat_with_epsilon(to_double(current, g_variant_new_int64(75)), 0.075, 1e-12);
	g_assert_cmpfloat_with_epsilon(to_double(power, g_variant_new_int64(86)), 8.6, 1e-12);
	g_assert_cmpfloat_with_epsilon(to_double(voltage, g_variant_new_int64(2284)), 228.4, 1e-12);
	g_assert_true(wbd_tuya_quantity_from_property(current->property, &q));
	g_assert_cmpint(q, ==, WBD_QUANTITY_CURRENT);
	g_assert_cmpstr(power->property, ==, "Power");
	g_assert_cmpstr(voltage->interface, ==, "ElectricityMeter");
	g_assert_false(power->writable);
	g_assert_true(g_strv_equal((const gchar *const *)ids, expected_ids));
	g_assert_cmpuint(n, ==, 3);
	g_assert_cmpuint(update[0], ==, 18);
	g_assert_cmpuint(update[2], ==, 20);
	g_assert_true(wbd_tuya_profile_uses_interface(profile, "ElectricityMeter"));
	g_assert_false(wbd_tuya_profile_uses_interface(profile, "WaterMeter"));
}

static void
test_other_plugs(void)
{
	g_autoptr(WbdTuyaProfile) v2 = load("metering-plug-v2");
	g_autoptr(WbdTuyaProfile) legacy = load("metering-plug-legacy");
	const WbdTuyaDp *energy = wbd_tuya_profile_lookup_dp(v2, "17");
	const WbdTuyaDp *relay = wbd_tuya_profile_lookup_dp(v2, "38");
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) bad = g_variant_ref_sink(g_variant_new_string("sometimes"));
	guint n = 99;

	/* an increment: raw only */
	g_assert_nonnull(energy);
	g_assert_cmpstr(energy->property, ==, "Energy");
	g_assert_true(energy->increment);
	g_assert_cmpuint(energy->rated_power, ==, 3680);
	g_assert_true(wbd_tuya_profile_get_increment(v2) == energy);
	g_assert_null(wbd_tuya_profile_get_increment(legacy));
	g_assert_false(wbd_tuya_dp_check_raw(relay, bad, &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(error->message, "off, on, memory"));
	g_assert_cmpfloat_with_epsilon(to_double(wbd_tuya_profile_lookup_property(legacy, "ElectricityMeter", "Power"),
						 g_variant_new_int64(86)),
				       8.6, 1e-12);
	g_assert_cmpstr(wbd_tuya_profile_lookup_property(legacy, "ElectricityMeter", "Voltage")->id, ==, "6");
	wbd_tuya_profile_get_update_dps(legacy, &n);
	g_assert_cmpuint(n, ==, 0);
}

static GVariant *
from_property(const WbdTuyaDp *dp, GVariant *value, GError **error)
{
	g_autoptr(GVariant) sunk = g_variant_ref_sink(value);
	return wbd_tuya_dp_from_property(dp, sunk, error);
}

static void
test_water_meter(void)
{
	g_autoptr(WbdTuyaProfile) profile = load("water-meter");
	const gchar *const props[] = {"Flow", "MonthlyTotal", "DailyTotal", "Switch", "DayFirstReading",
				      "DayLastReading", "DayFirstTime", "DayLastTime", "Valve",
				      "MonthFirstReading", "MonthLastReading", "MonthFirstTime", "MonthLastTime",
				      "ColdSharedUsage", "ColdSharingType", "HotSharedUsage", "HotSharingType",
				      "ValveOpenness"};
	const WbdTuyaDp *valve = wbd_tuya_profile_lookup_property(profile, "WaterMeter", "Valve");
	const WbdTuyaDp *openness = wbd_tuya_profile_lookup_property(profile, "WaterMeter", "ValveOpenness");
	const WbdTuyaDp *cold = wbd_tuya_profile_lookup_property(profile, "WaterMeter", "ColdSharingType");
	const WbdTuyaDp *time_dp = wbd_tuya_profile_lookup_property(profile, "WaterMeter", "DayFirstTime");
	g_autoptr(GVariant) raw_time = g_variant_ref_sink(g_variant_new_string("1700000000"));
	g_autoptr(GVariant) us = NULL;
	g_autoptr(GVariant) raw = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_cmpstr(wbd_tuya_profile_get_kind(profile), ==, "water-meter");
	/* the DP table of mqtt-clouds.md §5: DP n feeds the n-th property */
	for (guint i = 0; i < G_N_ELEMENTS(props); i++) {
		g_autofree gchar *id = g_strdup_printf("%u", i + 1);
		const WbdTuyaDp *dp = wbd_tuya_profile_lookup_property(profile, "WaterMeter", props[i]);
		g_assert_nonnull(dp);
		g_assert_cmpstr(dp->id, ==, id);
		g_assert_cmpint(dp->writable, ==, i + 1 == 4 || i + 1 == 9 || i + 1 == 15 || i + 1 == 17 || i + 1 == 18);
	}
	/* litres to m³ */
	g_assert_cmpfloat_with_epsilon(to_double(wbd_tuya_profile_lookup_dp(profile, "1"), g_variant_new_int64(123456)),
				       123.456, 1e-9);
	/* a Unix time in a string to µs */
	us = wbd_tuya_dp_to_property(time_dp, raw_time, G_VARIANT_TYPE_UINT64);
	g_assert_cmpuint(g_variant_get_uint64(us), ==, G_GUINT64_CONSTANT(1700000000000000));

	raw = from_property(valve, g_variant_new_string("closed"), &error);
	g_assert_no_error(error);
	g_assert_cmpstr(g_variant_get_string(raw, NULL), ==, "closed");
	g_clear_pointer(&raw, g_variant_unref);
	g_assert_null(from_property(valve, g_variant_new_string("opening"), &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(error->message, "opened, closed"));
	g_clear_error(&error);
	g_assert_null(from_property(cold, g_variant_new_string("bogus"), &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	raw = from_property(cold, g_variant_new_string("square_area"), &error);
	g_assert_no_error(error);
	g_clear_pointer(&raw, g_variant_unref);
	g_assert_null(from_property(openness, g_variant_new_uint32(101), &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(error->message, "from 0 to 100, not 101"));
	g_clear_error(&error);
	raw = from_property(openness, g_variant_new_uint32(100), &error);
	g_assert_no_error(error);
	g_assert_cmpint(g_variant_get_int64(raw), ==, 100);
	g_clear_pointer(&raw, g_variant_unref);
	/* read-only */
	g_assert_null(from_property(wbd_tuya_profile_lookup_dp(profile, "3"), g_variant_new_double(1), &error));
	g_assert_nonnull(strstr(error->message, "read-only"));
}

static void
check_bad(const gchar *text, const gchar *expected)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdTuyaProfile) profile = wbd_tuya_profile_new_from_data("bad", text, strlen(text), &error);
	g_assert_null(profile);
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_test_message("%s", error->message);
	g_assert_nonnull(strstr(error->message, expected));
}

static void
test_bad_profiles(void)
{
	check_bad("[dp 1]\ntype=bool\n", "no [profile] group");
	check_bad("[profile]\n[dp 1]\ntype=float\n", "[dp 1]: type must be");
	check_bad("[profile]\n[dp 1]\ntype=bool\ncolour=red\n", "unknown key 'colour'");
	check_bad("[profile]\n[dp 0]\ntype=bool\n", "from 1 to 255");
	check_bad("[profile]\n[dp x]\ntype=bool\n", "from 1 to 255");
	check_bad("[profile]\n[dp 2]\ntype=enum\n", "range=");
	check_bad("[profile]\n[dp 2]\ntype=enum\nrange=a;b\nwritable-values=c\n", "taken from range");
	check_bad("[profile]\n[dp 2]\ntype=value\nmin=5\nmax=1\n", "min is larger");
	check_bad("[profile]\n[dp 2]\ntype=value\nscale=12\n", "scale");
	check_bad("[profile]\n[dp 2]\ntype=value\naccess=sometimes\n", "access");
	check_bad("[profile]\n[dp 2]\ntype=value\nproperty=WaterMeter.Colour\n", "property must be");
	check_bad("[profile]\n[dp 2]\ntype=value\nproperty=WaterMeter.Measured\n", "property must be");
	check_bad("[profile]\n[dp 2]\ntype=bool\nproperty=ElectricityMeter.Power\n", "does not fit");
	check_bad("[profile]\n[dp 2]\ntype=value\nproperty=Outlet.On\n[dp 3]\ntype=bool\nproperty=Outlet.On\n",
		  "a second DP");
	check_bad("[profile]\n[dp 2]\ntype=bool\n[dp 02]\ntype=bool\n", "a second DP");
	check_bad("[profile]\nupdate-dps=18;x\n", "update-dps");
	check_bad("[profile]\n[other]\n", "unknown group");
	check_bad("not a key file", "not a valid key file");
}

static void
test_search_path(void)
{
	g_auto(GStrv) path = wbd_tuya_profile_get_search_path();
	g_autoptr(GError) error = NULL;

	/* the test environment's folder first, the installed ones last */
	g_assert_cmpstr(path[0], ==, g_getenv("WATTBUS_PROFILES_DIR"));
	g_assert_true(g_str_has_suffix(path[g_strv_length(path) - 1], "/wattbus/profiles"));
	g_assert_null(wbd_tuya_profile_load("no-such-profile", &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(error->message, "no-such-profile.profile"));
	g_clear_error(&error);
	for (guint i = 0; i < 4; i++) {
		const gchar *bad[] = {"../metering-plug", "a/b", "", ".hidden"};
		g_assert_false(wbd_tuya_profile_name_is_valid(bad[i]));
		g_assert_null(wbd_tuya_profile_load(bad[i], &error));
		g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
		g_clear_error(&error);
	}
	g_assert_true(wbd_tuya_profile_name_is_valid("metering-plug-v2"));
}

int
main(int argc, char **argv)
{
	const gchar *data = g_getenv("WATTBUS_TEST_DATA");
	g_autofree gchar *profiles = NULL;

	g_test_init(&argc, &argv, NULL);
	g_assert_nonnull(data);
	/* the source tree's profiles, as tests/data/../../data/profiles */
	profiles = g_build_filename(data, "..", "..", "data", "profiles", NULL);
	g_setenv("WATTBUS_PROFILES_DIR", profiles, TRUE);
	g_test_add_func("/tuya/profile/metering-plug", test_metering_plug);
	g_test_add_func("/tuya/profile/other-plugs", test_other_plugs);
	g_test_add_func("/tuya/profile/water-meter", test_water_meter);
	g_test_add_func("/tuya/profile/bad", test_bad_profiles);
	g_test_add_func("/tuya/profile/search-path", test_search_path);
	return g_test_run();
}
