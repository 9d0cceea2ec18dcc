/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <wattbus-glib.h>

#include "wbd-auth.h"
#include "wbd-envoy-trust.h"
#include "wbd-log.h"

/*
 * org.wattbus.Wattbus1.Envoy on the gateway object: the pinned certificate, and the
 * admin's way to re-pin on purpose (authorized like AddDevice: manage-devices).
 */

typedef struct {
	WbdDevice *device;
	WbdEnvoyClient *client;
	WattbusEnvoy *iface;
	GDBusMethodInvocation *invocation;
	gchar *fingerprint;
} RepinData;

static void
repin_data_free(RepinData *data)
{
	g_clear_object(&data->device);
	g_clear_object(&data->client);
	g_clear_object(&data->iface);
	g_clear_object(&data->invocation);
	g_free(data->fingerprint);
	g_free(data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RepinData, repin_data_free)

static void
wbd_envoy_trust_repin_auth_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(RepinData) data = user_data;
	g_autoptr(GError) error = NULL;

	if (!wbd_auth_check_finish(WBD_AUTH(source), res, &error) ||
	    !wbd_envoy_client_repin(data->client, data->fingerprint, &error)) {
		wbd_return_dbus_error(data->invocation, error);
		return;
	}
	if (data->fingerprint[0] != '\0')
		wbd_log_message(wbd_device_get_id(data->device), "re-pinned on request: the gateway's certificate %s is trusted "
			  "from now on",
			  wbd_envoy_client_get_pin(data->client));
	else
		wbd_log_message(wbd_device_get_id(data->device), "pin deleted on request: the next certificate the gateway "
			  "presents will be trusted");
	wattbus_envoy_complete_repin(data->iface, data->invocation);
}

static gboolean
wbd_envoy_trust_handle_repin(WattbusEnvoy *iface,
			     GDBusMethodInvocation *invocation,
			     const gchar *fingerprint,
			     WbdDevice *device)
{
	RepinData *data = g_new0(RepinData, 1);
	data->device = g_object_ref(device);
	data->client = g_object_ref(g_object_get_data(G_OBJECT(iface), "wbd-envoy-client"));
	data->iface = g_object_ref(iface);
	data->invocation = g_object_ref(invocation);
	data->fingerprint = g_strdup(fingerprint);
	wbd_device_authorize_async(device, invocation, wbd_envoy_trust_repin_auth_cb, data);
	return TRUE;
}

static void
wbd_envoy_trust_pin_cb(WbdEnvoyClient *client, GParamSpec *pspec, WattbusEnvoy *iface)
{
	const gchar *pin = wbd_envoy_client_get_pin(client);
	wattbus_envoy_set_certificate_pin(iface, pin != NULL ? pin : "");
}

/* adds the interface to @device (the gateway), for the TLS trust of @client */
void
wbd_envoy_trust_attach(WbdDevice *device, WbdEnvoyClient *client)
{
	g_autoptr(WattbusEnvoy) iface = wattbus_envoy_skeleton_new();

	g_object_set_data_full(
	    G_OBJECT(iface), "wbd-envoy-client", g_object_ref(client), g_object_unref);
	wbd_envoy_trust_pin_cb(client, NULL, iface);
	g_signal_connect_object(
	    client, "notify::pin", G_CALLBACK(wbd_envoy_trust_pin_cb), iface, 0);
	g_signal_connect_object(
	    iface, "handle-repin", G_CALLBACK(wbd_envoy_trust_handle_repin), device, 0);
	wbd_device_add_interface(device, G_DBUS_INTERFACE_SKELETON(iface));
}
