/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>
#include <wattbus-glib.h>

#include "fuzz-envoy.h"
#include "wbd-envoy-auth.h"
#include "wbd-envoy-data.h"
#include "wbd-envoy-ensemble.h"
#include "wbd-envoy-info.h"
#include "wbd-envoy-json.h"

/*
 * Whatever an endpoint of the gateway sends: the input goes through every mapper of the
 * driver (meters, readings, production, v1, inverters, batteries, stream event), through the /info
 * parser as XML, and through the token decoder, and what comes out is checked.
 */

static const gchar *measurements[] = {"production",
				      "net-consumption",
				      "total-consumption",
				      "storage",
				      "load"};

/* NaN or in range: what Battery's properties may carry */
static void
check_battery_reading(const WbdBatteryReading *r)
{
	WBF_ASSERT(isnan(r->soc) || (r->soc >= 0 && r->soc <= 100));
	WBF_ASSERT(isnan(r->reserve) || (r->reserve >= 0 && r->reserve <= 100));
	WBF_ASSERT(isnan(r->capacity) || r->capacity >= 0);
	WBF_ASSERT(isnan(r->available) || r->available >= 0);
	WBF_ASSERT(isnan(r->power) || isfinite(r->power));
	WBF_ASSERT(r->state <= WBD_BATTERY_STATE_IDLE);
}

static void
check_batteries(GPtrArray *batteries)
{
	WBF_ASSERT(batteries->len <= WBD_ENVOY_MAX_BATTERIES);
	for (guint i = 0; i < batteries->len; i++) {
		WbdEnvoyBattery *b = g_ptr_array_index(batteries, i);
		WBF_ASSERT(b->serial != NULL && b->serial[0] != '\0' && strlen(b->serial) <= 32);
		for (const gchar *p = b->serial; *p != '\0'; p++)
			WBF_ASSERT(g_ascii_isalnum(*p));
		WBF_ASSERT(b->part_number == NULL || g_utf8_validate(b->part_number, -1, NULL));
		WBF_ASSERT(b->firmware == NULL || g_utf8_validate(b->firmware, -1, NULL));
		check_battery_reading(&b->reading);
	}
}

/* the Ensemble and AC Battery mappers (envoy-batteries.md) */
static void
check_ensemble(JsonNode *root)
{
	g_autoptr(GPtrArray) encharge = NULL;
	g_autoptr(GPtrArray) acbs = wbd_envoy_parse_acb_inventory(root);
	const gchar *grid = NULL;
	WbdEnvoySecctrl secctrl;
	WbdEnvoyAcb acb;
	WbdBatteryReading total;
	gboolean has_secctrl;

	wbd_envoy_parse_ensemble_inventory(root, &encharge, &grid);
	WBF_ASSERT(g_strcmp0(grid, "on-grid") == 0 || g_strcmp0(grid, "off-grid") == 0 ||
		   g_strcmp0(grid, "unknown") == 0);
	wbd_envoy_parse_ensemble_power(root, encharge);
	check_batteries(encharge);
	check_batteries(acbs);
	has_secctrl = wbd_envoy_parse_secctrl(root, &secctrl);
	if (!wbd_envoy_parse_acb_storage(root, &acb))
		WBF_ASSERT(acb.count == 0);
	check_battery_reading(&acb.reading);
	WBF_ASSERT(acb.count <= WBD_ENVOY_MAX_BATTERIES);
	wbd_envoy_batteries_aggregate(encharge, has_secctrl ? &secctrl : NULL, &acb, &total);
	WBF_ASSERT(isnan(total.soc) || (total.soc >= 0 && total.soc <= 100));
	WBF_ASSERT(isnan(total.power) || isfinite(total.power));
}

static void
check_json(JsonNode *root)
{
	g_autoptr(GPtrArray) cts = wbd_envoy_parse_cts(root);
	g_autoptr(GPtrArray) reports = wbd_envoy_parse_inverters(root);
	guint phases = wbd_envoy_cts_get_phases(cts);
	WbdMeterReading reading;
	gboolean broken = TRUE;

	WBF_ASSERT(cts->len <= WBD_ENVOY_MAX_CTS);
	WBF_ASSERT(phases >= 1 && phases <= 3);
	for (guint i = 0; i < cts->len; i++) {
		WbdEnvoyCt *ct = g_ptr_array_index(cts, i);
		WBF_ASSERT(ct->measurement != NULL && g_utf8_validate(ct->measurement, -1, NULL));
		WBF_ASSERT(ct->phases >= 1 && ct->phases <= 3);
		WBF_ASSERT(ct->eid >= 0);
		/* the same text as the readings too */
		for (guint p = 1; p <= 3; p++) {
			if (!wbd_envoy_parse_ct_reading(root, ct, p, &reading))
				WBF_ASSERT(reading.measured == 0);
			wbf_envoy_check_reading(&reading, p);
		}
	}
	for (guint i = 0; i < G_N_ELEMENTS(measurements); i++) {
		WbdEnvoyCt ct = {.eid = 704643328, .measurement = (gchar *)measurements[i]};
		for (guint p = 1; p <= 3; p++) {
			if (!wbd_envoy_parse_eim(root, measurements[i], p, &reading))
				WBF_ASSERT(reading.measured == 0);
			wbf_envoy_check_reading(&reading, p);
			wbd_envoy_parse_ct_reading(root, &ct, p, &reading);
			wbf_envoy_check_reading(&reading, p);
		}
	}
	if (!wbd_envoy_parse_inverters_total(root, &reading))
		WBF_ASSERT(reading.measured == 0);
	wbf_envoy_check_reading(&reading, 0);
	WBF_ASSERT(
	    (reading.measured & ~((1u << WBD_QUANTITY_POWER) | (1u << WBD_QUANTITY_ENERGY))) == 0);
	if (!wbd_envoy_parse_v1_production(root, &reading, &broken))
		WBF_ASSERT(reading.measured == 0 && !broken);
	wbf_envoy_check_reading(&reading, 0);
	WBF_ASSERT(!broken || wbd_meter_reading_has(&reading, WBD_QUANTITY_POWER));

	check_ensemble(root);
	WBF_ASSERT(reports->len <= WBD_ENVOY_MAX_INVERTERS);
	for (guint i = 0; i < reports->len; i++) {
		WbdEnvoyInverterReport *r = g_ptr_array_index(reports, i);
		WBF_ASSERT(r->serial != NULL && r->serial[0] != '\0' && strlen(r->serial) <= 32);
		for (const gchar *p = r->serial; *p != '\0'; p++)
			WBF_ASSERT(g_ascii_isalnum(*p));
		WBF_ASSERT(isfinite(r->watts) && isfinite(r->max_watts));
		WBF_ASSERT(r->last_report >= 0);
		for (guint j = 0; j < i; j++)
			WBF_ASSERT(strcmp(r->serial,
					  ((WbdEnvoyInverterReport *)g_ptr_array_index(reports, j))
					      ->serial) != 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(WbdEnvoyInfo) info = NULL;
	g_autofree gchar *text = NULL;
	g_autofree gchar *role = NULL;
	WbdEnvoyStreamEvent event;
	gint64 expiry = 0;

	if (size > WBD_ENVOY_JSON_MAX_SIZE + 16)
		return 0;
	root = wbd_envoy_json_parse((const gchar *)data, size, &error);
	if (root == NULL) {
		wbf_check_error(error);
		g_clear_error(&error);
	} else {
		WBF_ASSERT(error == NULL);
		WBF_ASSERT(JSON_NODE_HOLDS_OBJECT(root) || JSON_NODE_HOLDS_ARRAY(root));
		check_json(root);
	}
	if (wbd_envoy_parse_stream_event((const gchar *)data, size, &event))
		WBF_ASSERT(root != NULL);

	info = wbd_envoy_info_parse((const gchar *)data, size, &error);
	if (info == NULL) {
		wbf_check_error(error);
		g_clear_error(&error);
	} else {
		WBF_ASSERT(info->serial != NULL && g_utf8_validate(info->serial, -1, NULL));
		WBF_ASSERT(info->part_number == NULL ||
			   g_utf8_validate(info->part_number, -1, NULL));
		WBF_ASSERT(info->software == NULL || g_utf8_validate(info->software, -1, NULL));
		WBF_ASSERT(info->imeter >= -1 && info->imeter <= 1);
	}

	text = g_strndup((const gchar *)data, size);
	if (wbd_envoy_token_decode(text, &expiry, &role, &error)) {
		WBF_ASSERT(wbd_envoy_token_is_wellformed(text));
		WBF_ASSERT(expiry >= 0);
		WBF_ASSERT(role == NULL || g_utf8_validate(role, -1, NULL));
	} else {
		wbf_check_error(error);
		/* an error never quotes the token */
		if (strlen(text) > 8)
			WBF_ASSERT(strstr(error->message, text) == NULL);
	}
	return 0;
}
