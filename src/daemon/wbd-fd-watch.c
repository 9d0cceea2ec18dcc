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

/*
 * Lingering (wbd_fd_set_set_linger()): while requests are under way and new ones came
 * lately, a reply does not wake the loop; what came is read once a linger, in one
 * batch. The sockets' epoll set (inner) is itself in the one GLib polls (epfd) with
 * EPOLLONESHOT: once it reported, it reports no more until re-armed, which is done
 * when the set stops lingering. A wake-up of the loop costs more than the rest of a
 * poll's work (poll(), the scheduler's switches, the loop's turn). A set that does
 * not linger has inner in epfd level-triggered: nothing to re-arm.
 */
#define WBD_FD_SET_FRESH_LINGERS 3

struct _WbdFdSet {
	GSource source;
	gint epfd;  /* in the main loop's poll; holds inner */
	gint inner; /* the sockets */
	gpointer tag;
	gboolean outer_armed; /* inner's one report in epfd not used up */
	gint64 linger_us;     /* 0: every reply at once */
	gint64 linger_until;  /* monotonic µs, 0: not lingering */
	gint64 fresh_until;   /* a request started within WBD_FD_SET_FRESH_LINGERS lingers */
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
wbd_fd_set_prepare(GSource *source, gint *timeout)
{
	WbdFdSet *set = (WbdFdSet *)source;
	gint64 now;

	*timeout = -1;
	if (set->linger_until == 0)
		return FALSE;
	now = g_source_get_time(source);
	if (now >= set->linger_until)
		return TRUE;
	*timeout = (gint)MIN((set->linger_until - now + 999) / 1000, G_MAXINT);
	return FALSE;
}

static gboolean
wbd_fd_set_check(GSource *source)
{
	WbdFdSet *set = (WbdFdSet *)source;
	return set->linger_until != 0 && g_source_get_time(source) >= set->linger_until;
}

/* inner's place in epfd: one report at a time when the set lingers, else level-triggered */
static gboolean
wbd_fd_set_arm_outer(WbdFdSet *set)
{
	struct epoll_event event = {.events = EPOLLIN | (set->linger_us > 0 ? EPOLLONESHOT : 0),
				    .data.ptr = NULL};
	if (set->outer_armed)
		return TRUE;
	if (epoll_ctl(set->epfd, EPOLL_CTL_MOD, set->inner, &event) != 0) {
		g_warning("epoll_ctl: %s", g_strerror(errno));
		return FALSE;
	}
	set->outer_armed = TRUE;
	return TRUE;
}

static gint
wbd_fd_set_epoll_wait(gint epfd, struct epoll_event *events, gint max)
{
	gint n;
	do
		n = epoll_wait(epfd, events, max, 0);
	while (n < 0 && errno == EINTR);
	return MAX(n, 0);
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
	if (set->linger_us > 0 && (g_source_query_unix_fd(source, set->tag) & G_IO_IN)) {
		/* uses up inner's one report: epfd is quiet until re-armed */
		struct epoll_event event;
		if (wbd_fd_set_epoll_wait(set->epfd, &event, 1) > 0)
			set->outer_armed = FALSE;
	}
	/* whatever is ready, however this dispatch came (a reply, a linger, a deadline) */
	set->n_batch = wbd_fd_set_epoll_wait(set->inner, set->batch, WBD_FD_SET_BATCH);
	/* a watch's function may remove any watch, see wbd_fd_watch_remove() */
	for (set->next = 0; set->next < set->n_batch; set->next++) {
		WbdFdWatch *watch = set->batch[set->next].data.ptr;
		if (watch != NULL)
			watch->func(watch,
				    wbd_fd_watch_condition(set->batch[set->next].events),
				    watch->user_data);
	}
	set->n_batch = 0;
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
	/* requests under way, new ones lately: the next replies together, a linger on */
	if (set->linger_us > 0 && !g_queue_is_empty(&set->deadlines) && now < set->fresh_until) {
		set->linger_until = now + set->linger_us;
	} else {
		set->linger_until = 0;
		/* a reply, or a device closing an idle connection, wakes the loop again */
		if (!wbd_fd_set_arm_outer(set))
			set->linger_until = now + MAX(set->linger_us, 1000);
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
	if (set->inner >= 0)
		close(set->inner);
}

static GSourceFuncs wbd_fd_set_funcs = {wbd_fd_set_prepare,
					wbd_fd_set_check,
					wbd_fd_set_dispatch,
					wbd_fd_set_finalize};

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

	struct epoll_event event = {.events = EPOLLIN, .data.ptr = NULL};

	set->epfd = epoll_create1(EPOLL_CLOEXEC);
	set->inner = epoll_create1(EPOLL_CLOEXEC);
	if (set->epfd < 0 || set->inner < 0 ||
	    epoll_ctl(set->epfd, EPOLL_CTL_ADD, set->inner, &event) != 0)
		g_error("epoll: %s", g_strerror(errno));
	set->outer_armed = TRUE;
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

/**
 * wbd_fd_set_set_linger:
 * @linger_us: 0 (the default): each reply is dispatched when it comes; else, while
 *   watches have deadlines (requests under way) and one was set within the last three
 *   lingers, what is ready is dispatched once every @linger_us, in one batch
 *
 * Fewer wake-ups of the loop for a stream of requests, at the cost of up to
 * @linger_us of delay for their replies. Deadlines keep their time.
 */
/**
 * wbd_fd_set_get_shared:
 * @name: a static string: the sets' main-loop source's name, one set per name and priority
 * @priority: the set's main-loop priority
 * @linger_us: how long a set made by this call lingers (wbd_fd_set_set_linger())
 *
 * The set of every connection of a kind at @priority (a driver's poll and command sockets),
 * in the default main context: made at its first use and kept for good. For the main
 * thread only.
 *
 * Returns: (transfer none): the set
 */
WbdFdSet *
wbd_fd_set_get_shared(const gchar *name, gint priority, gint64 linger_us)
{
	static GPtrArray *sets;
	WbdFdSet *set;

	if (sets == NULL)
		sets = g_ptr_array_new();
	for (guint i = 0; i < sets->len; i++) {
		set = g_ptr_array_index(sets, i);
		if (g_strcmp0(g_source_get_name(&set->source), name) == 0 &&
		    g_source_get_priority(&set->source) == priority)
			return set;
	}
	set = wbd_fd_set_new(NULL, name, priority);
	wbd_fd_set_set_linger(set, linger_us);
	g_ptr_array_add(sets, set);
	return set;
}

void
wbd_fd_set_set_linger(WbdFdSet *set, gint64 linger_us)
{
	gboolean was = set->linger_us > 0;
	set->linger_us = MAX(linger_us, 0);
	if (was != (set->linger_us > 0)) {
		/* inner registered again in the new way */
		set->outer_armed = FALSE;
		wbd_fd_set_arm_outer(set);
	}
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
	if (epoll_ctl(watch->set->inner, op, watch->fd, &event) == 0)
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
	if (set->linger_us > 0)
		set->fresh_until = g_get_monotonic_time() + WBD_FD_SET_FRESH_LINGERS * set->linger_us;
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
	epoll_ctl(set->inner, EPOLL_CTL_DEL, watch->fd, NULL);
	for (gint i = set->next + 1; i < set->n_batch; i++) {
		if (set->batch[i].data.ptr == watch)
			set->batch[i].data.ptr = NULL;
	}
	watch->set = NULL;
	watch->fd = -1;
}
