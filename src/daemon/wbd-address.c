/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <gio/gio.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-address.h"

/*
 * The one check of a device's `address` (host or host:port), for every driver: a
 * user name and password (`admin:secret@host`), a path, a URL or anything else that
 * is not a host would otherwise be shown in the public Address property, or reach the
 * resolver. The address is never quoted in an error: it may hold such a secret.
 */

#define WBD_ADDRESS_MAX_HOST 253

static gboolean
is_valid_label(const gchar *label, gsize len)
{
	if (len == 0 || len > 63 || label[0] == '-' || label[len - 1] == '-')
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isalnum(label[i]) && label[i] != '-')
			return FALSE;
	}
	return TRUE;
}

/**
 * wbd_address_is_valid_host:
 *
 * Whether @host is an IPv4 or IPv6 address (without brackets) or a DNS name
 * (letters, digits and `-` in dot-separated labels of 1 to 63 characters).
 */
gboolean
wbd_address_is_valid_host(const gchar *host)
{
	gsize len = host != NULL ? strlen(host) : 0;
	const gchar *label;

	if (len == 0 || len > WBD_ADDRESS_MAX_HOST)
		return FALSE;
	if (strchr(host, ':') != NULL) {
		g_autoptr(GInetAddress) inet = g_inet_address_new_from_string(host);
		return inet != NULL && g_inet_address_get_family(inet) == G_SOCKET_FAMILY_IPV6;
	}
	label = host;
	for (;;) {
		const gchar *dot = strchr(label, '.');
		gsize label_len = dot != NULL ? (gsize)(dot - label) : strlen(label);
		if (!is_valid_label(label, label_len))
			return FALSE;
		if (dot == NULL)
			return TRUE;
		label = dot + 1;
	}
}

/**
 * wbd_address_parse:
 * @address: `host`, `host:port`, `[IPv6]`, `[IPv6]:port` or a bare IPv6 address
 * @default_port: the port when @address has none
 * @host: (out) (optional) (transfer full): the host, IPv6 without brackets
 * @port: (out) (optional): the port
 *
 * Returns: %FALSE with a %WATTBUS_ERROR_INVALID_ARGUMENT error (which does not quote
 *   @address) when @address is anything else
 */
gboolean
wbd_address_parse(const gchar *address,
		  guint16 default_port,
		  gchar **host,
		  guint16 *port,
		  GError **error)
{
	g_autofree gchar *name = NULL;
	const gchar *port_text = NULL;
	guint64 value = default_port;

	if (address == NULL)
		goto bad;
	if (address[0] == '[') {
		const gchar *end = strchr(address, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			goto bad;
		name = g_strndup(address + 1, end - address - 1);
		if (strchr(name, ':') == NULL)
			goto bad;
		if (end[1] == ':')
			port_text = end + 2;
	} else {
		const gchar *colon = strchr(address, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			name = g_strdup(address); /* a bare IPv6 address */
		} else if (colon != NULL) {
			name = g_strndup(address, colon - address);
			port_text = colon + 1;
		} else {
			name = g_strdup(address);
		}
	}
	if (!wbd_address_is_valid_host(name))
		goto bad;
	if (port_text != NULL) {
		for (const gchar *p = port_text; *p != '\0'; p++) {
			if (!g_ascii_isdigit(*p))
				goto bad;
		}
		if (!g_ascii_string_to_unsigned(port_text, 10, 1, G_MAXUINT16, &value, NULL))
			goto bad;
	}
	if (host != NULL)
		*host = g_steal_pointer(&name);
	if (port != NULL)
		*port = (guint16)value;
	return TRUE;
bad:
	g_set_error_literal(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "The address is not a host or host:port: it must be a DNS name or an "
			    "IP address, optionally with :port (1 to 65535), and no user name, "
			    "password, path or URL");
	return FALSE;
}
