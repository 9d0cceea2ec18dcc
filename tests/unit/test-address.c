/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-address.h"

/* what every driver's `address` may be: host[:port], nothing else (issue 12, item 4) */

static void
test_address_accepted(void)
{
	static const struct {
		const gchar *address;
		const gchar *host;
		guint16 port;
	} cases[] = {
	    {"192.168.1.50", "192.168.1.50", 9999},
	    {"192.168.1.50:80", "192.168.1.50", 80},
	    {"plug.local", "plug.local", 9999},
	    {"envoy-2.lan:65535", "envoy-2.lan", 65535},
	    {"localhost", "localhost", 9999},
	    {"::1", "::1", 9999},
	    {"[::1]", "::1", 9999},
	    {"[fe80::1]:6668", "fe80::1", 6668},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *host = NULL;
		guint16 port = 0;
		g_test_message("%s", cases[i].address);
		g_assert_true(wbd_address_parse(cases[i].address, 9999, &host, &port, &error));
		g_assert_no_error(error);
		g_assert_cmpstr(host, ==, cases[i].host);
		g_assert_cmpuint(port, ==, cases[i].port);
	}
}

static void
test_address_refused(void)
{
	static const gchar *const cases[] = {
	    "admin:secret@host:9999",
	    "admin@192.168.1.50",
	    "/run/wattbus.sock",
	    "../../etc/passwd",
	    "host/path",
	    "http://192.168.1.50",
	    "tcp://192.168.1.50:9999",
	    "192.168.1.50:",
	    "192.168.1.50:0",
	    "192.168.1.50:65536",
	    "192.168.1.50:+80",
	    "192.168.1.50:80x",
	    "host name",
	    "host\tname",
	    "-host",
	    "host-.lan",
	    "host..lan",
	    "host.lan.",
	    ".",
	    "",
	    "[::1",
	    "[::1]x",
	    "[192.168.1.50]",
	    "[::1]:99999",
	    "::g",
	    "host?query",
	    "host#frag",
	    "h%41st",
	    "h\xc3\xa9st",
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *host = NULL;
		guint16 port = 0;
		g_test_message("%s", cases[i]);
		g_assert_false(wbd_address_parse(cases[i], 9999, &host, &port, &error));
		g_assert_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT);
		g_assert_null(host);
		/* the address may hold a password: never in the error */
		if (strlen(cases[i]) > 2)
			g_assert_null(strstr(error->message, cases[i]));
	}
	g_assert_false(wbd_address_parse(NULL, 9999, NULL, NULL, NULL));
}

static void
test_address_long_host(void)
{
	g_autoptr(GString) name = g_string_new(NULL);
	while (name->len < 250)
		g_string_append(name, "abcdefghi.");
	g_string_append(name, "abc"); /* 253 */
	g_assert_true(wbd_address_is_valid_host(name->str));
	g_string_append(name, "d");
	g_assert_false(wbd_address_is_valid_host(name->str));
	g_assert_false(wbd_address_is_valid_host(
	    "a234567890123456789012345678901234567890123456789012345678901234.lan"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/address/accepted", test_address_accepted);
	g_test_add_func("/address/refused", test_address_refused);
	g_test_add_func("/address/long-host", test_address_long_host);
	return g_test_run();
}
