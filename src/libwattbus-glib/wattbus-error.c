/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gio/gio.h>

#include "wattbus-error.h"

static const GDBusErrorEntry wattbus_error_entries[] = {
    {WATTBUS_ERROR_FAILED, "org.wattbus.Wattbus1.Error.Failed"},
    {WATTBUS_ERROR_NOT_FOUND, "org.wattbus.Wattbus1.Error.NotFound"},
    {WATTBUS_ERROR_INVALID_ARGUMENT, "org.wattbus.Wattbus1.Error.InvalidArgument"},
    {WATTBUS_ERROR_NOT_SUPPORTED, "org.wattbus.Wattbus1.Error.NotSupported"},
    {WATTBUS_ERROR_DEVICE_OFFLINE, "org.wattbus.Wattbus1.Error.DeviceOffline"},
    {WATTBUS_ERROR_TIMEOUT, "org.wattbus.Wattbus1.Error.Timeout"},
    {WATTBUS_ERROR_PERMISSION_DENIED, "org.wattbus.Wattbus1.Error.PermissionDenied"},
    {WATTBUS_ERROR_BUSY, "org.wattbus.Wattbus1.Error.Busy"},
};

G_STATIC_ASSERT(G_N_ELEMENTS(wattbus_error_entries) == WATTBUS_ERROR_LAST);

/**
 * wattbus_error_quark:
 *
 * Returns: the #GQuark of the %WATTBUS_ERROR domain, registered with GDBus so that
 *   remote errors map to #WattbusError codes.
 */
GQuark
wattbus_error_quark(void)
{
	static gsize quark = 0;
	g_dbus_error_register_error_domain("wattbus-error-quark",
					   &quark,
					   wattbus_error_entries,
					   G_N_ELEMENTS(wattbus_error_entries));
	return (GQuark)quark;
}
