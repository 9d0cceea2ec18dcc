/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fuzz-common.h"

/*
 * A stand-in for libFuzzer's main(), for compilers without -fsanitize=fuzzer: runs the
 * target once over a few hostile built-in inputs and every file named on the command
 * line (or found in a directory named there). A crash or a failed invariant aborts.
 */

/* like libFuzzer: each input in a heap block of exactly its size, so overreads show */
static void
run_one(const guint8 *data, gsize len)
{
	g_autofree guint8 *copy = g_malloc(MAX(len, 1));
	if (len > 0)
		memcpy(copy, data, len);
	LLVMFuzzerTestOneInput(copy, len);
}

static void
run_builtins(void)
{
	static const guint8 one_nul[] = {0x00};
	static const guint8 one_ff[] = {0xff};
	static const guint8 one_brace[] = {'{'};
	/* a length prefix far over the limit, with a few bytes after it */
	static const guint8 huge_prefix[] = {0xff, 0xff, 0xff, 0xff, 0xd0, 0xf2, 0x81};
	/* one byte over the limit, and exactly the limit with a short body */
	static const guint8 over_limit[] = {0x00, 0x04, 0x00, 0x01, 0xd0};
	static const guint8 at_limit[] = {0x00, 0x04, 0x00, 0x00, 0xd0, 0xf2};
	/* a zero-length frame, then spec vector A */
	static const guint8 empty_then_a[] = {
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1d, 0xd0, 0xf2, 0x81, 0xf8, 0x8b,
	    0xff, 0x9a, 0xf7, 0xd5, 0xef, 0x94, 0xb6, 0xd1, 0xb4, 0xc0, 0x9f, 0xec, 0x95,
	    0xe6, 0x8f, 0xe1, 0x87, 0xe8, 0xca, 0xf0, 0x8b, 0xf6, 0x8b, 0xf6,
	};
	guint8 ff100[100];
	guint8 zero4k[4096];

	memset(ff100, 0xff, sizeof(ff100));
	memset(zero4k, 0, sizeof(zero4k));
	run_one(NULL, 0);
	run_one(one_nul, sizeof(one_nul));
	run_one(one_ff, sizeof(one_ff));
	run_one(one_brace, sizeof(one_brace));
	run_one(huge_prefix, sizeof(huge_prefix));
	run_one(over_limit, sizeof(over_limit));
	run_one(at_limit, sizeof(at_limit));
	run_one(empty_then_a, sizeof(empty_then_a));
	run_one(ff100, sizeof(ff100));
	run_one(zero4k, sizeof(zero4k));
}

static gboolean
run_file(const gchar *path)
{
	g_autofree gchar *contents = NULL;
	g_autoptr(GError) error = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &contents, &len, &error)) {
		fprintf(stderr, "cannot read %s: %s\n", path, error->message);
		return FALSE;
	}
	run_one((const guint8 *)contents, len);
	return TRUE;
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar **)a, *(const gchar **)b);
}

static gint
run_dir(const gchar *path)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDir) dir = g_dir_open(path, 0, &error);
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
	const gchar *name;

	if (dir == NULL) {
		fprintf(stderr, "cannot open %s: %s\n", path, error->message);
		return -1;
	}
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *file = g_build_filename(path, name, NULL);
		if (g_file_test(file, G_FILE_TEST_IS_REGULAR))
			g_ptr_array_add(files, g_steal_pointer(&file));
	}
	g_ptr_array_sort(files, compare_strings);
	for (guint i = 0; i < files->len; i++) {
		if (!run_file(g_ptr_array_index(files, i)))
			return -1;
	}
	return (gint)files->len;
}

int
main(int argc, char **argv)
{
	guint n_files = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	run_builtins();
	for (gint i = 1; i < argc; i++) {
		if (g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
			gint n = run_dir(argv[i]);
			if (n < 0)
				return 1;
			n_files += (guint)n;
		} else {
			if (!run_file(argv[i]))
				return 1;
			n_files++;
		}
	}
	/* an empty or missing corpus would make this test pass without testing anything */
	if (n_files == 0) {
		fprintf(stderr, "no corpus files given\n");
		return 1;
	}
	printf("%s: ran the built-in inputs and %u corpus files\n", argv[0], n_files);
	return 0;
}
