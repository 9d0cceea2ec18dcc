/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-device.h"

G_BEGIN_DECLS

#define WBD_TYPE_FAKE_DEVICE (wbd_fake_device_get_type())
G_DECLARE_FINAL_TYPE(WbdFakeDevice, wbd_fake_device, WBD, FAKE_DEVICE, WbdDevice)

/* the most children a fake device has */
#define WBD_FAKE_DEVICE_MAX_CHILDREN 16

/* scripting, for tests that run the daemon core in their own process */
WbdFakeDevice *
wbd_fake_device_lookup(const gchar *id);
void
wbd_fake_device_set_power(WbdFakeDevice *self, gdouble watts);
void
wbd_fake_device_set_fail(WbdFakeDevice *self, gboolean fail);
void
wbd_fake_device_set_hang(WbdFakeDevice *self, gboolean hang);
void
wbd_fake_device_set_latency(WbdFakeDevice *self, guint ms);
guint
wbd_fake_device_get_polls(WbdFakeDevice *self);
const GArray *
wbd_fake_device_get_poll_times(WbdFakeDevice *self);
guint
wbd_fake_device_get_switches(WbdFakeDevice *self);

/* for its outlets */
void
wbd_fake_device_switch_async(WbdFakeDevice *self,
			     guint index,
			     gboolean on,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data);
gboolean
wbd_fake_device_switch_finish(WbdFakeDevice *self, GAsyncResult *res, GError **error);

G_END_DECLS
