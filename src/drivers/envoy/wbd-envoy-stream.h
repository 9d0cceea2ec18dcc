/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* an event is about 1.5 KiB; a longer line is dropped, not buffered */
#define WBD_ENVOY_STREAM_MAX_LINE (16 * 1024)

/* called with the payload of each `data:` line, without the prefix or line end */
typedef void (*WbdEnvoyStreamFunc)(const gchar *data, gsize len, gpointer user_data);

typedef struct _WbdEnvoyStreamParser WbdEnvoyStreamParser;

WbdEnvoyStreamParser *wbd_envoy_stream_parser_new(void);
void wbd_envoy_stream_parser_free(WbdEnvoyStreamParser *parser);
void wbd_envoy_stream_parser_reset(WbdEnvoyStreamParser *parser);
guint wbd_envoy_stream_parser_feed(WbdEnvoyStreamParser *parser,
				   const guint8 *data,
				   gsize len,
				   WbdEnvoyStreamFunc func,
				   gpointer user_data);
guint wbd_envoy_stream_parser_get_dropped(WbdEnvoyStreamParser *parser);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(WbdEnvoyStreamParser, wbd_envoy_stream_parser_free)

G_END_DECLS
