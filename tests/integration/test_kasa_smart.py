#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""TP-Link devices on KLAP and AES: every fixture in tests/data/kasa-smart served by
tests/emulators/tplink-emulator.py over each transport its family uses, read by wattbusd
with the values the fixture holds; switching of plugs and strip outlets confirmed by the
device; wrong credentials; session renewal; paging of outlets.

The expected values are worked out from the fixture by smartbase.py.
"""

import json
import math
import os
import subprocess

from gi.repository import GLib

import freeport
import wbtest
from smartbase import (FIXTURES, PASSWORD, USER, components, expected_reading, is_iot, load, name_of,
                       transports)
from wbtest import DEVICE, METER, OUTLET, device_path


class KasaSmartTest(wbtest.DaemonTest):

    def start(self, fixture_name, transport, emu_args=(), username=USER, password=PASSWORD, extra=""):
        emu = self.tplink_emulator(fixture_name, "--transport", transport,
                                   "--username", USER, "--password", PASSWORD, *emu_args)
        # nothing listens on the XOR port: transport=auto goes on to HTTP
        xor_port = freeport.free_ports(1)[0]
        conf = "[device dev]\ndriver=kasa\naddress=127.0.0.1:%d\nhttp-port=%d\npoll-interval=30\n" % (
            xor_port, emu.http_port)
        if username is not None:
            conf += "username=%s\n" % username
        if password is not None:
            conf += "password=%s\n" % password
        self.write_config(conf + extra)
        self.start_daemon()
        return emu

    def check_meter(self, path, expected):
        props = self.get_all(path, METER)
        self.assertEqual(sorted(props["Measured"]), sorted(expected.keys()), path)
        for name in ("Power", "Voltage", "Current", "Energy", "EnergyToday", "EnergyThisMonth"):
            if name in expected:
                self.assertTrue(math.isclose(props[name], expected[name], rel_tol=1e-9, abs_tol=1e-9),
                                "%s %s: %r != %r" % (path, name, props[name], expected[name]))
            else:
                self.assertTrue(math.isnan(props[name]), "%s %s should be NaN, is %r" % (path, name, props[name]))

    def run_fixture(self, name, transport, transport_key="auto"):
        fixture = load(name)
        emu = self.start(name, transport, extra="transport=%s\n" % transport_key)
        path = self.wait_online("dev", 20)
        props = self.get_all(path, DEVICE)
        self.assertEqual(props["LastError"], "")
        self.assertEqual(props["Driver"], "kasa")
        self.assertEqual(props["Address"].split(":")[0], "127.0.0.1")
        objects = self.managed_objects()
        if is_iot(fixture):
            sysinfo = fixture["system"]["get_sysinfo"]
            self.assertEqual(props["Model"], sysinfo["model"])
            self.assertEqual(props["FirmwareVersion"], sysinfo["sw_ver"])
            self.assertEqual(props["MacAddress"], sysinfo["mac"].lower().replace("-", ":"))
            self.assertEqual(props["Name"], sysinfo["alias"])
            self.assertEqual(self.get(path, OUTLET, "On"), sysinfo["relay_state"] == 1)
            self.assertNotIn(METER, objects[path])
            return
        info = fixture["get_device_info"]
        comps = components(fixture)
        energy = comps.get("energy_monitoring", 0)
        self.assertEqual(props["Model"], info["model"])
        self.assertEqual(props["HardwareVersion"], info["hw_ver"])
        self.assertEqual(props["FirmwareVersion"], info["fw_ver"])
        self.assertEqual(props["SerialNumber"], info["device_id"])
        self.assertEqual(props["MacAddress"], info["mac"].lower().replace("-", ":"))
        if name_of(info.get("nickname")):
            self.assertEqual(props["Name"], name_of(info["nickname"]))
        children = sorted(fixture.get("get_child_device_list", {}).get("child_device_list", []),
                          key=lambda c: c["position"])
        if not children:
            self.assertEqual(props["Kind"], "switch" if info["type"].endswith("SWITCH") else "outlet")
            self.assertIn(OUTLET, objects[path])
            self.assertEqual(self.get(path, OUTLET, "On"), info["device_on"])
            self.assertEqual(METER in objects[path], energy > 0, "metered")
            if energy:
                self.check_meter(path, expected_reading(fixture, info["device_on"], energy))
            self.assertEqual([p for p in objects if p.startswith(path + "_")], [])
            return
        # a strip: no relay of its own, outlets in position order
        self.assertEqual(props["Kind"], "strip")
        self.assertNotIn(OUTLET, objects[path])
        readings = []
        for i, child in enumerate(children):
            cpath = device_path("dev_%d" % (i + 1))
            self.assertIn(cpath, objects)
            cprops = self.get_all(cpath, DEVICE)
            self.assertEqual(cprops["Parent"], path)
            self.assertEqual(cprops["Kind"], "outlet")
            self.assertEqual(cprops["SerialNumber"], child["device_id"])
            self.assertEqual(cprops["Name"], name_of(child["nickname"]))
            self.assertEqual(self.get(cpath, OUTLET, "On"), child["device_on"])
            self.assertEqual(METER in objects[cpath], energy > 0)
            if energy:
                methods = fixture["child_devices"][child["device_id"]]
                exp = expected_reading(methods, child["device_on"], energy)
                self.check_meter(cpath, exp)
                readings.append(exp)
        self.assertNotIn(device_path("dev_%d" % (len(children) + 1)), objects)
        self.assertEqual(METER in objects[path], energy > 0)
        if energy:
            total = {k: sum(r[k] for r in readings) for k in readings[0] if k != "Voltage"}
            if "Voltage" in readings[0]:
                total["Voltage"] = sum(r["Voltage"] for r in readings) / len(readings)
            self.check_meter(path, total)

    # switching, confirmed by the device

    def switch_and_check(self, emu, path, key):
        for method, want in (("TurnOff", False), ("TurnOn", True), ("Toggle", False), ("Toggle", True)):
            self.call(path, OUTLET, method)
            self.assertEqual(emu.state()["on"][key], want, "%s %s" % (path, method))
            self.wait_prop(path, OUTLET, "On", want)

    def test_switch_klap_plug(self):
        emu = self.start("P110(UK)_1.0_1.3.0.json", "klap")
        path = self.wait_online("dev", 20)
        self.switch_and_check(emu, path, "")

    def test_switch_aes_plug(self):
        emu = self.start("P115(EU)_1.0_1.2.3.json", "aes")
        path = self.wait_online("dev", 20)
        self.switch_and_check(emu, path, "")

    def test_switch_aes_login_v1_plug(self):
        emu = self.start("P100(US)_1.0.0_1.1.3.json", "aes")
        path = self.wait_online("dev", 20)
        self.switch_and_check(emu, path, "")

    def test_switch_iot_over_klap(self):
        emu = self.start("HS100(UK)_4.1_1.1.0.json", "klap")
        path = self.wait_online("dev", 20)
        self.switch_and_check(emu, path, "")

    def test_device_closing_after_each_reply(self):
        # P100 drops the TCP connection after every response (kasa-smart.md §2)
        emu = self.start("P100(US)_1.0.0_1.1.3.json", "aes", emu_args=("--close-after-reply",))
        path = self.wait_online("dev", 20)
        self.switch_and_check(emu, path, "")
        self.assertEqual(self.get(path, DEVICE, "LastError"), "")

    def switch_strip(self, fixture, transport):
        emu = self.start(fixture, transport)
        self.wait_online("dev", 20)
        n = len(load(fixture)["get_child_device_list"]["child_device_list"])
        for i in range(1, n + 1):
            cpath = device_path("dev_%d" % i)
            self.wait_for(lambda: self.get(cpath, DEVICE, "Online"), 10, "outlet %d" % i)
            self.switch_and_check(emu, cpath, str(i))

    def test_switch_strip_klap_p304m(self):
        self.switch_strip("P304M(UK)_1.0_1.0.3.json", "klap")

    def test_switch_strip_klap_p300_positions(self):
        # list order 3, 2, 1: dev_1 must switch the outlet at position 1
        self.switch_strip("P300(EU)_1.0_1.0.13.json", "klap")

    def test_switch_strip_aes_p300(self):
        self.switch_strip("P300(EU)_1.0_1.0.7.json", "aes")

    # credentials

    def check_refused(self, transport, fixture):
        self.start(fixture, transport, password="wrong-Passw0rd")
        path = device_path("dev")
        self.wait_for(lambda: self.get(path, DEVICE, "LastError") != "", 20, "LastError")
        error = self.get(path, DEVICE, "LastError")
        self.assertFalse(self.get(path, DEVICE, "Online"))
        self.assertIn(USER, error)
        self.assertIn("Third-Party Compatibility", error)
        everything = json.dumps(str(self.managed_objects()))
        self.assertNotIn("wrong-Passw0rd", everything)
        self.assertNotIn("wrong-Passw0rd", self.daemon_log())
        self.assertNotIn(PASSWORD, self.daemon_log())

    def test_wrong_password_klap(self):
        self.check_refused("klap", "P110(UK)_1.0_1.3.0.json")

    def test_wrong_password_aes(self):
        self.check_refused("aes", "P115(EU)_1.0_1.2.3.json")

    def test_no_credentials_blank_account(self):
        # a device never bound to the cloud answers for the blank account
        emu = self.tplink_emulator("HS200(US)_5.26_1.0.3.json", "--transport", "klap")
        self.write_config("[device dev]\ndriver=kasa\naddress=127.0.0.1\nhttp-port=%d\ntransport=klap\n"
                          % emu.http_port)
        self.start_daemon()
        self.wait_online("dev", 20)

    def test_account_from_driver_group(self):
        emu = self.tplink_emulator("P110(UK)_1.0_1.3.0.json", "--transport", "klap",
                                   "--username", USER, "--password", PASSWORD)
        self.write_config("[driver kasa]\nusername=%s\npassword=%s\n\n"
                          "[device dev]\ndriver=kasa\naddress=127.0.0.1\nhttp-port=%d\ntransport=klap\n"
                          % (USER, PASSWORD, emu.http_port))
        self.start_daemon()
        self.wait_online("dev", 20)

    # discovery on UDP 20002 (loopback only: the target is the emulator's port)

    def test_discover_tdp(self):
        self.start_daemon()
        for name in ("P110(UK)_1.0_1.3.0.json", "P115(EU)_1.0_1.2.3.json", "HS100(UK)_4.1_1.1.0.json",
                     "P100(US)_1.0.0_1.1.3.json"):
            emu = self.tplink_emulator(name, "--udp-port", "0")
            disc = load(name)["discovery_result"]["result"]
            found = self.call(wbtest.ROOT, wbtest.IFACE, "Discover",
                              ({"target": wbtest.GLib.Variant("s", "127.0.0.1:%d" % emu.udp_port),
                                "timeout": wbtest.GLib.Variant("u", 3)},), "(a{sv})")[0]
            self.assertEqual(len(found), 1, found)
            dev = found[0]
            schm = disc["mgt_encrypt_schm"]
            self.assertEqual(dev["driver"], "kasa")
            self.assertEqual(dev["address"], "127.0.0.1")
            self.assertEqual(dev["model"], disc["device_model"].split("(")[0])
            self.assertEqual(dev["mac-address"], disc["mac"].lower().replace("-", ":"))
            self.assertEqual(dev["device-id"], disc["device_id"])
            self.assertEqual(dev["transport"], schm["encrypt_type"].lower())
            self.assertEqual(dev["http-port"], str(emu.http_port))
            self.assertTrue(dev["supported"])
            if schm["encrypt_type"] == "KLAP":
                klap = 1 if disc["device_type"].startswith("IOT.") and schm.get("lv") != 2 else 2
                self.assertIn("KLAP v%d" % klap, dev["note"])
            else:
                self.assertIn("login v%d" % (2 if schm.get("lv") == 2 else 1), dev["note"])
            self.assertEqual(dev["credentials"], bool(disc.get("owner")) and not disc.get("factory_default"))
            self.assertIn("--set transport=%s --set http-port=%d" % (dev["transport"], emu.http_port), dev["note"])
        self.assert_daemon_alive()

    def test_discover_json_then_add(self):
        # wattbusctl discover --json gives what add needs: transport and http_port
        emu = self.tplink_emulator("P110(UK)_1.0_1.3.0.json", "--udp-port", "0",
                                   "--username", USER, "--password", PASSWORD)
        self.start_daemon()
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=self.bus.address, LANG="C.UTF-8")
        env.pop("G_MESSAGES_DEBUG", None)

        def ctl(*args, stdin=None):
            proc = subprocess.run([os.environ["WATTBUSCTL"], "--session"] + list(args), env=env,
                                  input=stdin, capture_output=True, text=True, timeout=60)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            return proc.stdout

        found = json.loads(ctl("--json", "discover", "--target", "127.0.0.1:%d" % emu.udp_port,
                               "--timeout", "3"))
        self.assertEqual(len(found), 1, found)
        dev = found[0]
        self.assertEqual(dev["transport"], "klap")
        self.assertEqual(dev["http_port"], emu.http_port)
        self.assertIs(dev["credentials"], True)
        ctl("add", "--driver", dev["driver"], "--address", dev["address"], "--id", "found",
            "--set", "transport=%s" % dev["transport"], "--set", "http-port=%d" % dev["http_port"],
            "--set", "username=%s" % USER, "--set", "password=-", stdin=PASSWORD + "\n")
        path = self.wait_online("found", 20)
        self.assertEqual(self.get(path, DEVICE, "Model"), "P110")

    # issue #16.5: an address that answers HTTP

    def test_http_on_xor_port_is_named(self):
        emu = self.tplink_emulator("P110(UK)_1.0_1.3.0.json", "--username", USER, "--password", PASSWORD)
        self.write_config("[device dev]\ndriver=kasa\naddress=127.0.0.1:%d\ntransport=xor\n" % emu.http_port)
        self.start_daemon()
        path = device_path("dev")
        self.wait_for(lambda: self.get(path, DEVICE, "LastError") != "", 15, "LastError")
        error = self.get(path, DEVICE, "LastError")
        self.assertIn("Not a Kasa XOR device: it answered HTTP", error)
        self.assertNotIn("1213486160", error)

    def test_http_on_xor_port_auto_finds_klap(self):
        emu = self.tplink_emulator("P110(UK)_1.0_1.3.0.json", "--username", USER, "--password", PASSWORD)
        self.write_config("[device dev]\ndriver=kasa\naddress=127.0.0.1:%d\nusername=%s\npassword=%s\n"
                          % (emu.http_port, USER, PASSWORD))
        self.start_daemon()
        path = self.wait_online("dev", 20)
        self.assertEqual(self.get(path, DEVICE, "Model"), "P110")

    def test_driver_group_password_is_a_secret(self):
        # a [driver kasa] password in a file others may read is warned about, by key only
        self.write_config("[driver kasa]\nusername=%s\npassword=%s\n" % (USER, PASSWORD))
        os.chmod(os.path.join(self.config_dir, "wattbus.conf"), 0o644)
        self.start_daemon()
        self.wait_for(lambda: "holds the secret" in self.daemon_log(), 10, "the warning")
        self.assertIn("holds the secret 'password' in [driver kasa]", self.daemon_log())
        self.assertNotIn(PASSWORD, self.daemon_log())

    # sessions and paging

    def test_session_renewed_after_403(self):
        emu = self.start("KP125M(US)_1.0_1.2.3.json", "klap")
        path = self.wait_online("dev", 20)
        before = emu.state()["handshakes"]
        requests = emu.state()["requests"]
        emu.command("expire")
        # a Refresh right after a poll is coalesced with it: the next poll follows
        self.call(path, DEVICE, "Refresh")
        self.wait_for(lambda: emu.state()["requests"] > requests, 10, "a poll after expire")
        self.assertEqual(self.get(path, DEVICE, "LastError"), "")
        self.assertTrue(self.get(path, DEVICE, "Online"))
        self.assertEqual(emu.state()["handshakes"], before + 1)

    def polls_on_one_connection(self, fixture, transport):
        # kasa-smart.md §2: the connection is kept between requests (only P100 closes it)
        emu = self.start(fixture, transport)
        path = self.wait_online("dev", 20)
        for _ in range(5):
            requests = emu.state()["requests"]
            self.call(path, DEVICE, "Refresh")
            self.wait_for(lambda: emu.state()["requests"] > requests, 10, "a poll")
        state = emu.state()
        self.assertEqual(state["handshakes"], 1)
        self.assertEqual(state["connections"], 1, "a TCP connection a request: %r" % state)

    def test_polls_on_one_connection_klap(self):
        self.polls_on_one_connection("KP125M(US)_1.0_1.2.3.json", "klap")

    def test_polls_on_one_connection_aes(self):
        self.polls_on_one_connection("EP25(US)_2.6_1.0.1.json", "aes")

    def refresh(self, path):
        """Refresh, its result left to LastError (one right after a poll is coalesced with it)."""
        try:
            self.call(path, DEVICE, "Refresh")
        except GLib.Error:
            pass
        return self.get(path, DEVICE, "LastError")

    def test_bad_http_replies(self):
        # the HTTP client's bounds: each bad answer is named in LastError, and the device
        # comes back when the answers are good again
        emu = self.start("KP125M(US)_1.0_1.2.3.json", "klap")
        path = self.wait_online("dev", 20)
        for mode, text in (("chunked", "an HTTP body over 262144 bytes or without a length"),
                           ("huge", "an HTTP body over 262144 bytes or without a length"),
                           ("garbage", "Bad reply from the device: not an HTTP/1.1 status line"),
                           ("silent", "did not answer on HTTP port %d in 5 s" % emu.http_port)):
            emu.command("reply " + mode)
            self.wait_for(lambda: text in self.refresh(path), 30, "%s: LastError" % mode)
            emu.command("reply normal")
            self.wait_for(lambda: self.refresh(path) == "", 15, "%s: recovered" % mode)
        self.assertTrue(self.get(path, DEVICE, "Online"))

    def test_changes_at_the_device_seen(self):
        # the relay switched by hand and a new reading reach the objects at the next poll
        # (the poll sets identity and state only when they changed)
        emu = self.start("P110(UK)_1.0_1.3.0.json", "klap")
        path = self.wait_online("dev", 20)
        for state, watts in (("off", 0.0), ("on", 123.456), ("off", 0.0), ("on", 7.5)):
            emu.command("relay " + state)
            if watts:
                emu.command("energy current_power=%d" % round(watts * 1000))
            self.wait_for(lambda: self.refresh(path) == "" and self.get(path, OUTLET, "On") == (state == "on")
                          and math.isclose(self.get(path, METER, "Power"), watts), 15, "%s, %s W" % (state, watts))

    def test_session_renewed_after_aes_timeout(self):
        emu = self.start("EP25(US)_2.6_1.0.1.json", "aes")
        path = self.wait_online("dev", 20)
        before = emu.state()["handshakes"]
        requests = emu.state()["requests"]
        emu.command("expire")
        self.call(path, DEVICE, "Refresh")
        self.wait_for(lambda: emu.state()["requests"] > requests, 10, "a poll after expire")
        self.assertEqual(self.get(path, DEVICE, "LastError"), "")
        self.assertEqual(emu.state()["handshakes"], before + 1)

    def test_outlets_paged(self):
        self.start("P316M(US)_1.6_1.0.5.json", "klap", emu_args=("--page-size", "2"))
        self.wait_online("dev", 20)
        objects = self.managed_objects()
        for i in range(1, 7):
            self.assertIn(device_path("dev_%d" % i), objects)
        self.assertNotIn(device_path("dev_7"), objects)

    def test_energy_counter_kept_across_restarts(self):
        emu = self.start("P110M(EU)_1.0_1.2.3.json", "klap")
        path = self.wait_online("dev", 20)
        start = self.get(path, METER, "Energy")
        today = load("P110M(EU)_1.0_1.2.3.json")["get_energy_usage"]["today_energy"]
        emu.command("energy today_energy=%d" % (today + 4))
        self.call(path, DEVICE, "Refresh")
        self.wait_prop(path, METER, "Energy", start + 4)
        self.stop_daemon()
        self.assertIn("total=%d\n" % (start + 4), open(os.path.join(self.state_dir, "kasa-energy.conf")).read())
        # while the daemon was away the device counted 3 Wh more
        emu.command("energy today_energy=%d" % (today + 7))
        self.start_daemon()
        self.wait_online("dev", 20)
        self.wait_prop(path, METER, "Energy", start + 7)

    def test_energy_counter_monotonic(self):
        emu = self.start("KP125M(US)_1.0_1.2.3.json", "klap")
        path = self.wait_online("dev", 20)
        start = self.get(path, METER, "Energy")
        today = load("KP125M(US)_1.0_1.2.3.json")["get_energy_usage"]["today_energy"]
        emu.command("energy today_energy=%d" % (today + 5))
        self.call(path, DEVICE, "Refresh")
        self.wait_prop(path, METER, "EnergyToday", float(today + 5))
        self.assertEqual(self.get(path, METER, "Energy"), start + 5)
        # a new day: today starts again from 2 Wh; the counter does not go back
        emu.command("energy today_energy=2")
        self.call(path, DEVICE, "Refresh")
        self.wait_prop(path, METER, "EnergyToday", 2.0)
        self.assertEqual(self.get(path, METER, "Energy"), start + 7)


def _make_test(name, transport, key):
    def test(self):
        self.run_fixture(name, transport, key)
    return test


for _name in FIXTURES:
    _base = "test_" + "".join(c if c.isalnum() else "_" for c in _name[:-len(".json")])
    for _transport in transports(load(_name)):
        # the fixture's own transport found by transport=auto, the other one named
        _native = load(_name)["discovery_result"]["result"]["mgt_encrypt_schm"]["encrypt_type"].lower()
        _key = "auto" if _transport == _native else _transport
        setattr(KasaSmartTest, "%s_%s" % (_base, _transport), _make_test(_name, _transport, _key))


if __name__ == "__main__":
    wbtest.main()
