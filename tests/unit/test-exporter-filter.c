/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <wattbus-glib.h>

#include "wbd-exporter-filter.h"
#include "wbd-spool.h"

/* which readings an exporter takes, and when; the clock is passed in */

#define S(x) ((gint64)(x)*G_USEC_PER_SEC)

static GHashTable *
settings_new(const gchar *first_key, ...)
{
	GHashTable *settings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	va_list args;
	va_start(args, first_key);
	for (const gchar *key = first_key; key != NULL; key = va_arg(args, const gchar *))
		g_hash_table_insert(settings, g_strdup(key), g_strdup(va_arg(args, const gchar *)));
	va_end(args);
	return settings;
}

static WbdExporterFilter *
filter_new(const gchar *first_key, ...)
{
	g_autoptr(GHashTable) settings =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GError) error = NULL;
	WbdExporterFilter *filter;
	va_list args;
	va_start(args, first_key);
	for (const gchar *key = first_key; key != NULL; key = va_arg(args, const gchar *))
		g_hash_table_insert(settings, g_strdup(key), g_strdup(va_arg(args, const gchar *)));
	va_end(args);
	filter = wbd_exporter_filter_new(settings, &error);
	g_assert_no_error(error);
	return filter;
}

/* pushes a change given as GVariant text; returns "device@seconds {json}" lines */
static gchar *
push(WbdExporterFilter *filter, const gchar *device, gint64 time_us, const gchar *text, gint64 now)
{
	g_autoptr(GVariant) changes = g_variant_ref_sink(g_variant_new_parsed(text));
	g_autoptr(GPtrArray) out =
	    g_ptr_array_new_with_free_func((GDestroyNotify)wbd_spool_record_free);
	g_autoptr(GString) str = g_string_new(NULL);
	wbd_exporter_filter_push(filter, device, time_us, changes, now, out);
	for (guint i = 0; i < out->len; i++) {
		WbdSpoolRecord *r = g_ptr_array_index(out, i);
		g_string_append_printf(str,
				       "%s%s@%.3f %s",
				       i > 0 ? "\n" : "",
				       r->device,
				       r->time_us / 1e6,
				       r->values);
	}
	return g_string_free(g_steal_pointer(&str), FALSE);
}

static gchar *
records_text(GPtrArray *out)
{
	GString *str = g_string_new(NULL);
	for (guint i = 0; i < out->len; i++) {
		WbdSpoolRecord *r = g_ptr_array_index(out, i);
		g_string_append_printf(str,
				       "%s%s@%.3f %s",
				       i > 0 ? "\n" : "",
				       r->device,
				       r->time_us / 1e6,
				       r->values);
	}
	g_ptr_array_set_size(out, 0);
	return g_string_free(str, FALSE);
}

static void
test_values_from_variant(void)
{
	g_autoptr(GVariant) changes = g_variant_ref_sink(g_variant_new_parsed(
	    "{'Power': <12.5>, 'Online': <true>, 'On': <false>, 'Phases': <uint32 3>,"
	    " 'LastSeen': <uint64 1700000000000000>, 'PhasePower': <[1.5, 2.0, nan]>,"
	    " 'Measured': <['Power']>, 'Voltage': <nan>, 'Name': <'x \"y\"'>, 'Temp': <int32 -4>,"
	    " 'Valve': <'opened'>, 'HotSharingType': <''>, 'DayLastTime': <uint64 0>,"
	    " 'Measurement': <'production'>, 'Profile': <'water-meter'>, 'Dps': <{'1': <1>}>}"));
	g_autoptr(GHashTable) values = wbd_values_from_variant(changes);
	g_autofree gchar *json = wbd_values_to_json(values);
	g_autoptr(GPtrArray) parsed = NULL;
	g_autoptr(GHashTable) again = wbd_values_new();
	g_autofree gchar *json2 = NULL;

	/* NaN, time 0 and "" are "not measured": left out; per-phase arrays become NAME1,
	 * NAME2...; booleans, strings and times keep their types; descriptions are left out */
	g_assert_cmpstr(json,
			==,
			"{\"LastSeen\":{\"time\":1700000000000000},\"Name\":\"x \\\"y\\\"\","
			"\"On\":false,\"Online\":true,\"PhasePower1\":1.5,\"PhasePower2\":2,"
			"\"Phases\":3,\"Power\":12.5,\"Temp\":-4,\"Valve\":\"opened\"}");
	/* and back, unchanged */
	parsed = wbd_values_parse(json, NULL);
	g_assert_nonnull(parsed);
	for (guint i = 0; i < parsed->len; i++)
		wbd_values_set(again, wbd_value_copy(g_ptr_array_index(parsed, i)));
	json2 = wbd_values_to_json(again);
	g_assert_cmpstr(json2, ==, json);
}

static void
test_format_double(void)
{
	const struct {
		gdouble value;
		const gchar *text;
	} cases[] = {
	    {0, "0"},
	    {230.837, "230.837"},
	    {0.1 + 0.2, "0.30000000000000004"},
	    {-4.5, "-4.5"},
	    {1e21, "1e+21"},
	    {1700000000000000.0, "1700000000000000"},
	    {-0.0, "0"},
	    {61753.0 / 1000, "61.753"},
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *text = wbd_exporter_format_double(cases[i].value);
		g_assert_cmpstr(text, ==, cases[i].text);
	}
}

static void
test_on_change(void)
{
	g_autoptr(WbdExporterFilter) f = filter_new(NULL, NULL);
	g_autofree gchar *a =
	    push(f, "plug", S(100), "{'Power': <10.0>, 'Online': <true>}", S(100));
	g_autofree gchar *b =
	    push(f, "plug", S(101), "{'Power': <10.0>, 'Online': <true>}", S(101));
	g_autofree gchar *c =
	    push(f, "plug", S(102), "{'Power': <11.0>, 'Online': <true>}", S(102));
	g_autofree gchar *d = push(f, "meter", S(102), "{'Power': <11.0>}", S(102));
	g_assert_cmpstr(a, ==, "plug@100.000 {\"Online\":true,\"Power\":10}");
	/* set again to the same values: no change, nothing to send */
	g_assert_cmpstr(b, ==, "");
	g_assert_cmpstr(c, ==, "plug@102.000 {\"Power\":11}");
	/* devices are apart */
	g_assert_cmpstr(d, ==, "meter@102.000 {\"Power\":11}");
}

static void
test_selection(void)
{
	g_autoptr(WbdExporterFilter) f =
	    filter_new("devices", "strip_*; plug", "values", "Power,Phase*", NULL);
	g_autofree gchar *a =
	    push(f, "strip_1", S(1), "{'Power': <1.0>, 'Voltage': <230.0>}", S(1));
	g_autofree gchar *b = push(f, "strip", S(1), "{'Power': <6.0>}", S(1));
	g_autofree gchar *c =
	    push(f, "plug", S(1), "{'Voltage': <230.0>, 'PhasePower': <[1.0, 2.0]>}", S(1));
	g_assert_true(wbd_exporter_filter_match_device(f, "strip_12"));
	g_assert_false(wbd_exporter_filter_match_device(f, "plug2"));
	g_assert_cmpstr(a, ==, "strip_1@1.000 {\"Power\":1}");
	g_assert_cmpstr(b, ==, "");
	g_assert_cmpstr(c, ==, "plug@1.000 {\"PhasePower1\":1,\"PhasePower2\":2}");
}

static void
test_deadband(void)
{
	g_autoptr(WbdExporterFilter) f = filter_new("deadband", "Power:5; *:0.5", NULL);
	g_autoptr(WbdExporterFilter) all = filter_new("deadband", "2", NULL);
	g_autofree gchar *a = push(f, "p", S(1), "{'Power': <100.0>, 'Voltage': <230.0>}", S(1));
	g_autofree gchar *b = push(f, "p", S(2), "{'Power': <103.0>, 'Voltage': <230.4>}", S(2));
	g_autofree gchar *c = push(f, "p", S(3), "{'Power': <104.9>, 'Voltage': <230.6>}", S(3));
	/* compared with what was sent (100), not the last value seen (104.9) */
	g_autofree gchar *d = push(f, "p", S(4), "{'Power': <105.0>}", S(4));
	g_autofree gchar *e = push(f, "p", S(5), "{'Online': <false>}", S(5));
	g_autofree gchar *g = push(all, "p", S(1), "{'Power': <1.0>}", S(1));
	g_autofree gchar *h = push(all, "p", S(2), "{'Power': <2.9>}", S(2));
	g_autofree gchar *i = push(all, "p", S(3), "{'Power': <3.0>}", S(3));
	g_assert_cmpstr(a, ==, "p@1.000 {\"Power\":100,\"Voltage\":230}");
	g_assert_cmpstr(b, ==, "");
	g_assert_cmpstr(c, ==, "p@3.000 {\"Voltage\":230.6}");
	g_assert_cmpstr(d, ==, "p@4.000 {\"Power\":105}");
	g_assert_cmpstr(e, ==, "p@5.000 {\"Online\":false}");
	g_assert_cmpstr(g, ==, "p@1.000 {\"Power\":1}");
	g_assert_cmpstr(h, ==, "");
	g_assert_cmpstr(i, ==, "p@3.000 {\"Power\":3}");
}

/* strings, enums and times: a change is another value; no deadband applies to them */
static void
test_typed_changes(void)
{
	g_autoptr(WbdExporterFilter) f = filter_new("deadband", "100", NULL);
	g_autofree gchar *a = push(f,
				   "m",
				   S(1),
				   "{'Valve': <'opened'>, 'DayFirstTime': <uint64 1700000000000000>,"
				   " 'Switch': <true>}",
				   S(1));
	g_autofree gchar *b = push(f, "m", S(2), "{'Valve': <'opened'>, 'Switch': <true>}", S(2));
	g_autofree gchar *c = push(f,
				   "m",
				   S(3),
				   "{'Valve': <'closing'>, 'DayFirstTime': <uint64 1700000001000000>}",
				   S(3));
	g_assert_cmpstr(a,
			==,
			"m@1.000 {\"DayFirstTime\":{\"time\":1700000000000000},\"Switch\":true,"
			"\"Valve\":\"opened\"}");
	g_assert_cmpstr(b, ==, "");
	g_assert_cmpstr(c,
			==,
			"m@3.000 {\"DayFirstTime\":{\"time\":1700000001000000},\"Valve\":\"closing\"}");
}

static void
test_min_interval(void)
{
	g_autoptr(WbdExporterFilter) f = filter_new("min-interval", "10", NULL);
	g_autoptr(GPtrArray) out =
	    g_ptr_array_new_with_free_func((GDestroyNotify)wbd_spool_record_free);
	g_autofree gchar *a = push(f, "p", S(100), "{'Power': <1.0>, 'On': <true>}", S(100));
	g_autofree gchar *b = push(f, "p", S(103), "{'Power': <2.0>}", S(103));
	g_autofree gchar *c = push(f, "p", S(105), "{'Power': <3.0>, 'On': <false>}", S(105));
	g_autofree gchar *ticked = NULL;
	g_autofree gchar *late = NULL;

	g_assert_cmpstr(a, ==, "p@100.000 {\"On\":true,\"Power\":1}");
	/* held back: at most once every 10 s */
	g_assert_cmpstr(b, ==, "");
	g_assert_cmpstr(c, ==, "");
	g_assert_cmpint(wbd_exporter_filter_get_next_deadline(f), ==, S(110));
	wbd_exporter_filter_tick(f, S(109), out);
	g_assert_cmpuint(out->len, ==, 0);
	/* then merged, the latest of each, with the time of the latest change */
	wbd_exporter_filter_tick(f, S(110), out);
	ticked = records_text(out);
	g_assert_cmpstr(ticked, ==, "p@105.000 {\"On\":false,\"Power\":3}");
	g_assert_cmpint(wbd_exporter_filter_get_next_deadline(f), ==, G_MAXINT64);
	/* long after: at once */
	late = push(f, "p", S(200), "{'Power': <4.0>}", S(200));
	g_assert_cmpstr(late, ==, "p@200.000 {\"Power\":4}");
}

static void
test_forget_sends_held(void)
{
	g_autoptr(WbdExporterFilter) f = filter_new("min-interval", "10", NULL);
	g_autoptr(GPtrArray) out =
	    g_ptr_array_new_with_free_func((GDestroyNotify)wbd_spool_record_free);
	g_autofree gchar *a = push(f, "p", S(1), "{'Power': <1.0>}", S(1));
	g_autofree gchar *b = push(f, "p", S(2), "{'Power': <2.0>}", S(2));
	g_autofree gchar *forgotten = NULL;
	g_assert_cmpstr(a, ==, "p@1.000 {\"Power\":1}");
	g_assert_cmpstr(b, ==, "");
	wbd_exporter_filter_forget_device(f, "p", S(3), out);
	forgotten = records_text(out);
	g_assert_cmpstr(forgotten, ==, "p@2.000 {\"Power\":2}");
	g_assert_cmpint(wbd_exporter_filter_get_next_deadline(f), ==, G_MAXINT64);
}

static void
test_interval(void)
{
	g_autoptr(WbdExporterFilter) f = filter_new("interval", "60", "values", "Power", NULL);
	g_autoptr(GPtrArray) out =
	    g_ptr_array_new_with_free_func((GDestroyNotify)wbd_spool_record_free);
	g_autofree gchar *a = push(f, "b", S(1), "{'Power': <1.0>, 'Voltage': <230.0>}", S(1));
	g_autofree gchar *b = push(f, "a", S(2), "{'Power': <2.0>}", S(2));
	g_autofree gchar *c = push(f, "a", S(3), "{'Power': <3.0>}", S(3));
	g_autofree gchar *first = NULL;
	g_autofree gchar *second = NULL;

	g_assert_cmpuint(wbd_exporter_filter_get_interval(f), ==, 60);
	/* nothing on change */
	g_assert_cmpstr(a, ==, "");
	g_assert_cmpstr(b, ==, "");
	g_assert_cmpstr(c, ==, "");
	/* the latest of every device, stamped with the time of the snapshot */
	wbd_exporter_filter_snapshot(f, S(60), out);
	first = records_text(out);
	g_assert_cmpstr(first, ==, "a@60.000 {\"Power\":3}\nb@60.000 {\"Power\":1}");
	wbd_exporter_filter_snapshot(f, S(120), out);
	second = records_text(out);
	g_assert_cmpstr(second, ==, "a@120.000 {\"Power\":3}\nb@120.000 {\"Power\":1}");
}

static void
test_report_time(void)
{
	/* an inverter (org.wattbus.Wattbus1.Inverter): only a new LastReport counts,
	 * with every value, stamped with it */
	g_autoptr(WbdExporterFilter) f = filter_new(NULL, NULL);
	g_autofree gchar *a =
	    push(f,
		 "inv",
		 S(1000),
		 "{'Power': <250.0>, 'MaxPower': <300.0>, 'LastReport': <uint64 900000000>}",
		 S(1000));
	g_autofree gchar *b = push(f, "inv", S(1010), "{'Online': <true>}", S(1010));
	g_autofree gchar *c = push(f,
				   "inv",
				   S(1300),
				   "{'Power': <250.0>, 'LastReport': <uint64 1200000000>}",
				   S(1300));
	g_autofree gchar *d =
	    push(f, "inv", S(1310), "{'LastReport': <uint64 1200000000>}", S(1310));
	g_assert_cmpstr(a, ==, "inv@900.000 {\"MaxPower\":300,\"Power\":250}");
	g_assert_cmpstr(b, ==, "");
	/* unchanged values too: a new report is a new sample */
	g_assert_cmpstr(c, ==, "inv@1200.000 {\"MaxPower\":300,\"Online\":true,\"Power\":250}");
	g_assert_cmpstr(d, ==, "");
}

static void
test_bad_settings(void)
{
	const gchar *bad[][2] = {
	    {"interval", "abc"},
	    {"interval", "-1"},
	    {"min-interval", "86401"},
	    {"deadband", "Power:"},
	    {"deadband", "Power:-1"},
	    {"deadband", ":3"},
	    {"deadband", "lots"},
	};
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GHashTable) settings = settings_new(bad[i][0], bad[i][1], NULL);
		g_autoptr(GError) error = NULL;
		g_autoptr(WbdExporterFilter) f = wbd_exporter_filter_new(settings, &error);
		g_assert_null(f);
		g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
		g_assert_nonnull(strstr(error->message, bad[i][0]));
	}
	{
		g_autoptr(GHashTable) settings =
		    settings_new("interval", "5", "min-interval", "5", NULL);
		g_autoptr(GError) error = NULL;
		g_autoptr(WbdExporterFilter) f = wbd_exporter_filter_new(settings, &error);
		g_assert_null(f);
		g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/exporter-filter/values-from-variant", test_values_from_variant);
	g_test_add_func("/exporter-filter/format-double", test_format_double);
	g_test_add_func("/exporter-filter/on-change", test_on_change);
	g_test_add_func("/exporter-filter/selection", test_selection);
	g_test_add_func("/exporter-filter/deadband", test_deadband);
	g_test_add_func("/exporter-filter/typed-changes", test_typed_changes);
	g_test_add_func("/exporter-filter/min-interval", test_min_interval);
	g_test_add_func("/exporter-filter/forget-sends-held", test_forget_sends_held);
	g_test_add_func("/exporter-filter/interval", test_interval);
	g_test_add_func("/exporter-filter/report-time", test_report_time);
	g_test_add_func("/exporter-filter/bad-settings", test_bad_settings);
	return g_test_run();
}
