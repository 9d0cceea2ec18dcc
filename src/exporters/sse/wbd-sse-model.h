/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* the current values of every device, and the energy flow computed from them: pure
 * logic, no I/O, so that it can be tested alone */

typedef struct _WbdSseModel WbdSseModel;

/**
 * WbdSseEnergy:
 * @production: W produced (solar), NaN when unknown
 * @consumption: W consumed by the site, NaN when unknown
 * @net: W imported from the grid (negative: exported), NaN when unknown
 * @has_battery: the site has a battery (org.wattbus.Wattbus1.Battery)
 * @battery: W into the batteries, positive while charging (negative: discharging), NaN
 *   when unknown
 * @soc: their state of charge, %, NaN when unknown
 */
typedef struct {
	gdouble production;
	gdouble consumption;
	gdouble net;
	gboolean has_battery;
	gdouble battery;
	gdouble soc;
} WbdSseEnergy;

WbdSseModel *
wbd_sse_model_new(void);
void
wbd_sse_model_free(WbdSseModel *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WbdSseModel, wbd_sse_model_free)

gchar *
wbd_sse_model_update(WbdSseModel *self,
		     const gchar *device,
		     const gchar *label,
		     gint64 time_us,
		     GVariant *values);
gboolean
wbd_sse_model_needs_device_info(WbdSseModel *self, const gchar *device);
GPtrArray *
wbd_sse_model_dup_unknown_kinds(WbdSseModel *self);
void
wbd_sse_model_set_device_info(WbdSseModel *self,
			      const gchar *device,
			      const gchar *kind,
			      const gchar *parent);
GPtrArray *
wbd_sse_model_snapshot(WbdSseModel *self);
void
wbd_sse_model_get_energy(WbdSseModel *self, WbdSseEnergy *energy);
gchar *
wbd_sse_energy_to_json(const WbdSseEnergy *energy);

G_END_DECLS
