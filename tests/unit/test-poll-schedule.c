/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "wbd-poll-schedule.h"

/*
 * The process-wide poll schedule (src/daemon/wbd-poll-schedule.c) alone, in a main
 * context of the test's own: entries fire in the order of their due times, never before
 * they are due, removed ones never; and the slots that spread the polls of many devices
 * over each second, keeping a 1 s interval 1 s. No clock is waited for: entries are due
 * in the past or an hour ahead.
 */

#define S ((gint64)G_USEC_PER_SEC)

typedef struct {
	GMainContext *context;
	WbdPollSchedule *schedule;
	GPtrArray *fired; /* WbdPollEntry, in the order they fired */
	WbdPollEntry *again; /* added again, an hour later, when it fires */
} Fixture;

static void
due_cb(WbdPollEntry *entry, gpointer user_data)
{
	Fixture *fixture = user_data;

	g_assert_null(entry->iter);
	g_ptr_array_add(fixture->fired, entry);
	if (entry == fixture->again)
		wbd_poll_schedule_add(fixture->schedule, entry, g_get_monotonic_time() + 3600 * S);
}

static void
fixture_set_up(Fixture *fixture, gconstpointer data)
{
	fixture->context = g_main_context_new();
	fixture->fired = g_ptr_array_new();
	fixture->schedule =
	    wbd_poll_schedule_new(fixture->context, "test polls", G_PRIORITY_DEFAULT, due_cb, fixture);
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer data)
{
	wbd_poll_schedule_free(fixture->schedule);
	g_ptr_array_unref(fixture->fired);
	g_main_context_unref(fixture->context);
}

/* one main-loop turn, never blocking; Returns: whether the schedule dispatched */
static gboolean
turn(Fixture *fixture)
{
	return g_main_context_iteration(fixture->context, FALSE);
}

static void
test_order(Fixture *fixture, gconstpointer data)
{
	gint64 now = g_get_monotonic_time();
	/* added out of order, all due already, one an hour ahead */
	const gint64 ago[] = {3, 7, 1, 5, 2, 6, 4};
	WbdPollEntry entries[G_N_ELEMENTS(ago)] = {0};
	WbdPollEntry later = {0};

	for (guint i = 0; i < G_N_ELEMENTS(ago); i++)
		wbd_poll_schedule_add(fixture->schedule, &entries[i], now - ago[i] * S);
	wbd_poll_schedule_add(fixture->schedule, &later, now + 3600 * S);
	g_assert_cmpuint(wbd_poll_schedule_get_length(fixture->schedule), ==, 8);

	/* one turn fires every entry that is due, oldest first; the later one stays */
	g_assert_true(turn(fixture));
	g_assert_cmpuint(fixture->fired->len, ==, G_N_ELEMENTS(ago));
	for (guint i = 1; i < fixture->fired->len; i++) {
		WbdPollEntry *before = g_ptr_array_index(fixture->fired, i - 1);
		WbdPollEntry *entry = g_ptr_array_index(fixture->fired, i);
		g_assert_cmpint(before->due, <, entry->due);
	}
	g_assert_cmpuint(wbd_poll_schedule_get_length(fixture->schedule), ==, 1);
	g_assert_nonnull(later.iter);

	/* nothing more is due: the source is not ready */
	g_assert_false(turn(fixture));
	g_assert_cmpuint(fixture->fired->len, ==, G_N_ELEMENTS(ago));
}

static void
test_remove(Fixture *fixture, gconstpointer data)
{
	gint64 now = g_get_monotonic_time();
	WbdPollEntry first = {0};
	WbdPollEntry second = {0};
	WbdPollEntry later = {0};

	wbd_poll_schedule_add(fixture->schedule, &first, now - 2 * S);
	wbd_poll_schedule_add(fixture->schedule, &second, now - 1 * S);
	wbd_poll_schedule_add(fixture->schedule, &later, now + 3600 * S);

	/* a removed entry never fires, and removing it twice is nothing */
	wbd_poll_schedule_remove(fixture->schedule, &second);
	wbd_poll_schedule_remove(fixture->schedule, &second);
	g_assert_null(second.iter);

	/* removing the first re-arms the source for the next one, an hour ahead */
	wbd_poll_schedule_remove(fixture->schedule, &first);
	g_assert_false(turn(fixture));
	g_assert_cmpuint(fixture->fired->len, ==, 0);

	/* added again, due: it fires */
	wbd_poll_schedule_add(fixture->schedule, &first, now - 1);
	g_assert_true(turn(fixture));
	g_assert_cmpuint(fixture->fired->len, ==, 1);
	g_assert_true(g_ptr_array_index(fixture->fired, 0) == &first);
}

/* an entry that adds itself again when it fires (a poll's time-out) fires once a turn,
 * and every other entry due in that turn fires too */
static void
test_fairness(Fixture *fixture, gconstpointer data)
{
	gint64 now = g_get_monotonic_time();
	WbdPollEntry entries[50] = {0};

	for (guint i = 0; i < G_N_ELEMENTS(entries); i++)
		wbd_poll_schedule_add(fixture->schedule, &entries[i], now - S);
	fixture->again = &entries[0];
	g_assert_true(turn(fixture));
	g_assert_cmpuint(fixture->fired->len, ==, G_N_ELEMENTS(entries));
	g_assert_cmpuint(wbd_poll_schedule_get_length(fixture->schedule), ==, 1);
	g_assert_nonnull(entries[0].iter);
	g_assert_false(turn(fixture));
}

/* the slots: where the next poll of an entry goes */
static void
test_slots(void)
{
	const gint64 t = 1000 * S;
	guint per_slot[WBD_POLL_SCHEDULE_SLOTS] = {0};
	guint used = 0;
	guint most = 0;

	/* a 1 s interval stays 1 s, counted from when the last poll was due, even if it
	 * started late */
	g_assert_cmpint(wbd_poll_schedule_next_due(500, "plug", 1, t, t + S / 2, t + S / 2),
			==,
			t + S);
	g_assert_cmpint(wbd_poll_schedule_next_due(1, "plug", 30, t, t, t + 10 * S), ==, t + 30 * S);

	/* the first poll, or a Refresh (not from the schedule): a whole interval from its
	 * start, in the entry's slot (a few entries: one slot, on the whole second), less
	 * half a slot: the slot before if it is that close */
	g_assert_cmpint(wbd_poll_schedule_next_due(1, "plug", 2, 0, t + 700000, t + 700000),
			==,
			t + 3 * S);
	g_assert_cmpint(wbd_poll_schedule_next_due(9, "plug", 2, 0, 0, t + 700000), ==, t + 3 * S);
	g_assert_cmpint(wbd_poll_schedule_next_due(1, "plug", 2, 0, t + 300000, t + 300000),
			==,
			t + 2 * S);

	/* a poll due long ago (the main loop was held): the next one is never in the past */
	g_assert_cmpint(wbd_poll_schedule_next_due(1, "plug", 1, t - 10 * S, t - 10 * S, t),
			>=,
			t);
	g_assert_cmpint(wbd_poll_schedule_next_due(1, "plug", 1, t - 10 * S, t - 10 * S, t) % S,
			==,
			0);

	/* 1000 entries polled every second: 100 slots of 10 ms, about 10 entries each, all
	 * in the second after the interval */
	for (guint i = 0; i < 1000; i++) {
		g_autofree gchar *id = g_strdup_printf("device-%u", i);
		gint64 due = wbd_poll_schedule_next_due(1000, id, 1, 0, t, t);
		gint64 slot = S / WBD_POLL_SCHEDULE_SLOTS;

		g_assert_cmpint(due, >=, t + S - slot / 2);
		g_assert_cmpint(due, <, t + 2 * S);
		g_assert_cmpint(due % slot, ==, 0);
		per_slot[(due % S) / slot]++;
	}
	for (guint i = 0; i < WBD_POLL_SCHEDULE_SLOTS; i++) {
		used += per_slot[i] > 0;
		most = MAX(most, per_slot[i]);
	}
	g_assert_cmpuint(used, >=, WBD_POLL_SCHEDULE_SLOTS * 9 / 10);
	g_assert_cmpuint(most, <=, 3 * WBD_POLL_SCHEDULE_PER_SLOT);

	/* never more than WBD_POLL_SCHEDULE_SLOTS wake-ups a second */
	for (guint i = 0; i < 1000; i++) {
		g_autofree gchar *id = g_strdup_printf("device-%u", i);
		gint64 due = wbd_poll_schedule_next_due(100000, id, 1, 0, t, t);
		g_assert_cmpint(due % (S / WBD_POLL_SCHEDULE_SLOTS), ==, 0);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/poll-schedule/order", Fixture, NULL, fixture_set_up, test_order, fixture_tear_down);
	g_test_add("/poll-schedule/remove", Fixture, NULL, fixture_set_up, test_remove, fixture_tear_down);
	g_test_add("/poll-schedule/fairness",
		   Fixture,
		   NULL,
		   fixture_set_up,
		   test_fairness,
		   fixture_tear_down);
	g_test_add_func("/poll-schedule/slots", test_slots);
	return g_test_run();
}
