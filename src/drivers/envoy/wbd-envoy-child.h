/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-device.h"
#include "wbd-envoy-data.h"

G_BEGIN_DECLS

#define WBD_TYPE_ENVOY_CHILD (wbd_envoy_child_get_type())
G_DECLARE_FINAL_TYPE(WbdEnvoyChild, wbd_envoy_child, WBD, ENVOY_CHILD, WbdDevice)

WbdDevice *wbd_envoy_child_new(WbdDevice *gateway, const gchar *id);
gboolean wbd_envoy_child_set_report(WbdEnvoyChild *self, const WbdEnvoyInverterReport *report);
void wbd_envoy_child_apply_inverters(WbdDevice *gateway, GHashTable *inverters, GPtrArray *reports);

G_END_DECLS
