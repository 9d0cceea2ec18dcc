#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The manager API: AddDevice/RemoveDevice and their persistence, Reload and SIGHUP,
bad D-Bus arguments, and the daemon's life cycle."""

import os
import signal

import wbtest
from wbtest import DEVICE, IFACE, OUTLET, ROOT, device_path
from gi.repository import Gio, GLib

PLUG = "HS110(EU)_4.0_1.0.4.json"
ERR = "org.wattbus.Wattbus1.Error."


def settings(**kw):
    return ({k.replace("_", "-"): GLib.Variant("s", v) for k, v in kw.items()},)


class ApiTest(wbtest.DaemonTest):

    def test_manager_properties(self):
        self.start_daemon()
        props = self.get_all(ROOT, IFACE)
        self.assertRegex(props["Version"], r"^\d+\.\d+\.\d+")
        self.assertIn("kasa", props["Drivers"])
        self.assertEqual(self.managed_objects(), {})

    def test_add_device_persists_across_restart(self):
        emu = self.emulator(PLUG)
        self.start_daemon()
        path = self.call(ROOT, IFACE, "AddDevice", settings(driver="kasa", address=emu.address,
                                                             name="Living Room Heater"), "(a{sv})")[0]
        self.assertEqual(path, device_path("living-room-heater"))
        self.wait_online("living-room-heater")
        self.assertEqual(self.get(path, DEVICE, "Name"), "Living Room Heater")
        state_file = os.path.join(self.state_dir, "devices.conf")
        self.assertEqual(os.stat(state_file).st_mode & 0o777, 0o600)

        # the same name again gets its own id
        path2 = self.call(ROOT, IFACE, "AddDevice", settings(driver="kasa", address=emu.address,
                                                              name="Living Room Heater"), "(a{sv})")[0]
        self.assertEqual(path2, device_path("living-room-heater-2"))
        err = self.call_error(ROOT, IFACE, "AddDevice",
                              settings(driver="kasa", address=emu.address, id="living-room-heater"), "(a{sv})")
        self.assertEqual(err[0], ERR + "Failed")
        self.assertIn("exists already", err[1])

        self.assertEqual(self.stop_daemon(), 0)
        self.start_daemon()
        self.wait_online("living-room-heater")
        self.wait_online("living-room-heater-2")

        self.call(ROOT, IFACE, "RemoveDevice", (path2,), "(o)")
        self.assertNotIn(path2, self.managed_objects())
        self.stop_daemon()
        self.start_daemon()
        self.wait_online("living-room-heater")
        self.assertNotIn(path2, self.managed_objects())

    def test_config_devices_cannot_be_removed(self):
        emu = self.emulator("HS300(US)_2.0_1.0.12.json")
        self.write_config("[device strip]\ndriver=kasa\naddress=%s\n" % emu.address)
        self.start_daemon()
        self.wait_online("strip")
        err = self.call_error(ROOT, IFACE, "RemoveDevice", (device_path("strip"),), "(o)")
        self.assertEqual(err[0], ERR + "NotSupported")
        err = self.call_error(ROOT, IFACE, "RemoveDevice", (device_path("strip_2"),), "(o)")
        self.assertEqual(err[0], ERR + "NotSupported")
        err = self.call_error(ROOT, IFACE, "RemoveDevice", (device_path("nosuch"),), "(o)")
        self.assertEqual(err[0], ERR + "NotFound")

    def test_bad_add_device_arguments(self):
        emu = self.emulator(PLUG)
        self.write_config("[device ok]\ndriver=kasa\naddress=%s\npoll-interval=1\n" % emu.address)
        self.start_daemon()
        self.wait_online("ok")
        cases = [
            ({"driver": GLib.Variant("s", "bogus"), "address": GLib.Variant("s", "1.2.3.4")}, "unknown driver"),
            ({"address": GLib.Variant("s", "1.2.3.4")}, "no driver"),
            ({"driver": GLib.Variant("s", "kasa")}, "no address"),
            ({"driver": GLib.Variant("s", "kasa"), "address": GLib.Variant("i", 5)}, "must be a string"),
            ({"driver": GLib.Variant("s", "kasa"), "address": GLib.Variant("s", "1.2.3.4"),
              "colour": GLib.Variant("s", "red")}, "unknown setting 'colour'"),
            ({"driver": GLib.Variant("s", "kasa"), "address": GLib.Variant("s", "1.2.3.4"),
              "poll-interval": GLib.Variant("s", "0")}, "poll-interval"),
            ({"driver": GLib.Variant("s", "kasa"), "address": GLib.Variant("s", "1.2.3.4"),
              "poll-interval": GLib.Variant("d", 1.5)}, "poll-interval"),
            ({"driver": GLib.Variant("s", "kasa"), "address": GLib.Variant("s", "1.2.3.4"),
              "id": GLib.Variant("s", "bad/id")}, "may only have"),
            ({"driver": GLib.Variant("s", "kasa"), "address": GLib.Variant("s", "1.2.3.4 5")}, "spaces"),
            ({"driver": GLib.Variant("s", "kasa"), "address": GLib.Variant("s", "[::1")}, "not a host"),
            ({"driver": GLib.Variant("s", "kasa"), "address": GLib.Variant("s", "1.2.3.4"),
              "http-port": GLib.Variant("s", "99999")}, "http-port"),
            ({"driver": GLib.Variant("s", "kasa"), "address": GLib.Variant("s", "x" * 5000)}, "longer than"),
            (dict({"driver": GLib.Variant("s", "kasa"), "address": GLib.Variant("s", "1.2.3.4")},
                  **{"k%d" % i: GLib.Variant("s", "v") for i in range(100)}), "at most 64 settings"),
        ]
        for args, message in cases:
            err = self.call_error(ROOT, IFACE, "AddDevice", (args,), "(a{sv})")
            self.assertEqual(err[0], ERR + "InvalidArgument", (args, err))
            self.assertIn(message, err[1], args)
        # wrong signature entirely: GDBus refuses it before our code runs
        err = self.call_error(ROOT, IFACE, "AddDevice", ("kasa",), "(s)")
        self.assertEqual(err[0], "org.freedesktop.DBus.Error.InvalidArgs")
        # nothing was stored, and the daemon still serves the other device
        self.assertFalse(os.path.exists(os.path.join(self.state_dir, "devices.conf")))
        self.assertEqual(list(self.managed_objects()), [device_path("ok")])
        self.call(device_path("ok"), OUTLET, "Toggle")
        self.assert_daemon_alive()

    def test_address_is_strictly_host_port(self):
        """Issue 12.4: credentials, paths and URLs are refused as an address by every
        driver, never quoted, and never reach the public Address property."""
        emu = self.emulator(PLUG)
        secret = "s3cr3t-pw"
        bad = ["admin:%s@%s" % (secret, emu.address), "/run/%s.sock" % secret,
               "127.0.0.1/%s" % secret, "tcp://127.0.0.1:%d" % emu.port, "127.0.0.1:%s" % secret]
        # the same kind of address in the configuration file: the group is skipped
        self.write_config("[device cfg-bad]\ndriver=kasa\naddress=%s\n"
                          "[device ok]\ndriver=kasa\naddress=%s\npoll-interval=1\n" % (bad[0], emu.address))
        self.start_daemon()
        self.wait_online("ok")
        cases = [(driver, address) for driver in ("kasa", "tuya") for address in bad]
        cases += [("envoy", "http://admin:%s@127.0.0.1" % secret), ("envoy", "admin:%s@127.0.0.1" % secret),
                  ("envoy", "/run/%s.sock" % secret)]
        for driver, address in cases:
            args = {"driver": GLib.Variant("s", driver), "address": GLib.Variant("s", address)}
            if driver == "tuya":
                args.update({"device-id": GLib.Variant("s", "bf0123456789abcdef01"),
                             "local-key": GLib.Variant("s", "0123456789abcdef")})
            err = self.call_error(ROOT, IFACE, "AddDevice", (args,), "(a{sv})")
            self.assertEqual(err[0], ERR + "InvalidArgument", (driver, address, err))
            self.assertIn("not a host or host:port" if driver != "envoy" else "http:// or https:// URL",
                          err[1], (driver, address))
            self.assertNotIn(secret, err[1])
        self.assertEqual(list(self.managed_objects()), [device_path("ok")])
        self.assertNotIn(secret, repr(self.managed_objects()))
        self.assertNotIn(secret, self.daemon_log())
        self.assertIn("cfg-bad", self.daemon_log())
        self.assertFalse(os.path.exists(os.path.join(self.state_dir, "devices.conf")))
        # a good address still works, with every driver's forms
        path = self.call(ROOT, IFACE, "AddDevice", settings(driver="kasa", address=emu.address, id="good"),
                         "(a{sv})")[0]
        self.assertEqual(self.get(path, DEVICE, "Address"), emu.address)
        self.wait_online("good")

    def test_secrets_in_a_file_others_can_read_are_warned_about(self):
        """Issue 12.4: a configuration file that holds a secret key and that other users
        may read is named at start-up, with the keys, never the values."""
        key = "k3y!Local_Tuya#1"
        apikey = "0123456789abcdef0123456789abcdef"
        self.write_config("[device meter]\ndriver=tuya\naddress=127.0.0.1:1\n"
                          "device-id=bf0123456789abcdef01\nlocal-key=%s\n" % key)
        self.write_config("[exporter cms]\nkind=emoncms\nurl=http://127.0.0.1:1\napikey=%s\n" % apikey,
                          name="conf.d/10-cms.conf")
        self.write_config("[device plug]\ndriver=kasa\naddress=127.0.0.1:1\n", name="conf.d/20-plain.conf")
        main = os.path.join(self.config_dir, "wattbus.conf")
        dropin = os.path.join(self.config_dir, "conf.d", "10-cms.conf")
        plain = os.path.join(self.config_dir, "conf.d", "20-plain.conf")
        os.chmod(main, 0o644)
        os.chmod(dropin, 0o604)
        os.chmod(plain, 0o644)
        self.start_daemon()
        self.wait_for(lambda: "10-cms.conf holds" in self.daemon_log(), 10, "the warnings")
        log = self.daemon_log()
        self.assertIn("%s holds the secret 'local-key' in [device meter] but is readable by every user "
                      "(mode 0644)" % main, log)
        self.assertIn("%s holds the secret 'apikey' in [exporter cms] but is readable by every user "
                      "(mode 0604)" % dropin, log)
        self.assertNotIn(plain + " holds", log)
        self.assertNotIn(key, log)
        self.assertNotIn(apikey, log)
        # as the README says: 0640 (the group is the daemon's), and no warning
        self.stop_daemon()
        os.chmod(main, 0o640)
        os.chmod(dropin, 0o600)
        self.start_daemon()
        self.wait_for(lambda: "added device 'plug'" in self.daemon_log(), 10, "the devices")
        self.assertNotIn("holds the secret", self.daemon_log())

    def test_bad_discover_arguments(self):
        self.start_daemon()
        for opts, name in [
            ({"driver": GLib.Variant("s", "nope")}, "InvalidArgument"),
            ({"timeout": GLib.Variant("u", 3600)}, "InvalidArgument"),
            ({"timeout": GLib.Variant("b", True)}, "InvalidArgument"),
            ({"target": GLib.Variant("s", "not-an-ip")}, "InvalidArgument"),
            ({"bogus": GLib.Variant("s", "x")}, "InvalidArgument"),
        ]:
            err = self.call_error(ROOT, IFACE, "Discover", (opts,), "(a{sv})")
            self.assertEqual(err[0], ERR + name, opts)
        self.assert_daemon_alive()

    def test_unknown_objects_and_methods(self):
        self.start_daemon()
        err = self.call_error(device_path("ghost"), OUTLET, "TurnOn")
        self.assertTrue(err[0].startswith("org.freedesktop.DBus.Error.Unknown"), err)
        err = self.call_error(ROOT, IFACE, "Explode")
        self.assertEqual(err[0], "org.freedesktop.DBus.Error.UnknownMethod")
        self.assert_daemon_alive()

    def test_secrets_are_not_exported(self):
        # a key the driver does not know is refused without echoing its value
        self.start_daemon()
        err = self.call_error(ROOT, IFACE, "AddDevice",
                              settings(driver="kasa", address="127.0.0.1", passphrase="hunter2-secret"), "(a{sv})")
        self.assertNotIn("hunter2-secret", err[1])
        # a secret the driver knows is taken, and shown nowhere
        self.call(ROOT, IFACE, "AddDevice",
                  settings(driver="kasa", address="127.0.0.1", name="Secret plug",
                           username="me@example.org", password="hunter3-secret"), "(a{sv})")
        self.assertNotIn("hunter2-secret", self.daemon_log())
        self.assertNotIn("hunter3-secret", self.daemon_log())
        objects = self.call("/org/wattbus/Wattbus1", "org.freedesktop.DBus.ObjectManager",
                            "GetManagedObjects")
        self.assertNotIn("hunter3-secret", str(objects))

    def test_reload_applies_only_changes(self):
        a = self.emulator(PLUG)
        b = self.emulator("KP115(EU)_1.0_1.0.16.json")
        c = self.emulator("HS103(US)_2.1_1.1.4.json")
        self.write_config("[device a]\ndriver=kasa\naddress=%s\n\n[device b]\ndriver=kasa\naddress=%s\n"
                          % (a.address, b.address))
        self.start_daemon()
        self.wait_online("a")
        self.wait_online("b")
        removed = []
        added = []
        self.conn.signal_subscribe(wbtest.BUS_NAME, "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved",
                                   ROOT, None, Gio.DBusSignalFlags.NONE,
                                   lambda *args: removed.append(args[5].unpack()[0]))
        self.conn.signal_subscribe(wbtest.BUS_NAME, "org.freedesktop.DBus.ObjectManager", "InterfacesAdded",
                                   ROOT, None, Gio.DBusSignalFlags.NONE,
                                   lambda *args: added.append(args[5].unpack()[0]))
        # a unchanged, b renamed, c new (in a drop-in)
        self.write_config("[device a]\ndriver=kasa\naddress=%s\n\n[device b]\ndriver=kasa\naddress=%s\nname=Fridge\n"
                          % (a.address, b.address))
        self.write_config("[device c]\ndriver=kasa\naddress=%s\n" % c.address, "conf.d/10-c.conf")
        self.call(ROOT, IFACE, "Reload")
        self.wait_online("c")
        self.wait_online("b")
        self.iterate(0.3)
        self.assertEqual(self.get(device_path("b"), DEVICE, "Name"), "Fridge")
        self.assertNotIn(device_path("a"), removed)
        self.assertNotIn(device_path("a"), added)
        self.assertIn(device_path("b"), removed)
        self.assertIn(device_path("c"), added)

        # SIGHUP does the same; c goes away with its drop-in
        os.unlink(os.path.join(self.config_dir, "conf.d", "10-c.conf"))
        self.daemon.send_signal(signal.SIGHUP)
        self.wait_for(lambda: device_path("c") not in self.managed_objects(), 10, "c removed")
        self.assertIn(device_path("a"), self.managed_objects())

    def test_bad_reload_changes_nothing(self):
        a = self.emulator(PLUG)
        self.write_config("[device a]\ndriver=kasa\naddress=%s\n" % a.address)
        self.start_daemon()
        self.wait_online("a")
        for text, message in [
            ("[device a]\ndriver=kasa\naddress=%s\nturbo=yes\n" % a.address, "unknown setting 'turbo'"),
            ("[device a\ndriver=kasa\n", "wattbus.conf"),
            ("[gadget a]\ndriver=kasa\n", "unknown group"),
            ("[device b]\ndriver=zigbee\naddress=1.2.3.4\n", "unknown driver"),
        ]:
            self.write_config(text)
            err = self.call_error(ROOT, IFACE, "Reload")
            self.assertEqual(err[0], ERR + "InvalidArgument")
            self.assertIn(message, err[1])
            self.assertEqual(list(self.managed_objects()), [device_path("a")])
            self.assertTrue(self.get(device_path("a"), DEVICE, "Online"))

    def test_bad_config_at_startup_skips_only_the_bad_device(self):
        a = self.emulator(PLUG)
        self.write_config("[device a]\ndriver=kasa\naddress=%s\n\n[device b]\ndriver=zigbee\naddress=x\n"
                          "\n[device c]\ndriver=kasa\naddress=%s\nenabled=false\n" % (a.address, a.address))
        self.start_daemon()
        self.wait_online("a")
        self.assertEqual(list(self.managed_objects()), [device_path("a")])
        self.assertIn("unknown driver 'zigbee'", self.daemon_log())

    def test_sigterm_exits_cleanly(self):
        a = self.emulator("HS300(US)_2.0_1.0.12.json")
        self.write_config("[device a]\ndriver=kasa\naddress=%s\n" % a.address)
        self.start_daemon()
        self.wait_online("a")
        self.assertEqual(self.stop_daemon(signal.SIGTERM), 0)
        self.start_daemon()
        self.assertEqual(self.stop_daemon(signal.SIGINT), 0)

    def test_second_daemon_refuses_to_start(self):
        self.start_daemon()
        first = self.daemon
        first_log = self.log
        second = self.start_daemon(wait=False)
        self.assertEqual(second.wait(10), 1)
        self.daemon = first
        self.log = first_log


if __name__ == "__main__":
    wbtest.main()
