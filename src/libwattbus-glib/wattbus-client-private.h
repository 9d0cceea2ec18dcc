/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "wattbus-client.h"

G_BEGIN_DECLS

/* shared by wattbus-client.c and wattbus-client-methods.c; not installed */

gboolean
wattbus_client_object_is_device(GDBusObject *object);
WattbusManager *
wattbus_client_get_manager_proxy(WattbusClient *self);

G_END_DECLS
