/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-envoy-client.h"
#include "wbd-envoy-data.h"

G_BEGIN_DECLS

#define WBD_TYPE_ENVOY_LIVE (wbd_envoy_live_get_type())
G_DECLARE_FINAL_TYPE(WbdEnvoyLive, wbd_envoy_live, WBD, ENVOY_LIVE, GObject)

/* reconnects wait 1, 2, 4 ... up to this many seconds */
#define WBD_ENVOY_LIVE_MAX_BACKOFF_S 60

WbdEnvoyLive *
wbd_envoy_live_new(WbdEnvoyClient *client, const gchar *device_id, guint silence_timeout_s);
void wbd_envoy_live_start(WbdEnvoyLive *self);
void wbd_envoy_live_stop(WbdEnvoyLive *self);
gboolean wbd_envoy_live_is_running(WbdEnvoyLive *self);
gboolean wbd_envoy_live_is_refused(WbdEnvoyLive *self);
gboolean wbd_envoy_live_is_fresh(WbdEnvoyLive *self);

G_END_DECLS
