# SPDX-License-Identifier: GPL-2.0-or-later
"""Ports for the servers a test starts (brokers, emulators on fixed ports, listeners
of the daemon).

Chosen at random below the kernel's ephemeral range (32768 and up), checked free by
binding them: a port that bind(0) handed out and that was closed again is the port
the kernel hands out next, to the next socket that binds port 0 or connects, e.g.
in a test running alongside, before our server had bound it ("Address already in
use", seen in CI)."""

import random
import socket

_rng = random.Random()


def free_ports(n, kind=socket.SOCK_STREAM, host="0.0.0.0"):
    socks = []
    try:
        while len(socks) < n:
            s = socket.socket(socket.AF_INET, kind)
            try:
                s.bind((host, _rng.randrange(10000, 32000)))
            except OSError:
                s.close()
                continue
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def free_port(kind=socket.SOCK_STREAM, host="0.0.0.0"):
    return free_ports(1, kind, host)[0]
