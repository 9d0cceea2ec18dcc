/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-envoy-data.h"
#include "wbd-envoy-stream.h"

/*
 * The /stream/meter framing and events (spec §5), over the real captures in
 * tests/data/envoy/stream-meter: however the bytes are cut, every `data:` line comes
 * out once, and each event maps to the values the capture has.
 */

static const gchar *captures[] = {
    "matthew1471-D7.0.88-1phase-night.txt",
    "briancmpbll-issue36-3phase-evening.txt",
    "siliconjunction-blog-3phase-daytime.txt",
};

static gchar *
load_capture(const gchar *name, gsize *len)
{
	g_autofree gchar *path =
	    g_build_filename(g_getenv("WATTBUS_TEST_DATA"), "envoy", "stream-meter", name, NULL);
	gchar *contents = NULL;
	g_assert_true(g_file_get_contents(path, &contents, len, NULL));
	return contents;
}

/* the payloads, as the test splits the capture itself */
static GPtrArray *
capture_payloads(const gchar *text)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_str_has_prefix(lines[i], "data: "))
			g_ptr_array_add(out, g_strdup(lines[i] + 6));
	}
	return out;
}

static void
collect_cb(const gchar *data, gsize len, gpointer user_data)
{
	g_ptr_array_add(user_data, g_strndup(data, len));
}

static void
assert_same_payloads(GPtrArray *got, GPtrArray *expected)
{
	g_assert_cmpuint(got->len, ==, expected->len);
	for (guint i = 0; i < got->len; i++)
		g_assert_cmpstr(g_ptr_array_index(got, i), ==, g_ptr_array_index(expected, i));
}

static void
test_framing(void)
{
	for (guint c = 0; c < G_N_ELEMENTS(captures); c++) {
		gsize len = 0;
		g_autofree gchar *text = load_capture(captures[c], &len);
		g_autoptr(GPtrArray) expected = capture_payloads(text);
		g_assert_cmpuint(expected->len, >, 0);

		/* whole, byte by byte, and in random pieces */
		for (guint mode = 0; mode < 3; mode++) {
			g_autoptr(WbdEnvoyStreamParser) parser = wbd_envoy_stream_parser_new();
			g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func(g_free);
			g_autoptr(GRand) rand = g_rand_new_with_seed(c * 10 + mode);
			gsize pos = 0;
			guint n = 0;
			while (pos < len) {
				gsize piece = mode == 0	  ? len
					      : mode == 1 ? 1
							  : (gsize)g_rand_int_range(rand, 1, 700);
				piece = MIN(piece, len - pos);
				n += wbd_envoy_stream_parser_feed(
				    parser, (const guint8 *)text + pos, piece, collect_cb, got);
				pos += piece;
			}
			g_assert_cmpuint(n, ==, got->len);
			assert_same_payloads(got, expected);
		}
	}
}

static void
test_framing_variants(void)
{
	g_autoptr(WbdEnvoyStreamParser) parser = wbd_envoy_stream_parser_new();
	g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *huge = NULL;
	gsize huge_len;
	GString *big = g_string_new("data: ");
	const gchar *text =
	    ": a comment\r\nevent: meter\r\ndata:{\"a\":1}\r\n\r\ndata: {\"b\":2}\n\n"
	    "data: partial";

	wbd_envoy_stream_parser_feed(parser, (const guint8 *)text, strlen(text), collect_cb, got);
	g_assert_cmpuint(got->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(got, 0), ==, "{\"a\":1}");
	g_assert_cmpstr(g_ptr_array_index(got, 1), ==, "{\"b\":2}");

	/* a new connection does not continue the old one's partial line */
	wbd_envoy_stream_parser_reset(parser);
	wbd_envoy_stream_parser_feed(parser, (const guint8 *)"data: x\n", 8, collect_cb, got);
	g_assert_cmpstr(g_ptr_array_index(got, 2), ==, "x");

	/* an overlong line is dropped whole; the next one is read */
	for (guint i = 0; i < WBD_ENVOY_STREAM_MAX_LINE; i++)
		g_string_append_c(big, 'x');
	g_string_append(big, "\ndata: after\n");
	huge_len = big->len;
	huge = g_string_free(big, FALSE);
	for (gsize pos = 0; pos < huge_len; pos += 1000)
		wbd_envoy_stream_parser_feed(
		    parser, (const guint8 *)huge + pos, MIN(1000, huge_len - pos), collect_cb, got);
	g_assert_cmpuint(got->len, ==, 4);
	g_assert_cmpstr(g_ptr_array_index(got, 3), ==, "after");
	g_assert_cmpuint(wbd_envoy_stream_parser_get_dropped(parser), ==, 1);
}

static JsonObject *
phase(JsonNode *event, const gchar *meter, guint p)
{
	static const gchar *names[] = {"ph-a", "ph-b", "ph-c"};
	JsonObject *m = json_object_get_object_member(json_node_get_object(event), meter);
	return json_object_get_object_member(m, names[p]);
}

static void
assert_close(gdouble actual, gdouble expected)
{
	g_assert_cmpfloat_with_epsilon(actual, expected, 1e-9 * MAX(1.0, fabs(expected)));
}

/* sums of p, q, s, i; means of v and pf; f of ph-a (spec §5 and the driver's README) */
static void
check_event(JsonNode *event, const WbdEnvoyStreamEvent *parsed, guint phases)
{
	static const struct {
		const gchar *key;
		WbdQuantity quantity;
		gboolean mean;
	} fields[] = {
	    {"p", WBD_QUANTITY_POWER, FALSE},
	    {"q", WBD_QUANTITY_REACTIVE_POWER, FALSE},
	    {"s", WBD_QUANTITY_APPARENT_POWER, FALSE},
	    {"v", WBD_QUANTITY_VOLTAGE, TRUE},
	    {"i", WBD_QUANTITY_CURRENT, FALSE},
	    {"pf", WBD_QUANTITY_POWER_FACTOR, TRUE},
	};
	for (guint m = 0; m < WBD_ENVOY_STREAM_LAST; m++) {
		const gchar *meter = wbd_envoy_stream_meter_to_string(m);
		WbdMeterReading r;
		wbd_envoy_stream_event_get_reading(parsed, m, phases, &r);
		g_assert_false(wbd_meter_reading_has(&r, WBD_QUANTITY_ENERGY));
		assert_close(r.values[WBD_QUANTITY_FREQUENCY],
			     json_object_get_double_member(phase(event, meter, 0), "f"));
		g_assert_cmpuint(r.n_phases, ==, phases > 1 ? phases : 0);
		for (guint f = 0; f < G_N_ELEMENTS(fields); f++) {
			gdouble total = 0;
			for (guint p = 0; p < phases; p++) {
				gdouble v = json_object_get_double_member(phase(event, meter, p),
									  fields[f].key);
				total += v;
				if (phases > 1)
					assert_close(r.phase[fields[f].quantity][p], v);
			}
			assert_close(r.values[fields[f].quantity],
				     fields[f].mean ? total / phases : total);
		}
	}
}

static void
test_events(void)
{
	for (guint c = 0; c < G_N_ELEMENTS(captures); c++) {
		gsize len = 0;
		g_autofree gchar *text = load_capture(captures[c], &len);
		g_autoptr(GPtrArray) payloads = capture_payloads(text);
		for (guint i = 0; i < payloads->len; i++) {
			const gchar *json = g_ptr_array_index(payloads, i);
			g_autoptr(JsonParser) parser = json_parser_new();
			WbdEnvoyStreamEvent event;
			g_assert_true(json_parser_load_from_data(parser, json, -1, NULL));
			g_assert_true(wbd_envoy_parse_stream_event(json, strlen(json), &event));
			for (guint m = 0; m < WBD_ENVOY_STREAM_LAST; m++)
				g_assert_true(event.present[m]);
			check_event(json_parser_get_root(parser), &event, 1);
			check_event(json_parser_get_root(parser), &event, 2);
			check_event(json_parser_get_root(parser), &event, 3);
		}
	}
}

static void
test_events_hostile(void)
{
	static const gchar *bad[] = {
	    "",
	    "{}",
	    "[]",
	    "{\"production\":5}",
	    "{\"production\":{\"ph-a\":{\"p\":1}}}",
	    "{\"production\":{\"ph-a\":{\"p\":1,\"q\":1,\"s\":1,\"v\":1,\"i\":1,\"pf\":1,\"f\":1},"
	    "\"ph-b\":{\"p\":1,\"q\":1,\"s\":1,\"v\":1,\"i\":1,\"pf\":1,\"f\":\"50\"},"
	    "\"ph-c\":{\"p\":1,\"q\":1,\"s\":1,\"v\":1,\"i\":1,\"pf\":1,\"f\":1}}}",
	    "{\"production\":",
	};
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		WbdEnvoyStreamEvent event;
		WbdMeterReading r;
		g_assert_false(wbd_envoy_parse_stream_event(bad[i], strlen(bad[i]), &event));
		wbd_envoy_stream_event_get_reading(&event, WBD_ENVOY_STREAM_PRODUCTION, 3, &r);
		g_assert_cmpuint(r.measured, ==, 0);
		g_assert_cmpuint(r.n_phases, ==, 0);
		g_assert_true(isnan(r.values[WBD_QUANTITY_POWER]));
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/envoy/stream/framing", test_framing);
	g_test_add_func("/envoy/stream/framing-variants", test_framing_variants);
	g_test_add_func("/envoy/stream/events", test_events);
	g_test_add_func("/envoy/stream/events-hostile", test_events_hostile);
	return g_test_run();
}
