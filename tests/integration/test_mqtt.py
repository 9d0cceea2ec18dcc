#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""kind=mqtt end to end: the real daemon with Kasa and Tuya emulator devices and a real
Mosquitto (tests/integration/mqttbroker.py) in the setups it supports: plain, username and
password with an ACL, TLS with required client certificates.

Expected values come from the Kasa fixture (mW, mV, mA, Wh → SI) and the Tuya water-meter
profile, and the topic/JSON/discovery shapes from shared/specs/mqtt-clouds.md §1, written
out here by hand."""

import hashlib
import importlib.util
import json
import os
import time

import envoybase as envoy
import wbtest
from emoncmsemu import EXPORTER, PLUG, exporter_path
from mqttbase import PASSWORD, WATER, MqttBase
from tuyabase import KEY
from wbtest import OUTLET, device_path


class MqttTest(MqttBase):
    """kind=mqtt."""

    # state, availability, discovery

    def test_state_and_discovery(self):
        broker = self.broker()
        rec = self.recorder(broker)
        emu = self.emulator(PLUG, "--alias", "Kitchen plug")
        self.write_config(self.plug("plug", emu) + self.exporter(broker, homeassistant="true"))
        self.start_daemon()
        self.wait_online("plug")
        self.wait_payload(rec, "wattbus/bridge/state", "online")
        self.wait_payload(rec, "wattbus/plug/availability", "online")
        state = self.wait_json(rec, "wattbus/plug", lambda j: "power" in j)
        # the fixture: 61753 mW, 230837 mV, 451 mA, 16323 Wh, relay on
        self.assertAlmostEqual(state["power"], 61.753)
        self.assertAlmostEqual(state["voltage"], 230.837)
        self.assertAlmostEqual(state["current"], 0.451)
        self.assertAlmostEqual(state["energy"], 16323)
        self.assertEqual(state["state"], "ON")
        self.assertNotIn("online", state)

        # a change is a new whole state
        emu.command("emeter power_mw=12345")
        state = self.wait_json(rec, "wattbus/plug", lambda j: j.get("power") == 12.345)
        self.assertAlmostEqual(state["voltage"], 230.837)
        self.assertEqual(state["state"], "ON")
        self.wait_for(lambda: self.exp("Queued") == 0, 5, "queue empty")
        self.assertEqual(self.exp("State"), "connected")
        self.assertEqual(self.exp("Target"), "localhost")

        # discovery: grouped by device, each with its class, state class and unit
        configs = {}
        for name, dclass, sclass, unit in (("power", "power", "measurement", "W"),
                                           ("energy", "energy", "total_increasing", "Wh"),
                                           ("voltage", "voltage", "measurement", "V"),
                                           ("current", "current", "measurement", "A")):
            topic = "homeassistant/sensor/wattbus_plug_%s/config" % name
            self.wait_for(lambda: rec.on(topic), 5, topic)
            cfg = json.loads(rec.on(topic)[-1])
            configs[name] = cfg
            self.assertEqual(cfg["device_class"], dclass)
            self.assertEqual(cfg["state_class"], sclass)
            self.assertEqual(cfg["unit_of_measurement"], unit)
            self.assertEqual(cfg["state_topic"], "wattbus/plug")
            self.assertEqual(cfg["value_template"], "{{ value_json.%s }}" % name)
            self.assertEqual(cfg["unique_id"], "wattbus_plug_" + name)
            self.assertEqual(cfg["availability_mode"], "all")
            self.assertEqual([a["topic"] for a in cfg["availability"]],
                             ["wattbus/bridge/state", "wattbus/plug/availability"])
            self.assertEqual(cfg["device"]["identifiers"], ["wattbus_plug"])
            self.assertEqual(cfg["device"]["name"], "Kitchen plug")
            self.assertEqual(cfg["device"]["manufacturer"], "TP-Link")
            self.assertEqual(cfg["origin"]["name"], "wattbus")
        switch = json.loads(rec.on("homeassistant/switch/wattbus_plug_switch/config")[-1])
        self.assertEqual(switch["command_topic"], "wattbus/plug/set")
        self.assertEqual(switch["payload_on"], '{"state":"ON"}')
        self.assertEqual(switch["payload_off"], '{"state":"OFF"}')
        self.assertEqual((switch["state_on"], switch["state_off"]), ("ON", "OFF"))
        self.assertEqual(switch["device"], configs["power"]["device"])

        # retained: a late subscriber gets the state, the availability and the configs at once
        late = self.recorder(broker, client_id="late")
        self.wait_for(lambda: late.json_on("wattbus/plug"), 5, "retained state")
        self.assertEqual(late.json_on("wattbus/plug")[-1]["power"], 12.345)
        self.assertEqual(late.on("wattbus/plug/availability"), ["online"])
        self.wait_for(lambda: late.on("homeassistant/sensor/wattbus_plug_power/config"), 5, "config")

        # Home Assistant restarting asks for the configs again
        rec.clear()
        rec.publish("homeassistant/status", "online")
        self.wait_for(lambda: rec.on("homeassistant/sensor/wattbus_plug_power/config"), 5,
                      "configs again")

        # the device going away: availability offline
        emu.command("misbehave refuse")
        self.wait_payload(rec, "wattbus/plug/availability", "offline", timeout=15)
        # the daemon going away: the bridge is offline (explicitly or by the Last Will)
        self.stop_daemon()
        self.wait_payload(rec, "wattbus/bridge/state", "offline")

    def test_removed_device_cleared(self):
        """A device removed at a reload leaves no ghost in Home Assistant: its retained
        discovery configs, state and availability are cleared (empty retained messages,
        spec §1.2); the other device's stay. Stopping the daemon clears nothing."""
        broker = self.broker()
        rec = self.recorder(broker)
        keep, gone = self.emulator(PLUG), self.emulator(PLUG)
        self.write_config(self.plug("keep", keep) + self.plug("gone", gone) +
                          self.exporter(broker, homeassistant="true"))
        self.start_daemon()
        self.wait_online("gone")
        power = "homeassistant/sensor/wattbus_gone_power/config"
        switch = "homeassistant/switch/wattbus_gone_switch/config"
        for topic in (power, switch, "homeassistant/sensor/wattbus_keep_power/config"):
            self.wait_for(lambda: rec.on(topic), 10, topic)
        self.wait_json(rec, "wattbus/gone", lambda j: "power" in j)
        self.write_config(self.plug("keep", keep) + self.exporter(broker, homeassistant="true"))
        self.call(wbtest.ROOT, wbtest.IFACE, "Reload")
        for topic in (power, switch, "wattbus/gone", "wattbus/gone/availability"):
            self.wait_for(lambda: rec.on(topic) and rec.on(topic)[-1] == "", 10,
                          "%s cleared" % topic)
        # a new subscriber (Home Assistant starting) gets the kept device only
        late = self.recorder(broker, client_id="late", subscribe=("homeassistant/#", "wattbus/#"))
        self.wait_for(lambda: late.on("homeassistant/sensor/wattbus_keep_power/config"), 5,
                      "the kept device's config")
        self.assertEqual([m[0] for m in late.messages if "gone" in m[0]], [])
        # stopping the daemon is not removing its devices
        self.stop_daemon()
        self.assertNotEqual(rec.on("homeassistant/sensor/wattbus_keep_power/config")[-1], "")

    def test_mqtt5(self):
        """protocol=5: the same state and commands over MQTT 5 (the broker logs p5); and
        where MQTT 5 says more than 3.1.1: a publish the ACL denies gets PUBACK reason 135,
        so the readings stay in the spool instead of being dropped (spec §1.3)."""
        acl = ("user wattbus\ntopic readwrite wattbus/#\n\n"
               "user reader\ntopic readwrite #\n")
        broker = self.broker("password", users={"wattbus": PASSWORD, "reader": "r3ader"}, acl=acl)
        rec = self.recorder(broker, username="reader", password="r3ader")
        emu = self.emulator(PLUG)
        self.write_config(self.plug("plug", emu) +
                          self.exporter(broker, protocol="5", commands="true", username="wattbus",
                                        password=PASSWORD, client_id="wb-v5") +
                          self.exporter(broker, exp_id="denied", protocol="5", prefix="denied",
                                        username="wattbus", password=PASSWORD))
        self.start_daemon()
        self.wait_online("plug")
        state = self.wait_json(rec, "wattbus/plug", lambda j: "power" in j)
        self.assertAlmostEqual(state["power"], 61.753)
        self.assertRegex(broker.log(), r"as wb-v5 \(p5")
        reply = self.command(rec, "plug", '{"state":"OFF","id":"v5"}')
        self.assertEqual((reply["status"], reply["id"], reply["state"]["state"]), ("ok", "v5", "OFF"))
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 0)
        # denied: not acknowledged, so not removed from the spool
        self.wait_for(lambda: self.exp("Failed", "denied") > 0, 10, "a refused batch")
        self.assertIn("135", self.exp("LastError", "denied"))
        self.assertGreater(self.exp("Queued", "denied"), 0)
        self.assertEqual(self.exp("Sent", "denied"), 0)
        self.assertEqual(rec.on("denied/plug"), [])

    # commands

    def test_commands_outlet(self):
        broker = self.broker()
        rec = self.recorder(broker)
        emu = self.emulator(PLUG)
        # a retained command is never run: it would be run again on every reconnect
        rec.publish("wattbus/plug/set", '{"state":"OFF"}', retain=True)
        self.write_config(self.plug("plug", emu) + self.exporter(broker, commands="true",
                                                                        commands_unauthenticated="true"))
        self.start_daemon()
        self.wait_online("plug")
        self.wait_payload(rec, "wattbus/bridge/state", "online")
        time.sleep(1)  # the subscription to .../set is made right after connecting
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 1)
        self.assertEqual(rec.on("wattbus/plug/set/result"), [])
        rec.publish("wattbus/plug/set", "", retain=True)  # clears it

        reply = self.command(rec, "plug", '{"state":"OFF","id":"c1"}')
        self.assertEqual(reply["status"], "ok", reply)
        self.assertEqual(reply["id"], "c1")
        self.assertEqual(reply["state"]["state"], "OFF")
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 0)
        self.assertFalse(self.get(device_path("plug"), OUTLET, "On"))
        # the new state is published
        self.wait_json(rec, "wattbus/plug", lambda j: j.get("state") == "OFF")

        reply = self.command(rec, "plug", '{"state":"TOGGLE"}')
        self.assertEqual(reply["status"], "ok", reply)
        self.assertNotIn("id", reply)
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 1)
        reply = self.command(rec, "plug", '{"state":"on"}')
        self.assertEqual(reply["status"], "ok", reply)
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 1)

        # errors: a clear reply, nothing switched, the daemon alive
        for dev, payload, error in (("nosuch", '{"state":"ON"}', "NotFound"),
                                    ("plug", '{"state":"MAYBE"}', "InvalidArgument"),
                                    ("plug", 'MAYBE', "InvalidArgument"),
                                    ("plug", '[1,2]', "InvalidArgument"),
                                    ("plug", '{}', "InvalidArgument"),
                                    ("plug", '{"valve":"closed"}', "NotSupported"),
                                    ("plug", '{"colour":"red"}', "NotSupported")):
            reply = self.command(rec, dev, payload)
            self.assertEqual(reply["status"], "error", (payload, reply))
            self.assertEqual(reply["error"], error, (payload, reply))
            self.assertTrue(reply["message"])
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 1)

        # the device offline
        emu.command("misbehave refuse")
        self.wait_for(lambda: not self.get(device_path("plug"), wbtest.DEVICE, "Online"), 15,
                      "plug offline")
        reply = self.command(rec, "plug", '{"state":"OFF"}', timeout=40)
        self.assertEqual(reply["status"], "error", reply)
        self.assertIn(reply["error"], ("DeviceOffline", "Timeout"))

        self.assert_daemon_alive()
        # the retained command of the start was never run
        self.assertTrue(any("retained command" in line for line in self.daemon_log().splitlines()))

    def start_plug_with_commands(self):
        """A plug and kind=mqtt with commands=true, its subscription to .../set made;
        returns (recorder, plug emulator)."""
        broker = self.broker()
        rec = self.recorder(broker)
        emu = self.emulator(PLUG)
        self.write_config(self.plug("plug", emu) + self.exporter(broker, commands="true",
                                                                        commands_unauthenticated="true"))
        self.start_daemon()
        self.wait_online("plug")
        self.wait_payload(rec, "wattbus/bridge/state", "online")
        time.sleep(1)  # the subscription to .../set is made right after connecting
        return rec, emu

    def test_oversized_message_dropped(self):
        """A broker may send up to 256 MB: a message over 256 KiB is dropped (logged with its
        size), not parsed; the next command works."""
        rec, emu = self.start_plug_with_commands()
        big = '{"state":"OFF","pad":"%s"}' % ("x" * (300 * 1024))
        rec.publish("wattbus/plug/set", big)
        self.wait_for(lambda: "dropping a message of %d bytes on wattbus/plug/set" % len(big)
                      in self.daemon_log(), 10, "the drop logged")
        self.assertEqual(rec.on("wattbus/plug/set/result"), [])
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 1)
        reply = self.command(rec, "plug", '{"state":"OFF"}')
        self.assertEqual(reply["status"], "ok")
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 0)

    def test_commands_plain_words(self):
        """ON, OFF, TOGGLE as bare words on /set, as Zigbee2MQTT users send them (any case,
        white space around), the same as the JSON."""
        rec, emu = self.start_plug_with_commands()
        for payload, relay in (("OFF", 0), ("ON", 1), ("TOGGLE", 0), ("toggle", 1),
                               (" off\n", 0), ("On", 1)):
            reply = self.command(rec, "plug", payload)
            self.assertEqual(reply["status"], "ok", (payload, reply))
            self.assertEqual(reply["state"]["state"], "ON" if relay else "OFF", payload)
            self.assertNotIn("id", reply)
            self.assertEqual(emu.state()["sysinfo"]["relay_state"], relay, payload)
        self.assertTrue(self.get(device_path("plug"), OUTLET, "On"))
        # words that are neither: refused as JSON would be
        for payload in ("ONN", "OFF OFF", '"OFF"'):
            reply = self.command(rec, "plug", payload)
            self.assertEqual((reply["status"], reply["error"]), ("error", "InvalidArgument"),
                             payload)
        # a valve word on a plug: it has no valve
        reply = self.command(rec, "plug", "CLOSE")
        self.assertEqual((reply["status"], reply["error"]), ("error", "NotSupported"), reply)
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 1)

    def test_commands_need_an_authenticated_connection(self):
        """Issue 12.6: commands=true on a connection with neither username nor client
        certificate would let anybody who may publish on the broker switch devices past
        polkit: refused, unless commands-unauthenticated=true."""
        broker = self.broker()
        rec = self.recorder(broker)
        emu = self.emulator(PLUG)
        self.write_config(self.plug("plug", emu) + self.exporter(broker, commands="true"))
        self.start_daemon()
        self.wait_online("plug")
        self.wait_for(lambda: "commands-unauthenticated=true" in self.daemon_log(), 10, "the refusal logged")
        self.assertIn("commands=true needs a connection that the broker authenticates", self.daemon_log())
        # an anonymous client of the broker cannot switch the plug
        for _ in range(3):
            rec.publish("wattbus/plug/set", '{"state":"OFF"}')
            time.sleep(0.5)
        self.assertEqual(rec.on("wattbus/plug/set/result"), [])
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 1)
        self.assertTrue(self.get(device_path("plug"), OUTLET, "On"))
        self.assertNotIn(exporter_path("mq"), self.managed_objects())
        self.stop_daemon()
        # a bad value is refused too
        self.write_config(self.plug("plug", emu) +
                          self.exporter(broker, commands="true", commands_unauthenticated="yes"))
        self.start_daemon()
        self.wait_for(lambda: "commands-unauthenticated must be true or false" in self.daemon_log(), 10,
                      "the bad value refused")
        self.stop_daemon()
        # the admin's explicit choice: taken, with a warning
        self.write_config(self.plug("plug", emu) +
                          self.exporter(broker, commands="true", commands_unauthenticated="true"))
        self.start_daemon()
        self.wait_online("plug")
        self.wait_payload(rec, "wattbus/bridge/state", "online")
        self.assertIn("whoever may publish on the broker can switch devices", self.daemon_log())
        time.sleep(1)  # the subscription to .../set is made right after connecting
        reply = self.command(rec, "plug", '{"state":"OFF"}')
        self.assertEqual(reply["status"], "ok", reply)
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 0)

    def test_commands_disabled(self):
        broker = self.broker()
        rec = self.recorder(broker)
        emu = self.emulator(PLUG)
        self.write_config(self.plug("plug", emu) + self.exporter(broker))
        self.start_daemon()
        self.wait_online("plug")
        self.wait_payload(rec, "wattbus/bridge/state", "online")
        rec.publish("wattbus/plug/set", '{"state":"OFF"}')
        time.sleep(1.5)
        self.assertEqual(rec.on("wattbus/plug/set/result"), [])
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 1)

    def test_disabled_exporter_runs_no_commands(self):
        """Disable() stops the cloud's commands too: answered with an error, nothing
        switched; Enable() brings them back."""
        rec, emu = self.start_plug_with_commands()
        self.call(exporter_path("mq"), EXPORTER, "Disable")
        reply = self.command(rec, "plug", '{"state":"OFF","id":"d1"}')
        self.assertEqual((reply["status"], reply["error"], reply["id"]),
                         ("error", "NotSupported", "d1"), reply)
        self.assertIn("disabled", reply["message"])
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 1)
        self.assertTrue(self.get(device_path("plug"), OUTLET, "On"))

        self.call(exporter_path("mq"), EXPORTER, "Enable")
        reply = self.command(rec, "plug", '{"state":"OFF"}')
        self.assertEqual(reply["status"], "ok", reply)
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 0)

    def test_water_meter_valve(self):
        broker = self.broker()
        rec = self.recorder(broker)
        emu = self.tuya("--profile", "water-meter", version="3.3")
        self.write_config(self.section("meter", emu, profile="water-meter", poll=30) +
                          self.exporter(broker, commands="true", commands_unauthenticated="true",
                                        homeassistant="true"))
        self.start_daemon()
        self.wait_online("meter")
        # litres → m³ (the profile's scale 3), the valve as the meter says it
        state = self.wait_json(rec, "wattbus/meter", lambda j: "water" in j)
        self.assertAlmostEqual(state["water"], 123.456)
        self.assertEqual(state["valve"], "opened")
        self.assertEqual(state["switch"], "ON")
        self.assertEqual(state["valve_openness"], 100)
        # enums as their names, times ISO 8601 in UTC (not 1.7e+15 µs)
        self.assertEqual((state["cold_sharing_type"], state["hot_sharing_type"]),
                         ("consumption", "proportion"))
        self.assertEqual((state["day_first_time"], state["day_last_time"]),
                         ("2023-11-14T22:13:20Z", "2023-11-15T09:20:00Z"))
        self.assertEqual((state["month_first_time"], state["month_last_time"]),
                         ("2023-11-01T00:00:00Z", "2023-11-15T09:20:00Z"))
        topic = "homeassistant/valve/wattbus_meter_valve/config"
        self.wait_for(lambda: rec.on(topic), 5, topic)
        valve = json.loads(rec.on(topic)[-1])
        self.assertEqual(valve["command_topic"], "wattbus/meter/set")
        self.assertEqual(valve["device_class"], "water")
        self.assertEqual(json.loads(valve["payload_close"]), {"valve": "closed"})
        self.assertEqual((valve["state_open"], valve["state_closed"]), ("opened", "closed"))
        water = json.loads(rec.on("homeassistant/sensor/wattbus_meter_water/config")[-1])
        self.assertEqual((water["device_class"], water["state_class"], water["unit_of_measurement"]),
                         ("water", "total_increasing", "m³"))

        # Home Assistant's CLOSE, through the same checks and path as SetValve()
        reply = self.command(rec, "meter", '{"valve":"CLOSE"}')
        self.assertEqual(reply["status"], "ok", reply)
        self.wait_for(lambda: emu.state()["dps"]["9"] == "closed", 5, "valve closed")
        self.wait_prop(device_path("meter"), WATER, "Valve", "closed", timeout=3)
        # and as plain words
        reply = self.command(rec, "meter", "OPEN")
        self.assertEqual(reply["status"], "ok", reply)
        self.wait_for(lambda: emu.state()["dps"]["9"] == "opened", 5, "valve opened")
        reply = self.command(rec, "meter", "close")
        self.assertEqual(reply["status"], "ok", reply)
        self.wait_for(lambda: emu.state()["dps"]["9"] == "closed", 5, "valve closed")
        reply = self.command(rec, "meter", '{"valve_openness":40,"switch":"OFF"}')
        self.assertEqual(reply["status"], "ok", reply)
        state = emu.state()["dps"]
        self.assertEqual((state["18"], state["4"]), (40, False))

        # refused before anything reaches the device
        sent = len(emu.writes())
        for payload, error in (('{"valve_openness":150}', "InvalidArgument"),
                               ('{"valve":"half"}', "InvalidArgument"),
                               ('{"cold_sharing_type":"shared"}', "InvalidArgument"),
                               ('{"state":"ON"}', "NotSupported")):
            reply = self.command(rec, "meter", payload)
            self.assertEqual((reply["status"], reply["error"]), ("error", error), payload)
        self.assertEqual(len(emu.writes()), sent)
        self.assertNotIn(KEY, self.daemon_log())

    # broker setups

    def test_password_file_must_be_a_small_regular_file(self):
        """A password-file that is a FIFO or /dev/zero is refused with a clear error
        instead of blocking the daemon's start or filling its memory; the rest runs."""
        broker = self.broker()
        fifo = os.path.join(self.tmp, "mqtt.fifo")
        os.mkfifo(fifo)
        emu = self.emulator(PLUG)
        self.write_config(self.plug("plug", emu) +
                          self.exporter(broker, exp_id="fifo", username="wattbus", password_file=fifo) +
                          self.exporter(broker, exp_id="zero", username="wattbus", password_file="/dev/zero"))
        self.start_daemon()
        self.wait_online("plug")
        self.wait_for(lambda: "password-file: %s is not a regular file" % fifo in self.daemon_log(), 10,
                      "the FIFO refused")
        self.wait_for(lambda: "password-file: /dev/zero is not a regular file" in self.daemon_log(), 10,
                      "/dev/zero refused")
        self.call(device_path("plug"), OUTLET, "Toggle")
        self.assert_daemon_alive()

    def test_battery_and_grid(self):
        """An Enphase site with batteries: each battery's state and Home Assistant
        sensors (device classes battery, power, energy_storage; its state an enum), and
        the gateway's grid state, values as envoy-batteries.md §7 gives them."""
        folder = "8.3.1598_collar"
        grid, aggregate, batteries = envoy.expected_batteries(folder)
        os.makedirs(os.path.join(self.tmp, "certs"))
        gw = envoy.EnvoyEmulator(folder, cert_dir=os.path.join(self.tmp, "certs"))
        self.emulators.append(gw)
        os.environ["STATE_DIRECTORY"] = self.state_dir
        broker = self.broker()
        rec = self.recorder(broker)
        self.write_config("[device envoy]\ndriver=envoy\naddress=%s\ntoken=%s\n\n"
                          % (gw.address, gw.token("owner")) +
                          self.exporter(broker, homeassistant="true"))
        self.start_daemon()
        self.wait_online("envoy", timeout=15)
        state = self.wait_json(rec, "wattbus/envoy_batteries", lambda j: "state_of_charge" in j)
        self.assertAlmostEqual(state["state_of_charge"], aggregate["StateOfCharge"])
        self.assertAlmostEqual(state["power"], aggregate["Power"])  # positive: charging
        self.assertAlmostEqual(state["capacity"], aggregate["Capacity"])
        self.assertAlmostEqual(state["available_energy"], aggregate["AvailableEnergy"])
        self.assertAlmostEqual(state["reserve_level"], aggregate["ReserveLevel"])
        self.assertEqual(state["battery_state"], "charging")
        self.assertIs(state["aggregate"], True)
        serial = sorted(batteries)[0]
        one = self.wait_json(rec, "wattbus/envoy_battery_" + serial, lambda j: "power" in j)
        self.assertAlmostEqual(one["power"], batteries[serial]["Power"])
        self.assertAlmostEqual(one["state_of_charge"], batteries[serial]["StateOfCharge"])
        self.assertNotIn("reserve_level", one)  # not reported for one battery: NaN, left out
        self.assertEqual(self.wait_json(rec, "wattbus/envoy", lambda j: "grid_state" in j)
                         ["grid_state"], grid)

        for name, dclass, unit in (("state_of_charge", "battery", "%"), ("power", "power", "W"),
                                   ("capacity", "energy_storage", "Wh"),
                                   ("available_energy", "energy_storage", "Wh"),
                                   ("reserve_level", "battery", "%")):
            topic = "homeassistant/sensor/wattbus_envoy_batteries_%s/config" % name
            self.wait_for(lambda: rec.on(topic), 5, topic)
            config = json.loads(rec.on(topic)[-1])
            self.assertEqual(config["device_class"], dclass, name)
            self.assertEqual(config["unit_of_measurement"], unit, name)
            self.assertEqual(config["state_topic"], "wattbus/envoy_batteries")
            self.assertEqual(config["value_template"], "{{ value_json.%s }}" % name)
        topic = "homeassistant/sensor/wattbus_envoy_batteries_battery_state/config"
        self.wait_for(lambda: rec.on(topic), 5, topic)
        config = json.loads(rec.on(topic)[-1])
        self.assertEqual(config["device_class"], "enum")
        self.assertIn("discharging", config["options"])
        # one battery has no reserve: no sensor for it
        self.assertFalse(rec.on("homeassistant/sensor/wattbus_envoy_battery_%s_reserve_level/config"
                                % serial))
        topic = "homeassistant/sensor/wattbus_envoy_grid_state/config"
        self.wait_for(lambda: rec.on(topic), 5, topic)
        config = json.loads(rec.on(topic)[-1])
        self.assertEqual(config["device_class"], "enum")
        self.assertEqual(config["options"], ["on-grid", "off-grid", "unknown"])

    def test_password_and_acl(self):
        acl = ("user wattbus\ntopic readwrite wattbus/#\ntopic readwrite homeassistant/#\n\n"
               "user reader\ntopic readwrite #\n")
        broker = self.broker("password", users={"wattbus": PASSWORD, "reader": "r3ader"}, acl=acl)
        rec = self.recorder(broker, username="reader", password="r3ader")
        pwfile = os.path.join(self.tmp, "mqtt.pw")
        with open(pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        emu = self.emulator(PLUG)
        self.write_config(self.plug("plug", emu) +
                          self.exporter(broker, username="wattbus", password_file=pwfile,
                                        client_id="wb-test") +
                          self.exporter(broker, exp_id="wrong", username="wattbus",
                                        password="not-it", prefix="other"))
        self.start_daemon()
        self.wait_online("plug")
        state = self.wait_json(rec, "wattbus/plug", lambda j: "power" in j)
        self.assertAlmostEqual(state["power"], 61.753)
        self.assertIn("wb-test", broker.log())
        # the wrong password: refused (CONNACK 5), retried, the readings kept
        self.wait_for(lambda: self.exp("State", "wrong") == "backing-off", 10, "backing off")
        self.assertIn("broker", self.exp("LastError", "wrong"))
        self.assertGreater(self.exp("Queued", "wrong"), 0)
        self.assertEqual(rec.on("other/plug"), [])
        log = self.daemon_log()
        self.assertNotIn(PASSWORD, log)
        self.assertNotIn("not-it", log)
        self.assertNotIn(PASSWORD, str(self.managed_objects()))

    def test_tls_client_certificates(self):
        broker = self.broker("tls")
        rec = self.recorder(broker)
        pki = broker.pki
        emu = self.emulator(PLUG)
        certs = dict(ca_file=pki["ca"] + ".pem", cert_file=pki["wattbus"] + ".pem",
                     key_file=pki["wattbus"] + ".key")
        self.write_config(
            self.plug("plug", emu) +
            self.exporter(broker, **certs) +
            # not the name in the server's certificate: verification refuses it
            "[exporter badname]\nkind=mqtt\nurl=mqtts://127.1:%d\nprefix=bad1\n"
            "ca-file=%s\ncert-file=%s\nkey-file=%s\n\n" % (broker.port, certs["ca_file"],
                                                           certs["cert_file"], certs["key_file"]) +
            # a client certificate from another CA
            self.exporter(broker, exp_id="rogue", prefix="bad2", ca_file=certs["ca_file"],
                          cert_file=pki["rogue"] + ".pem", key_file=pki["rogue"] + ".key"))
        self.start_daemon()
        self.wait_online("plug")
        state = self.wait_json(rec, "wattbus/plug", lambda j: "power" in j)
        self.assertAlmostEqual(state["power"], 61.753)
        self.wait_for(lambda: self.exp("State", "badname") == "backing-off", 10, "badname refused")
        self.wait_for(lambda: self.exp("State", "rogue") == "backing-off", 10, "rogue refused")
        time.sleep(0.5)
        self.assertEqual([m for m in rec.messages if m[0].startswith(("bad1/", "bad2/"))], [])

    def test_broker_restart_loses_nothing(self):
        broker = self.broker()
        rec = self.recorder(broker)
        emu = self.emulator(PLUG)
        self.write_config(self.plug("plug", emu) + self.exporter(broker, timeout=5))
        self.start_daemon()
        self.wait_online("plug")
        self.wait_json(rec, "wattbus/plug", lambda j: "power" in j)
        self.check_broker_restart(broker, emu, lambda: rec.json_on("wattbus/plug"))

    def test_backlog_delivered(self):
        """A spool with a backlog (as after a long outage): batches of 500 readings, each
        reading a message, all acknowledged, none lost (Paho's queue holds a batch)."""
        spec = importlib.util.spec_from_file_location(
            "benchlib", os.path.join(wbtest.SOURCE_DIR, "tests", "bench", "benchlib.py"))
        bench = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bench)
        broker = self.broker()
        rec = self.recorder(broker, subscribe=("wattbus/+",))
        os.makedirs(self.state_dir, exist_ok=True)
        bench.prefill(os.path.join(self.state_dir, "spool.db"), "mq", 1200)
        self.write_config(self.exporter(broker))
        self.start_daemon()
        self.wait_for(lambda: self.exp("Queued") == 0, 30, "the backlog delivered")
        self.assertEqual(self.exp("Sent"), 1200)
        self.wait_for(lambda: sum(len(rec.on("wattbus/dev%d" % i)) for i in range(10)) >= 1200, 10,
                      "every reading at the broker")
        # the last of dev3, as prefill made it: reading 1193, energy 16323 + 1193
        self.assertEqual(rec.json_on("wattbus/dev3")[-1]["energy"], 16323 + 1193)
        # prefill writes the spool of a daemon before typed values (numbers only, "On":1):
        # upgraded at start, its booleans are booleans again
        self.assertEqual(rec.json_on("wattbus/dev3")[-1]["state"], "ON")
        self.assertIn("upgraded to typed values", self.daemon_log())


    def test_broker_restart_during_backlog(self):
        """The broker stopped and started again while several batches of a backlog are
        under way (batch-size 200, up to 4 batches at once, 64 publishes in Paho): every
        reading arrives and the spool empties, each device's readings in order (by their
        last arrival); a reading comes again only from where the spool rewound (the
        oldest batch not acknowledged), at most the batches that were under way."""
        spec = importlib.util.spec_from_file_location(
            "benchlib", os.path.join(wbtest.SOURCE_DIR, "tests", "bench", "benchlib.py"))
        bench = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bench)
        total, batch, under_way = 20000, 200, 4
        broker = self.broker()
        rec = self.recorder(broker, subscribe=("wattbus/+",))
        os.makedirs(self.state_dir, exist_ok=True)
        bench.prefill(os.path.join(self.state_dir, "spool.db"), "mq", total, typed=True)
        self.write_config(self.exporter(broker, batch_size=batch))
        self.start_daemon()
        self.wait_for(lambda: (self.exp("Sent") or 0) >= 1000, 30, "the first batches delivered")
        broker.stop()
        queued = self.exp("Queued")
        self.assertGreater(queued, 0, "the broker must stop during the backlog")
        broker.start()
        self.wait_for(lambda: self.exp("Queued") == 0, 120, "the backlog delivered")
        self.assertEqual(self.exp("Sent"), total)

        def energies(dev):
            with rec.lock:  # live deliveries only: not the retained copy of a resubscribe
                return [json.loads(m[1])["energy"] for m in rec.messages
                        if m[0] == "wattbus/dev%d" % dev and not m[2]]
        expected = {dev: [16323 + i for i in range(dev, total, 10)] for dev in range(10)}
        self.wait_for(lambda: all(set(energies(d)) >= set(expected[d]) for d in range(10)), 60,
                      "every reading at the broker")
        for dev in range(10):
            got = energies(dev)
            self.assertEqual(set(got), set(expected[dev]))
            # in order by last arrival: what Paho still had queued when the connection
            # went is sent after the reconnect, before the resend from the rewind point
            last = {e: i for i, e in enumerate(got)}
            self.assertEqual(sorted(last, key=last.get), expected[dev], "device %d out of order" % dev)
            rewinds = [(got[i - 1], got[i]) for i in range(1, len(got)) if got[i] <= got[i - 1]]
            self.assertLessEqual(len(rewinds), 3, rewinds)
            for before, back in rewinds:
                # 10 devices: a reading of one device is 10 apart in the backlog
                self.assertLessEqual(before - back, batch * under_way, (before, back))


class TuyaEdgeTest(MqttBase):
    """kind=tuya-edge: the test is Tuya's edge gateway (shared/specs/mqtt-clouds.md §5)
    on a Mosquitto that knows the gateway's MD5 password, computed here with hashlib."""

    GID = "gw_6c1a2b3c4d5e6f70"
    USER = "edge_user"

    def topic(self, what):
        return "gateway_id/%s/%s" % (self.GID, what)

    def edge_setup(self, **keys):
        password = hashlib.md5((self.GID + self.USER).encode()).hexdigest()
        # the spec's vector: this is the password the platform expects
        self.assertEqual(password, "18c289ab4d6a69673a5833989a1c3238")
        acl = ("user %s\ntopic readwrite gateway_id/%s/#\n\nuser platform\ntopic readwrite #\n"
               % (self.USER, self.GID))
        broker = self.broker("password", users={self.USER: password, "platform": "pl4tform"},
                             acl=acl)
        rec = self.recorder(broker, username="platform", password="pl4tform")
        meter = self.tuya("--profile", "water-meter", version="3.3")
        plug = self.emulator(PLUG)
        text = ("[exporter edge]\nkind=tuya-edge\nurl=mqtt://localhost:%d\ngateway-id=%s\n"
                "username=%s\nproduct-id-water-meter=pid-water\nproduct-id-plug=pid-plug\n"
                % (broker.port, self.GID, self.USER))
        for key, value in keys.items():
            text += "%s=%s\n" % (key.replace("_", "-"), value)
        self.write_config(self.section("meter", meter, profile="water-meter", poll=30) +
                          self.plug("plug", plug) + text + "\n")
        self.start_daemon()
        self.wait_online("meter")
        self.wait_online("plug")
        return rec, meter, plug

    def reports(self, rec, cid):
        return {j["param"]["id"]: j["param"]["value"] for j in rec.json_on(self.topic("properties/report"))
                if j["param"]["cid"] == cid}

    def edge_command(self, rec, cid, dp, value, request_id):
        rec.publish(self.topic("commands"), json.dumps(
            {"t": int(time.time()), "cid": cid, "request_id": request_id,
             "param": {"id": dp, "value": value}}))
        self.wait_for(lambda: [j for j in rec.json_on(self.topic("commands/response"))
                               if j.get("request_id") == request_id], 10, "response " + request_id)
        reply = [j for j in rec.json_on(self.topic("commands/response"))
                 if j.get("request_id") == request_id][0]
        self.assertEqual(reply["cid"], cid)
        self.assertIsInstance(reply["t"], int)
        return reply["param"]["code"], reply["param"]["msg"]

    def test_edge_sync_reports_status(self):
        rec, meter, plug = self.edge_setup()
        # the water meter: DP 1 water_flow in m³; the plug as its Tuya DPs (W×10, V×10, mA, Wh)
        self.wait_for(lambda: "1" in self.reports(rec, "meter"), 10, "meter reports")
        self.wait_for(lambda: "19" in self.reports(rec, "plug"), 10, "plug reports")
        # all 18 DPs of the water meter's table (§5), in their declared types: values
        # (litres → m³), bool, enums as their names, the times as strings of Unix seconds
        self.wait_for(lambda: len(self.reports(rec, "meter")) == 18, 10, "every DP")
        self.assertEqual(self.reports(rec, "meter"), {
            "1": 123.456, "2": 4.321, "3": 0.21, "4": True, "5": 123.246, "6": 123.456,
            "7": "1700000000", "8": "1700040000", "9": "opened", "10": 119.135,
            "11": 123.456, "12": "1698796800", "13": "1700040000", "14": 0.015,
            "15": "consumption", "16": 0.007, "17": "proportion", "18": 100})
        plug_dps = self.reports(rec, "plug")
        self.assertEqual((plug_dps["1"], plug_dps["19"], plug_dps["20"], plug_dps["18"], plug_dps["17"]),
                         (True, 618, 2308, 451, 16323))
        # synced before anything else about it, with its product id
        syncs = {j["param"]["cid"]: j for j in rec.json_on(self.topic("devices/sync"))}
        self.assertEqual(syncs["meter"]["param"]["product_id"], "pid-water")
        self.assertEqual(syncs["plug"]["param"]["product_id"], "pid-plug")
        self.assertEqual(syncs["meter"]["param"]["comm_type"], "mqtt")
        self.assertTrue(syncs["meter"]["request_id"])
        order = [(m[0], json.loads(m[1])["param"]) for m in rec.messages
                 if m[0] in (self.topic("devices/sync"), self.topic("properties/report"))]
        first_report = min(i for i, (t, p) in enumerate(order) if t.endswith("report") and p["cid"] == "meter")
        first_sync = min(i for i, (t, p) in enumerate(order) if t.endswith("sync") and p["cid"] == "meter")
        self.assertLess(first_sync, first_report)
        # one DP per message, as QoS 1 reports
        for j in rec.json_on(self.topic("properties/report")):
            self.assertEqual(set(j["param"]), {"cid", "id", "value"})
        # the status of every device
        self.wait_for(lambda: any({"cid": "meter", "status": True} in j["param"]
                                  for j in rec.json_on(self.topic("devices/status"))), 5, "status")
        plug.command("misbehave refuse")
        self.wait_for(lambda: any({"cid": "plug", "status": False} in j["param"]
                                  for j in rec.json_on(self.topic("devices/status"))), 15, "plug offline")

    def test_edge_commands(self):
        rec, meter, plug = self.edge_setup(commands="true")
        self.wait_for(lambda: rec.json_on(self.topic("devices/sync")), 10, "sync")
        time.sleep(0.5)
        self.assertEqual(self.edge_command(rec, "meter", "9", "closed", "r1"), (0, "success"))
        self.assertEqual(meter.state()["dps"]["9"], "closed")
        self.assertEqual(self.edge_command(rec, "meter", "18", "40", "r2"), (0, "success"))
        self.assertEqual(meter.state()["dps"]["18"], 40)
        self.assertEqual(self.edge_command(rec, "plug", "1", False, "r3"), (0, "success"))
        self.assertEqual(plug.state()["sysinfo"]["relay_state"], 0)
        sent = len(meter.writes())
        # the spec's codes: range, not supported, not found, params null
        self.assertEqual(self.edge_command(rec, "meter", "18", "150", "e1")[0], 1101)
        self.assertEqual(self.edge_command(rec, "meter", "9", "half", "e2")[0], 1101)
        self.assertEqual(self.edge_command(rec, "meter", "4", "maybe", "e3")[0], 1101)
        self.assertEqual(self.edge_command(rec, "meter", "1", "5", "e4")[0], 2002)
        self.assertEqual(self.edge_command(rec, "nosuch", "1", True, "e5")[0], 2003)
        self.assertEqual(len(meter.writes()), sent)
        plug.command("misbehave refuse")
        self.wait_for(lambda: not self.get(device_path("plug"), wbtest.DEVICE, "Online"), 15, "offline")
        self.assertEqual(self.edge_command(rec, "plug", "1", True, "e6")[0], 2001)
        self.assert_daemon_alive()


if __name__ == "__main__":
    wbtest.main()
