/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-mqtt-cloud.h"

G_BEGIN_DECLS

#define WBD_TYPE_AZURE_EXPORTER (wbd_azure_exporter_get_type())
G_DECLARE_FINAL_TYPE(WbdAzureExporter, wbd_azure_exporter, WBD, AZURE_EXPORTER, WbdMqttCloud)

const WbdExporterInfo *
wbd_azure_exporter_get_info(void);

G_END_DECLS
