#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The demo (examples/demo/wattbus-demo.py, what examples/demo.sh runs) as a new user runs
it: no session bus in the environment, its own $XDG_RUNTIME_DIR. What it prints is
followed literally (the configuration file, the dashboard's address, the exports a Python
example needs), and what it shows is checked against what the issue asked: real names
everywhere, production, consumption, the grid and the batteries live on the dashboard. Also: a second
demo says that one runs before printing anything else, and a dead bus socket left by a
crash is replaced."""

import configparser
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import freeport
import ssebase
import uxtest
import wbtest

DEMO = os.path.join(wbtest.SOURCE_DIR, "examples", "demo", "wattbus-demo.py")
LAST_LINE = "Ctrl-C stops the demo."
# the socket names the demo gives (the fixtures call them all "#MASKED_NAME#")
SOCKETS = {"office-strip": ["Desk lamp", "Monitor", "Laptop charger", "Printer", "Router", "Speakers"],
           "garden": ["Pond pump", "Garden lights", "Fountain"]}


class DemoTest(unittest.TestCase):

    def setUp(self):
        self.runtime = tempfile.mkdtemp(prefix="wattbus-demo-test-")
        os.chmod(self.runtime, 0o700)
        self.addCleanup(shutil.rmtree, self.runtime, True)
        self.env = dict(os.environ, XDG_RUNTIME_DIR=self.runtime, LANG="C.UTF-8")
        for key in ("DBUS_SESSION_BUS_ADDRESS", "G_MESSAGES_DEBUG", "WATTBUS_BUS",
                    "GI_TYPELIB_PATH", "LD_LIBRARY_PATH"):
            self.env.pop(key, None)
        self.port = freeport.free_port()

    def demo(self):
        """Starts the demo; returns (process, what it printed up to its last instruction)."""
        log = open(os.path.join(self.runtime, "demo-%d.log" % time.monotonic_ns()), "w+")
        self.addCleanup(log.close)
        proc = subprocess.Popen(["/usr/bin/python3", DEMO, "--build-dir", uxtest.BUILD_DIR,
                                 "--dashboard-port", str(self.port)],
                                env=self.env, stdout=subprocess.PIPE, stderr=log, text=True,
                                start_new_session=True)

        def stop():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            proc.stdout.close()
        self.addCleanup(stop)
        reader = uxtest.LineReader(proc.stdout)
        try:
            reader.wait_for(lambda line: line == LAST_LINE, timeout=60)
        except AssertionError:
            log.seek(0)
            raise AssertionError("the demo never finished its instructions:\n%s\n%s"
                                 % ("\n".join(reader.seen), log.read()[-3000:]))
        return proc, "\n".join(reader.seen), log

    def instruction(self, out, pattern):
        match = re.search(pattern, out, re.M)
        self.assertIsNotNone(match, "no %r in:\n%s" % (pattern, out))
        return match.group(1)

    def exports(self, out):
        """The environment of the user's other terminal, from the export lines printed."""
        env = dict(self.env)
        for line in out.splitlines():
            line = line.strip()
            if line.startswith("export "):
                for assignment in line[len("export "):].split():
                    name, _, value = assignment.partition("=")
                    env[name] = value.replace("$PATH", self.env.get("PATH", ""))
        return env

    def test_whole_story_python_gi(self):
        proc, out, log = self.demo()

        # the configuration it says it wrote: every device named, the dashboard on
        config_path = self.instruction(out, r"^Configuration: (\S+)$")
        config = configparser.ConfigParser(interpolation=None)
        config.read(config_path)
        devices = [s for s in config.sections() if s.startswith("device ")]
        self.assertEqual(len(devices), 6, config.sections())
        for section in devices:
            self.assertTrue(config[section].get("name"), section)
        self.assertEqual(config["exporter dashboard"]["kind"], "sse")
        self.assertEqual(config["exporter dashboard"]["listen"], "127.0.0.1:%d" % self.port)
        with open(config_path) as f:
            self.assertNotIn("MASKED", f.read())
        dashboard = self.instruction(out, r"^Dashboard: +(http://\S+)")
        self.assertEqual(dashboard, "http://127.0.0.1:%d/" % self.port)

        # the dashboard: production, consumption, the grid and the batteries, live
        stream = ssebase.EventStream(self.port)
        self.addCleanup(stream.close)
        names = {}
        energies = []

        def energy_moves(event):
            if event.get("event") == "device":
                data = ssebase.strict_json(event["data"])
                if "name" in data:
                    names[data["id"]] = data["name"]
                return False
            if event.get("event") != "energy":
                return False
            energy = ssebase.strict_json(event["data"])
            if None in (energy["production"], energy["consumption"], energy["net"],
                        energy.get("battery"), energy.get("soc")):
                return False
            energies.append(energy)
            return len({e["production"] for e in energies}) >= 3
        stream.wait(energy_moves, timeout=30, what="three different productions")
        for energy in energies:
            # the gateway's batteries, with their charge
            self.assertTrue(0 <= energy["soc"] <= 100, energy)
            self.assertGreater(energy["production"], 0)
            self.assertGreater(energy["consumption"], 0)
            # consumption = production + net (the gateway's own meters)
            self.assertAlmostEqual(energy["consumption"], energy["production"] + energy["net"], delta=0.01)

        # real names everywhere (Home Assistant and EmonCMS take theirs from these)
        for parent, sockets in SOCKETS.items():
            self.assertEqual([names.get("%s_%d" % (parent, i + 1)) for i in range(len(sockets))],
                             sockets)
        for dev_id, name in names.items():
            self.assertNotIn("MASKED", name, dev_id)
        self.assertEqual(names["solar"], "Solar gateway")
        self.assertEqual(names["water"], "Water meter")
        self.assertIn("solar_batteries", names)  # the gateway's batteries together

        # a Python example, with the exports the demo printed (and nothing else)
        env = self.exports(out)
        for var in ("GI_TYPELIB_PATH", "LD_LIBRARY_PATH", "WATTBUS_LOCALEDIR", "DBUS_SESSION_BUS_ADDRESS"):
            self.assertIn(var, env, out)
        self.assertTrue(os.path.isdir(env["WATTBUS_LOCALEDIR"]), env["WATTBUS_LOCALEDIR"])
        example = self.instruction(out, r"^  (/usr/bin/python3 examples/python/\S+ --session)$")
        listing = subprocess.run(example.split(), cwd=wbtest.SOURCE_DIR, env=env, capture_output=True,
                                 text=True, timeout=30)
        self.assertEqual(listing.returncode, 0, listing.stderr)
        for name in ("Kettle", "Desk lamp", "Pond pump", "Production", "Net consumption"):
            self.assertIn(name, listing.stdout)
        self.assertNotIn("MASKED", listing.stdout)
        # and the wattbusctl line
        ctl = subprocess.run(["wattbusctl", "list"], env=env, capture_output=True, text=True,
                             timeout=30)
        self.assertEqual(ctl.returncode, 0, ctl.stderr)
        self.assertIn("Speakers", ctl.stdout)

    def test_second_demo_says_so(self):
        """A second demo on the same bus stops before its instructions and says where the
        running one is."""
        first, out, _ = self.demo()
        config_path = self.instruction(out, r"^Configuration: (\S+)$")
        second = subprocess.run(["/usr/bin/python3", DEMO, "--build-dir", uxtest.BUILD_DIR,
                                 "--dashboard-port", str(freeport.free_port())],
                                env=self.env, capture_output=True, text=True, timeout=60)
        self.assertEqual(second.returncode, 1, second.stdout + second.stderr)
        self.assertNotIn(LAST_LINE, second.stdout)
        self.assertNotIn("In another terminal", second.stdout)
        self.assertIn("A Wattbus demo already runs (process %d)" % first.pid, second.stderr)
        self.assertIn(config_path, second.stderr)
        self.assertIn("http://127.0.0.1:%d/" % self.port, second.stderr)
        # the first one is unharmed
        self.assertIsNone(first.poll())
        ssebase.EventStream(self.port).wait_data("energy")

    def test_dead_bus_socket_replaced(self):
        """After a crash, $XDG_RUNTIME_DIR/bus is a socket nobody listens on: the demo
        replaces it with a bus of its own instead of failing to connect."""
        dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        dead.bind(os.path.join(self.runtime, "bus"))
        dead.close()  # the file stays
        proc, out, log = self.demo()
        self.assertIn("a dead bus socket (nobody listens), replacing it", out)
        address = self.instruction(out, r"export DBUS_SESSION_BUS_ADDRESS=(\S+)")
        self.assertTrue(address.startswith("unix:path=%s/bus" % self.runtime), address)
        busctl = subprocess.run(["busctl", "--user", "status", "org.wattbus.Wattbus1"],
                                env=self.env, capture_output=True, text=True, timeout=30)
        self.assertEqual(busctl.returncode, 0, busctl.stderr)
        # and a clean stop leaves no socket behind
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        self.assertFalse(os.path.exists(os.path.join(self.runtime, "bus")))


if __name__ == "__main__":
    wbtest.main()
