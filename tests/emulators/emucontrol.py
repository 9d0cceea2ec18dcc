# SPDX-License-Identifier: GPL-2.0-or-later
"""The control channel every protocol emulator here shares: lines on stdout (READY,
OK, ERR, data) and commands on stdin, run on the emulator's asyncio loop."""

import asyncio
import os
import sys


def say(lines):
    sys.stdout.write("".join(line + "\n" for line in lines))
    sys.stdout.flush()


def stdin_loop(emu, loop, stop):
    """Read control commands from fd 0 (raw, so that a blocked read cannot
    hold a Python-level lock at exit); EOF leaves the emulator running."""
    buf = b""
    while True:
        try:
            chunk = os.read(0, 4096)
        except OSError:
            return
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            raw, buf = buf.split(b"\n", 1)
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            if line == "quit":
                say(["OK"])
                loop.call_soon_threadsafe(stop.set)
                return
            fut = asyncio.run_coroutine_threadsafe(emu.command(line), loop)
            try:
                say(fut.result())
            except Exception as e:  # keep the control channel alive
                say(["ERR %s" % (str(e).replace("\n", " ") or repr(e))])
