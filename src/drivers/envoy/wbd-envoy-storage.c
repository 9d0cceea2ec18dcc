/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>

#include "wbd-battery-reading.h"
#include "wbd-envoy-child.h"
#include "wbd-envoy-ensemble.h"
#include "wbd-envoy-storage.h"
#include "wbd-log.h"

/*
 * The batteries and the grid state of a gateway (envoy-batteries.md): what the polls read
 * is kept here and published after each poll as children of the gateway, one per battery
 * (`<gateway>_battery_<serial>`) and one for all of them (`<gateway>_batteries`, Aggregate
 * true), each with org.wattbus.Wattbus1.Battery, and as GridState on the gateway's
 * org.wattbus.Wattbus1.Gateway.
 */

typedef struct {
	WbdDevice *child;
	WattbusBattery *battery;
} BatteryChild;

struct _WbdEnvoyStorage {
	WbdDevice *gateway; /* weak: the gateway owns this */
	GPtrArray *encharge; /* WbdEnvoyBattery, from the Ensemble inventory and power */
	GPtrArray *acbs;     /* WbdEnvoyBattery, from /inventory.json?deleted=1 */
	WbdEnvoySecctrl secctrl;
	gboolean has_secctrl;
	WbdEnvoyAcb acb;
	const gchar *grid_state;
	GHashTable *children; /* serial → BatteryChild */
	BatteryChild *aggregate;
	WattbusGateway *iface_gateway;
};

static void
battery_child_free(BatteryChild *child)
{
	g_clear_object(&child->child);
	g_clear_object(&child->battery);
	g_free(child);
}

static GPtrArray *
battery_list_new(void)
{
	return g_ptr_array_new_with_free_func((GDestroyNotify)wbd_envoy_battery_free);
}

WbdEnvoyStorage *
wbd_envoy_storage_new(WbdDevice *gateway)
{
	WbdEnvoyStorage *self = g_new0(WbdEnvoyStorage, 1);
	self->gateway = gateway;
	self->encharge = battery_list_new();
	self->acbs = battery_list_new();
	self->grid_state = "unknown";
	self->children =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)battery_child_free);
	return self;
}

void
wbd_envoy_storage_free(WbdEnvoyStorage *self)
{
	if (self == NULL)
		return;
	g_ptr_array_unref(self->encharge);
	g_ptr_array_unref(self->acbs);
	g_hash_table_unref(self->children);
	g_clear_pointer(&self->aggregate, battery_child_free);
	g_clear_object(&self->iface_gateway);
	g_free(self);
}

/* adds org.wattbus.Wattbus1.Gateway to the gateway, GridState unknown until read */
void
wbd_envoy_storage_attach(WbdEnvoyStorage *self)
{
	if (self->iface_gateway != NULL)
		return;
	self->iface_gateway = wattbus_gateway_skeleton_new();
	wbd_device_add_interface(self->gateway, G_DBUS_INTERFACE_SKELETON(self->iface_gateway));
	wattbus_gateway_set_grid_state(self->iface_gateway, self->grid_state);
}

/* the gateway removed all its children (its CTs changed): they are made again */
void
wbd_envoy_storage_forget_children(WbdEnvoyStorage *self)
{
	g_hash_table_remove_all(self->children);
	g_clear_pointer(&self->aggregate, battery_child_free);
}

/* Returns: whether the gateway has the Ensemble endpoints (an inventory, maybe empty) */
gboolean
wbd_envoy_storage_set_inventory(WbdEnvoyStorage *self, JsonNode *root)
{
	g_autoptr(GPtrArray) batteries = NULL;
	gboolean ok = wbd_envoy_parse_ensemble_inventory(root, &batteries, &self->grid_state);
	g_ptr_array_unref(self->encharge);
	self->encharge = g_steal_pointer(&batteries);
	return ok;
}

gboolean
wbd_envoy_storage_has_encharge(WbdEnvoyStorage *self)
{
	return self->encharge->len > 0;
}

gboolean
wbd_envoy_storage_has_acb(WbdEnvoyStorage *self)
{
	return self->acb.count > 0;
}

void
wbd_envoy_storage_set_power(WbdEnvoyStorage *self, JsonNode *root)
{
	wbd_envoy_parse_ensemble_power(root, self->encharge);
}

void
wbd_envoy_storage_set_secctrl(WbdEnvoyStorage *self, JsonNode *root)
{
	self->has_secctrl = wbd_envoy_parse_secctrl(root, &self->secctrl);
}

void
wbd_envoy_storage_set_production(WbdEnvoyStorage *self, JsonNode *root)
{
	if (!wbd_envoy_parse_acb_storage(root, &self->acb))
		g_ptr_array_set_size(self->acbs, 0);
}

void
wbd_envoy_storage_set_acb_inventory(WbdEnvoyStorage *self, JsonNode *root)
{
	g_ptr_array_unref(self->acbs);
	self->acbs = wbd_envoy_parse_acb_inventory(root);
}

static BatteryChild *
battery_child_new(WbdEnvoyStorage *self,
		  const gchar *suffix,
		  const gchar *name,
		  const WbdEnvoyBattery *battery)
{
	BatteryChild *child = g_new0(BatteryChild, 1);
	g_autofree gchar *id = g_strdup_printf("%s_%s", wbd_device_get_id(self->gateway), suffix);

	child->child = wbd_envoy_child_new(self->gateway, id);
	wbd_device_set_kind(child->child, "battery");
	wbd_device_set_device_name(child->child, name);
	if (battery != NULL) {
		wbd_device_set_serial_number(child->child, battery->serial);
		wbd_device_set_model(child->child, battery->part_number);
		wbd_device_set_firmware_version(child->child, battery->firmware);
	}
	child->battery = wbd_device_add_battery(child->child, battery == NULL);
	wbd_device_add_child(self->gateway, child->child);
	return child;
}

static void
publish_battery(WbdEnvoyStorage *self, const WbdEnvoyBattery *battery, GHashTable *seen)
{
	BatteryChild *child = g_hash_table_lookup(self->children, battery->serial);
	if (child == NULL) {
		g_autofree gchar *suffix = g_strdup_printf("battery_%s", battery->serial);
		g_autofree gchar *name = g_strdup_printf(
		    "%s %s", battery->acb ? "AC Battery" : "IQ Battery", battery->serial);
		child = battery_child_new(self, suffix, name, battery);
		g_hash_table_insert(self->children, g_strdup(battery->serial), child);
		wbd_dev_debug(self->gateway, "battery %s", battery->serial);
	}
	g_hash_table_add(seen, battery->serial);
	wbd_battery_reading_publish(child->battery, &battery->reading);
}

/* after a poll: the children follow what was read; the grid state on the gateway */
void
wbd_envoy_storage_publish(WbdEnvoyStorage *self)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	WbdBatteryReading total;
	GHashTableIter iter;
	BatteryChild *child;
	const gchar *serial;

	wbd_envoy_storage_attach(self);
	if (g_strcmp0(wattbus_gateway_get_grid_state(self->iface_gateway), self->grid_state) != 0) {
		wbd_dev_info(self->gateway, "grid state %s", self->grid_state);
		wattbus_gateway_set_grid_state(self->iface_gateway, self->grid_state);
	}

	for (guint i = 0; i < self->encharge->len; i++)
		publish_battery(self, g_ptr_array_index(self->encharge, i), seen);
	/* AC Batteries only while production.json says the site has them */
	for (guint i = 0; self->acb.count > 0 && i < self->acbs->len; i++)
		publish_battery(self, g_ptr_array_index(self->acbs, i), seen);
	/* a battery that is no longer listed is offline, not removed: it may come back */
	g_hash_table_iter_init(&iter, self->children);
	while (g_hash_table_iter_next(&iter, (gpointer *)&serial, (gpointer *)&child)) {
		if (!g_hash_table_contains(seen, serial)) {
			WbdBatteryReading empty;
			wbd_battery_reading_init(&empty);
			wbd_battery_reading_publish(child->battery, &empty);
		}
	}

	wbd_envoy_batteries_aggregate(self->encharge,
				      self->has_secctrl ? &self->secctrl : NULL,
				      &self->acb,
				      &total);
	if (self->encharge->len == 0 && self->acb.count == 0)
		return;
	if (self->aggregate == NULL)
		self->aggregate = battery_child_new(self, "batteries", "Batteries", NULL);
	wbd_battery_reading_publish(self->aggregate->battery, &total);
}
