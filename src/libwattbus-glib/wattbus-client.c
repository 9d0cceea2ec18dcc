/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gio/gio.h>

#include "wattbus-client-private.h"
#include "wattbus-client.h"
#include "wattbus-error.h"

/**
 * WattbusClient:
 *
 * A connection to the Wattbus daemon (include `wattbus-glib.h`).
 *
 * #WattbusClient watches the Wattbus daemon on the bus: it keeps a #GDBusObjectManager
 * with one #WattbusObject per device, a #WattbusManager proxy for the daemon itself, and
 * it offers the methods of the manager with typed errors.
 *
 * Loading every device costs the daemon time when there are many (about 0.2 s for
 * a thousand). A program that acts on one device or two makes its client with
 * %WATTBUS_CLIENT_FLAGS_DO_NOT_LOAD_DEVICES and gets them with
 * wattbus_client_get_device(), which asks the daemon for that device alone.
 *
 * The client does not need the daemon to be running: it follows the daemon as it comes
 * and goes (see #WattbusClient:name-owner), and the objects of the devices appear and
 * disappear with it. On the system bus the daemon is started by D-Bus activation, when
 * the client is created or when a method is called.
 *
 * The methods of a device are those of the generated proxies, for example
 * wattbus_outlet_call_turn_on() on the #WattbusOutlet of a #WattbusObject.
 * Errors of the daemon arrive in the %WATTBUS_ERROR domain. The methods of
 * #WattbusClient strip the D-Bus error name from the message; for the generated calls use
 * g_dbus_error_strip_remote_error() before showing a message.
 */

struct _WattbusClient {
	GObject parent_instance;
	GBusType bus_type;
	WattbusClientFlags flags;
	GDBusConnection *connection;
	GDBusObjectManager *object_manager;
	WattbusManager *manager; /* proxy, present whether or not the daemon runs */
	gchar *name_owner;
};

static void
wattbus_client_initable_iface_init(GInitableIface *iface);
static void
wattbus_client_async_initable_iface_init(GAsyncInitableIface *iface);

G_DEFINE_FLAGS_TYPE(WattbusClientFlags,
		    wattbus_client_flags,
		    G_DEFINE_ENUM_VALUE(WATTBUS_CLIENT_FLAGS_NONE, "none"),
		    G_DEFINE_ENUM_VALUE(WATTBUS_CLIENT_FLAGS_DO_NOT_LOAD_DEVICES, "do-not-load-devices"))

G_DEFINE_FINAL_TYPE_WITH_CODE(WattbusClient,
			      wattbus_client,
			      G_TYPE_OBJECT,
			      G_IMPLEMENT_INTERFACE(G_TYPE_INITABLE,
						    wattbus_client_initable_iface_init)
				  G_IMPLEMENT_INTERFACE(G_TYPE_ASYNC_INITABLE,
							wattbus_client_async_initable_iface_init))

enum {
	PROP_0,
	PROP_BUS_TYPE,
	PROP_FLAGS,
	PROP_CONNECTION,
	PROP_OBJECT_MANAGER,
	PROP_MANAGER,
	PROP_NAME_OWNER,
	N_PROPS
};

static GParamSpec *props[N_PROPS] = {NULL};

enum {
	SIGNAL_DEVICE_ADDED,
	SIGNAL_DEVICE_REMOVED,
	N_SIGNALS
};

static guint signals[N_SIGNALS] = {0};

static gboolean
wattbus_client_is_device_path(const gchar *path)
{
	return g_str_has_prefix(path, WATTBUS_DBUS_DEVICES_PATH "/");
}

/* whether @object is a device: under the devices path, with the Device interface */
gboolean
wattbus_client_object_is_device(GDBusObject *object)
{
	return WATTBUS_IS_OBJECT(object) &&
	       wattbus_client_is_device_path(g_dbus_object_get_object_path(object)) &&
	       wattbus_object_peek_device(WATTBUS_OBJECT(object)) != NULL;
}

static gboolean
wattbus_client_loads_devices(WattbusClient *self)
{
	return !(self->flags & WATTBUS_CLIENT_FLAGS_DO_NOT_LOAD_DEVICES);
}

/* from the object manager, or from the manager proxy when there is none */
static void
wattbus_client_update_name_owner(WattbusClient *self)
{
	g_autofree gchar *name_owner =
	    self->object_manager != NULL
		? g_dbus_object_manager_client_get_name_owner(
		      G_DBUS_OBJECT_MANAGER_CLIENT(self->object_manager))
		: g_dbus_proxy_get_name_owner(G_DBUS_PROXY(self->manager));

	if (g_strcmp0(name_owner, self->name_owner) == 0)
		return;
	if (name_owner != NULL)
		g_debug("daemon running as %s", name_owner);
	else
		g_debug("daemon not running");
	g_free(self->name_owner);
	self->name_owner = g_steal_pointer(&name_owner);

	g_object_freeze_notify(G_OBJECT(self));
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_NAME_OWNER]);
	g_object_notify_by_pspec(G_OBJECT(self), props[PROP_MANAGER]);
	g_object_thaw_notify(G_OBJECT(self));
}

static void
wattbus_client_object_added_cb(GDBusObjectManager *object_manager,
			       GDBusObject *object,
			       WattbusClient *self)
{
	if (!wattbus_client_is_device_path(g_dbus_object_get_object_path(object)))
		return;
	if (!WATTBUS_IS_OBJECT(object))
		return;
	g_signal_emit(self, signals[SIGNAL_DEVICE_ADDED], 0, object);
}

static void
wattbus_client_object_removed_cb(GDBusObjectManager *object_manager,
				 GDBusObject *object,
				 WattbusClient *self)
{
	if (!wattbus_client_is_device_path(g_dbus_object_get_object_path(object)))
		return;
	if (!WATTBUS_IS_OBJECT(object))
		return;
	g_signal_emit(self, signals[SIGNAL_DEVICE_REMOVED], 0, object);
}

static void
wattbus_client_name_owner_notify_cb(GObject *object_manager_or_proxy,
				    GParamSpec *pspec,
				    WattbusClient *self)
{
	wattbus_client_update_name_owner(self);
}

/* called once the object manager and the manager proxy exist */
static void
wattbus_client_setup(WattbusClient *self)
{
	if (self->object_manager == NULL) {
		g_signal_connect_object(self->manager,
					"notify::g-name-owner",
					G_CALLBACK(wattbus_client_name_owner_notify_cb),
					self,
					0);
		wattbus_client_update_name_owner(self);
		return;
	}
	g_signal_connect_object(self->object_manager,
				"object-added",
				G_CALLBACK(wattbus_client_object_added_cb),
				self,
				0);
	g_signal_connect_object(self->object_manager,
				"object-removed",
				G_CALLBACK(wattbus_client_object_removed_cb),
				self,
				0);
	g_signal_connect_object(self->object_manager,
				"notify::name-owner",
				G_CALLBACK(wattbus_client_name_owner_notify_cb),
				self,
				0);
	wattbus_client_update_name_owner(self);
}

/* the object manager, when there is one, has already asked the bus to start the
 * daemon; else the manager proxy does */
static GDBusProxyFlags
wattbus_client_manager_proxy_flags(WattbusClient *self)
{
	if (self->object_manager != NULL)
		return G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START_AT_CONSTRUCTION;
	return G_DBUS_PROXY_FLAGS_NONE;
}

/* GInitable */

static gboolean
wattbus_client_initable_init(GInitable *initable, GCancellable *cancellable, GError **error)
{
	WattbusClient *self = WATTBUS_CLIENT(initable);

	if (self->connection == NULL) {
		self->connection = g_bus_get_sync(self->bus_type, cancellable, error);
		if (self->connection == NULL)
			return FALSE;
	}
	if (wattbus_client_loads_devices(self)) {
		self->object_manager =
		    wattbus_object_manager_client_new_sync(self->connection,
							   G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE,
							   WATTBUS_DBUS_NAME,
							   WATTBUS_DBUS_PATH,
							   cancellable,
							   error);
		if (self->object_manager == NULL)
			return FALSE;
	}
	self->manager =
	    wattbus_manager_proxy_new_sync(self->connection,
					   wattbus_client_manager_proxy_flags(self),
					   WATTBUS_DBUS_NAME,
					   WATTBUS_DBUS_PATH,
					   cancellable,
					   error);
	if (self->manager == NULL)
		return FALSE;
	wattbus_client_setup(self);
	return TRUE;
}

static void
wattbus_client_initable_iface_init(GInitableIface *iface)
{
	iface->init = wattbus_client_initable_init;
}

/* GAsyncInitable */

typedef enum {
	INIT_STEP_FIRST,
	INIT_STEP_CONNECTION,
	INIT_STEP_OBJECT_MANAGER,
	INIT_STEP_MANAGER,
	INIT_STEP_LAST
} InitStep;

typedef struct {
	InitStep step;
} InitContext;

static void
wattbus_client_init_step(GTask *task);

static void
wattbus_client_init_bus_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	WattbusClient *self = g_task_get_source_object(task);
	InitContext *ctx = g_task_get_task_data(task);
	GError *error = NULL;

	self->connection = g_bus_get_finish(res, &error);
	if (self->connection == NULL) {
		g_task_return_error(task, error);
		return;
	}
	ctx->step++;
	wattbus_client_init_step(g_steal_pointer(&task));
}

static void
wattbus_client_init_object_manager_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	WattbusClient *self = g_task_get_source_object(task);
	InitContext *ctx = g_task_get_task_data(task);
	GError *error = NULL;

	self->object_manager = wattbus_object_manager_client_new_finish(res, &error);
	if (self->object_manager == NULL) {
		g_task_return_error(task, error);
		return;
	}
	ctx->step++;
	wattbus_client_init_step(g_steal_pointer(&task));
}

static void
wattbus_client_init_manager_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	WattbusClient *self = g_task_get_source_object(task);
	InitContext *ctx = g_task_get_task_data(task);
	GError *error = NULL;

	self->manager = wattbus_manager_proxy_new_finish(res, &error);
	if (self->manager == NULL) {
		g_task_return_error(task, error);
		return;
	}
	ctx->step++;
	wattbus_client_init_step(g_steal_pointer(&task));
}

static void
wattbus_client_init_step(GTask *task)
{
	WattbusClient *self = g_task_get_source_object(task);
	InitContext *ctx = g_task_get_task_data(task);
	GCancellable *cancellable = g_task_get_cancellable(task);

	switch (ctx->step) {
	case INIT_STEP_FIRST:
		ctx->step++;
		/* fall through */
	case INIT_STEP_CONNECTION:
		if (self->connection == NULL) {
			g_bus_get(self->bus_type, cancellable, wattbus_client_init_bus_cb, task);
			return;
		}
		ctx->step++;
		/* fall through */
	case INIT_STEP_OBJECT_MANAGER:
		if (!wattbus_client_loads_devices(self)) {
			ctx->step++;
			wattbus_client_init_step(task);
			return;
		}
		wattbus_object_manager_client_new(self->connection,
						  G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE,
						  WATTBUS_DBUS_NAME,
						  WATTBUS_DBUS_PATH,
						  cancellable,
						  wattbus_client_init_object_manager_cb,
						  task);
		return;
	case INIT_STEP_MANAGER:
		wattbus_manager_proxy_new(self->connection,
					  wattbus_client_manager_proxy_flags(self),
					  WATTBUS_DBUS_NAME,
					  WATTBUS_DBUS_PATH,
					  cancellable,
					  wattbus_client_init_manager_cb,
					  task);
		return;
	case INIT_STEP_LAST:
	default:
		wattbus_client_setup(self);
		g_task_return_boolean(task, TRUE);
		g_object_unref(task);
		return;
	}
}

static void
wattbus_client_init_async(GAsyncInitable *initable,
			  int io_priority,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data)
{
	WattbusClient *self = WATTBUS_CLIENT(initable);
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	InitContext *ctx = g_new0(InitContext, 1);

	g_task_set_source_tag(task, wattbus_client_init_async);
	g_task_set_priority(task, io_priority);
	g_task_set_task_data(task, ctx, g_free);
	wattbus_client_init_step(task);
}

static gboolean
wattbus_client_init_finish(GAsyncInitable *initable, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, initable), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

static void
wattbus_client_async_initable_iface_init(GAsyncInitableIface *iface)
{
	iface->init_async = wattbus_client_init_async;
	iface->init_finish = wattbus_client_init_finish;
}

/* constructors */

/**
 * wattbus_client_new:
 * @bus_type: the bus of the daemon: %G_BUS_TYPE_SYSTEM, or %G_BUS_TYPE_SESSION for tests
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the client is ready
 * @user_data: (closure): data for @callback
 *
 * Connects to the Wattbus daemon and loads its devices. If the daemon is not running,
 * the bus is asked to start it; the client is ready either way. Finish with
 * wattbus_client_new_finish().
 *
 * Since: 0.1
 */
void
wattbus_client_new(GBusType bus_type,
		   GCancellable *cancellable,
		   GAsyncReadyCallback callback,
		   gpointer user_data)
{
	wattbus_client_new_with_flags(bus_type,
				      WATTBUS_CLIENT_FLAGS_NONE,
				      cancellable,
				      callback,
				      user_data);
}

/**
 * wattbus_client_new_finish:
 * @res: the #GAsyncResult passed to the callback of wattbus_client_new()
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a new #WattbusClient, or %NULL when the bus cannot be reached
 *
 * Since: 0.1
 */
WattbusClient *
wattbus_client_new_finish(GAsyncResult *res, GError **error)
{
	g_autoptr(GObject) source = NULL;
	GObject *object;

	g_return_val_if_fail(G_IS_ASYNC_RESULT(res), NULL);
	source = g_async_result_get_source_object(res);
	object = g_async_initable_new_finish(G_ASYNC_INITABLE(source), res, error);
	if (object == NULL)
		return NULL;
	return WATTBUS_CLIENT(object);
}

/**
 * wattbus_client_new_sync:
 * @bus_type: the bus of the daemon: %G_BUS_TYPE_SYSTEM, or %G_BUS_TYPE_SESSION for tests
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Connects to the Wattbus daemon and loads its devices, blocking the calling thread.
 * See wattbus_client_new() for the asynchronous version.
 *
 * Returns: (transfer full): a new #WattbusClient, or %NULL when the bus cannot be reached
 *
 * Since: 0.1
 */
WattbusClient *
wattbus_client_new_sync(GBusType bus_type, GCancellable *cancellable, GError **error)
{
	return wattbus_client_new_with_flags_sync(bus_type,
						  WATTBUS_CLIENT_FLAGS_NONE,
						  cancellable,
						  error);
}

/* getters */

/**
 * wattbus_client_get_flags:
 * @self: a #WattbusClient
 *
 * Returns: the flags the client was made with
 *
 * Since: 0.2
 */
WattbusClientFlags
wattbus_client_get_flags(WattbusClient *self)
{
	g_return_val_if_fail(WATTBUS_IS_CLIENT(self), WATTBUS_CLIENT_FLAGS_NONE);
	return self->flags;
}

/**
 * wattbus_client_get_connection:
 * @self: a #WattbusClient
 *
 * Returns: (transfer none): the bus connection of the client
 *
 * Since: 0.1
 */
GDBusConnection *
wattbus_client_get_connection(WattbusClient *self)
{
	g_return_val_if_fail(WATTBUS_IS_CLIENT(self), NULL);
	return self->connection;
}

/**
 * wattbus_client_get_object_manager:
 * @self: a #WattbusClient
 *
 * Gets the object manager that holds the objects of the daemon. Its objects are
 * #WattbusObject instances; their interfaces are the generated proxies such as
 * #WattbusDeviceProxy, or a plain #GDBusProxy for an interface this library does not
 * know yet.
 *
 * Returns: (transfer none) (nullable): the #GDBusObjectManager of the client; %NULL for
 *   a client made with %WATTBUS_CLIENT_FLAGS_DO_NOT_LOAD_DEVICES
 *
 * Since: 0.1
 */
GDBusObjectManager *
wattbus_client_get_object_manager(WattbusClient *self)
{
	g_return_val_if_fail(WATTBUS_IS_CLIENT(self), NULL);
	return self->object_manager;
}

/**
 * wattbus_client_get_manager:
 * @self: a #WattbusClient
 *
 * Gets the proxy of the `org.wattbus.Wattbus1` interface of the daemon.
 *
 * Returns: (transfer none) (nullable): the #WattbusManager, or %NULL when the daemon is
 *   not running
 *
 * Since: 0.1
 */
WattbusManager *
wattbus_client_get_manager(WattbusClient *self)
{
	g_return_val_if_fail(WATTBUS_IS_CLIENT(self), NULL);
	if (self->name_owner == NULL)
		return NULL;
	return self->manager;
}

/**
 * wattbus_client_dup_manager:
 * @self: a #WattbusClient
 *
 * Gets the proxy of the `org.wattbus.Wattbus1` interface of the daemon.
 *
 * Returns: (transfer full) (nullable): the #WattbusManager, or %NULL when the daemon is
 *   not running
 *
 * Since: 0.1
 */
WattbusManager *
wattbus_client_dup_manager(WattbusClient *self)
{
	WattbusManager *manager;

	g_return_val_if_fail(WATTBUS_IS_CLIENT(self), NULL);
	manager = wattbus_client_get_manager(self);
	return manager != NULL ? g_object_ref(manager) : NULL;
}

/**
 * wattbus_client_get_name_owner:
 * @self: a #WattbusClient
 *
 * Gets the unique bus name of the running daemon. #WattbusClient:name-owner changes
 * when the daemon starts or stops.
 *
 * Returns: (transfer none) (nullable): the unique name, or %NULL when the daemon is not
 *   running
 *
 * Since: 0.1
 */
const gchar *
wattbus_client_get_name_owner(WattbusClient *self)
{
	g_return_val_if_fail(WATTBUS_IS_CLIENT(self), NULL);
	return self->name_owner;
}

/**
 * wattbus_client_dup_name_owner:
 * @self: a #WattbusClient
 *
 * Returns: (transfer full) (nullable): the unique name of the running daemon, or %NULL
 *   when it is not running
 *
 * Since: 0.1
 */
gchar *
wattbus_client_dup_name_owner(WattbusClient *self)
{
	g_return_val_if_fail(WATTBUS_IS_CLIENT(self), NULL);
	return g_strdup(self->name_owner);
}

/**
 * wattbus_client_is_running:
 * @self: a #WattbusClient
 *
 * Returns: %TRUE when a daemon owns the bus name
 *
 * Since: 0.1
 */
gboolean
wattbus_client_is_running(WattbusClient *self)
{
	g_return_val_if_fail(WATTBUS_IS_CLIENT(self), FALSE);
	return self->name_owner != NULL;
}

/**
 * wattbus_client_get_daemon_version:
 * @self: a #WattbusClient
 *
 * Right after the daemon has started, its properties may still be on their way; the
 * #WattbusManager proxy notifies #WattbusManager:version when they arrive.
 *
 * Returns: (transfer none) (nullable): the version of the running daemon, or %NULL when
 *   it is not running or not known yet
 *
 * Since: 0.1
 */
const gchar *
wattbus_client_get_daemon_version(WattbusClient *self)
{
	g_return_val_if_fail(WATTBUS_IS_CLIENT(self), NULL);
	if (self->name_owner == NULL)
		return NULL;
	return wattbus_manager_get_version(self->manager);
}

/* the manager proxy, present whether or not the daemon runs, for method calls that may
 * start it */
WattbusManager *
wattbus_client_get_manager_proxy(WattbusClient *self)
{
	return self->manager;
}

/* GObject */

static void
wattbus_client_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	WattbusClient *self = WATTBUS_CLIENT(object);

	switch (prop_id) {
	case PROP_BUS_TYPE:
		g_value_set_enum(value, self->bus_type);
		break;
	case PROP_FLAGS:
		g_value_set_flags(value, self->flags);
		break;
	case PROP_CONNECTION:
		g_value_set_object(value, self->connection);
		break;
	case PROP_OBJECT_MANAGER:
		g_value_set_object(value, self->object_manager);
		break;
	case PROP_MANAGER:
		g_value_set_object(value, wattbus_client_get_manager(self));
		break;
	case PROP_NAME_OWNER:
		g_value_set_string(value, self->name_owner);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
wattbus_client_set_property(GObject *object,
			    guint prop_id,
			    const GValue *value,
			    GParamSpec *pspec)
{
	WattbusClient *self = WATTBUS_CLIENT(object);

	switch (prop_id) {
	case PROP_BUS_TYPE:
		self->bus_type = g_value_get_enum(value);
		break;
	case PROP_FLAGS:
		self->flags = g_value_get_flags(value);
		break;
	case PROP_CONNECTION:
		g_set_object(&self->connection, g_value_get_object(value));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
wattbus_client_dispose(GObject *object)
{
	WattbusClient *self = WATTBUS_CLIENT(object);

	if (self->object_manager != NULL)
		g_signal_handlers_disconnect_by_data(self->object_manager, self);
	if (self->manager != NULL)
		g_signal_handlers_disconnect_by_data(self->manager, self);
	g_clear_object(&self->object_manager);
	g_clear_object(&self->manager);
	g_clear_object(&self->connection);

	G_OBJECT_CLASS(wattbus_client_parent_class)->dispose(object);
}

static void
wattbus_client_finalize(GObject *object)
{
	WattbusClient *self = WATTBUS_CLIENT(object);

	g_free(self->name_owner);

	G_OBJECT_CLASS(wattbus_client_parent_class)->finalize(object);
}

static void
wattbus_client_init(WattbusClient *self)
{
	self->bus_type = G_BUS_TYPE_SYSTEM;
}

static void
wattbus_client_class_init(WattbusClientClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->get_property = wattbus_client_get_property;
	object_class->set_property = wattbus_client_set_property;
	object_class->dispose = wattbus_client_dispose;
	object_class->finalize = wattbus_client_finalize;

	/* register the error domain with GDBus, so that errors of the daemon map to it */
	(void)wattbus_error_quark();

	/**
	 * WattbusClient:bus-type:
	 *
	 * The bus of the daemon, when #WattbusClient:connection is not given.
	 *
	 * Since: 0.1
	 */
	props[PROP_BUS_TYPE] =
	    g_param_spec_enum("bus-type",
			      NULL,
			      NULL,
			      G_TYPE_BUS_TYPE,
			      G_BUS_TYPE_SYSTEM,
			      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

	/**
	 * WattbusClient:flags:
	 *
	 * How the client was made: with %WATTBUS_CLIENT_FLAGS_DO_NOT_LOAD_DEVICES it loads
	 * no device.
	 *
	 * Since: 0.2
	 */
	props[PROP_FLAGS] =
	    g_param_spec_flags("flags",
			       NULL,
			       NULL,
			       WATTBUS_TYPE_CLIENT_FLAGS,
			       WATTBUS_CLIENT_FLAGS_NONE,
			       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

	/**
	 * WattbusClient:connection:
	 *
	 * The bus connection. Set it at construction to use a connection of your own
	 * (a private bus in a test, for example); otherwise it is the #WattbusClient:bus-type
	 * bus.
	 *
	 * Since: 0.1
	 */
	props[PROP_CONNECTION] = g_param_spec_object("connection",
						     NULL,
						     NULL,
						     G_TYPE_DBUS_CONNECTION,
						     G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
							 G_PARAM_STATIC_STRINGS);

	/**
	 * WattbusClient:object-manager:
	 *
	 * The #GDBusObjectManager of the daemon's objects, %NULL for a client made with
	 * %WATTBUS_CLIENT_FLAGS_DO_NOT_LOAD_DEVICES.
	 *
	 * Since: 0.1
	 */
	props[PROP_OBJECT_MANAGER] =
	    g_param_spec_object("object-manager",
				NULL,
				NULL,
				G_TYPE_DBUS_OBJECT_MANAGER,
				G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

	/**
	 * WattbusClient:manager:
	 *
	 * The #WattbusManager proxy of the daemon, %NULL while the daemon is not running.
	 *
	 * Since: 0.1
	 */
	props[PROP_MANAGER] = g_param_spec_object("manager",
						  NULL,
						  NULL,
						  WATTBUS_TYPE_MANAGER,
						  G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

	/**
	 * WattbusClient:name-owner:
	 *
	 * The unique bus name of the running daemon, %NULL while it is not running.
	 *
	 * Since: 0.1
	 */
	props[PROP_NAME_OWNER] = g_param_spec_string("name-owner",
						     NULL,
						     NULL,
						     NULL,
						     G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

	g_object_class_install_properties(object_class, N_PROPS, props);

	/**
	 * WattbusClient::device-added:
	 * @self: the #WattbusClient
	 * @device: the #WattbusObject of the new device
	 *
	 * Emitted when a device appears, also for every device when the daemon starts;
	 * then before #WattbusClient:name-owner changes.
	 *
	 * Since: 0.1
	 */
	signals[SIGNAL_DEVICE_ADDED] = g_signal_new("device-added",
						    G_TYPE_FROM_CLASS(klass),
						    G_SIGNAL_RUN_LAST,
						    0,
						    NULL,
						    NULL,
						    NULL,
						    G_TYPE_NONE,
						    1,
						    WATTBUS_TYPE_OBJECT);

	/**
	 * WattbusClient::device-removed:
	 * @self: the #WattbusClient
	 * @device: the #WattbusObject of the device that went away
	 *
	 * Emitted when a device disappears, also for every device when the daemon stops;
	 * then after #WattbusClient:name-owner changes.
	 *
	 * Since: 0.1
	 */
	signals[SIGNAL_DEVICE_REMOVED] = g_signal_new("device-removed",
						      G_TYPE_FROM_CLASS(klass),
						      G_SIGNAL_RUN_LAST,
						      0,
						      NULL,
						      NULL,
						      NULL,
						      G_TYPE_NONE,
						      1,
						      WATTBUS_TYPE_OBJECT);
}
