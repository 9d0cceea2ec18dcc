/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>
#include <wattbus-glib.h>

#include "wbd-device-private.h"

/*
 * A device's values for the exporters: every property change of its interfaces (the
 * skeletons' notify) that really changes the D-Bus value is kept in pending_changes,
 * and an idle emits them as ONE values-changed per device per main-loop turn, stamped
 * with the time of the first (pending_since). last_values holds what was last reported
 * of each property, to tell a real change from GObject's notify on every set.
 */

static gboolean
wbd_device_emit_changes_cb(gpointer user_data)
{
	WbdDevice *self = WBD_DEVICE(user_data);
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	g_autoptr(GHashTable) changes = g_steal_pointer(&priv->pending_changes);
	GVariantBuilder builder;
	GHashTableIter iter;
	const gchar *name;
	GVariant *value;

	priv->changes_idle_id = 0;
	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	g_hash_table_iter_init(&iter, changes);
	while (g_hash_table_iter_next(&iter, (gpointer *)&name, (gpointer *)&value))
		g_variant_builder_add(&builder, "{sv}", name, value);
	wbd_device_emit_values_changed(self, priv->pending_since, g_variant_builder_end(&builder));
	return G_SOURCE_REMOVE;
}

/* "power-factor" → "PowerFactor", the inverse of gdbus-codegen's naming */
static gchar *
wbd_property_to_dbus_name(const gchar *name)
{
	GString *str = g_string_new(NULL);
	gboolean upper = TRUE;
	for (const gchar *p = name; *p != '\0'; p++) {
		if (*p == '-' || *p == '_') {
			upper = TRUE;
			continue;
		}
		g_string_append_c(str, upper ? g_ascii_toupper(*p) : *p);
		upper = FALSE;
	}
	return g_string_free(str, FALSE);
}

/* what the D-Bus value of the two would compare equal: doubles bit by bit (a NaN that stays
 * NaN is no change), a NULL string as "", GVariants and string arrays by content */
static gboolean
wbd_device_value_equal(const GValue *a, const GValue *b, GParamSpec *pspec)
{
	GType type = G_VALUE_TYPE(a);

	if (type != G_VALUE_TYPE(b))
		return FALSE;
	if (type == G_TYPE_DOUBLE) {
		gdouble x = g_value_get_double(a);
		gdouble y = g_value_get_double(b);
		return memcmp(&x, &y, sizeof(x)) == 0;
	}
	if (type == G_TYPE_STRING) {
		const gchar *x = g_value_get_string(a);
		const gchar *y = g_value_get_string(b);
		return g_strcmp0(x != NULL ? x : "", y != NULL ? y : "") == 0;
	}
	if (type == G_TYPE_VARIANT) {
		GVariant *x = g_value_get_variant(a);
		GVariant *y = g_value_get_variant(b);
		return x == y || (x != NULL && y != NULL && g_variant_equal(x, y));
	}
	if (type == G_TYPE_STRV) {
		const gchar *const empty[] = {NULL};
		const gchar *const *x = g_value_get_boxed(a);
		const gchar *const *y = g_value_get_boxed(b);
		return g_strv_equal(x != NULL ? x : empty, y != NULL ? y : empty);
	}
	/* booleans, integers, enums: their own comparison */
	return g_param_values_cmp(pspec, a, b) == 0;
}

static WbdDeviceValue *
wbd_device_lookup_value(WbdDevice *self, const gchar *name)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	for (guint i = 0; i < priv->n_last_values; i++) {
		WbdDeviceValue *entry = &priv->last_values[i];
		if (entry->name == name || g_str_equal(entry->name, name))
			return entry;
	}
	return NULL;
}

/* a new property: the array grows by one, to the exact size (a GArray would round it up to a
 * power of two: 1 KiB instead of 608 bytes for the 19 values of a metered plug) */
static WbdDeviceValue *
wbd_device_add_value(WbdDevice *self, const gchar *name, GType type)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	WbdDeviceValue *entry;

	priv->last_values = g_renew(WbdDeviceValue, priv->last_values, priv->n_last_values + 1);
	entry = &priv->last_values[priv->n_last_values++];
	entry->name = g_intern_string(name);
	memset(&entry->value, 0, sizeof(entry->value));
	g_value_init(&entry->value, type);
	return entry;
}

static void
wbd_device_property_notify_cb(GObject *skeleton, GParamSpec *pspec, WbdDevice *self)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	GDBusInterfaceInfo *info = NULL;
	GDBusPropertyInfo *prop = NULL;
	g_auto(GValue) value = G_VALUE_INIT;
	WbdDeviceValue *last;

	/*
	 * Identity is not a reading; of the Device interface only Online is (LastSeen,
	 * set at every poll, is not: exporters carry their own time stamp). Checked
	 * before anything is allocated.
	 */
	if (skeleton == G_OBJECT(priv->iface_device) && g_strcmp0(pspec->name, "online") != 0)
		return;
	info = g_dbus_interface_skeleton_get_info(G_DBUS_INTERFACE_SKELETON(skeleton));
	/* gdbus-codegen gives each property the D-Bus name as its nick */
	prop = g_dbus_interface_info_lookup_property(info, g_param_spec_get_nick(pspec));
	if (prop == NULL) {
		g_autofree gchar *dbus_name = wbd_property_to_dbus_name(pspec->name);
		prop = g_dbus_interface_info_lookup_property(info, dbus_name);
	}
	if (prop == NULL)
		return;
	g_value_init(&value, pspec->value_type);
	g_object_get_property(skeleton, pspec->name, &value);
	/* GObject notifies on every set, changed or not: report only real changes */
	last = wbd_device_lookup_value(self, prop->name);
	if (last != NULL && wbd_device_value_equal(&last->value, &value, pspec))
		return;
	if (last == NULL) {
		last = wbd_device_add_value(self, prop->name, pspec->value_type);
	} else if (G_VALUE_TYPE(&last->value) != pspec->value_type) {
		/* the same name on another interface, of another type */
		g_value_unset(&last->value);
		g_value_init(&last->value, pspec->value_type);
	}
	g_value_copy(&value, &last->value);
	if (priv->pending_changes == NULL) {
		priv->pending_changes = g_hash_table_new_full(g_str_hash,
							      g_str_equal,
							      NULL,
							      (GDestroyNotify)g_variant_unref);
		priv->pending_since = (guint64)g_get_real_time();
	}
	/* g_dbus_gvalue_to_gvariant() returns a full reference, not a floating one */
	g_hash_table_replace(priv->pending_changes,
			     (gpointer)last->name,
			     g_dbus_gvalue_to_gvariant(&value, G_VARIANT_TYPE(prop->signature)));
	if (priv->changes_idle_id == 0)
		priv->changes_idle_id = g_idle_add(wbd_device_emit_changes_cb, self);
}

/* @skeleton's property changes are values (some of the Device interface's excepted) */
void
wbd_device_track_values(WbdDevice *self, gpointer skeleton)
{
	g_signal_connect(skeleton, "notify", G_CALLBACK(wbd_device_property_notify_cb), self);
}

void
wbd_device_untrack_values(WbdDevice *self, gpointer skeleton)
{
	g_signal_handlers_disconnect_by_func(skeleton, wbd_device_property_notify_cb, self);
}

/* dispose: what is pending is dropped */
void
wbd_device_clear_pending_values(WbdDevice *self)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	g_clear_handle_id(&priv->changes_idle_id, g_source_remove);
	g_clear_pointer(&priv->pending_changes, g_hash_table_unref);
}

/* finalize */
void
wbd_device_free_values(WbdDevice *self)
{
	WbdDevicePrivate *priv = GET_PRIVATE(self);
	for (guint i = 0; i < priv->n_last_values; i++)
		g_value_unset(&priv->last_values[i].value);
	g_free(priv->last_values);
}
