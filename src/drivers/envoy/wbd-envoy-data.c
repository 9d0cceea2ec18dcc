/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "wbd-envoy-data.h"
#include "wbd-envoy-json.h"

/*
 * Pure mappers from what a gateway sends (docs: shared/specs/envoy.md §4, §5, §7) to
 * meter readings and inverter reports. Nothing here trusts the input: every value is
 * type-checked, and what is missing stays unmeasured (NaN), never zero.
 */

typedef struct {
	const gchar *key;
	WbdQuantity quantity;
} KeyMap;

/* /ivp/meters/readings and its channels[] */
static const KeyMap ct_keys[] = {
    {"activePower", WBD_QUANTITY_POWER},
    {"reactivePower", WBD_QUANTITY_REACTIVE_POWER},
    {"apparentPower", WBD_QUANTITY_APPARENT_POWER},
    {"voltage", WBD_QUANTITY_VOLTAGE},
    {"current", WBD_QUANTITY_CURRENT},
    {"pwrFactor", WBD_QUANTITY_POWER_FACTOR},
    {"freq", WBD_QUANTITY_FREQUENCY},
};

/* an "eim" entry of /production.json and its lines[] */
static const KeyMap eim_keys[] = {
    {"wNow", WBD_QUANTITY_POWER},
    {"reactPwr", WBD_QUANTITY_REACTIVE_POWER},
    {"apprntPwr", WBD_QUANTITY_APPARENT_POWER},
    {"rmsVoltage", WBD_QUANTITY_VOLTAGE},
    {"rmsCurrent", WBD_QUANTITY_CURRENT},
    {"pwrFactor", WBD_QUANTITY_POWER_FACTOR},
};

static const gchar *stream_meters[WBD_ENVOY_STREAM_LAST] = {
    "production",
    "net-consumption",
    "total-consumption",
};

static const gchar *stream_phases[WBD_METER_MAX_PHASES] = {"ph-a", "ph-b", "ph-c"};

static const gchar *stream_fields[WBD_ENVOY_FIELD_LAST] = {"p", "q", "s", "v", "i", "pf", "f"};

/* what a stream field is, per phase; frequency is kept for the total only */
static const WbdQuantity stream_quantities[WBD_ENVOY_FIELD_LAST] = {
    WBD_QUANTITY_POWER,
    WBD_QUANTITY_REACTIVE_POWER,
    WBD_QUANTITY_APPARENT_POWER,
    WBD_QUANTITY_VOLTAGE,
    WBD_QUANTITY_CURRENT,
    WBD_QUANTITY_POWER_FACTOR,
    WBD_QUANTITY_FREQUENCY,
};

const gchar *
wbd_envoy_stream_meter_to_string(WbdEnvoyStreamMeter meter)
{
	g_return_val_if_fail(meter < WBD_ENVOY_STREAM_LAST, NULL);
	return stream_meters[meter];
}

void
wbd_envoy_ct_free(WbdEnvoyCt *ct)
{
	if (ct == NULL)
		return;
	g_free(ct->measurement);
	g_free(ct);
}

void
wbd_envoy_inverter_report_free(WbdEnvoyInverterReport *report)
{
	if (report == NULL)
		return;
	g_free(report->serial);
	g_free(report);
}

/* the gateway sums voltage and power factor over the phases: we give their mean */
static gboolean
quantity_is_mean(WbdQuantity quantity)
{
	return quantity == WBD_QUANTITY_VOLTAGE || quantity == WBD_QUANTITY_POWER_FACTOR;
}

/*
 * Fills @reading from one entry: the totals from @entry, and with @phases > 1 the
 * first @phases elements of @lines, for each quantity that every one of them has.
 */
static void
fill_reading(JsonNode *entry,
	     JsonNode *lines,
	     const KeyMap *keys,
	     guint n_keys,
	     guint phases,
	     WbdMeterReading *reading)
{
	for (guint k = 0; k < n_keys; k++) {
		gdouble v;
		if (!wbd_envoy_json_number(entry, keys[k].key, &v))
			continue;
		if (phases > 1 && quantity_is_mean(keys[k].quantity))
			v /= phases;
		wbd_meter_reading_set(reading, keys[k].quantity, v);
	}
	if (phases < 2 || wbd_envoy_json_length(lines) < phases)
		return;
	for (guint k = 0; k < n_keys; k++) {
		WbdQuantity q = keys[k].quantity;
		gdouble values[WBD_METER_MAX_PHASES];
		gboolean all = TRUE;
		if (q == WBD_QUANTITY_FREQUENCY || q == WBD_QUANTITY_ENERGY)
			continue;
		for (guint p = 0; p < phases && all; p++)
			all = wbd_envoy_json_number(
			    wbd_envoy_json_element(lines, p), keys[k].key, &values[p]);
		if (!all)
			continue;
		for (guint p = 0; p < phases; p++)
			reading->phase[q][p] = values[p];
		reading->phase_measured |= 1u << q;
		reading->n_phases = phases;
	}
}

static guint
clamp_phases(guint phases)
{
	return CLAMP(phases, 1, WBD_METER_MAX_PHASES);
}

/**
 * wbd_envoy_parse_cts:
 * @root: the reply of /ivp/meters
 *
 * Returns: (transfer full) (element-type WbdEnvoyCt): every CT slot the gateway lists,
 *   enabled or not; empty for a gateway without meters
 */
GPtrArray *
wbd_envoy_parse_cts(JsonNode *root)
{
	GPtrArray *cts = g_ptr_array_new_with_free_func((GDestroyNotify)wbd_envoy_ct_free);
	guint n = MIN(wbd_envoy_json_length(root), WBD_ENVOY_MAX_CTS);

	for (guint i = 0; i < n; i++) {
		JsonNode *entry = wbd_envoy_json_element(root, i);
		const gchar *type = wbd_envoy_json_string(entry, "measurementType");
		const gchar *state = wbd_envoy_json_string(entry, "state");
		gdouble eid = 0;
		gdouble phases = 1;
		WbdEnvoyCt *ct;

		if (type == NULL || type[0] == '\0' || strlen(type) > 32 ||
		    !wbd_envoy_json_number(entry, "eid", &eid) || eid < 0 || eid > 1e15 ||
		    eid != floor(eid))
			continue;
		if (!wbd_envoy_json_number(entry, "phaseCount", &phases) || phases < 1)
			phases = 1;
		ct = g_new0(WbdEnvoyCt, 1);
		ct->eid = (gint64)eid;
		ct->measurement = g_utf8_make_valid(type, -1);
		ct->enabled = g_strcmp0(state, "enabled") == 0;
		ct->phases = clamp_phases((guint)MIN(phases, 3));
		g_ptr_array_add(cts, ct);
	}
	return cts;
}

/* spec §4.5 and §7.8: the phase count of the site is the largest of the enabled CTs */
guint
wbd_envoy_cts_get_phases(GPtrArray *cts)
{
	guint phases = 1;
	for (guint i = 0; cts != NULL && i < cts->len; i++) {
		WbdEnvoyCt *ct = g_ptr_array_index(cts, i);
		if (ct->enabled)
			phases = MAX(phases, ct->phases);
	}
	return phases;
}

/* bidirectional meters count import minus export (discharge minus charge) */
/*
 * CTs that measure both ways (envoy-batteries.md §2.8): Energy is the forward counter
 * (actEnergyDlvd: imported from the grid, discharged from the battery, fed back from the
 * combiner) and EnergyExported the other (actEnergyRcvd: exported, charged); both are
 * monotonic lifetime counters
 */
static gboolean
measurement_is_bidirectional(const gchar *measurement)
{
	return g_strcmp0(measurement, "net-consumption") == 0 ||
	       g_strcmp0(measurement, "storage") == 0 || g_strcmp0(measurement, "backfeed") == 0;
}

/**
 * wbd_envoy_parse_ct_reading:
 * @readings: the reply of /ivp/meters/readings
 * @ct: the CT to read, found by its eid (never by position)
 * @phases: the phase count of the site
 *
 * Returns: %TRUE when @readings has an entry for @ct
 */
gboolean
wbd_envoy_parse_ct_reading(JsonNode *readings,
			   const WbdEnvoyCt *ct,
			   guint phases,
			   WbdMeterReading *reading)
{
	guint n = MIN(wbd_envoy_json_length(readings), 64);

	wbd_meter_reading_init(reading);
	phases = clamp_phases(phases);
	for (guint i = 0; i < n; i++) {
		JsonNode *entry = wbd_envoy_json_element(readings, i);
		gdouble eid, delivered, received;

		if (!wbd_envoy_json_number(entry, "eid", &eid) || eid != (gdouble)ct->eid)
			continue;
		fill_reading(entry,
			     wbd_envoy_json_member(entry, "channels"),
			     ct_keys,
			     G_N_ELEMENTS(ct_keys),
			     phases,
			     reading);
		if (wbd_envoy_json_number(entry, "actEnergyDlvd", &delivered))
			wbd_meter_reading_set(reading, WBD_QUANTITY_ENERGY, delivered);
		if (measurement_is_bidirectional(ct->measurement) &&
		    wbd_envoy_json_number(entry, "actEnergyRcvd", &received))
			wbd_meter_reading_set(reading, WBD_QUANTITY_ENERGY_EXPORTED, received);
		return TRUE;
	}
	return FALSE;
}

/* an entry of production.json's "production" or "consumption" list */
static JsonNode *
find_production_entry(JsonNode *production, const gchar *type, const gchar *measurement)
{
	static const gchar *lists[] = {"production", "consumption"};
	for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
		JsonNode *list = wbd_envoy_json_member(production, lists[l]);
		guint n = MIN(wbd_envoy_json_length(list), 16);
		for (guint i = 0; i < n; i++) {
			JsonNode *entry = wbd_envoy_json_element(list, i);
			if (g_strcmp0(wbd_envoy_json_string(entry, "type"), type) != 0)
				continue;
			if (measurement != NULL &&
			    g_strcmp0(wbd_envoy_json_string(entry, "measurementType"),
				      measurement) != 0)
				continue;
			return entry;
		}
	}
	return NULL;
}

/**
 * wbd_envoy_parse_eim:
 * @production: the reply of /production.json (?details=1)
 * @measurement: the measurementType of the entry
 *
 * Returns: %TRUE when the gateway has a working entry for @measurement: one with
 *   activeCount ≥ 1; the numbers of the others are junk (spec §7.1)
 */
gboolean
wbd_envoy_parse_eim(JsonNode *production,
		    const gchar *measurement,
		    guint phases,
		    WbdMeterReading *reading)
{
	JsonNode *entry = find_production_entry(production, "eim", measurement);
	gdouble active = 0;
	gdouble energy;

	wbd_meter_reading_init(reading);
	if (entry == NULL || !wbd_envoy_json_number(entry, "activeCount", &active) || active < 1)
		return FALSE;
	fill_reading(entry,
		     wbd_envoy_json_member(entry, "lines"),
		     eim_keys,
		     G_N_ELEMENTS(eim_keys),
		     clamp_phases(phases),
		     reading);
	if (wbd_envoy_json_number(entry, "whLifetime", &energy))
		wbd_meter_reading_set(reading, WBD_QUANTITY_ENERGY, energy);
	return TRUE;
}

/**
 * wbd_envoy_parse_inverters_total:
 * @production: the reply of /production.json
 *
 * The sum over the microinverters, which every JSON firmware has: power and lifetime
 * energy, nothing else.
 *
 * Returns: %TRUE when @production has an "inverters" entry with either value
 */
gboolean
wbd_envoy_parse_inverters_total(JsonNode *production, WbdMeterReading *reading)
{
	JsonNode *entry = find_production_entry(production, "inverters", NULL);
	gdouble v;

	wbd_meter_reading_init(reading);
	if (wbd_envoy_json_number(entry, "wNow", &v))
		wbd_meter_reading_set(reading, WBD_QUANTITY_POWER, v);
	if (wbd_envoy_json_number(entry, "whLifetime", &v))
		wbd_meter_reading_set(reading, WBD_QUANTITY_ENERGY, v);
	return reading->measured != 0;
}

/**
 * wbd_envoy_parse_v1_production:
 * @root: the reply of /api/v1/production
 * @broken: (out): whether this is the broken reply of spec §7.2: every energy value 0
 *   while the power is not
 *
 * The day's energy (wattHoursToday) is kept: this is the inverters' sum of a gateway
 * without CTs, not the metered whToday that envoy.md §7.6 finds unreliable.
 *
 * Returns: %TRUE when @root has the power or the lifetime energy
 */
gboolean
wbd_envoy_parse_v1_production(JsonNode *root, WbdMeterReading *reading, gboolean *broken)
{
	static const gchar *energy_keys[] = {
	    "wattHoursToday", "wattHoursSevenDays", "wattHoursLifetime"};
	gboolean all_zero = TRUE;
	gdouble watts = 0;
	gdouble v;

	wbd_meter_reading_init(reading);
	*broken = FALSE;
	if (wbd_envoy_json_number(root, "wattsNow", &watts))
		wbd_meter_reading_set(reading, WBD_QUANTITY_POWER, watts);
	if (wbd_envoy_json_number(root, "wattHoursLifetime", &v))
		wbd_meter_reading_set(reading, WBD_QUANTITY_ENERGY, v);
	/* the inverters' own day count; only this source's is trusted (envoy.md §7.6) */
	if (wbd_envoy_json_number(root, "wattHoursToday", &v))
		wbd_meter_reading_set(reading, WBD_QUANTITY_ENERGY_TODAY, v);
	for (guint i = 0; i < G_N_ELEMENTS(energy_keys); i++) {
		if (!wbd_envoy_json_number(root, energy_keys[i], &v) || v != 0)
			all_zero = FALSE;
	}
	*broken = all_zero && wbd_meter_reading_has(reading, WBD_QUANTITY_POWER) && watts != 0;
	return reading->measured != 0;
}

/* a serial number we accept: 1 to 32 letters and digits */
gboolean
wbd_envoy_serial_is_valid(const gchar *serial)
{
	gsize len = serial != NULL ? strlen(serial) : 0;
	if (len == 0 || len > 32)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isalnum(serial[i]))
			return FALSE;
	}
	return TRUE;
}

/**
 * wbd_envoy_parse_inverters:
 * @root: the reply of /api/v1/production/inverters
 *
 * Returns: (transfer full) (element-type WbdEnvoyInverterReport): the microinverters
 *   (devType 1, or no devType on old firmware) with a complete report, each serial once
 */
GPtrArray *
wbd_envoy_parse_inverters(JsonNode *root)
{
	GPtrArray *reports =
	    g_ptr_array_new_with_free_func((GDestroyNotify)wbd_envoy_inverter_report_free);
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	guint n = wbd_envoy_json_length(root);

	for (guint i = 0; i < n && reports->len < WBD_ENVOY_MAX_INVERTERS; i++) {
		JsonNode *entry = wbd_envoy_json_element(root, i);
		const gchar *serial = wbd_envoy_json_string(entry, "serialNumber");
		gdouble dev_type, date, watts, max_watts;
		WbdEnvoyInverterReport *report;

		if (wbd_envoy_json_member(entry, "devType") != NULL &&
		    (!wbd_envoy_json_number(entry, "devType", &dev_type) || dev_type != 1))
			continue;
		if (!wbd_envoy_serial_is_valid(serial) || g_hash_table_contains(seen, serial) ||
		    !wbd_envoy_json_number(entry, "lastReportDate", &date) ||
		    !wbd_envoy_json_number(entry, "lastReportWatts", &watts) ||
		    !wbd_envoy_json_number(entry, "maxReportWatts", &max_watts) || date < 0 ||
		    date > 1e11)
			continue;
		report = g_new0(WbdEnvoyInverterReport, 1);
		report->serial = g_strdup(serial);
		report->last_report = (gint64)date;
		report->watts = watts;
		report->max_watts = max_watts;
		g_hash_table_add(seen, report->serial);
		g_ptr_array_add(reports, report);
	}
	return reports;
}

/**
 * wbd_envoy_parse_stream_event:
 * @json: the payload of one `data:` line of /stream/meter
 *
 * Returns: %TRUE when the event has at least one complete measurement
 */
gboolean
wbd_envoy_parse_stream_event(const gchar *json, gsize len, WbdEnvoyStreamEvent *event)
{
	g_autoptr(JsonNode) root = wbd_envoy_json_parse(json, len, NULL);
	gboolean any = FALSE;

	memset(event, 0, sizeof(*event));
	if (root == NULL)
		return FALSE;
	for (guint m = 0; m < WBD_ENVOY_STREAM_LAST; m++) {
		JsonNode *meter = wbd_envoy_json_member(root, stream_meters[m]);
		gboolean complete = meter != NULL;
		for (guint p = 0; p < WBD_METER_MAX_PHASES && complete; p++) {
			JsonNode *phase = wbd_envoy_json_member(meter, stream_phases[p]);
			for (guint f = 0; f < WBD_ENVOY_FIELD_LAST && complete; f++)
				complete = wbd_envoy_json_number(
				    phase, stream_fields[f], &event->values[m][p][f]);
		}
		event->present[m] = complete;
		any |= complete;
	}
	return any;
}

/**
 * wbd_envoy_stream_event_get_reading:
 * @phases: the phase count of the site: 1 uses ph-a alone
 *
 * The reading of one measurement of an event. With several phases, power, reactive
 * and apparent power and current are summed, voltage and power factor averaged, the
 * frequency is that of ph-a. An event carries no energy.
 */
void
wbd_envoy_stream_event_get_reading(const WbdEnvoyStreamEvent *event,
				   WbdEnvoyStreamMeter meter,
				   guint phases,
				   WbdMeterReading *reading)
{
	wbd_meter_reading_init(reading);
	g_return_if_fail(meter < WBD_ENVOY_STREAM_LAST);
	if (!event->present[meter])
		return;
	phases = clamp_phases(phases);
	for (guint f = 0; f < WBD_ENVOY_FIELD_LAST; f++) {
		WbdQuantity q = stream_quantities[f];
		gdouble total = 0;
		if (q == WBD_QUANTITY_FREQUENCY || phases == 1) {
			wbd_meter_reading_set(reading, q, event->values[meter][0][f]);
			continue;
		}
		for (guint p = 0; p < phases; p++) {
			reading->phase[q][p] = event->values[meter][p][f];
			total += event->values[meter][p][f];
		}
		reading->phase_measured |= 1u << q;
		wbd_meter_reading_set(reading, q, quantity_is_mean(q) ? total / phases : total);
	}
	if (phases > 1)
		reading->n_phases = phases;
}
