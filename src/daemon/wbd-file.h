/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* what a file setting (a PEM file, a pin) may hold at most */
#define WBD_FILE_MAX_SIZE (1024 * 1024)

GBytes *
wbd_file_read(const gchar *path, gsize max_size, GError **error);
gboolean
wbd_file_check(const gchar *path, gsize max_size, GError **error);

G_END_DECLS
