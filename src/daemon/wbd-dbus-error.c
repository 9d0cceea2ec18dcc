/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <wattbus-glib.h>

#include "wbd-dbus-error.h"

/**
 * wbd_return_dbus_error:
 *
 * Completes @invocation with @error as a named org.wattbus.Wattbus1.Error.*; an error
 * of another domain becomes Error.Failed with its message. For every method handler
 * of the daemon: the core's, the drivers' and the exporters'.
 */
void
wbd_return_dbus_error(GDBusMethodInvocation *invocation, const GError *error)
{
	if (error->domain == WATTBUS_ERROR) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_error(invocation,
					      WATTBUS_ERROR,
					      WATTBUS_ERROR_FAILED,
					      "%s",
					      error->message);
}
