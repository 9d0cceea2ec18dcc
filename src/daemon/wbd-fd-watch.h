/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _WbdFdSet WbdFdSet;
typedef struct _WbdFdWatch WbdFdWatch;

/*
 * @condition: what @watch's descriptor is ready for (G_IO_IN, G_IO_OUT, G_IO_HUP,
 * G_IO_ERR), or 0: its deadline has come (it has no deadline any more then)
 */
typedef void (*WbdFdWatchFunc)(WbdFdWatch *watch, GIOCondition condition, gpointer user_data);

/**
 * WbdFdWatch:
 *
 * One descriptor of a #WbdFdSet, embedded in its owner; all fields are private
 * (zero-initialised: in no set).
 */
struct _WbdFdWatch {
	WbdFdSet *set;
	gint fd;
	guint32 events;
	gint64 deadline; /* monotonic µs; meaningful while in the set's deadline list */
	GList link;      /* in the set's deadline list, by deadline */
	gboolean has_deadline;
	WbdFdWatchFunc func;
	gpointer user_data;
};

WbdFdSet *
wbd_fd_set_new(GMainContext *context, const gchar *name, gint priority);
void
wbd_fd_set_free(WbdFdSet *set);
WbdFdSet *
wbd_fd_set_get_shared(const gchar *name, gint priority, gint64 linger_us);
void
wbd_fd_set_set_linger(WbdFdSet *set, gint64 linger_us);
gint
wbd_fd_set_get_priority(WbdFdSet *set);
gboolean
wbd_fd_watch_add(WbdFdSet *set,
		 WbdFdWatch *watch,
		 gint fd,
		 GIOCondition condition,
		 WbdFdWatchFunc func,
		 gpointer user_data,
		 GError **error);
gboolean
wbd_fd_watch_set_condition(WbdFdWatch *watch, GIOCondition condition, GError **error);
void
wbd_fd_watch_set_deadline(WbdFdWatch *watch, gint64 deadline);
void
wbd_fd_watch_clear_deadline(WbdFdWatch *watch);
void
wbd_fd_watch_remove(WbdFdWatch *watch);

G_END_DECLS
