/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gchar *wbd_envoy_derive_password(const gchar *user, const gchar *serial);
gboolean wbd_envoy_token_is_wellformed(const gchar *token);
gboolean wbd_envoy_token_decode(const gchar *token, gint64 *expiry, gchar **role, GError **error);
gboolean wbd_envoy_token_check(const gchar *token,
			       gint64 expiry,
			       const gchar *software,
			       gint64 now,
			       GError **error);
gchar *wbd_envoy_format_time(gint64 epoch_s);

G_END_DECLS
