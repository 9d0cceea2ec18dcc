/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#include "wbd-meter-reading.h"

/*
 * The main-loop priority of polling work (the schedule of polls, and a driver's I/O
 * for a poll): below D-Bus method calls and the I/O of a command, so that a TurnOn
 * is not queued behind a burst of polls.
 */
#define WBD_DEVICE_POLL_PRIORITY (G_PRIORITY_DEFAULT + 20)

#define WBD_TYPE_DEVICE (wbd_device_get_type())
G_DECLARE_DERIVABLE_TYPE(WbdDevice, wbd_device, WBD, DEVICE, GObject)

/**
 * WbdDeviceClass:
 * @configure: reads the driver's own keys from @settings (a table of string keys to
 *   string values, already checked for unknown keys); returns %FALSE with a
 *   %WATTBUS_ERROR_INVALID_ARGUMENT error for a bad value. Called once, before the
 *   device is exported. Optional.
 * @start: called once the device is exported, before the first poll. Optional.
 * @refresh_async: polls the device once and reports what it read with the
 *   wbd_device_set_*() functions. Required, except for children that their parent
 *   polls: leave it %NULL there and the core refreshes the parent instead.
 * @refresh_finish: finishes @refresh_async.
 * @set_on_async: switches the outlet and confirms the new state, reporting it with
 *   wbd_device_set_on() before completing. Required for devices that add the outlet
 *   capability.
 * @set_on_finish: finishes @set_on_async.
 * @stop: closes connections and cancels the driver's own work; called when the device
 *   is removed or re-created. Optional.
 * @command_async: sets the writable D-Bus property @property (e.g. `On`, `Valve`) to
 *   @value on the device, checked as the D-Bus method that sets it checks it, for
 *   callers that are not on D-Bus (exporters taking commands from a broker). The
 *   default handles `On` (a boolean, through @set_on_async) and gives
 *   %WATTBUS_ERROR_NOT_SUPPORTED for anything else; drivers with writable properties of
 *   their own override it and chain up for the rest. Optional.
 * @command_finish: finishes @command_async.
 * @forget: the device is removed for good (RemoveDevice), not only stopped: deletes
 *   what the driver keeps of it on disk (a certificate pin). Called after @stop.
 *   Optional.
 *
 * The base class does the rest: D-Bus objects, authorization, the poll timer with its
 * back-off, time-outs, Online/LastSeen/LastError, and batching changes.
 * Drivers never touch D-Bus.
 */
struct _WbdDeviceClass {
	GObjectClass parent_class;

	gboolean (*configure)(WbdDevice *self, GHashTable *settings, GError **error);
	void (*start)(WbdDevice *self);
	void (*refresh_async)(WbdDevice *self,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data);
	gboolean (*refresh_finish)(WbdDevice *self, GAsyncResult *res, GError **error);
	void (*set_on_async)(WbdDevice *self,
			     gboolean on,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data);
	gboolean (*set_on_finish)(WbdDevice *self, GAsyncResult *res, GError **error);
	void (*stop)(WbdDevice *self);
	void (*command_async)(WbdDevice *self,
			      const gchar *property,
			      GVariant *value,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data);
	gboolean (*command_finish)(WbdDevice *self, GAsyncResult *res, GError **error);
	void (*forget)(WbdDevice *self);

	gpointer padding[5];
};

typedef enum {
	WBD_DEVICE_CAP_NONE = 0,
	WBD_DEVICE_CAP_OUTLET = 1 << 0,
	WBD_DEVICE_CAP_ELECTRICITY_METER = 1 << 1,
} WbdDeviceCaps;

/* identity, for the core and the drivers */
const gchar *
wbd_device_get_id(WbdDevice *self);
const gchar *
wbd_device_get_driver_name(WbdDevice *self);
const gchar *
wbd_device_get_address(WbdDevice *self);
const gchar *
wbd_device_get_object_path(WbdDevice *self);
GDBusObjectSkeleton *
wbd_device_get_object(WbdDevice *self);
WbdDevice *
wbd_device_get_parent(WbdDevice *self);
GPtrArray *
wbd_device_get_children(WbdDevice *self);
GHashTable *
wbd_device_get_settings(WbdDevice *self);
guint
wbd_device_get_poll_interval(WbdDevice *self);
gboolean
wbd_device_get_online(WbdDevice *self);
gboolean
wbd_device_get_on(WbdDevice *self);
WbdDeviceCaps
wbd_device_get_capabilities(WbdDevice *self);
gchar *
wbd_device_build_object_path(const gchar *id);

/* for the drivers: what the device said */
void
wbd_device_set_capabilities(WbdDevice *self, WbdDeviceCaps caps);
void
wbd_device_set_kind(WbdDevice *self, const gchar *kind);
void
wbd_device_set_vendor(WbdDevice *self, const gchar *vendor);
void
wbd_device_set_model(WbdDevice *self, const gchar *model);
void
wbd_device_set_serial_number(WbdDevice *self, const gchar *serial);
void
wbd_device_set_firmware_version(WbdDevice *self, const gchar *version);
void
wbd_device_set_hardware_version(WbdDevice *self, const gchar *version);
void
wbd_device_set_mac_address(WbdDevice *self, const gchar *mac);
void
wbd_device_set_device_name(WbdDevice *self, const gchar *name);
void
wbd_device_set_on(WbdDevice *self, gboolean on);
void
wbd_device_set_meter_reading(WbdDevice *self, const WbdMeterReading *reading);
void
wbd_device_set_measurement(WbdDevice *self, const gchar *measurement);
void
wbd_device_add_child(WbdDevice *self, WbdDevice *child);
void
wbd_device_remove_child(WbdDevice *self, WbdDevice *child);
void
wbd_device_remove_children(WbdDevice *self);
void
wbd_device_report_success(WbdDevice *self);
void
wbd_device_report_error(WbdDevice *self, const GError *error);
void
wbd_device_hold_offline(WbdDevice *self, const GError *reason);
void
wbd_device_add_interface(WbdDevice *self, GDBusInterfaceSkeleton *iface);
void
wbd_device_remove_interface(WbdDevice *self, const gchar *name);
void
wbd_device_authorize_async(WbdDevice *self,
			   GDBusMethodInvocation *invocation,
			   GAsyncReadyCallback callback,
			   gpointer user_data);

/* for the core */
gboolean
wbd_device_configure(WbdDevice *self, GError **error);
void
wbd_device_start(WbdDevice *self);
void
wbd_device_stop(WbdDevice *self);
void
wbd_device_forget(WbdDevice *self);
void
wbd_device_refresh_async(WbdDevice *self,
			 GCancellable *cancellable,
			 GAsyncReadyCallback callback,
			 gpointer user_data);
gboolean
wbd_device_refresh_finish(WbdDevice *self, GAsyncResult *res, GError **error);
void
wbd_device_set_on_async(WbdDevice *self,
			gboolean on,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data);
gboolean
wbd_device_set_on_finish(WbdDevice *self, GAsyncResult *res, GError **error);
void
wbd_device_command_async(WbdDevice *self,
			 const gchar *property,
			 GVariant *value,
			 GCancellable *cancellable,
			 GAsyncReadyCallback callback,
			 gpointer user_data);
gboolean
wbd_device_command_finish(WbdDevice *self, GAsyncResult *res, GError **error);

G_END_DECLS
