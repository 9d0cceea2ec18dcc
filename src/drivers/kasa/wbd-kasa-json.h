/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

JsonNode *
wbd_kasa_json_read_plain(const gchar *text, gsize len);
JsonNode *
wbd_kasa_json_parse_object(const gchar *text, gsize len, GError **error);

G_END_DECLS
