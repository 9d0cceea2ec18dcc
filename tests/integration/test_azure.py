#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""kind=azure-iot-hub end to end: the real daemon with an emulated Kasa plug and Tuya water
meter, a real Mosquitto behind mqttauthproxy.AuthProxy, which plays Azure IoT Hub's front
door: it checks each CONNECT as the hub does (client id, user name with the api-version,
the SAS token's signature recomputed here with hmac/hashlib/base64/urllib from the test
device key, never with our C code) and cuts the connection when the token expires. The test
plays the rest of the hub with a recording client: it publishes cloud-to-device messages and
direct-method requests and reads telemetry, method replies and twin patches.

Expected values: the Kasa fixture (mW, mV, mA, Wh → SI) as in test_mqtt.py, the Tuya
water-meter profile, and the topics and formats of shared/specs/mqtt-clouds.md §3 written
out here by hand."""

import base64
import hashlib
import hmac
import json
import os
import re
import time
import urllib.parse

import wbtest
from emoncmsemu import PLUG, exporter_path
from mqttauthproxy import AuthProxy, Refused
from mqttbase import MqttBase
from wbtest import device_path

HUB = "testhub.azure-devices.net"
DEVICE = "wattbus-gw"
# bytes 0x00..0x1f, the spec's §7.1 key; a test key only
KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
# another valid key, not the hub's
WRONG_KEY = base64.b64encode(bytes(range(100, 132))).decode()
TELEMETRY = ("devices/%s/messages/events/$.ct=application%%2Fjson&$.ce=utf-8&device=" % DEVICE)
C2D = "devices/%s/messages/devicebound/" % DEVICE
PATCH = "$iothub/twin/PATCH/properties/reported/?$rid="


def sas_check(lifetime, tokens=None):
    """The hub's check of a CONNECT, independent of the daemon's code."""
    resource = "%s/devices/%s" % (HUB, DEVICE)

    def check(client_id, username, password):
        if client_id != DEVICE:
            raise Refused("client id %r" % client_id)
        if username != "%s/%s/?api-version=2021-04-12" % (HUB, DEVICE):
            raise Refused("user name %r" % username)
        prefix = "SharedAccessSignature "
        if not password or not password.startswith(prefix):
            raise Refused("not a SAS token")
        fields = {}
        for part in password[len(prefix):].split("&"):
            name, _, value = part.partition("=")
            fields[name] = value
        if set(fields) != {"sr", "sig", "se"}:
            raise Refused("fields %r" % sorted(fields))
        # sr is the URL-encoded resource, exactly the signed string
        if fields["sr"] != urllib.parse.quote(resource, safe=""):
            raise Refused("sr %r" % fields["sr"])
        if not fields["se"].isdigit():
            raise Refused("se")
        expiry = int(fields["se"])
        mac = hmac.new(base64.b64decode(KEY), ("%s\n%d" % (fields["sr"], expiry)).encode(),
                       hashlib.sha256).digest()
        expected = urllib.parse.quote(base64.b64encode(mac).decode(), safe="")
        if not hmac.compare_digest(fields["sig"], expected):
            raise Refused("signature")
        now = time.time()
        if expiry <= now:
            raise Refused("expired")
        if expiry > now + lifetime + 5:
            raise Refused("lives longer than token-lifetime")
        if tokens is not None:
            tokens.append(password)
        return expiry

    return check


class AzureTest(MqttBase):
    """kind=azure-iot-hub."""

    def hub(self, lifetime=3600):
        broker = self.broker()
        rec = self.recorder(broker, subscribe=("#", "$iothub/#"))
        self.tokens = []
        proxy = AuthProxy(broker.port, sas_check(lifetime, self.tokens))
        self.addCleanup(proxy.stop)
        return broker, rec, proxy

    @staticmethod
    def azure(proxy, exp_id="az", **keys):
        """An [exporter] section; a key given as None is left out."""
        if "device_key_file" not in keys:
            keys.setdefault("device_key", KEY)
        text = ("[exporter %s]\nkind=azure-iot-hub\nurl=%s\nhub=%s\ndevice-id=%s\n"
                % (exp_id, proxy.url, HUB, DEVICE))
        for key, value in keys.items():
            if value is not None:
                text += "%s=%s\n" % (key.replace("_", "-"), value)
        return text + "\n"

    def exp(self, prop, exp_id="az"):
        return super().exp(prop, exp_id)

    def patches(self, rec):
        with rec.lock:
            return [json.loads(m[1]) for m in rec.messages if m[0].startswith(PATCH)]

    def wait_patch(self, rec, predicate, timeout=10):
        self.wait_for(lambda: any(predicate(p) for p in self.patches(rec)), timeout,
                      "a twin patch")
        return [p for p in self.patches(rec) if predicate(p)][-1]

    def twin_state(self, rec, dev_id):
        """The device's reported state as the patches so far make it."""
        state = None
        for patch in self.patches(rec):
            if dev_id in patch["devices"]:
                state = patch["devices"][dev_id]
        return state

    def telemetry(self, rec, dev_id):
        return rec.json_on(TELEMETRY + dev_id)

    def method(self, rec, name, payload, rid, timeout=10):
        """A direct method request as the hub sends it (QoS 0); returns (status, body)."""
        rec.publish("$iothub/methods/POST/%s/?$rid=%s" % (name, rid), payload, qos=0)
        pattern = re.compile(r"^\$iothub/methods/res/(\d+)/\?\$rid=%s$" % re.escape(rid))

        def replies():
            with rec.lock:
                return [(int(pattern.match(m[0]).group(1)), m[1]) for m in rec.messages
                        if pattern.match(m[0])]
        self.wait_for(replies, timeout, "the reply to " + rid)
        status, body = replies()[0]
        return status, json.loads(body)

    def c2d(self, rec, payload, bag="%24.mid=m1&%24.to=%2Fdevices%2Fwattbus-gw%2Fmessages%2FdeviceBound"):
        rec.publish(C2D + bag, payload)

    def relay(self, emu):
        return emu.state()["sysinfo"]["relay_state"]

    def start_hub_and_devices(self, meter=False, **keys):
        broker, rec, proxy = self.hub()
        plug = self.emulator(PLUG)
        text = self.plug("plug", plug)
        water = None
        if meter:
            water = self.tuya("--profile", "water-meter", version="3.3")
            text += self.section("meter", water, profile="water-meter", poll=30)
        self.write_config(text + self.azure(proxy, **keys))
        self.start_daemon()
        self.wait_online("plug")
        if meter:
            self.wait_online("meter")
        # the first patch comes after the subscriptions were made on that connection
        self.wait_patch(rec, lambda p: "plug" in p["devices"])
        return broker, rec, proxy, plug, water

    # telemetry and the twin

    def test_telemetry_and_twin(self):
        broker, rec, proxy, plug, _ = self.start_hub_and_devices()
        self.wait_json(rec, TELEMETRY + "plug", lambda j: "power" in j)
        self.wait_json(rec, TELEMETRY + "plug", lambda j: "state" in j)
        # one message per reading, with what changed: merged, the device's values
        msg = {}
        for j in self.telemetry(rec, "plug"):
            self.assertEqual(j["device"], "plug")
            self.assertRegex(j["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            msg.update(j)
        # the fixture: 61753 mW, 230837 mV, 451 mA, 16323 Wh, relay on
        self.assertAlmostEqual(msg["power"], 61.753)
        self.assertAlmostEqual(msg["voltage"], 230.837)
        self.assertAlmostEqual(msg["current"], 0.451)
        self.assertAlmostEqual(msg["energy"], 16323)
        self.assertEqual(msg["state"], "ON")
        # never retained (the hub stores none)
        with rec.lock:
            self.assertFalse([m for m in rec.messages if m[0].startswith("devices/") and m[2]])
        # the connection as the hub wants it
        accepted = proxy.accepted()
        self.assertEqual(accepted[0]["client_id"], DEVICE)
        self.assertEqual(accepted[0]["level"], 4)  # MQTT 3.1.1
        self.assertEqual(proxy.refused(), [])

        # the twin: the slow state of every device
        self.assertEqual(self.twin_state(rec, "plug"), {"online": True, "state": "ON"})
        # readings alone change nothing in the twin
        before = len(self.patches(rec))
        for power_mw in (12345, 23456):
            plug.command("emeter power_mw=%d" % power_mw)
            self.wait_json(rec, TELEMETRY + "plug", lambda j, p=power_mw: j.get("power") == p / 1000)
        time.sleep(0.5)
        self.assertEqual(len(self.patches(rec)), before)
        # a switch does
        self.call(device_path("plug"), wbtest.OUTLET, "Toggle")
        self.wait_for(lambda: self.twin_state(rec, "plug") == {"online": True, "state": "OFF"}, 10,
                      "the twin says OFF")
        # the device gone from the configuration: null in the twin
        self.write_config(self.azure(proxy))
        self.call(wbtest.ROOT, wbtest.IFACE, "Reload")
        self.wait_patch(rec, lambda p: "plug" in p["devices"] and p["devices"]["plug"] is None)
        self.assertNotIn(KEY, self.daemon_log())

    # cloud-to-device messages

    def test_cloud_to_device(self):
        broker, rec, proxy, plug, meter = self.start_hub_and_devices(
            meter=True, commands="true", default_device="plug")
        # the property bag names the device; a bare word
        self.c2d(rec, "off", bag="%24.mid=1&device=plug")
        self.wait_for(lambda: self.relay(plug) == 0, 10, "plug off")
        # no device anywhere: default-device
        self.c2d(rec, "ON")
        self.wait_for(lambda: self.relay(plug) == 1, 10, "plug on")
        # JSON naming the device
        self.c2d(rec, '{"device":"plug","state":"OFF"}')
        self.wait_for(lambda: self.relay(plug) == 0, 10, "plug off (JSON)")
        # JSON without device, the bag names it
        self.c2d(rec, '{"state":"TOGGLE"}', bag="device=plug")
        self.wait_for(lambda: self.relay(plug) == 1, 10, "plug toggled on")
        # the valve
        self.c2d(rec, "close", bag="%24.mid=5&device=meter")
        self.wait_for(lambda: meter.state()["dps"]["9"] == "closed", 10, "valve closed")
        # no reply channel: the new state goes to the twin
        self.wait_for(lambda: (self.twin_state(rec, "meter") or {}).get("valve") == "closed", 10,
                      "the twin's valve closed")
        self.wait_for(lambda: self.twin_state(rec, "plug") == {"online": True, "state": "ON"}, 10,
                      "the twin's plug on")
        # refused: logged with the exporter's id, nothing switched
        for payload, bag in (("maybe", "device=plug"), ('{"state":"MAYBE"}', "device=plug"),
                             ("off", "device=nosuch"), ("off", "device=a%2Fb"),
                             ('{"device":"nosuch","state":"OFF"}', "")):
            self.c2d(rec, payload, bag=bag)
        self.wait_for(lambda: "[az] cloud-to-device command for 'nosuch' failed" in self.daemon_log(),
                      10, "the failure logged")
        time.sleep(0.5)
        self.assertEqual(self.relay(plug), 1)
        log = self.daemon_log()
        self.assertIn("[az] cloud-to-device message refused", log)
        self.assertIn("[az] cloud-to-device command for 'plug' done", log)
        self.assert_daemon_alive()

    def test_desired_properties(self):
        broker, rec, proxy, plug, meter = self.start_hub_and_devices(meter=True, commands="true")
        # after connecting, the twin is read (nobody answers here: nothing to apply)
        with rec.lock:
            self.assertTrue([m for m in rec.messages if m[0].startswith("$iothub/twin/GET/?$rid=")])
        desired = "$iothub/twin/PATCH/properties/desired/?$version=%d"
        rec.publish(desired % 5, json.dumps({"devices": {"plug": {"state": "OFF"}}, "$version": 5}))
        self.wait_for(lambda: self.relay(plug) == 0, 10, "plug off")
        self.wait_for(lambda: self.twin_state(rec, "plug") == {"online": True, "state": "OFF"}, 10,
                      "reported OFF")
        # an older version is not applied
        rec.publish(desired % 4, json.dumps({"devices": {"plug": {"state": "ON"}}, "$version": 4}))
        rec.publish(desired % 6, json.dumps({"devices": {"meter": {"valve": "closed"},
                                                         "nosuch": {"state": "ON"},
                                                         "plug": None}, "$version": 6}))
        self.wait_for(lambda: meter.state()["dps"]["9"] == "closed", 10, "valve closed")
        self.assertEqual(self.relay(plug), 0)
        self.wait_for(lambda: "[az] desired properties for 'nosuch' failed" in self.daemon_log(), 5,
                      "the unknown device logged")
        # at most 5 subscriptions (the hub's limit): these four
        filters = set(re.findall(r"\t(\S+) \(QoS 1\)", broker.log())) - {"#", "$iothub/#"}
        self.assertEqual(filters, {"devices/%s/messages/devicebound/#" % DEVICE, "$iothub/methods/POST/#",
                                   "$iothub/twin/res/#", "$iothub/twin/PATCH/properties/desired/#"})

    # direct methods

    def test_direct_methods(self):
        broker, rec, proxy, plug, meter = self.start_hub_and_devices(
            meter=True, commands="true", default_device="plug")
        status, body = self.method(rec, "TurnOff", '{"device":"plug"}', "1")
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"status": "ok", "state": {"online": True, "state": "OFF"}})
        self.assertEqual(self.relay(plug), 0)
        # no payload or null: default-device
        status, body = self.method(rec, "TurnOn", "", "2")
        self.assertEqual((status, body["state"]["state"]), (200, "ON"), body)
        self.assertEqual(self.relay(plug), 1)
        status, body = self.method(rec, "Toggle", "null", "3")
        self.assertEqual((status, body["state"]["state"]), (200, "OFF"), body)
        self.assertEqual(self.relay(plug), 0)
        status, body = self.method(rec, "Toggle", '{"device":"plug"}', "4a")
        self.assertEqual((status, body["state"]["state"]), (200, "ON"), body)
        self.assertEqual(self.relay(plug), 1)
        # the Tuya water meter's valve
        status, body = self.method(rec, "SetValve", '{"device":"meter","valve":"closed"}', "5")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["state"]["valve"], "closed")
        self.assertEqual(meter.state()["dps"]["9"], "closed")
        self.wait_prop(device_path("meter"), "org.wattbus.Wattbus1.WaterMeter", "Valve", "closed")

        sent = len(meter.writes())
        for name, payload, rid, status, error in (
                ("TurnOff", '{"device":"nosuch"}', "e1", 404, "NotFound"),
                ("SetValve", '{"device":"meter","valve":"half"}', "e2", 400, "InvalidArgument"),
                ("SetValve", '{"device":"meter"}', "e3", 400, "InvalidArgument"),
                ("SetValve", '{"device":"meter","state":"ON"}', "e4", 400, "InvalidArgument"),
                ("Reboot", '{"device":"plug"}', "e5", 404, "NotFound"),
                ("TurnOff", '{bad json', "e6", 400, "InvalidArgument"),
                ("TurnOff", '{"device":"plug","extra":1}', "e7", 400, "InvalidArgument"),
                ("TurnOff", '{"device":"meter"}', "e8", 501, "NotSupported"),
                ("TurnOff", "x" * 5000, "e9", 400, "InvalidArgument")):
            got, body = self.method(rec, name, payload, rid)
            self.assertEqual((got, body["status"], body["error"]), (status, "error", error),
                             (name, payload, body))
            self.assertTrue(body["message"])
        self.assertEqual(len(meter.writes()), sent)
        self.assertEqual(self.relay(plug), 1)
        # no request id (or one that cannot be echoed): nobody to answer, nothing run
        rec.publish("$iothub/methods/POST/TurnOff/", '{"device":"plug"}', qos=0)
        rec.publish("$iothub/methods/POST/TurnOff/?$rid=" + "r" * 200, '{"device":"plug"}', qos=0)
        rec.publish("$iothub/methods/POST/TurnOff/?$rid=a b", '{"device":"plug"}', qos=0)
        self.method(rec, "TurnOn", "", "sync")  # answered after those
        with rec.lock:
            replies = [m[0] for m in rec.messages if m[0].startswith("$iothub/methods/res/")]
        self.assertEqual(len(replies), 15, replies)
        self.assertEqual(self.relay(plug), 1)
        self.assert_daemon_alive()

    def test_commands_disabled(self):
        broker, rec, proxy, plug, _ = self.start_hub_and_devices(default_device="plug")
        for name, rid in (("TurnOff", "1"), ("Reboot", "2"), ("SetValve", "3")):
            status, body = self.method(rec, name, '{"device":"plug"}', rid)
            self.assertEqual((status, body["error"]), (501, "NotSupported"), body)
        self.c2d(rec, "off", bag="device=plug")
        time.sleep(1)
        self.assertEqual(self.relay(plug), 1)
        self.assertIn("Commands are off", self.daemon_log())

    # credentials

    def test_wrong_key_refused(self):
        broker, rec, proxy = self.hub()
        plug = self.emulator(PLUG)
        keyfile = os.path.join(self.tmp, "device.key")
        with open(keyfile, "w") as f:
            f.write(KEY + "\n")
        self.write_config(self.plug("plug", plug) +
                          self.azure(proxy, device_key=WRONG_KEY) +
                          self.azure(proxy, exp_id="good", device_key_file=keyfile))
        self.start_daemon()
        self.wait_online("plug")
        # the good one, its key from a file, delivers
        self.wait_json(rec, TELEMETRY + "plug", lambda j: "power" in j)
        self.wait_for(lambda: self.exp("State", "az") == "backing-off", 15, "backing off")
        self.assertTrue(self.exp("LastError", "az"))
        self.assertTrue(proxy.refused())
        self.assertEqual({c["reason"] for c in proxy.refused()}, {"signature"})
        self.assertGreater(self.exp("Queued", "az"), 0)
        self.assert_daemon_alive()
        log = self.daemon_log()
        for secret in [KEY, WRONG_KEY, "SharedAccessSignature", "sig="] + self.tokens:
            self.assertNotIn(secret, log)
        self.assertNotIn(WRONG_KEY, str(self.managed_objects()))

    def test_bad_settings_are_reported(self):
        broker, rec, proxy = self.hub()
        plug = self.emulator(PLUG)
        self.write_config(
            self.plug("plug", plug) +
            self.azure(proxy, exp_id="v5", protocol="5") +
            self.azure(proxy, exp_id="short", device_key="AAECAwQFBgc=") +
            self.azure(proxy, exp_id="notb64", device_key="not-base64-at-all!") +
            self.azure(proxy, exp_id="life", token_lifetime="5") +
            self.azure(proxy, exp_id="nokey", device_key=None) +
            self.azure(proxy, exp_id="ok"))
        self.start_daemon()
        self.wait_json(rec, TELEMETRY + "plug", lambda j: "power" in j)
        # the subscriber may have the reading before the daemon has the PUBACK
        self.wait_for(lambda: self.exp("State", "ok") == "connected", 10, "ok connected")
        paths = self.managed_objects().keys()
        for bad in ("v5", "short", "notb64", "life", "nokey"):
            self.assertNotIn(exporter_path(bad), paths)
        log = self.daemon_log()
        self.assertIn("Exporter 'v5': protocol=5 is not possible", log)
        self.assertIn("Exporter 'short': the device key is too short", log)
        self.assertIn("Exporter 'notb64': the device key must be base64", log)
        self.assertIn("Exporter 'life': token-lifetime must be from 10 to 86400", log)
        self.assertIn("Exporter 'nokey': device-key (or device-key-file) is missing", log)
        self.assertNotIn("not-base64-at-all!", log)
        self.assertNotIn("AAECAwQFBgc=", log)

    def test_x509(self):
        """X.509 instead of a SAS token (spec §3.1): the client certificate authenticates,
        no password is sent, the user name and client id are still the hub's; a
        persistent session (cleansession 0) keeps cloud-to-device messages while away."""
        broker = self.broker("tls")
        rec = self.recorder(broker)
        plug = self.emulator(PLUG)
        pki = broker.pki
        self.write_config(self.plug("plug", plug) +
                          "[exporter az]\nkind=azure-iot-hub\nurl=%s\nhub=%s\ndevice-id=%s\n"
                          "ca-file=%s.pem\ncert-file=%s.pem\nkey-file=%s.key\n\n"
                          % (broker.url, HUB, DEVICE, pki["ca"], pki["wattbus"], pki["wattbus"]))
        self.start_daemon()
        self.wait_online("plug")
        msg = self.wait_json(rec, TELEMETRY + "plug", lambda j: "power" in j)
        self.assertAlmostEqual(msg["power"], 61.753)
        self.assertRegex(broker.log(), r"as %s \(p2, c0, k\d+, u'wattbus'\)" % DEVICE)  # p2: 3.1.1
        self.assertEqual(self.exp("Target"), "localhost")

    def test_token_renewal_loses_nothing(self):
        broker, rec, proxy = self.hub(lifetime=10)
        plug = self.emulator(PLUG)
        self.write_config(self.plug("plug", plug) + self.azure(proxy, token_lifetime=10))
        self.start_daemon()
        self.wait_online("plug")
        self.wait_json(rec, TELEMETRY + "plug", lambda j: "power" in j)
        path = device_path("plug")
        sent = []
        start = time.monotonic()
        i = 0
        while time.monotonic() - start < 15:
            power_mw = 2000 + i * 7
            plug.command("emeter power_mw=%d" % power_mw)
            self.wait_prop(path, wbtest.METER, "Power", power_mw / 1000, timeout=5)
            sent.append(round(power_mw / 1000, 6))
            i += 1
        self.wait_for(lambda: self.exp("Queued") == 0, 10, "all delivered")

        def powers():
            return {round(j["power"], 6) for j in self.telemetry(rec, "plug") if "power" in j}
        self.wait_for(lambda: set(sent) <= powers(), 10, "every reading")
        # against the exporter's counter: every record acknowledged arrived (at least
        # once: a record in flight at a reconnect is sent again, the same message)
        messages = self.telemetry(rec, "plug")
        distinct = {json.dumps(j, sort_keys=True) for j in messages}
        self.assertGreaterEqual(len(messages), self.exp("Sent"))
        self.assertLessEqual(len(distinct), self.exp("Sent"))
        # renewed at 80 % of 10 s: fresh, valid tokens, never cut off by the expiry
        accepted = proxy.accepted()
        self.assertGreaterEqual(len(accepted), 2, accepted)
        self.assertEqual(len({c["password"] for c in accepted}), len(accepted))
        self.assertEqual([c for c in accepted if c["closed_by"] == "expiry"], [])
        self.assertEqual(proxy.refused(), [])
        self.assertGreaterEqual(len(sent), 10)

    def test_broker_restart_loses_nothing(self):
        # through the hub's front door: while Mosquitto is down, the proxy closes each
        # connection at once (closed_by "broker")
        broker, rec, proxy = self.hub()
        plug = self.emulator(PLUG)
        self.write_config(self.plug("plug", plug) + self.azure(proxy, timeout=5))
        self.start_daemon()
        self.wait_online("plug")
        self.wait_json(rec, TELEMETRY + "plug", lambda j: "power" in j)
        self.check_broker_restart(broker, plug, lambda: self.telemetry(rec, "plug"))
        # a valid token at each connect (the initial one and after the restart)
        self.assertGreaterEqual(len(proxy.accepted()), 2)
        self.assertEqual({c["closed_by"] for c in proxy.refused()} - {"broker"}, set())


if __name__ == "__main__":
    wbtest.main()
