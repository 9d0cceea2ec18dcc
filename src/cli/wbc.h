/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <wattbus-glib.h>

G_BEGIN_DECLS

/* the exit codes of wattbusctl, documented in its --help */
typedef enum {
	WBC_EXIT_OK = 0,
	WBC_EXIT_FAILED = 1,
	WBC_EXIT_USAGE = 2,
	WBC_EXIT_NOT_RUNNING = 3,
	WBC_EXIT_NOT_FOUND = 4,
	WBC_EXIT_PERMISSION_DENIED = 5,
	WBC_EXIT_OFFLINE = 6,
} WbcExit;

typedef struct {
	gboolean session; /* --session */
	gboolean system;  /* --system */
	gboolean json;	  /* --json */
	gboolean version; /* --version */
	WattbusClient *client; /* set by wbc_ctl_connect() */
} WbcCtl;

/* wattbusctl.c */
WbcExit
wbc_ctl_parse_options(WbcCtl *ctl,
		      const gchar *command,
		      const gchar *parameters,
		      const GOptionEntry *entries,
		      gint *argc,
		      gchar ***argv,
		      gint min_args,
		      gint max_args);
WbcExit
wbc_ctl_connect(WbcCtl *ctl, gboolean need_daemon);
WbcExit
wbc_ctl_connect_without_devices(WbcCtl *ctl, gboolean need_daemon);
WbcExit
wbc_ctl_open_device(WbcCtl *ctl,
		    const gchar *command,
		    gint *argc,
		    gchar ***argv,
		    WattbusObject **object);
WbcExit
wbc_ctl_lookup_device(WbcCtl *ctl, const gchar *id_or_path, WattbusObject **object);
WbcExit
wbc_ctl_report_error(GError *error, const gchar *device_id);
WbcExit
wbc_ctl_report_missing(WattbusObject *object, const gchar *what);
WbcExit
wbc_ctl_usage_error(const gchar *command, const gchar *format, ...) G_GNUC_PRINTF(2, 3);
void
wbc_ctl_flush_events(void);

/* the commands, each in the file of its kind */
WbcExit
wbc_cmd_list(WbcCtl *ctl, gint argc, gchar **argv);
WbcExit
wbc_cmd_show(WbcCtl *ctl, gint argc, gchar **argv);
WbcExit
wbc_cmd_on(WbcCtl *ctl, gint argc, gchar **argv);
WbcExit
wbc_cmd_off(WbcCtl *ctl, gint argc, gchar **argv);
WbcExit
wbc_cmd_toggle(WbcCtl *ctl, gint argc, gchar **argv);
WbcExit
wbc_cmd_refresh(WbcCtl *ctl, gint argc, gchar **argv);
WbcExit
wbc_cmd_monitor(WbcCtl *ctl, gint argc, gchar **argv);
WbcExit
wbc_cmd_discover(WbcCtl *ctl, gint argc, gchar **argv);
WbcExit
wbc_cmd_add(WbcCtl *ctl, gint argc, gchar **argv);
WbcExit
wbc_cmd_remove(WbcCtl *ctl, gint argc, gchar **argv);
WbcExit
wbc_cmd_reload(WbcCtl *ctl, gint argc, gchar **argv);
WbcExit
wbc_cmd_version(WbcCtl *ctl, gint argc, gchar **argv);
WbcExit
wbc_cmd_exporters(WbcCtl *ctl, gint argc, gchar **argv);
WbcExit
wbc_cmd_valve(WbcCtl *ctl, gint argc, gchar **argv);
WbcExit
wbc_cmd_water_switch(WbcCtl *ctl, gint argc, gchar **argv);
WbcExit
wbc_cmd_water_sharing(WbcCtl *ctl, gint argc, gchar **argv);

G_END_DECLS
