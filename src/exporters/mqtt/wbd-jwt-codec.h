/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* pure functions of the `jwt-iot-core` kind (shared/specs/mqtt-clouds.md §4): topics,
 * and the parsers of what the cloud sends (commands, config), for the fuzzer */

/**
 * WbdJwtTopic:
 * @WBD_JWT_TOPIC_OTHER: not a topic of ours
 * @WBD_JWT_TOPIC_COMMANDS: `/devices/ID/commands` or `/devices/ID/commands/SUBFOLDER`
 * @WBD_JWT_TOPIC_CONFIG: `/devices/ID/config`
 */
typedef enum {
	WBD_JWT_TOPIC_OTHER,
	WBD_JWT_TOPIC_COMMANDS,
	WBD_JWT_TOPIC_CONFIG,
} WbdJwtTopic;

gchar *
wbd_jwt_client_id(const gchar *project,
		  const gchar *region,
		  const gchar *registry,
		  const gchar *device_id);
WbdJwtTopic
wbd_jwt_parse_topic(const gchar *topic, const gchar *device_id, gchar **subfolder);
GPtrArray *
wbd_jwt_parse_command(const gchar *subfolder,
		      const gchar *payload,
		      gsize length,
		      gchar **id,
		      gchar **device,
		      GError **error);
GPtrArray *
wbd_jwt_parse_config(const gchar *payload, gsize length, GError **error);
gchar *
wbd_jwt_result_json(const gchar *device, const gchar *id, const GError *error, JsonObject *state);

G_END_DECLS
