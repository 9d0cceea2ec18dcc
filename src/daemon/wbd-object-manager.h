/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define WBD_TYPE_OBJECT_MANAGER (wbd_object_manager_get_type())
G_DECLARE_FINAL_TYPE(WbdObjectManager, wbd_object_manager, WBD, OBJECT_MANAGER, GObject)

WbdObjectManager *
wbd_object_manager_new(const gchar *object_path);
void
wbd_object_manager_set_connection(WbdObjectManager *self, GDBusConnection *connection);
void
wbd_object_manager_export(WbdObjectManager *self, GDBusObjectSkeleton *object);
gboolean
wbd_object_manager_unexport(WbdObjectManager *self, const gchar *object_path);

G_END_DECLS
