/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-log.h"
#include "wbd-skeleton.h"
#include "wbd-tuya-device-private.h"
#include "wbd-tuya-record.h"

/* A Tuya device's DPs to its D-Bus properties: Outlet, ElectricityMeter, WaterMeter */

static void
wbd_tuya_device_set_water_property(WbdTuyaDevice *self, const WbdTuyaDp *dp, GVariant *raw)
{
	GDBusPropertyInfo *info =
	    g_dbus_interface_info_lookup_property(wattbus_water_meter_interface_info(), dp->property);
	g_autoptr(GVariant) value = NULL;
	g_auto(GValue) gvalue = G_VALUE_INIT;

	value = wbd_tuya_dp_to_property(dp, raw, G_VARIANT_TYPE(info->signature));
	if (value == NULL) {
		wbd_dev_debug(self, "DP %s (%s): a value of type %s does not fit", dp->id, dp->name,
			      g_variant_get_type_string(raw));
		return;
	}
	g_dbus_gvariant_to_gvalue(value, &gvalue);
	wbd_skeleton_set_value(self->iface_water, dp->property, &gvalue);
	if (!g_ptr_array_find_with_equal_func(self->water_measured, dp->property, g_str_equal, NULL)) {
		GDBusInterfaceInfo *iface = wattbus_water_meter_interface_info();
		g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
		g_auto(GStrv) measured = NULL;
		g_ptr_array_add(self->water_measured, g_strdup(dp->property));
		/* in the order of the interface */
		for (guint i = 0; iface->properties[i] != NULL; i++) {
			if (g_ptr_array_find_with_equal_func(self->water_measured,
							     iface->properties[i]->name,
							     g_str_equal,
							     NULL))
				g_strv_builder_add(builder, iface->properties[i]->name);
		}
		measured = g_strv_builder_end(builder);
		wattbus_water_meter_set_measured(self->iface_water, (const gchar *const *)measured);
	}
}

static void
wbd_tuya_device_publish_dps(WbdTuyaDevice *self)
{
	g_autoptr(GPtrArray) ids = g_ptr_array_new();
	GVariantBuilder builder;
	GHashTableIter iter;
	gpointer key;

	g_hash_table_iter_init(&iter, self->dps);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_ptr_array_add(ids, key);
	g_ptr_array_sort(ids, wbd_tuya_compare_dp_ids);
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a{sv}"));
	for (guint i = 0; i < ids->len; i++) {
		const gchar *id = g_ptr_array_index(ids, i);
		g_variant_builder_add(&builder, "{sv}", id, g_hash_table_lookup(self->dps, id));
	}
	wattbus_tuya_set_dps(self->iface_tuya, g_variant_builder_end(&builder));
}

/* whether @dp's sign comes from one of the DPs in @dps */
static gboolean
wbd_tuya_device_sign_changed(const WbdTuyaDp *dp, GVariant *dps)
{
	g_autoptr(GVariant) sign = NULL;
	if (dp->negate_dp == NULL)
		return FALSE;
	sign = g_variant_lookup_value(dps, dp->negate_dp, NULL);
	return sign != NULL;
}

/* an increment in a push (never in a reply: those repeat the last push) into Energy */
gboolean
wbd_tuya_device_count_energy(WbdTuyaDevice *self, GVariant *dps, guint cmd, gint64 t)
{
	const WbdTuyaDp *dp = self->energy != NULL ? wbd_tuya_profile_get_increment(self->profile) : NULL;
	g_autoptr(GVariant) raw = dp != NULL ? g_variant_lookup_value(dps, dp->id, NULL) : NULL;
	g_autoptr(GError) error = NULL;
	WbdTuyaEnergyResult result;
	gdouble wh, total;

	if (raw == NULL || cmd != WBD_TUYA_CMD_STATUS)
		return FALSE;
	if (!g_variant_is_of_type(raw, G_VARIANT_TYPE_INT64) || !wbd_tuya_dp_get_number(dp, raw, &wh)) {
		wbd_dev_warning(self, "DP %s (%s): an increment must be a whole number; ignored", dp->id, dp->name);
		return FALSE;
	}
	result = wbd_tuya_energy_add(self->energy,
				     g_variant_get_int64(raw),
				     wh,
				     t,
				     g_get_real_time() / G_USEC_PER_SEC,
				     dp->rated_power,
				     &error);
	if (error != NULL)
		wbd_dev_warning(self, "cannot save the energy counter: %s", error->message);
	if (result == WBD_TUYA_ENERGY_IMPLAUSIBLE)
		wbd_dev_warning(self, "DP %s (%s): an increment of %g Wh is %s; ignored", dp->id, dp->name, wh,
				wbd_tuya_energy_result_to_string(result));
	else
		wbd_dev_debug(self, "DP %s (%s): %g Wh, %s", dp->id, dp->name, wh,
			      wbd_tuya_energy_result_to_string(result));
	if (result != WBD_TUYA_ENERGY_COUNTED || !wbd_tuya_energy_get_total(self->energy, &total))
		return FALSE;
	wbd_meter_reading_set(&self->reading, WBD_QUANTITY_ENERGY, total);
	return TRUE;
}

void
wbd_tuya_device_apply_dps(WbdTuyaDevice *self, GVariant *dps, gboolean meter_changed)
{
	WbdDevice *device = WBD_DEVICE(self);
	GPtrArray *all = self->profile != NULL ? wbd_tuya_profile_get_dps(self->profile) : NULL;
	GVariantIter iter;
	const gchar *id;
	GVariant *raw;

	/* first every value, so that a DP whose sign another DP gives sees the new sign */
	g_variant_iter_init(&iter, dps);
	while (g_variant_iter_next(&iter, "{&sv}", &id, &raw)) {
		if (g_hash_table_size(self->dps) >= WBD_TUYA_MAX_DPS && !g_hash_table_contains(self->dps, id)) {
			g_variant_unref(raw);
			continue;
		}
		g_hash_table_replace(self->dps, g_strdup(id), raw);
	}
	for (guint i = 0; all != NULL && i < all->len; i++) {
		const WbdTuyaDp *dp = g_ptr_array_index(all, i);
		g_autoptr(GVariant) pushed = g_variant_lookup_value(dps, dp->id, NULL);
		g_autoptr(GError) error = NULL;
		GVariant *value = g_hash_table_lookup(self->dps, dp->id);

		if (value == NULL || (pushed == NULL && !wbd_tuya_device_sign_changed(dp, dps)))
			continue;
		if (g_strcmp0(dp->interface, "Outlet") == 0) {
			g_autoptr(GVariant) on = wbd_tuya_dp_to_property(dp, value, G_VARIANT_TYPE_BOOLEAN);
			if (on != NULL)
				wbd_device_set_on(device, g_variant_get_boolean(on));
		} else if (g_strcmp0(dp->interface, "WaterMeter") == 0 && self->iface_water != NULL) {
			wbd_tuya_device_set_water_property(self, dp, value);
		} else if (wbd_tuya_meter_apply_dp(self->profile, dp, value, self->dps, &self->reading, &error)) {
			meter_changed = TRUE;
		} else if (error != NULL) {
			/* a record of the wrong length: nothing is guessed */
			wbd_dev_warning(self, "%s", error->message);
		}
	}
	wbd_tuya_device_publish_dps(self);
	if (meter_changed) {
		wbd_tuya_meter_add_totals(self->profile, &self->reading);
		wbd_device_set_meter_reading(device, &self->reading);
	}
}

