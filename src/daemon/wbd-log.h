/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-device.h"

/* every device-scoped log line carries the device id */
#define wbd_dev_debug(dev, fmt, ...)                                                            \
	g_debug("[%s] " fmt, wbd_device_get_id(WBD_DEVICE(dev)), ##__VA_ARGS__)
#define wbd_dev_info(dev, fmt, ...)                                                             \
	g_info("[%s] " fmt, wbd_device_get_id(WBD_DEVICE(dev)), ##__VA_ARGS__)
#define wbd_dev_message(dev, fmt, ...)                                                          \
	g_message("[%s] " fmt, wbd_device_get_id(WBD_DEVICE(dev)), ##__VA_ARGS__)
#define wbd_dev_warning(dev, fmt, ...)                                                          \
	g_warning("[%s] " fmt, wbd_device_get_id(WBD_DEVICE(dev)), ##__VA_ARGS__)
