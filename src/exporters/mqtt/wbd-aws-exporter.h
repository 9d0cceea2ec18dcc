/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-mqtt-cloud.h"

G_BEGIN_DECLS

#define WBD_TYPE_AWS_EXPORTER (wbd_aws_exporter_get_type())
G_DECLARE_FINAL_TYPE(WbdAwsExporter, wbd_aws_exporter, WBD, AWS_EXPORTER, WbdMqttCloud)

const WbdExporterInfo *
wbd_aws_exporter_get_info(void);

G_END_DECLS
