/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#define __WATTBUS_GLIB_H_INSIDE__

#include <gio/gio.h>

#include "wattbus-generated.h"
#include "wattbus-error.h"
#include "wattbus-client.h"

#undef __WATTBUS_GLIB_H_INSIDE__
