#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The Kasa driver end to end: switching, live power, strips, discovery, and every way a
device can misbehave, against the emulator on 127.0.0.1."""

import json
import math
import os
import time

import wbtest
from wbtest import DEVICE, IFACE, METER, OUTLET, ROOT, device_path

PLUG = "HS110(EU)_4.0_1.0.4.json"
STRIP = "HS300(US)_2.0_1.0.12.json"


class KasaTest(wbtest.DaemonTest):

    def start_with(self, devices, poll=1):
        """devices: {id: emulator}; returns nothing, waits until all are online."""
        text = ""
        for dev_id, emu in devices.items():
            text += "[device %s]\ndriver=kasa\naddress=%s\npoll-interval=%d\n\n" % (dev_id, emu.address, poll)
        self.write_config(text)
        self.start_daemon()
        for dev_id in devices:
            self.wait_online(dev_id)

    # switching

    def test_switch_plug(self):
        emu = self.emulator(PLUG)
        self.start_with({"plug": emu}, poll=60)
        path = device_path("plug")
        self.assertTrue(self.get(path, OUTLET, "On"))

        self.call(path, OUTLET, "TurnOff")
        # published before the method returned, not at the next poll (60 s away)
        self.assertFalse(self.get(path, OUTLET, "On"))
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 0)
        # and the meter is read back right after: no load through an open relay
        self.wait_prop(path, METER, "Power", 0.0, timeout=5)

        self.call(path, OUTLET, "Toggle")
        self.assertTrue(self.get(path, OUTLET, "On"))
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 1)
        self.call(path, OUTLET, "TurnOn")
        self.assertTrue(self.get(path, OUTLET, "On"))
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 1)

    def test_relay_that_does_not_move_is_caught(self):
        """The device acknowledges set_relay_state but its relay stays where it was: the
        call succeeds (the device said so), the read-back after it shows the truth and
        says so in the log."""
        emu = self.emulator(PLUG, "--misbehave", "stuck-relay")
        self.start_with({"plug": emu}, poll=60)
        path = device_path("plug")
        self.call(path, OUTLET, "TurnOff")
        self.wait_prop(path, OUTLET, "On", True, timeout=5)
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 1)
        self.wait_for(lambda: "[plug] the device accepted switching off but stayed on"
                      in self.daemon_log(), 5, "warning")
        self.assertTrue(self.get(path, DEVICE, "Online"))

    def test_switched_by_hand_is_seen(self):
        emu = self.emulator(PLUG)
        self.start_with({"plug": emu})
        path = device_path("plug")
        emu.command("relay 0")
        self.wait_prop(path, OUTLET, "On", False)

    def test_one_properties_changed_per_update(self):
        emu = self.emulator(PLUG)
        self.start_with({"plug": emu})
        path = device_path("plug")
        self.iterate(0.5)
        self.signals.clear()
        emu.command("emeter power_mw=12345 voltage_mv=229000 current_ma=60 total_wh=17000")
        self.wait_prop(path, METER, "Power", 12.345)
        self.iterate(0.3)
        meter_signals = [s for s in self.signals if s[0] == path and s[1][0] == METER]
        self.assertEqual(len(meter_signals), 1, meter_signals)
        changed = meter_signals[0][1][1]
        self.assertEqual(set(changed), {"Power", "Voltage", "Current", "Energy"})
        self.assertAlmostEqual(changed["Voltage"], 229.0)
        self.assertAlmostEqual(changed["Energy"], 17000.0)
        # nothing changes: nothing is sent
        self.signals.clear()
        self.iterate(2.5)
        self.assertEqual([s for s in self.signals if s[0] == path and s[1][0] == METER], [])


    def test_last_seen_not_announced(self):
        """LastSeen moves at every poll but has EmitsChangedSignal=false: Get reads it,
        PropertiesChanged never carries it; Online is announced."""
        emu = self.emulator(PLUG)
        self.start_with({"plug": emu})
        path = device_path("plug")
        first = self.get(path, DEVICE, "LastSeen")
        self.assertGreater(first, 0)
        emu.command("emeter power_mw=777000")
        self.wait_prop(path, METER, "Power", 777.0)
        self.wait_for(lambda: self.get(path, DEVICE, "LastSeen") > first, 5, "LastSeen moved")
        second = self.get(path, DEVICE, "LastSeen")
        self.iterate(2.5)  # two or three more polls
        self.assertGreater(self.get(path, DEVICE, "LastSeen"), second)
        mine = [s[1] for s in self.signals if s[0] == path]
        # the subscription works: the start-up's Online and the new Power were announced
        self.assertIn(True, [c.get("Online") for iface, c, inv in mine if iface == DEVICE])
        self.assertIn(777.0, [c.get("Power") for iface, c, inv in mine if iface == METER])
        self.assertEqual([s for s in mine if "LastSeen" in s[1] or "LastSeen" in s[2]], [])
        xml = self.call(path, "org.freedesktop.DBus.Introspectable", "Introspect")[0]
        self.assertRegex(xml, r'name="LastSeen"[^/]*>\s*<annotation '
                         r'name="org.freedesktop.DBus.Property.EmitsChangedSignal" value="false"')
    # strips

    def check_statistics(self, fixture, today, month):
        log = os.path.join(self.tmp, "requests.log")
        emu = self.emulator(fixture, "--log", log)
        emu.command("stats today=%d month=%d" % (today, month))
        self.start_with({"plug": emu})
        path = device_path("plug")
        # in the reading of the first poll already
        self.assertEqual(self.get(path, METER, "EnergyToday"), float(today))
        self.assertEqual(self.get(path, METER, "EnergyThisMonth"), float(month))
        self.assertIn("EnergyToday", self.get(path, METER, "Measured"))
        # asked once a minute, not at every poll (1 s here)
        emu.command("stats today=%d month=%d" % (today + 1, month + 1))
        polls = emu.state()["requests"]["tcp"]
        self.wait_for(lambda: emu.state()["requests"]["tcp"] >= polls + 2, 10, "two more polls")
        self.assertEqual(self.get(path, METER, "EnergyToday"), float(today))
        with open(log) as f:
            asked = [line for line in f if "get_daystat" in line]
        self.assertEqual(len(asked), 1, asked)
        self.assertIn("get_monthstat", asked[0])

    def test_daily_monthly_energy_wh(self):
        # HS110 hw 4.0: the new unit style, energy_wh
        self.check_statistics(PLUG, 321, 4321)

    def test_daily_monthly_energy_kwh(self):
        # HS110 hw 1.0: the old style, energy in kWh
        self.check_statistics("HS110(EU)_1.0_1.2.5.json", 1500, 24750)

    def test_strip_outlets(self):
        log = os.path.join(self.tmp, "requests.log")
        emu = self.emulator(STRIP, log=log)
        self.start_with({"strip": emu}, poll=60)
        outlet3 = device_path("strip_3")
        state = emu.state()
        child_id = state["sysinfo"]["children"][2]["id"]

        self.call(outlet3, OUTLET, "TurnOff")
        self.assertFalse(self.get(outlet3, OUTLET, "On"))
        children = emu.state()["sysinfo"]["children"]
        self.assertEqual([c["state"] for c in children], [1, 1, 0, 1, 1, 1])
        for i in (1, 2, 4, 5, 6):
            self.assertTrue(self.get(device_path("strip_%d" % i), OUTLET, "On"))
        # the outlet was addressed by its own id, never by a strip-wide command
        with open(log) as f:
            requests = [json.loads(line) for line in f if line.strip()]
        sets = [r for r in requests if "set_relay_state" in r.get("system", {})]
        self.assertEqual(len(sets), 1)
        self.assertEqual(sets[0]["context"], {"child_ids": [child_id]})
        self.assertEqual(sets[0]["system"]["set_relay_state"], {"state": 0})
        # per-outlet meters, and the strip's sum
        self.assertEqual(self.get(outlet3, METER, "Power"), 0.0)
        self.assertAlmostEqual(self.get(device_path("strip_1"), METER, "Power"), 0.277)
        self.assertAlmostEqual(self.get(device_path("strip"), METER, "Power"), 5 * 0.277)

    def test_strip_outlet_live_power(self):
        emu = self.emulator(STRIP)
        self.start_with({"strip": emu})
        emu.command("emeter 4 power_mw=1500000")
        self.wait_prop(device_path("strip_5"), METER, "Power", 1500.0)
        self.wait_for(lambda: math.isclose(self.get(device_path("strip"), METER, "Power"),
                                           1500.0 + 5 * 0.277), 10, "strip total")

    def test_strip_without_parent_relay(self):
        emu = self.emulator("KP303(US)_2.0_1.0.9.json")
        self.start_with({"strip": emu})
        err = self.call_error(device_path("strip"), OUTLET, "TurnOn")
        self.assertEqual(err[0], "org.freedesktop.DBus.Error.UnknownMethod")
        self.call(device_path("strip_2"), OUTLET, "TurnOn")
        self.assertTrue(self.get(device_path("strip_2"), OUTLET, "On"))

    # discovery

    def test_discover_on_loopback(self):
        plug = self.emulator(PLUG)
        strip = self.emulator(STRIP)
        self.start_with({"plug": plug})
        for emu, configured in ((plug, device_path("plug")), (strip, "/")):
            found = self.call(ROOT, IFACE, "Discover",
                              ({"target": wbtest.GLib.Variant("s", "127.0.0.1:%d" % emu.udp_port),
                                "timeout": wbtest.GLib.Variant("u", 1)},), "(a{sv})")[0]
            self.assertEqual(len(found), 1, found)
            dev = found[0]
            sysinfo = emu.state()["sysinfo"]
            self.assertEqual(dev["driver"], "kasa")
            self.assertEqual(dev["address"], "127.0.0.1:%d" % emu.udp_port)
            self.assertEqual(dev["model"], sysinfo["model"])
            self.assertEqual(dev["device-id"], sysinfo["deviceId"])
            self.assertEqual(dev["mac-address"], sysinfo["mac"].lower())
            self.assertEqual(dev["configured"], configured)
            self.assertTrue(dev["supported"])
        self.assertEqual(found[0]["kind"], "strip")

    def test_discover_ignores_garbage(self):
        emu = self.emulator(PLUG, "--misbehave", "udp-garbage")
        self.start_daemon()
        found = self.call(ROOT, IFACE, "Discover",
                          ({"target": wbtest.GLib.Variant("s", "127.0.0.1:%d" % emu.udp_port),
                            "timeout": wbtest.GLib.Variant("d", 0.6)},), "(a{sv})")[0]
        self.assertEqual(found, [])
        self.assert_daemon_alive()

    # bad devices: a clear error, the device offline, every other device served

    def check_misbehaviour(self, mode, expected_error, timeout=15):
        bad = self.emulator(PLUG)
        good = self.emulator("KP115(EU)_1.0_1.0.16.json")
        self.start_with({"bad": bad, "good": good})
        bad_path, good_path = device_path("bad"), device_path("good")
        bad.command("misbehave " + mode)
        self.wait_for(lambda: not self.get(bad_path, DEVICE, "Online"), timeout, "bad device offline")
        error = self.get(bad_path, DEVICE, "LastError")
        self.assertIn(expected_error, error)
        # the other device kept being polled all along
        seen = self.get(good_path, DEVICE, "LastSeen")
        good.command("emeter power_mw=4242000")
        self.wait_prop(good_path, METER, "Power", 4242.0)
        self.assertGreater(self.get(good_path, DEVICE, "LastSeen"), seen)
        self.assertTrue(self.get(good_path, DEVICE, "Online"))
        # and the bad one recovers once it behaves
        bad.command("misbehave none")
        self.wait_online("bad", timeout=20)
        self.assertEqual(self.get(bad_path, DEVICE, "LastError"), "")
        self.assert_daemon_alive()
        self.assertNotIn("CRITICAL", self.daemon_log())
        return error

    def test_garbage(self):
        self.check_misbehaviour("garbage", "not JSON")

    def test_bad_json(self):
        self.check_misbehaviour("badjson", "not JSON")

    def test_oversized_length_prefix(self):
        self.check_misbehaviour("oversize", "over the limit")

    def test_half_frame(self):
        self.check_misbehaviour("half", "did not answer within")

    def test_stall(self):
        self.check_misbehaviour("stall", "did not answer within")

    def test_closed_connection(self):
        self.check_misbehaviour("close", "closed the connection")

    def test_refused(self):
        self.check_misbehaviour("refuse", "refused the connection")

    def refresh_and_toggle_misbehaving(self, mode):
        """Three Refresh + Toggle of a plug in emulator mode MODE: still online, no error."""
        emu = self.emulator(PLUG, "--misbehave", mode)
        self.start_with({"plug": emu})
        path = device_path("plug")
        for _ in range(3):
            self.call(path, DEVICE, "Refresh")
            self.call(path, OUTLET, "Toggle")
        self.assertTrue(self.get(path, DEVICE, "Online"))
        self.assertEqual(self.get(path, DEVICE, "LastError"), "")

    def test_close_after_reply_is_tolerated(self):
        self.refresh_and_toggle_misbehaving("close-after-reply")

    def test_bytes_after_the_reply_are_not_the_next_reply(self):
        # bytes after a reply's frame (0xffffffff, a length no frame has): the reply
        # counts, and the next request does not read them as its reply's header
        self.refresh_and_toggle_misbehaving("trailing")
        # nor the switches' read-backs (their failures are only logged)
        self.assertNotIn("Bad reply", self.daemon_log())

    def test_dead_device_does_not_slow_a_live_one(self):
        dead = self.emulator(PLUG, "--misbehave", "stall")
        live = self.emulator("KP125(US)_1.0_1.0.6.json")
        self.write_config("[device dead]\ndriver=kasa\naddress=%s\npoll-interval=1\n\n"
                          "[device live]\ndriver=kasa\naddress=%s\npoll-interval=1\n" % (dead.address, live.address))
        self.start_daemon()
        self.wait_online("live")
        # while the dead device's requests time out, the live one answers at once
        for _ in range(5):
            start = time.monotonic()
            self.call(device_path("live"), DEVICE, "Refresh")
            self.call(device_path("live"), OUTLET, "Toggle")
            self.assertLess(time.monotonic() - start, 1.0)
        self.wait_for(lambda: "did not answer" in self.get(device_path("dead"), DEVICE, "LastError"), 15)
        err = self.call_error(device_path("dead"), DEVICE, "Refresh")
        self.assertEqual(err[0], "org.wattbus.Wattbus1.Error.Timeout")

    def test_klap_device_is_named(self):
        # transport=xor: a refused port 9999 says where to look
        emu = self.emulator("HS100(UK)_4.1_1.1.0.json", "--klap")
        self.write_config("[device new]\ndriver=kasa\naddress=%s\nhttp-port=%d\ntransport=xor\n"
                          % (emu.address, emu.http_port))
        self.start_daemon()
        path = device_path("new")
        self.wait_for(lambda: "KLAP" in self.get(path, DEVICE, "LastError"), 15, "KLAP in LastError")
        err = self.call_error(path, DEVICE, "Refresh")
        self.assertEqual(err[0], "org.wattbus.Wattbus1.Error.DeviceOffline")
        self.assertIn("transport=auto", err[1])

    def test_klap_device_is_tried_over_http(self):
        # transport=auto (the default) goes on to KLAP over HTTP; this emulator knows only
        # handshake1 (tplink-emulator.py, test_kasa_smart.py, serves the whole protocol)
        emu = self.emulator("HS100(UK)_4.1_1.1.0.json", "--klap")
        self.write_config("[device new]\ndriver=kasa\naddress=%s\nhttp-port=%d\n" % (emu.address, emu.http_port))
        self.start_daemon()
        path = device_path("new")
        self.wait_for(lambda: "KLAP's handshake2" in self.get(path, DEVICE, "LastError"), 15, "handshake2")

    def test_unreachable_backs_off(self):
        emu = self.emulator(PLUG)
        self.start_with({"plug": emu})
        emu.command("misbehave refuse")
        self.wait_for(lambda: not self.get(device_path("plug"), DEVICE, "Online"), 10)
        # exponential back-off: the retries of one offline second come ever further apart
        self.iterate(7)
        log = self.daemon_log()
        delays = [int(line.rsplit("next try in ", 1)[1].split()[0])
                  for line in log.splitlines() if "[plug] next try in" in line]
        self.assertGreaterEqual(len(delays), 3, log[-3000:])
        self.assertEqual(delays[:3], [1, 2, 4])


if __name__ == "__main__":
    wbtest.main()
