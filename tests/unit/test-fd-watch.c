/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <sys/socket.h>
#include <unistd.h>

#include "wbd-fd-watch.h"

/* the set of sockets behind one source (src/daemon/wbd-fd-watch.c), on socketpairs */

typedef struct {
	WbdFdWatch watch;
	gint fds[2]; /* [0] watched, [1] the peer */
	GIOCondition last;
	guint calls;
	guint order; /* when it was called, of all the fixture's calls */
	struct Fixture *fixture;
	WbdFdWatch *remove_on_call; /* another watch this one's call takes out */
} Sock;

typedef struct Fixture {
	WbdFdSet *set;
	Sock socks[3];
	guint calls;
} Fixture;

static void
sock_cb(WbdFdWatch *watch, GIOCondition condition, gpointer user_data)
{
	Sock *sock = user_data;
	gchar buf[16];

	sock->last = condition;
	sock->calls++;
	sock->order = ++sock->fixture->calls;
	if (condition & G_IO_IN)
		g_assert_cmpint(read(sock->fds[0], buf, sizeof(buf)), >=, 0);
	if (sock->remove_on_call != NULL)
		wbd_fd_watch_remove(sock->remove_on_call);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	f->set = wbd_fd_set_new(NULL, "test", G_PRIORITY_DEFAULT);
	for (guint i = 0; i < G_N_ELEMENTS(f->socks); i++) {
		Sock *sock = &f->socks[i];
		g_autoptr(GError) error = NULL;
		g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sock->fds), ==, 0);
		sock->fixture = f;
		g_assert_true(wbd_fd_watch_add(f->set, &sock->watch, sock->fds[0], G_IO_IN, sock_cb, sock, &error));
		g_assert_no_error(error);
	}
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	for (guint i = 0; i < G_N_ELEMENTS(f->socks); i++) {
		wbd_fd_watch_remove(&f->socks[i].watch);
		close(f->socks[i].fds[0]);
		close(f->socks[i].fds[1]);
	}
	wbd_fd_set_free(f->set);
}

/* turns the default context until @f has seen @calls calls in all */
static void
run_until(Fixture *f, guint calls)
{
	while (f->calls < calls)
		g_main_context_iteration(NULL, TRUE);
}

/* what is pending now, without waiting */
static void
run_pending(void)
{
	for (guint i = 0; i < 10; i++)
		g_main_context_iteration(NULL, FALSE);
}

static void
test_readable(Fixture *f, gconstpointer data)
{
	run_pending();
	g_assert_cmpuint(f->calls, ==, 0);
	g_assert_cmpint(write(f->socks[1].fds[1], "x", 1), ==, 1);
	g_assert_cmpint(write(f->socks[2].fds[1], "y", 1), ==, 1);
	run_until(f, 2);
	g_assert_cmpuint(f->socks[0].calls, ==, 0);
	g_assert_cmpuint(f->socks[1].calls, ==, 1);
	g_assert_cmpuint(f->socks[1].last, ==, G_IO_IN);
	g_assert_cmpuint(f->socks[2].calls, ==, 1);
	/* read: not ready any more (level-triggered, nothing left) */
	run_pending();
	g_assert_cmpuint(f->calls, ==, 2);
}

static void
test_peer_closed(Fixture *f, gconstpointer data)
{
	close(f->socks[0].fds[1]);
	f->socks[0].fds[1] = socket(AF_UNIX, SOCK_STREAM, 0); /* closed again in teardown */
	run_until(f, 1);
	g_assert_true(f->socks[0].last & (G_IO_IN | G_IO_HUP));
}

static void
test_writable(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_assert_true(wbd_fd_watch_set_condition(&f->socks[0].watch, G_IO_OUT, &error));
	g_assert_no_error(error);
	run_until(f, 1);
	g_assert_cmpuint(f->socks[0].last, ==, G_IO_OUT);
	/* back to reading: nothing to read, so no more calls */
	g_assert_true(wbd_fd_watch_set_condition(&f->socks[0].watch, G_IO_IN, &error));
	run_pending();
	g_assert_cmpuint(f->socks[0].calls, ==, 1);
}

static void
test_deadlines_in_order(Fixture *f, gconstpointer data)
{
	gint64 now = g_get_monotonic_time();
	/* added out of order, both already past; the third far ahead */
	wbd_fd_watch_set_deadline(&f->socks[0].watch, now - 10);
	wbd_fd_watch_set_deadline(&f->socks[1].watch, now - 20);
	wbd_fd_watch_set_deadline(&f->socks[2].watch, now + (gint64)3600 * G_USEC_PER_SEC);
	run_until(f, 2);
	run_pending();
	g_assert_cmpuint(f->socks[1].calls, ==, 1);
	g_assert_cmpuint(f->socks[1].last, ==, 0);
	g_assert_cmpuint(f->socks[1].order, ==, 1);
	g_assert_cmpuint(f->socks[0].calls, ==, 1);
	g_assert_cmpuint(f->socks[0].last, ==, 0);
	g_assert_cmpuint(f->socks[0].order, ==, 2);
	g_assert_cmpuint(f->socks[2].calls, ==, 0);
	g_assert_false(f->socks[0].watch.has_deadline);
	g_assert_true(f->socks[2].watch.has_deadline);
}

static void
test_deadline_cleared(Fixture *f, gconstpointer data)
{
	gint64 now = g_get_monotonic_time();
	wbd_fd_watch_set_deadline(&f->socks[0].watch, now - 10);
	wbd_fd_watch_set_deadline(&f->socks[1].watch, now - 5);
	/* one cleared, one moved ahead: the early ready time they left fires for nothing */
	wbd_fd_watch_clear_deadline(&f->socks[0].watch);
	wbd_fd_watch_set_deadline(&f->socks[1].watch, now + (gint64)3600 * G_USEC_PER_SEC);
	run_pending();
	g_assert_cmpuint(f->calls, ==, 0);
	/* and a deadline set now still comes */
	wbd_fd_watch_set_deadline(&f->socks[2].watch, 0);
	run_until(f, 1);
	g_assert_cmpuint(f->socks[2].calls, ==, 1);
	g_assert_cmpuint(f->socks[2].last, ==, 0);
}

static void
test_removed_while_dispatching(Fixture *f, gconstpointer data)
{
	/* all three readable; whichever comes first takes the other two out */
	for (guint i = 0; i < 3; i++) {
		f->socks[i].remove_on_call = &f->socks[(i + 1) % 3].watch;
		g_assert_cmpint(write(f->socks[i].fds[1], "z", 1), ==, 1);
	}
	/* a removed watch's deadline goes with it */
	wbd_fd_watch_set_deadline(&f->socks[1].watch, g_get_monotonic_time() + 1000);
	run_until(f, 1);
	run_pending();
	/* the first removed the next, which therefore was not called; the third, if it was
	 * called, removed the first: in any case no call for a watch out of the set */
	g_assert_cmpuint(f->calls, <=, 2);
	for (guint i = 0; i < 3; i++) {
		if (f->socks[i].calls > 0)
			g_assert_cmpuint(f->socks[(i + 1) % 3].watch.set == NULL, ==, TRUE);
		g_assert_cmpuint(f->socks[i].calls, <=, 1);
	}
}

/* lingering: a reply while requests are under way waits for the linger, in one batch */
static void
test_linger(Fixture *f, gconstpointer data)
{
	gint64 far = g_get_monotonic_time() + (gint64)3600 * G_USEC_PER_SEC;

	/* long enough that the non-blocking turns below never reach its end */
	wbd_fd_set_set_linger(f->set, G_USEC_PER_SEC);
	/* no request under way: a reply is dispatched at once */
	g_assert_cmpint(write(f->socks[1].fds[1], "a", 1), ==, 1);
	run_pending();
	g_assert_cmpuint(f->socks[1].calls, ==, 1);

	/* a request under way (a deadline set just now): the first reply at once... */
	wbd_fd_watch_set_deadline(&f->socks[0].watch, far);
	g_assert_cmpint(write(f->socks[1].fds[1], "b", 1), ==, 1);
	run_pending();
	g_assert_cmpuint(f->socks[1].calls, ==, 2);
	/* ...then the set lingers: the next replies wait, and come together */
	g_assert_cmpint(write(f->socks[1].fds[1], "c", 1), ==, 1);
	g_assert_cmpint(write(f->socks[2].fds[1], "d", 1), ==, 1);
	run_pending();
	g_assert_cmpuint(f->socks[1].calls, ==, 2);
	g_assert_cmpuint(f->socks[2].calls, ==, 0);
	run_until(f, 4);
	g_assert_cmpuint(f->socks[1].calls, ==, 3);
	g_assert_cmpuint(f->socks[2].calls, ==, 1);

	/* nothing under way any more: replies at once again (after the linger that ends) */
	wbd_fd_watch_clear_deadline(&f->socks[0].watch);
	g_assert_cmpint(write(f->socks[2].fds[1], "e", 1), ==, 1);
	run_until(f, 5);
	g_assert_cmpint(write(f->socks[2].fds[1], "f", 1), ==, 1);
	run_pending();
	g_assert_cmpuint(f->socks[2].calls, ==, 3);
}

/* one set per name and priority, for the process's life, lingering as its first user asked */
static void
test_shared(void)
{
	WbdFdSet *poll = wbd_fd_set_get_shared("[test] sockets", G_PRIORITY_DEFAULT_IDLE, G_USEC_PER_SEC);
	WbdFdSet *command = wbd_fd_set_get_shared("[test] sockets", G_PRIORITY_DEFAULT, 0);
	WbdFdSet *other = wbd_fd_set_get_shared("[test] other sockets", G_PRIORITY_DEFAULT, 0);

	g_assert_true(poll != command && command != other && poll != other);
	g_assert_true(wbd_fd_set_get_shared("[test] sockets", G_PRIORITY_DEFAULT_IDLE, 0) == poll);
	g_assert_true(wbd_fd_set_get_shared("[test] sockets", G_PRIORITY_DEFAULT, 0) == command);
	g_assert_cmpint(wbd_fd_set_get_priority(poll), ==, G_PRIORITY_DEFAULT_IDLE);
	g_assert_cmpint(wbd_fd_set_get_priority(command), ==, G_PRIORITY_DEFAULT);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/fd-watch/readable", Fixture, NULL, fixture_setup, test_readable, fixture_teardown);
	g_test_add("/fd-watch/peer-closed", Fixture, NULL, fixture_setup, test_peer_closed, fixture_teardown);
	g_test_add("/fd-watch/writable", Fixture, NULL, fixture_setup, test_writable, fixture_teardown);
	g_test_add("/fd-watch/deadlines-in-order",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_deadlines_in_order,
		   fixture_teardown);
	g_test_add("/fd-watch/deadline-cleared",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_deadline_cleared,
		   fixture_teardown);
	g_test_add("/fd-watch/removed-while-dispatching",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_removed_while_dispatching,
		   fixture_teardown);
	g_test_add("/fd-watch/linger", Fixture, NULL, fixture_setup, test_linger, fixture_teardown);
	g_test_add_func("/fd-watch/shared", test_shared);
	return g_test_run();
}
