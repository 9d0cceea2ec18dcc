#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The Envoy driver against the emulator: the live stream, inverter reports, the
credentials of both firmware generations, TLS pinning, and a misbehaving gateway."""

import math
import os
import subprocess
import time

import test_envoy_common as common
import wbtest
from gi.repository import GLib
from test_envoy_common import DEVICE, INVERTER, METER
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


if __name__ == "__main__":
    wbtest.main()
