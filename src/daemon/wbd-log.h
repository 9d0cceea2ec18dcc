/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-device.h"

/* a log line about one thing carries its id: "[ID] message" (a connection's, a
 * discovery's, an exporter's: wbd_exp_*() in wbd-exporter.h) */
#define wbd_log_debug(id, fmt, ...) g_debug("[%s] " fmt, (id), ##__VA_ARGS__)
#define wbd_log_info(id, fmt, ...) g_info("[%s] " fmt, (id), ##__VA_ARGS__)
#define wbd_log_message(id, fmt, ...) g_message("[%s] " fmt, (id), ##__VA_ARGS__)
#define wbd_log_warning(id, fmt, ...) g_warning("[%s] " fmt, (id), ##__VA_ARGS__)

/* every device-scoped log line carries the device id */
#define wbd_dev_debug(dev, fmt, ...)                                                            \
	wbd_log_debug(wbd_device_get_id(WBD_DEVICE(dev)), fmt, ##__VA_ARGS__)
#define wbd_dev_info(dev, fmt, ...)                                                             \
	wbd_log_info(wbd_device_get_id(WBD_DEVICE(dev)), fmt, ##__VA_ARGS__)
#define wbd_dev_message(dev, fmt, ...)                                                          \
	wbd_log_message(wbd_device_get_id(WBD_DEVICE(dev)), fmt, ##__VA_ARGS__)
#define wbd_dev_warning(dev, fmt, ...)                                                          \
	wbd_log_warning(wbd_device_get_id(WBD_DEVICE(dev)), fmt, ##__VA_ARGS__)
