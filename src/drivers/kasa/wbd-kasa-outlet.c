/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "wbd-kasa-outlet.h"

/*
 * One socket of a Kasa strip. The strip polls it (the core refreshes the strip for it);
 * switching goes through the strip's connection with the outlet's id in the request's
 * "context". The driver is the strip's.
 */
struct _WbdKasaOutlet {
	WbdDevice parent_instance;
	gchar *child_id;
	guint index;
};

G_DEFINE_TYPE(WbdKasaOutlet, wbd_kasa_outlet, WBD_TYPE_DEVICE)

static gboolean
wbd_kasa_outlet_finish(WbdDevice *device, GAsyncResult *res, GError **error)
{
	return g_task_propagate_boolean(G_TASK(res), error);
}

static void
wbd_kasa_outlet_switch_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	GError *error = NULL;
	if (!wbd_kasa_device_switch_finish(WBD_KASA_DEVICE(source), res, &error))
		g_task_return_error(task, error);
	else
		g_task_return_boolean(task, TRUE);
}

static void
wbd_kasa_outlet_set_on_async(WbdDevice *device,
			     gboolean on,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	WbdKasaOutlet *self = WBD_KASA_OUTLET(device);
	GTask *task = g_task_new(device, cancellable, callback, user_data);
	WbdDevice *strip = wbd_device_get_parent(device);
	if (strip == NULL) {
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CLOSED, "The strip is gone");
		g_object_unref(task);
		return;
	}
	/* switch this outlet alone: a strip-wide command switches only the first on some models */
	wbd_kasa_device_switch_async(WBD_KASA_DEVICE(strip),
				     device,
				     self->child_id,
				     on,
				     cancellable,
				     wbd_kasa_outlet_switch_cb,
				     task);
}

static void
wbd_kasa_outlet_finalize(GObject *object)
{
	WbdKasaOutlet *self = WBD_KASA_OUTLET(object);
	g_free(self->child_id);
	G_OBJECT_CLASS(wbd_kasa_outlet_parent_class)->finalize(object);
}

static void
wbd_kasa_outlet_class_init(WbdKasaOutletClass *klass)
{
	WbdDeviceClass *device_class = WBD_DEVICE_CLASS(klass);
	G_OBJECT_CLASS(klass)->finalize = wbd_kasa_outlet_finalize;
	device_class->set_on_async = wbd_kasa_outlet_set_on_async;
	device_class->set_on_finish = wbd_kasa_outlet_finish;
}

static void
wbd_kasa_outlet_init(WbdKasaOutlet *self)
{
}

WbdDevice *
wbd_kasa_outlet_new(WbdKasaDevice *strip, const gchar *id, const gchar *child_id, guint index)
{
	/* the driver comes from the strip */
	WbdKasaOutlet *self =
	    g_object_new(WBD_TYPE_KASA_OUTLET, "id", id, "parent", strip, NULL);
	self->child_id = g_strdup(child_id);
	self->index = index;
	return WBD_DEVICE(self);
}
