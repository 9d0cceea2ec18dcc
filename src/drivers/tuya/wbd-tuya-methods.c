/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-auth.h"
#include "wbd-device.h"
#include "wbd-log.h"
#include "wbd-tuya-methods.h"
#include "wbd-tuya-profile.h"

#define WBD_TUYA_MAX_STRING_DP 255

/*
 * The D-Bus methods of a Tuya device's own interfaces, WaterMeter and Tuya: each is
 * authorized first (the core's table and the driver's auth_rules have their polkit
 * actions), then goes through the core's wbd_device_command_async() as the command it is
 * (`Valve`, ...; Tuya.SetDp as a `Dps` dictionary of one DP), whose Tuya implementation
 * checks it with wbd_tuya_methods_check_write() against the profile and sends only a
 * valid value. This file knows the core and the profile, not the Tuya device.
 */
typedef struct {
	WbdDevice *device;
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

	if (!wbd_device_command_finish(WBD_DEVICE(source), res, &error)) {
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
write_check(WbdTuyaProfile *profile,
	    const gchar *property,
	    const gchar *dp_id,
	    GVariant *value,
	    const WbdTuyaDp **dp_out,
	    GError **error)
{
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

/**
 * wbd_tuya_methods_check_write:
 * @property: a writable WaterMeter property (`Valve`, `Switch`, ...), or %NULL
 * @dp_id: with @property %NULL, a raw DP id (Tuya.SetDp)
 * @value: the property's D-Bus value, or the raw DP value
 *
 * Checks @value against @profile: what the WaterMeter/Tuya D-Bus methods and
 * wbd_device_command_async() send, only if it is valid.
 *
 * Returns: (transfer full) (nullable): the DPs to send, a{sv} of DP id to raw value
 */
GVariant *
wbd_tuya_methods_check_write(WbdTuyaProfile *profile,
			     const gchar *property,
			     const gchar *dp_id,
			     GVariant *value,
			     GError **error)
{
	g_autoptr(GVariant) raw = NULL;
	const WbdTuyaDp *dp = NULL;
	GVariantBuilder builder;

	raw = write_check(profile, property, dp_id, value, &dp, error);
	if (raw == NULL)
		return NULL;
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&builder, "{sv}", dp != NULL ? dp->id : dp_id, raw);
	return g_variant_ref_sink(g_variant_builder_end(&builder));
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
	if (owned->property != NULL) {
		wbd_device_command_async(owned->device,
					 owned->property,
					 g_variant_ref(owned->value),
					 NULL,
					 method_written_cb,
					 owned);
	} else {
		GVariantBuilder dps;
		g_variant_builder_init(&dps, G_VARIANT_TYPE_VARDICT);
		g_variant_builder_add(&dps, "{sv}", owned->dp_id, owned->value);
		wbd_device_command_async(owned->device,
					 "Dps",
					 g_variant_builder_end(&dps),
					 NULL,
					 method_written_cb,
					 owned);
	}
}

static gboolean
method_start(WbdDevice *device,
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
	wbd_device_authorize_async(device, invocation, method_auth_cb, data);
	return TRUE;
}

static gboolean
handle_set_switch(WattbusWaterMeter *iface, GDBusMethodInvocation *invocation, gboolean on, WbdDevice *device)
{
	return method_start(device, invocation, "Switch", NULL, g_variant_new_boolean(on));
}

static gboolean
handle_set_valve(WattbusWaterMeter *iface, GDBusMethodInvocation *invocation, const gchar *state, WbdDevice *device)
{
	return method_start(device, invocation, "Valve", NULL, g_variant_new_string(state));
}

static gboolean
handle_set_valve_openness(WattbusWaterMeter *iface,
			  GDBusMethodInvocation *invocation,
			  guint percent,
			  WbdDevice *device)
{
	return method_start(device, invocation, "ValveOpenness", NULL, g_variant_new_uint32(percent));
}

static gboolean
handle_set_cold_sharing_type(WattbusWaterMeter *iface,
			     GDBusMethodInvocation *invocation,
			     const gchar *type,
			     WbdDevice *device)
{
	return method_start(device, invocation, "ColdSharingType", NULL, g_variant_new_string(type));
}

static gboolean
handle_set_hot_sharing_type(WattbusWaterMeter *iface,
			    GDBusMethodInvocation *invocation,
			    const gchar *type,
			    WbdDevice *device)
{
	return method_start(device, invocation, "HotSharingType", NULL, g_variant_new_string(type));
}

static gboolean
handle_set_dp(WattbusTuya *iface,
	      GDBusMethodInvocation *invocation,
	      const gchar *id,
	      GVariant *value,
	      WbdDevice *device)
{
	g_autoptr(GVariant) inner = g_variant_get_variant(value);
	return method_start(device, invocation, NULL, id, g_steal_pointer(&inner));
}

void
wbd_tuya_methods_connect_water_meter(WbdDevice *device, WattbusWaterMeter *iface)
{
	g_signal_connect(iface, "handle-set-switch", G_CALLBACK(handle_set_switch), device);
	g_signal_connect(iface, "handle-set-valve", G_CALLBACK(handle_set_valve), device);
	g_signal_connect(iface, "handle-set-valve-openness", G_CALLBACK(handle_set_valve_openness), device);
	g_signal_connect(iface, "handle-set-cold-sharing-type", G_CALLBACK(handle_set_cold_sharing_type), device);
	g_signal_connect(iface, "handle-set-hot-sharing-type", G_CALLBACK(handle_set_hot_sharing_type), device);
}

void
wbd_tuya_methods_connect_tuya(WbdDevice *device, WattbusTuya *iface)
{
	g_signal_connect(iface, "handle-set-dp", G_CALLBACK(handle_set_dp), device);
}
