/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * polls are spread over at most this many slots of each second, about
 * WBD_POLL_SCHEDULE_PER_SLOT entries a slot: every wake-up costs, and so do big bursts
 */
#define WBD_POLL_SCHEDULE_SLOTS 100
#define WBD_POLL_SCHEDULE_PER_SLOT 10

/**
 * WbdPollEntry:
 * @due: when it is due, monotonic µs (read only: set by wbd_poll_schedule_add())
 * @iter: its place in the schedule, %NULL when not in one
 * @data: the owner's (a device)
 *
 * One entry of a #WbdPollSchedule, embedded in what it schedules.
 */
typedef struct {
	gint64 due;
	GSequenceIter *iter;
	gpointer data;
} WbdPollEntry;

typedef struct _WbdPollSchedule WbdPollSchedule;

/* @entry is due: it has left the schedule (it may add itself again, due later) */
typedef void (*WbdPollDueFunc)(WbdPollEntry *entry, gpointer user_data);

WbdPollSchedule *
wbd_poll_schedule_new(GMainContext *context,
		      const gchar *name,
		      gint priority,
		      WbdPollDueFunc func,
		      gpointer user_data);
void
wbd_poll_schedule_free(WbdPollSchedule *schedule);
void
wbd_poll_schedule_add(WbdPollSchedule *schedule, WbdPollEntry *entry, gint64 due);
void
wbd_poll_schedule_remove(WbdPollSchedule *schedule, WbdPollEntry *entry);
guint
wbd_poll_schedule_get_length(WbdPollSchedule *schedule);
gint64
wbd_poll_schedule_next_due(guint n_entries,
			   const gchar *id,
			   guint seconds,
			   gint64 planned,
			   gint64 started,
			   gint64 now);

G_END_DECLS
