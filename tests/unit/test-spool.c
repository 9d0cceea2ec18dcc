/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "wbd-spool.h"
#include "wbd-value.h"

/* the exporters' spool: order, bounds, persistence across close and SIGKILL, and
 * the worker thread's order */

typedef struct {
	gchar *dir;
	gchar *path;
} Fixture;

static void
fixture_setup(Fixture *fixture, gconstpointer user_data)
{
	fixture->dir = g_dir_make_tmp("wattbus-spool-XXXXXX", NULL);
	g_assert_nonnull(fixture->dir);
	/* a directory that does not exist yet: the spool creates it */
	fixture->path = g_build_filename(fixture->dir, "state", "spool.db", NULL);
}

static void
fixture_teardown(Fixture *fixture, gconstpointer user_data)
{
	const gchar *names[] = {"spool.db", "spool.db-wal", "spool.db-shm"};
	g_autofree gchar *state = g_build_filename(fixture->dir, "state", NULL);
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree gchar *file = g_build_filename(state, names[i], NULL);
		g_remove(file);
	}
	g_rmdir(state);
	g_rmdir(fixture->dir);
	g_free(fixture->dir);
	g_free(fixture->path);
}

static GPtrArray *
records_new(const gchar *device, gint64 first_time, guint n)
{
	GPtrArray *records = g_ptr_array_new_with_free_func((GDestroyNotify)wbd_spool_record_free);
	for (guint i = 0; i < n; i++) {
		g_autofree gchar *values =
		    g_strdup_printf("{\"Power\":%u}", (guint)(first_time + i));
		g_ptr_array_add(records,
				wbd_spool_record_new(device, "Label", first_time + i, values));
	}
	return records;
}

static WbdSpoolRecord *
rec(GPtrArray *records, guint i)
{
	return g_ptr_array_index(records, i);
}

static void
test_spool_order(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdSpool) spool = wbd_spool_open(fixture->path, &error);
	g_autoptr(GPtrArray) a = records_new("plug", 100, 3);
	g_autoptr(GPtrArray) b = records_new("meter", 200, 2);
	g_autoptr(GPtrArray) peeked = NULL;
	guint64 dropped = 99;

	g_assert_no_error(error);
	g_assert_true(wbd_spool_append(spool, "one", a, 0, &dropped, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(dropped, ==, 0);
	g_assert_true(wbd_spool_append(spool, "two", b, 0, NULL, &error));
	g_assert_true(wbd_spool_append(spool, "one", b, 0, NULL, &error));
	g_assert_cmpuint(wbd_spool_count(spool, "one"), ==, 5);
	g_assert_cmpuint(wbd_spool_count(spool, "two"), ==, 2);
	g_assert_cmpuint(wbd_spool_count(spool, "none"), ==, 0);
	/* seq is given on append, and grows */
	g_assert_cmpint(rec(a, 0)->seq, <, rec(a, 1)->seq);
	g_assert_cmpint(rec(a, 2)->seq, <, rec(b, 0)->seq);

	/* oldest first, everything as written */
	peeked = wbd_spool_peek(spool, "one", 4, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(peeked->len, ==, 4);
	g_assert_cmpstr(rec(peeked, 0)->device, ==, "plug");
	g_assert_cmpstr(rec(peeked, 0)->label, ==, "Label");
	g_assert_cmpint(rec(peeked, 0)->time_us, ==, 100);
	g_assert_cmpstr(rec(peeked, 0)->values, ==, "{\"Power\":100}");
	g_assert_cmpint(rec(peeked, 2)->time_us, ==, 102);
	g_assert_cmpstr(rec(peeked, 3)->device, ==, "meter");
	g_assert_cmpint(rec(peeked, 3)->time_us, ==, 200);
	/* peeking leaves them there */
	g_assert_cmpuint(wbd_spool_count(spool, "one"), ==, 5);

	/* acknowledged: gone, up to and including that one, of that exporter only */
	g_assert_true(wbd_spool_remove_through(spool, "one", rec(peeked, 1)->seq, &error));
	g_assert_cmpuint(wbd_spool_count(spool, "one"), ==, 3);
	g_assert_cmpuint(wbd_spool_count(spool, "two"), ==, 2);
	g_clear_pointer(&peeked, g_ptr_array_unref);
	peeked = wbd_spool_peek(spool, "one", 10, &error);
	g_assert_cmpuint(peeked->len, ==, 3);
	g_assert_cmpint(rec(peeked, 0)->time_us, ==, 102);
	g_assert_cmpint(rec(peeked, 2)->time_us, ==, 201);
}

static void
test_spool_full(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdSpool) spool = wbd_spool_open(fixture->path, &error);
	g_autoptr(GPtrArray) first = records_new("plug", 1, 2);
	g_autoptr(GPtrArray) second = records_new("plug", 3, 3);
	g_autoptr(GPtrArray) other = records_new("plug", 1, 4);
	g_autoptr(GPtrArray) peeked = NULL;
	guint64 dropped = 0;

	g_assert_true(wbd_spool_append(spool, "other", other, 0, NULL, &error));
	g_assert_true(wbd_spool_append(spool, "one", first, 3, &dropped, &error));
	g_assert_cmpuint(dropped, ==, 0);
	/* 2 + 3 with room for 3: the two oldest go, in the same transaction */
	g_assert_true(wbd_spool_append(spool, "one", second, 3, &dropped, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(dropped, ==, 2);
	g_assert_cmpuint(wbd_spool_count(spool, "one"), ==, 3);
	peeked = wbd_spool_peek(spool, "one", 10, &error);
	g_assert_cmpuint(peeked->len, ==, 3);
	g_assert_cmpint(rec(peeked, 0)->time_us, ==, 3);
	g_assert_cmpint(rec(peeked, 1)->time_us, ==, 4);
	g_assert_cmpint(rec(peeked, 2)->time_us, ==, 5);
	/* another exporter's readings are not touched */
	g_assert_cmpuint(wbd_spool_count(spool, "other"), ==, 4);
}

/* values of every type go in and come out as they were, also after a reopen */
static void
test_spool_typed(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdSpool) spool = wbd_spool_open(fixture->path, &error);
	g_autoptr(GHashTable) values = wbd_values_new();
	g_autoptr(GPtrArray) records =
	    g_ptr_array_new_with_free_func((GDestroyNotify)wbd_spool_record_free);
	g_autoptr(GPtrArray) peeked = NULL;
	g_autoptr(GPtrArray) parsed = NULL;
	g_autofree gchar *json = NULL;
	const WbdValue *v;

	g_assert_no_error(error);
	wbd_values_set(values, wbd_value_new_number("Flow", 123.456));
	wbd_values_set(values, wbd_value_new_boolean("Switch", TRUE));
	wbd_values_set(values, wbd_value_new_string("Valve", "closing"));
	wbd_values_set(values, wbd_value_new_string("Note", "\"quoted\" \\ ü"));
	wbd_values_set(values, wbd_value_new_time("DayFirstTime", 1700000000123456));
	json = wbd_values_to_json(values);
	g_ptr_array_add(records, wbd_spool_record_new("meter", "Meter", 5, json));
	g_assert_true(wbd_spool_append(spool, "edge", records, 0, NULL, &error));
	g_assert_no_error(error);
	g_clear_object(&spool);

	spool = wbd_spool_open(fixture->path, &error);
	g_assert_no_error(error);
	peeked = wbd_spool_peek(spool, "edge", 10, &error);
	g_assert_cmpuint(peeked->len, ==, 1);
	g_assert_cmpstr(rec(peeked, 0)->values, ==, json);
	parsed = wbd_values_parse(rec(peeked, 0)->values, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(parsed->len, ==, 5);
	/* sorted by name */
	v = g_ptr_array_index(parsed, 0);
	g_assert_cmpstr(v->name, ==, "DayFirstTime");
	g_assert_cmpint(v->type, ==, WBD_VALUE_TIME);
	g_assert_cmpint(v->time_us, ==, 1700000000123456);
	v = g_ptr_array_index(parsed, 1);
	g_assert_cmpint(v->type, ==, WBD_VALUE_NUMBER);
	g_assert_cmpfloat(v->number, ==, 123.456);
	v = g_ptr_array_index(parsed, 2);
	g_assert_cmpint(v->type, ==, WBD_VALUE_STRING);
	g_assert_cmpstr(v->string, ==, "\"quoted\" \\ ü");
	v = g_ptr_array_index(parsed, 3);
	g_assert_cmpint(v->type, ==, WBD_VALUE_BOOLEAN);
	g_assert_true(v->boolean);
	v = g_ptr_array_index(parsed, 4);
	g_assert_cmpstr(v->name, ==, "Valve");
	g_assert_cmpstr(v->string, ==, "closing");
}

/* a spool written by a daemon before typed values (no format column, numbers only):
 * upgraded in place, nothing queued is lost, the old readings get their types */
static void
test_spool_upgrade(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdSpool) spool = NULL;
	g_autoptr(GPtrArray) peeked = NULL;
	g_autoptr(GPtrArray) records = records_new("plug", 500, 1);
	g_autofree gchar *dir = g_path_get_dirname(fixture->path);
	sqlite3 *db = NULL;

	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	g_assert_cmpint(sqlite3_open(fixture->path, &db), ==, SQLITE_OK);
	/* the schema and rows as the old daemon wrote them */
	g_assert_cmpint(
	    sqlite3_exec(db,
			 "PRAGMA journal_mode=WAL;"
			 "CREATE TABLE readings (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
			 " exporter TEXT NOT NULL, device TEXT NOT NULL, label TEXT NOT NULL,"
			 " time INTEGER NOT NULL, data TEXT NOT NULL);"
			 "CREATE INDEX readings_by_exporter ON readings (exporter);"
			 "INSERT INTO readings (exporter, device, label, time, data) VALUES"
			 " ('edge', 'meter', 'Meter', 1, '{\"DayFirstTime\":1700000000000000,"
			 "\"Flow\":123.456,\"Online\":1,\"Switch\":0,\"ValveOpenness\":100}'),"
			 " ('edge', 'plug', 'Plug', 2, '{\"On\":1,\"Power\":61.753}'),"
			 " ('other', 'plug', 'Plug', 3, '{\"Power\":1}');",
			 NULL,
			 NULL,
			 NULL),
	    ==,
	    SQLITE_OK);
	sqlite3_close(db);

	spool = wbd_spool_open(fixture->path, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(wbd_spool_count(spool, "edge"), ==, 2);
	g_assert_cmpuint(wbd_spool_count(spool, "other"), ==, 1);
	/* new readings after the old ones */
	g_assert_true(wbd_spool_append(spool, "edge", records, 0, NULL, &error));
	g_assert_no_error(error);
	g_clear_object(&spool);

	/* and again: the upgrade is done once */
	spool = wbd_spool_open(fixture->path, &error);
	g_assert_no_error(error);
	peeked = wbd_spool_peek(spool, "edge", 10, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(peeked->len, ==, 3);
	g_assert_cmpstr(rec(peeked, 0)->values,
			==,
			"{\"DayFirstTime\":{\"time\":1700000000000000},\"Flow\":123.456,"
			"\"Online\":true,\"Switch\":false,\"ValveOpenness\":100}");
	g_assert_cmpstr(rec(peeked, 1)->values, ==, "{\"On\":true,\"Power\":61.753}");
	g_assert_cmpstr(rec(peeked, 2)->values, ==, "{\"Power\":500}");
	g_assert_cmpint(rec(peeked, 2)->time_us, ==, 500);
	g_assert_true(wbd_spool_remove_through(spool, "edge", rec(peeked, 2)->seq, &error));
	g_assert_cmpuint(wbd_spool_count(spool, "edge"), ==, 0);
	g_assert_cmpuint(wbd_spool_count(spool, "other"), ==, 1);
}

static void
test_spool_reopen(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdSpool) spool = wbd_spool_open(fixture->path, &error);
	g_autoptr(GPtrArray) a = records_new("plug", 10, 3);
	g_autoptr(GPtrArray) b = records_new("plug", 20, 1);
	g_autoptr(GPtrArray) c = records_new("plug", 13, 2);
	g_autoptr(GPtrArray) peeked = NULL;
	gint64 last_seq;

	g_assert_true(wbd_spool_append(spool, "one", a, 0, NULL, &error));
	g_assert_true(wbd_spool_remove_through(spool, "one", rec(a, 2)->seq, &error));
	g_assert_true(wbd_spool_append(spool, "one", c, 0, NULL, &error));
	last_seq = rec(a, 2)->seq;
	g_clear_object(&spool);

	spool = wbd_spool_open(fixture->path, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(wbd_spool_count(spool, "one"), ==, 2);
	peeked = wbd_spool_peek(spool, "one", 10, &error);
	g_assert_cmpint(rec(peeked, 0)->time_us, ==, 13);
	g_assert_cmpint(rec(peeked, 1)->time_us, ==, 14);
	/* emptied and reopened: seq still never goes back, so an old acknowledgement
	 * cannot remove new readings */
	g_assert_true(wbd_spool_remove_through(spool, "one", rec(peeked, 1)->seq, &error));
	g_assert_cmpuint(wbd_spool_count(spool, "one"), ==, 0);
	g_clear_object(&spool);
	spool = wbd_spool_open(fixture->path, &error);
	g_assert_true(wbd_spool_append(spool, "one", b, 0, NULL, &error));
	g_assert_cmpint(rec(b, 0)->seq, >, last_seq + 2);
}

static void
test_spool_sigkill(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdSpool) spool = NULL;
	g_autoptr(GPtrArray) peeked = NULL;
	g_autofree gchar *wal = g_strconcat(fixture->path, "-wal", NULL);
	int status = 0;
	pid_t pid;

	/* a child appends, and dies without closing anything */
	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		g_autoptr(WbdSpool) child = wbd_spool_open(fixture->path, NULL);
		g_autoptr(GPtrArray) records = records_new("plug", 42, 3);
		if (child == NULL || !wbd_spool_append(child, "one", records, 0, NULL, NULL))
			_exit(1);
		/* still open: the readings are in the write-ahead log */
		if (!g_file_test(wal, G_FILE_TEST_EXISTS))
			_exit(2);
		kill(getpid(), SIGKILL);
		_exit(3);
	}
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFSIGNALED(status));
	g_assert_cmpint(WTERMSIG(status), ==, SIGKILL);

	spool = wbd_spool_open(fixture->path, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(wbd_spool_count(spool, "one"), ==, 3);
	peeked = wbd_spool_peek(spool, "one", 10, &error);
	g_assert_cmpint(rec(peeked, 0)->time_us, ==, 42);
	g_assert_cmpint(rec(peeked, 2)->time_us, ==, 44);
}

/* async: run on the worker, completed in the order they were queued */

typedef struct {
	GPtrArray *events; /* gchar * */
	guint pending;
	gint64 seq;
} AsyncData;

static void
append_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	AsyncData *data = user_data;
	g_autoptr(GError) error = NULL;
	guint64 dropped = 0;
	guint64 count = 0;
	g_assert_true(wbd_spool_append_finish(WBD_SPOOL(source), res, &dropped, &count, &error));
	g_assert_no_error(error);
	g_ptr_array_add(data->events,
			g_strdup_printf("append count=%" G_GUINT64_FORMAT
					" dropped=%" G_GUINT64_FORMAT,
					count,
					dropped));
	data->pending--;
}

static void
peek_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	AsyncData *data = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) records = wbd_spool_peek_finish(WBD_SPOOL(source), res, &error);
	g_assert_no_error(error);
	g_ptr_array_add(data->events,
			g_strdup_printf("peek %u first=%" G_GINT64_FORMAT,
					records->len,
					records->len > 0 ? rec(records, 0)->time_us : -1));
	if (records->len > 0)
		data->seq = rec(records, records->len - 1)->seq;
	data->pending--;
}

static void
remove_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	AsyncData *data = user_data;
	g_autoptr(GError) error = NULL;
	guint64 count = 0;
	g_assert_true(wbd_spool_remove_through_finish(WBD_SPOOL(source), res, &count, &error));
	g_ptr_array_add(data->events, g_strdup_printf("remove count=%" G_GUINT64_FORMAT, count));
	data->pending--;
}

static void
test_spool_async(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdSpool) spool = wbd_spool_open(fixture->path, &error);
	g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func(g_free);
	AsyncData data = {events, 0, 0};
	g_autoptr(GPtrArray) a = records_new("plug", 1, 2);
	g_autoptr(GPtrArray) b = records_new("plug", 3, 3);
	g_autoptr(GPtrArray) c = records_new("plug", 9, 1);
	const gchar *expected[] = {"append count=2 dropped=0",
				   "peek 2 first=1",
				   "append count=4 dropped=1",
				   "peek 3 first=2",
				   NULL};

	/* queued back to back: each sees the one before it done */
	wbd_spool_append_async(spool, "one", a, 4, NULL, append_cb, &data);
	wbd_spool_peek_async(spool, "one", 10, NULL, peek_cb, &data);
	wbd_spool_append_async(spool, "one", b, 4, NULL, append_cb, &data);
	wbd_spool_peek_async(spool, "one", 3, NULL, peek_cb, &data);
	data.pending = 4;
	while (data.pending > 0)
		g_main_context_iteration(NULL, TRUE);
	g_ptr_array_add(events, NULL);
	g_assert_cmpstrv((const gchar *const *)events->pdata, expected);
	g_ptr_array_remove_index(events, events->len - 1);

	wbd_spool_remove_through_async(spool, "one", data.seq, NULL, remove_cb, &data);
	data.pending = 1;
	while (data.pending > 0)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpstr(g_ptr_array_index(events, 4), ==, "remove count=1");

	/* wait: what was queued before is done when it returns */
	wbd_spool_append_async(spool, "one", c, 0, NULL, NULL, NULL);
	wbd_spool_wait(spool);
	g_assert_cmpuint(wbd_spool_count(spool, "one"), ==, 2);
}

static void
test_spool_bad_path(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdSpool) spool = wbd_spool_open("/proc/wattbus/spool.db", &error);
	g_assert_null(spool);
	g_assert_nonnull(error);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/spool/order",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_spool_order,
		   fixture_teardown);
	g_test_add("/spool/full", Fixture, NULL, fixture_setup, test_spool_full, fixture_teardown);
	g_test_add("/spool/typed", Fixture, NULL, fixture_setup, test_spool_typed, fixture_teardown);
	g_test_add("/spool/upgrade-old-schema",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_spool_upgrade,
		   fixture_teardown);
	g_test_add("/spool/reopen",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_spool_reopen,
		   fixture_teardown);
	g_test_add("/spool/sigkill",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_spool_sigkill,
		   fixture_teardown);
	g_test_add("/spool/async",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_spool_async,
		   fixture_teardown);
	g_test_add_func("/spool/bad-path", test_spool_bad_path);
	return g_test_run();
}
