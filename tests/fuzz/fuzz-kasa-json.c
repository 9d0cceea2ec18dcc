/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "fuzz-kasa.h"
#include "wbd-kasa-codec.h"

/*
 * The input is the plaintext JSON of a reply, so that the fuzzer reaches the mapping
 * from JSON to sysinfo and readings without learning the cipher first. The same text
 * is then encrypted and decoded like the driver does, which must agree with parsing
 * it directly, read by the poll reply's scanner, which must agree with json-glib's path
 * whenever it accepts (differential), and handed to discovery as a UDP datagram.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	g_autoptr(JsonNode) decoded = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree guint8 *encrypted = NULL;
	JsonNode *root = NULL;
	gboolean parsed;
	guint depth = 0;

	if (size == 0 || size > WBD_KASA_MAX_FRAME || !wbf_json_is_safe(data, size, &depth))
		return 0;

	parsed = json_parser_load_from_data(parser, (const gchar *)data, (gssize)size, NULL);
	if (parsed)
		root = json_parser_get_root(parser);
	if (root != NULL && JSON_NODE_HOLDS_OBJECT(root))
		wbf_kasa_check_reply(root);
	else
		root = NULL;

	encrypted = g_memdup2(data, size);
	wbd_kasa_encrypt(encrypted, size);
	decoded = wbd_kasa_payload_decode(encrypted, size, &error);
	if (decoded != NULL) {
		WBF_ASSERT(error == NULL);
		WBF_ASSERT(JSON_NODE_HOLDS_OBJECT(decoded));
	} else {
		wbf_check_error(error);
	}
	/* what the driver accepts is what json-glib reads, and never text with a NUL */
	if (decoded != NULL) {
		WBF_ASSERT(root != NULL);
		WBF_ASSERT(json_node_equal(decoded, root));
		WBF_ASSERT(memchr(data, '\0', size) == NULL);
	}
	/*
	 * and it accepts every object json-glib reads, at least when nested as real replies
	 * are and without escapes (json-glib also takes some that are not JSON's)
	 */
	if (root != NULL && depth <= 16 && memchr(data, '\0', size) == NULL &&
	    memchr(data, '\\', size) == NULL)
		WBF_ASSERT(decoded != NULL);

	/* the poll reply's scanner reads what json-glib reads, or declines */
	wbf_kasa_check_scan(data, size);

	wbf_kasa_check_datagram(encrypted, size);
	return 0;
}
