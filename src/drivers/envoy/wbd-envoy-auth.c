/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-envoy-auth.h"
#include "wbd-envoy-json.h"

#define WBD_ENVOY_REALM "enphaseenergy.com"
/* real tokens are about 400 to 1000 characters */
#define WBD_ENVOY_MAX_TOKEN 4096

/* spec §3.1: the installer password, derived from the serial number */
static gchar *
wbd_envoy_installer_password(const gchar *user, const gchar *serial)
{
	g_autofree gchar *input =
	    g_strdup_printf("[e]%s@%s#%s EnPhAsE eNeRgY ", user, WBD_ENVOY_REALM, serial);
	g_autofree gchar *digest = g_compute_checksum_for_string(G_CHECKSUM_MD5, input, -1);
	GString *password = g_string_sized_new(8);
	gint zeros = 0;
	gint ones = 0;

	for (const gchar *p = digest; *p != '\0'; p++) {
		zeros += *p == '0';
		ones += *p == '1';
	}
	for (gint i = 31; i >= 24; i--) {
		gchar c = digest[i];
		if (zeros == 3 || zeros == 6 || zeros == 9)
			zeros--;
		zeros = CLAMP(zeros, 0, 20);
		if (ones == 9 || ones == 15)
			ones--;
		ones = CLAMP(ones, 0, 26);
		if (c == '0')
			g_string_append_c(password, (gchar)('f' + zeros--));
		else if (c == '1')
			g_string_append_c(password, (gchar)('@' + ones--));
		else
			g_string_append_c(password, c);
	}
	return g_string_free(password, FALSE);
}

/**
 * wbd_envoy_derive_password:
 * @user: "envoy" or "installer"
 * @serial: the gateway's serial number
 *
 * The password firmware before 7 expects when none is configured: the last six
 * digits of the serial for `envoy`, a value derived from the serial for `installer`.
 *
 * Returns: (transfer full) (nullable): the password, or %NULL for another user
 */
gchar *
wbd_envoy_derive_password(const gchar *user, const gchar *serial)
{
	gsize len = serial != NULL ? strlen(serial) : 0;
	if (len == 0)
		return NULL;
	if (g_strcmp0(user, "envoy") == 0)
		return g_strdup(serial + (len > 6 ? len - 6 : 0));
	if (g_strcmp0(user, "installer") == 0)
		return wbd_envoy_installer_password(user, serial);
	return NULL;
}

/* three base64url parts: safe to put in a header as it is */
gboolean
wbd_envoy_token_is_wellformed(const gchar *token)
{
	guint dots = 0;
	gsize len = token != NULL ? strlen(token) : 0;
	if (len == 0 || len > WBD_ENVOY_MAX_TOKEN)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		gchar c = token[i];
		if (c == '.')
			dots++;
		else if (!g_ascii_isalnum(c) && c != '-' && c != '_' && c != '=')
			return FALSE;
	}
	return dots == 2 && token[0] != '.';
}

/**
 * wbd_envoy_token_decode:
 * @token: an Enlighten JWT
 * @expiry: (out): its `exp`, in seconds since the epoch, or 0 when it has none
 * @role: (out) (transfer full): its `enphaseUser` (owner, installer...), or %NULL
 *
 * Reads the token's claims without checking its signature (the gateway does that).
 * Errors never quote the token.
 */
gboolean
wbd_envoy_token_decode(const gchar *token, gint64 *expiry, gchar **role, GError **error)
{
	g_auto(GStrv) parts = NULL;
	g_autoptr(GString) b64 = NULL;
	g_autofree guchar *payload = NULL;
	g_autoptr(JsonNode) claims = NULL;
	gsize len = 0;
	gdouble exp = 0;
	const gchar *user;

	*expiry = 0;
	*role = NULL;
	if (!wbd_envoy_token_is_wellformed(token)) {
		g_set_error_literal(
		    error,
		    WATTBUS_ERROR,
		    WATTBUS_ERROR_INVALID_ARGUMENT,
		    "The token is not a JWT (three base64url parts separated by dots)");
		return FALSE;
	}
	parts = g_strsplit(token, ".", 3);
	b64 = g_string_new(parts[1]);
	g_strdelimit(b64->str, "-", '+');
	g_strdelimit(b64->str, "_", '/');
	while (b64->len % 4 != 0)
		g_string_append_c(b64, '=');
	payload = g_base64_decode(b64->str, &len);
	claims = wbd_envoy_json_parse((const gchar *)payload, len, NULL);
	if (claims == NULL || !JSON_NODE_HOLDS_OBJECT(claims)) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "The token's payload is not a JSON object");
		return FALSE;
	}
	if (wbd_envoy_json_number(claims, "exp", &exp) && exp > 0 && exp < 1e12)
		*expiry = (gint64)exp;
	user = wbd_envoy_json_string(claims, "enphaseUser");
	if (user != NULL && strlen(user) <= 32)
		*role = g_utf8_make_valid(user, -1);
	return TRUE;
}

/* "2026-12-07 09:00 UTC" */
gchar *
wbd_envoy_format_time(gint64 epoch_s)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(epoch_s);
	return dt != NULL ? g_date_time_format(dt, "%Y-%m-%d %H:%M UTC") : g_strdup("?");
}

/**
 * wbd_envoy_token_check:
 * @token: (nullable): the configured token
 * @expiry: its expiry (seconds since the epoch), 0 for none
 * @software: (nullable): the gateway's firmware, for the message
 * @now: seconds since the epoch
 *
 * Returns: %FALSE with a %WATTBUS_ERROR_PERMISSION_DENIED error that says what to do when
 *   there is no token or it expired; the token itself is never quoted
 */
gboolean
wbd_envoy_token_check(const gchar *token,
		      gint64 expiry,
		      const gchar *software,
		      gint64 now,
		      GError **error)
{
	g_autofree gchar *when = NULL;

	if (token == NULL) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_PERMISSION_DENIED,
			    "Firmware %s needs a token: set 'token' to a JWT from Enphase "
			    "(https://entrez.enphaseenergy.com)",
			    software != NULL ? software : "7 or later");
		return FALSE;
	}
	if (expiry == 0 || expiry > now)
		return TRUE;
	when = wbd_envoy_format_time(expiry);
	g_set_error(error,
		    WATTBUS_ERROR,
		    WATTBUS_ERROR_PERMISSION_DENIED,
		    "The token expired on %s: get a new one from Enphase "
		    "(https://entrez.enphaseenergy.com) and set 'token'",
		    when);
	return FALSE;
}
