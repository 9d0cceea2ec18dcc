/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wbd-device.h"

G_BEGIN_DECLS

#define WBD_KASA_ENERGY_FILE "kasa-energy.conf"

void
wbd_kasa_energy_count(WbdDevice *device, WbdMeterReading *reading);
void
wbd_kasa_energy_flush(void);
gboolean
wbd_kasa_stats_find(JsonObject *result,
		    const gchar *list,
		    gint year,
		    gint month,
		    gint day,
		    gdouble *wh,
		    GError **error);

G_END_DECLS
