/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <wattbus-glib.h>

#include "wbd-exporter-filter.h"
#include "wbd-spool.h"

/*
 * Which readings an exporter takes, and when: pure logic, with the clock passed in,
 * so that it can be tested without a main loop.
 *
 *   devices=     globs of device ids (default: every device)
 *   values=      globs of value names (default: every value, see wbd-value.c)
 *   interval=N   every N seconds, the latest values of every device (default 0:
 *                on change)
 *   min-interval=N  on change, but at most once every N seconds per device; what
 *                changes in between is sent, merged, when the N seconds are over
 *   deadband=    a change smaller than this is no change: "5" for every value, or
 *                "Power:5;Voltage:0.5" per name glob
 */

typedef struct {
	gchar *pattern;
	gdouble band;
} Deadband;

typedef struct {
	GHashTable *current; /* name → WbdValue: every selected value, latest */
	GHashTable *sent;    /* name → WbdValue: as last exported, for the deadband */
	GHashTable *held;    /* name → WbdValue: changes waiting for min-interval/report */
	gint64 held_time_us;
	gint64 last_emit_us;   /* 0: never */
	gint64 report_time_us; /* of devices with WBD_EXPORTER_REPORT_TIME_PROPERTY */
	gboolean has_report_time;
} DeviceState;

struct _WbdExporterFilter {
	GStrv devices;
	GStrv values;
	guint interval;
	guint min_interval;
	GArray *deadbands;  /* Deadband */
	GHashTable *states; /* device id → DeviceState */
};

static GHashTable *
values_new(void)
{
	return wbd_values_new();
}

static void
device_state_free(DeviceState *state)
{
	g_hash_table_unref(state->current);
	g_hash_table_unref(state->sent);
	g_clear_pointer(&state->held, g_hash_table_unref);
	g_free(state);
}

void
wbd_exporter_filter_free(WbdExporterFilter *self)
{
	if (self == NULL)
		return;
	g_strfreev(self->devices);
	g_strfreev(self->values);
	for (guint i = 0; self->deadbands != NULL && i < self->deadbands->len; i++)
		g_free(g_array_index(self->deadbands, Deadband, i).pattern);
	g_clear_pointer(&self->deadbands, g_array_unref);
	g_clear_pointer(&self->states, g_hash_table_unref);
	g_free(self);
}

/* "a; b,c" → {"a", "b", "c"}; NULL for an empty list */
static GStrv
split_list(const gchar *value)
{
	g_auto(GStrv) parts = NULL;
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	guint n = 0;

	if (value == NULL)
		return NULL;
	parts = g_strsplit_set(value, ";,", -1);
	for (guint i = 0; parts[i] != NULL; i++) {
		g_strstrip(parts[i]);
		if (parts[i][0] == '\0')
			continue;
		g_strv_builder_add(builder, parts[i]);
		n++;
	}
	return n > 0 ? g_strv_builder_end(builder) : NULL;
}

static gboolean
match_any(GStrv patterns, const gchar *name)
{
	if (patterns == NULL)
		return TRUE;
	for (guint i = 0; patterns[i] != NULL; i++) {
		if (g_pattern_match_simple(patterns[i], name))
			return TRUE;
	}
	return FALSE;
}

static gboolean
parse_seconds(GHashTable *settings, const gchar *key, guint *out, GError **error)
{
	const gchar *value = g_hash_table_lookup(settings, key);
	guint64 v = 0;
	*out = 0;
	if (value == NULL)
		return TRUE;
	if (!g_ascii_string_to_unsigned(value, 10, 0, 86400, &v, NULL)) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "%s must be a whole number of seconds from 0 to 86400",
			    key);
		return FALSE;
	}
	*out = (guint)v;
	return TRUE;
}

static gboolean
parse_number(const gchar *text, gdouble *out)
{
	gchar *end = NULL;
	*out = g_ascii_strtod(text, &end);
	return end != text && *end == '\0' && isfinite(*out) && *out >= 0;
}

static gboolean
parse_deadbands(WbdExporterFilter *self, const gchar *value, GError **error)
{
	g_auto(GStrv) items = split_list(value);
	for (guint i = 0; items != NULL && items[i] != NULL; i++) {
		const gchar *colon = strrchr(items[i], ':');
		Deadband db = {NULL, 0};
		if (colon == NULL) {
			db.pattern = g_strdup("*");
			if (!parse_number(items[i], &db.band))
				goto bad;
		} else {
			db.pattern = g_strstrip(g_strndup(items[i], colon - items[i]));
			if (db.pattern[0] == '\0' || !parse_number(colon + 1, &db.band)) {
				g_free(db.pattern);
				goto bad;
			}
		}
		g_array_append_val(self->deadbands, db);
	}
	return TRUE;
bad:
	g_set_error(error,
		    WATTBUS_ERROR,
		    WATTBUS_ERROR_INVALID_ARGUMENT,
		    "deadband must be a number, or NAME:NUMBER items separated by ';' (e.g. "
		    "Power:5;Voltage:0.5), not '%s'",
		    value);
	return FALSE;
}

/**
 * wbd_exporter_filter_new:
 * @settings: the exporter's settings; devices, values, interval, min-interval and
 *   deadband are read
 *
 * Returns: the filter, or %NULL with a %WATTBUS_ERROR_INVALID_ARGUMENT error
 */
WbdExporterFilter *
wbd_exporter_filter_new(GHashTable *settings, GError **error)
{
	g_autoptr(WbdExporterFilter) self = g_new0(WbdExporterFilter, 1);

	self->deadbands = g_array_new(FALSE, FALSE, sizeof(Deadband));
	self->states = g_hash_table_new_full(g_str_hash,
					     g_str_equal,
					     g_free,
					     (GDestroyNotify)device_state_free);
	self->devices = split_list(g_hash_table_lookup(settings, "devices"));
	self->values = split_list(g_hash_table_lookup(settings, "values"));
	if (!parse_seconds(settings, "interval", &self->interval, error) ||
	    !parse_seconds(settings, "min-interval", &self->min_interval, error) ||
	    !parse_deadbands(self, g_hash_table_lookup(settings, "deadband"), error))
		return NULL;
	if (self->interval > 0 && self->min_interval > 0) {
		g_set_error_literal(
		    error,
		    WATTBUS_ERROR,
		    WATTBUS_ERROR_INVALID_ARGUMENT,
		    "interval (every N seconds) and min-interval (on change, at most "
		    "every N seconds) exclude each other");
		return NULL;
	}
	return g_steal_pointer(&self);
}

gboolean
wbd_exporter_filter_match_device(WbdExporterFilter *self, const gchar *device)
{
	return match_any(self->devices, device);
}

/* seconds between snapshots; 0 when readings are exported on change */
guint
wbd_exporter_filter_get_interval(WbdExporterFilter *self)
{
	return self->interval;
}

/* the filter */

static gdouble
deadband_for(WbdExporterFilter *self, const gchar *name)
{
	for (guint i = 0; i < self->deadbands->len; i++) {
		Deadband *db = &g_array_index(self->deadbands, Deadband, i);
		if (g_pattern_match_simple(db->pattern, name))
			return db->band;
	}
	return 0;
}

static DeviceState *
device_state(WbdExporterFilter *self, const gchar *device)
{
	DeviceState *state = g_hash_table_lookup(self->states, device);
	if (state == NULL) {
		state = g_new0(DeviceState, 1);
		state->current = values_new();
		state->sent = values_new();
		g_hash_table_insert(self->states, g_strdup(device), state);
	}
	return state;
}

static void
merge_into(GHashTable *dest, GHashTable *src)
{
	GHashTableIter iter;
	gpointer value;
	g_hash_table_iter_init(&iter, src);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		wbd_values_set(dest, wbd_value_copy(value));
}

static void
emit(GPtrArray *out, const gchar *device, gint64 time_us, GHashTable *values)
{
	g_autofree gchar *json = NULL;
	if (g_hash_table_size(values) == 0)
		return;
	json = wbd_values_to_json(values);
	g_ptr_array_add(out, wbd_spool_record_new(device, NULL, time_us, json));
}

static void
emit_held(DeviceState *state, const gchar *device, gint64 time_us, gint64 now_us, GPtrArray *out)
{
	g_autoptr(GHashTable) held = g_steal_pointer(&state->held);
	if (held == NULL)
		return;
	merge_into(state->sent, held);
	state->last_emit_us = now_us;
	emit(out, device, time_us, held);
}

/**
 * wbd_exporter_filter_push:
 * @time_us: when the values changed
 * @changes: a{sv}, as WbdDevice::values-changed has it
 * @now_us: the current time
 * @out: (element-type WbdSpoolRecord): receives what is to be exported now
 *
 * Takes one change of one device.
 */
void
wbd_exporter_filter_push(WbdExporterFilter *self,
			 const gchar *device,
			 gint64 time_us,
			 GVariant *changes,
			 gint64 now_us,
			 GPtrArray *out)
{
	g_autoptr(GHashTable) values = NULL;
	g_autoptr(GHashTable) changed = values_new();
	DeviceState *state;
	GHashTableIter iter;
	gpointer name, value;
	guint64 report_us = 0;
	gboolean report;

	if (!match_any(self->devices, device))
		return;
	values = wbd_values_from_variant(changes);
	state = device_state(self, device);
	/* (0, no report yet, is one too: such a device never goes out on change) */
	report = g_variant_lookup(changes, WBD_EXPORTER_REPORT_TIME_PROPERTY, "t", &report_us);
	if (report) {
		state->has_report_time = TRUE;
		time_us = (gint64)MIN(report_us, (guint64)G_MAXINT64);
	}

	g_hash_table_iter_init(&iter, values);
	while (g_hash_table_iter_next(&iter, &name, &value)) {
		const WbdValue *v = value;
		const WbdValue *prev;
		const WbdValue *last;
		gdouble band;

		if (g_strcmp0(name, WBD_EXPORTER_REPORT_TIME_PROPERTY) == 0 ||
		    !match_any(self->values, name))
			continue;
		/* set again to the same value: not a change */
		prev = g_hash_table_lookup(state->current, name);
		if (prev != NULL && wbd_value_equal(prev, v))
			continue;
		wbd_values_set(state->current, wbd_value_copy(v));
		last = g_hash_table_lookup(state->sent, name);
		band = deadband_for(self, name);
		/* only numbers have a deadband */
		if (last != NULL && band > 0 && v->type == WBD_VALUE_NUMBER &&
		    last->type == WBD_VALUE_NUMBER && fabs(v->number - last->number) < band)
			continue;
		wbd_values_set(changed, wbd_value_copy(v));
	}
	/* snapshots only: nothing goes out on change */
	if (self->interval > 0)
		return;

	/* devices with a report time: every value of a new report, with its time */
	if (state->has_report_time) {
		if (report && time_us != state->report_time_us) {
			state->report_time_us = time_us;
			state->held = values_new();
			merge_into(state->held, state->current);
			emit_held(state, device, time_us, now_us, out);
		}
		return;
	}

	if (g_hash_table_size(changed) == 0)
		return;
	if (state->held == NULL)
		state->held = values_new();
	merge_into(state->held, changed);
	state->held_time_us = time_us;
	if (self->min_interval > 0 && state->last_emit_us != 0 &&
	    now_us - state->last_emit_us < (gint64)self->min_interval * G_USEC_PER_SEC)
		return;
	emit_held(state, device, time_us, now_us, out);
}

/* min-interval: sends what was held back and is due by @now_us */
void
wbd_exporter_filter_tick(WbdExporterFilter *self, gint64 now_us, GPtrArray *out)
{
	GHashTableIter iter;
	const gchar *device;
	DeviceState *state;
	g_autoptr(GList) due = NULL;

	g_hash_table_iter_init(&iter, self->states);
	while (g_hash_table_iter_next(&iter, (gpointer *)&device, (gpointer *)&state)) {
		if (state->held == NULL || state->has_report_time)
			continue;
		if (now_us - state->last_emit_us >= (gint64)self->min_interval * G_USEC_PER_SEC)
			due = g_list_prepend(due, (gpointer)device);
	}
	/* oldest change first, so that the order of the spool follows time */
	due = g_list_sort(due, (GCompareFunc)g_strcmp0);
	for (GList *l = due; l != NULL; l = l->next) {
		state = g_hash_table_lookup(self->states, l->data);
		emit_held(state, l->data, state->held_time_us, now_us, out);
	}
}

/* when wbd_exporter_filter_tick() has something to do; G_MAXINT64 for never */
gint64
wbd_exporter_filter_get_next_deadline(WbdExporterFilter *self)
{
	GHashTableIter iter;
	DeviceState *state;
	gint64 next = G_MAXINT64;

	g_hash_table_iter_init(&iter, self->states);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&state)) {
		if (state->held != NULL && !state->has_report_time)
			next =
			    MIN(next,
				state->last_emit_us + (gint64)self->min_interval * G_USEC_PER_SEC);
	}
	return next;
}

/* interval: the latest values of every device, stamped @now_us */
void
wbd_exporter_filter_snapshot(WbdExporterFilter *self, gint64 now_us, GPtrArray *out)
{
	g_autoptr(GList) devices =
	    g_list_sort(g_hash_table_get_keys(self->states), (GCompareFunc)g_strcmp0);
	for (GList *l = devices; l != NULL; l = l->next) {
		DeviceState *state = g_hash_table_lookup(self->states, l->data);
		emit(out, l->data, now_us, state->current);
		merge_into(state->sent, state->current);
		state->last_emit_us = now_us;
	}
}

/* a removed device: what was held back of it goes out now */
void
wbd_exporter_filter_forget_device(WbdExporterFilter *self,
				  const gchar *device,
				  gint64 now_us,
				  GPtrArray *out)
{
	DeviceState *state = g_hash_table_lookup(self->states, device);
	if (state == NULL)
		return;
	/* (a report-time device's held values wait for a report that will not come) */
	if (self->interval == 0 && !state->has_report_time)
		emit_held(state, device, state->held_time_us, now_us, out);
	g_hash_table_remove(self->states, device);
}
