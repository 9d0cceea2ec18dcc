/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* pure functions of the `aws-iot` kind: topics, Device Shadow documents (spec §2.4) */

/**
 * WbdAwsShadowMessage:
 * What AWS's shadow service says on a named shadow's topic
 * (`$aws/things/THING/shadow/name/SHADOW/...`).
 */
typedef enum {
	WBD_AWS_SHADOW_NONE,		/* not a shadow topic of this thing */
	WBD_AWS_SHADOW_DELTA,		/* .../update/delta */
	WBD_AWS_SHADOW_GET_ACCEPTED,	/* .../get/accepted */
	WBD_AWS_SHADOW_GET_REJECTED,	/* .../get/rejected */
	WBD_AWS_SHADOW_UPDATE_REJECTED, /* .../update/rejected */
} WbdAwsShadowMessage;

/* AWS's limits (spec §2.3) */
#define WBD_AWS_MAX_TOPIC 256
#define WBD_AWS_MAX_SLASHES 7
#define WBD_AWS_MAX_DOCUMENT (128 * 1024)

gchar *
wbd_aws_shadow_topic(const gchar *thing, const gchar *shadow, const gchar *suffix);
gboolean
wbd_aws_shadow_name_is_valid(const gchar *name);
WbdAwsShadowMessage
wbd_aws_shadow_parse_topic(const gchar *topic, const gchar *thing, gchar **shadow);

gboolean
wbd_aws_check_topic_template(const gchar *template, const gchar *thing, GError **error);
gchar *
wbd_aws_telemetry_topic(const gchar *template,
			const gchar *thing,
			const gchar *device,
			GError **error);

gboolean
wbd_aws_parse_delta(const gchar *payload,
		    gsize length,
		    gint64 *version,
		    gchar **state,
		    GError **error);
gboolean
wbd_aws_parse_get_accepted(const gchar *payload,
			   gsize length,
			   gint64 *version,
			   gchar **delta,
			   JsonObject **reported,
			   GError **error);
gboolean
wbd_aws_parse_rejected(const gchar *payload,
		       gsize length,
		       gint *code,
		       gchar **message,
		       GError **error);
GPtrArray *
wbd_aws_delta_commands(const gchar *state, gchar **refused);

gchar *
wbd_aws_reported_json(JsonObject *state);
gboolean
wbd_aws_reported_matches(JsonObject *reported, JsonObject *state);

G_END_DECLS
