/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdlib.h>

#include "wbc-format.h"
#include "wbc-json.h"
#include "wbc.h"

typedef WbcExit (*WbcCommandFunc)(WbcCtl *ctl, gint argc, gchar **argv);

typedef struct {
	const gchar *name;
	const gchar *parameters; /* for the usage line, translated */
	const gchar *summary;	 /* translated */
	WbcCommandFunc func;
} WbcCommand;

static WbcExit
wbc_cmd_help(WbcCtl *ctl, gint argc, gchar **argv);

static const WbcCommand wbc_commands[] = {
    {"list", "", N_("List the devices"), wbc_cmd_list},
    {"show", N_("DEVICE"), N_("Show every property of a device"), wbc_cmd_show},
    {"on", N_("DEVICE"), N_("Switch an outlet on"), wbc_cmd_on},
    {"off", N_("DEVICE"), N_("Switch an outlet off"), wbc_cmd_off},
    {"toggle", N_("DEVICE"), N_("Switch an outlet to its other state"), wbc_cmd_toggle},
    {"refresh", N_("DEVICE"), N_("Poll a device now"), wbc_cmd_refresh},
    {"monitor", "", N_("Print changes as they happen, until interrupted"), wbc_cmd_monitor},
    {"discover", "", N_("Look for devices on the local network"), wbc_cmd_discover},
    {"add", "", N_("Add a device"), wbc_cmd_add},
    {"remove", N_("DEVICE"), N_("Remove a device that was added with 'add'"), wbc_cmd_remove},
    {"reload", "", N_("Make the daemon read its configuration files again"), wbc_cmd_reload},
    {"version", "", N_("Show the versions of wattbusctl and of the daemon"), wbc_cmd_version},
    {"exporters", N_("[flush|enable|disable EXPORTER]"),
     N_("List the exporters, or act on one"), wbc_cmd_exporters},
    {"valve", N_("DEVICE open|closed|PERCENT"),
     N_("Open or close the valve of a water meter, or open it by PERCENT"), wbc_cmd_valve},
    {"water-switch", N_("DEVICE on|off"), N_("Set the switch of a water meter"),
     wbc_cmd_water_switch},
    {"water-sharing", N_("DEVICE cold|hot TYPE"),
     N_("Set how a water meter splits shared cold or hot water"), wbc_cmd_water_sharing},
    {"help", N_("[COMMAND]"), N_("Show the help of wattbusctl or of a command"), wbc_cmd_help},
};

static const WbcCommand *
wbc_command_lookup(const gchar *name)
{
	for (guint i = 0; i < G_N_ELEMENTS(wbc_commands); i++) {
		if (g_strcmp0(wbc_commands[i].name, name) == 0)
			return &wbc_commands[i];
	}
	return NULL;
}

static void
wbc_ctl_add_global_entries(WbcCtl *ctl, GOptionContext *context)
{
	const GOptionEntry entries[] = {
	    {"system", 0, 0, G_OPTION_ARG_NONE, &ctl->system,
	     N_("Talk to the daemon on the system bus (the default)"), NULL},
	    {"session", 0, 0, G_OPTION_ARG_NONE, &ctl->session,
	     N_("Talk to the daemon on the session bus (for tests)"), NULL},
	    {"json", 0, 0, G_OPTION_ARG_NONE, &ctl->json,
	     N_("Print JSON as wattbusctl(1) documents it (monitor: one object per line)"), NULL},
	    {NULL},
	};
	g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
}

/* --version: before a command only */
static void
wbc_ctl_add_version_entry(WbcCtl *ctl, GOptionContext *context)
{
	const GOptionEntry entries[] = {
	    {"version", 0, 0, G_OPTION_ARG_NONE, &ctl->version,
	     N_("Show the versions of wattbusctl and of the daemon"), NULL},
	    {NULL},
	};
	g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
}

static gchar *
wbc_build_summary(void)
{
	GString *str = g_string_new(_("Commands:"));

	for (guint i = 0; i < G_N_ELEMENTS(wbc_commands); i++) {
		const WbcCommand *cmd = &wbc_commands[i];
		const gchar *parameters = cmd->parameters[0] != '\0' ? _(cmd->parameters) : "";
		g_autofree gchar *usage = g_strdup_printf("%s %s", cmd->name, parameters);
		/* pad by characters, not bytes: translations have non-ASCII letters */
		glong width = g_utf8_strlen(usage, -1);
		g_string_append_printf(str, "\n  %s%*s %s", usage, (gint)MAX(34 - width, 0), "",
				       _(cmd->summary));
	}
	return g_string_free(str, FALSE);
}

static const gchar *
wbc_description(void)
{
	return _("A DEVICE is a device id, as 'wattbusctl list' shows it, or an object path.\n"
		 "The environment variable WATTBUS_BUS=session selects the session bus.\n"
		 "\n"
		 "Exit status:\n"
		 "  0  success\n"
		 "  1  failure\n"
		 "  2  wrong usage\n"
		 "  3  the daemon is not running\n"
		 "  4  no such device\n"
		 "  5  permission denied\n"
		 "  6  the device is offline or did not answer in time");
}

WbcExit
wbc_ctl_usage_error(const gchar *command, const gchar *format, ...)
{
	va_list args;
	g_autofree gchar *message = NULL;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	g_printerr("wattbusctl: %s\n", message);
	if (command != NULL)
		g_printerr(_("Try 'wattbusctl %s --help'.\n"), command);
	else
		g_printerr(_("Try 'wattbusctl --help'.\n"));
	return WBC_EXIT_USAGE;
}

/**
 * wbc_ctl_parse_options:
 * @argv: the arguments of the command, @argv[0] being its name
 * @min_args: the number of arguments after the options the command needs
 * @max_args: the number it takes at most
 *
 * Parses the options of a command, the global ones included, so that
 * `wattbusctl list --json` works as well as `wattbusctl --json list`.
 */
WbcExit
wbc_ctl_parse_options(WbcCtl *ctl,
		      const gchar *command,
		      const gchar *parameters,
		      const GOptionEntry *entries,
		      gint *argc,
		      gchar ***argv,
		      gint min_args,
		      gint max_args)
{
	const WbcCommand *cmd = wbc_command_lookup(command);
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *prgname = g_strdup_printf("wattbusctl %s", command);

	context = g_option_context_new(parameters);
	g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
	if (cmd != NULL)
		g_option_context_set_summary(context, _(cmd->summary));
	if (entries != NULL)
		g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
	wbc_ctl_add_global_entries(ctl, context);
	g_set_prgname(prgname);
	if (!g_option_context_parse(context, argc, argv, &error))
		return wbc_ctl_usage_error(command, "%s", error->message);
	if (*argc - 1 < min_args)
		return wbc_ctl_usage_error(command, _("'%s' needs %s"), command, parameters);
	if (*argc - 1 > max_args)
		return wbc_ctl_usage_error(command, _("too many arguments for '%s'"), command);
	return WBC_EXIT_OK;
}

static WbcExit
wbc_ctl_get_bus_type(WbcCtl *ctl, GBusType *bus_type)
{
	const gchar *env = g_getenv("WATTBUS_BUS");

	if (ctl->session && ctl->system)
		return wbc_ctl_usage_error(NULL, _("--session and --system exclude each other"));
	if (ctl->session) {
		*bus_type = G_BUS_TYPE_SESSION;
	} else if (ctl->system || env == NULL || env[0] == '\0' || g_strcmp0(env, "system") == 0) {
		*bus_type = G_BUS_TYPE_SYSTEM;
	} else if (g_strcmp0(env, "session") == 0) {
		*bus_type = G_BUS_TYPE_SESSION;
	} else {
		return wbc_ctl_usage_error(NULL,
					   _("WATTBUS_BUS must be 'session' or 'system', not '%s'"),
					   env);
	}
	return WBC_EXIT_OK;
}

static WbcExit
wbc_ctl_not_running(void)
{
	g_printerr("wattbusctl: %s\n", _("the wattbus daemon is not running"));
	return WBC_EXIT_NOT_RUNNING;
}

static WbcExit
wbc_ctl_connect_with_flags(WbcCtl *ctl, gboolean need_daemon, WattbusClientFlags flags)
{
	GBusType bus_type = G_BUS_TYPE_SYSTEM;
	g_autoptr(GError) error = NULL;
	WbcExit rc;

	if (ctl->client == NULL) {
		rc = wbc_ctl_get_bus_type(ctl, &bus_type);
		if (rc != WBC_EXIT_OK)
			return rc;
		ctl->client = wattbus_client_new_with_flags_sync(bus_type, flags, NULL, &error);
		if (ctl->client == NULL) {
			g_printerr("wattbusctl: %s: %s\n",
				   bus_type == G_BUS_TYPE_SESSION
				       ? _("cannot connect to the session bus")
				       : _("cannot connect to the system bus"),
				   error->message);
			return WBC_EXIT_NOT_RUNNING;
		}
	}
	if (need_daemon && !wattbus_client_is_running(ctl->client))
		return wbc_ctl_not_running();
	return WBC_EXIT_OK;
}

/**
 * wbc_ctl_connect:
 * @need_daemon: fail with %WBC_EXIT_NOT_RUNNING when the daemon does not run
 *
 * Creates the client with every device (for list, monitor, add), which also starts the
 * daemon by D-Bus activation where it can.
 */
WbcExit
wbc_ctl_connect(WbcCtl *ctl, gboolean need_daemon)
{
	return wbc_ctl_connect_with_flags(ctl, need_daemon, WATTBUS_CLIENT_FLAGS_NONE);
}

/**
 * wbc_ctl_connect_without_devices:
 *
 * wbc_ctl_connect() for a command that needs one device or none: loading every device
 * holds the daemon for a while when there are many, so this asks for none, and
 * wbc_ctl_lookup_device() asks for the one device.
 */
WbcExit
wbc_ctl_connect_without_devices(WbcCtl *ctl, gboolean need_daemon)
{
	return wbc_ctl_connect_with_flags(ctl,
					  need_daemon,
					  WATTBUS_CLIENT_FLAGS_DO_NOT_LOAD_DEVICES);
}

WbcExit
wbc_ctl_lookup_device(WbcCtl *ctl, const gchar *id_or_path, WattbusObject **object)
{
	g_autoptr(GError) error = NULL;

	*object = wattbus_client_get_device_sync(ctl->client, id_or_path, NULL, &error);
	if (*object != NULL)
		return WBC_EXIT_OK;
	if (!g_error_matches(error, WATTBUS_ERROR, WATTBUS_ERROR_NOT_FOUND))
		return wbc_ctl_report_error(error, NULL);
	g_printerr("wattbusctl: ");
	g_printerr(_("no device named '%s' (see 'wattbusctl list')"), id_or_path);
	g_printerr("\n");
	return WBC_EXIT_NOT_FOUND;
}

/**
 * wbc_ctl_open_device:
 * @command: the command, for its usage line: `wattbusctl COMMAND DEVICE`
 * @object: (out): the device named by the one argument
 *
 * What every command on one device starts with: its options, the daemon, the device.
 */
WbcExit
wbc_ctl_open_device(WbcCtl *ctl,
		    const gchar *command,
		    gint *argc,
		    gchar ***argv,
		    WattbusObject **object)
{
	WbcExit rc = wbc_ctl_parse_options(ctl, command, _("DEVICE"), NULL, argc, argv, 1, 1);

	if (rc == WBC_EXIT_OK)
		rc = wbc_ctl_connect_without_devices(ctl, TRUE);
	if (rc == WBC_EXIT_OK)
		rc = wbc_ctl_lookup_device(ctl, (*argv)[1], object);
	return rc;
}

/**
 * wbc_ctl_report_missing:
 * @what: what the device lacks, for people ("outlet", "water meter")
 *
 * Reports that a device has not the interface a command needs: a device that has not
 * answered yet has no interfaces but Device, so that is said as offline, with the
 * reason.
 *
 * Returns: %WBC_EXIT_OFFLINE, or %WBC_EXIT_FAILED for a device that answers
 */
WbcExit
wbc_ctl_report_missing(WattbusObject *object, const gchar *what)
{
	WattbusDevice *device = wattbus_object_peek_device(object);
	const gchar *id = wbc_device_get_id(object);
	const gchar *error = wattbus_device_get_last_error(device);
	const gchar *kind = wattbus_device_get_kind(device);

	if (!wattbus_device_get_online(device)) {
		g_printerr("wattbusctl: ");
		if (error != NULL && error[0] != '\0')
			g_printerr(_("%s is offline: %s"), id, error);
		else if (wattbus_device_get_last_seen(device) == 0)
			g_printerr(_("%s is offline: it has not answered since the daemon started"),
				   id);
		else
			g_printerr(_("%s is offline"), id);
		g_printerr("\n");
		return WBC_EXIT_OFFLINE;
	}
	g_printerr("wattbusctl: ");
	/* TRANSLATORS: the second %s is "outlet" or "water meter" */
	g_printerr(_("device '%s' has no %s"), id, what);
	if (g_strcmp0(kind, "strip") == 0)
		g_printerr(" (%s)", _("the outlets of a strip are devices of their own"));
	g_printerr("\n");
	return WBC_EXIT_FAILED;
}

static WbcExit
wbc_ctl_exit_code_for_error(const GError *error)
{
	if (error->domain == WATTBUS_ERROR) {
		switch (error->code) {
		case WATTBUS_ERROR_NOT_FOUND:
			return WBC_EXIT_NOT_FOUND;
		case WATTBUS_ERROR_PERMISSION_DENIED:
			return WBC_EXIT_PERMISSION_DENIED;
		case WATTBUS_ERROR_DEVICE_OFFLINE:
		case WATTBUS_ERROR_TIMEOUT:
			return WBC_EXIT_OFFLINE;
		default:
			return WBC_EXIT_FAILED;
		}
	}
	if (error->domain == G_DBUS_ERROR) {
		switch (error->code) {
		case G_DBUS_ERROR_SERVICE_UNKNOWN:
		case G_DBUS_ERROR_NAME_HAS_NO_OWNER:
		case G_DBUS_ERROR_SPAWN_EXEC_FAILED:
		case G_DBUS_ERROR_SPAWN_FORK_FAILED:
		case G_DBUS_ERROR_SPAWN_CHILD_EXITED:
		case G_DBUS_ERROR_SPAWN_CHILD_SIGNALED:
		case G_DBUS_ERROR_SPAWN_FAILED:
		case G_DBUS_ERROR_SPAWN_SERVICE_INVALID:
		case G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND:
		case G_DBUS_ERROR_SPAWN_PERMISSIONS_INVALID:
		case G_DBUS_ERROR_SPAWN_FILE_INVALID:
		case G_DBUS_ERROR_SPAWN_NO_MEMORY:
			return WBC_EXIT_NOT_RUNNING;
		case G_DBUS_ERROR_ACCESS_DENIED:
		case G_DBUS_ERROR_AUTH_FAILED:
			return WBC_EXIT_PERMISSION_DENIED;
		case G_DBUS_ERROR_UNKNOWN_OBJECT:
			return WBC_EXIT_NOT_FOUND;
		case G_DBUS_ERROR_TIMEOUT:
		case G_DBUS_ERROR_TIMED_OUT:
		case G_DBUS_ERROR_NO_REPLY:
			return WBC_EXIT_OFFLINE;
		default:
			return WBC_EXIT_FAILED;
		}
	}
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
		return WBC_EXIT_OFFLINE;
	return WBC_EXIT_FAILED;
}

/**
 * wbc_ctl_report_error:
 * @device_id: (nullable): the device the error is about
 *
 * Prints a one-line message for an error of a call.
 *
 * Returns: the exit code for the error
 */
WbcExit
wbc_ctl_report_error(GError *error, const gchar *device_id)
{
	WbcExit rc = wbc_ctl_exit_code_for_error(error);
	g_autofree gchar *prefix = device_id != NULL ? g_strdup_printf("%s: ", device_id) : NULL;

	g_dbus_error_strip_remote_error(error);
	if (rc == WBC_EXIT_NOT_RUNNING && (g_error_matches(error,
							   G_DBUS_ERROR,
							   G_DBUS_ERROR_SERVICE_UNKNOWN) ||
					   g_error_matches(error,
							   G_DBUS_ERROR,
							   G_DBUS_ERROR_NAME_HAS_NO_OWNER)))
		return wbc_ctl_not_running();
	if (rc == WBC_EXIT_NOT_RUNNING) {
		g_printerr("wattbusctl: %s: %s\n",
			   _("the wattbus daemon could not be started"),
			   error->message);
		return rc;
	}
	if (rc == WBC_EXIT_PERMISSION_DENIED &&
	    g_ascii_strncasecmp(error->message, "permission denied", 17) != 0) {
		g_printerr("wattbusctl: %s: %s\n", _("permission denied"), error->message);
		return rc;
	}
	g_printerr("wattbusctl: %s%s\n", prefix != NULL ? prefix : "", error->message);
	return rc;
}

/* runs what is pending on the main context, such as the PropertiesChanged and
 * InterfacesAdded signals the daemon sent before the reply to a call */
void
wbc_ctl_flush_events(void)
{
	while (g_main_context_iteration(NULL, FALSE))
		;
}

static WbcExit
wbc_cmd_help(WbcCtl *ctl, gint argc, gchar **argv)
{
	const WbcCommand *cmd;
	gchar *help_argv[] = {NULL, (gchar *)"--help", NULL};
	gchar **help_argv_p = help_argv;
	gint help_argc = 2;
	WbcExit rc;

	rc = wbc_ctl_parse_options(ctl, "help", _("[COMMAND]"), NULL, &argc, &argv, 0, 1);
	if (rc != WBC_EXIT_OK)
		return rc;
	if (argc < 2) {
		gchar *main_argv[] = {(gchar *)"wattbusctl", (gchar *)"--help", NULL};
		gchar **main_argv_p = main_argv;
		gint main_argc = 2;
		g_autoptr(GOptionContext) context = NULL;
		g_autofree gchar *summary = wbc_build_summary();

		context = g_option_context_new(_("COMMAND [ARGUMENTS…]"));
		g_option_context_set_summary(context, summary);
		g_option_context_set_description(context, wbc_description());
		wbc_ctl_add_global_entries(ctl, context);
		wbc_ctl_add_version_entry(ctl, context);
		g_set_prgname("wattbusctl");
		/* prints the help and exits */
		g_option_context_parse(context, &main_argc, &main_argv_p, NULL);
		return WBC_EXIT_OK;
	}
	cmd = wbc_command_lookup(argv[1]);
	if (cmd == NULL || cmd->func == wbc_cmd_help)
		return wbc_ctl_usage_error(NULL, _("unknown command '%s'"), argv[1]);
	help_argv[0] = (gchar *)cmd->name;
	return cmd->func(ctl, help_argc, help_argv_p);
}

/* the versions of wattbusctl and of the daemon; not an error when the daemon is not
 * running */
WbcExit
wbc_cmd_version(WbcCtl *ctl, gint argc, gchar **argv)
{
	const gchar *daemon_version = NULL;
	WattbusManager *manager = NULL;
	const gchar *const *drivers = NULL;
	WbcExit rc;

	rc = wbc_ctl_parse_options(ctl, "version", "", NULL, &argc, &argv, 0, 0);
	if (rc != WBC_EXIT_OK)
		return rc;
	if (wbc_ctl_connect_without_devices(ctl, FALSE) == WBC_EXIT_OK) {
		manager = wattbus_client_get_manager(ctl->client);
		daemon_version = wattbus_client_get_daemon_version(ctl->client);
		if (manager != NULL)
			drivers = wattbus_manager_get_drivers(manager);
	}

	if (ctl->json) {
		g_autoptr(JsonBuilder) builder = json_builder_new();
		g_autoptr(JsonNode) root = NULL;

		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "client");
		json_builder_add_string_value(builder, PACKAGE_VERSION);
		json_builder_set_member_name(builder, "daemon");
		if (daemon_version != NULL)
			json_builder_add_string_value(builder, daemon_version);
		else
			json_builder_add_null_value(builder);
		json_builder_set_member_name(builder, "drivers");
		json_builder_begin_array(builder);
		for (guint i = 0; drivers != NULL && drivers[i] != NULL; i++)
			json_builder_add_string_value(builder, drivers[i]);
		json_builder_end_array(builder);
		json_builder_end_object(builder);
		root = json_builder_get_root(builder);
		wbc_json_print(root);
		return WBC_EXIT_OK;
	}

	g_print("wattbusctl %s\n", PACKAGE_VERSION);
	if (daemon_version != NULL)
		g_print("wattbusd %s\n", daemon_version);
	else
		g_print("wattbusd: %s\n", _("not running"));
	if (drivers != NULL && drivers[0] != NULL) {
		g_autofree gchar *joined = g_strjoinv(", ", (gchar **)drivers);
		g_print("%s: %s\n", _("drivers"), joined);
	}
	return WBC_EXIT_OK;
}

int
main(int argc, char *argv[])
{
	WbcCtl ctl = {0};
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *summary = NULL;
	const WbcCommand *cmd;
	WbcExit rc;

	setlocale(LC_ALL, "");
	/* WATTBUS_LOCALEDIR: translations not installed yet (the tests use the build dir's) */
	bindtextdomain(GETTEXT_PACKAGE,
		       g_getenv("WATTBUS_LOCALEDIR") != NULL ? g_getenv("WATTBUS_LOCALEDIR")
							       : WATTBUS_LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);
	g_set_prgname("wattbusctl");

	context = g_option_context_new(_("COMMAND [ARGUMENTS…]"));
	g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
	/* the options after the command are the command's */
	g_option_context_set_strict_posix(context, TRUE);
	summary = wbc_build_summary();
	g_option_context_set_summary(context, summary);
	g_option_context_set_description(context, wbc_description());
	wbc_ctl_add_global_entries(&ctl, context);
	wbc_ctl_add_version_entry(&ctl, context);
	if (!g_option_context_parse(context, &argc, &argv, &error))
		return wbc_ctl_usage_error(NULL, "%s", error->message);
	if (ctl.version && argc < 2) {
		gchar *version_argv[] = {(gchar *)"version", NULL};
		rc = wbc_cmd_version(&ctl, 1, version_argv);
		g_clear_object(&ctl.client);
		return rc;
	}
	if (argc < 2) {
		g_autofree gchar *help = g_option_context_get_help(context, TRUE, NULL);
		g_printerr("%s", help);
		return WBC_EXIT_USAGE;
	}

	cmd = wbc_command_lookup(argv[1]);
	if (cmd == NULL)
		return wbc_ctl_usage_error(NULL, _("unknown command '%s'"), argv[1]);
	rc = cmd->func(&ctl, argc - 1, argv + 1);
	g_clear_object(&ctl.client);
	return rc;
}
