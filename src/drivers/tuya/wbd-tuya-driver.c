/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "wbd-tuya-device.h"
#include "wbd-tuya-discover.h"
#include "wbd-tuya-driver.h"

static const gchar *const tuya_keys[] = {"device-id", "local-key", "version", "profile", "gateway", "node-id", NULL};
static const gchar *const tuya_secret_keys[] = {"local-key", NULL};

/* the Tuya interface's own methods (WaterMeter's are the core's) */
static const WbdAuthRule tuya_auth_rules[] = {
    {"org.wattbus.Wattbus1.Tuya", "SetDp", "org.wattbus.Wattbus1.control-device"},
    {NULL, NULL, NULL},
};

static const WbdDriverInfo tuya_driver = {
    .name = "tuya",
    .vendor = "Tuya",
    .get_device_type = wbd_tuya_device_get_type,
    .keys = tuya_keys,
    .secret_keys = tuya_secret_keys,
    /* values come as pushes; the poll is a heartbeat (and a re-measure for plugs) */
    .default_poll_interval = 30,
    .discover_async = wbd_tuya_discover_async,
    .discover_finish = wbd_tuya_discover_finish,
    /* a hub's sub-device: gateway=<the hub's id> */
    .parent_key = "gateway",
    .auth_rules = tuya_auth_rules,
};

const WbdDriverInfo *
wbd_tuya_driver_get_info(void)
{
	return &tuya_driver;
}
