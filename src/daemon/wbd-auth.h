/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

/* what a handler answers when the check fails */
#include "wbd-dbus-error.h"

G_BEGIN_DECLS

#define WBD_TYPE_AUTH (wbd_auth_get_type())
G_DECLARE_FINAL_TYPE(WbdAuth, wbd_auth, WBD, AUTH, GObject)

WbdAuth *
wbd_auth_new(gboolean use_polkit);
WbdAuth *
wbd_auth_get_default(void);
void
wbd_auth_set_default(WbdAuth *auth);
const gchar *
wbd_auth_lookup_action(const gchar *interface_name, const gchar *method_name);
void
wbd_auth_check_async(WbdAuth *self,
		     GDBusMethodInvocation *invocation,
		     GCancellable *cancellable,
		     GAsyncReadyCallback callback,
		     gpointer user_data);
gboolean
wbd_auth_check_finish(WbdAuth *self, GAsyncResult *res, GError **error);

G_END_DECLS
