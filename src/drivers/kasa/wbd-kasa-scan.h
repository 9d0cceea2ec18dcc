/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wbd-kasa-sysinfo.h"

G_BEGIN_DECLS

/**
 * WbdKasaScan:
 * @sysinfo: `system.get_sysinfo`, as wbd_kasa_sysinfo_parse() reads it
 * @has_realtime: the reply has `emeter.get_realtime`
 * @realtime: as wbd_kasa_parse_realtime() reads it, when @has_realtime
 *
 * What wbd_kasa_scan_poll_reply() read from a poll's reply.
 */
typedef struct {
	WbdKasaSysinfo *sysinfo;
	gboolean has_realtime;
	WbdMeterReading realtime;
} WbdKasaScan;

gboolean
wbd_kasa_scan_poll_reply(const gchar *text, gsize len, WbdKasaScan *scan);
void
wbd_kasa_scan_clear(WbdKasaScan *scan);

/**
 * WbdKasaReply:
 * @text: the decrypted payload (not NUL-terminated)
 * @len: its length
 * @json: json-glib's tree of @text; %NULL when the scanner read it (see
 *   wbd_kasa_reply_get_json())
 * @scan: what the scanner read; @scan.sysinfo is %NULL when it declined
 *
 * A poll's reply, read by the scanner when it can, else by json-glib.
 */
typedef struct {
	gchar *text;
	gsize len;
	JsonNode *json;
	WbdKasaScan scan;
} WbdKasaReply;

WbdKasaReply *
wbd_kasa_reply_decode(guint8 *payload, gsize len, GError **error);
JsonNode *
wbd_kasa_reply_get_json(WbdKasaReply *reply, GError **error);
void
wbd_kasa_reply_free(WbdKasaReply *reply);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WbdKasaReply, wbd_kasa_reply_free)

G_END_DECLS
