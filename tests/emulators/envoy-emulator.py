#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Emulate one Enphase Envoy / IQ Gateway over HTTP or HTTPS, with libsoup 3 (GI).

The gateway is one fixture folder (tests/data/envoy/<firmware>/, captured from real
gateways by pyenphase; see tests/data/envoy/SOURCE.md). Every file of the folder is
an endpoint: the path with its leading "/" removed and "/ ? = & space" turned into
"_" (/production.json?details=1 -> production.json_details_1, falling back to
production.json as pyenphase's tests do). Each is served with the status of its
capture (<name>_log.json "code"); a path with no file answers 404.

Authentication as that firmware does it (spec shared/specs/envoy.md §3):
  firmware < 7: HTTP digest, realm enphaseenergy.com, on every path but /info and
    /info.xml; users "envoy" (password: last 6 digits of the serial) and
    "installer" (password derived from the serial, computed here independently of
    the daemon). /stream/meter needs "installer".
  firmware >= 7: HTTPS; a JWT as "Authorization: Bearer", or the sessionId cookie
    that GET /auth/check_jwt sets for a valid token. Tokens are the emulator's own
    (HS256 with a per-run secret, made with the "token" command): signature, expiry
    and audience (the serial) are checked. /stream/meter needs role installer.
    /info needs nothing.

/stream/meter (metered folders) sends one event a second, cycling through the
`data:` lines of a real capture (--stream FILE), as text/event-stream.

Usage:
  envoy-emulator.py --fixture DIR [--scheme http|https] [--cert-dir DIR]
                    [--stream FILE] [--port N] [--log FILE]

  --fixture DIR   one firmware folder
  --scheme S      default: https for firmware >= 7, http before
  --cert-dir DIR  where the test CA and certificate are written (HTTPS); default:
                  a temporary directory. Files: ca.pem (the CA to give as ca-file),
                  cert.pem, key.pem. Made fresh at start (EC P-256, SAN 127.0.0.1).
  --stream FILE   the capture to replay on /stream/meter
  --port N        0 (default) picks a free port; 127.0.0.1 only
  --log FILE      append one line per request: METHOD PATH STATUS USER BEARER
                  (BEARER: "bearer" when the request carried an Authorization:
                  Bearer header, valid or not; else "-")

After listening, one line on stdout:
  READY {"port": N, "scheme": "...", "serial": "...", "ca": PATH|null,
         "fingerprint": "sha256:.."|null}

Commands on stdin (each answered by "OK", or "ERR <reason>"):
  misbehave MODE [PATH]   MODE for requests whose path starts with PATH (default:
                          every path but /info): none (clears all), 401, 500,
                          truncated (the first half of the body), stall (never
                          answer; on /stream/meter: stop sending events), drop
                          (close the connection without an answer)
  cut                     close every open /stream/meter connection now
  token ROLE SECONDS      prints "TOKEN <jwt>" for ROLE (owner, installer...),
                          expiring SECONDS from now (negative: already expired)
  new-cert                a new key and certificate (same CA); open connections
                          are closed
  report SERIAL WATTS     the inverter sends a new report: lastReportDate moves
                          on, lastReportWatts = WATTS
  watts SERIAL WATTS      lastReportWatts changes without a new report time
  state                   prints "STATE <json>": requests per path, open streams,
                          events sent, fingerprint
  quit
EOF on stdin is ignored; SIGTERM/SIGINT, or the death of the parent process (checked
every second), end the emulator.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import re
import secrets
import sys
import tempfile
import time

import gi

# GLib writes debug messages to stdout, which carries our answers
os.environ.pop("G_MESSAGES_DEBUG", None)
gi.require_version("Soup", "3.0")
from gi.repository import Gio, GLib, Soup  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emucontrol  # noqa: E402

REALM = "enphaseenergy.com"
ROLES = {"anybody": 1, "monitor": 2, "owner": 2, "prov": 3, "support": 4, "sysadmin": 5,
         "installer": 6, "envoy": 7, "enphase": 7, "factory": 7}
MODES = ("none", "401", "500", "truncated", "stall", "drop")
HTML_401 = (b"<html>\n<head><title>401 Authorization Required</title></head>\n<body>\n"
            b"<center><h1>401 Authorization Required</h1></center>\n</body>\n</html>\n")
VALID_TOKEN = b"<!DOCTYPE html><h2>Valid token.</h2>\n"


def installer_password(serial, user="installer"):
    """sarnau/EnphaseEnergy passwordCalc.py, as described in spec §3.1."""
    digest = hashlib.md5(("[e]%s@%s#%s EnPhAsE eNeRgY " % (user, REALM, serial)).encode()).hexdigest()
    zeros, ones = digest.count("0"), digest.count("1")
    out = ""
    for c in reversed(digest[-8:]):
        if zeros in (3, 6, 9):
            zeros -= 1
        zeros = max(0, min(20, zeros))
        if ones in (9, 15):
            ones -= 1
        ones = max(0, min(26, ones))
        if c == "0":
            out += chr(ord("f") + zeros)
            zeros -= 1
        elif c == "1":
            out += chr(ord("@") + ones)
            ones -= 1
        else:
            out += c
    return out


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def endpoint_file(path, query):
    name = path.lstrip("/")
    if query:
        name += "?" + query
    return re.sub(r"[/?=& ]", "_", name)


def make_certificates(cert_dir):
    """A test CA and a server certificate for 127.0.0.1, written as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_path = os.path.join(cert_dir, "ca.pem")
    ca_key_path = os.path.join(cert_dir, "ca-key.pem")
    if os.path.exists(ca_path):
        ca_cert = x509.load_pem_x509_certificate(open(ca_path, "rb").read())
        ca_key = serialization.load_pem_private_key(open(ca_key_path, "rb").read(), None)
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wattbus test CA")])
        ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
                   .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=30))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                content_commitment=False, key_encipherment=False,
                                                data_encipherment=False, key_agreement=False,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .sign(ca_key, hashes.SHA256()))
        with open(ca_path, "wb") as f:
            f.write(ca_cert.public_bytes(serialization.Encoding.PEM))
        with open(ca_key_path, "wb") as f:
            f.write(ca_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "envoy")]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    with open(os.path.join(cert_dir, "cert.pem"), "wb") as f:
        f.write(cert_pem)
    with open(os.path.join(cert_dir, "key.pem"), "wb") as f:
        f.write(key_pem)
    der = cert.public_bytes(serialization.Encoding.DER)
    fingerprint = "sha256:" + ":".join("%02x" % b for b in hashlib.sha256(der).digest())
    return (cert_pem + key_pem).decode(), ca_path, fingerprint


class Gateway:
    def __init__(self, args):
        self.dir = args.fixture
        info = open(os.path.join(self.dir, "info"), encoding="utf-8").read()
        self.serial = re.search(r"<sn>\s*([^<\s]+)\s*</sn>", info).group(1)
        software = re.search(r"<software>\s*([^<\s]+)\s*</software>", info).group(1)
        self.major = int(re.match(r"[A-Za-z]*(\d+)", software).group(1))
        self.token_firmware = self.major >= 7 or "<web-tokens>true</web-tokens>" in info
        self.scheme = args.scheme or ("https" if self.token_firmware else "http")
        self.cert_dir = args.cert_dir or tempfile.mkdtemp(prefix="envoy-emulator-")
        self.secret = secrets.token_bytes(32)
        self.sessions = {}  # sessionId -> role
        self.modes = {}  # path prefix -> mode
        self.requests = {}
        self.streams = []  # open stream messages
        self.events_sent = 0
        self.log = open(args.log, "a") if args.log else None
        self.inverters = None
        inv = os.path.join(self.dir, "api_v1_production_inverters")
        if os.path.exists(inv):
            try:
                self.inverters = json.load(open(inv))
            except ValueError:
                self.inverters = None
        self.events = []
        if args.stream:
            self.events = [line.rstrip("\n") for line in open(args.stream, encoding="utf-8")
                           if line.startswith("data:")]
        self.next_event = 0
        self.digest = None
        if not self.token_firmware:
            self.digest = Soup.AuthDomainDigest(realm=REALM)
            self.digest.set_auth_callback(self.digest_password)
            self.digest.add_path("/")
            self.digest.remove_path("/info")
            self.digest.remove_path("/info.xml")
        self.tls_pem, self.ca_path, self.fingerprint = (None, None, None)
        if self.scheme == "https":
            self.tls_pem, self.ca_path, self.fingerprint = make_certificates(self.cert_dir)
        self.server = None
        self.port = args.port
        self.listen()
        GLib.timeout_add(1000, self.tick)

    # ---------------------------------------------------------------- serving --

    def listen(self):
        server = Soup.Server()
        if self.tls_pem:
            server.set_tls_certificate(Gio.TlsCertificate.new_from_pem(self.tls_pem, -1))
        if self.digest:
            server.add_auth_domain(self.digest)
        server.add_handler(None, self.handle)
        opts = Soup.ServerListenOptions.IPV4_ONLY
        if self.tls_pem:
            opts |= Soup.ServerListenOptions.HTTPS
        server.listen_local(self.port, opts)
        self.port = server.get_uris()[0].get_port()
        self.server = server

    def digest_password(self, domain, msg, username):
        if username == "envoy":
            password = self.serial[-6:]
        elif username == "installer":
            password = installer_password(self.serial)
        else:
            return None
        return Soup.AuthDomainDigest.encode_password(username, REALM, password)

    def token_role(self, token):
        try:
            head, payload, sig = token.split(".")
            expected = hmac.new(self.secret, (head + "." + payload).encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, b64url_decode(sig)):
                return None
            claims = json.loads(b64url_decode(payload))
        except (ValueError, TypeError):
            return None
        if claims.get("exp", 0) <= time.time() or claims.get("aud") != self.serial:
            return None
        return claims.get("enphaseUser")

    def make_token(self, role, seconds):
        now = int(time.time())
        head = b64url(json.dumps({"kid": "test", "typ": "JWT", "alg": "HS256"}).encode())
        payload = b64url(json.dumps({"aud": self.serial, "iss": "Entrez", "enphaseUser": role,
                                     "exp": now + seconds, "iat": now, "jti": secrets.token_hex(8),
                                     "username": "test@example.com"}).encode())
        sig = hmac.new(self.secret, (head + "." + payload).encode(), hashlib.sha256).digest()
        return head + "." + payload + "." + b64url(sig)

    def caller_role(self, msg):
        """The role the request authenticates as, or None."""
        headers = msg.get_request_headers()
        auth = headers.get_one("Authorization") or ""
        if auth.startswith("Bearer "):
            role = self.token_role(auth[len("Bearer "):].strip())
            if role is not None:
                return role
        cookies = headers.get_one("Cookie") or ""
        for part in cookies.split(";"):
            name, _, value = part.strip().partition("=")
            if name == "sessionId" and value in self.sessions:
                return self.sessions[value]
        return None

    def mode_for(self, path):
        best = None
        for prefix, mode in self.modes.items():
            if prefix == "*":
                if path not in ("/info", "/info.xml") and best is None:
                    best = (0, mode)
            elif path.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), mode)
        return best[1] if best else "none"

    def respond(self, msg, status, body, ctype="text/html"):
        msg.set_status(status, None)
        msg.set_response(ctype, Soup.MemoryUse.COPY, body)

    def write_log(self, msg, path, status, user):
        if self.log:
            auth = msg.get_request_headers().get_one("Authorization") or ""
            self.log.write("%s %s %s %s %s\n" % (msg.get_method(), path, status, user or "-",
                                                 "bearer" if auth.startswith("Bearer ") else "-"))
            self.log.flush()

    def handle(self, server, msg, path, query):
        query_text = msg.get_uri().get_query()
        full = path + ("?" + query_text if query_text else "")
        self.requests[path] = self.requests.get(path, 0) + 1
        mode = self.mode_for(path)
        if mode == "drop":
            stream = msg.steal_connection()
            stream.close(None)
            self.write_log(msg, full, "dropped", None)
            return
        if mode == "stall" and path != "/stream/meter":
            msg.pause()
            self.write_log(msg, full, "stalled", None)
            return
        if mode == "401":
            if self.digest:
                msg.get_response_headers().append(
                    "WWW-Authenticate", 'Digest qop="auth", realm="%s", nonce="%s"' % (REALM, secrets.token_hex(8)))
            self.respond(msg, 401, HTML_401)
            return
        if mode == "500":
            self.respond(msg, 500, b"<html><body>500 Internal Server Error</body></html>")
            return

        user = None
        if self.token_firmware and path not in ("/info", "/info.xml"):
            user = self.caller_role(msg)
            if user is None:
                self.respond(msg, 401, HTML_401)
                self.write_log(msg, full, 401, None)
                return
            if path == "/auth/check_jwt":
                auth = msg.get_request_headers().get_one("Authorization") or ""
                role = self.token_role(auth[len("Bearer "):].strip()) if auth.startswith("Bearer ") else None
                if role is None:
                    self.respond(msg, 401, HTML_401)
                    self.write_log(msg, full, 401, None)
                    return
                sid = secrets.token_hex(16)
                self.sessions[sid] = role
                msg.get_response_headers().append("Set-Cookie", "sessionId=%s; Path=/; HttpOnly" % sid)
                self.respond(msg, 200, VALID_TOKEN)
                self.write_log(msg, full, 200, role)
                return
        elif self.digest and path not in ("/info", "/info.xml"):
            # the auth domain has already refused unauthenticated requests
            user = self.digest.accepts(msg)

        if path == "/stream/meter":
            allowed = (ROLES.get(user, 0) >= ROLES["prov"]) if self.token_firmware else user == "installer"
            if not allowed or not self.events:
                self.respond(msg, 401 if not allowed else 404, HTML_401 if not allowed else b"")
                self.write_log(msg, full, 401 if not allowed else 404, user)
                return
            self.start_stream(msg)
            self.write_log(msg, full, 200, user)
            return

        status, body, ctype = self.lookup(path, query_text)
        if mode == "truncated":
            body = body[: len(body) // 2]
        self.respond(msg, status, body, ctype)
        self.write_log(msg, full, status, user)

    def lookup(self, path, query):
        if path == "/api/v1/production/inverters" and self.inverters is not None:
            return 200, json.dumps(self.inverters, indent=2).encode(), "application/json"
        names = [endpoint_file(path, query)]
        if query:
            names.append(endpoint_file(path, None))
        for name in names:
            file = os.path.join(self.dir, name)
            if not name or not os.path.isfile(file) or name.endswith("_log.json") or name == "_readme":
                continue
            body = open(file, "rb").read()
            status = 200
            ctype = None
            log = file + "_log.json"
            if os.path.exists(log):
                try:
                    meta = json.load(open(log))
                    status = int(meta.get("code", 200))
                    ctype = (meta.get("headers") or {}).get("content-type")
                except ValueError:
                    pass
            if ctype is None:
                text = body.lstrip()
                ctype = ("text/xml" if text.startswith(b"<?xml") else
                         "text/html" if text.startswith(b"<") else "application/json")
            return status, body, ctype.split(";")[0]
        return 404, b'{ "error" : "404 - Not Found" }', "application/json"

    # ----------------------------------------------------------------- stream --

    def start_stream(self, msg):
        msg.set_status(200, None)
        headers = msg.get_response_headers()
        headers.set_content_type("text/event-stream", None)
        headers.set_encoding(Soup.Encoding.CHUNKED)
        msg.connect("finished", self.stream_finished)
        self.streams.append(msg)
        self.send_event(msg)

    def stream_finished(self, msg):
        if msg in self.streams:
            self.streams.remove(msg)

    def send_event(self, msg):
        line = self.events[self.next_event % len(self.events)]
        msg.get_response_body().append_bytes(GLib.Bytes.new((line + "\n\n").encode()))
        msg.unpause()
        self.events_sent += 1

    def tick(self):
        if self.streams and self.mode_for("/stream/meter") != "stall":
            self.next_event += 1
            for msg in list(self.streams):
                if not getattr(msg, "stalled", False):
                    self.send_event(msg)
        elif self.streams:
            for msg in self.streams:
                msg.stalled = True
        return True

    def cut_streams(self):
        for msg in list(self.streams):
            self.streams.remove(msg)
            try:
                msg.steal_connection().close(None)
            except GLib.Error:
                pass

    # --------------------------------------------------------------- commands --

    def command(self, line):
        words = line.split()
        if not words:
            return []
        cmd, args = words[0], words[1:]
        if cmd == "misbehave":
            if not args or args[0] not in MODES:
                raise ValueError("mode must be one of %s" % ", ".join(MODES))
            if args[0] == "none" and len(args) == 1:
                self.modes.clear()
            else:
                self.modes[args[1] if len(args) > 1 else "*"] = args[0]
            return []
        if cmd == "cut":
            self.cut_streams()
            return []
        if cmd == "token":
            return ["TOKEN " + self.make_token(args[0], int(args[1]))]
        if cmd == "new-cert":
            if self.scheme != "https":
                raise ValueError("not serving https")
            self.tls_pem, self.ca_path, self.fingerprint = make_certificates(self.cert_dir)
            self.cut_streams()
            self.server.disconnect()
            self.listen()
            return []
        if cmd in ("report", "watts"):
            if self.inverters is None:
                raise ValueError("no inverters")
            for inv in self.inverters:
                if inv.get("serialNumber") == args[0]:
                    inv["lastReportWatts"] = int(args[1])
                    if cmd == "report":
                        inv["lastReportDate"] = max(int(time.time()), inv["lastReportDate"] + 1)
                    return []
            raise ValueError("no inverter " + args[0])
        if cmd == "state":
            return ["STATE " + json.dumps({"requests": self.requests, "streams": len(self.streams),
                                           "events": self.events_sent, "fingerprint": self.fingerprint,
                                           "inverters": self.inverters})]
        raise ValueError("unknown command " + cmd)


def main():
    p = argparse.ArgumentParser(description="Enphase Envoy emulator")
    p.add_argument("--fixture", required=True)
    p.add_argument("--scheme", choices=("http", "https"))
    p.add_argument("--cert-dir")
    p.add_argument("--stream")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log")
    args = p.parse_args()
    gw = Gateway(args)
    emucontrol.serve_glib(lambda line: gw.command(line) + ["OK"],
                          {"port": gw.port, "scheme": gw.scheme, "serial": gw.serial,
                           "ca": gw.ca_path, "fingerprint": gw.fingerprint})


if __name__ == "__main__":
    main()
