/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

#include "wbd-meter-reading.h"
#include "wbd-tuya-profile.h"

G_BEGIN_DECLS

void
wbd_tuya_field_free(WbdTuyaField *field);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WbdTuyaField, wbd_tuya_field_free)

WbdTuyaField *
wbd_tuya_field_parse(GKeyFile *kf,
		     const gchar *name,
		     const gchar *group,
		     WbdTuyaDp **dp,
		     WbdTuyaProfile *profile,
		     GError **error);

GBytes *
wbd_tuya_dp_decode_record(const WbdTuyaDp *dp, GVariant *raw, GError **error);
gdouble
wbd_tuya_field_get_number(const WbdTuyaField *field, const guint8 *record, gsize len);

gboolean
wbd_tuya_meter_apply_dp(WbdTuyaProfile *profile,
			const WbdTuyaDp *dp,
			GVariant *raw,
			GHashTable *dps,
			WbdMeterReading *reading,
			GError **error);
void
wbd_tuya_meter_add_totals(WbdTuyaProfile *profile, WbdMeterReading *reading);

G_END_DECLS
