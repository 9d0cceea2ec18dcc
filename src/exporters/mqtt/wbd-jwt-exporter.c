/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-config.h"
#include "wbd-jwt-codec.h"
#include "wbd-jwt-exporter.h"
#include "wbd-mqtt-client.h"
#include "wbd-mqtt-codec.h"
#include "wbd-mqtt-credentials.h"

/*
 * kind=jwt-iot-core: Google Cloud IoT Core's MQTT bridge, as ClearBlade and compatible
 * services keep it (shared/specs/mqtt-clouds.md §4). One cloud device (device-id) is
 * the daemon; its client id names project, region, registry and device, its password
 * is a JWT signed with the device's private key (key-file, ES256 or RS256), made anew
 * at each connect and renewed by the client at 80 % of token-lifetime. Readings go as
 * telemetry events to /devices/ID/events (QoS 1, through the spool); the slow state of
 * every device (online, outlet, valve) to /devices/ID/state, at most once a second.
 * Commands arrive on /devices/ID/commands (with "device") or on the subfolder
 * /devices/ID/commands/WATTBUS-DEVICE; the cloud has no reply channel, so each result
 * is an event on /devices/ID/events/command-results. The config topic carries the
 * desired state of the devices, applied with commands=true.
 */

/* the service keeps about one state message a second per device (§4) */
#define WBD_JWT_STATE_INTERVAL_MS 1000

struct _WbdJwtExporter {
	WbdMqttCloud parent_instance;
	gchar *device_id;
	gchar *events_topic;
	gchar *results_topic;
	gchar *state_topic;
	GHashTable *known;     /* device ids whose state the cloud gets */
	gchar *state_sent;     /* the state document last published on this connection */
	gint64 state_time;     /* when (monotonic µs) */
	guint state_id;        /* a coalesced state publish */
	GBytes *config_applied; /* the config document last applied */
};

G_DEFINE_TYPE(WbdJwtExporter, wbd_jwt_exporter, WBD_TYPE_MQTT_CLOUD)

static const gchar *const jwt_keys[] = {WBD_MQTT_CLOUD_COMMON_KEYS,
					"project",
					"region",
					"registry",
					"device-id",
					"algorithm",
					"token-lifetime",
					NULL};
static const gchar *const jwt_secret_keys[] = {"password", NULL};

static const WbdExporterInfo jwt_info = {
    .kind = "jwt-iot-core",
    .get_type = wbd_jwt_exporter_get_type,
    .keys = jwt_keys,
    .secret_keys = jwt_secret_keys,
    .shutdown = wbd_mqtt_client_shutdown,
};

const WbdExporterInfo *
wbd_jwt_exporter_get_info(void)
{
	return &jwt_info;
}

/* the credential: read-only once made, so Paho's thread may use it too */

typedef struct {
	gchar *algorithm;
	gchar *key_pem; /* a secret: wiped when freed */
	gsize key_length;
	gchar *project;
	guint lifetime;
} WbdJwtKey;

static void
wbd_jwt_key_free(WbdJwtKey *key)
{
	if (key->key_pem != NULL)
		memset(key->key_pem, 0, key->key_length);
	g_free(key->key_pem);
	g_free(key->algorithm);
	g_free(key->project);
	g_free(key);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(WbdJwtKey, wbd_jwt_key_free)

static gchar *
wbd_jwt_password(gpointer data, gint64 now, gint64 *expiry, GError **error)
{
	WbdJwtKey *key = data;

	*expiry = now + key->lifetime;
	return wbd_mqtt_jwt(key->algorithm,
			    key->key_pem,
			    key->key_length,
			    key->project,
			    now,
			    *expiry,
			    error);
}

/* never asks for a pass phrase: an encrypted key is refused */
static int
no_passphrase_cb(char *buf, int size, int rwflag, void *u)
{
	return 0;
}

/* the algorithm the key in @pem is for: ES256 (EC P-256) or RS256 (RSA ≥ 2048 bit) */
static const gchar *
wbd_jwt_key_algorithm(const gchar *pem, gsize length, GError **error)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)length);
	EVP_PKEY *pkey = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase_cb, NULL)
				     : NULL;
	const gchar *algorithm = NULL;
	gchar group[64] = "";

	BIO_free(bio);
	if (pkey == NULL) {
		wbd_config_invalid(error,
				   "key-file holds no PEM private key (or an encrypted one: give "
				   "it without a pass phrase)");
		return NULL;
	}
	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA && EVP_PKEY_get_bits(pkey) >= 2048)
		algorithm = "RS256";
	else if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC &&
		 EVP_PKEY_get_group_name(pkey, group, sizeof group, NULL) == 1 &&
		 (g_str_equal(group, "prime256v1") || g_str_equal(group, "P-256")))
		algorithm = "ES256";
	EVP_PKEY_free(pkey);
	if (algorithm == NULL)
		wbd_config_invalid(error,
				   "key-file must hold an EC P-256 key (ES256) or an RSA key of at "
				   "least 2048 bits (RS256)");
	return algorithm;
}

static WbdJwtKey *
wbd_jwt_key_load(GHashTable *settings, GError **error)
{
	const gchar *path = g_hash_table_lookup(settings, "key-file");
	const gchar *algorithm = g_hash_table_lookup(settings, "algorithm");
	const gchar *type;
	g_autoptr(WbdJwtKey) key = g_new0(WbdJwtKey, 1);
	g_autoptr(GError) local_error = NULL;

	key->lifetime = 3600;
	if (!wbd_mqtt_cloud_parse_seconds(settings,
					  "token-lifetime",
					  10,
					  86400,
					  &key->lifetime,
					  error))
		return NULL;
	if (algorithm != NULL && !g_str_equal(algorithm, "ES256") &&
	    !g_str_equal(algorithm, "RS256")) {
		wbd_config_invalid(error, "algorithm must be ES256 or RS256");
		return NULL;
	}
	if (path == NULL) {
		wbd_config_invalid(error,
				   "key-file is missing: the device's private key, PEM (e.g. "
				   "key-file=/etc/wattbus/iot-core.key)");
		return NULL;
	}
	/* a small local file, once, when the exporter is made */
	if (!g_file_get_contents(path, &key->key_pem, &key->key_length, &local_error)) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "cannot read key-file: %s",
			    local_error->message);
		return NULL;
	}
	type = wbd_jwt_key_algorithm(key->key_pem, key->key_length, error);
	if (type == NULL)
		return NULL;
	if (algorithm != NULL && !g_str_equal(algorithm, type)) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "algorithm=%s does not fit the key in key-file, which is for %s",
			    algorithm,
			    type);
		return NULL;
	}
	key->algorithm = g_strdup(type);
	return g_steal_pointer(&key);
}

/* the state */

static gchar *
wbd_jwt_exporter_state_json(WbdJwtExporter *self)
{
	g_autoptr(JsonObject) root = json_object_new();
	JsonObject *devices = json_object_new();
	g_autoptr(GList) ids = g_hash_table_get_keys(self->known);

	json_object_set_object_member(root, "devices", devices);
	ids = g_list_sort(ids, (GCompareFunc)g_strcmp0);
	for (GList *l = ids; l != NULL; l = l->next) {
		JsonObject *state = wbd_mqtt_cloud_device_state(WBD_MQTT_CLOUD(self), l->data);
		if (state != NULL)
			json_object_set_object_member(devices, l->data, state);
	}
	return wbd_mqtt_state_to_json(root);
}

static gboolean
wbd_jwt_exporter_state_cb(gpointer user_data)
{
	WbdJwtExporter *self = user_data;
	WbdMqttCloud *cloud = WBD_MQTT_CLOUD(self);
	g_autofree gchar *json = NULL;

	self->state_id = 0;
	if (!wbd_mqtt_client_is_connected(wbd_mqtt_cloud_get_client(cloud)))
		return G_SOURCE_REMOVE;
	/* nothing to say yet (the first readings come right after connecting) */
	if (g_hash_table_size(self->known) == 0 && self->state_sent == NULL)
		return G_SOURCE_REMOVE;
	json = wbd_jwt_exporter_state_json(self);
	if (g_strcmp0(json, self->state_sent) == 0)
		return G_SOURCE_REMOVE;
	wbd_exp_debug(self, "publishing the state of %u device(s)", g_hash_table_size(self->known));
	wbd_mqtt_cloud_publish(cloud, self->state_topic, json, strlen(json), FALSE);
	g_free(self->state_sent);
	self->state_sent = g_steal_pointer(&json);
	self->state_time = g_get_monotonic_time();
	return G_SOURCE_REMOVE;
}

/* the state is published if it changed, at most once a second: changes meanwhile are
 * merged into the next */
static void
wbd_jwt_exporter_schedule_state(WbdJwtExporter *self)
{
	gint64 since;

	if (self->state_id != 0)
		return;
	since = (g_get_monotonic_time() - self->state_time) / 1000;
	self->state_id = g_timeout_add(since >= WBD_JWT_STATE_INTERVAL_MS || self->state_time == 0
					   ? 0
					   : (guint)(WBD_JWT_STATE_INTERVAL_MS - since),
				       wbd_jwt_exporter_state_cb,
				       self);
}

static void
wbd_jwt_exporter_know(WbdJwtExporter *self, const gchar *device)
{
	if (!g_hash_table_contains(self->known, device))
		g_hash_table_add(self->known, g_strdup(device));
	wbd_jwt_exporter_schedule_state(self);
}

/* what no reading carries (a valve moved by hand) comes from the base class */
static void
wbd_jwt_exporter_device_state_changed(WbdMqttCloud *cloud, const gchar *device)
{
	WbdJwtExporter *self = WBD_JWT_EXPORTER(cloud);

	if (g_hash_table_contains(self->known, device))
		wbd_jwt_exporter_schedule_state(self);
}

/* telemetry */

static void
wbd_jwt_exporter_publish_record(WbdMqttCloud *cloud, GTask *task, const WbdSpoolRecord *record)
{
	WbdJwtExporter *self = WBD_JWT_EXPORTER(cloud);
	g_autofree gchar *json =
	    wbd_mqtt_telemetry_json(record->device, record->time_us, record->values);

	wbd_mqtt_cloud_batch_publish(cloud, task, self->events_topic, json, FALSE);
	/* a reading may carry a change of the slow state (On, Online) */
	if (wbd_exporter_lookup_device(WBD_EXPORTER(self), record->device) != NULL)
		wbd_jwt_exporter_know(self, record->device);
}

static void
wbd_jwt_exporter_device_removed(WbdExporter *exporter, const gchar *device)
{
	WbdJwtExporter *self = WBD_JWT_EXPORTER(exporter);

	if (g_hash_table_remove(self->known, device))
		wbd_jwt_exporter_schedule_state(self);
}

/* commands */

typedef struct {
	WbdJwtExporter *self;
	gchar *device;
	gchar *id;
	gboolean config; /* from the config document: no result event */
} CommandData;

static void
command_data_free(CommandData *data)
{
	g_clear_object(&data->self);
	g_free(data->device);
	g_free(data->id);
	g_free(data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CommandData, command_data_free)

/* IoT Core has no reply topic: the result is an event on a subfolder */
static void
wbd_jwt_exporter_result(WbdJwtExporter *self,
			const gchar *device,
			const gchar *id,
			const GError *error)
{
	g_autoptr(JsonObject) state = NULL;
	g_autofree gchar *json = NULL;

	if (error == NULL && device != NULL)
		state = wbd_mqtt_cloud_device_state(WBD_MQTT_CLOUD(self), device);
	json = wbd_jwt_result_json(device, id, error, state);
	wbd_mqtt_cloud_publish(WBD_MQTT_CLOUD(self),
			       self->results_topic,
			       json,
			       strlen(json),
			       FALSE);
}

static void
wbd_jwt_exporter_command_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CommandData) data = user_data;
	g_autoptr(GError) error = NULL;
	const gchar *what = data->config ? "the desired state of" : "command for";

	if (!wbd_mqtt_cloud_command_finish(WBD_MQTT_CLOUD(source), res, &error))
		wbd_exp_message(data->self,
				"%s '%s' failed: %s",
				what,
				data->device,
				error->message);
	else
		wbd_exp_message(data->self, "%s '%s' done", what, data->device);
	if (!data->config)
		wbd_jwt_exporter_result(data->self, data->device, data->id, error);
	if (error == NULL)
		wbd_jwt_exporter_know(data->self, data->device);
}

static void
wbd_jwt_exporter_run(WbdJwtExporter *self,
		     const gchar *device,
		     const gchar *id,
		     GPtrArray *commands,
		     gboolean config)
{
	CommandData *data = g_new0(CommandData, 1);

	data->self = g_object_ref(self);
	data->device = g_strdup(device);
	data->id = g_strdup(id);
	data->config = config;
	wbd_mqtt_cloud_command_async(WBD_MQTT_CLOUD(self),
				     device,
				     commands,
				     wbd_jwt_exporter_command_cb,
				     data);
}

static void
wbd_jwt_exporter_handle_command(WbdJwtExporter *self,
				const gchar *subfolder,
				GBytes *payload,
				gboolean retained)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = NULL;
	g_autofree gchar *device = NULL;
	g_autoptr(GPtrArray) commands = NULL;
	gsize length;
	const gchar *bytes = g_bytes_get_data(payload, &length);

	/* IoT Core never retains commands; a retained one would run at every reconnect */
	if (retained) {
		wbd_exp_message(self, "ignoring a retained command");
		return;
	}
	commands = wbd_jwt_parse_command(subfolder, bytes, length, &id, &device, &error);
	if (commands == NULL) {
		wbd_exp_message(self,
				"command for '%s' refused: %s",
				device != NULL ? device : "?",
				error->message);
		wbd_jwt_exporter_result(self, device, id, error);
		return;
	}
	wbd_jwt_exporter_run(self, device, id, commands, FALSE);
}

/* the D-Bus property @property of @device already has @value */
static gboolean
wbd_jwt_device_has_value(WbdDevice *device, const gchar *property, GVariant *value)
{
	GDBusObject *object = G_DBUS_OBJECT(wbd_device_get_object(device));
	g_autolist(GDBusInterface) ifaces = g_dbus_object_get_interfaces(object);

	for (GList *l = ifaces; l != NULL; l = l->next) {
		g_autoptr(GVariant) props = NULL;
		g_autoptr(GVariant) current = NULL;

		if (!G_IS_DBUS_INTERFACE_SKELETON(l->data))
			continue;
		props = g_dbus_interface_skeleton_get_properties(l->data);
		current = g_variant_lookup_value(props, property, NULL);
		if (current != NULL)
			return value != NULL && g_variant_equal(current, value);
	}
	return FALSE;
}

static void
wbd_jwt_exporter_apply_desired(WbdJwtExporter *self, WbdMqttDesired *desired)
{
	WbdDevice *device = wbd_exporter_lookup_device(WBD_EXPORTER(self), desired->device);
	g_autoptr(GPtrArray) run = NULL;

	if (desired->error != NULL) {
		wbd_exp_message(self,
				"the desired state of '%s' is not valid: %s",
				desired->device,
				desired->error->message);
		return;
	}
	if (device == NULL) {
		wbd_exp_message(self,
				"the config names no device of this daemon: '%s'",
				desired->device);
		return;
	}
	/* a device already in the desired state gets no command */
	run = g_ptr_array_new_with_free_func((GDestroyNotify)wbd_mqtt_command_free);
	for (guint i = 0; i < desired->commands->len;) {
		WbdMqttCommand *command = g_ptr_array_index(desired->commands, i);
		if (wbd_jwt_device_has_value(device, command->property, command->value))
			i++;
		else
			g_ptr_array_add(run, g_ptr_array_steal_index(desired->commands, i));
	}
	wbd_jwt_exporter_know(self, desired->device);
	if (run->len == 0) {
		wbd_exp_debug(self, "'%s' is in its desired state", desired->device);
		return;
	}
	wbd_jwt_exporter_run(self, desired->device, NULL, run, TRUE);
}

static void
wbd_jwt_exporter_handle_config(WbdJwtExporter *self, GBytes *payload)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) desired = NULL;
	gsize length;
	const gchar *bytes = g_bytes_get_data(payload, &length);

	/* delivered again at every subscribe: applied once */
	if (self->config_applied != NULL && g_bytes_equal(payload, self->config_applied))
		return;
	g_clear_pointer(&self->config_applied, g_bytes_unref);
	self->config_applied = g_bytes_ref(payload);
	if (length == 0) {
		wbd_exp_info(self, "no config");
		return;
	}
	desired = wbd_jwt_parse_config(bytes, length, &error);
	if (desired == NULL) {
		wbd_exp_message(self, "config refused: %s", error->message);
		return;
	}
	if (!wbd_mqtt_cloud_get_commands(WBD_MQTT_CLOUD(self))) {
		wbd_exp_message(self,
				"config not applied: commands are off for this exporter "
				"(commands=true turns them on)");
		return;
	}
	wbd_exp_message(self,
			"applying the config: the desired state of %u device(s)",
			desired->len);
	for (guint i = 0; i < desired->len; i++)
		wbd_jwt_exporter_apply_desired(self, g_ptr_array_index(desired, i));
}

static void
wbd_jwt_exporter_message(WbdMqttCloud *cloud,
			 const gchar *topic,
			 GBytes *payload,
			 gboolean retained)
{
	WbdJwtExporter *self = WBD_JWT_EXPORTER(cloud);
	g_autofree gchar *subfolder = NULL;

	switch (wbd_jwt_parse_topic(topic, self->device_id, &subfolder)) {
	case WBD_JWT_TOPIC_COMMANDS:
		wbd_jwt_exporter_handle_command(self, subfolder, payload, retained);
		break;
	case WBD_JWT_TOPIC_CONFIG:
		wbd_jwt_exporter_handle_config(self, payload);
		break;
	case WBD_JWT_TOPIC_OTHER:
	default:
		break;
	}
}

/* the connection */

static void
wbd_jwt_exporter_connected(WbdMqttCloud *cloud)
{
	WbdJwtExporter *self = WBD_JWT_EXPORTER(cloud);

	/* the state again on every connection */
	g_clear_pointer(&self->state_sent, g_free);
	wbd_jwt_exporter_schedule_state(self);
}

/* configuration */

static gboolean
wbd_jwt_exporter_configure(WbdMqttCloud *cloud,
			   GHashTable *settings,
			   WbdMqttCloudSetup *setup,
			   GError **error)
{
	WbdJwtExporter *self = WBD_JWT_EXPORTER(cloud);
	static const struct {
		const gchar *key;
		const gchar *example;
	} ids[] = {
	    {"project", "my-project"},
	    {"region", "us-central1"},
	    {"registry", "my-registry"},
	    {"device-id", "wattbus-home"},
	};
	static const gchar *const unused[] = {"password", "password-file", "cert-file", NULL};
	const gchar *protocol = g_hash_table_lookup(settings, "protocol");
	WbdJwtKey *key;
	g_autofree gchar *filter = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
		if (!wbd_mqtt_cloud_require(settings, ids[i].key, ids[i].example, error))
			return FALSE;
	}
	for (guint i = 0; unused[i] != NULL; i++) {
		if (g_hash_table_contains(settings, unused[i])) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "%s is not used by kind=jwt-iot-core: the password is a "
				    "JWT made from key-file",
				    unused[i]);
			return FALSE;
		}
	}
	if (protocol != NULL && !g_str_equal(protocol, "3.1.1"))
		return wbd_config_invalid(error,
					  "protocol must be 3.1.1: IoT Core speaks no MQTT 5");
	key = wbd_jwt_key_load(settings, error);
	if (key == NULL)
		return FALSE;
	key->project = g_strdup(g_hash_table_lookup(settings, "project"));
	self->device_id = g_strdup(g_hash_table_lookup(settings, "device-id"));
	self->events_topic = g_strdup_printf("/devices/%s/events", self->device_id);
	self->results_topic =
	    g_strdup_printf("/devices/%s/events/command-results", self->device_id);
	self->state_topic = g_strdup_printf("/devices/%s/state", self->device_id);
	wbd_exp_info(self, "signing its tokens %s, valid for %u s", key->algorithm, key->lifetime);

	setup->default_url = g_strdup("mqtts://mqtt.googleapis.com:8883");
	setup->default_port = 8883;
	setup->require_tls = TRUE;
	setup->client_id = wbd_jwt_client_id(g_hash_table_lookup(settings, "project"),
					     g_hash_table_lookup(settings, "region"),
					     g_hash_table_lookup(settings, "registry"),
					     self->device_id);
	setup->username = g_strdup("unused");
	setup->password_func = wbd_jwt_password;
	setup->password_data = key;
	setup->password_destroy = (GDestroyNotify)wbd_jwt_key_free;

	filter = g_strdup_printf("/devices/%s/commands/#", self->device_id);
	wbd_mqtt_cloud_subscribe(cloud, filter);
	g_free(filter);
	filter = g_strdup_printf("/devices/%s/config", self->device_id);
	wbd_mqtt_cloud_subscribe(cloud, filter);
	return TRUE;
}

static void
wbd_jwt_exporter_stop(WbdExporter *exporter)
{
	WbdJwtExporter *self = WBD_JWT_EXPORTER(exporter);

	g_clear_handle_id(&self->state_id, g_source_remove);
	WBD_EXPORTER_CLASS(wbd_jwt_exporter_parent_class)->stop(exporter);
}

static void
wbd_jwt_exporter_finalize(GObject *object)
{
	WbdJwtExporter *self = WBD_JWT_EXPORTER(object);

	g_clear_handle_id(&self->state_id, g_source_remove);
	g_free(self->device_id);
	g_free(self->events_topic);
	g_free(self->results_topic);
	g_free(self->state_topic);
	g_free(self->state_sent);
	g_clear_pointer(&self->config_applied, g_bytes_unref);
	g_clear_pointer(&self->known, g_hash_table_unref);
	G_OBJECT_CLASS(wbd_jwt_exporter_parent_class)->finalize(object);
}

static void
wbd_jwt_exporter_class_init(WbdJwtExporterClass *klass)
{
	WbdMqttCloudClass *cloud_class = WBD_MQTT_CLOUD_CLASS(klass);

	G_OBJECT_CLASS(klass)->finalize = wbd_jwt_exporter_finalize;
	WBD_EXPORTER_CLASS(klass)->device_removed = wbd_jwt_exporter_device_removed;
	WBD_EXPORTER_CLASS(klass)->stop = wbd_jwt_exporter_stop;
	cloud_class->configure_cloud = wbd_jwt_exporter_configure;
	cloud_class->connected = wbd_jwt_exporter_connected;
	cloud_class->publish_record = wbd_jwt_exporter_publish_record;
	cloud_class->message = wbd_jwt_exporter_message;
	cloud_class->device_state_changed = wbd_jwt_exporter_device_state_changed;
}

static void
wbd_jwt_exporter_init(WbdJwtExporter *self)
{
	self->known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}
