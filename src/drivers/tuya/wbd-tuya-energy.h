/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
	WBD_TUYA_ENERGY_COUNTED,
	WBD_TUYA_ENERGY_DUPLICATE,
	WBD_TUYA_ENERGY_ZERO,
	WBD_TUYA_ENERGY_IMPLAUSIBLE,
} WbdTuyaEnergyResult;

typedef struct _WbdTuyaEnergy WbdTuyaEnergy;

WbdTuyaEnergy *
wbd_tuya_energy_new(const gchar *path);
void
wbd_tuya_energy_free(WbdTuyaEnergy *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WbdTuyaEnergy, wbd_tuya_energy_free)

gboolean
wbd_tuya_energy_get_total(WbdTuyaEnergy *self, gdouble *total_wh);
WbdTuyaEnergyResult
wbd_tuya_energy_add(WbdTuyaEnergy *self,
		    gint64 raw,
		    gdouble wh,
		    gint64 t,
		    gint64 now,
		    guint rated_power,
		    GError **error);
const gchar *
wbd_tuya_energy_result_to_string(WbdTuyaEnergyResult result);

G_END_DECLS
