/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * WbdSpoolRecord:
 * @seq: position in the spool, assigned when the record is written; increases
 *   with every record, so it keeps the order in which readings were accepted
 * @device: the device id
 * @label: the device's name when the reading was taken (for sinks that name by it)
 * @time_us: when the values were read, in µs since the epoch
 * @values: a JSON object of value name to typed value, as wbd_values_to_json() makes it
 *   and wbd_values_parse() reads it, e.g. `{"Online":true,"Power":12.5,"Valve":"opened"}`
 *
 * One reading of one device, as an exporter keeps it until its sink has it.
 */
typedef struct {
	gint64 seq;
	gchar *device;
	gchar *label;
	gint64 time_us;
	gchar *values;
} WbdSpoolRecord;

WbdSpoolRecord *
wbd_spool_record_new(const gchar *device, const gchar *label, gint64 time_us, const gchar *values);
void
wbd_spool_record_free(WbdSpoolRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WbdSpoolRecord, wbd_spool_record_free)

#define WBD_TYPE_SPOOL (wbd_spool_get_type())
G_DECLARE_FINAL_TYPE(WbdSpool, wbd_spool, WBD, SPOOL, GObject)

WbdSpool *
wbd_spool_open(const gchar *path, GError **error);
const gchar *
wbd_spool_get_path(WbdSpool *self);

/* synchronous: they block for a disk write; the daemon uses the async forms */
gboolean
wbd_spool_append(WbdSpool *self,
		 const gchar *exporter,
		 GPtrArray *records,
		 guint64 max_records,
		 guint64 *dropped,
		 GError **error);
GPtrArray *
wbd_spool_peek(WbdSpool *self, const gchar *exporter, guint limit, GError **error);
gboolean
wbd_spool_remove_through(WbdSpool *self, const gchar *exporter, gint64 seq, GError **error);
guint64
wbd_spool_count(WbdSpool *self, const gchar *exporter);

/* the same on the spool's own worker thread, in the order they were called */
void
wbd_spool_append_async(WbdSpool *self,
		       const gchar *exporter,
		       GPtrArray *records,
		       guint64 max_records,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data);
gboolean
wbd_spool_append_finish(WbdSpool *self,
			GAsyncResult *res,
			guint64 *dropped,
			guint64 *count,
			GError **error);
void
wbd_spool_peek_async(WbdSpool *self,
		     const gchar *exporter,
		     guint limit,
		     GCancellable *cancellable,
		     GAsyncReadyCallback callback,
		     gpointer user_data);
void
wbd_spool_peek_after_async(WbdSpool *self,
			   const gchar *exporter,
			   gint64 after,
			   guint limit,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data);
GPtrArray *
wbd_spool_peek_finish(WbdSpool *self, GAsyncResult *res, GError **error);
void
wbd_spool_remove_through_async(WbdSpool *self,
			       const gchar *exporter,
			       gint64 seq,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data);
void
wbd_spool_wait(WbdSpool *self);
gboolean
wbd_spool_remove_through_finish(WbdSpool *self, GAsyncResult *res, guint64 *count, GError **error);

G_END_DECLS
