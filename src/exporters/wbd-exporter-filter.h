/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "wbd-value.h"

G_BEGIN_DECLS

/* a device property that, when present, is the time of the readings beside it (µs
 * since the epoch), as org.wattbus.Wattbus1.Inverter has it: such devices are
 * exported only when it changes, stamped with it */
#define WBD_EXPORTER_REPORT_TIME_PROPERTY "LastReport"

typedef struct _WbdExporterFilter WbdExporterFilter;

WbdExporterFilter *
wbd_exporter_filter_new(GHashTable *settings, GError **error);
void
wbd_exporter_filter_free(WbdExporterFilter *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WbdExporterFilter, wbd_exporter_filter_free)

gboolean
wbd_exporter_filter_match_device(WbdExporterFilter *self, const gchar *device);
guint
wbd_exporter_filter_get_interval(WbdExporterFilter *self);
void
wbd_exporter_filter_push(WbdExporterFilter *self,
			 const gchar *device,
			 gint64 time_us,
			 GVariant *changes,
			 gint64 now_us,
			 GPtrArray *out);
void
wbd_exporter_filter_tick(WbdExporterFilter *self, gint64 now_us, GPtrArray *out);
gint64
wbd_exporter_filter_get_next_deadline(WbdExporterFilter *self);
void
wbd_exporter_filter_snapshot(WbdExporterFilter *self, gint64 now_us, GPtrArray *out);
void
wbd_exporter_filter_forget_device(WbdExporterFilter *self,
				  const gchar *device,
				  gint64 now_us,
				  GPtrArray *out);

G_END_DECLS
