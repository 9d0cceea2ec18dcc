#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Every bad input of the Tuya issue, for each protocol version: a wrong local key, a bad
CRC/HMAC/GCM tag, truncated and oversized frames, a stall, a dropped connection and the
wrong protocol version. Each gives a precise LastError and takes the device offline,
while a second device on the same daemon keeps working and the daemon stays up."""


import tuyabase
import wbtest
from wbtest import DEVICE, METER, device_path


class TuyaErrorTest(tuyabase.TuyaBase):

    def misbehave(self, version, mode, expected, at_start=False, timeout=12, good_version="3.3",
                  configured=None):
        args = ["--misbehave", mode] if at_start else []
        bad = self.tuya(*args, version=version, device_id="bf00000000000000bad1")
        good = self.tuya(version=good_version, device_id="bf0000000000000good1")
        self.start_with([self.section("bad", bad, version=configured),
                         self.section("good", good)],
                        online=["good"] if at_start else ["bad", "good"])
        if not at_start:
            bad.command("misbehave " + mode)
        message = self.wait_last_error("bad", expected, timeout=timeout)
        # the other device is fine: online, and its pushes still arrive at once
        good_path = device_path("good")
        self.assertTrue(self.get(good_path, DEVICE, "Online"))
        good.command("set 19 555")
        self.wait_prop(good_path, METER, "Power", 55.5, timeout=1.5)
        self.assertEqual(self.get(good_path, DEVICE, "LastError"), "")
        self.assert_daemon_alive()
        self.assert_secret_kept()
        return message

    # a wrong local key

    def test_wrong_key_v31(self):
        self.misbehave("3.1", "wrongkey", "check the local key", at_start=True)

    def test_wrong_key_v33(self):
        self.misbehave("3.3", "wrongkey", "Cannot decrypt the device's message: check the local key", at_start=True)

    def test_wrong_key_v34(self):
        message = self.misbehave("3.4", "wrongkey", "session-key answer does not verify", at_start=True)
        self.assertIn("check the local key", message)

    def test_wrong_key_v35(self):
        self.misbehave("3.5", "wrongkey", "GCM tag does not verify): check the local key", at_start=True)

    def test_wrong_key_configured(self):
        """The other way round: the daemon has the wrong key."""
        emu = self.tuya(version="3.4")
        self.start_with([self.section("bad", emu, key="WrongKeyWrongKey")])
        self.wait_last_error("bad", "check the local key")
        self.assertNotIn("WrongKeyWrongKey", self.daemon_log())

    # checksums

    def test_bad_crc_v31(self):
        self.misbehave("3.1", "badcrc", "Bad CRC")

    def test_bad_crc_v33(self):
        self.misbehave("3.3", "badcrc", "Bad CRC")

    def test_bad_hmac_v34(self):
        self.misbehave("3.4", "badcrc", "Bad HMAC")

    def test_bad_gcm_tag_v35(self):
        self.misbehave("3.5", "badcrc", "GCM tag does not verify")

    # truncated and oversized frames

    def test_truncated_frame_v31(self):
        self.misbehave("3.1", "truncate", "Truncated frame from the device")

    def test_truncated_frame_v33(self):
        self.misbehave("3.3", "truncate", "Truncated frame from the device")

    def test_truncated_frame_v34(self):
        self.misbehave("3.4", "truncate", "Truncated frame from the device")

    def test_truncated_frame_v35(self):
        self.misbehave("3.5", "truncate", "Truncated frame from the device")

    def test_truncated_then_closed_v33(self):
        message = self.misbehave("3.3", "truncate-close", "Truncated frame from the device")
        self.assertIn("closed the connection", message)

    def test_oversized_frame_v33(self):
        self.misbehave("3.3", "oversize", "oversized frame (2147483648 bytes")

    def test_oversized_frame_v35(self):
        self.misbehave("3.5", "oversize", "oversized frame")

    # a device that stops answering, or drops the connection

    def test_stall_v33(self):
        self.misbehave("3.3", "stall", "did not answer within 5 s")

    def test_stall_v35(self):
        self.misbehave("3.5", "stall", "did not answer within 5 s")

    def test_stall_in_handshake_v34(self):
        self.misbehave("3.4", "stall", "did not answer the session-key handshake", at_start=True)

    def test_dropped_connection_v31(self):
        self.misbehave("3.1", "drop", "closed the connection")

    def test_dropped_connection_v33(self):
        self.misbehave("3.3", "drop", "closed the connection")

    def test_dropped_connection_v34(self):
        self.misbehave("3.4", "drop", "closed the connection")

    def test_dropped_connection_v35(self):
        self.misbehave("3.5", "drop", "closed the connection")

    def test_recovers_after_drop(self):
        emu = self.tuya(version="3.4")
        self.start_with([self.section("plug", emu)], online=["plug"])
        emu.command("misbehave drop")
        self.wait_last_error("plug", "closed the connection")
        emu.command("misbehave none")
        # the poll reconnects (with a new session) and the device is back
        self.wait_online("plug", timeout=10)
        emu.command("set 19 77")
        self.wait_prop(device_path("plug"), METER, "Power", 7.7, timeout=1.5)

    def test_idle_close_reconnects_quietly(self):
        """Devices close idle sockets: one quick reconnect, no offline blip."""
        emu = self.tuya(version="3.3")
        self.start_with([self.section("plug", emu, poll=30)], online=["plug"])
        path = device_path("plug")
        self.signals.clear()
        emu.command("misbehave drop")
        emu.command("misbehave none")
        self.wait_for(lambda: emu.state()["connections"] == 1, 5, "a new connection")
        self.iterate(0.5)
        self.assertTrue(self.get(path, DEVICE, "Online"))
        offline = [s for s in self.signals if s[0] == path and s[1][0] == DEVICE
                   and s[1][1].get("Online") is False]
        self.assertEqual(offline, [])
        emu.command("set 19 42")
        self.wait_prop(path, METER, "Power", 4.2, timeout=1.5)

    # the wrong protocol version

    def test_version_mismatch_33_for_35(self):
        self.misbehave("3.5", "none", "Protocol version mismatch: the device sends 3.5 frames", at_start=True,
                       configured="3.3")

    def test_version_mismatch_35_for_33(self):
        self.misbehave("3.3", "none", "Protocol version mismatch: the device sends 55AA frames", at_start=True,
                       configured="3.5")

    def test_version_mismatch_34_for_33(self):
        message = self.misbehave("3.3", "none", "session-key answer does not verify", at_start=True,
                                 configured="3.4")
        self.assertIn("protocol version", message)

    def test_unreachable(self):
        emu = self.tuya(version="3.3")
        port = emu.port
        emu.stop()
        good = self.tuya(version="3.3", device_id="bf0000000000000good1")
        self.start_with([self.section("gone", emu), self.section("good", good)], online=["good"])
        self.wait_last_error("gone", "refused the connection on port %d" % port)


if __name__ == "__main__":
    wbtest.main()
