/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-kasa-device.h"

G_BEGIN_DECLS

#define WBD_TYPE_KASA_OUTLET (wbd_kasa_outlet_get_type())
G_DECLARE_FINAL_TYPE(WbdKasaOutlet, wbd_kasa_outlet, WBD, KASA_OUTLET, WbdDevice)

WbdDevice *
wbd_kasa_outlet_new(WbdKasaDevice *strip, const gchar *id, const gchar *child_id, guint index);

G_END_DECLS
