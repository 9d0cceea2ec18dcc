/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "wbd-tuya-crypto.h"

G_BEGIN_DECLS

#define WBD_TUYA_DEFAULT_PORT 6668
/* real frames stay under 1.5 KiB; a larger length field is a desynchronised stream */
#define WBD_TUYA_MAX_FRAME 4096
#define WBD_TUYA_VERSION_HEADER_SIZE 15
#define WBD_TUYA_NONCE_SIZE 16
#define WBD_TUYA_MAX_DPS 255

typedef enum {
	WBD_TUYA_VERSION_UNKNOWN = 0,
	WBD_TUYA_VERSION_3_1 = 31,
	WBD_TUYA_VERSION_3_2 = 32,
	WBD_TUYA_VERSION_3_3 = 33,
	WBD_TUYA_VERSION_3_4 = 34,
	WBD_TUYA_VERSION_3_5 = 35,
} WbdTuyaVersion;

/* command numbers (shared/specs/tuya-local.md §2) */
typedef enum {
	WBD_TUYA_CMD_UDP = 0x00,
	WBD_TUYA_CMD_SESS_KEY_NEG_START = 0x03,
	WBD_TUYA_CMD_SESS_KEY_NEG_RESP = 0x04,
	WBD_TUYA_CMD_SESS_KEY_NEG_FINISH = 0x05,
	WBD_TUYA_CMD_CONTROL = 0x07,
	WBD_TUYA_CMD_STATUS = 0x08,
	WBD_TUYA_CMD_HEART_BEAT = 0x09,
	WBD_TUYA_CMD_DP_QUERY = 0x0a,
	WBD_TUYA_CMD_CONTROL_NEW = 0x0d,
	WBD_TUYA_CMD_DP_QUERY_NEW = 0x10,
	WBD_TUYA_CMD_UPDATEDPS = 0x12,
	WBD_TUYA_CMD_UDP_NEW = 0x13,
	WBD_TUYA_CMD_BOARDCAST_LPV34 = 0x23,
	WBD_TUYA_CMD_REQ_DEVINFO = 0x25,
	WBD_TUYA_CMD_LAN_EXT_STREAM = 0x40,
} WbdTuyaCommand;

typedef enum {
	WBD_TUYA_SCAN_NEED_MORE,
	WBD_TUYA_SCAN_FRAME,
	WBD_TUYA_SCAN_BAD_LENGTH,
} WbdTuyaScan;

/**
 * WbdTuyaFrame:
 * @seq: the sequence number
 * @cmd: the command
 * @has_retcode: whether the frame carried a return code
 * @retcode: the return code (0 = success)
 * @prefix_6699: the frame was a 3.5 (6699) frame
 * @payload: the plaintext: decrypted, version/source header and return code removed
 *
 * One decoded frame.
 */
typedef struct {
	guint32 seq;
	guint32 cmd;
	gboolean has_retcode;
	guint32 retcode;
	gboolean prefix_6699;
	GBytes *payload;
} WbdTuyaFrame;

void
wbd_tuya_frame_clear(WbdTuyaFrame *frame);

/**
 * WbdTuyaEncode:
 * @version: the protocol version
 * @key: the 16-byte key (local key, session key or UDP key); unused for 3.1 reads
 * @seq: the sequence number
 * @cmd: the command
 * @retcode: the return code to add (device frames, for tests), or -1 for none
 * @no_header: never add the version header (UDP datagrams)
 * @iv: 3.5 only: the 12-byte IV, or %NULL for a random one (always, outside tests)
 */
typedef struct {
	WbdTuyaVersion version;
	const guint8 *key;
	guint32 seq;
	guint32 cmd;
	gint64 retcode;
	gboolean no_header;
	const guint8 *iv;
} WbdTuyaEncode;

WbdTuyaVersion
wbd_tuya_version_from_string(const gchar *str);
const gchar *
wbd_tuya_version_to_string(WbdTuyaVersion version);
gboolean
wbd_tuya_command_has_header(guint32 cmd);

WbdTuyaScan
wbd_tuya_frame_scan(const guint8 *data, gsize len, gsize *start, gsize *frame_len);
gboolean
wbd_tuya_frame_decode(const guint8 *data,
		      gsize len,
		      WbdTuyaVersion version,
		      const guint8 *key,
		      gboolean from_device,
		      WbdTuyaFrame *frame,
		      GError **error);
GBytes *
wbd_tuya_frame_encode(const WbdTuyaEncode *opts, const guint8 *payload, gsize len);

/* payloads */
GVariant *
wbd_tuya_payload_parse(const guint8 *plain, gsize len, gboolean *has_dps, GError **error);
gint64
wbd_tuya_payload_get_time(const guint8 *plain, gsize len);
gint64
wbd_tuya_payload_time_of(JsonObject *root);
GVariant *
wbd_tuya_payload_parse_with_meta(const guint8 *plain,
				 gsize len,
				 gboolean *has_dps,
				 GVariant **meta,
				 GError **error);
gchar *
wbd_tuya_payload_to_text(const guint8 *plain, gsize len);
JsonNode *
wbd_tuya_json_parse(const guint8 *text, gsize len, GError **error);
gint
wbd_tuya_compare_dp_ids(gconstpointer a, gconstpointer b);
void
wbd_tuya_json_append_string(GString *str, const gchar *value);
gboolean
wbd_tuya_json_append_value(GString *str, GVariant *value);
gboolean
wbd_tuya_json_append_dps(GString *str, GVariant *dps);

/* requests */
guint32
wbd_tuya_query_command(WbdTuyaVersion version);
guint32
wbd_tuya_control_command(WbdTuyaVersion version);
gchar *
wbd_tuya_build_query(WbdTuyaVersion version, const gchar *dev_id, gint64 t);
gchar *
wbd_tuya_build_control(WbdTuyaVersion version, const gchar *dev_id, gint64 t, GVariant *dps);
gchar *
wbd_tuya_build_device22_query(const gchar *dev_id, gint64 t, const gchar *const *ids);
gchar *
wbd_tuya_build_heartbeat(const gchar *dev_id);
gchar *
wbd_tuya_build_update_dps(const guint *ids, guint n_ids);

/* the 3.4/3.5 session-key handshake */
void
wbd_tuya_session_key(WbdTuyaVersion version,
		     const guint8 *local_key,
		     const guint8 *client_nonce,
		     const guint8 *device_nonce,
		     guint8 *session_key);
gboolean
wbd_tuya_check_session_response(const guint8 *local_key,
				const guint8 *client_nonce,
				GBytes *payload,
				guint8 *device_nonce,
				GError **error);

/* UDP discovery */
extern const guint8 wbd_tuya_udp_key[WBD_TUYA_KEY_SIZE];

G_END_DECLS
