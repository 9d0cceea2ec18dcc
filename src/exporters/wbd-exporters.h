/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "wbd-device.h"

G_BEGIN_DECLS

/* the exporters of the daemon, as the manager sees them: a few hooks */

#define WBD_TYPE_EXPORTERS (wbd_exporters_get_type())
G_DECLARE_FINAL_TYPE(WbdExporters, wbd_exporters, WBD, EXPORTERS, GObject)

#define WBD_EXPORTERS_SPOOL_FILE "spool.db"

WbdExporters *
wbd_exporters_new(GDBusObjectManagerServer *object_manager, const gchar *state_dir);
void
wbd_exporters_apply_config(WbdExporters *self, GPtrArray *configs);
void
wbd_exporters_add_device(WbdExporters *self, WbdDevice *device);
void
wbd_exporters_remove_device(WbdExporters *self, WbdDevice *device);

G_END_DECLS
