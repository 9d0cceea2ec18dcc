/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "wbd-emoncms-codec.h"
#include "wbd-exporter.h"

/* names, request bodies and replies of the EmonCMS exporter, against the examples of
 * shared/specs/emoncms.md */

static void
test_names(void)
{
	const struct {
		const gchar *in;
		gsize max;
		const gchar *out;
	} cases[] = {
	    /* §4: power(W) → powerW; a:b and a,b both become ab */
	    {"power(W)", 64, "powerW"},
	    {"a:b", 64, "ab"},
	    {"a,b", 64, "ab"},
	    /* §4: my node(1)/x → "my node1x"; white space becomes '_' here */
	    {"my node(1)/x", 64, "my_node1x"},
	    {"Küche 2.OG", 64, "Küche_2.OG"},
	    {"день-1_x", 64, "день-1_x"},
	    {"Ⅻ½", 64, "Ⅻ½"},
	    {"#MASKED_NAME# 3", 16, "MASKED_NAME_3"},
	    {"\"quote\\back\001ctl", 64, "quotebackctl"},
	    {"!!!", 16, ""},
	    /* cut to the byte limit at a character boundary: ü is two bytes */
	    {"abcdefghijklmnoü", 16, "abcdefghijklmno"},
	    {"abcdefghijklmnopqrstuvwxyz", 16, "abcdefghijklmnop"},
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *name = wbd_emoncms_make_name(cases[i].in, cases[i].max);
		g_assert_cmpstr(name, ==, cases[i].out);
	}
}

static void
test_nodes(void)
{
	/* a node is a function of the device id alone: unique, whatever the names, the
	 * order or the start; short ids as they are, long ones cut and hashed (SHA-256 of
	 * the whole id, here computed with Python's hashlib) */
	const gchar *cases[][2] = {
	    {"plug", "plug"},
	    {"kitchen-plug_2", "kitchen-plug_2"},
	    {"sixteen-bytes-id", "sixteen-bytes-id"},
	    {"solar-gateway-garage", "solar-gate_48aab"},
	    {"envoy_inverter_121547060773", "envoy_inve_25875"},
	    {"envoy_inverter_121547060774", "envoy_inve_45a4b"},
	    {"envoy_inverter_121547060775", "envoy_inve_c1460"},
	};
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *node = wbd_emoncms_make_node(cases[i][0]);
		g_autofree gchar *again = wbd_emoncms_make_node(cases[i][0]);
		g_assert_cmpstr(node, ==, cases[i][1]);
		g_assert_cmpstr(again, ==, node);
		g_assert_cmpuint(strlen(node), <=, WBD_EMONCMS_MAX_NODE);
		/* never two devices in one node */
		g_assert_true(g_hash_table_add(seen, g_steal_pointer(&node)));
	}
}

static void
test_child_prefix(void)
{
	const gchar *cases[][3] = {
	    {"envoy_inverter_121547060773", "envoy", "inverter_121547060773"},
	    {"envoy_production", "envoy", "production"},
	    {"strip_3", "strip", "3"},
	    /* not named after its parent: its whole id */
	    {"meter", "envoy", "meter"},
	    {"envoy", "envoy", "envoy"},
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *prefix = wbd_emoncms_child_prefix(cases[i][0], cases[i][1]);
		g_assert_cmpstr(prefix, ==, cases[i][2]);
	}
}

static void
test_values(void)
{
	g_autoptr(GError) error = NULL;
	/* numbers only: booleans as 1/0, strings and times left out */
	g_autofree gchar *a = wbd_emoncms_encode_values(
	    "{\"Power\":61.753,\"Online\":true,\"On\":false,\"Valve\":\"opened\","
	    "\"DayFirstTime\":{\"time\":1700000000000000}}",
	    NULL,
	    &error);
	/* "time" in any case would set the time (§2): renamed; collisions: the first */
	g_autofree gchar *b =
	    wbd_emoncms_encode_values("{\"Time\":5,\"time\":6,\"a:b\":1,\"ab\":2,\"(\":3}", NULL, &error);
	/* a child's inputs in its family's node: prefixed with its own id */
	g_autofree gchar *d = wbd_emoncms_encode_values("{\"Power\":250,\"Online\":true}",
							 "inverter_121547060773",
							 &error);
	g_autofree gchar *c = NULL;
	g_assert_no_error(error);
	g_assert_cmpstr(a, ==, "{\"Power\":61.753,\"Online\":1,\"On\":0}");
	g_assert_cmpstr(b, ==, "{\"Time_\":5,\"time_\":6,\"ab\":1}");
	g_assert_cmpstr(d,
			==,
			"{\"inverter_121547060773_Power\":250,\"inverter_121547060773_Online\":1}");
	c = wbd_emoncms_encode_values("[1,2]", NULL, &error);
	g_assert_null(c);
	g_assert_nonnull(error);
}

static void
test_post_body(void)
{
	g_autofree gchar *body =
	    wbd_emoncms_encode_post("Küche_2", "{\"Power\":1.5}", 1700000000999999);
	g_autofree gchar *negative = wbd_emoncms_encode_post("n", "{}", -1);
	/* form-encoded; time in whole seconds, never milliseconds (§2) */
	g_assert_cmpstr(body,
			==,
			"node=K%C3%BCche_2&fulljson=%7B%22Power%22%3A1.5%7D&time=1700000000");
	g_assert_true(g_str_has_suffix(negative, "&time=-1"));
}

static void
test_bulk_body(void)
{
	const gchar *nodes[] = {"a", "b"};
	const gchar *jsons[] = {"{\"P\":1}", "{\"P\":2}"};
	const gint64 times[] = {1700000000000000, 1700000001500000};
	g_autofree gchar *body = wbd_emoncms_encode_bulk(nodes, jsons, times, 2);
	g_autofree gchar *data = g_uri_unescape_string(body + strlen("data="), NULL);
	g_assert_true(g_str_has_prefix(body, "data="));
	/* §3: rows [t, node, {name: value}], absolute times with time=0 */
	g_assert_cmpstr(data, ==, "[[1700000000,\"a\",{\"P\":1}],[1700000001,\"b\",{\"P\":2}]]");
}

static void
check_reply(guint status, const gchar *body, gint code, const gchar *message)
{
	g_autoptr(GError) error = NULL;
	gboolean ok = wbd_emoncms_check_reply(status, body, strlen(body), &error);
	if (code < 0) {
		g_assert_no_error(error);
		g_assert_true(ok);
		return;
	}
	g_assert_false(ok);
	g_assert_error(error, WBD_EXPORTER_ERROR, code);
	g_assert_cmpstr(error->message, ==, message);
}

static void
test_replies(void)
{
	/* §2, §3: fulljson success */
	check_reply(200, "{\"success\": true}", -1, NULL);
	check_reply(200, "{\"success\":true}\n", -1, NULL);
	/* §1: a wrong key */
	check_reply(401,
		    "Invalid API key",
		    WBD_EXPORTER_ERROR_REFUSED,
		    "EmonCMS refused the API key (HTTP 401): Invalid API key");
	/* §1: a read key, or none: 200 and nothing stored */
	check_reply(200,
		    "",
		    WBD_EXPORTER_ERROR_REFUSED,
		    "EmonCMS stored nothing (empty reply): the API key must be the write key of "
		    "the account, not the read key");
	/* §2: a refusal, with EmonCMS's own words */
	check_reply(
	    200,
	    "{\"success\": false, \"message\": \"Error: Reached the maximal allowed number of "
	    "different NodeIds, limit is 32. Node 'x' was ignored.\"}",
	    WBD_EXPORTER_ERROR_REFUSED,
	    "EmonCMS refused the readings: Error: Reached the maximal allowed number of "
	    "different NodeIds, limit is 32. Node 'x' was ignored.");
	check_reply(200,
		    "{\"success\": false}",
		    WBD_EXPORTER_ERROR_REFUSED,
		    "EmonCMS refused the readings: no reason given");
	/* "ok" is the answer without fulljson: not what we asked for */
	check_reply(200, "ok", WBD_EXPORTER_ERROR_FAILED, "Unexpected reply from EmonCMS: ok");
	check_reply(200,
		    "<html>\n<b>maintenance</b>",
		    WBD_EXPORTER_ERROR_FAILED,
		    "Unexpected reply from EmonCMS: <html> <b>maintenance</b>");
	check_reply(200,
		    "{\"success\": \"true\"}",
		    WBD_EXPORTER_ERROR_FAILED,
		    "Unexpected reply from EmonCMS: {\"success\": \"true\"}");
	/* §2: milliseconds gave HTTP 500 with an empty body: a server error */
	check_reply(500, "", WBD_EXPORTER_ERROR_FAILED, "EmonCMS answered HTTP 500");
	check_reply(503, "busy", WBD_EXPORTER_ERROR_FAILED, "EmonCMS answered HTTP 503");
	check_reply(429, "", WBD_EXPORTER_ERROR_FAILED, "EmonCMS answered HTTP 429");
	check_reply(404,
		    "Not found",
		    WBD_EXPORTER_ERROR_REFUSED,
		    "EmonCMS answered HTTP 404: is the url that of EmonCMS?");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/emoncms/names", test_names);
	g_test_add_func("/emoncms/nodes", test_nodes);
	g_test_add_func("/emoncms/child-prefix", test_child_prefix);
	g_test_add_func("/emoncms/values", test_values);
	g_test_add_func("/emoncms/post-body", test_post_body);
	g_test_add_func("/emoncms/bulk-body", test_bulk_body);
	g_test_add_func("/emoncms/replies", test_replies);
	return g_test_run();
}
