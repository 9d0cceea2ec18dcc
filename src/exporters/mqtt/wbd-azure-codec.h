/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* pure functions of kind=azure-iot-hub (shared/specs/mqtt-clouds.md §3.3): topics,
 * the inbound parsers (cloud-to-device messages, direct methods) and the twin's reported
 * properties; for the fuzzer and the unit tests */

/* the longest direct-method payload or C2D message taken (as the mqtt kind's commands) */
#define WBD_AZURE_MAX_PAYLOAD 4096
/* the longest request id ($rid) echoed in a reply */
#define WBD_AZURE_MAX_RID 64

gchar *
wbd_azure_telemetry_topic(const gchar *azure_device, const gchar *device);
gboolean
wbd_azure_device_id_is_valid(const gchar *device);
gboolean
wbd_azure_parse_c2d_topic(const gchar *topic, const gchar *azure_device, gchar **device);
GPtrArray *
wbd_azure_parse_c2d(const gchar *payload, gsize length, gchar **device, GError **error);
gboolean
wbd_azure_parse_method_topic(const gchar *topic, gchar **method, gchar **rid);
GPtrArray *
wbd_azure_parse_method(const gchar *method,
		       const gchar *payload,
		       gsize length,
		       gchar **device,
		       GError **error);
gchar *
wbd_azure_method_reply_topic(gint status, const gchar *rid);
gboolean
wbd_azure_parse_twin_topic(const gchar *topic, gint *status, gchar **rid);
gchar *
wbd_azure_twin_patch(GHashTable *devices);

/* the longest twin document taken (the hub's desired and reported are 32 KB each) */
#define WBD_AZURE_MAX_TWIN 65536

GPtrArray *
wbd_azure_parse_desired(const gchar *payload,
			gsize length,
			gboolean document,
			gint64 *version,
			GError **error);

G_END_DECLS
