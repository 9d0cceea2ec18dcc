/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * WbdDiscoverOptions:
 * @timeout_ms: how long to listen, in milliseconds
 * @target: host or host:port to probe instead of the broadcast address, or %NULL
 */
typedef struct {
	guint timeout_ms;
	gchar *target;
} WbdDiscoverOptions;

/**
 * WbdAuthRule:
 * @interface_name: a D-Bus interface of the driver's own, e.g. "org.wattbus.Wattbus1.Tuya"
 * @method_name: a state-changing method of it
 * @action_id: the polkit action that method needs
 */
typedef struct {
	const gchar *interface_name;
	const gchar *method_name;
	const gchar *action_id;
} WbdAuthRule;

/**
 * WbdDriverInfo:
 * @name: the value of the `driver` setting, e.g. "kasa"
 * @vendor: a default for the Vendor property
 * @get_device_type: returns the #WbdDevice subclass for a configured device
 * @keys: %NULL-terminated list of driver-specific setting keys, or %NULL
 * @secret_keys: %NULL-terminated subset of @keys that are secrets, or %NULL
 * @default_poll_interval: seconds between polls when not configured
 * @discover_async: looks for devices on the network; optional
 * @discover_finish: returns a #GPtrArray of floating-free #GVariant a{sv}, each with
 *   at least "driver" and "address"
 * @validate_address: checks the `address` setting, for a driver that accepts more than
 *   host[:port] (wbd_address_parse(), the default); the error must not quote it
 * @auth_rules: the polkit action of every state-changing method of the driver's own
 *   interfaces, ended by a rule of %NULLs; %NULL if it has none. The core's table
 *   (wbd-auth.c) keeps the shared interfaces'; a method found in neither is refused.
 * @parent_key: a key of @keys naming another configured device this one is a child of
 *   (a Tuya hub's sub-device: `gateway`), or %NULL. Such a device has no address of
 *   its own, is created after the others as a child of the named device, and is not
 *   polled by the core: its parent's refresh reads it.
 *
 * What the core knows of a driver. A driver adds nothing to the core but a
 * registration line in wbd-driver-table.c.
 */
typedef struct {
	const gchar *name;
	const gchar *vendor;
	GType (*get_device_type)(void);
	const gchar *const *keys;
	const gchar *const *secret_keys;
	guint default_poll_interval;
	void (*discover_async)(const WbdDiscoverOptions *options,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data);
	GPtrArray *(*discover_finish)(GAsyncResult *res, GError **error);
	gboolean (*validate_address)(const gchar *address, GError **error);
	const WbdAuthRule *auth_rules;
	const gchar *parent_key;
} WbdDriverInfo;

void
wbd_driver_register(const WbdDriverInfo *info);
const WbdDriverInfo *
wbd_driver_lookup(const gchar *name);
GPtrArray *
wbd_driver_list(void);
gboolean
wbd_driver_is_secret_key(const WbdDriverInfo *info, const gchar *key);
gboolean
wbd_driver_is_known_key(const WbdDriverInfo *info, const gchar *key);
const gchar *
wbd_driver_lookup_action(const gchar *interface_name, const gchar *method_name);

/* registers every driver built in; defined in wbd-driver-table.c */
void
wbd_driver_table_register_all(void);

G_END_DECLS
