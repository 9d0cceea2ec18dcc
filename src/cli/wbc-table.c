/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "wbc-table.h"

/* a plain text table: a header line, then one line per row, columns two spaces apart */
struct _WbcTable {
	guint n_columns;
	GPtrArray *rows; /* of GStrv, the first is the header */
	gboolean *right_aligned;
};

WbcTable *
wbc_table_new(guint n_columns, const gchar *const *headers)
{
	WbcTable *table = g_new0(WbcTable, 1);

	table->n_columns = n_columns;
	table->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	table->right_aligned = g_new0(gboolean, n_columns);
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
	g_free(table);
}

void
wbc_table_set_right_aligned(WbcTable *table, guint column)
{
	g_return_if_fail(column < table->n_columns);
	table->right_aligned[column] = TRUE;
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

void
wbc_table_print(WbcTable *table)
{
	g_autofree gsize *widths = g_new0(gsize, table->n_columns);

	for (guint r = 0; r < table->rows->len; r++) {
		gchar **row = g_ptr_array_index(table->rows, r);
		for (guint c = 0; c < table->n_columns; c++)
			widths[c] = MAX(widths[c], wbc_table_cell_width(row[c]));
	}
	for (guint r = 0; r < table->rows->len; r++) {
		gchar **row = g_ptr_array_index(table->rows, r);
		g_autoptr(GString) line = g_string_new(NULL);
		for (guint c = 0; c < table->n_columns; c++) {
			gsize pad = widths[c] - wbc_table_cell_width(row[c]);
			gboolean last = c + 1 == table->n_columns;
			if (c > 0)
				g_string_append(line, "  ");
			if (table->right_aligned[c])
				g_string_append_printf(line, "%*s", (gint)pad, "");
			g_string_append(line, row[c]);
			if (!table->right_aligned[c] && !last)
				g_string_append_printf(line, "%*s", (gint)pad, "");
		}
		g_print("%s\n", line->str);
	}
}
