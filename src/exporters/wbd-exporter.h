/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "wbd-device.h"
#include "wbd-exporter-info.h"
#include "wbd-log.h"
#include "wbd-spool.h"

G_BEGIN_DECLS

#define WBD_EXPORTER_ERROR (wbd_exporter_error_quark())
GQuark
wbd_exporter_error_quark(void);

/**
 * WbdExporterError:
 * @WBD_EXPORTER_ERROR_FAILED: the delivery failed and is worth retrying (network,
 *   time-out, a server error)
 * @WBD_EXPORTER_ERROR_REFUSED: the target refused the readings (a wrong key, a bad
 *   name): retrying the same request would not help
 */
typedef enum {
	WBD_EXPORTER_ERROR_FAILED,
	WBD_EXPORTER_ERROR_REFUSED,
} WbdExporterError;

#define WBD_TYPE_EXPORTER (wbd_exporter_get_type())
G_DECLARE_DERIVABLE_TYPE(WbdExporter, wbd_exporter, WBD, EXPORTER, GObject)

/**
 * WbdExporterClass:
 * @configure: reads the kind's own keys from @settings (string keys to string
 *   values, already checked for unknown keys), and sets the target with
 *   wbd_exporter_set_target(); returns %FALSE with a %WATTBUS_ERROR_INVALID_ARGUMENT
 *   error for a bad value, never quoting a secret. Called once, before the exporter
 *   is exported. Required.
 * @send_async: delivers @records (#WbdSpoolRecord, oldest first, at least one, at most
 *   the `batch-size` setting) to the target. While the exporter keeps up, that is
 *   usually the one new reading; after an outage, the oldest of the backlog. Required. The base
 * class owns the spool, the order, the retries with back-off and the time-out: @cancellable is
 * cancelled when the `timeout` setting expires or the exporter stops.
 * @send_finish: %TRUE when the target acknowledged every record; else an error in
 *   %WBD_EXPORTER_ERROR: %WBD_EXPORTER_ERROR_REFUSED stops delivery (state `error`),
 *   anything else is retried after a back-off. The message goes to LastError: it
 *   must never contain a secret.
 * @stop: cancels the kind's own work; called when the exporter is removed or
 *   re-created. Optional.
 * @push_live: makes the kind live (e.g. `sse`: a stream of current values, where a
 *   reading kept for later is worthless). When set, the base class hands every change
 *   of a device that `devices` selects to it at once: @time_us and @values (a{sv} of
 *   D-Bus property name to value, all types, NaN included, as WbdDevice::values-changed
 *   has it; on a device's arrival, all its current values) or %NULL @values when the
 *   device is gone. Nothing is spooled, @send_async is never called (it may be %NULL),
 *   `values`, `interval`, `min-interval` and `deadband` do not apply, and State is
 *   `connected` (or `disabled`: see wbd_exporter_get_enabled()). Optional.
 * @device_removed: @device was removed from the daemon (RemoveDevice, or gone from the
 *   configuration at a reload; not when the daemon stops): e.g. retract what was
 *   published about it. Called after what was held back of it went to the spool.
 *   Optional.
 * @device_changed: @device, which `devices` selects, changed: @changes is every value
 *   that changed (a{sv} of D-Bus property name to value, all types, strings and NaN
 *   included, as WbdDevice::values-changed has it; on a device's arrival, all its
 *   current values). Called before the readings go to the spool, for what is not a
 *   reading (e.g. a cloud's slowly changing device state). Not called for live kinds.
 *   Optional.
 * @record_label: what the records of @device keep as their label, decided when the
 *   reading is taken (the device may be gone, or not there yet after a restart, when
 *   the record is sent): for kinds that name their target after something else than
 *   the device's @name (e.g. EmonCMS: the node of the device's family). Optional; the
 *   default is @name.
 * @max_batches: how many batches may be under way at once (0 or 1: one at a time).
 *   With more, @send_async is called for the next readings before the earlier
 *   batches are acknowledged, and may complete out of order; the base class still
 *   removes them from the spool in order, and after a failure sends again from the
 *   oldest batch not acknowledged (for targets that acknowledge a stream, e.g. an
 *   MQTT broker's PUBACKs).
 *
 * The base class does the rest: the D-Bus object and its methods, selecting and
 * rating readings, the spool, the delivery loop. Kinds never touch D-Bus or the
 * spool.
 */
struct _WbdExporterClass {
	GObjectClass parent_class;

	gboolean (*configure)(WbdExporter *self, GHashTable *settings, GError **error);
	void (*send_async)(WbdExporter *self,
			   GPtrArray *records,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data);
	gboolean (*send_finish)(WbdExporter *self, GAsyncResult *res, GError **error);
	void (*stop)(WbdExporter *self);
	void (*push_live)(WbdExporter *self,
			  const gchar *device,
			  const gchar *label,
			  gint64 time_us,
			  GVariant *values);
	void (*device_removed)(WbdExporter *self, const gchar *device);
	void (*device_changed)(WbdExporter *self, const gchar *device, GVariant *changes);
	gchar *(*record_label)(WbdExporter *self, const gchar *device, const gchar *name);
	guint max_batches;

	gpointer padding[4];
};

WbdExporter *
wbd_exporter_new(const WbdExporterInfo *info,
		 const gchar *id,
		 GHashTable *settings,
		 WbdSpool *spool,
		 GError **error);

/* for the kinds */
const gchar *
wbd_exporter_get_id(WbdExporter *self);
GHashTable *
wbd_exporter_get_settings(WbdExporter *self);
void
wbd_exporter_set_target(WbdExporter *self, const gchar *target);
WbdDevice *
wbd_exporter_lookup_device(WbdExporter *self, const gchar *device);
void
wbd_exporter_retry_now(WbdExporter *self);
gboolean
wbd_exporter_get_enabled(WbdExporter *self);

/* for the core */
typedef WbdDevice *(*WbdExporterDeviceLookup)(const gchar *device, gpointer user_data);
void
wbd_exporter_set_device_lookup(WbdExporter *self, WbdExporterDeviceLookup lookup, gpointer data);
const gchar *
wbd_exporter_get_object_path(WbdExporter *self);
GDBusObjectSkeleton *
wbd_exporter_get_object(WbdExporter *self);
gboolean
wbd_exporter_is_live(WbdExporter *self);
void
wbd_exporter_start(WbdExporter *self);
void
wbd_exporter_stop(WbdExporter *self);
void
wbd_exporter_push(WbdExporter *self,
		  const gchar *device,
		  const gchar *label,
		  gint64 time_us,
		  GVariant *changes);
void
wbd_exporter_forget_device(WbdExporter *self, const gchar *device);

/* every exporter-scoped log line carries the exporter id (wbd-log.h) */
#define wbd_exp_debug(exp, fmt, ...)                                                            \
	wbd_log_debug(wbd_exporter_get_id(WBD_EXPORTER(exp)), fmt, ##__VA_ARGS__)
#define wbd_exp_info(exp, fmt, ...)                                                             \
	wbd_log_info(wbd_exporter_get_id(WBD_EXPORTER(exp)), fmt, ##__VA_ARGS__)
#define wbd_exp_message(exp, fmt, ...)                                                          \
	wbd_log_message(wbd_exporter_get_id(WBD_EXPORTER(exp)), fmt, ##__VA_ARGS__)
#define wbd_exp_warning(exp, fmt, ...)                                                          \
	wbd_log_warning(wbd_exporter_get_id(WBD_EXPORTER(exp)), fmt, ##__VA_ARGS__)

G_END_DECLS
