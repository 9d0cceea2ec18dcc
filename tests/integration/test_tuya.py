#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The Tuya driver end to end, for each protocol version (3.1, 3.3, 3.4, 3.5): values,
pushes, switching, the water meter's valve and enum DPs, refused writes, profiles and
discovery, against the Tuya emulator on 127.0.0.1.

Expected values come from the spec and the issue: a plug reporting
{"1": true, "18": 75, "19": 86, "20": 2284} is on and draws 0.075 A and 8.6 W at 228.4 V.
"""

import math
import os
import subprocess
import time

import wbtest
from wbtest import DEVICE, IFACE, METER, OUTLET, device_path
from gi.repository import GLib

from tuyabase import ERR, KEY, PROFILES, TUYA, WATER, TuyaBase, dps_of


class TuyaTest(TuyaBase):

    # values, pushes, switching: one test per version

    def check_plug(self, version):
        emu = self.tuya(version=version)
        self.start_with([self.section("plug", emu, poll=30)], online=["plug"])
        path = device_path("plug")
        # the example, through the profile's scales
        self.wait_prop(path, METER, "Current", 0.075)
        self.assertAlmostEqual(self.get(path, METER, "Power"), 8.6)
        self.assertAlmostEqual(self.get(path, METER, "Voltage"), 228.4)
        self.assertEqual(sorted(self.get(path, METER, "Measured")), ["Current", "Power", "Voltage"])
        self.assertEqual(self.get(path, METER, "Measurement"), "load")
        self.assertTrue(math.isnan(self.get(path, METER, "Energy")))
        self.assertTrue(self.get(path, OUTLET, "On"))
        self.assertEqual(self.get(path, DEVICE, "Kind"), "outlet")
        self.assertEqual(self.get(path, DEVICE, "Vendor"), "Tuya")
        tuya = self.get_all(path, TUYA)
        self.assertEqual(tuya["Dps"], {"1": True, "18": 75, "19": 86, "20": 2284})
        self.assertEqual(tuya["ProtocolVersion"], version)
        self.assertEqual(tuya["DeviceId"], emu.device_id)
        self.assertEqual(tuya["Profile"], "metering-plug")

        # the device changes a DP on its own: seen within a second (the poll is 30 s away)
        emu.command("set 19 1234")
        start = time.monotonic()
        self.wait_prop(path, METER, "Power", 123.4, timeout=1.0)
        self.assertLess(time.monotonic() - start, 1.0)
        self.assertEqual(self.get(path, TUYA, "Dps")["19"], 1234)
        emu.command("set 1 false")
        self.wait_prop(path, OUTLET, "On", False, timeout=1.0)

        # switching: published before the call returns
        self.call(path, OUTLET, "TurnOn")
        self.assertTrue(self.get(path, OUTLET, "On"))
        self.assertIs(emu.state()["dps"]["1"], True)
        self.call(path, OUTLET, "Toggle")
        self.assertFalse(self.get(path, OUTLET, "On"))
        self.assertIs(emu.state()["dps"]["1"], False)
        # what went over the wire: the version's own set command, DP 1 as a JSON boolean
        writes = emu.writes()
        self.assertEqual([dps_of(w) for w in writes], [{"1": True}, {"1": False}])
        self.assertEqual({w["cmd"] for w in writes}, {0x0D if version in ("3.4", "3.5") else 0x07})

        # raw access
        self.call(path, TUYA, "SetDp", ("1", GLib.Variant("b", True)), "(sv)")
        self.wait_prop(path, OUTLET, "On", True, timeout=2)
        self.call(path, DEVICE, "Refresh")
        self.assertTrue(self.get(path, DEVICE, "Online"))
        self.assert_daemon_alive()
        self.assert_secret_kept()

    def test_plug_v31(self):
        self.check_plug("3.1")

    def test_plug_v33(self):
        self.check_plug("3.3")

    def test_plug_v34(self):
        self.check_plug("3.4")

    def test_plug_v35(self):
        self.check_plug("3.5")

    # the water meter

    def check_water_meter(self, version):
        emu = self.tuya("--profile", "water-meter", version=version)
        self.start_with([self.section("meter", emu, profile="water-meter", poll=30)], online=["meter"])
        path = device_path("meter")
        self.wait_prop(path, WATER, "Valve", "opened")
        water = self.get_all(path, WATER)
        self.assertEqual(self.get(path, DEVICE, "Kind"), "water-meter")
        # litres → m³ (scale 3), seconds → µs
        self.assertAlmostEqual(water["Flow"], 123.456)
        self.assertAlmostEqual(water["MonthlyTotal"], 4.321)
        self.assertAlmostEqual(water["DailyTotal"], 0.21)
        self.assertAlmostEqual(water["DayFirstReading"], 123.246)
        self.assertEqual(water["DayFirstTime"], 1700000000 * 1000000)
        self.assertEqual(water["MonthLastTime"], 1700040000 * 1000000)
        self.assertEqual(water["ColdSharingType"], "consumption")
        self.assertEqual(water["HotSharingType"], "proportion")
        self.assertEqual(water["ValveOpenness"], 100)
        self.assertTrue(water["Switch"])
        self.assertEqual(len(water["Measured"]), 18)
        self.assertNotIn(OUTLET, self.managed_objects()[path])

        # valve and enum DPs
        self.call(path, WATER, "SetValve", ("closed",), "(s)")
        self.wait_prop(path, WATER, "Valve", "closed", timeout=2)
        self.assertEqual(emu.state()["dps"]["9"], "closed")
        self.call(path, WATER, "SetValveOpenness", (40,), "(u)")
        self.wait_prop(path, WATER, "ValveOpenness", 40, timeout=2)
        self.call(path, WATER, "SetColdSharingType", ("lease",), "(s)")
        self.wait_prop(path, WATER, "ColdSharingType", "lease", timeout=2)
        self.call(path, WATER, "SetHotSharingType", ("power",), "(s)")
        self.wait_prop(path, WATER, "HotSharingType", "power", timeout=2)
        self.call(path, WATER, "SetSwitch", (False,), "(b)")
        self.wait_prop(path, WATER, "Switch", False, timeout=2)
        state = emu.state()["dps"]
        self.assertEqual((state["18"], state["15"], state["17"], state["4"]), (40, "lease", "power", False))

        # refused before anything is sent
        sent = len(emu.writes())
        for method, sig, arg, what in (("SetValveOpenness", "(u)", 150, "from 0 to 100"),
                                       ("SetValve", "(s)", "opening", "opened, closed"),
                                       ("SetColdSharingType", "(s)", "shared", "square_area"),
                                       ("SetHotSharingType", "(s)", "", "lease")):
            name, message = self.call_error(path, WATER, method, (arg,), sig)
            self.assertEqual(name, ERR + "InvalidArgument", message)
            self.assertIn(what, message)
        # raw writes are checked against the profile too: read-only, type, range
        for dp, value, what in (("1", GLib.Variant("x", 5), "read-only"),
                                ("18", GLib.Variant("s", "x"), "integer"),
                                ("18", GLib.Variant("i", -1), "from 0 to 100"),
                                ("9", GLib.Variant("s", "ajar"), "takes one of"),
                                ("0", GLib.Variant("b", True), "DP id"),
                                ("99", GLib.Variant("d", 1.5), "boolean, an integer or a string"),
                                ("99", GLib.Variant("s", "x" * 256), "at most 255 bytes")):
            name, message = self.call_error(path, TUYA, "SetDp", (dp, value), "(sv)")
            self.assertEqual(name, ERR + "InvalidArgument", message)
            self.assertIn(what, message)
        time.sleep(0.3)
        self.assertEqual(len(emu.writes()), sent, emu.writes()[sent:])
        self.assertEqual(emu.state()["dps"]["18"], 40)

        # the meter reports a new day on its own
        emu.command('set 8 "1700050000"')
        self.wait_prop(path, WATER, "DayLastTime", 1700050000 * 1000000, timeout=1)
        emu.command("set 3 1500")
        self.wait_prop(path, WATER, "DailyTotal", 1.5, timeout=1)
        self.assert_daemon_alive()
        self.assert_secret_kept()

    def test_water_meter_v31(self):
        self.check_water_meter("3.1")

    def test_water_meter_v33(self):
        self.check_water_meter("3.3")

    def test_water_meter_v34(self):
        self.check_water_meter("3.4")

    def test_water_meter_v35(self):
        self.check_water_meter("3.5")

    # discovery

    def check_discover(self, version):
        args = ["--udp-ports", ",".join(map(str, self.udp_ports)), "--product-key", "keyjup78v54myhan"]
        if version != "3.5":  # 3.5 devices answer the solicitation
            args += ["--broadcast-interval", "0.3"]
        emu = self.tuya(*args, version=version, device_id="bf3f795ce962dadfd88hx5")
        self.write_config("")
        self.start_daemon()
        found = self.call(wbtest.ROOT, IFACE, "Discover",
                          ({"driver": GLib.Variant("s", "tuya"), "timeout": GLib.Variant("d", 1.5),
                            "target": GLib.Variant("s", "127.0.0.1:%d" % emu.udp_port)},), "(a{sv})")[0]
        self.assertEqual(len(found), 1, found)
        dev = found[0]
        self.assertEqual(dev["driver"], "tuya")
        self.assertEqual(dev["address"], "127.0.0.1")
        self.assertEqual(dev["device-id"], "bf3f795ce962dadfd88hx5")
        self.assertEqual(dev["version"], version)
        self.assertEqual(dev["product-key"], "keyjup78v54myhan")
        self.assertTrue(dev["supported"])
        self.assertEqual(dev["configured"], "/")
        self.assertIn("protocol %s" % version, dev["note"])

    def test_discover_v31(self):
        self.check_discover("3.1")

    def test_discover_v33(self):
        self.check_discover("3.3")

    def test_discover_v34(self):
        self.check_discover("3.4")

    def test_discover_v35(self):
        self.check_discover("3.5")

    def test_discover_with_wattbusctl(self):
        emu = self.tuya("--udp-ports", ",".join(map(str, self.udp_ports)), "--broadcast-interval", "0.3",
                        version="3.3")
        self.write_config(self.section("plug", emu, poll=1))
        self.start_daemon()
        self.wait_online("plug")
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=self.bus.address)
        out = subprocess.run([os.environ["WATTBUSCTL"], "--session", "discover", "--driver", "tuya",
                              "--timeout", "2"], env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(emu.device_id, out.stdout)
        self.assertIn("configured as plug", out.stdout)
        self.assertIn("protocol 3.3, product key keyexample123456", out.stdout)
        # the broadcast also told the device its product key (at its next poll)
        self.wait_prop(device_path("plug"), TUYA, "ProductKey", "keyexample123456")

    # the version from the device's broadcast

    def test_version_from_discovery(self):
        emu = self.tuya("--udp-ports", ",".join(map(str, self.udp_ports)), "--broadcast-interval", "0.3",
                        version="3.4")
        self.start_with([self.section("plug", emu, version="")], online=["plug"])
        path = device_path("plug")
        self.assertEqual(self.get(path, TUYA, "ProtocolVersion"), "3.4")
        self.assertEqual(self.get(path, TUYA, "ProductKey"), "keyexample123456")
        self.wait_prop(path, METER, "Power", 8.6)

    def test_no_version_and_no_broadcast_tries_33(self):
        emu = self.tuya(version="3.3")
        self.start_with([self.section("plug", emu, version="")])
        self.wait_online("plug", timeout=20)
        self.assertEqual(self.get(device_path("plug"), TUYA, "ProtocolVersion"), "3.3")

    # profiles and quirks

    def test_device22(self):
        emu = self.tuya("--device22", version="3.3", device_id="bf534c9207553e222bjcki")
        self.start_with([self.section("plug", emu)], online=["plug"])
        path = device_path("plug")
        self.wait_prop(path, METER, "Voltage", 228.4)
        # the plain query was refused, then the DPs were asked for by name
        queries = [r for r in emu.requests() if r.get("cmd") == 0x0D]
        self.assertTrue(queries)
        self.assertEqual(sorted(dps_of(queries[0])), ["1", "18", "19", "20"])
        self.assertTrue(all(v is None for v in dps_of(queries[0]).values()))

    def test_no_profile_gives_raw_dps_only(self):
        emu = self.tuya("--dps", '{"1": false, "101": "auto", "102": 17}', version="3.3")
        self.start_with([self.section("raw", emu, profile="")], online=["raw"])
        path = device_path("raw")
        self.wait_prop(path, TUYA, "Dps", {"1": False, "101": "auto", "102": 17})
        ifaces = set(self.managed_objects()[path])
        self.assertNotIn(OUTLET, ifaces)
        self.assertNotIn(METER, ifaces)
        self.assertNotIn(WATER, ifaces)
        self.assertEqual(self.get(path, TUYA, "Profile"), "")
        self.call(path, TUYA, "SetDp", ("101", GLib.Variant("s", "manual")), "(sv)")
        self.wait_prop(path, TUYA, "Dps", {"1": False, "101": "manual", "102": 17}, timeout=2)
        self.assertEqual(emu.state()["dps"]["101"], "manual")
        name, _ = self.call_error(path, OUTLET, "TurnOn")
        self.assertEqual(name, "org.freedesktop.DBus.Error.UnknownMethod")

    def test_user_profile(self):
        profiles = os.path.join(self.tmp, "profiles")
        os.makedirs(profiles)
        with open(os.path.join(profiles, "my-plug.profile"), "w") as f:
            f.write("[profile]\nkind=outlet\n\n[dp 1]\ntype=bool\naccess=read-write\nproperty=Outlet.On\n\n"
                    "[dp 19]\nname=power\ntype=value\nscale=0\nunit=W\nproperty=ElectricityMeter.Power\n")
        os.environ["WATTBUS_PROFILES_DIR"] = profiles + ":" + PROFILES
        emu = self.tuya(version="3.3")
        self.start_with([self.section("plug", emu, profile="my-plug")], online=["plug"])
        path = device_path("plug")
        self.wait_prop(path, METER, "Power", 86.0)
        self.assertEqual(self.get(path, METER, "Measured"), ["Power"])

    # a poll: UPDATEDPS alone once the plug has answered one, a heartbeat otherwise

    def polls_by_command(self, emu):
        cmds = [r.get("cmd") for r in emu.requests()]
        return cmds.count(0x09), cmds.count(0x12)

    def check_poll_is_one_request(self, version):
        emu = self.tuya(version=version)
        self.start_with([self.section("plug", emu, poll=1)], online=["plug"])
        path = device_path("plug")
        self.wait_for(lambda: self.polls_by_command(emu)[1] >= 5, 15, "five UPDATEDPS")
        heartbeats, updates = self.polls_by_command(emu)
        # the first poll's heartbeat; after the first acknowledgement, none (no 10 s idle)
        self.assertLessEqual(heartbeats, 2)
        self.assertTrue(self.get(path, DEVICE, "Online"))
        self.assertEqual(self.get(path, DEVICE, "LastError"), "")
        # the UPDATEDPS's push still lands
        emu.command("set 19 4321")
        self.wait_prop(path, METER, "Power", 432.1, timeout=3)

        # a plug that stops answering UPDATEDPS: the poll's time-out, as for a heartbeat
        emu.command("misbehave ignore-updatedps")
        self.wait_last_error("plug", "did not answer within")

    def test_poll_is_one_request_v33(self):
        self.check_poll_is_one_request("3.3")

    def test_poll_is_one_request_v34(self):
        self.check_poll_is_one_request("3.4")

    def test_plug_ignoring_updatedps_keeps_heartbeats(self):
        emu = self.tuya("--misbehave", "ignore-updatedps", version="3.3")
        self.start_with([self.section("plug", emu, poll=1)], online=["plug"])
        path = device_path("plug")
        self.wait_for(lambda: self.polls_by_command(emu)[0] >= 5, 15, "five heartbeats")
        heartbeats, updates = self.polls_by_command(emu)
        # every poll a heartbeat and the UPDATEDPS after it, unanswered, never a failure
        self.assertGreaterEqual(updates, heartbeats - 2)
        self.assertTrue(self.get(path, DEVICE, "Online"))
        self.assertEqual(self.get(path, DEVICE, "LastError"), "")

    def test_metering_plug_v2(self):
        emu = self.tuya("--profile", "metering-plug-v2", version="3.3")
        self.start_with([self.section("plug", emu, profile="metering-plug-v2")], online=["plug"])
        path = device_path("plug")
        self.wait_prop(path, METER, "Power", 8.6)
        self.assertEqual(self.get(path, TUYA, "Dps")["38"], "memory")
        self.call(path, TUYA, "SetDp", ("38", GLib.Variant("s", "off")), "(sv)")
        self.wait_for(lambda: emu.state()["dps"]["38"] == "off", 2, "DP 38 set")
        name, message = self.call_error(path, TUYA, "SetDp", ("38", GLib.Variant("s", "sometimes")), "(sv)")
        self.assertEqual(name, ERR + "InvalidArgument")
        self.assertIn("off, on, memory", message)

    def test_bad_settings_are_refused(self):
        emu = self.tuya(version="3.3")
        self.write_config("")
        self.start_daemon()
        base = {"driver": "tuya", "address": emu.address, "device-id": emu.device_id, "local-key": KEY}
        for change, what in (({"version": "3.6"}, "protocol version '3.6' is not supported"),
                             ({"local-key": "short"}, "exactly 16 characters, not 5"),
                             ({"device-id": ""}, "device-id is missing"),
                             ({"profile": "no-such-profile"}, "No Tuya profile 'no-such-profile'"),
                             ({"profile": "../etc/passwd"}, "profile name")):
            settings = dict(base, id="bad", **change)
            name, message = self.call_error(wbtest.ROOT, IFACE, "AddDevice",
                                            ({k: GLib.Variant("s", v) for k, v in settings.items()},),
                                            "(a{sv})")
            self.assertEqual(name, ERR + "InvalidArgument", message)
            self.assertIn(what, message)
            self.assertNotIn(KEY, message)
        # a good one
        path = self.call(wbtest.ROOT, IFACE, "AddDevice",
                         ({k: GLib.Variant("s", v) for k, v in dict(base, id="good", profile="metering-plug",
                                                                      version="3.3").items()},), "(a{sv})")[0]
        self.wait_online("good")
        self.assertEqual(path, device_path("good"))
        self.assert_secret_kept()


class TuyaPolkitTest(TuyaBase):
    """On the system bus the water meter's methods ask polkit first."""
    system_bus = True

    def setUp(self):
        super().setUp()
        self.start_mock_polkit()

    def test_water_meter_methods_need_authorization(self):
        emu = self.tuya("--profile", "water-meter", version="3.3")
        self.start_with([self.section("meter", emu, profile="water-meter", poll=30)], online=["meter"])
        path = device_path("meter")
        self.allow()
        for method, sig, arg, action in (("SetValve", "(s)", "closed", "switch-outlet"),
                                         ("SetSwitch", "(b)", False, "switch-outlet"),
                                         ("SetValveOpenness", "(u)", 10, "control-device"),
                                         ("SetColdSharingType", "(s)", "lease", "control-device"),
                                         ("SetHotSharingType", "(s)", "lease", "control-device")):
            name, message = self.call_error(path, WATER, method, (arg,), sig)
            self.assertEqual(name, ERR + "PermissionDenied", message)
            self.assertIn("org.wattbus.Wattbus1." + action, message)
        name, message = self.call_error(path, TUYA, "SetDp", ("9", GLib.Variant("s", "closed")), "(sv)")
        self.assertEqual(name, ERR + "PermissionDenied")
        self.assertIn("control-device", message)
        # authorization comes before the argument check: no hint to the unauthorized
        name, _ = self.call_error(path, WATER, "SetValveOpenness", (500,), "(u)")
        self.assertEqual(name, ERR + "PermissionDenied")
        self.assertEqual(emu.writes(), [])

        self.allow("org.wattbus.Wattbus1.switch-outlet")
        self.call(path, WATER, "SetValve", ("closed",), "(s)")
        self.wait_prop(path, WATER, "Valve", "closed", timeout=2)
        name, _ = self.call_error(path, WATER, "SetValveOpenness", (10,), "(u)")
        self.assertEqual(name, ERR + "PermissionDenied")
        self.allow("org.wattbus.Wattbus1.control-device")
        self.call(path, WATER, "SetValveOpenness", (10,), "(u)")
        self.wait_prop(path, WATER, "ValveOpenness", 10, timeout=2)


if __name__ == "__main__":
    wbtest.main()
