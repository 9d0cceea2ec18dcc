#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""kind=jwt-iot-core end to end: the real daemon with Kasa and Tuya emulator devices, a
real Mosquitto, and in front of it mqttauthproxy.AuthProxy playing IoT Core's MQTT
bridge (shared/specs/mqtt-clouds.md §4): it verifies every CONNECT's JWT here, with
python3-cryptography and the device's PUBLIC key (tests/data/mqtt-clouds/*-pub.pem),
independently of the daemon's code, and cuts the connection when the token expires.
The test's recorder client plays the cloud's side of the topics.

Expected values come from the Kasa fixture (mW, mV, mA, Wh → SI) and the Tuya
water-meter profile, as in test_mqtt.py; topics and shapes from the spec, written out
here by hand."""

import base64
import json
import os
import re
import socket
import subprocess
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

import wbtest
from emoncmsemu import PLUG, exporter_path
from mqttauthproxy import AuthProxy, Refused
from mqttbase import MqttBase

KEYS = os.path.join(wbtest.DATA, "mqtt-clouds")
PROJECT, REGION, REGISTRY, DEVICE = "my-project", "us-central1", "my-registry", "wattbus-home"
EVENTS = "/devices/%s/events" % DEVICE
STATE = "/devices/%s/state" % DEVICE
RESULTS = "/devices/%s/events/command-results" % DEVICE
COMMANDS = "/devices/%s/commands" % DEVICE
CONFIG = "/devices/%s/config" % DEVICE
B64URL = re.compile(r"^[A-Za-z0-9_-]+$")


def client_id(device):
    return "projects/%s/locations/%s/registries/%s/devices/%s" % (PROJECT, REGION, REGISTRY, device)


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_public(name):
    with open(os.path.join(KEYS, name), "rb") as f:
        return serialization.load_pem_public_key(f.read())


def verify_jwt(token, public_key, lifetime):
    """The checks of IoT Core's bridge, on the token as it came over the wire. Returns
    the claims, or raises Refused."""
    if token is None:
        raise Refused("no password")
    parts = token.split(".")
    if len(parts) != 3 or not all(B64URL.match(p) for p in parts):
        raise Refused("not three base64url parts without padding")
    header = json.loads(b64url_decode(parts[0]))
    claims = json.loads(b64url_decode(parts[1]))
    signature = b64url_decode(parts[2])
    signed = ("%s.%s" % (parts[0], parts[1])).encode()
    if header.get("typ") != "JWT" or header.get("alg") not in ("ES256", "RS256"):
        raise Refused("bad header %r" % header)
    try:
        if header["alg"] == "ES256":
            if not isinstance(public_key, ec.EllipticCurvePublicKey) or len(signature) != 64:
                raise Refused("ES256 needs raw r||s (64 bytes) and an EC key")
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                       int.from_bytes(signature[32:], "big"))
            public_key.verify(der, signed, ec.ECDSA(hashes.SHA256()))
        else:
            public_key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    except Refused:
        raise
    except Exception as e:  # InvalidSignature, a key of the other kind
        raise Refused("signature: %r" % e)
    now = time.time()
    if claims.get("aud") != PROJECT:
        raise Refused("aud %r" % claims.get("aud"))
    if abs(claims["iat"] - now) > 60:
        raise Refused("iat %d is not now" % claims["iat"])
    if claims["exp"] - claims["iat"] != lifetime or lifetime > 86400:
        raise Refused("lifetime %d, expected %d" % (claims["exp"] - claims["iat"], lifetime))
    return claims


class JwtBase(MqttBase):
    """IoT Core in front of Mosquitto: registered devices with their public keys."""

    def iot_core(self, registered, lifetime=3600):
        """@registered: cloud device id → public key file. Returns (broker, proxy, rec)."""
        broker = self.broker()
        keys = {dev: load_public(pub) for dev, pub in registered.items()}
        ids = {client_id(dev): dev for dev in registered}
        self.tokens = []

        def check(cid, username, password):
            # the bridge's back end is down: refused, as the cloud says "unavailable"
            try:
                socket.create_connection(("127.0.0.1", broker.port), 1).close()
            except OSError:
                raise Refused("service unavailable")
            if cid not in ids:
                raise Refused("unknown device %r" % cid)
            if username != "unused":
                raise Refused("user name %r" % username)
            claims = verify_jwt(password, keys[ids[cid]], lifetime)
            self.tokens.append(password)
            return claims["exp"]

        proxy = AuthProxy(broker.port, check)
        self.addCleanup(proxy.stop)
        rec = self.recorder(broker, client_id="iot-core")
        return broker, proxy, rec

    @staticmethod
    def jwt_exporter(proxy, exp_id="iot", device=DEVICE, key="es256-test-key.pem", **keys):
        text = ("[exporter %s]\nkind=jwt-iot-core\nurl=%s\nproject=%s\nregion=%s\n"
                "registry=%s\ndevice-id=%s\nkey-file=%s\n"
                % (exp_id, proxy.url, PROJECT, REGION, REGISTRY, device,
                   key if os.path.isabs(key) else os.path.join(KEYS, key)))
        for k, value in keys.items():
            text += "%s=%s\n" % (k.replace("_", "-"), value)
        return text + "\n"

    def events(self, rec, device=None):
        return [j for j in rec.json_on(EVENTS) if device is None or j.get("device") == device]

    def states(self, rec):
        return [j["devices"] for j in rec.json_on(STATE)]

    def iot_command(self, rec, topic, payload, timeout=10):
        """Sends a command as the cloud does, returns its result event."""
        before = len(rec.on(RESULTS))
        rec.publish(topic, payload, qos=1)
        self.wait_for(lambda: len(rec.on(RESULTS)) > before, timeout, "a result event")
        return json.loads(rec.on(RESULTS)[before])

    def assert_no_secrets(self, *keys):
        log = self.daemon_log()
        for token in self.tokens:
            self.assertNotIn(token, log)
            self.assertNotIn(token.split(".")[2], log)
        for name in ("es256-test-key.pem", "rs256-test-key.pem") + keys:
            with open(os.path.join(KEYS, name)) as f:
                for line in f:
                    if line.strip() and not line.startswith("-----"):
                        self.assertNotIn(line.strip(), log)


class JwtTest(JwtBase):
    """kind=jwt-iot-core."""

    def setup_devices(self, proxy, **keys):
        plug = self.emulator(PLUG)
        meter = self.tuya("--profile", "water-meter", version="3.3")
        self.write_config(self.plug("plug", plug) +
                          self.section("meter", meter, profile="water-meter", poll=30) +
                          self.jwt_exporter(proxy, **keys))
        return plug, meter

    def test_telemetry_state_commands(self):
        broker, proxy, rec = self.iot_core({DEVICE: "es256-test-pub.pem"})
        state_times = []
        recorded = rec.client.on_message

        def timed(client, userdata, msg):
            if msg.topic == STATE:
                state_times.append(time.monotonic())
            recorded(client, userdata, msg)
        rec.client.on_message = timed
        plug, meter = self.setup_devices(proxy, commands="true")
        self.start_daemon()
        self.wait_online("plug")
        self.wait_online("meter")

        # the bridge accepted the JWT: ES256, aud = project, as IoT Core wants it
        self.wait_for(lambda: proxy.accepted(), 10, "an accepted connection")
        conn = proxy.accepted()[0]
        self.assertEqual(conn["client_id"], client_id(DEVICE))
        self.assertEqual(conn["username"], "unused")
        self.assertEqual(conn["level"], 4)  # MQTT 3.1.1
        self.assertEqual(json.loads(b64url_decode(conn["password"].split(".")[0])),
                         {"alg": "ES256", "typ": "JWT"})
        # and the spec's own verifier (openssl CLI) agrees
        out = subprocess.run([os.path.join(KEYS, "jwt-verify.sh"),
                              os.path.join(KEYS, "es256-test-pub.pem"), conn["password"]],
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("Verified OK", out.stdout)

        # telemetry: the fixture's 61753 mW, 230837 mV, 451 mA, 16323 Wh; 123.456 m³
        self.wait_for(lambda: [j for j in self.events(rec, "plug") if "power" in j], 10, "plug event")
        event = [j for j in self.events(rec, "plug") if "power" in j][0]
        self.assertAlmostEqual(event["power"], 61.753)
        self.assertAlmostEqual(event["voltage"], 230.837)
        self.assertAlmostEqual(event["current"], 0.451)
        self.assertAlmostEqual(event["energy"], 16323)
        # the relay (a record of its own when it came in another poll than the meter)
        self.wait_for(lambda: "ON" in [j.get("state") for j in self.events(rec, "plug")], 5,
                      "the relay's state in an event")
        self.assertRegex(event["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.wait_for(lambda: [j for j in self.events(rec, "meter") if "water" in j], 10, "meter event")
        water = [j for j in self.events(rec, "meter") if "water" in j][0]
        self.assertAlmostEqual(water["water"], 123.456)

        # state: every device's slow state in one document; a device's first poll may end
        # after another's, so a document may still have it offline before the next one
        expected = {"plug": {"online": True, "state": "ON"},
                    "meter": {"online": True, "valve": "opened"}}
        self.wait_for(lambda: any(set(s) == {"plug", "meter"} for s in self.states(rec)), 10, "state")
        self.wait_for(lambda: expected in self.states(rec), 10,
                      "a state with both devices online")
        self.assertNotIn({}, self.states(rec))

        # a command naming its device on /commands
        result = self.iot_command(rec, COMMANDS, '{"device":"plug","state":"OFF","id":"c1"}')
        self.assertEqual((result["device"], result["id"], result["status"]), ("plug", "c1", "ok"))
        self.assertEqual(result["state"]["state"], "OFF")
        self.assertEqual(plug.state()["sysinfo"]["relay_state"], 0)
        # and on the subfolder of the device
        result = self.iot_command(rec, COMMANDS + "/plug", '{"state":"ON","id":"c2"}')
        self.assertEqual((result["device"], result["id"], result["status"]), ("plug", "c2", "ok"))
        self.assertEqual(plug.state()["sysinfo"]["relay_state"], 1)
        result = self.iot_command(rec, COMMANDS + "/meter", '{"valve":"CLOSE"}')
        self.assertEqual((result["device"], result["status"]), ("meter", "ok"), result)
        self.wait_for(lambda: meter.state()["dps"]["9"] == "closed", 5, "valve closed")
        self.wait_for(lambda: self.states(rec)[-1]["meter"].get("valve") == "closed", 10,
                      "the closed valve in the state")

        # errors: a result event each, nothing switched
        writes = len(meter.writes())
        for topic, payload, device, error in (
                (COMMANDS, '{"device":"nosuch","state":"ON"}', "nosuch", "NotFound"),
                (COMMANDS + "/nosuch", '{"state":"ON"}', "nosuch", "NotFound"),
                (COMMANDS + "/plug", '{"state":"MAYBE"}', "plug", "InvalidArgument"),
                (COMMANDS, '{"state":"OFF"}', None, "InvalidArgument"),
                (COMMANDS + "/meter", '{"valve_openness":150}', "meter", "InvalidArgument"),
                (COMMANDS + "/plug", 'off', "plug", "InvalidArgument"),
                (COMMANDS + "/plug", '{"valve":"closed"}', "plug", "NotSupported")):
            result = self.iot_command(rec, topic, payload)
            self.assertEqual((result["status"], result["error"]), ("error", error), payload)
            self.assertEqual(result.get("device"), device, payload)
            self.assertTrue(result["message"])
        self.assertEqual(plug.state()["sysinfo"]["relay_state"], 1)
        self.assertEqual(len(meter.writes()), writes)

        # the service keeps about one state a second: never two within less
        gaps = [b - a for a, b in zip(state_times, state_times[1:])]
        self.assertTrue(gaps and min(gaps) > 0.9, gaps)
        log = self.daemon_log()
        self.assertIn("[iot] command for 'plug' done", log)
        self.assertIn("[iot] command for 'nosuch' failed", log)
        self.assert_no_secrets()
        self.assert_daemon_alive()

    def test_commands_off(self):
        broker, proxy, rec = self.iot_core({DEVICE: "es256-test-pub.pem"})
        rec.publish(CONFIG, '{"devices":{"plug":{"state":"OFF"}}}', retain=True)
        plug, meter = self.setup_devices(proxy)
        self.start_daemon()
        self.wait_online("plug")
        self.wait_for(lambda: self.states(rec), 10, "state")
        result = self.iot_command(rec, COMMANDS + "/plug", '{"state":"OFF"}')
        self.assertEqual((result["status"], result["error"]), ("error", "NotSupported"))
        self.assertEqual(plug.state()["sysinfo"]["relay_state"], 1)
        self.assertIn("config not applied: commands are off", self.daemon_log())

    def test_config_desired_state(self):
        broker, proxy, rec = self.iot_core({DEVICE: "es256-test-pub.pem"})
        # IoT Core delivers the latest config on subscribe: here, a retained message
        rec.publish(CONFIG, json.dumps({"devices": {"plug": {"state": "OFF"},
                                                    "meter": {"valve": "closed"}}}), retain=True)
        plug, meter = self.setup_devices(proxy, commands="true")
        self.start_daemon()
        self.wait_online("plug")
        self.wait_online("meter")
        self.wait_for(lambda: plug.state()["sysinfo"]["relay_state"] == 0, 10, "plug off")
        self.wait_for(lambda: meter.state()["dps"]["9"] == "closed", 10, "valve closed")
        self.wait_for(lambda: self.states(rec) and self.states(rec)[-1] == {
            "plug": {"online": True, "state": "OFF"},
            "meter": {"online": True, "valve": "closed"}}, 10, "the desired state reported")
        # no result events for the config: it has no id and no reply channel
        self.assertEqual(rec.on(RESULTS), [])

        # a new config: the meter already closed gets no command; the plug goes on;
        # a bad entry is refused alone
        writes = len(meter.writes())
        rec.publish(CONFIG, json.dumps({"devices": {"meter": {"valve": "closed"},
                                                    "plug": {"state": "ON"},
                                                    "nosuch": {"state": "ON"}}}), retain=True)
        self.wait_for(lambda: plug.state()["sysinfo"]["relay_state"] == 1, 10, "plug on")
        time.sleep(1)
        self.assertEqual(len(meter.writes()), writes)
        rec.publish(CONFIG, json.dumps({"devices": {"plug": {"state": "TOGGLE"},
                                                    "meter": {"valve": "OPEN"}}}), retain=True)
        self.wait_for(lambda: meter.state()["dps"]["9"] == "opened", 10, "valve opened")
        self.assertEqual(plug.state()["sysinfo"]["relay_state"], 1)
        # an empty config is no config; a broken one changes nothing
        rec.publish(CONFIG, "", retain=True)
        rec.publish(CONFIG, "[not json", retain=True)
        self.wait_for(lambda: "config refused" in self.daemon_log(), 5, "config refused")
        log = self.daemon_log()
        self.assertIn("[iot] the config names no device of this daemon: 'nosuch'", log)
        self.assertIn("[iot] the desired state of 'plug' is not valid", log)
        self.assertEqual(plug.state()["sysinfo"]["relay_state"], 1)
        self.assert_daemon_alive()

    def test_rs256_and_wrong_key(self):
        # a P-256 key the registry does not know
        rogue = os.path.join(self.tmp, "rogue.pem")
        subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout",
                        "-out", rogue], check=True, capture_output=True)
        weak = os.path.join(self.tmp, "weak.pem")
        subprocess.run(["openssl", "genrsa", "-out", weak, "1024"], check=True, capture_output=True)
        broker, proxy, rec = self.iot_core({"rs-dev": "rs256-test-pub.pem",
                                            "bad-dev": "es256-test-pub.pem"})
        plug = self.emulator(PLUG)
        self.write_config(
            self.plug("plug", plug) +
            self.jwt_exporter(proxy, exp_id="rs", device="rs-dev", key="rs256-test-key.pem",
                              algorithm="RS256") +
            self.jwt_exporter(proxy, exp_id="bad", device="bad-dev", key=rogue) +
            # the algorithm does not fit the key: the exporter is refused at once
            self.jwt_exporter(proxy, exp_id="mismatch", device="mm-dev", algorithm="RS256") +
            # and the other settings the bridge would refuse
            self.jwt_exporter(proxy, exp_id="weak", device="weak-dev", key=weak) +
            self.jwt_exporter(proxy, exp_id="long", device="long-dev", token_lifetime=86401) +
            self.jwt_exporter(proxy, exp_id="v5", device="v5-dev", protocol="5") +
            self.jwt_exporter(proxy, exp_id="slash", device="a/b"))
        self.start_daemon()
        self.wait_online("plug")
        self.wait_for(lambda: [j for j in rec.json_on("/devices/rs-dev/events") if "power" in j],
                      10, "RS256 telemetry")
        conn = [c for c in proxy.accepted() if c["client_id"] == client_id("rs-dev")][0]
        self.assertEqual(json.loads(b64url_decode(conn["password"].split(".")[0])),
                         {"alg": "RS256", "typ": "JWT"})
        out = subprocess.run([os.path.join(KEYS, "jwt-verify.sh"),
                              os.path.join(KEYS, "rs256-test-pub.pem"), conn["password"]],
                             capture_output=True, text=True)
        self.assertIn("Verified OK", out.stdout)

        # the wrong key: refused by the bridge, retried, nothing delivered, no crash
        self.wait_for(lambda: [c for c in proxy.refused() if c["client_id"] == client_id("bad-dev")],
                      10, "the rogue key refused")
        self.assertEqual([c for c in proxy.accepted() if c["client_id"] == client_id("bad-dev")], [])
        self.wait_for(lambda: "CONNACK" in self.exp("LastError", "bad"), 15, "LastError")
        self.assertIn(self.exp("State", "bad"), ("backing-off", "connecting"))
        self.assertEqual(self.exp("Sent", "bad"), 0)
        self.assertIn("signature", [c for c in proxy.refused()][0]["reason"])
        self.assertEqual(rec.on("/devices/bad-dev/events"), [])
        log = self.daemon_log()
        self.assertIn("algorithm=RS256 does not fit the key in key-file, which is for ES256", log)
        for exp_id, message in (("weak", "an RSA key of at least 2048 bits"),
                                ("long", "token-lifetime must be from 10 to 86400 seconds"),
                                ("v5", "protocol must be 3.1.1"),
                                ("slash", "device-id is not valid")):
            self.assertRegex(log, r"Exporter '%s': .*%s" % (exp_id, re.escape(message)))
        objects = str(self.managed_objects())
        for exp_id in ("mismatch", "weak", "long", "v5", "slash"):
            self.assertNotIn(exporter_path(exp_id), objects)
        self.assertEqual({c["client_id"] for c in proxy.connections},
                         {client_id("rs-dev"), client_id("bad-dev")})
        for c in proxy.refused():
            self.tokens.append(c["password"])
        self.assert_no_secrets(rogue, weak)
        self.assert_daemon_alive()

    def assert_all_events(self, rec):
        self.assert_all_arrived(lambda: self.events(rec, "plug"), "iot")
        # at least once: every acknowledged reading is an event at the cloud
        self.assertGreaterEqual(len(self.events(rec)), self.exp("Sent", "iot"))

    def test_token_renewal(self):
        broker, proxy, rec = self.iot_core({DEVICE: "es256-test-pub.pem"}, lifetime=10)
        plug = self.emulator(PLUG)
        self.write_config(self.plug("plug", plug) + self.jwt_exporter(proxy, token_lifetime=10))
        self.start_daemon()
        self.wait_online("plug")
        self.wait_for(lambda: self.events(rec, "plug"), 10, "first event")
        start = time.monotonic()
        for _ in self.stream(plug, 60):
            if time.monotonic() - start > 17:
                break
        self.assert_all_events(rec)
        accepted = proxy.accepted()
        # renewed at 80 % of 10 s: a new connection with a fresh token each time, none
        # cut by the bridge for an expired one
        self.assertGreaterEqual(len(accepted), 2, accepted)
        self.assertEqual(len({c["password"] for c in accepted}), len(accepted))
        self.assertEqual([c for c in accepted if c["closed_by"] == "expiry"], [])
        self.assertEqual(proxy.refused(), [])
        self.assertGreaterEqual(len(self.sent), 10)
        self.assert_no_secrets()

    def test_broker_restart_loses_nothing(self):
        broker, proxy, rec = self.iot_core({DEVICE: "es256-test-pub.pem"})
        plug = self.emulator(PLUG)
        self.write_config(self.plug("plug", plug) + self.jwt_exporter(proxy, timeout=5))
        self.start_daemon()
        self.wait_online("plug")
        self.wait_for(lambda: self.events(rec, "plug"), 10, "first event")
        self.check_broker_restart(broker, plug, lambda: self.events(rec, "plug"), "iot",
                                  count=10, down=(3, 6))
        self.assertGreaterEqual(len(self.events(rec)), self.exp("Sent", "iot"))
        self.assertGreaterEqual(len(proxy.accepted()), 2)


if __name__ == "__main__":
    wbtest.main()
