/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "wbd-driver.h"
#include "wbd-envoy-driver.h"
#include "wbd-fake-driver.h"
#include "wbd-kasa-driver.h"
#include "wbd-tuya-driver.h"

/*
 * The one place that names the drivers built into wattbusd: a new driver is its own
 * folder (listed in meson.build beside this file) and one line here.
 */
void
wbd_driver_table_register_all(void)
{
	wbd_driver_register(wbd_kasa_driver_get_info());
	wbd_driver_register(wbd_tuya_driver_get_info());
	wbd_driver_register(wbd_envoy_driver_get_info());
	wbd_driver_register(wbd_fake_driver_get_info());
}
