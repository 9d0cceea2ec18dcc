/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>

#include "wbd-exporter-filter.h"
#include "wbd-sse-model.h"

/*
 * What the dashboard shows: every device's current values (as the device model has
 * them: D-Bus property name to value) and the energy flow of the site, computed from
 * the ElectricityMeter values of the meters by their Measurement:
 *
 *   production   the sum of the Power of the `production` meters; 0 when the site
 *                has no production meter
 *   consumption  the sum of the `total-consumption` meters; without one,
 *                production + the sum of the `net-consumption` meters
 *   net          the sum of the `net-consumption` meters (positive: importing);
 *                without one, consumption - production
 *
 * A quantity is unknown (null in JSON) when a meter it needs is offline or has no
 * Power yet, or when the site has no meter to compute it from. `load` meters (plugs,
 * outlets) and `storage` meters are devices of their own, not part of the sums: the
 * loads are already inside the consumption, and a battery is neither.
 *
 * The batteries (devices with org.wattbus.Wattbus1.Battery, known by StateOfCharge) give
 *
 *   battery      the sum of their Power: positive while charging, negative while
 *                discharging (the Battery interface's sign)
 *   soc          their state of charge; of several, the mean weighted by Capacity (a
 *                plain mean where a Capacity is missing)
 *
 * counting the aggregates (Aggregate true: a gateway's all-batteries object) where there
 * are any, else every battery, so that no battery counts twice. Both are left out of the
 * event on a site without batteries.
 */

typedef struct {
	gchar *label;
	gchar *kind;   /* the Device's Kind, or NULL */
	gchar *parent; /* the parent's id, or NULL */
	gboolean info_told; /* a change event carried the kind: the next ones need not */
	gint64 time_us;
	GHashTable *values; /* D-Bus property name → GVariant */
} Device;

struct _WbdSseModel {
	GHashTable *devices; /* id → Device */
};

static void
device_free(Device *device)
{
	g_free(device->label);
	g_free(device->kind);
	g_free(device->parent);
	g_hash_table_unref(device->values);
	g_free(device);
}

WbdSseModel *
wbd_sse_model_new(void)
{
	WbdSseModel *self = g_new0(WbdSseModel, 1);
	self->devices =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)device_free);
	return self;
}

void
wbd_sse_model_free(WbdSseModel *self)
{
	if (self == NULL)
		return;
	g_hash_table_unref(self->devices);
	g_free(self);
}

/* JSON */

static void
append_string(GString *json, const gchar *str)
{
	g_autoptr(JsonNode) node = json_node_init_string(json_node_alloc(), str);
	g_autofree gchar *text = json_to_string(node, FALSE);
	g_string_append(json, text);
}

/* NaN (not measured) is null in a change, and left out of a whole device */
static gboolean
append_number(GString *json, gdouble value, gboolean nan_as_null)
{
	g_autofree gchar *text = NULL;
	if (!isfinite(value)) {
		if (!nan_as_null)
			return FALSE;
		g_string_append(json, "null");
		return TRUE;
	}
	text = wbd_exporter_format_double(value);
	g_string_append(json, text);
	return TRUE;
}

/* FALSE: a type the dashboard has no use for, or NaN left out */
static gboolean
append_value(GString *json, GVariant *value, gboolean nan_as_null)
{
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN)) {
		g_string_append(json, g_variant_get_boolean(value) ? "true" : "false");
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE)) {
		return append_number(json, g_variant_get_double(value), nan_as_null);
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_BYTE)) {
		g_string_append_printf(json, "%u", g_variant_get_byte(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT16)) {
		g_string_append_printf(json, "%d", g_variant_get_int16(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT16)) {
		g_string_append_printf(json, "%u", g_variant_get_uint16(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT32)) {
		g_string_append_printf(json, "%d", g_variant_get_int32(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32)) {
		g_string_append_printf(json, "%u", g_variant_get_uint32(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT64)) {
		g_string_append_printf(json, "%" G_GINT64_FORMAT, g_variant_get_int64(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64)) {
		/* the `t` properties of the device interfaces are times, µs since the epoch:
		 * ISO 8601; 0 (never) as not measured */
		guint64 us = g_variant_get_uint64(value);
		g_autofree gchar *text =
		    us > 0 && us <= G_MAXINT64 ? wbd_value_format_time((gint64)us) : NULL;
		if (text == NULL) {
			if (!nan_as_null)
				return FALSE;
			g_string_append(json, "null");
		} else {
			append_string(json, text);
		}
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
		append_string(json, g_variant_get_string(value, NULL));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING_ARRAY)) {
		g_autofree const gchar **items = g_variant_get_strv(value, NULL);
		g_string_append_c(json, '[');
		for (guint i = 0; items[i] != NULL; i++) {
			if (i > 0)
				g_string_append_c(json, ',');
			append_string(json, items[i]);
		}
		g_string_append_c(json, ']');
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE("ad"))) {
		gsize n = 0;
		const gdouble *items = g_variant_get_fixed_array(value, &n, sizeof(gdouble));
		g_string_append_c(json, '[');
		for (gsize i = 0; i < n; i++) {
			if (i > 0)
				g_string_append_c(json, ',');
			append_number(json, items[i], TRUE);
		}
		g_string_append_c(json, ']');
	} else {
		return FALSE;
	}
	return TRUE;
}

/* {"id":…,"name":…,"kind":…,"parent":…,"time":µs,"values":{…}}, names sorted; kind and
 * parent (null: a device of its own) once known, in the whole state and in the first
 * change that has them: they never change while the device exists */
static gchar *
device_to_json(const gchar *id, Device *device, GHashTable *values, gboolean nan_as_null)
{
	g_autoptr(GList) names =
	    g_list_sort(g_hash_table_get_keys(values), (GCompareFunc)g_strcmp0);
	GString *json = g_string_new("{\"id\":");
	gboolean first = TRUE;
	g_autofree gchar *time = NULL;

	append_string(json, id);
	g_string_append(json, ",\"name\":");
	append_string(json, device->label);
	if (device->kind != NULL && (!nan_as_null || !device->info_told)) {
		/* a change (nan_as_null) tells it once the kind is there */
		if (nan_as_null && device->kind[0] != '\0')
			device->info_told = TRUE;
		g_string_append(json, ",\"kind\":");
		append_string(json, device->kind);
		g_string_append(json, ",\"parent\":");
		if (device->parent != NULL)
			append_string(json, device->parent);
		else
			g_string_append(json, "null");
	}
	time = wbd_value_format_time(device->time_us);
	g_string_append(json, ",\"time\":");
	append_string(json, time != NULL ? time : "");
	g_string_append(json, ",\"values\":{");
	for (GList *l = names; l != NULL; l = l->next) {
		gsize mark = json->len;
		if (!first)
			g_string_append_c(json, ',');
		append_string(json, l->data);
		g_string_append_c(json, ':');
		if (!append_value(json, g_hash_table_lookup(values, l->data), nan_as_null)) {
			g_string_truncate(json, mark);
			continue;
		}
		first = FALSE;
	}
	g_string_append(json, "}}");
	return g_string_free(json, FALSE);
}

static Device *
model_lookup_or_add(WbdSseModel *self, const gchar *device)
{
	Device *dev = g_hash_table_lookup(self->devices, device);
	if (dev == NULL) {
		dev = g_new0(Device, 1);
		dev->values = g_hash_table_new_full(g_str_hash,
						    g_str_equal,
						    g_free,
						    (GDestroyNotify)g_variant_unref);
		g_hash_table_insert(self->devices, g_strdup(device), dev);
	}
	return dev;
}

/**
 * wbd_sse_model_needs_device_info:
 *
 * Returns: whether @device's kind is not known yet (a new device, or one that has not
 *   answered yet: its Kind is empty until then)
 */
gboolean
wbd_sse_model_needs_device_info(WbdSseModel *self, const gchar *device)
{
	Device *dev = g_hash_table_lookup(self->devices, device);
	return dev == NULL || dev->kind == NULL || dev->kind[0] == '\0';
}

/* Returns: (transfer container): the ids of the devices whose kind is not known yet */
GPtrArray *
wbd_sse_model_dup_unknown_kinds(WbdSseModel *self)
{
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter iter;
	gpointer id;
	Device *dev;
	g_hash_table_iter_init(&iter, self->devices);
	while (g_hash_table_iter_next(&iter, &id, (gpointer *)&dev)) {
		if (dev->kind == NULL || dev->kind[0] == '\0')
			g_ptr_array_add(ids, g_strdup(id));
	}
	return ids;
}

/**
 * wbd_sse_model_set_device_info:
 * @kind: the device's Kind (`plug`, `strip`, `outlet`, `gateway`, `meter`, `inverter`…)
 * @parent: (nullable): the id of the device it is part of, %NULL for none
 *
 * What does not change while a device exists and the page needs to group devices: in
 * the next `device` event of it, and in every whole state.
 */
void
wbd_sse_model_set_device_info(WbdSseModel *self,
			      const gchar *device,
			      const gchar *kind,
			      const gchar *parent)
{
	Device *dev = model_lookup_or_add(self, device);
	g_free(dev->kind);
	dev->kind = g_strdup(kind != NULL ? kind : "");
	g_free(dev->parent);
	dev->parent = g_strdup(parent);
	dev->info_told = FALSE;
}

/**
 * wbd_sse_model_update:
 * @label: the device's name now
 * @values: a{sv} of D-Bus property name to new value; %NULL: the device is gone
 *
 * Returns: (transfer full): the JSON of the `device` event that tells the change:
 *   the changed values, NaN as null; `{"id":…,"removed":true}` for a device that is
 *   gone; %NULL when there is nothing to tell
 */
gchar *
wbd_sse_model_update(WbdSseModel *self,
		     const gchar *device,
		     const gchar *label,
		     gint64 time_us,
		     GVariant *values)
{
	Device *dev = g_hash_table_lookup(self->devices, device);
	g_autoptr(GHashTable) changed = NULL;
	GVariantIter iter;
	gchar *name;
	GVariant *value;

	if (values == NULL) {
		GString *json;
		if (!g_hash_table_remove(self->devices, device))
			return NULL;
		json = g_string_new("{\"id\":");
		append_string(json, device);
		g_string_append(json, ",\"removed\":true}");
		return g_string_free(json, FALSE);
	}
	dev = model_lookup_or_add(self, device);
	g_free(dev->label);
	dev->label = g_strdup(label != NULL ? label : device);
	dev->time_us = time_us;
	changed = g_hash_table_new_full(g_str_hash,
					g_str_equal,
					g_free,
					(GDestroyNotify)g_variant_unref);
	g_variant_iter_init(&iter, values);
	while (g_variant_iter_next(&iter, "{sv}", &name, &value)) {
		g_hash_table_replace(dev->values, g_strdup(name), g_variant_ref(value));
		g_hash_table_replace(changed, name, value);
	}
	if (g_hash_table_size(changed) == 0)
		return NULL;
	return device_to_json(device, dev, changed, TRUE);
}

/* Returns: (transfer full) (element-type utf8): the JSON of a `device` event for every
 * device, with all its values (NaN left out), sorted by id */
GPtrArray *
wbd_sse_model_snapshot(WbdSseModel *self)
{
	g_autoptr(GList) ids =
	    g_list_sort(g_hash_table_get_keys(self->devices), (GCompareFunc)g_strcmp0);
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	for (GList *l = ids; l != NULL; l = l->next) {
		Device *dev = g_hash_table_lookup(self->devices, l->data);
		g_ptr_array_add(out, device_to_json(l->data, dev, dev->values, FALSE));
	}
	return out;
}

/* energy */

typedef struct {
	gboolean exists; /* the site has such a meter */
	gboolean unknown; /* one of them is offline or without Power */
	gdouble sum;
} Sum;

static gdouble
sum_value(const Sum *sum)
{
	return sum->unknown ? NAN : sum->sum;
}

static void
sum_add(Sum *sum, Device *dev)
{
	GVariant *online = g_hash_table_lookup(dev->values, "Online");
	GVariant *power = g_hash_table_lookup(dev->values, "Power");

	sum->exists = TRUE;
	if (online == NULL || !g_variant_is_of_type(online, G_VARIANT_TYPE_BOOLEAN) ||
	    !g_variant_get_boolean(online) || power == NULL ||
	    !g_variant_is_of_type(power, G_VARIANT_TYPE_DOUBLE) ||
	    !isfinite(g_variant_get_double(power))) {
		sum->unknown = TRUE;
		return;
	}
	sum->sum += g_variant_get_double(power);
}

static gdouble
device_double(Device *dev, const gchar *name)
{
	GVariant *v = g_hash_table_lookup(dev->values, name);
	return v != NULL && g_variant_is_of_type(v, G_VARIANT_TYPE_DOUBLE) ? g_variant_get_double(v)
									   : NAN;
}

static gboolean
device_flag(Device *dev, const gchar *name)
{
	GVariant *v = g_hash_table_lookup(dev->values, name);
	return v != NULL && g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN) &&
	       g_variant_get_boolean(v);
}

/* the batteries' power and state of charge, by the rules at the top of this file */
static void
wbd_sse_model_get_battery(WbdSseModel *self, WbdSseEnergy *energy)
{
	g_autoptr(GPtrArray) singles = g_ptr_array_new();
	g_autoptr(GPtrArray) aggregates = g_ptr_array_new();
	GPtrArray *batteries;
	Sum power = {FALSE, FALSE, 0};
	gdouble soc_sum = 0, weighted = 0, capacity = 0;
	gboolean weights = TRUE;
	GHashTableIter iter;
	Device *dev;

	g_hash_table_iter_init(&iter, self->devices);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&dev)) {
		if (!g_hash_table_contains(dev->values, "StateOfCharge"))
			continue;
		g_ptr_array_add(device_flag(dev, "Aggregate") ? aggregates : singles, dev);
	}
	batteries = aggregates->len > 0 ? aggregates : singles;
	energy->has_battery = batteries->len > 0;
	energy->battery = NAN;
	energy->soc = NAN;
	for (guint i = 0; i < batteries->len; i++) {
		gdouble soc, cap;
		dev = g_ptr_array_index(batteries, i);
		sum_add(&power, dev);
		soc = device_double(dev, "StateOfCharge");
		cap = device_double(dev, "Capacity");
		if (!isfinite(soc) || !device_flag(dev, "Online"))
			return;
		soc_sum += soc;
		if (isfinite(cap) && cap > 0) {
			weighted += soc * cap;
			capacity += cap;
		} else {
			weights = FALSE;
		}
	}
	if (batteries->len == 0)
		return;
	energy->battery = power.exists ? sum_value(&power) : NAN;
	energy->soc = weights && capacity > 0 ? weighted / capacity : soc_sum / batteries->len;
}

/* the energy flow of the site, by the rules at the top of this file */
void
wbd_sse_model_get_energy(WbdSseModel *self, WbdSseEnergy *energy)
{
	Sum production = {FALSE, FALSE, 0};
	Sum net = {FALSE, FALSE, 0};
	Sum total = {FALSE, FALSE, 0};
	GHashTableIter iter;
	Device *dev;

	g_hash_table_iter_init(&iter, self->devices);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&dev)) {
		GVariant *measurement = g_hash_table_lookup(dev->values, "Measurement");
		const gchar *m;
		if (measurement == NULL ||
		    !g_variant_is_of_type(measurement, G_VARIANT_TYPE_STRING))
			continue;
		m = g_variant_get_string(measurement, NULL);
		if (g_str_equal(m, "production"))
			sum_add(&production, dev);
		else if (g_str_equal(m, "net-consumption"))
			sum_add(&net, dev);
		else if (g_str_equal(m, "total-consumption"))
			sum_add(&total, dev);
	}
	energy->production = production.exists ? sum_value(&production) : 0;
	if (total.exists)
		energy->consumption = sum_value(&total);
	else if (net.exists)
		energy->consumption = energy->production + sum_value(&net);
	else
		energy->consumption = NAN;
	if (net.exists)
		energy->net = sum_value(&net);
	else
		energy->net = energy->consumption - energy->production;
	wbd_sse_model_get_battery(self, energy);
}

/* a sum of meters to the mW: 4628.913, not the float noise 4628.9130000000005 */
static gdouble
to_mw(gdouble watts)
{
	return isfinite(watts) ? round(watts * 1000) / 1000 : watts;
}

/* {"production":W,"consumption":W,"net":W[,"battery":W,"soc":%]}, null for unknown */
gchar *
wbd_sse_energy_to_json(const WbdSseEnergy *energy)
{
	GString *json = g_string_new("{\"production\":");
	append_number(json, to_mw(energy->production), TRUE);
	g_string_append(json, ",\"consumption\":");
	append_number(json, to_mw(energy->consumption), TRUE);
	g_string_append(json, ",\"net\":");
	append_number(json, to_mw(energy->net), TRUE);
	if (energy->has_battery) {
		g_string_append(json, ",\"battery\":");
		append_number(json, to_mw(energy->battery), TRUE);
		g_string_append(json, ",\"soc\":");
		append_number(json, isfinite(energy->soc) ? round(energy->soc * 10) / 10 : NAN, TRUE);
	}
	g_string_append_c(json, '}');
	return g_string_free(json, FALSE);
}
