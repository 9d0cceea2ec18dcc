/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* what every fuzz target shares: the entry points, invariants, error checks */

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

/* the libFuzzer entry points, also called by fuzz-main.c when libFuzzer is not there */
int
LLVMFuzzerInitialize(int *argc, char ***argv);
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * An invariant of the code under test. Unlike g_assert() it cannot be compiled out,
 * and it aborts so that libFuzzer records the input as a crash.
 */
#define WBF_ASSERT(expr)                                                                           \
	G_STMT_START                                                                               \
	{                                                                                          \
		if (G_UNLIKELY(!(expr)))                                                           \
			wbf_fail(__FILE__, __LINE__, #expr);                                       \
	}                                                                                          \
	G_STMT_END

G_NORETURN void
wbf_fail(const gchar *file, gint line, const gchar *expr);
void
wbf_check_error(const GError *error);

G_END_DECLS
