/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "fuzz-common.h"
#include "wbd-meter-reading.h"

G_BEGIN_DECLS


void wbf_envoy_check_reading(const WbdMeterReading *reading, guint max_phases);

G_END_DECLS
