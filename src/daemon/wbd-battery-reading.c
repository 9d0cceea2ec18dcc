/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "wbd-battery-reading.h"
#include "wbd-skeleton.h"

/*
 * org.wattbus.Wattbus1.Battery for any driver: the driver fills a WbdBatteryReading in the
 * interface's units and sign (positive power = charging) and publishes it whole; what it
 * leaves NaN is NaN on D-Bus and not in Measured.
 */

void
wbd_battery_reading_init(WbdBatteryReading *reading)
{
	reading->soc = NAN;
	reading->power = NAN;
	reading->capacity = NAN;
	reading->available = NAN;
	reading->reserve = NAN;
	reading->state = WBD_BATTERY_STATE_UNKNOWN;
}

const gchar *
wbd_battery_state_to_string(WbdBatteryState state)
{
	switch (state) {
	case WBD_BATTERY_STATE_CHARGING:
		return "charging";
	case WBD_BATTERY_STATE_DISCHARGING:
		return "discharging";
	case WBD_BATTERY_STATE_IDLE:
		return "idle";
	case WBD_BATTERY_STATE_UNKNOWN:
	default:
		return "unknown";
	}
}

/**
 * wbd_battery_state_from_power:
 * @power: W, positive = charging; NaN gives unknown
 * @idle_below: a power of this magnitude or less (W) is idle
 */
WbdBatteryState
wbd_battery_state_from_power(gdouble power, gdouble idle_below)
{
	if (!isfinite(power))
		return WBD_BATTERY_STATE_UNKNOWN;
	if (power > idle_below)
		return WBD_BATTERY_STATE_CHARGING;
	if (power < -idle_below)
		return WBD_BATTERY_STATE_DISCHARGING;
	return WBD_BATTERY_STATE_IDLE;
}

static void
set_double(WattbusBattery *battery,
	   const gchar *name,
	   gdouble (*getter)(WattbusBattery *),
	   gdouble value,
	   GPtrArray *measured)
{
	gdouble old = getter(battery);
	if (isfinite(value))
		g_ptr_array_add(measured, (gpointer)name);
	/* bit by bit, as the skeleton compares: a NaN that stays NaN is no change */
	if (memcmp(&old, &value, sizeof(value)) != 0)
		wbd_skeleton_set_double(battery, name, value);
}

/**
 * wbd_battery_reading_publish:
 *
 * Publishes a whole battery reading: what is not reported becomes NaN ("unknown" for
 * State), Measured lists the rest. Unchanged values emit nothing.
 */
void
wbd_battery_reading_publish(WattbusBattery *battery, const WbdBatteryReading *reading)
{
	g_autoptr(GPtrArray) measured = g_ptr_array_new();
	const gchar *state = wbd_battery_state_to_string(reading->state);
	const gchar *const *old;

	g_object_freeze_notify(G_OBJECT(battery));
	set_double(battery, "StateOfCharge", wattbus_battery_get_state_of_charge, reading->soc,
		   measured);
	set_double(battery, "Power", wattbus_battery_get_power, reading->power, measured);
	set_double(battery, "Capacity", wattbus_battery_get_capacity, reading->capacity,
		   measured);
	set_double(battery, "AvailableEnergy", wattbus_battery_get_available_energy,
		   reading->available, measured);
	if (reading->state != WBD_BATTERY_STATE_UNKNOWN)
		g_ptr_array_add(measured, "State");
	if (g_strcmp0(wattbus_battery_get_state(battery), state) != 0)
		wattbus_battery_set_state(battery, state);
	set_double(battery, "ReserveLevel", wattbus_battery_get_reserve_level, reading->reserve,
		   measured);
	g_ptr_array_add(measured, NULL);
	old = wattbus_battery_get_measured(battery);
	if (old == NULL || !g_strv_equal(old, (const gchar *const *)measured->pdata))
		wattbus_battery_set_measured(battery, (const gchar *const *)measured->pdata);
	g_object_thaw_notify(G_OBJECT(battery));
}

/**
 * wbd_device_add_battery:
 * @aggregate: whether the object stands for all the batteries of a site
 *
 * Exports org.wattbus.Wattbus1.Battery on @device, every value not reported yet.
 *
 * Returns: (transfer full): the skeleton, for wbd_battery_reading_publish()
 */
WattbusBattery *
wbd_device_add_battery(WbdDevice *device, gboolean aggregate)
{
	WattbusBattery *battery = wattbus_battery_skeleton_new();
	WbdBatteryReading empty;

	wbd_device_add_interface(device, G_DBUS_INTERFACE_SKELETON(battery));
	/* set once it is tracked, so that the exporters see every value once */
	wbd_battery_reading_init(&empty);
	wbd_skeleton_set_double(battery, "StateOfCharge", NAN);
	wbd_skeleton_set_double(battery, "Power", NAN);
	wbd_skeleton_set_double(battery, "Capacity", NAN);
	wbd_skeleton_set_double(battery, "AvailableEnergy", NAN);
	wbd_skeleton_set_double(battery, "ReserveLevel", NAN);
	wattbus_battery_set_aggregate(battery, aggregate);
	wbd_battery_reading_publish(battery, &empty);
	return battery;
}
