/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-device.h"
#include "wbd-envoy-client.h"

G_BEGIN_DECLS

void
wbd_envoy_trust_attach(WbdDevice *device, WbdEnvoyClient *client);

G_END_DECLS
