/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <wattbus-glib.h>

G_BEGIN_DECLS

/**
 * WbdQuantity:
 *
 * The quantities of the ElectricityMeter interface, in SI units.
 */
typedef enum {
	WBD_QUANTITY_POWER,	     /* W */
	WBD_QUANTITY_VOLTAGE,	     /* V */
	WBD_QUANTITY_CURRENT,	     /* A */
	WBD_QUANTITY_ENERGY,	     /* Wh */
	WBD_QUANTITY_POWER_FACTOR,   /* no unit */
	WBD_QUANTITY_FREQUENCY,	     /* Hz */
	WBD_QUANTITY_REACTIVE_POWER, /* var */
	WBD_QUANTITY_APPARENT_POWER, /* VA */
	WBD_QUANTITY_ENERGY_TODAY,	     /* Wh, since local midnight (the device's day) */
	WBD_QUANTITY_ENERGY_THIS_MONTH,  /* Wh, since the first of the device's month */
	WBD_QUANTITY_ENERGY_EXPORTED,    /* Wh, a counter of energy sent back (to the grid) */
	WBD_QUANTITY_LAST
} WbdQuantity;

#define WBD_METER_MAX_PHASES 3

/**
 * WbdMeterReading:
 * @measured: bit (1 << #WbdQuantity) for each quantity in @values that was measured
 * @values: the readings; unmeasured slots are ignored
 * @n_phases: number of phases reported separately (0: totals only)
 * @phase_measured: like @measured, for @phase
 * @phase: per-phase readings (energies and frequency are not kept per phase)
 *
 * One reading of an electricity meter, as a driver reports it.
 */
typedef struct {
	guint measured;
	gdouble values[WBD_QUANTITY_LAST];
	guint n_phases;
	guint phase_measured;
	gdouble phase[WBD_QUANTITY_LAST][WBD_METER_MAX_PHASES];
} WbdMeterReading;

void
wbd_meter_reading_init(WbdMeterReading *reading);
void
wbd_meter_reading_set(WbdMeterReading *reading, WbdQuantity quantity, gdouble value);
gboolean
wbd_meter_reading_has(const WbdMeterReading *reading, WbdQuantity quantity);
const gchar *
wbd_quantity_to_string(WbdQuantity quantity);

void
wbd_meter_reading_publish(WattbusElectricityMeter *meter, const WbdMeterReading *reading);
void
wbd_meter_reading_publish_empty(WattbusElectricityMeter *meter);

G_END_DECLS
