/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "wbd-envoy-data.h"
#include "wbd-envoy-ensemble.h"
#include "wbd-envoy-json.h"

/*
 * Batteries and grid state of an Enphase site (shared/specs/envoy-batteries.md): the
 * "Ensemble" endpoints for IQ Batteries (Encharge), IQ System Controller (Enpower) and
 * IQ Meter Collar, /production.json and /inventory.json?deleted=1 for AC Batteries.
 * Every value is converted to org.wattbus.Wattbus1.Battery's convention: power positive
 * while charging. The gateway reports the other way round (Ensemble power and ACB wNow:
 * negative = charging, positive = discharging, §2.3, §2.7).
 */

/* below this (W, either way) a battery is idle rather than charging or discharging */
#define WBD_ENVOY_BATTERY_IDLE_W 10.0
/* inventory groups in one reply */
#define WBD_ENVOY_MAX_GROUPS 16

void
wbd_envoy_battery_free(WbdEnvoyBattery *battery)
{
	if (battery == NULL)
		return;
	g_free(battery->serial);
	g_free(battery->part_number);
	g_free(battery->firmware);
	g_free(battery);
}

/* a short printable string of the device, or NULL */
static gchar *
dup_text(JsonNode *node, const gchar *key)
{
	const gchar *text = wbd_envoy_json_string(node, key);
	if (text == NULL || text[0] == '\0' || strlen(text) > 64 || !g_utf8_validate(text, -1, NULL))
		return NULL;
	return g_strdup(text);
}

/* a percentage from 0 to 100, else NaN */
static gdouble
get_percent(JsonNode *node, const gchar *key)
{
	gdouble v;
	if (!wbd_envoy_json_number(node, key, &v) || v < 0 || v > 100)
		return NAN;
	return v;
}

/* a count of Wh from 0 up, else NaN */
static gdouble
get_energy(JsonNode *node, const gchar *key)
{
	gdouble v;
	if (!wbd_envoy_json_number(node, key, &v) || v < 0)
		return NAN;
	return v;
}

static WbdBatteryState
state_from_string(const gchar *state)
{
	if (g_strcmp0(state, "charging") == 0)
		return WBD_BATTERY_STATE_CHARGING;
	if (g_strcmp0(state, "discharging") == 0)
		return WBD_BATTERY_STATE_DISCHARGING;
	if (g_strcmp0(state, "idle") == 0 || g_strcmp0(state, "full") == 0)
		return WBD_BATTERY_STATE_IDLE;
	return WBD_BATTERY_STATE_UNKNOWN;
}

/* Encharge led_status (pyenphase issue #46): 12 charging, 13 discharging, 14 idle */
static WbdBatteryState
state_from_led(JsonNode *node)
{
	gdouble led;
	if (!wbd_envoy_json_number(node, "led_status", &led))
		return WBD_BATTERY_STATE_UNKNOWN;
	if (led == 12)
		return WBD_BATTERY_STATE_CHARGING;
	if (led == 13)
		return WBD_BATTERY_STATE_DISCHARGING;
	if (led == 14)
		return WBD_BATTERY_STATE_IDLE;
	return WBD_BATTERY_STATE_UNKNOWN;
}

static WbdEnvoyBattery *
battery_new(JsonNode *device, gboolean acb)
{
	const gchar *serial = wbd_envoy_json_string(device, "serial_num");
	WbdEnvoyBattery *battery;

	if (!wbd_envoy_serial_is_valid(serial))
		return NULL;
	battery = g_new0(WbdEnvoyBattery, 1);
	battery->serial = g_strdup(serial);
	battery->part_number = dup_text(device, "part_num");
	battery->firmware = dup_text(device, "img_pnum_running");
	battery->acb = acb;
	wbd_battery_reading_init(&battery->reading);
	battery->reading.soc = get_percent(device, "percentFull");
	return battery;
}

/* on-grid ⇔ the relay is closed (envoy-batteries.md §5); never Enpwr_grid_mode */
static const gchar *
grid_from_enpower(JsonNode *enpower)
{
	const gchar *oper = wbd_envoy_json_string(enpower, "mains_oper_state");
	if (g_strcmp0(oper, "closed") == 0)
		return "on-grid";
	if (g_strcmp0(oper, "open") == 0)
		return "off-grid";
	return WBD_ENVOY_GRID_UNKNOWN;
}

static const gchar *
grid_from_collar(JsonNode *collar)
{
	const gchar *state = wbd_envoy_json_string(collar, "grid_state");
	if (g_strcmp0(state, "on_grid") == 0)
		return "on-grid";
	if (g_strcmp0(state, "off_grid") == 0)
		return "off-grid";
	return WBD_ENVOY_GRID_UNKNOWN;
}

/**
 * wbd_envoy_parse_ensemble_inventory:
 * @root: the reply of /ivp/ensemble/inventory
 * @batteries: (out) (transfer full) (element-type WbdEnvoyBattery): the IQ Batteries
 * @grid_state: (out) (transfer none): "on-grid", "off-grid" or "unknown": from the
 *   IQ System Controller's relay, else the Meter Collar, else unknown
 *
 * Returns: %FALSE when @root is not an inventory (`{"error": …}` of old firmware): the
 *   site has no Ensemble devices. `[]` is an inventory without any.
 */
gboolean
wbd_envoy_parse_ensemble_inventory(JsonNode *root, GPtrArray **batteries, const gchar **grid_state)
{
	const gchar *from_enpower = NULL;
	const gchar *from_collar = NULL;
	guint groups;

	*batteries = g_ptr_array_new_with_free_func((GDestroyNotify)wbd_envoy_battery_free);
	*grid_state = WBD_ENVOY_GRID_UNKNOWN;
	if (root == NULL || !JSON_NODE_HOLDS_ARRAY(root))
		return FALSE;
	groups = MIN(wbd_envoy_json_length(root), WBD_ENVOY_MAX_GROUPS);
	for (guint g = 0; g < groups; g++) {
		JsonNode *group = wbd_envoy_json_element(root, g);
		const gchar *type = wbd_envoy_json_string(group, "type");
		JsonNode *devices = wbd_envoy_json_member(group, "devices");
		guint n = MIN(wbd_envoy_json_length(devices), WBD_ENVOY_MAX_BATTERIES);

		for (guint i = 0; i < n; i++) {
			JsonNode *device = wbd_envoy_json_element(devices, i);
			if (g_strcmp0(type, "ENCHARGE") == 0 &&
			    (*batteries)->len < WBD_ENVOY_MAX_BATTERIES) {
				WbdEnvoyBattery *battery = battery_new(device, FALSE);
				if (battery == NULL)
					continue;
				battery->reading.capacity = get_energy(device, "encharge_capacity");
				battery->reading.state = state_from_led(device);
				g_ptr_array_add(*batteries, battery);
			} else if (g_strcmp0(type, "ENPOWER") == 0 && from_enpower == NULL) {
				from_enpower = grid_from_enpower(device);
			} else if (g_strcmp0(type, "COLLAR") == 0 && from_collar == NULL) {
				from_collar = grid_from_collar(device);
			}
		}
	}
	if (from_enpower != NULL)
		*grid_state = from_enpower;
	else if (from_collar != NULL)
		*grid_state = from_collar;
	return TRUE;
}

static WbdEnvoyBattery *
find_battery(GPtrArray *batteries, const gchar *serial)
{
	for (guint i = 0; serial != NULL && i < batteries->len; i++) {
		WbdEnvoyBattery *battery = g_ptr_array_index(batteries, i);
		if (g_str_equal(battery->serial, serial))
			return battery;
	}
	return NULL;
}

/**
 * wbd_envoy_parse_ensemble_power:
 * @root: the reply of /ivp/ensemble/power: `{"devices:": [...]}`, the key with a colon
 * @batteries: the IQ Batteries of the inventory, whose power this fills in (joined by
 *   serial number; the inventory's state of charge is kept where it has one)
 */
void
wbd_envoy_parse_ensemble_power(JsonNode *root, GPtrArray *batteries)
{
	JsonNode *devices = wbd_envoy_json_member(root, "devices:");
	guint n = MIN(wbd_envoy_json_length(devices), WBD_ENVOY_MAX_BATTERIES);

	for (guint i = 0; i < n; i++) {
		JsonNode *device = wbd_envoy_json_element(devices, i);
		WbdEnvoyBattery *battery =
		    find_battery(batteries, wbd_envoy_json_string(device, "serial_num"));
		gdouble mw;

		if (battery == NULL)
			continue;
		/* milliwatts, negative while charging (§2.3) */
		if (wbd_envoy_json_number(device, "real_power_mw", &mw) && fabs(mw) < 1e9) {
			battery->reading.power = -mw / 1000.0;
			battery->reading.state = wbd_battery_state_from_power(
			    battery->reading.power, WBD_ENVOY_BATTERY_IDLE_W);
		}
		if (!isfinite(battery->reading.soc))
			battery->reading.soc = get_percent(device, "soc");
	}
}

/**
 * wbd_envoy_parse_secctrl:
 * @root: the reply of /ivp/ensemble/secctrl
 *
 * Returns: %TRUE when @root has the aggregates (every member NaN otherwise)
 */
gboolean
wbd_envoy_parse_secctrl(JsonNode *root, WbdEnvoySecctrl *secctrl)
{
	secctrl->agg_soc = get_percent(root, "agg_soc");
	secctrl->max_energy = get_energy(root, "Max_energy");
	secctrl->enc_soc = get_percent(root, "ENC_agg_soc");
	secctrl->enc_available = get_energy(root, "ENC_agg_avail_energy");
	secctrl->enc_capacity = get_energy(root, "Enc_max_available_capacity");
	secctrl->acb_soc = get_percent(root, "ACB_agg_soc");
	secctrl->acb_energy = get_energy(root, "ACB_agg_energy");
	/* the reserve in force; the configured one where the adjusted one is missing */
	secctrl->reserve = get_percent(root, "adjusted_backup_soc");
	if (!isfinite(secctrl->reserve))
		secctrl->reserve = get_percent(root, "configured_backup_soc");
	return isfinite(secctrl->agg_soc) || isfinite(secctrl->max_energy) ||
	       isfinite(secctrl->enc_soc);
}

/**
 * wbd_envoy_parse_acb_storage:
 * @production: the reply of /production.json
 *
 * The AC Batteries' aggregate: used only when `activeCount` > 0 and `percentFull` is
 * there (§2.7; most gateways carry an empty `acb` entry).
 *
 * Returns: %TRUE when the site has AC Batteries
 */
gboolean
wbd_envoy_parse_acb_storage(JsonNode *production, WbdEnvoyAcb *acb)
{
	JsonNode *storage = wbd_envoy_json_member(production, "storage");
	guint n = MIN(wbd_envoy_json_length(storage), 8);

	acb->count = 0;
	wbd_battery_reading_init(&acb->reading);
	for (guint i = 0; i < n; i++) {
		JsonNode *entry = wbd_envoy_json_element(storage, i);
		gdouble count, watts;

		if (g_strcmp0(wbd_envoy_json_string(entry, "type"), "acb") != 0)
			continue;
		if (!wbd_envoy_json_number(entry, "activeCount", &count) || count < 1 ||
		    count > WBD_ENVOY_MAX_BATTERIES)
			return FALSE;
		acb->reading.soc = get_percent(entry, "percentFull");
		if (!isfinite(acb->reading.soc))
			return FALSE;
		acb->count = (guint)count;
		/* wNow: positive while discharging (§2.7) */
		if (wbd_envoy_json_number(entry, "wNow", &watts) && fabs(watts) < 1e6)
			acb->reading.power = -watts;
		acb->reading.available = get_energy(entry, "whNow");
		acb->reading.state = state_from_string(wbd_envoy_json_string(entry, "state"));
		return TRUE;
	}
	return FALSE;
}

/**
 * wbd_envoy_parse_acb_inventory:
 * @root: the reply of /inventory.json?deleted=1
 *
 * The AC Batteries one by one (`type` `ACB`; `admin_state` 0 is a decommissioned one).
 * Their power is not in this reply: it stays NaN.
 *
 * Returns: (transfer full) (element-type WbdEnvoyBattery): the batteries
 */
GPtrArray *
wbd_envoy_parse_acb_inventory(JsonNode *root)
{
	GPtrArray *batteries = g_ptr_array_new_with_free_func((GDestroyNotify)wbd_envoy_battery_free);
	guint groups = MIN(wbd_envoy_json_length(root), WBD_ENVOY_MAX_GROUPS);

	for (guint g = 0; g < groups; g++) {
		JsonNode *group = wbd_envoy_json_element(root, g);
		JsonNode *devices = wbd_envoy_json_member(group, "devices");
		guint n = MIN(wbd_envoy_json_length(devices), WBD_ENVOY_MAX_BATTERIES);

		if (g_strcmp0(wbd_envoy_json_string(group, "type"), "ACB") != 0)
			continue;
		for (guint i = 0; i < n && batteries->len < WBD_ENVOY_MAX_BATTERIES; i++) {
			JsonNode *device = wbd_envoy_json_element(devices, i);
			WbdEnvoyBattery *battery;
			gdouble admin;

			if (wbd_envoy_json_number(device, "admin_state", &admin) && admin == 0)
				continue;
			battery = battery_new(device, TRUE);
			if (battery == NULL)
				continue;
			battery->reading.capacity = WBD_ENVOY_ACB_CAPACITY_WH;
			battery->reading.state =
			    state_from_string(wbd_envoy_json_string(device, "charge_status"));
			g_ptr_array_add(batteries, battery);
		}
	}
	return batteries;
}

static gdouble
sum_power(GPtrArray *batteries)
{
	gdouble sum = 0;
	for (guint i = 0; i < batteries->len; i++) {
		WbdEnvoyBattery *battery = g_ptr_array_index(batteries, i);
		if (!isfinite(battery->reading.power))
			return NAN;
		sum += battery->reading.power;
	}
	return sum;
}

/**
 * wbd_envoy_batteries_aggregate:
 * @encharge: the IQ Batteries with their power
 * @secctrl: (nullable): the Ensemble aggregates
 * @acb: (nullable): the AC Batteries' aggregate
 *
 * All the batteries of the site as one, from the gateway's own aggregates
 * (envoy-batteries.md §3): IQ Batteries alone from the ENC_ values of secctrl; AC
 * Batteries alone from production.json; both together from secctrl's agg_soc and
 * Max_energy, the stored energies added. The power is the sum of the batteries' (the
 * gateway has no aggregate power).
 */
void
wbd_envoy_batteries_aggregate(GPtrArray *encharge,
			      const WbdEnvoySecctrl *secctrl,
			      const WbdEnvoyAcb *acb,
			      WbdBatteryReading *reading)
{
	gboolean has_enc = encharge != NULL && encharge->len > 0;
	gboolean has_acb = acb != NULL && acb->count > 0;
	WbdEnvoySecctrl none = {NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};

	wbd_battery_reading_init(reading);
	if (secctrl == NULL)
		secctrl = &none;
	if (has_enc && has_acb) {
		reading->soc = secctrl->agg_soc;
		reading->capacity = secctrl->max_energy;
		reading->available = secctrl->enc_available + acb->reading.available;
		reading->power = sum_power(encharge) + acb->reading.power;
	} else if (has_enc) {
		reading->soc = secctrl->enc_soc;
		reading->capacity = secctrl->enc_capacity;
		reading->available = secctrl->enc_available;
		reading->power = sum_power(encharge);
	} else if (has_acb) {
		reading->soc = acb->reading.soc;
		reading->available = acb->reading.available;
		reading->power = acb->reading.power;
		reading->capacity = isfinite(secctrl->max_energy) && secctrl->max_energy > 0
					? secctrl->max_energy
					: WBD_ENVOY_ACB_CAPACITY_WH * acb->count;
		reading->state = acb->reading.state;
	} else {
		return;
	}
	reading->reserve = secctrl->reserve;
	if (reading->state == WBD_BATTERY_STATE_UNKNOWN)
		reading->state =
		    wbd_battery_state_from_power(reading->power, WBD_ENVOY_BATTERY_IDLE_W);
}
