/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gchar *wbd_envoy_derive_password(const gchar *user, const gchar *serial);
gboolean wbd_envoy_token_is_wellformed(const gchar *token);
gboolean wbd_envoy_token_decode(const gchar *token, gint64 *expiry, gchar **role, GError **error);

G_END_DECLS
