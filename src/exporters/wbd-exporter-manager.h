/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "wbd-device.h"
#include "wbd-object-manager.h"

G_BEGIN_DECLS

/* the exporters of the daemon, as the manager sees them: a few hooks */

#define WBD_TYPE_EXPORTER_MANAGER (wbd_exporter_manager_get_type())
G_DECLARE_FINAL_TYPE(WbdExporterManager, wbd_exporter_manager, WBD, EXPORTER_MANAGER, GObject)

#define WBD_EXPORTER_MANAGER_SPOOL_FILE "spool.db"

WbdExporterManager *
wbd_exporter_manager_new(WbdObjectManager *object_manager, const gchar *state_dir);
void
wbd_exporter_manager_apply_config(WbdExporterManager *self, GPtrArray *configs);
void
wbd_exporter_manager_add_device(WbdExporterManager *self, WbdDevice *device);
void
wbd_exporter_manager_remove_device(WbdExporterManager *self, WbdDevice *device);

G_END_DECLS
