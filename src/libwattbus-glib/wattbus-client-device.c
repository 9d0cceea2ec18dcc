/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gio/gio.h>

#include "wattbus-client-private.h"
#include "wattbus-client.h"
#include "wattbus-error.h"

/* a client that loads no device (%WATTBUS_CLIENT_FLAGS_DO_NOT_LOAD_DEVICES), and one
 * device without the object manager: its interfaces from Introspect, one proxy each
 * (whose construction is one Properties.GetAll), held by a small #WattbusObject of our
 * own, since a #GDBusObjectProxy cannot be given interfaces outside GIO */

#define WATTBUS_CLIENT_INTERFACE_PREFIX WATTBUS_DBUS_NAME "."
#define WATTBUS_CLIENT_DEVICE_INTERFACE WATTBUS_DBUS_NAME ".Device"

/* constructors with flags */

/**
 * wattbus_client_new_with_flags:
 * @bus_type: the bus of the daemon: %G_BUS_TYPE_SYSTEM, or %G_BUS_TYPE_SESSION for tests
 * @flags: how to make the client, for example without loading the devices
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the client is ready
 * @user_data: (closure): data for @callback
 *
 * Like wattbus_client_new(), with @flags. Finish with wattbus_client_new_finish().
 *
 * Since: 0.2
 */
void
wattbus_client_new_with_flags(GBusType bus_type,
			      WattbusClientFlags flags,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data)
{
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));
	g_async_initable_new_async(WATTBUS_TYPE_CLIENT,
				   G_PRIORITY_DEFAULT,
				   cancellable,
				   callback,
				   user_data,
				   "bus-type",
				   bus_type,
				   "flags",
				   flags,
				   NULL);
}

/**
 * wattbus_client_new_with_flags_sync:
 * @bus_type: the bus of the daemon: %G_BUS_TYPE_SYSTEM, or %G_BUS_TYPE_SESSION for tests
 * @flags: how to make the client, for example without loading the devices
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Like wattbus_client_new_sync(), with @flags.
 *
 * Returns: (transfer full): a new #WattbusClient, or %NULL when the bus cannot be reached
 *
 * Since: 0.2
 */
WattbusClient *
wattbus_client_new_with_flags_sync(GBusType bus_type,
				   WattbusClientFlags flags,
				   GCancellable *cancellable,
				   GError **error)
{
	g_return_val_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);
	return g_initable_new(WATTBUS_TYPE_CLIENT,
			      cancellable,
			      error,
			      "bus-type",
			      bus_type,
			      "flags",
			      flags,
			      NULL);
}

/* the object */

#define WATTBUS_TYPE_CLIENT_OBJECT (wattbus_client_object_get_type())
G_DECLARE_FINAL_TYPE(WattbusClientObject, wattbus_client_object, WATTBUS, CLIENT_OBJECT, GObject)

struct _WattbusClientObject {
	GObject parent_instance;
	gchar *object_path;
	GPtrArray *interfaces; /* of GDBusProxy */
};

static void
wattbus_client_object_dbus_object_iface_init(GDBusObjectIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(WattbusClientObject,
			      wattbus_client_object,
			      G_TYPE_OBJECT,
			      G_IMPLEMENT_INTERFACE(G_TYPE_DBUS_OBJECT,
						    wattbus_client_object_dbus_object_iface_init)
				  G_IMPLEMENT_INTERFACE(WATTBUS_TYPE_OBJECT, NULL))

static const gchar *
wattbus_client_object_get_object_path(GDBusObject *object)
{
	return WATTBUS_CLIENT_OBJECT(object)->object_path;
}

static GDBusInterface *
wattbus_client_object_get_interface(GDBusObject *object, const gchar *interface_name)
{
	WattbusClientObject *self = WATTBUS_CLIENT_OBJECT(object);

	for (guint i = 0; i < self->interfaces->len; i++) {
		GDBusProxy *proxy = g_ptr_array_index(self->interfaces, i);
		if (g_strcmp0(g_dbus_proxy_get_interface_name(proxy), interface_name) == 0)
			return g_object_ref(G_DBUS_INTERFACE(proxy));
	}
	return NULL;
}

static GList *
wattbus_client_object_get_interfaces(GDBusObject *object)
{
	WattbusClientObject *self = WATTBUS_CLIENT_OBJECT(object);
	GList *list = NULL;

	for (guint i = self->interfaces->len; i > 0; i--)
		list = g_list_prepend(list, g_object_ref(g_ptr_array_index(self->interfaces, i - 1)));
	return list;
}

static void
wattbus_client_object_dbus_object_iface_init(GDBusObjectIface *iface)
{
	iface->get_object_path = wattbus_client_object_get_object_path;
	iface->get_interface = wattbus_client_object_get_interface;
	iface->get_interfaces = wattbus_client_object_get_interfaces;
}

/* the properties of #WattbusObject ("device", "outlet"...), each the interface of its type */
static void
wattbus_client_object_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	WattbusClientObject *self = WATTBUS_CLIENT_OBJECT(object);

	for (guint i = 0; i < self->interfaces->len; i++) {
		GObject *proxy = g_ptr_array_index(self->interfaces, i);
		if (G_TYPE_CHECK_INSTANCE_TYPE(proxy, pspec->value_type)) {
			g_value_set_object(value, proxy);
			return;
		}
	}
	g_value_set_object(value, NULL);
}

/* read-only here: the interfaces are those the device had when it was looked up */
static void
wattbus_client_object_set_property(GObject *object,
				   guint prop_id,
				   const GValue *value,
				   GParamSpec *pspec)
{
	G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
}

static void
wattbus_client_object_dispose(GObject *object)
{
	WattbusClientObject *self = WATTBUS_CLIENT_OBJECT(object);

	for (guint i = 0; i < self->interfaces->len; i++)
		g_dbus_interface_set_object(g_ptr_array_index(self->interfaces, i), NULL);
	g_ptr_array_set_size(self->interfaces, 0);
	G_OBJECT_CLASS(wattbus_client_object_parent_class)->dispose(object);
}

static void
wattbus_client_object_finalize(GObject *object)
{
	WattbusClientObject *self = WATTBUS_CLIENT_OBJECT(object);

	g_ptr_array_unref(self->interfaces);
	g_free(self->object_path);
	G_OBJECT_CLASS(wattbus_client_object_parent_class)->finalize(object);
}

static void
wattbus_client_object_init(WattbusClientObject *self)
{
	self->interfaces = g_ptr_array_new_with_free_func(g_object_unref);
}

static void
wattbus_client_object_class_init(WattbusClientObjectClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	gpointer iface = g_type_default_interface_ref(WATTBUS_TYPE_OBJECT);
	g_autofree GParamSpec **pspecs = NULL;
	guint n_pspecs = 0;

	object_class->get_property = wattbus_client_object_get_property;
	object_class->set_property = wattbus_client_object_set_property;
	object_class->dispose = wattbus_client_object_dispose;
	object_class->finalize = wattbus_client_object_finalize;

	pspecs = g_object_interface_list_properties(iface, &n_pspecs);
	for (guint i = 0; i < n_pspecs; i++)
		g_object_class_override_property(object_class, i + 1, pspecs[i]->name);
	g_type_default_interface_unref(iface);
}

static gint
wattbus_client_object_compare(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(g_dbus_proxy_get_interface_name(*(GDBusProxy **)a),
			 g_dbus_proxy_get_interface_name(*(GDBusProxy **)b));
}

/* takes @proxies, the interfaces of the object at @path */
static WattbusObject *
wattbus_client_object_new(const gchar *path, GPtrArray *proxies)
{
	WattbusClientObject *self = g_object_new(WATTBUS_TYPE_CLIENT_OBJECT, NULL);

	self->object_path = g_strdup(path);
	/* in the same order whichever proxy was ready first */
	g_ptr_array_sort(proxies, wattbus_client_object_compare);
	for (guint i = 0; i < proxies->len; i++) {
		GDBusInterface *proxy = g_ptr_array_index(proxies, i);
		g_dbus_interface_set_object(proxy, G_DBUS_OBJECT(self));
		g_ptr_array_add(self->interfaces, g_object_ref(proxy));
	}
	g_ptr_array_unref(proxies);
	return WATTBUS_OBJECT(self);
}

/* looking a device up */

/**
 * wattbus_build_device_path:
 * @id: a device id (#WattbusDevice:id)
 *
 * Builds the object path of the device with id @id, as the daemon does: the id escaped
 * with g_dbus_escape_object_path() under %WATTBUS_DBUS_DEVICES_PATH. The path of a
 * device is known without asking the daemon whether it exists.
 *
 * Returns: (transfer full): the object path
 *
 * Since: 0.2
 */
gchar *
wattbus_build_device_path(const gchar *id)
{
	g_autofree gchar *escaped = NULL;

	g_return_val_if_fail(id != NULL, NULL);
	escaped = g_dbus_escape_object_path(id);
	return g_strconcat(WATTBUS_DBUS_DEVICES_PATH "/", escaped, NULL);
}

typedef struct {
	gchar *id_or_path; /* as given, for errors */
	gchar *path;
	GPtrArray *proxies; /* the interfaces made so far */
	guint pending;
	GError *error; /* the first error of a proxy */
} GetDeviceData;

static void
get_device_data_free(GetDeviceData *data)
{
	g_free(data->id_or_path);
	g_free(data->path);
	g_clear_pointer(&data->proxies, g_ptr_array_unref);
	g_clear_error(&data->error);
	g_free(data);
}

static void
wattbus_client_set_not_found(GError **error, const gchar *id_or_path)
{
	g_set_error(error, WATTBUS_ERROR, WATTBUS_ERROR_NOT_FOUND, "no device '%s'", id_or_path);
}

/* the object path for a device id or path, or a %WATTBUS_ERROR_NOT_FOUND error */
static gchar *
wattbus_client_device_path_for(const gchar *id_or_path, GError **error)
{
	g_autofree gchar *path = NULL;

	if (id_or_path[0] == '/')
		path = g_strdup(id_or_path);
	else if (id_or_path[0] != '\0')
		path = wattbus_build_device_path(id_or_path);
	if (path == NULL || !g_variant_is_object_path(path) ||
	    !g_str_has_prefix(path, WATTBUS_DBUS_DEVICES_PATH "/")) {
		wattbus_client_set_not_found(error, id_or_path);
		return NULL;
	}
	return g_steal_pointer(&path);
}

/* the device interfaces in the reply to Introspect, or a %WATTBUS_ERROR_NOT_FOUND error
 * when the object is not a device */
static GStrv
wattbus_client_parse_interfaces(GVariant *reply, const gchar *id_or_path, GError **error)
{
	g_autoptr(GDBusNodeInfo) node = NULL;
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	const gchar *xml = NULL;
	gboolean is_device = FALSE;

	g_variant_get(reply, "(&s)", &xml);
	node = g_dbus_node_info_new_for_xml(xml, NULL);
	for (guint i = 0; node != NULL && node->interfaces[i] != NULL; i++) {
		const gchar *name = node->interfaces[i]->name;
		if (!g_str_has_prefix(name, WATTBUS_CLIENT_INTERFACE_PREFIX))
			continue;
		is_device |= g_str_equal(name, WATTBUS_CLIENT_DEVICE_INTERFACE);
		g_strv_builder_add(builder, name);
	}
	if (!is_device) {
		wattbus_client_set_not_found(error, id_or_path);
		return NULL;
	}
	return g_strv_builder_end(builder);
}

/* an error of Introspect: no such object is no such device */
static GError *
wattbus_client_introspect_error(GError *error, const gchar *id_or_path)
{
	GError *not_found = NULL;

	if (!g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT) &&
	    !g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD))
		return error;
	g_error_free(error);
	wattbus_client_set_not_found(&not_found, id_or_path);
	return not_found;
}

static GDBusObject *
wattbus_client_loaded_device(WattbusClient *self, const gchar *id_or_path, GError **error)
{
	WattbusObject *object = wattbus_client_lookup_device(self, id_or_path);

	if (object == NULL)
		wattbus_client_set_not_found(error, id_or_path);
	return object != NULL ? G_DBUS_OBJECT(object) : NULL;
}

/* the properties of the proxies of one device are loaded; signals only where the
 * interface has some (the PropertiesChanged subscription is always made) */
static GDBusProxyFlags
wattbus_client_proxy_flags(void)
{
	return G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START;
}

static GType
wattbus_client_proxy_type(const gchar *path, const gchar *interface_name)
{
	return wattbus_object_manager_client_get_proxy_type(NULL, path, interface_name, NULL);
}

static void
wattbus_client_get_device_return(GTask *task)
{
	GetDeviceData *data = g_task_get_task_data(task);

	if (data->error != NULL)
		g_task_return_error(task, g_steal_pointer(&data->error));
	else
		g_task_return_pointer(task,
				      wattbus_client_object_new(data->path,
								g_steal_pointer(&data->proxies)),
				      g_object_unref);
}

static void
wattbus_client_get_device_proxy_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	GetDeviceData *data = g_task_get_task_data(task);
	GError *error = NULL;
	GObject *proxy;

	proxy = g_async_initable_new_finish(G_ASYNC_INITABLE(source), res, &error);
	if (proxy != NULL)
		g_ptr_array_add(data->proxies, proxy);
	else if (data->error == NULL)
		data->error = error;
	else
		g_error_free(error);
	if (--data->pending == 0)
		wattbus_client_get_device_return(task);
}

static void
wattbus_client_get_device_introspect_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	GetDeviceData *data = g_task_get_task_data(task);
	WattbusClient *self = g_task_get_source_object(task);
	g_autoptr(GVariant) reply = NULL;
	g_auto(GStrv) names = NULL;
	GError *error = NULL;

	reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
	if (reply == NULL) {
		g_task_return_error(task, wattbus_client_introspect_error(error, data->id_or_path));
		return;
	}
	names = wattbus_client_parse_interfaces(reply, data->id_or_path, &error);
	if (names == NULL) {
		g_task_return_error(task, error);
		return;
	}
	data->proxies = g_ptr_array_new_with_free_func(g_object_unref);
	data->pending = g_strv_length(names);
	for (guint i = 0; names[i] != NULL; i++)
		g_async_initable_new_async(wattbus_client_proxy_type(data->path, names[i]),
					   g_task_get_priority(task),
					   g_task_get_cancellable(task),
					   wattbus_client_get_device_proxy_cb,
					   g_object_ref(task),
					   "g-connection",
					   wattbus_client_get_connection(self),
					   "g-name",
					   WATTBUS_DBUS_NAME,
					   "g-object-path",
					   data->path,
					   "g-interface-name",
					   names[i],
					   "g-flags",
					   wattbus_client_proxy_flags(),
					   NULL);
}

/**
 * wattbus_client_get_device:
 * @self: a #WattbusClient
 * @id_or_path: a device id (#WattbusDevice:id) or the object path of a device
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the device is ready
 * @user_data: (closure): data for @callback
 *
 * Gets one device. A client made with %WATTBUS_CLIENT_FLAGS_DO_NOT_LOAD_DEVICES asks
 * the daemon for this device alone (its interfaces, then the properties of each), which
 * costs the daemon far less than loading every device when there are many; other
 * clients find it among their devices, as wattbus_client_lookup_device() does.
 *
 * A device asked for alone has the interfaces it had at that moment; its properties
 * follow the daemon. A device that has not answered since the daemon started has only
 * #WattbusDevice: get it again once #WattbusDevice:online is %TRUE for the others.
 *
 * Finish with wattbus_client_get_device_finish().
 *
 * Since: 0.2
 */
void
wattbus_client_get_device(WattbusClient *self,
			  const gchar *id_or_path,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	GetDeviceData *data;
	GError *error = NULL;

	g_return_if_fail(WATTBUS_IS_CLIENT(self));
	g_return_if_fail(id_or_path != NULL);
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, wattbus_client_get_device);
	if (wattbus_client_get_object_manager(self) != NULL) {
		GDBusObject *object = wattbus_client_loaded_device(self, id_or_path, &error);
		if (object == NULL)
			g_task_return_error(task, error);
		else
			g_task_return_pointer(task, object, g_object_unref);
		return;
	}
	data = g_new0(GetDeviceData, 1);
	data->id_or_path = g_strdup(id_or_path);
	g_task_set_task_data(task, data, (GDestroyNotify)get_device_data_free);
	data->path = wattbus_client_device_path_for(id_or_path, &error);
	if (data->path == NULL) {
		g_task_return_error(task, error);
		return;
	}
	g_dbus_connection_call(wattbus_client_get_connection(self),
			       WATTBUS_DBUS_NAME,
			       data->path,
			       "org.freedesktop.DBus.Introspectable",
			       "Introspect",
			       NULL,
			       G_VARIANT_TYPE("(s)"),
			       G_DBUS_CALL_FLAGS_NONE,
			       -1,
			       cancellable,
			       wattbus_client_get_device_introspect_cb,
			       g_steal_pointer(&task));
}

/**
 * wattbus_client_get_device_finish:
 * @self: a #WattbusClient
 * @res: the #GAsyncResult passed to the callback
 * @error: return location for a #GError: %WATTBUS_ERROR_NOT_FOUND when there is no
 *   such device
 *
 * Returns: (transfer full): the #WattbusObject of the device, or %NULL on error
 *
 * Since: 0.2
 */
WattbusObject *
wattbus_client_get_device_finish(WattbusClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(WATTBUS_IS_CLIENT(self), NULL);
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

/**
 * wattbus_client_get_device_sync:
 * @self: a #WattbusClient
 * @id_or_path: a device id (#WattbusDevice:id) or the object path of a device
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError: %WATTBUS_ERROR_NOT_FOUND when there is no
 *   such device
 *
 * The blocking version of wattbus_client_get_device().
 *
 * Returns: (transfer full): the #WattbusObject of the device, or %NULL on error
 *
 * Since: 0.2
 */
WattbusObject *
wattbus_client_get_device_sync(WattbusClient *self,
			       const gchar *id_or_path,
			       GCancellable *cancellable,
			       GError **error)
{
	g_autofree gchar *path = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GPtrArray) proxies = NULL;
	g_auto(GStrv) names = NULL;
	GError *call_error = NULL;

	g_return_val_if_fail(WATTBUS_IS_CLIENT(self), NULL);
	g_return_val_if_fail(id_or_path != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (wattbus_client_get_object_manager(self) != NULL)
		return WATTBUS_OBJECT(wattbus_client_loaded_device(self, id_or_path, error));
	path = wattbus_client_device_path_for(id_or_path, error);
	if (path == NULL)
		return NULL;
	reply = g_dbus_connection_call_sync(wattbus_client_get_connection(self),
					    WATTBUS_DBUS_NAME,
					    path,
					    "org.freedesktop.DBus.Introspectable",
					    "Introspect",
					    NULL,
					    G_VARIANT_TYPE("(s)"),
					    G_DBUS_CALL_FLAGS_NONE,
					    -1,
					    cancellable,
					    &call_error);
	if (reply == NULL) {
		g_propagate_error(error, wattbus_client_introspect_error(call_error, id_or_path));
		return NULL;
	}
	names = wattbus_client_parse_interfaces(reply, id_or_path, error);
	if (names == NULL)
		return NULL;
	proxies = g_ptr_array_new_with_free_func(g_object_unref);
	for (guint i = 0; names[i] != NULL; i++) {
		GObject *proxy = g_initable_new(wattbus_client_proxy_type(path, names[i]),
						cancellable,
						error,
						"g-connection",
						wattbus_client_get_connection(self),
						"g-name",
						WATTBUS_DBUS_NAME,
						"g-object-path",
						path,
						"g-interface-name",
						names[i],
						"g-flags",
						wattbus_client_proxy_flags(),
						NULL);
		if (proxy == NULL)
			return NULL;
		g_ptr_array_add(proxies, proxy);
	}
	return wattbus_client_object_new(path, g_steal_pointer(&proxies));
}
