#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The Envoy driver against the emulator: the live stream, inverter reports, the
credentials of both firmware generations, TLS pinning, and a misbehaving gateway."""

import math
import os
import subprocess
import time

import envoybase as common
import wbtest
from gi.repository import GLib
from envoybase import DEVICE, INVERTER, METER
from wbtest import ROOT, device_path

ERR = "org.wattbus.Wattbus1.Error."
ONE_PHASE = "8.2.4345_with_device_data"  # phaseCount 1, production + net-consumption CTs
THREE_PHASE = "7.6.175_with_cts_3phase"
LEGACY_METERED = "4.10.35"  # digest, split phase


def matches(actual, expected):
    for prop, value in expected.items():
        got = actual.get(prop)
        if isinstance(value, list):
            if got is None or len(got) != len(value) or \
                    not all(math.isclose(g, v, abs_tol=1e-9) for g, v in zip(got, value)):
                return False
        elif got is None or not math.isclose(got, value, abs_tol=1e-9):
            return False
    return True


class EnvoyTest(common.EnvoyTest):

    # ------------------------------------------------------------- live stream --

    def check_stream(self, folder, stream, phases, **keys):
        events = common.stream_events(stream)
        emu = self.gateway(folder, stream=stream)
        if emu.scheme == "https":
            keys["token"] = emu.token("installer")
        # polls far apart: whatever moves, the stream moved
        path = self.start_envoy(emu, poll_interval=60, **keys)
        polled, _ = common.expected_meters(folder)
        meters = self.meter_paths(path)
        measurements = ("production", "net-consumption", "total-consumption")
        seen = {m: set() for m in measurements}

        def live():
            for measurement in measurements:
                actual = self.get_all(meters[measurement], METER)
                for i, event in enumerate(events):
                    if matches(actual, common.expected_stream(event, measurement, phases)):
                        seen[measurement].add(i)
            return all(len(s) >= min(3, len(events)) for s in seen.values())
        self.wait_for(live, 10, "the meters following the stream (saw events %s)" % seen)
        for measurement in measurements:
            actual = self.get_all(meters[measurement], METER)
            # energy is not in the stream: it stays the polled counter
            self.assertTrue(math.isclose(actual["Energy"], polled[measurement]["Energy"], abs_tol=1e-6))
            self.assertEqual(actual["Phases"], phases if phases > 1 else 0)
        return emu, path, meters

    def test_stream_moves_meters_one_phase(self):
        emu, path, meters = self.check_stream(ONE_PHASE, common.STREAM_1PHASE, 1)
        self.assertEqual(emu.state()["streams"], 1)
        self.assertEqual(emu.state()["requests"]["/stream/meter"], 1)

    def test_stream_three_phase(self):
        self.check_stream(THREE_PHASE, common.STREAM_3PHASE, 3)

    def test_stream_legacy_installer(self):
        # before firmware 7 the stream needs the installer login, derived from the serial
        self.check_stream(LEGACY_METERED, common.STREAM_3PHASE, 2, username="installer")

    def test_stream_refused_falls_back_to_polling(self):
        emu = self.gateway(ONE_PHASE)
        path = self.start_envoy(emu, poll_interval=1, token=emu.token("owner"))
        self.wait_for(lambda: "refused the token for /stream/meter" in self.daemon_log(), 5, "stream refused")
        self.assertIn("polling instead", self.daemon_log())
        polled, _ = common.expected_meters(ONE_PHASE)
        mpath = self.meter_paths(path)["net-consumption"]
        time.sleep(2.5)
        self.assert_values(self.get_all(mpath, METER), polled["net-consumption"], "polled")
        # not asked again: one refusal
        self.assertEqual(emu.state()["requests"].get("/stream/meter"), 1)

    def test_stream_dropped_reconnects(self):
        emu, path, meters = self.check_stream(ONE_PHASE, common.STREAM_1PHASE, 1)
        emu.command("cut")
        self.wait_for(lambda: emu.state()["requests"]["/stream/meter"] >= 2, 5, "a new stream")
        before = emu.state()["events"]
        self.wait_for(lambda: emu.state()["events"] >= before + 2, 5, "events on the new stream")
        self.assertTrue(self.get(path, DEVICE, "Online"))

    def test_stream_stalled_reconnects(self):
        emu = self.gateway(ONE_PHASE, stream=common.STREAM_1PHASE)
        path = self.start_envoy(emu, poll_interval=60, stream_timeout=5, token=emu.token("installer"))
        self.wait_for(lambda: emu.state()["events"] >= 2, 5, "the stream")
        emu.command("misbehave stall /stream/meter")
        # 5 s of silence, then a new connection after 1 s
        self.wait_for(lambda: emu.state()["requests"]["/stream/meter"] >= 2, 10, "a reconnect after the stall")
        emu.command("misbehave none")
        mpath = self.meter_paths(path)["net-consumption"]
        values = set()
        self.wait_for(lambda: values.add(self.get(mpath, METER, "Power")) or len(values) >= 3, 12,
                      "the stream moving again")

    # --------------------------------------------------------------- inverters --

    def test_inverters_change_only_on_new_report(self):
        emu = self.gateway(ONE_PHASE)
        path = self.start_envoy(emu, poll_interval=30, token=emu.token("owner"))
        expected = common.expected_inverters(ONE_PHASE)
        serial = sorted(expected)[0]
        ipath = device_path("envoy_inverter_" + serial)
        self.wait_for(lambda: self.get(ipath, INVERTER, "Power") == expected[serial]["Power"], 5, "inverter")

        # the same report with other watts (a gateway would never): nothing moves
        emu.command("watts %s 999" % serial)
        self.signals.clear()
        self.call(path, DEVICE, "Refresh")
        self.iterate(0.5)
        self.assertEqual(self.get_all(ipath, INVERTER), expected[serial])
        self.assertFalse([s for s in self.signals if s[0] == ipath and s[1][0] == INVERTER])

        # a new report: all three change together
        emu.command("report %s 123" % serial)
        self.call(path, DEVICE, "Refresh")
        self.wait_prop(ipath, INVERTER, "Power", 123.0, timeout=5)
        props = self.get_all(ipath, INVERTER)
        self.assertGreater(props["LastReport"], expected[serial]["LastReport"])
        self.assertEqual(props["MaxPower"], expected[serial]["MaxPower"])
        self.iterate(0.3)
        changed = [s[1][1] for s in self.signals if s[0] == ipath and s[1][0] == INVERTER]
        self.assertTrue(any({"Power", "LastReport"} <= set(c) for c in changed), changed)

    # ------------------------------------------------------------- credentials --

    def wait_error(self, path, text, timeout=10):
        self.wait_for(lambda: text in self.get(path, DEVICE, "LastError"), timeout, "LastError with %r" % text)
        self.assertFalse(self.get(path, DEVICE, "Online"))
        return self.get(path, DEVICE, "LastError")

    def test_digest_wrong_password(self):
        emu = self.gateway(LEGACY_METERED)
        path = self.start_envoy(emu, wait=False, password="not-the-password")
        self.wait_error(path, "refused user 'envoy'")
        self.assertNotIn("not-the-password", self.daemon_log())

    def test_digest_installer_derived_password(self):
        emu = self.gateway("3.9.36")
        path = self.start_envoy(emu, username="installer")
        self.assertEqual(self.get(path, DEVICE, "LastError"), "")

    def test_token_expired(self):
        emu = self.gateway(ONE_PHASE)
        token = emu.token("owner", -60)
        path = self.start_envoy(emu, wait=False, token=token)
        msg = self.wait_error(path, "The token expired on")
        self.assertIn("entrez.enphaseenergy.com", msg)
        # refused before anything but /info is asked
        self.assertEqual(set(emu.state()["requests"]), {"/info"})
        self.assertNotIn(token, self.daemon_log())
        self.assertNotIn(token.split(".")[2], self.daemon_log())

    def test_token_refused_by_gateway(self):
        emu = self.gateway(ONE_PHASE)
        good = emu.token("owner")
        forged = good[: good.rindex(".") + 1] + "AAAA" + good[good.rindex(".") + 5:]
        path = self.start_envoy(emu, wait=False, token=forged)
        self.wait_error(path, "refused the token for /auth/check_jwt (HTTP 401)")
        self.assertNotIn(forged, self.daemon_log())

    def test_token_missing(self):
        emu = self.gateway(ONE_PHASE)
        path = self.start_envoy(emu, wait=False)
        self.wait_error(path, "Firmware D8.2.4345 needs a token")

    def test_token_not_exported(self):
        emu = self.gateway(ONE_PHASE)
        token = emu.token("installer")
        path = self.start_envoy(emu, token=token)
        self.wait_for(lambda: emu.state()["events"] >= 1, 5, "the stream")
        dump = repr(self.managed_objects())
        self.assertNotIn(token, dump)
        self.assertNotIn(token, self.daemon_log())
        self.assertIn("token of role installer, expires", self.daemon_log())

    # --------------------------------------------------------------------- TLS --

    def test_certificate_pinned_then_change_refused(self):
        emu = self.gateway(ONE_PHASE)
        path = self.start_envoy(emu, poll_interval=1, token=emu.token("owner"))
        pin_file = os.path.join(self.state_dir, "envoy", "envoy.pin")
        with open(pin_file) as f:
            self.assertEqual(f.read().strip(), emu.fingerprint)
        emu.command("new-cert")
        new = emu.state()["fingerprint"]
        self.assertNotEqual(new, emu.fingerprint)
        msg = self.wait_error(path, "TLS certificate has changed")
        self.assertIn(new, msg)
        self.assertIn(pin_file, msg)
        # refused, not downgraded to http
        self.assertFalse(self.get(path, DEVICE, "Online"))
        with open(pin_file) as f:
            self.assertEqual(f.read().strip(), emu.fingerprint)

    # pins across restarts (issue 12, item 1)

    def pin_file(self, dev_id="envoy"):
        return os.path.join(self.state_dir, "envoy", dev_id + ".pin")

    def requests_since(self, log, start):
        with open(log) as f:
            return f.read().splitlines()[start:]

    def test_pin_kept_across_restarts_and_a_new_certificate_refused(self):
        """The pin written at the first start is the one honoured at the next: a gateway
        that presents another certificate after a restart (a man in the middle) is
        refused before any request, so it never sees the token."""
        log = os.path.join(self.tmp, "requests.log")
        emu = self.gateway(ONE_PHASE, log=log)
        token = emu.token("owner")
        path = self.start_envoy(emu, poll_interval=1, token=token)
        with open(self.pin_file()) as f:
            self.assertEqual(f.read().strip(), emu.fingerprint)
        self.assertIn("trusting the gateway's TLS certificate", self.daemon_log())
        # restart: the pin is read back, not replaced
        self.stop_daemon()
        pin_mtime = os.stat(self.pin_file()).st_mtime_ns
        self.start_daemon()
        self.wait_online("envoy", timeout=15)
        self.assertNotIn("trusting the gateway's TLS certificate", self.daemon_log())
        self.assertNotIn("ignoring", self.daemon_log())
        self.assertEqual(os.stat(self.pin_file()).st_mtime_ns, pin_mtime)
        # another certificate while the daemon is down, then a start: refused
        self.stop_daemon()
        emu.command("new-cert")
        new = emu.state()["fingerprint"]
        before = len(self.requests_since(log, 0))
        self.start_daemon()
        msg = self.wait_error(path, "TLS certificate has changed")
        self.assertIn(new, msg)
        self.assertIn(emu.fingerprint, msg)
        self.assertIn("Repin", msg)
        self.assertFalse(self.get(path, DEVICE, "Online"))
        with open(self.pin_file()) as f:
            self.assertEqual(f.read().strip(), emu.fingerprint)
        # another poll, refused at the handshake too: no request, so no token, reached it
        self.assertEqual(self.call_error(path, DEVICE, "Refresh")[0], ERR + "PermissionDenied")
        self.assertEqual(self.requests_since(log, before), [])
        self.assertNotIn(token, self.daemon_log())

    def test_pinned_gateway_is_never_asked_over_http(self):
        """A bare address (no scheme) is probed over http first, but not once the
        gateway is pinned, also after a restart: a man in the middle that answers plain
        http on its port as an old digest gateway is not believed (before, the daemon
        read /info over http, took it for another gateway and showed its readings)."""
        emu = self.gateway(ONE_PHASE)
        address = "127.0.0.1:%d" % emu.port
        path = self.start_envoy(emu, address=address, poll_interval=1, token=emu.token("installer"))
        self.assertIn("over https", self.daemon_log())
        self.assertTrue(os.path.exists(self.pin_file()))
        self.stop_daemon()
        emu.stop()
        log = os.path.join(self.tmp, "mitm.log")
        mitm = common.EnvoyEmulator(LEGACY_METERED, "--port", str(emu.port), log=log)
        self.emulators.append(mitm)
        self.assertEqual(mitm.scheme, "http")
        self.start_daemon()
        # https to a server that speaks http: the handshake gets no answer, and the
        # request times out (15 s)
        self.wait_for(lambda: self.get(path, DEVICE, "LastError") != "", 40, "a LastError")
        self.assertFalse(self.get(path, DEVICE, "Online"))
        with open(log) as f:
            self.assertEqual(f.read().splitlines(), [])
        self.assertNotIn("over http", self.daemon_log())

    def test_unusable_pin_file_keeps_the_gateway_offline(self):
        """A pin file that cannot be parsed (or read) is an error, never a reason to pin
        whatever the gateway presents now."""
        log = os.path.join(self.tmp, "requests.log")
        emu = self.gateway(ONE_PHASE, log=log)
        os.makedirs(os.path.dirname(self.pin_file()))
        for content in (emu.fingerprint[:-1], "sha256" + emu.fingerprint[6:].replace(":", "", 1),
                        "garbage\n", emu.fingerprint + ":00", ""):
            with open(self.pin_file(), "w") as f:
                f.write(content)
            path = self.start_envoy(emu, wait=False, poll_interval=1, token=emu.token("owner"))
            msg = self.wait_error(path, "certificate pin")
            self.assertIn("not a SHA-256 fingerprint", msg)
            self.assertIn(self.pin_file(), msg)
            self.assertFalse(self.get(path, DEVICE, "Online"))
            self.assertEqual(self.get(path, "org.wattbus.Wattbus1.Envoy", "CertificatePin"), "")
            with open(self.pin_file()) as f:
                self.assertEqual(f.read(), content)
            self.stop_daemon()
        # a pin file that cannot be read: a directory in its place
        os.unlink(self.pin_file())
        os.mkdir(self.pin_file())
        path = self.start_envoy(emu, wait=False, poll_interval=1, token=emu.token("owner"))
        msg = self.wait_error(path, "certificate pin cannot be read")
        self.assertIn("not a regular file", msg)
        self.assertTrue(os.path.isdir(self.pin_file()))
        self.assertEqual(self.requests_since(log, 0), [])
        # the pin in upper case, with white space around it, is the same pin
        self.stop_daemon()
        os.rmdir(self.pin_file())
        with open(self.pin_file(), "w") as f:
            f.write("  " + emu.fingerprint.upper().replace("SHA256", "sha256") + "\r\n")
        self.start_envoy(emu, poll_interval=1, token=emu.token("owner"))

    def refresh_after_repin(self, path):
        """Refresh() right after a failed poll may answer with that poll's outcome (and
        poll a second later): either way the next poll uses the new pin."""
        try:
            self.call(path, DEVICE, "Refresh")
        except GLib.Error:
            pass

    def test_repin_on_purpose(self):
        emu = self.gateway(ONE_PHASE)
        path = self.start_envoy(emu, poll_interval=1, token=emu.token("owner"))
        old = emu.fingerprint
        self.assertEqual(self.get(path, "org.wattbus.Wattbus1.Envoy", "CertificatePin"), old)
        emu.command("new-cert")
        new = emu.state()["fingerprint"]
        self.wait_error(path, "TLS certificate has changed")
        envoy = "org.wattbus.Wattbus1.Envoy"
        for bad in ("sha256:00", "md5:" + new[7:], new + "x", "sha256" + new[6:].replace(":", "-")):
            err = self.call_error(path, envoy, "Repin", (bad,), "(s)")
            self.assertEqual(err[0], ERR + "InvalidArgument", bad)
        with open(self.pin_file()) as f:
            self.assertEqual(f.read().strip(), old)
        # the fingerprint the refusal named, as an admin checked it on the gateway
        self.call(path, envoy, "Repin", (new.upper().replace("SHA256", "sha256"),), "(s)")
        with open(self.pin_file()) as f:
            self.assertEqual(f.read().strip(), new)
        self.assertEqual(self.get(path, envoy, "CertificatePin"), new)
        self.refresh_after_repin(path)
        self.wait_for(lambda: self.get(path, DEVICE, "Online"), 15, "online with the new pin")
        self.assertIn("re-pinned on request", self.daemon_log())
        # empty: trust on first use again
        emu.command("new-cert")
        newer = emu.state()["fingerprint"]
        self.wait_error(path, "TLS certificate has changed")
        self.call(path, envoy, "Repin", ("",), "(s)")
        self.refresh_after_repin(path)
        self.wait_for(lambda: self.get(path, DEVICE, "Online"), 15, "online, pinned afresh")
        with open(self.pin_file()) as f:
            self.assertEqual(f.read().strip(), newer)
        self.assertEqual(self.get(path, envoy, "CertificatePin"), newer)

    def test_repin_with_ca_file_not_supported(self):
        emu = self.gateway(ONE_PHASE)
        path = self.start_envoy(emu, ca_file=emu.ca, token=emu.token("owner"))
        err = self.call_error(path, "org.wattbus.Wattbus1.Envoy", "Repin", ("",), "(s)")
        self.assertEqual(err[0], ERR + "NotSupported")
        self.assertEqual(self.get(path, "org.wattbus.Wattbus1.Envoy", "CertificatePin"), "")

    def test_remove_device_deletes_its_pin(self):
        emu = self.gateway(ONE_PHASE)
        os.environ["STATE_DIRECTORY"] = self.state_dir
        self.start_daemon()
        args = {k: GLib.Variant("s", v) for k, v in (("driver", "envoy"), ("address", emu.address),
                                                       ("id", "solar"), ("token", emu.token("owner")))}
        path = self.call(ROOT, wbtest.IFACE, "AddDevice", (args,), "(a{sv})")[0]
        self.wait_for(lambda: self.get(path, DEVICE, "Online"), 15, "solar online")
        self.assertTrue(os.path.exists(self.pin_file("solar")))
        self.call(ROOT, wbtest.IFACE, "RemoveDevice", (path,), "(o)")
        self.assertFalse(os.path.exists(self.pin_file("solar")))
        # a reload that drops a device from the files keeps its pin (only RemoveDevice forgets)
        self.stop_daemon()
        emu2 = self.gateway(ONE_PHASE, cert_dir=os.path.join(self.tmp, "certs-2"))
        self.start_envoy(emu2, dev_id="cfg", token=emu2.token("owner"))
        self.write_config("")
        self.call(ROOT, wbtest.IFACE, "Reload")
        self.assertTrue(os.path.exists(self.pin_file("cfg")))

    def test_ca_file(self):
        emu = self.gateway(ONE_PHASE)
        path = self.start_envoy(emu, ca_file=emu.ca, token=emu.token("owner"))
        self.assertFalse(os.path.exists(os.path.join(self.state_dir, "envoy", "envoy.pin")))
        self.assertEqual(self.get(path, DEVICE, "LastError"), "")

    def test_ca_file_other_ca_refused(self):
        emu = self.gateway(ONE_PHASE)
        other = os.path.join(self.tmp, "other-ca.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", os.path.join(self.tmp, "other-key.pem"), "-out", other,
                        "-days", "1", "-subj", "/CN=other test CA"], check=True, capture_output=True)
        path = self.start_envoy(emu, wait=False, ca_file=other, token=emu.token("owner"))
        self.wait_error(path, "does not verify against the configured ca-file")

    # file settings (issue 12, item 5)

    def rss_kb(self):
        with open("/proc/%d/status" % self.daemon.pid) as f:
            return int(next(line for line in f if line.startswith("VmRSS:")).split()[1])

    def test_ca_file_must_be_a_small_regular_file(self):
        """ca-file is read as hostile input: a FIFO, /dev/zero, a symbolic link or a 2 MiB
        file is refused with a clear error, the daemon does not grow or block, and the
        other devices keep working; over D-Bus only files of the configuration
        directory are taken."""
        plug = self.emulator("HS110(EU)_4.0_1.0.4.json")
        emu = self.gateway(ONE_PHASE)
        fifo = os.path.join(self.config_dir, "fifo.pem")
        os.mkfifo(fifo)
        big = os.path.join(self.config_dir, "big.pem")
        with open(big, "w") as f:
            f.write(open(emu.ca).read() + "#" * (2 * 1024 * 1024))
        link = os.path.join(self.config_dir, "link.pem")
        os.symlink(emu.ca, link)
        good = os.path.join(self.config_dir, "ca.pem")
        with open(good, "w") as f:
            f.write(open(emu.ca).read())
        outside = os.path.join(self.tmp, "outside.pem")
        with open(outside, "w") as f:
            f.write(open(emu.ca).read())
        self.write_config("[device plug]\ndriver=kasa\naddress=%s\npoll-interval=1\n" % plug.address)
        self.start_daemon()
        self.wait_online("plug")
        rss = self.rss_kb()
        token = emu.token("owner")
        for ca_file, text in ((fifo, "not a regular file"), ("/dev/zero", "configuration directory"),
                              (link, "symbolic link"), (big, "larger than 1048576 bytes"),
                              (outside, "configuration directory"),
                              (self.config_dir + "/../outside.pem", "configuration directory"),
                              ("ca.pem", "absolute path"),
                              (os.path.join(self.config_dir, "none.pem"), "No such file")):
            args = {k: GLib.Variant("s", v) for k, v in (("driver", "envoy"), ("address", emu.address),
                                                           ("ca-file", ca_file), ("token", token))}
            err = self.call_error(ROOT, wbtest.IFACE, "AddDevice", (args,), "(a{sv})")
            self.assertEqual(err[0], ERR + "InvalidArgument", ca_file)
            self.assertIn(text, err[1], ca_file)
            self.call(device_path("plug"), wbtest.OUTLET, "Toggle")
        self.assertEqual(sorted(self.managed_objects()), [device_path("plug")])
        self.assertLess(self.rss_kb() - rss, 20 * 1024)
        # a good file in the configuration directory is taken
        args = {k: GLib.Variant("s", v) for k, v in (("driver", "envoy"), ("address", emu.address),
                                                       ("ca-file", good), ("token", token), ("id", "ok"))}
        self.call(ROOT, wbtest.IFACE, "AddDevice", (args,), "(a{sv})")
        self.wait_online("ok", timeout=15)
        self.stop_daemon()
        # the admin's files may be anywhere, but are read as carefully, off the main loop:
        # each such gateway stays offline with a LastError that says why
        cases = {"fifo": (fifo, "not a regular file"), "zero": ("/dev/zero", "not a regular file"),
                 "link": (link, "symbolic link"), "big": (big, "larger than 1048576 bytes"),
                 "empty": (os.devnull, "not a regular file")}
        text = "[device plug]\ndriver=kasa\naddress=%s\npoll-interval=1\n" % plug.address
        for dev_id, (ca_file, _) in cases.items():
            text += "[device %s]\ndriver=envoy\naddress=%s\nca-file=%s\ntoken=%s\npoll-interval=1\n" % (
                dev_id, emu.address, ca_file, token)
        self.write_config(text)
        self.start_daemon()
        self.wait_online("plug")
        rss = self.rss_kb()
        for dev_id, (ca_file, why) in cases.items():
            msg = self.wait_error(device_path(dev_id), "Cannot use the ca-file")
            self.assertIn(why, msg)
            self.assertIn(ca_file, msg)
        for _ in range(3):
            self.call(device_path("plug"), wbtest.OUTLET, "Toggle")
        self.assertLess(self.rss_kb() - rss, 20 * 1024)
        self.assert_daemon_alive()

    # ----------------------------------------------------------- misbehaviour --

    def test_http_errors_and_recovery(self):
        emu = self.gateway(ONE_PHASE)
        path = self.start_envoy(emu, poll_interval=1, token=emu.token("owner"))
        emu.command("misbehave 500 /ivp/meters/readings")
        self.wait_error(path, "answered /ivp/meters/readings with HTTP 500")
        emu.command("misbehave truncated /ivp/meters/readings")
        self.wait_error(path, "incomplete or broken JSON")
        emu.command("misbehave none")
        self.wait_for(lambda: self.get(path, DEVICE, "Online"), 10, "back online")
        self.assertEqual(self.get(path, DEVICE, "LastError"), "")
        # the children follow their gateway
        mpath = self.meter_paths(path)["production"]
        self.assertTrue(self.get(mpath, DEVICE, "Online"))

    def test_dropped_connection(self):
        emu = self.gateway(LEGACY_METERED)
        path = self.start_envoy(emu, poll_interval=1)
        emu.command("misbehave drop")
        self.wait_error(path, "not reachable")
        emu.command("misbehave none")
        self.wait_for(lambda: self.get(path, DEVICE, "Online"), 10, "back online")

    def test_401_on_readings(self):
        emu = self.gateway(LEGACY_METERED)
        path = self.start_envoy(emu, poll_interval=1)
        emu.command("misbehave 401 /ivp/meters/readings")
        self.wait_error(path, "refused user 'envoy' for /ivp/meters/readings (HTTP 401)")

    # ------------------------------------------------------------------ config --

    def test_bare_address_probes_https_then_http(self):
        emu = self.gateway("3.9.36")
        path = self.start_envoy(emu, address="127.0.0.1:%d" % emu.port)
        self.assertIn("over http", self.daemon_log())

    def test_bare_address_https(self):
        emu = self.gateway(ONE_PHASE)
        self.start_envoy(emu, address="127.0.0.1:%d" % emu.port, token=emu.token("owner"))
        self.assertIn("over https", self.daemon_log())

    def test_bad_settings(self):
        self.start_daemon()
        token_like = "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln"
        for settings, text in (({"address": "ftp://192.0.2.1"}, "http:// or https:// URL"),
                               ({"address": "http://192.0.2.1/path"}, "without a path"),
                               ({"address": "192.0.2.1", "inverter-interval": "10"}, "inverter-interval"),
                               ({"address": "192.0.2.1", "stream-timeout": "x"}, "stream-timeout"),
                               ({"address": "192.0.2.1", "token": "not a token"}, "not a JWT"),
                               ({"address": "192.0.2.1", "token": token_like}, "payload is not"),
                               ({"address": "192.0.2.1", "ca-file": "/nonexistent.pem"}, "nonexistent")):
            args = {"driver": GLib.Variant("s", "envoy")}
            args.update({k: GLib.Variant("s", v) for k, v in settings.items()})
            err = self.call_error(ROOT, wbtest.IFACE, "AddDevice", (args,), "(a{sv})")
            self.assertEqual(err[0], ERR + "InvalidArgument", settings)
            self.assertIn(text, err[1])
            self.assertNotIn(token_like, err[1])


class EnvoyPolkitTest(common.EnvoyTest):
    """Repin on the system bus: polkit's manage-devices, as AddDevice."""
    system_bus = True

    def test_repin_needs_manage_devices(self):
        self.start_mock_polkit()
        self.allow()
        emu = self.gateway(ONE_PHASE)
        path = self.start_envoy(emu, poll_interval=60, token=emu.token("owner"))
        err = self.call_error(path, "org.wattbus.Wattbus1.Envoy", "Repin", ("",), "(s)")
        self.assertEqual(err[0], ERR + "PermissionDenied")
        self.assertIn("org.wattbus.Wattbus1.manage-devices", err[1])
        self.assertTrue(os.path.exists(os.path.join(self.state_dir, "envoy", "envoy.pin")))
        self.allow("org.wattbus.Wattbus1.manage-devices")
        self.call(path, "org.wattbus.Wattbus1.Envoy", "Repin", (emu.fingerprint,), "(s)")


if __name__ == "__main__":
    wbtest.main()
