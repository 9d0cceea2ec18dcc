#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Emulate one TP-Link Kasa "IOT" device (plug, switch or power strip).

The device state comes from a python-kasa fixture (tests/data/kasa/*.json).
The XOR codec here is written independently of the daemon's C codec, so a
bug cannot hide on both sides. Standard library only.

Usage:
  kasa-emulator.py --fixture PATH [--host 127.0.0.1] [--port N]
                   [--udp-port N] [--device-id HEX40] [--alias NAME]
                   [--child-alias NAME]...
                   [--misbehave MODE] [--klap] [--log FILE]
  kasa-emulator.py --self-test

  --fixture PATH     merged dump {"module":{"method":{...}}} (python-kasa)
  --host ADDR        loopback address to bind (non-loopback is refused)
  --port N           TCP port (XOR + 4-byte length prefix); 0 = free port
  --udp-port N       UDP port (XOR, no prefix); default: same number as TCP,
                     0 = free port
  --device-id HEX40  deviceId; default: uppercase sha1 of the fixture's name.
                     Child ids become deviceId + "00", "01", ...
  --alias NAME       replaces the device alias (children keep theirs)
  --child-alias NAME replaces the alias of the next child (given once per outlet
                     of a strip, in order): the fixtures' children are all called
                     "#MASKED_NAME#" or the like, their redaction
  --misbehave MODE   initial misbehaviour, see MODES below
  --klap             device moved to KLAP: nothing listens on the TCP port,
                     UDP ignores XOR probes, an HTTP server answers
                     POST /app/handshake1 (KLAP v1, blank credentials)
  --log FILE         append every decoded request (TCP and UDP) as one
                     compact JSON line
  --self-test        check the codec against spec vectors; exit 0 or 1

After binding, one line is printed on stdout:
  READY {"tcp": <port>, "udp": <port>, "http": <port or null>}

Commands on stdin (one per line; each answered by "OK" or "ERR <reason>"):
  misbehave MODE
  relay STATE | relay INDEX STATE     switch by hand (no index on a strip
                                      switches every outlet)
  emeter [INDEX] KEY=VALUE...         set realtime readings (plug, all
                                      outlets of a strip, or one outlet)
  stats [INDEX] today=WH month=WH     the energy of today and of this month
                                      (local time) that get_daystat and
                                      get_monthstat report from then on, in
                                      the unit style of the fixture's
                                      get_realtime (energy_wh or kWh energy)
  state                               prints "STATE <json>" first:
                                      {"sysinfo", "realtime" (as a client
                                      reads it; null: no emeter; a list on
                                      strips), "misbehave", "requests"
                                      (frames received: {"tcp": N,
                                      "udp": N})}
  quit                                exit 0
EOF on stdin is ignored; SIGTERM/SIGINT exit cleanly, and so does the
emulator when its parent process dies (checked every second).

MODES: none, garbage (random payload), badjson (truncated JSON), oversize
(prefix 0x7FFFFFF0 + a few bytes), half (half the payload, then silence),
stall (never answer), close (close without answering), refuse (stop
listening, drop connections; leaving it re-listens on the same port),
close-after-reply, udp-garbage (random datagram answers UDP probes),
stuck-relay (set_relay_state answers err_code 0 and switches nothing),
trailing (4 bytes 0xff after each reply's frame, in the same write).
In all modes but stall/close/refuse a request takes effect.

Model notes: replies mirror the request; errors in the fixture keep their
place (module or method level); unknown module -1, unknown method -2,
unknown child id -14. A strip keeps one reading per outlet (copied from
the fixture, slot_id = index when the fixture has one); outlets or plugs
that are off report power 0 and current 0. get_realtime without a context
on a strip answers outlet 0. set_relay_state without a context on a strip
switches all outlets, except on HS300 hw 2.0, which switches only outlet 0
(python-kasa issue #637). get_daystat/get_monthstat answer the fixture's
day_list/month_list (none of the collection has them: empty lists) and,
after a stats command, an entry for today and this month, at the end.
Malformed frames or JSON make the emulator close the connection, as a
real device does.
"""

import argparse
import asyncio
import copy
import hashlib
import json
import os
import re
import secrets
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emucontrol import require_loopback, serve  # noqa: E402

XOR_KEY = 171
MAX_FRAME = 1 << 20
MODES = ("none", "garbage", "badjson", "oversize", "half", "stall", "close",
         "refuse", "close-after-reply", "udp-garbage", "stuck-relay", "trailing")
NOT_MODULES = ("discovery_result",)  # fixture keys that are not IOT modules
KLAP_BLANK_AUTH = hashlib.md5(hashlib.md5(b"").digest() +
                              hashlib.md5(b"").digest()).digest()


# ---------------------------------------------------------------- codec --

def xor_encrypt(plain: bytes) -> bytes:
    key, out = XOR_KEY, bytearray(len(plain))
    for i, p in enumerate(plain):
        key = p ^ key
        out[i] = key
    return bytes(out)


def xor_decrypt(cipher: bytes) -> bytes:
    key, out = XOR_KEY, bytearray(len(cipher))
    for i, c in enumerate(cipher):
        out[i] = c ^ key
        key = c
    return bytes(out)


def tcp_frame(plain: bytes) -> bytes:
    return len(plain).to_bytes(4, "big") + xor_encrypt(plain)


def dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def decode_request(payload: bytes):
    """Decrypted JSON object, or None if it is not one."""
    try:
        obj = json.loads(xor_decrypt(payload).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def random_garbage() -> bytes:
    """Random cipher text whose first plaintext byte is 0xFF (never JSON)."""
    data = bytearray(secrets.token_bytes(16 + secrets.randbelow(48)))
    data[0] = 0xFF ^ XOR_KEY
    return bytes(data)


def klap_v1_server_hash(local_seed: bytes, auth_hash: bytes) -> bytes:
    return hashlib.sha256(local_seed + auth_hash).digest()


def self_test() -> int:
    h = bytes.fromhex
    vectors = [
        ("A", b'{"system":{"get_sysinfo":{}}}',
         "0000001dd0f281f88bff9af7d5ef94b6d1b4c09fec95e68fe187e8caf08bf68bf6"),
        ("B", b'{"system":{"set_relay_state":{"state":1}}}',
         "0000002a" "d0f281f88bff9af7d5ef94b6c5a0d48bf99cf091e8b7c4b0d1a5c0e2"
         "d8a381f286e793f6d4eedfa2dfa2"),
        ("C", b'{"emeter":{"get_realtime":{}}}',
         "0000001e" "d0f297fa9feb8efcdee49fbddabfcb94e683e28efa93fe9bb983f885"
         "f885"),
    ]
    ok = True

    def check(name, cond):
        nonlocal ok
        print(("PASS " if cond else "FAIL ") + name)
        ok = ok and cond

    for name, plain, frame in vectors:
        check(name + " encrypt", tcp_frame(plain) == h(frame))
        check(name + " decrypt", xor_decrypt(h(frame)[4:]) == plain)
    d_frame = h(
        "00000071d0f297fa9feb8efcdee49fbddabfcb94e683e28efa93fe9bb983f8da"
        "b9ccbecca9c7b3ec81e0c2f8ccf9c8e4c6a3d1a3fc9ff094f1d3e9d9f5d7a7c8"
        "bfdaa8f79aedcff5c3f2c5f0c3efcdb9d6a2c3aff087efcdf7c6f0c3f1c2eecc"
        "bad5b9cdaccbaef19ceac8f2c0f3c3fbc8ff82ff82")
    d_plain = (b'{"emeter":{"get_realtime":{"current_ma":451,"err_code":0,'
               b'"power_mw":61753,"total_wh":16323,"voltage_mv":230837}}}')
    n = int.from_bytes(d_frame[:4], "big")
    check("D decode", n == 113 and len(d_frame) == 117 and
          xor_decrypt(d_frame[4:4 + n]) == d_plain)
    check("D normalise", json.loads(d_plain)["emeter"]["get_realtime"]
          ["power_mw"] / 1000 == 61.753)
    e_plain = (b'{"context":{"child_ids":["80060000000000000000000000000000000'
               b'300AA02"]},"system":{"set_relay_state":{"state":0}}}')
    e = tcp_frame(e_plain)
    check("E length", len(e_plain) == 113 and e[:4] == h("00000071"))
    check("E start", e[4:20] == h("d0f291fe90e481f98daf95eeccafc7ae"))
    check("E end", e[-5:] == h("f9c9b4c9b4"))
    check("empty", xor_encrypt(b"") == b"" and xor_decrypt(b"") == b"")
    check("roundtrip", all(xor_decrypt(xor_encrypt(x)) == x for x in
                           (secrets.token_bytes(i) for i in range(200))))
    check("garbage", all(decode_request(random_garbage()) is None
                         for _ in range(50)))
    auth = hashlib.md5(hashlib.md5(b"user@example.com").digest() +
                       hashlib.md5(b"hunter2").digest()).digest()
    check("KLAP v1 auth", auth == h("c365c2d8159d185d19139d3d3ef3d6db"))
    check("KLAP v1 handshake1", klap_v1_server_hash(bytes(range(16)), auth) ==
          h("f38b5a8f75dc99643ed238d557b330563c40e6f4e9381e1ea7c808781e7721e9"))
    return 0 if ok else 1


# --------------------------------------------------------------- device --

def err(code, msg):
    return {"err_code": code, "err_msg": msg}


def is_error(obj):
    return isinstance(obj, dict) and obj.get("err_code", 0) != 0


class Device:
    """Device state and the IOT request handler."""

    def __init__(self, fixture, device_id, alias, child_aliases=()):
        self.modules = {k: v for k, v in fixture.items()
                        if k not in NOT_MODULES and isinstance(v, dict)}
        self.sysinfo = copy.deepcopy(self.modules["system"]["get_sysinfo"])
        si = self.sysinfo
        si["deviceId"] = device_id
        if alias is not None:
            si["alias"] = alias
        self.children = si.get("children")
        if self.children is not None:
            for i, child in enumerate(self.children):
                child["id"] = "%s%02d" % (device_id, i)
                if i < len(child_aliases):
                    child["alias"] = child_aliases[i]
        self.quirk_first_outlet = (si.get("model", "").startswith("HS300")
                                   and si.get("hw_ver") == "2.0")
        self.stuck_relay = False  # misbehave stuck-relay
        now = time.monotonic()
        self.since = [now - t.get("on_time", 0) for t in self.outlets()]
        realtime = self.modules.get("emeter", {}).get("get_realtime")
        self.readings = None
        self.stats = [None] * len(self.outlets())  # the stats command's
        if isinstance(realtime, dict) and not is_error(realtime):
            self.readings = []
            for i in range(len(self.outlets())):
                r = copy.deepcopy(realtime)
                r["err_code"] = 0
                if "slot_id" in r:
                    r["slot_id"] = i
                self.readings.append(r)

    # outlets: the children of a strip, or the plug's sysinfo itself
    def outlets(self, si=None):
        si = si if si is not None else self.sysinfo
        return si["children"] if self.children is not None else [si]

    def state_key(self):
        return "state" if self.children is not None else "relay_state"

    def is_on(self, i):
        return bool(self.outlets()[i].get(self.state_key()))

    def switch(self, i, on):
        outlet = self.outlets()[i]
        if self.is_on(i) != on:
            self.since[i] = time.monotonic()
        outlet[self.state_key()] = int(on)

    def child_index(self, cid):
        for i, child in enumerate(self.children or []):
            if isinstance(cid, str) and cid.upper() == child["id"].upper():
                return i
        return None

    def get_sysinfo(self):
        si = copy.deepcopy(self.sysinfo)
        now = time.monotonic()
        for i, outlet in enumerate(self.outlets(si)):
            if "on_time" in outlet:
                outlet["on_time"] = (int(now - self.since[i])
                                     if self.is_on(i) else 0)
        si["err_code"] = 0
        return si

    def reading(self, i):
        r = dict(self.readings[i])
        if not self.is_on(i):
            for key, zero in (("power", 0.0), ("current", 0.0),
                              ("power_mw", 0), ("current_ma", 0)):
                if key in r:
                    r[key] = zero
        return r

    def targets(self, ctx):
        """(outlet indexes from context or None, error object or None)"""
        if self.children is None or ctx is None:
            return None, None  # a context on a plug is ignored
        ids = ctx.get("child_ids") if isinstance(ctx, dict) else None
        if not isinstance(ids, list) or not ids:
            return None, err(-3, "invalid argument")
        idx = [self.child_index(cid) for cid in ids]
        if None in idx:
            return None, err(-14, "entry not exist")
        return idx, None

    def handle(self, req):
        ctx = req.get("context")
        reply = {}
        for mod, methods in req.items():
            if mod == "context":
                continue
            fx = self.modules.get(mod)
            if fx is None:
                reply[mod] = err(-1, "module not support")
            elif is_error(fx):
                reply[mod] = copy.deepcopy(fx)  # module-level error
            elif not isinstance(methods, dict):
                reply[mod] = err(-3, "invalid argument")
            else:
                reply[mod] = {meth: self.call(mod, meth, params, ctx)
                              for meth, params in methods.items()}
        return reply

    def call(self, mod, meth, params, ctx):
        fx = self.modules[mod].get(meth)
        if is_error(fx):
            return copy.deepcopy(fx)  # method-level error
        params = params if isinstance(params, dict) else {}
        handler = getattr(self, "m_%s_%s" % (mod, meth), None)
        if handler is not None:
            return handler(params, ctx)
        if not isinstance(fx, dict):
            return err(-2, "member not support")
        result = copy.deepcopy(fx)
        result["err_code"] = 0
        return result

    def m_system_get_sysinfo(self, params, ctx):
        return self.get_sysinfo()

    def m_system_set_relay_state(self, params, ctx):
        state = params.get("state")
        if state is None:
            return err(-10002, "missing necessary argument")
        if type(state) is not int or state not in (0, 1):
            return err(-3, "invalid argument")
        idx, e = self.targets(ctx)
        if e:
            return e
        if idx is None:
            n = len(self.outlets())
            idx = [0] if self.quirk_first_outlet else range(n)
        if not self.stuck_relay:
            for i in idx:
                self.switch(i, state == 1)
        return {"err_code": 0}

    def m_system_set_dev_alias(self, params, ctx):
        alias = params.get("alias")
        if not isinstance(alias, str):
            return err(-3, "invalid argument")
        idx, e = self.targets(ctx)
        if e:
            return e
        (self.children[idx[0]] if idx else self.sysinfo)["alias"] = alias
        return {"err_code": 0}

    def m_system_set_led_off(self, params, ctx):
        off = params.get("off")
        if type(off) is not int or off not in (0, 1):
            return err(-3, "invalid argument")
        self.sysinfo["led_off"] = off
        return {"err_code": 0}

    def m_system_reboot(self, params, ctx):
        return {"err_code": 0}

    def emeter_targets(self, ctx):
        if self.readings is None:
            return None, err(-2, "member not support")
        return self.targets(ctx)

    def m_emeter_get_realtime(self, params, ctx):
        idx, e = self.emeter_targets(ctx)
        return e or self.reading(idx[0] if idx else 0)

    def stat_list(self, meth, list_name, params, ctx, day):
        idx, e = self.emeter_targets(ctx)
        if e:
            return e
        fx = self.modules["emeter"].get(meth)
        entries = copy.deepcopy(fx.get(list_name, [])) if isinstance(fx, dict) else []
        stats = self.stats[idx[0] if idx else 0]
        now = time.localtime()
        if stats is not None and params.get("year") == now.tm_year and \
                (day is None or params.get("month") == now.tm_mon):
            entry = {"year": now.tm_year, "month": now.tm_mon}
            wh = stats["month"]
            if day is not None:
                entry["day"] = now.tm_mday
                wh = stats["today"]
            # the unit style of the device's realtime readings (kasa.md §8.1/§8.2)
            if "total_wh" in self.readings[0]:
                entry["energy_wh"] = int(wh)
            else:
                entry["energy"] = wh / 1000.0
            entries.append(entry)
        return {list_name: entries, "err_code": 0}

    def m_emeter_get_daystat(self, params, ctx):
        return self.stat_list("get_daystat", "day_list", params, ctx, True)

    def m_emeter_get_monthstat(self, params, ctx):
        return self.stat_list("get_monthstat", "month_list", params, ctx, None)

    def m_emeter_erase_emeter_stat(self, params, ctx):
        idx, e = self.emeter_targets(ctx)
        if e:
            return e
        for i in idx if idx else range(len(self.readings)):
            for key in ("total", "total_wh"):
                if key in self.readings[i]:
                    self.readings[i][key] = 0.0 if key == "total" else 0
        return {"err_code": 0}

    def snapshot(self):
        realtime = None
        if self.readings is not None:
            realtime = [self.reading(i) for i in range(len(self.readings))]
            if self.children is None:
                realtime = realtime[0]
        return {"sysinfo": self.get_sysinfo(), "realtime": realtime}


# ------------------------------------------------------------- network --

class UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, emu):
        self.emu = emu
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        try:
            reply = self.emu.udp_reply(data)
        except Exception as e:  # never let a bad datagram close the socket
            print("kasa-emulator: UDP: %r" % e, file=sys.stderr)
            return
        if reply is not None:
            self.transport.sendto(reply, addr)

    def error_received(self, exc):
        pass


class KlapHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = -1
        body = self.rfile.read(n) if 0 < n <= 65536 else b""
        if self.path != "/app/handshake1" or len(body) != 16:
            return self.not_found()
        out = secrets.token_bytes(16) + klap_v1_server_hash(body,
                                                            KLAP_BLANK_AUTH)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Set-Cookie", "TP_SESSIONID=%s;TIMEOUT=86400"
                         % secrets.token_hex(16).upper())
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def not_found(self):
        self.close_connection = True
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()

    do_GET = do_HEAD = do_PUT = do_DELETE = not_found

    def log_message(self, *args):
        pass


def make_socket(host, port, kind):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, kind)
    if kind == socket.SOCK_STREAM:  # UDP + SO_REUSEADDR would share ports
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class Emulator:
    def __init__(self, args, device):
        self.args = args
        self.device = device
        self.mode = args.misbehave
        device.stuck_relay = self.mode == "stuck-relay"
        self.host = args.host
        self.tcp_port = self.udp_port = self.http_port = None
        self.server = None
        self.httpd = None
        self.conns = set()
        self.requests = {"tcp": 0, "udp": 0}
        self.log = open(args.log, "a", encoding="utf-8",
                        buffering=1) if args.log else None

    async def start(self):
        loop = asyncio.get_running_loop()
        for _ in range(50):  # find a TCP port whose number is free for UDP
            tcp = make_socket(self.host, self.args.port, socket.SOCK_STREAM)
            port = tcp.getsockname()[1]
            udp_port = port if self.args.udp_port is None else \
                self.args.udp_port
            try:
                udp = make_socket(self.host, udp_port, socket.SOCK_DGRAM)
                break
            except OSError:
                tcp.close()
                if self.args.port != 0 or self.args.udp_port is not None:
                    raise
        else:
            raise OSError("no port free for both TCP and UDP")
        self.tcp_port, self.udp_port = port, udp.getsockname()[1]
        await loop.create_datagram_endpoint(lambda: UdpProtocol(self),
                                            sock=udp)
        if self.args.klap or self.mode == "refuse":
            tcp.close()
        else:
            await self.listen(tcp)
        if self.args.klap:
            cls = type("Httpd", (ThreadingHTTPServer,), {
                "address_family": socket.AF_INET6 if ":" in self.host
                else socket.AF_INET, "daemon_threads": True})
            self.httpd = cls((self.host, 0), KlapHandler)
            self.http_port = self.httpd.server_address[1]
            threading.Thread(target=self.httpd.serve_forever,
                             daemon=True).start()

    async def listen(self, sock=None):
        if sock is None:
            sock = make_socket(self.host, self.tcp_port, socket.SOCK_STREAM)
        self.server = await asyncio.start_server(self.on_connection,
                                                 sock=sock)

    def stop_listening(self):
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.conns):
            writer.close()

    async def set_mode(self, mode):
        self.mode = mode
        self.device.stuck_relay = mode == "stuck-relay"
        if mode == "refuse":
            self.stop_listening()
        elif self.server is None and not self.args.klap:
            await self.listen()

    def log_request(self, req, kind="tcp"):
        self.requests[kind] += 1
        if self.log:
            self.log.write(dumps(req).decode() + "\n")

    async def on_connection(self, reader, writer):
        self.conns.add(writer)
        try:
            await self.serve(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        except Exception as e:  # a bug here must not kill the emulator
            print("kasa-emulator: TCP: %r" % e, file=sys.stderr)
        finally:
            self.conns.discard(writer)
            writer.close()

    async def serve(self, reader, writer):
        while True:
            size = int.from_bytes(await reader.readexactly(4), "big")
            if size == 0 or size > MAX_FRAME:
                return  # a real device drops the connection
            req = decode_request(await reader.readexactly(size))
            if req is None:
                return
            self.log_request(req)
            mode = self.mode
            if mode in ("close", "refuse"):
                return
            if mode == "stall":
                return await self.drain(reader)
            plain = dumps(self.device.handle(req))
            if mode == "garbage":
                garbage = random_garbage()
                writer.write(len(garbage).to_bytes(4, "big") + garbage)
            elif mode == "badjson":
                writer.write(tcp_frame(plain[:len(plain) // 2]))
            elif mode == "oversize":
                writer.write(b"\x7f\xff\xff\xf0" + xor_encrypt(plain)[:8])
            elif mode == "half":
                writer.write(tcp_frame(plain)[:4 + len(plain) // 2])
            elif mode == "trailing":
                writer.write(tcp_frame(plain) + b"\xff\xff\xff\xff")
            else:
                writer.write(tcp_frame(plain))
            await writer.drain()
            if mode in ("oversize", "half"):
                return await self.drain(reader)
            if mode == "close-after-reply":
                return

    @staticmethod
    async def drain(reader):
        """Keep the connection open, discarding input, until the peer
        closes it."""
        while await reader.read(65536):
            pass

    def udp_reply(self, data):
        if self.args.klap:
            return None
        req = decode_request(data)
        if req is None:
            return None
        self.log_request(req, "udp")
        if self.mode == "udp-garbage":
            return random_garbage()
        reply = self.device.handle(req)
        sysinfo = reply.get("system", {})
        sysinfo = sysinfo.get("get_sysinfo") if isinstance(sysinfo, dict) \
            else None
        if isinstance(sysinfo, dict):
            for child in sysinfo.get("children", []):
                child["id"] = child["id"][-2:]
        return xor_encrypt(dumps(reply))

    def meter_outlets(self, rest):
        """(outlet indexes, None) of an emeter/stats command whose words are @rest (an
        index at its start taken off), or (None, "ERR ...")."""
        dev = self.device
        n = len(dev.outlets())
        if dev.readings is None:
            return None, "ERR device has no emeter"
        if rest and rest[0].isdigit():
            if dev.children is None or int(rest[0]) >= n:
                return None, "ERR no outlet %s" % rest[0]
            return [int(rest.pop(0))], None
        return range(n), None

    async def command(self, line):
        words = line.split()
        cmd, rest = words[0], words[1:]
        dev = self.device
        n = len(dev.outlets())
        strip = dev.children is not None
        if cmd == "misbehave":
            if len(rest) != 1 or rest[0] not in MODES:
                return ["ERR usage: misbehave " + "|".join(MODES)]
            await self.set_mode(rest[0])
        elif cmd == "relay":
            if len(rest) not in (1, 2) or rest[-1] not in ("0", "1"):
                return ["ERR usage: relay [INDEX] 0|1"]
            if len(rest) == 2:
                if not strip or not rest[0].isdigit() or int(rest[0]) >= n:
                    return ["ERR no outlet %s" % rest[0]]
                idx = [int(rest[0])]
            else:
                idx = range(n)
            for i in idx:
                dev.switch(i, rest[-1] == "1")
        elif cmd == "emeter":
            idx, error = self.meter_outlets(rest)
            if error:
                return [error]
            if not rest:
                return ["ERR usage: emeter [INDEX] KEY=VALUE..."]
            values = {}
            for word in rest:
                key, _, text = word.partition("=")
                if key not in dev.readings[0] or key == "err_code":
                    return ["ERR unknown key %s (have %s)" % (key, ",".join(
                        k for k in dev.readings[0] if k != "err_code"))]
                try:
                    value = json.loads(text)
                except ValueError:
                    value = None
                if type(value) not in (int, float) or value != value \
                        or abs(value) == float("inf"):
                    return ["ERR not a number: %s" % word]
                values[key] = value
            for i in idx:
                dev.readings[i].update(values)
        elif cmd == "stats":
            idx, error = self.meter_outlets(rest)
            if error:
                return [error]
            values = dict(w.partition("=")[::2] for w in rest)
            if sorted(values) != ["month", "today"] or not all(v.isdigit() for v in values.values()):
                return ["ERR usage: stats [INDEX] today=WH month=WH"]
            for i in idx:
                dev.stats[i] = {k: int(v) for k, v in values.items()}
        elif cmd == "state":
            snap = dev.snapshot()
            snap["misbehave"] = self.mode
            snap["requests"] = dict(self.requests)
            return ["STATE " + dumps(snap).decode(), "OK"]
        else:
            return ["ERR unknown command %s" % cmd]
        return ["OK"]

    def close(self):
        self.stop_listening()
        if self.httpd is not None:
            self.httpd.server_close()
        if self.log:
            self.log.close()


async def run(args, device):
    emu = Emulator(args, device)
    await emu.start()
    await serve(emu, {"tcp": emu.tcp_port, "udp": emu.udp_port, "http": emu.http_port})


def main():
    p = argparse.ArgumentParser(description="TP-Link Kasa IOT device "
                                "emulator (see module docstring)")
    p.add_argument("--fixture")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--udp-port", type=int)
    p.add_argument("--device-id")
    p.add_argument("--alias")
    p.add_argument("--child-alias", action="append", default=[])
    p.add_argument("--misbehave", choices=MODES, default="none")
    p.add_argument("--klap", action="store_true")
    p.add_argument("--log")
    p.add_argument("--self-test", action="store_true")
    args = p.parse_args()
    if args.self_test:
        return self_test()
    if not args.fixture:
        p.error("--fixture is required")
    require_loopback(p, args.host)
    for port in (args.port, args.udp_port):
        if port is not None and not 0 <= port <= 65535:
            p.error("bad port %d" % port)
    if args.device_id is None:
        name = os.path.basename(args.fixture).encode()
        args.device_id = hashlib.sha1(name).hexdigest()
    if not re.fullmatch(r"[0-9A-Fa-f]{40}", args.device_id):
        p.error("--device-id must be 40 hex characters")
    try:
        with open(args.fixture, encoding="utf-8") as f:
            fixture = json.load(f)
    except (OSError, ValueError) as e:
        p.error("cannot load fixture: %s" % e)
    if not isinstance(fixture, dict) or not isinstance(
            fixture.get("system", {}).get("get_sysinfo"), dict):
        p.error("fixture has no system.get_sysinfo")
    device = Device(fixture, args.device_id.upper(), args.alias, args.child_alias)
    try:
        asyncio.run(run(args, device))
    except OSError as e:
        print("kasa-emulator: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
