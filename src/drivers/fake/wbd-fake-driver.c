/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "wbd-fake-device.h"
#include "wbd-fake-driver.h"

/*
 * The fake driver: devices that exist only in the daemon, scripted by their settings
 * (and, for tests that run the daemon core in their own process, by the functions of
 * wbd-fake-device.h). It reaches no network. It is how the core's contracts are tested
 * without a device protocol in the way, and the smallest example of a driver.
 */
static const gchar *const fake_keys[] =
    {"power", "outlet", "meter", "children", "latency-ms", "fail", "hang", NULL};

static const WbdDriverInfo fake_driver = {
    .name = "fake",
    .vendor = "Wattbus",
    .get_device_type = wbd_fake_device_get_type,
    .keys = fake_keys,
    .secret_keys = NULL,
    .default_poll_interval = 10,
};

const WbdDriverInfo *
wbd_fake_driver_get_info(void)
{
	return &fake_driver;
}
