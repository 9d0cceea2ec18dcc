# SPDX-License-Identifier: GPL-2.0-or-later
"""The control channel every protocol emulator here shares: lines on stdout (READY,
OK, ERR, data) and commands on stdin, run on the emulator's asyncio loop."""

import asyncio
import json
import os
import signal
import sys
import threading


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


async def serve(emu, ports):
    """Runs a started emulator: READY with @ports on stdout, commands from stdin, until
    quit, SIGTERM/SIGINT or the parent (the test) is gone; then emu.close()."""
    loop = asyncio.get_running_loop()
    say(["READY " + json.dumps(ports)])
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    threading.Thread(target=stdin_loop, args=(emu, loop, stop), daemon=True).start()
    parent = os.getppid()
    while not stop.is_set():  # exit when orphaned: no leaks from dead tests
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except asyncio.TimeoutError:
            if os.getppid() != parent:
                break
    emu.close()
