/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* the largest reply we parse: real ones stay under 200 KiB (device_data of 50 inverters) */
#define WBD_ENVOY_JSON_MAX_SIZE (2 * 1024 * 1024)
/* real replies nest 4 levels deep; json-glib recurses without a limit */

JsonNode *wbd_envoy_json_parse(const gchar *data, gsize len, GError **error);
gboolean wbd_envoy_json_is_html(GBytes *body);

/* type-checked access to what a gateway sent; NULL or FALSE when absent or mistyped */
JsonNode *wbd_envoy_json_member(JsonNode *node, const gchar *key);
JsonNode *wbd_envoy_json_element(JsonNode *node, guint index);
guint wbd_envoy_json_length(JsonNode *node);
gboolean wbd_envoy_json_number(JsonNode *node, const gchar *key, gdouble *value);
const gchar *wbd_envoy_json_string(JsonNode *node, const gchar *key);

G_END_DECLS
