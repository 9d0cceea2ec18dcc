/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-aws-codec.h"
#include "wbd-aws-exporter.h"
#include "wbd-config.h"
#include "wbd-mqtt-client.h"
#include "wbd-mqtt-codec.h"

/*
 * kind=aws-iot: AWS IoT Core (shared/specs/mqtt-clouds.md §2), X.509 mutual TLS, the
 * thing name as client id. Every reading goes as telemetry JSON on TELEMETRY-TOPIC at
 * QoS 1 (through the spool: nothing lost). With shadow=true every device has a NAMED
 * Device Shadow `$aws/things/THING/shadow/name/DEVICE`, run as AWS's device SDKs do
 * (§2.4): subscribed before anything is published; on every connect an empty /get per
 * device, answered with the document (its delta applied) or a 404 (the shadow made by
 * reporting); the reported state (online, outlet state, valve) published again only
 * when it changed; deltas applied in version order as commands in the shared format
 * (with commands=true), then the ACTUAL state reported, whatever happened.
 */

#define WBD_AWS_DEFAULT_TOPIC "wattbus/{thing}/{device}"

/* what is known of a shadow on this connection */
enum {
	SHADOW_ASKED = 1, /* /get sent, no answer yet */
	SHADOW_SYNCED,	  /* answered: changes are reported */
};

struct _WbdAwsExporter {
	WbdMqttCloud parent_instance;
	gchar *thing;
	gchar *topic_template;
	gboolean shadow;
	GHashTable *known;    /* device ids seen in readings */
	GHashTable *synced;   /* device id → SHADOW_*, on this connection */
	GHashTable *reported; /* device id → the last reported update (JSON) */
	GHashTable *versions; /* device id → gint64 *, the last delta version applied */
	GHashTable *skipped;  /* WHAT/DEVICE already warned about */
};

G_DEFINE_TYPE(WbdAwsExporter, wbd_aws_exporter, WBD_TYPE_MQTT_CLOUD)

static const gchar *const aws_keys[] = {WBD_MQTT_CLOUD_COMMON_KEYS,
					"thing",
					"telemetry-topic",
					"shadow",
					NULL};
static const gchar *const aws_secret_keys[] = {"password", NULL};

static const WbdExporterInfo aws_info = {
    .kind = "aws-iot",
    .get_type = wbd_aws_exporter_get_type,
    .keys = aws_keys,
    .secret_keys = aws_secret_keys,
    .shutdown = wbd_mqtt_client_shutdown,
};

const WbdExporterInfo *
wbd_aws_exporter_get_info(void)
{
	return &aws_info;
}

static gboolean
wbd_aws_exporter_is_connected(WbdAwsExporter *self)
{
	return wbd_mqtt_client_is_connected(wbd_mqtt_cloud_get_client(WBD_MQTT_CLOUD(self)));
}

/* said once per device: its topic or shadow name cannot be used (never blocks the others) */
static void
wbd_aws_exporter_skip(WbdAwsExporter *self,
		      const gchar *device,
		      const gchar *what,
		      const gchar *why)
{
	if (g_hash_table_add(self->skipped, g_strconcat(what, "/", device, NULL)))
		wbd_exp_warning(self, "no %s for '%s': %s", what, device, why);
}

/* the shadow */

static void
wbd_aws_exporter_shadow_publish(WbdAwsExporter *self,
				const gchar *device,
				const gchar *suffix,
				const gchar *payload)
{
	g_autofree gchar *topic = wbd_aws_shadow_topic(self->thing, device, suffix);

	/* $aws topics cannot be retained */
	wbd_mqtt_cloud_publish(WBD_MQTT_CLOUD(self), topic, payload, strlen(payload), FALSE);
}

/* the device's slow state as reported state: when it changed, or always with @force */
static void
wbd_aws_exporter_report(WbdAwsExporter *self, const gchar *device, gboolean force)
{
	g_autoptr(JsonObject) state = wbd_mqtt_cloud_device_state(WBD_MQTT_CLOUD(self), device);
	g_autofree gchar *json = NULL;

	if (state == NULL || !wbd_aws_exporter_is_connected(self))
		return;
	json = wbd_aws_reported_json(state);
	if (!force && g_strcmp0(g_hash_table_lookup(self->reported, device), json) == 0)
		return;
	wbd_exp_debug(self, "reporting the state of '%s': %s", device, json);
	wbd_aws_exporter_shadow_publish(self, device, "update", json);
	g_hash_table_replace(self->reported, g_strdup(device), g_steal_pointer(&json));
}

/* asks for the shadow once per connection; reports changes once it was answered */
static void
wbd_aws_exporter_sync(WbdAwsExporter *self, const gchar *device)
{
	gint state = GPOINTER_TO_INT(g_hash_table_lookup(self->synced, device));

	if (!wbd_aws_exporter_is_connected(self))
		return;
	if (!wbd_aws_shadow_name_is_valid(device)) {
		wbd_aws_exporter_skip(self,
				      device,
				      "shadow",
				      "not a shadow name (1 to 64 of A-Z a-z 0-9 : _ -)");
		return;
	}
	if (state == 0) {
		g_hash_table_replace(self->synced, g_strdup(device), GINT_TO_POINTER(SHADOW_ASKED));
		wbd_aws_exporter_shadow_publish(self, device, "get", "");
	} else if (state == SHADOW_SYNCED) {
		wbd_aws_exporter_report(self, device, FALSE);
	}
}

/* the valve (a string) never reaches the spool, and an outlet's state may come later
 * than a reading: the base class says when a device's slow state changed */
static void
wbd_aws_exporter_device_state_changed(WbdMqttCloud *cloud, const gchar *device)
{
	WbdAwsExporter *self = WBD_AWS_EXPORTER(cloud);

	if (self->shadow && g_hash_table_contains(self->known, device))
		wbd_aws_exporter_sync(self, device);
}

typedef struct {
	WbdAwsExporter *self;
	gchar *device;
} DeltaData;

static void
delta_data_free(DeltaData *data)
{
	g_clear_object(&data->self);
	g_free(data->device);
	g_free(data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(DeltaData, delta_data_free)

static void
wbd_aws_exporter_delta_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(DeltaData) data = user_data;
	g_autoptr(GError) error = NULL;

	if (!wbd_mqtt_cloud_command_finish(WBD_MQTT_CLOUD(source), res, &error))
		wbd_exp_message(data->self,
				"shadow delta for '%s' not applied: %s",
				data->device,
				error->message);
	else
		wbd_exp_info(data->self, "shadow delta for '%s' applied", data->device);
	/* what the device really did; a delta that did not apply stays in the shadow */
	wbd_aws_exporter_report(data->self, data->device, TRUE);
}

static void
wbd_aws_exporter_apply(WbdAwsExporter *self,
		       const gchar *device,
		       const gchar *state,
		       gint64 version)
{
	g_autofree gchar *refused = NULL;
	g_autoptr(GPtrArray) commands = wbd_aws_delta_commands(state, &refused);
	gint64 *applied = g_new(gint64, 1);
	DeltaData *data;

	*applied = version;
	g_hash_table_replace(self->versions, g_strdup(device), applied);
	if (refused != NULL)
		wbd_exp_message(self,
				"shadow delta for '%s' (version %" G_GINT64_FORMAT "): ignoring %s",
				device,
				version,
				refused);
	if (commands->len == 0) {
		wbd_aws_exporter_report(self, device, TRUE);
		return;
	}
	data = g_new0(DeltaData, 1);
	data->self = g_object_ref(self);
	data->device = g_strdup(device);
	wbd_mqtt_cloud_command_async(WBD_MQTT_CLOUD(self),
				     device,
				     commands,
				     wbd_aws_exporter_delta_cb,
				     data);
}

static gint64
wbd_aws_exporter_last_version(WbdAwsExporter *self, const gchar *device)
{
	gint64 *version = g_hash_table_lookup(self->versions, device);
	return version != NULL ? *version : -1;
}

static void
wbd_aws_exporter_on_delta(WbdAwsExporter *self, const gchar *device, GBytes *payload)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *state = NULL;
	gint64 version = 0;
	gsize length;
	const gchar *bytes = g_bytes_get_data(payload, &length);

	if (!wbd_aws_parse_delta(bytes, length, &version, &state, &error)) {
		wbd_exp_message(self, "shadow delta for '%s' ignored: %s", device, error->message);
		return;
	}
	if (version <= wbd_aws_exporter_last_version(self, device)) {
		wbd_exp_info(self,
			     "shadow delta for '%s' ignored: version %" G_GINT64_FORMAT
			     " is not newer than %" G_GINT64_FORMAT,
			     device,
			     version,
			     wbd_aws_exporter_last_version(self, device));
		return;
	}
	wbd_aws_exporter_apply(self, device, state, version);
}

static void
wbd_aws_exporter_on_get_accepted(WbdAwsExporter *self, const gchar *device, GBytes *payload)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *delta = NULL;
	g_autoptr(JsonObject) reported = NULL;
	g_autoptr(JsonObject) state = NULL;
	gint64 version = 0;
	gsize length;
	const gchar *bytes = g_bytes_get_data(payload, &length);

	if (!wbd_aws_parse_get_accepted(bytes, length, &version, &delta, &reported, &error)) {
		wbd_exp_message(self, "shadow of '%s' ignored: %s", device, error->message);
		return;
	}
	g_hash_table_replace(self->synced, g_strdup(device), GINT_TO_POINTER(SHADOW_SYNCED));
	/* the document as it is now; a lower version: the shadow was deleted and made again */
	if (delta != NULL && version != wbd_aws_exporter_last_version(self, device)) {
		wbd_aws_exporter_apply(self, device, delta, version);
		return;
	}
	state = wbd_mqtt_cloud_device_state(WBD_MQTT_CLOUD(self), device);
	if (state == NULL)
		return;
	if (wbd_aws_reported_matches(reported, state))
		g_hash_table_replace(self->reported,
				     g_strdup(device),
				     wbd_aws_reported_json(state));
	else
		wbd_aws_exporter_report(self, device, TRUE);
}

static void
wbd_aws_exporter_on_rejected(WbdAwsExporter *self,
			     const gchar *device,
			     GBytes *payload,
			     WbdAwsShadowMessage kind)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *message = NULL;
	gint code = 0;
	gsize length;
	const gchar *bytes = g_bytes_get_data(payload, &length);
	const gchar *what = kind == WBD_AWS_SHADOW_GET_REJECTED ? "reading" : "updating";

	if (!wbd_aws_parse_rejected(bytes, length, &code, &message, &error)) {
		wbd_exp_message(self,
				"rejection for the shadow of '%s' ignored: %s",
				device,
				error->message);
		return;
	}
	if (kind == WBD_AWS_SHADOW_GET_REJECTED && code == 404) {
		/* no shadow yet: reporting makes it, and its versions start again */
		wbd_exp_info(self, "no shadow for '%s' yet: making it", device);
		g_hash_table_replace(self->synced,
				     g_strdup(device),
				     GINT_TO_POINTER(SHADOW_SYNCED));
		g_hash_table_remove(self->versions, device);
		wbd_aws_exporter_report(self, device, TRUE);
		return;
	}
	wbd_exp_warning(self,
			"AWS refused %s the shadow of '%s': %d %s",
			what,
			device,
			code,
			message != NULL ? message : "");
	/* reported again at the next change */
	if (kind == WBD_AWS_SHADOW_UPDATE_REJECTED)
		g_hash_table_remove(self->reported, device);
	else
		g_hash_table_replace(self->synced,
				     g_strdup(device),
				     GINT_TO_POINTER(SHADOW_SYNCED));
}

static void
wbd_aws_exporter_message(WbdMqttCloud *cloud,
			 const gchar *topic,
			 GBytes *payload,
			 gboolean retained)
{
	WbdAwsExporter *self = WBD_AWS_EXPORTER(cloud);
	g_autofree gchar *device = NULL;
	WbdAwsShadowMessage kind = wbd_aws_shadow_parse_topic(topic, self->thing, &device);

	if (kind == WBD_AWS_SHADOW_NONE || !self->shadow)
		return;
	if (wbd_exporter_lookup_device(WBD_EXPORTER(self), device) == NULL) {
		wbd_exp_message(self, "shadow message for the unknown device '%s' ignored", device);
		return;
	}
	switch (kind) {
	case WBD_AWS_SHADOW_DELTA:
		wbd_aws_exporter_on_delta(self, device, payload);
		break;
	case WBD_AWS_SHADOW_GET_ACCEPTED:
		wbd_aws_exporter_on_get_accepted(self, device, payload);
		break;
	case WBD_AWS_SHADOW_GET_REJECTED:
	case WBD_AWS_SHADOW_UPDATE_REJECTED:
		wbd_aws_exporter_on_rejected(self, device, payload, kind);
		break;
	case WBD_AWS_SHADOW_NONE:
	default:
		break;
	}
}

/* telemetry */

static void
wbd_aws_exporter_publish_record(WbdMqttCloud *cloud, GTask *task, const WbdSpoolRecord *record)
{
	WbdAwsExporter *self = WBD_AWS_EXPORTER(cloud);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *topic =
	    wbd_aws_telemetry_topic(self->topic_template, self->thing, record->device, &error);
	g_autofree gchar *json = NULL;

	if (topic == NULL) {
		wbd_aws_exporter_skip(self, record->device, "telemetry", error->message);
	} else {
		json = wbd_mqtt_telemetry_json(record->device, record->time_us, record->values);
		wbd_mqtt_cloud_batch_publish(cloud, task, topic, json, FALSE);
	}
	if (self->shadow) {
		g_hash_table_add(self->known, g_strdup(record->device));
		wbd_aws_exporter_sync(self, record->device);
	}
}

static gboolean
wbd_aws_exporter_is_about(gpointer key, gpointer value, gpointer device)
{
	const gchar *slash = strchr(key, '/');
	return slash != NULL && g_str_equal(slash + 1, device);
}

/* the shadow stays: it is the user's, in the user's account; it is just not updated */
static void
wbd_aws_exporter_device_removed(WbdExporter *exporter, const gchar *device)
{
	WbdAwsExporter *self = WBD_AWS_EXPORTER(exporter);

	if (g_hash_table_remove(self->known, device))
		wbd_exp_info(self,
			     "no longer reporting the shadow of the removed device '%s'",
			     device);
	g_hash_table_remove(self->synced, device);
	g_hash_table_remove(self->reported, device);
	g_hash_table_remove(self->versions, device);
	g_hash_table_foreach_remove(self->skipped, wbd_aws_exporter_is_about, (gpointer)device);
}

static void
wbd_aws_exporter_connected(WbdMqttCloud *cloud)
{
	WbdAwsExporter *self = WBD_AWS_EXPORTER(cloud);
	GHashTableIter iter;
	gpointer device;

	/* deltas may have come while away: the subscriptions are made, ask again */
	g_hash_table_remove_all(self->synced);
	g_hash_table_iter_init(&iter, self->known);
	while (g_hash_table_iter_next(&iter, &device, NULL))
		wbd_aws_exporter_sync(self, device);
}

/* configuration */

static gboolean
wbd_aws_exporter_configure(WbdMqttCloud *cloud,
			   GHashTable *settings,
			   WbdMqttCloudSetup *setup,
			   GError **error)
{
	WbdAwsExporter *self = WBD_AWS_EXPORTER(cloud);
	const gchar *template = g_hash_table_lookup(settings, "telemetry-topic");
	static const gchar *const subscriptions[] = {"update/delta",
						     "get/accepted",
						     "get/rejected",
						     "update/rejected"};

	if (!wbd_mqtt_cloud_require(settings, "thing", "my-thing", error) ||
	    !wbd_mqtt_cloud_parse_bool(settings, "shadow", &self->shadow, error))
		return FALSE;
	if (g_hash_table_lookup(settings, "url") == NULL)
		return wbd_config_invalid(error,
					  "url is missing: the account's endpoint (e.g. "
					  "url=mqtts://xxxx-ats.iot.eu-west-1.amazonaws.com)");
	if (g_hash_table_lookup(settings, "cert-file") == NULL ||
	    g_hash_table_lookup(settings, "key-file") == NULL)
		return wbd_config_invalid(error,
					  "cert-file and key-file are required: AWS IoT Core "
					  "authenticates the thing's X.509 certificate");
	if (g_hash_table_lookup(settings, "password") != NULL ||
	    g_hash_table_lookup(settings, "password-file") != NULL)
		return wbd_config_invalid(error,
					  "aws-iot takes no password: cert-file and key-file "
					  "are the credentials");
	self->thing = g_strdup(g_hash_table_lookup(settings, "thing"));
	self->topic_template = g_strdup(template != NULL ? template : WBD_AWS_DEFAULT_TOPIC);
	if (!wbd_aws_check_topic_template(self->topic_template, self->thing, error))
		return FALSE;
	setup->default_port = 8883;
	setup->require_tls = TRUE;
	/* IoT policies pin the client id to the thing name */
	setup->client_id = g_strdup(self->thing);
	if (self->shadow) {
		/* each its own filter: AWS may add topics under .../shadow/ */
		for (guint i = 0; i < G_N_ELEMENTS(subscriptions); i++) {
			g_autofree gchar *filter =
			    wbd_aws_shadow_topic(self->thing, "+", subscriptions[i]);
			wbd_mqtt_cloud_subscribe(cloud, filter);
		}
	}
	return TRUE;
}

static void
wbd_aws_exporter_finalize(GObject *object)
{
	WbdAwsExporter *self = WBD_AWS_EXPORTER(object);

	g_free(self->thing);
	g_free(self->topic_template);
	g_clear_pointer(&self->known, g_hash_table_unref);
	g_clear_pointer(&self->synced, g_hash_table_unref);
	g_clear_pointer(&self->reported, g_hash_table_unref);
	g_clear_pointer(&self->versions, g_hash_table_unref);
	g_clear_pointer(&self->skipped, g_hash_table_unref);
	G_OBJECT_CLASS(wbd_aws_exporter_parent_class)->finalize(object);
}

static void
wbd_aws_exporter_class_init(WbdAwsExporterClass *klass)
{
	WbdMqttCloudClass *cloud_class = WBD_MQTT_CLOUD_CLASS(klass);

	G_OBJECT_CLASS(klass)->finalize = wbd_aws_exporter_finalize;
	WBD_EXPORTER_CLASS(klass)->device_removed = wbd_aws_exporter_device_removed;
	cloud_class->configure_cloud = wbd_aws_exporter_configure;
	cloud_class->connected = wbd_aws_exporter_connected;
	cloud_class->publish_record = wbd_aws_exporter_publish_record;
	cloud_class->message = wbd_aws_exporter_message;
	cloud_class->device_state_changed = wbd_aws_exporter_device_state_changed;
}

static void
wbd_aws_exporter_init(WbdAwsExporter *self)
{
	self->shadow = TRUE;
	self->known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->synced = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->reported = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->versions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->skipped = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}
