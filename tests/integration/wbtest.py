# SPDX-License-Identifier: GPL-2.0-or-later
"""Test harness: a private D-Bus, the real wattbusd, and device emulators on 127.0.0.1.

Paths come from the environment that meson sets (see tests/meson.build):
WATTBUSD, WATTBUSCTL, WATTBUS_KASA_EMULATOR, WATTBUS_TEST_DATA.
"""

import json
import math
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

BUS_NAME = "org.wattbus.Wattbus1"
ROOT = "/org/wattbus/Wattbus1"
IFACE = "org.wattbus.Wattbus1"
DEVICE = IFACE + ".Device"
OUTLET = IFACE + ".Outlet"
METER = IFACE + ".ElectricityMeter"

SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# defaults for running a test file by hand after building in _build
_BUILD = os.environ.get("WATTBUS_BUILD_DIR", os.path.join(SOURCE_DIR, "_build"))
os.environ.setdefault("WATTBUSD", os.path.join(_BUILD, "src", "wattbusd"))
os.environ.setdefault("WATTBUSCTL", os.path.join(_BUILD, "src", "cli", "wattbusctl"))
os.environ.setdefault("WATTBUS_KASA_EMULATOR", os.path.join(SOURCE_DIR, "tests", "emulators", "kasa-emulator.py"))
DATA = os.environ.get("WATTBUS_TEST_DATA", os.path.join(SOURCE_DIR, "tests", "data"))
KASA_FIXTURES = os.path.join(DATA, "kasa")
SMART_FIXTURES = os.path.join(DATA, "kasa-smart")
TPLINK_EMULATOR = os.path.join(SOURCE_DIR, "tests", "emulators", "tplink-emulator.py")


def device_path(dev_id):
    return ROOT + "/Devices/" + Gio.dbus_escape_object_path(dev_id)


class Bus:
    """A private dbus-daemon, as session or system bus."""

    def __init__(self, tmpdir, name="bus"):
        self.proc = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.address = self.proc.stdout.readline().decode().strip()
        if not self.address:
            raise RuntimeError("dbus-daemon did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)


# One time-out for every emulator's start (READY) and one for each control reply: the
# Envoy emulator makes TLS certificates before READY, the slowest start of them all.
READY_TIMEOUT = 20
REPLY_TIMEOUT = 10


class EmulatorProcess:
    """Any emulator of tests/emulators as a subprocess: spawn with /usr/bin/python3, wait for
    its `READY {json}` line (kept as .ready), the control channel of tests/emulators/emucontrol.py
    (a command line on stdin; data lines, then OK or ERR <reason>, on stdout), and stop."""

    def __init__(self, program, args=()):
        cmd = ["/usr/bin/python3", program] + list(args)
        env = dict(os.environ)
        env.pop("G_MESSAGES_DEBUG", None)  # GLib's debug lines would go to stdout
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, bufsize=1, env=env)
        self.lines = queue.Queue()
        threading.Thread(target=self._reader, daemon=True).start()
        try:
            line = self._readline(READY_TIMEOUT)
            if not line.startswith("READY "):
                raise RuntimeError("%s did not start: %r" % (os.path.basename(program), line))
        except RuntimeError:
            self.stop()
            raise
        self.ready = json.loads(line[len("READY "):])

    def _reader(self):
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def _readline(self, timeout):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError("emulator did not answer in %s s" % timeout)
        if line is None:
            raise RuntimeError("emulator exited")
        return line

    def command(self, line):
        """Sends one control command; returns the data lines before its OK."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        out = []
        while True:
            reply = self._readline(REPLY_TIMEOUT)
            if reply == "OK":
                return out
            if reply.startswith("ERR"):
                raise RuntimeError("emulator: %s" % reply)
            out.append(reply)

    def reply_json(self, cmd, prefix):
        """The JSON of the `PREFIX {json}` line that @cmd answers."""
        for line in self.command(cmd):
            if line.startswith(prefix + " "):
                return json.loads(line[len(prefix) + 1:])
        raise RuntimeError("no %s" % prefix)

    def state(self):
        return self.reply_json("state", "STATE")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Emulator(EmulatorProcess):
    """A Kasa device emulator (tests/emulators/kasa-emulator.py; tplink-emulator.py with
    @program) serving one fixture."""

    def __init__(self, fixture, *args, log=None, program=None, fixtures=None):
        cmd = ["--fixture", os.path.join(fixtures or KASA_FIXTURES, fixture)] + list(args)
        if log:
            cmd += ["--log", log]
        super().__init__(program or os.environ["WATTBUS_KASA_EMULATOR"], cmd)
        ports = self.ready
        self.ports = ports
        self.port = ports.get("tcp")
        self.udp_port = ports.get("udp")
        self.http_port = ports.get("http")
        self.address = "127.0.0.1:%d" % (self.port or self.http_port)


class DaemonTest(unittest.TestCase):
    """Base class: every test gets its own bus, config and state directories and daemon."""

    system_bus = False  # run wattbusd --system on a private bus, with a mock polkit

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wattbus-test-")
        self.config_dir = os.path.join(self.tmp, "etc")
        self.state_dir = os.path.join(self.tmp, "state")
        os.makedirs(os.path.join(self.config_dir, "conf.d"))
        self.emulators = []
        self.daemon = None
        self.polkit = None
        self.bus = Bus(self.tmp)
        self.conn = Gio.DBusConnection.new_for_address_sync(
            self.bus.address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
            None, None)
        self.signals = []
        self.conn.signal_subscribe(BUS_NAME, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                   None, None, Gio.DBusSignalFlags.NONE, self._on_signal)
        self.addCleanup(self._cleanup)

    def _on_signal(self, conn, sender, path, iface, name, params):
        self.signals.append((path, params.unpack()))

    def _cleanup(self):
        problem = None
        try:
            code = self.stop_daemon()
            # a sanitizer report ends the daemon with an error, or is at least in its log
            if code is not None and code not in (0, -signal.SIGTERM):
                problem = "wattbusd exited with %s" % code
            elif os.path.exists(getattr(self, "log_path", "")):
                log = self.daemon_log()
                for marker in ("ERROR: AddressSanitizer", "runtime error:", "CRITICAL"):
                    if marker in log:
                        problem = "%s in the wattbusd log" % marker
                        break
                # a warning of GLib itself (not the daemon's own about devices) is a bug
                glib_warning = re.search(r"GLib(-[A-Za-z]+)?-WARNING \*\*.*", log)
                if problem is None and glib_warning:
                    problem = "a GLib warning in the wattbusd log: %s" % glib_warning.group(0)
            if problem and os.path.exists(getattr(self, "log_path", "")):
                problem += ":\n" + self.daemon_log()[-6000:]
        finally:
            # whatever happened, no emulator, mock or bus outlives the test
            for emu in self.emulators:
                emu.stop()
            if self.polkit:
                self.polkit.terminate()
                self.polkit.wait(5)
            self.bus.stop()
            shutil.rmtree(self.tmp, ignore_errors=True)
        if problem:
            self.fail(problem)

    # polkit, played by python-dbusmock's polkitd template on the private bus

    def start_mock_polkit(self):
        env = {"DBUS_SYSTEM_BUS_ADDRESS": self.bus.address, "PATH": "/usr/bin:/bin"}
        self.polkit = subprocess.Popen(["/usr/bin/python3", "-m", "dbusmock", "--system", "--template", "polkitd"],
                                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_for(self.polkit_up, 10, "mock polkitd")

    def polkit_up(self):
        reply = self.conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                    "NameHasOwner", GLib.Variant("(s)", ("org.freedesktop.PolicyKit1",)), None,
                                    Gio.DBusCallFlags.NONE, 5000, None)
        return reply.unpack()[0]

    def allow(self, *actions):
        """Lets the mock polkit grant exactly these actions."""
        self.conn.call_sync("org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                            "org.freedesktop.DBus.Mock", "SetAllowed", GLib.Variant("(as)", (list(actions),)),
                            None, Gio.DBusCallFlags.NONE, 5000, None)

    # emulators and config

    def emulator(self, fixture, *args, **kwargs):
        emu = Emulator(fixture, *args, **kwargs)
        self.emulators.append(emu)
        return emu

    def tplink_emulator(self, fixture, *args, **kwargs):
        """tests/emulators/tplink-emulator.py serving tests/data/kasa-smart/FIXTURE over KLAP or AES."""
        return self.emulator(fixture, *args, program=TPLINK_EMULATOR, fixtures=SMART_FIXTURES, **kwargs)

    def write_config(self, text, name="wattbus.conf"):
        path = os.path.join(self.config_dir, name)
        with open(path, "w") as f:
            f.write(text)

    # the daemon

    def start_daemon(self, *extra, wait=True):
        self.log_path = os.path.join(self.tmp, "wattbusd-%d.log" % time.monotonic_ns())
        env = dict(os.environ)
        env["G_DEBUG"] = "fatal-criticals"
        env["G_MESSAGES_DEBUG"] = "all"
        args = [os.environ["WATTBUSD"], "--config", self.config_dir, "--state-dir", self.state_dir]
        if self.system_bus:
            env["DBUS_SYSTEM_BUS_ADDRESS"] = self.bus.address
            args.append("--system")
        else:
            env["DBUS_SESSION_BUS_ADDRESS"] = self.bus.address
            args.append("--session")
        self.log = open(self.log_path, "w")
        self.daemon = subprocess.Popen(args + list(extra), env=env, stdout=self.log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_for(lambda: self.name_has_owner(), timeout=10, what="wattbusd owns its name")
        return self.daemon

    def stop_daemon(self, sig=signal.SIGTERM):
        if self.daemon is None:
            return None
        if self.daemon.poll() is None:
            self.daemon.send_signal(sig)
            try:
                self.daemon.wait(10)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        code = self.daemon.returncode
        self.daemon = None
        self.log.close()
        return code

    def daemon_log(self):
        with open(self.log_path) as f:
            return f.read()

    def assert_daemon_alive(self):
        self.assertIsNone(self.daemon.poll(), "wattbusd died:\n" + self.daemon_log()[-4000:])

    def run(self, result=None):
        # print the daemon log when a test fails, as the anchors do
        res = super().run(result)
        return res

    def tearDown(self):
        failed = False
        outcome = getattr(self, "_outcome", None)
        if outcome is not None:
            errors = getattr(outcome, "errors", None)
            if errors:
                failed = any(exc is not None for _, exc in errors)
            result = getattr(outcome, "result", None)
            if result is not None and (result.failures or result.errors):
                failed = True
        if failed and self.daemon is not None and os.path.exists(self.log_path):
            sys.stderr.write("---- wattbusd log ----\n" + self.daemon_log()[-20000:] + "\n")

    # D-Bus helpers

    def name_has_owner(self):
        reply = self.conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                    "NameHasOwner", GLib.Variant("(s)", (BUS_NAME,)), None,
                                    Gio.DBusCallFlags.NONE, 5000, None)
        return reply.unpack()[0]

    def call(self, path, iface, method, args=None, signature=None, timeout=20000):
        params = GLib.Variant(signature, args) if signature else None
        reply = self.conn.call_sync(BUS_NAME, path, iface, method, params, None,
                                    Gio.DBusCallFlags.NONE, timeout, None)
        return reply.unpack() if reply is not None else None

    def call_error(self, path, iface, method, args=None, signature=None):
        """Calls a method that must fail; returns the D-Bus error name and message."""
        try:
            self.call(path, iface, method, args, signature)
        except GLib.Error as e:
            name = Gio.DBusError.get_remote_error(e)
            Gio.DBusError.strip_remote_error(e)
            return name, e.message
        self.fail("%s.%s succeeded but should have failed" % (iface, method))

    def get(self, path, iface, prop):
        return self.call(path, "org.freedesktop.DBus.Properties", "Get", (iface, prop), "(ss)")[0]

    def get_all(self, path, iface):
        return self.call(path, "org.freedesktop.DBus.Properties", "GetAll", (iface,), "(s)")[0]

    def managed_objects(self):
        return self.call(ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects")[0]

    def iterate(self, seconds=0.05):
        ctx = GLib.MainContext.default()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            while ctx.pending():
                ctx.iteration(False)
            time.sleep(0.01)

    def wait_for(self, predicate, timeout=10, what="condition"):
        end = time.monotonic() + timeout
        last_exc = None
        while time.monotonic() < end:
            try:
                if predicate():
                    return
            except GLib.Error as e:
                last_exc = e
            self.iterate(0.05)
        msg = "timed out waiting for %s" % what
        if last_exc:
            msg += " (last error: %s)" % last_exc.message
        if self.daemon is not None:
            msg += "\n---- wattbusd log ----\n" + self.daemon_log()[-6000:]
        self.fail(msg)

    def wait_online(self, dev_id, timeout=10):
        path = device_path(dev_id)
        self.wait_for(lambda: self.get(path, DEVICE, "Online"), timeout, "%s online" % dev_id)
        return path

    def wait_prop(self, path, iface, prop, value, timeout=10):
        def check():
            v = self.get(path, iface, prop)
            if isinstance(value, float) and isinstance(v, float):
                return math.isclose(v, value, rel_tol=1e-9, abs_tol=1e-9)
            return v == value
        self.wait_for(check, timeout, "%s %s = %r" % (path, prop, value))


def main():
    unittest.main(verbosity=2)
