/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <wattbus-glib.h>

G_BEGIN_DECLS

JsonNode *
wbc_json_from_variant(GVariant *value);
gchar *
wbc_json_name(const gchar *name);
JsonNode *
wbc_json_from_time(guint64 usec);
gchar *
wbc_json_device_id(WattbusClient *client, const gchar *path);
JsonNode *
wbc_json_from_property(WattbusClient *client, const gchar *property, GVariant *value);
JsonNode *
wbc_json_from_proxy(WattbusClient *client, GDBusProxy *proxy);
JsonNode *
wbc_json_from_device(WattbusClient *client, WattbusObject *object, gboolean all_interfaces);
void
wbc_json_print(JsonNode *node);
void
wbc_json_print_line(JsonNode *node);

G_END_DECLS
