/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "wbc-table.h"

/* a plain text table: a header line, then one line per row, columns two spaces apart */
struct _WbcTable {
	guint n_columns;
	GPtrArray *rows; /* of GStrv, the first is the header */
	gboolean *right_aligned;
	gsize *min_widths; /* 0: the column keeps its width */
	GArray *shrink_order; /* guint columns, the first gives way first */
	GArray *drop_order;   /* guint columns left out, in this order, when cutting is not enough */
};

WbcTable *
wbc_table_new(guint n_columns, const gchar *const *headers)
{
	WbcTable *table = g_new0(WbcTable, 1);

	table->n_columns = n_columns;
	table->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	table->right_aligned = g_new0(gboolean, n_columns);
	table->min_widths = g_new0(gsize, n_columns);
	table->shrink_order = g_array_new(FALSE, FALSE, sizeof(guint));
	table->drop_order = g_array_new(FALSE, FALSE, sizeof(guint));
	wbc_table_add_row(table, headers);
	return table;
}

void
wbc_table_free(WbcTable *table)
{
	if (table == NULL)
		return;
	g_ptr_array_unref(table->rows);
	g_free(table->right_aligned);
	g_free(table->min_widths);
	g_array_unref(table->shrink_order);
	g_array_unref(table->drop_order);
	g_free(table);
}

void
wbc_table_set_right_aligned(WbcTable *table, guint column)
{
	g_return_if_fail(column < table->n_columns);
	table->right_aligned[column] = TRUE;
}

/**
 * wbc_table_set_shrinkable:
 * @min_width: the narrowest the column gets, in characters
 *
 * Lets a column give way when the table is wider than the terminal: its cells are cut
 * with "…". The columns shrink in the order of the calls.
 */
void
wbc_table_set_shrinkable(WbcTable *table, guint column, gsize min_width)
{
	g_return_if_fail(column < table->n_columns);
	table->min_widths[column] = MAX(min_width, 2);
	g_array_append_val(table->shrink_order, column);
}

/**
 * wbc_table_set_droppable:
 *
 * Lets a column be left out when cutting the shrinkable ones is not enough to fit;
 * the columns are left out in the order of the calls.
 */
void
wbc_table_set_droppable(WbcTable *table, guint column)
{
	g_return_if_fail(column < table->n_columns);
	g_array_append_val(table->drop_order, column);
}

/* @cells has n_columns strings; NULL or empty cells print as "-" */
void
wbc_table_add_row(WbcTable *table, const gchar *const *cells)
{
	gchar **row = g_new0(gchar *, table->n_columns + 1);

	for (guint i = 0; i < table->n_columns; i++) {
		const gchar *cell = cells[i];
		row[i] = g_strdup(cell != NULL && cell[0] != '\0' ? cell : "-");
	}
	g_ptr_array_add(table->rows, row);
}

guint
wbc_table_get_n_rows(WbcTable *table)
{
	return table->rows->len - 1;
}

static gsize
wbc_table_cell_width(const gchar *cell)
{
	return g_utf8_validate(cell, -1, NULL) ? (gsize)g_utf8_strlen(cell, -1) : strlen(cell);
}

/**
 * wbc_table_get_max_width:
 *
 * Returns: the width to fit in: $COLUMNS, else the terminal's, else 0 (no limit, as
 *   in a pipe)
 */
static gsize
wbc_table_get_max_width(void)
{
	const gchar *env = g_getenv("COLUMNS");
	struct winsize ws;
	guint64 columns = 0;

	if (env != NULL && g_ascii_string_to_unsigned(env, 10, 1, 100000, &columns, NULL))
		return (gsize)columns;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 0;
}

/* the first @width characters of @cell, the last of them "…" when it is cut */
static gchar *
wbc_table_cut(const gchar *cell, gsize width)
{
	g_autofree gchar *head = NULL;

	if (wbc_table_cell_width(cell) <= width || !g_utf8_validate(cell, -1, NULL))
		return g_strdup(cell);
	head = g_utf8_substring(cell, 0, (glong)width - 1);
	return g_strconcat(head, "…", NULL);
}

/* the widths that fit; a column left out gets G_MAXSIZE */
static void
wbc_table_fit(WbcTable *table, gsize *widths)
{
	gsize max_width = wbc_table_get_max_width();
	gsize total = 0;

	if (max_width == 0)
		return;
	for (guint c = 0; c < table->n_columns; c++)
		total += widths[c] + (c > 0 ? 2 : 0);
	for (guint i = 0; i < table->shrink_order->len && total > max_width; i++) {
		guint c = g_array_index(table->shrink_order, guint, i);
		gsize min = MIN(table->min_widths[c], widths[c]);
		gsize cut = MIN(widths[c] - min, total - max_width);
		widths[c] -= cut;
		total -= cut;
	}
	for (guint i = 0; i < table->drop_order->len && total > max_width; i++) {
		guint c = g_array_index(table->drop_order, guint, i);
		total -= widths[c] + 2;
		widths[c] = G_MAXSIZE;
	}
}

void
wbc_table_print(WbcTable *table)
{
	g_autofree gsize *widths = g_new0(gsize, table->n_columns);

	for (guint r = 0; r < table->rows->len; r++) {
		gchar **row = g_ptr_array_index(table->rows, r);
		for (guint c = 0; c < table->n_columns; c++)
			widths[c] = MAX(widths[c], wbc_table_cell_width(row[c]));
	}
	wbc_table_fit(table, widths);
	for (guint r = 0; r < table->rows->len; r++) {
		gchar **row = g_ptr_array_index(table->rows, r);
		g_autoptr(GString) line = g_string_new(NULL);
		for (guint c = 0; c < table->n_columns; c++) {
			g_autofree gchar *cell = NULL;
			gsize cell_width;
			gsize pad;
			gboolean last = c + 1 == table->n_columns;

			if (widths[c] == G_MAXSIZE)
				continue;
			cell = wbc_table_cut(row[c], widths[c]);
			cell_width = wbc_table_cell_width(cell);
			pad = widths[c] > cell_width ? widths[c] - cell_width : 0;
			if (line->len > 0)
				g_string_append(line, "  ");
			if (table->right_aligned[c])
				g_string_append_printf(line, "%*s", (gint)pad, "");
			g_string_append(line, cell);
			if (!table->right_aligned[c] && !last)
				g_string_append_printf(line, "%*s", (gint)pad, "");
		}
		g_print("%s\n", line->str);
	}
}
