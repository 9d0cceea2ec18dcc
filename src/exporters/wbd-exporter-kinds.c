/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "wbd-aws-exporter.h"
#include "wbd-azure-exporter.h"
#include "wbd-emoncms-exporter.h"
#include "wbd-exporter-info.h"
#include "wbd-jwt-exporter.h"
#include "wbd-mqtt-exporter.h"
#include "wbd-sse-exporter.h"
#include "wbd-tuya-edge-exporter.h"

/* the one place that names the exporter kinds built into wattbusd */
void
wbd_exporter_kinds_register_all(void)
{
	wbd_exporter_info_register(wbd_emoncms_exporter_get_info());
	wbd_exporter_info_register(wbd_mqtt_exporter_get_info());
	wbd_exporter_info_register(wbd_aws_exporter_get_info());
	wbd_exporter_info_register(wbd_azure_exporter_get_info());
	wbd_exporter_info_register(wbd_tuya_edge_exporter_get_info());
	wbd_exporter_info_register(wbd_sse_exporter_get_info());
	wbd_exporter_info_register(wbd_jwt_exporter_get_info());
}
