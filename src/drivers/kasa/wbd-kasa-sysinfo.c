/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

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
	g_autoptr(WbdKasaSysinfo) info = g_new0(WbdKasaSysinfo, 1);
	const gchar *feature;
	JsonArray *children;
	gdouble relay = 0;

	info->children = g_ptr_array_new_with_free_func((GDestroyNotify)wbd_kasa_child_free);
	info->device_id = dup_string(sysinfo, "deviceId");
	info->alias = dup_string(sysinfo, "alias");
	info->model = dup_string(sysinfo, "model");
	info->hw_ver = dup_string(sysinfo, "hw_ver");
	info->sw_ver = dup_string(sysinfo, "sw_ver");
	info->dev_name = dup_string(sysinfo, "dev_name");
	/* newer firmware says mic_type/mic_mac, older type/mac */
	info->type = dup_string(sysinfo, "mic_type");
	if (info->type == NULL)
		info->type = dup_string(sysinfo, "type");
	info->mac = dup_string(sysinfo, "mac");
	if (info->mac == NULL) {
		const gchar *mic_mac = wbd_json_get_string(sysinfo, "mic_mac");
		if (mic_mac != NULL && strlen(mic_mac) == 12) {
			GString *mac = g_string_new(NULL);
			for (guint i = 0; i < 12; i += 2)
				g_string_append_printf(mac, "%s%.2s", i > 0 ? ":" : "", mic_mac + i);
			info->mac = g_string_free(mac, FALSE);
		}
	}
	feature = wbd_json_get_string(sysinfo, "feature");
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

	info->relay_state = -1;
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

/* bare keys are already in the unit, suffixed ones are milli-units */
static void
read_quantity(JsonObject *obj,
	      const gchar *bare,
	      gdouble bare_scale,
	      const gchar *milli,
	      gdouble milli_scale,
	      WbdMeterReading *reading,
	      WbdQuantity quantity)
{
	gdouble value;
	if (wbd_json_get_number(obj, bare, &value))
		wbd_meter_reading_set(reading, quantity, value * bare_scale);
	else if (wbd_json_get_number(obj, milli, &value))
		wbd_meter_reading_set(reading, quantity, value * milli_scale);
}

/**
 * wbd_kasa_parse_realtime:
 *
 * Normalises `emeter.get_realtime` to SI: both the old float style (W, V, A, kWh) and
 * the new integer style (mW, mV, mA, Wh). A quantity the reply lacks stays unmeasured.
 */
void
wbd_kasa_parse_realtime(JsonObject *realtime, WbdMeterReading *reading)
{
	wbd_meter_reading_init(reading);
	read_quantity(realtime, "power", 1.0, "power_mw", 0.001, reading, WBD_QUANTITY_POWER);
	read_quantity(realtime, "voltage", 1.0, "voltage_mv", 0.001, reading, WBD_QUANTITY_VOLTAGE);
	read_quantity(realtime, "current", 1.0, "current_ma", 0.001, reading, WBD_QUANTITY_CURRENT);
	/* Energy is in Wh: old style "total" is kWh, new style "total_wh" already Wh */
	read_quantity(realtime, "total", 1000.0, "total_wh", 1.0, reading, WBD_QUANTITY_ENERGY);
}

/* a strip's own total: sums of power, current and energy, mean voltage */
void
wbd_kasa_sum_readings(const WbdMeterReading *outlets, guint n_outlets, WbdMeterReading *total)
{
	static const WbdQuantity summed[] = {
	    WBD_QUANTITY_POWER,
	    WBD_QUANTITY_CURRENT,
	    WBD_QUANTITY_ENERGY,
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
