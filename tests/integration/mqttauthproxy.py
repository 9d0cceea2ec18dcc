# SPDX-License-Identifier: GPL-2.0-or-later
"""A cloud's front door for the MQTT tests: what Mosquitto cannot do (shared/specs/
mqtt-clouds.md §8). It listens on 127.0.0.1, reads each client's CONNECT (MQTT 3.1.1 or
5), and hands client id, user name and password to check(), which verifies the
credentials independently of the daemon's code (the SAS signature recomputed with
hmac, the JWT verified with the openssl CLI) and returns their expiry (Unix seconds),
or raises Refused. A refused client gets CONNACK "not authorized" and is closed; an
accepted one is spliced to the real Mosquitto behind it and cut off when its
credential expires, as Azure IoT Hub and IoT Core do. While Mosquitto is down, a
client is closed at once after its CONNECT, listed in refused() with closed_by
"broker"."""

import socket
import struct
import threading
import time


class Refused(Exception):
    pass


def _read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _read_packet(sock):
    """One MQTT control packet: (the whole packet's bytes, its body)."""
    first = _read_exact(sock, 1)
    length, multiplier, header = 0, 1, first
    while True:
        byte = _read_exact(sock, 1)
        header += byte
        length += (byte[0] & 0x7F) * multiplier
        if not byte[0] & 0x80:
            break
        multiplier *= 128
        if multiplier > 128 ** 3:
            raise ValueError("bad remaining length")
    body = _read_exact(sock, length)
    return header + body, body


def _varint(data, pos):
    value, multiplier = 0, 1
    while True:
        byte = data[pos]
        pos += 1
        value += (byte & 0x7F) * multiplier
        if not byte & 0x80:
            return value, pos
        multiplier *= 128


def _string(data, pos):
    (n,) = struct.unpack_from(">H", data, pos)
    return data[pos + 2:pos + 2 + n], pos + 2 + n


def parse_connect(body):
    """CONNECT's protocol level, client id, user name and password (bytes or None)."""
    name, pos = _string(body, 0)
    if name != b"MQTT":
        raise ValueError("not MQTT 3.1.1/5")
    level, flags = body[pos], body[pos + 1]
    pos += 4  # level, flags, keep-alive
    if level == 5:
        n, pos = _varint(body, pos)
        pos += n
    client_id, pos = _string(body, pos)
    if flags & 0x04:  # will
        if level == 5:
            n, pos = _varint(body, pos)
            pos += n
        _, pos = _string(body, pos)
        _, pos = _string(body, pos)
    username = password = None
    if flags & 0x80:
        username, pos = _string(body, pos)
    if flags & 0x40:
        password, pos = _string(body, pos)
    return level, client_id.decode(), username, password


class AuthProxy:
    def __init__(self, broker_port, check):
        self.broker_port = broker_port
        self.check = check
        self.connections = []
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return "mqtt://localhost:%d" % self.port

    def accepted(self):
        with self.lock:
            return [c for c in self.connections if c["accepted"]]

    def refused(self):
        with self.lock:
            return [c for c in self.connections if not c["accepted"]]

    def stop(self):
        self.stopped = True
        self.listener.close()
        with self.lock:
            for c in self.connections:
                for s in c.get("sockets", ()):
                    try:
                        s.close()
                    except OSError:
                        pass

    def _accept(self):
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        record = {"accepted": False, "opened": time.time(), "closed": None,
                  "closed_by": None, "sockets": [client]}
        try:
            client.settimeout(10)
            raw, body = _read_packet(client)
            if raw[0] >> 4 != 1:
                raise ValueError("the first packet is not CONNECT")
            level, client_id, username, password = parse_connect(body)
        except (OSError, ValueError, ConnectionError, IndexError, struct.error):
            client.close()
            return
        record.update(level=level, client_id=client_id,
                      username=username.decode() if username is not None else None,
                      password=password.decode("utf-8", "replace") if password else None)
        with self.lock:
            self.connections.append(record)
        try:
            record["expiry"] = self.check(client_id, record["username"], record["password"])
        except Refused as e:
            record["reason"] = str(e)
            client.sendall(b"\x20\x03\x00\x87\x00" if level == 5 else b"\x20\x02\x00\x05")
            client.close()
            record["closed"] = time.time()
            record["closed_by"] = "refused"
            return
        try:
            broker = socket.create_connection(("127.0.0.1", self.broker_port), timeout=5)
        except OSError as e:
            # the broker is down: the cloud drops the client at once (else the client
            # would wait for a CONNACK until its own time-out)
            record["reason"] = "broker: %s" % e
            client.close()
            record["closed"] = time.time()
            record["closed_by"] = "broker"
            return
        broker.settimeout(None)
        record["accepted"] = True
        record["sockets"].append(broker)
        broker.sendall(raw)
        client.settimeout(None)
        done = threading.Event()

        def close(by):
            if record["closed_by"] is None:
                record["closed_by"] = by
                record["closed"] = time.time()
            for s in (client, broker):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            done.set()

        def pump(src, dst, by):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            close(by)

        threading.Thread(target=pump, args=(client, broker, "client"), daemon=True).start()
        threading.Thread(target=pump, args=(broker, client, "broker"), daemon=True).start()
        # the cloud drops the connection when the credential expires
        done.wait(max(0.0, record["expiry"] - time.time()))
        close("expiry")
        for s in (client, broker):
            s.close()
