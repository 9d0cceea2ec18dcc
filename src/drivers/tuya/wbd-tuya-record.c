/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>
#include <wattbus-glib.h>

#include "wbd-tuya-record.h"

#define FIELD_GROUP_PREFIX "field "

/*
 * Raw DPs: energy meters pack a phase's voltage, current and power (and more) into one
 * binary record, sent as a base64 (or hex) string. The profile gives the record's exact
 * length and its fields:
 *
 *   [dp 6]
 *   name=phase_a
 *   type=raw
 *   length=8
 *
 *   [field 6 voltage]
 *   offset=0
 *   length=2
 *   scale=1
 *   property=ElectricityMeter.Voltage
 *   phase=1
 *
 * A record of another length is refused whole: no field is read from it
 * (shared/specs/tuya-gateway-and-meters.md §4.1).
 */

void
wbd_tuya_field_free(WbdTuyaField *field)
{
	g_free(field->name);
	g_free(field->property);
	g_free(field);
}

static gboolean
parse_bool(const gchar *text, gboolean *out)
{
	if (text == NULL)
		return TRUE;
	if (g_strcmp0(text, "true") != 0 && g_strcmp0(text, "false") != 0)
		return FALSE;
	*out = g_str_equal(text, "true");
	return TRUE;
}

/**
 * wbd_tuya_field_parse:
 * @group: `field ID NAME`
 * @dp: (out): the raw DP of @profile the field belongs to
 *
 * Returns: (transfer full) (nullable): the field, or %NULL with an
 *   %WATTBUS_ERROR_INVALID_ARGUMENT error naming the group and the key
 */
WbdTuyaField *
wbd_tuya_field_parse(GKeyFile *kf,
		     const gchar *name,
		     const gchar *group,
		     WbdTuyaDp **dp,
		     WbdTuyaProfile *profile,
		     GError **error)
{
	static const gchar *const known[] = {"offset", "length", "byte-order", "signed", "scale", "unit",
					     "property", "phase", "negative-if-bit", NULL};
	g_autoptr(WbdTuyaField) field = g_new0(WbdTuyaField, 1);
	g_auto(GStrv) words = g_strsplit(group + strlen(FIELD_GROUP_PREFIX), " ", -1);
	g_autofree gchar *offset = g_key_file_get_string(kf, group, "offset", NULL);
	g_autofree gchar *length = g_key_file_get_string(kf, group, "length", NULL);
	g_autofree gchar *order = g_key_file_get_string(kf, group, "byte-order", NULL);
	g_autofree gchar *is_signed = g_key_file_get_string(kf, group, "signed", NULL);
	g_autofree gchar *scale = g_key_file_get_string(kf, group, "scale", NULL);
	g_autofree gchar *property = g_key_file_get_string(kf, group, "property", NULL);
	g_autofree gchar *phase = g_key_file_get_string(kf, group, "phase", NULL);
	g_autofree gchar *negate = g_key_file_get_string(kf, group, "negative-if-bit", NULL);
	WbdQuantity quantity;
	gint64 n;

	if (!wbd_tuya_profile_check_keys(kf, name, group, known, error))
		return NULL;
	if (g_strv_length(words) != 2 || !wbd_tuya_profile_parse_int(words[0], 1, 255, &n) || words[1][0] == '\0')
		return wbd_tuya_profile_error(error, name, group, "a field group is [field DP-ID NAME]"), NULL;
	{
		g_autofree gchar *id = g_strdup_printf("%" G_GINT64_FORMAT, n);
		*dp = (WbdTuyaDp *)wbd_tuya_profile_lookup_dp(profile, id);
	}
	if (*dp == NULL || (*dp)->type != WBD_TUYA_DP_RAW)
		return wbd_tuya_profile_error(error, name, group, "no [dp] group of type raw for this field"), NULL;
	field->name = g_strdup(words[1]);
	if (!wbd_tuya_profile_parse_int(offset, 0, WBD_TUYA_MAX_RECORD - 1, &n))
		return wbd_tuya_profile_error(error, name, group, "offset must be a byte offset in the record"), NULL;
	field->offset = (guint)n;
	if (!wbd_tuya_profile_parse_int(length, 1, 8, &n))
		return wbd_tuya_profile_error(error, name, group, "length must be 1 to 8 bytes"), NULL;
	field->length = (guint)n;
	if (field->offset + field->length > (*dp)->record_length)
		return wbd_tuya_profile_error(error, name, group, "the field ends after the record"), NULL;
	if (order != NULL && g_strcmp0(order, "big") != 0 && g_strcmp0(order, "little") != 0)
		return wbd_tuya_profile_error(error, name, group, "byte-order must be big or little"), NULL;
	field->little_endian = g_strcmp0(order, "little") == 0;
	if (!parse_bool(is_signed, &field->is_signed))
		return wbd_tuya_profile_error(error, name, group, "signed must be true or false"), NULL;
	if (scale != NULL) {
		if (!wbd_tuya_profile_parse_int(scale, -9, 9, &n))
			return wbd_tuya_profile_error(error, name, group, "scale must be a whole number from -9 to 9"),
			       NULL;
		field->scale = (gint)n;
	}
	if (phase != NULL) {
		if (!wbd_tuya_profile_parse_int(phase, 1, WBD_TUYA_MAX_PHASE, &n))
			return wbd_tuya_profile_error(error, name, group, "phase must be 1, 2 or 3"), NULL;
		field->phase = (guint)n;
	}
	field->negate_byte = -1;
	if (negate != NULL) {
		g_auto(GStrv) parts = g_strsplit(negate, ":", 2);
		gint64 bit;
		if (g_strv_length(parts) != 2 || !wbd_tuya_profile_parse_int(parts[0], 0, (*dp)->record_length - 1, &n) ||
		    !wbd_tuya_profile_parse_int(parts[1], 0, 7, &bit))
			return wbd_tuya_profile_error(error,
						      name,
						      group,
						      "negative-if-bit must be BYTE:BIT, a byte of the record and a bit "
						      "from 0 to 7"),
			       NULL;
		field->negate_byte = (gint)n;
		field->negate_bit = (guint)bit;
	}
	if (property == NULL || !g_str_has_prefix(property, "ElectricityMeter.") ||
	    !wbd_tuya_quantity_from_property(property + strlen("ElectricityMeter."), &quantity))
		return wbd_tuya_profile_error(error, name, group, "property must be ElectricityMeter.<quantity>"), NULL;
	field->property = g_strdup(property + strlen("ElectricityMeter."));
	return g_steal_pointer(&field);
}

/* standard base64 with its '=' padding, nothing else: g_base64_decode() skips junk */
static gboolean
is_strict_base64(const gchar *text, gsize len)
{
	gsize pad = 0;
	if (len == 0 || len % 4 != 0)
		return FALSE;
	while (pad < 2 && text[len - 1 - pad] == '=')
		pad++;
	for (gsize i = 0; i < len - pad; i++) {
		if (!g_ascii_isalnum(text[i]) && text[i] != '+' && text[i] != '/')
			return FALSE;
	}
	return TRUE;
}

static gboolean
record_error(GError **error, const WbdTuyaDp *dp, const gchar *what)
{
	g_set_error(error, WATTBUS_ERROR, WATTBUS_ERROR_FAILED, "DP %s (%s): %s", dp->id, dp->name, what);
	return FALSE;
}

/**
 * wbd_tuya_dp_decode_record:
 * @raw: the DP's value as the device sent it (a string)
 *
 * Returns: (transfer full) (nullable): the record's bytes, or %NULL with an
 *   %WATTBUS_ERROR_FAILED error when @raw is not strict base64 (or hex), or
 *   when the record is not exactly the profile's length
 */
GBytes *
wbd_tuya_dp_decode_record(const WbdTuyaDp *dp, GVariant *raw, GError **error)
{
	g_autofree guint8 *data = NULL;
	const gchar *text;
	gsize len = 0;

	g_return_val_if_fail(dp->type == WBD_TUYA_DP_RAW, NULL);
	if (!g_variant_is_of_type(raw, G_VARIANT_TYPE_STRING))
		return record_error(error, dp, "a raw DP must be a string"), NULL;
	text = g_variant_get_string(raw, &len);
	/* longer than the longest record in either encoding: not worth decoding */
	if (len > WBD_TUYA_MAX_RECORD * 2 + 4)
		return record_error(error, dp, "the record is too long"), NULL;
	if (dp->hex) {
		if (len % 2 != 0)
			return record_error(error, dp, "not an even number of hex digits"), NULL;
		data = g_malloc0(len / 2 + 1);
		for (gsize i = 0; i < len; i += 2) {
			gint hi = g_ascii_xdigit_value(text[i]), lo = g_ascii_xdigit_value(text[i + 1]);
			if (hi < 0 || lo < 0)
				return record_error(error, dp, "not hex digits"), NULL;
			data[i / 2] = (guint8)(hi << 4 | lo);
		}
		len /= 2;
	} else {
		if (!is_strict_base64(text, len))
			return record_error(error, dp, "not base64"), NULL;
		data = g_base64_decode(text, &len);
	}
	if (len != dp->record_length) {
		g_autofree gchar *msg = g_strdup_printf("a record of %" G_GSIZE_FORMAT " bytes, the profile "
							"expects %u; not read",
							len,
							dp->record_length);
		return record_error(error, dp, msg), NULL;
	}
	return g_bytes_new_take(g_steal_pointer(&data), len);
}

/* the field's value, scaled; @record has the DP's length (checked) */
gdouble
wbd_tuya_field_get_number(const WbdTuyaField *field, const guint8 *record, gsize len)
{
	guint64 u = 0;
	gdouble v;

	g_return_val_if_fail(field->offset + field->length <= len, NAN);
	for (guint i = 0; i < field->length; i++) {
		guint index = field->little_endian ? field->offset + field->length - 1 - i : field->offset + i;
		u = u << 8 | record[index];
	}
	if (field->is_signed && field->length < 8 && (u >> (field->length * 8 - 1)) & 1)
		v = (gdouble)(gint64)(u | (~G_GUINT64_CONSTANT(0) << (field->length * 8)));
	else if (field->is_signed)
		v = (gdouble)(gint64)u;
	else
		v = (gdouble)u;
	if (field->negate_byte >= 0 && (guint)field->negate_byte < len &&
	    (record[field->negate_byte] >> field->negate_bit) & 1)
		v = -v;
	return v / pow(10, field->scale);
}

static void
reading_set(WbdMeterReading *reading, WbdQuantity quantity, guint phase, gdouble value)
{
	if (phase == 0) {
		wbd_meter_reading_set(reading, quantity, value);
		return;
	}
	if (!isfinite(value) || phase > WBD_METER_MAX_PHASES)
		return;
	reading->phase[quantity][phase - 1] = value;
	reading->phase_measured |= 1u << quantity;
}

/**
 * wbd_tuya_meter_apply_dp:
 * @dp: an ElectricityMeter DP of @profile, or a raw DP with fields
 * @raw: its new value
 * @dps: every DP's latest value (for a sign given by another DP)
 *
 * Feeds @raw into @reading. An increment is not a reading and is left alone.
 *
 * Returns: whether @reading changed; %FALSE with an error for a bad record
 */
gboolean
wbd_tuya_meter_apply_dp(WbdTuyaProfile *profile,
			const WbdTuyaDp *dp,
			GVariant *raw,
			GHashTable *dps,
			WbdMeterReading *reading,
			GError **error)
{
	WbdQuantity quantity;
	gdouble number;

	if (dp->type == WBD_TUYA_DP_RAW) {
		g_autoptr(GBytes) record = NULL;
		const guint8 *data;
		gsize len;

		if (dp->fields == NULL || dp->fields->len == 0)
			return FALSE;
		record = wbd_tuya_dp_decode_record(dp, raw, error);
		if (record == NULL)
			return FALSE;
		data = g_bytes_get_data(record, &len);
		for (guint i = 0; i < dp->fields->len; i++) {
			const WbdTuyaField *field = g_ptr_array_index(dp->fields, i);
			if (wbd_tuya_quantity_from_property(field->property, &quantity))
				reading_set(reading, quantity, field->phase, wbd_tuya_field_get_number(field, data, len));
		}
		return TRUE;
	}
	if (dp->increment || g_strcmp0(dp->interface, "ElectricityMeter") != 0 ||
	    !wbd_tuya_quantity_from_property(dp->property, &quantity) || !wbd_tuya_dp_get_number(dp, raw, &number))
		return FALSE;
	if (dp->negate_dp != NULL) {
		GVariant *sign = g_hash_table_lookup(dps, dp->negate_dp);
		if (sign != NULL && g_variant_is_of_type(sign, G_VARIANT_TYPE_STRING) &&
		    g_strcmp0(g_variant_get_string(sign, NULL), dp->negate_value) == 0)
			number = -number;
	}
	reading_set(reading, quantity, dp->phase, number);
	return TRUE;
}

/**
 * wbd_tuya_meter_add_totals:
 *
 * For a meter that reports phases (or channels) separately: the totals the profile
 * has no DP for, from the phases once every phase has a value: power, reactive and
 * apparent power and current are the sums, voltage the mean. For a single-phase
 * profile with `derive-apparent-power=true`, ApparentPower is Voltage × Current.
 */
void
wbd_tuya_meter_add_totals(WbdTuyaProfile *profile, WbdMeterReading *reading)
{
	static const WbdQuantity derived[] = {WBD_QUANTITY_POWER,
					      WBD_QUANTITY_CURRENT,
					      WBD_QUANTITY_REACTIVE_POWER,
					      WBD_QUANTITY_APPARENT_POWER,
					      WBD_QUANTITY_VOLTAGE};
	guint n = MIN(wbd_tuya_profile_get_n_phases(profile), WBD_METER_MAX_PHASES);

	if (wbd_tuya_profile_get_derive_apparent(profile) && n == 0 &&
	    !wbd_tuya_profile_feeds(profile, WBD_QUANTITY_APPARENT_POWER, 0) &&
	    wbd_meter_reading_has(reading, WBD_QUANTITY_VOLTAGE) && wbd_meter_reading_has(reading, WBD_QUANTITY_CURRENT))
		wbd_meter_reading_set(reading,
				      WBD_QUANTITY_APPARENT_POWER,
				      reading->values[WBD_QUANTITY_VOLTAGE] * fabs(reading->values[WBD_QUANTITY_CURRENT]));
	if (n == 0)
		return;
	reading->n_phases = n;
	for (guint i = 0; i < G_N_ELEMENTS(derived); i++) {
		WbdQuantity q = derived[i];
		gdouble sum = 0;
		gboolean all = (reading->phase_measured & (1u << q)) != 0;

		if (wbd_tuya_profile_feeds(profile, q, 0))
			continue;
		for (guint p = 0; p < n && all; p++) {
			all = isfinite(reading->phase[q][p]);
			sum += reading->phase[q][p];
		}
		if (all)
			wbd_meter_reading_set(reading, q, q == WBD_QUANTITY_VOLTAGE ? sum / n : sum);
	}
}
