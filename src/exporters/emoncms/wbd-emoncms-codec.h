/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* emoncms.org keeps node names to 16 and input names to 64 characters (bytes here) */
#define WBD_EMONCMS_MAX_NODE 16
#define WBD_EMONCMS_MAX_NAME 64

/* pure functions: what goes over the wire and what comes back */

gchar *
wbd_emoncms_make_name(const gchar *text, gsize max_bytes);
gchar *
wbd_emoncms_make_node(const gchar *device_id);
gchar *
wbd_emoncms_child_prefix(const gchar *device_id, const gchar *top_id);
gchar *
wbd_emoncms_encode_values(const gchar *values_json, const gchar *prefix, GError **error);
gchar *
wbd_emoncms_encode_post(const gchar *node, const gchar *fulljson, gint64 time_us);
gchar *
wbd_emoncms_encode_bulk(const gchar *const *nodes,
			const gchar *const *fulljsons,
			const gint64 *times_us,
			guint n_rows);
gboolean
wbd_emoncms_check_reply(guint status, const gchar *body, gsize length, GError **error);

G_END_DECLS
