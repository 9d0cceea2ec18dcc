/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#include "wbd-tuya-profile.h"

G_BEGIN_DECLS

/* the libFuzzer entry points, also called by fuzz-main.c when libFuzzer is not there */
int
LLVMFuzzerInitialize(int *argc, char ***argv);
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* an invariant of the code under test: never compiled out, and a crash for libFuzzer */
#define WBF_TUYA_ASSERT(expr)                                                                      \
	G_STMT_START                                                                               \
	{                                                                                          \
		if (G_UNLIKELY(!(expr)))                                                           \
			wbf_tuya_fail(__FILE__, __LINE__, #expr);                                  \
	}                                                                                          \
	G_STMT_END

G_NORETURN void
wbf_tuya_fail(const gchar *file, gint line, const gchar *expr);
void
wbf_tuya_check_error(const GError *error);
void
wbf_tuya_check_dps(GVariant *dps, WbdTuyaProfile *profile);

G_END_DECLS
