/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <wattbus-glib.h>

#include "fuzz-envoy.h"



/* what the base class publishes: measured values finite, the others NaN */
void
wbf_envoy_check_reading(const WbdMeterReading *reading, guint max_phases)
{
	WBF_ASSERT(reading->n_phases <= max_phases);
	WBF_ASSERT(reading->n_phases != 1);
	WBF_ASSERT(reading->n_phases > 0 || reading->phase_measured == 0);
	WBF_ASSERT((reading->phase_measured & (1u << WBD_QUANTITY_ENERGY)) == 0);
	WBF_ASSERT((reading->phase_measured & (1u << WBD_QUANTITY_FREQUENCY)) == 0);
	for (guint q = 0; q < WBD_QUANTITY_LAST; q++) {
		if (wbd_meter_reading_has(reading, q))
			WBF_ASSERT(isfinite(reading->values[q]));
		else
			WBF_ASSERT(isnan(reading->values[q]));
		if (reading->phase_measured & (1u << q)) {
			for (guint p = 0; p < reading->n_phases; p++)
				WBF_ASSERT(isfinite(reading->phase[q][p]));
		}
	}
}
