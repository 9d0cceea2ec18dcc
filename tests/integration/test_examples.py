#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The examples in examples/shell and examples/python, run as a user would against the
real daemon and emulated Kasa devices, so that none of them rots. Expected values come
from the fixtures."""

import csv
import io
import os
import re
import subprocess

import envoybase as envoy
import uxtest
import wbtest
from uxtest import EXAMPLES
from wbtest import OUTLET, device_path

SHELL = os.path.join(EXAMPLES, "shell")
PYTHON = os.path.join(EXAMPLES, "python")


def sh(name):
    return os.path.join(SHELL, name)


def py(name):
    return os.path.join(PYTHON, name)


class ExamplesTest(uxtest.UxTest):

    # busctl

    def test_busctl_list(self):
        self.start()
        out = self.run_program([sh("busctl-list.sh"), "--session"])
        line = self.assert_kettle_line(out, "%g W" % self.reading["Power"])
        self.assertEqual(line.split()[:4], ["kettle", "outlet", "yes", "on"])
        self.assertTrue(line.endswith("Kettle"))
        rows = {row.split()[0]: row.split() for row in out.splitlines()[1:]}
        self.assertEqual(sorted(rows), ["garden", "garden_1", "garden_2", "garden_3", "kettle"])
        # a KP303 strip switches but does not measure
        sockets = [c["state"] for c in uxtest.fixture(uxtest.STRIP)["system"]["get_sysinfo"]["children"]]
        for i, state in enumerate(sockets):
            self.assertEqual(rows["garden_%d" % (i + 1)][3:5], ["on" if state else "off", "-"])
        self.assertEqual(rows["garden"][1:5], ["strip", "yes", "-", "-"])
        # WATTBUS_BUS=session picks the session bus too; without it, the system bus
        self.assertEqual(self.run_program([sh("busctl-list.sh")], WATTBUS_BUS="session"), out)
        self.run_program([sh("busctl-list.sh")], expect=1, DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent")
        self.run_program([sh("busctl-list.sh")], expect=2, WATTBUS_BUS="bogus")

    def test_busctl_read(self):
        self.start()
        out = self.run_program([sh("busctl-read.sh"), "--session", "kettle"])
        r = self.reading
        self.assertEqual(out.splitlines(), ["Power: %g W" % r["Power"], "Voltage: %g V" % r["Voltage"],
                                            "Current: %g A" % r["Current"], "Energy: %g Wh" % r["Energy"],
                                            # the plug's day and month statistics (none in the fixture)
                                            "EnergyToday: 0 Wh", "EnergyThisMonth: 0 Wh"])
        self.plug.command("emeter power_mw=1234500")
        self.wait_prop(device_path("kettle"), wbtest.METER, "Power", 1234.5)
        out = self.run_program([sh("busctl-read.sh"), "kettle"], WATTBUS_BUS="session")
        self.assertIn("Power: 1234.5 W", out)
        # a socket of a KP303 has no meter
        self.run_program([sh("busctl-read.sh"), "--session", "garden_1"], expect=1)

    def test_busctl_switch(self):
        self.start()
        out = self.run_program([sh("busctl-switch.sh"), "--session", "kettle", "off"])
        self.assertEqual(out, "kettle: off\n")
        self.assertEqual(self.plug.state()["sysinfo"]["relay_state"], 0)
        out = self.run_program([sh("busctl-switch.sh"), "--session", "garden_2", "toggle"])
        self.assertEqual(out, "garden_2: on\n")
        self.assertEqual(self.strip.state()["sysinfo"]["children"][1]["state"], 1)
        self.run_program([sh("busctl-switch.sh"), "--session", "nosuch", "on"], expect=1)
        self.run_program([sh("busctl-switch.sh"), "--session", "kettle", "up"], expect=2)

    # gdbus

    def test_gdbus_list(self):
        self.start()
        out = self.run_program([sh("gdbus-list.sh"), "--session"])
        lines = out.splitlines()
        self.assertEqual([line.split()[0] for line in lines], ["garden", "garden_1", "garden_2", "garden_3", "kettle"])
        kettle = dict(item.split("=", 1) for item in lines[-1].split()[1:])
        self.assertEqual(kettle["model"], "HS110(EU)")
        self.assertEqual(kettle["online"], "true")
        for prop, value in self.reading.items():
            self.assertAlmostEqual(float(kettle[prop]), value, places=9)
        self.assertEqual(lines[0], "garden model=KP303(US) online=true")

    def test_gdbus_read(self):
        self.start()
        out = self.run_program([sh("gdbus-read.sh"), "--session", "kettle"])
        self.assertEqual(out, "Power = %r\n" % self.reading["Power"])
        out = self.run_program([sh("gdbus-read.sh"), "kettle", "Energy", "Measured"], WATTBUS_BUS="session")
        self.assertEqual(out, "Energy = %r\nMeasured = ['Power', 'Voltage', 'Current', 'Energy', 'EnergyToday', 'EnergyThisMonth']\n"
                         % self.reading["Energy"])

    def test_gdbus_switch(self):
        self.start()
        self.assertEqual(self.run_program([sh("gdbus-switch.sh"), "--session", "kettle", "toggle"]),
                         "kettle: off\n")
        self.assertEqual(self.plug.state()["sysinfo"]["relay_state"], 0)
        self.assertEqual(self.run_program([sh("gdbus-switch.sh"), "--session", "kettle", "on"]),
                         "kettle: on\n")
        self.assertEqual(self.plug.state()["sysinfo"]["relay_state"], 1)

    def test_gdbus_watch(self):
        self.start()
        proc = self.start_program([sh("gdbus-watch.sh"), "--session"])
        lines = uxtest.LineReader(proc.stdout)
        one = self.start_program([sh("gdbus-watch.sh"), "--session", "garden_3"])
        one_lines = uxtest.LineReader(one.stdout)
        self.iterate(1)  # gdbus monitor subscribes
        self.plug.command("emeter power_mw=777000")
        lines.wait_for(lambda line: line == "kettle ElectricityMeter Power=777.0")
        self.call(device_path("garden_3"), OUTLET, "TurnOn")
        lines.wait_for(lambda line: line == "garden_3 Outlet On=true")
        one_lines.wait_for(lambda line: line == "garden_3 Outlet On=true")
        # the poll stamps are left out; the watch of one device sees only that one
        self.assertFalse([line for line in lines.seen if "LastSeen" in line])
        self.assertFalse([line for line in one_lines.seen if not line.startswith("garden_3 ")])

    # Python through gi.repository.Wattbus

    def test_python_gi_list_devices(self):
        self.start()
        out = self.run_program([py("list-devices.py"), "--session"])
        line = self.assert_kettle_line(out, "%.1f W" % self.reading["Power"])
        self.assertEqual(line.split()[:4], ["kettle", "outlet", "yes", "on"])
        self.assertEqual([row.split()[0] for row in out.splitlines()[1:]],
                         ["garden", "garden_1", "garden_2", "garden_3", "kettle"])
        self.assertEqual(self.run_program([py("list-devices.py")], WATTBUS_BUS="session"), out)
        # no system bus: exit 3, as wattbusctl
        self.run_program([py("list-devices.py")], expect=3)

    def test_python_gi_switch_outlet(self):
        self.start()
        self.assertEqual(self.run_program([py("switch-outlet.py"), "--session", "kettle", "off"]), "kettle: off\n")
        self.assertEqual(self.plug.state()["sysinfo"]["relay_state"], 0)
        self.assertEqual(self.run_program([py("switch-outlet.py"), "garden_3", "toggle"], WATTBUS_BUS="session"),
                         "garden_3: on\n")
        self.assertEqual(self.strip.state()["sysinfo"]["children"][2]["state"], 1)
        self.run_program([py("switch-outlet.py"), "--session", "nosuch", "on"], expect=4)
        self.plug.command("misbehave refuse")
        self.run_program([py("switch-outlet.py"), "--session", "kettle", "on"], expect=6)

    def test_python_gi_watch_power(self):
        self.start()
        proc = self.start_program([py("watch-power.py"), "--session"])
        lines = uxtest.LineReader(proc.stdout)
        # first the current power of every meter
        lines.wait_for(lambda line: line.endswith(" kettle %.1f W" % self.reading["Power"]))
        self.plug.command("emeter power_mw=2000000")
        lines.wait_for(lambda line: re.fullmatch(r"\d\d:\d\d:\d\d kettle 2000.0 W", line) is not None)
        # a device added later is watched too
        self.call(wbtest.ROOT, wbtest.IFACE, "AddDevice", ({
            "driver": wbtest.GLib.Variant("s", "kasa"), "address": wbtest.GLib.Variant("s", self.plug.address),
            "id": wbtest.GLib.Variant("s", "kettle2")},), "(a{sv})")
        lines.wait_for(lambda line: line.endswith(" kettle2 2000.0 W"))

    def test_python_gi_export_csv(self):
        self.start()
        path = os.path.join(self.tmp, "readings.csv")
        proc = self.start_program([py("export-csv.py"), "--session", "--seconds", "3", "--output", path, "kettle"])
        self.wait_for(lambda: os.path.exists(path) and os.path.getsize(path) > 40, 10, "the first row")
        self.plug.command("emeter power_mw=1500000 current_ma=6500")
        self.assertEqual(proc.wait(15), 0)
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(rows[0]["id"], "kettle")
        for prop, value in self.reading.items():
            self.assertAlmostEqual(float(rows[0][prop.lower()]), value, places=9)
        changed = [row for row in rows if float(row["power"]) == 1500.0]
        self.assertTrue(changed, rows)
        self.assertEqual(float(changed[0]["current"]), 6.5)
        # one row per update, however many values changed in it
        self.assertEqual(len(changed), 1, rows)
        self.assertEqual({row["id"] for row in rows}, {"kettle"})
        # the standard output, every meter (the KP303 strip has none)
        out = self.run_program([py("export-csv.py"), "--session", "--seconds", "0.5"])
        rows = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual([row["id"] for row in rows], ["kettle"])


class InverterExamplesTest(uxtest.UxTest):
    """Every device that produces or consumes power shows it in every example: the 40
    microinverters of an Envoy (Inverter.Power, role production) besides the plugs."""

    FOLDER = "5.0.62"

    def start(self):
        emu = envoy.EnvoyTest.gateway(self, self.FOLDER, stream=None)
        self.write_config("[device kettle]\ndriver=kasa\naddress=%s\npoll-interval=1\n\n"
                          "[device envoy]\ndriver=envoy\naddress=%s\npoll-interval=60\n"
                          % (self.plug.address, emu.address))
        os.environ["STATE_DIRECTORY"] = self.state_dir
        self.start_daemon()
        self.wait_online("kettle")
        self.wait_online("envoy", 15)
        self.inverters = envoy.expected_inverters(self.FOLDER)
        ids = ["envoy_inverter_%s" % s for s in self.inverters]
        self.wait_for(lambda: all(device_path(i) in self.managed_objects() for i in ids), 15, "the inverters")

    def check_listing(self, out, power_format):
        rows = {row.split()[0]: row for row in out.splitlines()[1:]}
        for serial, values in self.inverters.items():
            row = rows["envoy_inverter_%s" % serial]
            self.assertIn(power_format % values["Power"], row)
            self.assertIn(" production ", row)
        self.assertIn(" load ", rows["kettle"])

    def test_busctl_list_inverters(self):
        self.start()
        self.check_listing(self.run_program([sh("busctl-list.sh"), "--session"]), "%g W")

    def test_python_gi_list_devices_inverters(self):
        self.start()
        self.check_listing(self.run_program([py("list-devices.py"), "--session"]), "%.1f W")

    def test_python_gi_watch_power_inverters(self):
        self.start()
        proc = self.start_program([py("watch-power.py"), "--session"])
        lines = uxtest.LineReader(proc.stdout)
        expected = {" envoy_inverter_%s %.1f W" % (serial, values["Power"]) for serial, values in self.inverters.items()}
        seen = set()

        def all_seen(line):
            seen.update(e for e in expected if line.endswith(e))
            return seen == expected
        lines.wait_for(all_seen)

    def test_python_gi_without_typelib(self):
        """Run as from a fresh build tree without the exports: the lines to type, not a
        ValueError traceback."""
        proc = subprocess.run(["/usr/bin/python3", py("list-devices.py"), "--session"],
                              env=self.user_env(GI_TYPELIB_PATH="/nonexistent", LD_LIBRARY_PATH="/nonexistent"),
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertNotIn("Traceback", proc.stderr)
        self.assertNotIn("ValueError", proc.stderr)
        self.assertIn("export GI_TYPELIB_PATH=", proc.stderr)
        self.assertIn("LD_LIBRARY_PATH=", proc.stderr)


class SystemBusExamplesTest(uxtest.UxTest):
    """The default bus is the system bus; there switching needs polkit (mocked here)."""

    system_bus = True

    def setUp(self):
        super().setUp()
        # python-dbusmock's polkitd, as in test_polkit.py (wbtest.DaemonTest's helpers are used below)
        self.polkit = subprocess.Popen(["/usr/bin/python3", "-m", "dbusmock", "--system", "--template", "polkitd"],
                                       env={"DBUS_SYSTEM_BUS_ADDRESS": self.bus.address, "PATH": "/usr/bin:/bin"},
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_for(lambda: wbtest.DaemonTest.polkit_up(self), 10, "mock polkitd")

    def test_shell_system_bus(self):
        self.start()
        out = self.run_program([sh("busctl-list.sh")], bus="system")
        self.assert_kettle_line(out, "%g W" % self.reading["Power"])
        out = self.run_program([sh("gdbus-read.sh"), "--system", "kettle"], bus="system")
        self.assertEqual(out, "Power = %r\n" % self.reading["Power"])
        wbtest.DaemonTest.allow(self)
        self.run_program([sh("busctl-switch.sh"), "kettle", "off"], bus="system", expect=1)
        self.run_program([sh("gdbus-switch.sh"), "kettle", "off"], bus="system", expect=1)
        self.assertEqual(self.plug.state()["sysinfo"]["relay_state"], 1)
        wbtest.DaemonTest.allow(self, "org.wattbus.Wattbus1.switch-outlet")
        self.assertEqual(self.run_program([sh("busctl-switch.sh"), "kettle", "off"], bus="system"), "kettle: off\n")
        self.assertEqual(self.run_program([sh("gdbus-switch.sh"), "kettle", "on"], bus="system"), "kettle: on\n")

    def test_python_gi_system_bus(self):
        self.start()
        out = self.run_program([py("list-devices.py")], bus="system")
        self.assert_kettle_line(out, "%.1f W" % self.reading["Power"])
        wbtest.DaemonTest.allow(self)
        self.run_program([py("switch-outlet.py"), "kettle", "off"], bus="system", expect=1)
        wbtest.DaemonTest.allow(self, "org.wattbus.Wattbus1.switch-outlet")
        self.assertEqual(self.run_program([py("switch-outlet.py"), "--system", "kettle", "off"], bus="system"),
                         "kettle: off\n")
        self.assertEqual(self.plug.state()["sysinfo"]["relay_state"], 0)


if __name__ == "__main__":
    wbtest.main()
