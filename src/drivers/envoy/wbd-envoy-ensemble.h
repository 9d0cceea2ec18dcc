/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wbd-battery-reading.h"

G_BEGIN_DECLS

/* more batteries than this in one reply is not a real site */
#define WBD_ENVOY_MAX_BATTERIES 64
/* an AC Battery holds 1 240 Wh (envoy-batteries.md §2.7) */
#define WBD_ENVOY_ACB_CAPACITY_WH 1240.0

/**
 * WbdEnvoyBattery:
 * @serial: its serial number (checked: letters and digits)
 * @part_number: (nullable): its part number
 * @firmware: (nullable): the firmware it runs
 * @acb: an AC Battery (else an IQ Battery / Encharge)
 * @reading: its values, in org.wattbus.Wattbus1.Battery's units and sign
 *
 * One battery of the site.
 */
typedef struct {
	gchar *serial;
	gchar *part_number;
	gchar *firmware;
	gboolean acb;
	WbdBatteryReading reading;
} WbdEnvoyBattery;

void wbd_envoy_battery_free(WbdEnvoyBattery *battery);

/**
 * WbdEnvoySecctrl:
 * The aggregates of /ivp/ensemble/secctrl (NaN where absent): Wh and %.
 */
typedef struct {
	gdouble agg_soc;
	gdouble max_energy;
	gdouble enc_soc;
	gdouble enc_available;
	gdouble enc_capacity;
	gdouble acb_soc;
	gdouble acb_energy;
	gdouble reserve;
} WbdEnvoySecctrl;

/**
 * WbdEnvoyAcb:
 * The AC Batteries' aggregate of /production.json's storage[0] (envoy-batteries.md §2.7).
 */
typedef struct {
	guint count;
	WbdBatteryReading reading;
} WbdEnvoyAcb;

/* the values of org.wattbus.Wattbus1.Gateway's GridState */
#define WBD_ENVOY_GRID_UNKNOWN "unknown"

gboolean wbd_envoy_parse_ensemble_inventory(JsonNode *root,
					    GPtrArray **batteries,
					    const gchar **grid_state);
void wbd_envoy_parse_ensemble_power(JsonNode *root, GPtrArray *batteries);
gboolean wbd_envoy_parse_secctrl(JsonNode *root, WbdEnvoySecctrl *secctrl);
gboolean wbd_envoy_parse_acb_storage(JsonNode *production, WbdEnvoyAcb *acb);
GPtrArray *wbd_envoy_parse_acb_inventory(JsonNode *root);
void wbd_envoy_batteries_aggregate(GPtrArray *encharge,
				   const WbdEnvoySecctrl *secctrl,
				   const WbdEnvoyAcb *acb,
				   WbdBatteryReading *reading);

G_END_DECLS
