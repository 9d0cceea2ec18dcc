/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>

#include <wattbus-glib.h>

#include "wbd-fake-device.h"
#include "wbd-fake-outlet.h"
#include "wbd-log.h"

/*
 * A device that is all script: it answers a poll or a switch after `latency-ms`, fails
 * every operation with `fail=true`, never answers with `hang=true` (the core's time-out
 * ends the operation), reports `power` watts at 230 V on its meter and counts energy,
 * and has `children` outlets of its own, each metered. Tests in the daemon's process
 * change the script at run time and read back what the core asked of the device.
 */
struct _WbdFakeDevice {
	WbdDevice parent_instance;
	gdouble power;
	gboolean has_outlet;
	gboolean has_meter;
	guint n_children;
	guint latency_ms;
	gboolean fail;
	gboolean hang;

	gboolean on;
	gboolean child_on[WBD_FAKE_DEVICE_MAX_CHILDREN];
	gdouble energy; /* Wh */
	gint64 last_poll; /* monotonic µs */
	guint polls;
	guint switches;
	GArray *poll_times; /* gint64, monotonic µs of each poll's start */
};

G_DEFINE_TYPE(WbdFakeDevice, wbd_fake_device, WBD_TYPE_DEVICE)

#define FAKE_VOLTAGE 230.0
/* the poll times kept for tests */
#define FAKE_MAX_POLL_TIMES 4096

/* every fake device by id (weak), for tests that script them */
static GHashTable *fake_devices = NULL;

WbdFakeDevice *
wbd_fake_device_lookup(const gchar *id)
{
	if (fake_devices == NULL)
		return NULL;
	return g_hash_table_lookup(fake_devices, id);
}

static gboolean
fake_parse_bool(GHashTable *settings, const gchar *key, gboolean def, gboolean *out, GError **error)
{
	const gchar *value = g_hash_table_lookup(settings, key);
	if (value == NULL) {
		*out = def;
		return TRUE;
	}
	if (g_strcmp0(value, "true") == 0 || g_strcmp0(value, "false") == 0) {
		*out = g_strcmp0(value, "true") == 0;
		return TRUE;
	}
	g_set_error(error,
		    WATTBUS_ERROR,
		    WATTBUS_ERROR_INVALID_ARGUMENT,
		    "%s must be true or false",
		    key);
	return FALSE;
}

static gboolean
fake_parse_uint(GHashTable *settings,
		const gchar *key,
		guint64 max,
		guint64 *out,
		GError **error)
{
	const gchar *value = g_hash_table_lookup(settings, key);
	if (value == NULL)
		return TRUE;
	if (!g_ascii_string_to_unsigned(value, 10, 0, max, out, NULL)) {
		g_set_error(error,
			    WATTBUS_ERROR,
			    WATTBUS_ERROR_INVALID_ARGUMENT,
			    "%s must be a whole number from 0 to %" G_GUINT64_FORMAT,
			    key,
			    max);
		return FALSE;
	}
	return TRUE;
}

static gboolean
wbd_fake_device_configure(WbdDevice *device, GHashTable *settings, GError **error)
{
	WbdFakeDevice *self = WBD_FAKE_DEVICE(device);
	const gchar *power = g_hash_table_lookup(settings, "power");
	guint64 children = 0;
	guint64 latency = 0;
	WbdDeviceCaps caps = WBD_DEVICE_CAP_NONE;

	if (power != NULL) {
		gchar *end = NULL;
		gdouble v = g_ascii_strtod(power, &end);
		if (end == power || *end != '\0' || !isfinite(v) || fabs(v) > 1e6) {
			g_set_error(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_INVALID_ARGUMENT,
				    "power must be a number of watts from -1000000 to 1000000");
			return FALSE;
		}
		self->power = v;
	}
	if (!fake_parse_bool(settings, "outlet", TRUE, &self->has_outlet, error) ||
	    !fake_parse_bool(settings, "meter", TRUE, &self->has_meter, error) ||
	    !fake_parse_bool(settings, "fail", FALSE, &self->fail, error) ||
	    !fake_parse_bool(settings, "hang", FALSE, &self->hang, error) ||
	    !fake_parse_uint(settings, "children", WBD_FAKE_DEVICE_MAX_CHILDREN, &children, error) ||
	    !fake_parse_uint(settings, "latency-ms", 60000, &latency, error))
		return FALSE;
	self->n_children = (guint)children;
	self->latency_ms = (guint)latency;

	if (self->has_outlet)
		caps |= WBD_DEVICE_CAP_OUTLET;
	if (self->has_meter)
		caps |= WBD_DEVICE_CAP_ELECTRICITY_METER;
	wbd_device_set_capabilities(device, caps);
	wbd_device_set_kind(device, self->n_children > 0 ? "strip" : "plug");
	wbd_device_set_model(device, "Fake");
	wbd_device_set_serial_number(device, wbd_device_get_id(device));
	wbd_device_set_firmware_version(device, PACKAGE_VERSION);
	if (self->has_meter)
		wbd_device_set_measurement(device, "load");

	if (fake_devices == NULL)
		fake_devices = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_hash_table_replace(fake_devices, g_strdup(wbd_device_get_id(device)), self);
	return TRUE;
}

static void
wbd_fake_device_start(WbdDevice *device)
{
	WbdFakeDevice *self = WBD_FAKE_DEVICE(device);
	for (guint i = 0; i < self->n_children; i++) {
		g_autoptr(WbdDevice) child = wbd_fake_outlet_new(self, i);
		wbd_device_add_child(device, child);
	}
}

/* one scripted operation: answers after the latency, or when cancelled */
typedef struct {
	GSource *timer;
	GSource *cancel;
	gint op;	/* OP_POLL, or the outlet index (-1: the device itself) of a switch */
	gboolean on;
} FakeOp;

enum { OP_POLL = -2, OP_SELF = -1 };

static void
fake_op_free(FakeOp *op)
{
	if (op->timer != NULL) {
		g_source_destroy(op->timer);
		g_source_unref(op->timer);
	}
	if (op->cancel != NULL) {
		g_source_destroy(op->cancel);
		g_source_unref(op->cancel);
	}
	g_free(op);
}

static void
wbd_fake_device_report(WbdFakeDevice *self, gint64 now)
{
	WbdDevice *device = WBD_DEVICE(self);
	GPtrArray *children = wbd_device_get_children(device);
	gdouble power = self->has_outlet && !self->on ? 0.0 : self->power;

	if (self->last_poll != 0)
		self->energy += power * (gdouble)(now - self->last_poll) / G_USEC_PER_SEC / 3600.0;
	self->last_poll = now;
	if (self->has_outlet)
		wbd_device_set_on(device, self->on);
	if (self->has_meter) {
		WbdMeterReading reading;
		wbd_meter_reading_init(&reading);
		wbd_meter_reading_set(&reading, WBD_QUANTITY_POWER, power);
		wbd_meter_reading_set(&reading, WBD_QUANTITY_VOLTAGE, FAKE_VOLTAGE);
		wbd_meter_reading_set(&reading, WBD_QUANTITY_CURRENT, fabs(power) / FAKE_VOLTAGE);
		wbd_meter_reading_set(&reading, WBD_QUANTITY_ENERGY, round(self->energy * 1000) / 1000);
		wbd_device_set_meter_reading(device, &reading);
	}
	for (guint i = 0; children != NULL && i < children->len; i++) {
		WbdDevice *child = g_ptr_array_index(children, i);
		guint index = wbd_fake_outlet_get_index(WBD_FAKE_OUTLET(child));
		WbdMeterReading reading;
		gboolean on = index < WBD_FAKE_DEVICE_MAX_CHILDREN && self->child_on[index];

		wbd_device_set_on(child, on);
		wbd_meter_reading_init(&reading);
		wbd_meter_reading_set(&reading, WBD_QUANTITY_POWER, on ? self->power : 0.0);
		wbd_meter_reading_set(&reading, WBD_QUANTITY_VOLTAGE, FAKE_VOLTAGE);
		wbd_device_set_meter_reading(child, &reading);
		wbd_device_report_success(child);
	}
}

static gboolean
fake_op_done_cb(gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	WbdFakeDevice *self = g_task_get_source_object(task);
	FakeOp *op = g_task_get_task_data(task);

	if (g_task_return_error_if_cancelled(task))
		goto out;
	if (self->fail) {
		g_task_return_new_error(task,
					G_IO_ERROR,
					G_IO_ERROR_FAILED,
					"The fake device fails on purpose (fail=true)");
		goto out;
	}
	if (op->op == OP_SELF) {
		self->on = op->on;
	} else if (op->op >= 0 && op->op < WBD_FAKE_DEVICE_MAX_CHILDREN) {
		self->child_on[op->op] = op->on;
	}
	wbd_fake_device_report(self, g_get_monotonic_time());
	g_task_return_boolean(task, TRUE);
out:
	/* the task holds the op, which holds the sources: drop them from here on */
	g_object_unref(task);
	return G_SOURCE_REMOVE;
}

static gboolean
fake_op_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	return fake_op_done_cb(user_data);
}

static void
wbd_fake_device_run(WbdFakeDevice *self, GTask *task, gint what, gboolean on)
{
	FakeOp *op = g_new0(FakeOp, 1);
	GCancellable *cancellable = g_task_get_cancellable(task);

	op->op = what;
	op->on = on;
	g_task_set_task_data(task, op, (GDestroyNotify)fake_op_free);
	if (cancellable != NULL) {
		op->cancel = g_cancellable_source_new(cancellable);
		g_source_set_callback(op->cancel, G_SOURCE_FUNC(fake_op_cancelled_cb), task, NULL);
		g_source_attach(op->cancel, g_main_context_get_thread_default());
	}
	if (!self->hang) {
		op->timer = g_timeout_source_new(self->latency_ms);
		g_source_set_priority(op->timer, WBD_DEVICE_POLL_PRIORITY);
		g_source_set_callback(op->timer, fake_op_done_cb, task, NULL);
		g_source_attach(op->timer, g_main_context_get_thread_default());
	}
	/* a hung operation without a cancellable would never end: the core always gives one */
	g_return_if_fail(op->timer != NULL || op->cancel != NULL);
}

static void
wbd_fake_device_refresh_async(WbdDevice *device,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data)
{
	WbdFakeDevice *self = WBD_FAKE_DEVICE(device);
	GTask *task = g_task_new(device, cancellable, callback, user_data);
	gint64 now = g_get_monotonic_time();

	g_task_set_source_tag(task, wbd_fake_device_refresh_async);
	self->polls++;
	if (self->poll_times->len < FAKE_MAX_POLL_TIMES)
		g_array_append_val(self->poll_times, now);
	wbd_fake_device_run(self, task, OP_POLL, FALSE);
}

static gboolean
wbd_fake_device_finish(WbdDevice *device, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, device), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

static void
wbd_fake_device_set_on_async(WbdDevice *device,
			     gboolean on,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	wbd_fake_device_switch_async(WBD_FAKE_DEVICE(device),
				     G_MAXUINT,
				     on,
				     cancellable,
				     callback,
				     user_data);
}

/**
 * wbd_fake_device_switch_async:
 * @index: the outlet's index, or %G_MAXUINT for the device's own outlet
 *
 * Switches after the scripted latency and reports the new state before completing,
 * as a driver confirms a switch.
 */
void
wbd_fake_device_switch_async(WbdFakeDevice *self,
			     guint index,
			     gboolean on,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, wbd_fake_device_switch_async);
	self->switches++;
	if (index != G_MAXUINT && index >= self->n_children) {
		g_task_return_new_error(task,
					WATTBUS_ERROR,
					WATTBUS_ERROR_NOT_SUPPORTED,
					"The fake device has no outlet %u",
					index);
		g_object_unref(task);
		return;
	}
	wbd_fake_device_run(self, task, index == G_MAXUINT ? OP_SELF : (gint)index, on);
}

gboolean
wbd_fake_device_switch_finish(WbdFakeDevice *self, GAsyncResult *res, GError **error)
{
	return wbd_fake_device_finish(WBD_DEVICE(self), res, error);
}

void
wbd_fake_device_set_power(WbdFakeDevice *self, gdouble watts)
{
	g_return_if_fail(WBD_IS_FAKE_DEVICE(self));
	self->power = watts;
}

void
wbd_fake_device_set_fail(WbdFakeDevice *self, gboolean fail)
{
	g_return_if_fail(WBD_IS_FAKE_DEVICE(self));
	self->fail = fail;
}

void
wbd_fake_device_set_hang(WbdFakeDevice *self, gboolean hang)
{
	g_return_if_fail(WBD_IS_FAKE_DEVICE(self));
	self->hang = hang;
}

void
wbd_fake_device_set_latency(WbdFakeDevice *self, guint ms)
{
	g_return_if_fail(WBD_IS_FAKE_DEVICE(self));
	self->latency_ms = ms;
}

guint
wbd_fake_device_get_polls(WbdFakeDevice *self)
{
	g_return_val_if_fail(WBD_IS_FAKE_DEVICE(self), 0);
	return self->polls;
}

/* the monotonic µs at which each poll started (the first FAKE_MAX_POLL_TIMES) */
const GArray *
wbd_fake_device_get_poll_times(WbdFakeDevice *self)
{
	g_return_val_if_fail(WBD_IS_FAKE_DEVICE(self), NULL);
	return self->poll_times;
}

guint
wbd_fake_device_get_switches(WbdFakeDevice *self)
{
	g_return_val_if_fail(WBD_IS_FAKE_DEVICE(self), 0);
	return self->switches;
}

static void
wbd_fake_device_dispose(GObject *object)
{
	WbdFakeDevice *self = WBD_FAKE_DEVICE(object);
	if (fake_devices != NULL &&
	    g_hash_table_lookup(fake_devices, wbd_device_get_id(WBD_DEVICE(self))) == self)
		g_hash_table_remove(fake_devices, wbd_device_get_id(WBD_DEVICE(self)));
	G_OBJECT_CLASS(wbd_fake_device_parent_class)->dispose(object);
}

static void
wbd_fake_device_finalize(GObject *object)
{
	WbdFakeDevice *self = WBD_FAKE_DEVICE(object);
	g_array_unref(self->poll_times);
	G_OBJECT_CLASS(wbd_fake_device_parent_class)->finalize(object);
}

static void
wbd_fake_device_class_init(WbdFakeDeviceClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	WbdDeviceClass *device_class = WBD_DEVICE_CLASS(klass);

	object_class->dispose = wbd_fake_device_dispose;
	object_class->finalize = wbd_fake_device_finalize;
	device_class->configure = wbd_fake_device_configure;
	device_class->start = wbd_fake_device_start;
	device_class->refresh_async = wbd_fake_device_refresh_async;
	device_class->refresh_finish = wbd_fake_device_finish;
	device_class->set_on_async = wbd_fake_device_set_on_async;
	device_class->set_on_finish = wbd_fake_device_finish;
}

static void
wbd_fake_device_init(WbdFakeDevice *self)
{
	self->power = 100.0;
	self->poll_times = g_array_new(FALSE, FALSE, sizeof(gint64));
}
