#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds Wattbus (in _build) and runs the demo: wattbusd in the foreground on the
# session bus, with emulated Kasa plugs and strips, a Tuya water meter and an Enphase
# gateway on 127.0.0.1, and the live dashboard. Options: --dashboard-port PORT. Run
# .ci/install-deps first (the README's demo command does both).
set -eu
cd "$(dirname "$0")/.."
if [ ! -f _build/build.ninja ]; then
	meson setup _build
fi
meson compile -C _build
exec /usr/bin/python3 examples/demo/wattbus-demo.py --build-dir _build "$@"
