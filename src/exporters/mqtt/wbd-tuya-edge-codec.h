/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* pure functions of the `tuya-edge` kind (shared/specs/mqtt-clouds.md §5) */

/**
 * WbdTuyaEdgeCommand:
 * A command of Tuya's edge gateway (`gateway_id/GID/commands`): every member may be
 * %NULL when the message lacks it; @value is the DP value as sent (JSON).
 */
typedef struct {
	gchar *cid;
	gchar *request_id;
	gchar *dp_id;
	JsonNode *value;
} WbdTuyaEdgeCommand;

void
wbd_tuya_edge_command_clear(WbdTuyaEdgeCommand *command);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(WbdTuyaEdgeCommand, wbd_tuya_edge_command_clear)
void
wbd_tuya_edge_parse_command(const gchar *payload, gsize length, WbdTuyaEdgeCommand *command);

G_END_DECLS
