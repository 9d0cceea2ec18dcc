/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <wattbus-glib.h>

#include "wbd-device-private.h"
#include "wbd-log.h"

/*
 * The operations of WbdDevice: polls with their time-out and back-off, switching, and
 * commands from outside D-Bus. Each runs through the driver's vfuncs with a cancellable
 * that fires on time-out, on the caller's cancellable, or when the device stops.
 */

/* polling */

typedef struct {
	GCancellable *cancellable;
	GCancellable *caller_cancellable;
	GCancellable *device_cancellable;
	gulong caller_handler;
	gulong device_handler;
	guint timeout_id;
	gboolean timed_out;
} OperationData;

static void
operation_data_free(OperationData *data)
{
	g_clear_handle_id(&data->timeout_id, g_source_remove);
	/*
	 * Else every operation leaves a handler (and a cancellable) on the device's. Not
	 * from inside a cancellation, where disconnecting would deadlock: a cancelled
	 * cancellable fires no more, so its handlers are only memory until it goes.
	 */
	if (data->caller_cancellable != NULL &&
	    !g_cancellable_is_cancelled(data->caller_cancellable))
		g_cancellable_disconnect(data->caller_cancellable, data->caller_handler);
	if (!g_cancellable_is_cancelled(data->device_cancellable))
		g_cancellable_disconnect(data->device_cancellable, data->device_handler);
	g_clear_object(&data->caller_cancellable);
	g_clear_object(&data->device_cancellable);
	g_clear_object(&data->cancellable);
	g_free(data);
}

static gboolean
operation_timeout_cb(gpointer user_data)
{
	OperationData *data = user_data;
	data->timeout_id = 0;
	data->timed_out = TRUE;
	g_cancellable_cancel(data->cancellable);
	return G_SOURCE_REMOVE;
}

/*
 * A "cancelled" handler is called with the cancellable that fired first: connecting
 * g_cancellable_cancel() itself would cancel that one again, not the operation's
 */
static void
operation_cancel_cb(GCancellable *fired, GCancellable *operation)
{
	g_cancellable_cancel(operation);
}

/* a cancellable that fires on timeout, on device stop, or on the caller's cancellable */
static OperationData *
operation_data_new(WbdDevice *self, GCancellable *cancellable)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	OperationData *data = g_new0(OperationData, 1);
	data->cancellable = g_cancellable_new();
	if (cancellable != NULL) {
		data->caller_cancellable = g_object_ref(cancellable);
		data->caller_handler = g_cancellable_connect(cancellable,
							     G_CALLBACK(operation_cancel_cb),
							     g_object_ref(data->cancellable),
							     g_object_unref);
	}
	data->device_cancellable = g_object_ref(priv->cancellable);
	data->device_handler = g_cancellable_connect(priv->cancellable,
						     G_CALLBACK(operation_cancel_cb),
						     g_object_ref(data->cancellable),
						     g_object_unref);
	data->timeout_id =
	    g_timeout_add_seconds(WBD_DEVICE_OPERATION_TIMEOUT_S, operation_timeout_cb, data);
	return data;
}

/* every error that leaves the base class is in the WATTBUS_ERROR domain */
static GError *
wbd_device_normalize_error(gboolean timed_out, GError *error)
{
	GError *result;
	if (timed_out)
		result = g_error_new(WATTBUS_ERROR,
				     WATTBUS_ERROR_TIMEOUT,
				     "The device did not answer within %u seconds",
				     (guint)WBD_DEVICE_OPERATION_TIMEOUT_S);
	else if (error->domain == WATTBUS_ERROR)
		return error;
	else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
		result = g_error_new(WATTBUS_ERROR,
				     WATTBUS_ERROR_TIMEOUT,
				     "The device did not answer in time");
	else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		result = g_error_new(WATTBUS_ERROR,
				     WATTBUS_ERROR_FAILED,
				     "The operation was cancelled");
	else if (error->domain == G_IO_ERROR || error->domain == G_RESOLVER_ERROR)
		result = g_error_new(WATTBUS_ERROR,
				     WATTBUS_ERROR_DEVICE_OFFLINE,
				     "The device is not reachable: %s",
				     error->message);
	else
		result = g_error_new(WATTBUS_ERROR, WATTBUS_ERROR_FAILED, "%s", error->message);
	g_error_free(error);
	return result;
}

/* an operation's end: the driver's result, a time-out named as such */
static void
wbd_device_operation_done(GTask *task, gboolean ok, GError *error)
{
	OperationData *op = g_task_get_task_data(task);

	if (!ok)
		g_task_return_error(task, wbd_device_normalize_error(op->timed_out, error));
	else
		g_task_return_boolean(task, TRUE);
	g_object_unref(task);
}

static void
wbd_device_refresh_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GError *error = NULL;
	gboolean ok = WBD_DEVICE_GET_CLASS(source)->refresh_finish(WBD_DEVICE(source), res, &error);
	wbd_device_operation_done(G_TASK(user_data), ok, error);
}

static void
wbd_device_refresh_parent_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	GError *error = NULL;
	if (!wbd_device_refresh_finish(WBD_DEVICE(source), res, &error))
		g_task_return_error(task, error);
	else
		g_task_return_boolean(task, TRUE);
}

/**
 * wbd_device_refresh_async:
 *
 * Polls the device once, through the driver, with a time-out. A child refreshes
 * through its parent.
 */
void
wbd_device_refresh_async(WbdDevice *self,
			 GCancellable *cancellable,
			 GAsyncReadyCallback callback,
			 gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	WbdDevice *parent = GET_PRIVATE(self)->parent;
	OperationData *op;

	g_task_set_source_tag(task, wbd_device_refresh_async);
	/* a child without a refresh of its own is polled with its parent */
	if (WBD_DEVICE_GET_CLASS(self)->refresh_async == NULL) {
		if (parent == NULL) {
			g_task_return_new_error(task,
						WATTBUS_ERROR,
						WATTBUS_ERROR_NOT_FOUND,
						"The device this one belongs to was removed");
			return;
		}
		wbd_device_refresh_async(parent,
					 cancellable,
					 wbd_device_refresh_parent_cb,
					 g_steal_pointer(&task));
		return;
	}
	op = operation_data_new(self, cancellable);
	g_task_set_task_data(task, op, (GDestroyNotify)operation_data_free);
	WBD_DEVICE_GET_CLASS(self)->refresh_async(self,
						  op->cancellable,
						  wbd_device_refresh_cb,
						  g_steal_pointer(&task));
}

gboolean
wbd_device_refresh_finish(WbdDevice *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/*
 * Polls do not go through wbd_device_refresh_async(): one GTask fewer; the cancellable
 * of a poll is the device's own, kept from one poll to the next, and its time-out is
 * the device's entry in the schedule of polls (below) while it polls, instead of a
 * new GCancellable, two signal handlers and a GSource each time.
 */

/* the poll's cancellable: fires on its time-out or when the device stops */
static void
wbd_device_drop_poll_cancellable(WbdDevicePrivate *priv)
{
	/* not while the device's cancellable is cancelled: its handlers fire no more */
	if (priv->poll_cancel_handler != 0 && !g_cancellable_is_cancelled(priv->cancellable))
		g_cancellable_disconnect(priv->cancellable, priv->poll_cancel_handler);
	priv->poll_cancel_handler = 0;
	g_clear_object(&priv->poll_cancellable);
}

void
wbd_device_clear_poll(WbdDevice *self)
{
	wbd_device_unschedule_poll(self);
	wbd_device_drop_poll_cancellable(GET_PRIVATE(self));
	g_clear_error(&GET_PRIVATE(self)->poll_error);
}

static void
wbd_device_poll_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	WbdDevice *self = WBD_DEVICE(source);
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) waiters = NULL;
	gboolean ok;

	wbd_device_unschedule_poll(self); /* the time-out */
	ok = WBD_DEVICE_GET_CLASS(self)->refresh_finish(self, res, &error);
	if (!ok)
		error = wbd_device_normalize_error(priv->poll_timed_out, g_steal_pointer(&error));
	priv->polling = FALSE;
	priv->poll_ended = g_get_monotonic_time();
	g_clear_error(&priv->poll_error);
	if (!ok)
		priv->poll_error = g_error_copy(error);
	waiters = g_steal_pointer(&priv->refresh_waiters);
	priv->refresh_waiters = g_ptr_array_new_with_free_func(g_object_unref);

	/* stopped while polling: nothing more to publish or schedule */
	if (g_cancellable_is_cancelled(priv->cancellable)) {
		for (guint i = 0; i < waiters->len; i++)
			g_task_return_new_error(g_ptr_array_index(waiters, i),
						WATTBUS_ERROR,
						WATTBUS_ERROR_NOT_FOUND,
						"The device was removed");
		g_object_unref(self);
		return;
	}

	if (ok) {
		wbd_device_report_success(self);
		priv->backoff_s = 0;
		wbd_device_schedule_poll(self, priv->poll_interval);
	} else {
		wbd_device_report_error(self, error);
		if (priv->backoff_s == 0)
			priv->backoff_s = MAX(priv->poll_interval, 1);
		else
			priv->backoff_s = MIN(priv->backoff_s * 2, WBD_DEVICE_MAX_BACKOFF_S);
		priv->backoff_s = MAX(priv->backoff_s, priv->poll_interval);
		wbd_dev_debug(self, "next try in %u s", priv->backoff_s);
		wbd_device_schedule_poll(self, priv->backoff_s);
	}
	for (guint i = 0; i < waiters->len; i++) {
		GTask *waiter = g_ptr_array_index(waiters, i);
		if (ok)
			g_task_return_boolean(waiter, TRUE);
		else
			g_task_return_error(waiter, g_error_copy(error));
	}
	g_object_unref(self);
}

static void
wbd_device_schedule_at(WbdDevice *self, gint64 due);

static void
wbd_device_poll(WbdDevice *self)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	if (priv->polling || g_cancellable_is_cancelled(priv->cancellable))
		return;
	priv->polling = TRUE;
	priv->poll_started = g_get_monotonic_time();
	priv->poll_planned = 0; /* the schedule's dispatch sets it after this */
	g_clear_handle_id(&priv->poll_id, g_source_remove);
	wbd_device_unschedule_poll(self);

	/* kept while nothing cancelled it (a time-out does) */
	if (priv->poll_cancellable == NULL || g_cancellable_is_cancelled(priv->poll_cancellable)) {
		wbd_device_drop_poll_cancellable(priv);
		priv->poll_cancellable = g_cancellable_new();
		priv->poll_cancel_handler =
		    g_cancellable_connect(priv->cancellable,
					  G_CALLBACK(operation_cancel_cb),
					  g_object_ref(priv->poll_cancellable),
					  g_object_unref);
	}
	priv->poll_timed_out = FALSE;
	wbd_device_schedule_at(self,
			       priv->poll_started +
				   (gint64)WBD_DEVICE_OPERATION_TIMEOUT_S * G_USEC_PER_SEC);
	WBD_DEVICE_GET_CLASS(self)->refresh_async(self,
						  priv->poll_cancellable,
						  wbd_device_poll_done_cb,
						  g_object_ref(self));
}

static gboolean
wbd_device_poll_cb(gpointer user_data)
{
	WbdDevice *self = WBD_DEVICE(user_data);
	GET_PRIVATE(self)->poll_id = 0;
	wbd_device_poll(self);
	GET_PRIVATE(self)->poll_planned = 0;
	return G_SOURCE_REMOVE;
}

/* the one schedule of the process's polls and polls' time-outs (wbd-poll-schedule.c) */

/* @entry is due: its poll's time-out, or its next poll */
static void
wbd_device_poll_due_cb(WbdPollEntry *entry, gpointer user_data)
{
	WbdDevice *device = entry->data;
	WbdDevicePrivate *priv = GET_PRIVATE(device);

	if (priv->polling) {
		priv->poll_timed_out = TRUE;
		g_cancellable_cancel(priv->poll_cancellable);
	} else {
		gint64 planned = entry->due;
		wbd_device_poll(device);
		priv->poll_planned = planned;
	}
}

static WbdPollSchedule *
wbd_device_get_schedule(void)
{
	static WbdPollSchedule *schedule = NULL;
	if (schedule == NULL)
		schedule = wbd_poll_schedule_new(NULL,
						 "[wattbus] polls",
						 WBD_DEVICE_POLL_PRIORITY,
						 wbd_device_poll_due_cb,
						 NULL);
	return schedule;
}

static void
wbd_device_schedule_at(WbdDevice *self, gint64 due)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	priv->poll_entry.data = self;
	wbd_poll_schedule_add(wbd_device_get_schedule(), &priv->poll_entry, due);
}

void
wbd_device_unschedule_poll(WbdDevice *self)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	g_clear_handle_id(&priv->poll_id, g_source_remove);
	if (priv->poll_entry.iter != NULL)
		wbd_poll_schedule_remove(wbd_device_get_schedule(), &priv->poll_entry);
}

void
wbd_device_schedule_poll(WbdDevice *self, guint seconds)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	wbd_device_unschedule_poll(self);
	if (priv->parent != NULL || g_cancellable_is_cancelled(priv->cancellable))
		return;
	if (seconds == 0) {
		priv->poll_id = g_idle_add(wbd_device_poll_cb, self);
	} else {
		/* in the device's slot of the second (wbd_poll_schedule_next_due()) */
		WbdPollSchedule *schedule = wbd_device_get_schedule();
		wbd_device_schedule_at(self,
				       wbd_poll_schedule_next_due(
					   wbd_poll_schedule_get_length(schedule) + 1,
					   priv->id,
					   seconds,
					   priv->poll_planned,
					   priv->poll_started,
					   g_get_monotonic_time()));
	}
}

/*
 * A poll that the caller waits for (Refresh): it joins a poll already under way, and
 * one asked for within WBD_DEVICE_REFRESH_COALESCE_US of the last poll's end is
 * answered at once with that poll's outcome (the values are that fresh), so that no
 * number of callers makes the device see more than about one poll a second. A poll
 * follows then, WBD_DEVICE_REFRESH_COALESCE_US after the last one (unless one is due
 * sooner), so that what the caller changed on the device is still read soon.
 */
void
wbd_device_poll_now(WbdDevice *self, GTask *waiter)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	gint64 follow_up = priv->poll_ended + WBD_DEVICE_REFRESH_COALESCE_US;

	if (priv->parent != NULL) {
		wbd_device_poll_now(priv->parent, waiter);
		return;
	}
	if (g_cancellable_is_cancelled(priv->cancellable)) {
		g_task_return_new_error(waiter,
					WATTBUS_ERROR,
					WATTBUS_ERROR_NOT_FOUND,
					"The device was removed");
		g_object_unref(waiter);
		return;
	}
	if (!priv->polling && priv->poll_ended != 0 && g_get_monotonic_time() < follow_up) {
		if (priv->poll_id == 0 &&
		    (priv->poll_entry.iter == NULL || priv->poll_entry.due > follow_up)) {
			wbd_device_unschedule_poll(self);
			wbd_device_schedule_at(self, follow_up);
		}
		if (priv->poll_error != NULL)
			g_task_return_error(waiter, g_error_copy(priv->poll_error));
		else
			g_task_return_boolean(waiter, TRUE);
		g_object_unref(waiter);
		return;
	}
	g_ptr_array_add(priv->refresh_waiters, waiter);
	wbd_device_poll(self);
}

static void
wbd_device_set_on_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GError *error = NULL;
	gboolean ok = WBD_DEVICE_GET_CLASS(source)->set_on_finish(WBD_DEVICE(source), res, &error);
	wbd_device_operation_done(G_TASK(user_data), ok, error);
}

void
wbd_device_set_on_async(WbdDevice *self,
			gboolean on,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	OperationData *op;

	g_task_set_source_tag(task, wbd_device_set_on_async);
	if (WBD_DEVICE_GET_CLASS(self)->set_on_async == NULL ||
	    !(GET_PRIVATE(self)->caps & WBD_DEVICE_CAP_OUTLET)) {
		g_task_return_new_error(task,
					WATTBUS_ERROR,
					WATTBUS_ERROR_NOT_SUPPORTED,
					"This device has no outlet to switch");
		return;
	}
	op = operation_data_new(self, cancellable);
	g_task_set_task_data(task, op, (GDestroyNotify)operation_data_free);
	WBD_DEVICE_GET_CLASS(self)->set_on_async(self,
						 on,
						 op->cancellable,
						 wbd_device_set_on_cb,
						 g_steal_pointer(&task));
}

gboolean
wbd_device_set_on_finish(WbdDevice *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* commands from outside D-Bus (exporters) */

static void
wbd_device_real_command_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	GError *error = NULL;

	if (!wbd_device_set_on_finish(WBD_DEVICE(source), res, &error))
		g_task_return_error(task, error);
	else
		g_task_return_boolean(task, TRUE);
}

/* the default: the outlet's On, through the same path as TurnOn/TurnOff */
void
wbd_device_real_command_async(WbdDevice *self,
			      const gchar *property,
			      GVariant *value,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);

	g_task_set_source_tag(task, wbd_device_real_command_async);
	if (!g_str_equal(property, "On")) {
		g_task_return_new_error(task,
					WATTBUS_ERROR,
					WATTBUS_ERROR_NOT_SUPPORTED,
					"This device has no writable property %s",
					property);
		return;
	}
	if (!g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN)) {
		g_task_return_new_error(task,
					WATTBUS_ERROR,
					WATTBUS_ERROR_INVALID_ARGUMENT,
					"On takes a boolean");
		return;
	}
	wbd_device_set_on_async(self,
				g_variant_get_boolean(value),
				cancellable,
				wbd_device_real_command_cb,
				g_steal_pointer(&task));
}

gboolean
wbd_device_real_command_finish(WbdDevice *self, GAsyncResult *res, GError **error)
{
	return g_task_propagate_boolean(G_TASK(res), error);
}

static void
wbd_device_command_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GError *error = NULL;
	gboolean ok = WBD_DEVICE_GET_CLASS(source)->command_finish(WBD_DEVICE(source), res, &error);
	wbd_device_operation_done(G_TASK(user_data), ok, error);
}

/**
 * wbd_device_command_async:
 * @property: a writable D-Bus property of the device, e.g. `On` or `Valve`
 * @value: its new value, of the property's D-Bus type (`On`: a boolean)
 *
 * Sets @property on the device through the driver, with the checks and the time-out
 * of the D-Bus method that sets it, but without polkit: the caller (an exporter with
 * commands enabled in its configuration) is the authorization. Completes once the
 * device acknowledged; errors are in %WATTBUS_ERROR (%WATTBUS_ERROR_NOT_SUPPORTED,
 * %WATTBUS_ERROR_INVALID_ARGUMENT, %WATTBUS_ERROR_DEVICE_OFFLINE,
 * %WATTBUS_ERROR_TIMEOUT, ...).
 */
void
wbd_device_command_async(WbdDevice *self,
			 const gchar *property,
			 GVariant *value,
			 GCancellable *cancellable,
			 GAsyncReadyCallback callback,
			 gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	g_autoptr(GVariant) owned = g_variant_ref_sink(value);
	OperationData *op = operation_data_new(self, cancellable);

	g_task_set_source_tag(task, wbd_device_command_async);
	g_task_set_task_data(task, op, (GDestroyNotify)operation_data_free);
	WBD_DEVICE_GET_CLASS(self)->command_async(self,
						  property,
						  owned,
						  op->cancellable,
						  wbd_device_command_cb,
						  g_steal_pointer(&task));
}

gboolean
wbd_device_command_finish(WbdDevice *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}
