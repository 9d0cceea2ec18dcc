/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wbd-device.h"

G_BEGIN_DECLS

/* a strip never has more sockets than this; more is a hostile reply */
#define WBD_KASA_MAX_CHILDREN 16

typedef struct {
	gchar *id; /* full id, as used in "context" */
	gchar *alias;
	gboolean on;
} WbdKasaChild;

/**
 * WbdKasaSysinfo:
 *
 * What `system.get_sysinfo` says, normalised: either `relay_state` (a plug or switch)
 * or `children` (a strip) is set.
 */
typedef struct {
	gchar *device_id;
	gchar *alias;
	gchar *model;
	gchar *hw_ver;
	gchar *sw_ver;
	gchar *mac;
	gchar *type;
	gchar *dev_name;
	gboolean has_emeter;
	gint relay_state; /* -1 when absent (strips) */
	GPtrArray *children; /* WbdKasaChild; empty for a plug */
} WbdKasaSysinfo;

/* the string members of a sysinfo the driver reads; names in wbd_kasa_sysinfo_strings */
typedef enum {
	WBD_KASA_SYSINFO_DEVICE_ID,
	WBD_KASA_SYSINFO_ALIAS,
	WBD_KASA_SYSINFO_MODEL,
	WBD_KASA_SYSINFO_HW_VER,
	WBD_KASA_SYSINFO_SW_VER,
	WBD_KASA_SYSINFO_DEV_NAME,
	WBD_KASA_SYSINFO_MIC_TYPE,
	WBD_KASA_SYSINFO_TYPE,
	WBD_KASA_SYSINFO_MAC,
	WBD_KASA_SYSINFO_MIC_MAC,
	WBD_KASA_SYSINFO_FEATURE,
	WBD_KASA_SYSINFO_N_STRINGS
} WbdKasaSysinfoString;

extern const gchar *const wbd_kasa_sysinfo_strings[WBD_KASA_SYSINFO_N_STRINGS];

/* the numbers of emeter.get_realtime the driver reads; names in wbd_kasa_realtime_keys */
typedef enum {
	WBD_KASA_REALTIME_POWER,
	WBD_KASA_REALTIME_POWER_MW,
	WBD_KASA_REALTIME_VOLTAGE,
	WBD_KASA_REALTIME_VOLTAGE_MV,
	WBD_KASA_REALTIME_CURRENT,
	WBD_KASA_REALTIME_CURRENT_MA,
	WBD_KASA_REALTIME_TOTAL,
	WBD_KASA_REALTIME_TOTAL_WH,
	WBD_KASA_REALTIME_N_KEYS
} WbdKasaRealtimeKey;

extern const gchar *const wbd_kasa_realtime_keys[WBD_KASA_REALTIME_N_KEYS];

/* what a realtime result says: bit (1 << WbdKasaRealtimeKey) in @present per number */
typedef struct {
	guint present;
	gdouble values[WBD_KASA_REALTIME_N_KEYS];
} WbdKasaRealtime;

void
wbd_kasa_sysinfo_free(WbdKasaSysinfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WbdKasaSysinfo, wbd_kasa_sysinfo_free)

WbdKasaSysinfo *
wbd_kasa_sysinfo_new(gchar *strings[WBD_KASA_SYSINFO_N_STRINGS], GError **error);
WbdKasaSysinfo *
wbd_kasa_sysinfo_parse(JsonObject *sysinfo, GError **error);
const gchar *
wbd_kasa_sysinfo_get_kind(const WbdKasaSysinfo *info);
void
wbd_kasa_realtime_to_reading(const WbdKasaRealtime *realtime, WbdMeterReading *reading);
void
wbd_kasa_parse_realtime(JsonObject *realtime, WbdMeterReading *reading);
void
wbd_kasa_sum_readings(const WbdMeterReading *outlets, guint n_outlets, WbdMeterReading *total);

G_END_DECLS
