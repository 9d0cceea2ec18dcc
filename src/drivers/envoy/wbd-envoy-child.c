/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <wattbus-glib.h>

#include "wbd-envoy-child.h"
#include "wbd-log.h"

/*
 * A meter or a microinverter behind a gateway. The gateway reads everything and
 * reports it here: a meter through the base class's meter reading, an inverter through
 * its own org.wattbus.Wattbus1.Inverter interface.
 */
struct _WbdEnvoyChild {
	WbdDevice parent_instance;
	WattbusInverter *inverter;
	gint64 last_report;
};

G_DEFINE_TYPE(WbdEnvoyChild, wbd_envoy_child, WBD_TYPE_DEVICE)

/**
 * wbd_envoy_child_set_report:
 *
 * Publishes an inverter's report, if it is a new one: the values of a report only
 * change when its time does (spec §6), so a repeated report emits nothing.
 *
 * Returns: %TRUE when the report was new
 */
gboolean
wbd_envoy_child_set_report(WbdEnvoyChild *self, const WbdEnvoyInverterReport *report)
{
	if (self->inverter != NULL && report->last_report == self->last_report)
		return FALSE;
	if (self->inverter == NULL) {
		self->inverter = wattbus_inverter_skeleton_new();
		wbd_device_add_interface(WBD_DEVICE(self),
					 G_DBUS_INTERFACE_SKELETON(self->inverter));
	}
	self->last_report = report->last_report;
	g_object_set(self->inverter,
		     "power",
		     report->watts,
		     "max-power",
		     report->max_watts,
		     "last-report",
		     (guint64)report->last_report * G_USEC_PER_SEC,
		     NULL);
	return TRUE;
}

/**
 * wbd_envoy_child_apply_inverters:
 * @gateway: the gateway, parent of the inverters
 * @inverters: (element-type utf8 WbdEnvoyChild): the gateway's inverters by serial
 * @reports: (element-type WbdEnvoyInverterReport): the inverter list just read
 *
 * Adds a child for each new inverter and publishes the new reports of the others.
 */
void
wbd_envoy_child_apply_inverters(WbdDevice *gateway, GHashTable *inverters, GPtrArray *reports)
{
	guint added = 0;
	guint updated = 0;

	for (guint i = 0; i < reports->len; i++) {
		WbdEnvoyInverterReport *report = g_ptr_array_index(reports, i);
		WbdDevice *child = g_hash_table_lookup(inverters, report->serial);
		if (child == NULL) {
			g_autofree gchar *id = g_strdup_printf(
			    "%s_inverter_%s", wbd_device_get_id(gateway), report->serial);
			g_autofree gchar *name =
			    g_strdup_printf("Microinverter %s", report->serial);
			g_autoptr(WbdDevice) created = wbd_envoy_child_new(gateway, id);
			wbd_device_set_kind(created, "inverter");
			wbd_device_set_serial_number(created, report->serial);
			wbd_device_set_device_name(created, name);
			wbd_envoy_child_set_report(WBD_ENVOY_CHILD(created), report);
			g_hash_table_insert(
			    inverters, g_strdup(report->serial), g_object_ref(created));
			wbd_device_add_child(gateway, created);
			added++;
		} else if (wbd_envoy_child_set_report(WBD_ENVOY_CHILD(child), report)) {
			updated++;
		}
	}
	if (added > 0 || updated > 0)
		wbd_dev_debug(gateway, "inverters: %u new, %u new reports", added, updated);
}

static void
wbd_envoy_child_dispose(GObject *object)
{
	WbdEnvoyChild *self = WBD_ENVOY_CHILD(object);
	G_OBJECT_CLASS(wbd_envoy_child_parent_class)->dispose(object);
	g_clear_object(&self->inverter);
}

static void
wbd_envoy_child_class_init(WbdEnvoyChildClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = wbd_envoy_child_dispose;
}

static void
wbd_envoy_child_init(WbdEnvoyChild *self)
{
}

WbdDevice *
wbd_envoy_child_new(WbdDevice *gateway, const gchar *id)
{
	/* the driver comes from the gateway */
	return g_object_new(WBD_TYPE_ENVOY_CHILD, "id", id, "parent", gateway, NULL);
}
