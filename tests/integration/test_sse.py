#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The sse exporter (the live energy dashboard) end to end: the real daemon with a Kasa
emulator plug and an Envoy emulator gateway, read with a plain HTTP client written here
and with headless Chromium.

Expected values come from the fixtures, converted here: the plug's power_mw / 1000, and
the gateway's meters as envoybase works them out from its JSON. The energy flow
follows the rules of src/exporters/sse/README.md, applied here by hand.
"""

import base64
import datetime
import http.client
import json
import math
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time

import freeport
import envoybase as envoy
import tuyabase
import wbtest
from wbtest import device_path

EXPORTER = "org.wattbus.Wattbus1.Exporter"
PLUG = "HS110(EU)_4.0_1.0.4.json"
GATEWAY = "8.2.4345_with_device_data"
STRIP = "HS300(US)_2.0_1.0.12.json"
OUTLETS = ["Desk lamp", "Monitor", "Laptop charger", "Printer", "Router", "Speakers"]
TOKEN = "s3cret-Token_42"


def plug_power(fixture=PLUG):
    with open(os.path.join(wbtest.KASA_FIXTURES, fixture)) as f:
        return json.load(f)["emeter"]["get_realtime"]["power_mw"] / 1000


def free_port():
    return freeport.free_port()


from ssebase import EventStream, complete, strict_json


class DevTools:
    """Headless Chromium, driven through the DevTools protocol over a websocket (RFC 6455,
    the few frames needed: masked text from us, unmasked text from it)."""

    FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--remote-debugging-port=0", "--remote-allow-origins=*"]

    def __init__(self, url):
        self.profile = tempfile.mkdtemp(prefix="wattbus-chromium-")
        self.proc = subprocess.Popen([shutil.which("chromium")] + self.FLAGS +
                                     ["--user-data-dir=" + self.profile, url],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        port = None
        end = time.monotonic() + 30
        while port is None and time.monotonic() < end:
            line = self.proc.stderr.readline()
            if not line:
                break
            if "DevTools listening on ws://" in line:
                port = int(line.split("ws://127.0.0.1:")[1].split("/")[0])
        if port is None:
            self.close()
            raise RuntimeError("chromium did not start its DevTools server")
        threading.Thread(target=lambda: self.proc.stderr.read(), daemon=True).start()
        self.port = port
        page = None
        while page is None and time.monotonic() < end:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/json/list")
            pages = json.loads(conn.getresponse().read())
            page = next((p for p in pages if p.get("type") == "page"), None)
            time.sleep(0.1)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        path = page["webSocketDebuggerUrl"].split("127.0.0.1:%d" % port, 1)[1]
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n" % (path, port, key)).encode())
        self.file = self.sock.makefile("rb")
        if b" 101 " not in self.file.readline():
            raise RuntimeError("DevTools refused the websocket")
        while self.file.readline() not in (b"\r\n", b""):
            pass
        self.next_id = 0

    def _send(self, text):
        data = text.encode()
        mask = os.urandom(4)
        head = bytes([0x81])
        if len(data) < 126:
            head += bytes([0x80 | len(data)])
        else:
            head += bytes([0x80 | 126]) + struct.pack("!H", len(data))
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _recv(self):
        message = b""
        while True:
            b0, b1 = self.file.read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self.file.read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self.file.read(8))[0]
            message += self.file.read(n)
            if b0 & 0x80:
                return message.decode()

    def call(self, method, params=None):
        """A DevTools protocol command; its result."""
        self.next_id += 1
        self._send(json.dumps({"id": self.next_id, "method": method, "params": params or {}}))
        while True:
            reply = json.loads(self._recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError("%s: %s" % (method, reply["error"]))
                return reply["result"]

    def set_viewport(self, width, height, mobile):
        """The page's layout width, as a phone (mobile: the meta viewport applies) or a
        desktop window has it."""
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    def evaluate(self, expression):
        self.next_id += 1
        self._send(json.dumps({"id": self.next_id, "method": "Runtime.evaluate",
                               "params": {"expression": expression, "returnByValue": True}}))
        while True:
            reply = json.loads(self._recv())
            if reply.get("id") == self.next_id:
                return reply["result"]["result"].get("value")

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


# what the page shows, read from its DOM
PAGE_STATE = """JSON.stringify({
  state: document.getElementById("state").textContent,
  production: document.getElementById("production").textContent,
  consumption: document.getElementById("consumption").textContent,
  net: document.getElementById("net").textContent,
  netLabel: document.getElementById("net-label").textContent,
  netValue: document.getElementById("net").dataset.signed,
  balance: document.getElementById("balance-text").textContent,
  battery: document.getElementById("node-battery").hidden ? null :
    {label: document.getElementById("battery-label").textContent,
     power: document.getElementById("battery").textContent,
     soc: document.getElementById("soc").textContent},
  devices: Object.fromEntries([...document.querySelectorAll("#devices .dev")].map(row => [
    row.dataset.id, {name: row.querySelector(".name").textContent,
                     power: row.querySelector(".power").textContent,
                     value: row.querySelector(".power").dataset.value,
                     meta: row.querySelector(".meta").textContent,
                     online: row.querySelector(".online").textContent,
                     group: row.parentElement.closest("details.group")?.dataset.group || null}])),
  groups: Object.fromEntries([...document.querySelectorAll("#devices details.group")].map(d => [
    d.dataset.group, {open: d.open, sub: d.classList.contains("sub"),
                      title: d.querySelector(":scope > summary .name").textContent,
                      power: d.querySelector(":scope > summary .power").textContent,
                      value: d.querySelector(":scope > summary .power").dataset.value,
                      members: d.querySelectorAll(":scope > .children > .dev").length}]))})"""

# how the page is laid out: the viewport, how wide the document is, and every element
# that is shown but reaches past the right edge (or starts left of the left one)
PAGE_LAYOUT = """JSON.stringify({
  width: window.innerWidth,
  scrollWidth: document.documentElement.scrollWidth,
  outside: [...document.querySelectorAll("body *")].filter(el => {
      const r = el.getBoundingClientRect();
      return el.checkVisibility() && r.width > 0 && r.height > 0 &&
        (r.right > window.innerWidth + 0.5 || r.left < -0.5);
    }).map(el => el.tagName + (el.id ? "#" + el.id : "") + "." + el.className).slice(0, 20),
  cards: Object.fromEntries([...document.querySelectorAll(".flow .node")].filter(n => !n.hidden)
    .map(n => { const r = n.getBoundingClientRect();
                return [n.id, {left: r.left, right: r.right, top: r.top, width: r.width}]; })),
  powers: [...document.querySelectorAll("#devices .dev .power")].filter(p => p.checkVisibility())
    .map(p => { const r = p.getBoundingClientRect();
                return {id: p.closest(".dev").dataset.id, left: r.left, right: r.right,
                        text: p.textContent}; })})"""


class SseTest(envoy.EnvoyTest):

    def setUp(self):
        super().setUp()
        self.port = free_port()
        self.streams = []
        self.addCleanup(lambda: [s.close() for s in self.streams])

    def exporter_config(self, exp_id="dash", port=None, **keys):
        text = "[exporter %s]\nkind=sse\nlisten=127.0.0.1:%d\n" % (exp_id, port or self.port)
        for key, value in keys.items():
            text += "%s=%s\n" % (key.replace("_", "-"), value)
        return text + "\n"

    def start(self, gateway=True, extra="", **keys):
        """The daemon with a plug (polled every second), optionally a gateway, and one sse
        exporter."""
        self.plug = self.emulator(PLUG)
        config = "[device plug]\ndriver=kasa\naddress=%s\npoll-interval=1\nname=Kitchen plug\n\n" \
            % self.plug.address
        self.gateways = []
        if gateway:
            gw = self.gateway(GATEWAY)
            self.gateways.append(gw)
            # the driver keeps its certificate pins in the state directory
            os.environ["STATE_DIRECTORY"] = self.state_dir
            config += "[device envoy]\ndriver=envoy\naddress=%s\ntoken=%s\npoll-interval=60\n\n" \
                % (gw.address, gw.token("owner"))
        self.write_config(config + self.exporter_config(**keys) + extra)
        self.start_daemon()
        self.wait_online("plug")
        if gateway:
            self.wait_online("envoy", timeout=15)
            # the meters are children, online with their first reading
            for measurement in envoy.expected_meters(GATEWAY)[0]:
                self.wait_online("envoy_" + measurement)

    def stream(self, port=None, **kwargs):
        s = EventStream(port or self.port, **kwargs)
        self.streams.append(s)
        return s

    def http(self, path, headers=None, port=None):
        conn = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=10)
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        return resp, body

    def assertClose(self, got, want, what=""):
        self.assertIsNotNone(got, what)
        self.assertTrue(math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9), "%s: %r != %r" % (what, got, want))

    # the stream

    def test_stream_devices_and_energy(self):
        self.start()
        meters, _ = envoy.expected_meters(GATEWAY)
        s = self.stream()
        self.assertEqual(s.status, 200)
        self.assertTrue(s.headers["content-type"].startswith("text/event-stream"))
        self.assertEqual(s.headers.get("cache-control"), "no-store")
        first = s.wait(lambda e: True)
        self.assertEqual(first.get("retry"), "3000")

        # every device, with its current values, then the energy flow
        # (a reading on D-Bus may reach the exporter a main-loop turn later: merged here
        # as a client does, until every device the test needs has its Power)
        devices = {}
        energy = None
        wanted = ["plug"] + ["envoy_" + m for m in meters]
        while energy is None or not all("Power" in devices.get(d, {}).get("values", {}) for d in wanted):
            event = s.wait(lambda e: "event" in e)
            data = strict_json(event["data"])
            if event["event"] == "device":
                dev = devices.setdefault(data["id"], {"values": {}})
                dev["name"] = data["name"]
                dev["values"].update(data["values"])
            else:
                self.assertEqual(event["event"], "energy")
                self.assertTrue(devices, "the devices come before the first energy event")
                energy = data
        self.assertEqual(devices["plug"]["name"], "Kitchen plug")
        self.assertClose(devices["plug"]["values"]["Power"], plug_power(), "plug Power")
        self.assertIs(devices["plug"]["values"]["On"], True)
        self.assertIs(devices["plug"]["values"]["Online"], True)
        self.assertEqual(devices["plug"]["values"]["Measurement"], "load")
        for measurement, values in meters.items():
            dev = devices["envoy_" + measurement]["values"]
            self.assertEqual(dev["Measurement"], measurement)
            self.assertClose(dev["Power"], values["Power"], measurement)
        # (a reading that was on D-Bus may reach the exporter a main-loop turn later)
        if None in energy.values():
            energy = s.wait_data("energy", complete)
        # the rules, with every kind of meter present: the meters themselves
        self.assertClose(energy["production"], meters["production"]["Power"], "production")
        self.assertClose(energy["consumption"], meters["total-consumption"]["Power"], "consumption")
        self.assertClose(energy["net"], meters["net-consumption"]["Power"], "net")
        self.assertEqual(sorted(energy), ["consumption", "net", "production"])

        # once a second, with ids that increase
        t0 = time.monotonic()
        s.wait_data("energy")
        s.wait_data("energy")
        self.assertLess(time.monotonic() - t0, 3.5)
        ids = [int(e["id"]) for e in s.all if "id" in e]
        self.assertEqual(ids, sorted(set(ids)))

        # a change: a device event with the changed values only
        self.plug.command("emeter power_mw=12345")
        change = s.wait_data("device", lambda d: d["id"] == "plug" and "Power" in d["values"])
        self.assertClose(change["values"]["Power"], 12.345)
        self.assertEqual(change["name"], "Kitchen plug")
        self.assertNotIn("Energy", change["values"])
        # times in ISO 8601 (UTC, ms), never raw µs
        self.assertRegex(change["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")
        changed = datetime.datetime.fromisoformat(change["time"].replace("Z", "+00:00"))
        self.assertLessEqual(abs(changed.timestamp() - time.time()), 5)
        # nothing in the stream is NaN or Infinity
        for event in s.all:
            if "data" in event:
                strict_json(event["data"])

        # a client that comes back gets the whole current state again
        again = self.stream(headers={"Last-Event-ID": str(ids[-1])})
        plug = again.wait_data("device", lambda d: d["id"] == "plug")
        self.assertClose(plug["values"]["Power"], 12.345)
        self.assertClose(plug["values"]["Voltage"],
                         devices["plug"]["values"]["Voltage"])

        # on D-Bus: live, never queued
        props = self.get_all(wbtest.ROOT + "/Exporters/dash", EXPORTER)
        self.assertEqual(props["Kind"], "sse")
        self.assertEqual(props["State"], "connected")
        self.assertEqual(props["Target"], "127.0.0.1:%d" % self.port)
        self.assertEqual(props["Queued"], 0)

    def test_energy_derived(self):
        """With one meter of the pair left out by `devices`, the other is derived."""
        meters, _ = envoy.expected_meters(GATEWAY)
        net_port, total_port, plugs_port = free_port(), free_port(), free_port()
        self.start(extra=self.exporter_config("net", net_port,
                                              devices="envoy_production;envoy_net-consumption") +
                   self.exporter_config("total", total_port,
                                        devices="envoy_production;envoy_total-consumption") +
                   self.exporter_config("plugs", plugs_port, devices="plug"))
        production = meters["production"]["Power"]
        net = meters["net-consumption"]["Power"]
        total = meters["total-consumption"]["Power"]

        # only a net meter: consumption = production + net
        energy = self.stream(net_port).wait_data("energy", complete)
        self.assertClose(energy["production"], production, "production")
        self.assertClose(energy["consumption"], production + net, "consumption")
        self.assertClose(energy["net"], net, "net")
        # only a total meter: net = consumption - production
        energy = self.stream(total_port).wait_data("energy", complete)
        self.assertClose(energy["consumption"], total, "consumption")
        self.assertClose(energy["net"], total - production, "net")
        # no meters but plugs: nothing produced, the rest unknown (the loads are not summed)
        energy = self.stream(plugs_port).wait_data("energy")
        self.assertEqual(energy, {"production": 0, "consumption": None, "net": None})

    def test_energy_battery(self):
        """A site with batteries: `battery` (W, positive while charging, as
        org.wattbus.Wattbus1.Battery has it) and `soc` (%) from the gateway's aggregate,
        or from the single batteries (weighted by capacity) when `devices` leaves the
        aggregate out; absent on a site without batteries."""
        folder = "8.2.4286_with_3cts_and_battery_split"
        grid, aggregate, batteries = envoy.expected_batteries(folder)
        gw = self.gateway(folder)
        os.environ["STATE_DIRECTORY"] = self.state_dir
        singles_port, one_port = free_port(), free_port()
        serials = sorted(batteries)
        config = "[device envoy]\ndriver=envoy\naddress=%s\ntoken=%s\npoll-interval=60\n\n" \
            % (gw.address, gw.token("owner"))
        config += self.exporter_config()
        config += self.exporter_config("singles", singles_port, devices="envoy_battery_*")
        config += self.exporter_config("one", one_port, devices="envoy_battery_" + serials[0])
        self.write_config(config)
        self.start_daemon()
        self.wait_online("envoy", timeout=15)

        def with_battery(e):
            return e.get("battery") is not None and e.get("soc") is not None

        energy = self.stream().wait_data("energy", with_battery, timeout=15)
        self.assertClose(energy["battery"], aggregate["Power"], "battery")
        self.assertClose(energy["soc"], aggregate["StateOfCharge"], "soc")
        self.assertGreater(energy["battery"], 0, "the batteries charge: positive")
        self.assertEqual(sorted(energy), ["battery", "consumption", "net", "production", "soc"])
        # the single batteries: their power summed, their charge weighted by capacity
        energy = self.stream(singles_port).wait_data("energy", with_battery, timeout=15)
        self.assertClose(energy["battery"], sum(b["Power"] for b in batteries.values()), "battery")
        weighted = sum(b["StateOfCharge"] * b["Capacity"] for b in batteries.values()) / \
            sum(b["Capacity"] for b in batteries.values())
        self.assertClose(energy["soc"], round(weighted, 1), "soc")
        energy = self.stream(one_port).wait_data("energy", with_battery, timeout=15)
        self.assertClose(energy["battery"], batteries[serials[0]]["Power"], "battery")
        self.assertClose(energy["soc"], batteries[serials[0]]["StateOfCharge"], "soc")
        # the battery devices themselves: kind battery, the gateway as parent
        dev = self.stream().wait_data("device", lambda d: d["id"] == "envoy_batteries")
        self.assertEqual(dev["kind"], "battery")
        self.assertEqual(dev["parent"], "envoy")
        self.assertIs(dev["values"]["Aggregate"], True)
        self.assertEqual(dev["values"]["State"], "charging")

    def test_dashboard_battery(self):
        """The page with batteries, on a phone: a fourth card says whether they charge
        (`battery` positive) and how full they are; the batteries are grouped under the
        gateway; still nothing wider than the screen."""
        if shutil.which("chromium") is None:
            self.fail("chromium is not installed (.ci/install-deps installs it)")
        folder = "8.2.4286_with_3cts_and_battery_split"
        _, aggregate, batteries = envoy.expected_batteries(folder)
        gw = self.gateway(folder)
        os.environ["STATE_DIRECTORY"] = self.state_dir
        self.write_config("[device envoy]\ndriver=envoy\naddress=%s\ntoken=%s\npoll-interval=60\n\n"
                          % (gw.address, gw.token("owner")) + self.exporter_config())
        self.start_daemon()
        self.wait_online("envoy", timeout=15)
        browser = DevTools("http://127.0.0.1:%d/" % self.port)
        self.addCleanup(browser.close)
        browser.set_viewport(390, 844, mobile=True)
        state = self.wait_page(browser, lambda s: s["battery"] is not None and s["battery"]["soc"]
                               and "envoy_batteries" in s["devices"], "the batteries")
        self.assertGreater(aggregate["Power"], 0)
        self.assertEqual(state["battery"], {"label": "Battery: charging",
                                            "power": "%.1f W" % aggregate["Power"],
                                            "soc": "%d %% charged" % round(aggregate["StateOfCharge"])})
        self.assertEqual(state["devices"]["envoy_batteries"]["group"], "envoy")
        self.assertIn("%d %% charged" % round(aggregate["StateOfCharge"]),
                      state["devices"]["envoy_batteries"]["meta"])
        for serial in batteries:
            self.assertEqual(state["devices"]["envoy_battery_" + serial]["group"], "envoy")
        layout = json.loads(browser.evaluate(PAGE_LAYOUT))
        self.assertEqual((layout["width"], layout["outside"]), (390, []))
        self.assertLessEqual(layout["scrollWidth"], 390)
        self.assertLessEqual(layout["cards"]["node-battery"]["right"], 390)

    def test_offline_devices(self):
        self.start()
        s = self.stream()
        s.wait_data("device", lambda d: d["id"] == "plug")
        s.wait_data("energy", lambda e: e["production"] is not None)
        self.plug.command("misbehave refuse")
        offline = s.wait_data("device", lambda d: d["id"] == "plug" and
                              d["values"].get("Online") is False, timeout=20)
        self.assertEqual(offline["name"], "Kitchen plug")
        # the gateway fails: its meters are offline, and what needs them is unknown
        self.gateways[0].command("misbehave 500")
        try:
            self.call(device_path("envoy"), wbtest.DEVICE, "Refresh")
        except Exception:
            pass
        s.wait_data("device", lambda d: d["id"] == "envoy_production" and
                    d["values"].get("Online") is False, timeout=20)
        energy = s.wait_data("energy", lambda e: e["production"] is None)
        self.assertEqual(energy, {"production": None, "consumption": None, "net": None})
        # a new client sees the offline devices too
        plug = self.stream().wait_data("device", lambda d: d["id"] == "plug")
        self.assertIs(plug["values"]["Online"], False)

    def test_token(self):
        self.start(gateway=False, token=TOKEN)
        for query, headers in (("", None), ("?token=wrong", None),
                               ("", {"Authorization": "Bearer wrong"}),
                               ("?token=" + TOKEN[:-1], None)):
            s = self.stream(query=query, headers=headers)
            self.assertEqual(s.status, 401, (query, headers))
            self.assertEqual(s.headers.get("www-authenticate"), "Bearer")
        ok = self.stream(query="?token=" + TOKEN)
        self.assertEqual(ok.status, 200)
        plug = ok.wait_data("device", lambda d: d["id"] == "plug" and "Power" in d["values"])
        self.assertClose(plug["values"]["Power"], plug_power())
        ok = self.stream(headers={"Authorization": "Bearer " + TOKEN})
        self.assertEqual(ok.status, 200)
        ok.wait_data("energy")
        # the page holds no readings: served without the token
        resp, _ = self.http("/")
        self.assertEqual(resp.status, 200)
        # the secret is nowhere: not in the log, not on the bus
        self.assertNotIn(TOKEN, self.daemon_log())
        props = self.get_all(wbtest.ROOT + "/Exporters/dash", EXPORTER)
        self.assertNotIn(TOKEN, json.dumps(props))

    # the server's own defences (issue 12)

    def raw(self, port=None):
        sock = socket.create_connection(("127.0.0.1", port or self.port), timeout=20)
        self.addCleanup(sock.close)
        return sock

    def closed_by_server(self, sock):
        """Whether the server closed @sock (it reads the end, or a reset) before the
        socket's own time-out."""
        try:
            while True:
                data = sock.recv(4096)
                if not data:
                    return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def test_slow_request_closed(self):
        """A connection that does not send a whole request within 5 s is closed
        (slowloris, or an idle socket); the server answers everyone else meanwhile."""
        self.start(gateway=False)
        slow = self.raw()
        slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no end of headers
        idle = self.raw()
        body = self.raw()
        body.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000000\r\n\r\n")
        self.assertEqual(self.http("/")[0].status, 200)
        for sock in (slow, idle, body):
            self.assertTrue(self.closed_by_server(sock))
        # a kept-alive connection idle after its answer goes the same way
        kept = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        kept.request("GET", "/")
        self.assertEqual(kept.getresponse().read()[:15], b"<!DOCTYPE html>")
        self.assertTrue(self.closed_by_server(kept.sock))
        self.assertIn("closing a connection that sent no whole request within 5 s", self.daemon_log())
        s = self.stream()
        self.assertEqual(s.status, 200)
        s.wait_data("energy")

    def test_max_connections(self):
        """max-connections: one connection more is closed at once (one warning, not one
        a connection); when some go, new ones are served again."""
        self.start(gateway=False, max_connections=4, max_clients=2)
        streams = [self.stream(), self.stream()]
        for s in streams:
            self.assertEqual(s.status, 200)
        idle = [self.raw(), self.raw()]
        extra = [self.raw() for _ in range(3)]
        for sock in extra:
            self.assertTrue(self.closed_by_server(sock))
        self.assertEqual(self.daemon_log().count("refusing connections: max-connections=4 are open"), 1)
        # the streams are served on
        streams[0].wait_data("energy")
        for s in streams:
            s.close()
        for sock in idle:
            sock.close()

        def served():
            try:
                return self.http("/")[0].status == 200
            except (OSError, http.client.HTTPException):
                return False
        self.wait_for(served, 10, "room again")

    def test_host_checked(self):
        """Only the listen address, localhost names and allowed-hosts are served: a page
        of another site whose name resolves here (DNS rebinding) gets 421."""
        other = free_port()
        self.start(gateway=False,
                   extra=self.exporter_config("named", port=other, allowed_hosts="Energy.home.arpa"))
        # names of this host's loopback: nothing a foreign page can make resolve elsewhere
        for host in ("127.0.0.1:%d" % self.port, "localhost:%d" % self.port, "127.0.0.1", "LOCALHOST",
                     "dash.localhost", "[::1]:%d" % self.port):
            self.assertEqual(self.http("/", headers={"Host": host})[0].status, 200, host)
        for host in ("evil.example:%d" % self.port, "energy.home.arpa", "127.0.0.1.nip.io",
                     "192.168.1.5", "a b", ""):
            resp, body = self.http("/", headers={"Host": host})
            self.assertEqual(resp.status, 421, host)
            self.assertIn(b"allowed-hosts", body)
        s = self.stream(headers={"Host": "evil.example"})
        self.assertEqual(s.status, 421)
        self.assertEqual(self.http("/", port=other, headers={"Host": "energy.home.arpa:%d" % other})[0].status,
                         200)
        self.assertEqual(self.http("/", port=other, headers={"Host": "evil.example"})[0].status, 421)

    def test_bad_config(self):
        self.plug = self.emulator(PLUG)
        self.write_config("[device plug]\ndriver=kasa\naddress=%s\n\n" % self.plug.address +
                          "[exporter host]\nkind=sse\nlisten=localhost:8642\n\n"
                          "[exporter tok]\nkind=sse\nlisten=127.0.0.1:%d\ntoken=a b/%s\n\n"
                          % (free_port(), TOKEN) +
                          self.exporter_config("ok") +
                          self.exporter_config("busy"))
        self.start_daemon()
        self.wait_online("plug")
        log = self.daemon_log()
        self.assertIn("Exporter 'host': listen must be an IP address and a port", log)
        self.assertIn("Exporter 'tok': token may contain only", log)
        self.assertNotIn(TOKEN, log)
        self.assertIn("Exporter 'busy': cannot listen on 127.0.0.1:%d" % self.port, log)
        self.assertEqual(self.stream().status, 200)

    def test_max_clients_and_page(self):
        self.start(gateway=False, max_clients=1)
        first = self.stream()
        self.assertEqual(first.status, 200)
        second = self.stream()
        self.assertEqual(second.status, 503)
        self.assertEqual(second.headers.get("retry-after"), "10")
        # the first one leaves: room again
        first.close()
        self.wait_for(lambda: self.stream().status == 200, 10, "a free place")

        resp, body = self.http("/")
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader("Content-Type"), "text/html; charset=utf-8")
        page = body.decode()
        self.assertIn("new EventSource(", page)
        # no external resources: nothing is loaded from anywhere else
        for marker in ("http://", "https://", "src=", "<link"):
            self.assertNotIn(marker, page)
        self.assertEqual(self.http("/nothing-here")[0].status, 404)
        resp, _ = self.http("/index.html")
        self.assertEqual(resp.status, 200)

    def test_stalled_client(self):
        """A client that never reads holds nothing up, and is dropped once more than
        client-buffer bytes wait for it; the others get every event."""
        self.start(gateway=False, client_buffer=1024)
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        stalled.connect(("127.0.0.1", self.port))
        stalled.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        self.addCleanup(stalled.close)
        s = self.stream()
        s.wait_data("energy")
        # changes, as fast as the plug can be made to change: a switch is read back at
        # once, with the meter (a Refresh is answered from the last second's poll)
        power = 1000
        end = time.monotonic() + 20
        while "dropping a client that does not keep up" not in self.daemon_log():
            self.assertLess(time.monotonic(), end, "the stalled client was never dropped")
            power += 1
            self.plug.command("emeter power_mw=%d" % power)
            self.call(device_path("plug"), wbtest.OUTLET, "TurnOn")
        # the reader keeps up to the last change, in order (changes that the daemon read in
        # one main-loop turn are one event), and only the stalled client was dropped
        s.wait_data("device", lambda d: d["id"] == "plug" and d["values"].get("Power") == power / 1000)
        seen = [strict_json(e["data"])["values"].get("Power") for e in s.all if e.get("event") == "device"]
        seen = [p for p in seen if p is not None][1:]  # after the initial state
        self.assertEqual(seen, sorted(set(seen)))
        self.assertGreater(len(seen), (power - 1000) // 2)
        self.assertEqual(self.daemon_log().count("dropping a client"), 1)
        # the stalled one was cut off: what it has not read ends, then the stream does
        stalled.settimeout(10)
        try:
            while stalled.recv(65536):
                pass
        except ConnectionResetError:
            pass
        self.assertEqual(self.stream().status, 200)
        self.assertEqual(self.get(wbtest.ROOT + "/Exporters/dash", EXPORTER, "State"), "connected")

    def test_disable_enable(self):
        """Disabled: the stream stays open but carries no events; enabled: live again."""
        self.start(gateway=False)
        path = wbtest.ROOT + "/Exporters/dash"
        s = self.stream()
        s.wait_data("energy")
        self.call(path, EXPORTER, "Disable")
        self.assertEqual(self.get(path, EXPORTER, "State"), "disabled")
        while not s.events.empty():
            s.events.get()
        time.sleep(2.2)
        self.assertTrue(s.events.empty(), "events while disabled")
        self.call(path, EXPORTER, "Enable")
        self.assertEqual(self.get(path, EXPORTER, "State"), "connected")
        s.wait_data("energy", timeout=3)

    def test_reload_removes_device(self):
        self.start(gateway=False)
        s = self.stream()
        s.wait_data("device", lambda d: d["id"] == "plug")
        self.write_config(self.exporter_config())
        self.call(wbtest.ROOT, "org.wattbus.Wattbus1", "Reload")
        gone = s.wait_data("device", lambda d: d.get("removed"))
        self.assertEqual(gone, {"id": "plug", "removed": True})
        s.wait_data("energy")

    # the page, in a browser

    def page_state(self, browser):
        text = browser.evaluate(PAGE_STATE)
        return json.loads(text) if text else None

    def wait_page(self, browser, predicate, what, timeout=15):
        state = None
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            state = self.page_state(browser)
            if state and predicate(state):
                return state
            time.sleep(0.2)
        self.fail("the page never showed %s; it shows %r" % (what, state))

    def test_dashboard_in_chromium(self):
        if shutil.which("chromium") is None:
            self.fail("chromium is not installed (.ci/install-deps installs it)")
        self.start(token=TOKEN)
        meters, _ = envoy.expected_meters(GATEWAY)
        browser = DevTools("http://127.0.0.1:%d/?token=%s" % (self.port, TOKEN))
        self.addCleanup(browser.close)

        # the emulated values
        power = plug_power()
        state = self.wait_page(browser, lambda s: s["state"] == "live" and "plug" in s["devices"]
                               and s["production"] != "–", "the emulated values")
        self.assertEqual(state["devices"]["plug"]["name"], "Kitchen plug")
        self.assertClose(float(state["devices"]["plug"]["value"]), power)
        self.assertEqual(state["devices"]["plug"]["power"], "%.1f W" % power)
        self.assertEqual(state["production"], "%.1f W" % meters["production"]["Power"])
        self.assertEqual(state["consumption"], "%.1f W" % meters["total-consumption"]["Power"])
        net = meters["net-consumption"]["Power"]
        self.assertEqual(state["net"], "%.1f W" % abs(net))
        self.assertClose(float(state["netValue"]), net)
        self.assertEqual(state["netLabel"], "Grid: importing" if net >= 0 else "Grid: exporting")
        self.assertEqual(state["devices"]["envoy_production"]["power"],
                         "%.1f W" % meters["production"]["Power"])

        # a change in the emulator: the page follows
        self.plug.command("emeter power_mw=12345")
        self.wait_page(browser, lambda s: s["devices"]["plug"]["power"] == "12.3 W",
                       "the plug's new power")

        # the daemon goes away and comes back: the page says so, and reconnects by itself
        self.stop_daemon()
        self.wait_page(browser, lambda s: s["state"] != "live", "the lost connection")
        self.start_daemon()
        state = self.wait_page(browser, lambda s: s["state"] == "live" and "plug" in s["devices"]
                               and s["devices"]["plug"]["power"] == "12.3 W", "live again")

    def test_dashboard_phone_and_desktop(self):
        """The page at a phone's width (390 px) and a desktop's (1280 px), in Chromium:
        nothing wider than the screen (the Grid card and every Power value inside it),
        devices grouped under their parent and collapsible (the gateway's 15 inverters in
        a closed sub-group with their sum), the water meter, the solar balance."""
        if shutil.which("chromium") is None:
            self.fail("chromium is not installed (.ci/install-deps installs it)")
        os.environ["WATTBUS_PROFILES_DIR"] = tuyabase.PROFILES
        self.plug = self.emulator(PLUG)
        args = ["--alias", "Office strip"]
        for name in OUTLETS:
            args += ["--child-alias", name]
        strip = self.emulator(STRIP, *args)
        water = tuyabase.TuyaEmulator(self.tmp, "--profile", "water-meter", version="3.4")
        self.emulators.append(water)
        gw = self.gateway(GATEWAY)
        os.environ["STATE_DIRECTORY"] = self.state_dir
        self.write_config(
            "[device plug]\ndriver=kasa\naddress=%s\npoll-interval=1\nname=Kitchen plug\n\n"
            "[device strip]\ndriver=kasa\naddress=%s\npoll-interval=2\n\n"
            "[device envoy]\ndriver=envoy\naddress=%s\ntoken=%s\npoll-interval=60\n"
            "name=Solar gateway\n\n"
            % (self.plug.address, strip.address, gw.address, gw.token("owner")) +
            tuyabase.TuyaBase.section("water", water, profile="water-meter", poll=30,
                                       extra="name=Water meter\n") +
            self.exporter_config())
        self.start_daemon()
        for dev_id in ("plug", "strip", "water", "envoy"):
            self.wait_online(dev_id, timeout=15)
        meters, _ = envoy.expected_meters(GATEWAY)
        production = meters["production"]["Power"]
        consumption = meters["total-consumption"]["Power"]

        inverters = envoy.expected_inverters(GATEWAY)
        # the stream says what each device is and what it is part of
        s = self.stream()
        s.wait_data("energy")  # after the whole current state
        first = {}
        for event in s.all:
            if event.get("event") == "device":
                data = strict_json(event["data"])
                first.setdefault(data["id"], data)
        for dev_id, kind, parent in (("plug", "outlet", None), ("strip", "strip", None),
                                     ("strip_2", "outlet", "strip"), ("water", "water-meter", None),
                                     ("envoy", "gateway", None),
                                     ("envoy_production", "meter", "envoy")):
            self.assertEqual((first[dev_id].get("kind"), first[dev_id].get("parent")),
                             (kind, parent), first[dev_id])
        # an inverter's last report as ISO 8601, and no raw µs anywhere
        serial, inverter = sorted(inverters.items())[0]
        report = datetime.datetime.fromtimestamp(inverter["LastReport"] / 1e6, datetime.timezone.utc)
        self.assertEqual(first["envoy_inverter_" + serial]["values"]["LastReport"],
                         report.strftime("%Y-%m-%dT%H:%M:%SZ"))
        for dev in first.values():
            for name, value in dev["values"].items():
                self.assertFalse(isinstance(value, int) and not isinstance(value, bool) and
                                 value > 10**11, "%s %s: %r" % (dev["id"], name, value))

        browser = DevTools("http://127.0.0.1:%d/" % self.port)
        self.addCleanup(browser.close)
        browser.set_viewport(390, 844, mobile=True)

        def complete(state):
            sub = state["groups"].get("envoy/inverter")
            return (state["state"] == "live" and state["production"] != "–" and
                    state["consumption"] != "–" and "strip_6" in state["devices"] and
                    "water" in state["devices"] and sub is not None and
                    sub["value"] is not None and
                    math.isclose(float(sub["value"]), sum(i["Power"] for i in inverters.values())))
        state = self.wait_page(browser, complete, "every device and the inverters' sum", timeout=30)

        # grouped: the strip's sockets under the strip, with their names; the gateway's
        # meters under it, its inverters in a sub-group of their own, closed
        self.assertEqual(state["groups"]["strip"]["members"], 6)
        self.assertTrue(state["groups"]["strip"]["open"])
        self.assertEqual([state["devices"]["strip_%d" % i]["name"] for i in range(1, 7)], OUTLETS)
        self.assertTrue(all(state["devices"]["strip_%d" % i]["group"] == "strip" for i in range(1, 7)))
        self.assertEqual(state["groups"]["envoy"]["title"], "Solar gateway")
        self.assertEqual(state["devices"]["envoy_production"]["group"], "envoy")
        self.assertEqual(state["devices"]["envoy_production"]["power"], "%.1f W" % production)
        sub = state["groups"]["envoy/inverter"]
        self.assertEqual((sub["sub"], sub["open"], sub["title"], sub["members"]),
                         (True, False, "%d inverters" % len(inverters), len(inverters)))
        self.assertIsNone(state["devices"]["plug"]["group"])
        self.assertEqual(state["devices"]["plug"]["power"], "%.1f W" % plug_power())
        # the water meter: its volume and valve
        self.assertTrue(state["devices"]["water"]["power"].endswith(" m³"), state["devices"]["water"])
        self.assertIn("water-meter", state["devices"]["water"]["meta"])
        self.assertIn("valve opened", state["devices"]["water"]["meta"])
        # the solar balance, worked out here from the fixture
        self.assertEqual(state["balance"].split(" of the consumption")[0],
                         "Solar covers %d %%" % round(100 * min(production, consumption) / consumption))
        self.assertIsNone(state["battery"])  # this gateway has none

        # a phone: nothing reaches past the screen, the page does not scroll sideways
        layout = json.loads(browser.evaluate(PAGE_LAYOUT))
        self.assertEqual(layout["width"], 390)
        self.assertLessEqual(layout["scrollWidth"], 390, layout["outside"])
        self.assertEqual(layout["outside"], [])
        for card in ("node-production", "node-consumption", "node-grid"):
            self.assertLessEqual(layout["cards"][card]["right"], 390, card)
        self.assertGreater(len(layout["powers"]), 10)
        for power in layout["powers"]:
            self.assertLessEqual(power["right"], 390, power)

        # collapsible: closed by a tap, it stays closed while values change; the
        # inverters open
        browser.evaluate('document.querySelector("details[data-group=strip] > summary").click()')
        browser.evaluate('document.querySelector("details[data-group=\'envoy/inverter\'] > summary")'
                         '.click()')
        self.plug.command("emeter power_mw=12345")
        strip.command("emeter 0 power_mw=54321")
        state = self.wait_page(browser, lambda s: s["devices"]["plug"]["power"] == "12.3 W",
                               "the plug's new power")
        self.assertFalse(state["groups"]["strip"]["open"])
        self.assertTrue(state["groups"]["envoy/inverter"]["open"])
        layout = json.loads(browser.evaluate(PAGE_LAYOUT))
        self.assertEqual(layout["outside"], [])
        shown = {p["id"] for p in layout["powers"]}
        self.assertNotIn("strip_1", shown)
        self.assertTrue(set(s for s in state["devices"] if s.startswith("envoy_inverter_")) <= shown)

        # a desktop: the cards in one row, the power column aligned, nothing outside
        browser.set_viewport(1280, 900, mobile=False)
        layout = json.loads(browser.evaluate(PAGE_LAYOUT))
        self.assertEqual(layout["width"], 1280)
        self.assertLessEqual(layout["scrollWidth"], 1280)
        self.assertEqual(layout["outside"], [])
        tops = {round(c["top"]) for c in layout["cards"].values()}
        self.assertEqual(len(tops), 1, layout["cards"])
        top_level = [p for p in layout["powers"] if p["id"] in ("plug", "water", "strip", "envoy")]
        self.assertEqual(len({round(p["right"]) for p in top_level}), 1, top_level)


if __name__ == "__main__":
    wbtest.main()
