/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "wbd-exporter.h"

G_BEGIN_DECLS

#define WBD_TYPE_EMONCMS_EXPORTER (wbd_emoncms_exporter_get_type())
G_DECLARE_FINAL_TYPE(WbdEmoncmsExporter, wbd_emoncms_exporter, WBD, EMONCMS_EXPORTER, WbdExporter)

const WbdExporterInfo *
wbd_emoncms_exporter_get_info(void);

G_END_DECLS
