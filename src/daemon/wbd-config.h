/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "wbd-driver.h"

G_BEGIN_DECLS

#define WBD_CONFIG_FILE "wattbus.conf"
#define WBD_CONFIG_DROPIN_DIR "conf.d"
#define WBD_STATE_DEVICES_FILE "devices.conf"

typedef enum {
	WBD_CONFIG_ORIGIN_CONFIG, /* /etc/wattbus: read-only to the daemon */
	WBD_CONFIG_ORIGIN_STATE,  /* added with AddDevice, kept in the state directory */
} WbdConfigOrigin;

typedef struct {
	gchar *id;
	WbdConfigOrigin origin;
	GHashTable *settings; /* key → value, strings; never contains "id" */
} WbdDeviceConfig;

typedef struct {
	gchar *id;
	GHashTable *settings;
} WbdExporterConfig;

typedef struct {
	GPtrArray *devices;   /* WbdDeviceConfig, in file order */
	GPtrArray *exporters; /* WbdExporterConfig */
	GHashTable *drivers;  /* driver name → settings of its [driver NAME] group */
} WbdConfig;

void
wbd_device_config_free(WbdDeviceConfig *config);
void
wbd_config_free(WbdConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WbdDeviceConfig, wbd_device_config_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WbdConfig, wbd_config_free)

WbdConfig *
wbd_config_load(const gchar *config_dir, const gchar *state_dir, gboolean strict, GError **error);
gboolean
wbd_config_validate_id(const gchar *id, GError **error);
gboolean
wbd_config_validate_device(const gchar *id, GHashTable *settings, gboolean strict, GError **error);
typedef gboolean (*WbdConfigSecretFunc)(const gchar *kind, const gchar *key);
void
wbd_config_set_exporter_secret_func(WbdConfigSecretFunc func);
gboolean
wbd_config_check_bus_files(const gchar *id, GHashTable *settings, GError **error);
gboolean
wbd_config_validate_address(const WbdDriverInfo *info, const gchar *address, GError **error);
gboolean
wbd_config_settings_equal(GHashTable *a, GHashTable *b);
gchar *
wbd_config_make_id(const gchar *name);
GHashTable *
wbd_config_settings_from_variant(GVariant *dict, GError **error);
GHashTable *
wbd_config_settings_new(void);
gboolean
wbd_config_invalid(GError **error, const gchar *message);

const gchar *
wbd_config_get_driver_setting(const gchar *driver, const gchar *key);

void
wbd_config_set_config_dir(const gchar *dir);
const gchar *
wbd_config_get_config_dir(void);
void
wbd_config_set_state_dir(const gchar *dir);
const gchar *
wbd_config_get_state_dir(void);

gboolean
wbd_state_save_device(const gchar *state_dir, const gchar *id, GHashTable *settings, GError **error);
gboolean
wbd_state_remove_device(const gchar *state_dir, const gchar *id, GError **error);

G_END_DECLS
