/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gchar *
wbd_envoy_pin_parse(const gchar *text, gsize length, GError **error);
gchar *
wbd_envoy_pin_load(const gchar *path, GError **error);
gboolean
wbd_envoy_pin_save(const gchar *path, const gchar *fingerprint, GError **error);
gboolean
wbd_envoy_pin_remove(const gchar *path, GError **error);

G_END_DECLS
