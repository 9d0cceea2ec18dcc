/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>
#include <wattbus-glib.h>

#include "wbd-auth.h"
#include "wbd-config.h"
#include "wbd-driver.h"
#include "wbd-exporter-manager.h"
#include "wbd-manager.h"

#define WBD_BUS_NAME "org.wattbus.Wattbus1"
/* how often the heap is looked at; how much resident growth and free memory make a trim */
#define WBD_HEAP_CHECK_S 10
#define WBD_HEAP_TRIM_MIN_GROWTH (4 * 1024 * 1024)
#define WBD_HEAP_TRIM_MIN_FREE (2 * 1024 * 1024)

typedef struct {
	GMainLoop *loop;
	WbdManager *manager;
	WbdExporterManager *exporters; /* fed by every device the manager exports */
	gchar *config_dir;
	gchar *state_dir;
	gboolean use_system_bus;
	gint exit_code;
} WbdDaemon;

static gboolean
wbd_daemon_quit_cb(gpointer user_data)
{
	WbdDaemon *daemon = user_data;
	g_message("stopping");
	g_main_loop_quit(daemon->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean
wbd_daemon_reload_cb(gpointer user_data)
{
	WbdDaemon *daemon = user_data;
	g_autoptr(GError) error = NULL;
	if (daemon->manager == NULL)
		return G_SOURCE_CONTINUE;
	if (!wbd_manager_reload(daemon->manager, &error))
		g_warning("configuration not reloaded: %s", error->message);
	return G_SOURCE_CONTINUE;
}

static void
wbd_daemon_bus_acquired_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	WbdDaemon *daemon = user_data;
	g_autoptr(GError) error = NULL;

	daemon->manager = wbd_manager_new(connection, daemon->config_dir, daemon->state_dir);
	daemon->exporters =
	    wbd_exporter_manager_new(wbd_manager_get_object_manager(daemon->manager),
				     daemon->state_dir);
	g_signal_connect_swapped(daemon->manager,
				 "device-exported",
				 G_CALLBACK(wbd_exporter_manager_add_device),
				 daemon->exporters);
	g_signal_connect_swapped(daemon->manager,
				 "device-unexported",
				 G_CALLBACK(wbd_exporter_manager_remove_device),
				 daemon->exporters);
	g_signal_connect_swapped(daemon->manager,
				 "exporters-configured",
				 G_CALLBACK(wbd_exporter_manager_apply_config),
				 daemon->exporters);
	if (!wbd_manager_start(daemon->manager, &error)) {
		g_critical("cannot start: %s", error->message);
		daemon->exit_code = EXIT_FAILURE;
		g_main_loop_quit(daemon->loop);
	}
}

static void
wbd_daemon_name_acquired_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	g_message("wattbusd %s ready as %s", PACKAGE_VERSION, name);
}

static void
wbd_daemon_name_lost_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	WbdDaemon *daemon = user_data;
	if (connection == NULL)
		g_warning("cannot connect to the %s bus", daemon->use_system_bus ? "system" : "session");
	else
		g_warning("cannot own %s: is another wattbusd running?", name);
	daemon->exit_code = EXIT_FAILURE;
	g_main_loop_quit(daemon->loop);
}

/*
 * Every device keeps a TCP connection open: a thousand devices need more than the
 * usual soft limit of 1024 descriptors. The main loop polls (no select()), so take
 * the hard limit. Under systemd the unit sets LimitNOFILE= (and its system call filter
 * refuses setrlimit, which is fine: the limit is already there).
 */
static void
wbd_daemon_raise_nofile(void)
{
	struct rlimit limit;
	if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max)
		return;
	limit.rlim_cur = limit.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
		g_debug("cannot raise the file descriptor limit: %s", g_strerror(errno));
}

#ifdef __GLIBC__
/* the process's resident memory (a small procfs read, no disk), or 0 */
static gsize
wbd_daemon_resident_bytes(void)
{
	g_autofree gchar *text = NULL;
	guint64 size = 0, resident = 0;

	if (!g_file_get_contents("/proc/self/statm", &text, NULL, NULL) ||
	    sscanf(text, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &size, &resident) != 2)
		return 0;
	return (gsize)resident * (gsize)sysconf(_SC_PAGESIZE);
}
#endif

/*
 * A burst of short-lived allocations leaves the heap's pages resident once they are
 * freed: the reply to one GetManagedObjects of a thousand devices is ~14 MB of GVariants
 * built on the main thread, and a single long-lived block allocated meanwhile above them
 * keeps free() from giving any of it back: +12-14 MB of RSS for good, at every such call.
 * glibc's malloc_trim() returns the free pages anywhere in the heap. It walks the heap
 * (3-20 ms here), so it runs only when the resident memory grew by
 * WBD_HEAP_TRIM_MIN_GROWTH since the last look that ended in a trim or in nothing to
 * trim, and mallinfo2() says at least WBD_HEAP_TRIM_MIN_FREE of the heap is free: after
 * the start-up burst and after each such burst, not every WBD_HEAP_CHECK_S. Growth with
 * little free memory is live data: the new baseline. (GLib < 2.76 keeps freed GVariants in
 * GSlice's per-thread caches for 15 s or more before malloc sees them;
 * G_SLICE=always-malloc in the environment, as the systemd unit sets it, makes them reach
 * the heap, and this trim, at once.)
 */
static gboolean
wbd_daemon_trim_heap_cb(gpointer user_data)
{
#ifdef __GLIBC__
	static gsize baseline = 0;
	struct mallinfo2 info;
	gsize resident = wbd_daemon_resident_bytes();
	gsize free_bytes;

	if (resident == 0 || resident < baseline + WBD_HEAP_TRIM_MIN_GROWTH) {
		baseline = MIN(baseline, resident);
		return G_SOURCE_CONTINUE;
	}
	info = mallinfo2();
	/* the top chunk (keepcost) is given back by free() itself */
	free_bytes = info.fordblks - info.keepcost;
	if (free_bytes >= WBD_HEAP_TRIM_MIN_FREE) {
		gint64 start = g_get_monotonic_time();
		gint64 took;

		malloc_trim(0);
		took = g_get_monotonic_time() - start;
		g_debug("heap trimmed in %" G_GINT64_FORMAT " µs: %zu bytes were free, resident %zu "
			"bytes before",
			took,
			free_bytes,
			resident);
		resident = wbd_daemon_resident_bytes();
	}
	baseline = resident;
#endif
	return G_SOURCE_CONTINUE;
}

int
main(int argc, char **argv)
{
	WbdDaemon daemon = {0};
	gboolean opt_session = FALSE;
	gboolean opt_system = FALSE;
	gboolean opt_verbose = FALSE;
	gboolean opt_version = FALSE;
	g_autofree gchar *opt_config = NULL;
	g_autofree gchar *opt_state = NULL;
	const GOptionEntry entries[] = {
	    {"system", 0, 0, G_OPTION_ARG_NONE, &opt_system, N_("Use the system bus (the default)"), NULL},
	    {"session", 0, 0, G_OPTION_ARG_NONE, &opt_session, N_("Use the session bus"), NULL},
	    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config, N_("Configuration directory"), N_("DIR")},
	    {"state-dir", 's', 0, G_OPTION_ARG_FILENAME, &opt_state, N_("State directory"), N_("DIR")},
	    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose, N_("Log debug messages"), NULL},
	    {"version", 0, 0, G_OPTION_ARG_NONE, &opt_version, N_("Print the version and exit"), NULL},
	    {NULL}};
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdAuth) auth = NULL;
	guint owner_id;

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, WATTBUS_LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	context = g_option_context_new(NULL);
	g_option_context_set_summary(context, _("Wattbus home energy daemon"));
	g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("wattbusd: %s\n", error->message);
		return 2;
	}
	if (opt_version) {
		g_print("wattbusd %s\n", PACKAGE_VERSION);
		return EXIT_SUCCESS;
	}
	if (opt_session && opt_system) {
		g_printerr("wattbusd: --system and --session exclude each other\n");
		return 2;
	}
	if (opt_verbose)
		g_log_set_debug_enabled(TRUE);
	wbd_daemon_raise_nofile();

	/* systemd's ConfigurationDirectory= and StateDirectory= may list several, ':'-separated */
	daemon.config_dir = g_strdup(opt_config);
	if (daemon.config_dir == NULL && g_getenv("CONFIGURATION_DIRECTORY") != NULL) {
		g_auto(GStrv) dirs = g_strsplit(g_getenv("CONFIGURATION_DIRECTORY"), ":", 2);
		daemon.config_dir = g_strdup(dirs[0]);
	}
	if (daemon.config_dir == NULL)
		daemon.config_dir = g_strdup(WATTBUS_CONFDIR);
	daemon.state_dir = g_strdup(opt_state);
	if (daemon.state_dir == NULL && g_getenv("STATE_DIRECTORY") != NULL) {
		g_auto(GStrv) dirs = g_strsplit(g_getenv("STATE_DIRECTORY"), ":", 2);
		daemon.state_dir = g_strdup(dirs[0]);
	}
	if (daemon.state_dir == NULL)
		daemon.state_dir = g_strdup(WATTBUS_STATEDIR);
	daemon.use_system_bus = !opt_session;
	wbd_config_set_config_dir(daemon.config_dir);
	wbd_config_set_state_dir(daemon.state_dir);

	/* register the error domain before any error crosses the bus */
	(void)WATTBUS_ERROR;
	auth = wbd_auth_new(daemon.use_system_bus);
	wbd_auth_set_default(auth);
	wbd_driver_table_register_all();

	g_message("starting wattbusd %s on the %s bus (configuration %s, state %s)",
		  PACKAGE_VERSION,
		  daemon.use_system_bus ? "system" : "session",
		  daemon.config_dir,
		  daemon.state_dir);

	daemon.loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, wbd_daemon_quit_cb, &daemon);
	g_unix_signal_add(SIGINT, wbd_daemon_quit_cb, &daemon);
	g_unix_signal_add(SIGHUP, wbd_daemon_reload_cb, &daemon);
	g_timeout_add_seconds(WBD_HEAP_CHECK_S, wbd_daemon_trim_heap_cb, NULL);

	owner_id = g_bus_own_name(daemon.use_system_bus ? G_BUS_TYPE_SYSTEM : G_BUS_TYPE_SESSION,
				  WBD_BUS_NAME,
				  G_BUS_NAME_OWNER_FLAGS_NONE,
				  wbd_daemon_bus_acquired_cb,
				  wbd_daemon_name_acquired_cb,
				  wbd_daemon_name_lost_cb,
				  &daemon,
				  NULL);
	g_main_loop_run(daemon.loop);

	g_bus_unown_name(owner_id);
	/* the exporters first: what they accepted reaches their spool before the devices go */
	if (daemon.manager != NULL && daemon.exporters != NULL)
		g_signal_handlers_disconnect_by_data(daemon.manager, daemon.exporters);
	g_clear_object(&daemon.exporters);
	g_clear_object(&daemon.manager);
	wbd_auth_set_default(NULL);
	g_main_loop_unref(daemon.loop);
	g_free(daemon.config_dir);
	g_free(daemon.state_dir);
	return daemon.exit_code;
}
