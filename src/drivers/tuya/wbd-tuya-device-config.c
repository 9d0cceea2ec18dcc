/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-address.h"
#include "wbd-tuya-device-private.h"
#include "wbd-tuya-gateway.h"

/* A Tuya device's configuration: its settings checked, with a message naming the device. */

static gboolean
config_error(GError **error, WbdDevice *device, const gchar *message)
{
	g_set_error(error,
		    WATTBUS_ERROR,
		    WATTBUS_ERROR_INVALID_ARGUMENT,
		    "Device '%s': %s",
		    wbd_device_get_id(device),
		    message);
	return FALSE;
}

/* a hub's sub-device: no address or key of its own, its cid, a profile */
static gboolean
wbd_tuya_device_parse_sub_settings(WbdTuyaDevice *self, GHashTable *settings, GError **error)
{
	WbdDevice *device = WBD_DEVICE(self);
	WbdDevice *hub = wbd_device_get_parent(device);
	const gchar *cid = g_hash_table_lookup(settings, "node-id");
	const gchar *profile = g_hash_table_lookup(settings, "profile");
	static const gchar *const hub_keys[] = {"address", "device-id", "local-key", "version", NULL};

	if (!WBD_IS_TUYA_DEVICE(hub) || WBD_TUYA_DEVICE(hub)->cid != NULL)
		return config_error(error, device, "its gateway is not a Tuya device connected directly");
	for (guint i = 0; hub_keys[i] != NULL; i++) {
		if (g_hash_table_lookup(settings, hub_keys[i]) != NULL) {
			g_autofree gchar *msg = g_strdup_printf("%s belongs to the gateway, not to a sub-device",
								hub_keys[i]);
			return config_error(error, device, msg);
		}
	}
	if (!wbd_tuya_cid_is_valid(cid))
		return config_error(error,
				    device,
				    "node-id is missing or not a cid (the sub-device's node_id, up to 64 characters)");
	if (profile == NULL || profile[0] == '\0')
		return config_error(error, device, "a sub-device needs a profile");
	self->cid = g_strdup(cid);
	self->device_id = g_strdup(WBD_TUYA_DEVICE(hub)->device_id);
	self->version = WBD_TUYA_DEVICE(hub)->version;
	self->profile = wbd_tuya_profile_load(profile, error);
	return self->profile != NULL;
}

/* a device's settings, checked, into @self (the connection is made by the caller) */
gboolean
wbd_tuya_device_parse_settings(WbdTuyaDevice *self, GHashTable *settings, GError **error)
{
	WbdDevice *device = WBD_DEVICE(self);
	const gchar *address = g_hash_table_lookup(settings, "address");
	const gchar *device_id = g_hash_table_lookup(settings, "device-id");
	const gchar *local_key = g_hash_table_lookup(settings, "local-key");
	const gchar *version = g_hash_table_lookup(settings, "version");
	const gchar *profile = g_hash_table_lookup(settings, "profile");

	if (wbd_device_get_parent(device) != NULL)
		return wbd_tuya_device_parse_sub_settings(self, settings, error);
	if (g_hash_table_lookup(settings, "node-id") != NULL)
		return config_error(error, device, "node-id is for a hub's sub-devices (with gateway=)");
	if (!wbd_address_parse(address, WBD_TUYA_DEFAULT_PORT, &self->host, &self->port, NULL))
		return config_error(error, device, "the address is not a host or host:port");
	if (device_id == NULL || device_id[0] == '\0')
		return config_error(error, device, "device-id is missing (the Tuya device id, gwId)");
	if (strlen(device_id) > 64)
		return config_error(error, device, "device-id is longer than 64 characters");
	for (const gchar *p = device_id; *p != '\0'; p++) {
		if (!g_ascii_isgraph(*p) || *p == '"' || *p == '\\')
			return config_error(error, device, "device-id has characters that are not in Tuya ids");
	}
	self->device_id = g_strdup(device_id);
	/* the key is 16 opaque bytes, never hex-decoded; never quote it */
	if (local_key == NULL || local_key[0] == '\0')
		return config_error(error, device, "local-key is missing (16 characters, from the Tuya cloud)");
	if (strlen(local_key) != WBD_TUYA_KEY_SIZE) {
		g_autofree gchar *msg = g_strdup_printf("local-key must be exactly 16 characters, not %" G_GSIZE_FORMAT,
							strlen(local_key));
		return config_error(error, device, msg);
	}
	memcpy(self->local_key, local_key, WBD_TUYA_KEY_SIZE);
	if (version != NULL && version[0] != '\0') {
		self->version = wbd_tuya_version_from_string(version);
		if (self->version == WBD_TUYA_VERSION_UNKNOWN) {
			g_autofree gchar *clean = g_utf8_make_valid(version, MIN(strlen(version), 16));
			g_autofree gchar *msg = g_strdup_printf("protocol version '%s' is not supported (3.1, 3.2, "
								"3.3, 3.4 or 3.5)",
								clean);
			return config_error(error, device, msg);
		}
	}
	if (profile != NULL && profile[0] != '\0') {
		self->profile = wbd_tuya_profile_load(profile, error);
		if (self->profile == NULL)
			return FALSE;
	}
	return TRUE;
}
