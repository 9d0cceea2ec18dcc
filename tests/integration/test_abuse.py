#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What a local user can do to the daemon with the open or cheap methods, called many
times (issue 12): Discover, Refresh, AddDevice/RemoveDevice churn. The daemon's file
descriptors, memory and the devices' request counts must stay bounded."""

import os
import signal
import threading

import envoybase as envoy
import wbtest
from gi.repository import Gio, GLib
from wbtest import DEVICE, IFACE, METER, ROOT, device_path

ERR = "org.wattbus.Wattbus1.Error."
PLUG = "HS110(EU)_4.0_1.0.4.json"


def proc_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def proc_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class AbuseTest(envoy.EnvoyTest):

    def connect(self):
        """Another client on the test bus: another D-Bus sender."""
        conn = Gio.DBusConnection.new_for_address_sync(
            self.bus.address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
            None, None)
        self.addCleanup(conn.close_sync, None)
        return conn

    @staticmethod
    def discover_args(emu, timeout):
        return GLib.Variant("(a{sv})", ({"driver": GLib.Variant("s", "kasa"),
                                          "target": GLib.Variant("s", "127.0.0.1:%d" % emu.udp_port),
                                          "timeout": GLib.Variant("d", timeout)},))

    def discover(self, conn, emu, timeout=0.1):
        reply = conn.call_sync(wbtest.BUS_NAME, ROOT, IFACE, "Discover", self.discover_args(emu, timeout),
                               None, Gio.DBusCallFlags.NONE, 20000, None)
        return reply.unpack()[0]

    # Discover

    def test_discover_leaks_nothing(self):
        """200 Discovers from four callers (each one at a time) at a loopback plug: the
        daemon's file descriptors and memory come back to where they were."""
        emu = self.emulator(PLUG)
        self.start_daemon()
        pid = self.daemon.pid
        callers = [self.connect() for _ in range(4)]
        for conn in callers:  # the first call of each caller sets things up for good
            self.assertEqual(len(self.discover(conn, emu, 1)), 1)
        fds, rss = proc_fds(pid), proc_rss_kb(pid)

        errors = []

        def run(conn):
            try:
                for _ in range(50):
                    self.discover(conn, emu)
            except GLib.Error as e:
                errors.append(e.message)
        threads = [threading.Thread(target=run, args=(conn,)) for conn in callers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        self.assert_daemon_alive()
        self.assertLessEqual(proc_fds(pid), fds, "file descriptors leaked")
        # 200 leaked 64 KiB buffers and tasks would be 13 MB and more (AddressSanitizer
        # holds freed memory in its quarantine: resident memory says nothing there)
        if "ASAN_OPTIONS" not in os.environ:
            self.assertLess(proc_rss_kb(pid) - rss, 3 * 1024, "memory leaked")
        # a warning per call is a log flood a caller controls: nothing above debug
        self.assertNotIn("WARNING", self.daemon_log())

    def test_discover_busy(self):
        """One Discover at a time per caller, and a few in all: the others get Busy at
        once; when they end, the callers can discover again."""
        emu = self.emulator(PLUG)
        self.start_daemon()
        first = self.connect()
        done = []

        def finished(conn, res, what):
            try:
                done.append((what, len(conn.call_finish(res).unpack()[0])))
            except GLib.Error as e:
                done.append((what, Gio.DBusError.get_remote_error(e)))

        def start(conn, what):
            conn.call(wbtest.BUS_NAME, ROOT, IFACE, "Discover", self.discover_args(emu, 3),
                      None, Gio.DBusCallFlags.NONE, 20000, None, finished, what)

        start(first, "first")
        self.iterate(0.3)
        # the same caller again, while its first runs
        try:
            self.discover(first, emu)
            self.fail("a second Discover of the same caller was accepted")
        except GLib.Error as e:
            self.assertEqual(Gio.DBusError.get_remote_error(e), ERR + "Busy")
            self.assertIn("one at a time", e.message)
        # other callers: a few more run, then the daemon is busy for everyone
        others = [self.connect() for _ in range(8)]
        for i, conn in enumerate(others):
            start(conn, "other%d" % i)
        self.wait_for(lambda: len([d for d in done if d[1] == ERR + "Busy"]) >= 1, 5, "Busy replies")
        self.wait_for(lambda: len(done) == 9, 15, "every Discover answered")
        ran = [d for d in done if d[1] == 1]
        busy = [d for d in done if d[1] == ERR + "Busy"]
        self.assertEqual(len(ran) + len(busy), 9, done)
        self.assertIn(("first", 1), ran)
        self.assertLessEqual(len(ran), 4)
        self.assertGreaterEqual(len(busy), 5)
        # and afterwards, everyone may discover again
        self.assertEqual(len(self.discover(first, emu)), 1)
        self.assertEqual(len(self.discover(others[-1], emu)), 1)
        self.assert_daemon_alive()

    # Refresh

    def refresh_many(self, path, count=500, callers=5):
        """@count Refresh calls from @callers callers at once, each caller one call after
        the other (the way 50 parallel scripts hammered a gateway)."""
        errors = []

        def run(conn, n):
            for _ in range(n):
                try:
                    conn.call_sync(wbtest.BUS_NAME, path, DEVICE, "Refresh", None, None,
                                   Gio.DBusCallFlags.NONE, 20000, None)
                except GLib.Error as e:
                    errors.append(e.message)
        threads = [threading.Thread(target=run, args=(self.connect(), count // callers))
                   for _ in range(callers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        return errors

    def test_refresh_coalesced_kasa(self):
        """500 Refresh calls: the plug sees a handful of requests, not one per call; a
        change on the device is still read soon after a Refresh."""
        emu = self.emulator(PLUG)
        self.write_config("[device plug]\ndriver=kasa\naddress=%s\npoll-interval=60\n" % emu.address)
        self.start_daemon()
        path = self.wait_online("plug")
        before = emu.state()["requests"]["tcp"]
        self.assertEqual(self.refresh_many(path), [])
        self.iterate(1.5)  # the poll that follows the burst
        seen = emu.state()["requests"]["tcp"] - before
        self.assertGreaterEqual(seen, 1)
        self.assertLessEqual(seen, 4, "%d requests for 500 Refresh calls" % seen)
        emu.command("emeter power_mw=4321000")
        self.call(path, DEVICE, "Refresh")
        self.wait_prop(path, METER, "Power", 4321.0, timeout=5)
        self.assertTrue(self.get(path, DEVICE, "Online"))

    def test_refresh_coalesced_envoy(self):
        """The same for an Envoy, whose poll is several authenticated requests."""
        emu = self.gateway("8.2.4345_with_device_data", stream=None)
        path = self.start_envoy(emu, poll_interval=60, token=emu.token("owner"))

        def polled():
            return sum(n for p, n in emu.state()["requests"].items() if not p.startswith("/stream"))
        self.iterate(1.5)
        before = polled()
        self.call(path, DEVICE, "Refresh")
        one_poll = polled() - before
        self.assertGreater(one_poll, 0)
        self.iterate(1.5)
        before = polled()
        self.assertEqual(self.refresh_many(path), [])
        self.iterate(1.5)
        seen = polled() - before
        self.assertLessEqual(seen, 4 * one_poll, "%d requests for 500 Refresh calls (%d a poll)"
                             % (seen, one_poll))

    # AddDevice + RemoveDevice churn

    def test_churn_add_remove(self):
        """600 AddDevice + RemoveDevice cycles leave nothing behind: in the sanitizer
        build LeakSanitizer looks at the daemon's exit (with GSlice off, so that it sees
        every block); in the normal build its resident memory stays where it was (each
        cycle kept its two incoming D-Bus messages: 5.6 KB a cycle, 11 MB per 2,000)."""
        sanitized = "ASAN_OPTIONS" in os.environ
        env = {"G_SLICE": "always-malloc"}  # as the systemd unit runs it
        if sanitized:
            env["ASAN_OPTIONS"] = os.environ["ASAN_OPTIONS"].replace("detect_leaks=0", "detect_leaks=1")
            env["LSAN_OPTIONS"] = "suppressions=%s:print_suppressions=0" % os.path.join(
                wbtest.DATA, "lsan.supp")
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            emu = self.emulator(PLUG)
            self.start_daemon()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        pid = self.daemon.pid
        args = ({"driver": GLib.Variant("s", "kasa"), "address": GLib.Variant("s", emu.address),
                 "id": GLib.Variant("s", "churn")},)

        def churn(cycles):
            for i in range(cycles):
                path = self.call(ROOT, IFACE, "AddDevice", args, "(a{sv})")[0]
                if i % 50 == 0:  # now and then, one that got to poll
                    self.wait_online("churn")
                self.call(ROOT, IFACE, "RemoveDevice", (path,), "(o)")
        churn(100)
        rss = proc_rss_kb(pid)
        churn(600)
        self.assertEqual(self.managed_objects(), {})
        if sanitized:
            self.daemon.send_signal(signal.SIGTERM)
            self.daemon.wait(60)
            log = self.daemon_log()
            self.assertFalse("LeakSanitizer" in log, log[-8000:])
            self.assertEqual(self.daemon.returncode, 0)
        else:
            self.assertLess(proc_rss_kb(pid) - rss, 1024, "resident memory grew")


if __name__ == "__main__":
    wbtest.main()
