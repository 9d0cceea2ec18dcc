/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <wattbus-glib.h>

#include "wbd-tuya-codec.h"
#include "wbd-tuya-connection.h"
#include "wbd-tuya-device.h"
#include "wbd-tuya-energy.h"
#include "wbd-tuya-profile.h"

G_BEGIN_DECLS

/*
 * A Tuya device on the local protocol (3.1 to 3.5): one persistent connection, values
 * applied as the device pushes them, a heartbeat (and a re-measure request for plugs;
 * once a plug has acknowledged one, that request alone) on each poll, and a full read
 * now and then. A hub's sub-device (@parent_hub set)
 * shares its hub's connection and reads only the frames that name its @cid.
 * Private to the driver's files: wbd-tuya-device.c, wbd-tuya-device-config.c,
 * wbd-tuya-values.c.
 */
struct _WbdTuyaDevice {
	WbdDevice parent_instance;
	gchar *host;
	guint16 port;
	gchar *device_id;
	guint8 local_key[WBD_TUYA_KEY_SIZE];
	WbdTuyaVersion version; /* UNKNOWN until configured or heard in a broadcast */
	WbdTuyaProfile *profile;
	WbdTuyaConnection *connection; /* a sub-device's is its hub's */
	gchar *cid;		       /* a hub's sub-device: its node_id, else %NULL */
	WattbusTuya *iface_tuya;
	WattbusWaterMeter *iface_water;
	GHashTable *dps; /* DP id → raw value */
	WbdMeterReading reading;
	WbdTuyaEnergy *energy; /* the Energy counter of a device that reports increments */
	GPtrArray *water_measured;
	gboolean device22;
	gint64 last_query;
	gint64 last_reconnect;
	guint reconnect_id;
	GCancellable *cancellable; /* the driver's own work */
};

/* wbd-tuya-device-config.c */
gboolean
wbd_tuya_device_parse_settings(WbdTuyaDevice *self, GHashTable *settings, GError **error);

gboolean
wbd_tuya_device_count_energy(WbdTuyaDevice *self, GVariant *dps, guint cmd, gint64 t);
void
wbd_tuya_device_apply_dps(WbdTuyaDevice *self, GVariant *dps, gboolean meter_changed);

G_END_DECLS
