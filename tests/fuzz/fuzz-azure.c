/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wattbus-glib.h>

#include "fuzz-mqtt.h"
#include "wbd-azure-codec.h"

/*
 * The inbound parsers of kind=azure-iot-hub. An input is a topic, a line feed and a
 * payload (as they arrive from the hub): the cloud-to-device topic's property bag and
 * its payload, the direct method's topic and payload (also under each known method's
 * name), desired properties (a patch, a GET's twin), the twin response's topic. Invariants: a result or an error, never both; a
 * device id taken is UTF-8; a request id or method name is printable ASCII that can go
 * into a reply topic; the reply body is JSON and its status one of the documented ones.
 */

#define AZ_DEV "gw"

static void
check_token(const gchar *text)
{
	WBF_ASSERT(text[0] != '\0');
	for (const gchar *p = text; *p != '\0'; p++)
		WBF_ASSERT(*p > 0x20 && *p < 0x7f && *p != '+' && *p != '#' && *p != '/');
}

static void
check_method(const gchar *method, const gchar *payload, gsize length)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *device = NULL;
	g_autofree gchar *body = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GPtrArray) commands =
	    wbd_azure_parse_method(method, payload, length, &device, &error);
	gint status = wbd_mqtt_error_status(error);

	wbf_mqtt_check_commands(commands, error, TRUE);
	WBF_ASSERT(device == NULL || g_utf8_validate(device, -1, NULL));
	WBF_ASSERT(status == 200 || status == 400 || status == 404);
	body = wbd_mqtt_result_json(NULL, error, NULL);
	WBF_ASSERT(json_parser_load_from_data(parser, body, -1, NULL));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const gchar *text = (const gchar *)data;
	const gchar *newline = memchr(text, '\n', size);
	gsize topic_len = newline != NULL ? (gsize)(newline - text) : size;
	g_autofree gchar *topic = g_strndup(text, topic_len);
	const gchar *payload = newline != NULL ? newline + 1 : text + size;
	gsize length = size - (payload - text);

	/* cloud-to-device */
	{
		g_autofree gchar *bag_device = NULL;
		g_autofree gchar *device = NULL;
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) commands = NULL;

		if (wbd_azure_parse_c2d_topic(topic, AZ_DEV, &bag_device))
			WBF_ASSERT(g_str_has_prefix(topic, "devices/" AZ_DEV "/messages/devicebound/"));
		else
			WBF_ASSERT(bag_device == NULL);
		if (bag_device != NULL && wbd_azure_device_id_is_valid(bag_device))
			WBF_ASSERT(g_utf8_validate(bag_device, -1, NULL) && strlen(bag_device) <= 128);
		commands = wbd_azure_parse_c2d(payload, length, &device, &error);
		wbf_mqtt_check_commands(commands, error, TRUE);
		WBF_ASSERT(device == NULL || g_utf8_validate(device, -1, NULL));
	}
	/* direct methods */
	{
		static const gchar *const known[] = {"TurnOn", "TurnOff", "Toggle", "SetValve"};
		g_autofree gchar *method = NULL;
		g_autofree gchar *rid = NULL;

		if (wbd_azure_parse_method_topic(topic, &method, &rid)) {
			if (method != NULL)
				check_token(method);
			if (rid != NULL) {
				g_autofree gchar *reply = wbd_azure_method_reply_topic(404, rid);
				check_token(rid);
				WBF_ASSERT(strlen(rid) <= WBD_AZURE_MAX_RID);
				WBF_ASSERT(strchr(reply, '#') == NULL && strchr(reply, '+') == NULL);
			}
		} else {
			WBF_ASSERT(method == NULL && rid == NULL);
		}
		check_method(method, payload, length);
		for (guint i = 0; i < G_N_ELEMENTS(known); i++)
			check_method(known[i], payload, length);
	}
	/* desired properties: a patch, and the whole twin of a GET */
	for (guint document = 0; document < 2; document++) {
		g_autoptr(GError) error = NULL;
		gint64 version = -1;
		g_autoptr(GPtrArray) desired =
		    wbd_azure_parse_desired(payload, length, document, &version, &error);

		WBF_ASSERT((desired == NULL) == (error != NULL));
		WBF_ASSERT(version >= 0);
		if (desired != NULL)
			wbf_mqtt_check_desired(desired);
	}
	/* twin responses */
	{
		g_autofree gchar *rid = NULL;
		gint status = -1;

		if (wbd_azure_parse_twin_topic(topic, &status, &rid))
			WBF_ASSERT(status == 0 || (status >= 100 && status <= 999));
		if (rid != NULL)
			check_token(rid);
	}
	return 0;
}
