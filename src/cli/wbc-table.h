/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _WbcTable WbcTable;

WbcTable *
wbc_table_new(guint n_columns, const gchar *const *headers);
void
wbc_table_free(WbcTable *table);
void
wbc_table_set_right_aligned(WbcTable *table, guint column);
void
wbc_table_set_shrinkable(WbcTable *table, guint column, gsize min_width);
void
wbc_table_set_droppable(WbcTable *table, guint column);
void
wbc_table_add_row(WbcTable *table, const gchar *const *cells);
guint
wbc_table_get_n_rows(WbcTable *table);
void
wbc_table_print(WbcTable *table);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(WbcTable, wbc_table_free)

G_END_DECLS
