/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "wbd-envoy-child.h"
#include "wbd-envoy-meters.h"

/*
 * The meter children of a gateway (spec envoy.md §2, §4.5; envoy-batteries.md
 * §2.8): one per CT the gateway uses, the consumption it computes from a
 * consumption CT, or the inverters' sum when it has no CT. The gateway polls;
 * this table creates the children and publishes what was read, live values from
 * /stream/meter included.
 */

static void
wbd_envoy_meter_free(WbdEnvoyMeter *meter)
{
	g_free(meter->measurement);
	wbd_envoy_ct_free(meter->ct);
	g_clear_object(&meter->child);
	g_free(meter);
}

GPtrArray *
wbd_envoy_meters_new(void)
{
	return g_ptr_array_new_with_free_func((GDestroyNotify)wbd_envoy_meter_free);
}

static const gchar *
measurement_name(const gchar *measurement)
{
	if (g_strcmp0(measurement, "production") == 0)
		return "Production";
	if (g_strcmp0(measurement, "net-consumption") == 0)
		return "Net consumption";
	if (g_strcmp0(measurement, "total-consumption") == 0)
		return "Total consumption";
	if (g_strcmp0(measurement, "storage") == 0)
		return "Storage";
	if (g_strcmp0(measurement, "backfeed") == 0)
		return "Backfeed";
	return "Load";
}

static void
wbd_envoy_meters_add(GPtrArray *meters,
		     WbdDevice *gateway,
		     const gchar *measurement,
		     WbdEnvoyMeterSource source,
		     const WbdEnvoyCt *ct)
{
	WbdEnvoyMeter *meter = g_new0(WbdEnvoyMeter, 1);
	g_autofree gchar *id = g_strdup_printf("%s_%s", wbd_device_get_id(gateway), measurement);

	meter->measurement = g_strdup(measurement);
	meter->source = source;
	if (ct != NULL) {
		meter->ct = g_new0(WbdEnvoyCt, 1);
		*meter->ct = *ct;
		meter->ct->measurement = g_strdup(ct->measurement);
	}
	wbd_meter_reading_init(&meter->polled);
	wbd_meter_reading_init(&meter->live);
	meter->child = wbd_envoy_child_new(gateway, id);
	wbd_device_set_kind(meter->child, "meter");
	wbd_device_set_device_name(meter->child,
				   source == WBD_ENVOY_METER_INVERTERS
				       ? "Production (inverters)"
				       : measurement_name(measurement));
	wbd_device_set_model(meter->child,
			     source == WBD_ENVOY_METER_CT    ? "CT"
			     : source == WBD_ENVOY_METER_EIM ? "computed by the gateway"
							     : "sum of the microinverters");
	if (ct != NULL) {
		g_autofree gchar *eid = g_strdup_printf("%" G_GINT64_FORMAT, ct->eid);
		wbd_device_set_serial_number(meter->child, eid);
	}
	wbd_device_set_capabilities(meter->child, WBD_DEVICE_CAP_ELECTRICITY_METER);
	wbd_device_set_measurement(meter->child, measurement);
	g_ptr_array_add(meters, meter);
	wbd_device_add_child(gateway, meter->child);
}

WbdEnvoyMeter *
wbd_envoy_meters_find(GPtrArray *meters, const gchar *measurement)
{
	for (guint i = 0; i < meters->len; i++) {
		WbdEnvoyMeter *meter = g_ptr_array_index(meters, i);
		if (g_strcmp0(meter->measurement, measurement) == 0)
			return meter;
	}
	return NULL;
}

static const WbdEnvoyCt *
find_enabled_ct(GPtrArray *cts, const gchar *measurement)
{
	for (guint i = 0; i < cts->len; i++) {
		WbdEnvoyCt *ct = g_ptr_array_index(cts, i);
		if (ct->enabled && g_strcmp0(ct->measurement, measurement) == 0)
			return ct;
	}
	return NULL;
}

/**
 * wbd_envoy_meters_set_cts:
 * @meters: the table, emptied first (the caller removes the gateway's old
 * children)
 *
 * The meters follow from the enabled CTs (spec §2, §4.5): each is a meter, and
 * the gateway computes the consumption type that has no CT from the one that
 * has. Without any CT, the production is the microinverters' sum.
 *
 * Returns: whether any CT is in use
 */
gboolean
wbd_envoy_meters_set_cts(GPtrArray *meters, WbdDevice *gateway, GPtrArray *cts)
{
	static const gchar *order[] = {
	    "production", "net-consumption", "total-consumption", "storage", "backfeed", "load"};
	const WbdEnvoyCt *net = find_enabled_ct(cts, "net-consumption");
	const WbdEnvoyCt *total = find_enabled_ct(cts, "total-consumption");
	gboolean any = FALSE;

	g_ptr_array_set_size(meters, 0);
	for (guint i = 0; i < G_N_ELEMENTS(order); i++) {
		const WbdEnvoyCt *ct = find_enabled_ct(cts, order[i]);
		if (ct != NULL) {
			wbd_envoy_meters_add(meters, gateway, order[i], WBD_ENVOY_METER_CT, ct);
			any = TRUE;
		} else if ((g_strcmp0(order[i], "total-consumption") == 0 && net != NULL) ||
			   (g_strcmp0(order[i], "net-consumption") == 0 && total != NULL)) {
			wbd_envoy_meters_add(meters, gateway, order[i], WBD_ENVOY_METER_EIM, NULL);
		}
	}
	if (!any)
		wbd_envoy_meters_add(
		    meters, gateway, "production", WBD_ENVOY_METER_INVERTERS, NULL);
	return any;
}

gboolean
wbd_envoy_meters_has_source(GPtrArray *meters, WbdEnvoyMeterSource source)
{
	for (guint i = 0; i < meters->len; i++) {
		WbdEnvoyMeter *meter = g_ptr_array_index(meters, i);
		if (meter->source == source)
			return TRUE;
	}
	return FALSE;
}

/* the stream's instantaneous values while it is live, the polled energies
 * always */
void
wbd_envoy_meter_publish(WbdEnvoyMeter *meter, gboolean live_fresh)
{
	static const WbdQuantity counters[] = {WBD_QUANTITY_ENERGY, WBD_QUANTITY_ENERGY_EXPORTED};
	WbdMeterReading reading = meter->polled;
	if (meter->has_live && live_fresh) {
		reading = meter->live;
		for (guint i = 0; i < G_N_ELEMENTS(counters); i++) {
			if (wbd_meter_reading_has(&meter->polled, counters[i]))
				wbd_meter_reading_set(
				    &reading, counters[i], meter->polled.values[counters[i]]);
		}
	}
	wbd_device_set_meter_reading(meter->child, &reading);
}

void
wbd_envoy_meters_apply_event(GPtrArray *meters,
			     const WbdEnvoyStreamEvent *event,
			     guint phases,
			     gboolean live_fresh)
{
	for (guint m = 0; m < WBD_ENVOY_STREAM_LAST; m++) {
		WbdEnvoyMeter *meter =
		    wbd_envoy_meters_find(meters, wbd_envoy_stream_meter_to_string(m));
		if (meter == NULL || meter->source == WBD_ENVOY_METER_INVERTERS)
			continue;
		wbd_envoy_stream_event_get_reading(event, m, phases, &meter->live);
		meter->has_live = meter->live.measured != 0;
		wbd_envoy_meter_publish(meter, live_fresh);
	}
}
