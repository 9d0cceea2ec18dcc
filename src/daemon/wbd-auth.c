/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <polkit/polkit.h>
#include <wattbus-glib.h>

#include "wbd-auth.h"
#include "wbd-driver.h"

/*
 * The one table of the state-changing methods of the shared interfaces and the polkit
 * action each needs; a driver's own interfaces have theirs in its WbdDriverInfo
 * (auth_rules). Methods listed in neither are open (they only read); a method that
 * changes state and is missing is a bug, so handlers ask wbd_auth_check_async(), which
 * denies any method it does not know (tests/dbus/test-core.c checks the whole API).
 */
static const struct {
	const gchar *interface_name;
	const gchar *method_name;
	const gchar *action_id;
} auth_table[] = {
    {"org.wattbus.Wattbus1", "AddDevice", "org.wattbus.Wattbus1.manage-devices"},
    {"org.wattbus.Wattbus1", "RemoveDevice", "org.wattbus.Wattbus1.manage-devices"},
    {"org.wattbus.Wattbus1", "Reload", "org.wattbus.Wattbus1.reload"},
    /* only reads, but holds sockets for up to a minute and probes the network */
    {"org.wattbus.Wattbus1", "Discover", "org.wattbus.Wattbus1.discover"},
    {"org.wattbus.Wattbus1.Outlet", "TurnOn", "org.wattbus.Wattbus1.switch-outlet"},
    {"org.wattbus.Wattbus1.Outlet", "TurnOff", "org.wattbus.Wattbus1.switch-outlet"},
    {"org.wattbus.Wattbus1.Outlet", "Toggle", "org.wattbus.Wattbus1.switch-outlet"},
    {"org.wattbus.Wattbus1.WaterMeter", "SetSwitch", "org.wattbus.Wattbus1.switch-outlet"},
    {"org.wattbus.Wattbus1.WaterMeter", "SetValve", "org.wattbus.Wattbus1.switch-outlet"},
    {"org.wattbus.Wattbus1.WaterMeter", "SetValveOpenness", "org.wattbus.Wattbus1.control-device"},
    {"org.wattbus.Wattbus1.WaterMeter", "SetColdSharingType", "org.wattbus.Wattbus1.control-device"},
    {"org.wattbus.Wattbus1.WaterMeter", "SetHotSharingType", "org.wattbus.Wattbus1.control-device"},
    {"org.wattbus.Wattbus1.Exporter", "Flush", "org.wattbus.Wattbus1.manage-exporters"},
    {"org.wattbus.Wattbus1.Exporter", "Enable", "org.wattbus.Wattbus1.manage-exporters"},
    {"org.wattbus.Wattbus1.Exporter", "Disable", "org.wattbus.Wattbus1.manage-exporters"},
};

struct _WbdAuth {
	GObject parent_instance;
	gboolean use_polkit;
	PolkitAuthority *authority; /* NULL until first needed */
};

G_DEFINE_TYPE(WbdAuth, wbd_auth, G_TYPE_OBJECT)

static WbdAuth *default_auth = NULL;

const gchar *
wbd_auth_lookup_action(const gchar *interface_name, const gchar *method_name)
{
	for (gsize i = 0; i < G_N_ELEMENTS(auth_table); i++) {
		if (g_strcmp0(auth_table[i].interface_name, interface_name) == 0 &&
		    g_strcmp0(auth_table[i].method_name, method_name) == 0)
			return auth_table[i].action_id;
	}
	return wbd_driver_lookup_action(interface_name, method_name);
}

typedef struct {
	gchar *action_id;
	gchar *sender;
} CheckData;

static void
check_data_free(CheckData *data)
{
	g_free(data->action_id);
	g_free(data->sender);
	g_free(data);
}

static void
check_authorization_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	CheckData *data = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(PolkitAuthorizationResult) result = NULL;

	result = polkit_authority_check_authorization_finish(POLKIT_AUTHORITY(source), res, &error);
	if (result == NULL) {
		g_warning("polkit check for %s failed: %s", data->action_id, error->message);
		g_task_return_new_error(task,
					WATTBUS_ERROR,
					WATTBUS_ERROR_PERMISSION_DENIED,
					"Not authorized: cannot check the polkit action %s",
					data->action_id);
		return;
	}
	if (!polkit_authorization_result_get_is_authorized(result)) {
		g_debug("polkit denied %s to %s", data->action_id, data->sender);
		g_task_return_new_error(task,
					WATTBUS_ERROR,
					WATTBUS_ERROR_PERMISSION_DENIED,
					"Not authorized: this needs the polkit action %s",
					data->action_id);
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void
authority_ready_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	WbdAuth *self = g_task_get_source_object(task);
	CheckData *data = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(PolkitSubject) subject = NULL;
	GCancellable *cancellable;

	if (self->authority == NULL) {
		self->authority = polkit_authority_get_finish(res, &error);
		if (self->authority == NULL) {
			g_warning("cannot reach polkit: %s", error->message);
			g_task_return_new_error(task,
						WATTBUS_ERROR,
						WATTBUS_ERROR_PERMISSION_DENIED,
						"Not authorized: polkit is not available");
			return;
		}
	}
	subject = polkit_system_bus_name_new(data->sender);
	cancellable = g_task_get_cancellable(task);
	polkit_authority_check_authorization(
	    self->authority,
	    subject,
	    data->action_id,
	    NULL,
	    POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION,
	    cancellable,
	    check_authorization_cb,
	    g_steal_pointer(&task));
}

/**
 * wbd_auth_check_async:
 *
 * Checks that the caller of @invocation may call its method. On the session bus
 * everything is allowed; on the system bus polkit decides. A method missing from the
 * table is refused.
 */
void
wbd_auth_check_async(WbdAuth *self,
		     GDBusMethodInvocation *invocation,
		     GCancellable *cancellable,
		     GAsyncReadyCallback callback,
		     gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	const gchar *action_id;
	CheckData *data;

	g_task_set_source_tag(task, wbd_auth_check_async);
	action_id = wbd_auth_lookup_action(g_dbus_method_invocation_get_interface_name(invocation),
					   g_dbus_method_invocation_get_method_name(invocation));
	if (action_id == NULL) {
		g_task_return_new_error(task,
					WATTBUS_ERROR,
					WATTBUS_ERROR_PERMISSION_DENIED,
					"Not authorized: %s.%s has no polkit action",
					g_dbus_method_invocation_get_interface_name(invocation),
					g_dbus_method_invocation_get_method_name(invocation));
		return;
	}
	if (!self->use_polkit) {
		g_task_return_boolean(task, TRUE);
		return;
	}
	data = g_new0(CheckData, 1);
	data->action_id = g_strdup(action_id);
	data->sender = g_strdup(g_dbus_method_invocation_get_sender(invocation));
	g_task_set_task_data(task, data, (GDestroyNotify)check_data_free);
	if (self->authority != NULL) {
		authority_ready_cb(NULL, NULL, g_steal_pointer(&task));
		return;
	}
	polkit_authority_get_async(cancellable, authority_ready_cb, g_steal_pointer(&task));
}

gboolean
wbd_auth_check_finish(WbdAuth *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

WbdAuth *
wbd_auth_get_default(void)
{
	if (default_auth == NULL)
		default_auth = wbd_auth_new(FALSE);
	return default_auth;
}

void
wbd_auth_set_default(WbdAuth *auth)
{
	g_set_object(&default_auth, auth);
}

static void
wbd_auth_finalize(GObject *object)
{
	WbdAuth *self = WBD_AUTH(object);
	g_clear_object(&self->authority);
	G_OBJECT_CLASS(wbd_auth_parent_class)->finalize(object);
}

static void
wbd_auth_class_init(WbdAuthClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = wbd_auth_finalize;
}

static void
wbd_auth_init(WbdAuth *self)
{
}

WbdAuth *
wbd_auth_new(gboolean use_polkit)
{
	WbdAuth *self = g_object_new(WBD_TYPE_AUTH, NULL);
	self->use_polkit = use_polkit;
	return self;
}
