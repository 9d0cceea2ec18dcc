/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <wattbus-glib.h>

#include "fuzz-common.h"

void
wbf_fail(const gchar *file, gint line, const gchar *expr)
{
	fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, expr);
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* a critical or a warning from hostile input is a bug: make it a crash */
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
	return 0;
}

/* an error for D-Bus and LastError: our domain, and a message D-Bus can carry */
void
wbf_check_error(const GError *error)
{
	WBF_ASSERT(error != NULL);
	WBF_ASSERT(error->domain == WATTBUS_ERROR);
	WBF_ASSERT(error->message != NULL && error->message[0] != '\0');
	WBF_ASSERT(g_utf8_validate(error->message, -1, NULL));
}
