/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-json.h"
#include "wbd-tuya-gateway.h"

/*
 * What a hub (gateway) and its sub-devices say to each other, the payload side
 * (shared/specs/tuya-gateway-and-meters.md §3): requests that name a sub-device by its
 * cid in tinytuya's templates (on 3.3 only `t` and `cid`, never gwId/devId: hubs
 * answer "devid not found"), the cid of a reply or push (at the top, else in `data`),
 * and the online/offline report of 3.4+ hubs. Frames are those of any device of the
 * hub's version.
 */

/**
 * wbd_tuya_payload_get_meta:
 *
 * What a frame with DPs says besides them: its time `t` (x) and the `cid` (s) of the
 * sub-device it is for, when it has them.
 *
 * Returns: (transfer floating): an a{sv}
 */
GVariant *
wbd_tuya_payload_get_meta(const guint8 *plain, gsize len)
{
	g_autoptr(JsonNode) node = len > 0 ? wbd_tuya_json_parse(plain, len, NULL) : NULL;
	return wbd_tuya_payload_meta_of(node != NULL ? json_node_get_object(node) : NULL);
}

/* wbd_tuya_payload_get_meta() of a payload already parsed (@root nullable) */
GVariant *
wbd_tuya_payload_meta_of(JsonObject *root)
{
	g_autofree gchar *cid = wbd_tuya_payload_cid_of(root);
	gint64 t = wbd_tuya_payload_time_of(root);
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	if (t >= 0)
		g_variant_builder_add(&builder, "{sv}", "t", g_variant_new_int64(t));
	if (cid != NULL)
		g_variant_builder_add(&builder, "{sv}", "cid", g_variant_new_string(cid));
	return g_variant_builder_end(&builder);
}

/* printable ASCII without quotes or backslashes, 1 to 64 bytes */
gboolean
wbd_tuya_cid_is_valid(const gchar *cid)
{
	gsize len = cid != NULL ? strlen(cid) : 0;
	if (len == 0 || len > WBD_TUYA_MAX_CID)
		return FALSE;
	for (const gchar *p = cid; *p != '\0'; p++) {
		if (!g_ascii_isgraph(*p) || *p == '"' || *p == '\\')
			return FALSE;
	}
	return TRUE;
}

/* read a sub-device: 3.3 0x0a {"t":T,"cid":C}; 3.4+ 0x10 {"cid":C} (wbd_tuya_query_command()) */
gchar *
wbd_tuya_build_sub_query(WbdTuyaVersion version, const gchar *cid, gint64 t)
{
	GString *str = g_string_new("{");
	if (version < WBD_TUYA_VERSION_3_4)
		g_string_append_printf(str, "\"t\":%" G_GINT64_FORMAT ",", t);
	g_string_append(str, "\"cid\":");
	wbd_tuya_json_append_string(str, cid);
	g_string_append_c(str, '}');
	return g_string_free(str, FALSE);
}

/**
 * wbd_tuya_build_sub_control:
 * @dps: a{sv} of DP id to b, i, u, x or s
 *
 * Sets DPs of a sub-device (wbd_tuya_control_command()).
 *
 * Returns: (transfer full) (nullable): the JSON, or %NULL for a value type a DP
 *   cannot hold
 */
gchar *
wbd_tuya_build_sub_control(WbdTuyaVersion version, const gchar *cid, gint64 t, GVariant *dps)
{
	g_autoptr(GString) str = g_string_new(NULL);

	if (version < WBD_TUYA_VERSION_3_4) {
		g_string_append_printf(str, "{\"t\":%" G_GINT64_FORMAT ",\"cid\":", t);
		wbd_tuya_json_append_string(str, cid);
		g_string_append(str, ",\"dps\":");
		if (!wbd_tuya_json_append_dps(str, dps))
			return NULL;
		g_string_append_c(str, '}');
		return g_string_free(g_steal_pointer(&str), FALSE);
	}
	g_string_append_printf(str, "{\"protocol\":5,\"t\":%" G_GINT64_FORMAT ",\"data\":{\"cid\":", t);
	wbd_tuya_json_append_string(str, cid);
	g_string_append(str, ",\"ctype\":0,\"dps\":");
	if (!wbd_tuya_json_append_dps(str, dps))
		return NULL;
	/* tuyapi keeps only data.cid; tinytuya repeats it at the top, and so do we */
	g_string_append(str, "},\"cid\":");
	wbd_tuya_json_append_string(str, cid);
	g_string_append_c(str, '}');
	return g_string_free(g_steal_pointer(&str), FALSE);
}

/* ask a sub-device to re-measure (UPDATEDPS 0x12), on every version */
gchar *
wbd_tuya_build_sub_update_dps(const gchar *cid, const guint *ids, guint n_ids)
{
	GString *str = g_string_new("{\"dpId\":[");
	for (guint i = 0; i < n_ids; i++)
		g_string_append_printf(str, "%s%u", i > 0 ? "," : "", ids[i]);
	g_string_append(str, "],\"cid\":");
	wbd_tuya_json_append_string(str, cid);
	g_string_append_c(str, '}');
	return g_string_free(str, FALSE);
}

/* the online/offline query of 3.4+ hubs (0x40) */
gchar *
wbd_tuya_build_subdev_query(void)
{
	return g_strdup("{\"reqType\":\"subdev_online_stat_query\",\"data\":{\"cids\":[]}}");
}

/**
 * wbd_tuya_payload_get_cid:
 *
 * Which sub-device a reply or push is for: `cid` at the top (3.1-3.3), else
 * `data.cid` (3.4, 3.5). Never guessed from the order of frames.
 *
 * Returns: (transfer full) (nullable): the cid, or %NULL when the frame names none
 *   (it is the hub's own) or names one that no hub could have sent
 */
gchar *
wbd_tuya_payload_get_cid(const guint8 *plain, gsize len)
{
	g_autoptr(JsonNode) node = len > 0 ? wbd_tuya_json_parse(plain, len, NULL) : NULL;
	return wbd_tuya_payload_cid_of(node != NULL ? json_node_get_object(node) : NULL);
}

/* wbd_tuya_payload_get_cid() of a payload already parsed (@root nullable) */
gchar *
wbd_tuya_payload_cid_of(JsonObject *root)
{
	const gchar *cid;

	if (root == NULL)
		return NULL;
	cid = wbd_json_get_string(root, "cid");
	if (cid == NULL)
		cid = wbd_json_get_string(wbd_json_get_object(root, "data"), "cid");
	return wbd_tuya_cid_is_valid(cid) ? g_strdup(cid) : NULL;
}

static GStrv
cid_list(JsonObject *data, const gchar *key)
{
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	JsonArray *array = wbd_json_get_array(data, key);
	guint n = array != NULL ? MIN(json_array_get_length(array), 1024) : 0;

	for (guint i = 0; i < n; i++) {
		JsonNode *node = json_array_get_element(array, i);
		const gchar *cid = JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING
				       ? json_node_get_string(node)
				       : NULL;
		if (wbd_tuya_cid_is_valid(cid))
			g_strv_builder_add(builder, cid);
	}
	return g_strv_builder_end(builder);
}

/**
 * wbd_tuya_payload_parse_subdev_report:
 * @online: (out) (transfer full): the cids the frame says are online
 * @offline: (out) (transfer full): the cids it says are offline
 *
 * Reads one frame of a 3.4+ hub's online/offline report. A hub with many sub-devices
 * splits its report over several frames: a cid missing from one frame is not absent.
 */
gboolean
wbd_tuya_payload_parse_subdev_report(const guint8 *plain,
				     gsize len,
				     GStrv *online,
				     GStrv *offline,
				     GError **error)
{
	g_autoptr(JsonNode) node = wbd_tuya_json_parse(plain, len, error);
	JsonObject *root;
	JsonObject *data;

	if (node == NULL)
		return FALSE;
	root = json_node_get_object(node);
	data = wbd_json_get_object(root, "data");
	if (g_strcmp0(wbd_json_get_string(root, "reqType"), "subdev_online_stat_report") != 0 || data == NULL) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "Not a sub-device online/offline report");
		return FALSE;
	}
	*online = cid_list(data, "online");
	*offline = cid_list(data, "offline");
	return TRUE;
}
