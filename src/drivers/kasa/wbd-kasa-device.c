/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include <wattbus-glib.h>

#include "wbd-address.h"
#include "wbd-config.h"
#include "wbd-kasa-codec.h"
#include "wbd-kasa-connection.h"
#include "wbd-kasa-device.h"
#include "wbd-kasa-energy.h"
#include "wbd-kasa-http.h"
#include "wbd-kasa-outlet.h"
#include "wbd-kasa-scan.h"
#include "wbd-kasa-smart.h"
#include "wbd-kasa-sysinfo.h"
#include "wbd-log.h"

#define WBD_KASA_DEFAULT_HTTP_PORT 80

/*
 * A TP-Link plug, wall switch or strip. On the legacy "IOT" protocol (XOR-obfuscated
 * JSON over TCP 9999) it is polled here; on KLAP or AES over HTTP (Tapo, newer Kasa)
 * by a WbdKasaSmart (wbd-kasa-smart.c), which `transport=auto` switches to when port
 * 9999 refuses or answers HTTP. A strip is a parent with one WbdKasaOutlet per socket.
 */
/* the members of a plug's sysinfo that its setters use, as last applied */
typedef struct {
	gboolean valid;
	gchar *strings[6]; /* model, hw_ver, sw_ver, mac, device_id, alias; never NULL */
	gint relay_state;
	WbdDeviceCaps caps;
} WbdKasaApplied;

struct _WbdKasaDevice {
	WbdDevice parent_instance;
	gchar *host;
	guint16 port;
	guint16 http_port;
	WbdKasaConnection *connection;
	WbdKasaTransport transport;
	gchar *username;
	gchar *password;
	WbdKasaSmart *smart; /* on KLAP/AES */
	gboolean http_confirmed; /* transport=auto: KLAP/AES answered once */
	WbdKasaHttp *http;
	gboolean has_emeter;
	gboolean emeter_unsupported;
	GPtrArray *child_ids; /* gchar *, the device's ids of the current children */
	WbdKasaApplied applied; /* what a plug's sysinfo last set, but its readings (see below) */
	/* a plug's emeter.get_daystat/get_monthstat, asked once a WBD_KASA_STATS_S */
	gint64 stats_due;	/* monotonic µs */
	gboolean stats_unsupported;
	gdouble stats_today;	/* Wh; NaN: not known */
	gdouble stats_month;
	WbdMeterReading last;	/* the plug's last reading, without them */
};

#define WBD_KASA_STATS_S 60

G_DEFINE_TYPE(WbdKasaDevice, wbd_kasa_device, WBD_TYPE_DEVICE)

/* from now on over HTTP (KLAP or AES) on @port */
static void
wbd_kasa_device_use_http(WbdKasaDevice *self, guint16 port)
{
	self->http = wbd_kasa_http_new(self->host,
				       port,
				       self->transport == WBD_KASA_TRANSPORT_XOR ? WBD_KASA_TRANSPORT_AUTO
										 : self->transport,
				       self->username,
				       self->password,
				       wbd_device_get_id(WBD_DEVICE(self)));
	self->smart = wbd_kasa_smart_new(self, self->http);
}

/* configuration */

static gboolean
wbd_kasa_device_configure(WbdDevice *device, GHashTable *settings, GError **error)
{
	WbdKasaDevice *self = WBD_KASA_DEVICE(device);
	const gchar *address = g_hash_table_lookup(settings, "address");
	const gchar *http_port = g_hash_table_lookup(settings, "http-port");
	const gchar *transport = g_hash_table_lookup(settings, "transport");
	g_autoptr(GError) local_error = NULL;
	guint64 port = WBD_KASA_DEFAULT_HTTP_PORT;

	if (!wbd_address_parse(address, WBD_KASA_DEFAULT_PORT, &self->host, &self->port, &local_error)) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "Device '%s': %s",
			    wbd_device_get_id(device),
			    local_error->message);
		return FALSE;
	}
	if (http_port != NULL &&
	    !g_ascii_string_to_unsigned(http_port, 10, 1, G_MAXUINT16, &port, NULL)) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "Device '%s': http-port must be a port number from 1 to 65535",
			    wbd_device_get_id(device));
		return FALSE;
	}
	self->http_port = (guint16)port;
	if (transport != NULL && !wbd_kasa_transport_parse(transport, &self->transport)) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "Device '%s': transport must be auto, xor, klap or aes",
			    wbd_device_get_id(device));
		return FALSE;
	}
	/* the account: the device's own, else the one of [driver kasa] */
	if (g_hash_table_contains(settings, "username") || g_hash_table_contains(settings, "password")) {
		self->username = g_strdup(g_hash_table_lookup(settings, "username"));
		self->password = g_strdup(g_hash_table_lookup(settings, "password"));
	} else {
		self->username = g_strdup(wbd_config_get_driver_setting("kasa", "username"));
		self->password = g_strdup(wbd_config_get_driver_setting("kasa", "password"));
	}
	self->connection = wbd_kasa_connection_new(self->host, self->port, wbd_device_get_id(device));
	if (self->transport == WBD_KASA_TRANSPORT_KLAP || self->transport == WBD_KASA_TRANSPORT_AES)
		wbd_kasa_device_use_http(self, self->http_port);
	return TRUE;
}

/* what sysinfo says */

static gboolean
child_ids_equal(GPtrArray *ids, WbdKasaSysinfo *info)
{
	if (ids->len != info->children->len)
		return FALSE;
	for (guint i = 0; i < ids->len; i++) {
		WbdKasaChild *child = g_ptr_array_index(info->children, i);
		if (g_strcmp0(g_ptr_array_index(ids, i), child->id) != 0)
			return FALSE;
	}
	return TRUE;
}

static void
wbd_kasa_device_apply_identity(WbdDevice *device, WbdKasaSysinfo *info, const gchar *serial)
{
	wbd_device_set_model(device, info->model);
	wbd_device_set_hardware_version(device, info->hw_ver);
	wbd_device_set_firmware_version(device, info->sw_ver);
	wbd_device_set_mac_address(device, info->mac);
	wbd_device_set_serial_number(device, serial);
}

#define NONNULL(s) ((s) != NULL ? (s) : "")

static void
wbd_kasa_applied_clear(WbdKasaApplied *applied)
{
	for (guint i = 0; i < G_N_ELEMENTS(applied->strings); i++)
		g_clear_pointer(&applied->strings[i], g_free);
	applied->valid = FALSE;
}

/* whether @info (with @caps) is what @applied holds; else @applied becomes it */
static gboolean
wbd_kasa_applied_update(WbdKasaApplied *applied, WbdKasaSysinfo *info, WbdDeviceCaps caps)
{
	const gchar *strings[G_N_ELEMENTS(applied->strings)] = {
	    NONNULL(info->model),
	    NONNULL(info->hw_ver),
	    NONNULL(info->sw_ver),
	    NONNULL(info->mac),
	    NONNULL(info->device_id),
	    NONNULL(info->alias),
	};
	gboolean same = applied->valid && applied->relay_state == info->relay_state &&
			applied->caps == caps;

	for (guint i = 0; same && i < G_N_ELEMENTS(strings); i++)
		same = g_str_equal(applied->strings[i], strings[i]);
	if (same)
		return TRUE;
	wbd_kasa_applied_clear(applied);
	for (guint i = 0; i < G_N_ELEMENTS(strings); i++)
		applied->strings[i] = g_strdup(strings[i]);
	applied->relay_state = info->relay_state;
	applied->caps = caps;
	applied->valid = TRUE;
	return FALSE;
}

void
wbd_kasa_device_apply_sysinfo(WbdKasaDevice *self, WbdKasaSysinfo *info)
{
	WbdDevice *device = WBD_DEVICE(self);
	gboolean meter = info->has_emeter && !self->emeter_unsupported;
	GPtrArray *children;

	self->has_emeter = info->has_emeter;

	if (info->children->len == 0) {
		WbdDeviceCaps caps =
		    WBD_DEVICE_CAP_OUTLET | (meter ? WBD_DEVICE_CAP_ELECTRICITY_METER : 0);
		/*
		 * Each setter below costs a property set and its notify, even unchanged; at
		 * one poll a second of many plugs that was a good part of a poll's CPU. So
		 * when nothing but the readings changed since the last poll, set only those.
		 */
		if (wbd_kasa_applied_update(&self->applied, info, caps) && self->child_ids->len == 0)
			return;
		if (self->child_ids->len > 0) {
			wbd_device_remove_children(device);
			g_ptr_array_set_size(self->child_ids, 0);
		}
		wbd_kasa_device_apply_identity(device, info, info->device_id);
		wbd_device_set_device_name(device, info->alias);
		wbd_device_set_kind(device, wbd_kasa_sysinfo_get_kind(info));
		wbd_device_set_capabilities(device, caps);
		wbd_device_set_measurement(device, "load");
		wbd_device_set_on(device, info->relay_state == 1);
		return;
	}

	wbd_kasa_applied_clear(&self->applied);
	wbd_kasa_device_apply_identity(device, info, info->device_id);
	wbd_device_set_device_name(device, info->alias);
	wbd_device_set_kind(device, wbd_kasa_sysinfo_get_kind(info));

	/* a strip: the parent has no relay of its own, only the sum of its meters */
	wbd_device_set_capabilities(device, meter ? WBD_DEVICE_CAP_ELECTRICITY_METER : 0);
	wbd_device_set_measurement(device, "load");
	if (!child_ids_equal(self->child_ids, info)) {
		wbd_dev_debug(self, "%u outlets", info->children->len);
		wbd_device_remove_children(device);
		g_ptr_array_set_size(self->child_ids, 0);
		for (guint i = 0; i < info->children->len; i++) {
			WbdKasaChild *child = g_ptr_array_index(info->children, i);
			g_autofree gchar *id = g_strdup_printf("%s_%u", wbd_device_get_id(device), i + 1);
			g_autoptr(WbdDevice) outlet = wbd_kasa_outlet_new(self, id, child->id, i);
			g_ptr_array_add(self->child_ids, g_strdup(child->id));
			wbd_device_add_child(device, outlet);
		}
	}
	children = wbd_device_get_children(device);
	for (guint i = 0; i < children->len && i < info->children->len; i++) {
		WbdDevice *outlet = g_ptr_array_index(children, i);
		WbdKasaChild *child = g_ptr_array_index(info->children, i);
		g_autofree gchar *fallback = g_strdup_printf("%s %u", info->alias != NULL ? info->alias : "", i + 1);
		wbd_kasa_device_apply_identity(outlet, info, child->id);
		wbd_device_set_device_name(outlet,
					   child->alias != NULL && child->alias[0] != '\0'
					       ? child->alias
					       : g_strstrip(fallback));
		wbd_device_set_kind(outlet, "outlet");
		wbd_device_set_capabilities(outlet,
					    WBD_DEVICE_CAP_OUTLET |
						(meter ? WBD_DEVICE_CAP_ELECTRICITY_METER : 0));
		wbd_device_set_measurement(outlet, "load");
		wbd_device_set_on(outlet, child->on);
	}
}

/* a module the device said it does not have is not asked for again */
static void
wbd_kasa_device_drop_emeter(WbdKasaDevice *self, const GError *error)
{
	GPtrArray *children = wbd_device_get_children(WBD_DEVICE(self));
	wbd_dev_info(self, "no energy meter after all: %s", error->message);
	self->emeter_unsupported = TRUE;
	wbd_kasa_applied_clear(&self->applied);
	wbd_device_set_capabilities(WBD_DEVICE(self),
				    wbd_device_get_capabilities(WBD_DEVICE(self)) &
					~WBD_DEVICE_CAP_ELECTRICITY_METER);
	for (guint i = 0; i < children->len; i++)
		wbd_device_set_capabilities(g_ptr_array_index(children, i), WBD_DEVICE_CAP_OUTLET);
}

/* refresh: sysinfo, then the meter of the plug or of each outlet */

typedef enum {
	REFRESH_STEP_SYSINFO,
	REFRESH_STEP_EMETER,
	REFRESH_STEP_STATS,
	REFRESH_STEP_LAST,
} RefreshStep;

typedef struct {
	RefreshStep step;
	guint child; /* the outlet whose meter is being read */
	gint io_priority; /* a poll's is below a command's */
	gboolean combined; /* sysinfo and the plug's meter asked in one request */
	GArray *readings; /* a strip's outlets' readings, while it reads them */
} RefreshData;

/* constant requests, as wbd_kasa_build_request() writes them, built once */
#define WBD_KASA_REQUEST_SYSINFO "{\"system\":{\"get_sysinfo\":{}}}"
/* devices answer every module of a request in one reply (python-kasa asks so too) */
#define WBD_KASA_REQUEST_SYSINFO_EMETER \
	"{\"system\":{\"get_sysinfo\":{}},\"emeter\":{\"get_realtime\":{}}}"

/* the frames of the two constant requests, encoded once */
static GBytes *
wbd_kasa_device_get_poll_frame(gboolean with_emeter)
{
	static GBytes *frames[2];
	static gsize done = 0;
	if (g_once_init_enter(&done)) {
		frames[0] = wbd_kasa_frame_encode(WBD_KASA_REQUEST_SYSINFO);
		frames[1] = wbd_kasa_frame_encode(WBD_KASA_REQUEST_SYSINFO_EMETER);
		g_once_init_leave(&done, 1);
	}
	return frames[with_emeter ? 1 : 0];
}

static void
refresh_data_free(RefreshData *data)
{
	g_clear_pointer(&data->readings, g_array_unref);
	g_free(data);
}

static void
wbd_kasa_device_refresh_step(GTask *task);
static void
wbd_kasa_device_handle_emeter(GTask *task, JsonNode *reply, GError *error);
static void
wbd_kasa_device_apply_reading(GTask *task, const WbdMeterReading *reading);
static void
wbd_kasa_device_set_plug_reading(WbdKasaDevice *self);
static gboolean
wbd_kasa_device_stats_due(WbdKasaDevice *self);

static void
wbd_kasa_device_smart_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	WbdKasaDevice *self = WBD_KASA_DEVICE(source);
	GError *error = NULL;

	if (wbd_kasa_smart_finish(self, res, &error)) {
		self->http_confirmed = TRUE;
		g_task_return_boolean(task, TRUE);
		return;
	}
	if (self->transport == WBD_KASA_TRANSPORT_AUTO && !self->http_confirmed &&
	    !g_error_matches(error, WATTBUS_ERROR, WATTBUS_ERROR_PERMISSION_DENIED)) {
		/* not a KLAP/AES device after all (or not now): XOR again at the next poll */
		g_prefix_error(&error, "No XOR protocol on port %u (refused the connection or answered HTTP), and over HTTP: ", self->port);
		wbd_kasa_http_close(self->http);
		g_clear_pointer(&self->smart, wbd_kasa_smart_free);
		g_clear_object(&self->http);
	}
	g_task_return_error(task, error);
}

/* transport=auto: port 9999 refused or answered HTTP, so KLAP, then AES, over HTTP */
static void
wbd_kasa_device_switch_to_http(WbdKasaDevice *self, GTask *task, gboolean answered_http)
{
	RefreshData *data = g_task_get_task_data(task);
	/* an HTTP answer on the address's own port: that port is the device's HTTP port */
	guint16 port = answered_http && self->port != WBD_KASA_DEFAULT_PORT ? self->port : self->http_port;
	wbd_dev_info(self, "no XOR protocol on port %u: trying KLAP and AES on HTTP port %u", self->port, port);
	wbd_kasa_connection_close(self->connection);
	wbd_kasa_device_use_http(self, port);
	wbd_kasa_smart_refresh_async(self->smart,
				     data->io_priority,
				     g_task_get_cancellable(task),
				     wbd_kasa_device_smart_cb,
				     task);
}

static void
wbd_kasa_device_sysinfo_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	WbdKasaDevice *self = g_task_get_source_object(task);
	RefreshData *data = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(WbdKasaReply) reply = NULL;
	g_autoptr(WbdKasaSysinfo) info = NULL;
	JsonObject *result = NULL;
	JsonNode *json;

	reply = wbd_kasa_connection_poll_finish(WBD_KASA_CONNECTION(source), res, &error);
	if (reply == NULL) {
		gboolean refused = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
		gboolean http = g_error_matches(error, WATTBUS_ERROR, WATTBUS_ERROR_NOT_SUPPORTED);
		if ((refused || http) && self->transport == WBD_KASA_TRANSPORT_AUTO && self->smart == NULL) {
			wbd_kasa_device_switch_to_http(self, task, http);
			return;
		}
		if (refused) {
			g_task_return_new_error(task,
						WATTBUS_ERROR,
						WATTBUS_ERROR_DEVICE_OFFLINE,
						"The device refused the connection on port %u (devices on "
						"newer firmware speak KLAP or AES over HTTP: transport=auto)",
						self->port);
			g_object_unref(task);
			return;
		}
		g_task_return_error(task, g_steal_pointer(&error));
		g_object_unref(task);
		return;
	}
	/* what the scanner read, else json-glib's tree (see wbd-kasa-scan.c) */
	info = g_steal_pointer(&reply->scan.sysinfo);
	if (info == NULL)
		result = wbd_kasa_reply_get_result(reply->json, "system", "get_sysinfo", NULL, &error);
	if (result != NULL)
		info = wbd_kasa_sysinfo_parse(result, &error);
	if (info == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		g_object_unref(task);
		return;
	}
	wbd_kasa_device_apply_sysinfo(self, info);
	data->step++;
	if (data->combined && info->children->len == 0 && self->has_emeter &&
	    !self->emeter_unsupported) {
		/* the plug's meter came in the same reply */
		if (reply->scan.has_realtime) {
			wbd_kasa_device_apply_reading(task, &reply->scan.realtime);
			return;
		}
		json = wbd_kasa_reply_get_json(reply, &error);
		wbd_kasa_device_handle_emeter(task, json, g_steal_pointer(&error));
		return;
	}
	wbd_kasa_device_refresh_step(task);
}

/* the emeter part of a reply (@reply %NULL: @error says why there is none) */
static void
wbd_kasa_device_handle_emeter(GTask *task, JsonNode *reply, GError *error)
{
	WbdKasaDevice *self = g_task_get_source_object(task);
	RefreshData *data = g_task_get_task_data(task);
	JsonObject *result = NULL;
	WbdMeterReading reading;

	if (reply != NULL)
		result = wbd_kasa_reply_get_result(reply, "emeter", "get_realtime", NULL, &error);
	if (result == NULL) {
		if (g_error_matches(error, WATTBUS_ERROR, WATTBUS_ERROR_NOT_SUPPORTED)) {
			wbd_kasa_device_drop_emeter(self, error);
			g_error_free(error);
			data->step++;
			wbd_kasa_device_refresh_step(task);
			return;
		}
		g_task_return_error(task, error);
		g_object_unref(task);
		return;
	}
	g_clear_error(&error);
	wbd_kasa_parse_realtime(result, &reading);
	wbd_kasa_device_apply_reading(task, &reading);
}

/* a reading of the plug, or of the strip's outlet data->child */
static void
wbd_kasa_device_apply_reading(GTask *task, const WbdMeterReading *reading)
{
	WbdKasaDevice *self = g_task_get_source_object(task);
	RefreshData *data = g_task_get_task_data(task);
	GPtrArray *children = wbd_device_get_children(WBD_DEVICE(self));

	if (children->len == 0) {
		self->last = *reading;
		/* with the statistics, when they are asked in this poll (one change a poll) */
		if (!wbd_kasa_device_stats_due(self))
			wbd_kasa_device_set_plug_reading(self);
		data->step++;
	} else {
		if (data->child < children->len)
			wbd_device_set_meter_reading(g_ptr_array_index(children, data->child), reading);
		if (data->readings == NULL)
			data->readings = g_array_new(FALSE, FALSE, sizeof(WbdMeterReading));
		g_array_append_val(data->readings, *reading);
		data->child++;
		if (data->child >= children->len) {
			WbdMeterReading total;
			wbd_kasa_sum_readings((WbdMeterReading *)data->readings->data,
					      data->readings->len,
					      &total);
			wbd_device_set_meter_reading(WBD_DEVICE(self), &total);
			data->step++;
		}
	}
	wbd_kasa_device_refresh_step(task);
}

/* whether this poll of a plug asks for its daily and monthly statistics */
static gboolean
wbd_kasa_device_stats_due(WbdKasaDevice *self)
{
	return self->has_emeter && !self->emeter_unsupported && !self->stats_unsupported &&
	       self->child_ids->len == 0 && g_get_monotonic_time() >= self->stats_due;
}

/* the plug's last reading with today's and this month's energy, where known */
static void
wbd_kasa_device_set_plug_reading(WbdKasaDevice *self)
{
	WbdMeterReading reading = self->last;
	if (!isnan(self->stats_today))
		wbd_meter_reading_set(&reading, WBD_QUANTITY_ENERGY_TODAY, self->stats_today);
	if (!isnan(self->stats_month))
		wbd_meter_reading_set(&reading, WBD_QUANTITY_ENERGY_THIS_MONTH, self->stats_month);
	wbd_device_set_meter_reading(WBD_DEVICE(self), &reading);
}

static void
wbd_kasa_device_stats_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	WbdKasaDevice *self = g_task_get_source_object(task);
	RefreshData *data = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) reply = NULL;
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	JsonObject *day = NULL;
	JsonObject *month = NULL;
	gdouble today = 0, this_month = 0;

	reply = wbd_kasa_connection_request_finish(WBD_KASA_CONNECTION(source), res, &error);
	if (reply != NULL)
		day = wbd_kasa_reply_get_result(reply, "emeter", "get_daystat", NULL, &error);
	if (day != NULL)
		month = wbd_kasa_reply_get_result(reply, "emeter", "get_monthstat", NULL, &error);
	if (month != NULL &&
	    wbd_kasa_stats_find(day,
				"day_list",
				g_date_time_get_year(now),
				g_date_time_get_month(now),
				g_date_time_get_day_of_month(now),
				&today,
				&error) &&
	    wbd_kasa_stats_find(month,
				"month_list",
				g_date_time_get_year(now),
				g_date_time_get_month(now),
				0,
				&this_month,
				&error)) {
		self->stats_today = today;
		self->stats_month = this_month;
	} else if (g_error_matches(error, WATTBUS_ERROR, WATTBUS_ERROR_NOT_SUPPORTED)) {
		wbd_dev_debug(self, "no daily/monthly statistics: %s", error->message);
		self->stats_unsupported = TRUE;
	} else if (error != NULL) {
		/* the readings stand without them; asked again in a minute */
		wbd_dev_debug(self, "daily/monthly statistics: %s", error->message);
	}
	wbd_kasa_device_set_plug_reading(self);
	data->step++;
	wbd_kasa_device_refresh_step(task);
}

static void
wbd_kasa_device_emeter_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GError *error = NULL;
	g_autoptr(JsonNode) reply = NULL;

	reply = wbd_kasa_connection_request_finish(WBD_KASA_CONNECTION(source), res, &error);
	wbd_kasa_device_handle_emeter(G_TASK(user_data), reply, error);
}

static void
wbd_kasa_device_refresh_step(GTask *task)
{
	WbdKasaDevice *self = g_task_get_source_object(task);
	RefreshData *data = g_task_get_task_data(task);
	g_autofree gchar *request = NULL;

	switch (data->step) {
	case REFRESH_STEP_SYSINFO:
		/* a plug known to have a meter: one round trip a poll instead of two */
		data->combined =
		    self->has_emeter && !self->emeter_unsupported && self->child_ids->len == 0;
		wbd_kasa_connection_poll_async(self->connection,
					       data->combined ? WBD_KASA_REQUEST_SYSINFO_EMETER
							      : WBD_KASA_REQUEST_SYSINFO,
					       wbd_kasa_device_get_poll_frame(data->combined),
					       data->io_priority,
					       g_task_get_cancellable(task),
					       wbd_kasa_device_sysinfo_cb,
					       task);
		return;
	case REFRESH_STEP_EMETER:
		if (!self->has_emeter || self->emeter_unsupported) {
			data->step++;
			wbd_kasa_device_refresh_step(task);
			return;
		}
		if (self->child_ids->len == 0) {
			request = wbd_kasa_build_request("emeter", "get_realtime", NULL, NULL);
		} else {
			/* a strip's parent reading is one outlet's, so ask each outlet */
			request = wbd_kasa_build_request("emeter",
							 "get_realtime",
							 NULL,
							 g_ptr_array_index(self->child_ids, data->child));
		}
		wbd_kasa_connection_request_async(self->connection,
						  request,
						  data->io_priority,
						  g_task_get_cancellable(task),
						  wbd_kasa_device_emeter_cb,
						  task);
		return;
	case REFRESH_STEP_STATS:
		/* a plug's energy today and this month: they change slowly, asked once a minute */
		if (!wbd_kasa_device_stats_due(self)) {
			data->step++;
			wbd_kasa_device_refresh_step(task);
			return;
		} else {
			g_autoptr(GDateTime) now = g_date_time_new_now_local();
			self->stats_due = g_get_monotonic_time() + WBD_KASA_STATS_S * G_USEC_PER_SEC;
			request = g_strdup_printf("{\"emeter\":{\"get_daystat\":{\"year\":%d,\"month\":%d},"
						  "\"get_monthstat\":{\"year\":%d}}}",
						  g_date_time_get_year(now),
						  g_date_time_get_month(now),
						  g_date_time_get_year(now));
		}
		wbd_kasa_connection_request_async(self->connection,
						  request,
						  data->io_priority,
						  g_task_get_cancellable(task),
						  wbd_kasa_device_stats_cb,
						  task);
		return;
	case REFRESH_STEP_LAST:
	default:
		g_task_return_boolean(task, TRUE);
		g_object_unref(task);
		return;
	}
}

static void
wbd_kasa_device_refresh_full(WbdDevice *device,
			     gint io_priority,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	WbdKasaDevice *self = WBD_KASA_DEVICE(device);
	GTask *task = g_task_new(device, cancellable, callback, user_data);
	RefreshData *data = g_new0(RefreshData, 1);
	data->io_priority = io_priority;
	g_task_set_source_tag(task, wbd_kasa_device_refresh_full);
	g_task_set_task_data(task, data, (GDestroyNotify)refresh_data_free);
	if (self->smart != NULL) {
		wbd_kasa_smart_refresh_async(self->smart, io_priority, cancellable, wbd_kasa_device_smart_cb, task);
		return;
	}
	wbd_kasa_device_refresh_step(task);
}

/* a poll */
static void
wbd_kasa_device_refresh_async(WbdDevice *device,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data)
{
	wbd_kasa_device_refresh_full(device,
				     WBD_DEVICE_POLL_PRIORITY,
				     cancellable,
				     callback,
				     user_data);
}

static gboolean
wbd_kasa_device_refresh_finish(WbdDevice *device, GAsyncResult *res, GError **error)
{
	return g_task_propagate_boolean(G_TASK(res), error);
}

/*
 * Switching: one round trip. A plug answers set_relay_state after its relay has moved,
 * so err_code 0 is the confirmation and the caller hears back at once; the state and
 * the meter are then read back (not waited for), so that power follows within a round
 * trip instead of at the next poll, and a device that said yes but did not switch is
 * caught and shown as it is.
 */

typedef struct {
	gchar *child_id; /* NULL for a plug */
	WbdDevice *target;
	gboolean on;
} SwitchData;

static void
switch_data_free(SwitchData *data)
{
	g_free(data->child_id);
	g_clear_object(&data->target);
	g_free(data);
}

static void
wbd_kasa_device_read_back_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	SwitchData *data = user_data;
	g_autoptr(GError) error = NULL;

	if (!wbd_kasa_device_refresh_finish(WBD_DEVICE(source), res, &error)) {
		/* the next poll reports it, with the back-off and LastError */
		wbd_dev_debug(WBD_DEVICE(source), "no read-back after switching: %s", error->message);
	} else if (wbd_device_get_on(data->target) != data->on) {
		wbd_dev_warning(data->target,
				"the device accepted switching %s but stayed %s",
				data->on ? "on" : "off",
				data->on ? "off" : "on");
	}
	switch_data_free(data);
}

static void
wbd_kasa_device_switch_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	WbdKasaDevice *self = g_task_get_source_object(task);
	SwitchData *data = g_task_get_task_data(task);
	SwitchData *read_back;
	GError *error = NULL;
	g_autoptr(JsonNode) reply = NULL;

	if (WBD_IS_KASA_DEVICE(source)) {
		if (!wbd_kasa_smart_finish(self, res, &error)) {
			g_task_return_error(task, error);
			return;
		}
	} else {
		reply = wbd_kasa_connection_request_finish(WBD_KASA_CONNECTION(source), res, &error);
		if (reply == NULL ||
		    wbd_kasa_reply_get_result(reply, "system", "set_relay_state", NULL, &error) == NULL) {
			g_task_return_error(task, error);
			return;
		}
	}
	wbd_device_set_on(data->target, data->on);
	/* the next sysinfo is compared with the state set here, not with the last one */
	wbd_kasa_applied_clear(&self->applied);
	wbd_device_report_success(WBD_DEVICE(self));
	g_task_return_boolean(task, TRUE);

	read_back = g_new0(SwitchData, 1);
	read_back->target = g_object_ref(data->target);
	read_back->on = data->on;
	/* queued behind nothing but this connection's requests, at a command's priority */
	wbd_kasa_device_refresh_full(WBD_DEVICE(self),
				      G_PRIORITY_DEFAULT,
				      NULL,
				      wbd_kasa_device_read_back_cb,
				      read_back);
}

void
wbd_kasa_device_switch_async(WbdKasaDevice *self,
			     WbdDevice *target,
			     const gchar *child_id,
			     gboolean on,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	SwitchData *data = g_new0(SwitchData, 1);
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();
	g_autoptr(JsonNode) params = NULL;
	g_autofree gchar *request = NULL;

	data->child_id = g_strdup(child_id);
	data->target = g_object_ref(target);
	data->on = on;
	g_task_set_source_tag(task, wbd_kasa_device_switch_async);
	g_task_set_task_data(task, data, (GDestroyNotify)switch_data_free);

	if (self->smart != NULL) {
		wbd_kasa_smart_switch_async(self->smart, target, child_id, on, cancellable, wbd_kasa_device_switch_cb, task);
		return;
	}
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "state");
	json_builder_add_int_value(builder, on ? 1 : 0);
	json_builder_end_object(builder);
	params = json_builder_get_root(builder);
	request = wbd_kasa_build_request("system", "set_relay_state", params, child_id);
	wbd_kasa_connection_request_async(self->connection,
					  request,
					  G_PRIORITY_DEFAULT,
					  cancellable,
					  wbd_kasa_device_switch_cb,
					  task);
}

gboolean
wbd_kasa_device_switch_finish(WbdKasaDevice *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

static void
wbd_kasa_device_set_on_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	GError *error = NULL;
	if (!wbd_kasa_device_switch_finish(WBD_KASA_DEVICE(source), res, &error))
		g_task_return_error(task, error);
	else
		g_task_return_boolean(task, TRUE);
}

static void
wbd_kasa_device_set_on_async(WbdDevice *device,
			     gboolean on,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	GTask *task = g_task_new(device, cancellable, callback, user_data);
	wbd_kasa_device_switch_async(WBD_KASA_DEVICE(device),
				     device,
				     NULL,
				     on,
				     cancellable,
				     wbd_kasa_device_set_on_cb,
				     task);
}

static gboolean
wbd_kasa_device_set_on_finish(WbdDevice *device, GAsyncResult *res, GError **error)
{
	return g_task_propagate_boolean(G_TASK(res), error);
}

static void
wbd_kasa_device_stop(WbdDevice *device)
{
	WbdKasaDevice *self = WBD_KASA_DEVICE(device);
	if (self->connection != NULL)
		wbd_kasa_connection_close(self->connection);
	if (self->http != NULL)
		wbd_kasa_http_close(self->http);
	if (self->smart != NULL)
		wbd_kasa_energy_flush();
}

static void
wbd_kasa_device_dispose(GObject *object)
{
	WbdKasaDevice *self = WBD_KASA_DEVICE(object);
	G_OBJECT_CLASS(wbd_kasa_device_parent_class)->dispose(object);
	g_clear_object(&self->connection);
	g_clear_pointer(&self->smart, wbd_kasa_smart_free);
	g_clear_object(&self->http);
}

static void
wbd_kasa_device_finalize(GObject *object)
{
	WbdKasaDevice *self = WBD_KASA_DEVICE(object);
	g_free(self->host);
	wbd_kasa_applied_clear(&self->applied);
	g_free(self->username);
	if (self->password != NULL)
		memset(self->password, 0, strlen(self->password));
	g_free(self->password);
	g_clear_pointer(&self->child_ids, g_ptr_array_unref);
	G_OBJECT_CLASS(wbd_kasa_device_parent_class)->finalize(object);
}

static void
wbd_kasa_device_class_init(WbdKasaDeviceClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	WbdDeviceClass *device_class = WBD_DEVICE_CLASS(klass);

	object_class->dispose = wbd_kasa_device_dispose;
	object_class->finalize = wbd_kasa_device_finalize;
	device_class->configure = wbd_kasa_device_configure;
	device_class->refresh_async = wbd_kasa_device_refresh_async;
	device_class->refresh_finish = wbd_kasa_device_refresh_finish;
	device_class->set_on_async = wbd_kasa_device_set_on_async;
	device_class->set_on_finish = wbd_kasa_device_set_on_finish;
	device_class->stop = wbd_kasa_device_stop;
}

static void
wbd_kasa_device_init(WbdKasaDevice *self)
{
	self->child_ids = g_ptr_array_new_with_free_func(g_free);
	self->port = WBD_KASA_DEFAULT_PORT;
	self->http_port = WBD_KASA_DEFAULT_HTTP_PORT;
	self->stats_today = NAN;
	self->stats_month = NAN;
	wbd_meter_reading_init(&self->last);
}
