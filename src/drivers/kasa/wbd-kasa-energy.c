/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>

#include "wbd-config.h"
#include "wbd-json.h"
#include "wbd-kasa-energy.h"

/*
 * SMART devices report today's and this month's energy, not a lifetime counter.
 * Energy is made one here: it starts at the month's energy when a device is first seen
 * and grows by each increase of today's energy (a drop is a new day, or a device reset:
 * all of the new count is added). It never goes back. The counters are kept in the
 * state directory (STATE_DIR/kasa-energy.conf, one group per device id), written at
 * most every WBD_KASA_ENERGY_SAVE_S seconds and when a device stops, and read once.
 */

#define WBD_KASA_ENERGY_SAVE_S 60
#define WBD_KASA_ENERGY_MAX_FILE (1024 * 1024)

typedef struct {
	gdouble total;
	gdouble last_today;
} EnergyCounter;

static GHashTable *counters; /* device id → EnergyCounter */
static gboolean dirty;
static guint save_id;

static gchar *
energy_path(void)
{
	const gchar *dir = wbd_config_get_state_dir();
	return dir != NULL ? g_build_filename(dir, WBD_KASA_ENERGY_FILE, NULL) : NULL;
}

static gboolean
read_number(GKeyFile *kf, const gchar *group, const gchar *key, gdouble *value)
{
	g_autoptr(GError) error = NULL;
	*value = g_key_file_get_double(kf, group, key, &error);
	return error == NULL && isfinite(*value) && *value >= 0 && *value < 1e15;
}

static void
energy_load(void)
{
	g_autofree gchar *path = energy_path();
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree gchar *contents = NULL;
	g_auto(GStrv) groups = NULL;
	gsize len = 0;

	counters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	/* a few hundred bytes, once, from the daemon's own state directory */
	if (path == NULL || !g_file_get_contents(path, &contents, &len, NULL))
		return;
	if (len > WBD_KASA_ENERGY_MAX_FILE || !g_key_file_load_from_data(kf, contents, len, G_KEY_FILE_NONE, NULL)) {
		g_warning("%s is not a key file: the energy counters start again", path);
		return;
	}
	groups = g_key_file_get_groups(kf, NULL);
	for (guint i = 0; groups[i] != NULL; i++) {
		EnergyCounter c;
		if (!wbd_config_validate_id(groups[i], NULL) || !read_number(kf, groups[i], "total", &c.total) ||
		    !read_number(kf, groups[i], "last-today", &c.last_today))
			continue;
		g_hash_table_replace(counters, g_strdup(groups[i]), g_memdup2(&c, sizeof(c)));
	}
}

void
wbd_kasa_energy_flush(void)
{
	g_autofree gchar *path = energy_path();
	g_autoptr(GKeyFile) kf = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *data = NULL;
	GHashTableIter iter;
	gpointer key, value;
	gsize len;

	g_clear_handle_id(&save_id, g_source_remove);
	if (!dirty || counters == NULL || path == NULL)
		return;
	kf = g_key_file_new();
	g_hash_table_iter_init(&iter, counters);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		EnergyCounter *c = value;
		g_key_file_set_double(kf, key, "total", c->total);
		g_key_file_set_double(kf, key, "last-today", c->last_today);
	}
	data = g_key_file_to_data(kf, &len, NULL);
	if (g_mkdir_with_parents(wbd_config_get_state_dir(), 0750) != 0)
		g_debug("cannot create %s", wbd_config_get_state_dir());
	if (!g_file_set_contents_full(path, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0640, &error))
		g_warning("cannot keep the energy counters: %s", error->message);
	dirty = FALSE;
}

static gboolean
energy_save_cb(gpointer user_data)
{
	save_id = 0;
	wbd_kasa_energy_flush();
	return G_SOURCE_REMOVE;
}

/* sets Energy of @reading from its EnergyToday (and EnergyThisMonth at first sight) */
void
wbd_kasa_energy_count(WbdDevice *device, WbdMeterReading *reading)
{
	EnergyCounter *c;
	gdouble today, before;

	if (!wbd_meter_reading_has(reading, WBD_QUANTITY_ENERGY_TODAY))
		return;
	if (counters == NULL)
		energy_load();
	today = reading->values[WBD_QUANTITY_ENERGY_TODAY];
	c = g_hash_table_lookup(counters, wbd_device_get_id(device));
	if (c == NULL) {
		c = g_new0(EnergyCounter, 1);
		c->total = wbd_meter_reading_has(reading, WBD_QUANTITY_ENERGY_THIS_MONTH)
			       ? MAX(reading->values[WBD_QUANTITY_ENERGY_THIS_MONTH], today)
			       : today;
		c->last_today = today;
		g_hash_table_insert(counters, g_strdup(wbd_device_get_id(device)), c);
		dirty = TRUE;
	} else {
		before = c->total;
		c->total += today >= c->last_today ? today - c->last_today : today;
		dirty = dirty || c->total != before || c->last_today != today;
		c->last_today = today;
	}
	if (dirty && save_id == 0)
		save_id = g_timeout_add_seconds(WBD_KASA_ENERGY_SAVE_S, energy_save_cb, NULL);
	wbd_meter_reading_set(reading, WBD_QUANTITY_ENERGY, c->total);
}

/**
 * wbd_kasa_stats_find:
 * @result: the result of `emeter.get_daystat` (@list "day_list") or `get_monthstat`
 *   (@list "month_list")
 * @day: the day of the month wanted, 0 for a month's entry
 * @wh: (out): its energy in Wh; 0 when the list has no entry for it (kasa.md §8.2)
 *
 * Searches the list from its end (no order or one entry per day is assumed) for the entry
 * of @year/@month(/@day), its energy in `energy_wh` (Wh) or `energy` (kWh).
 *
 * Returns: %FALSE with @error when the list is missing or an entry's energy is not a
 *   number from 0 to 10⁹ Wh
 */
gboolean
wbd_kasa_stats_find(JsonObject *result,
		    const gchar *list,
		    gint year,
		    gint month,
		    gint day,
		    gdouble *wh,
		    GError **error)
{
	JsonArray *entries = wbd_json_get_array(result, list);

	*wh = 0;
	if (entries == NULL) {
		g_set_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED, "no %s in the reply", list);
		return FALSE;
	}
	for (guint i = json_array_get_length(entries); i-- > 0;) {
		JsonNode *node = json_array_get_element(entries, i);
		JsonObject *entry = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
		gdouble y = 0, m = 0, d = 0, value = 0;

		if (!wbd_json_get_number(entry, "year", &y) || !wbd_json_get_number(entry, "month", &m) ||
		    (day > 0 && !wbd_json_get_number(entry, "day", &d)) || y != year || m != month ||
		    (day > 0 && d != day))
			continue;
		if (wbd_json_get_number(entry, "energy_wh", &value))
			;
		else if (wbd_json_get_number(entry, "energy", &value))
			value *= 1000;
		else
			value = NAN;
		if (!(value >= 0 && value <= 1e9)) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "an entry of %s has no valid energy",
				    list);
			return FALSE;
		}
		*wh = value;
		return TRUE;
	}
	return TRUE;
}
