#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Every real device response in tests/data/kasa maps to the right objects and values.

One test per fixture. The expected values are worked out here, from the fixture file,
by the normalisation rules of the Kasa spec (bare keys as-is, milli-unit keys / 1000,
kWh totals x 1000 to Wh), independently of the daemon's C code.
"""

import glob
import json
import math
import os

import wbtest
from wbtest import DEVICE, METER, OUTLET, device_path

FIXTURES = sorted(os.path.basename(p) for p in glob.glob(os.path.join(wbtest.KASA_FIXTURES, "*.json")))


def expected_reading(realtime, on):
    """SI values the meter must show, or None for what the device does not measure."""
    def pick(bare, milli):
        if isinstance(realtime.get(bare), (int, float)):
            return float(realtime[bare])
        if isinstance(realtime.get(milli), (int, float)):
            return realtime[milli] / 1000.0
        return None

    energy = None
    if isinstance(realtime.get("total"), (int, float)):
        energy = realtime["total"] * 1000.0
    elif isinstance(realtime.get("total_wh"), (int, float)):
        energy = float(realtime["total_wh"])
    values = {
        "Power": pick("power", "power_mw"),
        "Voltage": pick("voltage", "voltage_mv"),
        "Current": pick("current", "current_ma"),
        "Energy": energy,
    }
    if not on:
        # the emulator, like a real plug, reports no load through an open relay
        values["Power"] = 0.0 if values["Power"] is not None else None
        values["Current"] = 0.0 if values["Current"] is not None else None
    return {k: v for k, v in values.items() if v is not None}


def realtime_of(fixture):
    emeter = fixture.get("emeter")
    if not isinstance(emeter, dict) or "get_realtime" not in emeter:
        return None
    rt = emeter["get_realtime"]
    if rt.get("err_code", 0) != 0:
        return None
    return rt


class KasaFixtureTest(wbtest.DaemonTest):

    def check_meter(self, path, expected):
        props = self.get_all(path, METER)
        self.assertEqual(sorted(props["Measured"]), sorted(expected.keys()))
        for name in ("Power", "Voltage", "Current", "Energy", "PowerFactor", "Frequency",
                     "ReactivePower", "ApparentPower", "EnergyToday", "EnergyThisMonth"):
            if name in expected:
                self.assertTrue(math.isclose(props[name], expected[name], rel_tol=1e-9, abs_tol=1e-9),
                                "%s %s: %r != %r" % (path, name, props[name], expected[name]))
            else:
                self.assertTrue(math.isnan(props[name]), "%s %s should be NaN, is %r" % (path, name, props[name]))
        self.assertEqual(props["Phases"], 0)
        self.assertEqual(props["PhasePower"], [])

    def run_fixture(self, name):
        with open(os.path.join(wbtest.KASA_FIXTURES, name)) as f:
            fixture = json.load(f)
        sysinfo = fixture["system"]["get_sysinfo"]
        klap = "discovery_result" in fixture and \
            fixture["discovery_result"]["result"]["mgt_encrypt_schm"]["encrypt_type"] == "KLAP"
        emu = self.emulator(name, *(["--klap"] if klap else []))
        extra = "http-port=%d\n" % emu.http_port if klap else ""
        self.write_config("[device dev]\ndriver=kasa\naddress=%s\npoll-interval=30\n%s" % (emu.address, extra))
        self.start_daemon()
        path = device_path("dev")

        if klap:
            self.wait_for(lambda: "KLAP" in self.get(path, DEVICE, "LastError"), 15, "KLAP reported")
            self.assertFalse(self.get(path, DEVICE, "Online"))
            return

        self.wait_online("dev")
        state = emu.state()
        dev_id = state["sysinfo"]["deviceId"] if "sysinfo" in state else sysinfo["deviceId"]
        props = self.get_all(path, DEVICE)
        self.assertEqual(props["Id"], "dev")
        self.assertEqual(props["Driver"], "kasa")
        self.assertEqual(props["Vendor"], "TP-Link")
        self.assertEqual(props["Model"], sysinfo["model"])
        self.assertEqual(props["HardwareVersion"], sysinfo["hw_ver"])
        self.assertEqual(props["FirmwareVersion"], sysinfo["sw_ver"])
        self.assertEqual(props["MacAddress"], sysinfo["mac"].lower().replace("-", ":"))
        self.assertEqual(props["SerialNumber"], dev_id)
        self.assertEqual(props["Name"], sysinfo["alias"])
        self.assertEqual(props["Address"], emu.address)
        self.assertEqual(props["Parent"], "/")
        self.assertEqual(props["LastError"], "")
        self.assertGreater(props["LastSeen"], 0)

        objects = self.managed_objects()
        interfaces = objects[path]
        realtime = realtime_of(fixture)
        metered = "ENE" in sysinfo.get("feature", "").split(":") and realtime is not None
        children = sysinfo.get("children", [])

        if not children:
            self.assertEqual(props["Kind"], "outlet")
            self.assertIn(OUTLET, interfaces)
            self.assertEqual(self.get(path, OUTLET, "On"), sysinfo["relay_state"] == 1)
            self.assertEqual(METER in interfaces, metered)
            if metered:
                # a plug's day and month statistics: none in the fixtures, so the emulator's
                # lists are empty, and a missing entry is 0 Wh (kasa.md §8.2)
                exp = dict(expected_reading(realtime, sysinfo["relay_state"] == 1),
                           EnergyToday=0.0, EnergyThisMonth=0.0)
                self.check_meter(path, exp)
            self.assertEqual([p for p in objects if p.startswith(path + "_")], [])
            return

        # a strip: no relay of its own, one child object per socket
        self.assertEqual(props["Kind"], "strip")
        self.assertNotIn(OUTLET, interfaces)
        self.assertEqual(METER in interfaces, metered)
        readings = []
        for i, child in enumerate(children):
            child_path = device_path("dev_%d" % (i + 1))
            self.assertIn(child_path, objects)
            cprops = self.get_all(child_path, DEVICE)
            self.assertEqual(cprops["Kind"], "outlet")
            self.assertEqual(cprops["Parent"], path)
            self.assertEqual(cprops["Name"], child["alias"])
            self.assertEqual(cprops["SerialNumber"], dev_id + "%02d" % i)
            self.assertTrue(cprops["Online"])
            self.assertEqual(self.get(child_path, OUTLET, "On"), child["state"] == 1)
            self.assertEqual(METER in objects[child_path], metered)
            if metered:
                exp = expected_reading(realtime, child["state"] == 1)
                self.check_meter(child_path, exp)
                readings.append(exp)
        self.assertNotIn(device_path("dev_%d" % (len(children) + 1)), objects)
        if metered:
            total = {
                "Power": sum(r["Power"] for r in readings),
                "Current": sum(r["Current"] for r in readings),
                "Energy": sum(r["Energy"] for r in readings),
                "Voltage": sum(r["Voltage"] for r in readings) / len(readings),
            }
            self.check_meter(path, total)


def _make_test(name):
    def test(self):
        self.run_fixture(name)
    return test


for _name in FIXTURES:
    _method = "test_" + "".join(c if c.isalnum() else "_" for c in _name[:-len(".json")])
    setattr(KasaFixtureTest, _method, _make_test(_name))


if __name__ == "__main__":
    wbtest.main()
