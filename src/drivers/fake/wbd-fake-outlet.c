/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "wbd-fake-outlet.h"

/* One outlet of a fake strip: its parent polls it (the core chains its refresh to the
 * parent's) and switches it. */
struct _WbdFakeOutlet {
	WbdDevice parent_instance;
	guint index;
};

G_DEFINE_TYPE(WbdFakeOutlet, wbd_fake_outlet, WBD_TYPE_DEVICE)

static void
wbd_fake_outlet_switch_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	GError *error = NULL;
	if (!wbd_fake_device_switch_finish(WBD_FAKE_DEVICE(source), res, &error))
		g_task_return_error(task, error);
	else
		g_task_return_boolean(task, TRUE);
}

static WbdFakeDevice *
wbd_fake_outlet_get_strip(WbdDevice *device, GTask *task)
{
	WbdDevice *strip = wbd_device_get_parent(device);
	if (strip == NULL) {
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CLOSED, "The strip is gone");
		g_object_unref(task);
		return NULL;
	}
	return WBD_FAKE_DEVICE(strip);
}

static void
wbd_fake_outlet_set_on_async(WbdDevice *device,
			     gboolean on,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	WbdFakeOutlet *self = WBD_FAKE_OUTLET(device);
	GTask *task = g_task_new(device, cancellable, callback, user_data);
	WbdFakeDevice *strip = wbd_fake_outlet_get_strip(device, task);
	if (strip != NULL)
		wbd_fake_device_switch_async(strip,
					     self->index,
					     on,
					     cancellable,
					     wbd_fake_outlet_switch_cb,
					     task);
}

static gboolean
wbd_fake_outlet_finish(WbdDevice *device, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, device), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

static void
wbd_fake_outlet_class_init(WbdFakeOutletClass *klass)
{
	WbdDeviceClass *device_class = WBD_DEVICE_CLASS(klass);
	device_class->set_on_async = wbd_fake_outlet_set_on_async;
	device_class->set_on_finish = wbd_fake_outlet_finish;
}

static void
wbd_fake_outlet_init(WbdFakeOutlet *self)
{
}

guint
wbd_fake_outlet_get_index(WbdFakeOutlet *self)
{
	g_return_val_if_fail(WBD_IS_FAKE_OUTLET(self), G_MAXUINT);
	return self->index;
}

/* the driver comes from the parent (WbdDevice): a child names only its id and parent */
WbdDevice *
wbd_fake_outlet_new(WbdFakeDevice *parent, guint index)
{
	g_autofree gchar *id =
	    g_strdup_printf("%s_%u", wbd_device_get_id(WBD_DEVICE(parent)), index + 1);
	WbdFakeOutlet *self = g_object_new(WBD_TYPE_FAKE_OUTLET, "id", id, "parent", parent, NULL);
	self->index = index;
	wbd_device_set_capabilities(WBD_DEVICE(self),
				    WBD_DEVICE_CAP_OUTLET | WBD_DEVICE_CAP_ELECTRICITY_METER);
	wbd_device_set_kind(WBD_DEVICE(self), "outlet");
	return WBD_DEVICE(self);
}
