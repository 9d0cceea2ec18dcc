/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <wattbus-glib.h>

G_BEGIN_DECLS

const gchar *
wbc_device_get_id(WattbusObject *object);
const gchar *
wbc_interface_get_short_name(const gchar *interface_name);
GPtrArray *
wbc_object_list_interfaces(GDBusObject *object);
GStrv
wbc_proxy_list_property_names(GDBusProxy *proxy);
gboolean
wbc_proxy_has_reading(GDBusProxy *proxy, const gchar *property, GVariant *value);

gchar *
wbc_format_interface_title(const gchar *interface_name);
gchar *
wbc_format_property_label(const gchar *property);
gchar *
wbc_format_value(const gchar *property, GVariant *value);
gboolean
wbc_property_is_time(const gchar *property);
gchar *
wbc_format_time_usec(guint64 usec);
gdouble
wbc_device_get_power(WattbusObject *object, const gchar **measurement);
gchar *
wbc_format_power(WattbusObject *object);
const gchar *
wbc_format_measurement(const gchar *measurement);

G_END_DECLS
