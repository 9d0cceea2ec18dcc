/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wbd-device.h"

G_BEGIN_DECLS

typedef struct _WbdEnvoyStorage WbdEnvoyStorage;

WbdEnvoyStorage *wbd_envoy_storage_new(WbdDevice *gateway);
void wbd_envoy_storage_free(WbdEnvoyStorage *self);
void wbd_envoy_storage_attach(WbdEnvoyStorage *self);
void wbd_envoy_storage_forget_children(WbdEnvoyStorage *self);

gboolean wbd_envoy_storage_set_inventory(WbdEnvoyStorage *self, JsonNode *root);
gboolean wbd_envoy_storage_has_encharge(WbdEnvoyStorage *self);
gboolean wbd_envoy_storage_has_acb(WbdEnvoyStorage *self);
void wbd_envoy_storage_set_power(WbdEnvoyStorage *self, JsonNode *root);
void wbd_envoy_storage_set_secctrl(WbdEnvoyStorage *self, JsonNode *root);
void wbd_envoy_storage_set_production(WbdEnvoyStorage *self, JsonNode *root);
void wbd_envoy_storage_set_acb_inventory(WbdEnvoyStorage *self, JsonNode *root);
void wbd_envoy_storage_publish(WbdEnvoyStorage *self);

G_END_DECLS
