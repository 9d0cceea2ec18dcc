/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-exporter.h"

G_BEGIN_DECLS

#define WBD_TYPE_SSE_EXPORTER (wbd_sse_exporter_get_type())
G_DECLARE_FINAL_TYPE(WbdSseExporter, wbd_sse_exporter, WBD, SSE_EXPORTER, WbdExporter)

const WbdExporterInfo *
wbd_sse_exporter_get_info(void);

G_END_DECLS
