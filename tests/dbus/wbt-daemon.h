/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The daemon core in the test's own process, on a private bus (GTestDBus): the manager
 * with the devices of a configuration, a client connection to call it, and helpers
 * that run the main loop until something happens (never a sleep that passes a test).
 */

#include <gio/gio.h>

#include "wbd-manager.h"

G_BEGIN_DECLS

typedef struct {
	GTestDBus *bus;
	GDBusConnection *daemon; /* the manager's connection */
	GDBusConnection *client;
	WbdManager *manager;
	gchar *dir;
	gchar *config_dir;
	gchar *state_dir;
} WbtDaemon;

void
wbt_daemon_setup(WbtDaemon *d, gconstpointer config);
void
wbt_daemon_teardown(WbtDaemon *d, gconstpointer config);
void
wbt_daemon_write_config(WbtDaemon *d, const gchar *config);

gchar *
wbt_device_path(const gchar *id);
GVariant *
wbt_call(WbtDaemon *d,
	 const gchar *path,
	 const gchar *interface,
	 const gchar *method,
	 GVariant *args,
	 GError **error);
GVariant *
wbt_get_property(WbtDaemon *d, const gchar *id, const gchar *interface, const gchar *name);
gboolean
wbt_get_online(WbtDaemon *d, const gchar *id);
gchar *
wbt_get_last_error(WbtDaemon *d, const gchar *id);
gboolean
wbt_object_exists(WbtDaemon *d, const gchar *id);

typedef gboolean (*WbtCondition)(WbtDaemon *d, gconstpointer data);
/* runs the main loop until @cond holds; fails the test after @timeout_ms */
void
wbt_wait_for(WbtDaemon *d, WbtCondition cond, gconstpointer data, guint timeout_ms);
/* runs the main loop for @ms (to let things happen that are counted afterwards) */
void
wbt_run_for(guint ms);
void
wbt_wait_online(WbtDaemon *d, const gchar *id, guint timeout_ms);

/* a connection of its own to @bus, as a client */
GDBusConnection *
wbt_connect(GTestDBus *bus);

G_END_DECLS
