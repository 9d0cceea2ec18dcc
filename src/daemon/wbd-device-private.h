/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* what the parts of WbdDevice share (wbd-device.c, wbd-device-poll.c, wbd-device-values.c);
 * not for drivers */

#include <wattbus-glib.h>

#include "wbd-device.h"
#include "wbd-driver.h"
#include "wbd-poll-schedule.h"

#define WBD_DEVICE_MAX_BACKOFF_S 300
/* Refresh() within this long of the last poll's end is answered with that poll */
#define WBD_DEVICE_REFRESH_COALESCE_US G_USEC_PER_SEC
/* a whole poll, whatever the driver's own time-outs, never takes longer */
#define WBD_DEVICE_OPERATION_TIMEOUT_S 30

/* a property's value as last reported in values-changed (a GValue: a double or a boolean is
 * stored inline, a GVariant such as the per-phase arrays is shared with the skeleton) */
typedef struct {
	const gchar *name; /* D-Bus property name, interned */
	GValue value;
} WbdDeviceValue;

typedef struct {
	gchar *id;
	const WbdDriverInfo *driver;
	GHashTable *settings; /* key → value, both strings; includes secrets */
	gchar *configured_name;
	gchar *device_name;
	guint poll_interval;
	WbdDevice *parent; /* weak */
	GPtrArray *children;

	WattbusObjectSkeleton *object;
	WattbusDevice *iface_device;
	WattbusOutlet *iface_outlet;
	WattbusElectricityMeter *iface_meter;
	WbdDeviceCaps caps;

	GCancellable *cancellable; /* cancelled when the device stops */
	guint poll_id;             /* an immediate poll (idle) */
	/* in the shared schedule of polls (wbd-device-poll.c): due for the next poll or the
	 * running poll's time-out */
	WbdPollEntry poll_entry;
	guint backoff_s;
	gboolean polling;
	gint64 poll_started; /* monotonic µs */
	gint64 poll_planned; /* when the running poll was due, if it came from the schedule */
	/* a poll's cancellable, reused by the next poll (not one per poll) */
	GCancellable *poll_cancellable; /* replaced once cancelled */
	gulong poll_cancel_handler;     /* on cancellable, cancels poll_cancellable */
	gboolean poll_timed_out;        /* its time-out (the schedule's entry) fired */
	gint64 poll_ended;              /* when the last poll ended, monotonic µs, or 0 */
	GError *poll_error;             /* how the last poll failed, or NULL */
	GError *held_offline;           /* wbd_device_hold_offline(): why, or NULL */
	gboolean started;
	GPtrArray *refresh_waiters; /* GTask, completed when the running poll ends */

	GHashTable *pending_changes; /* D-Bus property name → GVariant, for values-changed */
	WbdDeviceValue *last_values; /* the value last reported of each property */
	guint n_last_values;
	guint64 pending_since;
	guint changes_idle_id;
} WbdDevicePrivate;

WbdDevicePrivate *
wbd_device_get_private(WbdDevice *self);
#define GET_PRIVATE(o) (wbd_device_get_private(o))

/* wbd-device-values.c: values-changed */
void
wbd_device_track_values(WbdDevice *self, gpointer skeleton);
void
wbd_device_untrack_values(WbdDevice *self, gpointer skeleton);
void
wbd_device_clear_pending_values(WbdDevice *self);
void
wbd_device_free_values(WbdDevice *self);
/* wbd-device.c */
void
wbd_device_emit_values_changed(WbdDevice *self, guint64 since, GVariant *values);

/* wbd-device-poll.c */
void
wbd_device_schedule_poll(WbdDevice *self, guint seconds);
void
wbd_device_poll_now(WbdDevice *self, GTask *waiter);
/* takes the device out of the schedule; frees what its polls kept (dispose) */
void
wbd_device_unschedule_poll(WbdDevice *self);
void
wbd_device_clear_poll(WbdDevice *self);
/* the default command vfunc */
void
wbd_device_real_command_async(WbdDevice *self,
			      const gchar *property,
			      GVariant *value,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data);
gboolean
wbd_device_real_command_finish(WbdDevice *self, GAsyncResult *res, GError **error);
