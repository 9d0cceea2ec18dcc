#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The exporter core, seen from outside: the Exporter D-Bus interface and its methods,
polkit, wattbusctl exporters, Reload, the rate settings, child devices, and the spool
file. The EmonCMS emulator is the sink."""

import json
import os
import subprocess
import time

import wbtest
from emoncmsemu import EXPORTER, PLUG, STRIP, WRITE_KEY, ExporterTest, exporter_path
from wbtest import METER, device_path

ERR = "org.wattbus.Wattbus1.Error."


class ExporterCoreTest(ExporterTest):

    def ctl(self, *args):
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=self.bus.address, WATTBUS_BUS="session")
        env.pop("G_MESSAGES_DEBUG", None)
        return subprocess.run([os.environ["WATTBUSCTL"]] + list(args), env=env,
                              capture_output=True, text=True, timeout=20)

    def test_disable_enable_flush(self):
        self.start_emoncms()
        plug = self.emulator(PLUG, "--alias", "plug")
        self.write_config(self.device_config("plug", plug) + self.exporter_config())
        self.start_daemon()
        path = exporter_path("emon")
        self.wait_stored("plug", "Power", lambda v: len(v) > 0)

        self.call(path, EXPORTER, "Disable")
        self.assertEqual(self.exp("State"), "disabled")
        name, message = self.call_error(path, EXPORTER, "Flush")
        self.assertEqual(name, ERR + "NotSupported")
        self.assertIn("disabled", message)
        # disabled: collected, not sent
        plug.command("emeter power_mw=3000")
        self.wait_exp("Queued", lambda q: q >= 1)
        self.iterate(1.5)
        self.assertEqual([v for _, v in self.emoncms.values("plug", "Power")], [61.753])

        self.call(path, EXPORTER, "Enable")
        self.wait_stored("plug", "Power", lambda v: v and v[-1][1] == 3.0)
        self.wait_exp("Queued", lambda q: q == 0)
        self.assertEqual(self.exp("State"), "connected")
        self.call(path, EXPORTER, "Flush")

    def test_disabled_in_config(self):
        self.start_emoncms()
        plug = self.emulator(PLUG)
        self.write_config(self.device_config("plug", plug) + self.exporter_config(enabled="false"))
        self.start_daemon()
        self.wait_online("plug")
        self.wait_exp("Queued", lambda q: q >= 1)
        self.assertEqual(self.exp("State"), "disabled")
        self.assertEqual(self.emoncms.stored(), [])

    def test_wattbusctl_exporters(self):
        self.start_emoncms()
        plug = self.emulator(PLUG)
        self.write_config(self.device_config("plug", plug) + self.exporter_config())
        self.start_daemon()
        self.wait_exp("Sent", lambda s: s > 0)
        out = self.ctl("exporters")
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        self.assertEqual(lines[0].split()[:4], ["ID", "KIND", "TARGET", "STATE"])
        self.assertEqual(lines[1].split()[:4], ["emon", "emoncms", "127.0.0.1", "connected"])
        out = self.ctl("exporters", "--json")
        self.assertEqual(out.returncode, 0, out.stderr)
        data = json.loads(out.stdout)
        self.assertEqual(data[0]["id"], "emon")
        self.assertGreater(data[0]["sent"], 0)
        self.assertNotIn(WRITE_KEY, out.stdout)
        out = self.ctl("exporters", "disable", "emon")
        self.assertEqual((out.returncode, out.stdout), (0, "Exporter emon: disabled\n"))
        self.assertEqual(self.exp("State"), "disabled")
        self.assertEqual(self.ctl("exporters", "enable", "emon").returncode, 0)
        self.assertEqual(self.ctl("exporters", "flush", "nope").returncode, 4)
        self.assertEqual(self.ctl("exporters", "explode", "emon").returncode, 2)

    def test_reload_adds_changes_and_removes(self):
        self.start_emoncms()
        plug = self.emulator(PLUG, "--alias", "plug")
        self.write_config(self.device_config("plug", plug) + self.exporter_config("one"))
        self.start_daemon()
        self.wait_stored("plug", "Power", lambda v: len(v) > 0)
        sent = self.exp("Sent", "one")
        # a second exporter starts with what the devices show now
        self.write_config(self.device_config("plug", plug) + self.exporter_config("one") +
                          self.exporter_config("two", node="plug:second"))
        self.call(wbtest.ROOT, wbtest.IFACE, "Reload")
        self.wait_stored("second", "Power", lambda v: [x for _, x in v] == [61.753])
        # the unchanged one was left alone: its counters go on
        self.assertGreaterEqual(self.exp("Sent", "one"), sent)
        self.write_config(self.device_config("plug", plug) + self.exporter_config("two", node="plug:second"))
        self.call(wbtest.ROOT, wbtest.IFACE, "Reload")
        self.assertNotIn(exporter_path("one"), self.managed_objects())
        self.assertIn(exporter_path("two"), self.managed_objects())

    def test_children_and_min_interval(self):
        self.start_emoncms()
        strip = self.emulator(STRIP)
        self.write_config(self.device_config("strip", strip) +
                          self.exporter_config(devices="strip_3", values="Power", min_interval=3))
        self.start_daemon()
        first = self.wait_stored("strip", "3_Power", lambda v: len(v) == 1)
        # two changes within the three seconds after the first reading: held back,
        # then only the latest goes out, with the time of its change
        for i in range(1, 3):
            strip.command("emeter 2 power_mw=%d" % (i * 1000))
            self.wait_prop(device_path("strip_3"), METER, "Power", float(i))
        changed = time.time()
        stored = self.wait_stored("strip", "3_Power", lambda v: len(v) == 2, timeout=6)
        self.assertEqual([v for _, v in stored], [0.277, 2.0])
        self.assertLessEqual(abs(stored[1][0] - changed), 1.5)
        self.assertGreaterEqual(stored[1][0] - first[0][0], 1)
        self.iterate(1)
        self.assertEqual(len(self.emoncms.values("strip", "3_Power")), 2)

    def test_interval_snapshots(self):
        self.start_emoncms()
        plug = self.emulator(PLUG, "--alias", "plug")
        self.write_config(self.device_config("plug", plug, poll=60) +
                          self.exporter_config(interval=1, values="Power"))
        self.start_daemon()
        # nothing changes, yet every second the latest value goes out, stamped now
        stored = self.wait_stored("plug", "Power", lambda v: len(v) >= 3, timeout=6)
        self.assertEqual({v for _, v in stored}, {61.753})
        self.assertEqual(len({t for t, _ in stored}), len(stored))

    def test_spool_file_only_with_exporters(self):
        plug = self.emulator(PLUG)
        self.write_config(self.device_config("plug", plug))
        self.start_daemon()
        self.wait_online("plug")
        self.assertFalse(os.path.exists(os.path.join(self.state_dir, "spool.db")))
        self.start_emoncms()
        self.write_config(self.device_config("plug", plug) + self.exporter_config())
        self.call(wbtest.ROOT, wbtest.IFACE, "Reload")
        self.wait_exp("Sent", lambda s: s > 0)
        self.assertTrue(os.path.exists(os.path.join(self.state_dir, "spool.db")))


class ExporterPolkitTest(ExporterTest):
    system_bus = True

    def setUp(self):
        super().setUp()
        self.start_mock_polkit()

    def test_methods_need_manage_exporters(self):
        self.start_emoncms()
        plug = self.emulator(PLUG)
        self.write_config(self.device_config("plug", plug) + self.exporter_config())
        self.start_daemon()
        path = exporter_path("emon")
        self.allow()
        for method in ("Flush", "Enable", "Disable"):
            name, message = self.call_error(path, EXPORTER, method)
            self.assertEqual(name, ERR + "PermissionDenied")
            self.assertIn("org.wattbus.Wattbus1.manage-exporters", message)
        self.assertNotEqual(self.exp("State"), "disabled")
        # reading stays open
        self.get_all(path, EXPORTER)
        self.allow("org.wattbus.Wattbus1.manage-exporters")
        self.call(path, EXPORTER, "Disable")
        self.assertEqual(self.exp("State"), "disabled")


if __name__ == "__main__":
    wbtest.main()
