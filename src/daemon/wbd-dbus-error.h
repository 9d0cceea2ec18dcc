/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

void
wbd_return_dbus_error(GDBusMethodInvocation *invocation, const GError *error);

G_END_DECLS
