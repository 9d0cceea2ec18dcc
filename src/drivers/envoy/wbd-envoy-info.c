/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-envoy-info.h"

/* longer values are not what a gateway sends */
#define WBD_ENVOY_INFO_MAX_VALUE 64

typedef struct {
	WbdEnvoyInfo *info;
	GString *text;
	guint depth;
	gboolean root_ok;
	gboolean in_device; /* inside envoy_info/device */
	gchar *element;	    /* the element whose text is gathered, or NULL */
} ParseState;

static void
info_start_element(GMarkupParseContext *context,
		   const gchar *name,
		   const gchar **attribute_names,
		   const gchar **attribute_values,
		   gpointer user_data,
		   GError **error)
{
	ParseState *state = user_data;

	state->depth++;
	if (state->depth > 8) {
		g_set_error_literal(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT, "deep");
		return;
	}
	g_clear_pointer(&state->element, g_free);
	g_string_truncate(state->text, 0);
	if (state->depth == 1) {
		state->root_ok = g_strcmp0(name, "envoy_info") == 0;
		return;
	}
	if (state->depth == 2 && g_strcmp0(name, "device") == 0)
		state->in_device = TRUE;
	if ((state->depth == 3 && state->in_device) ||
	    (state->depth == 2 && g_strcmp0(name, "web-tokens") == 0))
		state->element = g_strdup(name);
}

static void
info_set(gchar **field, GString *text)
{
	g_autofree gchar *value = g_strstrip(g_strdup(text->str));
	if (value[0] == '\0' || strlen(value) > WBD_ENVOY_INFO_MAX_VALUE ||
	    !g_utf8_validate(value, -1, NULL))
		return;
	g_free(*field);
	*field = g_steal_pointer(&value);
}

static void
info_end_element(GMarkupParseContext *context,
		 const gchar *name,
		 gpointer user_data,
		 GError **error)
{
	ParseState *state = user_data;
	WbdEnvoyInfo *info = state->info;

	if (state->element != NULL && g_strcmp0(state->element, name) == 0) {
		g_autofree gchar *value = g_strstrip(g_strdup(state->text->str));
		if (g_strcmp0(name, "sn") == 0)
			info_set(&info->serial, state->text);
		else if (g_strcmp0(name, "pn") == 0)
			info_set(&info->part_number, state->text);
		else if (g_strcmp0(name, "software") == 0)
			info_set(&info->software, state->text);
		else if (g_strcmp0(name, "imeter") == 0)
			info->imeter = g_strcmp0(value, "true") == 0	? 1
				       : g_strcmp0(value, "false") == 0 ? 0
									: -1;
		else if (g_strcmp0(name, "web-tokens") == 0)
			info->web_tokens = g_strcmp0(value, "true") == 0;
	}
	g_clear_pointer(&state->element, g_free);
	if (state->depth == 2 && g_strcmp0(name, "device") == 0)
		state->in_device = FALSE;
	state->depth--;
}

static void
info_text(GMarkupParseContext *context,
	  const gchar *text,
	  gsize text_len,
	  gpointer user_data,
	  GError **error)
{
	ParseState *state = user_data;
	if (state->element != NULL && state->text->len + text_len <= 4 * WBD_ENVOY_INFO_MAX_VALUE)
		g_string_append_len(state->text, text, (gssize)text_len);
}

/* "D8.2.4345" → {8, 2, 4345}; pyenphase drops the first letter (spec §1) */
static void
info_parse_version(WbdEnvoyInfo *info)
{
	const gchar *p = info->software;
	if (p == NULL)
		return;
	while (g_ascii_isalpha(*p))
		p++;
	for (guint i = 0; i < G_N_ELEMENTS(info->version) && g_ascii_isdigit(*p); i++) {
		guint64 v = 0;
		while (g_ascii_isdigit(*p)) {
			v = MIN(v * 10 + (guint64)(*p - '0'), G_MAXUINT);
			p++;
		}
		info->version[i] = (guint)v;
		if (*p != '.')
			break;
		p++;
	}
}

void
wbd_envoy_info_free(WbdEnvoyInfo *info)
{
	if (info == NULL)
		return;
	g_free(info->serial);
	g_free(info->part_number);
	g_free(info->software);
	g_free(info);
}

/**
 * wbd_envoy_info_parse:
 * @xml: the body of /info, not NUL-terminated
 *
 * Returns: (transfer full): what the gateway says, or %NULL when @xml is not the info
 *   document of a gateway (an old Envoy that has none, or another device)
 */
WbdEnvoyInfo *
wbd_envoy_info_parse(const gchar *xml, gsize len, GError **error)
{
	static const GMarkupParser parser = {
	    .start_element = info_start_element,
	    .end_element = info_end_element,
	    .text = info_text,
	};
	g_autoptr(GMarkupParseContext) context = NULL;
	g_autoptr(WbdEnvoyInfo) info = g_new0(WbdEnvoyInfo, 1);
	g_autoptr(GString) text = g_string_new(NULL);
	ParseState state = {.info = info, .text = text};
	gboolean ok;

	info->imeter = -1;
	if (xml == NULL || len == 0 || len > WBD_ENVOY_INFO_MAX_SIZE) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "The gateway's /info is empty or too large");
		return NULL;
	}
	context = g_markup_parse_context_new(&parser, G_MARKUP_IGNORE_QUALIFIED, &state, NULL);
	ok = g_markup_parse_context_parse(context, xml, (gssize)len, NULL) &&
	     g_markup_parse_context_end_parse(context, NULL);
	g_free(state.element);
	if (!ok || !state.root_ok || info->serial == NULL) {
		g_set_error_literal(error,
				    WATTBUS_ERROR,
				    WATTBUS_ERROR_FAILED,
				    "The device's /info is not an Enphase gateway's (no envoy_info "
				    "document with a serial number)");
		return NULL;
	}
	info_parse_version(info);
	return g_steal_pointer(&info);
}

/* spec §1: firmware 7 and later, or a gateway that says so, wants a token */
gboolean
wbd_envoy_info_needs_token(const WbdEnvoyInfo *info)
{
	return info->web_tokens || info->version[0] >= 7;
}

gboolean
wbd_envoy_info_equal(const WbdEnvoyInfo *a, const WbdEnvoyInfo *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return g_strcmp0(a->serial, b->serial) == 0 &&
	       g_strcmp0(a->part_number, b->part_number) == 0 &&
	       g_strcmp0(a->software, b->software) == 0 && a->imeter == b->imeter &&
	       a->web_tokens == b->web_tokens;
}
