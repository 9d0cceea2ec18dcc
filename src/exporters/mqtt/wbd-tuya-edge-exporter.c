/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-config.h"
#include "wbd-json.h"
#include "wbd-mqtt-client.h"
#include "wbd-mqtt-cloud.h"
#include "wbd-mqtt-codec.h"
#include "wbd-tuya-edge-codec.h"
#include "wbd-mqtt-credentials.h"
#include "wbd-tuya-edge-exporter.h"
#include "wbd-value.h"

/*
 * kind=tuya-edge: the daemon as a third-party gateway of Tuya's IoT Edge Gateway
 * (shared/specs/mqtt-clouds.md §5). Client id = the gateway id, password = MD5 of
 * gateway id + user name. On connect every device is synced (cid = the device id,
 * product_id by kind: water meter or plug), then readings go out one DP per message at
 * QoS 1 on .../properties/report, the online status of every device at least once a
 * minute on .../devices/status, and commands from .../commands are applied through
 * wbd_device_command_async() and answered on .../commands/response with the spec's codes.
 */

#define WBD_TUYA_EDGE_DEFAULT_PORT 21883
#define WBD_TUYA_EDGE_STATUS_S 60

/* error codes of §5 */
#define CODE_OK 0
#define CODE_SYSTEM 500
#define CODE_RANGE 1101
#define CODE_OFFLINE 2001
#define CODE_NOT_SUPPORTED 2002
#define CODE_NOT_FOUND 2003

struct _WbdTuyaEdgeExporter {
	WbdMqttCloud parent_instance;
	gchar *gateway_id;
	gchar *product_water_meter;
	gchar *product_plug;
	GHashTable *synced; /* cids synced on this connection */
	GHashTable *online; /* cid → GINT_TO_POINTER(1 + online) */
	guint status_id;
	guint status_now_id;
};

G_DEFINE_TYPE(WbdTuyaEdgeExporter, wbd_tuya_edge_exporter, WBD_TYPE_MQTT_CLOUD)

static const gchar *const tuya_edge_keys[] = {WBD_MQTT_CLOUD_COMMON_KEYS,
					      "gateway-id",
					      "product-id",
					      "product-id-water-meter",
					      "product-id-plug",
					      NULL};
static const gchar *const tuya_edge_secret_keys[] = {"password", NULL};

static const WbdExporterInfo tuya_edge_info = {
    .kind = "tuya-edge",
    .get_type = wbd_tuya_edge_exporter_get_type,
    .keys = tuya_edge_keys,
    .secret_keys = tuya_edge_secret_keys,
    .shutdown = wbd_mqtt_client_shutdown,
};

const WbdExporterInfo *
wbd_tuya_edge_exporter_get_info(void)
{
	return &tuya_edge_info;
}

/* DPs: the water meter's standard ones (§5), in their declared types (value, bool, enum
 * as its name, the times as strings of Unix seconds); a metering plug's (as the Tuya
 * driver's metering-plug profile: W×10, V×10, mA, Wh) */
typedef struct {
	const gchar *property;
	const gchar *dp;
	WbdValueType type;
	gdouble scale; /* numbers: sent ×scale, as integers unless 1 */
	gboolean writable;
} EdgeDp;

static const EdgeDp water_meter_dps[] = {
    {"Flow", "1", WBD_VALUE_NUMBER, 1, FALSE},
    {"MonthlyTotal", "2", WBD_VALUE_NUMBER, 1, FALSE},
    {"DailyTotal", "3", WBD_VALUE_NUMBER, 1, FALSE},
    {"Switch", "4", WBD_VALUE_BOOLEAN, 0, TRUE},
    {"DayFirstReading", "5", WBD_VALUE_NUMBER, 1, FALSE},
    {"DayLastReading", "6", WBD_VALUE_NUMBER, 1, FALSE},
    {"DayFirstTime", "7", WBD_VALUE_TIME, 0, FALSE},
    {"DayLastTime", "8", WBD_VALUE_TIME, 0, FALSE},
    {"Valve", "9", WBD_VALUE_STRING, 0, TRUE},
    {"MonthFirstReading", "10", WBD_VALUE_NUMBER, 1, FALSE},
    {"MonthLastReading", "11", WBD_VALUE_NUMBER, 1, FALSE},
    {"MonthFirstTime", "12", WBD_VALUE_TIME, 0, FALSE},
    {"MonthLastTime", "13", WBD_VALUE_TIME, 0, FALSE},
    {"ColdSharedUsage", "14", WBD_VALUE_NUMBER, 1, FALSE},
    {"ColdSharingType", "15", WBD_VALUE_STRING, 0, TRUE},
    {"HotSharedUsage", "16", WBD_VALUE_NUMBER, 1, FALSE},
    {"HotSharingType", "17", WBD_VALUE_STRING, 0, TRUE},
    {"ValveOpenness", "18", WBD_VALUE_NUMBER, 1, TRUE},
};
static const EdgeDp plug_dps[] = {
    {"On", "1", WBD_VALUE_BOOLEAN, 0, TRUE},
    {"Energy", "17", WBD_VALUE_NUMBER, 1, FALSE},
    {"Current", "18", WBD_VALUE_NUMBER, 1000, FALSE},
    {"Power", "19", WBD_VALUE_NUMBER, 10, FALSE},
    {"Voltage", "20", WBD_VALUE_NUMBER, 10, FALSE},
};

/* the device's profile here: its DPs and product id, or NULL if it has none */
static const EdgeDp *
wbd_tuya_edge_dps(WbdTuyaEdgeExporter *self, WbdDevice *device, guint *n, const gchar **product)
{
	WattbusObject *object = WATTBUS_OBJECT(wbd_device_get_object(device));

	if (wattbus_object_peek_water_meter(object) != NULL) {
		*n = G_N_ELEMENTS(water_meter_dps);
		*product = self->product_water_meter;
		return water_meter_dps;
	}
	if (wbd_device_get_capabilities(device) & WBD_DEVICE_CAP_OUTLET) {
		*n = G_N_ELEMENTS(plug_dps);
		*product = self->product_plug;
		return plug_dps;
	}
	return NULL;
}

static gchar *
wbd_tuya_edge_topic(WbdTuyaEdgeExporter *self, const gchar *what)
{
	return g_strdup_printf("gateway_id/%s/%s", self->gateway_id, what);
}

/* {"t":NOW,"request_id":UUID,<builder's members>} */
static JsonBuilder *
wbd_tuya_edge_begin(const gchar *request_id)
{
	JsonBuilder *builder = json_builder_new();
	g_autofree gchar *uuid = g_uuid_string_random();

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "t");
	json_builder_add_int_value(builder, g_get_real_time() / G_USEC_PER_SEC);
	json_builder_set_member_name(builder, "request_id");
	json_builder_add_string_value(builder, request_id != NULL ? request_id : uuid);
	return builder;
}

static gchar *
wbd_tuya_edge_end(JsonBuilder *builder)
{
	g_autoptr(JsonNode) root = NULL;
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	return json_to_string(root, FALSE);
}

/* what the spool does not need to keep: sync, status, responses */
static void
wbd_tuya_edge_publish(WbdTuyaEdgeExporter *self, const gchar *what, const gchar *payload)
{
	g_autofree gchar *topic = wbd_tuya_edge_topic(self, what);
	wbd_mqtt_cloud_publish(WBD_MQTT_CLOUD(self), topic, payload, strlen(payload), FALSE);
}

/* add or update a sub-device: before anything else is sent about it */
static gboolean
wbd_tuya_edge_sync(WbdTuyaEdgeExporter *self, const gchar *cid)
{
	WbdDevice *device = wbd_exporter_lookup_device(WBD_EXPORTER(self), cid);
	g_autoptr(JsonBuilder) builder = NULL;
	g_autofree gchar *json = NULL;
	const gchar *product = NULL;
	WattbusDevice *iface;
	guint n;

	if (g_hash_table_contains(self->synced, cid))
		return TRUE;
	if (device == NULL || wbd_tuya_edge_dps(self, device, &n, &product) == NULL ||
	    product == NULL)
		return FALSE;
	iface = wattbus_object_peek_device(WATTBUS_OBJECT(wbd_device_get_object(device)));
	builder = wbd_tuya_edge_begin(NULL);
	json_builder_set_member_name(builder, "param");
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "cid");
	json_builder_add_string_value(builder, cid);
	json_builder_set_member_name(builder, "product_id");
	json_builder_add_string_value(builder, product);
	json_builder_set_member_name(builder, "comm_type");
	json_builder_add_string_value(builder, "mqtt");
	json_builder_set_member_name(builder, "device_name");
	json_builder_add_string_value(builder,
				      iface != NULL ? wattbus_device_get_name(iface) : cid);
	json_builder_end_object(builder);
	json = wbd_tuya_edge_end(builder);
	wbd_tuya_edge_publish(self, "devices/sync", json);
	g_hash_table_add(self->synced, g_strdup(cid));
	return TRUE;
}

static gboolean
wbd_tuya_edge_status_cb(gpointer user_data)
{
	WbdTuyaEdgeExporter *self = user_data;
	g_autoptr(JsonBuilder) builder = NULL;
	g_autofree gchar *json = NULL;
	GHashTableIter iter;
	gpointer cid, online;

	if (!wbd_mqtt_client_is_connected(wbd_mqtt_cloud_get_client(WBD_MQTT_CLOUD(self))) ||
	    g_hash_table_size(self->online) == 0)
		return G_SOURCE_CONTINUE;
	builder = wbd_tuya_edge_begin(NULL);
	json_builder_set_member_name(builder, "param");
	json_builder_begin_array(builder);
	g_hash_table_iter_init(&iter, self->online);
	while (g_hash_table_iter_next(&iter, &cid, &online)) {
		if (!wbd_tuya_edge_sync(self, cid))
			continue;
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "cid");
		json_builder_add_string_value(builder, cid);
		json_builder_set_member_name(builder, "status");
		json_builder_add_boolean_value(builder, GPOINTER_TO_INT(online) == 2);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	json = wbd_tuya_edge_end(builder);
	wbd_tuya_edge_publish(self, "devices/status", json);
	return G_SOURCE_CONTINUE;
}

/* readings: one DP per message, the batch done when the broker has them all */

/* the report of one DP; %NULL when @value is not of the DP's type */
static gchar *
wbd_tuya_edge_report_json(const gchar *cid, const EdgeDp *dp, const WbdValue *value)
{
	g_autoptr(JsonBuilder) builder = NULL;
	gdouble number;

	if (dp->type != value->type)
		return NULL;
	builder = wbd_tuya_edge_begin(NULL);
	json_builder_set_member_name(builder, "param");
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "cid");
	json_builder_add_string_value(builder, cid);
	json_builder_set_member_name(builder, "id");
	json_builder_add_string_value(builder, dp->dp);
	json_builder_set_member_name(builder, "value");
	switch (dp->type) {
	case WBD_VALUE_BOOLEAN:
		json_builder_add_boolean_value(builder, value->boolean);
		break;
	case WBD_VALUE_NUMBER:
		number = value->number;
		if (dp->scale == 1)
			json_builder_add_double_value(builder, number);
		else
			json_builder_add_int_value(builder, (gint64)llround(number * dp->scale));
		break;
	case WBD_VALUE_STRING:
		json_builder_add_string_value(builder, value->string);
		break;
	case WBD_VALUE_TIME: {
		/* the DP table's form: a string of Unix seconds */
		g_autofree gchar *seconds =
		    g_strdup_printf("%" G_GINT64_FORMAT, value->time_us / G_USEC_PER_SEC);
		json_builder_add_string_value(builder, seconds);
		break;
	}
	}
	json_builder_end_object(builder);
	return wbd_tuya_edge_end(builder);
}

static gboolean
wbd_tuya_edge_status_now_cb(gpointer user_data)
{
	WbdTuyaEdgeExporter *self = user_data;
	self->status_now_id = 0;
	wbd_tuya_edge_status_cb(self);
	return G_SOURCE_REMOVE;
}

static void
wbd_tuya_edge_publish_record(WbdMqttCloud *cloud, GTask *task, const WbdSpoolRecord *record)
{
	WbdTuyaEdgeExporter *self = WBD_TUYA_EDGE_EXPORTER(cloud);
	WbdDevice *device = wbd_exporter_lookup_device(WBD_EXPORTER(self), record->device);
	g_autoptr(GPtrArray) values = wbd_values_parse(record->values, NULL);
	g_autofree gchar *topic = wbd_tuya_edge_topic(self, "properties/report");
	const EdgeDp *dps;
	const gchar *product;
	gdouble online;
	guint n;

	/* a device without a profile here, or gone, has nothing Tuya could take */
	if (values == NULL || device == NULL ||
	    (dps = wbd_tuya_edge_dps(self, device, &n, &product)) == NULL ||
	    !wbd_tuya_edge_sync(self, record->device))
		return;
	for (guint i = 0; i < values->len; i++) {
		const WbdValue *value = g_ptr_array_index(values, i);
		if (!g_str_equal(value->name, "Online") || !wbd_value_get_number(value, &online) ||
		    GPOINTER_TO_INT(g_hash_table_lookup(self->online, record->device)) ==
			1 + (online != 0))
			continue;
		g_hash_table_replace(self->online,
				     g_strdup(record->device),
				     GINT_TO_POINTER(1 + (online != 0)));
		/* a device coming or going: at once, not at the next minute */
		if (self->status_now_id == 0)
			self->status_now_id = g_idle_add(wbd_tuya_edge_status_now_cb, self);
	}
	for (guint d = 0; d < n; d++) {
		for (guint i = 0; i < values->len; i++) {
			const WbdValue *value = g_ptr_array_index(values, i);
			g_autofree gchar *json = NULL;
			if (!g_str_equal(value->name, dps[d].property))
				continue;
			json = wbd_tuya_edge_report_json(record->device, &dps[d], value);
			if (json != NULL)
				wbd_mqtt_cloud_batch_publish(cloud, task, topic, json, FALSE);
		}
	}
}

/* commands */

typedef struct {
	WbdTuyaEdgeExporter *self;
	gchar *cid;
	gchar *request_id;
} CommandData;

static void
command_data_free(CommandData *data)
{
	g_clear_object(&data->self);
	g_free(data->cid);
	g_free(data->request_id);
	g_free(data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CommandData, command_data_free)

static void
wbd_tuya_edge_respond(WbdTuyaEdgeExporter *self,
		      const gchar *cid,
		      const gchar *request_id,
		      gint code,
		      const gchar *msg)
{
	g_autoptr(JsonBuilder) builder = wbd_tuya_edge_begin(request_id);
	g_autofree gchar *json = NULL;

	json_builder_set_member_name(builder, "cid");
	json_builder_add_string_value(builder, cid != NULL ? cid : "");
	json_builder_set_member_name(builder, "param");
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "msg");
	json_builder_add_string_value(builder, msg);
	json_builder_set_member_name(builder, "code");
	json_builder_add_int_value(builder, code);
	json_builder_end_object(builder);
	json = wbd_tuya_edge_end(builder);
	wbd_tuya_edge_publish(self, "commands/response", json);
}

static gint
wbd_tuya_edge_error_code(const GError *error)
{
	if (error->domain != WATTBUS_ERROR)
		return CODE_SYSTEM;
	switch (error->code) {
	case WATTBUS_ERROR_INVALID_ARGUMENT:
		return CODE_RANGE;
	case WATTBUS_ERROR_DEVICE_OFFLINE:
	case WATTBUS_ERROR_TIMEOUT:
		return CODE_OFFLINE;
	case WATTBUS_ERROR_NOT_SUPPORTED:
		return CODE_NOT_SUPPORTED;
	case WATTBUS_ERROR_NOT_FOUND:
		return CODE_NOT_FOUND;
	default:
		return CODE_SYSTEM;
	}
}

static void
wbd_tuya_edge_command_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CommandData) data = user_data;
	g_autoptr(GError) error = NULL;

	if (!wbd_mqtt_cloud_command_finish(WBD_MQTT_CLOUD(source), res, &error)) {
		wbd_tuya_edge_respond(data->self,
				      data->cid,
				      data->request_id,
				      wbd_tuya_edge_error_code(error),
				      error->message);
		return;
	}
	wbd_tuya_edge_respond(data->self, data->cid, data->request_id, CODE_OK, "success");
}

/* a DP value as the property's D-Bus type; samples send strings such as "1" */
static GVariant *
wbd_tuya_edge_value(const EdgeDp *dp, JsonNode *node)
{
	GType type = node != NULL && JSON_NODE_HOLDS_VALUE(node) ? json_node_get_value_type(node)
								 : G_TYPE_INVALID;
	const gchar *text = type == G_TYPE_STRING ? json_node_get_string(node) : NULL;
	guint64 number;

	if (dp->type == WBD_VALUE_BOOLEAN) {
		if (type == G_TYPE_BOOLEAN)
			return g_variant_new_boolean(json_node_get_boolean(node));
		if (g_strcmp0(text, "true") == 0 || g_strcmp0(text, "1") == 0)
			return g_variant_new_boolean(TRUE);
		if (g_strcmp0(text, "false") == 0 || g_strcmp0(text, "0") == 0)
			return g_variant_new_boolean(FALSE);
		return NULL;
	}
	if (g_str_equal(dp->property, "ValveOpenness")) {
		if (type == G_TYPE_INT64 && json_node_get_int(node) >= 0 &&
		    json_node_get_int(node) <= G_MAXUINT32)
			return g_variant_new_uint32((guint32)json_node_get_int(node));
		if (text != NULL &&
		    g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT32, &number, NULL))
			return g_variant_new_uint32((guint32)number);
		return NULL;
	}
	return text != NULL ? g_variant_new_string(text) : NULL;
}

static void
wbd_tuya_edge_handle_command(WbdTuyaEdgeExporter *self, GBytes *payload)
{
	gsize length;
	const gchar *bytes = g_bytes_get_data(payload, &length);
	g_auto(WbdTuyaEdgeCommand) command = {0};
	const gchar *cid, *request_id;
	const EdgeDp *dps, *dp = NULL;
	const gchar *product;
	WbdDevice *device;
	CommandData *data;
	GVariant *value;
	WbdMqttCommand *run;
	g_autoptr(GPtrArray) commands = NULL;
	guint n = 0;

	wbd_tuya_edge_parse_command(bytes, length, &command);
	cid = command.cid;
	request_id = command.request_id;
	if (cid == NULL || command.dp_id == NULL || command.value == NULL) {
		wbd_tuya_edge_respond(self, cid, request_id, 1102, "params is null");
		return;
	}
	device = wbd_exporter_lookup_device(WBD_EXPORTER(self), cid);
	dps = device != NULL ? wbd_tuya_edge_dps(self, device, &n, &product) : NULL;
	if (dps == NULL) {
		wbd_tuya_edge_respond(self,
				      cid,
				      request_id,
				      CODE_NOT_FOUND,
				      "device does not exist");
		return;
	}
	for (guint i = 0; i < n && dp == NULL; i++) {
		if (g_str_equal(dps[i].dp, command.dp_id) && dps[i].writable)
			dp = &dps[i];
	}
	if (dp == NULL) {
		wbd_tuya_edge_respond(self,
				      cid,
				      request_id,
				      CODE_NOT_SUPPORTED,
				      "command or value not supported");
		return;
	}
	value = wbd_tuya_edge_value(dp, command.value);
	if (value == NULL) {
		wbd_tuya_edge_respond(self, cid, request_id, CODE_RANGE, "params range invalid");
		return;
	}
	data = g_new0(CommandData, 1);
	data->self = g_object_ref(self);
	data->cid = g_strdup(cid);
	data->request_id = g_strdup(request_id);
	run = g_new0(WbdMqttCommand, 1);
	run->property = g_strdup(dp->property);
	run->value = g_variant_ref_sink(value);
	commands = g_ptr_array_new_with_free_func((GDestroyNotify)wbd_mqtt_command_free);
	g_ptr_array_add(commands, run);
	wbd_mqtt_cloud_command_async(WBD_MQTT_CLOUD(self),
				     cid,
				     commands,
				     wbd_tuya_edge_command_cb,
				     data);
}

static void
wbd_tuya_edge_message(WbdMqttCloud *cloud, const gchar *topic, GBytes *payload, gboolean retained)
{
	WbdTuyaEdgeExporter *self = WBD_TUYA_EDGE_EXPORTER(cloud);
	g_autofree gchar *commands = wbd_tuya_edge_topic(self, "commands");

	if (wbd_mqtt_cloud_get_commands(cloud) && !retained && g_str_equal(topic, commands))
		wbd_tuya_edge_handle_command(self, payload);
}

/* the connection */

static void
wbd_tuya_edge_connected(WbdMqttCloud *cloud)
{
	WbdTuyaEdgeExporter *self = WBD_TUYA_EDGE_EXPORTER(cloud);
	g_autoptr(GList) cids = g_hash_table_get_keys(self->online);

	g_hash_table_remove_all(self->synced);
	for (GList *l = cids; l != NULL; l = l->next)
		wbd_tuya_edge_sync(self, l->data);
	wbd_tuya_edge_status_cb(self);
}

static gboolean
wbd_tuya_edge_configure(WbdMqttCloud *cloud,
			GHashTable *settings,
			WbdMqttCloudSetup *setup,
			GError **error)
{
	WbdTuyaEdgeExporter *self = WBD_TUYA_EDGE_EXPORTER(cloud);
	const gchar *username = g_hash_table_lookup(settings, "username");
	const gchar *product = g_hash_table_lookup(settings, "product-id");
	static const gchar *const theirs[] = {"client-id", "password", "password-file", NULL};

	/* Tuya fixes these: the client id is the gateway id, the password made from it */
	for (guint i = 0; theirs[i] != NULL; i++) {
		if (g_hash_table_contains(settings, theirs[i]))
			return wbd_config_invalid(error,
				       "tuya-edge makes its client id and password from gateway-id "
				       "and username: leave out client-id, password and "
				       "password-file");
	}
	if (g_strcmp0(g_hash_table_lookup(settings, "protocol"), "5") == 0)
		return wbd_config_invalid(error, "Tuya's edge gateway speaks MQTT 3.1.1 only");
	self->gateway_id = g_strdup(g_hash_table_lookup(settings, "gateway-id"));
	if (self->gateway_id == NULL || self->gateway_id[0] == '\0' ||
	    strpbrk(self->gateway_id, "+#/") != NULL)
		return wbd_config_invalid(error, "gateway-id is missing or has '+', '#' or '/' in it");
	if (username == NULL)
		return wbd_config_invalid(error, "username is missing (the one Tuya gave)");
	if (g_hash_table_lookup(settings, "url") == NULL)
		return wbd_config_invalid(error, "url must be mqtt://EDGE-GATEWAY[:21883] or mqtts://...");
	self->product_water_meter =
	    g_strdup(g_hash_table_lookup(settings, "product-id-water-meter"));
	if (self->product_water_meter == NULL)
		self->product_water_meter = g_strdup(product);
	self->product_plug = g_strdup(g_hash_table_lookup(settings, "product-id-plug"));
	if (self->product_plug == NULL)
		self->product_plug = g_strdup(product);
	if (self->product_water_meter == NULL && self->product_plug == NULL)
		return wbd_config_invalid(error,
			       "give the Tuya product id(s): product-id, product-id-water-meter or "
			       "product-id-plug");
	setup->default_port = WBD_TUYA_EDGE_DEFAULT_PORT;
	setup->client_id = g_strdup(self->gateway_id);
	setup->username = g_strdup(username);
	setup->password = wbd_mqtt_tuya_edge_password(self->gateway_id, username);
	/* every downlink topic, or the platform's answers are lost */
	for (guint i = 0; i < 3; i++) {
		static const gchar *const downlinks[] = {"commands",
							 "devices/sync/response",
							 "properties/report/response"};
		g_autofree gchar *topic = wbd_tuya_edge_topic(self, downlinks[i]);
		wbd_mqtt_cloud_subscribe(cloud, topic);
	}
	self->status_id =
	    g_timeout_add_seconds(WBD_TUYA_EDGE_STATUS_S, wbd_tuya_edge_status_cb, self);
	return TRUE;
}

static void
wbd_tuya_edge_stop(WbdExporter *exporter)
{
	WbdTuyaEdgeExporter *self = WBD_TUYA_EDGE_EXPORTER(exporter);

	g_clear_handle_id(&self->status_id, g_source_remove);
	g_clear_handle_id(&self->status_now_id, g_source_remove);
	WBD_EXPORTER_CLASS(wbd_tuya_edge_exporter_parent_class)->stop(exporter);
}

static void
wbd_tuya_edge_finalize(GObject *object)
{
	WbdTuyaEdgeExporter *self = WBD_TUYA_EDGE_EXPORTER(object);

	g_clear_handle_id(&self->status_id, g_source_remove);
	g_clear_handle_id(&self->status_now_id, g_source_remove);
	g_free(self->gateway_id);
	g_free(self->product_water_meter);
	g_free(self->product_plug);
	g_clear_pointer(&self->synced, g_hash_table_unref);
	g_clear_pointer(&self->online, g_hash_table_unref);
	G_OBJECT_CLASS(wbd_tuya_edge_exporter_parent_class)->finalize(object);
}

static void
wbd_tuya_edge_exporter_class_init(WbdTuyaEdgeExporterClass *klass)
{
	WbdMqttCloudClass *cloud_class = WBD_MQTT_CLOUD_CLASS(klass);

	G_OBJECT_CLASS(klass)->finalize = wbd_tuya_edge_finalize;
	WBD_EXPORTER_CLASS(klass)->stop = wbd_tuya_edge_stop;
	cloud_class->configure_cloud = wbd_tuya_edge_configure;
	cloud_class->connected = wbd_tuya_edge_connected;
	cloud_class->publish_record = wbd_tuya_edge_publish_record;
	cloud_class->message = wbd_tuya_edge_message;
}

static void
wbd_tuya_edge_exporter_init(WbdTuyaEdgeExporter *self)
{
	self->synced = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->online = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}
