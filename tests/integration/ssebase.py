# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared by the SSE dashboard tests: a plain client of the sse exporter's event stream."""

import json
import queue
import socket
import threading
import time

def strict_json(text):
    """json.loads that refuses NaN and Infinity, which are not JSON."""
    def refuse(name):
        raise ValueError("not JSON: " + name)
    return json.loads(text, parse_constant=refuse)


def complete(energy):
    return None not in energy.values()


class EventStream:
    """GET /events over a plain socket: the status, the headers and the events, parsed
    by the rules of the SSE format (fields, blank line ends an event, ':' a comment)."""

    def __init__(self, port, query="", headers=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        lines = ["GET /events%s HTTP/1.1" % query, "Accept: text/event-stream"]
        if "host" not in [name.lower() for name in (headers or {})]:
            lines.append("Host: 127.0.0.1:%d" % port)
        lines += ["%s: %s" % kv for kv in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.file = self.sock.makefile("rb")
        self.status = int(self.file.readline().split()[1])
        self.headers = {}
        while True:
            line = self.file.readline().decode().strip()
            if not line:
                break
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.events = queue.Queue()
        self.all = []
        if self.status == 200:
            threading.Thread(target=self._reader, daemon=True).start()

    def _chunks(self):
        while True:
            size = int(self.file.readline().split(b";")[0], 16)
            if size == 0:
                return
            data = self.file.read(size)
            self.file.readline()
            yield data

    def _reader(self):
        buf = b""
        try:
            for chunk in self._chunks():
                buf += chunk
                while b"\n\n" in buf:
                    block, buf = buf.split(b"\n\n", 1)
                    event = {}
                    for line in block.decode().split("\n"):
                        name, _, value = line.partition(":")
                        event[name or "comment"] = value[1:] if value.startswith(" ") else value
                    self.all.append(event)
                    self.events.put(event)
        except (OSError, ValueError):
            pass
        self.events.put(None)

    def wait(self, predicate, timeout=10, what="event"):
        end = time.monotonic() + timeout
        while True:
            try:
                event = self.events.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                raise AssertionError("no %s within %s s" % (what, timeout))
            if event is None:
                raise AssertionError("stream ended before %s" % what)
            if predicate(event):
                return event

    def wait_data(self, name, predicate=lambda d: True, timeout=10):
        event = self.wait(lambda e: e.get("event") == name and predicate(strict_json(e["data"])),
                          timeout, "%s event" % name)
        return strict_json(event["data"])

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
