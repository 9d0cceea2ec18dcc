/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "wbd-tuya-codec.h"

G_BEGIN_DECLS

/* a sub-device's cid (its node_id): an opaque string of at most this many bytes */
#define WBD_TUYA_MAX_CID 64

gboolean
wbd_tuya_cid_is_valid(const gchar *cid);
gchar *
wbd_tuya_build_sub_query(WbdTuyaVersion version, const gchar *cid, gint64 t);
gchar *
wbd_tuya_build_sub_control(WbdTuyaVersion version, const gchar *cid, gint64 t, GVariant *dps);
gchar *
wbd_tuya_build_sub_update_dps(const gchar *cid, const guint *ids, guint n_ids);
gchar *
wbd_tuya_build_subdev_query(void);
gchar *
wbd_tuya_payload_get_cid(const guint8 *plain, gsize len);
GVariant *
wbd_tuya_payload_get_meta(const guint8 *plain, gsize len);
GVariant *
wbd_tuya_payload_meta_of(JsonObject *root);
gchar *
wbd_tuya_payload_cid_of(JsonObject *root);
gboolean
wbd_tuya_payload_parse_subdev_report(const guint8 *plain,
				     gsize len,
				     GStrv *online,
				     GStrv *offline,
				     GError **error);

G_END_DECLS
