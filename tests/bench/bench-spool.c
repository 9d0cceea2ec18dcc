/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <glib/gstdio.h>

#include "wbd-spool.h"

/*
 * Spool throughput: how many readings a second can be accepted (written and
 * committed) and acknowledged (removed), by transaction size. Not a test: it prints a
 * table (tests/bench/RESULTS.md keeps the numbers). `meson test --benchmark`, or run
 * it with a count: bench-spool [READINGS] [DIR]
 */

static GPtrArray *
make_records(guint n, gint64 *clock)
{
	GPtrArray *records = g_ptr_array_new_with_free_func((GDestroyNotify)wbd_spool_record_free);
	for (guint i = 0; i < n; i++) {
		(*clock)++;
		g_ptr_array_add(
		    records,
		    wbd_spool_record_new("living-room-plug",
					 "Living room plug",
					 *clock,
					 "{\"Current\":0.451,\"Energy\":16323,\"On\":1,"
					 "\"Online\":1,\"Power\":61.753,\"Voltage\":230.837}"));
	}
	return records;
}

static void
bench_append(WbdSpool *spool, const gchar *exporter, guint total, guint batch)
{
	gint64 clock = 0;
	gint64 start = g_get_monotonic_time();
	gdouble seconds;

	for (guint done = 0; done < total; done += batch) {
		g_autoptr(GPtrArray) records = make_records(MIN(batch, total - done), &clock);
		g_autoptr(GError) error = NULL;
		if (!wbd_spool_append(spool, exporter, records, 0, NULL, &error))
			g_error("append: %s", error->message);
	}
	seconds = (g_get_monotonic_time() - start) / 1e6;
	g_print("| append, %5u a transaction | %7u | %8.3f | %10.0f |\n",
		batch,
		total,
		seconds,
		total / seconds);
}

static void
bench_drain(WbdSpool *spool, const gchar *exporter, guint batch)
{
	guint64 total = wbd_spool_count(spool, exporter);
	gint64 start = g_get_monotonic_time();
	gdouble seconds;

	for (;;) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) records = wbd_spool_peek(spool, exporter, batch, &error);
		WbdSpoolRecord *last;
		if (records == NULL)
			g_error("peek: %s", error->message);
		if (records->len == 0)
			break;
		last = g_ptr_array_index(records, records->len - 1);
		if (!wbd_spool_remove_through(spool, exporter, last->seq, &error))
			g_error("remove: %s", error->message);
	}
	seconds = (g_get_monotonic_time() - start) / 1e6;
	g_print("| peek + remove, %5u a batch | %7" G_GUINT64_FORMAT " | %8.3f | %10.0f |\n",
		batch,
		total,
		seconds,
		total / seconds);
}

static void
bench_full(WbdSpool *spool, guint total)
{
	gint64 clock = 0;
	gint64 start = g_get_monotonic_time();
	guint64 dropped_total = 0;
	gdouble seconds;

	/* a full spool: every append also drops the oldest */
	for (guint done = 0; done < total; done += 10) {
		g_autoptr(GPtrArray) records = make_records(10, &clock);
		guint64 dropped = 0;
		if (!wbd_spool_append(spool, "full", records, 1000, &dropped, NULL))
			g_error("append");
		dropped_total += dropped;
	}
	seconds = (g_get_monotonic_time() - start) / 1e6;
	g_print("| append to a full spool (1000), 10 a transaction | %7u | %8.3f | %10.0f |\n",
		total,
		seconds,
		total / seconds);
	g_assert_cmpuint(dropped_total, ==, total - 1000);
}

int
main(int argc, char **argv)
{
	guint total = argc > 1 ? (guint)g_ascii_strtoull(argv[1], NULL, 10) : 20000;
	g_autofree gchar *dir =
	    argc > 2 ? g_strdup(argv[2]) : g_dir_make_tmp("wattbus-bench-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename(dir, "spool.db", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdSpool) spool = wbd_spool_open(path, &error);

	if (spool == NULL)
		g_error("%s", error->message);
	g_print("spool %s (WAL, synchronous=FULL), %u readings of 6 values\n\n", path, total);
	g_print("| operation | readings | seconds | readings/s |\n|---|---:|---:|---:|\n");
	bench_append(spool, "one", MIN(total, 2000), 1);
	bench_append(spool, "ten", total, 10);
	bench_append(spool, "hundred", total, 100);
	bench_append(spool, "thousand", total, 1000);
	bench_drain(spool, "one", 1);
	bench_drain(spool, "hundred", 500);
	bench_full(spool, total);
	g_clear_object(&spool);
	if (argc <= 2) {
		const gchar *names[] = {"spool.db", "spool.db-wal", "spool.db-shm"};
		for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
			g_autofree gchar *file = g_build_filename(dir, names[i], NULL);
			g_remove(file);
		}
		g_rmdir(dir);
	}
	return 0;
}
