/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-kasa-codec.h"
#include "wbd-kasa-sysinfo.h"

static void
wbd_kasa_child_free(WbdKasaChild *child)
{
	g_free(child->id);
	g_free(child->alias);
	g_free(child);
}

void
wbd_kasa_sysinfo_free(WbdKasaSysinfo *info)
{
	if (info == NULL)
		return;
	g_free(info->device_id);
	g_free(info->alias);
	g_free(info->model);
	g_free(info->hw_ver);
	g_free(info->sw_ver);
	g_free(info->mac);
	g_free(info->type);
	g_free(info->dev_name);
	g_clear_pointer(&info->children, g_ptr_array_unref);
	g_free(info);
}

/* the names of the WbdKasaSysinfoString members, as sysinfo spells them */
const gchar *const wbd_kasa_sysinfo_strings[WBD_KASA_SYSINFO_N_STRINGS] = {
    [WBD_KASA_SYSINFO_DEVICE_ID] = "deviceId",
    [WBD_KASA_SYSINFO_ALIAS] = "alias",
    [WBD_KASA_SYSINFO_MODEL] = "model",
    [WBD_KASA_SYSINFO_HW_VER] = "hw_ver",
    [WBD_KASA_SYSINFO_SW_VER] = "sw_ver",
    [WBD_KASA_SYSINFO_DEV_NAME] = "dev_name",
    [WBD_KASA_SYSINFO_MIC_TYPE] = "mic_type",
    [WBD_KASA_SYSINFO_TYPE] = "type",
    [WBD_KASA_SYSINFO_MAC] = "mac",
    [WBD_KASA_SYSINFO_MIC_MAC] = "mic_mac",
    [WBD_KASA_SYSINFO_FEATURE] = "feature",
};

/**
 * wbd_kasa_sysinfo_new:
 * @strings: (transfer full): the string members of a sysinfo, %NULL where it has none
 *   (or one of another type), indexed by #WbdKasaSysinfoString; all are taken
 *
 * The identity part of wbd_kasa_sysinfo_parse(), shared with the poll reply's scanner:
 * the sysinfo with no relay state and no children yet.
 *
 * Returns: (transfer full): the sysinfo, or %NULL when it is not one a plug, switch or
 *   strip would send
 */
WbdKasaSysinfo *
wbd_kasa_sysinfo_new(gchar *strings[WBD_KASA_SYSINFO_N_STRINGS], GError **error)
{
	g_autoptr(WbdKasaSysinfo) info = g_new0(WbdKasaSysinfo, 1);
	g_autofree gchar *mic_type = g_steal_pointer(&strings[WBD_KASA_SYSINFO_MIC_TYPE]);
	g_autofree gchar *type = g_steal_pointer(&strings[WBD_KASA_SYSINFO_TYPE]);
	g_autofree gchar *mic_mac = g_steal_pointer(&strings[WBD_KASA_SYSINFO_MIC_MAC]);
	g_autofree gchar *feature = g_steal_pointer(&strings[WBD_KASA_SYSINFO_FEATURE]);

	info->children = g_ptr_array_new_with_free_func((GDestroyNotify)wbd_kasa_child_free);
	info->relay_state = -1;
	info->device_id = g_steal_pointer(&strings[WBD_KASA_SYSINFO_DEVICE_ID]);
	info->alias = g_steal_pointer(&strings[WBD_KASA_SYSINFO_ALIAS]);
	info->model = g_steal_pointer(&strings[WBD_KASA_SYSINFO_MODEL]);
	info->hw_ver = g_steal_pointer(&strings[WBD_KASA_SYSINFO_HW_VER]);
	info->sw_ver = g_steal_pointer(&strings[WBD_KASA_SYSINFO_SW_VER]);
	info->dev_name = g_steal_pointer(&strings[WBD_KASA_SYSINFO_DEV_NAME]);
	/* newer firmware says mic_type/mic_mac, older type/mac */
	info->type = mic_type != NULL ? g_steal_pointer(&mic_type) : g_steal_pointer(&type);
	info->mac = g_steal_pointer(&strings[WBD_KASA_SYSINFO_MAC]);
	if (info->mac == NULL && mic_mac != NULL && strlen(mic_mac) == 12) {
		GString *mac = g_string_new(NULL);
		for (guint i = 0; i < 12; i += 2)
			g_string_append_printf(mac, "%s%.2s", i > 0 ? ":" : "", mic_mac + i);
		info->mac = g_string_free(mac, FALSE);
	}
	if (feature != NULL) {
		g_auto(GStrv) features = g_strsplit(feature, ":", -1);
		info->has_emeter = g_strv_contains((const gchar *const *)features, "ENE");
	}

	if (info->device_id == NULL || info->model == NULL) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "Bad reply from the device: the system information has no "
				    "deviceId or model");
		return NULL;
	}
	if (info->type != NULL && g_strstr_len(info->type, -1, "SMARTPLUGSWITCH") == NULL) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_NOT_SUPPORTED,
			    "This is a %s, not a Kasa plug, switch or strip",
			    g_utf8_validate(info->type, -1, NULL) ? info->type : "different device");
		return NULL;
	}
	return g_steal_pointer(&info);
}

static gchar *
dup_string(JsonObject *obj, const gchar *key)
{
	return g_strdup(wbd_json_get_string(obj, key));
}

/**
 * wbd_kasa_sysinfo_parse:
 *
 * Returns: (transfer full): the sysinfo, or %NULL when it is not one a plug, switch or
 *   strip would send
 */
WbdKasaSysinfo *
wbd_kasa_sysinfo_parse(JsonObject *sysinfo, GError **error)
{
	g_autoptr(WbdKasaSysinfo) info = NULL;
	gchar *strings[WBD_KASA_SYSINFO_N_STRINGS];
	JsonArray *children;
	gdouble relay = 0;

	for (guint i = 0; i < WBD_KASA_SYSINFO_N_STRINGS; i++)
		strings[i] = dup_string(sysinfo, wbd_kasa_sysinfo_strings[i]);
	info = wbd_kasa_sysinfo_new(strings, error);
	if (info == NULL)
		return NULL;

	children = wbd_json_get_array(sysinfo, "children");
	if (children != NULL && json_array_get_length(children) > 0) {
		guint n = json_array_get_length(children);
		if (n > WBD_KASA_MAX_CHILDREN) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "Bad reply from the device: %u outlets",
				    n);
			return NULL;
		}
		for (guint i = 0; i < n; i++) {
			JsonNode *node = json_array_get_element(children, i);
			JsonObject *obj = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
			const gchar *id = wbd_json_get_string(obj, "id");
			gdouble state = 0;
			WbdKasaChild *child;

			if (id == NULL || id[0] == '\0' || !wbd_json_get_number(obj, "state", &state)) {
				g_set_error(error,
					    WATTBUS_ERROR,
					    WATTBUS_ERROR_FAILED,
					    "Bad reply from the device: outlet %u has no id or state",
					    i + 1);
				return NULL;
			}
			child = g_new0(WbdKasaChild, 1);
			/* over UDP strips send only the last two digits of the id */
			if (strlen(id) <= 2)
				child->id = g_strconcat(info->device_id, id, NULL);
			else
				child->id = g_strdup(id);
			child->alias = dup_string(obj, "alias");
			child->on = state != 0;
			g_ptr_array_add(info->children, child);
		}
	} else if (wbd_json_get_number(sysinfo, "relay_state", &relay)) {
		info->relay_state = relay != 0 ? 1 : 0;
	} else {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "Bad reply from the device: neither relay_state nor children");
		return NULL;
	}
	return g_steal_pointer(&info);
}

const gchar *
wbd_kasa_sysinfo_get_kind(const WbdKasaSysinfo *info)
{
	return info->children->len > 0 ? "strip" : "outlet";
}

/* the names of the WbdKasaRealtimeKey members, as emeter.get_realtime spells them */
const gchar *const wbd_kasa_realtime_keys[WBD_KASA_REALTIME_N_KEYS] = {
    [WBD_KASA_REALTIME_POWER] = "power",
    [WBD_KASA_REALTIME_POWER_MW] = "power_mw",
    [WBD_KASA_REALTIME_VOLTAGE] = "voltage",
    [WBD_KASA_REALTIME_VOLTAGE_MV] = "voltage_mv",
    [WBD_KASA_REALTIME_CURRENT] = "current",
    [WBD_KASA_REALTIME_CURRENT_MA] = "current_ma",
    [WBD_KASA_REALTIME_TOTAL] = "total",
    [WBD_KASA_REALTIME_TOTAL_WH] = "total_wh",
};

/* bare keys are already in the unit, suffixed ones are milli-units */
static void
read_quantity(const WbdKasaRealtime *realtime,
	      WbdKasaRealtimeKey bare,
	      gdouble bare_scale,
	      WbdKasaRealtimeKey milli,
	      gdouble milli_scale,
	      WbdMeterReading *reading,
	      WbdQuantity quantity)
{
	if (realtime->present & (1u << bare))
		wbd_meter_reading_set(reading, quantity, realtime->values[bare] * bare_scale);
	else if (realtime->present & (1u << milli))
		wbd_meter_reading_set(reading, quantity, realtime->values[milli] * milli_scale);
}

/**
 * wbd_kasa_realtime_to_reading:
 *
 * Normalises the numbers of `emeter.get_realtime` to SI: both the old float style (W, V,
 * A, kWh) and the new integer style (mW, mV, mA, Wh). A quantity the reply lacks stays
 * unmeasured.
 */
void
wbd_kasa_realtime_to_reading(const WbdKasaRealtime *realtime, WbdMeterReading *reading)
{
	wbd_meter_reading_init(reading);
	read_quantity(realtime,
		      WBD_KASA_REALTIME_POWER,
		      1.0,
		      WBD_KASA_REALTIME_POWER_MW,
		      0.001,
		      reading,
		      WBD_QUANTITY_POWER);
	read_quantity(realtime,
		      WBD_KASA_REALTIME_VOLTAGE,
		      1.0,
		      WBD_KASA_REALTIME_VOLTAGE_MV,
		      0.001,
		      reading,
		      WBD_QUANTITY_VOLTAGE);
	read_quantity(realtime,
		      WBD_KASA_REALTIME_CURRENT,
		      1.0,
		      WBD_KASA_REALTIME_CURRENT_MA,
		      0.001,
		      reading,
		      WBD_QUANTITY_CURRENT);
	/* Energy is in Wh: old style "total" is kWh, new style "total_wh" already Wh */
	read_quantity(realtime,
		      WBD_KASA_REALTIME_TOTAL,
		      1000.0,
		      WBD_KASA_REALTIME_TOTAL_WH,
		      1.0,
		      reading,
		      WBD_QUANTITY_ENERGY);
}

/**
 * wbd_kasa_parse_realtime:
 *
 * wbd_kasa_realtime_to_reading() of the numbers in a `emeter.get_realtime` result.
 */
void
wbd_kasa_parse_realtime(JsonObject *realtime, WbdMeterReading *reading)
{
	WbdKasaRealtime values = {0};
	for (guint i = 0; i < WBD_KASA_REALTIME_N_KEYS; i++) {
		if (wbd_json_get_number(realtime, wbd_kasa_realtime_keys[i], &values.values[i]))
			values.present |= 1u << i;
	}
	wbd_kasa_realtime_to_reading(&values, reading);
}

/* a strip's own total: sums of power, current and energy, mean voltage */
void
wbd_kasa_sum_readings(const WbdMeterReading *outlets, guint n_outlets, WbdMeterReading *total)
{
	static const WbdQuantity summed[] = {
	    WBD_QUANTITY_POWER,
	    WBD_QUANTITY_CURRENT,
	    WBD_QUANTITY_ENERGY,
	    WBD_QUANTITY_ENERGY_TODAY,
	    WBD_QUANTITY_ENERGY_THIS_MONTH,
	};
	wbd_meter_reading_init(total);
	if (n_outlets == 0)
		return;
	for (guint q = 0; q < G_N_ELEMENTS(summed); q++) {
		gdouble sum = 0;
		gboolean all = TRUE;
		for (guint i = 0; i < n_outlets; i++) {
			if (!wbd_meter_reading_has(&outlets[i], summed[q])) {
				all = FALSE;
				break;
			}
			sum += outlets[i].values[summed[q]];
		}
		if (all)
			wbd_meter_reading_set(total, summed[q], sum);
	}
	{
		gdouble sum = 0;
		guint n = 0;
		for (guint i = 0; i < n_outlets; i++) {
			if (wbd_meter_reading_has(&outlets[i], WBD_QUANTITY_VOLTAGE)) {
				sum += outlets[i].values[WBD_QUANTITY_VOLTAGE];
				n++;
			}
		}
		if (n > 0)
			wbd_meter_reading_set(total, WBD_QUANTITY_VOLTAGE, sum / n);
	}
}
