#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The documentation stays true to the code: wattbus.conf(5) and the shipped
data/wattbus.conf have every exporter kind and every key each kind takes (read here from
the kinds' key tables in src/exporters), wattbusd(8) every option of `wattbusd --help`,
every exporter kind, every D-Bus interface and every environment variable the daemon
reads; the GI reference (the GIR) carries what the D-Bus reference says (units, NaN,
`/` for no parent, LastSeen not announced) and describes Wattbus.Client."""

import glob
import os
import re
import subprocess
import unittest
import xml.etree.ElementTree as ET

import uxtest
import wbtest

SRC = os.path.join(wbtest.SOURCE_DIR, "src")
MAN = os.path.join(wbtest.SOURCE_DIR, "data", "man")
GIR = os.path.join(uxtest.BUILD_DIR, "src", "libwattbus-glib", "Wattbus-1.0.gir")
CORE = "http://www.gtk.org/introspection/core/1.0"


def c_strings(text):
    return re.findall(r'"([^"]*)"', text)


def exporter_kinds():
    """{kind: set of keys} from the kinds' WbdExporterInfo tables, the common keys of
    every [exporter] group included."""
    with open(os.path.join(SRC, "exporters", "wbd-exporter-info.c")) as f:
        common = set(c_strings(re.search(r"common_keys\[\] = \{(.*?)\};", f.read(), re.S).group(1)))
    with open(os.path.join(SRC, "exporters", "mqtt", "wbd-mqtt-cloud.h")) as f:
        mqtt_common = c_strings(re.search(r"#define WBD_MQTT_CLOUD_COMMON_KEYS(.*?)\n\n",
                                          f.read(), re.S).group(1))
    kinds = {}
    for path in glob.glob(os.path.join(SRC, "exporters", "**", "*.c"), recursive=True):
        with open(path) as f:
            text = f.read()
        for info in re.finditer(r"WbdExporterInfo \w+ = \{(.*?)\};", text, re.S):
            kind = re.search(r'\.kind = "([^"]+)"', info.group(1)).group(1)
            keys_name = re.search(r"\.keys = (\w+)", info.group(1)).group(1)
            table = re.search(r"%s\[\] =\s*\{(.*?)\};" % keys_name, text, re.S).group(1)
            keys = set(c_strings(table))
            if "WBD_MQTT_CLOUD_COMMON_KEYS" in table:
                keys |= set(mqtt_common)
            kinds[kind] = keys | common
    return kinds


def man_text(page):
    """The page as man shows it, plain text."""
    out = subprocess.run(["man", "-l", os.path.join(MAN, page)], capture_output=True, text=True,
                         env=dict(os.environ, MANWIDTH="200", MAN_KEEP_FORMATTING="0", LANG="C.UTF-8"),
                         check=True).stdout
    return re.sub(r".\x08", "", out).replace("\u2010", "-")


def sample_sections():
    """[(kind, set of keys)] of the commented [exporter] groups of data/wattbus.conf."""
    sections = []
    with open(os.path.join(wbtest.SOURCE_DIR, "data", "wattbus.conf")) as f:
        for line in f:
            if re.match(r"#\[\w+ ", line):
                sections.append([None, set()])
            m = re.match(r"#([a-z][a-z0-9-]*)=", line)
            if m and sections:
                if m.group(1) == "kind":
                    sections[-1][0] = line.split("=", 1)[1].strip()
                sections[-1][1].add(m.group(1))
    return [(k, keys) for k, keys in sections if k]


class DocsTest(unittest.TestCase):

    def test_conf_man_page_has_every_exporter_key(self):
        kinds = exporter_kinds()
        self.assertGreaterEqual(len(kinds), 7, kinds)
        text = man_text("wattbus.conf.5")
        exporters = text[text.index("EXPORTER KEYS"):text.index("\nEXAMPLE")]
        # a section per kind, named by its kind= line
        for kind in kinds:
            self.assertRegex(exporters, r"\n {3}\S.*\bkind=[^)\n]*\b%s\b" % re.escape(kind),
                             "no section of kind=%s in wattbus.conf(5)" % kind)
        missing = sorted("%s: %s" % (kind, key) for kind, keys in kinds.items() for key in keys
                         if not re.search(r"(?<![\w-])%s=" % re.escape(key), exporters))
        self.assertEqual(missing, [], "keys missing in wattbus.conf(5)")

    def test_sample_config_has_every_exporter_key(self):
        kinds = exporter_kinds()
        sample = {}
        for kind, keys in sample_sections():
            sample.setdefault(kind, set()).update(keys)
        self.assertEqual(sorted(sample), sorted(kinds))
        with open(os.path.join(SRC, "exporters", "wbd-exporter-info.c")) as f:
            common = set(c_strings(re.search(r"common_keys\[\] = \{(.*?)\};", f.read(), re.S).group(1)))
        with open(os.path.join(SRC, "exporters", "mqtt", "wbd-mqtt-cloud.h")) as f:
            mqtt_common = set(c_strings(re.search(r"#define WBD_MQTT_CLOUD_COMMON_KEYS(.*?)\n\n",
                                                  f.read(), re.S).group(1)))
        # the common keys are shown once, in the first group; the connection keys of
        # every MQTT kind in the kind=mqtt group
        for kind, keys in kinds.items():
            shown = sample[kind] | common | (sample["mqtt"] if mqtt_common <= keys else set())
            self.assertEqual(sorted(keys - shown), [], "data/wattbus.conf, kind=" + kind)
            self.assertEqual(sorted(sample[kind] - keys), [], "unknown keys in data/wattbus.conf, kind=" + kind)

    def test_daemon_man_page_is_current(self):
        text = man_text("wattbusd.8")
        help_text = subprocess.run([os.path.join(uxtest.BUILD_DIR, "src", "wattbusd"), "--help"],
                                   capture_output=True, text=True, check=True).stdout
        for option in re.findall(r"(--[a-z-]+)", help_text):
            self.assertIn(option, text, "wattbusd --help has %s" % option)
        for kind in exporter_kinds():
            self.assertRegex(text, r"(?<![\w-])%s(?![\w-])" % re.escape(kind), "exporter kind " + kind)
        for path in glob.glob(os.path.join(wbtest.SOURCE_DIR, "introspection", "*.xml")):
            for iface in ET.parse(path).getroot().iter("interface"):
                self.assertIn(iface.get("name"), text)
        # what the daemon reads from its environment
        env = set()
        for path in glob.glob(os.path.join(SRC, "daemon", "*.c")) + \
                glob.glob(os.path.join(SRC, "drivers", "**", "*.c"), recursive=True):
            with open(path) as f:
                env |= set(re.findall(r'g_getenv\("([A-Z_]+)"\)', f.read()))
        self.assertTrue(env)
        for var in sorted(env):
            self.assertIn(var, text, "wattbusd reads $%s" % var)

    def test_python_gi_reference_has_the_dbus_semantics(self):
        root = ET.parse(GIR).getroot()
        ns = {"c": CORE}

        def doc(cls, prop):
            for node in root.iter("{%s}interface" % CORE):
                if node.get("name") == cls:
                    for p in node.findall("c:property", ns):
                        if p.get("name") == prop:
                            return " ".join(p.find("c:doc", ns).text.split())
            raise AssertionError("no %s:%s in the GIR" % (cls, prop))

        self.assertIn("not announced", doc("Device", "last-seen"))
        self.assertIn("microseconds", doc("Device", "last-seen"))
        self.assertIn("`/` for a device of its own", doc("Device", "parent"))
        self.assertIn("In W", doc("ElectricityMeter", "power"))
        self.assertIn("NaN", doc("ElectricityMeter", "power"))
        self.assertIn("In Wh", doc("ElectricityMeter", "energy"))
        self.assertIn("In W", doc("Inverter", "power"))
        self.assertIn("m³", doc("WaterMeter", "daily-total"))
        client = next(c for c in root.iter("{%s}class" % CORE) if c.get("name") == "Client")
        self.assertIn("connection to the Wattbus daemon", client.find("c:doc", ns).text)


if __name__ == "__main__":
    wbtest.main()
