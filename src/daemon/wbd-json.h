/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* parsing of hostile JSON (devices, clouds), bounded and with clean errors */
JsonNode *
wbd_json_parse(const gchar *text, gsize len, GError **error);
JsonNode *
wbd_json_parse_object(const gchar *text, gsize len, GError **error);

/* typed, type-checked access: NULL/FALSE for a missing member or one of another type */
const gchar *
wbd_json_get_string(JsonObject *obj, const gchar *key);
gboolean
wbd_json_get_number(JsonObject *obj, const gchar *key, gdouble *value);
JsonObject *
wbd_json_get_object(JsonObject *obj, const gchar *key);
JsonArray *
wbd_json_get_array(JsonObject *obj, const gchar *key);

G_END_DECLS
