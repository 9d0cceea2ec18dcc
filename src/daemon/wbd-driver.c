/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "wbd-driver.h"

static GPtrArray *drivers = NULL; /* of const WbdDriverInfo * */

void
wbd_driver_register(const WbdDriverInfo *info)
{
	g_return_if_fail(info != NULL && info->name != NULL);
	if (drivers == NULL)
		drivers = g_ptr_array_new();
	if (wbd_driver_lookup(info->name) != NULL)
		return;
	g_ptr_array_add(drivers, (gpointer)info);
}

const WbdDriverInfo *
wbd_driver_lookup(const gchar *name)
{
	if (drivers == NULL || name == NULL)
		return NULL;
	for (guint i = 0; i < drivers->len; i++) {
		const WbdDriverInfo *info = g_ptr_array_index(drivers, i);
		if (g_strcmp0(info->name, name) == 0)
			return info;
	}
	return NULL;
}

/* transfer container */
GPtrArray *
wbd_driver_list(void)
{
	GPtrArray *list = g_ptr_array_new();
	for (guint i = 0; drivers != NULL && i < drivers->len; i++)
		g_ptr_array_add(list, g_ptr_array_index(drivers, i));
	return list;
}

gboolean
wbd_driver_is_secret_key(const WbdDriverInfo *info, const gchar *key)
{
	return info->secret_keys != NULL && g_strv_contains(info->secret_keys, key);
}

gboolean
wbd_driver_is_known_key(const WbdDriverInfo *info, const gchar *key)
{
	return info->keys != NULL && g_strv_contains(info->keys, key);
}

/* the polkit action a registered driver names for a method of its own interfaces */
const gchar *
wbd_driver_lookup_action(const gchar *interface_name, const gchar *method_name)
{
	for (guint i = 0; drivers != NULL && i < drivers->len; i++) {
		const WbdDriverInfo *info = g_ptr_array_index(drivers, i);
		for (const WbdAuthRule *rule = info->auth_rules;
		     rule != NULL && rule->interface_name != NULL;
		     rule++) {
			if (g_strcmp0(rule->interface_name, interface_name) == 0 &&
			    g_strcmp0(rule->method_name, method_name) == 0)
				return rule->action_id;
		}
	}
	return NULL;
}
