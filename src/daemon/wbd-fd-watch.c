/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "wbd-fd-watch.h"

/*
 * Many sockets behind ONE main-loop source: an epoll set (level-triggered) whose own
 * descriptor is the source's only poll fd, and one deadline list whose first entry is
 * the source's ready time. A GSource per socket and request costs, at each request,
 * an allocation, adding and removing its poll fd and setting its ready time (each of
 * which writes GLib's wake-up eventfd and makes the loop go round once more), and
 * GLib walks every attached source at every iteration; here a socket is added once
 * for as long as it is open, one epoll_wait() reads every reply that is ready, and a
 * deadline is a list insertion at the tail (requests' deadlines mostly grow).
 *
 * The ready time is lazy: a deadline that goes away leaves it as it is, and the
 * dispatch that it causes, early, sets it to the next deadline. (Each change of a
 * source's ready time writes GLib's wake-up descriptor.) So a steady stream of
 * requests that are answered costs a dispatch of the deadlines about once a time-out,
 * not once a request.
 */

#define WBD_FD_SET_BATCH 64

struct _WbdFdSet {
	GSource source;
	gint epfd;
	gpointer tag;
	GQueue deadlines; /* WbdFdWatch, by deadline */
	gint64 armed;	  /* the source's ready time, -1: none */
	/* the events of the epoll_wait() being dispatched: a watch removed meanwhile is
	 * taken out of them */
	struct epoll_event batch[WBD_FD_SET_BATCH];
	gint n_batch;
	gint next;
	gboolean dispatching;
};

static guint32
wbd_fd_watch_epoll_events(GIOCondition condition)
{
	guint32 events = 0;
	if (condition & G_IO_IN)
		events |= EPOLLIN;
	if (condition & G_IO_OUT)
		events |= EPOLLOUT;
	if (condition & G_IO_PRI)
		events |= EPOLLPRI;
	return events;
}

static GIOCondition
wbd_fd_watch_condition(guint32 events)
{
	GIOCondition condition = 0;
	if (events & EPOLLIN)
		condition |= G_IO_IN;
	if (events & EPOLLOUT)
		condition |= G_IO_OUT;
	if (events & EPOLLPRI)
		condition |= G_IO_PRI;
	if (events & EPOLLHUP)
		condition |= G_IO_HUP;
	if (events & EPOLLERR)
		condition |= G_IO_ERR;
	return condition;
}

static void
wbd_fd_set_arm(WbdFdSet *set, gint64 ready_time)
{
	if (set->armed == ready_time)
		return;
	set->armed = ready_time;
	g_source_set_ready_time(&set->source, ready_time);
}

static gboolean
wbd_fd_set_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
	WbdFdSet *set = (WbdFdSet *)source;
	gint64 now = g_source_get_time(source);
	GList *first;

	/* a nested main loop inside a watch's function: the rest waits for the outer one */
	if (set->dispatching)
		return G_SOURCE_CONTINUE;
	set->dispatching = TRUE;
	if (g_source_query_unix_fd(source, set->tag) & G_IO_IN) {
		gint n;
		do
			n = epoll_wait(set->epfd, set->batch, WBD_FD_SET_BATCH, 0);
		while (n < 0 && errno == EINTR);
		set->n_batch = MAX(n, 0);
		/* a watch's function may remove any watch, see wbd_fd_watch_remove() */
		for (set->next = 0; set->next < set->n_batch; set->next++) {
			WbdFdWatch *watch = set->batch[set->next].data.ptr;
			if (watch != NULL)
				watch->func(watch,
					    wbd_fd_watch_condition(set->batch[set->next].events),
					    watch->user_data);
		}
		set->n_batch = 0;
	}
	/* the deadlines that came, each taken out before its function runs */
	if (set->armed >= 0 && set->armed <= now) {
		while ((first = g_queue_peek_head_link(&set->deadlines)) != NULL) {
			WbdFdWatch *watch = first->data;
			if (watch->deadline > now)
				break;
			g_queue_unlink(&set->deadlines, first);
			watch->has_deadline = FALSE;
			watch->func(watch, 0, watch->user_data);
		}
		first = g_queue_peek_head_link(&set->deadlines);
		wbd_fd_set_arm(set, first != NULL ? ((WbdFdWatch *)first->data)->deadline : -1);
	}
	set->dispatching = FALSE;
	return G_SOURCE_CONTINUE;
}

static void
wbd_fd_set_finalize(GSource *source)
{
	WbdFdSet *set = (WbdFdSet *)source;
	if (set->epfd >= 0)
		close(set->epfd);
}

static GSourceFuncs wbd_fd_set_funcs = {NULL, NULL, wbd_fd_set_dispatch, wbd_fd_set_finalize};

/**
 * wbd_fd_set_new:
 * @context: (nullable): where it runs; %NULL: the default main context
 * @name: (not nullable): a static string, the source's name
 * @priority: the main-loop priority of every watch of the set
 *
 * Returns: (transfer full): an empty set, attached to @context
 */
WbdFdSet *
wbd_fd_set_new(GMainContext *context, const gchar *name, gint priority)
{
	WbdFdSet *set = (WbdFdSet *)g_source_new(&wbd_fd_set_funcs, sizeof(WbdFdSet));

	set->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (set->epfd < 0)
		g_error("epoll_create1: %s", g_strerror(errno));
	set->tag = g_source_add_unix_fd(&set->source, set->epfd, G_IO_IN);
	g_queue_init(&set->deadlines);
	set->armed = -1;
	g_source_set_static_name(&set->source, name);
	g_source_set_priority(&set->source, priority);
	/*
	 * GLib takes the poll fds of a source that cannot recurse out of the loop's set for
	 * its dispatch and puts them back after, each time writing the loop's wake-up
	 * descriptor: two system calls and one more turn of the loop per dispatch. Nested
	 * dispatches are refused in wbd_fd_set_dispatch() instead.
	 */
	g_source_set_can_recurse(&set->source, TRUE);
	g_source_attach(&set->source, context);
	return set;
}

/* detaches and frees it; its watches must have been removed */
void
wbd_fd_set_free(WbdFdSet *set)
{
	g_source_destroy(&set->source);
	g_source_unref(&set->source);
}

gint
wbd_fd_set_get_priority(WbdFdSet *set)
{
	return g_source_get_priority(&set->source);
}

static gboolean
wbd_fd_watch_ctl(WbdFdWatch *watch, gint op, guint32 events, GError **error)
{
	struct epoll_event event = {.events = events, .data.ptr = watch};
	gint saved;
	if (epoll_ctl(watch->set->epfd, op, watch->fd, &event) == 0)
		return TRUE;
	saved = errno;
	g_set_error(error,
		    G_IO_ERROR,
		    g_io_error_from_errno(saved),
		    "Cannot watch the socket: %s",
		    g_strerror(saved));
	return FALSE;
}

/**
 * wbd_fd_watch_add:
 * @watch: not in a set
 * @fd: a descriptor that stays open while @watch is in @set
 * @condition: what to wait for: G_IO_IN and/or G_IO_OUT (G_IO_HUP and G_IO_ERR always)
 * @func: called from @set's source for as long as @fd is ready (level-triggered)
 *
 * Returns: %FALSE with @error set when the kernel refused
 */
gboolean
wbd_fd_watch_add(WbdFdSet *set,
		 WbdFdWatch *watch,
		 gint fd,
		 GIOCondition condition,
		 WbdFdWatchFunc func,
		 gpointer user_data,
		 GError **error)
{
	g_return_val_if_fail(watch->set == NULL, FALSE);
	watch->set = set;
	watch->fd = fd;
	watch->events = wbd_fd_watch_epoll_events(condition);
	watch->func = func;
	watch->user_data = user_data;
	watch->has_deadline = FALSE;
	watch->link.data = watch;
	if (!wbd_fd_watch_ctl(watch, EPOLL_CTL_ADD, watch->events, error)) {
		watch->set = NULL;
		return FALSE;
	}
	return TRUE;
}

/* what @watch waits for from now on (a system call only when it changes) */
gboolean
wbd_fd_watch_set_condition(WbdFdWatch *watch, GIOCondition condition, GError **error)
{
	guint32 events = wbd_fd_watch_epoll_events(condition);
	g_return_val_if_fail(watch->set != NULL, FALSE);
	if (events == watch->events)
		return TRUE;
	if (!wbd_fd_watch_ctl(watch, EPOLL_CTL_MOD, events, error))
		return FALSE;
	watch->events = events;
	return TRUE;
}

/**
 * wbd_fd_watch_set_deadline:
 * @deadline: monotonic µs; 0 or the past: at the next dispatch
 *
 * @watch's function is called with condition 0 once @deadline has come, unless the
 * deadline is cleared or changed before.
 */
void
wbd_fd_watch_set_deadline(WbdFdWatch *watch, gint64 deadline)
{
	WbdFdSet *set = watch->set;
	GList *before;

	g_return_if_fail(set != NULL);
	wbd_fd_watch_clear_deadline(watch);
	watch->deadline = deadline;
	watch->has_deadline = TRUE;
	/* from the tail: deadlines are mostly added in the order they come */
	for (before = g_queue_peek_tail_link(&set->deadlines);
	     before != NULL && ((WbdFdWatch *)before->data)->deadline > deadline;
	     before = before->prev)
		;
	if (before == NULL)
		g_queue_push_head_link(&set->deadlines, &watch->link);
	else
		g_queue_insert_after_link(&set->deadlines, before, &watch->link);
	if (set->armed < 0 || deadline < set->armed)
		wbd_fd_set_arm(set, deadline);
}

void
wbd_fd_watch_clear_deadline(WbdFdWatch *watch)
{
	if (!watch->has_deadline)
		return;
	g_queue_unlink(&watch->set->deadlines, &watch->link);
	watch->has_deadline = FALSE;
}

/* takes @watch out of its set, if it is in one (also from inside a watch's function) */
void
wbd_fd_watch_remove(WbdFdWatch *watch)
{
	WbdFdSet *set = watch->set;

	if (set == NULL)
		return;
	wbd_fd_watch_clear_deadline(watch);
	/* fails only if the descriptor was closed already, which takes it out too */
	epoll_ctl(set->epfd, EPOLL_CTL_DEL, watch->fd, NULL);
	for (gint i = set->next + 1; i < set->n_batch; i++) {
		if (set->batch[i].data.ptr == watch)
			set->batch[i].data.ptr = NULL;
	}
	watch->set = NULL;
	watch->fd = -1;
}
