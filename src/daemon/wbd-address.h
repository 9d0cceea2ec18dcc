/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean
wbd_address_is_valid_host(const gchar *host);
gboolean
wbd_address_parse(const gchar *address,
		  guint16 default_port,
		  gchar **host,
		  guint16 *port,
		  GError **error);

G_END_DECLS
