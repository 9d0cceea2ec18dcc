/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz-common.h"

G_BEGIN_DECLS

gboolean
wbf_json_is_safe(const guint8 *text, gsize len, guint *max_depth);
gboolean
wbf_kasa_payload_is_safe(const guint8 *payload, gsize len);
void
wbf_kasa_check_reply(JsonNode *reply);
void
wbf_kasa_check_scan(const guint8 *text, gsize len);
void
wbf_kasa_check_datagram(const guint8 *data, gsize len);

G_END_DECLS
