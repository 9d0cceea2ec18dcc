/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "wbd-object-manager.h"
#include "wbd-skeleton.h"

/**
 * WbdObjectManager:
 *
 * The `org.freedesktop.DBus.ObjectManager` of the daemon's objects (devices and
 * exporters), as #GDBusObjectManagerServer serves it, but for how `GetManagedObjects` is
 * answered. #GDBusObjectManagerServer asks every skeleton for every property at every
 * call (a `GValue`, then a `GVariant`, for each), which at a thousand devices held the
 * main loop for 160–200 ms a call and left 12–14 MB of freed memory behind. Here each
 * interface's `{sa{sv}}` entry is kept, serialised (one block of a few hundred bytes),
 * from one call to the next; when properties change (the skeleton's #GObject::notify,
 * which gdbus-codegen emits only on a change), only they are read again and the entry is
 * put together from them and the others' values kept (every device's `LastSeen` moves
 * at every poll: re-reading whole interfaces cost as much again as the reply). A reply
 * is assembled from what is kept. `InterfacesAdded` carries the same entries.
 *
 * The calls are those of #GDBusObjectManagerServer that the daemon uses: export,
 * unexport, set the connection; objects must have their path set, under the manager's.
 * It implements #GDBusObjectManager, so the daemon's own code can look objects up.
 */

typedef struct _WbdExportedObject WbdExportedObject;

/* How a gdbus-codegen skeleton class keeps its properties, worked out once per class: the
 * D-Bus property at index i of the interface info is the GObject property numbered i + 1
 * (wbd_skeleton_set_value() relies on it too; the class's #GParamSpec is the
 * interface's, whose own number is 0). Not "usable" for a property without a #GParamSpec
 * or not readable, or for more properties than a mask of changes has bits: then a change
 * re-reads them all. */
typedef struct {
	GDBusInterfaceInfo *info;
	guint n_properties;
	gboolean usable;
	GParamSpec **pspecs; /* of index i: info->properties[i], numbered i + 1 in the class */
	GQuark *names;	     /* their names, as #GObject::notify gives them */
} WbdSkeletonLayout;

#define ALL_CHANGED G_MAXUINT64

typedef struct {
	WbdExportedObject *object;
	GDBusInterfaceSkeleton *skeleton;
	const WbdSkeletonLayout *layout;
	gulong notify_id;
	GVariant *entry; /* {sa{sv}}, serialised, with a{sv} in the order of the info */
	guint64 changed; /* bit i: info->properties[i] changed since @entry was made */
} WbdExportedInterface;

struct _WbdExportedObject {
	WbdObjectManager *manager;
	GDBusObjectSkeleton *object;
	gchar *path;
	GPtrArray *interfaces; /* of WbdExportedInterface, in the order they were added */
	gulong added_id;
	gulong removed_id;
};

struct _WbdObjectManager {
	GObject parent_instance;
	gchar *object_path;
	GDBusConnection *connection;
	guint registration_id;
	GHashTable *objects; /* object path → WbdExportedObject */
};

static void
wbd_object_manager_iface_init(GDBusObjectManagerIface *iface);

G_DEFINE_TYPE_WITH_CODE(WbdObjectManager,
			wbd_object_manager,
			G_TYPE_OBJECT,
			G_IMPLEMENT_INTERFACE(G_TYPE_DBUS_OBJECT_MANAGER, wbd_object_manager_iface_init))

static const gchar introspection_xml[] =
    "<node>"
    "  <interface name='org.freedesktop.DBus.ObjectManager'>"
    "    <method name='GetManagedObjects'>"
    "      <arg type='a{oa{sa{sv}}}' name='object_paths_interfaces_and_properties' direction='out'/>"
    "    </method>"
    "    <signal name='InterfacesAdded'>"
    "      <arg type='o' name='object_path'/>"
    "      <arg type='a{sa{sv}}' name='interfaces_and_properties'/>"
    "    </signal>"
    "    <signal name='InterfacesRemoved'>"
    "      <arg type='o' name='object_path'/>"
    "      <arg type='as' name='interfaces'/>"
    "    </signal>"
    "  </interface>"
    "</node>";

static GDBusInterfaceInfo *
wbd_object_manager_interface_info(void)
{
	static GDBusNodeInfo *node;
	if (g_once_init_enter(&node)) {
		GDBusNodeInfo *info = g_dbus_node_info_new_for_xml(introspection_xml, NULL);
		g_assert(info != NULL);
		g_once_init_leave(&node, info);
	}
	return node->interfaces[0];
}

/* interfaces */

static const gchar *
exported_interface_name(WbdExportedInterface *iface)
{
	return g_dbus_interface_skeleton_get_info(iface->skeleton)->name;
}

static const WbdSkeletonLayout *
skeleton_layout(GDBusInterfaceSkeleton *skeleton)
{
	static GQuark quark;
	GType type = G_OBJECT_TYPE(skeleton);
	WbdSkeletonLayout *layout;

	if (quark == 0)
		quark = g_quark_from_static_string("wbd-skeleton-layout");
	layout = g_type_get_qdata(type, quark);
	if (layout != NULL)
		return layout;
	/* kept as long as the type, that is for good */
	layout = g_new0(WbdSkeletonLayout, 1);
	layout->info = g_dbus_interface_skeleton_get_info(skeleton);
	while (layout->info->properties != NULL && layout->info->properties[layout->n_properties] != NULL)
		layout->n_properties++;
	layout->usable = layout->n_properties <= 64;
	layout->pspecs = g_new0(GParamSpec *, layout->n_properties);
	layout->names = g_new0(GQuark, layout->n_properties);
	for (guint i = 0; i < layout->n_properties; i++) {
		GDBusPropertyInfo *property = layout->info->properties[i];
		g_autofree gchar *name = wbd_skeleton_gobject_name(property->name);
		GParamSpec *pspec = g_object_class_find_property(G_OBJECT_GET_CLASS(skeleton), name);
		if (pspec == NULL || (property->flags & G_DBUS_PROPERTY_INFO_FLAGS_READABLE) == 0)
			layout->usable = FALSE;
		layout->pspecs[i] = pspec;
		layout->names[i] = g_quark_from_string(name);
	}
	g_type_set_qdata(type, quark, layout);
	return layout;
}

static void
exported_interface_notify_cb(GObject *skeleton, GParamSpec *pspec, WbdExportedInterface *iface)
{
	const WbdSkeletonLayout *layout = iface->layout;
	GQuark name = g_param_spec_get_name_quark(pspec);

	if (!layout->usable) {
		iface->changed = ALL_CHANGED;
		return;
	}
	/* a property of the skeleton that is not one of the interface's ("g-flags") changes nothing */
	for (guint i = 0; i < layout->n_properties; i++) {
		if (layout->names[i] == name) {
			iface->changed |= G_GUINT64_CONSTANT(1) << i;
			return;
		}
	}
}

/* (transfer full) {sv}: property @i as it is now */
static GVariant *
exported_interface_read(WbdExportedInterface *iface, guint i)
{
	GObject *skeleton = G_OBJECT(iface->skeleton);
	GDBusPropertyInfo *property = iface->layout->info->properties[i];
	GParamSpec *pspec = iface->layout->pspecs[i];
	g_auto(GValue) value = G_VALUE_INIT;
	g_autoptr(GVariant) variant = NULL;

	/* as the skeleton's own get_properties() does, without looking the property up by
	 * its name twice */
	g_value_init(&value, pspec->value_type);
	G_OBJECT_GET_CLASS(skeleton)->get_property(skeleton, i + 1, &value, pspec);
	variant = g_dbus_gvalue_to_gvariant(&value, G_VARIANT_TYPE(property->signature));
	return g_variant_ref_sink(
	    g_variant_new_dict_entry(g_variant_new_string(property->name), g_variant_new_variant(variant)));
}

/* (transfer full) a{sv}: what changed read again, the rest taken from @iface->entry */
static GVariant *
exported_interface_properties(WbdExportedInterface *iface)
{
	const WbdSkeletonLayout *layout = iface->layout;
	guint n = layout->n_properties;
	g_autoptr(GVariant) kept = NULL;
	g_autofree GVariant **children = NULL;
	GVariant *properties;

	if (!layout->usable) /* (transfer full) too */
		return g_dbus_interface_skeleton_get_properties(iface->skeleton);
	if (iface->entry != NULL)
		kept = g_variant_get_child_value(iface->entry, 1);
	children = g_new(GVariant *, n);
	for (guint i = 0; i < n; i++) {
		gboolean changed = (iface->changed & (G_GUINT64_CONSTANT(1) << i)) != 0;
		children[i] = kept != NULL && !changed ? g_variant_get_child_value(kept, i)
						       : exported_interface_read(iface, i);
	}
	properties = g_variant_ref_sink(g_variant_new_array(G_VARIANT_TYPE("{sv}"), children, n));
	for (guint i = 0; i < n; i++)
		g_variant_unref(children[i]);
	return properties;
}

/* (transfer none) {sa{sv}}: the interface's name and its properties as they are now */
static GVariant *
exported_interface_entry(WbdExportedInterface *iface)
{
	if (iface->entry == NULL || iface->changed != 0) {
		g_autoptr(GVariant) properties = exported_interface_properties(iface);
		GVariant *entry = g_variant_ref_sink(
		    g_variant_new_dict_entry(g_variant_new_string(exported_interface_name(iface)), properties));
		/* one flat block instead of a tree of a hundred small ones, and no longer a
		 * part of the entry it replaces */
		g_variant_get_data(entry);
		g_clear_pointer(&iface->entry, g_variant_unref);
		iface->entry = entry;
		iface->changed = 0;
	}
	return iface->entry;
}

static void
exported_interface_export(WbdExportedInterface *iface, GDBusConnection *connection)
{
	g_autoptr(GError) error = NULL;
	if (!g_dbus_interface_skeleton_export(iface->skeleton, connection, iface->object->path, &error))
		g_warning("could not export %s on %s: %s",
			  exported_interface_name(iface),
			  iface->object->path,
			  error->message);
}

static void
exported_interface_free(WbdExportedInterface *iface)
{
	g_clear_signal_handler(&iface->notify_id, iface->skeleton);
	if (g_dbus_interface_skeleton_get_object_path(iface->skeleton) != NULL)
		g_dbus_interface_skeleton_unexport(iface->skeleton);
	g_clear_pointer(&iface->entry, g_variant_unref);
	g_object_unref(iface->skeleton);
	g_free(iface);
}

/* objects */

/* (transfer floating) a{sa{sv}} */
static GVariant *
exported_object_interfaces(WbdExportedObject *object, WbdExportedInterface *only)
{
	GPtrArray *interfaces = object->interfaces;
	g_autofree GVariant **entries = g_new(GVariant *, interfaces->len);
	guint n = 0;
	for (guint i = 0; i < interfaces->len; i++) {
		WbdExportedInterface *iface = g_ptr_array_index(interfaces, i);
		if (only == NULL || iface == only)
			entries[n++] = exported_interface_entry(iface);
	}
	return g_variant_new_array(G_VARIANT_TYPE("{sa{sv}}"), entries, n);
}

static void
exported_object_emit(WbdExportedObject *object, const gchar *signal, GVariant *parameters)
{
	WbdObjectManager *manager = object->manager;
	g_autoptr(GError) error = NULL;

	g_variant_ref_sink(parameters);
	if (manager->connection != NULL &&
	    !g_dbus_connection_emit_signal(manager->connection,
					   NULL,
					   manager->object_path,
					   "org.freedesktop.DBus.ObjectManager",
					   signal,
					   parameters,
					   &error))
		g_warning("could not emit %s for %s: %s", signal, object->path, error->message);
	g_variant_unref(parameters);
}

static WbdExportedInterface *
exported_object_add(WbdExportedObject *object, GDBusInterfaceSkeleton *skeleton)
{
	WbdExportedInterface *iface = g_new0(WbdExportedInterface, 1);
	iface->object = object;
	iface->skeleton = g_object_ref(skeleton);
	iface->layout = skeleton_layout(skeleton);
	iface->changed = ALL_CHANGED;
	iface->notify_id =
	    g_signal_connect(skeleton, "notify", G_CALLBACK(exported_interface_notify_cb), iface);
	g_ptr_array_add(object->interfaces, iface);
	if (object->manager->connection != NULL)
		exported_interface_export(iface, object->manager->connection);
	return iface;
}

static void
exported_object_interface_added_cb(GDBusObject *dbus_object,
				   GDBusInterface *interface,
				   WbdExportedObject *object)
{
	WbdExportedInterface *iface;

	g_return_if_fail(G_IS_DBUS_INTERFACE_SKELETON(interface));
	iface = exported_object_add(object, G_DBUS_INTERFACE_SKELETON(interface));
	exported_object_emit(object,
			     "InterfacesAdded",
			     g_variant_new("(o@a{sa{sv}})",
					   object->path,
					   exported_object_interfaces(object, iface)));
	g_signal_emit_by_name(object->manager, "interface-added", dbus_object, interface);
}

static void
exported_object_interface_removed_cb(GDBusObject *dbus_object,
				     GDBusInterface *interface,
				     WbdExportedObject *object)
{
	for (guint i = 0; i < object->interfaces->len; i++) {
		WbdExportedInterface *iface = g_ptr_array_index(object->interfaces, i);
		const gchar *names[] = {exported_interface_name(iface), NULL};
		if (iface->skeleton != G_DBUS_INTERFACE_SKELETON(interface))
			continue;
		exported_object_emit(object,
				     "InterfacesRemoved",
				     g_variant_new("(o^as)", object->path, names));
		g_ptr_array_remove_index(object->interfaces, i);
		g_signal_emit_by_name(object->manager, "interface-removed", dbus_object, interface);
		return;
	}
}

static void
exported_object_free(WbdExportedObject *object)
{
	g_clear_signal_handler(&object->added_id, object->object);
	g_clear_signal_handler(&object->removed_id, object->object);
	g_ptr_array_unref(object->interfaces);
	g_object_unref(object->object);
	g_free(object->path);
	g_free(object);
}

/* D-Bus */

static void
wbd_object_manager_method_call(GDBusConnection *connection,
			       const gchar *sender,
			       const gchar *object_path,
			       const gchar *interface_name,
			       const gchar *method_name,
			       GVariant *parameters,
			       GDBusMethodInvocation *invocation,
			       gpointer user_data)
{
	WbdObjectManager *self = WBD_OBJECT_MANAGER(user_data);
	guint n_objects = g_hash_table_size(self->objects);
	g_autofree GVariant **entries = g_new(GVariant *, n_objects);
	GHashTableIter iter;
	WbdExportedObject *object;
	guint n = 0;

	/* the only method of the interface info: GDBus answers any other itself */
	g_hash_table_iter_init(&iter, self->objects);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&object))
		entries[n++] = g_variant_new_dict_entry(g_variant_new_object_path(object->path),
							exported_object_interfaces(object, NULL));
	g_dbus_method_invocation_return_value(
	    invocation,
	    g_variant_new_tuple(
		(GVariant *[]){g_variant_new_array(G_VARIANT_TYPE("{oa{sa{sv}}}"), entries, n)}, 1));
}

static const GDBusInterfaceVTable wbd_object_manager_vtable = {
    .method_call = wbd_object_manager_method_call,
};

/**
 * wbd_object_manager_set_connection:
 * @connection: (nullable): where to export, or %NULL to stop exporting
 *
 * Exports the manager and every object exported so far on @connection.
 */
void
wbd_object_manager_set_connection(WbdObjectManager *self, GDBusConnection *connection)
{
	GHashTableIter iter;
	WbdExportedObject *object;

	g_return_if_fail(WBD_IS_OBJECT_MANAGER(self));
	g_return_if_fail(connection == NULL || G_IS_DBUS_CONNECTION(connection));
	if (connection == self->connection)
		return;
	if (self->connection != NULL) {
		g_hash_table_iter_init(&iter, self->objects);
		while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&object)) {
			for (guint i = 0; i < object->interfaces->len; i++) {
				WbdExportedInterface *iface = g_ptr_array_index(object->interfaces, i);
				g_dbus_interface_skeleton_unexport(iface->skeleton);
			}
		}
		g_dbus_connection_unregister_object(self->connection, self->registration_id);
		self->registration_id = 0;
		g_clear_object(&self->connection);
	}
	if (connection == NULL)
		return;
	self->connection = g_object_ref(connection);
	g_autoptr(GError) error = NULL;
	self->registration_id = g_dbus_connection_register_object(connection,
								 self->object_path,
								 wbd_object_manager_interface_info(),
								 &wbd_object_manager_vtable,
								 self,
								 NULL,
								 &error);
	if (self->registration_id == 0)
		g_warning("could not export the object manager on %s: %s",
			  self->object_path,
			  error->message);
	g_hash_table_iter_init(&iter, self->objects);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&object)) {
		for (guint i = 0; i < object->interfaces->len; i++)
			exported_interface_export(g_ptr_array_index(object->interfaces, i), connection);
	}
}

/**
 * wbd_object_manager_export:
 * @object: an object whose path is under the manager's
 *
 * Exports @object and every interface it has or gets later; an object exported at the
 * same path before is unexported first.
 */
void
wbd_object_manager_export(WbdObjectManager *self, GDBusObjectSkeleton *dbus_object)
{
	const gchar *path = g_dbus_object_get_object_path(G_DBUS_OBJECT(dbus_object));
	g_autolist(GDBusInterface) interfaces = NULL;
	WbdExportedObject *object;

	g_return_if_fail(WBD_IS_OBJECT_MANAGER(self));
	g_return_if_fail(path != NULL && g_str_has_prefix(path, self->object_path));
	if (g_hash_table_contains(self->objects, path))
		wbd_object_manager_unexport(self, path);

	object = g_new0(WbdExportedObject, 1);
	object->manager = self;
	object->object = g_object_ref(dbus_object);
	object->path = g_strdup(path);
	object->interfaces = g_ptr_array_new_with_free_func((GDestroyNotify)exported_interface_free);
	interfaces = g_dbus_object_get_interfaces(G_DBUS_OBJECT(dbus_object));
	for (GList *l = interfaces; l != NULL; l = l->next) {
		g_return_if_fail(G_IS_DBUS_INTERFACE_SKELETON(l->data));
		exported_object_add(object, G_DBUS_INTERFACE_SKELETON(l->data));
	}
	object->added_id = g_signal_connect(dbus_object,
					    "interface-added",
					    G_CALLBACK(exported_object_interface_added_cb),
					    object);
	object->removed_id = g_signal_connect(dbus_object,
					      "interface-removed",
					      G_CALLBACK(exported_object_interface_removed_cb),
					      object);
	g_hash_table_insert(self->objects, object->path, object);
	exported_object_emit(object,
			     "InterfacesAdded",
			     g_variant_new("(o@a{sa{sv}})", path, exported_object_interfaces(object, NULL)));
	g_signal_emit_by_name(self, "object-added", dbus_object);
}

/**
 * wbd_object_manager_unexport:
 * @object_path: the path of an exported object
 *
 * Returns: %TRUE if an object was exported at @object_path
 */
gboolean
wbd_object_manager_unexport(WbdObjectManager *self, const gchar *object_path)
{
	WbdExportedObject *object;
	g_autoptr(GStrvBuilder) names = g_strv_builder_new();
	g_auto(GStrv) names_strv = NULL;
	g_autoptr(GDBusObject) dbus_object = NULL;

	g_return_val_if_fail(WBD_IS_OBJECT_MANAGER(self), FALSE);
	object = g_hash_table_lookup(self->objects, object_path);
	if (object == NULL)
		return FALSE;
	for (guint i = 0; i < object->interfaces->len; i++)
		g_strv_builder_add(names,
				   exported_interface_name(g_ptr_array_index(object->interfaces, i)));
	names_strv = g_strv_builder_end(names);
	dbus_object = G_DBUS_OBJECT(g_object_ref(object->object));
	g_hash_table_steal(self->objects, object_path);
	exported_object_emit(object,
			     "InterfacesRemoved",
			     g_variant_new("(o^as)", object->path, names_strv));
	exported_object_free(object);
	g_signal_emit_by_name(self, "object-removed", dbus_object);
	return TRUE;
}

/* GDBusObjectManager */

static const gchar *
wbd_object_manager_get_object_path(GDBusObjectManager *manager)
{
	return WBD_OBJECT_MANAGER(manager)->object_path;
}

static GList *
wbd_object_manager_get_objects(GDBusObjectManager *manager)
{
	WbdObjectManager *self = WBD_OBJECT_MANAGER(manager);
	GList *list = NULL;
	GHashTableIter iter;
	WbdExportedObject *object;

	g_hash_table_iter_init(&iter, self->objects);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&object))
		list = g_list_prepend(list, g_object_ref(object->object));
	return list;
}

static GDBusObject *
wbd_object_manager_get_object(GDBusObjectManager *manager, const gchar *object_path)
{
	WbdExportedObject *object = g_hash_table_lookup(WBD_OBJECT_MANAGER(manager)->objects, object_path);
	return object != NULL ? g_object_ref(G_DBUS_OBJECT(object->object)) : NULL;
}

static GDBusInterface *
wbd_object_manager_get_interface(GDBusObjectManager *manager,
				 const gchar *object_path,
				 const gchar *interface_name)
{
	g_autoptr(GDBusObject) object = wbd_object_manager_get_object(manager, object_path);
	return object != NULL ? g_dbus_object_get_interface(object, interface_name) : NULL;
}

static void
wbd_object_manager_iface_init(GDBusObjectManagerIface *iface)
{
	iface->get_object_path = wbd_object_manager_get_object_path;
	iface->get_objects = wbd_object_manager_get_objects;
	iface->get_object = wbd_object_manager_get_object;
	iface->get_interface = wbd_object_manager_get_interface;
}

/* GObject */

static void
wbd_object_manager_dispose(GObject *gobject)
{
	WbdObjectManager *self = WBD_OBJECT_MANAGER(gobject);
	wbd_object_manager_set_connection(self, NULL);
	if (self->objects != NULL)
		g_hash_table_remove_all(self->objects);
	G_OBJECT_CLASS(wbd_object_manager_parent_class)->dispose(gobject);
}

static void
wbd_object_manager_finalize(GObject *gobject)
{
	WbdObjectManager *self = WBD_OBJECT_MANAGER(gobject);
	g_clear_pointer(&self->objects, g_hash_table_unref);
	g_free(self->object_path);
	G_OBJECT_CLASS(wbd_object_manager_parent_class)->finalize(gobject);
}

static void
wbd_object_manager_class_init(WbdObjectManagerClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = wbd_object_manager_dispose;
	object_class->finalize = wbd_object_manager_finalize;
}

static void
wbd_object_manager_init(WbdObjectManager *self)
{
	self->objects =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)exported_object_free);
}

/**
 * wbd_object_manager_new:
 * @object_path: where the manager is, above every object it exports
 */
WbdObjectManager *
wbd_object_manager_new(const gchar *object_path)
{
	WbdObjectManager *self;
	g_return_val_if_fail(g_variant_is_object_path(object_path), NULL);
	self = g_object_new(WBD_TYPE_OBJECT_MANAGER, NULL);
	self->object_path = g_strdup(object_path);
	return self;
}
