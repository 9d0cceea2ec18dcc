/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gchar *
wbd_skeleton_gobject_name(const gchar *dbus_name);

void
wbd_skeleton_set_value(gpointer skeleton, const gchar *dbus_name, const GValue *value);
void
wbd_skeleton_set_double(gpointer skeleton, const gchar *dbus_name, gdouble value);

G_END_DECLS
