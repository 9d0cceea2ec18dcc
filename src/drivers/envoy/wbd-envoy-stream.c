/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "wbd-envoy-stream.h"

/*
 * The framing of /stream/meter (spec §5): server-sent events, each a line
 * `data: {json}` and an empty line. Bytes arrive in arbitrary pieces, so a line is
 * gathered until its newline; lines other than `data:` (comments, other fields, the
 * empty separators) are skipped. The buffer never grows past one maximal line.
 */
struct _WbdEnvoyStreamParser {
	GByteArray *line;
	gboolean discarding; /* inside a line that was too long */
	guint dropped;
};

WbdEnvoyStreamParser *
wbd_envoy_stream_parser_new(void)
{
	WbdEnvoyStreamParser *parser = g_new0(WbdEnvoyStreamParser, 1);
	parser->line = g_byte_array_sized_new(2048);
	return parser;
}

void
wbd_envoy_stream_parser_free(WbdEnvoyStreamParser *parser)
{
	if (parser == NULL)
		return;
	g_byte_array_unref(parser->line);
	g_free(parser);
}

/* for a new connection: a partial line of the old one is not continued */
void
wbd_envoy_stream_parser_reset(WbdEnvoyStreamParser *parser)
{
	g_byte_array_set_size(parser->line, 0);
	parser->discarding = FALSE;
}

/* lines that were too long, since the parser was made */
guint
wbd_envoy_stream_parser_get_dropped(WbdEnvoyStreamParser *parser)
{
	return parser->dropped;
}

static gboolean
wbd_envoy_stream_parser_dispatch(WbdEnvoyStreamParser *parser,
				 WbdEnvoyStreamFunc func,
				 gpointer user_data)
{
	const gchar *line = (const gchar *)parser->line->data;
	gsize len = parser->line->len;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len < 5 || memcmp(line, "data:", 5) != 0)
		return FALSE;
	line += 5;
	len -= 5;
	if (len > 0 && line[0] == ' ') {
		line++;
		len--;
	}
	func(line, len, user_data);
	return TRUE;
}

/**
 * wbd_envoy_stream_parser_feed:
 * @data: the next bytes of the stream
 * @func: called for each complete `data:` line in @data
 *
 * Returns: the number of times @func was called
 */
guint
wbd_envoy_stream_parser_feed(WbdEnvoyStreamParser *parser,
			     const guint8 *data,
			     gsize len,
			     WbdEnvoyStreamFunc func,
			     gpointer user_data)
{
	guint n = 0;

	while (len > 0) {
		const guint8 *nl = memchr(data, '\n', len);
		gsize chunk = nl != NULL ? (gsize)(nl - data) : len;

		if (!parser->discarding) {
			if (parser->line->len + chunk > WBD_ENVOY_STREAM_MAX_LINE) {
				parser->discarding = TRUE;
				parser->dropped++;
				g_byte_array_set_size(parser->line, 0);
			} else {
				g_byte_array_append(parser->line, data, (guint)chunk);
			}
		}
		if (nl == NULL)
			break;
		if (!parser->discarding &&
		    wbd_envoy_stream_parser_dispatch(parser, func, user_data))
			n++;
		parser->discarding = FALSE;
		g_byte_array_set_size(parser->line, 0);
		data = nl + 1;
		len -= chunk + 1;
	}
	return n;
}
