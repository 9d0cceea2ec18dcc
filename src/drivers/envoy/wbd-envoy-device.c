/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-envoy-auth.h"
#include "wbd-envoy-child.h"
#include "wbd-envoy-client.h"
#include "wbd-envoy-data.h"
#include "wbd-envoy-device.h"
#include "wbd-envoy-info.h"
#include "wbd-envoy-json.h"
#include "wbd-envoy-live.h"
#include "wbd-envoy-pin.h"
#include "wbd-envoy-trust.h"
#include "wbd-envoy-meters.h"
#include "wbd-envoy-storage.h"
#include "wbd-log.h"

#define WBD_ENVOY_INVERTER_INTERVAL_DEFAULT 30
#define WBD_ENVOY_STREAM_TIMEOUT_DEFAULT 30
/* /info is read again this often, to notice firmware updates (spec §3.2) */
#define WBD_ENVOY_INFO_INTERVAL_S 3600
/* the batteries are read this often (envoy-batteries.md §6), their per-ACB list less often,
 * and a gateway without the Ensemble endpoints is asked again this often */
#define WBD_ENVOY_ENSEMBLE_INTERVAL_S 60
#define WBD_ENVOY_ACB_INVENTORY_INTERVAL_S 300
#define WBD_ENVOY_ENSEMBLE_ABSENT_INTERVAL_S 3600
/* warn this long before the token expires */
#define WBD_ENVOY_TOKEN_WARN_S (7 * 24 * 3600)

/*
 * An Enphase Envoy, Envoy-S or IQ Gateway (spec: shared/specs/envoy.md). The gateway
 * object has one child per meter (a CT the gateway uses, the consumption it computes
 * from one, or the inverters' sum when it has no CT) and one per microinverter.
 * Each poll reads /info when needed, the meter readings, and the inverter list when
 * it is due; /stream/meter, where the gateway allows it, moves the meters in between.
 */

struct _WbdEnvoyDevice {
	WbdDevice parent_instance;
	gchar *host;
	guint16 port;
	gchar *scheme; /* configured, or NULL to probe */
	gchar *username;
	gchar *password;
	gchar *token;
	gint64 token_expiry;
	gchar *token_role;
	guint inverter_interval;
	guint stream_timeout;
	WbdEnvoyClient *client;
	WbdEnvoyLive *live;

	WbdEnvoyInfo *info;
	gint64 info_time; /* monotonic µs */
	gboolean session_ok;
	gboolean meters_known;
	gboolean meters_guessed; /* /ivp/meters was not available: read it again after a failure */
	guint phases;
	GPtrArray *meters;     /* WbdEnvoyMeter */
	GHashTable *inverters; /* serial → WbdEnvoyChild */
	gint64 inverters_time;
	WbdEnvoyStorage *storage; /* batteries and grid state */
	gint64 ensemble_time;
	gboolean ensemble_absent;
	gint64 acb_inventory_time;
	gint64 last_token_warning;
	gint64 last_poll_done;
};

G_DEFINE_TYPE(WbdEnvoyDevice, wbd_envoy_device, WBD_TYPE_DEVICE)

/* configuration */

static gboolean
parse_seconds(WbdDevice *device,
	      GHashTable *settings,
	      const gchar *key,
	      guint min,
	      guint max,
	      guint *value,
	      GError **error)
{
	const gchar *text = g_hash_table_lookup(settings, key);
	guint64 v = 0;
	if (text == NULL)
		return TRUE;
	if (!g_ascii_string_to_unsigned(text, 10, min, max, &v, NULL)) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "Device '%s': %s must be a whole number of seconds from %u to %u",
			    wbd_device_get_id(device),
			    key,
			    min,
			    max);
		return FALSE;
	}
	*value = (guint)v;
	return TRUE;
}

static gboolean
wbd_envoy_device_configure(WbdDevice *device, GHashTable *settings, GError **error)
{
	WbdEnvoyDevice *self = WBD_ENVOY_DEVICE(device);
	const gchar *id = wbd_device_get_id(device);
	const gchar *ca_file = g_hash_table_lookup(settings, "ca-file");
	g_autoptr(GError) local_error = NULL;

	if (!wbd_envoy_address_parse(g_hash_table_lookup(settings, "address"),
				     &self->scheme,
				     &self->host,
				     &self->port,
				     &local_error))
		goto invalid;
	self->username = g_strdup(g_hash_table_lookup(settings, "username"));
	self->password = g_strdup(g_hash_table_lookup(settings, "password"));
	self->token = g_strdup(g_hash_table_lookup(settings, "token"));
	if (self->username != NULL && self->username[0] == '\0')
		g_clear_pointer(&self->username, g_free);
	if (self->token != NULL && self->token[0] == '\0')
		g_clear_pointer(&self->token, g_free);
	if (self->token != NULL &&
	    !wbd_envoy_token_decode(
		self->token, &self->token_expiry, &self->token_role, &local_error))
		goto invalid;
	if (!parse_seconds(
		device, settings, "inverter-interval", 20, 60, &self->inverter_interval, error) ||
	    !parse_seconds(
		device, settings, "stream-timeout", 5, 300, &self->stream_timeout, error))
		return FALSE;

	self->client = wbd_envoy_client_new(id, self->host, self->port);
	if (ca_file != NULL && ca_file[0] != '\0') {
		wbd_envoy_client_set_ca_file(self->client, ca_file);
	} else {
		g_autofree gchar *pin_file = wbd_envoy_default_pin_file(id);
		wbd_envoy_client_set_pin_file(self->client, pin_file);
	}
	wbd_envoy_trust_attach(device, self->client);
	wbd_envoy_storage_attach(self->storage);
	if (self->token != NULL) {
		g_autofree gchar *when = wbd_envoy_format_time(self->token_expiry);
		wbd_envoy_client_set_token(self->client, self->token);
		wbd_dev_info(self,
			     "token of role %s, expires %s",
			     self->token_role != NULL ? self->token_role : "unknown",
			     self->token_expiry > 0 ? when : "never");
	}
	return TRUE;
invalid:
	/* the error names the device; it never quotes a secret */
	g_set_error(error,
		    WATTBUS_ERROR,
		    WATTBUS_ERROR_INVALID_ARGUMENT,
		    "Device '%s': %s",
		    id,
		    local_error->message);
	return FALSE;
}

/* meters */

static void
wbd_envoy_device_set_cts(WbdEnvoyDevice *self, GPtrArray *cts)
{
	gboolean any;

	wbd_device_remove_children(WBD_DEVICE(self));
	g_hash_table_remove_all(self->inverters);
	self->inverters_time = 0;
	wbd_envoy_storage_forget_children(self->storage);
	self->ensemble_time = 0;
	self->phases = wbd_envoy_cts_get_phases(cts);
	any = wbd_envoy_meters_set_cts(self->meters, WBD_DEVICE(self), cts);
	wbd_dev_debug(self,
		      "%u meters, %u phase(s)%s",
		      self->meters->len,
		      self->phases,
		      any ? "" : ", no CT in use");
	self->meters_known = TRUE;
}

static gboolean
wbd_envoy_device_has_cts(WbdEnvoyDevice *self)
{
	return wbd_envoy_meters_has_source(self->meters, WBD_ENVOY_METER_CT);
}

static gboolean
wbd_envoy_device_live_fresh(WbdEnvoyDevice *self)
{
	return self->live != NULL && wbd_envoy_live_is_fresh(self->live);
}

static void
wbd_envoy_device_live_event_cb(WbdEnvoyLive *live, gpointer event, WbdEnvoyDevice *self)
{
	wbd_envoy_meters_apply_event(self->meters, event, self->phases, wbd_envoy_device_live_fresh(self));
}

/* identity */

static void
wbd_envoy_device_apply_info(WbdEnvoyDevice *self, WbdEnvoyInfo *info)
{
	WbdDevice *device = WBD_DEVICE(self);
	g_autofree gchar *name = g_strdup_printf("Envoy %s", info->serial);

	if (self->info != NULL && !wbd_envoy_info_equal(self->info, info)) {
		wbd_dev_message(self,
				"the gateway changed (firmware %s → %s): reading it again",
				self->info->software != NULL ? self->info->software : "?",
				info->software != NULL ? info->software : "?");
		self->meters_known = FALSE;
		self->session_ok = FALSE;
		if (self->live != NULL)
			wbd_envoy_live_stop(self->live);
		g_clear_object(&self->live);
	}
	g_clear_pointer(&self->info, wbd_envoy_info_free);
	self->info = info;
	self->info_time = g_get_monotonic_time();
	wbd_device_set_kind(device, "gateway");
	wbd_device_set_serial_number(device, info->serial);
	wbd_device_set_model(device, info->part_number);
	wbd_device_set_firmware_version(device, info->software);
	wbd_device_set_device_name(device, name);

	if (wbd_envoy_info_needs_token(info)) {
		/* token firmware serves its data over HTTPS only */
		if (self->scheme == NULL)
			wbd_envoy_client_set_scheme(self->client, "https");
		wbd_envoy_client_set_auth(self->client, WBD_ENVOY_AUTH_TOKEN);
	} else {
		const gchar *user = self->username != NULL ? self->username : "envoy";
		g_autofree gchar *password = NULL;
		if (self->password != NULL && self->password[0] != '\0')
			password = g_strdup(self->password);
		else
			password = wbd_envoy_derive_password(user, info->serial);
		wbd_envoy_client_set_digest(self->client, user, password != NULL ? password : "");
		wbd_envoy_client_set_auth(self->client, WBD_ENVOY_AUTH_DIGEST);
	}
}

/* the token is checked before it is sent: an expired one gets a clear error */
static gboolean
wbd_envoy_device_check_token(WbdEnvoyDevice *self, GError **error)
{
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	if (!wbd_envoy_token_check(
		self->token, self->token_expiry, self->info->software, now, error))
		return FALSE;
	if (self->token_expiry != 0 && self->token_expiry - now < WBD_ENVOY_TOKEN_WARN_S &&
	    now - self->last_token_warning > 24 * 3600) {
		g_autofree gchar *when = wbd_envoy_format_time(self->token_expiry);
		wbd_dev_warning(self, "the token expires on %s: get a new one soon", when);
		self->last_token_warning = now;
	}
	return TRUE;
}

/* refresh: a step machine, one request at a time */

typedef enum {
	STEP_INFO,
	STEP_AUTH,
	STEP_METERS,
	STEP_READINGS,
	STEP_V1,
	STEP_PRODUCTION,
	STEP_ACB,
	STEP_ENSEMBLE,
	STEP_ENSEMBLE_POWER,
	STEP_SECCTRL,
	STEP_ACB_INVENTORY,
	STEP_INVERTERS,
	STEP_LAST,
} RefreshStep;

typedef struct _RefreshData RefreshData;

struct _RefreshData {
	RefreshStep step;
	gboolean probing_https; /* no scheme configured, http failed: trying https */
	GError *refusal;	/* the first optional endpoint that refused the credentials */
	gboolean inverters_due;
	gboolean asked;		  /* a Refresh(): everything is read */
	gboolean ensemble_due;	  /* the batteries are read in this poll */
	gboolean production_read; /* /production.json was read in this poll */
	gboolean have_production; /* the no-CT production meter has its value */
	WbdMeterReading v1;
	/* the JSON request under way: one at a time */
	gboolean optional;
	void (*handler)(WbdEnvoyDevice *self, RefreshData *data, JsonNode *root);
};

static void
refresh_data_free(RefreshData *data)
{
	g_clear_error(&data->refusal);
	g_free(data);
}

static void wbd_envoy_device_refresh_step(GTask *task);

static void
wbd_envoy_device_next(GTask *task)
{
	RefreshData *data = g_task_get_task_data(task);
	data->step++;
	wbd_envoy_device_refresh_step(task);
}

static void
wbd_envoy_device_fail(GTask *task, GError *error)
{
	g_task_return_error(task, error);
	g_object_unref(task);
}

/* an optional endpoint that is missing, refused or a web page means "not there" */
static gboolean
is_unavailable(const GError *error)
{
	return g_error_matches(error, WATTBUS_ERROR, WATTBUS_ERROR_NOT_SUPPORTED) ||
	       g_error_matches(error, WATTBUS_ERROR, WATTBUS_ERROR_PERMISSION_DENIED);
}

/*
 * The JSON of a reply. With @optional, a missing endpoint, a refusal or an HTML page
 * (old firmware) gives %NULL and no error; broken JSON is an error either way.
 */
static JsonNode *
wbd_envoy_device_get_json_finish(WbdEnvoyDevice *self,
				 GTask *task,
				 GAsyncResult *res,
				 gboolean optional,
				 GError **error)
{
	RefreshData *data = g_task_get_task_data(task);
	g_autoptr(GError) local_error = NULL;
	g_autoptr(GBytes) body = wbd_envoy_client_get_finish(self->client, res, &local_error);
	gsize len = 0;
	const gchar *text;

	if (body == NULL) {
		if (optional && is_unavailable(local_error)) {
			wbd_dev_debug(self, "%s", local_error->message);
			if (data->refusal == NULL &&
			    g_error_matches(
				local_error, WATTBUS_ERROR, WATTBUS_ERROR_PERMISSION_DENIED))
				data->refusal = g_steal_pointer(&local_error);
			return NULL;
		}
		g_propagate_error(error, g_steal_pointer(&local_error));
		return NULL;
	}
	if (optional && wbd_envoy_json_is_html(body))
		return NULL;
	text = g_bytes_get_data(body, &len);
	return wbd_envoy_json_parse(text, len, error);
}

static void
wbd_envoy_device_info_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	WbdEnvoyDevice *self = g_task_get_source_object(task);
	RefreshData *data = g_task_get_task_data(task);
	GError *error = NULL;
	g_autoptr(GBytes) body = wbd_envoy_client_get_finish(self->client, res, &error);
	WbdEnvoyInfo *info;
	gsize len = 0;
	const gchar *xml;

	if (body == NULL) {
		/*
		 * No scheme configured: every gateway answers /info on port 80, but new ones
		 * may redirect it to HTTPS (spec §2)
		 */
		if (self->scheme == NULL && self->info == NULL && !data->probing_https &&
		    !g_cancellable_is_cancelled(g_task_get_cancellable(task))) {
			wbd_dev_debug(
			    self, "no gateway info on http (%s), trying https", error->message);
			g_error_free(error);
			data->probing_https = TRUE;
			wbd_envoy_client_set_scheme(self->client, "https");
			wbd_envoy_device_refresh_step(task);
			return;
		}
		wbd_envoy_device_fail(task, error);
		return;
	}
	xml = g_bytes_get_data(body, &len);
	info = wbd_envoy_info_parse(xml, len, &error);
	if (info == NULL) {
		wbd_envoy_device_fail(task, error);
		return;
	}
	if (self->info == NULL)
		wbd_dev_info(self,
			     "gateway %s, firmware %s, over %s",
			     info->serial,
			     info->software != NULL ? info->software : "unknown",
			     wbd_envoy_client_get_scheme(self->client));
	wbd_envoy_device_apply_info(self, info);
	wbd_envoy_device_next(task);
}

static void
wbd_envoy_device_check_jwt_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	WbdEnvoyDevice *self = g_task_get_source_object(task);
	GError *error = NULL;
	g_autoptr(GBytes) body = wbd_envoy_client_get_finish(self->client, res, &error);

	if (body == NULL) {
		wbd_envoy_device_fail(task, error);
		return;
	}
	/* "<!DOCTYPE html><h2>Valid token.</h2>"; the reply also sets the session cookie */
	if (g_strstr_len(g_bytes_get_data(body, NULL),
			 (gssize)g_bytes_get_size(body),
			 "Valid token") == NULL) {
		wbd_envoy_device_fail(task,
				      g_error_new_literal(WATTBUS_ERROR,
							  WATTBUS_ERROR_PERMISSION_DENIED,
							  "The gateway did not accept the token"));
		return;
	}
	wbd_dev_debug(self, "token accepted");
	self->session_ok = TRUE;
	wbd_envoy_device_next(task);
}

static void
wbd_envoy_device_apply_meters(WbdEnvoyDevice *self, RefreshData *data, JsonNode *root)
{
	g_autoptr(GPtrArray) cts = wbd_envoy_parse_cts(root);
	wbd_envoy_device_set_cts(self, cts);
	self->meters_guessed = root == NULL;
}

static void
wbd_envoy_device_apply_readings(WbdEnvoyDevice *self, RefreshData *data, JsonNode *root)
{
	for (guint i = 0; i < self->meters->len; i++) {
		WbdEnvoyMeter *slot = g_ptr_array_index(self->meters, i);
		if (slot->source == WBD_ENVOY_METER_CT &&
		    !wbd_envoy_parse_ct_reading(root, slot->ct, self->phases, &slot->polled))
			wbd_dev_debug(self, "no reading for CT %" G_GINT64_FORMAT, slot->ct->eid);
	}
}

static void
wbd_envoy_device_apply_v1(WbdEnvoyDevice *self, RefreshData *data, JsonNode *root)
{
	gboolean broken = FALSE;

	/* spec §7.2, §7.3: broken, or stalled on a metered gateway without CTs */
	if (root != NULL && wbd_envoy_parse_v1_production(root, &data->v1, &broken) && !broken &&
	    self->info->imeter != 1) {
		WbdEnvoyMeter *slot = wbd_envoy_meters_find(self->meters, "production");
		slot->polled = data->v1;
		data->have_production = TRUE;
	}
}

static gboolean
wbd_envoy_device_has_eim(WbdEnvoyDevice *self)
{
	return wbd_envoy_meters_has_source(self->meters, WBD_ENVOY_METER_EIM);
}

/* for a computed consumption meter, or for production when v1 would not do */
static gboolean
wbd_envoy_device_needs_production(WbdEnvoyDevice *self, RefreshData *data)
{
	return wbd_envoy_device_has_eim(self) ||
	       (!wbd_envoy_device_has_cts(self) && !data->have_production);
}

static void
wbd_envoy_device_apply_production(WbdEnvoyDevice *self, RefreshData *data, JsonNode *root)
{
	data->production_read = TRUE;
	wbd_envoy_storage_set_production(self->storage, root);
	for (guint i = 0; i < self->meters->len; i++) {
		WbdEnvoyMeter *slot = g_ptr_array_index(self->meters, i);
		if (slot->source == WBD_ENVOY_METER_EIM) {
			wbd_envoy_parse_eim(root, slot->measurement, self->phases, &slot->polled);
		} else if (slot->source == WBD_ENVOY_METER_INVERTERS && !data->have_production) {
			if (!wbd_envoy_parse_inverters_total(root, &slot->polled) &&
			    wbd_meter_reading_has(&data->v1, WBD_QUANTITY_POWER)) {
				/* only the broken v1 is left: its power, not its zeros */
				wbd_meter_reading_init(&slot->polled);
				wbd_meter_reading_set(&slot->polled,
						      WBD_QUANTITY_POWER,
						      data->v1.values[WBD_QUANTITY_POWER]);
			}
		}
	}
}

/* the replies of the battery steps (envoy-batteries.md §2) */
static void
wbd_envoy_device_apply_storage(WbdEnvoyDevice *self, RefreshData *data, JsonNode *root)
{
	switch (data->step) {
	case STEP_ENSEMBLE:
		/* [] is a gateway without Ensemble devices; 404, 401 or {"error": …} one
		 * without the endpoints (§2.1) */
		self->ensemble_absent = !wbd_envoy_storage_set_inventory(self->storage, root);
		self->ensemble_time = g_get_monotonic_time();
		break;
	case STEP_ENSEMBLE_POWER:
		wbd_envoy_storage_set_power(self->storage, root);
		break;
	case STEP_SECCTRL:
		wbd_envoy_storage_set_secctrl(self->storage, root);
		break;
	default:
		wbd_envoy_storage_set_acb_inventory(self->storage, root);
		self->acb_inventory_time = g_get_monotonic_time();
	}
}

static void
wbd_envoy_device_apply_inverter_list(WbdEnvoyDevice *self, RefreshData *data, JsonNode *root)
{
	g_autoptr(GPtrArray) reports = wbd_envoy_parse_inverters(root);
	self->inverters_time = g_get_monotonic_time();
	wbd_envoy_child_apply_inverters(WBD_DEVICE(self), self->inverters, reports);
}

static void
wbd_envoy_device_json_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	WbdEnvoyDevice *self = g_task_get_source_object(task);
	RefreshData *data = g_task_get_task_data(task);
	GError *error = NULL;
	g_autoptr(JsonNode) root =
	    wbd_envoy_device_get_json_finish(self, task, res, data->optional, &error);

	if (root == NULL && error != NULL) {
		wbd_envoy_device_fail(task, error);
		return;
	}
	data->handler(self, data, root);
	wbd_envoy_device_next(task);
}

/* reads @path and hands its JSON (%NULL when @optional and not there) to @handler */
static void
wbd_envoy_device_get_json(WbdEnvoyDevice *self,
			  GTask *task,
			  const gchar *path,
			  gboolean optional,
			  void (*handler)(WbdEnvoyDevice *self, RefreshData *data, JsonNode *root))
{
	RefreshData *data = g_task_get_task_data(task);
	data->optional = optional;
	data->handler = handler;
	wbd_envoy_client_get_async(
	    self->client, path, g_task_get_cancellable(task), wbd_envoy_device_json_cb, task);
}

/* reads the optional @path when @due, else goes on to the next step */
static void
wbd_envoy_device_get_optional(WbdEnvoyDevice *self,
			      GTask *task,
			      gboolean due,
			      const gchar *path,
			      void (*handler)(WbdEnvoyDevice *self, RefreshData *data, JsonNode *root))
{
	if (due)
		wbd_envoy_device_get_json(self, task, path, TRUE, handler);
	else
		wbd_envoy_device_next(task);
}

static void
wbd_envoy_device_get(WbdEnvoyDevice *self, GTask *task, const gchar *path, GAsyncReadyCallback cb)
{
	wbd_envoy_client_get_async(self->client, path, g_task_get_cancellable(task), cb, task);
}

static gboolean
wbd_envoy_device_needs_info(WbdEnvoyDevice *self)
{
	return self->info == NULL || g_get_monotonic_time() - self->info_time >
					 (gint64)WBD_ENVOY_INFO_INTERVAL_S * G_USEC_PER_SEC;
}

static void
wbd_envoy_device_finish_poll(WbdEnvoyDevice *self)
{
	wbd_envoy_storage_publish(self->storage);
	for (guint i = 0; i < self->meters->len; i++)
		wbd_envoy_meter_publish(g_ptr_array_index(self->meters, i),
					wbd_envoy_device_live_fresh(self));
	if (!wbd_envoy_device_has_cts(self))
		return;
	if (self->live == NULL) {
		self->live = wbd_envoy_live_new(
		    self->client, wbd_device_get_id(WBD_DEVICE(self)), self->stream_timeout);
		g_signal_connect_object(
		    self->live, "event", G_CALLBACK(wbd_envoy_device_live_event_cb), self, 0);
	}
	wbd_envoy_live_start(self->live);
}

static void
wbd_envoy_device_refresh_step(GTask *task)
{
	WbdEnvoyDevice *self = g_task_get_source_object(task);
	RefreshData *data = g_task_get_task_data(task);
	GError *error = NULL;
	gboolean due;

	switch (data->step) {
	case STEP_INFO:
		if (!wbd_envoy_device_needs_info(self)) {
			wbd_envoy_device_next(task);
			return;
		}
		/* a gateway pinned before is not asked over http, where anybody may answer */
		if (self->info == NULL && !data->probing_https && self->scheme == NULL &&
		    wbd_envoy_client_knows_https(self->client))
			data->probing_https = TRUE;
		if (self->info == NULL && !data->probing_https)
			wbd_envoy_client_set_scheme(self->client,
						    self->scheme != NULL ? self->scheme : "http");
		else if (self->info == NULL && self->scheme == NULL)
			wbd_envoy_client_set_scheme(self->client, "https");
		/* /info wants no credentials; sending them does no harm */
		wbd_envoy_device_get(self, task, "/info", wbd_envoy_device_info_cb);
		return;
	case STEP_AUTH:
		if (self->info == NULL) {
			wbd_envoy_device_fail(
			    task,
			    g_error_new_literal(WATTBUS_ERROR,
						WATTBUS_ERROR_FAILED,
						"The gateway's /info is unknown"));
			return;
		}
		if (!wbd_envoy_info_needs_token(self->info)) {
			wbd_envoy_device_next(task);
			return;
		}
		wbd_envoy_client_set_auth(self->client, WBD_ENVOY_AUTH_TOKEN);
		if (!wbd_envoy_device_check_token(self, &error)) {
			wbd_envoy_device_fail(task, error);
			return;
		}
		if (self->session_ok) {
			wbd_envoy_device_next(task);
			return;
		}
		wbd_envoy_device_get(self, task, "/auth/check_jwt", wbd_envoy_device_check_jwt_cb);
		return;
	case STEP_METERS:
		if (self->meters_known) {
			wbd_envoy_device_next(task);
			return;
		}
		wbd_envoy_device_get_json(
		    self, task, "/ivp/meters", TRUE, wbd_envoy_device_apply_meters);
		return;
	case STEP_READINGS:
		if (!wbd_envoy_device_has_cts(self)) {
			wbd_envoy_device_next(task);
			return;
		}
		wbd_envoy_device_get_json(
		    self, task, "/ivp/meters/readings", FALSE, wbd_envoy_device_apply_readings);
		return;
	case STEP_V1:
		wbd_envoy_device_get_optional(self,
					      task,
					      !wbd_envoy_device_has_cts(self),
					      "/api/v1/production",
					      wbd_envoy_device_apply_v1);
		return;
	case STEP_PRODUCTION:
		if (!wbd_envoy_device_needs_production(self, data)) {
			wbd_envoy_device_next(task);
			return;
		}
		wbd_envoy_device_get_json(self,
					  task,
					  "/production.json?details=1",
					  !wbd_envoy_device_has_eim(self),
					  wbd_envoy_device_apply_production);
		return;
	case STEP_ACB:
		/* AC Batteries: production.json's storage entry, on any firmware (§2.7) */
		data->ensemble_due = data->ensemble_due || self->ensemble_time == 0;
		due = data->ensemble_due && !data->production_read;
		wbd_envoy_device_get_optional(
		    self, task, due, "/production.json", wbd_envoy_device_apply_production);
		return;
	case STEP_ENSEMBLE:
		due = data->ensemble_due && self->info->version[0] >= 5;
		wbd_envoy_device_get_optional(
		    self, task, due, "/ivp/ensemble/inventory", wbd_envoy_device_apply_storage);
		return;
	case STEP_ENSEMBLE_POWER:
		due = data->ensemble_due && wbd_envoy_storage_has_encharge(self->storage);
		wbd_envoy_device_get_optional(
		    self, task, due, "/ivp/ensemble/power", wbd_envoy_device_apply_storage);
		return;
	case STEP_SECCTRL:
		due = data->ensemble_due && !self->ensemble_absent &&
		      (wbd_envoy_storage_has_encharge(self->storage) ||
		       wbd_envoy_storage_has_acb(self->storage));
		wbd_envoy_device_get_optional(
		    self, task, due, "/ivp/ensemble/secctrl", wbd_envoy_device_apply_storage);
		return;
	case STEP_ACB_INVENTORY:
		due = wbd_envoy_storage_has_acb(self->storage) &&
		      (self->acb_inventory_time == 0 || data->asked ||
		       g_get_monotonic_time() - self->acb_inventory_time >=
			   (gint64)WBD_ENVOY_ACB_INVENTORY_INTERVAL_S * G_USEC_PER_SEC);
		wbd_envoy_device_get_optional(
		    self, task, due, "/inventory.json?deleted=1", wbd_envoy_device_apply_storage);
		return;
	case STEP_INVERTERS:
		wbd_envoy_device_get_optional(self,
					      task,
					      data->inverters_due,
					      "/api/v1/production/inverters",
					      wbd_envoy_device_apply_inverter_list);
		return;
	case STEP_LAST:
	default:
		/* nothing to show, because the credentials were refused: that is the error */
		if (data->refusal != NULL && !wbd_envoy_device_has_cts(self) &&
		    self->meters->len > 0 &&
		    ((WbdEnvoyMeter *)g_ptr_array_index(self->meters, 0))->polled.measured == 0) {
			wbd_envoy_device_fail(task, g_steal_pointer(&data->refusal));
			return;
		}
		wbd_envoy_device_finish_poll(self);
		self->last_poll_done = g_get_monotonic_time();
		g_task_return_boolean(task, TRUE);
		g_object_unref(task);
		return;
	}
}

static void
wbd_envoy_device_refresh_async(WbdDevice *device,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data)
{
	WbdEnvoyDevice *self = WBD_ENVOY_DEVICE(device);
	GTask *task = g_task_new(device, cancellable, callback, user_data);
	RefreshData *data = g_new0(RefreshData, 1);
	gint64 now = g_get_monotonic_time();
	gint64 poll_us = (gint64)wbd_device_get_poll_interval(device) * G_USEC_PER_SEC;

	g_task_set_source_tag(task, wbd_envoy_device_refresh_async);
	g_task_set_task_data(task, data, (GDestroyNotify)refresh_data_free);
	wbd_meter_reading_init(&data->v1);
	/*
	 * The inverter list when it is due, and on an explicit Refresh(): a poll that comes
	 * well before the poll interval is up is one somebody asked for.
	 */
	data->asked =
	    self->last_poll_done != 0 && now - self->last_poll_done < poll_us - G_USEC_PER_SEC;
	data->inverters_due =
	    self->inverters_time == 0 ||
	    now - self->inverters_time >= (gint64)self->inverter_interval * G_USEC_PER_SEC ||
	    data->asked;
	data->ensemble_due =
	    self->ensemble_time == 0 || data->asked ||
	    now - self->ensemble_time >= (gint64)(self->ensemble_absent
						       ? WBD_ENVOY_ENSEMBLE_ABSENT_INTERVAL_S
						       : WBD_ENVOY_ENSEMBLE_INTERVAL_S) *
					     G_USEC_PER_SEC;
	wbd_envoy_device_refresh_step(task);
}

static gboolean
wbd_envoy_device_refresh_finish(WbdDevice *device, GAsyncResult *res, GError **error)
{
	WbdEnvoyDevice *self = WBD_ENVOY_DEVICE(device);
	g_autoptr(GError) local_error = NULL;

	if (g_task_propagate_boolean(G_TASK(res), &local_error))
		return TRUE;
	/* after a failure, start again from /info: the gateway may have been updated */
	self->info_time = 0;
	if (self->meters_guessed)
		self->meters_known = FALSE;
	self->session_ok = FALSE;
	self->last_poll_done = 0;
	g_propagate_error(error, g_steal_pointer(&local_error));
	return FALSE;
}

static void
wbd_envoy_device_stop(WbdDevice *device)
{
	WbdEnvoyDevice *self = WBD_ENVOY_DEVICE(device);
	if (self->live != NULL)
		wbd_envoy_live_stop(self->live);
	if (self->client != NULL)
		wbd_envoy_client_abort(self->client);
}

/* RemoveDevice: the pin goes with the device, so that a new one of that id starts afresh */
static void
wbd_envoy_device_forget(WbdDevice *device)
{
	g_autofree gchar *pin_file = wbd_envoy_default_pin_file(wbd_device_get_id(device));
	g_autoptr(GError) error = NULL;
	if (!wbd_envoy_pin_remove(pin_file, &error))
		wbd_dev_warning(device, "%s", error->message);
}

static void
wbd_envoy_device_dispose(GObject *object)
{
	WbdEnvoyDevice *self = WBD_ENVOY_DEVICE(object);
	G_OBJECT_CLASS(wbd_envoy_device_parent_class)->dispose(object);
	g_clear_object(&self->live);
	g_clear_object(&self->client);
	if (self->meters != NULL)
		g_ptr_array_set_size(self->meters, 0);
	if (self->inverters != NULL)
		g_hash_table_remove_all(self->inverters);
	if (self->storage != NULL)
		wbd_envoy_storage_forget_children(self->storage);
}

static void
clear_secret(gchar **secret)
{
	if (*secret != NULL)
		memset(*secret, 0, strlen(*secret));
	g_clear_pointer(secret, g_free);
}

static void
wbd_envoy_device_finalize(GObject *object)
{
	WbdEnvoyDevice *self = WBD_ENVOY_DEVICE(object);
	g_free(self->host);
	g_free(self->scheme);
	g_free(self->username);
	clear_secret(&self->password);
	clear_secret(&self->token);
	g_free(self->token_role);
	g_clear_pointer(&self->info, wbd_envoy_info_free);
	g_clear_pointer(&self->meters, g_ptr_array_unref);
	g_clear_pointer(&self->inverters, g_hash_table_unref);
	g_clear_pointer(&self->storage, wbd_envoy_storage_free);
	G_OBJECT_CLASS(wbd_envoy_device_parent_class)->finalize(object);
}

static void
wbd_envoy_device_class_init(WbdEnvoyDeviceClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	WbdDeviceClass *device_class = WBD_DEVICE_CLASS(klass);

	object_class->dispose = wbd_envoy_device_dispose;
	object_class->finalize = wbd_envoy_device_finalize;
	device_class->configure = wbd_envoy_device_configure;
	device_class->refresh_async = wbd_envoy_device_refresh_async;
	device_class->refresh_finish = wbd_envoy_device_refresh_finish;
	device_class->stop = wbd_envoy_device_stop;
	device_class->forget = wbd_envoy_device_forget;
}

static void
wbd_envoy_device_init(WbdEnvoyDevice *self)
{
	self->inverter_interval = WBD_ENVOY_INVERTER_INTERVAL_DEFAULT;
	self->stream_timeout = WBD_ENVOY_STREAM_TIMEOUT_DEFAULT;
	self->phases = 1;
	self->meters = wbd_envoy_meters_new();
	self->inverters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	self->storage = wbd_envoy_storage_new(WBD_DEVICE(self));
}
