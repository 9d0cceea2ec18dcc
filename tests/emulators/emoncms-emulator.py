#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Emulate the input API of an EmonCMS server (input/post, input/bulk, input/get).

The rules are those of emoncms 11.16.8 as written down in shared/specs/emoncms.md,
implemented here independently of the daemon's C code: where the key may be given and
what a wrong, read-only or missing key gets; node and input name filtering; fulljson,
json, csv and data forms; the time modes and row format of input/bulk; the exact reply
texts. Every input that is stored is recorded, in the order it was applied.
libsoup 3 through GObject introspection; run with /usr/bin/python3.

Usage:
  emoncms-emulator.py [--host 127.0.0.1] [--port N] [--write-key HEX32]
                      [--read-key HEX32] [--tls CERT_OUT] [--max-nodes N]
  emoncms-emulator.py --self-test

  --port N          TCP port; 0 (default) = a free one
  --write-key HEX   the account's write key (default 32 x "a"... see DEFAULT_WRITE_KEY)
  --read-key HEX    the account's read key
  --tls PATH        serve HTTPS with a new self-signed certificate for 127.0.0.1,
                    written (PEM) to PATH for clients that should trust it
  --max-nodes N     [input] max_node_id_limit (default 32)

After listening, one line on stdout:
  READY {"port": <port>, "url": "http[s]://127.0.0.1:<port>"}

Commands on stdin (each answered by "OK" or "ERR <reason>"):
  down              stop listening and drop every connection (the port stays reserved)
  up                listen again on the same port
  reply MODE        how post/bulk answer from now on:
                      normal   the real rules (default)
                      empty    HTTP 200, empty body, nothing stored
                      error500 HTTP 500, nothing stored
                      garbage  HTTP 200 "<html>maintenance</html>", nothing stored
                      stall    never answer (the connection stays open)
  slow SECONDS      delay every answer (0: no delay)
  stored            prints "STORED <json>": every stored input value in the order
                    applied: [{"node", "name", "time", "value", "api"}]
  requests          prints "REQUESTS <json>": [{"method", "path", "query_keys",
                    "form_keys", "auth_header", "reply"}] of every post/bulk request
  clear             forget what was stored and requested
  quit              exit 0
EOF on stdin is ignored; SIGTERM/SIGINT exit cleanly.
"""

import argparse
import datetime
import ipaddress
import json
import os
import re
import sys
import time
import unicodedata
import urllib.parse
import zlib

import gi

gi.require_version("Soup", "3.0")
from gi.repository import Gio, GLib, Soup  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emucontrol  # noqa: E402

DEFAULT_WRITE_KEY = "0123456789abcdef0123456789abcdef"
DEFAULT_READ_KEY = "fedcba9876543210fedcba9876543210"
MODES = ("normal", "empty", "error500", "garbage", "stall")


class Reply(Exception):
    """Ends a request with this status and body."""

    def __init__(self, status, body, content_type="text/plain", headers=None):
        super().__init__(body)
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


def failure(message):
    # emoncms replaces double quotes of the message by single quotes
    return Reply(200, '{"success": false, "message": "%s"}' % message.replace('"', "'"))


# names (§4): /[^\p{N}\p{L}_\s\-.]/u removed

def clean_name(text):
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] in ("L", "N") or ch in "_-." or ch.isspace():
            out.append(ch)
    return "".join(out)


def route_filter(text):
    # the router keeps only A-Z a-z 0-9 . _ - / of a path
    return re.sub(r"[^A-Za-z0-9._\-/]", "", text)


def php_numeric(value):
    """PHP is_numeric for strings: optional sign, digits, decimals, exponent."""
    return isinstance(value, str) and re.fullmatch(
        r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*", value) is not None


def to_number(value):
    """fulljson value rules (§2): numbers as is, numeric strings parsed,
    other strings 0, true 1, false/null 0."""
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, (int, float)):
        return value
    if value is None:
        return 0
    if php_numeric(value):
        return float(value)
    return 0


def parse_time(text, now):
    """time parameter: epoch seconds (integer or numeric string) or a date string;
    unparsable text falls back to the server's clock."""
    if php_numeric(text):
        return int(float(text))
    try:
        return int(datetime.datetime.fromisoformat(text.strip()).timestamp())
    except ValueError:
        return now


class Account:
    def __init__(self, write_key, read_key, max_nodes):
        self.write_key = write_key
        self.read_key = read_key
        self.max_nodes = max_nodes
        self.inputs = {}   # node → name → {"time", "value"}
        self.stored = []   # in the order applied
        self.requests = []

    def store(self, node, name, t, value, api):
        if node not in self.inputs:
            if len(self.inputs) >= self.max_nodes:
                raise failure("Error: Reached the maximal allowed number of different NodeIds, "
                              "limit is %d. Node '%s' was ignored." % (self.max_nodes, node))
            self.inputs[node] = {}
        self.inputs[node][name] = {"time": t, "value": value}
        self.stored.append({"node": node, "name": name, "time": t, "value": value, "api": api})

    # keys (§1)

    def check_key(self, query, form, headers):
        if "apikey" in query:
            key = query["apikey"]
        elif "apikey" in form:
            key = form["apikey"]
        else:
            auth = headers.get_one("Authorization")
            if auth is None:
                return None
            key = auth.replace("Bearer ", "")
        if key == self.write_key:
            return "write"
        if key == self.read_key:
            return "read"
        raise Reply(401, "Invalid API key", headers={
            "WWW-Authenticate": 'Bearer realm="API KEY", error="invalid_apikey", '
                                'error_description="Invalid API key"'})

    # input/post (§2)

    def input_post(self, params, path_node, now):
        node = params.get("node")
        if node is None:
            node = path_node if path_node else "0"
        node = clean_name(node) or "0"
        fulljson = "fulljson" in params and "json" not in params
        t = None
        if "time" in params:
            t = parse_time(params["time"], now)
        values = []  # (name, value)
        if "json" in params or "data" in params:
            text = params.get("json", params.get("data"))
            text = re.sub(r"[^\w\s\-.:,]", "", text, flags=re.UNICODE)
            position = 0
            for item in text.split(","):
                if ":" in item:
                    name, _, value = item.partition(":")
                    if not php_numeric(value) and value.strip() != "null":
                        raise failure("Format error, json value is not numeric")
                    values.append((name, 0 if value.strip() == "null" else float(value)))
                else:
                    position += 1
                    values.append((str(position), float(item) if php_numeric(item) else 0))
        elif fulljson:
            try:
                obj = json.loads(params["fulljson"])
            except ValueError:
                raise failure("Input in not a valid JSON object")
            if not isinstance(obj, dict) or any(isinstance(v, (dict, list)) for v in obj.values()):
                raise failure("Input in not a valid JSON object")
            for key, value in obj.items():
                if key.lower() == "time" and t is None:
                    t = parse_time(str(value), now)
                if key == "time":
                    continue
                values.append((key, to_number(value)))
        elif "csv" in params:
            for i, item in enumerate(params["csv"].split(",")):
                if not php_numeric(item) and item.strip() != "null":
                    raise failure("Format error: csv value is not numeric")
                values.append((str(i + 1), 0 if item.strip() == "null" else float(item)))
        else:
            raise failure("Request contains no data via csv, json or data tag")
        if t is None:
            t = now
        if t >= 100000000000:  # milliseconds: MySQL-only emoncms fails (§2)
            raise Reply(500, "")
        for name, value in values:
            clean = clean_name(name)
            if clean == "":
                raise failure("Format error, json key missing or invalid character")
            self.store(node, clean, t, value, "post")
        return '{"success": true}' if fulljson else "ok"

    # input/bulk (§3)

    def input_bulk(self, params, body, now):
        if params.get("cb") == "1":
            try:
                text = zlib.decompress(body).decode()
            except (zlib.error, UnicodeDecodeError):
                raise failure("Format error, json string supplied is not valid")
        elif params.get("c") == "1":
            try:
                text = zlib.decompress(bytes.fromhex(params.get("data", ""))).decode()
            except (ValueError, zlib.error, UnicodeDecodeError):
                raise failure("Format error, compressed hex not valid")
        else:
            text = params.get("data")
        try:
            rows = json.loads(text) if text is not None else None
        except ValueError:
            rows = None
        if not isinstance(rows, list) or not rows:
            raise failure("Format error, json string supplied is not valid")
        last = rows[-1]
        if not isinstance(last, list) or not last:
            raise failure("Format error, last item in bulk data does not contain any data")

        def base_time():
            for key in ("sentat", "offset"):
                if key in params:
                    return now - int(float(params[key]))
            if "time" in params:
                return int(float(params["time"]))
            return now - int(last[0])

        start = base_time()
        for row in rows:
            if not isinstance(row, list) or len(row) < 3:
                continue
            t = start + int(row[0])
            node = row[1]
            if isinstance(node, dict):
                raise failure("Format error, node must not be an object")
            node = clean_name(str(node)) or "0"
            position = 0
            for item in row[2:]:
                if isinstance(item, dict):
                    for name, value in item.items():
                        clean = clean_name(name)
                        if clean:
                            self.store(node, clean, t, to_number(value), "bulk")
                else:
                    position += 1
                    self.store(node, str(position), t, to_number(item if item != "" else 0), "bulk")
        return '{"success": true}' if "fulljson" in params else "ok"


class Emulator:
    def __init__(self, args):
        self.args = args
        self.account = Account(args.write_key, args.read_key, args.max_nodes)
        self.mode = "normal"
        self.delay = 0.0
        self.port = args.port
        self.server = None
        self.held = []  # stalled messages, kept alive
        self.cert = None
        if args.tls:
            self.cert = make_certificate(args.tls)

    # listening

    def up(self):
        if self.server is not None:
            return
        server = Soup.Server(server_header="emoncms-emulator")
        if self.cert is not None:
            server.set_tls_certificate(self.cert)
        server.add_handler(None, self.handle)
        options = Soup.ServerListenOptions.IPV4_ONLY
        if self.cert is not None:
            options |= Soup.ServerListenOptions.HTTPS
        server.listen_local(self.port, options)
        if self.port == 0:
            self.port = urllib.parse.urlsplit(server.get_uris()[0].to_string()).port
        self.server = server

    def down(self):
        if self.server is None:
            return
        Soup.Server.disconnect(self.server)
        self.server = None
        self.held.clear()

    # requests

    def handle(self, server, msg, path, query, *unused):
        now = int(time.time())
        uri = msg.get_uri()
        query_pairs = urllib.parse.parse_qsl(uri.get_query() or "", keep_blank_values=True)
        query_dict = dict(query_pairs)
        body = msg.get_request_body().flatten().get_data() or b""
        ctype = msg.get_request_headers().get_content_type()[0] or ""
        form = {}
        if ctype == "application/x-www-form-urlencoded" and query_dict.get("cb") != "1":
            form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"),
                                               keep_blank_values=True))
        params = dict(form)
        params.update(query_dict)  # $_GET before $_POST
        api = None
        path_node = None
        m = re.fullmatch(r"/input/(post|bulk)(\.json)?(/(.*))?", path)
        if m:
            api = m.group(1)
            path_node = route_filter(urllib.parse.unquote(m.group(4))) if m.group(4) else None
        record = {"method": msg.get_method(), "path": path, "query_keys": sorted(query_dict),
                  "form_keys": sorted(form),
                  "auth_header": msg.get_request_headers().get_one("Authorization") is not None,
                  "content_type": ctype, "reply": None}
        try:
            if api is None:
                reply = self.read_api(path, params, query_dict, form, msg)
            else:
                self.account.requests.append(record)
                reply = self.write_api(api, params, query_dict, form, msg, body, path_node, now)
        except Reply as r:
            reply = r
        record["reply"] = [reply.status, reply.body]
        if reply.status is None:  # stall
            self.held.append(msg)
            msg.pause()
            return
        if self.delay > 0:
            msg.pause()
            GLib.timeout_add(int(self.delay * 1000), self.finish_later, msg, reply)
            return
        self.finish(msg, reply)

    def finish_later(self, msg, reply):
        self.finish(msg, reply)
        msg.unpause()
        return GLib.SOURCE_REMOVE

    @staticmethod
    def finish(msg, reply):
        msg.set_status(reply.status, None)
        for name, value in reply.headers.items():
            msg.get_response_headers().append(name, value)
        msg.set_response(reply.content_type, Soup.MemoryUse.COPY, reply.body.encode())

    def write_api(self, api, params, query, form, msg, body, path_node, now):
        if self.mode == "stall":
            return Reply(None, "")
        if self.mode == "error500":
            return Reply(500, "<html>Internal Server Error</html>", "text/html")
        if self.mode == "garbage":
            return Reply(200, "<html>maintenance</html>", "text/html")
        if self.mode == "empty":
            return Reply(200, "")
        if msg.get_method() not in ("GET", "POST"):
            return Reply(405, "")
        level = self.account.check_key(query, form, msg.get_request_headers())
        if level != "write":  # read key or no key: 200, empty, nothing stored
            return Reply(200, "")
        if api == "post":
            return Reply(200, self.account.input_post(params, path_node, now))
        return Reply(200, self.account.input_bulk(params, body, now))

    def read_api(self, path, params, query, form, msg):
        if not path.startswith("/input/get"):
            return Reply(200, "false", "application/json")
        level = self.account.check_key(query, form, msg.get_request_headers())
        if level is None:
            return Reply(200, "false", "application/json")
        parts = [p for p in path[len("/input/get"):].split("/") if p]
        node = parts[0] if parts else params.get("node")
        name = parts[1] if len(parts) > 1 else params.get("name")
        inputs = {n: {k: dict(v, processList="") for k, v in d.items()}
                  for n, d in self.account.inputs.items()}
        if node is None:
            result = inputs
        elif node not in inputs:
            result = "Node does not exist"
        elif name is None:
            result = inputs[node]
        elif name not in inputs[node]:
            result = "Node variable does not exist"
        else:
            result = inputs[node][name]
        return Reply(200, json.dumps(result), "application/json")

    # control

    def command(self, line):
        words = line.split()
        cmd, rest = words[0], words[1:]
        if cmd == "down":
            self.down()
        elif cmd == "up":
            self.up()
        elif cmd == "reply":
            if len(rest) != 1 or rest[0] not in MODES:
                return ["ERR usage: reply " + "|".join(MODES)]
            self.mode = rest[0]
            if self.mode != "stall":
                self.held.clear()
        elif cmd == "slow":
            try:
                self.delay = float(rest[0])
            except (IndexError, ValueError):
                return ["ERR usage: slow SECONDS"]
        elif cmd == "stored":
            return ["STORED " + json.dumps(self.account.stored), "OK"]
        elif cmd == "requests":
            return ["REQUESTS " + json.dumps(self.account.requests), "OK"]
        elif cmd == "clear":
            self.account.stored.clear()
            self.account.requests.clear()
        else:
            return ["ERR unknown command %s" % cmd]
        return ["OK"]


def make_certificate(path):
    """A self-signed certificate for 127.0.0.1; the PEM goes to path."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    with open(path, "wb") as f:
        f.write(cert_pem)
    return Gio.TlsCertificate.new_from_pem((cert_pem + key_pem).decode(), -1)


def self_test():
    """The spec's own examples (shared/specs/emoncms.md)."""
    ok = True

    def check(what, got, want):
        nonlocal ok
        if got != want:
            print("FAIL %s: %r != %r" % (what, got, want))
            ok = False

    check("power(W)", clean_name("power(W)"), "powerW")
    check("node", clean_name("my node(1)/x"), "my node1x")
    check("a:b", clean_name("a:b"), "ab")
    check("route", route_filter("my node"), "mynode")
    acc = Account(DEFAULT_WRITE_KEY, DEFAULT_READ_KEY, 32)
    check("fulljson", acc.input_post({"fulljson": '{"power1":100,"power2":200.5}', "time": "1700000000"},
                                     None, 0), '{"success": true}')
    check("stored", acc.inputs["0"]["power2"], {"time": 1700000000, "value": 200.5})
    check("values", acc.input_post({"node": "n", "fulljson": '{"a":"12.5","b":"1e3","c":"x","d":true,"e":null}'},
                                   None, 5), '{"success": true}')
    check("numeric strings", [acc.inputs["n"][k]["value"] for k in "abcde"], [12.5, 1000.0, 0, 1, 0])
    try:
        acc.input_post({"fulljson": '{"a":{"b":1}}'}, None, 0)
        check("nested", "accepted", "refused")
    except Reply as r:
        check("nested", r.body, '{"success": false, "message": "Input in not a valid JSON object"}')
    check("Time", acc.input_post({"node": "t", "fulljson": '{"Time":1700000000,"x":1}'}, None, 5),
          '{"success": true}')
    check("Time input", acc.inputs["t"]["Time"]["time"], 1700000000)
    check("bulk mixed", acc.input_bulk({"data": '[[0,"m",{"power":1412,"v":230},5]]', "time": "0"},
                                       b"", 100), "ok")
    check("bulk values", (acc.inputs["m"]["power"]["value"], acc.inputs["m"]["1"]["value"],
                          acc.inputs["m"]["1"]["time"]), (1412, 5, 0))
    check("bulk sentat", acc.input_bulk({"data": '[[990,"s",1]]', "sentat": "1000", "fulljson": ""},
                                        b"", 2000), '{"success": true}')
    check("sentat time", acc.inputs["s"]["1"]["time"], 1990)
    try:
        acc.input_bulk({"data": "[[]]"}, b"", 0)
        check("[[]]", "accepted", "refused")
    except Reply as r:
        check("[[]]", r.body, '{"success": false, "message": '
              '"Format error, last item in bulk data does not contain any data"}')
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description="EmonCMS input API emulator (see module docstring)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--write-key", default=DEFAULT_WRITE_KEY)
    p.add_argument("--read-key", default=DEFAULT_READ_KEY)
    p.add_argument("--tls")
    p.add_argument("--max-nodes", type=int, default=32)
    p.add_argument("--self-test", action="store_true")
    args = p.parse_args()
    if args.self_test:
        return self_test()
    if args.host != "127.0.0.1":
        p.error("only 127.0.0.1 is supported")
    emu = Emulator(args)
    emu.up()
    scheme = "https" if emu.cert else "http"
    emucontrol.serve_glib(emu.command, {"port": emu.port,
                                        "url": "%s://127.0.0.1:%d" % (scheme, emu.port)})
    emu.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
