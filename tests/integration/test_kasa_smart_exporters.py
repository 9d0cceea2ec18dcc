#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The exporters carrying TP-Link SMART devices like any other (issue #14): a Tapo P110
(KLAP) and a P304M strip served by tests/emulators/tplink-emulator.py, exported through
kind=mqtt with Home Assistant discovery to a real Mosquitto, through EmonCMS (the
EmonCMS emulator) and through SSE (the device event).

Expected values are worked out from the fixtures by smartbase.expected_reading
(the units of shared/specs/kasa-smart.md §5.7), apart from the daemon's C code."""

import json
import math

import freeport
import smartbase as smart
import wbtest
from emoncmsemu import WRITE_KEY, EmoncmsEmulator
from mqttbroker import Broker
from ssebase import EventStream

P110 = "P110(UK)_1.0_1.3.0.json"
P304M = "P304M(UK)_1.0_1.0.3.json"
# the D-Bus property → the key of the MQTT state JSON (src/exporters/mqtt/README.md)
MQTT_KEYS = {"Power": "power", "Voltage": "voltage", "Current": "current", "Energy": "energy",
             "EnergyToday": "energy_today", "EnergyThisMonth": "energy_this_month"}


# readings set on the emulators before the daemon starts, so that no value is a
# fixture's 0: (outlet position or None, relay on, energy fields)
PLUG_SET = (None, True, {"current_power": 61753, "today_energy": 321, "month_energy": 4321})
STRIP_SET = ((1, True, {"current_power": 12, "today_energy": 55, "month_energy": 707}),
             (3, True, {"current_power": 7, "today_energy": 9, "month_energy": 99}))


def apply(methods, info, on, fields):
    """What the emulator's `relay`/`energy` commands do to one node's fixture methods."""
    info["device_on"] = on
    for key, value in fields.items():
        for m in ("get_energy_usage", "get_emeter_data", "get_current_power"):
            if key in (methods.get(m) or {}):
                methods[m][key] = value


def set_on(emu, pos, on, fields):
    where = "" if pos is None else "%d " % pos
    emu.command("relay %s%s" % (where, "on" if on else "off"))
    emu.command("energy %s%s" % (where, " ".join("%s=%d" % kv for kv in fields.items())))


def plug_expected():
    fixture = smart.load(P110)
    apply(fixture, fixture["get_device_info"], PLUG_SET[1], PLUG_SET[2])
    return smart.expected_reading(fixture, True, smart.components(fixture)["energy_monitoring"])


def outlets_expected():
    """[(child id, on, expected reading)] of the strip's outlets in position order."""
    fixture = smart.load(P304M)
    energy = smart.components(fixture)["energy_monitoring"]
    children = sorted(fixture["get_child_device_list"]["child_device_list"], key=lambda c: c["position"])
    out = []
    for i, child in enumerate(children):
        methods = fixture["child_devices"][child["device_id"]]
        for pos, on, fields in STRIP_SET:
            if pos == child["position"]:
                apply(methods, child, on, fields)
        out.append(("strip_%d" % (i + 1), child["device_on"],
                    smart.expected_reading(methods, child["device_on"], energy)))
    return out


class KasaSmartExportersTest(wbtest.DaemonTest):

    def setUp(self):
        super().setUp()
        self.cleanups = []
        self.addCleanup(lambda: [c() for c in reversed(self.cleanups)])

    def devices(self):
        """The two TP-Link devices on KLAP, polled every second."""
        text = ""
        for dev_id, fixture in (("plug", P110), ("strip", P304M)):
            emu = self.tplink_emulator(fixture, "--transport", "klap",
                                       "--username", smart.USER, "--password", smart.PASSWORD)
            for pos, on, fields in ((PLUG_SET,) if dev_id == "plug" else STRIP_SET):
                set_on(emu, pos, on, fields)
            text += ("[device %s]\ndriver=kasa\naddress=127.0.0.1:%d\nhttp-port=%d\ntransport=klap\n"
                     "username=%s\npassword=%s\npoll-interval=1\n\n"
                     % (dev_id, freeport.free_ports(1)[0], emu.http_port, smart.USER, smart.PASSWORD))
        return text

    def start_all(self, exporter):
        self.write_config(self.devices() + exporter)
        self.start_daemon()
        self.wait_online("plug", 20)
        self.wait_online("strip", 20)
        for dev_id, _, _ in outlets_expected():
            self.wait_online(dev_id, 20)

    def assertClose(self, got, want, what):
        self.assertIsNotNone(got, what)
        self.assertTrue(math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9), "%s: %r != %r" % (what, got, want))

    def test_mqtt_with_home_assistant(self):
        broker = Broker(self.tmp)
        self.cleanups.append(broker.stop)
        rec = broker.client()
        self.cleanups.append(rec.stop)
        self.start_all("[exporter mq]\nkind=mqtt\nurl=%s\nhomeassistant=true\n\n" % broker.url)
        expected = {"plug": (True, plug_expected())}
        for dev_id, on, reading in outlets_expected():
            expected[dev_id] = (on, reading)
        self.assertIn("EnergyToday", expected["plug"][1])
        for dev_id, (on, reading) in expected.items():
            topic = "wattbus/%s" % dev_id
            keys = [MQTT_KEYS[k] for k in reading]
            self.wait_for(lambda: any(all(k in j for k in keys) for j in rec.json_on(topic)), 15, topic)
            state = [j for j in rec.json_on(topic) if all(k in j for k in keys)][-1]
            self.assertEqual(state["state"], "ON" if on else "OFF", dev_id)
            for prop, value in reading.items():
                self.assertClose(state[MQTT_KEYS[prop]], value, "%s %s" % (dev_id, prop))
            # Home Assistant discovery: a sensor per measured value, the switch
            for prop in reading:
                key = MQTT_KEYS[prop]
                cfg_topic = "homeassistant/sensor/wattbus_%s_%s/config" % (dev_id, key)
                self.wait_for(lambda: rec.on(cfg_topic), 10, cfg_topic + " among " + " ".join(sorted({m[0] for m in rec.messages if "config" in m[0]})))
                cfg = json.loads(rec.on(cfg_topic)[-1])
                self.assertEqual(cfg["state_topic"], topic)
                self.assertEqual(cfg["value_template"], "{{ value_json.%s }}" % key)
                if prop.startswith("Energy"):
                    self.assertEqual((cfg["device_class"], cfg["state_class"], cfg["unit_of_measurement"]),
                                     ("energy", "total_increasing", "Wh"), cfg_topic)
                self.assertEqual(cfg["device"]["manufacturer"], "TP-Link")
            switch_topic = "homeassistant/switch/wattbus_%s_switch/config" % dev_id
            self.wait_for(lambda: rec.on(switch_topic), 10, switch_topic)
            self.assertEqual(json.loads(rec.on(switch_topic)[-1])["command_topic"], "wattbus/%s/set" % dev_id)
        info = smart.load(P110)["get_device_info"]
        cfg = json.loads(rec.on("homeassistant/sensor/wattbus_plug_power/config")[-1])
        self.assertEqual(cfg["device"]["model"], info["model"])
        self.assertEqual(cfg["device"]["name"], smart.name_of(info["nickname"]))

    def test_emoncms(self):
        emoncms = EmoncmsEmulator()
        self.cleanups.append(emoncms.stop)
        self.start_all("[exporter emon]\nkind=emoncms\nurl=%s\napikey=%s\n\n" % (emoncms.url, WRITE_KEY))
        # the plug a node of its own, the outlets inputs of the strip's node
        wanted = {("plug", name): value for name, value in plug_expected().items()}
        for dev_id, on, reading in outlets_expected():
            prefix = dev_id[len("strip_"):] + "_"
            wanted.update({("strip", prefix + name): value for name, value in reading.items()})
            wanted[("strip", prefix + "On")] = 1 if on else 0

        def stored():
            return {(s["node"], s["name"]): s["value"] for s in emoncms.stored()}
        self.wait_for(lambda: set(wanted) <= set(stored()), 20, "every value in EmonCMS")
        got = stored()
        for key, value in wanted.items():
            self.assertClose(got[key], value, "%s/%s" % key)
        self.assertNotIn(smart.PASSWORD, self.daemon_log())

    def test_sse_device_event(self):
        port = freeport.free_port()
        self.start_all("[exporter dash]\nkind=sse\nlisten=127.0.0.1:%d\n\n" % port)
        stream = EventStream(port)
        self.cleanups.append(stream.close)
        self.assertEqual(stream.status, 200)
        expected = {"plug": plug_expected()}
        for dev_id, on, reading in outlets_expected():
            expected[dev_id] = dict(reading, On=on)
        devices = {}

        def complete():
            return all(all(k in devices.get(d, {}) for k in exp) for d, exp in expected.items())
        while not complete():
            event = stream.wait(lambda e: e.get("event") == "device", timeout=15, what="device events")
            data = json.loads(event["data"])
            devices.setdefault(data["id"], {}).update(data["values"])
        for dev_id, exp in expected.items():
            for name, value in exp.items():
                if isinstance(value, bool):
                    self.assertIs(devices[dev_id][name], value, "%s %s" % (dev_id, name))
                else:
                    self.assertClose(devices[dev_id][name], value, "%s %s" % (dev_id, name))
        self.assertIs(devices["plug"]["Online"], True)
        self.assertEqual(devices["plug"]["Measurement"], "load")


if __name__ == "__main__":
    wbtest.main()
