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

void
wbd_kasa_sysinfo_free(WbdKasaSysinfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WbdKasaSysinfo, wbd_kasa_sysinfo_free)

WbdKasaSysinfo *
wbd_kasa_sysinfo_parse(JsonObject *sysinfo, GError **error);
const gchar *
wbd_kasa_sysinfo_get_kind(const WbdKasaSysinfo *info);
void
wbd_kasa_parse_realtime(JsonObject *realtime, WbdMeterReading *reading);
void
wbd_kasa_sum_readings(const WbdMeterReading *outlets, guint n_outlets, WbdMeterReading *total);

G_END_DECLS
