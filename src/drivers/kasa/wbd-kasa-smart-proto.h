/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wbd-device.h"

G_BEGIN_DECLS

gchar *
wbd_kasa_smart_request(const gchar *terminal_uuid, const gchar *method, JsonNode *params);
JsonNode *
wbd_kasa_smart_multiple_params(GPtrArray *methods);
JsonNode *
wbd_kasa_smart_control_child_params(const gchar *child_id, const gchar *method, JsonNode *params);
JsonObject *
wbd_kasa_smart_parse_reply(JsonNode **root, const gchar *text, gsize len, GError **error);
gchar *
wbd_kasa_smart_decode_name(const gchar *base64);
void
wbd_kasa_smart_read_energy(JsonObject *energy_usage,
			   JsonObject *current_power,
			   JsonObject *emeter_data,
			   WbdMeterReading *reading);
void
wbd_kasa_smart_apply_identity(WbdDevice *device, JsonObject *info, const gchar *fallback_name);
gboolean
wbd_kasa_smart_info_on(JsonObject *info, gboolean *on);
const gchar *
wbd_kasa_smart_kind(JsonObject *info);

G_END_DECLS
