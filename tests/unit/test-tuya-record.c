/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <glib/gstdio.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-tuya-profile.h"
#include "wbd-tuya-energy.h"
#include "wbd-tuya-record.h"

/*
 * Raw (base64) DPs of energy meters and the profiles that decode them. Expected values
 * are those of shared/fixtures/tuya/meters.json and of the worked decodes in
 * shared/specs/tuya-gateway-and-meters.md §4.3 and §4.4.
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

static WbdTuyaProfile *
parse(const gchar *text)
{
	g_autoptr(GError) error = NULL;
	WbdTuyaProfile *profile = wbd_tuya_profile_new_from_data("test", text, strlen(text), &error);
	g_assert_no_error(error);
	g_assert_nonnull(profile);
	return profile;
}

/* feeds {id: value} through the profile as the device does */
static gboolean
apply(WbdTuyaProfile *profile, GHashTable *dps, WbdMeterReading *reading, const gchar *id, GVariant *value,
      GError **error)
{
	const WbdTuyaDp *dp = wbd_tuya_profile_lookup_dp(profile, id);
	gboolean changed;
	g_assert_nonnull(dp);
	g_hash_table_replace(dps, g_strdup(id), g_variant_ref_sink(value));
	changed = wbd_tuya_meter_apply_dp(profile, dp, g_hash_table_lookup(dps, id), dps, reading, error);
	wbd_tuya_meter_add_totals(profile, reading);
	return changed;
}

static GHashTable *
new_dps(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_variant_unref);
}

static void
test_single_phase(void)
{
	g_autoptr(WbdTuyaProfile) profile = load("din-meter-1p");
	g_autoptr(GHashTable) dps = new_dps();
	g_autoptr(GError) error = NULL;
	WbdMeterReading r;

	wbd_meter_reading_init(&r);
	g_assert_true(wbd_tuya_profile_uses_interface(profile, "ElectricityMeter"));
	g_assert_cmpuint(wbd_tuya_profile_get_n_phases(profile), ==, 0);
	g_assert_true(apply(profile, dps, &r, "1", g_variant_new_int64(152347), &error));
	g_assert_true(apply(profile, dps, &r, "6", g_variant_new_string("COwABY8AARA="), &error));
	g_assert_no_error(error);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_ENERGY], 1523470, 1e-6);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_VOLTAGE], 228.4, 1e-9);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_CURRENT], 1.423, 1e-9);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_POWER], 272, 1e-9);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_APPARENT_POWER], 325.0, 0.05);
	g_assert_false(wbd_meter_reading_has(&r, WBD_QUANTITY_ENERGY_EXPORTED));
	g_assert_cmpuint(r.n_phases, ==, 0);

	/* one byte too many, one too few: refused whole, naming the DP; nothing changes */
	g_assert_false(apply(profile, dps, &r, "6", g_variant_new_string("CWkAARgAACoA"), &error));
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, "DP 6 (phase_a)"));
	g_assert_nonnull(strstr(error->message, "9 bytes"));
	g_assert_nonnull(strstr(error->message, "expects 8"));
	g_clear_error(&error);
	g_assert_false(apply(profile, dps, &r, "6", g_variant_new_string("CWkAARgAAA=="), &error));
	g_assert_nonnull(strstr(error->message, "7 bytes"));
	g_clear_error(&error);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_POWER], 272, 1e-9);
	/* not base64, not a string */
	g_assert_false(apply(profile, dps, &r, "6", g_variant_new_string("COwAB Y8AARA="), &error));
	g_assert_nonnull(strstr(error->message, "not base64"));
	g_clear_error(&error);
	g_assert_false(apply(profile, dps, &r, "6", g_variant_new_string("COwABY8AARA"), &error));
	g_clear_error(&error);
	g_assert_false(apply(profile, dps, &r, "6", g_variant_new_int64(8), &error));
	g_assert_nonnull(strstr(error->message, "string"));
	g_clear_error(&error);
	/* the spec's other 8-byte records */
	g_assert_true(apply(profile, dps, &r, "6", g_variant_new_string("CV4AAPoAAC0="), &error));
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_VOLTAGE], 239.8, 1e-9);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_CURRENT], 0.25, 1e-9);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_POWER], 45, 1e-9);
	g_assert_true(apply(profile, dps, &r, "6", g_variant_new_string("CQAAFAMABH4="), &error));
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_CURRENT], 5.123, 1e-9);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_POWER], 1150, 1e-9);
	g_assert_no_error(error);
}

static void
test_three_phase(void)
{
	g_autoptr(WbdTuyaProfile) profile = load("din-meter-3p");
	g_autoptr(GHashTable) dps = new_dps();
	g_autoptr(GError) error = NULL;
	const gchar *records[] = {"CWkAARgAACo=", "CYYAAlsAAD8=", "CYoAAbkAACg="};
	const gdouble v[] = {240.9, 243.8, 244.2}, i[] = {0.28, 0.603, 0.441}, p[] = {42, 63, 40};
	WbdMeterReading r;

	wbd_meter_reading_init(&r);
	g_assert_cmpuint(wbd_tuya_profile_get_n_phases(profile), ==, 3);
	apply(profile, dps, &r, "1", g_variant_new_int64(3296), &error);
	apply(profile, dps, &r, "2", g_variant_new_int64(0), &error);
	/* two phases known: no total yet */
	for (guint k = 0; k < 3; k++) {
		g_autofree gchar *id = g_strdup_printf("%u", 6 + k);
		g_assert_false(k == 2 && wbd_meter_reading_has(&r, WBD_QUANTITY_POWER));
		g_assert_true(apply(profile, dps, &r, id, g_variant_new_string(records[k]), &error));
	}
	g_assert_no_error(error);
	for (guint k = 0; k < 3; k++) {
		g_assert_cmpfloat_with_epsilon(r.phase[WBD_QUANTITY_VOLTAGE][k], v[k], 1e-9);
		g_assert_cmpfloat_with_epsilon(r.phase[WBD_QUANTITY_CURRENT][k], i[k], 1e-9);
		g_assert_cmpfloat_with_epsilon(r.phase[WBD_QUANTITY_POWER][k], p[k], 1e-9);
	}
	g_assert_cmpuint(r.n_phases, ==, 3);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_POWER], 145, 1e-9);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_ENERGY], 32960, 1e-6);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_ENERGY_EXPORTED], 0, 1e-9);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_VOLTAGE], (240.9 + 243.8 + 244.2) / 3, 1e-9);
}

static void
test_signed_clamp(void)
{
	g_autoptr(WbdTuyaProfile) profile = load("clamp-meter-3p-signed");
	g_autoptr(GHashTable) dps = new_dps();
	g_autoptr(GError) error = NULL;
	WbdMeterReading r;

	wbd_meter_reading_init(&r);
	apply(profile, dps, &r, "6", g_variant_new_string("AAAJLwAyKAALigABnAALy2ID"), &error);
	apply(profile, dps, &r, "7", g_variant_new_string("AAAJJgAOdAADUgAAeAADYmIA"), &error);
	apply(profile, dps, &r, "8", g_variant_new_string("AAAJOAAHOgABpAAAPAABtWAA"), &error);
	g_assert_no_error(error);
	/* phase A exports: current and power negative, reactive power and PF not */
	g_assert_cmpfloat_with_epsilon(r.phase[WBD_QUANTITY_VOLTAGE][0], 235.1, 1e-9);
	g_assert_cmpfloat_with_epsilon(r.phase[WBD_QUANTITY_CURRENT][0], -12.84, 1e-9);
	g_assert_cmpfloat_with_epsilon(r.phase[WBD_QUANTITY_POWER][0], -2954, 1e-9);
	g_assert_cmpfloat_with_epsilon(r.phase[WBD_QUANTITY_REACTIVE_POWER][0], 412, 1e-9);
	g_assert_cmpfloat_with_epsilon(r.phase[WBD_QUANTITY_APPARENT_POWER][0], 3019, 1e-9);
	g_assert_cmpfloat_with_epsilon(r.phase[WBD_QUANTITY_POWER_FACTOR][0], 0.98, 1e-9);
	g_assert_cmpfloat_with_epsilon(r.phase[WBD_QUANTITY_POWER][1], 850, 1e-9);
	g_assert_cmpfloat_with_epsilon(r.phase[WBD_QUANTITY_CURRENT][2], 1.85, 1e-9);
	g_assert_cmpfloat_with_epsilon(r.phase[WBD_QUANTITY_POWER_FACTOR][2], 0.96, 1e-9);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_POWER], -1684, 1e-9);
}

/* little-endian, signed, hex: EASEM-D's DP 101 (§4.4), written as a profile here */
static void
test_little_endian(void)
{
	g_autoptr(WbdTuyaProfile) profile =
	    parse("[profile]\n[dp 101]\ntype=raw\nlength=13\n"
		  "[field 101 v]\noffset=0\nlength=4\nbyte-order=little\nscale=1\nproperty=ElectricityMeter.Voltage\n"
		  "[field 101 i]\noffset=4\nlength=4\nbyte-order=little\nsigned=true\nscale=3\n"
		  "property=ElectricityMeter.Current\n"
		  "[field 101 p]\noffset=8\nlength=4\nbyte-order=little\nsigned=true\nproperty=ElectricityMeter.Power\n"
		  "[dp 102]\ntype=raw\nencoding=hex\nlength=2\n"
		  "[field 102 f]\noffset=0\nlength=2\nsigned=true\nproperty=ElectricityMeter.ReactivePower\n");
	g_autoptr(GHashTable) dps = new_dps();
	g_autoptr(GError) error = NULL;
	WbdMeterReading r;

	wbd_meter_reading_init(&r);
	g_assert_true(apply(profile, dps, &r, "101", g_variant_new_string("AQkAAJbn//+G+v//AA=="), &error));
	g_assert_no_error(error);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_VOLTAGE], 230.5, 1e-9);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_CURRENT], -6.25, 1e-9);
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_POWER], -1402, 1e-9);
	g_assert_true(apply(profile, dps, &r, "102", g_variant_new_string("ff38"), &error));
	g_assert_cmpfloat_with_epsilon(r.values[WBD_QUANTITY_REACTIVE_POWER], -200, 1e-9);
	g_assert_false(apply(profile, dps, &r, "102", g_variant_new_string("ff3"), &error));
	g_clear_error(&error);
	g_assert_false(apply(profile, dps, &r, "102", g_variant_new_string("zz38"), &error));
	g_clear_error(&error);
	g_assert_false(apply(profile, dps, &r, "102", g_variant_new_string("ff3800"), &error));
	g_assert_nonnull(strstr(error->message, "3 bytes"));
}

/* a channel's sign from another DP, pushed before or with it */
static void
test_sign_from_enum(void)
{
	g_autoptr(WbdTuyaProfile) profile = load("clamp-meter-2ch");
	g_autoptr(GHashTable) dps = new_dps();
	g_autoptr(GError) error = NULL;
	WbdMeterReading r;

	wbd_meter_reading_init(&r);
	g_assert_cmpuint(wbd_tuya_profile_get_n_phases(profile), ==, 2);
	g_hash_table_replace(dps, g_strdup("102"), g_variant_ref_sink(g_variant_new_string("REVERSE")));
	apply(profile, dps, &r, "101", g_variant_new_int64(3120), &error);
	g_assert_cmpfloat_with_epsilon(r.phase[WBD_QUANTITY_POWER][0], -312, 1e-9);
	g_hash_table_replace(dps, g_strdup("102"), g_variant_ref_sink(g_variant_new_string("FORWARD")));
	apply(profile, dps, &r, "101", g_variant_new_int64(11963), &error);
	g_assert_cmpfloat_with_epsilon(r.phase[WBD_QUANTITY_POWER][0], 1196.3, 1e-9);
	g_assert_no_error(error);
}

static void
check_bad(const gchar *text, const gchar *message)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdTuyaProfile) profile = wbd_tuya_profile_new_from_data("bad", text, strlen(text), &error);
	g_assert_null(profile);
	g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	if (strstr(error->message, message) == NULL)
		g_error("'%s' does not contain '%s'", error->message, message);
}

static void
test_bad_profiles(void)
{
	const gchar *raw = "[profile]\n[dp 6]\ntype=raw\nlength=8\n";
	g_autofree gchar *overflow = g_strconcat(raw, "[field 6 v]\noffset=6\nlength=3\n"
						      "property=ElectricityMeter.Voltage\n", NULL);
	g_autofree gchar *twice = g_strconcat(raw, "[field 6 v]\noffset=0\nlength=2\nproperty=ElectricityMeter.Voltage\n"
						   "[field 6 w]\noffset=2\nlength=2\nproperty=ElectricityMeter.Voltage\n",
					      NULL);
	g_autofree gchar *flag = g_strconcat(raw, "[field 6 v]\noffset=0\nlength=2\nnegative-if-bit=8:0\n"
						  "property=ElectricityMeter.Voltage\n", NULL);
	g_autofree gchar *target = g_strconcat(raw, "[field 6 v]\noffset=0\nlength=2\nproperty=Outlet.On\n", NULL);

	check_bad("[profile]\n[dp 6]\ntype=raw\n", "length=N");
	check_bad("[profile]\n[dp 6]\ntype=raw\nlength=65\n", "length=N");
	check_bad("[profile]\n[dp 6]\ntype=raw\nlength=8\nencoding=uu\n", "encoding");
	check_bad("[profile]\n[dp 6]\ntype=value\nlength=8\n", "for raw DPs");
	check_bad("[profile]\n[dp 6]\ntype=raw\nlength=8\nproperty=ElectricityMeter.Power\n", "does not fit");
	check_bad("[profile]\n[field 6 v]\noffset=0\nlength=2\n", "type raw");
	check_bad(overflow, "ends after the record");
	check_bad(twice, "a second DP or field");
	check_bad(flag, "negative-if-bit");
	check_bad(target, "ElectricityMeter.<quantity>");
	check_bad("[profile]\n[dp 6]\ntype=value\nproperty=ElectricityMeter.Power\nphase=4\n", "phase");
	check_bad("[profile]\n[dp 6]\ntype=value\nphase=1\n", "for ElectricityMeter");
	check_bad("[profile]\n[dp 6]\ntype=value\nproperty=ElectricityMeter.Power\nnegative-when=x\n", "DP:VALUE");
	check_bad("[profile]\n[dp 6]\ntype=value\nproperty=ElectricityMeter.Power\nincrement=true\n", "increment");
	check_bad("[profile]\n[dp 6]\ntype=value\nproperty=ElectricityMeter.Power\nphase=1\n"
		  "[dp 7]\ntype=value\nproperty=ElectricityMeter.Power\nphase=1\n",
		  "a second DP");
}

/* the counter rules of §4.7, and the file across a restart */
static void
test_energy(void)
{
	g_autofree gchar *dir = g_dir_make_tmp("wattbus-energy-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename(dir, "tuya", "plug.energy", NULL);
	g_autoptr(WbdTuyaEnergy) energy = wbd_tuya_energy_new(path);
	g_autoptr(WbdTuyaEnergy) again = NULL;
	g_autoptr(GError) error = NULL;
	gdouble total = -1;

	g_assert_false(wbd_tuya_energy_get_total(energy, &total));
	g_assert_cmpint(wbd_tuya_energy_add(energy, 15, 15, 1700001800, 1, 0, &error), ==, WBD_TUYA_ENERGY_COUNTED);
	g_assert_no_error(error);
	/* the same (t, value) again; the same value at another time */
	g_assert_cmpint(wbd_tuya_energy_add(energy, 15, 15, 1700001800, 2, 0, NULL), ==, WBD_TUYA_ENERGY_DUPLICATE);
	g_assert_cmpint(wbd_tuya_energy_add(energy, 15, 15, 1700003600, 3, 0, NULL), ==, WBD_TUYA_ENERGY_COUNTED);
	g_assert_cmpint(wbd_tuya_energy_add(energy, 0, 0, 1700005400, 4, 0, NULL), ==, WBD_TUYA_ENERGY_ZERO);
	/* 10 kWh in half an hour from a 3680 W plug; 1 kWh is fine for a 3 kW rating over an hour */
	g_assert_cmpint(wbd_tuya_energy_add(energy, 10000, 10000, 1700005400, 5, 0, NULL), ==, WBD_TUYA_ENERGY_IMPLAUSIBLE);
	g_assert_cmpint(wbd_tuya_energy_add(energy, 1000, 1000, 1700007200, 6, 100, NULL), ==, WBD_TUYA_ENERGY_IMPLAUSIBLE);
	g_assert_cmpint(wbd_tuya_energy_add(energy, 1000, 1000, 1700007200, 6, 3000, NULL), ==, WBD_TUYA_ENERGY_COUNTED);
	g_assert_cmpint(wbd_tuya_energy_add(energy, -3, -3, 1700009000, 7, 0, NULL), ==, WBD_TUYA_ENERGY_IMPLAUSIBLE);
	/* without a time: the receive time, the same value within 2 s is the same push */
	g_assert_cmpint(wbd_tuya_energy_add(energy, 7, 7, -1, 1700010000, 0, NULL), ==, WBD_TUYA_ENERGY_COUNTED);
	g_assert_cmpint(wbd_tuya_energy_add(energy, 7, 7, -1, 1700010002, 0, NULL), ==, WBD_TUYA_ENERGY_DUPLICATE);
	g_assert_cmpint(wbd_tuya_energy_add(energy, 7, 7, -1, 1700010030, 0, NULL), ==, WBD_TUYA_ENERGY_COUNTED);
	g_assert_true(wbd_tuya_energy_get_total(energy, &total));
	g_assert_cmpfloat(total, ==, 15 + 15 + 1000 + 7 + 7);

	/* a restart: the total and the last counted push come back */
	again = wbd_tuya_energy_new(path);
	g_assert_true(wbd_tuya_energy_get_total(again, &total));
	g_assert_cmpfloat(total, ==, 1044);
	g_assert_cmpint(wbd_tuya_energy_add(again, 7, 7, -1, 1700010031, 0, NULL), ==, WBD_TUYA_ENERGY_DUPLICATE);
	g_assert_cmpint(wbd_tuya_energy_add(again, 20, 20.5, 1700012000, 1700012000, 0, NULL), ==, WBD_TUYA_ENERGY_COUNTED);
	g_clear_pointer(&again, wbd_tuya_energy_free);
	again = wbd_tuya_energy_new(path);
	g_assert_true(wbd_tuya_energy_get_total(again, &total));
	g_assert_cmpfloat(total, ==, 1064.5);

	/* a damaged file is ignored with a warning, not trusted */
	g_assert_true(g_file_set_contents(path, "[energy]\ntotal-wh=-5\n", -1, NULL));
	g_test_expect_message("Wattbus-Tuya", G_LOG_LEVEL_WARNING, "*no valid total-wh*");
	g_clear_pointer(&again, wbd_tuya_energy_free);
	again = wbd_tuya_energy_new(path);
	g_test_assert_expected_messages();
	g_assert_false(wbd_tuya_energy_get_total(again, &total));
	g_remove(path);
	g_autofree gchar *sub = g_path_get_dirname(path);
	g_rmdir(sub);
	g_rmdir(dir);
}

int
main(int argc, char **argv)
{
	const gchar *data = g_getenv("WATTBUS_TEST_DATA");
	g_autofree gchar *profiles = NULL;

	g_test_init(&argc, &argv, NULL);
	g_assert_nonnull(data);
	profiles = g_build_filename(data, "..", "..", "data", "profiles", NULL);
	g_setenv("WATTBUS_PROFILES_DIR", profiles, TRUE);
	g_test_add_func("/tuya/record/single-phase", test_single_phase);
	g_test_add_func("/tuya/record/three-phase", test_three_phase);
	g_test_add_func("/tuya/record/signed-clamp", test_signed_clamp);
	g_test_add_func("/tuya/record/little-endian", test_little_endian);
	g_test_add_func("/tuya/record/sign-from-enum", test_sign_from_enum);
	g_test_add_func("/tuya/record/bad", test_bad_profiles);
	g_test_add_func("/tuya/energy/increments", test_energy);
	return g_test_run();
}
