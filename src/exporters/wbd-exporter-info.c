/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <wattbus-glib.h>

#include "wbd-config.h"
#include "wbd-exporter-info.h"

#define WBD_EXPORTER_MAX_ID_LEN 64
#define WBD_EXPORTER_MAX_VALUE_LEN 4096

static GPtrArray *kinds = NULL; /* of const WbdExporterInfo * */

/* keys every [exporter ID] group may have, besides the kind's own (see README.md) */
static const gchar *const common_keys[] = {"kind",
					   "enabled",
					   "devices",
					   "values",
					   "interval",
					   "min-interval",
					   "deadband",
					   "max-queued",
					   "batch-size",
					   "timeout",
					   NULL};

/* for the core's check of who may read a configuration file with secrets */
static gboolean
wbd_exporter_info_key_is_secret(const gchar *kind, const gchar *key)
{
	const WbdExporterInfo *info = wbd_exporter_info_lookup(kind);
	return info != NULL && wbd_exporter_info_is_secret_key(info, key);
}

void
wbd_exporter_info_register(const WbdExporterInfo *info)
{
	g_return_if_fail(info != NULL && info->kind != NULL);
	if (kinds == NULL) {
		kinds = g_ptr_array_new();
		wbd_config_set_exporter_secret_func(wbd_exporter_info_key_is_secret);
	}
	if (wbd_exporter_info_lookup(info->kind) == NULL)
		g_ptr_array_add(kinds, (gpointer)info);
}

const WbdExporterInfo *
wbd_exporter_info_lookup(const gchar *kind)
{
	for (guint i = 0; kinds != NULL && kind != NULL && i < kinds->len; i++) {
		const WbdExporterInfo *info = g_ptr_array_index(kinds, i);
		if (g_strcmp0(info->kind, kind) == 0)
			return info;
	}
	return NULL;
}

void
wbd_exporter_info_shutdown_all(void)
{
	g_autoptr(GPtrArray) called = g_ptr_array_new();
	for (guint i = 0; kinds != NULL && i < kinds->len; i++) {
		const WbdExporterInfo *info = g_ptr_array_index(kinds, i);
		if (info->shutdown == NULL ||
		    g_ptr_array_find(called, (gconstpointer)info->shutdown, NULL))
			continue;
		g_ptr_array_add(called, (gpointer)info->shutdown);
		info->shutdown();
	}
}

gboolean
wbd_exporter_info_is_secret_key(const WbdExporterInfo *info, const gchar *key)
{
	return info->secret_keys != NULL && g_strv_contains(info->secret_keys, key);
}

static gboolean
validate_id(const gchar *id, GError **error)
{
	gsize len = id != NULL ? strlen(id) : 0;
	gboolean ok = len > 0 && len <= WBD_EXPORTER_MAX_ID_LEN;
	for (const gchar *p = id; ok && *p != '\0'; p++)
		ok = g_ascii_isalnum(*p) || *p == '-' || *p == '_';
	if (!ok)
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "An exporter id must have 1 to %d letters, digits, '-' or '_'",
			    WBD_EXPORTER_MAX_ID_LEN);
	return ok;
}

/**
 * wbd_exporter_info_validate:
 * @strict: whether an unknown key is an error (Reload) or only worth a warning
 *
 * Checks what every exporter group needs: a valid id, a known kind, no unknown key.
 * The kind checks its own values when the exporter is configured. Values are never
 * quoted in errors, as they may be secrets.
 */
gboolean
wbd_exporter_info_validate(const gchar *id, GHashTable *settings, gboolean strict, GError **error)
{
	const gchar *kind = g_hash_table_lookup(settings, "kind");
	const WbdExporterInfo *info;
	g_autoptr(GString) unknown = g_string_new(NULL);
	GHashTableIter iter;
	const gchar *key;
	const gchar *value;

	if (!validate_id(id, error))
		return FALSE;
	info = wbd_exporter_info_lookup(kind);
	if (info == NULL) {
		g_autoptr(GString) names = g_string_new(NULL);
		for (guint i = 0; kinds != NULL && i < kinds->len; i++)
			g_string_append_printf(
			    names,
			    "%s%s",
			    i > 0 ? ", " : "",
			    ((const WbdExporterInfo *)g_ptr_array_index(kinds, i))->kind);
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "Exporter '%s': %s kind (known: %s)",
			    id,
			    kind == NULL ? "no" : "unknown",
			    names->str);
		return FALSE;
	}
	g_hash_table_iter_init(&iter, settings);
	while (g_hash_table_iter_next(&iter, (gpointer *)&key, (gpointer *)&value)) {
		if (!g_utf8_validate(value, -1, NULL) ||
		    strlen(value) > WBD_EXPORTER_MAX_VALUE_LEN) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "Exporter '%s': the value of '%s' is not valid UTF-8 or longer "
				    "than %d bytes",
				    id,
				    key,
				    WBD_EXPORTER_MAX_VALUE_LEN);
			return FALSE;
		}
		if (!g_strv_contains(common_keys, key) &&
		    (info->keys == NULL || !g_strv_contains(info->keys, key)))
			g_string_append_printf(unknown,
					       "%s'%s'",
					       unknown->len > 0 ? ", " : "",
					       key);
	}
	if (unknown->len > 0) {
		if (strict) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "Exporter '%s': unknown setting %s for kind %s",
				    id,
				    unknown->str,
				    info->kind);
			return FALSE;
		}
		g_warning("exporter '%s': ignoring unknown setting %s for kind %s",
			  id,
			  unknown->str,
			  info->kind);
	}
	return TRUE;
}
