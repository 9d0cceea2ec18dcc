/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-device.h"

G_BEGIN_DECLS

#define WBD_KASA_ENERGY_FILE "kasa-energy.conf"

void
wbd_kasa_energy_count(WbdDevice *device, WbdMeterReading *reading);
void
wbd_kasa_energy_flush(void);

G_END_DECLS
