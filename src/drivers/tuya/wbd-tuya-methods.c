/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-auth.h"
#include "wbd-log.h"
#include "wbd-tuya-methods.h"
#include "wbd-tuya-profile.h"

#define WBD_TUYA_MAX_STRING_DP 255

/*
 * The D-Bus methods of a Tuya device's own interfaces, WaterMeter and Tuya: each is
 * authorized first (wbd-auth.c has their polkit actions), then its argument is checked
 * against the profile, and only a valid value is sent to the device.
 */
typedef struct {
	WbdTuyaDevice *device;
	GDBusMethodInvocation *invocation;
	gchar *property; /* a WaterMeter property, or NULL for Tuya.SetDp */
	gchar *dp_id;	 /* Tuya.SetDp */
	GVariant *value;
} MethodData;

static void
method_data_free(MethodData *data)
{
	g_clear_object(&data->device);
	g_clear_object(&data->invocation);
	g_free(data->property);
	g_free(data->dp_id);
	g_clear_pointer(&data->value, g_variant_unref);
	g_free(data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MethodData, method_data_free)

static void
method_written_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(MethodData) data = user_data;
	g_autoptr(GError) error = NULL;

	if (!wbd_tuya_methods_write_finish(WBD_TUYA_DEVICE(source), res, &error)) {
		wbd_dev_warning(data->device,
				"cannot set %s: %s",
				data->property != NULL ? data->property : data->dp_id,
				error->message);
		wbd_return_dbus_error(data->invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(data->invocation, NULL);
}

static gboolean
is_dp_id(const gchar *id)
{
	guint64 n;
	return id[0] != '0' && g_ascii_string_to_unsigned(id, 10, 1, 255, &n, NULL);
}

/* a raw value in a type JSON can carry: integers become x */
static GVariant *
normalize_raw(GVariant *value)
{
	gint64 n;
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN) || g_variant_is_of_type(value, G_VARIANT_TYPE_STRING))
		return g_variant_ref(value);
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT32))
		n = g_variant_get_int32(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32))
		n = g_variant_get_uint32(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT64))
		n = g_variant_get_int64(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT16))
		n = g_variant_get_int16(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT16))
		n = g_variant_get_uint16(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_BYTE))
		n = g_variant_get_byte(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64) && g_variant_get_uint64(value) <= G_MAXINT64)
		n = (gint64)g_variant_get_uint64(value);
	else
		return NULL;
	return g_variant_ref_sink(g_variant_new_int64(n));
}

/* Returns: (transfer full) (nullable): the raw value to send, checked */
static GVariant *
write_check(WbdTuyaDevice *device,
	    const gchar *property,
	    const gchar *dp_id,
	    GVariant *value,
	    const WbdTuyaDp **dp_out,
	    GError **error)
{
	WbdTuyaProfile *profile = wbd_tuya_device_get_profile(device);
	const WbdTuyaDp *dp;
	g_autoptr(GVariant) raw = NULL;

	if (property != NULL) {
		dp = wbd_tuya_profile_lookup_property(profile, "WaterMeter", property);
		if (dp == NULL || !dp->writable) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_NOT_SUPPORTED,
				    "The device's profile has no writable DP for %s",
				    property);
			return NULL;
		}
		*dp_out = dp;
		return wbd_tuya_dp_from_property(dp, value, error);
	}
	if (!is_dp_id(dp_id)) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "A DP id is a number from 1 to 255, such as \"1\"");
		return NULL;
	}
	raw = normalize_raw(value);
	/* a device's string DPs hold at most 255 bytes: do not send it more */
	if (raw != NULL && g_variant_is_of_type(raw, G_VARIANT_TYPE_STRING) &&
	    strlen(g_variant_get_string(raw, NULL)) > WBD_TUYA_MAX_STRING_DP) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "A string DP holds at most %d bytes",
			    WBD_TUYA_MAX_STRING_DP);
		return NULL;
	}
	if (raw == NULL) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "A DP takes a boolean, an integer or a string, not %s",
			    g_variant_get_type_string(value));
		return NULL;
	}
	dp = wbd_tuya_profile_lookup_dp(profile, dp_id);
	*dp_out = dp;
	if (dp != NULL && !wbd_tuya_dp_check_raw(dp, raw, error))
		return NULL;
	return g_steal_pointer(&raw);
}

static void
write_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	GError *error = NULL;

	if (!wbd_tuya_device_write_dps_finish(WBD_TUYA_DEVICE(source), res, &error))
		g_task_return_error(task, error);
	else
		g_task_return_boolean(task, TRUE);
}

/**
 * wbd_tuya_methods_write_async:
 * @property: a writable WaterMeter property (`Valve`, `Switch`, ...), or %NULL
 * @dp_id: with @property %NULL, a raw DP id (Tuya.SetDp)
 * @value: the property's D-Bus value, or the raw DP value
 *
 * Checks @value against the device's profile and, only if it is valid, sends it:
 * what the WaterMeter/Tuya D-Bus methods do after authorization, and what
 * wbd_device_command_async() does for these properties.
 */
void
wbd_tuya_methods_write_async(WbdTuyaDevice *device,
			     const gchar *property,
			     const gchar *dp_id,
			     GVariant *value,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(device, cancellable, callback, user_data);
	g_autoptr(GVariant) owned = g_variant_ref_sink(value);
	g_autoptr(GVariant) raw = NULL;
	g_autoptr(GVariant) dps = NULL;
	const WbdTuyaDp *dp = NULL;
	GVariantBuilder builder;
	GError *error = NULL;

	g_task_set_source_tag(task, wbd_tuya_methods_write_async);
	/* refused here, nothing reaches the device */
	raw = write_check(device, property, dp_id, owned, &dp, &error);
	if (raw == NULL) {
		g_task_return_error(task, error);
		return;
	}
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&builder, "{sv}", dp != NULL ? dp->id : dp_id, raw);
	dps = g_variant_ref_sink(g_variant_builder_end(&builder));
	wbd_tuya_device_write_dps_async(device, dps, cancellable, write_done_cb, g_steal_pointer(&task));
}

gboolean
wbd_tuya_methods_write_finish(WbdTuyaDevice *device, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, device), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

static void
method_auth_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(MethodData) data = user_data;
	g_autoptr(GError) error = NULL;
	MethodData *owned;

	if (!wbd_auth_check_finish(WBD_AUTH(source), res, &error)) {
		wbd_return_dbus_error(data->invocation, error);
		return;
	}
	/* the callback owns data: nothing of it is read in the call's arguments */
	owned = g_steal_pointer(&data);
	wbd_tuya_methods_write_async(owned->device,
				     owned->property,
				     owned->dp_id,
				     g_variant_ref(owned->value),
				     NULL,
				     method_written_cb,
				     owned);
}

static gboolean
method_start(WbdTuyaDevice *device,
	     GDBusMethodInvocation *invocation,
	     const gchar *property,
	     const gchar *dp_id,
	     GVariant *value)
{
	MethodData *data = g_new0(MethodData, 1);
	data->device = g_object_ref(device);
	data->invocation = g_object_ref(invocation);
	data->property = g_strdup(property);
	data->dp_id = g_strdup(dp_id);
	data->value = g_variant_ref_sink(value);
	wbd_device_authorize_async(WBD_DEVICE(device), invocation, method_auth_cb, data);
	return TRUE;
}

static gboolean
handle_set_switch(WattbusWaterMeter *iface, GDBusMethodInvocation *invocation, gboolean on, WbdTuyaDevice *device)
{
	return method_start(device, invocation, "Switch", NULL, g_variant_new_boolean(on));
}

static gboolean
handle_set_valve(WattbusWaterMeter *iface, GDBusMethodInvocation *invocation, const gchar *state, WbdTuyaDevice *device)
{
	return method_start(device, invocation, "Valve", NULL, g_variant_new_string(state));
}

static gboolean
handle_set_valve_openness(WattbusWaterMeter *iface,
			  GDBusMethodInvocation *invocation,
			  guint percent,
			  WbdTuyaDevice *device)
{
	return method_start(device, invocation, "ValveOpenness", NULL, g_variant_new_uint32(percent));
}

static gboolean
handle_set_cold_sharing_type(WattbusWaterMeter *iface,
			     GDBusMethodInvocation *invocation,
			     const gchar *type,
			     WbdTuyaDevice *device)
{
	return method_start(device, invocation, "ColdSharingType", NULL, g_variant_new_string(type));
}

static gboolean
handle_set_hot_sharing_type(WattbusWaterMeter *iface,
			    GDBusMethodInvocation *invocation,
			    const gchar *type,
			    WbdTuyaDevice *device)
{
	return method_start(device, invocation, "HotSharingType", NULL, g_variant_new_string(type));
}

static gboolean
handle_set_dp(WattbusTuya *iface,
	      GDBusMethodInvocation *invocation,
	      const gchar *id,
	      GVariant *value,
	      WbdTuyaDevice *device)
{
	g_autoptr(GVariant) inner = g_variant_get_variant(value);
	return method_start(device, invocation, NULL, id, g_steal_pointer(&inner));
}

void
wbd_tuya_methods_connect_water_meter(WbdTuyaDevice *device, WattbusWaterMeter *iface)
{
	g_signal_connect(iface, "handle-set-switch", G_CALLBACK(handle_set_switch), device);
	g_signal_connect(iface, "handle-set-valve", G_CALLBACK(handle_set_valve), device);
	g_signal_connect(iface, "handle-set-valve-openness", G_CALLBACK(handle_set_valve_openness), device);
	g_signal_connect(iface, "handle-set-cold-sharing-type", G_CALLBACK(handle_set_cold_sharing_type), device);
	g_signal_connect(iface, "handle-set-hot-sharing-type", G_CALLBACK(handle_set_hot_sharing_type), device);
}

void
wbd_tuya_methods_connect_tuya(WbdTuyaDevice *device, WattbusTuya *iface)
{
	g_signal_connect(iface, "handle-set-dp", G_CALLBACK(handle_set_dp), device);
}
