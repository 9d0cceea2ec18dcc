/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-device.h"
#include "wbd-envoy-data.h"

G_BEGIN_DECLS

/* where a meter's values come from */
typedef enum {
	WBD_ENVOY_METER_CT,	   /* /ivp/meters/readings, joined by eid */
	WBD_ENVOY_METER_EIM,	   /* an eim entry of /production.json (the gateway's sum) */
	WBD_ENVOY_METER_INVERTERS, /* no CT: /api/v1/production or the inverters' sum */
} WbdEnvoyMeterSource;

/**
 * WbdEnvoyMeter:
 * @measurement: "production", "net-consumption", "storage", ...
 * @ct: the CT slot, for %WBD_ENVOY_METER_CT
 * @child: the meter's device, a child of the gateway
 * @polled: the last polled reading
 * @live: the last reading of /stream/meter, valid when @has_live
 *
 * One meter child of a gateway: the gateway's table of them is a #GPtrArray.
 */
typedef struct {
	gchar *measurement;
	WbdEnvoyMeterSource source;
	WbdEnvoyCt *ct;
	WbdDevice *child;
	WbdMeterReading polled;
	WbdMeterReading live;
	gboolean has_live;
} WbdEnvoyMeter;

GPtrArray *wbd_envoy_meters_new(void);
gboolean wbd_envoy_meters_set_cts(GPtrArray *meters, WbdDevice *gateway, GPtrArray *cts);
WbdEnvoyMeter *wbd_envoy_meters_find(GPtrArray *meters, const gchar *measurement);
gboolean wbd_envoy_meters_has_source(GPtrArray *meters, WbdEnvoyMeterSource source);
void wbd_envoy_meter_publish(WbdEnvoyMeter *meter, gboolean live_fresh);
void wbd_envoy_meters_apply_event(GPtrArray *meters,
				  const WbdEnvoyStreamEvent *event,
				  guint phases,
				  gboolean live_fresh);

G_END_DECLS
