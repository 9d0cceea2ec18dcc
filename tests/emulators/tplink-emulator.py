#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Emulate one TP-Link device on the HTTP transports: KLAP v1/v2 or AES
"securePassthrough", speaking the SMART JSON protocol (Tapo/Kasa plugs, switches
and strips) or, for IOT devices on KLAP (HS100 hw 4.1), the XOR-era JSON.

State comes from a fixture in shared/fixtures/kasa-smart/ (tests/data/kasa-smart/):
every top-level key is a SMART method's result, `child_devices.<id>` an outlet's.
The cryptography here uses Python's hashlib and `cryptography`, written apart from
the daemon's C code (shared/specs/kasa-smart.md §3, §4, §5, §6).

Usage:
  tplink-emulator.py --fixture PATH [--host 127.0.0.1] [--port N] [--udp-port N]
                     [--transport klap|aes] [--klap-version 1|2]
                     [--username EMAIL] [--password PASSWORD]
                     [--session-timeout S] [--page-size N] [--close-after-reply]
                     [--log FILE]
  tplink-emulator.py --self-test

  --port N             HTTP port (0 = free port)
  --udp-port N         UDP port answering TDP discovery probes (0 = free port;
                       absent: no discovery)
  --transport          default: the fixture's discovery_result encrypt_type
  --klap-version       default: 2 for SMART, 1 for IOT unless lv 2 / new_klap
  --username/--password  the account the device is bound to (default: none,
                       i.e. the blank account of a never-provisioned device)
  --session-timeout S  the TIMEOUT in the session cookie (default 86400)
  --page-size N        children per get_child_device_list page (default 10)
  --close-after-reply  close the TCP connection after every reply (P100)
  --log FILE           one JSON line per decrypted request

After binding, prints: READY {"http": <port>, "udp": <port or null>}

Commands on stdin, answered by OK or ERR <reason>:
  state                    STATE {"on": {"": bool, "<child position>": bool},
                           "handshakes": n, "requests": n, "logins_failed": n,
                           "connections": n (TCP connections accepted)}
  reply MODE               how to answer from now on: normal, silent (never),
                           chunked (no Content-Length), huge (a Content-Length of
                           512 KiB), garbage (not HTTP); but normal, the connection
                           is closed after the bad answer
  expire                   forget every session (the next request gets 403,
                           or error 9999 over AES)
  password NEW             the device now holds another password
  energy [POS] KEY=N ...   set get_energy_usage / get_emeter_data / get_current_power
                           fields (today_energy, month_energy, current_power,
                           power_mw, voltage_mv, current_ma, energy_wh) of the
                           device or of the outlet at position POS
  relay [POS] on|off       switch by hand
  quit
Model notes: a batch (multipleRequest) stops at its first failing entry, which is
listed; unknown methods answer -1002; set_device_info without request_time_milis
and terminal_uuid answers -1012; a node that is off reports 0 mW and 0 mA; an empty
header value gets the 200 HTML page newer firmware sends; a Cookie other than
exactly TP_SESSIONID=<id> gets 403.
"""

import argparse
import asyncio
import base64
import copy
import hashlib
import json
import os
import secrets
import struct
import sys
import zlib
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import padding as sympad
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding as asympad
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emucontrol import require_loopback, serve  # noqa: E402

MAX_BODY = 64 * 1024
HTML_200 = b"<html><body><center>200 OK</center></body></html>"
POWER_FIELDS = {"current_power": 0, "power_mw": 0, "current_ma": 0}


def dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


# ---------------------------------------------------------------- crypto --

def aes_cbc(key, iv, data, encrypt):
    c = Cipher(algorithms.AES(key), modes.CBC(iv))
    if encrypt:
        p = sympad.PKCS7(128).padder()
        data = p.update(data) + p.finalize()
        e = c.encryptor()
        return e.update(data) + e.finalize()
    d = c.decryptor()
    plain = d.update(data) + d.finalize()
    u = sympad.PKCS7(128).unpadder()
    return u.update(plain) + u.finalize()


def klap_auth(version, user, password):
    if version == 1:
        return hashlib.md5(hashlib.md5(user.encode()).digest() +
                           hashlib.md5(password.encode()).digest()).digest()
    return hashlib.sha256(hashlib.sha1(user.encode()).digest() +
                          hashlib.sha1(password.encode()).digest()).digest()


def klap_server_hash(version, local, remote, auth):
    if version == 1:
        return hashlib.sha256(local + auth).digest()
    return hashlib.sha256(local + remote + auth).digest()


def klap_hs2(version, local, remote, auth):
    if version == 1:
        return hashlib.sha256(remote + auth).digest()
    return hashlib.sha256(remote + local + auth).digest()


class KlapSession:
    def __init__(self, local, remote, auth):
        s = local + remote + auth
        self.key = hashlib.sha256(b"lsk" + s).digest()[:16]
        ivfull = hashlib.sha256(b"iv" + s).digest()
        self.iv = ivfull[:12]
        self.seq = struct.unpack(">i", ivfull[-4:])[0]
        self.sig = hashlib.sha256(b"ldk" + s).digest()[:28]

    def open(self, seq, body):
        iv = self.iv + struct.pack(">i", seq)
        ct = body[32:]
        if hashlib.sha256(self.sig + struct.pack(">i", seq) + ct).digest() != body[:32]:
            raise ValueError("bad signature")
        return aes_cbc(self.key, iv, ct, False)

    def seal(self, seq, plain):
        ct = aes_cbc(self.key, self.iv + struct.pack(">i", seq), plain, True)
        return hashlib.sha256(self.sig + struct.pack(">i", seq) + ct).digest() + ct


def sha1_hex_b64(text):
    return base64.b64encode(hashlib.sha1(text.encode()).hexdigest().encode()).decode()


def tdp_packet(payload: bytes, serial=b"\0\0\0\0", flags=0):
    head = struct.pack(">BBHHBB4sI", 2, 0, 1, len(payload), flags, 0, serial, 0x5A6B7C8D)
    crc = zlib.crc32(head + payload) & 0xFFFFFFFF
    return head[:12] + struct.pack(">I", crc) + payload


def self_test() -> int:
    h = bytes.fromhex
    local, remote = bytes(range(16)), bytes(range(16, 32))
    ok = True

    def check(name, cond):
        nonlocal ok
        print(("PASS " if cond else "FAIL ") + name)
        ok = ok and cond

    a1 = klap_auth(1, "user@example.com", "secret")
    a2 = klap_auth(2, "user@example.com", "secret")
    check("v1 auth", a1 == h("9d6ce791ce44316e9e52fc1bc9d36496"))
    check("v2 server hash", klap_server_hash(2, local, remote, a2) ==
          h("8ed3b905e654fbee23900d0244156a33029c025b71b03bfcc601eff33aaebb70"))
    check("v1 handshake2", klap_hs2(1, local, remote, a1) ==
          h("50ef3325d42cd7c999aa9e47e8cb0f8a7f6f239f1d51b39d46d581a4bb75c8c5"))
    s = KlapSession(local, remote, a2)
    check("v2 seq", s.seq == -903964344)
    sealed = s.seal(s.seq + 1, b'{"error_code":0}')
    check("v2 reply", sealed.hex() ==
          "8cddc3bab2bb37abb947a4833b8d1ea4d58a387174d71b24d0c5b6cd12db0fec"
          "275699a92c3e481b4c546db138fd306dc257820658d1aa1124d88a4171c31823")
    check("v2 open", s.open(s.seq + 1, sealed) == b'{"error_code":0}')
    check("aes username", sha1_hex_b64("user@example.com") ==
          "NjNhNzEwNTY5MjYxYTI0YjM3NjYyNzViNzAwMGNlOGQ3YjMyZTJmNw==")
    check("tdp", tdp_packet(b"").hex() == "020000010000000000000000463cb5d3")
    return 0 if ok else 1


# ---------------------------------------------------------------- device --

def b64name(text):
    return base64.b64encode(text.encode()).decode()


class Node:
    """The device itself or one outlet: its method results."""

    def __init__(self, methods, info, position=None):
        self.methods = methods
        self.info = info  # get_device_info (device) or the child list entry (outlet)
        self.position = position

    def switchable(self):
        return "device_on" in self.info

    def result(self, method):
        if method == "get_device_info":
            return self.info
        if method not in self.methods:
            return None
        res = copy.deepcopy(self.methods[method])
        if self.switchable() and not self.info["device_on"] and isinstance(res, dict):
            for k, v in POWER_FIELDS.items():
                if k in res:
                    res[k] = v
        return res


class Device:
    def __init__(self, fixture, page_size):
        self.fixture = fixture
        self.page_size = page_size
        self.iot = "system" in fixture and "get_device_info" not in fixture
        if self.iot:
            self.sysinfo = copy.deepcopy(fixture["system"]["get_sysinfo"])
            return
        methods = {k: v for k, v in fixture.items()
                   if k not in ("child_devices", "discovery_result")}
        self.root = Node(methods, copy.deepcopy(fixture["get_device_info"]))
        self.children = []
        lst = fixture.get("get_child_device_list", {}).get("child_device_list", [])
        per_child = fixture.get("child_devices", {})
        for entry in lst:
            entry = copy.deepcopy(entry)
            self.children.append(Node(per_child.get(entry["device_id"], {}), entry, entry.get("position")))

    def node_at(self, pos):
        if pos is None:
            return self.root
        for c in self.children:
            if c.position == pos:
                return c
        raise ValueError("no outlet at position %s" % pos)

    # the SMART protocol
    def call(self, req, node, outer):
        method = req.get("method")
        params = req.get("params") or {}
        if not isinstance(method, str):
            return {"error_code": -1003}
        if method == "multipleRequest" and node is self.root:
            responses = []
            for sub in params.get("requests", []):
                r = self.call(sub, node, False)
                r["method"] = sub.get("method")
                responses.append(r)
                if r["error_code"] != 0:
                    break
            return {"error_code": 0, "result": {"responses": responses}}
        if method == "control_child" and node is self.root:
            child = next((c for c in self.children if c.info["device_id"] == params.get("device_id")), None)
            if child is None:
                return {"error_code": -1008}
            inner = params.get("requestData") or {}
            if inner.get("method") == "multipleRequest":
                responses = []
                for sub in (inner.get("params") or {}).get("requests", []):
                    r = self.call(sub, child, False)
                    r["method"] = sub.get("method")
                    responses.append(r)
                    if r["error_code"] != 0:
                        break
                data = {"error_code": 0, "result": {"responses": responses}}
            else:
                data = self.call(inner, child, False)
            return {"error_code": 0, "result": {"responseData": data}}
        if method == "set_device_info":
            if outer and ("request_time_milis" not in req or "terminal_uuid" not in req):
                return {"error_code": -1012}
            if not node.switchable() or not isinstance(params.get("device_on"), bool):
                return {"error_code": -1008}
            node.info["device_on"] = params["device_on"]
            if "on_off" in node.info:
                node.info["on_off"] = 1 if params["device_on"] else 0
            return {"error_code": 0}
        if method in ("get_child_device_list", "get_child_device_component_list") and node is self.root:
            if method not in self.fixture:
                return {"error_code": -1002}
            start = params.get("start_index", 0)
            if not isinstance(start, int) or start < 0:
                return {"error_code": -1008}
            if method == "get_child_device_list":
                items, key = [c.info for c in self.children], "child_device_list"
            else:
                items = self.fixture[method]["child_component_list"]
                key = "child_component_list"
            page = items[start:start + self.page_size]
            return {"error_code": 0, "result": {key: page, "start_index": start, "sum": len(items)}}
        res = node.result(method)
        if res is None:
            return {"error_code": -1002}
        return {"error_code": 0, "result": res}

    # the IOT protocol inside KLAP
    def call_iot(self, req):
        out = {}
        for module, methods in req.items():
            if module != "system" or not isinstance(methods, dict):
                out[module] = {"err_code": -1, "err_msg": "module not support"}
                continue
            out[module] = {}
            for m, p in methods.items():
                if m == "get_sysinfo":
                    out[module][m] = self.sysinfo
                elif m == "set_relay_state" and isinstance(p, dict) and p.get("state") in (0, 1):
                    self.sysinfo["relay_state"] = p["state"]
                    out[module][m] = {"err_code": 0}
                else:
                    out[module][m] = {"err_code": -2, "err_msg": "member not support"}
        return out

    def handle(self, plain: bytes) -> bytes:
        try:
            req = json.loads(plain)
        except ValueError:
            return dumps({"error_code": -1003})
        if not isinstance(req, dict):
            return dumps({"error_code": -1003})
        if self.iot:
            return dumps(self.call_iot(req))
        return dumps(self.call(req, self.root, True))

    def snapshot(self):
        if self.iot:
            return {"": self.sysinfo["relay_state"] == 1}
        on = {"": self.root.info.get("device_on")}
        for c in self.children:
            on[str(c.position)] = c.info.get("device_on")
        return on


# ------------------------------------------------------------------ HTTP --

class Emulator:
    def __init__(self, args, device):
        self.args = args
        self.dev = device
        disc = device.fixture.get("discovery_result", {}).get("result", {})
        schm = disc.get("mgt_encrypt_schm", {})
        self.transport = args.transport or schm.get("encrypt_type", "KLAP").lower()
        self.lv = schm.get("lv")
        if args.klap_version:
            self.klap_version = args.klap_version
        elif disc.get("device_type", "").startswith("IOT."):
            self.klap_version = 2 if self.lv == 2 or schm.get("new_klap") == 1 else 1
        else:
            self.klap_version = 2
        self.username = args.username or ""
        self.password = args.password or ""
        self.sessions = {}
        self.handshakes = 0
        self.requests = 0
        self.logins_failed = 0
        self.connections = 0
        self.reply_mode = "normal"
        self.log = open(args.log, "a") if args.log else None
        self.server = None
        self.udp = None
        self.http_port = None
        self.udp_port = None

    async def start(self):
        self.server = await asyncio.start_server(self.client, self.args.host, self.args.port)
        self.http_port = self.server.sockets[0].getsockname()[1]
        if self.args.udp_port is not None:
            loop = asyncio.get_running_loop()
            emu = self

            class Proto(asyncio.DatagramProtocol):
                def connection_made(self, transport):
                    self.transport = transport

                def datagram_received(self, data, addr):
                    emu.discovery(self.transport, data, addr)

            self.udp, _ = await loop.create_datagram_endpoint(
                Proto, local_addr=(self.args.host, self.args.udp_port))
            self.udp_port = self.udp.get_extra_info("sockname")[1]

    def discovery(self, transport, data, addr):
        if len(data) < 16 or data[0] != 2:
            return
        res = copy.deepcopy(self.dev.fixture.get("discovery_result"))
        if not isinstance(res, dict):
            return
        res["result"]["ip"] = self.args.host
        res["result"].setdefault("mgt_encrypt_schm", {})["http_port"] = self.http_port
        transport.sendto(tdp_packet(dumps(res), data[8:12]), addr)

    def cookie(self, sid):
        return "TP_SESSIONID=%s;TIMEOUT=%d" % (sid, self.args.session_timeout)

    async def client(self, reader, writer):
        self.connections += 1
        try:
            first = True
            while True:
                if first:
                    # not HTTP (e.g. a Kasa XOR frame): 400, as web servers answer
                    head = await reader.readexactly(4)
                    if not head.isalpha():
                        await self.reply(writer, 400, b"")
                        break
                    line = head + await reader.readline()
                    first = False
                else:
                    line = await reader.readline()
                if not line:
                    break
                parts = line.decode("latin-1").split()
                if len(parts) != 3:
                    break
                method, target, _ = parts
                headers = {}
                empty_header = False
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = h.decode("latin-1").partition(":")
                    if not value.strip():
                        empty_header = True
                    headers[name.strip().lower()] = value.strip()
                length = headers.get("content-length")
                if length is None or not length.isdigit() or int(length) > MAX_BODY:
                    await self.reply(writer, 500, b"")
                    break
                body = await reader.readexactly(int(length))
                if empty_header:
                    status, out, extra = 200, HTML_200, {}
                else:
                    status, out, extra = self.route(method, target, headers, body)
                if self.reply_mode != "normal":
                    await self.misbehave(reader, writer, out)
                    break
                await self.reply(writer, status, out, extra)
                if self.args.close_after_reply:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def reply(self, writer, status, body, extra=None):
        reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error"}[status]
        head = "HTTP/1.1 %d %s\r\nContent-Length: %d\r\n" % (status, reason, len(body))
        for k, v in (extra or {}).items():
            head += "%s: %s\r\n" % (k, v)
        writer.write(head.encode() + b"\r\n" + body)
        await writer.drain()

    async def misbehave(self, reader, writer, body):
        if self.reply_mode == "silent":
            await reader.read()  # until the client gives up
            return
        if self.reply_mode == "chunked":
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n"
                         % (len(body), body))
        elif self.reply_mode == "huge":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY * 8) + b"\0" * 65536)
        elif self.reply_mode == "garbage":
            writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        await writer.drain()

    def session_of(self, headers):
        cookie = headers.get("cookie")
        if cookie is None or not cookie.startswith("TP_SESSIONID=") or ";" in cookie:
            return None
        return self.sessions.get(cookie[len("TP_SESSIONID="):])

    def logreq(self, plain):
        if self.log:
            self.log.write(plain.decode("utf-8", "replace") + "\n")
            self.log.flush()

    def route(self, method, target, headers, body):
        url = urlsplit(target)
        query = parse_qs(url.query)
        if method != "POST":
            return 404, b"", {}
        if self.transport == "klap":
            if url.path == "/app/handshake1":
                return self.klap_handshake1(body)
            if url.path == "/app/handshake2":
                return self.klap_handshake2(headers, body)
            if url.path == "/app/request":
                return self.klap_request(headers, query, body)
            if url.path == "/app":
                return 200, dumps({"error_code": 1003}), {}
            return 404, b"", {}
        if url.path != "/app":
            return 404, b"", {}
        return self.aes(headers, query, body)

    # KLAP
    def klap_handshake1(self, body):
        if len(body) != 16:
            return 500, b"", {}
        self.handshakes += 1
        remote = secrets.token_bytes(16)
        auth = klap_auth(self.klap_version, self.username, self.password)
        sid = secrets.token_hex(16).upper()
        self.sessions[sid] = {"local": body, "remote": remote, "auth": auth, "klap": None}
        out = remote + klap_server_hash(self.klap_version, body, remote, auth)
        return 200, out, {"Set-Cookie": self.cookie(sid)}

    def klap_handshake2(self, headers, body):
        s = self.session_of(headers)
        if s is None or body != klap_hs2(self.klap_version, s["local"], s["remote"], s["auth"]):
            return 403, b"", {}
        s["klap"] = KlapSession(s["local"], s["remote"], s["auth"])
        return 200, b"", {}

    def klap_request(self, headers, query, body):
        s = self.session_of(headers)
        if s is None or s["klap"] is None:
            return 403, b"", {}
        try:
            seq = int(query["seq"][0])
            plain = s["klap"].open(seq, body)
        except (KeyError, ValueError, IndexError):
            return 403, b"", {}
        self.requests += 1
        self.logreq(plain)
        return 200, s["klap"].seal(seq, self.dev.handle(plain)), {}

    # AES
    def aes(self, headers, query, body):
        try:
            req = json.loads(body)
        except ValueError:
            return 200, dumps({"error_code": -1003}), {}
        if not isinstance(req, dict):
            return 200, dumps({"error_code": -1003}), {}
        if req.get("method") == "handshake":
            try:
                pub = serialization.load_pem_public_key(req["params"]["key"].encode())
            except (KeyError, TypeError, ValueError):
                return 200, dumps({"error_code": -1010}), {}
            self.handshakes += 1
            key, iv = secrets.token_bytes(16), secrets.token_bytes(16)
            sid = secrets.token_hex(16).upper()
            self.sessions[sid] = {"key": key, "iv": iv, "token": None}
            wrapped = pub.encrypt(key + iv, asympad.PKCS1v15())
            return 200, dumps({"error_code": 0, "result": {"key": base64.b64encode(wrapped).decode()}}), \
                {"Set-Cookie": "TP_SESSIONID=%s;TIMEOUT=1440" % sid}
        if req.get("method") != "securePassthrough":
            return 200, dumps({"error_code": -1002}), {}
        s = self.session_of(headers)
        if s is None:
            return 200, dumps({"error_code": 9999}), {}
        try:
            plain = aes_cbc(s["key"], s["iv"], base64.b64decode(req["params"]["request"]), False)
            inner = json.loads(plain)
        except (KeyError, TypeError, ValueError):
            return 200, dumps({"error_code": -1005}), {}
        self.logreq(plain)
        if inner.get("method") == "login_device":
            out = self.login(s, inner.get("params") or {})
        elif s["token"] is None or query.get("token", [None])[0] != s["token"]:
            out = dumps({"error_code": 9999})
        else:
            self.requests += 1
            out = self.dev.handle(plain)
        enc = base64.b64encode(aes_cbc(s["key"], s["iv"], out, True)).decode()
        return 200, dumps({"error_code": 0, "result": {"response": enc}}), {}

    def login(self, s, params):
        ok = params.get("username") == sha1_hex_b64(self.username)
        if self.lv == 2:
            ok = ok and params.get("password2") == sha1_hex_b64(self.password)
        else:
            ok = ok and params.get("password") == base64.b64encode(self.password.encode()).decode()
        if not ok:
            self.logins_failed += 1
            for sid, v in list(self.sessions.items()):
                if v is s:
                    del self.sessions[sid]
            return dumps({"error_code": -1501})
        s["token"] = secrets.token_hex(16).upper()
        return dumps({"error_code": 0, "result": {"token": s["token"]}})

    # control
    async def command(self, line):
        words = line.split()
        cmd, rest = words[0], words[1:]
        if cmd == "state":
            snap = {"on": self.dev.snapshot(), "handshakes": self.handshakes,
                    "requests": self.requests, "logins_failed": self.logins_failed,
                    "connections": self.connections}
            return ["STATE " + dumps(snap).decode(), "OK"]
        if cmd == "reply" and rest in (["normal"], ["silent"], ["chunked"], ["huge"], ["garbage"]):
            self.reply_mode = rest[0]
            return ["OK"]
        if cmd == "expire":
            self.sessions.clear()
            return ["OK"]
        if cmd == "password" and len(rest) == 1:
            self.password = rest[0]
            self.sessions.clear()
            return ["OK"]
        if cmd in ("energy", "relay") and not self.dev.iot:
            pos = None
            if rest and rest[0].isdigit():
                pos = int(rest.pop(0))
            node = self.dev.node_at(pos)
            if cmd == "relay":
                if rest not in (["on"], ["off"]) or not node.switchable():
                    raise ValueError("relay [POS] on|off on a switchable node")
                node.info["device_on"] = rest[0] == "on"
                return ["OK"]
            for word in rest:
                key, _, text = word.partition("=")
                value = int(text)
                found = False
                for m in ("get_energy_usage", "get_emeter_data", "get_current_power"):
                    if key in node.methods.get(m, {}):
                        node.methods[m][key] = value
                        found = True
                if not found:
                    raise ValueError("no field %s" % key)
            return ["OK"]
        raise ValueError("unknown command %s" % line)

    def close(self):
        if self.server is not None:
            self.server.close()
        if self.udp is not None:
            self.udp.close()
        if self.log:
            self.log.close()


async def run(args, device):
    emu = Emulator(args, device)
    await emu.start()
    await serve(emu, {"http": emu.http_port, "udp": emu.udp_port,
                      "transport": emu.transport, "klap_version": emu.klap_version})


def main():
    p = argparse.ArgumentParser(description="TP-Link KLAP/AES device emulator (see module docstring)")
    p.add_argument("--fixture")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--udp-port", type=int)
    p.add_argument("--transport", choices=("klap", "aes"))
    p.add_argument("--klap-version", type=int, choices=(1, 2))
    p.add_argument("--username")
    p.add_argument("--password")
    p.add_argument("--session-timeout", type=int, default=86400)
    p.add_argument("--page-size", type=int, default=10)
    p.add_argument("--close-after-reply", action="store_true")
    p.add_argument("--log")
    p.add_argument("--self-test", action="store_true")
    args = p.parse_args()
    if args.self_test:
        return self_test()
    if not args.fixture:
        p.error("--fixture is required")
    require_loopback(p, args.host)
    with open(args.fixture, encoding="utf-8") as f:
        fixture = json.load(f)
    device = Device(fixture, max(1, args.page_size))
    try:
        asyncio.run(run(args, device))
    except OSError as e:
        print("tplink-emulator: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
