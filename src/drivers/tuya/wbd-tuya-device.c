/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-log.h"
#include "wbd-tuya-codec.h"
#include "wbd-tuya-connection.h"
#include "wbd-skeleton.h"
#include "wbd-tuya-device.h"
#include "wbd-tuya-device-private.h"
#include "wbd-tuya-discover.h"
#include "wbd-tuya-gateway.h"
#include "wbd-tuya-methods.h"
#include "wbd-tuya-profile.h"
#include "wbd-tuya-record.h"
#include "wbd-tuya-energy.h"
#include "wbd-config.h"

/* a device configured without a version: how long to listen for its broadcast */
#define WBD_TUYA_VERSION_PROBE_MS 12000
/* a full read of every DP at least this often; in between, pushes and heartbeats */
#define WBD_TUYA_FULL_QUERY_US (120 * G_USEC_PER_SEC)
/* a connection that dropped while all was well is re-opened at once, not more often */
#define WBD_TUYA_QUICK_RECONNECT_US (10 * G_USEC_PER_SEC)
#define WBD_TUYA_QUICK_RECONNECT_MS 200

/*
 * A Tuya device on the local protocol (3.1 to 3.5): one persistent connection, values
 * applied as the device pushes them, a heartbeat (and a re-measure request for plugs;
 * once a plug has acknowledged one, that request alone) on each poll, and a full read now and then. Its profile maps DPs to the Outlet,
 * ElectricityMeter and WaterMeter interfaces; the Tuya interface shows them raw.
 */

G_DEFINE_TYPE(WbdTuyaDevice, wbd_tuya_device, WBD_TYPE_DEVICE)

WbdTuyaProfile *
wbd_tuya_device_get_profile(WbdTuyaDevice *self)
{
	return self->profile;
}

static void
wbd_tuya_device_publish_version(WbdTuyaDevice *self)
{
	g_autoptr(GVariant) found = wbd_tuya_discover_lookup(self->device_id);
	const gchar *product_key = NULL;

	wattbus_tuya_set_protocol_version(self->iface_tuya, wbd_tuya_version_to_string(self->version));
	if (found != NULL && g_variant_lookup(found, "product-key", "&s", &product_key))
		wattbus_tuya_set_product_key(self->iface_tuya, product_key);
}

static void
wbd_tuya_device_on_dps(WbdTuyaConnection *connection, GVariant *dps, guint cmd, GVariant *meta, WbdTuyaDevice *self);
static void
wbd_tuya_device_on_closed(WbdTuyaConnection *connection, GError *error, WbdTuyaDevice *self);
static void
wbd_tuya_device_on_subdev_report(WbdTuyaConnection *connection, GStrv online, GStrv offline, WbdTuyaDevice *self);

static void
wbd_tuya_device_setup_water_meter(WbdTuyaDevice *self)
{
	GDBusInterfaceInfo *info = wattbus_water_meter_interface_info();
	self->iface_water = wattbus_water_meter_skeleton_new();
	/* a volume not reported yet is NaN, never a made-up zero */
	for (guint i = 0; info->properties[i] != NULL; i++) {
		if (g_strcmp0(info->properties[i]->signature, "d") == 0)
			wbd_skeleton_set_double(self->iface_water, info->properties[i]->name, NAN);
	}
	wbd_tuya_methods_connect_water_meter(WBD_DEVICE(self), self->iface_water);
	wbd_device_add_interface(WBD_DEVICE(self), G_DBUS_INTERFACE_SKELETON(self->iface_water));
}

static gboolean
wbd_tuya_device_configure(WbdDevice *device, GHashTable *settings, GError **error)
{
	WbdTuyaDevice *self = WBD_TUYA_DEVICE(device);
	WbdDeviceCaps caps = WBD_DEVICE_CAP_NONE;

	if (!wbd_tuya_device_parse_settings(self, settings, error))
		return FALSE;
	self->device22 = self->version == WBD_TUYA_VERSION_3_2;
	if (self->cid != NULL) {
		/* one connection per hub carries every sub-device */
		self->connection = g_object_ref(WBD_TUYA_DEVICE(wbd_device_get_parent(device))->connection);
	} else {
		self->connection = wbd_tuya_connection_new(self->host,
							   self->port,
							   self->device_id,
							   self->local_key,
							   self->version != WBD_TUYA_VERSION_UNKNOWN ? self->version
												      : WBD_TUYA_VERSION_3_3,
							   wbd_device_get_id(device));
		g_signal_connect(self->connection, "closed", G_CALLBACK(wbd_tuya_device_on_closed), self);
		g_signal_connect(self->connection,
				 "subdev-report",
				 G_CALLBACK(wbd_tuya_device_on_subdev_report),
				 self);
	}
	g_signal_connect(self->connection, "dps", G_CALLBACK(wbd_tuya_device_on_dps), self);

	self->iface_tuya = wattbus_tuya_skeleton_new();
	wattbus_tuya_set_device_id(self->iface_tuya, self->cid != NULL ? self->cid : self->device_id);
	wattbus_tuya_set_profile(self->iface_tuya, self->profile != NULL ? wbd_tuya_profile_get_name(self->profile) : "");
	wattbus_tuya_set_product_key(self->iface_tuya, "");
	wattbus_tuya_set_dps(self->iface_tuya, g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0));
	wbd_tuya_device_publish_version(self);
	wbd_tuya_methods_connect_tuya(WBD_DEVICE(self), self->iface_tuya);
	wbd_device_add_interface(device, G_DBUS_INTERFACE_SKELETON(self->iface_tuya));

	if (self->profile == NULL)
		return TRUE;
	if (wbd_tuya_profile_get_kind(self->profile) != NULL)
		wbd_device_set_kind(device, wbd_tuya_profile_get_kind(self->profile));
	if (wbd_tuya_profile_lookup_property(self->profile, "Outlet", "On") != NULL)
		caps |= WBD_DEVICE_CAP_OUTLET;
	if (wbd_tuya_profile_uses_interface(self->profile, "ElectricityMeter"))
		caps |= WBD_DEVICE_CAP_ELECTRICITY_METER;
	wbd_device_set_capabilities(device, caps);
	if (caps & WBD_DEVICE_CAP_ELECTRICITY_METER)
		wbd_device_set_measurement(device, wbd_tuya_profile_get_measurement(self->profile));
	if (wbd_tuya_profile_uses_interface(self->profile, "WaterMeter"))
		wbd_tuya_device_setup_water_meter(self);
	if (wbd_tuya_profile_get_increment(self->profile) != NULL) {
		g_autofree gchar *name = g_strconcat(wbd_device_get_id(device), ".energy", NULL);
		g_autofree gchar *path = g_build_filename(wbd_config_get_state_dir(), "tuya", name, NULL);
		gdouble total;
		self->energy = wbd_tuya_energy_new(path);
		if (wbd_tuya_energy_get_total(self->energy, &total))
			wbd_meter_reading_set(&self->reading, WBD_QUANTITY_ENERGY, total);
	}
	return TRUE;
}

/* a hub's sub-device by its cid */
static WbdTuyaDevice *
wbd_tuya_device_find_sub(WbdTuyaDevice *self, const gchar *cid)
{
	GPtrArray *children = wbd_device_get_children(WBD_DEVICE(self));
	for (guint i = 0; i < children->len; i++) {
		WbdTuyaDevice *child = g_ptr_array_index(children, i);
		if (g_strcmp0(child->cid, cid) == 0)
			return child;
	}
	return NULL;
}

/*
 * A hub's online/offline report (spec §3.5): a sub-device it names offline stays
 * offline, as the hub answers its reads from its cache, until the hub names it online.
 * A report may be split over frames: a cid a frame leaves out keeps its state.
 */
static void
wbd_tuya_device_set_sub_online(WbdTuyaDevice *self, const gchar *cid, gboolean online)
{
	WbdTuyaDevice *sub = wbd_tuya_device_find_sub(self, cid);
	g_autoptr(GError) error = NULL;

	if (sub == NULL) {
		wbd_dev_debug(self,
			      "the online/offline report names cid %s, which no configured sub-device has: ignored",
			      cid);
		return;
	}
	if (online) {
		wbd_device_hold_offline(WBD_DEVICE(sub), NULL);
		wbd_device_report_success(WBD_DEVICE(sub));
		return;
	}
	error = g_error_new_literal(WATTBUS_ERROR, WATTBUS_ERROR_DEVICE_OFFLINE, "The hub reports the sub-device offline");
	wbd_device_hold_offline(WBD_DEVICE(sub), error);
}

static void
wbd_tuya_device_on_subdev_report(WbdTuyaConnection *connection, GStrv online, GStrv offline, WbdTuyaDevice *self)
{
	if (self->cid != NULL)
		return;
	wbd_dev_debug(self,
		      "the hub's online/offline report: %u online, %u offline",
		      g_strv_length(online),
		      g_strv_length(offline));
	for (guint i = 0; online[i] != NULL; i++)
		wbd_tuya_device_set_sub_online(self, online[i], TRUE);
	for (guint i = 0; offline[i] != NULL; i++)
		wbd_tuya_device_set_sub_online(self, offline[i], FALSE);
}

static void
wbd_tuya_device_on_dps(WbdTuyaConnection *connection, GVariant *dps, guint cmd, GVariant *meta, WbdTuyaDevice *self)
{
	const gchar *cid = NULL;
	gint64 t = -1;

	/* routed by the cid the frame names, never by order: a hub's own frames have none */
	g_variant_lookup(meta, "cid", "&s", &cid);
	g_variant_lookup(meta, "t", "x", &t);
	if (g_strcmp0(cid, self->cid) != 0) {
		if (self->cid == NULL && cid != NULL && wbd_tuya_device_find_sub(self, cid) == NULL)
			wbd_dev_debug(self, "DPs for cid %s, which no configured sub-device has: dropped", cid);
		return;
	}
	wbd_dev_debug(self, "%s with %" G_GSIZE_FORMAT " DPs",
		      cmd == WBD_TUYA_CMD_STATUS ? "push" : "reply",
		      g_variant_n_children(dps));
	wbd_tuya_device_apply_dps(self, dps, wbd_tuya_device_count_energy(self, dps, cmd, t));
	wbd_device_report_success(WBD_DEVICE(self));
}

/* reading every DP, with the "device22" way as a fallback */

static void
wbd_tuya_device_query_cb(GObject *source, GAsyncResult *res, gpointer user_data);

static void
wbd_tuya_device_send_query(WbdTuyaDevice *self, GTask *task)
{
	WbdTuyaVersion version = wbd_tuya_connection_get_version(self->connection);
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	g_autofree gchar *json = NULL;

	if (self->device22 && self->cid == NULL) {
		g_auto(GStrv) ids = NULL;
		if (self->profile != NULL) {
			ids = wbd_tuya_profile_dup_dp_ids(self->profile);
		} else {
			/* no profile: the ids most devices use (always with "1") */
			ids = g_new0(gchar *, 21);
			for (guint i = 0; i < 20; i++)
				ids[i] = g_strdup_printf("%u", i + 1);
		}
		json = wbd_tuya_build_device22_query(self->device_id, now, (const gchar *const *)ids);
		wbd_tuya_connection_request_async(self->connection,
						  WBD_TUYA_CMD_CONTROL_NEW,
						  json,
						  WBD_TUYA_REQUEST_DPS,
						  g_task_get_cancellable(task),
						  wbd_tuya_device_query_cb,
						  task);
		return;
	}
	/* a sub-device is read through its hub, named by its cid */
	if (self->cid != NULL)
		json = wbd_tuya_build_sub_query(version, self->cid, now);
	else
		json = wbd_tuya_build_query(version, self->device_id, now);
	wbd_tuya_connection_request_async(self->connection,
					  wbd_tuya_query_command(version),
					  json,
					  WBD_TUYA_REQUEST_REPLY,
					  g_task_get_cancellable(task),
					  wbd_tuya_device_query_cb,
					  task);
}

static void
wbd_tuya_device_query_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	WbdTuyaDevice *self = g_task_get_source_object(task);
	WbdTuyaVersion version = wbd_tuya_connection_get_version(self->connection);
	g_autoptr(GVariant) dps = NULL;
	GError *error = NULL;

	dps = wbd_tuya_connection_request_finish(WBD_TUYA_CONNECTION(source), res, &error);
	/* never for a sub-device: its hub's refusals are not a device22 quirk */
	if (dps == NULL && !self->device22 && self->cid == NULL && version >= WBD_TUYA_VERSION_3_2 &&
	    version <= WBD_TUYA_VERSION_3_4 && g_error_matches(error, WATTBUS_ERROR, WATTBUS_ERROR_NOT_SUPPORTED)) {
		/* "json obj data unvalid": ask for the DPs by name instead */
		wbd_dev_info(self, "the device refuses the status query (%s); reading its DPs one by one", error->message);
		g_error_free(error);
		self->device22 = TRUE;
		wbd_tuya_device_send_query(self, task);
		return;
	}
	if (dps == NULL) {
		g_task_return_error(task, error);
		g_object_unref(task);
		return;
	}
	self->last_query = g_get_monotonic_time();
	g_task_return_boolean(task, TRUE);
	g_object_unref(task);
}

static void
wbd_tuya_device_query_async(WbdTuyaDevice *self,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, wbd_tuya_device_query_async);
	wbd_tuya_device_send_query(self, task);
}

static gboolean
wbd_tuya_device_query_finish(WbdTuyaDevice *self, GAsyncResult *res, GError **error)
{
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* a connection that dropped */

static void
wbd_tuya_device_reconnect_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	WbdTuyaDevice *self = WBD_TUYA_DEVICE(source);
	g_autoptr(GError) error = NULL;

	if (wbd_tuya_device_query_finish(self, res, &error))
		wbd_device_report_success(WBD_DEVICE(self));
	else if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		wbd_device_report_error(WBD_DEVICE(self), error);
}

static gboolean
wbd_tuya_device_reconnect_timeout_cb(gpointer user_data)
{
	WbdTuyaDevice *self = WBD_TUYA_DEVICE(user_data);
	self->reconnect_id = 0;
	wbd_dev_debug(self, "reconnecting");
	wbd_tuya_device_query_async(self, self->cancellable, wbd_tuya_device_reconnect_cb, NULL);
	return G_SOURCE_REMOVE;
}

static void
wbd_tuya_device_on_closed(WbdTuyaConnection *connection, GError *error, WbdTuyaDevice *self)
{
	gint64 now = g_get_monotonic_time();

	if (g_cancellable_is_cancelled(self->cancellable))
		return;
	/* devices close idle sockets now and then: reconnect at once, quietly, once */
	if (wbd_device_get_online(WBD_DEVICE(self)) && self->reconnect_id == 0 &&
	    now - self->last_reconnect > WBD_TUYA_QUICK_RECONNECT_US) {
		wbd_dev_debug(self, "the connection ended (%s)", error->message);
		self->last_reconnect = now;
		self->reconnect_id = g_timeout_add(WBD_TUYA_QUICK_RECONNECT_MS, wbd_tuya_device_reconnect_timeout_cb, self);
		return;
	}
	wbd_device_report_error(WBD_DEVICE(self), error);
}

/* refresh: learn the version if needed, then a heartbeat or a full read */

static void
wbd_tuya_device_refresh_step(GTask *task);
static void
wbd_tuya_device_write_cb(GObject *source, GAsyncResult *res, gpointer user_data);

static void
wbd_tuya_device_heartbeat_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	WbdTuyaDevice *self = g_task_get_source_object(task);
	g_autoptr(GVariant) reply = NULL;
	GError *error = NULL;
	guint n_ids = 0;
	const guint *ids;

	reply = wbd_tuya_connection_request_finish(WBD_TUYA_CONNECTION(source), res, &error);
	if (reply == NULL) {
		g_task_return_error(task, error);
		return;
	}
	/* plugs refresh current, power and voltage only when asked; the new values come as a push */
	ids = self->profile != NULL ? wbd_tuya_profile_get_update_dps(self->profile, &n_ids) : NULL;
	if (n_ids > 0 && wbd_tuya_connection_get_version(self->connection) != WBD_TUYA_VERSION_3_1) {
		g_autofree gchar *json = wbd_tuya_build_update_dps(ids, n_ids);
		wbd_tuya_connection_request_async(self->connection,
						  WBD_TUYA_CMD_UPDATEDPS,
						  json,
						  WBD_TUYA_REQUEST_NO_REPLY,
						  NULL,
						  NULL,
						  NULL);
	}
	g_task_return_boolean(task, TRUE);
}

static void
wbd_tuya_device_refresh_query_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	GError *error = NULL;
	if (!wbd_tuya_device_query_finish(WBD_TUYA_DEVICE(source), res, &error))
		g_task_return_error(task, error);
	else
		g_task_return_boolean(task, TRUE);
}

static void
wbd_tuya_device_probe_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	WbdTuyaDevice *self = g_task_get_source_object(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) found = wbd_tuya_discover_find_finish(res, &error);
	const gchar *version = NULL;

	if (g_task_return_error_if_cancelled(task)) {
		g_object_unref(task);
		return;
	}
	if (found != NULL && g_variant_lookup(found, "version", "&s", &version))
		self->version = wbd_tuya_version_from_string(version);
	if (self->version == WBD_TUYA_VERSION_UNKNOWN) {
		wbd_dev_message(self,
				"no discovery broadcast from the device (%s); trying protocol 3.3",
				error != NULL ? error->message : "no version in it");
		self->version = WBD_TUYA_VERSION_3_3;
	} else {
		wbd_dev_message(self, "the device speaks protocol %s", wbd_tuya_version_to_string(self->version));
	}
	wbd_tuya_connection_set_version(self->connection, self->version);
	wbd_tuya_device_publish_version(self);
	wbd_tuya_device_refresh_step(task);
}

static void
wbd_tuya_device_refresh_step(GTask *task)
{
	WbdTuyaDevice *self = g_task_get_source_object(task);
	gint64 now = g_get_monotonic_time();
	g_autoptr(GVariant) cached = NULL;
	const gchar *version = NULL;
	/* a hub whose profile lists no DPs is kept alive, not read (it has none) */
	gboolean hub_only = self->profile != NULL && wbd_tuya_profile_get_dps(self->profile)->len == 0;

	if (self->cid != NULL) {
		wbd_tuya_device_query_async(self, g_task_get_cancellable(task), wbd_tuya_device_refresh_query_cb, task);
		return;
	}
	if (self->version == WBD_TUYA_VERSION_UNKNOWN) {
		cached = wbd_tuya_discover_lookup(self->device_id);
		if (cached != NULL && g_variant_lookup(cached, "version", "&s", &version)) {
			self->version = wbd_tuya_version_from_string(version);
			wbd_tuya_connection_set_version(self->connection, self->version);
		} else {
			wbd_dev_debug(self, "listening for the device's broadcast to learn its protocol version");
			wbd_tuya_discover_find_async(self->device_id,
						     WBD_TUYA_VERSION_PROBE_MS,
						     g_task_get_cancellable(task),
						     wbd_tuya_device_probe_cb,
						     task);
			return;
		}
	}
	wbd_tuya_device_publish_version(self);
	if (hub_only || (wbd_tuya_connection_is_ready(self->connection) && now - self->last_query < WBD_TUYA_FULL_QUERY_US)) {
		guint n_ids = 0;
		const guint *ids = self->profile != NULL ? wbd_tuya_profile_get_update_dps(self->profile, &n_ids) : NULL;
		g_autofree gchar *json = NULL;

		/* a plug that acknowledges UPDATEDPS: that alone, answered, is the poll (the
		 * connection still sends a heartbeat after 10 s without a request, spec §9) */
		if (!hub_only && n_ids > 0 && wbd_tuya_connection_acks_update_dps(self->connection)) {
			json = wbd_tuya_build_update_dps(ids, n_ids);
			wbd_tuya_connection_request_async(self->connection,
							  WBD_TUYA_CMD_UPDATEDPS,
							  json,
							  WBD_TUYA_REQUEST_ACK,
							  g_task_get_cancellable(task),
							  wbd_tuya_device_write_cb,
							  task);
			return;
		}
		json = wbd_tuya_build_heartbeat(self->device_id);
		wbd_tuya_connection_request_async(self->connection,
						  WBD_TUYA_CMD_HEART_BEAT,
						  json,
						  WBD_TUYA_REQUEST_REPLY,
						  g_task_get_cancellable(task),
						  wbd_tuya_device_heartbeat_cb,
						  task);
		return;
	}
	wbd_tuya_device_query_async(self, g_task_get_cancellable(task), wbd_tuya_device_refresh_query_cb, task);
}

static void
wbd_tuya_device_child_query_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	if (wbd_tuya_device_query_finish(WBD_TUYA_DEVICE(source), res, &error))
		wbd_device_report_success(WBD_DEVICE(source));
	else if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		wbd_device_report_error(WBD_DEVICE(source), error);
}

static void
wbd_tuya_device_refresh_async(WbdDevice *device,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data)
{
	WbdTuyaDevice *self = WBD_TUYA_DEVICE(device);
	GTask *task = g_task_new(device, cancellable, callback, user_data);
	GPtrArray *children = wbd_device_get_children(device);

	g_task_set_source_tag(task, wbd_tuya_device_refresh_async);
	wbd_tuya_device_refresh_step(task);
	/* a 3.4+ hub says which sub-devices are online; the report comes as a 0x40 frame */
	if (children->len > 0 && wbd_tuya_connection_get_version(self->connection) >= WBD_TUYA_VERSION_3_4) {
		g_autofree gchar *json = wbd_tuya_build_subdev_query();
		wbd_tuya_connection_request_async(self->connection,
						  WBD_TUYA_CMD_LAN_EXT_STREAM,
						  json,
						  WBD_TUYA_REQUEST_NO_REPLY,
						  NULL,
						  NULL,
						  NULL);
	}
	/* a hub reads its sub-devices, each on its own: one that does not answer fails alone */
	for (guint i = 0; i < children->len; i++) {
		WbdTuyaDevice *child = g_ptr_array_index(children, i);
		wbd_tuya_device_query_async(child, child->cancellable, wbd_tuya_device_child_query_cb, NULL);
	}
}

static gboolean
wbd_tuya_device_refresh_finish(WbdDevice *device, GAsyncResult *res, GError **error)
{
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* writing DPs */

/* also a poll's UPDATEDPS: the request answered */
static void
wbd_tuya_device_write_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GVariant) reply = NULL;
	GError *error = NULL;

	reply = wbd_tuya_connection_request_finish(WBD_TUYA_CONNECTION(source), res, &error);
	if (reply == NULL)
		g_task_return_error(task, error);
	else
		g_task_return_boolean(task, TRUE);
}

/**
 * wbd_tuya_device_write_dps_async:
 * @dps: a{sv} of DP id to raw value (b, i, u, x or s), already checked
 *
 * Sets DPs and completes when the device acknowledges (or pushes its new state).
 */
void
wbd_tuya_device_write_dps_async(WbdTuyaDevice *self,
				GVariant *dps,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	WbdTuyaVersion version = wbd_tuya_connection_get_version(self->connection);
	g_autofree gchar *json = NULL;

	g_task_set_source_tag(task, wbd_tuya_device_write_dps_async);
	if (self->cid != NULL)
		json = wbd_tuya_build_sub_control(version, self->cid, g_get_real_time() / G_USEC_PER_SEC, dps);
	else
		json = wbd_tuya_build_control(version, self->device_id, g_get_real_time() / G_USEC_PER_SEC, dps);
	if (json == NULL) {
		g_task_return_new_error(task,
					WATTBUS_ERROR,
					WATTBUS_ERROR_INVALID_ARGUMENT,
					"A DP value must be a boolean, an integer or a string");
		g_object_unref(task);
		return;
	}
	wbd_dev_debug(self, "setting %s", json);
	wbd_tuya_connection_request_async(self->connection,
					  wbd_tuya_control_command(version),
					  json,
					  WBD_TUYA_REQUEST_ACK,
					  cancellable,
					  wbd_tuya_device_write_cb,
					  task);
}

gboolean
wbd_tuya_device_write_dps_finish(WbdTuyaDevice *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* switching: set DP 1 (or whatever the profile says), then read it back */

static void
wbd_tuya_device_set_on_query_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	WbdDevice *device = WBD_DEVICE(source);
	gboolean on = GPOINTER_TO_INT(g_task_get_task_data(task));
	GError *error = NULL;

	if (!wbd_tuya_device_query_finish(WBD_TUYA_DEVICE(source), res, &error)) {
		g_task_return_error(task, error);
		return;
	}
	if (wbd_device_get_on(device) != on) {
		g_task_return_new_error(task,
					WATTBUS_ERROR,
					WATTBUS_ERROR_FAILED,
					"The device accepted the command but stayed %s",
					on ? "off" : "on");
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void
wbd_tuya_device_set_on_written_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	WbdTuyaDevice *self = WBD_TUYA_DEVICE(source);
	gboolean on = GPOINTER_TO_INT(g_task_get_task_data(task));
	GError *error = NULL;
	GCancellable *cancellable;

	if (!wbd_tuya_device_write_dps_finish(self, res, &error)) {
		g_task_return_error(task, error);
		return;
	}
	/* the state may have come with the push already */
	if (wbd_device_get_on(WBD_DEVICE(self)) == on) {
		g_task_return_boolean(task, TRUE);
		return;
	}
	cancellable = g_task_get_cancellable(task);
	wbd_tuya_device_query_async(self, cancellable, wbd_tuya_device_set_on_query_cb, g_steal_pointer(&task));
}

static void
wbd_tuya_device_set_on_async(WbdDevice *device,
			     gboolean on,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	WbdTuyaDevice *self = WBD_TUYA_DEVICE(device);
	GTask *task = g_task_new(device, cancellable, callback, user_data);
	const WbdTuyaDp *dp = wbd_tuya_profile_lookup_property(self->profile, "Outlet", "On");
	g_autoptr(GVariant) dps = NULL;
	GVariantBuilder builder;

	g_task_set_source_tag(task, wbd_tuya_device_set_on_async);
	g_task_set_task_data(task, GINT_TO_POINTER(on), NULL);
	if (dp == NULL || !dp->writable) {
		g_task_return_new_error(task,
					WATTBUS_ERROR,
					WATTBUS_ERROR_NOT_SUPPORTED,
					"The device's profile has no writable switch DP");
		g_object_unref(task);
		return;
	}
	g_variant_builder_init(&builder, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&builder, "{sv}", dp->id, g_variant_new_boolean(on));
	dps = g_variant_ref_sink(g_variant_builder_end(&builder));
	wbd_tuya_device_write_dps_async(self, dps, cancellable, wbd_tuya_device_set_on_written_cb, task);
}

static gboolean
wbd_tuya_device_set_on_finish(WbdDevice *device, GAsyncResult *res, GError **error)
{
	return g_task_propagate_boolean(G_TASK(res), error);
}

static void
wbd_tuya_device_command_written_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	GError *error = NULL;
	if (!wbd_tuya_device_write_dps_finish(WBD_TUYA_DEVICE(source), res, &error))
		g_task_return_error(task, error);
	else
		g_task_return_boolean(task, TRUE);
}

/* commands (D-Bus methods, exporters): a WaterMeter property, or `Dps` {id: raw} (SetDp) */
static void
wbd_tuya_device_command_async(WbdDevice *device,
			      const gchar *property,
			      GVariant *value,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data)
{
	static const gchar *const water_meter_writes[] =
	    {"Switch", "Valve", "ValveOpenness", "ColdSharingType", "HotSharingType", NULL};
	WbdTuyaDevice *self = WBD_TUYA_DEVICE(device);
	g_autoptr(GTask) task = NULL;
	g_autoptr(GVariant) dps = NULL;
	GError *error = NULL;

	if (!g_strv_contains(water_meter_writes, property) && g_strcmp0(property, "Dps") != 0) {
		WBD_DEVICE_CLASS(wbd_tuya_device_parent_class)
		    ->command_async(device, property, value, cancellable, callback, user_data);
		return;
	}
	task = g_task_new(device, cancellable, callback, user_data);
	if (g_strcmp0(property, "Dps") != 0) {
		dps = wbd_tuya_methods_check_write(self->profile, property, NULL, value, &error);
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_VARDICT) &&
		   g_variant_n_children(value) == 1) {
		const gchar *id = NULL;
		g_autoptr(GVariant) raw = NULL;
		g_variant_get_child(value, 0, "{&sv}", &id, &raw);
		dps = wbd_tuya_methods_check_write(self->profile, NULL, id, raw, &error);
	} else {
		g_set_error_literal(&error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "Dps takes one DP id and its value");
	}
	if (dps == NULL) {
		g_task_return_error(task, error);
		return;
	}
	wbd_tuya_device_write_dps_async(self,
					dps,
					cancellable,
					wbd_tuya_device_command_written_cb,
					g_steal_pointer(&task));
}

/* both paths complete a boolean GTask on the device */
static gboolean
wbd_tuya_device_command_finish(WbdDevice *device, GAsyncResult *res, GError **error)
{
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* life cycle */

static void
wbd_tuya_device_stop(WbdDevice *device)
{
	WbdTuyaDevice *self = WBD_TUYA_DEVICE(device);
	g_cancellable_cancel(self->cancellable);
	g_clear_handle_id(&self->reconnect_id, g_source_remove);
	if (self->connection != NULL) {
		g_signal_handlers_disconnect_by_data(self->connection, self);
		/* a sub-device's connection is its hub's */
		if (self->cid == NULL)
			wbd_tuya_connection_close(self->connection);
	}
}

static void
wbd_tuya_device_dispose(GObject *object)
{
	WbdTuyaDevice *self = WBD_TUYA_DEVICE(object);
	G_OBJECT_CLASS(wbd_tuya_device_parent_class)->dispose(object);
	g_clear_handle_id(&self->reconnect_id, g_source_remove);
	if (self->connection != NULL)
		g_signal_handlers_disconnect_by_data(self->connection, self);
	g_clear_object(&self->connection);
	if (self->iface_tuya != NULL)
		g_signal_handlers_disconnect_by_data(self->iface_tuya, self);
	if (self->iface_water != NULL)
		g_signal_handlers_disconnect_by_data(self->iface_water, self);
	g_clear_object(&self->iface_tuya);
	g_clear_object(&self->iface_water);
}

static void
wbd_tuya_device_finalize(GObject *object)
{
	WbdTuyaDevice *self = WBD_TUYA_DEVICE(object);
	g_free(self->host);
	g_free(self->device_id);
	g_free(self->cid);
	memset(self->local_key, 0, sizeof(self->local_key));
	g_clear_pointer(&self->profile, wbd_tuya_profile_unref);
	g_clear_pointer(&self->dps, g_hash_table_unref);
	g_clear_pointer(&self->water_measured, g_ptr_array_unref);
	g_clear_pointer(&self->energy, wbd_tuya_energy_free);
	g_clear_object(&self->cancellable);
	G_OBJECT_CLASS(wbd_tuya_device_parent_class)->finalize(object);
}

static void
wbd_tuya_device_class_init(WbdTuyaDeviceClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	WbdDeviceClass *device_class = WBD_DEVICE_CLASS(klass);

	object_class->dispose = wbd_tuya_device_dispose;
	object_class->finalize = wbd_tuya_device_finalize;
	device_class->configure = wbd_tuya_device_configure;
	device_class->refresh_async = wbd_tuya_device_refresh_async;
	device_class->refresh_finish = wbd_tuya_device_refresh_finish;
	device_class->set_on_async = wbd_tuya_device_set_on_async;
	device_class->set_on_finish = wbd_tuya_device_set_on_finish;
	device_class->stop = wbd_tuya_device_stop;
	device_class->command_async = wbd_tuya_device_command_async;
	device_class->command_finish = wbd_tuya_device_command_finish;
}

static void
wbd_tuya_device_init(WbdTuyaDevice *self)
{
	self->port = WBD_TUYA_DEFAULT_PORT;
	self->dps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_variant_unref);
	self->water_measured = g_ptr_array_new_with_free_func(g_free);
	self->cancellable = g_cancellable_new();
	wbd_meter_reading_init(&self->reading);
}
