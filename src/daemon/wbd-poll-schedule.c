/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "wbd-poll-schedule.h"

/*
 * The schedule: every device's next poll, or while it polls the time-out of that
 * poll, by due time, behind ONE source for all the devices of the process instead of
 * a timer each. GLib's main loop looks at every attached source at every iteration,
 * so 1000 idle timers cost each of its iterations (several per poll) tens of
 * microseconds; with one source, an idle device costs nothing until it is due.
 * Pure: it knows entries and times, not devices (wbd-device-poll.c owns the one
 * schedule of the daemon; tests/unit/test-poll-schedule.c tests this one alone).
 */
struct _WbdPollSchedule {
	GSource source;
	GSequence *due; /* WbdPollEntry (not owned: an entry leaves it when it stops), by due time */
	WbdPollDueFunc func;
	gpointer user_data;
};

static gint
wbd_poll_schedule_compare_due(gconstpointer a, gconstpointer b, gpointer user_data)
{
	gint64 da = ((const WbdPollEntry *)a)->due;
	gint64 db = ((const WbdPollEntry *)b)->due;
	return da < db ? -1 : da > db ? 1 : 0;
}

static void
wbd_poll_schedule_rearm(WbdPollSchedule *schedule)
{
	GSequenceIter *first = g_sequence_get_begin_iter(schedule->due);
	g_source_set_ready_time(&schedule->source,
				g_sequence_iter_is_end(first)
				    ? -1
				    : ((WbdPollEntry *)g_sequence_get(first))->due);
}

static gboolean
wbd_poll_schedule_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
	WbdPollSchedule *schedule = (WbdPollSchedule *)source;
	gint64 now = g_source_get_time(source);
	GSequenceIter *first;

	while (!g_sequence_iter_is_end(first = g_sequence_get_begin_iter(schedule->due))) {
		WbdPollEntry *entry = g_sequence_get(first);
		if (entry->due > now)
			break;
		g_sequence_remove(first);
		entry->iter = NULL;
		schedule->func(entry, schedule->user_data);
	}
	wbd_poll_schedule_rearm(schedule);
	return G_SOURCE_CONTINUE;
}

static void
wbd_poll_schedule_finalize(GSource *source)
{
	WbdPollSchedule *schedule = (WbdPollSchedule *)source;
	g_sequence_free(schedule->due);
}

static GSourceFuncs wbd_poll_schedule_funcs = {NULL,
					       NULL,
					       wbd_poll_schedule_dispatch,
					       wbd_poll_schedule_finalize};

/**
 * wbd_poll_schedule_new:
 * @context: (nullable): where it runs; %NULL: the default main context
 * @name: (not nullable): a static string, the source's name
 * @func: called in @context for each entry when it is due, in the order of their due
 *   times
 *
 * Returns: (transfer full): a schedule, attached to @context
 */
WbdPollSchedule *
wbd_poll_schedule_new(GMainContext *context,
		      const gchar *name,
		      gint priority,
		      WbdPollDueFunc func,
		      gpointer user_data)
{
	WbdPollSchedule *schedule =
	    (WbdPollSchedule *)g_source_new(&wbd_poll_schedule_funcs, sizeof(WbdPollSchedule));

	schedule->due = g_sequence_new(NULL);
	schedule->func = func;
	schedule->user_data = user_data;
	g_source_set_static_name(&schedule->source, name);
	g_source_set_priority(&schedule->source, priority);
	g_source_attach(&schedule->source, context);
	return schedule;
}

/* detaches and frees it; its entries are left as they are (their iter dangles) */
void
wbd_poll_schedule_free(WbdPollSchedule *schedule)
{
	g_source_destroy(&schedule->source);
	g_source_unref(&schedule->source);
}

/* @entry, not in a schedule, is due at @due (monotonic µs) */
void
wbd_poll_schedule_add(WbdPollSchedule *schedule, WbdPollEntry *entry, gint64 due)
{
	g_assert(entry->iter == NULL);
	entry->due = due;
	entry->iter = g_sequence_insert_sorted(schedule->due,
					       entry,
					       wbd_poll_schedule_compare_due,
					       NULL);
	if (entry->iter == g_sequence_get_begin_iter(schedule->due))
		wbd_poll_schedule_rearm(schedule);
}

/* takes @entry out, if it is in */
void
wbd_poll_schedule_remove(WbdPollSchedule *schedule, WbdPollEntry *entry)
{
	gboolean was_first;

	if (entry->iter == NULL)
		return;
	was_first = entry->iter == g_sequence_get_begin_iter(schedule->due);
	g_sequence_remove(entry->iter);
	entry->iter = NULL;
	if (was_first)
		wbd_poll_schedule_rearm(schedule);
}

guint
wbd_poll_schedule_get_length(WbdPollSchedule *schedule)
{
	return (guint)g_sequence_get_length(schedule->due);
}

/**
 * wbd_poll_schedule_next_due:
 * @n_entries: how many entries the schedule has, this one included
 * @id: the entry's name (a device id): its slot
 * @seconds: the interval, > 0
 * @planned: when the last poll was due, if it came from the schedule, or 0
 * @started: when the last poll started, or 0
 * @now: monotonic µs
 *
 * Every poll is due in one of the slots of each second, the entry's own (a hash of
 * its id): bursts of about WBD_POLL_SCHEDULE_PER_SLOT entries, at most
 * WBD_POLL_SCHEDULE_SLOTS wake-ups a second, instead of all of them at once (which held
 * the main loop for tens of milliseconds with 1000 devices) or a wake-up per device
 * (which costs CPU with 100), and a 1 s interval that stays 1 s: counted from when the
 * last poll was due, not from when it started (a poll started late by more than half a
 * slot would otherwise skip a second); from its start when it was not scheduled (the
 * first, a Refresh) or the next slot is already past.
 *
 * Returns: when the next poll is due, monotonic µs, never before @now
 */
gint64
wbd_poll_schedule_next_due(guint n_entries,
			   const gchar *id,
			   guint seconds,
			   gint64 planned,
			   gint64 started,
			   gint64 now)
{
	guint slots = CLAMP(n_entries / WBD_POLL_SCHEDULE_PER_SLOT, 1, WBD_POLL_SCHEDULE_SLOTS);
	gint64 slot = G_USEC_PER_SEC / slots;
	gint64 phase = (gint64)(g_str_hash(id) % slots) * slot;
	gint64 from = started != 0 ? started : now;
	gint64 due = planned + (gint64)seconds * G_USEC_PER_SEC;

	if (planned == 0 || due < now) {
		gint64 earliest = from + (gint64)seconds * G_USEC_PER_SEC - slot / 2;
		due = earliest - earliest % G_USEC_PER_SEC + phase;
		while (due < earliest || due < now)
			due += G_USEC_PER_SEC;
	}
	return due;
}
