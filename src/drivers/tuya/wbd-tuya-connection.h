/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "wbd-tuya-codec.h"

G_BEGIN_DECLS

#define WBD_TYPE_TUYA_CONNECTION (wbd_tuya_connection_get_type())
G_DECLARE_FINAL_TYPE(WbdTuyaConnection, wbd_tuya_connection, WBD, TUYA_CONNECTION, GObject)

/**
 * WbdTuyaRequestKind:
 * @WBD_TUYA_REQUEST_REPLY: done at the first device frame of the reply command
 * @WBD_TUYA_REQUEST_DPS: done at the first frame of the reply command, or STATUS
 *   push, that carries DPs (empty ACKs do not count)
 * @WBD_TUYA_REQUEST_ACK: done at the ACK, or at a STATUS push carrying DPs (some
 *   devices skip the ACK)
 * @WBD_TUYA_REQUEST_NO_REPLY: done once written
 *
 * What completes a request. Replies are matched by command and order, never by
 * sequence number (3.5 devices use their own counter).
 */
typedef enum {
	WBD_TUYA_REQUEST_REPLY,
	WBD_TUYA_REQUEST_DPS,
	WBD_TUYA_REQUEST_ACK,
	WBD_TUYA_REQUEST_NO_REPLY,
} WbdTuyaRequestKind;

WbdTuyaConnection *
wbd_tuya_connection_new(const gchar *host,
			guint16 port,
			const gchar *device_id,
			const guint8 *local_key,
			WbdTuyaVersion version,
			const gchar *log_id);
void
wbd_tuya_connection_set_version(WbdTuyaConnection *self, WbdTuyaVersion version);
WbdTuyaVersion
wbd_tuya_connection_get_version(WbdTuyaConnection *self);
void
wbd_tuya_connection_set_timeout(WbdTuyaConnection *self, guint timeout_ms);
gboolean
wbd_tuya_connection_is_ready(WbdTuyaConnection *self);
gboolean
wbd_tuya_connection_acks_update_dps(WbdTuyaConnection *self);
void
wbd_tuya_connection_request_async(WbdTuyaConnection *self,
				  guint32 cmd,
				  const gchar *json,
				  WbdTuyaRequestKind kind,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data);
GVariant *
wbd_tuya_connection_request_finish(WbdTuyaConnection *self, GAsyncResult *res, GError **error);
void
wbd_tuya_connection_close(WbdTuyaConnection *self);

G_END_DECLS
