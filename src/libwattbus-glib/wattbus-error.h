/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__WATTBUS_GLIB_H_INSIDE__) && !defined(WATTBUS_COMPILATION)
#error "Only <wattbus-glib.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

/**
 * WATTBUS_ERROR:
 *
 * The error domain of Wattbus. Errors from the daemon arrive as D-Bus errors named
 * `org.wattbus.Wattbus1.Error.*` and are mapped into this domain.
 */
#define WATTBUS_ERROR (wattbus_error_quark ())

/**
 * WattbusError:
 * @WATTBUS_ERROR_FAILED: Something went wrong (`org.wattbus.Wattbus1.Error.Failed`).
 * @WATTBUS_ERROR_NOT_FOUND: No such device or exporter (`…Error.NotFound`).
 * @WATTBUS_ERROR_INVALID_ARGUMENT: An argument or setting is wrong (`…Error.InvalidArgument`).
 * @WATTBUS_ERROR_NOT_SUPPORTED: The device or daemon cannot do this (`…Error.NotSupported`).
 * @WATTBUS_ERROR_DEVICE_OFFLINE: The device does not answer (`…Error.DeviceOffline`).
 * @WATTBUS_ERROR_TIMEOUT: The device did not answer in time (`…Error.Timeout`).
 * @WATTBUS_ERROR_PERMISSION_DENIED: The caller is not authorized (`…Error.PermissionDenied`).
 * @WATTBUS_ERROR_BUSY: The daemon runs as many of these calls as it allows; try again
 *   later (`…Error.Busy`).
 *
 * Error codes of the %WATTBUS_ERROR domain.
 */
typedef enum {
	WATTBUS_ERROR_FAILED,
	WATTBUS_ERROR_NOT_FOUND,
	WATTBUS_ERROR_INVALID_ARGUMENT,
	WATTBUS_ERROR_NOT_SUPPORTED,
	WATTBUS_ERROR_DEVICE_OFFLINE,
	WATTBUS_ERROR_TIMEOUT,
	WATTBUS_ERROR_PERMISSION_DENIED,
	WATTBUS_ERROR_BUSY,
	/*< private >*/
	WATTBUS_ERROR_LAST
} WattbusError;

GQuark
wattbus_error_quark(void);

G_END_DECLS
