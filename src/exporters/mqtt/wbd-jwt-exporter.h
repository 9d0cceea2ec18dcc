/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-exporter-info.h"
#include "wbd-mqtt-cloud.h"

G_BEGIN_DECLS

#define WBD_TYPE_JWT_EXPORTER (wbd_jwt_exporter_get_type())
G_DECLARE_FINAL_TYPE(WbdJwtExporter, wbd_jwt_exporter, WBD, JWT_EXPORTER, WbdMqttCloud)

const WbdExporterInfo *
wbd_jwt_exporter_get_info(void);

G_END_DECLS
