/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz-common.h"
#include "wbd-tuya-profile.h"

G_BEGIN_DECLS

void
wbf_tuya_check_dps(GVariant *dps, WbdTuyaProfile *profile);

G_END_DECLS
