#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""kind=aws-iot end to end: the real daemon with Kasa and Tuya emulator devices and a real
Mosquitto in mqttbroker.py's "tls" mode (required client certificates from a test CA: AWS
IoT Core's X.509 mutual TLS). The test plays AWS's Device Shadow service for named shadows
(ShadowService, from shared/specs/mqtt-clouds.md §2.4, written out here by hand) on its
recording client. Expected values come from the Kasa fixture (mW, mV, mA, Wh → SI) and the
Tuya water-meter profile."""

import json
import threading
import time

import wbtest
from emoncmsemu import EXPORTER, PLUG, exporter_path
from mqttbase import MqttBase
from wbtest import OUTLET, device_path

THING = "wattbus-home"
WATER = "org.wattbus.Wattbus1.WaterMeter"


class ShadowService:
    """AWS's shadow service for the named shadows of one thing: answers /get (get/rejected
    404 for a shadow it does not have, else get/accepted with the whole document and its
    delta), takes /update (reported merged, version + 1, update/accepted), and desire()
    is an application setting desired state (version + 1, /update/delta with the keys that
    differ from reported)."""

    def __init__(self, rec, thing):
        self.rec = rec
        self.prefix = "$aws/things/%s/shadow/name/" % thing
        self.docs = {}
        self.lock = threading.Lock()
        recorded = rec.client.on_message

        def on_message(client, userdata, msg):
            recorded(client, userdata, msg)
            self._handle(msg.topic, msg.payload)
        rec.client.on_message = on_message

    def topic(self, name, suffix):
        return self.prefix + name + "/" + suffix

    def _publish(self, name, suffix, doc):
        self.rec.client.publish(self.topic(name, suffix), json.dumps(doc), qos=1)

    @staticmethod
    def _delta(doc):
        return {k: v for k, v in doc["desired"].items() if doc["reported"].get(k) != v}

    def _handle(self, topic, payload):
        if not topic.startswith(self.prefix):
            return
        name, _, op = topic[len(self.prefix):].partition("/")
        with self.lock:
            doc = self.docs.get(name)
            if op == "get":
                if doc is None:
                    self._publish(name, "get/rejected",
                                  {"code": 404, "message": "No shadow exists with name: '%s'" % name})
                    return
                state = {"desired": doc["desired"], "reported": doc["reported"]}
                if self._delta(doc):
                    state["delta"] = self._delta(doc)
                self._publish(name, "get/accepted", {"state": state, "metadata": {},
                                                     "version": doc["version"],
                                                     "timestamp": int(time.time())})
            elif op == "update":
                request = json.loads(payload)
                if doc is None:
                    doc = self.docs[name] = {"desired": {}, "reported": {}, "version": 0}
                doc["reported"].update(request["state"]["reported"])
                doc["version"] += 1
                self._publish(name, "update/accepted", {"state": request["state"], "metadata": {},
                                                        "version": doc["version"],
                                                        "timestamp": int(time.time())})

    def put(self, name, desired, reported, version):
        with self.lock:
            self.docs[name] = {"desired": dict(desired), "reported": dict(reported),
                               "version": version}

    def desire(self, name, desired):
        """Returns the delta's version."""
        with self.lock:
            doc = self.docs.setdefault(name, {"desired": {}, "reported": {}, "version": 0})
            doc["desired"].update(desired)
            doc["version"] += 1
            delta = self._delta(doc)
            if delta:
                self._publish(name, "update/delta", {"version": doc["version"],
                                                     "timestamp": int(time.time()),
                                                     "state": delta, "metadata": {}})
            return doc["version"]


class AwsTest(MqttBase):
    """kind=aws-iot."""

    def aws_setup(self, devices, shadows=None, **keys):
        broker = self.broker("tls")
        rec = self.recorder(broker, subscribe=("#", "$aws/#"))
        service = ShadowService(rec, THING)
        for name, doc in (shadows or {}).items():
            service.put(name, *doc)
        self.write_config(devices + self.aws_exporter(broker, **keys))
        self.start_daemon()
        return broker, rec, service

    @staticmethod
    def aws_exporter(broker, exp_id="aws", cert="wattbus", **keys):
        pki = broker.pki
        text = ("[exporter %s]\nkind=aws-iot\nurl=mqtts://localhost:%d\nthing=%s\n"
                "ca-file=%s.pem\ncert-file=%s.pem\nkey-file=%s.key\n"
                % (exp_id, broker.port, THING, pki["ca"], pki[cert], pki[cert]))
        for key, value in keys.items():
            text += "%s=%s\n" % (key.replace("_", "-"), value)
        return text + "\n"

    def exp(self, prop, exp_id="aws"):
        return self.get(exporter_path(exp_id), EXPORTER, prop)

    def updates(self, rec, service, name):
        """What the daemon reported to the shadow @name, in order."""
        return [j for j in rec.json_on(service.topic(name, "update"))]

    def wait_reported(self, rec, service, name, reported, timeout=10):
        want = {"state": {"reported": reported}}
        self.wait_for(lambda: self.updates(rec, service, name)[-1:] == [want], timeout,
                      "%s reported on %s" % (reported, name))

    def test_telemetry_and_shadow(self):
        emu = self.emulator(PLUG)
        broker, rec, service = self.aws_setup(self.plug("plug", emu), commands="true")
        self.wait_online("plug")
        topic = "wattbus/%s/plug" % THING
        tele = self.wait_json(rec, topic, lambda j: "power" in j)
        # the fixture: 61753 mW, 230837 mV, 451 mA, 16323 Wh, relay on
        self.assertEqual(tele["device"], "plug")
        self.assertRegex(tele["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertAlmostEqual(tele["power"], 61.753)
        self.assertAlmostEqual(tele["voltage"], 230.837)
        self.assertAlmostEqual(tele["current"], 0.451)
        self.assertAlmostEqual(tele["energy"], 16323)
        # a reading carries what changed: the relay may have come in an earlier one
        self.wait_json(rec, topic, lambda j: j.get("state") == "ON" and j["device"] == "plug")
        # nothing is retained: not telemetry, and $aws topics cannot be
        self.assertFalse([m for m in rec.messages if m[0] == topic and m[2]])

        # no shadow yet: the /get is answered 404 and reporting makes it
        self.wait_reported(rec, service, "plug", {"online": True, "state": "ON"})
        self.assertIn("", rec.on(service.topic("plug", "get")))
        # subscribed before publishing anything (§2.4 step 1): Mosquitto's log, in order
        log = broker.log()
        first_sub = log.find("Received SUBSCRIBE from %s" % THING)
        first_pub = log.find("Received PUBLISH from %s" % THING)
        self.assertGreaterEqual(first_sub, 0, log[-3000:])
        self.assertLess(first_sub, first_pub)
        self.assertIn("$aws/things/%s/shadow/name/+/update/delta" % THING, log)

        # readings do not touch the shadow: only the slow state does
        count = len(self.updates(rec, service, "plug"))
        for power_mw in (2222, 3333):
            emu.command("emeter power_mw=%d" % power_mw)
            self.wait_json(rec, topic, lambda j: j.get("power") == power_mw / 1000)
        self.assertEqual(len(self.updates(rec, service, "plug")), count)

        # a local switch (D-Bus) is reported
        self.call(device_path("plug"), OUTLET, "TurnOff")
        self.wait_reported(rec, service, "plug", {"online": True, "state": "OFF"})
        self.assertEqual(service.docs["plug"]["reported"]["state"], "OFF")

        # a delta from the cloud switches the plug, the actual state is reported
        version = service.desire("plug", {"state": "ON"})
        self.wait_for(lambda: emu.state()["sysinfo"]["relay_state"] == 1, 10, "relay on")
        self.wait_reported(rec, service, "plug", {"online": True, "state": "ON"})
        self.assertTrue(self.get(device_path("plug"), OUTLET, "On"))

        # an old delta (out of order) is ignored
        count = len(self.updates(rec, service, "plug"))
        rec.publish(service.topic("plug", "update/delta"),
                    json.dumps({"version": version - 1, "timestamp": 1, "state": {"state": "OFF"}}))
        self.wait_for(lambda: "is not newer than %d" % version in self.daemon_log(), 5, "old delta")
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 1)
        self.assertEqual(len(self.updates(rec, service, "plug")), count)

        # a bad value: logged, nothing switched, the actual state reported again
        service.desire("plug", {"state": "MAYBE"})
        self.wait_for(lambda: len(self.updates(rec, service, "plug")) > count, 5, "report")
        self.assertEqual(self.updates(rec, service, "plug")[-1],
                         {"state": {"reported": {"online": True, "state": "ON"}}})
        self.assertRegex(self.daemon_log(), r"\[aws\] shadow delta for 'plug' .*ignoring state")
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 1)
        # a shadow of no device: logged, nothing reported
        service.desire("nosuch", {"state": "OFF"})
        self.wait_for(lambda: "unknown device 'nosuch'" in self.daemon_log(), 5, "unknown logged")
        self.assertEqual(rec.on(service.topic("nosuch", "update")), [])
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 1)
        # rubbish on a shadow topic
        rec.publish(service.topic("plug", "update/delta"), "{not json")
        rec.publish(service.topic("plug", "get/accepted"), '{"state":[]}')
        self.wait_for(lambda: "shadow of 'plug' ignored" in self.daemon_log(), 5, "bad document")

        # still serving
        self.assert_daemon_alive()
        emu.command("emeter power_mw=4444")
        self.wait_json(rec, topic, lambda j: j.get("power") == 4.444)
        # the subscriber may have the reading before the daemon has the PUBACK
        self.wait_for(lambda: self.exp("State") == "connected", 10, "connected")

    def test_get_accepted_delta_applied(self):
        """A shadow that exists, with desired OFF set while the daemon was away: the /get at
        connect brings the delta, which is applied and reported. Over MQTT 5 (AWS takes both)."""
        emu = self.emulator(PLUG)
        broker, rec, service = self.aws_setup(
            self.plug("plug", emu),
            shadows={"plug": ({"state": "OFF"}, {"state": "ON", "online": True}, 7)},
            commands="true", protocol="5")
        self.wait_online("plug")
        self.wait_for(lambda: emu.state()["sysinfo"]["relay_state"] == 0, 10, "relay off")
        self.wait_reported(rec, service, "plug", {"online": True, "state": "OFF"})
        # one update for the delta applied; one more when the plug's first poll was reported
        # (as it was, on) before the /get's answer came
        self.assertIn(service.docs["plug"]["version"], (8, 9))
        self.assertRegex(broker.log(), r"as %s \(p5," % THING)
        # the same delta again (version 7) is old news
        rec.publish(service.topic("plug", "update/delta"),
                    json.dumps({"version": 7, "state": {"state": "ON"}}))
        self.wait_for(lambda: "is not newer than 7" in self.daemon_log(), 5, "old delta")
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 0)

    def test_commands_disabled(self):
        emu = self.emulator(PLUG)
        broker, rec, service = self.aws_setup(self.plug("plug", emu))
        self.wait_online("plug")
        self.wait_reported(rec, service, "plug", {"online": True, "state": "ON"})
        count = len(self.updates(rec, service, "plug"))
        service.desire("plug", {"state": "OFF"})
        # refused, the actual state reported: the delta stays in the shadow
        self.wait_for(lambda: len(self.updates(rec, service, "plug")) > count, 5, "report")
        self.assertEqual(self.updates(rec, service, "plug")[-1],
                         {"state": {"reported": {"online": True, "state": "ON"}}})
        self.assertIn("commands=true", self.daemon_log())
        time.sleep(1)
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 1)

    def test_water_meter_valve(self):
        meter = self.tuya("--profile", "water-meter", version="3.3")
        broker, rec, service = self.aws_setup(
            self.section("meter", meter, profile="water-meter", poll=30), commands="true")
        self.wait_online("meter")
        # litres → m³ (the profile's scale 3)
        tele = self.wait_json(rec, "wattbus/%s/meter" % THING, lambda j: "water" in j)
        self.assertAlmostEqual(tele["water"], 123.456)
        self.wait_reported(rec, service, "meter", {"online": True, "valve": "opened"})
        service.desire("meter", {"valve": "closed"})
        self.wait_for(lambda: meter.state()["dps"]["9"] == "closed", 10, "valve closed")
        self.wait_prop(device_path("meter"), WATER, "Valve", "closed", timeout=3)
        self.wait_reported(rec, service, "meter", {"online": True, "valve": "closed"})

    def test_removed_device_keeps_its_shadow(self):
        """A device removed at a reload: its shadow is the user's, never deleted; it is just
        not asked for or reported any more (not even after a reconnect)."""
        keep, gone = self.emulator(PLUG), self.emulator(PLUG)
        broker, rec, service = self.aws_setup(self.plug("keep", keep) + self.plug("gone", gone))
        self.wait_reported(rec, service, "keep", {"online": True, "state": "ON"})
        self.wait_reported(rec, service, "gone", {"online": True, "state": "ON"})
        self.write_config(self.plug("keep", keep) + self.aws_exporter(broker))
        self.call(wbtest.ROOT, wbtest.IFACE, "Reload")
        self.wait_for(lambda: "shadow of the removed device 'gone'" in self.daemon_log(), 10,
                      "gone forgotten")
        broker.stop()
        broker.start()
        self.wait_for(lambda: len(rec.on(service.topic("keep", "get"))) >= 2, 15, "keep asked again")
        time.sleep(0.5)
        self.assertEqual(len(rec.on(service.topic("gone", "get"))), 1)
        self.assertEqual([m for m in rec.messages if m[0].startswith(service.prefix + "gone/delete")], [])
        self.assertIn("gone", service.docs)

    def test_device_beyond_topic_limit_skipped(self):
        """A device whose telemetry topic would pass AWS's 256 bytes is skipped (logged once),
        never blocking the others; its shadow still works."""
        short, long_ = self.emulator(PLUG), self.emulator(PLUG)
        long_id = "p" + "x" * 63
        base = "t" * 200
        broker, rec, service = self.aws_setup(self.plug("p", short) + self.plug(long_id, long_),
                                              telemetry_topic=base + "/{device}")
        self.wait_online(long_id)
        self.wait_json(rec, base + "/p", lambda j: "power" in j)
        self.wait_reported(rec, service, long_id, {"online": True, "state": "ON"})
        short.command("emeter power_mw=2222")
        long_.command("emeter power_mw=3333")
        self.wait_json(rec, base + "/p", lambda j: j.get("power") == 2.222)
        self.wait_for(lambda: self.exp("Queued") == 0, 5, "nothing held back")
        self.assertEqual([m for m in rec.messages if m[0].startswith(base + "/" + long_id)], [])
        self.assertEqual(self.daemon_log().count("no telemetry for '%s'" % long_id), 1)

    def test_rogue_certificate_and_bad_settings(self):
        """A client certificate from another CA: no connection, LastError, no crash. Bad
        settings: the exporter is refused with a clear message."""
        emu = self.emulator(PLUG)
        broker = self.broker("tls")
        rec = self.recorder(broker, subscribe=("#", "$aws/#"))
        pki = broker.pki
        bad = ""
        for exp_id, text in (
                ("nothing", ""),
                ("nocert", "thing=t1\nurl=mqtts://localhost:%d\n" % broker.port),
                ("deep", "thing=t1\nurl=mqtts://localhost:%d\ncert-file=%s.pem\nkey-file=%s.key\n"
                         "telemetry-topic=a/b/c/d/e/f/g/{thing}/{device}\n"
                 % (broker.port, pki["wattbus"], pki["wattbus"])),
                ("wild", "thing=t1\nurl=mqtts://localhost:%d\ncert-file=%s.pem\nkey-file=%s.key\n"
                         "telemetry-topic=a/+/{device}\n" % (broker.port, pki["wattbus"], pki["wattbus"]))):
            bad += "[exporter %s]\nkind=aws-iot\n%s\n" % (exp_id, text)
        self.write_config(self.plug("plug", emu) + self.aws_exporter(broker, cert="rogue") + bad)
        self.start_daemon()
        self.wait_online("plug")
        self.wait_for(lambda: self.exp("State") == "backing-off", 10, "rogue refused")
        self.assertTrue(self.exp("LastError"))
        self.assertGreater(self.exp("Queued"), 0)
        log = self.daemon_log()
        for text in ("thing is missing", "cert-file and key-file are required",
                     "telemetry-topic is not valid: the topic would have 8 '/'",
                     "telemetry-topic is not valid: the topic would have a '+'"):
            self.assertIn(text, log)
        time.sleep(0.5)
        self.assertEqual([m for m in rec.messages if m[0].startswith(("wattbus/", "$aws/"))], [])
        self.assert_daemon_alive()

    def test_broker_restart_loses_nothing(self):
        emu = self.emulator(PLUG)
        broker, rec, service = self.aws_setup(self.plug("plug", emu), timeout=5)
        topic = "wattbus/%s/plug" % THING
        self.wait_online("plug")
        self.wait_json(rec, topic, lambda j: "power" in j)
        self.check_broker_restart(broker, emu, lambda: rec.json_on(topic))
        # the shadow asked for again after the reconnect
        self.wait_for(lambda: len(rec.on(service.topic("plug", "get"))) >= 2, 10, "a second /get")


if __name__ == "__main__":
    wbtest.main()
