/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <wattbus-glib.h>

#include "wbd-device.h"

G_BEGIN_DECLS

/**
 * WbdBatteryState:
 *
 * The State property of org.wattbus.Wattbus1.Battery.
 */
typedef enum {
	WBD_BATTERY_STATE_UNKNOWN,
	WBD_BATTERY_STATE_CHARGING,
	WBD_BATTERY_STATE_DISCHARGING,
	WBD_BATTERY_STATE_IDLE,
} WbdBatteryState;

/**
 * WbdBatteryReading:
 * @soc: state of charge, %
 * @power: W, positive while charging, negative while discharging
 * @capacity: Wh when full
 * @available: Wh stored now
 * @reserve: %, the state of charge kept for an outage
 * @state: what the battery does
 *
 * One reading of a battery as a driver reports it, already in the interface's units and
 * sign convention; NaN (and %WBD_BATTERY_STATE_UNKNOWN) for what the system does not say.
 */
typedef struct {
	gdouble soc;
	gdouble power;
	gdouble capacity;
	gdouble available;
	gdouble reserve;
	WbdBatteryState state;
} WbdBatteryReading;

void
wbd_battery_reading_init(WbdBatteryReading *reading);
const gchar *
wbd_battery_state_to_string(WbdBatteryState state);
WbdBatteryState
wbd_battery_state_from_power(gdouble power, gdouble idle_below);

WattbusBattery *
wbd_device_add_battery(WbdDevice *device, gboolean aggregate);
void
wbd_battery_reading_publish(WattbusBattery *battery, const WbdBatteryReading *reading);

G_END_DECLS
