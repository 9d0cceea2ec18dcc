/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <wattbus-glib.h>

#include "wbd-auth.h"
#include "wbd-dbus-error.h"
#include "wbd-exporter-filter.h"
#include "wbd-exporter-private.h"

#define WBD_EXPORTER_PATH_PREFIX "/org/wattbus/Wattbus1/Exporters/"
#define WBD_EXPORTER_DEFAULT_MAX_QUEUED 1000000
#define WBD_EXPORTER_DEFAULT_BATCH 500
#define WBD_EXPORTER_DEFAULT_TIMEOUT_S 30
G_DEFINE_TYPE_WITH_PRIVATE(WbdExporter, wbd_exporter, G_TYPE_OBJECT)
/* clang-format off */
G_DEFINE_QUARK(wbd-exporter-error-quark, wbd_exporter_error)
/* clang-format on */

#define GET_PRIVATE(o) ((WbdExporterPrivate *)wbd_exporter_get_instance_private(o))

/* for the parts of the class in other files (wbd-exporter-private.h) */
WbdExporterPrivate *
wbd_exporter_get_private(WbdExporter *self)
{
	return GET_PRIVATE(self);
}

/* identity */

const gchar *
wbd_exporter_get_id(WbdExporter *self)
{
	return GET_PRIVATE(self)->id;
}

/* the settings of the [exporter ID] group; includes secrets */
GHashTable *
wbd_exporter_get_settings(WbdExporter *self)
{
	return GET_PRIVATE(self)->settings;
}

/* the host the exporter sends to: never a user, key or path */
void
wbd_exporter_set_target(WbdExporter *self, const gchar *target)
{
	wattbus_exporter_set_target(GET_PRIVATE(self)->iface, target);
}

/* FALSE while disabled (the `enabled` setting, Disable()): a live kind sends nothing */
gboolean
wbd_exporter_get_enabled(WbdExporter *self)
{
	return GET_PRIVATE(self)->enabled;
}

/* a kind with push_live: changes go to it at once, not through the spool */
gboolean
wbd_exporter_is_live(WbdExporter *self)
{
	return WBD_EXPORTER_GET_CLASS(self)->push_live != NULL;
}

const gchar *
wbd_exporter_get_object_path(WbdExporter *self)
{
	return g_dbus_object_get_object_path(G_DBUS_OBJECT(GET_PRIVATE(self)->object));
}

GDBusObjectSkeleton *
wbd_exporter_get_object(WbdExporter *self)
{
	return G_DBUS_OBJECT_SKELETON(GET_PRIVATE(self)->object);
}

gboolean
wbd_exporter_is_stopped(WbdExporter *self)
{
	return g_cancellable_is_cancelled(GET_PRIVATE(self)->cancellable);
}

void
wbd_exporter_set_state(WbdExporter *self, const gchar *state)
{
	wattbus_exporter_set_state(GET_PRIVATE(self)->iface, state);
}

/* taking readings in */

static void
wbd_exporter_write(WbdExporter *self);

static void
wbd_exporter_write_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(WbdExporter) self = WBD_EXPORTER(user_data);
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	g_autoptr(GError) error = NULL;
	guint64 dropped = 0;
	guint64 count = 0;

	if (!wbd_spool_append_finish(WBD_SPOOL(source), res, &dropped, &count, &error)) {
		/* a full disk: better counted than hidden */
		wbd_exp_warning(self,
				"cannot store %u readings, they are lost: %s",
				priv->writing,
				error->message);
		wattbus_exporter_set_dropped(priv->iface,
					     wattbus_exporter_get_dropped(priv->iface) +
						 priv->writing);
	} else if (dropped > 0) {
		priv->drops_unlogged += dropped;
		if (g_get_monotonic_time() - priv->drop_logged_us >= 60 * G_USEC_PER_SEC ||
		    priv->drop_logged_us == 0) {
			wbd_exp_warning(self,
					"spool full (max-queued=%" G_GUINT64_FORMAT
					"): dropped the %" G_GUINT64_FORMAT " oldest readings",
					priv->max_queued,
					priv->drops_unlogged);
			priv->drops_unlogged = 0;
			priv->drop_logged_us = g_get_monotonic_time();
		}
		wattbus_exporter_set_dropped(priv->iface,
					     wattbus_exporter_get_dropped(priv->iface) + dropped);
	}
	priv->writing = 0;
	wattbus_exporter_set_queued(priv->iface, count);
	if (wbd_exporter_is_stopped(self))
		return;
	if (priv->pending->len > 0)
		wbd_exporter_write(self);
	wbd_exporter_kick(self);
}

static void
wbd_exporter_write(WbdExporter *self)
{
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	g_autoptr(GPtrArray) batch = NULL;

	if (priv->writing > 0 || priv->pending->len == 0)
		return;
	batch = g_steal_pointer(&priv->pending);
	priv->pending = g_ptr_array_new_with_free_func((GDestroyNotify)wbd_spool_record_free);
	priv->writing = batch->len;
	wbd_spool_append_async(priv->spool,
			       priv->id,
			       batch,
			       priv->max_queued,
			       NULL,
			       wbd_exporter_write_cb,
			       g_object_ref(self));
}

static gboolean
wbd_exporter_write_idle_cb(gpointer user_data)
{
	WbdExporter *self = WBD_EXPORTER(user_data);
	GET_PRIVATE(self)->write_id = 0;
	wbd_exporter_write(self);
	return G_SOURCE_REMOVE;
}

static void
wbd_exporter_schedule_tick(WbdExporter *self);

/* the filter's records get their labels and go to the spool in the next idle,
 * so that the changes of one main loop turn are one transaction */
static void
wbd_exporter_take(WbdExporter *self, GPtrArray *records)
{
	WbdExporterPrivate *priv = GET_PRIVATE(self);

	for (guint i = 0; i < records->len; i++) {
		WbdSpoolRecord *record = g_ptr_array_index(records, i);
		const gchar *label = g_hash_table_lookup(priv->labels, record->device);
		g_free(record->label);
		record->label = g_strdup(label != NULL ? label : record->device);
		g_ptr_array_add(priv->pending, g_steal_pointer(&records->pdata[i]));
	}
	g_ptr_array_set_size(records, 0);
	if (priv->pending->len > 0 && priv->write_id == 0 && !wbd_exporter_is_stopped(self))
		priv->write_id = g_idle_add(wbd_exporter_write_idle_cb, self);
	wbd_exporter_schedule_tick(self);
}

static gboolean
wbd_exporter_tick_cb(gpointer user_data)
{
	WbdExporter *self = WBD_EXPORTER(user_data);
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	g_autoptr(GPtrArray) out =
	    g_ptr_array_new_with_free_func((GDestroyNotify)wbd_spool_record_free);

	priv->tick_id = 0;
	wbd_exporter_filter_tick(priv->filter, g_get_real_time(), out);
	wbd_exporter_take(self, out);
	return G_SOURCE_REMOVE;
}

static void
wbd_exporter_schedule_tick(WbdExporter *self)
{
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	gint64 next = wbd_exporter_filter_get_next_deadline(priv->filter);
	gint64 delay_ms;

	g_clear_handle_id(&priv->tick_id, g_source_remove);
	if (next == G_MAXINT64 || wbd_exporter_is_stopped(self))
		return;
	delay_ms = (next - g_get_real_time()) / 1000 + 1;
	priv->tick_id =
	    g_timeout_add((guint)CLAMP(delay_ms, 1, G_MAXUINT), wbd_exporter_tick_cb, self);
}

static gboolean
wbd_exporter_snapshot_cb(gpointer user_data)
{
	WbdExporter *self = WBD_EXPORTER(user_data);
	g_autoptr(GPtrArray) out =
	    g_ptr_array_new_with_free_func((GDestroyNotify)wbd_spool_record_free);
	wbd_exporter_filter_snapshot(GET_PRIVATE(self)->filter, g_get_real_time(), out);
	wbd_exporter_take(self, out);
	return G_SOURCE_CONTINUE;
}

/**
 * wbd_exporter_push:
 * @label: the device's name now
 * @time_us: when the values changed, in µs since the epoch
 * @changes: a{sv} of D-Bus property name to value, from WbdDevice::values-changed
 *
 * Offers the exporter a change of a device; it takes what its settings select.
 */
void
wbd_exporter_push(WbdExporter *self,
		  const gchar *device,
		  const gchar *label,
		  gint64 time_us,
		  GVariant *changes)
{
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	g_autoptr(GPtrArray) out = NULL;

	if (wbd_exporter_is_stopped(self) ||
	    !wbd_exporter_filter_match_device(priv->filter, device))
		return;
	if (WBD_EXPORTER_GET_CLASS(self)->record_label != NULL)
		g_hash_table_replace(
		    priv->labels,
		    g_strdup(device),
		    WBD_EXPORTER_GET_CLASS(self)->record_label(self, device, label));
	else
		g_hash_table_replace(priv->labels, g_strdup(device), g_strdup(label));
	if (wbd_exporter_is_live(self)) {
		WBD_EXPORTER_GET_CLASS(self)->push_live(self, device, label, time_us, changes);
		return;
	}
	if (WBD_EXPORTER_GET_CLASS(self)->device_changed != NULL)
		WBD_EXPORTER_GET_CLASS(self)->device_changed(self, device, changes);
	out = g_ptr_array_new_with_free_func((GDestroyNotify)wbd_spool_record_free);
	wbd_exporter_filter_push(priv->filter, device, time_us, changes, g_get_real_time(), out);
	wbd_exporter_take(self, out);
}

/* the device is gone: what was held back of it is sent, its readings stay queued */
void
wbd_exporter_forget_device(WbdExporter *self, const gchar *device)
{
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	g_autoptr(GPtrArray) out =
	    g_ptr_array_new_with_free_func((GDestroyNotify)wbd_spool_record_free);
	if (wbd_exporter_is_stopped(self))
		return;
	if (wbd_exporter_is_live(self)) {
		WBD_EXPORTER_GET_CLASS(self)->push_live(self, device, NULL, g_get_real_time(), NULL);
		return;
	}
	wbd_exporter_filter_forget_device(priv->filter, device, g_get_real_time(), out);
	wbd_exporter_take(self, out);
	if (WBD_EXPORTER_GET_CLASS(self)->device_removed != NULL)
		WBD_EXPORTER_GET_CLASS(self)->device_removed(self, device);
}

void
wbd_exporter_set_device_lookup(WbdExporter *self, WbdExporterDeviceLookup lookup, gpointer data)
{
	GET_PRIVATE(self)->lookup = lookup;
	GET_PRIVATE(self)->lookup_data = data;
}

/**
 * wbd_exporter_lookup_device:
 * @device: a device id
 *
 * For kinds that take commands: the daemon's device (children included) with that id.
 *
 * Returns: (transfer none) (nullable): the device, or %NULL if there is none
 */
WbdDevice *
wbd_exporter_lookup_device(WbdExporter *self, const gchar *device)
{
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	return priv->lookup != NULL ? priv->lookup(device, priv->lookup_data) : NULL;
}

/* D-Bus methods */

typedef struct {
	WbdExporter *self;
	GDBusMethodInvocation *invocation;
} CallData;

static void
call_data_free(CallData *data)
{
	g_clear_object(&data->self);
	g_clear_object(&data->invocation);
	g_free(data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CallData, call_data_free)

/* every method: authorization first, then the work */
static void
wbd_exporter_auth_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CallData) data = user_data;
	WbdExporter *self = data->self;
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	const gchar *method = g_dbus_method_invocation_get_method_name(data->invocation);
	g_autoptr(GError) error = NULL;

	if (!wbd_auth_check_finish(WBD_AUTH(source), res, &error)) {
		wbd_return_dbus_error(data->invocation, error);
		return;
	}
	if (g_str_equal(method, "Flush") && !priv->enabled) {
		g_dbus_method_invocation_return_error(data->invocation,
						      WATTBUS_ERROR,
						      WATTBUS_ERROR_NOT_SUPPORTED,
						      "Exporter '%s' is disabled: enable it first",
						      priv->id);
		return;
	}
	if (g_str_equal(method, "Disable")) {
		if (priv->enabled)
			wbd_exp_message(self, "disabled");
		priv->enabled = FALSE;
		g_clear_handle_id(&priv->retry_id, g_source_remove);
		wbd_exporter_set_state(self, STATE_DISABLED);
	} else {
		if (!priv->enabled)
			wbd_exp_message(self, "enabled");
		priv->enabled = TRUE;
		priv->refused = FALSE;
		priv->backoff_s = 0;
		g_clear_handle_id(&priv->retry_id, g_source_remove);
		if (!wbd_exporter_is_sending(self))
			wbd_exporter_set_state(self,
					       wbd_exporter_is_live(self) ? STATE_CONNECTED
									  : STATE_CONNECTING);
		wbd_exporter_kick(self);
	}
	g_dbus_method_invocation_return_value(data->invocation, NULL);
}

static gboolean
wbd_exporter_handle_method(WattbusExporter *iface,
			   GDBusMethodInvocation *invocation,
			   WbdExporter *self)
{
	CallData *data = g_new0(CallData, 1);
	data->self = g_object_ref(self);
	data->invocation = g_object_ref(invocation);
	wbd_auth_check_async(wbd_auth_get_default(),
			     invocation,
			     GET_PRIVATE(self)->cancellable,
			     wbd_exporter_auth_cb,
			     data);
	return TRUE;
}

/* life cycle */

static gboolean
parse_count(GHashTable *settings,
	    const gchar *key,
	    guint64 min,
	    guint64 max,
	    guint64 *out,
	    GError **error)
{
	const gchar *value = g_hash_table_lookup(settings, key);
	if (value == NULL)
		return TRUE;
	if (!g_ascii_string_to_unsigned(value, 10, min, max, out, NULL)) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "%s must be a whole number from %" G_GUINT64_FORMAT
			    " to %" G_GUINT64_FORMAT,
			    key,
			    min,
			    max);
		return FALSE;
	}
	return TRUE;
}

static gboolean
wbd_exporter_configure(WbdExporter *self, GError **error)
{
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	const gchar *enabled = g_hash_table_lookup(priv->settings, "enabled");
	guint64 batch = WBD_EXPORTER_DEFAULT_BATCH;
	guint64 timeout = WBD_EXPORTER_DEFAULT_TIMEOUT_S;

	priv->max_queued = WBD_EXPORTER_DEFAULT_MAX_QUEUED;
	if (enabled != NULL && !g_str_equal(enabled, "true") && !g_str_equal(enabled, "false")) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "enabled must be true or false");
		return FALSE;
	}
	priv->enabled = g_strcmp0(enabled, "false") != 0;
	if (!parse_count(priv->settings, "max-queued", 1, G_MAXINT64, &priv->max_queued, error) ||
	    !parse_count(priv->settings, "batch-size", 1, 10000, &batch, error) ||
	    !parse_count(priv->settings, "timeout", 1, 3600, &timeout, error))
		return FALSE;
	priv->batch_size = (guint)batch;
	priv->timeout_s = (guint)timeout;
	priv->filter = wbd_exporter_filter_new(priv->settings, error);
	if (priv->filter == NULL)
		return FALSE;
	return WBD_EXPORTER_GET_CLASS(self)->configure(self, priv->settings, error);
}

/**
 * wbd_exporter_new:
 * @info: the kind, as registered
 * @settings: the settings of the [exporter ID] group, checked with
 *   wbd_exporter_info_validate()
 * @spool: where the exporter keeps its readings; those of an earlier run with the
 *   same @id are delivered first
 *
 * Returns: (transfer full): the exporter, not yet started; or %NULL with a
 *   %WATTBUS_ERROR_INVALID_ARGUMENT error naming the exporter
 */
WbdExporter *
wbd_exporter_new(const WbdExporterInfo *info,
		 const gchar *id,
		 GHashTable *settings,
		 WbdSpool *spool,
		 GError **error)
{
	g_autoptr(WbdExporter) self = g_object_new(info->get_type(), NULL);
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	g_autofree gchar *escaped = g_dbus_escape_object_path(id);
	g_autofree gchar *path = g_strconcat(WBD_EXPORTER_PATH_PREFIX, escaped, NULL);

	priv->id = g_strdup(id);
	priv->info = info;
	priv->settings = g_hash_table_ref(settings);
	priv->spool = g_object_ref(spool);
	priv->object = wattbus_object_skeleton_new(path);
	g_object_set(priv->iface,
		     "id",
		     id,
		     "kind",
		     info->kind,
		     "target",
		     "",
		     "state",
		     STATE_CONNECTING,
		     "last-error",
		     "",
		     "queued",
		     wbd_spool_count(spool, id),
		     NULL);
	if (!wbd_exporter_configure(self, error)) {
		g_prefix_error(error, "Exporter '%s': ", id);
		return NULL;
	}
	if (!priv->enabled)
		wbd_exporter_set_state(self, STATE_DISABLED);
	wattbus_object_skeleton_set_exporter(priv->object, priv->iface);
	return g_steal_pointer(&self);
}

/* starts delivering what the spool holds, and the timers */
void
wbd_exporter_start(WbdExporter *self)
{
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	guint interval = wbd_exporter_filter_get_interval(priv->filter);

	if (priv->started)
		return;
	priv->started = TRUE;
	if (wbd_exporter_is_live(self)) {
		if (priv->enabled)
			wbd_exporter_set_state(self, STATE_CONNECTED);
		return;
	}
	if (interval > 0)
		priv->snapshot_id = g_timeout_add_seconds(interval, wbd_exporter_snapshot_cb, self);
	if (wattbus_exporter_get_queued(priv->iface) > 0)
		wbd_exp_info(self,
			     "%" G_GUINT64_FORMAT " readings queued from before",
			     wattbus_exporter_get_queued(priv->iface));
	wbd_exporter_kick(self);
}

/**
 * wbd_exporter_stop:
 *
 * Stops delivering. What the exporter accepted but had not yet written, and what
 * min-interval held back, is queued for the spool: wbd_spool_wait() makes sure it
 * is on disk.
 */
void
wbd_exporter_stop(WbdExporter *self)
{
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	g_autoptr(GPtrArray) out = NULL;

	if (wbd_exporter_is_stopped(self))
		return;
	if (priv->filter != NULL) {
		out = g_ptr_array_new_with_free_func((GDestroyNotify)wbd_spool_record_free);
		wbd_exporter_filter_tick(priv->filter, G_MAXINT64 / 2, out);
		wbd_exporter_take(self, out);
	}
	g_cancellable_cancel(priv->cancellable);
	wbd_exporter_cancel_sends(self);
	g_clear_handle_id(&priv->write_id, g_source_remove);
	g_clear_handle_id(&priv->retry_id, g_source_remove);
	g_clear_handle_id(&priv->tick_id, g_source_remove);
	g_clear_handle_id(&priv->snapshot_id, g_source_remove);
	if (priv->pending->len > 0 && priv->spool != NULL) {
		/* queued behind any write under way, so the order stays */
		wbd_spool_append_async(priv->spool,
				       priv->id,
				       priv->pending,
				       priv->max_queued,
				       NULL,
				       NULL,
				       NULL);
		g_ptr_array_unref(priv->pending);
		priv->pending =
		    g_ptr_array_new_with_free_func((GDestroyNotify)wbd_spool_record_free);
	}
	if (WBD_EXPORTER_GET_CLASS(self)->stop != NULL)
		WBD_EXPORTER_GET_CLASS(self)->stop(self);
}

static void
wbd_exporter_dispose(GObject *object)
{
	WbdExporter *self = WBD_EXPORTER(object);
	WbdExporterPrivate *priv = GET_PRIVATE(self);

	wbd_exporter_stop(self);
	if (priv->iface != NULL)
		g_signal_handlers_disconnect_by_data(priv->iface, self);
	g_clear_object(&priv->iface);
	g_clear_object(&priv->object);
	g_clear_object(&priv->spool);
	G_OBJECT_CLASS(wbd_exporter_parent_class)->dispose(object);
}

static void
wbd_exporter_finalize(GObject *object)
{
	WbdExporterPrivate *priv = GET_PRIVATE(WBD_EXPORTER(object));
	g_free(priv->id);
	g_clear_pointer(&priv->settings, g_hash_table_unref);
	g_clear_pointer(&priv->filter, wbd_exporter_filter_free);
	g_clear_pointer(&priv->labels, g_hash_table_unref);
	g_clear_pointer(&priv->pending, g_ptr_array_unref);
	g_clear_object(&priv->cancellable);
	wbd_exporter_clear_sends(WBD_EXPORTER(object));
	G_OBJECT_CLASS(wbd_exporter_parent_class)->finalize(object);
}

static void
wbd_exporter_class_init(WbdExporterClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = wbd_exporter_dispose;
	object_class->finalize = wbd_exporter_finalize;
}

static void
wbd_exporter_init(WbdExporter *self)
{
	WbdExporterPrivate *priv = GET_PRIVATE(self);
	priv->cancellable = g_cancellable_new();
	priv->labels = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	priv->pending = g_ptr_array_new_with_free_func((GDestroyNotify)wbd_spool_record_free);
	priv->iface = wattbus_exporter_skeleton_new();
	g_signal_connect(priv->iface, "handle-flush", G_CALLBACK(wbd_exporter_handle_method), self);
	g_signal_connect(priv->iface,
			 "handle-enable",
			 G_CALLBACK(wbd_exporter_handle_method),
			 self);
	g_signal_connect(priv->iface,
			 "handle-disable",
			 G_CALLBACK(wbd_exporter_handle_method),
			 self);
}
