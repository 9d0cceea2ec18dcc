/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wattbus-glib.h>

#include "wbd-address.h"
#include "wbd-config.h"
#include "wbd-driver.h"
#include "wbd-file.h"

#define WBD_CONFIG_MAX_FILE_SIZE (1024 * 1024)
#define WBD_CONFIG_MAX_ID_LEN 64
#define WBD_CONFIG_MAX_VALUE_LEN 4096
#define WBD_CONFIG_MAX_DEVICES 10000
/* more than any driver has keys: a bound on what an AddDevice error may list */
#define WBD_CONFIG_MAX_SETTINGS 64

/* keys every device group may have, besides the driver's own */
static const gchar *const common_keys[] = {"driver", "address", "name", "poll-interval", "enabled", NULL};

static gchar *state_dir_path = NULL;
static gchar *config_dir_path = NULL;

/**
 * wbd_config_set_config_dir:
 *
 * The daemon's configuration directory (`--config`, `$CONFIGURATION_DIRECTORY`), for
 * drivers that read files of their own next to wattbus.conf (Tuya profiles).
 */
void
wbd_config_set_config_dir(const gchar *dir)
{
	g_free(config_dir_path);
	config_dir_path = g_strdup(dir);
}

const gchar *
wbd_config_get_config_dir(void)
{
	return config_dir_path != NULL ? config_dir_path : WATTBUS_CONFDIR;
}

/**
 * wbd_config_set_state_dir:
 *
 * Where the daemon keeps its state (`--state-dir`, `$STATE_DIRECTORY`); drivers and
 * exporters that keep state of their own (certificate pins, spools) ask
 * wbd_config_get_state_dir().
 */
void
wbd_config_set_state_dir(const gchar *dir)
{
	g_free(state_dir_path);
	state_dir_path = g_strdup(dir);
}

const gchar *
wbd_config_get_state_dir(void)
{
	return state_dir_path != NULL ? state_dir_path : WATTBUS_STATEDIR;
}

/**
 * wbd_config_invalid:
 *
 * Sets a %WATTBUS_ERROR_INVALID_ARGUMENT error for a bad setting (never quote a secret
 * in @message).
 *
 * Returns: %FALSE, for `return wbd_config_invalid (error, "...");`
 */
gboolean
wbd_config_invalid(GError **error, const gchar *message)
{
	g_set_error_literal(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT, message);
	return FALSE;
}

GHashTable *
wbd_config_settings_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

void
wbd_device_config_free(WbdDeviceConfig *config)
{
	if (config == NULL)
		return;
	g_free(config->id);
	g_clear_pointer(&config->settings, g_hash_table_unref);
	g_free(config);
}

static void
wbd_exporter_config_free(WbdExporterConfig *config)
{
	g_free(config->id);
	g_clear_pointer(&config->settings, g_hash_table_unref);
	g_free(config);
}

void
wbd_config_free(WbdConfig *config)
{
	if (config == NULL)
		return;
	g_clear_pointer(&config->devices, g_ptr_array_unref);
	g_clear_pointer(&config->exporters, g_ptr_array_unref);
	g_clear_pointer(&config->drivers, g_hash_table_unref);
	g_free(config);
}

gboolean
wbd_config_validate_id(const gchar *id, GError **error)
{
	gsize len = id != NULL ? strlen(id) : 0;
	if (len == 0 || len > WBD_CONFIG_MAX_ID_LEN) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "A device id must have 1 to %d characters",
			    WBD_CONFIG_MAX_ID_LEN);
		return FALSE;
	}
	for (const gchar *p = id; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_') {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "Device id '%s' may only have letters, digits, '-' and '_'",
				    g_utf8_validate(id, -1, NULL) ? id : "(not UTF-8)");
			return FALSE;
		}
	}
	return TRUE;
}

/* "Living Room plug #2" → "living-room-plug-2" */
gchar *
wbd_config_make_id(const gchar *name)
{
	GString *id = g_string_new(NULL);
	gboolean dash = FALSE;
	for (const gchar *p = name; p != NULL && *p != '\0'; p++) {
		if (g_ascii_isalnum(*p)) {
			gboolean sep = dash && id->len > 0;
			/* the separator and the character must both fit */
			if (id->len + (sep ? 2 : 1) > WBD_CONFIG_MAX_ID_LEN)
				break;
			if (sep)
				g_string_append_c(id, '-');
			g_string_append_c(id, g_ascii_tolower(*p));
			dash = FALSE;
		} else {
			dash = TRUE;
		}
	}
	if (id->len == 0)
		g_string_append(id, "device");
	return g_string_free(id, FALSE);
}

/**
 * wbd_config_validate_address:
 *
 * Checks a device's `address` as its driver wants it: host[:port]
 * (wbd_address_parse()) unless the driver has a check of its own. The error does not
 * quote @address, which may hold a password.
 */
gboolean
wbd_config_validate_address(const WbdDriverInfo *info, const gchar *address, GError **error)
{
	if (info != NULL && info->validate_address != NULL)
		return info->validate_address(address, error);
	return wbd_address_parse(address, 0, NULL, NULL, error);
}

/* a setting whose key ends in -file names a file (ca-file...) */
static gboolean
is_file_key(const gchar *key)
{
	return g_str_has_suffix(key, "-file");
}

/**
 * wbd_config_check_bus_files:
 *
 * The file settings (keys ending in `-file`) of a device whose settings came over
 * D-Bus (AddDevice, and the devices it stored): the daemon reads them with its own
 * rights on behalf of the caller, so they must be in the configuration directory (the
 * admin's, read-only to the daemon) and be regular files, not symbolic links, of at
 * most %WBD_FILE_MAX_SIZE bytes. Checked again when the driver reads the file, off the
 * main loop.
 */
gboolean
wbd_config_check_bus_files(const gchar *id, GHashTable *settings, GError **error)
{
	const gchar *config_dir = wbd_config_get_config_dir();
	g_autofree gchar *dir = g_canonicalize_filename(config_dir, "/");
	g_autofree gchar *prefix = g_str_has_suffix(dir, "/") ? g_strdup(dir)
							       : g_strconcat(dir, "/", NULL);
	GHashTableIter iter;
	const gchar *key;
	const gchar *value;

	g_hash_table_iter_init(&iter, settings);
	while (g_hash_table_iter_next(&iter, (gpointer *)&key, (gpointer *)&value)) {
		g_autofree gchar *canonical = NULL;
		g_autoptr(GError) problem = NULL;
		if (!is_file_key(key) || value[0] == '\0')
			continue;
		canonical = g_canonicalize_filename(value, "/");
		if (!g_path_is_absolute(value) || g_strcmp0(canonical, value) != 0 ||
		    !g_str_has_prefix(canonical, prefix)) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "Device '%s': %s %s: a file given over D-Bus must be in the "
				    "configuration directory %s (an absolute path without '..')",
				    id,
				    key,
				    value,
				    config_dir);
			return FALSE;
		}
		if (!wbd_file_check(value, WBD_FILE_MAX_SIZE, &problem)) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "Device '%s': %s: %s",
				    id,
				    key,
				    problem->message);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
validate_poll_interval(const gchar *id, const gchar *value, GError **error)
{
	guint64 v = 0;
	if (!g_ascii_string_to_unsigned(value, 10, 1, 86400, &v, NULL)) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "Device '%s': poll-interval must be a whole number of seconds from 1 to 86400",
			    id);
		return FALSE;
	}
	return TRUE;
}

/**
 * wbd_config_validate_device:
 * @strict: whether an unknown key is an error (AddDevice, Reload) or only worth a warning
 *
 * Checks the settings of one device. Values are never quoted in errors when they
 * may be secrets.
 */
gboolean
wbd_config_validate_device(const gchar *id, GHashTable *settings, gboolean strict, GError **error)
{
	const gchar *driver_name = g_hash_table_lookup(settings, "driver");
	const gchar *address = g_hash_table_lookup(settings, "address");
	const gchar *value;
	const WbdDriverInfo *info;
	GHashTableIter iter;
	const gchar *key;
	g_autoptr(GPtrArray) unknown = g_ptr_array_new();
	g_autoptr(GError) problem = NULL;
	gboolean child;

	if (!wbd_config_validate_id(id, error))
		return FALSE;
	if (driver_name == NULL || driver_name[0] == '\0') {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "Device '%s' has no driver (for example driver=kasa)",
			    id);
		return FALSE;
	}
	info = wbd_driver_lookup(driver_name);
	if (info == NULL) {
		g_autoptr(GPtrArray) list = wbd_driver_list();
		g_autoptr(GString) names = g_string_new(NULL);
		for (guint i = 0; i < list->len; i++) {
			const WbdDriverInfo *d = g_ptr_array_index(list, i);
			g_string_append_printf(names, "%s%s", i > 0 ? ", " : "", d->name);
		}
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "Device '%s': unknown driver '%s' (known: %s)",
			    id,
			    g_utf8_validate(driver_name, -1, NULL) ? driver_name : "?",
			    names->str);
		return FALSE;
	}
	/* a child (a hub's sub-device) is reached through its parent: no address */
	child = info->parent_key != NULL && g_hash_table_lookup(settings, info->parent_key) != NULL &&
		address == NULL;
	if (!child && (address == NULL || address[0] == '\0')) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "Device '%s' has no address (host or host:port)",
			    id);
		return FALSE;
	}
	if (child)
		address = "";
	for (const gchar *p = address; *p != '\0'; p++) {
		if (g_ascii_isspace(*p) || g_ascii_iscntrl(*p)) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "Device '%s': the address may not contain spaces or control characters",
				    id);
			return FALSE;
		}
	}
	value = g_hash_table_lookup(settings, "poll-interval");
	if (value != NULL && !validate_poll_interval(id, value, error))
		return FALSE;
	value = g_hash_table_lookup(settings, "enabled");
	if (value != NULL && g_strcmp0(value, "true") != 0 && g_strcmp0(value, "false") != 0) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "Device '%s': enabled must be true or false",
			    id);
		return FALSE;
	}

	g_hash_table_iter_init(&iter, settings);
	while (g_hash_table_iter_next(&iter, (gpointer *)&key, (gpointer *)&value)) {
		if (!g_utf8_validate(value, -1, NULL) || strlen(value) > WBD_CONFIG_MAX_VALUE_LEN) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "Device '%s': the value of '%s' is not valid UTF-8 or longer than %d bytes",
				    id,
				    key,
				    WBD_CONFIG_MAX_VALUE_LEN);
			return FALSE;
		}
		if (!g_strv_contains(common_keys, key) && !wbd_driver_is_known_key(info, key))
			g_ptr_array_add(unknown, (gpointer)key);
		else if (is_file_key(key) && value[0] != '\0' && !g_path_is_absolute(value)) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "Device '%s': %s must be an absolute path",
				    id,
				    key);
			return FALSE;
		}
	}
	if (!child && !wbd_config_validate_address(info, address, &problem)) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "Device '%s': %s",
			    id,
			    problem->message);
		return FALSE;
	}
	if (unknown->len > 0) {
		g_autoptr(GString) keys = g_string_new(NULL);
		for (guint i = 0; i < unknown->len; i++)
			g_string_append_printf(keys,
					       "%s'%s'",
					       i > 0 ? ", " : "",
					       (const gchar *)g_ptr_array_index(unknown, i));
		if (strict) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "Device '%s': unknown setting %s for driver %s",
				    id,
				    keys->str,
				    info->name);
			return FALSE;
		}
		g_warning("device '%s': ignoring unknown setting %s for driver %s",
			  id,
			  keys->str,
			  info->name);
	}
	return TRUE;
}

gboolean
wbd_config_settings_equal(GHashTable *a, GHashTable *b)
{
	GHashTableIter iter;
	gpointer key, value;
	if (g_hash_table_size(a) != g_hash_table_size(b))
		return FALSE;
	g_hash_table_iter_init(&iter, a);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		if (g_strcmp0(value, g_hash_table_lookup(b, key)) != 0)
			return FALSE;
	}
	return TRUE;
}

/**
 * wbd_config_settings_from_variant:
 * @dict: an a{sv} from AddDevice
 *
 * Returns: (transfer full): the settings, with "id" kept as a key for the caller
 */
GHashTable *
wbd_config_settings_from_variant(GVariant *dict, GError **error)
{
	g_autoptr(GHashTable) settings = wbd_config_settings_new();
	GVariantIter iter;
	const gchar *key;
	GVariant *value;

	if (g_variant_n_children(dict) > WBD_CONFIG_MAX_SETTINGS) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "A device takes at most %d settings",
			    WBD_CONFIG_MAX_SETTINGS);
		return NULL;
	}
	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) v = value;
		gchar *str = NULL;

		if (g_variant_is_of_type(v, G_VARIANT_TYPE_STRING)) {
			/* as the config files do, so that a stored device reads back the same */
			str = g_strstrip(g_variant_dup_string(v, NULL));
		} else if (g_strcmp0(key, "poll-interval") == 0 &&
			   g_variant_is_of_type(v, G_VARIANT_TYPE_UINT32)) {
			str = g_strdup_printf("%u", g_variant_get_uint32(v));
		} else if (g_strcmp0(key, "enabled") == 0 &&
			   g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN)) {
			str = g_strdup(g_variant_get_boolean(v) ? "true" : "false");
		} else {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "Setting '%s' must be a string (s), not %s",
				    key,
				    g_variant_get_type_string(v));
			return NULL;
		}
		if (g_hash_table_contains(settings, key)) {
			g_free(str);
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "Setting '%s' is given twice",
				    key);
			return NULL;
		}
		g_hash_table_insert(settings, g_strdup(key), str);
	}
	return g_steal_pointer(&settings);
}

static GHashTable *
settings_from_group(GKeyFile *kf, const gchar *group)
{
	g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);
	GHashTable *settings = wbd_config_settings_new();
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		g_autofree gchar *value = g_key_file_get_string(kf, group, keys[i], NULL);
		if (value != NULL)
			g_hash_table_insert(settings, g_strdup(keys[i]), g_strstrip(g_steal_pointer(&value)));
	}
	return settings;
}

static gboolean
config_fail(gboolean strict, GError **error, GError *problem)
{
	if (strict) {
		g_propagate_error(error, problem);
		return FALSE;
	}
	g_warning("%s", problem->message);
	g_error_free(problem);
	return TRUE;
}

static WbdConfigSecretFunc exporter_secret_func = NULL;

/**
 * wbd_config_set_exporter_secret_func:
 *
 * How the core knows which keys of an `[exporter ID]` group are secrets (the exporter
 * kinds are not the core's): set by the exporters' registration.
 */
void
wbd_config_set_exporter_secret_func(WbdConfigSecretFunc func)
{
	exporter_secret_func = func;
}

static gboolean
group_key_is_secret(GKeyFile *kf, const gchar *group, const gchar *key)
{
	if (g_str_has_prefix(group, "device ")) {
		g_autofree gchar *driver = g_key_file_get_string(kf, group, "driver", NULL);
		const WbdDriverInfo *info = driver != NULL ? wbd_driver_lookup(g_strstrip(driver)) : NULL;
		return info != NULL && wbd_driver_is_secret_key(info, key);
	}
	if (g_str_has_prefix(group, "driver ")) {
		/* [driver kasa]: the account every Kasa/Tapo device falls back on */
		const WbdDriverInfo *info = wbd_driver_lookup(group + strlen("driver "));
		return info != NULL && wbd_driver_is_secret_key(info, key);
	}
	if (g_str_has_prefix(group, "exporter ") && exporter_secret_func != NULL) {
		g_autofree gchar *kind = g_key_file_get_string(kf, group, "kind", NULL);
		return kind != NULL && exporter_secret_func(g_strstrip(kind), key);
	}
	return FALSE;
}

/*
 * A file that holds a secret (a local key, a token, a password) must not be readable by
 * other users: 0640 root:wattbus (README). Warn, naming the file and the keys, never a
 * value: readable by others, or by a group that is neither root's nor the daemon's.
 */
static void
config_warn_exposed_secrets(const gchar *path, GKeyFile *kf, GStrv groups)
{
	g_autoptr(GString) keys = g_string_new(NULL);
	GStatBuf st;

	if (g_stat(path, &st) != 0)
		return;
	if ((st.st_mode & S_IROTH) == 0 &&
	    ((st.st_mode & S_IRGRP) == 0 || st.st_gid == 0 || st.st_gid == getegid()))
		return;
	for (guint i = 0; groups[i] != NULL; i++) {
		g_auto(GStrv) names = g_key_file_get_keys(kf, groups[i], NULL, NULL);
		for (guint j = 0; names != NULL && names[j] != NULL; j++) {
			if (group_key_is_secret(kf, groups[i], names[j]))
				g_string_append_printf(keys,
						       "%s'%s' in [%s]",
						       keys->len > 0 ? ", " : "",
						       names[j],
						       groups[i]);
		}
	}
	if (keys->len > 0)
		g_warning("%s holds the secret %s but is readable by %s (mode %04o): "
			  "chmod 0640 and chown root:wattbus it",
			  path,
			  keys->str,
			  (st.st_mode & S_IROTH) != 0 ? "every user" : "its group",
			  (guint)(st.st_mode & 07777));
}

static gint
find_device(WbdConfig *config, const gchar *id)
{
	for (guint i = 0; i < config->devices->len; i++) {
		WbdDeviceConfig *dev = g_ptr_array_index(config->devices, i);
		if (g_strcmp0(dev->id, id) == 0)
			return (gint)i;
	}
	return -1;
}

/* the settings of the last configuration loaded: [driver NAME] groups */
static GHashTable *driver_settings;

/*
 * [driver NAME]: settings every device of the driver falls back on (e.g. one TP-Link
 * account for every Kasa/Tapo device); only the driver's own keys.
 */
static gboolean
config_driver_group(WbdConfig *config, const gchar *name, GHashTable *settings, GError **error)
{
	const WbdDriverInfo *info = wbd_driver_lookup(name);
	GHashTableIter iter;
	gpointer key;

	if (info == NULL) {
		g_set_error(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT, "[driver %s]: unknown driver", name);
		return FALSE;
	}
	g_hash_table_iter_init(&iter, settings);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		if (info->keys == NULL || !g_strv_contains(info->keys, key)) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "[driver %s]: unknown setting %s",
				    name,
				    (const gchar *)key);
			return FALSE;
		}
	}
	g_hash_table_replace(config->drivers, g_strdup(name), g_hash_table_ref(settings));
	return TRUE;
}

/**
 * wbd_config_get_driver_setting:
 *
 * Returns: the value of @key in the [driver @driver] group of the configuration last
 * loaded, or %NULL
 */
const gchar *
wbd_config_get_driver_setting(const gchar *driver, const gchar *key)
{
	GHashTable *settings = driver_settings != NULL ? g_hash_table_lookup(driver_settings, driver) : NULL;
	return settings != NULL ? g_hash_table_lookup(settings, key) : NULL;
}

static gboolean
config_load_file(WbdConfig *config,
		 const gchar *path,
		 WbdConfigOrigin origin,
		 gboolean strict,
		 GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) local_error = NULL;
	g_autofree gchar *contents = NULL;
	g_auto(GStrv) groups = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &contents, &len, &local_error)) {
		if (g_error_matches(local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return TRUE;
		return config_fail(strict,
				   error,
				   g_error_new(WATTBUS_ERROR,
					       WATTBUS_ERROR_INVALID_ARGUMENT,
					       "Cannot read %s: %s",
					       path,
					       local_error->message));
	}
	if (len > WBD_CONFIG_MAX_FILE_SIZE)
		return config_fail(strict,
				   error,
				   g_error_new(WATTBUS_ERROR,
					       WATTBUS_ERROR_INVALID_ARGUMENT,
					       "%s is larger than %d bytes",
					       path,
					       WBD_CONFIG_MAX_FILE_SIZE));
	if (!g_key_file_load_from_data(kf, contents, len, G_KEY_FILE_NONE, &local_error))
		return config_fail(strict,
				   error,
				   g_error_new(WATTBUS_ERROR,
					       WATTBUS_ERROR_INVALID_ARGUMENT,
					       "%s: %s",
					       path,
					       local_error->message));

	groups = g_key_file_get_groups(kf, NULL);
	config_warn_exposed_secrets(path, kf, groups);
	for (guint i = 0; groups[i] != NULL; i++) {
		g_autoptr(GHashTable) settings = settings_from_group(kf, groups[i]);
		GError *problem = NULL;
		const gchar *id;

		if (g_str_has_prefix(groups[i], "device ")) {
			WbdDeviceConfig *dev;
			gint existing;

			id = groups[i] + strlen("device ");
			g_hash_table_remove(settings, "id");
			if (!wbd_config_validate_device(id, settings, strict, &problem) ||
			    (origin == WBD_CONFIG_ORIGIN_STATE &&
			     !wbd_config_check_bus_files(id, settings, &problem))) {
				g_prefix_error(&problem, "%s: ", path);
				if (!config_fail(strict, error, problem))
					return FALSE;
				continue;
			}
			if (config->devices->len >= WBD_CONFIG_MAX_DEVICES) {
				if (!config_fail(strict,
						 error,
						 g_error_new(WATTBUS_ERROR,
							     WATTBUS_ERROR_INVALID_ARGUMENT,
							     "More than %d devices configured",
							     WBD_CONFIG_MAX_DEVICES)))
					return FALSE;
				break;
			}
			existing = find_device(config, id);
			if (existing >= 0) {
				WbdDeviceConfig *old = g_ptr_array_index(config->devices, existing);
				if (old->origin == WBD_CONFIG_ORIGIN_CONFIG &&
				    origin == WBD_CONFIG_ORIGIN_STATE) {
					g_warning("%s: device '%s' is also configured in the "
						  "configuration files, which take precedence",
						  path,
						  id);
					continue;
				}
				g_debug("%s: device '%s' replaces an earlier group", path, id);
				g_ptr_array_remove_index(config->devices, existing);
			}
			dev = g_new0(WbdDeviceConfig, 1);
			dev->id = g_strdup(id);
			dev->origin = origin;
			dev->settings = g_steal_pointer(&settings);
			g_ptr_array_add(config->devices, dev);
		} else if (g_str_has_prefix(groups[i], "driver ") && origin == WBD_CONFIG_ORIGIN_CONFIG) {
			if (!config_driver_group(config, groups[i] + strlen("driver "), settings, &problem)) {
				g_prefix_error(&problem, "%s: ", path);
				if (!config_fail(strict, error, problem))
					return FALSE;
				continue;
			}
		} else if (g_str_has_prefix(groups[i], "exporter ") && origin == WBD_CONFIG_ORIGIN_CONFIG) {
			WbdExporterConfig *exp = g_new0(WbdExporterConfig, 1);
			exp->id = g_strdup(groups[i] + strlen("exporter "));
			exp->settings = g_steal_pointer(&settings);
			g_ptr_array_add(config->exporters, exp);
		} else {
			problem = g_error_new(WATTBUS_ERROR,
					      WATTBUS_ERROR_INVALID_ARGUMENT,
					      "%s: unknown group [%s] (expected [device ID], [driver NAME] or [exporter ID])",
					      path,
					      groups[i]);
			if (!config_fail(strict, error, problem))
				return FALSE;
		}
	}
	return TRUE;
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar **)a, *(const gchar **)b);
}

/**
 * wbd_config_load:
 * @strict: fail on the first problem (Reload) instead of skipping bad groups with a
 *   warning (start-up, so one typo does not take every device away)
 *
 * Reads CONFIG_DIR/wattbus.conf, then CONFIG_DIR/conf.d/ *.conf in alphabetical order
 * (a later group of the same name replaces an earlier one as a whole), then the
 * devices added over D-Bus from STATE_DIR/devices.conf.
 */
WbdConfig *
wbd_config_load(const gchar *config_dir, const gchar *state_dir, gboolean strict, GError **error)
{
	g_autoptr(WbdConfig) config = g_new0(WbdConfig, 1);
	g_autofree gchar *main_path = g_build_filename(config_dir, WBD_CONFIG_FILE, NULL);
	g_autofree gchar *dropin_path = g_build_filename(config_dir, WBD_CONFIG_DROPIN_DIR, NULL);
	g_autoptr(GDir) dir = NULL;
	g_autoptr(GPtrArray) dropins = g_ptr_array_new_with_free_func(g_free);

	config->devices = g_ptr_array_new_with_free_func((GDestroyNotify)wbd_device_config_free);
	config->exporters = g_ptr_array_new_with_free_func((GDestroyNotify)wbd_exporter_config_free);
	config->drivers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_hash_table_unref);

	if (!config_load_file(config, main_path, WBD_CONFIG_ORIGIN_CONFIG, strict, error))
		return NULL;
	dir = g_dir_open(dropin_path, 0, NULL);
	if (dir != NULL) {
		const gchar *name;
		while ((name = g_dir_read_name(dir)) != NULL) {
			if (g_str_has_suffix(name, ".conf") && name[0] != '.')
				g_ptr_array_add(dropins, g_build_filename(dropin_path, name, NULL));
		}
		g_ptr_array_sort(dropins, compare_strings);
	}
	for (guint i = 0; i < dropins->len; i++) {
		if (!config_load_file(config,
				      g_ptr_array_index(dropins, i),
				      WBD_CONFIG_ORIGIN_CONFIG,
				      strict,
				      error))
			return NULL;
	}
	if (state_dir != NULL) {
		g_autofree gchar *state_path = g_build_filename(state_dir, WBD_STATE_DEVICES_FILE, NULL);
		/* the daemon wrote this file itself: a bad entry must not stop a reload */
		if (!config_load_file(config, state_path, WBD_CONFIG_ORIGIN_STATE, FALSE, error))
			return NULL;
	}
	g_clear_pointer(&driver_settings, g_hash_table_unref);
	driver_settings = g_hash_table_ref(config->drivers);
	return g_steal_pointer(&config);
}

static GKeyFile *
state_load(const gchar *path, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) local_error = NULL;
	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_KEEP_COMMENTS, &local_error) &&
	    !g_error_matches(local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_FAILED,
			    "Cannot read %s: %s",
			    path,
			    local_error->message);
		return NULL;
	}
	return g_steal_pointer(&kf);
}

/* the state file holds secrets: written atomically, readable by the daemon only */
static gboolean
state_write(GKeyFile *kf, const gchar *state_dir, const gchar *path, GError **error)
{
	g_autofree gchar *data = g_key_file_to_data(kf, NULL, NULL);
	g_autoptr(GError) local_error = NULL;
	if (g_mkdir_with_parents(state_dir, 0750) != 0) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_FAILED,
			    "Cannot create the state directory %s: %s",
			    state_dir,
			    g_strerror(errno));
		return FALSE;
	}
	if (!g_file_set_contents_full(path,
				      data,
				      -1,
				      G_FILE_SET_CONTENTS_CONSISTENT,
				      0600,
				      &local_error)) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_FAILED,
			    "Cannot save the device: %s",
			    local_error->message);
		return FALSE;
	}
	return TRUE;
}

gboolean
wbd_state_save_device(const gchar *state_dir, const gchar *id, GHashTable *settings, GError **error)
{
	g_autofree gchar *path = g_build_filename(state_dir, WBD_STATE_DEVICES_FILE, NULL);
	g_autofree gchar *group = g_strconcat("device ", id, NULL);
	g_autoptr(GKeyFile) kf = state_load(path, error);
	g_autoptr(GList) keys = NULL;

	if (kf == NULL)
		return FALSE;
	g_key_file_remove_group(kf, group, NULL);
	keys = g_list_sort(g_hash_table_get_keys(settings), (GCompareFunc)g_strcmp0);
	for (GList *l = keys; l != NULL; l = l->next)
		g_key_file_set_string(kf, group, l->data, g_hash_table_lookup(settings, l->data));
	return state_write(kf, state_dir, path, error);
}

gboolean
wbd_state_remove_device(const gchar *state_dir, const gchar *id, GError **error)
{
	g_autofree gchar *path = g_build_filename(state_dir, WBD_STATE_DEVICES_FILE, NULL);
	g_autofree gchar *group = g_strconcat("device ", id, NULL);
	g_autoptr(GKeyFile) kf = state_load(path, error);
	if (kf == NULL)
		return FALSE;
	if (!g_key_file_remove_group(kf, group, NULL))
		return TRUE;
	return state_write(kf, state_dir, path, error);
}
