/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * WbdExporterInfo:
 * @kind: the value of the `kind` setting, e.g. "emoncms"
 * @get_type: returns the #WbdExporter subclass
 * @keys: %NULL-terminated list of the kind's own setting keys, or %NULL
 * @secret_keys: %NULL-terminated subset of @keys that are secrets, or %NULL
 * @shutdown: the daemon ends, its main loop has stopped: finish (for a bounded time)
 *   what the kind still does in the background, such as MQTT farewells. Kinds that
 *   share a hook (the MQTT clouds share one client) name the same function: it is
 *   called once. Optional.
 *
 * What the core knows of an exporter kind. A kind adds nothing to the core but a
 * registration line in wbd-exporter-kinds.c.
 */
typedef struct {
	const gchar *kind;
	GType (*get_type)(void);
	const gchar *const *keys;
	const gchar *const *secret_keys;
	void (*shutdown)(void);
} WbdExporterInfo;

void
wbd_exporter_info_register(const WbdExporterInfo *info);
const WbdExporterInfo *
wbd_exporter_info_lookup(const gchar *kind);
gboolean
wbd_exporter_info_is_secret_key(const WbdExporterInfo *info, const gchar *key);
gboolean
wbd_exporter_info_validate(const gchar *id, GHashTable *settings, gboolean strict, GError **error);

/* registers every exporter kind built in; defined in wbd-exporter-kinds.c */
void
wbd_exporter_kinds_register_all(void);
/* calls every registered kind's shutdown hook once */
void
wbd_exporter_info_shutdown_all(void);

G_END_DECLS
