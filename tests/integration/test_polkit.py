#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""On the system bus every state-changing method asks polkit first; reading stays open.

The daemon runs with --system on a private bus where python-dbusmock plays polkitd, so
each action can be allowed or refused from the test.
"""


import os
import xml.etree.ElementTree as ET

import wbtest
from wbtest import DEVICE, IFACE, METER, OUTLET, ROOT
from gi.repository import GLib

ERR = "org.wattbus.Wattbus1.Error."


class PolkitTest(wbtest.DaemonTest):
    system_bus = True

    def setUp(self):
        super().setUp()
        self.start_mock_polkit()

    def test_switching_needs_authorization(self):
        emu = self.emulator("HS110(EU)_4.0_1.0.4.json")
        self.write_config("[device plug]\ndriver=kasa\naddress=%s\npoll-interval=60\n" % emu.address)
        self.start_daemon()
        path = self.wait_online("plug")
        self.allow()

        err = self.call_error(path, OUTLET, "TurnOff")
        self.assertEqual(err[0], ERR + "PermissionDenied")
        self.assertIn("org.wattbus.Wattbus1.switch-outlet", err[1])
        # refused before anything reached the device
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 1)
        self.assertTrue(self.get(path, OUTLET, "On"))
        # reading is open
        self.assertGreater(self.get(path, METER, "Power"), 0)
        self.call(path, DEVICE, "Refresh")

        self.allow("org.wattbus.Wattbus1.switch-outlet")
        self.call(path, OUTLET, "TurnOff")
        self.assertFalse(self.get(path, OUTLET, "On"))
        self.assertEqual(emu.state()["sysinfo"]["relay_state"], 0)

    def test_managing_needs_authorization(self):
        self.start_daemon()
        self.allow("org.wattbus.Wattbus1.switch-outlet")
        args = ({"driver": GLib.Variant("s", "kasa"), "address": GLib.Variant("s", "127.0.0.1:1")},)
        err = self.call_error(ROOT, IFACE, "AddDevice", args, "(a{sv})")
        self.assertEqual(err[0], ERR + "PermissionDenied")
        self.assertIn("manage-devices", err[1])
        err = self.call_error(ROOT, IFACE, "Reload")
        self.assertEqual(err[0], ERR + "PermissionDenied")
        self.assertEqual(self.managed_objects(), {})

        self.allow("org.wattbus.Wattbus1.manage-devices", "org.wattbus.Wattbus1.reload")
        path = self.call(ROOT, IFACE, "AddDevice", args, "(a{sv})")[0]
        self.assertIn(path, self.managed_objects())
        self.call(ROOT, IFACE, "Reload")
        self.allow()
        err = self.call_error(ROOT, IFACE, "RemoveDevice", (path,), "(o)")
        self.assertEqual(err[0], ERR + "PermissionDenied")
        self.assertIn(path, self.managed_objects())

    def test_discover_needs_authorization(self):
        """Discover only reads, but it probes the network and holds sockets: it has its own
        action, allowed to the active local user, admin elsewhere."""
        emu = self.emulator("HS110(EU)_4.0_1.0.4.json")
        self.start_daemon()
        args = ({"driver": GLib.Variant("s", "kasa"), "timeout": GLib.Variant("d", 0.5),
                 "target": GLib.Variant("s", "127.0.0.1:%d" % emu.udp_port)},)
        self.allow("org.wattbus.Wattbus1.manage-devices", "org.wattbus.Wattbus1.switch-outlet")
        err = self.call_error(ROOT, IFACE, "Discover", args, "(a{sv})")
        self.assertEqual(err[0], ERR + "PermissionDenied")
        self.assertIn("org.wattbus.Wattbus1.discover", err[1])
        self.allow("org.wattbus.Wattbus1.discover")
        found = self.call(ROOT, IFACE, "Discover", args, "(a{sv})")[0]
        self.assertEqual([d["address"] for d in found], ["127.0.0.1:%d" % emu.udp_port])
        # the shipped policy: any=auth_admin, inactive=auth_admin, active=yes
        policy = ET.parse(os.path.join(wbtest.SOURCE_DIR, "data", "org.wattbus.Wattbus1.policy.in"))
        action = [a for a in policy.getroot().findall("action")
                  if a.get("id") == "org.wattbus.Wattbus1.discover"]
        self.assertEqual(len(action), 1)
        defaults = action[0].find("defaults")
        self.assertEqual([defaults.find(k).text for k in ("allow_any", "allow_inactive", "allow_active")],
                         ["auth_admin", "auth_admin", "yes"])
        self.assertEqual(action[0].find("annotate").text, "unix-user:wattbus")

    def test_polkit_gone_means_denied(self):
        self.start_daemon()
        self.polkit.terminate()
        self.polkit.wait(5)
        self.polkit = None
        err = self.call_error(ROOT, IFACE, "Reload")
        self.assertEqual(err[0], ERR + "PermissionDenied")
        self.assert_daemon_alive()


if __name__ == "__main__":
    wbtest.main()
