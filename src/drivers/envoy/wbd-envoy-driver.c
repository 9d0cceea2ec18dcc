/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "wbd-envoy-client.h"
#include "wbd-envoy-device.h"
#include "wbd-envoy-driver.h"

static const gchar *const envoy_keys[] = {
    "username",
    "password",
    "token",
    "ca-file",
    "inverter-interval",
    "stream-timeout",
    NULL,
};

static const gchar *const envoy_secret_keys[] = {"password", "token", NULL};

/* the Envoy interface's own method: a re-pin decides whom the token goes to */
static const WbdAuthRule envoy_auth_rules[] = {
    {"org.wattbus.Wattbus1.Envoy", "Repin", "org.wattbus.Wattbus1.manage-devices"},
    {NULL, NULL, NULL},
};

static const WbdDriverInfo envoy_driver = {
    .name = "envoy",
    .vendor = "Enphase",
    .get_device_type = wbd_envoy_device_get_type,
    .keys = envoy_keys,
    .secret_keys = envoy_secret_keys,
    .default_poll_interval = 10,
    .validate_address = wbd_envoy_address_validate,
    .auth_rules = envoy_auth_rules,
};

const WbdDriverInfo *
wbd_envoy_driver_get_info(void)
{
	return &envoy_driver;
}
