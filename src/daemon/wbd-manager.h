/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "wbd-object-manager.h"

G_BEGIN_DECLS

#define WBD_TYPE_MANAGER (wbd_manager_get_type())
G_DECLARE_FINAL_TYPE(WbdManager, wbd_manager, WBD, MANAGER, GObject)

WbdManager *
wbd_manager_new(GDBusConnection *connection, const gchar *config_dir, const gchar *state_dir);
gboolean
wbd_manager_start(WbdManager *self, GError **error);
gboolean
wbd_manager_reload(WbdManager *self, GError **error);
WbdObjectManager *
wbd_manager_get_object_manager(WbdManager *self);

G_END_DECLS
