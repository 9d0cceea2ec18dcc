# SPDX-License-Identifier: GPL-2.0-or-later
"""The control channel every protocol emulator here shares: lines on stdout (READY,
OK, ERR, data) and commands on stdin, run on the emulator's asyncio loop (serve()) or
GLib main loop (serve_glib())."""

import asyncio
import ipaddress
import json
import os
import signal
import sys
import threading


def require_loopback(parser, host):
    """Stops the emulator (argparse error) unless @host is a loopback IP address: the
    emulators never listen anywhere else."""
    try:
        if not ipaddress.ip_address(host).is_loopback:
            parser.error("refusing to bind non-loopback address %s" % host)
    except ValueError:
        parser.error("--host must be a loopback IP address")


def say(lines):
    sys.stdout.write("".join(line + "\n" for line in lines))
    sys.stdout.flush()


def lines_of(buf, chunk):
    """Appends @chunk to the bytearray @buf; yields each complete, non-empty line."""
    buf.extend(chunk)
    while b"\n" in buf:
        raw, _, rest = bytes(buf).partition(b"\n")
        buf[:] = rest
        line = raw.decode("utf-8", "replace").strip()
        if line:
            yield line


def answer(line, run, quit):
    """Answers one command line on stdout: quit gives OK and calls quit(); any other
    line the lines run(line) returns (OK included), or ERR <reason>. False after quit."""
    if line == "quit":
        say(["OK"])
        quit()
        return False
    try:
        say(run(line))
    except Exception as e:  # keep the control channel alive
        say(["ERR %s" % (str(e).replace("\n", " ") or repr(e))])
    return True


def stdin_loop(emu, loop, stop):
    """Read control commands from fd 0 (raw, so that a blocked read cannot
    hold a Python-level lock at exit); EOF leaves the emulator running."""
    buf = bytearray()

    def run(line):
        return asyncio.run_coroutine_threadsafe(emu.command(line), loop).result()
    while True:
        try:
            chunk = os.read(0, 4096)
        except OSError:
            return
        if not chunk:
            return
        for line in lines_of(buf, chunk):
            if not answer(line, run, lambda: loop.call_soon_threadsafe(stop.set)):
                return


def serve_glib(command, ports):
    """serve() for the emulators built on a GLib main loop (libsoup servers): READY with
    @ports, command lines from stdin answered by command(line) (its lines, OK included),
    until quit, SIGTERM/SIGINT or the parent (the test) is gone. Returns then; the caller
    closes its servers."""
    from gi.repository import GLib
    loop = GLib.MainLoop()
    buf = bytearray()

    def on_stdin(fd, condition):
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            chunk = b""
        if not chunk:
            return GLib.SOURCE_REMOVE  # EOF: keep running
        for line in lines_of(buf, chunk):
            if not answer(line, command, loop.quit):
                return GLib.SOURCE_REMOVE
        return GLib.SOURCE_CONTINUE

    GLib.unix_fd_add_full(GLib.PRIORITY_DEFAULT, 0, GLib.IOCondition.IN | GLib.IOCondition.HUP,
                          on_stdin)
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, lambda *a: (loop.quit(), False)[1])
    parent = os.getppid()

    def orphaned():  # exit when orphaned: no leaks from dead tests
        if os.getppid() != parent:
            loop.quit()
        return GLib.SOURCE_CONTINUE

    GLib.timeout_add_seconds(1, orphaned)
    say(["READY " + json.dumps(ports)])
    loop.run()


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
