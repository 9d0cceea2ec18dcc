/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-mqtt-cloud.h"

G_BEGIN_DECLS

#define WBD_TYPE_TUYA_EDGE_EXPORTER (wbd_tuya_edge_exporter_get_type())
G_DECLARE_FINAL_TYPE(WbdTuyaEdgeExporter,
		     wbd_tuya_edge_exporter,
		     WBD,
		     TUYA_EDGE_EXPORTER,
		     WbdMqttCloud)

const WbdExporterInfo *
wbd_tuya_edge_exporter_get_info(void);

G_END_DECLS
