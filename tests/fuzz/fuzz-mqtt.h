/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "fuzz-common.h"
#include "wbd-mqtt-codec.h"
#include "wbd-tuya-edge-codec.h"

G_BEGIN_DECLS

/* the invariants of what the MQTT kinds' parsers make (wbd-mqtt-codec.h) */
void
wbf_mqtt_check_command(const WbdMqttCommand *command, gboolean toggle_allowed);
void
wbf_mqtt_check_commands(GPtrArray *commands, const GError *error, gboolean toggle_allowed);
void
wbf_mqtt_check_desired(GPtrArray *desired);

G_END_DECLS
