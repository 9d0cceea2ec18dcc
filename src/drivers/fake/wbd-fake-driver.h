/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-driver.h"

G_BEGIN_DECLS

const WbdDriverInfo *
wbd_fake_driver_get_info(void);

G_END_DECLS
