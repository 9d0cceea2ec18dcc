/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* test helpers shared by the unit tests; independent of the code under test */

gchar *
wbt_fixture_dir(void);
GPtrArray *
wbt_fixture_list(void);
JsonNode *
wbt_fixture_load(const gchar *name);
JsonNode *
wbt_data_load(const gchar *folder, const gchar *name);
JsonNode *
wbt_json_parse(const gchar *json);
JsonNode *
wbt_json_lookup(JsonNode *node, ...) G_GNUC_NULL_TERMINATED;
const gchar *
wbt_json_lookup_string(JsonNode *node, ...) G_GNUC_NULL_TERMINATED;
gchar *
wbt_fixture_reply(JsonNode *fixture, const gchar *module, const gchar *method);
GBytes *
wbt_hex_decode(const gchar *hex);

G_END_DECLS
