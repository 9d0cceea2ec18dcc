/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <wattbus-glib.h>

G_BEGIN_DECLS

JsonNode *
wbc_json_from_variant(GVariant *value);
JsonNode *
wbc_json_from_proxy(GDBusProxy *proxy);
JsonNode *
wbc_json_from_device(WattbusObject *object, gboolean all_interfaces);
void
wbc_json_print(JsonNode *node);

G_END_DECLS
