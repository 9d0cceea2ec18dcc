/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-auth.h"
#include "wbd-device-private.h"
#include "wbd-device.h"
#include "wbd-driver.h"
#include "wbd-log.h"
#include "wbd-meter-reading.h"



G_DEFINE_TYPE_WITH_PRIVATE(WbdDevice, wbd_device, G_TYPE_OBJECT)

enum { PROP_0, PROP_ID, PROP_DRIVER, PROP_SETTINGS, PROP_PARENT, N_PROPS };
static GParamSpec *props[N_PROPS] = {NULL};

enum { SIGNAL_CHILD_ADDED, SIGNAL_CHILD_REMOVED, SIGNAL_VALUES_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS] = {0};

WbdDevicePrivate *
wbd_device_get_private(WbdDevice *self)
{
	return wbd_device_get_instance_private(self);
}

/* meter readings */

/* identity */

gchar *
wbd_device_build_object_path(const gchar *id)
{
	/* the one escaping the clients use too */
	return wattbus_build_device_path(id);
}

const gchar *
wbd_device_get_id(WbdDevice *self)
{
	g_return_val_if_fail(WBD_IS_DEVICE(self), NULL);
	return GET_PRIVATE(self)->id;
}

const gchar *
wbd_device_get_driver_name(WbdDevice *self)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	return priv->driver != NULL ? priv->driver->name : "";
}

const gchar *
wbd_device_get_address(WbdDevice *self)
{
	return wattbus_device_get_address(GET_PRIVATE(self)->iface_device);
}

const gchar *
wbd_device_get_object_path(WbdDevice *self)
{
	return g_dbus_object_get_object_path(G_DBUS_OBJECT(GET_PRIVATE(self)->object));
}

GDBusObjectSkeleton *
wbd_device_get_object(WbdDevice *self)
{
	return G_DBUS_OBJECT_SKELETON(GET_PRIVATE(self)->object);
}

WbdDevice *
wbd_device_get_parent(WbdDevice *self)
{
	return GET_PRIVATE(self)->parent;
}

GPtrArray *
wbd_device_get_children(WbdDevice *self)
{
	return GET_PRIVATE(self)->children;
}

GHashTable *
wbd_device_get_settings(WbdDevice *self)
{
	return GET_PRIVATE(self)->settings;
}

guint
wbd_device_get_poll_interval(WbdDevice *self)
{
	return GET_PRIVATE(self)->poll_interval;
}

gboolean
wbd_device_get_online(WbdDevice *self)
{
	return wattbus_device_get_online(GET_PRIVATE(self)->iface_device);
}

gboolean
wbd_device_get_on(WbdDevice *self)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	return priv->iface_outlet != NULL && wattbus_outlet_get_on(priv->iface_outlet);
}

WbdDeviceCaps
wbd_device_get_capabilities(WbdDevice *self)
{
	return GET_PRIVATE(self)->caps;
}

/* changes, for the exporters (wbd-device-values.c): one values-changed per device per
 * main loop turn */

void
wbd_device_emit_values_changed(WbdDevice *self, guint64 since, GVariant *values)
{
	g_signal_emit(self, signals[SIGNAL_VALUES_CHANGED], 0, since, values);
}

/**
 * wbd_device_add_interface:
 * @iface: a generated interface skeleton the driver fills (Tuya, WaterMeter, Inverter...)
 *
 * Exports a driver's own interface on the device's object. Its property changes
 * reach the exporters like those of the built-in interfaces. Replaces an interface of
 * the same name.
 */
void
wbd_device_add_interface(WbdDevice *self, GDBusInterfaceSkeleton *iface)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	const gchar *name = g_dbus_interface_skeleton_get_info(iface)->name;
	wbd_device_remove_interface(self, name);
	wbd_device_track_values(self, iface);
	g_dbus_object_skeleton_add_interface(G_DBUS_OBJECT_SKELETON(priv->object), iface);
}

void
wbd_device_remove_interface(WbdDevice *self, const gchar *name)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	g_autoptr(GDBusInterface) iface =
	    g_dbus_object_get_interface(G_DBUS_OBJECT(priv->object), name);
	if (iface == NULL)
		return;
	wbd_device_untrack_values(self, iface);
	g_dbus_object_skeleton_remove_interface(G_DBUS_OBJECT_SKELETON(priv->object),
						G_DBUS_INTERFACE_SKELETON(iface));
}

/**
 * wbd_device_authorize_async:
 *
 * Checks that the caller of @invocation may call a state-changing method of a driver's
 * own interface (its action must be in the table of wbd-auth.c). Finish with
 * wbd_auth_check_finish().
 */
void
wbd_device_authorize_async(WbdDevice *self,
			   GDBusMethodInvocation *invocation,
			   GAsyncReadyCallback callback,
			   gpointer user_data)
{
	wbd_auth_check_async(wbd_auth_get_default(),
			     invocation,
			     GET_PRIVATE(self)->cancellable,
			     callback,
			     user_data);
}

/* what the driver reports */

static void
wbd_device_update_name(WbdDevice *self)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	const gchar *name = priv->configured_name;
	if (name == NULL || name[0] == '\0')
		name = priv->device_name;
	if (name == NULL || name[0] == '\0')
		name = priv->id;
	wattbus_device_set_name(priv->iface_device, name);
}

void
wbd_device_set_device_name(WbdDevice *self, const gchar *name)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	if (g_strcmp0(priv->device_name, name) == 0)
		return;
	g_free(priv->device_name);
	priv->device_name = g_strdup(name);
	wbd_device_update_name(self);
}

/* device strings are hostile: keep them valid UTF-8 and bounded */
static gchar *
wbd_device_sanitize_string(const gchar *value)
{
	g_autofree gchar *valid = NULL;
	if (value == NULL)
		return g_strdup("");
	valid = g_utf8_make_valid(value, -1);
	if (g_utf8_strlen(valid, -1) > 256)
		return g_utf8_substring(valid, 0, 256);
	return g_steal_pointer(&valid);
}

#define DEFINE_STRING_SETTER(func, setter)                                                      \
	void func(WbdDevice *self, const gchar *value)                                           \
	{                                                                                        \
		g_autofree gchar *clean = wbd_device_sanitize_string(value);                     \
		g_return_if_fail(WBD_IS_DEVICE(self));                                           \
		setter(GET_PRIVATE(self)->iface_device, clean);                                  \
	}

DEFINE_STRING_SETTER(wbd_device_set_kind, wattbus_device_set_kind)
DEFINE_STRING_SETTER(wbd_device_set_vendor, wattbus_device_set_vendor)
DEFINE_STRING_SETTER(wbd_device_set_model, wattbus_device_set_model)
DEFINE_STRING_SETTER(wbd_device_set_serial_number, wattbus_device_set_serial_number)
DEFINE_STRING_SETTER(wbd_device_set_firmware_version, wattbus_device_set_firmware_version)
DEFINE_STRING_SETTER(wbd_device_set_hardware_version, wattbus_device_set_hardware_version)

void
wbd_device_set_mac_address(WbdDevice *self, const gchar *mac)
{
	g_autofree gchar *clean = wbd_device_sanitize_string(mac);
	g_autofree gchar *lower = NULL;
	g_strdelimit(clean, "-", ':');
	lower = g_ascii_strdown(clean, -1);
	wattbus_device_set_mac_address(GET_PRIVATE(self)->iface_device, lower);
}

static gboolean wbd_device_handle_turn_on(WattbusOutlet *iface,
					  GDBusMethodInvocation *invocation,
					  WbdDevice *self);
static gboolean wbd_device_handle_turn_off(WattbusOutlet *iface,
					   GDBusMethodInvocation *invocation,
					   WbdDevice *self);
static gboolean wbd_device_handle_toggle(WattbusOutlet *iface,
					 GDBusMethodInvocation *invocation,
					 WbdDevice *self);

/**
 * wbd_device_set_capabilities:
 *
 * Adds and removes the D-Bus interfaces that follow from @caps. Drivers call it once
 * they know what the device can do, usually after its first answer.
 */
void
wbd_device_set_capabilities(WbdDevice *self, WbdDeviceCaps caps)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);

	if (priv->caps == caps)
		return;
	wbd_dev_debug(self, "capabilities 0x%x → 0x%x", priv->caps, caps);
	priv->caps = caps;

	if ((caps & WBD_DEVICE_CAP_OUTLET) && priv->iface_outlet == NULL) {
		priv->iface_outlet = wattbus_outlet_skeleton_new();
		g_signal_connect(priv->iface_outlet,
				 "handle-turn-on",
				 G_CALLBACK(wbd_device_handle_turn_on),
				 self);
		g_signal_connect(priv->iface_outlet,
				 "handle-turn-off",
				 G_CALLBACK(wbd_device_handle_turn_off),
				 self);
		g_signal_connect(priv->iface_outlet,
				 "handle-toggle",
				 G_CALLBACK(wbd_device_handle_toggle),
				 self);
		wattbus_object_skeleton_set_outlet(priv->object, priv->iface_outlet);
		wbd_device_track_values(self, priv->iface_outlet);
	} else if (!(caps & WBD_DEVICE_CAP_OUTLET) && priv->iface_outlet != NULL) {
		wbd_device_untrack_values(self, priv->iface_outlet);
		wattbus_object_skeleton_set_outlet(priv->object, NULL);
		g_signal_handlers_disconnect_by_data(priv->iface_outlet, self);
		g_clear_object(&priv->iface_outlet);
	}

	if ((caps & WBD_DEVICE_CAP_ELECTRICITY_METER) && priv->iface_meter == NULL) {
		priv->iface_meter = wattbus_electricity_meter_skeleton_new();
		wbd_meter_reading_publish_empty(priv->iface_meter);
		wattbus_object_skeleton_set_electricity_meter(priv->object, priv->iface_meter);
		wbd_device_track_values(self, priv->iface_meter);
	} else if (!(caps & WBD_DEVICE_CAP_ELECTRICITY_METER) && priv->iface_meter != NULL) {
		wbd_device_untrack_values(self, priv->iface_meter);
		wattbus_object_skeleton_set_electricity_meter(priv->object, NULL);
		g_clear_object(&priv->iface_meter);
	}
}

void
wbd_device_set_on(WbdDevice *self, gboolean on)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	g_return_if_fail(priv->iface_outlet != NULL);
	wattbus_outlet_set_on(priv->iface_outlet, on);
}

void
wbd_device_set_meter_reading(WbdDevice *self, const WbdMeterReading *reading)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	g_return_if_fail(priv->iface_meter != NULL);
	wbd_meter_reading_publish(priv->iface_meter, reading);
}

/**
 * wbd_device_set_measurement:
 * @measurement: what the meter measures: "load", "production", "net-consumption",
 *   "total-consumption" or "storage"
 *
 * Sets the Measurement property of the meter. Does nothing on a device without the
 * electricity meter capability, so call it after wbd_device_set_capabilities().
 */
void
wbd_device_set_measurement(WbdDevice *self, const gchar *measurement)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	if (priv->iface_meter != NULL)
		wattbus_electricity_meter_set_measurement(priv->iface_meter, measurement);
}

/* children */

void
wbd_device_add_child(WbdDevice *self, WbdDevice *child)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	g_return_if_fail(WBD_IS_DEVICE(child));
	g_return_if_fail(GET_PRIVATE(child)->parent == self);
	g_ptr_array_add(priv->children, g_object_ref(child));
	wattbus_device_set_online(GET_PRIVATE(child)->iface_device,
				  wattbus_device_get_online(priv->iface_device));
	wattbus_device_set_last_seen(GET_PRIVATE(child)->iface_device,
				     wattbus_device_get_last_seen(priv->iface_device));
	g_signal_emit(self, signals[SIGNAL_CHILD_ADDED], 0, child);
}

/**
 * wbd_device_remove_child:
 *
 * Stops @child and takes it from @self's children (child-removed); the other children
 * stay. For a configured child (a hub's sub-device) that goes on its own.
 */
void
wbd_device_remove_child(WbdDevice *self, WbdDevice *child)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	g_object_ref(child); /* the array may hold the last reference */
	if (g_ptr_array_remove(priv->children, child)) {
		wbd_device_stop(child);
		g_signal_emit(self, signals[SIGNAL_CHILD_REMOVED], 0, child);
	}
	g_object_unref(child);
}

void
wbd_device_remove_children(WbdDevice *self)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	g_autoptr(GPtrArray) children = g_steal_pointer(&priv->children);
	priv->children = g_ptr_array_new_with_free_func(g_object_unref);
	for (guint i = 0; i < children->len; i++) {
		WbdDevice *child = g_ptr_array_index(children, i);
		wbd_device_stop(child);
		g_signal_emit(self, signals[SIGNAL_CHILD_REMOVED], 0, child);
	}
}

/* health */

void
wbd_device_report_success(WbdDevice *self)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	guint64 now = (guint64)g_get_real_time();

	if (priv->held_offline != NULL) {
		wbd_device_report_error(self, priv->held_offline);
		return;
	}
	if (wattbus_device_get_online(priv->iface_device) &&
	    wattbus_device_get_last_error(priv->iface_device)[0] == '\0') {
		/* the steady state, at every poll: one property, announced to no one */
		wattbus_device_set_last_seen(priv->iface_device, now);
	} else {
		if (!wattbus_device_get_online(priv->iface_device))
			wbd_dev_message(self, "online");
		g_object_set(priv->iface_device,
			     "online",
			     TRUE,
			     "last-seen",
			     now,
			     "last-error",
			     "",
			     NULL);
	}
	for (guint i = 0; i < priv->children->len; i++)
		wbd_device_report_success(g_ptr_array_index(priv->children, i));
}

void
wbd_device_report_error(WbdDevice *self, const GError *error)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	gboolean was_online = wattbus_device_get_online(priv->iface_device);
	const gchar *old = wattbus_device_get_last_error(priv->iface_device);
	/* a D-Bus string must be UTF-8, whatever a driver quoted from a device */
	g_autofree gchar *message = g_utf8_make_valid(error->message, -1);

	if (was_online || g_strcmp0(old, message) != 0)
		wbd_dev_warning(self, "%s", message);
	g_object_set(priv->iface_device, "online", FALSE, "last-error", message, NULL);
	for (guint i = 0; i < priv->children->len; i++)
		wbd_device_report_error(g_ptr_array_index(priv->children, i), error);
}

/**
 * wbd_device_hold_offline:
 * @reason: (nullable): why the device is offline, or %NULL to end the hold
 *
 * Keeps the device offline with @reason as its LastError, whatever succeeds in the
 * meantime: its own reads or its parent's (a hub's sub-device that the hub reports
 * offline while it answers reads from its cache). With %NULL, successes count again.
 */
void
wbd_device_hold_offline(WbdDevice *self, const GError *reason)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);

	g_clear_error(&priv->held_offline);
	if (reason == NULL)
		return;
	priv->held_offline = g_error_copy(reason);
	wbd_device_report_error(self, reason);
}

/* D-Bus handlers */

static void
wbd_device_handle_refresh_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GDBusMethodInvocation) invocation = user_data;
	g_autoptr(GError) error = NULL;
	if (!g_task_propagate_boolean(G_TASK(res), &error)) {
		wbd_return_dbus_error(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(invocation, NULL);
}

static gboolean
wbd_device_handle_refresh(WattbusDevice *iface, GDBusMethodInvocation *invocation, WbdDevice *self)
{
	GTask *waiter = g_task_new(self, NULL, wbd_device_handle_refresh_cb, g_object_ref(invocation));
	wbd_device_poll_now(self, waiter);
	return TRUE;
}

typedef struct {
	WbdDevice *self;
	GDBusMethodInvocation *invocation;
	gboolean on;
	gboolean toggle;
} SwitchData;

static void
switch_data_free(SwitchData *data)
{
	g_clear_object(&data->self);
	g_clear_object(&data->invocation);
	g_free(data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SwitchData, switch_data_free)

static void
wbd_device_switch_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(SwitchData) data = user_data;
	g_autoptr(GError) error = NULL;
	WbdDevice *self = data->self;

	if (!wbd_device_set_on_finish(self, res, &error)) {
		wbd_dev_warning(self, "cannot switch %s: %s", data->on ? "on" : "off", error->message);
		wbd_return_dbus_error(data->invocation, error);
		return;
	}
	wbd_dev_info(self, "switched %s", data->on ? "on" : "off");
	/* the new state is published before the caller hears back */
	g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(GET_PRIVATE(self)->iface_outlet));
	g_dbus_method_invocation_return_value(data->invocation, NULL);
}

static void
wbd_device_switch_auth_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(SwitchData) data = user_data;
	g_autoptr(GError) error = NULL;
	WbdDevicePrivate *priv = GET_PRIVATE(data->self);

	if (!wbd_auth_check_finish(WBD_AUTH(source), res, &error)) {
		wbd_return_dbus_error(data->invocation, error);
		return;
	}
	WbdDevice *self = data->self;
	gboolean on = data->on;

	if (data->toggle)
		on = data->on = priv->iface_outlet == NULL || !wattbus_outlet_get_on(priv->iface_outlet);
	wbd_device_set_on_async(self,
				on,
				NULL,
				wbd_device_switch_done_cb,
				g_steal_pointer(&data));
}

static gboolean
wbd_device_handle_switch(WbdDevice *self,
			 GDBusMethodInvocation *invocation,
			 gboolean on,
			 gboolean toggle)
{
	SwitchData *data = g_new0(SwitchData, 1);
	data->self = g_object_ref(self);
	data->invocation = g_object_ref(invocation);
	data->on = on;
	data->toggle = toggle;
	wbd_auth_check_async(wbd_auth_get_default(),
			     invocation,
			     GET_PRIVATE(self)->cancellable,
			     wbd_device_switch_auth_cb,
			     data);
	return TRUE;
}

static gboolean
wbd_device_handle_turn_on(WattbusOutlet *iface, GDBusMethodInvocation *invocation, WbdDevice *self)
{
	return wbd_device_handle_switch(self, invocation, TRUE, FALSE);
}

static gboolean
wbd_device_handle_turn_off(WattbusOutlet *iface, GDBusMethodInvocation *invocation, WbdDevice *self)
{
	return wbd_device_handle_switch(self, invocation, FALSE, FALSE);
}

static gboolean
wbd_device_handle_toggle(WattbusOutlet *iface, GDBusMethodInvocation *invocation, WbdDevice *self)
{
	return wbd_device_handle_switch(self, invocation, FALSE, TRUE);
}

/* life cycle */

gboolean
wbd_device_configure(WbdDevice *self, GError **error)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	WbdDeviceClass *klass = WBD_DEVICE_GET_CLASS(self);
	if (klass->configure == NULL)
		return TRUE;
	return klass->configure(self, priv->settings, error);
}

void
wbd_device_start(WbdDevice *self)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	if (priv->started)
		return;
	priv->started = TRUE;
	if (WBD_DEVICE_GET_CLASS(self)->start != NULL)
		WBD_DEVICE_GET_CLASS(self)->start(self);
	wbd_device_schedule_poll(self, 0);
}

void
wbd_device_stop(WbdDevice *self)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	if (g_cancellable_is_cancelled(priv->cancellable))
		return;
	g_cancellable_cancel(priv->cancellable);
	wbd_device_unschedule_poll(self);
	if (WBD_DEVICE_GET_CLASS(self)->stop != NULL)
		WBD_DEVICE_GET_CLASS(self)->stop(self);
	wbd_device_remove_children(self);
}

/* after wbd_device_stop(), for a device removed for good: the driver deletes its state */
void
wbd_device_forget(WbdDevice *self)
{
	if (WBD_DEVICE_GET_CLASS(self)->forget != NULL)
		WBD_DEVICE_GET_CLASS(self)->forget(self);
}

static void
wbd_device_constructed(GObject *object)
{
	WbdDevice *self = WBD_DEVICE(object);
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	g_autofree gchar *path = NULL;
	const gchar *value;

	G_OBJECT_CLASS(wbd_device_parent_class)->constructed(object);

	g_assert(priv->id != NULL);
	/* a child belongs to its parent's driver unless it names one */
	if (priv->driver == NULL && priv->parent != NULL)
		priv->driver = GET_PRIVATE(priv->parent)->driver;
	if (priv->settings == NULL)
		priv->settings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

	path = wbd_device_build_object_path(priv->id);
	priv->object = wattbus_object_skeleton_new(path);
	priv->iface_device = wattbus_device_skeleton_new();
	g_signal_connect(priv->iface_device,
			 "handle-refresh",
			 G_CALLBACK(wbd_device_handle_refresh),
			 self);

	priv->configured_name = g_strdup(g_hash_table_lookup(priv->settings, "name"));
	value = g_hash_table_lookup(priv->settings, "poll-interval");
	if (priv->parent != NULL)
		priv->poll_interval = 0;
	else if (value != NULL)
		priv->poll_interval = (guint)g_ascii_strtoull(value, NULL, 10);
	else if (priv->driver != NULL)
		priv->poll_interval = priv->driver->default_poll_interval;
	if (priv->parent == NULL && priv->poll_interval == 0)
		priv->poll_interval = 10;

	value = g_hash_table_lookup(priv->settings, "address");
	if (value == NULL && priv->parent != NULL)
		value = wbd_device_get_address(priv->parent);
	g_object_set(priv->iface_device,
		     "id",
		     priv->id,
		     "driver",
		     wbd_device_get_driver_name(self),
		     "vendor",
		     priv->driver != NULL && priv->driver->vendor != NULL ? priv->driver->vendor : "",
		     "address",
		     value != NULL ? value : "",
		     "parent",
		     priv->parent != NULL ? wbd_device_get_object_path(priv->parent) : "/",
		     "poll-interval",
		     priv->poll_interval,
		     "online",
		     FALSE,
		     "last-seen",
		     (guint64)0,
		     "last-error",
		     "",
		     NULL);
	wbd_device_update_name(self);
	wattbus_object_skeleton_set_device(priv->object, priv->iface_device);
	wbd_device_track_values(self, priv->iface_device);
}

static void
wbd_device_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	WbdDevicePrivate *priv = GET_PRIVATE(WBD_DEVICE(object));
	switch (prop_id) {
	case PROP_ID:
		g_value_set_string(value, priv->id);
		break;
	case PROP_DRIVER:
		g_value_set_pointer(value, (gpointer)priv->driver);
		break;
	case PROP_SETTINGS:
		g_value_set_boxed(value, priv->settings);
		break;
	case PROP_PARENT:
		g_value_set_object(value, priv->parent);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
wbd_device_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
	WbdDevicePrivate *priv = GET_PRIVATE(WBD_DEVICE(object));
	switch (prop_id) {
	case PROP_ID:
		priv->id = g_value_dup_string(value);
		break;
	case PROP_DRIVER:
		priv->driver = g_value_get_pointer(value);
		break;
	case PROP_SETTINGS:
		priv->settings = g_value_dup_boxed(value);
		break;
	case PROP_PARENT:
		g_set_weak_pointer(&priv->parent, g_value_get_object(value));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
wbd_device_dispose(GObject *object)
{
	WbdDevice *self = WBD_DEVICE(object);
	WbdDevicePrivate *priv = GET_PRIVATE(self);

	wbd_device_stop(self);
	wbd_device_clear_poll(self);
	wbd_device_clear_pending_values(self);
	if (priv->iface_meter != NULL)
		g_signal_handlers_disconnect_by_data(priv->iface_meter, self);
	if (priv->object != NULL) {
		GList *ifaces = g_dbus_object_get_interfaces(G_DBUS_OBJECT(priv->object));
		for (GList *l = ifaces; l != NULL; l = l->next)
			g_signal_handlers_disconnect_by_data(l->data, self);
		g_list_free_full(ifaces, g_object_unref);
	}
	if (priv->iface_outlet != NULL)
		g_signal_handlers_disconnect_by_data(priv->iface_outlet, self);
	if (priv->iface_device != NULL)
		g_signal_handlers_disconnect_by_data(priv->iface_device, self);
	g_clear_object(&priv->iface_outlet);
	g_clear_object(&priv->iface_meter);
	g_clear_object(&priv->iface_device);
	g_clear_object(&priv->object);
	g_clear_weak_pointer(&priv->parent);
	G_OBJECT_CLASS(wbd_device_parent_class)->dispose(object);
}

static void
wbd_device_finalize(GObject *object)
{
	WbdDevicePrivate *priv = GET_PRIVATE(WBD_DEVICE(object));
	g_free(priv->id);
	g_free(priv->configured_name);
	g_free(priv->device_name);
	g_clear_pointer(&priv->settings, g_hash_table_unref);
	g_clear_pointer(&priv->children, g_ptr_array_unref);
	g_clear_pointer(&priv->refresh_waiters, g_ptr_array_unref);
	g_clear_error(&priv->held_offline);
	wbd_device_free_values(WBD_DEVICE(object));
	g_clear_object(&priv->cancellable);
	G_OBJECT_CLASS(wbd_device_parent_class)->finalize(object);
}

static void
wbd_device_class_init(WbdDeviceClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->constructed = wbd_device_constructed;
	object_class->get_property = wbd_device_get_property;
	object_class->set_property = wbd_device_set_property;
	object_class->dispose = wbd_device_dispose;
	object_class->finalize = wbd_device_finalize;
	klass->command_async = wbd_device_real_command_async;
	klass->command_finish = wbd_device_real_command_finish;

	props[PROP_ID] = g_param_spec_string("id",
					     NULL,
					     NULL,
					     NULL,
					     G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
						 G_PARAM_STATIC_STRINGS);
	props[PROP_DRIVER] = g_param_spec_pointer("driver",
						  NULL,
						  NULL,
						  G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
						      G_PARAM_STATIC_STRINGS);
	props[PROP_SETTINGS] = g_param_spec_boxed("settings",
						  NULL,
						  NULL,
						  G_TYPE_HASH_TABLE,
						  G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
						      G_PARAM_STATIC_STRINGS);
	props[PROP_PARENT] = g_param_spec_object("parent",
						 NULL,
						 NULL,
						 WBD_TYPE_DEVICE,
						 G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
						     G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);

	signals[SIGNAL_CHILD_ADDED] = g_signal_new("child-added",
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
	 * WbdDevice::values-changed:
	 * @timestamp: when the first of these values changed, in µs since the epoch
	 * @values: a{sv} of D-Bus property name to new value, of every interface but
	 *   Device, whose Online alone is included
	 *
	 * Emitted once per main loop turn in which values changed: what the exporters
	 * forward. Never LastSeen, which moves at every poll: @timestamp is the time of
	 * the values.
	 */
	signals[SIGNAL_VALUES_CHANGED] = g_signal_new("values-changed",
						      G_TYPE_FROM_CLASS(klass),
						      G_SIGNAL_RUN_LAST,
						      0,
						      NULL,
						      NULL,
						      NULL,
						      G_TYPE_NONE,
						      2,
						      G_TYPE_UINT64,
						      G_TYPE_VARIANT);
	signals[SIGNAL_CHILD_REMOVED] = g_signal_new("child-removed",
						     G_TYPE_FROM_CLASS(klass),
						     G_SIGNAL_RUN_LAST,
						     0,
						     NULL,
						     NULL,
						     NULL,
						     G_TYPE_NONE,
						     1,
						     WBD_TYPE_DEVICE);
}

static void
wbd_device_init(WbdDevice *self)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	priv->children = g_ptr_array_new_with_free_func(g_object_unref);
	priv->refresh_waiters = g_ptr_array_new_with_free_func(g_object_unref);
	priv->cancellable = g_cancellable_new();
}
