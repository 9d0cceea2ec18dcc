/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <wattbus-glib.h>

#include "wbd-exporter-filter.h"
#include "wbd-exporter.h"

G_BEGIN_DECLS

/*
 * Private to WbdExporter, shared by its parts: wbd-exporter.c (the object, taking
 * readings in, D-Bus methods, life cycle) and wbd-exporter-delivery.c (peeking the
 * spool, sending, removing what was acknowledged, retries).
 */

#define WBD_EXPORTER_MAX_BACKOFF_S 300

#define STATE_CONNECTING "connecting"
#define STATE_CONNECTED "connected"
#define STATE_BACKING_OFF "backing-off"
#define STATE_DISABLED "disabled"
#define STATE_ERROR "error"

typedef struct {
	gchar *id;
	const WbdExporterInfo *info;
	GHashTable *settings;
	WbdSpool *spool;
	WbdExporterFilter *filter;
	GHashTable *labels; /* device id → its name, for records the filter makes later */
	guint64 max_queued;
	guint batch_size;
	guint timeout_s;

	WattbusObjectSkeleton *object;
	WattbusExporter *iface;

	GCancellable *cancellable; /* cancelled when the exporter stops */
	gboolean started;
	gboolean enabled;
	gboolean refused; /* the target said no: wait for Flush/Enable/a new config */
	guint writing;	  /* readings of the append under way, 0 for none */
	GPtrArray *pending; /* WbdSpoolRecord, accepted by the filter, not yet written */
	guint write_id;
	guint retry_id;
	guint tick_id;
	guint snapshot_id;
	guint backoff_s;
	guint64 drops_unlogged; /* a full spool is logged once a minute at most */
	gint64 drop_logged_us;
	WbdExporterDeviceLookup lookup; /* the daemon's devices, for commands */
	gpointer lookup_data;

	/* delivery (wbd-exporter-delivery.c) */
	GQueue sends;          /* batches peeked and not yet removed from the spool, oldest first */
	guint64 sends_records; /* their readings */
	gboolean peeking;      /* a peek is under way */
	gboolean removing;     /* a removal is under way */
	gint64 peeked_through; /* the seq of the last reading handed to a batch */
	gint64 removed_through;
	GError *rewind;        /* a batch failed: the others are let finish, then rewound */
} WbdExporterPrivate;

WbdExporterPrivate *
wbd_exporter_get_private(WbdExporter *self);
gboolean
wbd_exporter_is_stopped(WbdExporter *self);
void
wbd_exporter_set_state(WbdExporter *self, const gchar *state);

/* wbd-exporter-delivery.c */
void
wbd_exporter_kick(WbdExporter *self);
gboolean
wbd_exporter_is_sending(WbdExporter *self);
void
wbd_exporter_cancel_sends(WbdExporter *self);
void
wbd_exporter_clear_sends(WbdExporter *self);

G_END_DECLS
