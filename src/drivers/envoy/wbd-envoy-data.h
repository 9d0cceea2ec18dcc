/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wbd-meter-reading.h"

G_BEGIN_DECLS

/* more CT slots or inverters than this in one reply is not a real gateway */
#define WBD_ENVOY_MAX_CTS 16
#define WBD_ENVOY_MAX_INVERTERS 2000

/**
 * WbdEnvoyCt:
 * @eid: the slot's id, which joins /ivp/meters to /ivp/meters/readings
 * @measurement: "production", "net-consumption", "total-consumption", "storage", ...
 * @enabled: whether the CT is in use
 * @phases: the number of phases it measures (1 to 3)
 *
 * One current-transformer slot of /ivp/meters.
 */
typedef struct {
	gint64 eid;
	gchar *measurement;
	gboolean enabled;
	guint phases;
} WbdEnvoyCt;

void wbd_envoy_ct_free(WbdEnvoyCt *ct);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WbdEnvoyCt, wbd_envoy_ct_free)

/**
 * WbdEnvoyInverterReport:
 * @serial: the microinverter's serial number
 * @last_report: end of its last report interval, in seconds since the epoch
 * @watts: average power over that interval, in W
 * @max_watts: the highest power it has reported, in W
 */
typedef struct {
	gchar *serial;
	gint64 last_report;
	gdouble watts;
	gdouble max_watts;
} WbdEnvoyInverterReport;

void wbd_envoy_inverter_report_free(WbdEnvoyInverterReport *report);

/* the three measurements of a /stream/meter event, in this order */
typedef enum {
	WBD_ENVOY_STREAM_PRODUCTION,
	WBD_ENVOY_STREAM_NET_CONSUMPTION,
	WBD_ENVOY_STREAM_TOTAL_CONSUMPTION,
	WBD_ENVOY_STREAM_LAST
} WbdEnvoyStreamMeter;

/* the fields of one phase of an event: p, q, s, v, i, pf, f */
typedef enum {
	WBD_ENVOY_FIELD_P,
	WBD_ENVOY_FIELD_Q,
	WBD_ENVOY_FIELD_S,
	WBD_ENVOY_FIELD_V,
	WBD_ENVOY_FIELD_I,
	WBD_ENVOY_FIELD_PF,
	WBD_ENVOY_FIELD_F,
	WBD_ENVOY_FIELD_LAST
} WbdEnvoyField;

/**
 * WbdEnvoyStreamEvent:
 * @present: which of the three measurements the event has (all phases, all fields)
 * @values: [measurement][phase][field]
 */
typedef struct {
	gboolean present[WBD_ENVOY_STREAM_LAST];
	gdouble values[WBD_ENVOY_STREAM_LAST][WBD_METER_MAX_PHASES][WBD_ENVOY_FIELD_LAST];
} WbdEnvoyStreamEvent;

const gchar *wbd_envoy_stream_meter_to_string(WbdEnvoyStreamMeter meter);

GPtrArray *wbd_envoy_parse_cts(JsonNode *root);
guint wbd_envoy_cts_get_phases(GPtrArray *cts);
gboolean wbd_envoy_parse_ct_reading(JsonNode *readings,
				    const WbdEnvoyCt *ct,
				    guint phases,
				    WbdMeterReading *reading);
gboolean wbd_envoy_parse_eim(JsonNode *production,
			     const gchar *measurement,
			     guint phases,
			     WbdMeterReading *reading);
gboolean wbd_envoy_parse_inverters_total(JsonNode *production, WbdMeterReading *reading);
gboolean wbd_envoy_parse_v1_production(JsonNode *root, WbdMeterReading *reading, gboolean *broken);
GPtrArray *wbd_envoy_parse_inverters(JsonNode *root);
gboolean wbd_envoy_serial_is_valid(const gchar *serial);
gboolean wbd_envoy_parse_stream_event(const gchar *json, gsize len, WbdEnvoyStreamEvent *event);
void wbd_envoy_stream_event_get_reading(const WbdEnvoyStreamEvent *event,
					WbdEnvoyStreamMeter meter,
					guint phases,
					WbdMeterReading *reading);

G_END_DECLS
