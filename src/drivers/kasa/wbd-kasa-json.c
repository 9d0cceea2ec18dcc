/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "wbd-json.h"
#include "wbd-kasa-json.h"

/*
 * A SMART reply (get_device_info and the energy methods, ~1.5 KB) comes once a second
 * from every plug; json-glib tokenises it with a GScanner (a token and a copy per value)
 * before it builds the tree, which was two fifths of a KLAP poll's CPU. This reader
 * builds the same tree (the same node and value types: integers as gint64, numbers with
 * a fraction as gdouble, sealed as json_parser_new_immutable() leaves it) straight from
 * the text.
 *
 * It is strict and gives up easily: it reads only plain JSON that it is sure json-glib
 * 1.6 reads the same way, and hands anything else to wbd_json_parse_object(), so that the
 * tree and the errors never differ: text that is not UTF-8, whitespace but JSON's four,
 * any backslash or control character in a string, numbers with an exponent, a leading
 * zero or more than 15 digits, a member given twice or with an empty name, nesting deeper than
 * WBD_KASA_JSON_MAX_DEPTH, anything after the object. The fuzzer fuzz-kasa-smart checks
 * that both trees are equal whenever this one answers.
 */

#define WBD_KASA_JSON_MAX_DEPTH 16
#define WBD_KASA_JSON_MAX_INT_DIGITS 15
#define WBD_KASA_JSON_MAX_NUMBER 32

typedef struct {
	const gchar *p;
	const gchar *end;
	guint depth;
	GString *scratch;
} Reader;

static void
skip_space(Reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

/* a string without escapes or control characters, into r->scratch */
static gboolean
read_string(Reader *r)
{
	const gchar *start;
	if (r->p >= r->end || *r->p != '"')
		return FALSE;
	start = ++r->p;
	while (r->p < r->end && *r->p != '"') {
		if (*r->p == '\\' || (guchar)*r->p < 0x20)
			return FALSE;
		r->p++;
	}
	if (r->p >= r->end)
		return FALSE;
	g_string_truncate(r->scratch, 0);
	g_string_append_len(r->scratch, start, r->p - start);
	r->p++;
	return TRUE;
}

static JsonNode *
read_value(Reader *r);

static JsonNode *
read_number(Reader *r)
{
	const gchar *start = r->p;
	gchar buf[WBD_KASA_JSON_MAX_NUMBER + 1];
	guint digits = 0;
	gboolean fraction = FALSE;
	JsonNode *node;

	if (r->p < r->end && *r->p == '-')
		r->p++;
	/* one 0, or digits without a leading zero */
	if (r->p < r->end && *r->p == '0') {
		r->p++;
		digits++;
		if (r->p < r->end && g_ascii_isdigit(*r->p))
			return NULL;
	} else {
		while (r->p < r->end && g_ascii_isdigit(*r->p)) {
			r->p++;
			digits++;
		}
	}
	if (digits == 0 || digits > WBD_KASA_JSON_MAX_INT_DIGITS)
		return NULL;
	if (r->p < r->end && *r->p == '.') {
		guint decimals = 0;
		fraction = TRUE;
		r->p++;
		while (r->p < r->end && g_ascii_isdigit(*r->p)) {
			r->p++;
			decimals++;
		}
		if (decimals == 0)
			return NULL;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E'))
		return NULL;
	if ((gsize)(r->p - start) > WBD_KASA_JSON_MAX_NUMBER)
		return NULL;
	memcpy(buf, start, (gsize)(r->p - start));
	buf[r->p - start] = '\0';
	node = json_node_alloc();
	if (fraction)
		json_node_init_double(node, g_ascii_strtod(buf, NULL));
	else
		json_node_init_int(node, g_ascii_strtoll(buf, NULL, 10));
	return node;
}

static gboolean
read_word(Reader *r, const gchar *word)
{
	gsize len = strlen(word);
	if ((gsize)(r->end - r->p) < len || memcmp(r->p, word, len) != 0)
		return FALSE;
	r->p += len;
	return TRUE;
}

static JsonNode *
read_object(Reader *r)
{
	g_autoptr(JsonObject) obj = json_object_new();

	r->p++; /* { */
	skip_space(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return json_node_init_object(json_node_alloc(), obj);
	}
	for (;;) {
		g_autofree gchar *name = NULL;
		JsonNode *value;

		/* an empty member name: left to json-glib, as an unusual case */
		if (!read_string(r) || r->scratch->len == 0)
			return NULL;
		name = g_strndup(r->scratch->str, r->scratch->len);
		if (json_object_has_member(obj, name))
			return NULL;
		skip_space(r);
		if (r->p >= r->end || *r->p != ':')
			return NULL;
		r->p++;
		value = read_value(r);
		if (value == NULL)
			return NULL;
		json_object_set_member(obj, name, value);
		skip_space(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			skip_space(r);
			continue;
		}
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			return json_node_init_object(json_node_alloc(), obj);
		}
		return NULL;
	}
}

static JsonNode *
read_array(Reader *r)
{
	g_autoptr(JsonArray) array = json_array_new();

	r->p++; /* [ */
	skip_space(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		return json_node_init_array(json_node_alloc(), array);
	}
	for (;;) {
		JsonNode *value = read_value(r);
		if (value == NULL)
			return NULL;
		json_array_add_element(array, value);
		skip_space(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			return json_node_init_array(json_node_alloc(), array);
		}
		return NULL;
	}
}

static JsonNode *
read_value(Reader *r)
{
	JsonNode *node = NULL;

	skip_space(r);
	if (r->p >= r->end)
		return NULL;
	switch (*r->p) {
	case '{':
	case '[':
		if (++r->depth > WBD_KASA_JSON_MAX_DEPTH)
			return NULL;
		node = *r->p == '{' ? read_object(r) : read_array(r);
		r->depth--;
		return node;
	case '"':
		if (!read_string(r))
			return NULL;
		return json_node_init_string(json_node_alloc(), r->scratch->str);
	case 't':
		return read_word(r, "true") ? json_node_init_boolean(json_node_alloc(), TRUE) : NULL;
	case 'f':
		return read_word(r, "false") ? json_node_init_boolean(json_node_alloc(), FALSE) : NULL;
	case 'n':
		return read_word(r, "null") ? json_node_init_null(json_node_alloc()) : NULL;
	default:
		if (*r->p == '-' || g_ascii_isdigit(*r->p))
			return read_number(r);
		return NULL;
	}
}

/* the fast reading alone: %NULL when it gives up (never an error of its own) */
JsonNode *
wbd_kasa_json_read_plain(const gchar *text, gsize len)
{
	g_autoptr(GString) scratch = NULL;
	g_autoptr(JsonNode) root = NULL;
	Reader r = {text, text + len, 0, NULL};

	if (len == 0 || len > G_MAXINT || !g_utf8_validate_len(text, len, NULL))
		return NULL;
	skip_space(&r);
	if (r.p >= r.end || *r.p != '{')
		return NULL;
	scratch = g_string_sized_new(64);
	r.scratch = scratch;
	root = read_value(&r);
	if (root == NULL)
		return NULL;
	skip_space(&r);
	if (r.p != r.end)
		return NULL;
	json_node_seal(root);
	return g_steal_pointer(&root);
}

/* as wbd_json_parse_object() answers, faster for plain JSON */
JsonNode *
wbd_kasa_json_parse_object(const gchar *text, gsize len, GError **error)
{
	JsonNode *root = wbd_kasa_json_read_plain(text, len);
	if (root != NULL)
		return root;
	return wbd_json_parse_object(text, len, error);
}
