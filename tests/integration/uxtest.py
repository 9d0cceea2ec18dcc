# SPDX-License-Identifier: GPL-2.0-or-later
"""What the tests of the user-facing parts share (examples, applet, completion, translation):
the daemon with two emulated Kasa devices, the expected readings taken from the fixture
(not from our code), and running a program as a user would, with the bus address."""

import json
import os
import queue
import subprocess
import threading
import time

import wbtest

EXAMPLES = os.path.join(wbtest.SOURCE_DIR, "examples")
# the build dir, from the path of wattbusctl (BUILD/src/cli/wattbusctl)
BUILD_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(os.environ["WATTBUSCTL"]))))

PLUG = "HS110(EU)_4.0_1.0.4.json"
STRIP = "KP303(US)_2.0_1.0.9.json"


def fixture(name):
    with open(os.path.join(wbtest.KASA_FIXTURES, name)) as f:
        return json.load(f)


def fixture_reading(name):
    """The plug's emeter reading in SI units, converted here from the fixture's
    milli-units, independently of the daemon."""
    rt = fixture(name)["emeter"]["get_realtime"]
    return {"Power": rt["power_mw"] / 1000, "Voltage": rt["voltage_mv"] / 1000,
            "Current": rt["current_ma"] / 1000, "Energy": float(rt["total_wh"])}


class UxTest(wbtest.DaemonTest):
    """kettle: an HS110(EU) metered plug polled every second; garden: a KP303 strip of
    three outlets (garden_1 on, garden_2 and garden_3 off) without a meter."""

    def setUp(self):
        super().setUp()
        self.plug = self.emulator(PLUG, "--alias", "Kettle")
        self.strip = self.emulator(STRIP, "--alias", "Garden")
        self.write_config("[device kettle]\ndriver=kasa\naddress=%s\npoll-interval=1\n\n"
                          "[device garden]\ndriver=kasa\naddress=%s\npoll-interval=1\n"
                          % (self.plug.address, self.strip.address))
        self.reading = fixture_reading(PLUG)

    def start(self):
        self.start_daemon()
        self.wait_online("kettle")
        self.wait_online("garden")

    def assert_kettle_line(self, out, power_text):
        """The line of the kettle in a listing, which shows its power as power_text."""
        line = [line for line in out.splitlines() if line.startswith("kettle ")]
        self.assertEqual(len(line), 1, out)
        self.assertIn(power_text, line[0])
        return line[0]

    def user_env(self, bus="session", **extra):
        """The environment of a user's shell: the private bus as session or system bus
        (WATTBUS_BUS unset: the programs pick the bus from their options), the built
        library and typelib, no debug output."""
        env = dict(os.environ, LANG="C.UTF-8")
        for key in ("G_MESSAGES_DEBUG", "WATTBUS_BUS", "LANGUAGE", "LC_ALL"):
            env.pop(key, None)
        # the other bus does not exist
        env["DBUS_SESSION_BUS_ADDRESS"] = env["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=/nonexistent"
        env["DBUS_SESSION_BUS_ADDRESS" if bus == "session" else "DBUS_SYSTEM_BUS_ADDRESS"] = self.bus.address
        lib = os.path.join(BUILD_DIR, "src", "libwattbus-glib")
        for var in ("GI_TYPELIB_PATH", "LD_LIBRARY_PATH"):
            env[var] = lib + (":" + env[var] if env.get(var) else "")
        env["PATH"] = os.path.join(BUILD_DIR, "src", "cli") + ":" + env.get("PATH", "/usr/bin:/bin")
        env.update(extra)
        return env

    def run_program(self, args, expect=0, bus="session", timeout=30, **extra):
        proc = subprocess.run(args, env=self.user_env(bus, **extra), capture_output=True, text=True,
                              timeout=timeout)
        self.assertEqual(proc.returncode, expect, "%s:\n%s%s" % (args, proc.stdout, proc.stderr))
        return proc.stdout

    def start_program(self, args, bus="session", **extra):
        """A program that runs until stopped; stopped at the end of the test."""
        proc = subprocess.Popen(args, env=self.user_env(bus, **extra), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)

        def stop():
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
            proc.communicate(timeout=10)
        self.addCleanup(stop)
        return proc


class LineReader:
    """The output of a running program, line by line, read on a thread."""

    def __init__(self, stream):
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, predicate, timeout=10):
        """The first line for which predicate is true; fails after timeout seconds."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                break
            self.seen.append(line)
            if predicate(line):
                return line
        raise AssertionError("no such line in %s s; got:\n%s" % (timeout, "\n".join(self.seen)))
