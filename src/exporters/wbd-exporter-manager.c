/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <wattbus-glib.h>

#include "wbd-config.h"
#include "wbd-exporter-info.h"
#include "wbd-exporter.h"
#include "wbd-exporter-manager.h"

/*
 * The exporters live in the daemon and take readings from the device model
 * directly (WbdDevice::values-changed), not through D-Bus. The manager calls this
 * module when it exports or drops a device and when it applies a configuration.
 */

struct _WbdExporterManager {
	GObject parent_instance;
	WbdObjectManager *object_manager;
	gchar *state_dir;
	WbdSpool *spool;       /* opened with the first exporter */
	GHashTable *exporters; /* id → WbdExporter */
	GPtrArray *devices;    /* WbdDevice, children included */
};

G_DEFINE_TYPE(WbdExporterManager, wbd_exporter_manager, G_TYPE_OBJECT)

static const gchar *
wbd_exporter_manager_device_label(WbdDevice *device)
{
	WattbusDevice *iface =
	    wattbus_object_peek_device(WATTBUS_OBJECT(wbd_device_get_object(device)));
	return iface != NULL ? wattbus_device_get_name(iface) : wbd_device_get_id(device);
}

static void
wbd_exporter_manager_values_changed_cb(WbdDevice *device,
				       guint64 timestamp,
				       GVariant *values,
				       WbdExporterManager *self)
{
	GHashTableIter iter;
	WbdExporter *exporter;
	const gchar *label = wbd_exporter_manager_device_label(device);

	g_hash_table_iter_init(&iter, self->exporters);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&exporter))
		wbd_exporter_push(exporter,
				  wbd_device_get_id(device),
				  label,
				  (gint64)timestamp,
				  values);
}

/* what a device shows now, as one change: for exporters that start later, and for
 * live exporters when a device arrives */
static GVariant *
wbd_exporter_manager_current_values(WbdDevice *device)
{
	GVariantBuilder builder;
	GList *ifaces = g_dbus_object_get_interfaces(G_DBUS_OBJECT(wbd_device_get_object(device)));

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	for (GList *l = ifaces; l != NULL; l = l->next) {
		GDBusInterfaceSkeleton *iface = l->data;
		g_autoptr(GVariant) props = g_dbus_interface_skeleton_get_properties(iface);
		GVariantIter iter;
		const gchar *name;
		GVariant *value;

		if (WATTBUS_IS_DEVICE(iface)) {
			g_variant_builder_add(&builder,
					      "{sv}",
					      "Online",
					      g_variant_new_boolean(wbd_device_get_online(device)));
			continue;
		}
		g_variant_iter_init(&iter, props);
		while (g_variant_iter_next(&iter, "{&sv}", &name, &value)) {
			g_variant_builder_add(&builder, "{sv}", name, value);
			g_variant_unref(value);
		}
	}
	g_list_free_full(ifaces, g_object_unref);
	return g_variant_ref_sink(g_variant_builder_end(&builder));
}

static void
wbd_exporter_manager_push_current(WbdExporter *exporter, WbdDevice *device)
{
	g_autoptr(GVariant) values = wbd_exporter_manager_current_values(device);
	wbd_exporter_push(exporter,
			  wbd_device_get_id(device),
			  wbd_exporter_manager_device_label(device),
			  g_get_real_time(),
			  values);
}

static void
wbd_exporter_manager_seed(WbdExporterManager *self, WbdExporter *exporter)
{
	for (guint i = 0; i < self->devices->len; i++) {
		WbdDevice *device = g_ptr_array_index(self->devices, i);
		/* a live exporter shows offline devices too */
		if (wbd_device_get_online(device) || wbd_exporter_is_live(exporter))
			wbd_exporter_manager_push_current(exporter, device);
	}
}

void
wbd_exporter_manager_add_device(WbdExporterManager *self, WbdDevice *device)
{
	GHashTableIter iter;
	WbdExporter *exporter;

	if (g_ptr_array_find(self->devices, device, NULL))
		return;
	g_ptr_array_add(self->devices, g_object_ref(device));
	g_signal_connect(device,
			 "values-changed",
			 G_CALLBACK(wbd_exporter_manager_values_changed_cb),
			 self);
	/* a live exporter gets the whole device now (Measurement, say, never changes) */
	g_hash_table_iter_init(&iter, self->exporters);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&exporter)) {
		if (wbd_exporter_is_live(exporter))
			wbd_exporter_manager_push_current(exporter, device);
	}
}

void
wbd_exporter_manager_remove_device(WbdExporterManager *self, WbdDevice *device)
{
	GHashTableIter iter;
	WbdExporter *exporter;
	guint index;

	if (!g_ptr_array_find(self->devices, device, &index))
		return;
	g_signal_handlers_disconnect_by_func(device, wbd_exporter_manager_values_changed_cb, self);
	g_hash_table_iter_init(&iter, self->exporters);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&exporter))
		wbd_exporter_forget_device(exporter, wbd_device_get_id(device));
	g_ptr_array_remove_index(self->devices, index);
}

/* for exporters that take commands */
static WbdDevice *
wbd_exporter_manager_lookup_device(const gchar *id, gpointer user_data)
{
	WbdExporterManager *self = user_data;
	for (guint i = 0; i < self->devices->len; i++) {
		WbdDevice *device = g_ptr_array_index(self->devices, i);
		if (g_str_equal(wbd_device_get_id(device), id))
			return device;
	}
	return NULL;
}

static void
wbd_exporter_manager_remove(WbdExporterManager *self, WbdExporter *exporter)
{
	g_object_ref(exporter);
	wbd_exporter_stop(exporter);
	wbd_object_manager_unexport(self->object_manager, wbd_exporter_get_object_path(exporter));
	g_hash_table_remove(self->exporters, wbd_exporter_get_id(exporter));
	g_object_unref(exporter);
}

static gboolean
wbd_exporter_manager_open_spool(WbdExporterManager *self)
{
	g_autofree gchar *path = NULL;
	g_autoptr(GError) error = NULL;

	if (self->spool != NULL)
		return TRUE;
	path = g_build_filename(self->state_dir, WBD_EXPORTER_MANAGER_SPOOL_FILE, NULL);
	self->spool = wbd_spool_open(path, &error);
	if (self->spool == NULL) {
		g_warning("exporters not started: %s", error->message);
		return FALSE;
	}
	return TRUE;
}

static void
wbd_exporter_manager_add(WbdExporterManager *self, WbdExporterConfig *config)
{
	const WbdExporterInfo *info;
	g_autoptr(WbdExporter) exporter = NULL;
	g_autoptr(GError) error = NULL;

	if (!wbd_exporter_info_validate(config->id, config->settings, FALSE, &error)) {
		g_warning("%s", error->message);
		return;
	}
	if (!wbd_exporter_manager_open_spool(self))
		return;
	info = wbd_exporter_info_lookup(g_hash_table_lookup(config->settings, "kind"));
	exporter = wbd_exporter_new(info, config->id, config->settings, self->spool, &error);
	if (exporter == NULL) {
		g_warning("%s", error->message);
		return;
	}
	wbd_exporter_set_device_lookup(exporter, wbd_exporter_manager_lookup_device, self);
	g_hash_table_insert(self->exporters, g_strdup(config->id), g_object_ref(exporter));
	wbd_object_manager_export(self->object_manager, wbd_exporter_get_object(exporter));
	g_info("added exporter '%s' (%s)", config->id, info->kind);
	wbd_exporter_manager_seed(self, exporter);
	wbd_exporter_start(exporter);
}

/**
 * wbd_exporter_manager_apply_config:
 * @configs: (element-type WbdExporterConfig): the [exporter ID] groups
 *
 * Brings the running exporters in line with @configs: an exporter whose settings
 * did not change is left alone; a changed one is re-created and goes on with the
 * readings its predecessor queued.
 */
void
wbd_exporter_manager_apply_config(WbdExporterManager *self, GPtrArray *configs)
{
	g_autoptr(GHashTable) wanted = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GList) ids = g_hash_table_get_keys(self->exporters);

	for (guint i = 0; i < configs->len; i++) {
		WbdExporterConfig *config = g_ptr_array_index(configs, i);
		g_hash_table_insert(wanted, config->id, config);
	}
	for (GList *l = ids; l != NULL; l = l->next) {
		WbdExporter *exporter = g_hash_table_lookup(self->exporters, l->data);
		WbdExporterConfig *config = g_hash_table_lookup(wanted, l->data);
		if (config != NULL && wbd_config_settings_equal(wbd_exporter_get_settings(exporter),
								config->settings)) {
			g_hash_table_remove(wanted, l->data);
			continue;
		}
		g_info("exporter '%s' %s",
		       (const gchar *)l->data,
		       config != NULL ? "changed" : "is gone");
		wbd_exporter_manager_remove(self, exporter);
	}
	for (guint i = 0; i < configs->len; i++) {
		WbdExporterConfig *config = g_ptr_array_index(configs, i);
		if (g_hash_table_lookup(wanted, config->id) == config)
			wbd_exporter_manager_add(self, config);
	}
}

static void
wbd_exporter_manager_dispose(GObject *object)
{
	WbdExporterManager *self = WBD_EXPORTER_MANAGER(object);

	if (self->exporters != NULL) {
		g_autoptr(GList) exporters = g_hash_table_get_values(self->exporters);
		for (GList *l = exporters; l != NULL; l = l->next)
			wbd_exporter_manager_remove(self, l->data);
	}
	/* what the exporters accepted is on disk before the daemon ends */
	if (self->spool != NULL)
		wbd_spool_wait(self->spool);
	if (self->exporters != NULL)
		wbd_exporter_info_shutdown_all();
	for (guint i = 0; self->devices != NULL && i < self->devices->len; i++)
		g_signal_handlers_disconnect_by_data(g_ptr_array_index(self->devices, i), self);
	g_clear_pointer(&self->devices, g_ptr_array_unref);
	g_clear_object(&self->spool);
	g_clear_object(&self->object_manager);
	G_OBJECT_CLASS(wbd_exporter_manager_parent_class)->dispose(object);
}

static void
wbd_exporter_manager_finalize(GObject *object)
{
	WbdExporterManager *self = WBD_EXPORTER_MANAGER(object);
	g_free(self->state_dir);
	g_clear_pointer(&self->exporters, g_hash_table_unref);
	G_OBJECT_CLASS(wbd_exporter_manager_parent_class)->finalize(object);
}

static void
wbd_exporter_manager_class_init(WbdExporterManagerClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = wbd_exporter_manager_dispose;
	object_class->finalize = wbd_exporter_manager_finalize;
}

static void
wbd_exporter_manager_init(WbdExporterManager *self)
{
	self->exporters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	self->devices = g_ptr_array_new_with_free_func(g_object_unref);
}

/**
 * wbd_exporter_manager_new:
 * @object_manager: where the exporters' objects are exported
 * @state_dir: where the spool is kept
 */
WbdExporterManager *
wbd_exporter_manager_new(WbdObjectManager *object_manager, const gchar *state_dir)
{
	WbdExporterManager *self = g_object_new(WBD_TYPE_EXPORTER_MANAGER, NULL);
	wbd_exporter_kinds_register_all();
	self->object_manager = g_object_ref(object_manager);
	self->state_dir = g_strdup(state_dir);
	return self;
}
