/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-mqtt-cloud.h"

G_BEGIN_DECLS

#define WBD_TYPE_MQTT_EXPORTER (wbd_mqtt_exporter_get_type())
G_DECLARE_FINAL_TYPE(WbdMqttExporter, wbd_mqtt_exporter, WBD, MQTT_EXPORTER, WbdMqttCloud)

const WbdExporterInfo *
wbd_mqtt_exporter_get_info(void);

G_END_DECLS
