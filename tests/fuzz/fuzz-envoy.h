/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "fuzz-kasa.h"
#include "wbd-meter-reading.h"

G_BEGIN_DECLS

/* WBF_ASSERT, wbf_fail() and the entry points come from fuzz-kasa.h */

void wbf_envoy_check_error(const GError *error);
void wbf_envoy_check_reading(const WbdMeterReading *reading, guint max_phases);

G_END_DECLS
