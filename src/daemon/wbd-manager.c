/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <wattbus-glib.h>

#include "wbd-auth.h"
#include "wbd-config.h"
#include "wbd-device.h"
#include "wbd-discovery.h"
#include "wbd-driver.h"
#include "wbd-manager.h"
#include "wbd-object-manager.h"

#define WBD_MANAGER_PATH "/org/wattbus/Wattbus1"

struct _WbdManager {
	GObject parent_instance;
	GDBusConnection *connection;
	WbdObjectManager *object_manager;
	WattbusManager *skeleton;
	gchar *config_dir;
	gchar *state_dir;
	GHashTable *devices; /* id → WbdDevice, children included */
	GHashTable *configs; /* id → WbdDeviceConfig, of the top-level devices */
	WbdDiscovery *discovery;	 /* Discover() */
	GCancellable *cancellable;
};

G_DEFINE_TYPE(WbdManager, wbd_manager, G_TYPE_OBJECT)

enum { SIGNAL_DEVICE_EXPORTED, SIGNAL_DEVICE_UNEXPORTED, SIGNAL_EXPORTERS_CONFIGURED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* devices */

static void
wbd_manager_export_device(WbdManager *self, WbdDevice *device);

static void
wbd_manager_child_added_cb(WbdDevice *parent, WbdDevice *child, WbdManager *self)
{
	wbd_manager_export_device(self, child);
}

static void
wbd_manager_unexport_device(WbdManager *self, WbdDevice *device)
{
	GPtrArray *children = wbd_device_get_children(device);

	g_object_ref(device); /* the table may hold the last reference */
	for (guint i = 0; i < children->len; i++)
		wbd_manager_unexport_device(self, g_ptr_array_index(children, i));
	g_signal_handlers_disconnect_by_data(device, self);
	g_signal_emit(self, signals[SIGNAL_DEVICE_UNEXPORTED], 0, device);
	wbd_object_manager_unexport(self->object_manager, wbd_device_get_object_path(device));
	g_hash_table_remove(self->devices, wbd_device_get_id(device));
	g_object_unref(device);
}

static void
wbd_manager_child_removed_cb(WbdDevice *parent, WbdDevice *child, WbdManager *self)
{
	wbd_manager_unexport_device(self, child);
}

static void
wbd_manager_export_device(WbdManager *self, WbdDevice *device)
{
	const gchar *id = wbd_device_get_id(device);
	if (g_hash_table_contains(self->devices, id)) {
		g_warning("device id '%s' is used twice; the second device is not exported", id);
		return;
	}
	g_hash_table_insert(self->devices, g_strdup(id), g_object_ref(device));
	g_signal_connect(device, "child-added", G_CALLBACK(wbd_manager_child_added_cb), self);
	g_signal_connect(device, "child-removed", G_CALLBACK(wbd_manager_child_removed_cb), self);
	wbd_object_manager_export(self->object_manager, wbd_device_get_object(device));
	g_signal_emit(self, signals[SIGNAL_DEVICE_EXPORTED], 0, device);
}

/* the id of the device @config names as its parent (a hub), or %NULL */
static const gchar *
wbd_manager_config_parent(WbdDeviceConfig *config)
{
	const WbdDriverInfo *info = wbd_driver_lookup(g_hash_table_lookup(config->settings, "driver"));
	return info != NULL && info->parent_key != NULL ? g_hash_table_lookup(config->settings, info->parent_key)
							: NULL;
}

/* a child's parent must be a running top-level device */
static gboolean
wbd_manager_lookup_parent(WbdManager *self, WbdDeviceConfig *config, WbdDevice **parent, GError **error)
{
	const gchar *parent_id = wbd_manager_config_parent(config);
	*parent = parent_id != NULL ? g_hash_table_lookup(self->devices, parent_id) : NULL;
	if (parent_id != NULL && (*parent == NULL || wbd_device_get_parent(*parent) != NULL)) {
		g_autofree gchar *clean = g_utf8_make_valid(parent_id, -1);
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "Device '%s': its gateway '%s' is not a configured device (or it failed to start)",
			    config->id,
			    clean);
		return FALSE;
	}
	return TRUE;
}

static WbdDevice *
wbd_manager_create_device(WbdManager *self, WbdDeviceConfig *config, GError **error)
{
	const WbdDriverInfo *info = wbd_driver_lookup(g_hash_table_lookup(config->settings, "driver"));
	g_autoptr(WbdDevice) device = NULL;
	WbdDevice *parent = NULL;

	g_return_val_if_fail(info != NULL, NULL);
	if (!wbd_manager_lookup_parent(self, config, &parent, error))
		return NULL;
	device = g_object_new(info->get_device_type(),
			      "id",
			      config->id,
			      "driver",
			      info,
			      "settings",
			      config->settings,
			      "parent",
			      parent,
			      NULL);
	if (!wbd_device_configure(device, error))
		return NULL;
	return g_steal_pointer(&device);
}

static void
wbd_manager_remove_device(WbdManager *self, WbdDevice *device)
{
	GPtrArray *children = wbd_device_get_children(device);
	WbdDevice *parent = wbd_device_get_parent(device);

	g_object_ref(device);
	g_info("removing device '%s'", wbd_device_get_id(device));
	g_hash_table_remove(self->configs, wbd_device_get_id(device));
	/* configured children (a hub's sub-devices) go with it and come back with it */
	for (guint i = 0; i < children->len; i++)
		g_hash_table_remove(self->configs, wbd_device_get_id(g_ptr_array_index(children, i)));
	if (parent != NULL) {
		wbd_device_remove_child(parent, device);
		g_object_unref(device);
		return;
	}
	/* unexport first, so that stopping (which drops the children) finds nothing left */
	wbd_manager_unexport_device(self, device);
	wbd_device_stop(device);
	g_object_unref(device);
}

static gboolean
wbd_manager_add_config(WbdManager *self, WbdDeviceConfig *config, GError **error)
{
	g_autoptr(WbdDevice) device = NULL;
	const gchar *enabled = g_hash_table_lookup(config->settings, "enabled");
	WbdDeviceConfig *copy;

	if (g_strcmp0(enabled, "false") == 0) {
		g_info("device '%s' is disabled in the configuration", config->id);
		return TRUE;
	}
	device = wbd_manager_create_device(self, config, error);
	if (device == NULL)
		return FALSE;
	copy = g_new0(WbdDeviceConfig, 1);
	copy->id = g_strdup(config->id);
	copy->origin = config->origin;
	copy->settings = g_hash_table_ref(config->settings);
	g_hash_table_insert(self->configs, g_strdup(config->id), copy);
	/* what RemoveDevice() accepts, so that clients offer only those */
	wattbus_device_set_removable(
	    wattbus_object_peek_device(WATTBUS_OBJECT(wbd_device_get_object(device))),
	    config->origin == WBD_CONFIG_ORIGIN_STATE);
	if (wbd_device_get_parent(device) != NULL) {
		/* exported by child-added; its parent reads it */
		wbd_device_add_child(wbd_device_get_parent(device), device);
		g_info("added device '%s' (%s, behind '%s')",
		       config->id,
		       wbd_device_get_driver_name(device),
		       wbd_device_get_id(wbd_device_get_parent(device)));
		return TRUE;
	}
	wbd_manager_export_device(self, device);
	g_info("added device '%s' (%s, %s)",
	       config->id,
	       wbd_device_get_driver_name(device),
	       wbd_device_get_address(device));
	wbd_device_start(device);
	return TRUE;
}

/**
 * wbd_manager_apply_config:
 *
 * Brings the running devices in line with @config: devices whose settings did not
 * change are left alone.
 */
static void
wbd_manager_apply_config(WbdManager *self, WbdConfig *config)
{
	g_autoptr(GHashTable) wanted = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GList) ids = NULL;

	for (guint i = 0; i < config->devices->len; i++) {
		WbdDeviceConfig *dev = g_ptr_array_index(config->devices, i);
		if (g_strcmp0(g_hash_table_lookup(dev->settings, "enabled"), "false") != 0)
			g_hash_table_insert(wanted, dev->id, dev);
	}

	ids = g_hash_table_get_keys(self->configs);
	for (GList *l = ids; l != NULL; l = l->next) {
		WbdDeviceConfig *old = g_hash_table_lookup(self->configs, l->data);
		WbdDeviceConfig *new = g_hash_table_lookup(wanted, l->data);
		WbdDevice *device = g_hash_table_lookup(self->devices, l->data);
		/* a sub-device that went with its hub: added again below */
		if (old == NULL || device == NULL)
			continue;
		if (new != NULL && new->origin == old->origin &&
		    wbd_config_settings_equal(old->settings, new->settings))
			continue;
		g_info("device '%s' %s", (const gchar *)l->data, new != NULL ? "changed" : "is gone");
		wbd_manager_remove_device(self, device);
	}
	/* top-level devices first, then the children (hubs' sub-devices) that name them */
	for (guint i = 0; i < config->devices->len * 2; i++) {
		WbdDeviceConfig *dev = g_ptr_array_index(config->devices, i % config->devices->len);
		g_autoptr(GError) error = NULL;
		if (!g_hash_table_contains(wanted, dev->id) || g_hash_table_contains(self->configs, dev->id) ||
		    (wbd_manager_config_parent(dev) != NULL) != (i >= config->devices->len))
			continue;
		if (g_hash_table_contains(self->devices, dev->id)) {
			g_warning("device '%s': the id is already used by another device", dev->id);
			continue;
		}
		if (!wbd_manager_add_config(self, dev, &error))
			g_warning("device '%s': %s", dev->id, error->message);
	}
	g_signal_emit(self, signals[SIGNAL_EXPORTERS_CONFIGURED], 0, config->exporters);
}

gboolean
wbd_manager_reload(WbdManager *self, GError **error)
{
	g_autoptr(WbdConfig) config = wbd_config_load(self->config_dir, self->state_dir, TRUE, error);
	if (config == NULL)
		return FALSE;
	g_message("reloading the configuration from %s", self->config_dir);
	wbd_manager_apply_config(self, config);
	return TRUE;
}

/* AddDevice */

typedef struct {
	WbdManager *self;
	GDBusMethodInvocation *invocation;
	GVariant *arg;
} CallData;

static void
call_data_free(CallData *data)
{
	g_clear_object(&data->self);
	g_clear_object(&data->invocation);
	g_clear_pointer(&data->arg, g_variant_unref);
	g_free(data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CallData, call_data_free)

/*
 * The invocation comes with the reference its handler owns, which completing it (a
 * return or an error) takes; @data holds one of its own, dropped when @data is freed.
 * So the invocation is completed as data->invocation, never stolen from @data: a stolen
 * one kept the incoming message alive for good (2 KiB a call).
 */
static CallData *
call_data_new(WbdManager *self, GDBusMethodInvocation *invocation, GVariant *arg)
{
	CallData *data = g_new0(CallData, 1);
	data->self = g_object_ref(self);
	data->invocation = g_object_ref(invocation);
	data->arg = arg != NULL ? g_variant_ref_sink(arg) : NULL; /* RemoveDevice: a new one */
	return data;
}

static gchar *
wbd_manager_unique_id(WbdManager *self, const gchar *base)
{
	gchar *id = g_strdup(base);
	for (guint n = 2; g_hash_table_contains(self->devices, id) ||
			  g_hash_table_contains(self->configs, id);
	     n++) {
		g_free(id);
		id = g_strdup_printf("%s-%u", base, n);
	}
	return id;
}

static void
wbd_manager_add_device_auth_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CallData) data = user_data;
	WbdManager *self = data->self;
	g_autoptr(GError) error = NULL;
	g_autoptr(GHashTable) settings = NULL;
	g_autoptr(WbdDeviceConfig) config = NULL;
	g_autofree gchar *id = NULL;
	WbdDevice *device;

	if (!wbd_auth_check_finish(WBD_AUTH(source), res, &error)) {
		wbd_return_dbus_error(data->invocation, error);
		return;
	}
	settings = wbd_config_settings_from_variant(data->arg, &error);
	if (settings == NULL) {
		wbd_return_dbus_error(data->invocation, error);
		return;
	}
	id = g_strdup(g_hash_table_lookup(settings, "id"));
	g_hash_table_remove(settings, "id");
	if (id == NULL) {
		const gchar *name = g_hash_table_lookup(settings, "name");
		const gchar *address = g_hash_table_lookup(settings, "address");
		g_autofree gchar *base = NULL;
		/* an address that is refused below may hold a password: not in the id */
		if (name == NULL &&
		    !wbd_config_validate_address(
			wbd_driver_lookup(g_hash_table_lookup(settings, "driver")), address, NULL))
			address = NULL;
		base = wbd_config_make_id(name != NULL ? name : address);
		id = wbd_manager_unique_id(self, base);
	}
	if (!wbd_config_validate_device(id, settings, TRUE, &error) ||
	    !wbd_config_check_bus_files(id, settings, &error)) {
		wbd_return_dbus_error(data->invocation, error);
		return;
	}
	if (g_hash_table_contains(self->devices, id) || g_hash_table_contains(self->configs, id)) {
		g_dbus_method_invocation_return_error(data->invocation,
						      WATTBUS_ERROR,
						      WATTBUS_ERROR_FAILED,
						      "A device with the id '%s' exists already",
						      id);
		return;
	}

	config = g_new0(WbdDeviceConfig, 1);
	config->id = g_strdup(id);
	config->origin = WBD_CONFIG_ORIGIN_STATE;
	config->settings = g_hash_table_ref(settings);
	/* check the driver accepts the settings before anything is stored */
	device = wbd_manager_create_device(self, config, &error);
	if (device == NULL) {
		wbd_return_dbus_error(data->invocation, error);
		return;
	}
	g_object_unref(device);
	if (!wbd_state_save_device(self->state_dir, id, settings, &error)) {
		wbd_return_dbus_error(data->invocation, error);
		return;
	}
	if (!wbd_manager_add_config(self, config, &error)) {
		wbd_return_dbus_error(data->invocation, error);
		return;
	}
	device = g_hash_table_lookup(self->devices, id);
	wattbus_manager_complete_add_device(self->skeleton,
					    data->invocation,
					    device != NULL ? wbd_device_get_object_path(device) : "/");
}

static gboolean
wbd_manager_handle_add_device(WattbusManager *skeleton,
			      GDBusMethodInvocation *invocation,
			      GVariant *settings,
			      WbdManager *self)
{
	wbd_auth_check_async(wbd_auth_get_default(),
			     invocation,
			     self->cancellable,
			     wbd_manager_add_device_auth_cb,
			     call_data_new(self, invocation, settings));
	return TRUE;
}

/* RemoveDevice */

static WbdDevice *
wbd_manager_lookup_path(WbdManager *self, const gchar *path)
{
	GHashTableIter iter;
	WbdDevice *device;
	g_hash_table_iter_init(&iter, self->devices);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&device)) {
		if (g_strcmp0(wbd_device_get_object_path(device), path) == 0)
			return device;
	}
	return NULL;
}

static void
wbd_manager_remove_device_auth_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CallData) data = user_data;
	WbdManager *self = data->self;
	g_autoptr(GError) error = NULL;
	const gchar *path = g_variant_get_string(data->arg, NULL);
	WbdDevice *device;
	WbdDeviceConfig *config;

	if (!wbd_auth_check_finish(WBD_AUTH(source), res, &error)) {
		wbd_return_dbus_error(data->invocation, error);
		return;
	}
	device = wbd_manager_lookup_path(self, path);
	if (device == NULL) {
		g_dbus_method_invocation_return_error(data->invocation,
						      WATTBUS_ERROR,
						      WATTBUS_ERROR_NOT_FOUND,
						      "No device at %s",
						      path);
		return;
	}
	if (wbd_device_get_parent(device) != NULL) {
		g_dbus_method_invocation_return_error(data->invocation,
						      WATTBUS_ERROR,
						      WATTBUS_ERROR_NOT_SUPPORTED,
						      "'%s' is an outlet of '%s': remove the whole strip",
						      wbd_device_get_id(device),
						      wbd_device_get_id(wbd_device_get_parent(device)));
		return;
	}
	config = g_hash_table_lookup(self->configs, wbd_device_get_id(device));
	if (config == NULL || config->origin != WBD_CONFIG_ORIGIN_STATE) {
		g_dbus_method_invocation_return_error(
		    data->invocation,
		    WATTBUS_ERROR,
		    WATTBUS_ERROR_NOT_SUPPORTED,
		    "Device '%s' comes from the configuration files in %s: edit them and reload",
		    wbd_device_get_id(device),
		    self->config_dir);
		return;
	}
	if (!wbd_state_remove_device(self->state_dir, wbd_device_get_id(device), &error)) {
		wbd_return_dbus_error(data->invocation, error);
		return;
	}
	g_object_ref(device);
	wbd_manager_remove_device(self, device);
	wbd_device_forget(device);
	g_object_unref(device);
	wattbus_manager_complete_remove_device(self->skeleton, data->invocation);
}

static gboolean
wbd_manager_handle_remove_device(WattbusManager *skeleton,
				 GDBusMethodInvocation *invocation,
				 const gchar *path,
				 WbdManager *self)
{
	wbd_auth_check_async(wbd_auth_get_default(),
			     invocation,
			     self->cancellable,
			     wbd_manager_remove_device_auth_cb,
			     call_data_new(self, invocation, g_variant_new_string(path)));
	return TRUE;
}

/* Reload */

static void
wbd_manager_reload_auth_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CallData) data = user_data;
	g_autoptr(GError) error = NULL;

	if (!wbd_auth_check_finish(WBD_AUTH(source), res, &error) ||
	    !wbd_manager_reload(data->self, &error)) {
		wbd_return_dbus_error(data->invocation, error);
		return;
	}
	wattbus_manager_complete_reload(data->self->skeleton, data->invocation);
}

static gboolean
wbd_manager_handle_reload(WattbusManager *skeleton,
			  GDBusMethodInvocation *invocation,
			  WbdManager *self)
{
	wbd_auth_check_async(wbd_auth_get_default(),
			     invocation,
			     self->cancellable,
			     wbd_manager_reload_auth_cb,
			     call_data_new(self, invocation, NULL));
	return TRUE;
}

/* Discover */

/* adds "configured": the object path of a configured device with that address */
static GVariant *
wbd_manager_annotate_result(WbdManager *self, GVariant *result)
{
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(result);
	const gchar *address = NULL;
	const gchar *driver = NULL;
	const gchar *path = "/";
	GHashTableIter iter;
	WbdDevice *device;

	g_variant_dict_lookup(&dict, "address", "&s", &address);
	g_variant_dict_lookup(&dict, "driver", "&s", &driver);
	g_hash_table_iter_init(&iter, self->devices);
	while (address != NULL && g_hash_table_iter_next(&iter, NULL, (gpointer *)&device)) {
		const gchar *configured = wbd_device_get_address(device);
		if (wbd_device_get_parent(device) != NULL ||
		    g_strcmp0(wbd_device_get_driver_name(device), driver) != 0)
			continue;
		if (g_strcmp0(configured, address) == 0 ||
		    (g_str_has_prefix(configured, address) && configured[strlen(address)] == ':')) {
			path = wbd_device_get_object_path(device);
			break;
		}
	}
	g_variant_dict_insert(&dict, "configured", "o", path);
	return g_variant_dict_end(&dict);
}

static void
wbd_manager_discover_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CallData) data = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) found = NULL;
	GVariantBuilder builder;

	found = wbd_discovery_run_finish(WBD_DISCOVERY(source), res, &error);
	if (found == NULL) {
		wbd_return_dbus_error(data->invocation, error);
		return;
	}
	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < found->len; i++)
		g_variant_builder_add_value(
		    &builder,
		    wbd_manager_annotate_result(data->self, g_ptr_array_index(found, i)));
	wattbus_manager_complete_discover(data->self->skeleton,
					  data->invocation,
					  g_variant_builder_end(&builder));
}

static gboolean
wbd_manager_handle_discover(WattbusManager *skeleton,
			    GDBusMethodInvocation *invocation,
			    GVariant *options,
			    WbdManager *self)
{
	wbd_discovery_run_async(self->discovery,
				invocation,
				options,
				self->cancellable,
				wbd_manager_discover_cb,
				call_data_new(self, invocation, NULL));
	return TRUE;
}

/* life cycle */

gboolean
wbd_manager_start(WbdManager *self, GError **error)
{
	g_autoptr(GPtrArray) drivers = wbd_driver_list();
	g_autoptr(GStrvBuilder) names = g_strv_builder_new();
	g_auto(GStrv) names_strv = NULL;
	g_autoptr(WbdConfig) config = NULL;

	for (guint i = 0; i < drivers->len; i++)
		g_strv_builder_add(names, ((const WbdDriverInfo *)g_ptr_array_index(drivers, i))->name);
	names_strv = g_strv_builder_end(names);
	wattbus_manager_set_version(self->skeleton, PACKAGE_VERSION);
	wattbus_manager_set_drivers(self->skeleton, (const gchar *const *)names_strv);

	if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(self->skeleton),
					      self->connection,
					      WBD_MANAGER_PATH,
					      error))
		return FALSE;
	wbd_object_manager_set_connection(self->object_manager, self->connection);

	/* at start-up a bad group is skipped with a warning; the rest still runs */
	config = wbd_config_load(self->config_dir, self->state_dir, FALSE, error);
	if (config == NULL)
		return FALSE;
	wbd_manager_apply_config(self, config);
	return TRUE;
}

static void
wbd_manager_dispose(GObject *object)
{
	WbdManager *self = WBD_MANAGER(object);
	if (self->cancellable != NULL)
		g_cancellable_cancel(self->cancellable);
	/* whoever follows the devices (the exporters) has let go of them by now: wattbusd
	 * ends the exporters first, so that what they accepted reaches their spool */
	if (self->devices != NULL) {
		GHashTableIter iter;
		WbdDevice *device;
		g_hash_table_iter_init(&iter, self->devices);
		while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&device)) {
			g_signal_handlers_disconnect_by_data(device, self);
			wbd_device_stop(device);
		}
		g_hash_table_remove_all(self->devices);
	}
	if (self->skeleton != NULL) {
		g_signal_handlers_disconnect_by_data(self->skeleton, self);
		g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(self->skeleton));
	}
	g_clear_object(&self->skeleton);
	g_clear_object(&self->object_manager);
	g_clear_object(&self->connection);
	G_OBJECT_CLASS(wbd_manager_parent_class)->dispose(object);
}

static void
wbd_manager_finalize(GObject *object)
{
	WbdManager *self = WBD_MANAGER(object);
	g_free(self->config_dir);
	g_free(self->state_dir);
	g_clear_pointer(&self->devices, g_hash_table_unref);
	g_clear_pointer(&self->configs, g_hash_table_unref);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->discovery);
	G_OBJECT_CLASS(wbd_manager_parent_class)->finalize(object);
}

static void
wbd_manager_class_init(WbdManagerClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = wbd_manager_dispose;
	object_class->finalize = wbd_manager_finalize;

	/**
	 * WbdManager::device-exported:
	 * @device: a device (or child) now on the bus
	 *
	 * For whoever follows every device (the exporters), which the manager does not know.
	 */
	signals[SIGNAL_DEVICE_EXPORTED] = g_signal_new("device-exported",
						       G_TYPE_FROM_CLASS(klass),
						       G_SIGNAL_RUN_LAST,
						       0,
						       NULL,
						       NULL,
						       NULL,
						       G_TYPE_NONE,
						       1,
						       WBD_TYPE_DEVICE);
	/**
	 * WbdManager::device-unexported:
	 * @device: a device (or child) about to leave the bus
	 */
	signals[SIGNAL_DEVICE_UNEXPORTED] = g_signal_new("device-unexported",
							 G_TYPE_FROM_CLASS(klass),
							 G_SIGNAL_RUN_LAST,
							 0,
							 NULL,
							 NULL,
							 NULL,
							 G_TYPE_NONE,
							 1,
							 WBD_TYPE_DEVICE);
	/**
	 * WbdManager::exporters-configured:
	 * @configs: (element-type WbdExporterConfig): the `[exporter ID]` groups of the
	 *   configuration just applied (at start and at every reload)
	 */
	signals[SIGNAL_EXPORTERS_CONFIGURED] = g_signal_new("exporters-configured",
							    G_TYPE_FROM_CLASS(klass),
							    G_SIGNAL_RUN_LAST,
							    0,
							    NULL,
							    NULL,
							    NULL,
							    G_TYPE_NONE,
							    1,
							    G_TYPE_PTR_ARRAY);
}

static void
wbd_manager_init(WbdManager *self)
{
	self->devices = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	self->configs = g_hash_table_new_full(g_str_hash,
					      g_str_equal,
					      g_free,
					      (GDestroyNotify)wbd_device_config_free);
	self->cancellable = g_cancellable_new();
	self->discovery = wbd_discovery_new();
	self->object_manager = wbd_object_manager_new(WBD_MANAGER_PATH);
	self->skeleton = wattbus_manager_skeleton_new();
	g_signal_connect(self->skeleton,
			 "handle-add-device",
			 G_CALLBACK(wbd_manager_handle_add_device),
			 self);
	g_signal_connect(self->skeleton,
			 "handle-remove-device",
			 G_CALLBACK(wbd_manager_handle_remove_device),
			 self);
	g_signal_connect(self->skeleton, "handle-reload", G_CALLBACK(wbd_manager_handle_reload), self);
	g_signal_connect(self->skeleton,
			 "handle-discover",
			 G_CALLBACK(wbd_manager_handle_discover),
			 self);
}

/* where the devices are exported: the exporters' objects go there too */
WbdObjectManager *
wbd_manager_get_object_manager(WbdManager *self)
{
	g_return_val_if_fail(WBD_IS_MANAGER(self), NULL);
	return self->object_manager;
}

WbdManager *
wbd_manager_new(GDBusConnection *connection, const gchar *config_dir, const gchar *state_dir)
{
	WbdManager *self = g_object_new(WBD_TYPE_MANAGER, NULL);
	self->connection = g_object_ref(connection);
	self->config_dir = g_strdup(config_dir);
	self->state_dir = g_strdup(state_dir);
	return self;
}
