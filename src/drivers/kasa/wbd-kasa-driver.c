/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "wbd-kasa-device.h"
#include "wbd-kasa-discover.h"
#include "wbd-kasa-driver.h"

static const gchar *const kasa_keys[] = {"http-port", "transport", "username", "password", NULL};
static const gchar *const kasa_secret_keys[] = {"password", NULL};

static const WbdDriverInfo kasa_driver = {
    .name = "kasa",
    .vendor = "TP-Link",
    .get_device_type = wbd_kasa_device_get_type,
    .keys = kasa_keys,
    .secret_keys = kasa_secret_keys,
    .default_poll_interval = 10,
    .discover_async = wbd_kasa_discover_async,
    .discover_finish = wbd_kasa_discover_finish,
};

const WbdDriverInfo *
wbd_kasa_driver_get_info(void)
{
	return &kasa_driver;
}
