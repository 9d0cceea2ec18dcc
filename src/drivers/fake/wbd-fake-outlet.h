/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-fake-device.h"

G_BEGIN_DECLS

#define WBD_TYPE_FAKE_OUTLET (wbd_fake_outlet_get_type())
G_DECLARE_FINAL_TYPE(WbdFakeOutlet, wbd_fake_outlet, WBD, FAKE_OUTLET, WbdDevice)

WbdDevice *
wbd_fake_outlet_new(WbdFakeDevice *parent, guint index);
guint
wbd_fake_outlet_get_index(WbdFakeOutlet *self);

G_END_DECLS
