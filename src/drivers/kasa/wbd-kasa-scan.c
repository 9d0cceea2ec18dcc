/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-kasa-codec.h"
#include "wbd-kasa-scan.h"

/*
 * A poll's reply, {"system":{"get_sysinfo":{...}},"emeter":{"get_realtime":{...}}}, comes
 * once a second from every plug; json-glib builds a tree of it (a GScanner token and a
 * JsonNode per value, a hash table per object), which was a third of the daemon's CPU at
 * 1000 plugs. This scanner reads the few members the driver uses straight into a
 * WbdKasaSysinfo and a WbdMeterReading, without a tree.
 *
 * It is strict and gives up easily: it reads only what it is sure json-glib 1.6 reads
 * the same way, and the same way as wbd_kasa_reply_get_result(),
 * wbd_kasa_sysinfo_parse() and wbd_kasa_parse_realtime() read the tree (the fuzzer
 * fuzz-kasa-json checks that field by field). Anything else is "not handled" and left
 * to json-glib, so that what the driver does and the errors it reports never change:
 * text that is not UTF-8, whitespace but JSON's, escapes or control characters in
 * strings, numbers with an exponent, a leading zero (octal to json-glib) or many digits,
 * nesting deeper than WBD_KASA_SCAN_MAX_DEPTH, trailing commas, a member the driver reads
 * given twice or with another type, err_code other than 0, modules or members other
 * than those asked for, a strip's children, a sysinfo the driver refuses.
 */

/* real replies nest four levels ("next_action" in sysinfo); json-glib's path allows 32 */
#define WBD_KASA_SCAN_MAX_DEPTH 8
/* exact in a double, far from json-glib's 64-bit wrap-around */
#define WBD_KASA_SCAN_MAX_INT_DIGITS 15
/* the digits of a number with a fraction, for g_ascii_strtod() */
#define WBD_KASA_SCAN_MAX_NUMBER 32

typedef struct {
	const gchar *p;
	const gchar *end;
	guint depth;
} Scanner;

typedef struct {
	const gchar *str;
	gsize len;
} Span;

/* reads an object member's value; FALSE: not handled */
typedef gboolean (*MemberFunc)(Scanner *s, const Span *key, gpointer user_data);

static void
skip_space(Scanner *s)
{
	/* json-glib skips these four only (wbd_json_parse() lets any ASCII space through) */
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* the next token is @c: takes it */
static gboolean
scan_char(Scanner *s, gchar c)
{
	skip_space(s);
	if (s->p == s->end || *s->p != c)
		return FALSE;
	s->p++;
	return TRUE;
}

static gboolean
key_is(const Span *key, const gchar *name)
{
	return key->len == strlen(name) && memcmp(key->str, name, key->len) == 0;
}

/* a string as it is in the text: no escapes (the text is known to be UTF-8) */
static gboolean
scan_string(Scanner *s, Span *span)
{
	if (!scan_char(s, '"'))
		return FALSE;
	span->str = s->p;
	for (; s->p < s->end; s->p++) {
		guchar c = (guchar)*s->p;
		if (c == '"') {
			span->len = (gsize)(s->p - span->str);
			s->p++;
			return TRUE;
		}
		if (c == '\\' || c < 0x20)
			return FALSE;
	}
	return FALSE;
}

/* a number as json-glib reads it, then wbd_json_get_number() */
static gboolean
scan_number(Scanner *s, gdouble *value)
{
	gboolean negative = FALSE;
	gboolean fraction = FALSE;
	const gchar *digits;

	skip_space(s);
	if (s->p < s->end && *s->p == '-') {
		negative = TRUE;
		s->p++;
	}
	digits = s->p;
	while (s->p < s->end && g_ascii_isdigit(*s->p))
		s->p++;
	if (s->p == digits || (digits[0] == '0' && s->p - digits > 1))
		return FALSE;
	if (s->p < s->end && *s->p == '.') {
		const gchar *decimals = ++s->p;
		while (s->p < s->end && g_ascii_isdigit(*s->p))
			s->p++;
		if (s->p == decimals)
			return FALSE;
		fraction = TRUE;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E'))
		return FALSE;
	if (!fraction) {
		gint64 v = 0;
		if (s->p - digits > WBD_KASA_SCAN_MAX_INT_DIGITS)
			return FALSE;
		for (const gchar *d = digits; d < s->p; d++)
			v = v * 10 + (*d - '0');
		/* json-glib negates the integer ("-0" is 0), the driver reads it as a double */
		*value = (gdouble)(negative ? -v : v);
	} else {
		gchar buf[WBD_KASA_SCAN_MAX_NUMBER + 1];
		gsize n = (gsize)(s->p - digits);
		gdouble d;
		if (n > WBD_KASA_SCAN_MAX_NUMBER)
			return FALSE;
		memcpy(buf, digits, n);
		buf[n] = '\0';
		/* json-glib's g_strtod() reads plain decimals like g_ascii_strtod() */
		d = g_ascii_strtod(buf, NULL);
		*value = negative ? d * -1.0 : d;
	}
	return TRUE;
}

static gboolean
scan_literal(Scanner *s)
{
	static const gchar *const literals[] = {"true", "false", "null"};
	skip_space(s);
	for (guint i = 0; i < G_N_ELEMENTS(literals); i++) {
		gsize n = strlen(literals[i]);
		if ((gsize)(s->end - s->p) >= n && memcmp(s->p, literals[i], n) == 0) {
			s->p += n;
			return TRUE;
		}
	}
	return FALSE;
}

static gboolean
skip_value(Scanner *s);

static gboolean
scan_object(Scanner *s, MemberFunc member, gpointer user_data)
{
	if (!scan_char(s, '{') || ++s->depth > WBD_KASA_SCAN_MAX_DEPTH)
		return FALSE;
	if (!scan_char(s, '}')) {
		do {
			Span key;
			if (!scan_string(s, &key) || !scan_char(s, ':') ||
			    !member(s, &key, user_data))
				return FALSE;
		} while (scan_char(s, ','));
		if (!scan_char(s, '}'))
			return FALSE;
	}
	s->depth--;
	return TRUE;
}

static gboolean
skip_array(Scanner *s)
{
	if (!scan_char(s, '[') || ++s->depth > WBD_KASA_SCAN_MAX_DEPTH)
		return FALSE;
	if (!scan_char(s, ']')) {
		do {
			if (!skip_value(s))
				return FALSE;
		} while (scan_char(s, ','));
		if (!scan_char(s, ']'))
			return FALSE;
	}
	s->depth--;
	return TRUE;
}

static gboolean
skip_member(Scanner *s, const Span *key, gpointer user_data)
{
	return skip_value(s);
}

/* a value the driver does not read, checked all the same */
static gboolean
skip_value(Scanner *s)
{
	Span span;
	gdouble number;

	skip_space(s);
	if (s->p == s->end)
		return FALSE;
	switch (*s->p) {
	case '"':
		return scan_string(s, &span);
	case '{':
		return scan_object(s, skip_member, NULL);
	case '[':
		return skip_array(s);
	case 't':
	case 'f':
	case 'n':
		return scan_literal(s);
	default:
		return scan_number(s, &number);
	}
}

/* 0, else the driver reports it, or reads it differently (0.5 is 0 to it) */
static gboolean
scan_err_code(Scanner *s, guint *seen, guint bit)
{
	gdouble code = -1;
	if (*seen & bit)
		return FALSE;
	*seen |= bit;
	return scan_number(s, &code) && code == 0;
}

typedef struct {
	guint seen; /* a bit per WbdKasaSysinfoString, then these: */
	Span strings[WBD_KASA_SYSINFO_N_STRINGS];
	gdouble relay_state;
} SysinfoScan;

#define SEEN_RELAY_STATE (1u << WBD_KASA_SYSINFO_N_STRINGS)
#define SEEN_ERR_CODE (1u << (WBD_KASA_SYSINFO_N_STRINGS + 1))

static gboolean
scan_sysinfo_member(Scanner *s, const Span *key, gpointer user_data)
{
	SysinfoScan *info = user_data;

	for (guint i = 0; i < WBD_KASA_SYSINFO_N_STRINGS; i++) {
		if (!key_is(key, wbd_kasa_sysinfo_strings[i]))
			continue;
		/* twice: json-glib keeps the last one */
		if (info->seen & (1u << i))
			return FALSE;
		info->seen |= 1u << i;
		return scan_string(s, &info->strings[i]);
	}
	if (key_is(key, "relay_state")) {
		if (info->seen & SEEN_RELAY_STATE)
			return FALSE;
		info->seen |= SEEN_RELAY_STATE;
		return scan_number(s, &info->relay_state);
	}
	if (key_is(key, "err_code"))
		return scan_err_code(s, &info->seen, SEEN_ERR_CODE);
	/* a strip */
	if (key_is(key, "children"))
		return FALSE;
	return skip_value(s);
}

typedef struct {
	WbdKasaRealtime values;
	guint seen_err_code;
} RealtimeScan;

static gboolean
scan_realtime_member(Scanner *s, const Span *key, gpointer user_data)
{
	RealtimeScan *realtime = user_data;

	for (guint i = 0; i < WBD_KASA_REALTIME_N_KEYS; i++) {
		if (!key_is(key, wbd_kasa_realtime_keys[i]))
			continue;
		if (realtime->values.present & (1u << i))
			return FALSE;
		realtime->values.present |= 1u << i;
		return scan_number(s, &realtime->values.values[i]);
	}
	if (key_is(key, "err_code"))
		return scan_err_code(s, &realtime->seen_err_code, 1);
	return skip_value(s);
}

typedef struct {
	const gchar *name;
	const gchar *method;
	MemberFunc result_member;
	gpointer result_data;
	guint seen; /* SEEN_MODULE, SEEN_METHOD, SEEN_MODULE_ERR_CODE */
} ModuleScan;

#define SEEN_MODULE (1u << 0)
#define SEEN_METHOD (1u << 1)
#define SEEN_MODULE_ERR_CODE (1u << 2)

static gboolean
scan_module_member(Scanner *s, const Span *key, gpointer user_data)
{
	ModuleScan *module = user_data;

	if (key_is(key, module->method)) {
		if (module->seen & SEEN_METHOD)
			return FALSE;
		module->seen |= SEEN_METHOD;
		return scan_object(s, module->result_member, module->result_data);
	}
	if (key_is(key, "err_code"))
		return scan_err_code(s, &module->seen, SEEN_MODULE_ERR_CODE);
	return FALSE;
}

static gboolean
scan_root_member(Scanner *s, const Span *key, gpointer user_data)
{
	ModuleScan *modules = user_data;

	for (guint i = 0; i < 2; i++) {
		if (!key_is(key, modules[i].name))
			continue;
		if (modules[i].seen & SEEN_MODULE)
			return FALSE;
		modules[i].seen |= SEEN_MODULE;
		return scan_object(s, scan_module_member, &modules[i]);
	}
	return FALSE;
}

/**
 * wbd_kasa_scan_poll_reply:
 * @text: the decrypted reply to `system.get_sysinfo`, maybe with `emeter.get_realtime`
 * @scan: (out caller-allocates): what it says; clear it with wbd_kasa_scan_clear()
 *
 * Reads a plug's reply to a poll without json-glib, exactly as the json-glib path reads
 * it, or declines.
 *
 * Returns: %TRUE when read, %FALSE when not handled (then @scan is empty and the
 *   reply is for json-glib)
 */
gboolean
wbd_kasa_scan_poll_reply(const gchar *text, gsize len, WbdKasaScan *scan)
{
	Scanner s = {text, text + len, 0};
	SysinfoScan sysinfo = {0};
	RealtimeScan realtime = {0};
	ModuleScan modules[] = {
	    {"system", "get_sysinfo", scan_sysinfo_member, &sysinfo, 0},
	    {"emeter", "get_realtime", scan_realtime_member, &realtime, 0},
	};
	gchar *strings[WBD_KASA_SYSINFO_N_STRINGS];

	memset(scan, 0, sizeof(*scan));
	/* json-glib reads UTF-8 only (and skips a byte-order mark, which is left to it) */
	if (len == 0 || len > WBD_KASA_MAX_FRAME || !g_utf8_validate_len(text, len, NULL))
		return FALSE;
	if (!scan_object(&s, scan_root_member, modules))
		return FALSE;
	skip_space(&s);
	if (s.p != s.end)
		return FALSE;
	if (!(modules[0].seen & SEEN_METHOD) ||
	    ((modules[1].seen & SEEN_MODULE) && !(modules[1].seen & SEEN_METHOD)) ||
	    !(sysinfo.seen & SEEN_RELAY_STATE))
		return FALSE;

	for (guint i = 0; i < WBD_KASA_SYSINFO_N_STRINGS; i++) {
		strings[i] = (sysinfo.seen & (1u << i))
				 ? g_strndup(sysinfo.strings[i].str, sysinfo.strings[i].len)
				 : NULL;
	}
	/* a sysinfo the driver refuses: json-glib's path says why */
	scan->sysinfo = wbd_kasa_sysinfo_new(strings, NULL);
	if (scan->sysinfo == NULL)
		return FALSE;
	scan->sysinfo->relay_state = sysinfo.relay_state != 0 ? 1 : 0;
	if (modules[1].seen & SEEN_METHOD) {
		scan->has_realtime = TRUE;
		wbd_kasa_realtime_to_reading(&realtime.values, &scan->realtime);
	}
	return TRUE;
}

void
wbd_kasa_scan_clear(WbdKasaScan *scan)
{
	g_clear_pointer(&scan->sysinfo, wbd_kasa_sysinfo_free);
	scan->has_realtime = FALSE;
}

/**
 * wbd_kasa_reply_decode:
 * @payload: (transfer full): the encrypted payload of a poll's reply, without a length
 *   prefix, allocated with g_malloc(); decrypted in place
 *
 * Like wbd_kasa_payload_decode() (the same errors), with the scanner first.
 *
 * Returns: (transfer full): the reply, or %NULL with @error set
 */
WbdKasaReply *
wbd_kasa_reply_decode(guint8 *payload, gsize len, GError **error)
{
	g_autoptr(WbdKasaReply) reply = g_new0(WbdKasaReply, 1);

	reply->text = (gchar *)payload;
	reply->len = len;
	wbd_kasa_decrypt(payload, len);
	if (!wbd_kasa_scan_poll_reply(reply->text, len, &reply->scan)) {
		reply->json = wbd_kasa_payload_parse(reply->text, len, error);
		if (reply->json == NULL)
			return NULL;
	}
	return g_steal_pointer(&reply);
}

/**
 * wbd_kasa_reply_get_json:
 *
 * Returns: (transfer none): the reply's JSON tree, parsed now if the scanner read it
 */
JsonNode *
wbd_kasa_reply_get_json(WbdKasaReply *reply, GError **error)
{
	if (reply->json == NULL)
		reply->json = wbd_kasa_payload_parse(reply->text, reply->len, error);
	return reply->json;
}

void
wbd_kasa_reply_free(WbdKasaReply *reply)
{
	if (reply == NULL)
		return;
	g_free(reply->text);
	g_clear_pointer(&reply->json, json_node_unref);
	wbd_kasa_scan_clear(&reply->scan);
	g_free(reply);
}
