/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "wbd-spool.h"
#include "wbd-value.h"

/*
 * The durable queue of the exporters: one SQLite database in WAL mode, one table of
 * readings for every exporter. A reading counts as accepted once its transaction
 * has committed (synchronous=FULL: on disk, not only in the page cache), and leaves
 * only when its exporter's sink has acknowledged it. seq is an AUTOINCREMENT rowid,
 * so it never goes backwards, not even after the table was emptied.
 *
 * A reading's values are one JSON text (data) in the form of its format column: 2,
 * typed (wbd-value.c); 1, numbers only, as daemons before typed values wrote them (the
 * column's default, so that a database of theirs needs no rewrite: the column is
 * added when missing and format 1 is read as format 2 when peeked).
 *
 * The synchronous functions may be called from any thread (a mutex serialises
 * them); the daemon uses the async ones, which run on one worker thread in the
 * order they were called, so the main loop never waits for the disk.
 */

#define WBD_SPOOL_SCHEMA                                                                           \
	"CREATE TABLE IF NOT EXISTS readings ("                                                    \
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"                                                 \
	"  exporter TEXT NOT NULL,"                                                                \
	"  device TEXT NOT NULL,"                                                                  \
	"  label TEXT NOT NULL,"                                                                   \
	"  time INTEGER NOT NULL,"                                                                 \
	"  data TEXT NOT NULL,"                                                                    \
	"  format INTEGER NOT NULL DEFAULT 1);"                                                    \
	"CREATE INDEX IF NOT EXISTS readings_by_exporter ON readings (exporter);"

struct _WbdSpool {
	GObject parent_instance;
	gchar *path;
	GMutex lock; /* guards everything below */
	sqlite3 *db;
	sqlite3_stmt *insert;
	sqlite3_stmt *peek;
	sqlite3_stmt *remove_through;
	sqlite3_stmt *drop_oldest;
	GHashTable *counts; /* exporter id → guint64 *, rows in the table */
	GThreadPool *worker;
};

G_DEFINE_TYPE(WbdSpool, wbd_spool, G_TYPE_OBJECT)

WbdSpoolRecord *
wbd_spool_record_new(const gchar *device, const gchar *label, gint64 time_us, const gchar *values)
{
	WbdSpoolRecord *record = g_new0(WbdSpoolRecord, 1);
	record->device = g_strdup(device);
	record->label = g_strdup(label != NULL ? label : "");
	record->time_us = time_us;
	record->values = g_strdup(values);
	return record;
}

void
wbd_spool_record_free(WbdSpoolRecord *record)
{
	if (record == NULL)
		return;
	g_free(record->device);
	g_free(record->label);
	g_free(record->values);
	g_free(record);
}

static gboolean
wbd_spool_fail(WbdSpool *self, const gchar *what, GError **error)
{
	g_set_error(error,
		    G_IO_ERROR,
		    G_IO_ERROR_FAILED,
		    "Spool %s: cannot %s: %s",
		    self->path,
		    what,
		    sqlite3_errmsg(self->db));
	return FALSE;
}

static gboolean
wbd_spool_exec(WbdSpool *self, const gchar *sql, GError **error)
{
	if (sqlite3_exec(self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return wbd_spool_fail(self, sql, error);
	return TRUE;
}

static guint64 *
wbd_spool_count_ptr(WbdSpool *self, const gchar *exporter)
{
	guint64 *count = g_hash_table_lookup(self->counts, exporter);
	if (count == NULL) {
		count = g_new0(guint64, 1);
		g_hash_table_insert(self->counts, g_strdup(exporter), count);
	}
	return count;
}

static gboolean
wbd_spool_prepare(WbdSpool *self, const gchar *sql, sqlite3_stmt **stmt, GError **error)
{
	if (sqlite3_prepare_v3(self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL) !=
	    SQLITE_OK)
		return wbd_spool_fail(self, "prepare a statement", error);
	return TRUE;
}

/* a spool of a daemon before typed values: the format column, its rows format 1 */
static gboolean
wbd_spool_upgrade(WbdSpool *self, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	gboolean has_format = FALSE;
	int rc;

	if (!wbd_spool_prepare(self, "PRAGMA table_info(readings)", &stmt, error))
		return FALSE;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (g_strcmp0((const gchar *)sqlite3_column_text(stmt, 1), "format") == 0)
			has_format = TRUE;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return wbd_spool_fail(self, "read the table's columns", error);
	if (has_format)
		return TRUE;
	if (!wbd_spool_exec(self,
			    "ALTER TABLE readings ADD COLUMN format INTEGER NOT NULL DEFAULT 1",
			    error))
		return FALSE;
	g_message("spool %s: upgraded to typed values, the queued readings are kept", self->path);
	return TRUE;
}

static gboolean
wbd_spool_setup(WbdSpool *self, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	/* another process holding a lock is a mistake, but not one to hang on */
	sqlite3_busy_timeout(self->db, 2000);
	if (!wbd_spool_exec(self, "PRAGMA journal_mode=WAL", error) ||
	    !wbd_spool_exec(self, "PRAGMA synchronous=FULL", error) ||
	    !wbd_spool_exec(self, WBD_SPOOL_SCHEMA, error) || !wbd_spool_upgrade(self, error))
		return FALSE;
	if (!wbd_spool_prepare(self,
			       "INSERT INTO readings (exporter, device, label, time, data, format) "
			       "VALUES (?1, ?2, ?3, ?4, ?5, 2)",
			       &self->insert,
			       error) ||
	    !wbd_spool_prepare(self,
			       "SELECT seq, device, label, time, data, format FROM readings "
			       "WHERE exporter = ?1 AND seq > ?3 ORDER BY seq LIMIT ?2",
			       &self->peek,
			       error) ||
	    !wbd_spool_prepare(self,
			       "DELETE FROM readings WHERE exporter = ?1 AND seq <= ?2",
			       &self->remove_through,
			       error) ||
	    !wbd_spool_prepare(self,
			       "DELETE FROM readings WHERE seq IN (SELECT seq FROM readings "
			       "WHERE exporter = ?1 ORDER BY seq LIMIT ?2)",
			       &self->drop_oldest,
			       error))
		return FALSE;

	if (!wbd_spool_prepare(self,
			       "SELECT exporter, COUNT(*) FROM readings GROUP BY exporter",
			       &stmt,
			       error))
		return FALSE;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const gchar *exporter = (const gchar *)sqlite3_column_text(stmt, 0);
		*wbd_spool_count_ptr(self, exporter) = (guint64)sqlite3_column_int64(stmt, 1);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return wbd_spool_fail(self, "count the readings", error);
	return TRUE;
}

static void
wbd_spool_worker_func(gpointer data, gpointer user_data);

/**
 * wbd_spool_open:
 * @path: the database file; its directory is created (mode 0750) when missing
 *
 * Opens or creates the spool. Readings left by an earlier run (or by a process
 * that was killed) are all there, in order.
 */
WbdSpool *
wbd_spool_open(const gchar *path, GError **error)
{
	g_autoptr(WbdSpool) self = g_object_new(WBD_TYPE_SPOOL, NULL);
	g_autofree gchar *dir = g_path_get_dirname(path);

	self->path = g_strdup(path);
	if (g_mkdir_with_parents(dir, 0750) != 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "Cannot create %s: %s",
			    dir,
			    g_strerror(errno));
		return NULL;
	}
	if (sqlite3_open_v2(path,
			    &self->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		if (self->db == NULL) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot open %s", path);
			return NULL;
		}
		wbd_spool_fail(self, "open the database", error);
		return NULL;
	}
	if (!wbd_spool_setup(self, error))
		return NULL;
	self->worker = g_thread_pool_new(wbd_spool_worker_func, self, 1, FALSE, NULL);
	return g_steal_pointer(&self);
}

const gchar *
wbd_spool_get_path(WbdSpool *self)
{
	return self->path;
}

static gboolean
wbd_spool_append_locked(WbdSpool *self,
			const gchar *exporter,
			GPtrArray *records,
			guint64 max_records,
			guint64 *dropped,
			GError **error)
{
	guint64 *count = wbd_spool_count_ptr(self, exporter);
	guint64 new_count = *count;
	guint64 n_dropped = 0;

	if (!wbd_spool_exec(self, "BEGIN IMMEDIATE", error))
		return FALSE;
	for (guint i = 0; i < records->len; i++) {
		WbdSpoolRecord *record = g_ptr_array_index(records, i);
		sqlite3_reset(self->insert);
		sqlite3_bind_text(self->insert, 1, exporter, -1, SQLITE_STATIC);
		sqlite3_bind_text(self->insert, 2, record->device, -1, SQLITE_STATIC);
		sqlite3_bind_text(self->insert, 3, record->label, -1, SQLITE_STATIC);
		sqlite3_bind_int64(self->insert, 4, record->time_us);
		sqlite3_bind_text(self->insert, 5, record->values, -1, SQLITE_STATIC);
		if (sqlite3_step(self->insert) != SQLITE_DONE)
			goto fail;
		record->seq = sqlite3_last_insert_rowid(self->db);
		new_count++;
	}
	/* full: the oldest go, never the new ones first */
	if (max_records > 0 && new_count > max_records) {
		sqlite3_reset(self->drop_oldest);
		sqlite3_bind_text(self->drop_oldest, 1, exporter, -1, SQLITE_STATIC);
		sqlite3_bind_int64(self->drop_oldest, 2, (sqlite3_int64)(new_count - max_records));
		if (sqlite3_step(self->drop_oldest) != SQLITE_DONE)
			goto fail;
		n_dropped = (guint64)sqlite3_changes(self->db);
		new_count -= n_dropped;
	}
	if (sqlite3_exec(self->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_reset(self->insert);
	sqlite3_reset(self->drop_oldest);
	*count = new_count;
	if (dropped != NULL)
		*dropped = n_dropped;
	return TRUE;

fail:
	wbd_spool_fail(self, "store readings", error);
	sqlite3_reset(self->insert);
	sqlite3_reset(self->drop_oldest);
	sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
	return FALSE;
}

/**
 * wbd_spool_append:
 * @records: (element-type WbdSpoolRecord): the readings, oldest first; their @seq is
 *   set
 * @max_records: how many readings @exporter may keep; 0 for no limit. When the new
 *   readings make it more, the oldest are dropped in the same transaction.
 * @dropped: (out) (optional): how many were dropped
 *
 * Writes @records in one transaction: when this returns %TRUE they are on disk.
 */
gboolean
wbd_spool_append(WbdSpool *self,
		 const gchar *exporter,
		 GPtrArray *records,
		 guint64 max_records,
		 guint64 *dropped,
		 GError **error)
{
	gboolean ok;
	g_mutex_lock(&self->lock);
	ok = wbd_spool_append_locked(self, exporter, records, max_records, dropped, error);
	g_mutex_unlock(&self->lock);
	return ok;
}

static GPtrArray *
wbd_spool_peek_locked(WbdSpool *self,
		      const gchar *exporter,
		      gint64 after,
		      guint limit,
		      GError **error)
{
	g_autoptr(GPtrArray) records =
	    g_ptr_array_new_with_free_func((GDestroyNotify)wbd_spool_record_free);
	int rc;

	sqlite3_reset(self->peek);
	sqlite3_bind_text(self->peek, 1, exporter, -1, SQLITE_STATIC);
	sqlite3_bind_int64(self->peek, 2, limit);
	sqlite3_bind_int64(self->peek, 3, after);
	while ((rc = sqlite3_step(self->peek)) == SQLITE_ROW) {
		const gchar *data = (const gchar *)sqlite3_column_text(self->peek, 4);
		g_autofree gchar *upgraded = NULL;
		WbdSpoolRecord *record;

		if (sqlite3_column_int(self->peek, 5) == 1)
			upgraded = wbd_values_upgrade_legacy(data);
		record = wbd_spool_record_new((const gchar *)sqlite3_column_text(self->peek, 1),
					      (const gchar *)sqlite3_column_text(self->peek, 2),
					      sqlite3_column_int64(self->peek, 3),
					      upgraded != NULL ? upgraded : data);
		record->seq = sqlite3_column_int64(self->peek, 0);
		g_ptr_array_add(records, record);
	}
	if (rc != SQLITE_DONE) {
		wbd_spool_fail(self, "read readings", error);
		sqlite3_reset(self->peek);
		return NULL;
	}
	sqlite3_reset(self->peek);
	return g_steal_pointer(&records);
}

/**
 * wbd_spool_peek:
 * @limit: at most this many
 *
 * Returns: (transfer full) (element-type WbdSpoolRecord): the oldest readings of
 *   @exporter, oldest first; they stay in the spool
 */
GPtrArray *
wbd_spool_peek(WbdSpool *self, const gchar *exporter, guint limit, GError **error)
{
	GPtrArray *records;
	g_mutex_lock(&self->lock);
	records = wbd_spool_peek_locked(self, exporter, 0, limit, error);
	g_mutex_unlock(&self->lock);
	return records;
}

static gboolean
wbd_spool_remove_through_locked(WbdSpool *self, const gchar *exporter, gint64 seq, GError **error)
{
	guint64 *count = wbd_spool_count_ptr(self, exporter);
	guint64 removed;

	sqlite3_reset(self->remove_through);
	sqlite3_bind_text(self->remove_through, 1, exporter, -1, SQLITE_STATIC);
	sqlite3_bind_int64(self->remove_through, 2, seq);
	if (sqlite3_step(self->remove_through) != SQLITE_DONE) {
		wbd_spool_fail(self, "remove readings", error);
		sqlite3_reset(self->remove_through);
		return FALSE;
	}
	sqlite3_reset(self->remove_through);
	removed = (guint64)sqlite3_changes(self->db);
	*count = *count > removed ? *count - removed : 0;
	return TRUE;
}

/**
 * wbd_spool_remove_through:
 * @seq: the last reading the sink acknowledged
 *
 * Removes every reading of @exporter up to and including @seq: the ones a sink
 * acknowledged (always the oldest) and any that were dropped meanwhile.
 */
gboolean
wbd_spool_remove_through(WbdSpool *self, const gchar *exporter, gint64 seq, GError **error)
{
	gboolean ok;
	g_mutex_lock(&self->lock);
	ok = wbd_spool_remove_through_locked(self, exporter, seq, error);
	g_mutex_unlock(&self->lock);
	return ok;
}

/* how many readings of @exporter the spool holds */
guint64
wbd_spool_count(WbdSpool *self, const gchar *exporter)
{
	guint64 count;
	g_mutex_lock(&self->lock);
	count = *wbd_spool_count_ptr(self, exporter);
	g_mutex_unlock(&self->lock);
	return count;
}

/* the worker thread */

typedef enum {
	SPOOL_OP_APPEND,
	SPOOL_OP_PEEK,
	SPOOL_OP_REMOVE,
	SPOOL_OP_BARRIER
} SpoolOpKind;

typedef struct {
	SpoolOpKind kind;
	gchar *exporter;
	GPtrArray *records; /* in: APPEND; out: PEEK */
	guint64 max_records;
	guint limit;
	gint64 seq;
	guint64 dropped; /* out */
	guint64 count;	 /* out: rows of the exporter after the operation */
	GCond *done;	 /* BARRIER: signalled, under the spool's lock */
	gboolean *reached;
} SpoolOp;

static void
spool_op_free(SpoolOp *op)
{
	g_free(op->exporter);
	g_clear_pointer(&op->records, g_ptr_array_unref);
	g_free(op);
}

static void
wbd_spool_worker_func(gpointer data, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(data);
	WbdSpool *self = WBD_SPOOL(user_data);
	SpoolOp *op = g_task_get_task_data(task);
	GError *error = NULL;
	gboolean ok = FALSE;

	g_mutex_lock(&self->lock);
	switch (op->kind) {
	case SPOOL_OP_APPEND:
		ok = wbd_spool_append_locked(self,
					     op->exporter,
					     op->records,
					     op->max_records,
					     &op->dropped,
					     &error);
		break;
	case SPOOL_OP_PEEK:
		op->records = wbd_spool_peek_locked(self, op->exporter, op->seq, op->limit, &error);
		ok = op->records != NULL;
		break;
	case SPOOL_OP_REMOVE:
		ok = wbd_spool_remove_through_locked(self, op->exporter, op->seq, &error);
		break;
	case SPOOL_OP_BARRIER:
		g_task_return_boolean(task, TRUE);
		*op->reached = TRUE;
		g_cond_signal(op->done);
		g_mutex_unlock(&self->lock);
		return;
	}
	op->count = *wbd_spool_count_ptr(self, op->exporter);
	g_mutex_unlock(&self->lock);
	if (ok)
		g_task_return_boolean(task, TRUE);
	else
		g_task_return_error(task, error);
}

static void
wbd_spool_queue(WbdSpool *self,
		SpoolOp *op,
		gpointer source_tag,
		GCancellable *cancellable,
		GAsyncReadyCallback callback,
		gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, source_tag);
	g_task_set_task_data(task, op, (GDestroyNotify)spool_op_free);
	/* the operation runs even when cancelled: a write that started must end */
	g_task_set_check_cancellable(task, FALSE);
	g_thread_pool_push(self->worker, task, NULL);
}

void
wbd_spool_append_async(WbdSpool *self,
		       const gchar *exporter,
		       GPtrArray *records,
		       guint64 max_records,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data)
{
	SpoolOp *op = g_new0(SpoolOp, 1);
	op->kind = SPOOL_OP_APPEND;
	op->exporter = g_strdup(exporter);
	op->records = g_ptr_array_ref(records);
	op->max_records = max_records;
	wbd_spool_queue(self, op, wbd_spool_append_async, cancellable, callback, user_data);
}

/**
 * wbd_spool_append_finish:
 * @dropped: (out) (optional): readings dropped to make room
 * @count: (out) (optional): readings of the exporter in the spool now
 */
gboolean
wbd_spool_append_finish(WbdSpool *self,
			GAsyncResult *res,
			guint64 *dropped,
			guint64 *count,
			GError **error)
{
	SpoolOp *op;
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	op = g_task_get_task_data(G_TASK(res));
	if (count != NULL)
		*count = op->count;
	if (dropped != NULL)
		*dropped = op->dropped;
	return g_task_propagate_boolean(G_TASK(res), error);
}

void
wbd_spool_peek_async(WbdSpool *self,
		     const gchar *exporter,
		     guint limit,
		     GCancellable *cancellable,
		     GAsyncReadyCallback callback,
		     gpointer user_data)
{
	wbd_spool_peek_after_async(self, exporter, 0, limit, cancellable, callback, user_data);
}

/**
 * wbd_spool_peek_after_async:
 * @after: only readings with a greater seq (0: from the oldest)
 *
 * As wbd_spool_peek_async(), after the readings already handed out (several batches
 * under way at once); finish with wbd_spool_peek_finish().
 */
void
wbd_spool_peek_after_async(WbdSpool *self,
			   const gchar *exporter,
			   gint64 after,
			   guint limit,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data)
{
	SpoolOp *op = g_new0(SpoolOp, 1);
	op->kind = SPOOL_OP_PEEK;
	op->exporter = g_strdup(exporter);
	op->seq = after;
	op->limit = limit;
	wbd_spool_queue(self, op, wbd_spool_peek_async, cancellable, callback, user_data);
}

GPtrArray *
wbd_spool_peek_finish(WbdSpool *self, GAsyncResult *res, GError **error)
{
	SpoolOp *op;
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	if (!g_task_propagate_boolean(G_TASK(res), error))
		return NULL;
	op = g_task_get_task_data(G_TASK(res));
	return g_steal_pointer(&op->records);
}

void
wbd_spool_remove_through_async(WbdSpool *self,
			       const gchar *exporter,
			       gint64 seq,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data)
{
	SpoolOp *op = g_new0(SpoolOp, 1);
	op->kind = SPOOL_OP_REMOVE;
	op->exporter = g_strdup(exporter);
	op->seq = seq;
	wbd_spool_queue(self, op, wbd_spool_remove_through_async, cancellable, callback, user_data);
}

gboolean
wbd_spool_remove_through_finish(WbdSpool *self, GAsyncResult *res, guint64 *count, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	if (count != NULL)
		*count = ((SpoolOp *)g_task_get_task_data(G_TASK(res)))->count;
	return g_task_propagate_boolean(G_TASK(res), error);
}

/**
 * wbd_spool_wait:
 *
 * Blocks until every operation queued before has been done: for shutting down, so
 * that what was queued is on disk before the process ends.
 */
void
wbd_spool_wait(WbdSpool *self)
{
	GCond done;
	gboolean reached = FALSE;
	SpoolOp *op = g_new0(SpoolOp, 1);
	GTask *task = g_task_new(self, NULL, NULL, NULL);

	g_cond_init(&done);
	op->kind = SPOOL_OP_BARRIER;
	op->done = &done;
	op->reached = &reached;
	g_task_set_task_data(task, op, (GDestroyNotify)spool_op_free);
	g_mutex_lock(&self->lock);
	g_thread_pool_push(self->worker, task, NULL);
	while (!reached)
		g_cond_wait(&done, &self->lock);
	g_mutex_unlock(&self->lock);
	g_cond_clear(&done);
}

static void
wbd_spool_finalize(GObject *object)
{
	WbdSpool *self = WBD_SPOOL(object);

	/* every queued operation holds a reference, so none is left; and the last
	 * reference may be dropped on the worker thread itself: do not wait for it */
	if (self->worker != NULL)
		g_thread_pool_free(self->worker, FALSE, FALSE);
	g_clear_pointer(&self->insert, sqlite3_finalize);
	g_clear_pointer(&self->peek, sqlite3_finalize);
	g_clear_pointer(&self->remove_through, sqlite3_finalize);
	g_clear_pointer(&self->drop_oldest, sqlite3_finalize);
	if (self->db != NULL)
		sqlite3_close(self->db);
	g_clear_pointer(&self->counts, g_hash_table_unref);
	g_mutex_clear(&self->lock);
	g_free(self->path);
	G_OBJECT_CLASS(wbd_spool_parent_class)->finalize(object);
}

static void
wbd_spool_class_init(WbdSpoolClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = wbd_spool_finalize;
}

static void
wbd_spool_init(WbdSpool *self)
{
	g_mutex_init(&self->lock);
	self->counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}
