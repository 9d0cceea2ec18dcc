#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The clients: Python through gi.repository.Wattbus (libwattbus-glib), and wattbusctl."""

import json
import math
import os
import subprocess

import gi

import wbtest
from wbtest import DEVICE, device_path

from gi.repository import Gio, GLib  # noqa: E402

Wattbus = None


def load_wattbus():
    """The typelib is built with the tests, so it is loaded when they run, not when
    meson lists them."""
    global Wattbus
    if Wattbus is None:
        gi.require_version("Wattbus", "1.0")
        from gi.repository import Wattbus as module
        Wattbus = module

PLUG = "HS110(EU)_4.0_1.0.4.json"
STRIP = "KP303(US)_2.0_1.0.9.json"


class ClientTest(wbtest.DaemonTest):

    def setUp(self):
        super().setUp()
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = self.bus.address
        self.plug = self.emulator(PLUG, "--alias", "Kettle")
        self.strip = self.emulator(STRIP)
        self.write_config("[device kettle]\ndriver=kasa\naddress=%s\npoll-interval=1\n\n"
                          "[device garden]\ndriver=kasa\naddress=%s\npoll-interval=60\n"
                          % (self.plug.address, self.strip.address))

    def ctl(self, *args, expect=0, stdin=None):
        env = dict(os.environ, WATTBUS_BUS="session", DBUS_SESSION_BUS_ADDRESS=self.bus.address, LANG="C")
        env.pop("G_MESSAGES_DEBUG", None)  # GLib prints debug messages on stdout
        proc = subprocess.run([os.environ["WATTBUSCTL"]] + list(args), env=env, capture_output=True,
                              text=True, input=stdin, timeout=60)
        self.assertEqual(proc.returncode, expect, "wattbusctl %s: %s%s" % (args, proc.stdout, proc.stderr))
        return proc.stdout, proc.stderr

    # Python through GObject introspection

    def test_python_gi_client(self):
        load_wattbus()
        self.start_daemon()
        self.wait_online("kettle")
        self.wait_online("garden")
        client = Wattbus.Client.new_sync(Gio.BusType.SESSION, None)
        self.assertTrue(client.is_running())
        ids = [obj.get_device().props.id for obj in client.list_devices()]
        self.assertEqual(ids, ["garden", "garden_1", "garden_2", "garden_3", "kettle"])

        kettle = client.lookup_device("kettle")
        self.assertIsNotNone(kettle)
        self.assertEqual(kettle.get_device().props.name, "Kettle")
        self.assertEqual(kettle.get_device().props.model, "HS110(EU)")
        meter = kettle.get_electricity_meter()
        self.assertAlmostEqual(meter.props.power, 61.753)
        self.assertIn("Power", meter.props.measured)
        self.assertTrue(math.isnan(meter.props.frequency))
        self.assertIsNone(client.lookup_device("nosuch"))
        # a socket of the strip has an outlet and no meter
        socket = client.lookup_device(device_path("garden_2"))
        self.assertIsNone(socket.get_electricity_meter())

        # switching through the generated proxy
        outlet = kettle.get_outlet()
        # the change is signalled before the reply; the proxy sees it on the next main loop turn
        outlet.call_turn_off_sync(None)
        self.assertEqual(self.plug.state()["sysinfo"]["relay_state"], 0)
        self.wait_for(lambda: not outlet.props.on, 5, "On false in the proxy")
        outlet.call_toggle_sync(None)
        self.wait_for(lambda: outlet.props.on, 5, "On true in the proxy")

        # live values arrive as GObject notifications
        changes = []
        meter.connect("notify::power", lambda obj, pspec: changes.append(obj.props.power))
        self.plug.command("emeter power_mw=2000000")
        ctx = GLib.MainContext.default()
        self.wait_for(lambda: 2000.0 in changes, 10, "notify::power")

        # manager calls map daemon errors into Wattbus.Error
        with self.assertRaises(GLib.Error) as cm:
            client.add_device_sync(GLib.Variant("a{sv}", {"driver": GLib.Variant("s", "nope"),
                                                          "address": GLib.Variant("s", "x")}), None)
        self.assertTrue(cm.exception.matches(Wattbus.error_quark(), Wattbus.Error.INVALID_ARGUMENT))
        added = []
        client.connect("device-added", lambda c, obj: added.append(obj.get_object_path()))
        path = client.add_device_sync(GLib.Variant("a{sv}", {"driver": GLib.Variant("s", "kasa"),
                                                             "address": GLib.Variant("s", self.plug.address),
                                                             "id": GLib.Variant("s", "kettle2")}), None)
        self.assertEqual(path, device_path("kettle2"))
        self.wait_for(lambda: path in added, 10, "device-added")
        client.remove_device_sync("kettle2", None)
        found = client.discover_sync(GLib.Variant("a{sv}", {
            "target": GLib.Variant("s", "127.0.0.1:%d" % self.plug.udp_port),
            "timeout": GLib.Variant("u", 1)}), None)
        self.assertEqual(found.unpack()[0]["configured"], device_path("kettle"))
        del ctx

    def test_python_gi_async(self):
        load_wattbus()
        self.start_daemon()
        self.wait_online("kettle")
        loop = GLib.MainLoop()
        result = {}

        def ready(source, res):
            result["client"] = Wattbus.Client.new_finish(res)
            loop.quit()

        Wattbus.Client.new(Gio.BusType.SESSION, None, ready)
        GLib.timeout_add_seconds(10, loop.quit)
        loop.run()
        client = result["client"]
        obj = client.lookup_device("kettle")

        def switched(proxy, res):
            try:
                proxy.call_turn_off_finish(res)
                result["on"] = proxy.props.on
            except GLib.Error as e:
                result["error"] = e
            loop.quit()

        obj.get_outlet().call_turn_off(None, switched)
        loop.run()
        self.assertNotIn("error", result)
        # in an async client the signal has been handled by the time the reply is
        self.assertFalse(result["on"])
        self.assertEqual(self.plug.state()["sysinfo"]["relay_state"], 0)

    def test_python_gi_one_device(self):
        """A client that loads no device, and one device asked for alone (issue 17)."""
        load_wattbus()
        self.start_daemon()
        self.wait_online("kettle")
        self.wait_online("garden")
        client = Wattbus.Client.new_with_flags_sync(Gio.BusType.SESSION,
                                                    Wattbus.ClientFlags.DO_NOT_LOAD_DEVICES, None)
        self.assertEqual(client.props.flags, Wattbus.ClientFlags.DO_NOT_LOAD_DEVICES)
        self.assertTrue(client.is_running())
        self.assertRegex(client.get_daemon_version(), r"^\d+\.\d+")
        self.assertIsNone(client.get_object_manager())
        self.assertEqual(client.list_devices(), [])
        self.assertIsNone(client.lookup_device("kettle"))
        self.assertEqual(Wattbus.build_device_path("garden_1"), device_path("garden_1"))

        kettle = client.get_device_sync("kettle", None)
        self.assertEqual(kettle.get_object_path(), device_path("kettle"))
        self.assertEqual(kettle.get_device().props.name, "Kettle")
        self.assertEqual(kettle.props.device.props.model, "HS110(EU)")
        self.assertAlmostEqual(kettle.get_electricity_meter().props.power, 61.753)
        self.assertIs(kettle.get_outlet().get_object(), kettle)
        self.assertEqual(sorted(i.get_interface_name() for i in kettle.get_interfaces()),
                         [wbtest.DEVICE, wbtest.METER, wbtest.OUTLET])
        # its properties follow the daemon
        outlet = kettle.get_outlet()
        outlet.call_turn_off_sync(None)
        self.wait_for(lambda: not outlet.props.on, 5, "On false in the proxy")
        outlet.call_turn_on_sync(None)
        self.wait_for(lambda: outlet.props.on, 5, "On true in the proxy")
        changes = []
        kettle.get_electricity_meter().connect("notify::power", lambda obj, pspec: changes.append(obj.props.power))
        self.plug.command("emeter power_mw=2000000")
        self.wait_for(lambda: 2000.0 in changes, 10, "notify::power")

        # by path; a socket of the strip has an outlet and no meter
        socket = client.get_device_sync(device_path("garden_2"), None)
        self.assertEqual(socket.get_device().props.parent, device_path("garden"))
        self.assertIsNotNone(socket.get_outlet())
        self.assertIsNone(socket.get_electricity_meter())
        for missing in ("nosuch", device_path("nosuch"), "", "/org/wattbus/Wattbus1", "/not/a/device"):
            with self.assertRaises(GLib.Error) as cm:
                client.get_device_sync(missing, None)
            self.assertTrue(cm.exception.matches(Wattbus.error_quark(), Wattbus.Error.NOT_FOUND), missing)

        # asynchronously, with a client made asynchronously
        loop = GLib.MainLoop()
        result = {}

        def client_ready(source, res):
            result["client"] = Wattbus.Client.new_finish(res)
            loop.quit()

        def device_ready(source, res):
            try:
                result["device"] = source.get_device_finish(res)
            except GLib.Error as e:
                result["error"] = e
            loop.quit()

        Wattbus.Client.new_with_flags(Gio.BusType.SESSION, Wattbus.ClientFlags.DO_NOT_LOAD_DEVICES, None,
                                      client_ready)
        loop.run()
        result["client"].get_device("garden_1", None, device_ready)
        loop.run()
        self.assertEqual(result["device"].get_device().props.id, "garden_1")
        self.assertIsNotNone(result["device"].get_outlet())
        result["client"].get_device("nosuch", None, device_ready)
        loop.run()
        self.assertTrue(result["error"].matches(Wattbus.error_quark(), Wattbus.Error.NOT_FOUND))

        # a client with every device finds it among them
        full = Wattbus.Client.new_sync(Gio.BusType.SESSION, None)
        self.assertIs(full.get_device_sync("kettle", None), full.lookup_device("kettle"))
        with self.assertRaises(GLib.Error):
            full.get_device_sync("nosuch", None)

    # wattbusctl

    def test_wattbusctl_list_show_switch(self):
        self.start_daemon()
        self.wait_online("kettle")
        self.wait_online("garden")
        out, _ = self.ctl("list")
        lines = out.splitlines()
        self.assertTrue(lines[0].startswith("ID"))
        kettle = [line for line in lines if line.startswith("kettle")][0]
        self.assertIn("Kettle", kettle)
        self.assertIn("61.8 W", kettle)
        self.assertTrue([line for line in lines if line.startswith("  garden_1")])

        out, _ = self.ctl("--json", "list")
        devices = {d["id"]: d for d in json.loads(out)}
        self.assertEqual(devices["kettle"]["on"], True)
        self.assertAlmostEqual(devices["kettle"]["power"], 61.753)
        self.assertIsNone(devices["garden"]["power"])
        self.assertIsNone(devices["garden"]["on"])

        out, _ = self.ctl("show", "kettle")
        self.assertIn("HS110(EU)", out)
        self.assertIn("230.8", out)
        self.assertNotIn("nan", out.lower())

        self.ctl("off", "kettle")
        self.assertEqual(self.plug.state()["sysinfo"]["relay_state"], 0)
        self.ctl("toggle", "garden_2")
        self.assertEqual(self.strip.state()["sysinfo"]["children"][1]["state"], 1)
        out, _ = self.ctl("--json", "show", "garden_2")
        shown = json.loads(out)
        self.assertTrue(shown["interfaces"]["outlet"]["on"])
        self.assertEqual(shown["parent"], "garden")

    def test_wattbusctl_errors_and_exit_codes(self):
        _, err = self.ctl("list", expect=3)
        self.assertIn("not running", err)
        self.start_daemon()
        self.wait_online("kettle")
        _, err = self.ctl("on", "nosuch", expect=4)
        self.assertIn("nosuch", err)
        self.ctl("frobnicate", expect=2)
        self.ctl("add", "--driver", "kasa", expect=2)
        _, err = self.ctl("add", "--driver", "zigbee", "--address", "1.2.3.4", expect=1)
        self.assertIn("zigbee", err)
        self.plug.command("misbehave refuse")
        # a Refresh within a second of the last poll is answered with that poll
        self.wait_for(lambda: not self.get(wbtest.device_path("kettle"), wbtest.DEVICE, "Online"), 10,
                      "kettle offline")
        _, err = self.ctl("refresh", "kettle", expect=6)
        self.assertIn("refused", err)
        self.assert_daemon_alive()

    def test_wattbusctl_add_remove_discover(self):
        self.start_daemon()
        out, _ = self.ctl("add", "--driver", "kasa", "--address", self.plug.address, "--name", "Spare plug")
        self.assertIn("spare-plug", out)
        self.wait_online("spare-plug")
        out, _ = self.ctl("discover", "--target", "127.0.0.1:%d" % self.plug.udp_port, "--timeout", "1")
        self.assertIn("HS110(EU)", out)
        out, _ = self.ctl("--json", "discover", "--target", "127.0.0.1:%d" % self.strip.udp_port, "--timeout", "1")
        found = json.loads(out)
        self.assertEqual(found[0]["model"], "KP303(US)")
        self.assertEqual(found[0]["configured"], "garden")
        self.ctl("remove", "spare-plug")
        self.assertNotIn(device_path("spare-plug"), self.managed_objects())
        self.ctl("reload")

    def test_wattbusctl_monitor(self):
        self.start_daemon()
        self.wait_online("kettle")
        env = dict(os.environ, WATTBUS_BUS="session", DBUS_SESSION_BUS_ADDRESS=self.bus.address, LANG="C")
        env.pop("G_MESSAGES_DEBUG", None)
        proc = subprocess.Popen([os.environ["WATTBUSCTL"], "monitor"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            self.iterate(1)
            self.plug.command("emeter power_mw=777000")
            self.wait_prop(device_path("kettle"), wbtest.METER, "Power", 777.0)
            self.iterate(1)
        finally:
            proc.terminate()
            out, err = proc.communicate(timeout=10)
        self.assertEqual(proc.returncode, 0, err)
        self.assertRegex(out, r"kettle .*Power=777")


if __name__ == "__main__":
    wbtest.main()
