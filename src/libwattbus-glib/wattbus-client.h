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
