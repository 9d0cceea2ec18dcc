/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "fuzz-envoy.h"
#include "wbd-envoy-data.h"
#include "wbd-envoy-stream.h"

/*
 * The /stream/meter reader: the input is what the gateway sends, cut into pieces whose
 * sizes come from the input's first byte. Every `data:` line must come out once, as a
 * plain line-by-line reading of the whole input (done here) finds it, whatever the
 * cuts; each event then goes through the mapping the driver does.
 */

typedef struct {
	GPtrArray *lines;
} Collected;

static void
collect_cb(const gchar *data, gsize len, gpointer user_data)
{
	Collected *c = user_data;
	WbdEnvoyStreamEvent event;

	WBF_ASSERT(len < WBD_ENVOY_STREAM_MAX_LINE);
	g_ptr_array_add(c->lines, g_strndup(data, len));
	if (!wbd_envoy_parse_stream_event(data, len, &event)) {
		for (guint m = 0; m < WBD_ENVOY_STREAM_LAST; m++)
			WBF_ASSERT(!event.present[m]);
	}
	for (guint m = 0; m < WBD_ENVOY_STREAM_LAST; m++) {
		for (guint phases = 1; phases <= 3; phases++) {
			WbdMeterReading reading;
			wbd_envoy_stream_event_get_reading(&event, m, phases, &reading);
			wbf_envoy_check_reading(&reading, phases);
			WBF_ASSERT(event.present[m] || reading.measured == 0);
			WBF_ASSERT(!wbd_meter_reading_has(&reading, WBD_QUANTITY_ENERGY));
		}
	}
}

/* the lines a reader of the whole text finds: the reference */
static GPtrArray *
reference_lines(const guint8 *data, gsize size)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	gsize start = 0;
	for (gsize i = 0; i < size; i++) {
		gsize len;
		const gchar *line;
		if (data[i] != '\n')
			continue;
		line = (const gchar *)data + start;
		len = i - start;
		start = i + 1;
		if (len > WBD_ENVOY_STREAM_MAX_LINE)
			continue;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len < 5 || memcmp(line, "data:", 5) != 0)
			continue;
		line += 5;
		len -= 5;
		if (len > 0 && line[0] == ' ') {
			line++;
			len--;
		}
		g_ptr_array_add(out, g_strndup(line, len));
	}
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(WbdEnvoyStreamParser) parser = wbd_envoy_stream_parser_new();
	g_autoptr(GPtrArray) expected = NULL;
	Collected c = {.lines = g_ptr_array_new_with_free_func(g_free)};
	gsize piece;
	gsize pos = 1;
	guint n = 0;

	if (size < 1 || size > 256 * 1024)
		goto out;
	piece = (gsize)data[0] * 7 + 1;
	while (pos < size) {
		gsize len = MIN(piece, size - pos);
		n += wbd_envoy_stream_parser_feed(parser, data + pos, len, collect_cb, &c);
		pos += len;
	}
	WBF_ASSERT(n == c.lines->len);
	expected = reference_lines(data + 1, size - 1);
	WBF_ASSERT(expected->len == c.lines->len);
	for (guint i = 0; i < expected->len; i++) {
		const gchar *a = g_ptr_array_index(expected, i);
		const gchar *b = g_ptr_array_index(c.lines, i);
		/* strndup stops at a NUL in both the same way */
		WBF_ASSERT(strcmp(a, b) == 0);
	}
out:
	g_ptr_array_unref(c.lines);
	return 0;
}
