#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Tuya hubs end to end: a hub (gateway) of the Tuya emulator with the two Zigbee meters of
tests/data/tuya/meters.json as sub-devices, on 3.3, 3.4 and 3.5, over one real socket.
Each sub-device is a child of the hub with the interfaces of its profile, reads the values
the fixture gives, switches like a direct device, and gets only the frames that name its
cid, even when the other sub-device's pushes come in between.
"""

import json
import math
import os

import wbtest
from wbtest import DEVICE, IFACE, METER, OUTLET, ROOT, device_path
from tuyabase import KEY, TUYA, TuyaBase

with open(os.path.join(wbtest.SOURCE_DIR, "tests", "data", "tuya", "meters.json")) as f:
    HUB = json.load(f)["devices"][0]
SUBS = {s["cid"]: s for s in HUB["sub_devices"]}
DIN, CLAMP = "a4c13862d1e5f0a7", "a4c1385b9e20c3d1"
UNKNOWN = "a4c13817b2d6e908"


class TuyaHubTest(TuyaBase):

    def hub(self, version, *extra, subs=(DIN, CLAMP), poll=1):
        args = ["--device-id", HUB["gateway"]["dev_id"]]
        for cid in subs:
            args += ["--sub", "%s=%s" % (cid, json.dumps(SUBS[cid]["dps"]) if cid in SUBS else '{"1": true}')]
        emu = self.tuya(*(args[2:] + list(extra)), version=version, device_id=HUB["gateway"]["dev_id"])
        config = self.section("hub", emu, profile="gateway", poll=poll)
        config += ("[device din]\ndriver=tuya\ngateway=hub\nnode-id=%s\nprofile=din-meter-1p-zigbee\n\n"
                   "[device clamp]\ndriver=tuya\ngateway=hub\nnode-id=%s\nprofile=clamp-meter-2ch\n\n" % (DIN, CLAMP))
        self.start_with([config], online=["hub"])
        return emu

    def close(self, path, prop, value):
        got = self.get(path, METER, prop)
        self.assertTrue(math.isclose(got, value, abs_tol=1e-6), "%s = %r, not %r" % (prop, got, value))

    def check_hub(self, version):
        emu = self.hub(version)
        din, clamp = device_path("din"), device_path("clamp")
        self.wait_for(lambda: not math.isnan(self.get(din, METER, "Power")), 10, "the DIN meter's power")
        self.wait_for(lambda: not math.isnan(self.get(clamp, METER, "Power")), 10, "the clamp's power")
        # children of the hub, one connection
        self.assertEqual(self.get(din, DEVICE, "Parent"), device_path("hub"))
        self.assertEqual(self.get(clamp, DEVICE, "Parent"), device_path("hub"))
        self.assertEqual(self.get(device_path("hub"), DEVICE, "Kind"), "gateway")
        self.assertEqual(emu.state()["connections"], 1)
        self.assertTrue(self.get(din, DEVICE, "Online"))
        # the fixture's values
        want = SUBS[DIN]["expected"]
        self.close(din, "Voltage", want["voltage_v"])
        self.close(din, "Current", want["current_a"])
        self.close(din, "Power", want["power_w"])
        self.close(din, "Frequency", want["frequency_hz"])
        self.close(din, "Energy", want["energy_forward_kwh"] * 1000)
        self.close(din, "EnergyExported", want["energy_reverse_kwh"] * 1000)
        self.assertEqual(self.get(din, OUTLET, "On"), want["switch_on"])
        self.assertEqual(self.get(din, TUYA, "DeviceId"), DIN)
        want = SUBS[CLAMP]["expected"]
        self.close(clamp, "Power", want["total_power_w"])
        self.close(clamp, "Voltage", want["voltage_v"])
        self.close(clamp, "Energy", want["energy_forward_kwh"] * 1000)
        self.assertEqual(list(self.get(clamp, METER, "PhasePower")),
                         [want["channel_a"]["power_w"], want["channel_b"]["power_w"]])
        # the hub has no DPs of its own: none of its children's reached it
        self.assertEqual(self.get(device_path("hub"), TUYA, "Dps"), {})

        # a sub-device switches like a direct device: the version's set command with its cid
        self.call(din, OUTLET, "TurnOff")
        self.assertFalse(self.get(din, OUTLET, "On"))
        self.assertIs(emu.state()["subs"][DIN]["16"], False)
        self.call(din, OUTLET, "Toggle")
        self.assertTrue(self.get(din, OUTLET, "On"))
        writes = emu.writes()
        self.assertEqual({w["cmd"] for w in writes}, {0x0D if version in ("3.4", "3.5") else 0x07})
        for w in writes:
            payload = w["payload"]
            cid = payload.get("cid") or payload.get("data", {}).get("cid")
            self.assertEqual(cid, DIN)
            # 3.3: only t, cid and dps (hubs refuse gwId/devId with "devid not found")
            self.assertNotIn("devId", payload)
        # the clamp was not touched
        self.assertNotIn("16", emu.state()["subs"][CLAMP])
        self.assert_daemon_alive()
        self.assert_secret_kept()

    def test_hub_v33(self):
        self.check_hub("3.3")

    def test_hub_v34(self):
        self.check_hub("3.4")

    def test_hub_v35(self):
        self.check_hub("3.5")

    def test_pushes_never_cross(self):
        # every read of one sub-device comes after pushes of the other; a third, unknown
        # cid pushes too
        emu = self.hub("3.4", "--interleave", subs=(DIN, CLAMP, UNKNOWN))
        din, clamp = device_path("din"), device_path("clamp")
        self.wait_for(lambda: not math.isnan(self.get(clamp, METER, "Power")), 10, "the clamp's power")
        for i in range(5):
            emu.command("subset %s 104 %d" % (DIN, 100 + i))
            emu.command("subset %s 115 %d" % (CLAMP, 5000 + i))
            emu.command("subset %s 1 false" % UNKNOWN)
            self.wait_prop(din, METER, "Power", 100.0 + i)
            self.wait_prop(clamp, METER, "Power", (5000 + i) / 10)
        # the fixture's step 4 and 6 pushes of the clamp reach only the clamp
        emu.command("subset %s 101 11870" % CLAMP)
        emu.command("subset %s 102 \"REVERSE\"" % CLAMP)
        self.wait_for(lambda: self.get(clamp, METER, "PhasePower")[0] == -1187.0, 10, "channel A reversed")
        self.close(din, "Power", 104.0)
        # both have a DP 104 (the meter's power, the clamp's direction B): each its own
        self.assertEqual(self.get(din, TUYA, "Dps")["104"], 104)
        self.assertEqual(self.get(clamp, TUYA, "Dps")["104"], "FORWARD")
        self.assertNotIn("115", self.get(din, TUYA, "Dps"))
        self.assertNotIn("16", self.get(clamp, TUYA, "Dps"))
        self.assertEqual(self.get(device_path("hub"), TUYA, "Dps"), {})
        self.assertIn("DPs for cid %s, which no configured sub-device has" % UNKNOWN, self.daemon_log())

    def reports(self):
        return self.daemon_log().count("the hub's online/offline report:")

    def check_online_report(self, version):
        # the hub's 0x40 report, asked on each poll, sets each sub-device's Online; a hub
        # answers reads of an offline sub-device from its cache, which proves nothing
        emu = self.hub(version, subs=(DIN, CLAMP, UNKNOWN))
        din, clamp = device_path("din"), device_path("clamp")
        self.wait_for(lambda: not math.isnan(self.get(clamp, METER, "Power")), 10, "the clamp's power")
        self.wait_for(lambda: self.reports() > 0, 10, "a report")
        self.assertTrue(self.get(clamp, DEVICE, "Online"))
        emu.command("subonline %s false" % CLAMP)
        self.wait_for(lambda: not self.get(clamp, DEVICE, "Online"), 10, "the clamp offline")
        self.assertEqual(self.get(clamp, DEVICE, "LastError"), "The hub reports the sub-device offline")
        # its sibling and the hub stay online, the sibling keeps switching and reading
        self.assertTrue(self.get(din, DEVICE, "Online"))
        self.assertTrue(self.get(device_path("hub"), DEVICE, "Online"))
        self.call(din, OUTLET, "TurnOff")
        self.assertFalse(self.get(din, OUTLET, "On"))
        self.call(din, OUTLET, "TurnOn")
        self.assertTrue(self.get(din, OUTLET, "On"))
        emu.command("subset %s 104 55" % DIN)
        self.wait_prop(din, METER, "Power", 55.0)
        # the clamp's cached replies and pushes over two more polls do not bring it back
        emu.command("subset %s 115 4321" % CLAMP)
        self.wait_prop(clamp, METER, "Power", 432.1)
        seen = self.reports()
        self.wait_for(lambda: self.reports() >= seen + 2, 10, "two more reports")
        self.assertFalse(self.get(clamp, DEVICE, "Online"))
        self.assertTrue(self.get(din, DEVICE, "Online"))
        # back online
        emu.command("subonline %s true" % CLAMP)
        self.wait_for(lambda: self.get(clamp, DEVICE, "Online"), 10, "the clamp online again")
        self.assertEqual(self.get(clamp, DEVICE, "LastError"), "")
        # the report names a cid no sub-device has: ignored
        self.assertIn("names cid %s, which no configured sub-device has" % UNKNOWN, self.daemon_log())
        self.assertEqual(emu.state()["connections"], 1)
        self.assert_daemon_alive()

    def test_online_report_v34(self):
        self.check_online_report("3.4")

    def test_online_report_v35(self):
        self.check_online_report("3.5")

    def test_pushed_online_report(self):
        # a report the hub pushes unasked counts like an answer (no poll in between)
        emu = self.hub("3.5", poll=300)
        din, clamp = device_path("din"), device_path("clamp")
        self.wait_for(lambda: not math.isnan(self.get(clamp, METER, "Power")), 10, "the clamp's power")
        self.wait_for(lambda: self.reports() > 0, 10, "the first poll's report")
        seen = self.reports()
        emu.command("subonline %s false" % DIN)
        emu.command("subreport")
        self.wait_for(lambda: not self.get(din, DEVICE, "Online"), 10, "the DIN meter offline")
        self.assertEqual(self.get(din, DEVICE, "LastError"), "The hub reports the sub-device offline")
        self.assertTrue(self.get(clamp, DEVICE, "Online"))
        emu.command("subonline %s true" % DIN)
        emu.command("subreport")
        self.wait_for(lambda: self.get(din, DEVICE, "Online"), 10, "the DIN meter online again")
        self.assertEqual(self.reports(), seen + 2)
        self.assert_daemon_alive()

    def test_reload(self):
        emu = self.hub("3.3")
        din, clamp, hub = device_path("din"), device_path("clamp"), device_path("hub")
        self.wait_for(lambda: not math.isnan(self.get(din, METER, "Power")), 10, "the DIN meter's power")
        # the hub changes: its sub-devices go and come back with it
        config = self.section("hub", emu, profile="gateway", poll=2)
        subs = "[device din]\ndriver=tuya\ngateway=hub\nnode-id=%s\nprofile=din-meter-1p-zigbee\n\n" % DIN
        self.write_config(config + subs + "[device clamp]\ndriver=tuya\ngateway=hub\nnode-id=%s\n"
                          "profile=clamp-meter-2ch\n\n" % CLAMP)
        self.call(ROOT, IFACE, "Reload")
        self.wait_online("hub")
        self.assertEqual(self.get(hub, DEVICE, "PollInterval"), 2)
        self.wait_for(lambda: not math.isnan(self.get(din, METER, "Power")), 10, "the DIN meter again")
        self.wait_for(lambda: not math.isnan(self.get(clamp, METER, "Power")), 10, "the clamp again")
        self.assertEqual(self.get(clamp, DEVICE, "Parent"), hub)
        # one sub-device goes; the other and the hub stay
        self.write_config(config + subs)
        self.call(ROOT, IFACE, "Reload")
        self.wait_for(lambda: device_path("clamp") not in [str(p) for p in self.managed_objects()], 10,
                      "the clamp gone")
        self.assertEqual(self.get(din, DEVICE, "Parent"), hub)
        emu.command("subset %s 104 77" % DIN)
        self.wait_prop(din, METER, "Power", 77.0)
        self.assert_daemon_alive()

    def test_missing_gateway(self):
        emu = self.tuya(version="3.3")
        config = self.section("plug", emu)
        config += "[device orphan]\ndriver=tuya\ngateway=nohub\nnode-id=%s\nprofile=din-meter-1p-zigbee\n\n" % DIN
        config += "[device bad]\ndriver=tuya\ngateway=plug\nprofile=din-meter-1p-zigbee\n\n"
        self.start_with([config], online=["plug"])
        self.wait_for(lambda: "its gateway 'nohub' is not a configured device" in self.daemon_log(), 10,
                      "the missing gateway in the log")
        self.wait_for(lambda: "node-id is missing" in self.daemon_log(), 10, "the missing node-id in the log")
        paths = [str(p) for p in self.managed_objects()]
        self.assertNotIn(device_path("orphan"), paths)
        self.assertNotIn(device_path("bad"), paths)
        self.assertIn(device_path("plug"), paths)


if __name__ == "__main__":
    wbtest.main()
