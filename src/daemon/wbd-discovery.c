/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <wattbus-glib.h>

#include "wbd-auth.h"
#include "wbd-discovery.h"
#include "wbd-driver.h"

#define WBD_DISCOVERY_DEFAULT_TIMEOUT_MS 3000
#define WBD_DISCOVERY_MAX_TIMEOUT_MS 60000

/*
 * Discover(): the drivers' network scans, for whoever asks on the bus. Each scan holds
 * sockets and buffers for up to a minute, so the number running is bounded: one per
 * caller (D-Bus sender) and WBD_DISCOVERY_MAX_RUNNING in all; a call beyond that is
 * answered Error.Busy at once, before polkit is asked. A failure a caller can cause
 * (a bad target, a network that refuses the probe) is logged at debug level only: one
 * log line per call is a flood that caller controls.
 */
struct _WbdDiscovery {
	GObject parent_instance;
	GHashTable *callers; /* unique bus names with a Discover running */
};

G_DEFINE_TYPE(WbdDiscovery, wbd_discovery, G_TYPE_OBJECT)

typedef struct {
	GDBusMethodInvocation *invocation;
	GVariant *options_in; /* a{sv}, as the caller gave them */
	gchar *caller;	    /* the key in callers while it runs, NULL once released */
	GPtrArray *results; /* GVariant a{sv} */
	GError *error;	    /* the first error of a driver */
	guint pending;
	guint succeeded;
	WbdDiscoverOptions options;
} RunData;

static void
run_data_free(RunData *data)
{
	g_clear_object(&data->invocation);
	g_clear_pointer(&data->options_in, g_variant_unref);
	g_free(data->caller);
	g_clear_pointer(&data->results, g_ptr_array_unref);
	g_clear_error(&data->error);
	g_free(data->options.target);
	g_free(data);
}

/* the slot goes back before the answer, so that the caller may call again at once */
static void
wbd_discovery_release(GTask *task)
{
	WbdDiscovery *self = g_task_get_source_object(task);
	RunData *data = g_task_get_task_data(task);
	if (data->caller != NULL)
		g_hash_table_remove(self->callers, data->caller);
	g_clear_pointer(&data->caller, g_free);
}

static void
wbd_discovery_return_error(GTask *task, GError *error)
{
	wbd_discovery_release(task);
	g_task_return_error(task, error);
	g_object_unref(task);
}

static void
wbd_discovery_done(GTask *task)
{
	RunData *data = g_task_get_task_data(task);

	/* a bad option is the caller's mistake, not an empty network; and when every
	 * driver failed, an empty list would say the network is empty */
	if (data->error != NULL &&
	    (data->succeeded == 0 ||
	     g_error_matches(data->error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT))) {
		wbd_discovery_return_error(task, g_steal_pointer(&data->error));
		return;
	}
	wbd_discovery_release(task);
	g_task_return_pointer(task,
			      g_steal_pointer(&data->results),
			      (GDestroyNotify)g_ptr_array_unref);
	g_object_unref(task);
}

typedef struct {
	GTask *task; /* a reference */
	const WbdDriverInfo *info;
} DriverCall;

static void
wbd_discovery_driver_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	DriverCall *call = user_data;
	GTask *task = call->task;
	RunData *data = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) found = call->info->discover_finish(res, &error);

	if (found == NULL) {
		g_debug("discovery with the %s driver failed: %s", call->info->name, error->message);
		if (data->error == NULL ||
		    (g_error_matches(error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT) &&
		     !g_error_matches(data->error, WATTBUS_ERROR, WATTBUS_ERROR_INVALID_ARGUMENT)))
			g_set_error_literal(&data->error,
					    error->domain == WATTBUS_ERROR ? error->domain
									   : WATTBUS_ERROR,
					    error->domain == WATTBUS_ERROR ? error->code
									   : WATTBUS_ERROR_FAILED,
					    error->message);
	} else {
		data->succeeded++;
		for (guint i = 0; i < found->len; i++)
			g_ptr_array_add(data->results, g_variant_ref(g_ptr_array_index(found, i)));
	}
	g_free(call);
	if (--data->pending == 0)
		wbd_discovery_done(task); /* the reference the drivers held */
}

static gboolean
wbd_discovery_parse_options(GVariant *options, WbdDiscoverOptions *out, const gchar **driver,
			    GError **error)
{
	GVariantIter iter;
	const gchar *key;
	GVariant *value;

	out->timeout_ms = WBD_DISCOVERY_DEFAULT_TIMEOUT_MS;
	g_variant_iter_init(&iter, options);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) v = value;
		if (g_strcmp0(key, "driver") == 0 && g_variant_is_of_type(v, G_VARIANT_TYPE_STRING)) {
			*driver = g_variant_get_string(v, NULL);
		} else if (g_strcmp0(key, "target") == 0 &&
			   g_variant_is_of_type(v, G_VARIANT_TYPE_STRING)) {
			g_free(out->target);
			out->target = g_variant_dup_string(v, NULL);
		} else if (g_strcmp0(key, "timeout") == 0) {
			gdouble seconds;
			if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT32))
				seconds = g_variant_get_uint32(v);
			else if (g_variant_is_of_type(v, G_VARIANT_TYPE_INT32))
				seconds = g_variant_get_int32(v);
			else if (g_variant_is_of_type(v, G_VARIANT_TYPE_DOUBLE))
				seconds = g_variant_get_double(v);
			else if (g_variant_is_of_type(v, G_VARIANT_TYPE_STRING))
				seconds = g_ascii_strtod(g_variant_get_string(v, NULL), NULL);
			else
				seconds = -1;
			if (!(seconds >= 0.1 && seconds <= WBD_DISCOVERY_MAX_TIMEOUT_MS / 1000)) {
				g_set_error(error,
					    WATTBUS_ERROR,
					    WATTBUS_ERROR_INVALID_ARGUMENT,
					    "Discover: timeout must be a number of seconds from 0.1 to %d",
					    WBD_DISCOVERY_MAX_TIMEOUT_MS / 1000);
				return FALSE;
			}
			out->timeout_ms = (guint)(seconds * 1000);
		} else {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "Discover: unknown option '%s' of type %s (expected driver: s, "
				    "timeout: u or d, target: s)",
				    key,
				    g_variant_get_type_string(v));
			return FALSE;
		}
	}
	return TRUE;
}

static void
wbd_discovery_auth_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	RunData *data = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) drivers = NULL;
	const gchar *driver = NULL;

	if (!wbd_auth_check_finish(WBD_AUTH(source), res, &error) ||
	    !wbd_discovery_parse_options(data->options_in, &data->options, &driver, &error)) {
		wbd_discovery_return_error(task, g_steal_pointer(&error));
		return;
	}
	if (driver != NULL) {
		const WbdDriverInfo *info = wbd_driver_lookup(driver);
		if (info == NULL || info->discover_async == NULL) {
			wbd_discovery_return_error(
			    task,
			    g_error_new(WATTBUS_ERROR,
					info == NULL ? WATTBUS_ERROR_INVALID_ARGUMENT
						     : WATTBUS_ERROR_NOT_SUPPORTED,
					info == NULL ? "Discover: unknown driver '%s'"
						     : "The %s driver cannot discover devices",
					driver));
			return;
		}
		drivers = g_ptr_array_new();
		g_ptr_array_add(drivers, (gpointer)info);
	} else {
		drivers = wbd_driver_list();
	}
	/* counted first: a driver may answer before the next one is asked */
	for (guint i = 0; i < drivers->len; i++) {
		if (((const WbdDriverInfo *)g_ptr_array_index(drivers, i))->discover_async != NULL)
			data->pending++;
	}
	if (data->pending == 0) {
		wbd_discovery_done(task);
		return;
	}
	for (guint i = 0; i < drivers->len; i++) {
		const WbdDriverInfo *info = g_ptr_array_index(drivers, i);
		DriverCall *call;
		if (info->discover_async == NULL)
			continue;
		call = g_new0(DriverCall, 1);
		call->task = task;
		call->info = info;
		info->discover_async(&data->options,
				     g_task_get_cancellable(task),
				     wbd_discovery_driver_cb,
				     call);
	}
}

/**
 * wbd_discovery_run_async:
 *
 * Runs Discover() for the caller of @invocation: refuses it with
 * %WATTBUS_ERROR_BUSY when that caller has one running or too many run, asks polkit
 * (org.wattbus.Wattbus1.discover), then every driver that can discover (or the one
 * named in @options), for the time @options give.
 */
void
wbd_discovery_run_async(WbdDiscovery *self,
			GDBusMethodInvocation *invocation,
			GVariant *options,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	const gchar *sender = g_dbus_method_invocation_get_sender(invocation);
	RunData *data = g_new0(RunData, 1);

	g_task_set_source_tag(task, wbd_discovery_run_async);
	g_task_set_task_data(task, data, (GDestroyNotify)run_data_free);
	data->invocation = g_object_ref(invocation);
	data->results = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
	if (sender == NULL)
		sender = ""; /* a peer-to-peer connection */
	if (g_hash_table_contains(self->callers, sender)) {
		wbd_discovery_return_error(task,
					   g_error_new(WATTBUS_ERROR,
						       WATTBUS_ERROR_BUSY,
						       "Discover runs one at a time per caller, and "
						       "yours is still running"));
		return;
	}
	if (g_hash_table_size(self->callers) >= WBD_DISCOVERY_MAX_RUNNING) {
		g_debug("refusing a Discover of %s: %u are running",
			sender,
			g_hash_table_size(self->callers));
		wbd_discovery_return_error(task,
					   g_error_new(WATTBUS_ERROR,
						       WATTBUS_ERROR_BUSY,
						       "Discover: %u discoveries are running, try "
						       "again when they end",
						       g_hash_table_size(self->callers)));
		return;
	}
	data->caller = g_strdup(sender);
	g_hash_table_add(self->callers, g_strdup(sender));
	data->options_in = g_variant_ref(options);
	wbd_auth_check_async(wbd_auth_get_default(),
			     invocation,
			     cancellable,
			     wbd_discovery_auth_cb,
			     task);
}

/**
 * wbd_discovery_run_finish:
 *
 * Returns: (transfer full): the devices found, #GVariant a{sv} each
 */
GPtrArray *
wbd_discovery_run_finish(WbdDiscovery *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

static void
wbd_discovery_finalize(GObject *object)
{
	WbdDiscovery *self = WBD_DISCOVERY(object);
	g_hash_table_unref(self->callers);
	G_OBJECT_CLASS(wbd_discovery_parent_class)->finalize(object);
}

static void
wbd_discovery_class_init(WbdDiscoveryClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = wbd_discovery_finalize;
}

static void
wbd_discovery_init(WbdDiscovery *self)
{
	self->callers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

WbdDiscovery *
wbd_discovery_new(void)
{
	return g_object_new(WBD_TYPE_DISCOVERY, NULL);
}
