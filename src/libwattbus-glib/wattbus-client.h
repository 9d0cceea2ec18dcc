/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__WATTBUS_GLIB_H_INSIDE__) && !defined(WATTBUS_COMPILATION)
#error "Only <wattbus-glib.h> can be included directly."
#endif

#include <gio/gio.h>

#include "wattbus-generated.h"

G_BEGIN_DECLS

/**
 * WATTBUS_DBUS_NAME:
 *
 * The well-known bus name of the Wattbus daemon.
 */
#define WATTBUS_DBUS_NAME "org.wattbus.Wattbus1"

/**
 * WATTBUS_DBUS_PATH:
 *
 * The object path of the manager and of its object manager.
 */
#define WATTBUS_DBUS_PATH "/org/wattbus/Wattbus1"

/**
 * WATTBUS_DBUS_DEVICES_PATH:
 *
 * The object path under which every device object lives.
 */
#define WATTBUS_DBUS_DEVICES_PATH "/org/wattbus/Wattbus1/Devices"

/**
 * WattbusClientFlags:
 * @WATTBUS_CLIENT_FLAGS_NONE: the client loads every device and follows them
 * @WATTBUS_CLIENT_FLAGS_DO_NOT_LOAD_DEVICES: the client loads no device: it has no
 *   #GDBusObjectManager, wattbus_client_list_devices() is empty,
 *   wattbus_client_lookup_device() finds nothing and #WattbusClient::device-added is
 *   never emitted; wattbus_client_get_device() asks the daemon for one device. For a
 *   program that acts on a device or two among many, such as a command line tool.
 *
 * How a #WattbusClient is made.
 *
 * Since: 0.2
 */
typedef enum /*< flags >*/ {
	WATTBUS_CLIENT_FLAGS_NONE = 0,
	WATTBUS_CLIENT_FLAGS_DO_NOT_LOAD_DEVICES = 1 << 0,
} WattbusClientFlags;

GType
wattbus_client_flags_get_type(void) G_GNUC_CONST;
#define WATTBUS_TYPE_CLIENT_FLAGS (wattbus_client_flags_get_type())

#define WATTBUS_TYPE_CLIENT (wattbus_client_get_type())
G_DECLARE_FINAL_TYPE(WattbusClient, wattbus_client, WATTBUS, CLIENT, GObject)

void
wattbus_client_new(GBusType bus_type,
		   GCancellable *cancellable,
		   GAsyncReadyCallback callback,
		   gpointer user_data);
WattbusClient *
wattbus_client_new_finish(GAsyncResult *res, GError **error) G_GNUC_WARN_UNUSED_RESULT;
WattbusClient *
wattbus_client_new_sync(GBusType bus_type,
			GCancellable *cancellable,
			GError **error) G_GNUC_WARN_UNUSED_RESULT;

void
wattbus_client_new_with_flags(GBusType bus_type,
			      WattbusClientFlags flags,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data);
WattbusClient *
wattbus_client_new_with_flags_sync(GBusType bus_type,
				   WattbusClientFlags flags,
				   GCancellable *cancellable,
				   GError **error) G_GNUC_WARN_UNUSED_RESULT;

WattbusClientFlags
wattbus_client_get_flags(WattbusClient *self);
GDBusConnection *
wattbus_client_get_connection(WattbusClient *self);
GDBusObjectManager *
wattbus_client_get_object_manager(WattbusClient *self);
WattbusManager *
wattbus_client_get_manager(WattbusClient *self);
WattbusManager *
wattbus_client_dup_manager(WattbusClient *self) G_GNUC_WARN_UNUSED_RESULT;
const gchar *
wattbus_client_get_name_owner(WattbusClient *self);
gchar *
wattbus_client_dup_name_owner(WattbusClient *self) G_GNUC_WARN_UNUSED_RESULT;
gboolean
wattbus_client_is_running(WattbusClient *self);
const gchar *
wattbus_client_get_daemon_version(WattbusClient *self);

GList *
wattbus_client_list_devices(WattbusClient *self) G_GNUC_WARN_UNUSED_RESULT;
WattbusObject *
wattbus_client_lookup_device(WattbusClient *self,
			     const gchar *id_or_path) G_GNUC_WARN_UNUSED_RESULT;

gchar *
wattbus_build_device_path(const gchar *id) G_GNUC_WARN_UNUSED_RESULT;
void
wattbus_client_get_device(WattbusClient *self,
			  const gchar *id_or_path,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data);
WattbusObject *
wattbus_client_get_device_finish(WattbusClient *self,
				 GAsyncResult *res,
				 GError **error) G_GNUC_WARN_UNUSED_RESULT;
WattbusObject *
wattbus_client_get_device_sync(WattbusClient *self,
			       const gchar *id_or_path,
			       GCancellable *cancellable,
			       GError **error) G_GNUC_WARN_UNUSED_RESULT;

void
wattbus_client_add_device(WattbusClient *self,
			  GVariant *settings,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data);
gchar *
wattbus_client_add_device_finish(WattbusClient *self,
				 GAsyncResult *res,
				 GError **error) G_GNUC_WARN_UNUSED_RESULT;
gchar *
wattbus_client_add_device_sync(WattbusClient *self,
			       GVariant *settings,
			       GCancellable *cancellable,
			       GError **error) G_GNUC_WARN_UNUSED_RESULT;

void
wattbus_client_remove_device(WattbusClient *self,
			     const gchar *id_or_path,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data);
gboolean
wattbus_client_remove_device_finish(WattbusClient *self, GAsyncResult *res, GError **error);
gboolean
wattbus_client_remove_device_sync(WattbusClient *self,
				  const gchar *id_or_path,
				  GCancellable *cancellable,
				  GError **error);

void
wattbus_client_discover(WattbusClient *self,
			GVariant *options,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data);
GVariant *
wattbus_client_discover_finish(WattbusClient *self,
			       GAsyncResult *res,
			       GError **error) G_GNUC_WARN_UNUSED_RESULT;
GVariant *
wattbus_client_discover_sync(WattbusClient *self,
			     GVariant *options,
			     GCancellable *cancellable,
			     GError **error) G_GNUC_WARN_UNUSED_RESULT;

void
wattbus_client_reload(WattbusClient *self,
		      GCancellable *cancellable,
		      GAsyncReadyCallback callback,
		      gpointer user_data);
gboolean
wattbus_client_reload_finish(WattbusClient *self, GAsyncResult *res, GError **error);
gboolean
wattbus_client_reload_sync(WattbusClient *self, GCancellable *cancellable, GError **error);

G_END_DECLS
