# SPDX-License-Identifier: GPL-2.0-or-later
"""The EmonCMS emulator (tests/emulators/emoncms-emulator.py) as a subprocess, and a test
base class for exporter tests: a daemon, Kasa emulators and one EmonCMS emulator."""

import os
import time

import wbtest
from wbtest import device_path

os.environ.setdefault("WATTBUS_EMONCMS_EMULATOR",
                      os.path.join(wbtest.SOURCE_DIR, "tests", "emulators", "emoncms-emulator.py"))

EXPORTER = "org.wattbus.Wattbus1.Exporter"
WRITE_KEY = "0123456789abcdef0123456789abcdef"
READ_KEY = "fedcba9876543210fedcba9876543210"
PLUG = "HS110(EU)_4.0_1.0.4.json"
STRIP = "HS300(US)_2.0_1.0.12.json"


def exporter_path(exp_id):
    from gi.repository import Gio
    return wbtest.ROOT + "/Exporters/" + Gio.dbus_escape_object_path(exp_id)


class EmoncmsEmulator(wbtest.EmulatorProcess):
    """tests/emulators/emoncms-emulator.py; READY {"port", "url"}."""

    def __init__(self, *args):
        super().__init__(os.environ["WATTBUS_EMONCMS_EMULATOR"], args)
        self.port = self.ready["port"]
        self.url = self.ready["url"]

    def stored(self):
        return self.reply_json("stored", "STORED")

    def requests(self):
        return self.reply_json("requests", "REQUESTS")

    def values(self, node, name):
        """[(time, value)] stored for one input, in the order applied."""
        return [(s["time"], s["value"]) for s in self.stored() if s["node"] == node and s["name"] == name]


class ExporterTest(wbtest.DaemonTest):
    """A daemon with Kasa devices and an EmonCMS exporter."""

    def setUp(self):
        super().setUp()
        self.emoncms = None
        self.addCleanup(self._stop_emoncms)

    def _stop_emoncms(self):
        if self.emoncms is not None:
            self.emoncms.stop()

    def tearDown(self):
        super().tearDown()
        # the key never appears in the log, whatever happened
        if getattr(self, "log_path", None) and os.path.exists(self.log_path):
            log = self.daemon_log()
            self.assertNotIn(WRITE_KEY, log)
            self.assertNotIn(READ_KEY, log)

    def start_emoncms(self, *args):
        self.emoncms = EmoncmsEmulator(*args)
        return self.emoncms

    def exporter_config(self, exp_id="emon", url=None, apikey=WRITE_KEY, **keys):
        text = "[exporter %s]\nkind=emoncms\nurl=%s\napikey=%s\n" % (
            exp_id, url or self.emoncms.url, apikey)
        for key, value in keys.items():
            text += "%s=%s\n" % (key.replace("_", "-"), value)
        return text + "\n"

    @staticmethod
    def device_config(dev_id, emu, poll=1, name=None):
        text = "[device %s]\ndriver=kasa\naddress=%s\npoll-interval=%d\n" % (dev_id, emu.address, poll)
        if name:
            text += "name=%s\n" % name
        return text + "\n"

    def exp(self, prop, exp_id="emon"):
        return self.get(exporter_path(exp_id), EXPORTER, prop)

    def wait_exp(self, prop, predicate, timeout=10, exp_id="emon", what=None):
        self.wait_for(lambda: predicate(self.exp(prop, exp_id)), timeout,
                      what or "exporter %s %s" % (exp_id, prop))

    def wait_stored(self, node, name, predicate, timeout=10):
        self.wait_for(lambda: predicate(self.emoncms.values(node, name)), timeout,
                      "emoncms %s/%s" % (node, name))
        return self.emoncms.values(node, name)

    def wait_online_all(self, *ids):
        for dev_id in ids:
            self.wait_online(dev_id)
        return [device_path(d) for d in ids]

    @staticmethod
    def now():
        return time.time()
