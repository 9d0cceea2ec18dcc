/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wbd-json.h"

G_BEGIN_DECLS

#define WBD_KASA_DEFAULT_PORT 9999
#define WBD_KASA_HEADER_SIZE 4
/* real replies stay under 16 KiB; anything far larger is garbage or an attack */
#define WBD_KASA_MAX_FRAME (256 * 1024)

void
wbd_kasa_encrypt(guint8 *data, gsize len);
void
wbd_kasa_decrypt(guint8 *data, gsize len);
GBytes *
wbd_kasa_frame_encode(const gchar *json);
gboolean
wbd_kasa_frame_parse_header(const guint8 *header, guint32 *length, GError **error);
JsonNode *
wbd_kasa_payload_decode(const guint8 *payload, gsize len, GError **error);
JsonNode *
wbd_kasa_payload_parse(const gchar *plain, gsize len, GError **error);
gchar *
wbd_kasa_build_request(const gchar *module,
		       const gchar *method,
		       JsonNode *params,
		       const gchar *child_id);
JsonObject *
wbd_kasa_reply_get_result(JsonNode *reply,
			  const gchar *module,
			  const gchar *method,
			  gint *err_code,
			  GError **error);

G_END_DECLS
