# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared by the Tuya tests (and the exporter tests with Tuya devices): the Tuya emulator
as a subprocess and TuyaBase, a daemon test with helpers for Tuya devices."""

import json
import os
import socket
import time

import freeport
import wbtest
from wbtest import DEVICE, IFACE, device_path

TUYA = IFACE + ".Tuya"
WATER = IFACE + ".WaterMeter"
ERR = "org.wattbus.Wattbus1.Error."
VERSIONS = ("3.1", "3.3", "3.4", "3.5")
KEY = "k3y!Local_Tuya#1"
EMULATOR = os.environ.get("WATTBUS_TUYA_EMULATOR",
                          os.path.join(wbtest.SOURCE_DIR, "tests", "emulators", "tuya-emulator.py"))
PROFILES = os.path.join(wbtest.SOURCE_DIR, "data", "profiles")


def free_udp_ports(n):
    return freeport.free_ports(n, socket.SOCK_DGRAM)


class TuyaEmulator(wbtest.EmulatorProcess):
    """tests/emulators/tuya-emulator.py as a subprocess."""

    def __init__(self, tmp, *args, version="3.3", device_id="bf0123456789abcdef01"):
        self.version = version
        self.device_id = device_id
        self.log_path = os.path.join(tmp, "tuya-%s-%d.log" % (device_id, time.monotonic_ns()))
        super().__init__(EMULATOR, ["--version", version, "--device-id", device_id,
                                    "--log", self.log_path] + list(args))
        self.port = self.ready["tcp"]
        self.udp_port = self.ready["udp"]
        self.address = "127.0.0.1:%d" % self.port

    def requests(self):
        with open(self.log_path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def writes(self):
        """The CONTROL and CONTROL_NEW requests the device received."""
        return [r for r in self.requests() if r.get("cmd") in (0x07, 0x0D)
                and not all(v is None for v in dps_of(r).values())]


def dps_of(request):
    payload = request.get("payload")
    if not isinstance(payload, dict):
        return {}
    if isinstance(payload.get("dps"), dict):
        return payload["dps"]
    data = payload.get("data")
    return data.get("dps", {}) if isinstance(data, dict) else {}


class TuyaBase(wbtest.DaemonTest):
    """Helpers: emulators, a config section per device, the source tree's profiles."""

    def setUp(self):
        super().setUp()
        os.environ["WATTBUS_PROFILES_DIR"] = PROFILES
        self.udp_ports = free_udp_ports(3)
        os.environ["WATTBUS_TUYA_DISCOVERY_PORTS"] = ",".join(map(str, self.udp_ports))

    def tuya(self, *args, **kwargs):
        emu = TuyaEmulator(self.tmp, *args, **kwargs)
        self.emulators.append(emu)
        return emu

    @staticmethod
    def section(dev_id, emu, profile="metering-plug", poll=1, version=None, key=KEY, extra=""):
        text = "[device %s]\ndriver=tuya\naddress=%s\ndevice-id=%s\nlocal-key=%s\npoll-interval=%d\n" % (
            dev_id, emu.address, emu.device_id, key, poll)
        version = emu.version if version is None else version
        if version:
            text += "version=%s\n" % version
        if profile:
            text += "profile=%s\n" % profile
        return text + extra + "\n"

    def start_with(self, sections, online=()):
        self.write_config("".join(sections))
        self.start_daemon()
        for dev_id in online:
            self.wait_online(dev_id)

    def wait_last_error(self, dev_id, text, timeout=12):
        path = device_path(dev_id)
        self.wait_for(lambda: text.lower() in self.get(path, DEVICE, "LastError").lower(), timeout,
                      "%s LastError containing %r" % (dev_id, text))
        self.assertFalse(self.get(path, DEVICE, "Online"))
        return self.get(path, DEVICE, "LastError")

    def assert_secret_kept(self):
        """The local key is in no property and no log line."""
        self.assertNotIn(KEY, self.daemon_log())
        dump = str(self.managed_objects())
        self.assertNotIn(KEY, dump)
