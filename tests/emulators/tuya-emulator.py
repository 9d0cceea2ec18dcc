#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Emulate one Tuya device on the local protocol, versions 3.1 to 3.5.

The codec here (framing, CRC32, HMAC-SHA256, AES-128-ECB/GCM, the 3.4/3.5
session-key handshake) is written independently of the daemon's C codec, from
shared/specs/tuya-local.md, with python3-cryptography for AES. `--self-test`
checks it against the spec's vectors (tests/data/tuya/vectors.json).

Usage:
  tuya-emulator.py [--version 3.3] [--device-id ID] [--local-key KEY]
                   [--profile NAME | --dps JSON] [--product-key KEY]
                   [--host 127.0.0.1] [--port N] [--device22]
                   [--udp-ports PLAIN,ENCRYPTED,APP] [--broadcast-interval S]
                   [--misbehave MODE] [--log FILE]
                   [--sub CID=JSON ...] [--interleave]
  tuya-emulator.py --self-test

  --version V        3.1, 3.2, 3.3, 3.4 or 3.5
  --device-id ID     the device id (gwId); default bf0123456789abcdef01
  --local-key KEY    16 characters; default k3y!Local_Tuya#1 (the spec's)
  --profile NAME     initial DPs: metering-plug, metering-plug-v2,
                     metering-plug-legacy or water-meter (default
                     metering-plug)
  --dps JSON         initial DPs instead, e.g. '{"1": true, "19": 86}'
  --host ADDR        loopback address to bind (non-loopback is refused)
  --port N           TCP port; 0 = a free port
  --device22         refuse DP_QUERY with "json obj data unvalid" and answer
                     CONTROL_NEW reads that name the DPs with nulls
  --udp-ports P,E,A  the daemon's discovery ports on 127.0.0.1: 3.1
                     broadcasts go to P, 3.2+ to E; 3.5 answers to a
                     solicitation go to A on the address the solicitation
                     names. The emulator listens for 3.5 solicitations on its
                     own UDP port (READY "udp").
  --broadcast-interval S  announce every S seconds (3.5 only answers
                     solicitations unless this is set); 0 = never
  --log FILE         append every decoded request as one JSON line:
                     {"cmd": N, "seq": N, "payload": <JSON or text>}
  --sub CID=JSON     makes the device a hub (gateway) with a sub-device whose
                     cid (node_id) is CID and whose DPs are JSON; repeat for
                     more. Requests naming a cid (shared/specs/tuya-gateway-
                     and-meters.md §3.2) read, set and re-measure that
                     sub-device; replies and pushes carry its cid (§3.3); a
                     3.3 read with gwId/devId and a cid gets "devid not
                     found"; 0x40 answers the online/offline report (3.4+).
                     Without --dps a hub has no DPs of its own and refuses a
                     read without cid ("json obj data unvalid").
  --interleave       before answering a sub-device's read, push every other
                     sub-device's DPs (replies must be matched by cid)

After binding, one line is printed on stdout:
  READY {"tcp": <port>, "udp": <port>}

Commands on stdin (each answered by "OK" or "ERR <reason>"):
  set ID JSON          change a DP on the device's own: pushed at once to
                       every connected client (STATUS 0x08)
  push T JSON          push the DPs of the JSON object with the time T (the
                       payload's "t"), e.g. an energy increment:
                       push 1700001800 {"17": 15}; the DPs are kept
  misbehave MODE       see MODES
  broadcast            send the discovery datagram now
  state                prints "STATE <json>" first: the DPs, the mode, the
                       number of connections and of requests served
  subset CID ID JSON   change a sub-device's DP: pushed with its cid
  subonline CID BOOL   what the 0x40 report says of the sub-device
  subreport            push the 0x40 report unasked (3.4+ hubs)
  quit                 exit 0

MODES: none; wrongkey (every reply encrypted with another key: 3.1 replies
too, in the "3.1"+signature+base64 form); badcrc (bad CRC32 on 3.1-3.3, bad
HMAC on 3.4, bad GCM tag on 3.5, after the handshake); truncate (half of each
reply, then silence); truncate-close (half, then close); oversize (a header
with a 0x7ffffff0 length, then silence); stall (read, never answer); drop
(close every connection, and each new one at once); ignore-updatedps (no
answer at all to UPDATEDPS 0x12, as plugs that do not re-measure).

A frame that does not verify, or of another version, gets an error frame of
the emulator's own version (return code 1, "parse data error"), as devices do.
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import socket
import struct
import sys
import time
import zlib

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emucontrol import serve  # noqa: E402

PREFIX_55AA, SUFFIX_55AA = 0x000055AA, 0x0000AA55
PREFIX_6699, SUFFIX_6699 = 0x00006699, 0x00009966
# commands whose payload never has the version header (tinytuya's list)
NO_HEADER = {0x0A, 0x10, 0x12, 0x09, 0x03, 0x04, 0x05, 0x40}
HANDSHAKE = {0x03, 0x04, 0x05}
CMD_CONTROL, CMD_STATUS, CMD_HEARTBEAT, CMD_QUERY = 0x07, 0x08, 0x09, 0x0A
CMD_CONTROL_NEW, CMD_QUERY_NEW, CMD_UPDATEDPS = 0x0D, 0x10, 0x12
CMD_UDP, CMD_UDP_NEW, CMD_REQ_DEVINFO = 0x00, 0x13, 0x25
CMD_SUBDEV = 0x40
UDP_KEY = hashlib.md5(b"yGAdlopoPVldABfn").digest()
MAX_FRAME = 4096
MODES = ("none", "wrongkey", "badcrc", "truncate", "truncate-close",
         "oversize", "stall", "drop", "ignore-updatedps")

PROFILES = {
    "metering-plug": {"1": True, "18": 75, "19": 86, "20": 2284},
    "metering-plug-v2": {"1": True, "9": 0, "17": 3, "18": 75, "19": 86,
                         "20": 2284, "26": 0, "38": "memory"},
    "metering-plug-legacy": {"1": True, "2": 0, "4": 75, "5": 86, "6": 2284},
    "water-meter": {
        "1": 123456, "2": 4321, "3": 210, "4": True, "5": 123246,
        "6": 123456, "7": "1700000000", "8": "1700040000", "9": "opened",
        "10": 119135, "11": 123456, "12": "1698796800", "13": "1700040000",
        "14": 15, "15": "consumption", "16": 7, "17": "proportion", "18": 100,
    },
}


class BadFrame(Exception):
    pass


# the codec

def ecb_encrypt(key, data, pad=True):
    if pad:
        padder = padding.PKCS7(128).padder()
        data = padder.update(data) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(data) + enc.finalize()


def ecb_decrypt(key, data, unpad=True):
    if len(data) % 16:
        raise BadFrame("ciphertext is not whole blocks")
    dec = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    plain = dec.update(data) + dec.finalize()
    if unpad:
        try:
            unpadder = padding.PKCS7(128).unpadder()
            plain = unpadder.update(plain) + unpadder.finalize()
        except ValueError:
            raise BadFrame("bad padding (wrong key?)")
    return plain


def version_header(version):
    return version.encode() + b"\0" * 12


def sign31(key, b64):
    text = b"data=" + b64 + b"||lpv=3.1||" + key
    return hashlib.md5(text).hexdigest()[8:24].encode()


def encode_31_encrypted(key, payload):
    b64 = base64.b64encode(ecb_encrypt(key, payload))
    return b"3.1" + sign31(key, b64) + b64


def encode_frame(version, key, seq, cmd, payload, retcode=None, header=None,
                 iv=None, corrupt=False):
    """A whole frame. header: the version/source header for this payload,
    or None. retcode: device frames only."""
    rc = b"" if retcode is None else struct.pack(">I", retcode)
    if version == "3.5":
        plain = rc + (header or b"") + payload
        length = 12 + len(plain) + 16
        head = struct.pack(">IHIII", PREFIX_6699, 0, seq, cmd, length)
        iv = iv or secrets.token_bytes(12)
        sealed = AESGCM(key).encrypt(iv, plain, head[4:])
        if corrupt:
            sealed = sealed[:-1] + bytes([sealed[-1] ^ 0x01])
        return head + iv + sealed + struct.pack(">I", SUFFIX_6699)
    if version == "3.1":
        body = payload
    elif version == "3.4":
        inner = (header or b"") + payload
        body = ecb_encrypt(key, inner) if inner else b""
    else:
        body = (header or b"") + (ecb_encrypt(key, payload) if payload
                                  else b"")
    trailer = 32 if version == "3.4" else 4
    length = len(rc) + len(body) + trailer + 4
    head = struct.pack(">IIII", PREFIX_55AA, seq, cmd, length) + rc + body
    if version == "3.4":
        mac = hmac.new(key, head, hashlib.sha256).digest()
    else:
        mac = struct.pack(">I", zlib.crc32(head) & 0xFFFFFFFF)
    if corrupt:
        mac = mac[:-1] + bytes([mac[-1] ^ 0x01])
    return head + mac + struct.pack(">I", SUFFIX_55AA)


def strip_header(data):
    if len(data) >= 15 and data[:2] == b"3." and data[2:3].isdigit():
        return data[15:]
    return data


def decode_frame(version, key, frame, from_device=False):
    """(seq, cmd, retcode or None, payload) of a whole frame; raises
    BadFrame."""
    prefix = struct.unpack(">I", frame[:4])[0]
    if prefix == PREFIX_6699:
        if version != "3.5":
            raise BadFrame("a 3.5 frame for a %s device" % version)
        _, _, seq, cmd, length = struct.unpack(">IHIII", frame[:18])
        if length != len(frame) - 22 or length < 28:
            raise BadFrame("bad length")
        if struct.unpack(">I", frame[-4:])[0] != SUFFIX_6699:
            raise BadFrame("bad suffix")
        try:
            plain = AESGCM(key).decrypt(frame[18:30], frame[30:-4],
                                        frame[4:18])
        except Exception:
            raise BadFrame("GCM tag does not verify")
        retcode = None
        if from_device and len(plain) >= 4 and plain[:3] == b"\0\0\0":
            retcode, plain = struct.unpack(">I", plain[:4])[0], plain[4:]
        if cmd not in HANDSHAKE:
            plain = strip_header(plain)
        return seq, cmd, retcode, plain
    if prefix != PREFIX_55AA:
        raise BadFrame("no prefix")
    if version == "3.5":
        raise BadFrame("a 55AA frame for a 3.5 device")
    seq, cmd, length = struct.unpack(">III", frame[4:16])
    if length != len(frame) - 16:
        raise BadFrame("bad length")
    if struct.unpack(">I", frame[-4:])[0] != SUFFIX_55AA:
        raise BadFrame("bad suffix")
    trailer = 32 if version == "3.4" else 4
    if len(frame) < 16 + trailer + 4:
        raise BadFrame("too short")
    head, mac = frame[:-trailer - 4], frame[-trailer - 4:-4]
    if version == "3.4":
        if not hmac.compare_digest(hmac.new(key, head, hashlib.sha256)
                                   .digest(), mac):
            raise BadFrame("bad HMAC")
    elif struct.pack(">I", zlib.crc32(head) & 0xFFFFFFFF) != mac:
        raise BadFrame("bad CRC")
    body = head[16:]
    retcode = None
    if from_device and len(body) >= 4 and body[:3] == b"\0\0\0":
        retcode, body = struct.unpack(">I", body[:4])[0], body[4:]
    if not body:
        return seq, cmd, retcode, b""
    if version == "3.1":
        if body[:3] == b"3.1" and len(body) > 19:
            if sign31(key, body[19:]) != body[3:19]:
                raise BadFrame("bad 3.1 signature")
            return seq, cmd, retcode, ecb_decrypt(
                key, base64.b64decode(body[19:]))
        return seq, cmd, retcode, body
    if version == "3.4":
        plain = ecb_decrypt(key, body)
        return seq, cmd, retcode, (plain if cmd in HANDSHAKE
                                   else strip_header(plain))
    body = strip_header(body)
    return seq, cmd, retcode, ecb_decrypt(key, body) if body else b""


def session_key(version, local_key, nc, nd):
    x = bytes(a ^ b for a, b in zip(nc, nd))
    if version == "3.5":
        return AESGCM(local_key).encrypt(nc[:12], x, None)[:16]
    return ecb_encrypt(local_key, x, pad=False)


def dumps(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def self_test():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "data", "tuya", "vectors.json")
    with open(path) as f:
        doc = json.load(f)
    inputs = doc["inputs"]
    lk = bytes.fromhex(inputs["local_key_hex"])
    keys = {"local": lk, "udp": UDP_KEY,
            "34": bytes.fromhex(inputs["v34_session_key_hex"]),
            "35": bytes.fromhex(inputs["v35_session_key_hex"])}
    ok = True
    nc, nd = inputs["client_nonce"].encode(), inputs["device_nonce"].encode()
    for version, name in (("3.4", "34"), ("3.5", "35")):
        if session_key(version, lk, nc, nd) != keys[name]:
            print("FAIL session key %s" % version)
            ok = False
    if UDP_KEY.hex() != inputs["udp_key_hex"]:
        print("FAIL udp key")
        ok = False
    for v in doc["vectors"]:
        name, version, cmd = v["name"], v["version"], v["cmd"]
        if name.startswith("udp_"):
            key = keys["udp"]
        elif version in ("3.4", "3.5") and cmd > 5:
            key = keys[version.replace(".", "")]
        else:
            key = lk
        plain = bytes.fromhex(v["plaintext_hex"]) if "plaintext_hex" in v \
            else v["plaintext"].encode()
        frame = bytes.fromhex(v["frame_hex"])
        device = v["dir"].startswith("device")
        seq, dcmd, retcode, payload = decode_frame(version, key, frame,
                                                   device)
        good = (seq, dcmd, payload) == (v["seq"], cmd, plain) and \
            retcode == v.get("retcode")
        if "source_header_hex" not in v:
            header = None
            if not name.startswith("udp_") and cmd not in NO_HEADER and \
                    plain and version != "3.1":
                header = version_header(version)
            if version == "3.1" and cmd == CMD_CONTROL:
                plain = encode_31_encrypted(key, plain)
            iv = v["iv"].encode() if "iv" in v else None
            again = encode_frame(version, key, v["seq"], cmd, plain,
                                 v.get("retcode"), header, iv)
            good = good and again == frame
        print("%s %s" % ("ok  " if good else "FAIL", name))
        ok = ok and good
    return 0 if self_test_gateway(lk) and ok else 1


def self_test_gateway(lk):
    """The hub frames of shared/specs/tuya-gateway-and-meters.md §3.9: each
    decodes to its plaintext, and is encoded again byte for byte."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "data", "tuya", "gateway-vectors.json")
    with open(path) as f:
        doc = json.load(f)
    keys = {"3.3": lk,
            "3.4": bytes.fromhex(doc["inputs"]["v34_session_key_hex"]),
            "3.5": bytes.fromhex(doc["inputs"]["v35_session_key_hex"])}
    ok = True
    for v in doc["vectors"]:
        version, cmd, key = v["version"], v["cmd"], keys[v["version"]]
        frame, plain = bytes.fromhex(v["frame_hex"]), v["plaintext"].encode()
        device = v["dir"].startswith("gateway")
        seq, dcmd, retcode, payload = decode_frame(version, key, frame, device)
        good = (seq, dcmd, payload, retcode) == (v["seq"], cmd, plain,
                                                 v.get("retcode"))
        if not v.get("source_header"):
            # the spec's 3.4/3.5 pushes come without the version header
            header = None if cmd in NO_HEADER or device else \
                version_header(version)
            iv = v["iv"].encode() if "iv" in v else None
            good = good and encode_frame(version, key, v["seq"], cmd, plain,
                                         v.get("retcode"), header,
                                         iv) == frame
        print("%s %s" % ("ok  " if good else "FAIL", v["name"]))
        ok = ok and good
    return ok


# the device

class Device:
    def __init__(self, args):
        self.version = args.version
        self.id = args.device_id
        self.key = args.local_key.encode()
        if len(self.key) != 16:
            raise SystemExit("--local-key must be 16 bytes")
        self.subs, self.online = {}, {}
        for spec in args.sub or []:
            cid, _, dps = spec.partition("=")
            self.subs[cid] = dict(json.loads(dps))
            self.online[cid] = True
        if args.dps:
            self.dps = dict(json.loads(args.dps))
        else:
            self.dps = {} if self.subs else dict(PROFILES[args.profile])
        self.device22 = args.device22
        self.product_key = args.product_key

    def announcement(self, ip="127.0.0.1"):
        obj = {"ip": ip, "gwId": self.id, "active": 2, "ablilty": 0,
               "encrypt": self.version != "3.1",
               "productKey": self.product_key, "version": self.version}
        if self.version == "3.5":
            obj.update({"token": True, "wf_cfg": True})
        return dumps(obj)

    def datagram(self, ip="127.0.0.1"):
        payload = self.announcement(ip)
        if self.version == "3.1":
            return encode_frame("3.1", None, 0, CMD_UDP, payload, 0)
        if self.version == "3.5":
            return encode_frame("3.5", UDP_KEY, 0, CMD_UDP_NEW, payload, 0)
        return encode_frame("3.3", UDP_KEY, 0, CMD_UDP_NEW, payload, 0)

    def status_json(self, dps, t=None):
        t = int(time.time()) if t is None else t
        if self.version in ("3.4", "3.5"):
            return dumps({"protocol": 4, "t": t, "data": {"dps": dps}})
        return dumps({"devId": self.id, "dps": dps, "t": t})

    def subdev_report(self):
        """The 0x40 online/offline report of a 3.4+ hub."""
        return dumps({"reqType": "subdev_online_stat_report",
                      "data": {"online": [c for c in self.subs
                                          if self.online[c]],
                               "offline": [c for c in self.subs
                                           if not self.online[c]]}})

    def sub_json(self, cid, dps, t=None):
        """A sub-device's reply or push: the cid at the top (3.3) or in data."""
        t = int(time.time()) if t is None else t
        if self.version in ("3.4", "3.5"):
            return dumps({"protocol": 4, "t": t,
                          "data": {"dps": dps, "cid": cid}})
        return dumps({"dps": dps, "cid": cid, "t": t})

    def query_json(self, dps):
        if self.version in ("3.4", "3.5"):
            return dumps({"dps": dps})
        return dumps({"devId": self.id, "dps": dps})


class Session:
    """One TCP client."""

    def __init__(self, emu, reader, writer):
        self.emu, self.dev = emu, emu.device
        self.reader, self.writer = reader, writer
        self.version = self.dev.version
        self.key = self.dev.key
        self.handshake = self.version in ("3.4", "3.5")
        self.nonce_c = self.nonce_d = None
        self.seq = 0x6a00
        self.src_seq = 0xbff9
        self.closed = False

    def wrong_key(self):
        return hashlib.md5(b"not the key" + self.dev.key).digest()

    def frame(self, cmd, payload, retcode=0, header=None, seq=None):
        mode = self.emu.mode
        key = self.key
        version = self.version
        if mode == "wrongkey":
            key = self.wrong_key()
            if version == "3.1" and payload:
                payload = encode_31_encrypted(key, payload)
        elif version == "3.1" and cmd == CMD_STATUS and payload:
            # real 3.1 devices push in the signed, encrypted form
            payload = encode_31_encrypted(self.key, payload)
        corrupt = mode == "badcrc" and not self.handshake
        self.seq += 1
        return encode_frame(version, key, self.seq if seq is None else seq,
                            cmd, payload, retcode, header, corrupt=corrupt)

    async def send(self, data):
        mode = self.emu.mode
        if mode in ("stall",):
            return
        if mode == "oversize":
            data = struct.pack(">IIII", PREFIX_55AA if self.version != "3.5"
                               else PREFIX_6699, 1, 8, 0x7ffffff0) + data[16:24]
            self.writer.write(data)
            await self.writer.drain()
            return
        if mode in ("truncate", "truncate-close"):
            self.writer.write(data[:len(data) // 2])
            await self.writer.drain()
            if mode == "truncate-close":
                self.close()
            return
        self.writer.write(data)
        await self.writer.drain()

    def close(self):
        self.closed = True
        self.writer.close()

    def header_for(self, cmd, payload):
        if self.version == "3.1" or cmd in NO_HEADER or not payload:
            return None
        return version_header(self.version)

    async def push_report(self):
        if self.handshake or self.closed or self.version not in ("3.4", "3.5"):
            return
        await self.send(self.frame(CMD_SUBDEV, self.dev.subdev_report(), 0,
                                   seq=0))

    async def push(self, dps, t=None, cid=None):
        if self.handshake or self.closed:
            return
        payload = self.dev.sub_json(cid, dps, t) if cid is not None else \
            self.dev.status_json(dps, t)
        if self.version in ("3.2", "3.3"):
            # a real push's clear source header: version, crc 0, seq, source 1
            self.src_seq += 1
            header = self.version.encode() + struct.pack(">III", 0,
                                                         self.src_seq, 1)
        else:
            header = self.header_for(CMD_STATUS, payload)
        await self.send(self.frame(CMD_STATUS, payload, 0, header, seq=0))

    async def read_frame(self):
        while True:
            b = await self.reader.readexactly(1)
            if b != b"\0":
                continue
            rest = await self.reader.readexactly(3)
            prefix = struct.unpack(">I", b + rest)[0]
            if prefix == PREFIX_55AA:
                head = b + rest + await self.reader.readexactly(12)
                length = struct.unpack(">I", head[12:16])[0]
                if length > MAX_FRAME:
                    raise BadFrame("oversized")
                return head + await self.reader.readexactly(length)
            if prefix == PREFIX_6699:
                head = b + rest + await self.reader.readexactly(14)
                length = struct.unpack(">I", head[14:18])[0]
                if length > MAX_FRAME:
                    raise BadFrame("oversized")
                return head + await self.reader.readexactly(length + 4)

    async def serve(self):
        if self.emu.mode == "drop":
            return
        while not self.closed:
            data = await self.read_frame()
            try:
                seq, cmd, _, payload = decode_frame(self.version, self.key,
                                                    data)
            except BadFrame as e:
                self.emu.log_request({"bad": str(e)})
                # what devices do: an error of their own version
                err = b"parse data error"
                self.seq += 1
                await self.send(encode_frame(self.version, self.dev.key,
                                             self.seq, CMD_QUERY, err, 1))
                continue
            await self.handle(seq, cmd, payload)
            if self.emu.mode == "drop":
                return

    async def handle(self, seq, cmd, payload):
        try:
            body = json.loads(payload) if payload and cmd not in HANDSHAKE \
                else None
        except ValueError:
            body = None
        self.emu.log_request({"cmd": cmd, "seq": seq,
                              "payload": body if body is not None
                              else payload.hex()})
        self.emu.requests += 1
        if self.emu.mode == "stall":
            return
        if self.handshake:
            return await self.handle_handshake(cmd, payload)
        if self.dev.subs and await self.handle_hub(seq, cmd, body):
            return
        if cmd in (CMD_QUERY, CMD_QUERY_NEW):
            hub_only = self.dev.subs and not self.dev.dps
            if self.dev.device22 or hub_only or cmd != (
                    CMD_QUERY_NEW if self.version in ("3.4", "3.5")
                    else CMD_QUERY):
                return await self.send(self.frame(cmd,
                                                  b"json obj data unvalid", 1))
            reply = self.dev.query_json(self.dev.dps)
            return await self.send(self.frame(cmd, reply, 0,
                                              self.header_for(cmd, reply),
                                              seq=seq))
        if cmd == CMD_HEARTBEAT:
            return await self.send(self.frame(cmd, b"", 0, seq=0))
        if cmd in (CMD_CONTROL, CMD_CONTROL_NEW):
            dps = None
            if isinstance(body, dict):
                dps = body.get("dps")
                if dps is None and isinstance(body.get("data"), dict):
                    dps = body["data"].get("dps")
            if not isinstance(dps, dict):
                return await self.send(self.frame(cmd, b"data format error",
                                                  1))
            if all(v is None for v in dps.values()):
                # the "device22" read
                found = {k: self.dev.dps[k] for k in dps if k in self.dev.dps}
                await self.send(self.frame(cmd, b"", 0, seq=seq))
                return await self.push(found)
            changed = {}
            for k, v in dps.items():
                if self.dev.dps.get(k) != v:
                    changed[k] = v
                self.dev.dps[k] = v
            await self.send(self.frame(cmd, b"", 0, seq=seq))
            if changed:
                await self.emu.push_all(changed)
            return
        if cmd == CMD_UPDATEDPS and self.emu.mode == "ignore-updatedps":
            return
        if cmd == CMD_UPDATEDPS:
            ids = body.get("dpId", []) if isinstance(body, dict) else []
            await self.send(self.frame(cmd, b"", 0, seq=seq))
            fresh = {str(i): self.dev.dps[str(i)] for i in ids
                     if str(i) in self.dev.dps}
            if fresh:
                await self.push(fresh)
            return
        await self.send(self.frame(cmd, b"", 0, seq=seq))

    async def handle_hub(self, seq, cmd, body):
        """A hub's answers to requests that name a sub-device (and 0x40);
        False for the rest, which the hub answers as a device."""
        dev = self.dev
        if not isinstance(body, dict):
            return False
        if cmd == CMD_SUBDEV and body.get("reqType") == \
                "subdev_online_stat_query" and self.version in ("3.4", "3.5"):
            await self.send(self.frame(cmd, dev.subdev_report(), 0, seq=seq))
            return True
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        cid = body.get("cid", data.get("cid"))
        if cid is None:
            return False
        if cid not in dev.subs or (self.version not in ("3.4", "3.5") and
                                   ("gwId" in body or "devId" in body)):
            await self.send(self.frame(cmd, b"devid not found", 1, seq=seq))
            return True
        if cmd in (CMD_QUERY, CMD_QUERY_NEW):
            if self.emu.interleave:
                for other in dev.subs:
                    if other != cid:
                        await self.push(dev.subs[other], cid=other)
            reply = dev.sub_json(cid, dev.subs[cid])
            await self.send(self.frame(cmd, reply, 0,
                                       self.header_for(cmd, reply), seq=seq))
            return True
        if cmd in (CMD_CONTROL, CMD_CONTROL_NEW):
            dps = body.get("dps", data.get("dps"))
            if not isinstance(dps, dict):
                await self.send(self.frame(cmd, b"data format error", 1))
                return True
            dev.subs[cid].update(dps)
            await self.send(self.frame(cmd, b"", 0, seq=seq))
            await self.emu.push_all(dps, cid=cid)
            return True
        if cmd == CMD_UPDATEDPS:
            ids = body.get("dpId", [])
            await self.send(self.frame(cmd, b"", 0, seq=seq))
            fresh = {str(i): dev.subs[cid][str(i)] for i in ids
                     if isinstance(i, int) and str(i) in dev.subs[cid]}
            if fresh:
                await self.push(fresh, cid=cid)
            return True
        return False

    async def handle_handshake(self, cmd, payload):
        if cmd == 0x03 and len(payload) == 16:
            self.nonce_c = payload
            self.nonce_d = secrets.token_hex(8).encode()
            proof = hmac.new(self.key, self.nonce_c, hashlib.sha256).digest()
            return await self.send(self.frame(0x04, self.nonce_d + proof, 0))
        if cmd == 0x05 and self.nonce_d is not None:
            want = hmac.new(self.key, self.nonce_d, hashlib.sha256).digest()
            if not hmac.compare_digest(want, payload):
                self.emu.log_request({"bad": "session proof"})
                return self.close()
            self.key = session_key(self.version, self.dev.key, self.nonce_c,
                                   self.nonce_d)
            self.handshake = False
            return
        self.emu.log_request({"bad": "command %d before the handshake" % cmd})
        self.close()


class UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, emu):
        self.emu = emu

    def datagram_received(self, data, addr):
        try:
            _, cmd, _, payload = decode_frame("3.5", UDP_KEY, data)
            req = json.loads(payload)
        except (BadFrame, ValueError, struct.error):
            return
        self.emu.log_request({"udp": cmd, "payload": req})
        if cmd != CMD_REQ_DEVINFO or self.emu.device.version != "3.5" or \
                not isinstance(req, dict):
            return
        ip = req.get("ip")
        if not isinstance(ip, str) or not ipaddress.ip_address(ip).is_loopback:
            return
        if self.emu.udp_ports:
            self.emu.udp_send(self.emu.device.datagram(), (ip,
                                                         self.emu.udp_ports[2]))


class Emulator:
    def __init__(self, args):
        self.args = args
        self.device = Device(args)
        self.mode = args.misbehave
        self.interleave = args.interleave
        self.sessions = set()
        self.requests = 0
        self.udp = None
        self.udp_ports = [int(p) for p in args.udp_ports.split(",")] \
            if args.udp_ports else None
        self.log = open(args.log, "a", encoding="utf-8", buffering=1) \
            if args.log else None

    async def start(self):
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.args.host, self.args.port))
        self.server = await asyncio.start_server(self.on_connection, sock=sock)
        self.tcp_port = sock.getsockname()[1]
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((self.args.host, 0))
        self.udp_port = udp.getsockname()[1]
        self.udp, _ = await loop.create_datagram_endpoint(
            lambda: UdpProtocol(self), sock=udp)
        if self.args.broadcast_interval > 0:
            loop.create_task(self.broadcast_loop())

    def udp_send(self, data, addr):
        try:
            self.udp.sendto(data, addr)
        except OSError:
            pass

    def broadcast(self):
        if not self.udp_ports:
            return
        port = self.udp_ports[0 if self.device.version == "3.1" else 1]
        self.udp_send(self.device.datagram(), ("127.0.0.1", port))

    async def broadcast_loop(self):
        while True:
            self.broadcast()
            await asyncio.sleep(self.args.broadcast_interval)

    def log_request(self, req):
        if self.log:
            self.log.write(json.dumps(req) + "\n")

    async def on_connection(self, reader, writer):
        session = Session(self, reader, writer)
        self.sessions.add(session)
        try:
            await session.serve()
        except (asyncio.IncompleteReadError, ConnectionError, OSError,
                BadFrame):
            pass
        except Exception as e:  # a bug here must not kill the emulator
            print("tuya-emulator: TCP: %r" % e, file=sys.stderr)
        finally:
            self.sessions.discard(session)
            session.close()

    async def push_all(self, dps, t=None, cid=None):
        # hubs push every sub-device's updates to every open connection
        for session in list(self.sessions):
            try:
                await session.push(dps, t, cid)
            except (ConnectionError, OSError):
                pass

    async def command(self, line):
        words = line.split(None, 2)
        cmd = words[0]
        if cmd == "set":
            if len(words) != 3:
                return ["ERR usage: set ID JSON"]
            try:
                value = json.loads(words[2])
            except ValueError:
                return ["ERR not JSON: %s" % words[2]]
            self.device.dps[words[1]] = value
            await self.push_all({words[1]: value})
        elif cmd == "push":
            try:
                t, dps = int(words[1]), json.loads(words[2])
            except (IndexError, ValueError):
                return ["ERR usage: push T JSON"]
            if not isinstance(dps, dict):
                return ["ERR usage: push T JSON"]
            self.device.dps.update(dps)
            await self.push_all(dps, t)
        elif cmd in ("subset", "subonline"):
            sub = words[1] if len(words) > 1 else None
            if sub not in self.device.subs or len(words) != 3:
                return ["ERR usage: %s CID ..., a configured cid" % cmd]
            if cmd == "subonline":
                self.device.online[sub] = words[2] == "true"
                return ["OK"]
            dp, _, text = words[2].partition(" ")
            try:
                value = json.loads(text)
            except ValueError:
                return ["ERR not JSON: %s" % text]
            self.device.subs[sub][dp] = value
            await self.push_all({dp: value}, cid=sub)
        elif cmd == "subreport":
            for session in list(self.sessions):
                try:
                    await session.push_report()
                except (ConnectionError, OSError):
                    pass
        elif cmd == "misbehave":
            if len(words) != 2 or words[1] not in MODES:
                return ["ERR usage: misbehave " + "|".join(MODES)]
            self.mode = words[1]
            if self.mode == "drop":
                for session in list(self.sessions):
                    session.close()
        elif cmd == "broadcast":
            self.broadcast()
        elif cmd == "state":
            return ["STATE " + json.dumps({"dps": self.device.dps,
                                           "subs": self.device.subs,
                                           "misbehave": self.mode,
                                           "connections": len(self.sessions),
                                           "requests": self.requests}),
                    "OK"]
        else:
            return ["ERR unknown command %s" % cmd]
        return ["OK"]

    def close(self):
        self.server.close()
        for session in list(self.sessions):
            session.close()
        if self.log:
            self.log.close()


async def run(args):
    emu = Emulator(args)
    await emu.start()
    await serve(emu, {"tcp": emu.tcp_port, "udp": emu.udp_port})


def main():
    p = argparse.ArgumentParser(description="Tuya local-protocol device "
                                "emulator (see module docstring)")
    p.add_argument("--version", default="3.3",
                   choices=("3.1", "3.2", "3.3", "3.4", "3.5"))
    p.add_argument("--device-id", default="bf0123456789abcdef01")
    p.add_argument("--local-key", default="k3y!Local_Tuya#1")
    p.add_argument("--profile", default="metering-plug", choices=PROFILES)
    p.add_argument("--dps")
    p.add_argument("--product-key", default="keyexample123456")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--device22", action="store_true")
    p.add_argument("--udp-ports")
    p.add_argument("--broadcast-interval", type=float, default=0)
    p.add_argument("--misbehave", default="none", choices=MODES)
    p.add_argument("--log")
    p.add_argument("--sub", action="append")
    p.add_argument("--interleave", action="store_true")
    p.add_argument("--self-test", action="store_true")
    args = p.parse_args()
    if args.self_test:
        return self_test()
    if not ipaddress.ip_address(args.host).is_loopback:
        raise SystemExit("tuya-emulator: only loopback addresses")
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
