/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-envoy-pin.h"
#include "wbd-file.h"

/*
 * The pin file of a gateway (README "HTTPS certificates"): one line, the SHA-256
 * fingerprint of the certificate's DER encoding as `sha256` followed by 32 times `:xx`
 * (lower-case hex), as wbd_envoy_certificate_fingerprint() writes it. A pin file that
 * exists but cannot be read or parsed is an error that keeps the gateway offline: it
 * is never a reason to trust whatever certificate comes next.
 */

#define WBD_ENVOY_PIN_MAX_FILE 4096
#define WBD_ENVOY_PIN_BYTES 32

/**
 * wbd_envoy_pin_parse:
 * @text: a fingerprint, with white space around it allowed (upper- or lower-case hex)
 *
 * Returns: (transfer full): the fingerprint as the driver writes it, or %NULL with a
 *   %WATTBUS_ERROR_INVALID_ARGUMENT error
 */
gchar *
wbd_envoy_pin_parse(const gchar *text, gsize length, GError **error)
{
	g_autoptr(GString) out = g_string_new("sha256");
	gsize start = 0;
	gsize end = length;
	gsize pos;

	while (start < end && g_ascii_isspace(text[start]))
		start++;
	while (end > start && g_ascii_isspace(text[end - 1]))
		end--;
	pos = start;
	if (end - start < 6 || g_ascii_strncasecmp(text + pos, "sha256", 6) != 0)
		goto bad;
	pos += 6;
	for (guint i = 0; i < WBD_ENVOY_PIN_BYTES; i++) {
		if (pos + 3 > end || text[pos] != ':' || !g_ascii_isxdigit(text[pos + 1]) ||
		    !g_ascii_isxdigit(text[pos + 2]))
			goto bad;
		g_string_append_printf(out,
				       ":%c%c",
				       g_ascii_tolower(text[pos + 1]),
				       g_ascii_tolower(text[pos + 2]));
		pos += 3;
	}
	if (pos != end)
		goto bad;
	return g_string_free(g_steal_pointer(&out), FALSE);
bad:
	g_set_error_literal(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "not a SHA-256 certificate fingerprint (sha256:xx:xx:... with 32 "
			    "hexadecimal pairs)");
	return NULL;
}

/**
 * wbd_envoy_pin_load:
 *
 * Reads a pin file. A small file in the daemon's own state directory, read at
 * configuration time like the configuration files.
 *
 * Returns: (transfer full) (nullable): the pinned fingerprint; %NULL without an error
 *   when there is no pin file (nothing pinned yet), %NULL with a
 *   %WATTBUS_ERROR_PERMISSION_DENIED error when the file cannot be read or parsed
 */
gchar *
wbd_envoy_pin_load(const gchar *path, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	g_autoptr(GBytes) bytes = wbd_file_read(path, WBD_ENVOY_PIN_MAX_FILE, &local_error);
	gchar *pin;

	if (bytes == NULL) {
		if (g_error_matches(local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
			return NULL;
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_PERMISSION_DENIED,
			    "The gateway's certificate pin cannot be read (%s), so no "
			    "certificate is trusted: fix the file, or re-pin on purpose "
			    "(org.wattbus.Wattbus1.Envoy.Repin)",
			    local_error->message);
		return NULL;
	}
	pin = wbd_envoy_pin_parse(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes), NULL);
	if (pin == NULL) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_PERMISSION_DENIED,
			    "The gateway's certificate pin in %s is not a SHA-256 fingerprint, "
			    "so no certificate is trusted: fix the file, or re-pin on purpose "
			    "(org.wattbus.Wattbus1.Envoy.Repin)",
			    path);
		return NULL;
	}
	return pin;
}

gboolean
wbd_envoy_pin_save(const gchar *path, const gchar *fingerprint, GError **error)
{
	g_autofree gchar *dir = g_path_get_dirname(path);
	g_autofree gchar *contents = g_strconcat(fingerprint, "\n", NULL);
	if (g_mkdir_with_parents(dir, 0750) != 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "Cannot create %s: %s",
			    dir,
			    g_strerror(errno));
		return FALSE;
	}
	return g_file_set_contents_full(
	    path, contents, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0640, error);
}

/* no pin file afterwards; not having had one is fine */
gboolean
wbd_envoy_pin_remove(const gchar *path, GError **error)
{
	if (g_unlink(path) != 0 && errno != ENOENT) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_FAILED,
			    "Cannot delete the certificate pin %s: %s",
			    path,
			    g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}
