#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Every fixture folder in tests/data/envoy, served by the emulator, gives the right
objects with the right values.

One test per folder. The credentials are the ordinary ones (user envoy on old firmware,
an owner token on new), which the gateway does not let read /stream/meter, so every
value is a polled one; the expected values are worked out in envoybase from
the fixture's JSON.
"""

import math

import envoybase as common
import wbtest
from envoybase import BATTERY, DEVICE, GATEWAY, INVERTER, METER


class EnvoyFixtureTest(common.EnvoyTest):

    def check_folder(self, folder):
        emu = self.gateway(folder)
        keys = {"inverter_interval": 20}
        if emu.scheme == "https":
            keys["token"] = emu.token("owner")
        path = self.start_envoy(emu, **keys)

        gw = self.get_all(path, DEVICE)
        self.assertEqual(gw["Kind"], "gateway")
        self.assertEqual(gw["Driver"], "envoy")
        self.assertEqual(gw["SerialNumber"], common.info_field(folder, "sn"))
        self.assertEqual(gw["Model"], common.info_field(folder, "pn"))
        self.assertEqual(gw["FirmwareVersion"], common.info_field(folder, "software"))
        self.assertEqual(gw["LastError"], "")

        expected, phases = common.expected_meters(folder)
        expected_inv = common.expected_inverters(folder)
        grid, aggregate, batteries = common.expected_batteries(folder)
        n_batteries = len(batteries) + (1 if aggregate else 0)
        self.wait_for(lambda: len(self.children(path)) ==
                      len(expected) + len(expected_inv) + n_batteries, 10,
                      "%d meters, %d inverters and %d batteries" %
                      (len(expected), len(expected_inv), n_batteries))
        meters = self.meter_paths(path)
        self.assertEqual(sorted(meters), sorted(expected))
        for measurement, values in expected.items():
            mpath = meters[measurement]
            self.assertEqual(self.get(mpath, DEVICE, "Kind"), "meter")
            actual = self.get_all(mpath, METER)
            self.assert_values(actual, values, "%s %s" % (folder, measurement))
            # what the gateway does not give is NaN and not listed, never a zero
            measured = set(actual["Measured"])
            for prop in ("Power", "Voltage", "Current", "Energy", "PowerFactor", "Frequency",
                         "ReactivePower", "ApparentPower", "EnergyExported", "EnergyToday"):
                if prop in values:
                    self.assertIn(prop, measured, "%s %s" % (folder, measurement))
                else:
                    self.assertTrue(math.isnan(actual[prop]), "%s %s %s" % (folder, measurement, prop))
                    self.assertNotIn(prop, measured)
            has_phases = any(k.startswith("Phase") for k in values)
            self.assertEqual(actual["Phases"], phases if has_phases else 0, measurement)

        inverters = {}
        for cpath, ifaces in self.children(path).items():
            if INVERTER in ifaces:
                self.assertEqual(ifaces[DEVICE]["Kind"], "inverter")
                inverters[ifaces[DEVICE]["SerialNumber"]] = ifaces[INVERTER]
        self.assertEqual(sorted(inverters), sorted(expected_inv))
        for serial, values in expected_inv.items():
            self.assert_values(inverters[serial], values, "inverter " + serial)
        self.check_batteries(folder, path, grid, aggregate, batteries)
        self.assert_daemon_alive()

    def check_batteries(self, folder, path, grid, aggregate, batteries):
        self.assertEqual(self.get(path, GATEWAY, "GridState"), grid, folder)
        found = {}
        aggregates = []
        for cpath, ifaces in self.children(path).items():
            if BATTERY not in ifaces:
                continue
            self.assertEqual(ifaces[DEVICE]["Kind"], "battery")
            if ifaces[BATTERY]["Aggregate"]:
                aggregates.append(ifaces[BATTERY])
            else:
                found[ifaces[DEVICE]["SerialNumber"]] = ifaces[BATTERY]
        self.assertEqual(sorted(found), sorted(batteries), folder)
        self.assertEqual(len(aggregates), 1 if aggregate else 0, folder)
        checks = [("batteries", aggregates[0], aggregate)] if aggregate else []
        checks += [("battery " + s, found[s], v) for s, v in batteries.items()]
        for what, actual, values in checks:
            what = "%s %s" % (folder, what)
            self.assertEqual(actual["State"], values["State"], what)
            numbers = {k: float(v) for k, v in values.items() if k != "State"}
            self.assert_values(actual, numbers, what)
            for key in common.NAN_KEYS:
                if key not in numbers:
                    self.assertTrue(math.isnan(actual[key]), "%s %s" % (what, key))
            self.assertEqual(sorted(actual["Measured"]), sorted(values), what)


def _make(folder):
    def test(self):
        self.check_folder(folder)
    return test


for _folder in common.FOLDERS:
    setattr(EnvoyFixtureTest, "test_" + _folder.replace(".", "_"), _make(_folder))


if __name__ == "__main__":
    wbtest.main()
