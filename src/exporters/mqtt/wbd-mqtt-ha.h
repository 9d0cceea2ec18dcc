/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Home Assistant MQTT discovery of the `mqtt` kind */

/**
 * WbdMqttDeviceInfo:
 * What Home Assistant discovery describes of a device.
 */
typedef struct {
	const gchar *id;
	const gchar *name;
	const gchar *vendor;
	const gchar *model;
	const gchar *serial;
	const gchar *firmware;
	gboolean outlet;
	gboolean water_meter;
	gboolean valve;
	const gchar *const *measured; /* ElectricityMeter Measured, or NULL */
	const gchar *const *battery;  /* Battery Measured, or NULL: not a battery */
	gboolean gateway;	      /* has org.wattbus.Wattbus1.Gateway (GridState) */
} WbdMqttDeviceInfo;

GPtrArray *
wbd_mqtt_ha_discovery(const gchar *prefix,
		      const gchar *discovery_prefix,
		      const WbdMqttDeviceInfo *info);

G_END_DECLS
