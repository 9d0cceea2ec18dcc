/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gio/gio.h>

#include "wattbus-client-private.h"
#include "wattbus-client.h"
#include "wattbus-error.h"

/* the devices and the methods of the manager, apart from the object itself in
 * wattbus-client.c */

#define WATTBUS_CLIENT_DEFAULT_TIMEOUT_MS   25000
#define WATTBUS_CLIENT_DISCOVER_EXTRA_MS    10000
#define WATTBUS_CLIENT_DISCOVER_DEFAULT_SEC 3

/* devices */

static gint
wattbus_client_device_compare(gconstpointer a, gconstpointer b)
{
	WattbusObject *obj_a = WATTBUS_OBJECT((gpointer)a);
	WattbusObject *obj_b = WATTBUS_OBJECT((gpointer)b);
	gint rc;

	rc = g_strcmp0(wattbus_device_get_id(wattbus_object_peek_device(obj_a)),
		       wattbus_device_get_id(wattbus_object_peek_device(obj_b)));
	if (rc != 0)
		return rc;
	return g_strcmp0(g_dbus_object_get_object_path(G_DBUS_OBJECT(obj_a)),
			 g_dbus_object_get_object_path(G_DBUS_OBJECT(obj_b)));
}

/**
 * wattbus_client_list_devices:
 * @self: a #WattbusClient
 *
 * Lists the devices of the daemon: every object under
 * `/org/wattbus/Wattbus1/Devices/`, sorted by #WattbusDevice:id. Child outlets of a
 * strip are devices too; their #WattbusDevice:parent is the path of the strip.
 *
 * Returns: (transfer full) (element-type Wattbus.Object): the devices; empty when the
 *   daemon is not running, and for a client made with
 *   %WATTBUS_CLIENT_FLAGS_DO_NOT_LOAD_DEVICES
 *
 * Since: 0.1
 */
GList *
wattbus_client_list_devices(WattbusClient *self)
{
	GDBusObjectManager *object_manager;
	GList *objects;
	GList *devices = NULL;

	g_return_val_if_fail(WATTBUS_IS_CLIENT(self), NULL);

	object_manager = wattbus_client_get_object_manager(self);
	if (object_manager == NULL)
		return NULL;
	objects = g_dbus_object_manager_get_objects(object_manager);
	for (GList *l = objects; l != NULL; l = l->next) {
		GDBusObject *object = G_DBUS_OBJECT(l->data);
		if (wattbus_client_object_is_device(object))
			devices = g_list_prepend(devices, g_object_ref(object));
	}
	g_list_free_full(objects, g_object_unref);
	return g_list_sort(devices, wattbus_client_device_compare);
}

/**
 * wattbus_client_lookup_device:
 * @self: a #WattbusClient
 * @id_or_path: a device id (#WattbusDevice:id) or the object path of a device
 *
 * Finds a device by its id or by its object path among the devices of the client.
 * A client made with %WATTBUS_CLIENT_FLAGS_DO_NOT_LOAD_DEVICES has none: use
 * wattbus_client_get_device() there.
 *
 * Returns: (transfer full) (nullable): the #WattbusObject of the device, or %NULL when
 *   there is no such device
 *
 * Since: 0.1
 */
WattbusObject *
wattbus_client_lookup_device(WattbusClient *self, const gchar *id_or_path)
{
	GDBusObjectManager *object_manager;
	g_autoptr(GDBusObject) object = NULL;
	g_autofree gchar *path = NULL;
	GList *objects;

	g_return_val_if_fail(WATTBUS_IS_CLIENT(self), NULL);
	g_return_val_if_fail(id_or_path != NULL, NULL);

	object_manager = wattbus_client_get_object_manager(self);
	if (object_manager == NULL)
		return NULL;

	if (id_or_path[0] == '/') {
		if (!g_variant_is_object_path(id_or_path))
			return NULL;
		object = g_dbus_object_manager_get_object(object_manager, id_or_path);
		if (object == NULL || !wattbus_client_object_is_device(object))
			return NULL;
		return WATTBUS_OBJECT(g_steal_pointer(&object));
	}

	/* by id */
	objects = g_dbus_object_manager_get_objects(object_manager);
	for (GList *l = objects; l != NULL; l = l->next) {
		GDBusObject *candidate = G_DBUS_OBJECT(l->data);
		WattbusDevice *device;

		if (!wattbus_client_object_is_device(candidate))
			continue;
		device = wattbus_object_peek_device(WATTBUS_OBJECT(candidate));
		if (g_strcmp0(wattbus_device_get_id(device), id_or_path) == 0) {
			object = g_object_ref(candidate);
			break;
		}
	}
	g_list_free_full(objects, g_object_unref);
	if (object != NULL)
		return WATTBUS_OBJECT(g_steal_pointer(&object));

	/* the id property may not be loaded yet; try the path the daemon builds from it */
	if (id_or_path[0] == '\0')
		return NULL;
	path = wattbus_build_device_path(id_or_path);
	object = g_dbus_object_manager_get_object(object_manager, path);
	if (object == NULL || !wattbus_client_object_is_device(object))
		return NULL;
	return WATTBUS_OBJECT(g_steal_pointer(&object));
}

/* resolves a device id or path to an object path for a method call */
static gchar *
wattbus_client_resolve_device_path(WattbusClient *self, const gchar *id_or_path, GError **error)
{
	g_autoptr(WattbusObject) object = NULL;

	if (id_or_path == NULL || id_or_path[0] == '\0') {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "no device given");
		return NULL;
	}
	if (id_or_path[0] == '/') {
		if (!g_variant_is_object_path(id_or_path)) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "'%s' is not an object path",
				    id_or_path);
			return NULL;
		}
		return g_strdup(id_or_path);
	}
	object = wattbus_client_lookup_device(self, id_or_path);
	if (object != NULL)
		return g_strdup(g_dbus_object_get_object_path(G_DBUS_OBJECT(object)));
	/* let the daemon decide */
	return wattbus_build_device_path(id_or_path);
}

/* method calls */

static void
wattbus_client_task_return_error(GTask *task, GError *error)
{
	g_dbus_error_strip_remote_error(error);
	g_task_return_error(task, error);
}

static void
wattbus_client_strip_error(GError **error)
{
	if (error != NULL && *error != NULL)
		g_dbus_error_strip_remote_error(*error);
}

static void
wattbus_client_add_device_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autofree gchar *path = NULL;
	GError *error = NULL;

	if (!wattbus_manager_call_add_device_finish(WATTBUS_MANAGER(source), &path, res, &error)) {
		wattbus_client_task_return_error(task, error);
		return;
	}
	g_task_return_pointer(task, g_steal_pointer(&path), g_free);
}

/**
 * wattbus_client_add_device:
 * @self: a #WattbusClient
 * @settings: the settings of the device, a `a{sv}` dictionary; consumed if floating.
 *   See `AddDevice` in `org.wattbus.Wattbus1` for the keys.
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the daemon has answered
 * @user_data: (closure): data for @callback
 *
 * Adds a device to the daemon, which stores it so that it is back after a restart.
 * Finish with wattbus_client_add_device_finish().
 *
 * Since: 0.1
 */
void
wattbus_client_add_device(WattbusClient *self,
			  GVariant *settings,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data)
{
	GTask *task;

	g_return_if_fail(WATTBUS_IS_CLIENT(self));
	g_return_if_fail(settings != NULL);
	g_return_if_fail(g_variant_is_of_type(settings, G_VARIANT_TYPE_VARDICT));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, wattbus_client_add_device);
	wattbus_manager_call_add_device(wattbus_client_get_manager_proxy(self),
					settings,
					cancellable,
					wattbus_client_add_device_cb,
					task);
}

/**
 * wattbus_client_add_device_finish:
 * @self: a #WattbusClient
 * @res: the #GAsyncResult passed to the callback
 * @error: return location for a #GError, in the %WATTBUS_ERROR domain for errors of
 *   the daemon
 *
 * Returns: (transfer full): the object path of the new device, or %NULL on error
 *
 * Since: 0.1
 */
gchar *
wattbus_client_add_device_finish(WattbusClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(WATTBUS_IS_CLIENT(self), NULL);
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

/**
 * wattbus_client_add_device_sync:
 * @self: a #WattbusClient
 * @settings: the settings of the device, a `a{sv}` dictionary; consumed if floating
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking version of wattbus_client_add_device().
 *
 * Returns: (transfer full): the object path of the new device, or %NULL on error
 *
 * Since: 0.1
 */
gchar *
wattbus_client_add_device_sync(WattbusClient *self,
			       GVariant *settings,
			       GCancellable *cancellable,
			       GError **error)
{
	g_autofree gchar *path = NULL;

	g_return_val_if_fail(WATTBUS_IS_CLIENT(self), NULL);
	g_return_val_if_fail(settings != NULL, NULL);
	g_return_val_if_fail(g_variant_is_of_type(settings, G_VARIANT_TYPE_VARDICT), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!wattbus_manager_call_add_device_sync(wattbus_client_get_manager_proxy(self),
						  settings,
						  &path,
						  cancellable,
						  error)) {
		wattbus_client_strip_error(error);
		return NULL;
	}
	return g_steal_pointer(&path);
}

static void
wattbus_client_void_call_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GVariant) ret = NULL;
	GError *error = NULL;

	ret = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), res, &error);
	if (ret == NULL) {
		wattbus_client_task_return_error(task, error);
		return;
	}
	g_task_return_boolean(task, TRUE);
}

/**
 * wattbus_client_remove_device:
 * @self: a #WattbusClient
 * @id_or_path: the id or the object path of a device added with
 *   wattbus_client_add_device()
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the daemon has answered
 * @user_data: (closure): data for @callback
 *
 * Removes a device that was added with wattbus_client_add_device(). Devices of the
 * configuration files cannot be removed this way (%WATTBUS_ERROR_NOT_SUPPORTED).
 * Finish with wattbus_client_remove_device_finish().
 *
 * Since: 0.1
 */
void
wattbus_client_remove_device(WattbusClient *self,
			     const gchar *id_or_path,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autofree gchar *path = NULL;
	GError *error = NULL;

	g_return_if_fail(WATTBUS_IS_CLIENT(self));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, wattbus_client_remove_device);
	path = wattbus_client_resolve_device_path(self, id_or_path, &error);
	if (path == NULL) {
		g_task_return_error(task, error);
		return;
	}
	g_dbus_proxy_call(G_DBUS_PROXY(wattbus_client_get_manager_proxy(self)),
			  "RemoveDevice",
			  g_variant_new("(o)", path),
			  G_DBUS_CALL_FLAGS_NONE,
			  -1,
			  cancellable,
			  wattbus_client_void_call_cb,
			  g_steal_pointer(&task));
}

/**
 * wattbus_client_remove_device_finish:
 * @self: a #WattbusClient
 * @res: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE when the device was removed
 *
 * Since: 0.1
 */
gboolean
wattbus_client_remove_device_finish(WattbusClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(WATTBUS_IS_CLIENT(self), FALSE);
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/**
 * wattbus_client_remove_device_sync:
 * @self: a #WattbusClient
 * @id_or_path: the id or the object path of the device
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking version of wattbus_client_remove_device().
 *
 * Returns: %TRUE when the device was removed
 *
 * Since: 0.1
 */
gboolean
wattbus_client_remove_device_sync(WattbusClient *self,
				  const gchar *id_or_path,
				  GCancellable *cancellable,
				  GError **error)
{
	g_autofree gchar *path = NULL;

	g_return_val_if_fail(WATTBUS_IS_CLIENT(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	path = wattbus_client_resolve_device_path(self, id_or_path, error);
	if (path == NULL)
		return FALSE;
	if (!wattbus_manager_call_remove_device_sync(wattbus_client_get_manager_proxy(self),
						     path,
						     cancellable,
						     error)) {
		wattbus_client_strip_error(error);
		return FALSE;
	}
	return TRUE;
}

/* Discover runs for up to its own timeout, so the call waits longer than that */
static gint
wattbus_client_discover_timeout_ms(GVariant *options)
{
	g_autoptr(GVariant) value = NULL;
	gdouble seconds = WATTBUS_CLIENT_DISCOVER_DEFAULT_SEC;
	gint timeout_ms;

	value = g_variant_lookup_value(options, "timeout", NULL);
	if (value != NULL && g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32))
		seconds = g_variant_get_uint32(value);
	else if (value != NULL && g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE))
		seconds = g_variant_get_double(value);
	seconds = CLAMP(seconds, 0, 3600);
	timeout_ms = (gint)(seconds * 1000) + WATTBUS_CLIENT_DISCOVER_EXTRA_MS;
	return MAX(timeout_ms, WATTBUS_CLIENT_DEFAULT_TIMEOUT_MS);
}

static GVariant *
wattbus_client_discover_options(GVariant *options)
{
	if (options == NULL)
		return g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0);
	return options;
}

static void
wattbus_client_discover_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GVariant) ret = NULL;
	GError *error = NULL;

	ret = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), res, &error);
	if (ret == NULL) {
		wattbus_client_task_return_error(task, error);
		return;
	}
	g_task_return_pointer(task,
			      g_variant_get_child_value(ret, 0),
			      (GDestroyNotify)g_variant_unref);
}

/**
 * wattbus_client_discover:
 * @self: a #WattbusClient
 * @options: (nullable): a `a{sv}` dictionary of options, consumed if floating:
 *   `driver` (`s`), `timeout` (`u` or `d`, seconds), `target` (`s`)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the search has ended
 * @user_data: (closure): data for @callback
 *
 * Looks for devices on the local network for a bounded time. Finish with
 * wattbus_client_discover_finish().
 *
 * Since: 0.1
 */
void
wattbus_client_discover(WattbusClient *self,
			GVariant *options,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data)
{
	GTask *task;
	gint timeout_ms;

	g_return_if_fail(WATTBUS_IS_CLIENT(self));
	g_return_if_fail(options == NULL || g_variant_is_of_type(options, G_VARIANT_TYPE_VARDICT));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	options = wattbus_client_discover_options(options);
	timeout_ms = wattbus_client_discover_timeout_ms(options);
	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, wattbus_client_discover);
	g_dbus_proxy_call(G_DBUS_PROXY(wattbus_client_get_manager_proxy(self)),
			  "Discover",
			  g_variant_new("(@a{sv})", options),
			  G_DBUS_CALL_FLAGS_NONE,
			  timeout_ms,
			  cancellable,
			  wattbus_client_discover_cb,
			  task);
}

/**
 * wattbus_client_discover_finish:
 * @self: a #WattbusClient
 * @res: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the devices found, a `aa{sv}` array with one dictionary per
 *   device, or %NULL on error
 *
 * Since: 0.1
 */
GVariant *
wattbus_client_discover_finish(WattbusClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(WATTBUS_IS_CLIENT(self), NULL);
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

/**
 * wattbus_client_discover_sync:
 * @self: a #WattbusClient
 * @options: (nullable): a `a{sv}` dictionary of options, consumed if floating
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking version of wattbus_client_discover().
 *
 * Returns: (transfer full): the devices found, a `aa{sv}` array, or %NULL on error
 *
 * Since: 0.1
 */
GVariant *
wattbus_client_discover_sync(WattbusClient *self,
			     GVariant *options,
			     GCancellable *cancellable,
			     GError **error)
{
	g_autoptr(GVariant) ret = NULL;
	gint timeout_ms;

	g_return_val_if_fail(WATTBUS_IS_CLIENT(self), NULL);
	g_return_val_if_fail(options == NULL ||
				 g_variant_is_of_type(options, G_VARIANT_TYPE_VARDICT),
			     NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	options = wattbus_client_discover_options(options);
	timeout_ms = wattbus_client_discover_timeout_ms(options);
	ret = g_dbus_proxy_call_sync(G_DBUS_PROXY(wattbus_client_get_manager_proxy(self)),
				     "Discover",
				     g_variant_new("(@a{sv})", options),
				     G_DBUS_CALL_FLAGS_NONE,
				     timeout_ms,
				     cancellable,
				     error);
	if (ret == NULL) {
		wattbus_client_strip_error(error);
		return NULL;
	}
	return g_variant_get_child_value(ret, 0);
}

/**
 * wattbus_client_reload:
 * @self: a #WattbusClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the daemon has answered
 * @user_data: (closure): data for @callback
 *
 * Asks the daemon to read its configuration files again. Finish with
 * wattbus_client_reload_finish().
 *
 * Since: 0.1
 */
void
wattbus_client_reload(WattbusClient *self,
		      GCancellable *cancellable,
		      GAsyncReadyCallback callback,
		      gpointer user_data)
{
	GTask *task;

	g_return_if_fail(WATTBUS_IS_CLIENT(self));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, wattbus_client_reload);
	g_dbus_proxy_call(G_DBUS_PROXY(wattbus_client_get_manager_proxy(self)),
			  "Reload",
			  NULL,
			  G_DBUS_CALL_FLAGS_NONE,
			  -1,
			  cancellable,
			  wattbus_client_void_call_cb,
			  task);
}

/**
 * wattbus_client_reload_finish:
 * @self: a #WattbusClient
 * @res: the #GAsyncResult passed to the callback
 * @error: return location for a #GError; %WATTBUS_ERROR_INVALID_ARGUMENT when the
 *   configuration has errors
 *
 * Returns: %TRUE when the configuration was applied
 *
 * Since: 0.1
 */
gboolean
wattbus_client_reload_finish(WattbusClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(WATTBUS_IS_CLIENT(self), FALSE);
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/**
 * wattbus_client_reload_sync:
 * @self: a #WattbusClient
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The blocking version of wattbus_client_reload().
 *
 * Returns: %TRUE when the configuration was applied
 *
 * Since: 0.1
 */
gboolean
wattbus_client_reload_sync(WattbusClient *self, GCancellable *cancellable, GError **error)
{
	g_return_val_if_fail(WATTBUS_IS_CLIENT(self), FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
	if (!wattbus_manager_call_reload_sync(wattbus_client_get_manager_proxy(self),
					      cancellable,
					      error)) {
		wattbus_client_strip_error(error);
		return FALSE;
	}
	return TRUE;
}
