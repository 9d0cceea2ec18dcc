/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* the info document is about 2 KiB; anything far larger is not a gateway */
#define WBD_ENVOY_INFO_MAX_SIZE (64 * 1024)

/**
 * WbdEnvoyInfo:
 * @serial: `<device><sn>`, the gateway's serial number
 * @part_number: `<device><pn>`, e.g. 800-00654-r08
 * @software: `<device><software>`, e.g. D7.6.175
 * @version: @software as numbers, without its letter: {7, 6, 175}
 * @imeter: `<device><imeter>`: 1 for a metered model, 0 for not, -1 when absent
 * @web_tokens: `<web-tokens>true</web-tokens>`: the firmware wants a JWT
 *
 * What the unauthenticated /info document says about a gateway.
 */
typedef struct {
	gchar *serial;
	gchar *part_number;
	gchar *software;
	guint version[3];
	gint imeter;
	gboolean web_tokens;
} WbdEnvoyInfo;

WbdEnvoyInfo *wbd_envoy_info_parse(const gchar *xml, gsize len, GError **error);
void wbd_envoy_info_free(WbdEnvoyInfo *info);
gboolean wbd_envoy_info_needs_token(const WbdEnvoyInfo *info);
gboolean wbd_envoy_info_equal(const WbdEnvoyInfo *a, const WbdEnvoyInfo *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(WbdEnvoyInfo, wbd_envoy_info_free)

G_END_DECLS
