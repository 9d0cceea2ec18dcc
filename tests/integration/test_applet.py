#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The desktop applet (examples/applet) under Xvfb against the real daemon: its widgets
show the emulated values, follow changes from the D-Bus signals, switch outlets, and
render into a screenshot that is not blank. The applet answers commands on stdin
(--control): "dump" gives the texts of its widgets as JSON."""

import json
import os
import select
import subprocess
import time

import envoybase as envoy
import uxtest
import wbtest
from uxtest import EXAMPLES

APPLET = os.path.join(EXAMPLES, "applet", "wattbus-applet.py")


def power_text(watts):
    """How the applet writes a power, as its README says: 61.8 W, 1.23 kW."""
    return "%.2f kW" % (watts / 1000) if abs(watts) >= 1000 else "%.1f W" % watts


class Applet:
    """wattbus-applet.py --control on its own Xvfb display."""

    def __init__(self, test, *args):
        self.test = test
        # Xvfb picks a free display itself and writes its number on the pipe
        read_fd, write_fd = os.pipe()
        self.stderr = open(os.path.join(test.tmp, "applet.log"), "w")
        self.xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x1024x24",
                                      "-nolisten", "tcp"], pass_fds=[write_fd],
                                     stdout=subprocess.DEVNULL, stderr=self.stderr)
        os.close(write_fd)
        test.addCleanup(self._stop_xvfb)
        display = b""
        while not display.endswith(b"\n") and select.select([read_fd], [], [], 10)[0]:
            chunk = os.read(read_fd, 16)
            if not chunk:
                break
            display += chunk
        display = display.decode().strip()
        os.close(read_fd)
        test.assertTrue(display.isdigit(), "Xvfb did not start")
        runtime = os.path.join(test.tmp, "runtime")
        os.makedirs(runtime, mode=0o700, exist_ok=True)
        env = test.user_env(DISPLAY=":" + display, GDK_BACKEND="x11", GSK_RENDERER="cairo", GTK_A11Y="none",
                            NO_AT_BRIDGE="1", XDG_RUNTIME_DIR=runtime, GSETTINGS_BACKEND="memory")
        self.proc = subprocess.Popen(["/usr/bin/python3", APPLET, "--control"] + list(args), env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                     text=True, bufsize=1)
        test.addCleanup(self._stop)
        self.lines = uxtest.LineReader(self.proc.stdout)
        try:
            self.lines.wait_for(lambda line: line == "READY", 20)
        except AssertionError:
            test.fail("the applet did not start on display :%s:\n%s" % (display, self.log()))

    def _stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()  # EOF: the applet quits
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()

    def _stop_xvfb(self):
        self.xvfb.terminate()
        self.xvfb.wait(5)

    def log(self):
        with open(self.stderr.name) as f:
            return f.read()

    def command(self, line):
        self.test.assertIsNone(self.proc.poll(), "the applet exited:\n" + self.log())
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self.lines.wait_for(lambda _line: True, 10)
        self.test.assertFalse(reply.startswith("ERR"), "%s: %s\n%s" % (line, reply, self.log()))
        return reply

    def dump(self):
        return json.loads(self.command("dump")[len("DUMP "):])

    def wait_for(self, predicate, what, timeout=10):
        """Asks for the widget texts until predicate(dump) holds (the test polls; the
        applet itself only follows signals)."""
        end = time.monotonic() + timeout
        while True:
            dump = self.dump()
            try:
                if predicate(dump):
                    return dump
            except (KeyError, TypeError):
                pass
            if time.monotonic() > end:
                self.test.fail("timed out waiting for %s; the applet shows:\n%s\n%s"
                               % (what, json.dumps(dump, indent=1), self.log()))
            time.sleep(0.1)

    def screenshot(self, name):
        """Renders the window into a PNG kept in the build dir for people to look at;
        checks that it has the window's size and is not blank."""
        gi_require()
        from gi.repository import GdkPixbuf
        path = os.path.join(uxtest.BUILD_DIR, "tests", "integration", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.exists(path):
            os.unlink(path)
        self.command("screenshot " + path)
        pixbuf = GdkPixbuf.Pixbuf.new_from_file(path)
        self.test.assertGreaterEqual(pixbuf.get_width(), 300)
        self.test.assertGreaterEqual(pixbuf.get_height(), 200)
        # text and switches on a light background: many dark and many light pixels
        data = pixbuf.get_pixels()
        step = pixbuf.get_n_channels()
        lum = [sum(data[i:i + 3]) / 3 for i in range(0, len(data) - 3, step * 3)]
        dark = sum(1 for v in lum if v < 100)
        light = sum(1 for v in lum if v > 200)
        self.test.assertGreater(dark, len(lum) / 500, "no text in %s" % path)
        self.test.assertGreater(light, len(lum) / 2, "no background in %s" % path)
        return path


def gi_require():
    import gi
    gi.require_version("GdkPixbuf", "2.0")


class AppletTest(uxtest.UxTest):

    def test_python_gi_applet_outlets(self):
        self.start()
        applet = Applet(self, "--session")
        power = power_text(self.reading["Power"])
        dump = applet.wait_for(lambda d: d["outlets"]["kettle"]["power"] == power, "the kettle's power")
        self.assertEqual(dump["outlets"]["kettle"]["name"], "Kettle")
        self.assertTrue(dump["outlets"]["kettle"]["switch"])
        self.assertTrue(dump["outlets"]["kettle"]["sensitive"])
        # the KP303's sockets switch and do not measure; the strip itself has neither
        sockets = uxtest.fixture(uxtest.STRIP)["system"]["get_sysinfo"]["children"]
        dump = applet.wait_for(lambda d: len(d["outlets"]) == 4, "four outlets")
        for i, child in enumerate(sockets):
            row = dump["outlets"]["garden_%d" % (i + 1)]
            self.assertEqual((row["name"], row["switch"], row["power"]), (child["alias"], child["state"] == 1, ""))
        self.assertEqual(dump["meters"], {})
        self.assertEqual(dump["solar"], "no solar meter")
        self.assertIn("wattbusd", dump["status"])
        applet.screenshot("applet-outlets.png")

        # a new reading arrives by signal
        self.plug.command("emeter power_mw=1234500")
        applet.wait_for(lambda d: d["outlets"]["kettle"]["power"] == "1.23 kW", "the new power")
        # switched by hand at the device: the switch follows
        self.plug.command("relay 0")
        applet.wait_for(lambda d: not d["outlets"]["kettle"]["switch"], "the switch off")
        # a click switches the device
        applet.command("toggle garden_2")
        self.wait_for(lambda: self.strip.state()["sysinfo"]["children"][1]["state"] == 1, 10, "garden_2 on")
        applet.wait_for(lambda d: d["outlets"]["garden_2"]["switch"], "the switch of garden_2 on")
        # a device that stops answering is greyed out, with the reason
        self.plug.command("misbehave refuse")
        dump = applet.wait_for(lambda d: not d["outlets"]["kettle"]["sensitive"], "kettle offline")
        self.assertIn("refused", dump["outlets"]["kettle"]["detail"])
        # a click on an offline device does nothing but say why
        self.plug.command("misbehave none")
        applet.wait_for(lambda d: d["outlets"]["kettle"]["sensitive"], "kettle online again")
        # the daemon goes away and comes back
        self.stop_daemon()
        applet.wait_for(lambda d: d["outlets"] == {} and "not running" in d["status"], "no daemon")
        self.start()
        applet.wait_for(lambda d: len(d["outlets"]) == 4 and "wattbusd" in d["status"], "the daemon back")

    def test_python_gi_applet_solar(self):
        """An Envoy gateway's production and consumption meters make the solar row."""
        folder = "8.2.4345_with_device_data"
        # the helpers of the Envoy tests: an emulated gateway without a live stream, polled
        emu = envoy.EnvoyTest.gateway(self, folder, stream=None)
        envoy.EnvoyTest.start_envoy(self, emu, poll_interval=60, token=emu.token("owner"))
        meters, _ = envoy.expected_meters(folder)
        production = meters["production"]["Power"]
        net = meters["net-consumption"]["Power"]
        consumption = meters["total-consumption"]["Power"] if meters.get("total-consumption") else production + net
        expected = {"production": power_text(production), "consumption": power_text(consumption),
                    "net": ("importing " if net >= 0 else "exporting ") + power_text(abs(net))}
        applet = Applet(self, "--session")
        dump = applet.wait_for(lambda d: d["solar"] == expected, "the solar balance %s" % expected, 15)
        # the gateway's meters are listed with what they measure
        details = " ".join(m["detail"] for m in dump["meters"].values())
        for measurement in ("production", "net-consumption"):
            self.assertIn(measurement, details)
        # every inverter with its power (Inverter.Power), as production; not added to the
        # solar row, which has the gateway's production meter already
        inverters = {"envoy_inverter_%s" % serial: power_text(values["Power"])
                     for serial, values in envoy.expected_inverters(folder).items()}
        self.assertTrue(inverters)
        dump = applet.wait_for(lambda d: all(d["meters"].get(i, {}).get("power") == p for i, p in inverters.items()),
                               "the inverters' power %s" % inverters, 15)
        for inverter in inverters:
            self.assertIn("production", dump["meters"][inverter]["detail"])
        self.assertEqual(dump["solar"], expected)
        applet.screenshot("applet-solar.png")


    def test_python_gi_applet_battery(self):
        """An Envoy site with batteries: the battery beside the solar balance (the
        gateway's aggregate: charging, its power, its charge) and each battery listed
        with its power, charge and state; values as envoy-batteries.md §7 gives them."""
        folder = "8.2.4286_with_3cts_and_battery_split"
        grid, aggregate, batteries = envoy.expected_batteries(folder)
        emu = envoy.EnvoyTest.gateway(self, folder, stream=None)
        envoy.EnvoyTest.start_envoy(self, emu, poll_interval=60, token=emu.token("owner"))
        applet = Applet(self, "--session")
        expected = "charging %s · %d %%" % (power_text(aggregate["Power"]), aggregate["StateOfCharge"])
        applet.wait_for(lambda d: isinstance(d["solar"], dict) and d["solar"].get("battery") == expected,
                        "the battery %r" % expected, 15)
        serial = sorted(batteries)[0]
        dump = applet.wait_for(lambda d: "envoy_battery_" + serial in d["meters"] and
                               "envoy_batteries" in d["meters"], "the battery rows", 15)
        row = dump["meters"]["envoy_battery_" + serial]
        self.assertEqual(row["power"], power_text(batteries[serial]["Power"]))
        self.assertIn("%d %%" % batteries[serial]["StateOfCharge"], row["detail"])
        self.assertIn("charging", row["detail"])
        self.assertEqual(dump["meters"]["envoy_batteries"]["power"], power_text(aggregate["Power"]))
        applet.screenshot("applet-battery.png")

if __name__ == "__main__":
    wbtest.main()
