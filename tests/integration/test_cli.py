#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""wattbusctl as a user and a script see it (issue 16): one value format with units,
inverters with their power, the JSON contract of wattbusctl(1) checked key by key
against the man page and the introspection XML, monitor --json as JSON lines, errors
that say what to do, the water-meter commands. Real daemon, emulated Kasa, Envoy and
Tuya devices."""

import json
import os
import re
import socket
import subprocess
import xml.etree.ElementTree as ET

import freeport
import envoybase as envoy
import tuyabase
import uxtest
import wbtest
from wbtest import device_path

MAN = os.path.join(wbtest.SOURCE_DIR, "data", "man", "wattbusctl.1")
INTROSPECTION = os.path.join(wbtest.SOURCE_DIR, "introspection")
# an Envoy on plain HTTP with 40 microinverters and no CTs
ENVOY = "5.0.62"
EXPORTER = wbtest.IFACE + ".Exporter"
EXPORTER_PATH = wbtest.ROOT + "/Exporters/dash"
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def snake(name):
    return re.sub(r"(?<=[a-z0-9])([A-Z])|(?<=[A-Z])([A-Z])(?=[a-z])", r"_\1\2", name).lower().replace("-", "_")


def man_schema():
    """{section: {key: type text}} from the JSON OUTPUT section of wattbusctl(1):
    '.SS "NAME (...)"' starts a section, '.BR key " (type)"' names a member."""
    with open(MAN) as f:
        text = f.read()
    body = text.split(".SH JSON OUTPUT", 1)[1].split("\n.SH ", 1)[0]
    schema, section = {}, None
    for line in body.splitlines():
        m = re.match(r'^\.SS "(\S+)', line)
        if m:
            section = schema.setdefault(m.group(1), {})
            continue
        m = re.match(r'^\.BR (\S+) " \(([^)]*)\)"$', line)
        if m and section is not None:
            section[m.group(1)] = m.group(2)
    return schema


def interface_properties():
    """{snake interface name: {snake property name: D-Bus type}} from introspection/."""
    out = {}
    for name in os.listdir(INTROSPECTION):
        if not name.endswith(".xml"):
            continue
        for iface in ET.parse(os.path.join(INTROSPECTION, name)).getroot().iter("interface"):
            short = iface.get("name").rsplit(".", 1)[1]
            out[snake(short)] = {snake(p.get("name")): p.get("type") for p in iface.iter("property")}
    return out


class CliTest(uxtest.UxTest):
    """The kettle and the garden strip of uxtest, a dead plug, and (gateway()) an Envoy."""

    def ctl(self, *args, expect=0, **env):
        proc = subprocess.run([os.environ["WATTBUSCTL"], "--session"] + list(args), env=self.user_env(**env),
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, expect, "wattbusctl %s: %s%s" % (args, proc.stdout, proc.stderr))
        return proc.stdout, proc.stderr

    def config(self, extra=""):
        dead = freeport.free_ports(1)[0]
        return ("[device kettle]\ndriver=kasa\naddress=%s\npoll-interval=1\n\n"
                "[device garden]\ndriver=kasa\naddress=%s\npoll-interval=1\n\n"
                "[device dead]\ndriver=kasa\naddress=127.0.0.1:%d\npoll-interval=60\n\n"
                % (self.plug.address, self.strip.address, dead)) + extra

    def start_all(self, extra=""):
        """The Kasa devices, a dead plug and an Envoy with 40 microinverters."""
        os.environ["STATE_DIRECTORY"] = self.state_dir
        self.envoy = envoy.EnvoyEmulator(ENVOY, cert_dir=os.path.join(self.tmp, "certs"))
        self.emulators.append(self.envoy)
        self.write_config(self.config("[device envoy]\ndriver=envoy\naddress=%s\npoll-interval=60\n\n%s"
                                      % (self.envoy.address, extra)))
        self.start()
        self.wait_online("envoy", 15)
        self.inverters = envoy.expected_inverters(ENVOY)
        self.wait_for(lambda: len([p for p in self.managed_objects() if "inverter" in p]) == len(self.inverters),
                      15, "the inverters")
        self.wait_for(lambda: self.get(device_path("dead"), wbtest.DEVICE, "LastError"), 10, "dead's error")

    # -- item 2: inverters have power everywhere

    def test_inverters_in_list(self):
        self.start_all()
        out, _ = self.ctl("list")
        rows = {line.split()[0]: line for line in out.splitlines()[1:]}
        for serial, values in self.inverters.items():
            line = rows["envoy_inverter_%s" % serial]
            self.assertIn("%.1f W" % values["Power"], line)
            self.assertIn("production", line)
        self.assertIn(" load ", rows["kettle"])
        data = {d["id"]: d for d in json.loads(self.ctl("--json", "list")[0])}
        for serial, values in self.inverters.items():
            inv = data["envoy_inverter_%s" % serial]
            self.assertEqual(inv["power"], values["Power"])
            self.assertEqual(inv["measurement"], "production")
            self.assertEqual(inv["parent"], "envoy")
        self.assertEqual(data["kettle"]["measurement"], "load")
        self.assertIsNone(data["garden_1"]["power"])

    # -- item 3: one value format

    def test_show_values_with_units(self):
        self.start_all()
        serial, values = sorted(self.inverters.items())[0]
        out, _ = self.ctl("show", "envoy_inverter_%s" % serial)
        self.assertRegex(out, r"\n  Max power: +%.1f W\n" % values["MaxPower"])
        self.assertRegex(out, r"\n  Power: +%.1f W\n" % values["Power"])
        # a local date, not microseconds
        self.assertRegex(out, r"\n  Last report: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\n")
        self.assertNotIn(str(values["LastReport"]), out)
        self.assertRegex(out, r"\n  Parent: +envoy\n")
        # a lifetime counter in MWh, the plug's in kWh; "1 phase" for a meter of totals
        out, _ = self.ctl("show", "envoy_production")
        self.assertRegex(out, r"\n  Energy: +\d+\.\d{3} MWh\n")
        self.assertRegex(out, r"\n  Phases: +1 phase\n")
        out, _ = self.ctl("show", "kettle")
        self.assertRegex(out, r"\n  Energy: +%.3f kWh\n" % (self.reading["Energy"] / 1000))
        self.assertRegex(out, r"\n  Current: +%.3f A\n" % self.reading["Current"])
        self.assertRegex(out, r"\n  Poll interval: +1 s\n")
        for line in out.splitlines()[2:]:
            if line.startswith("  "):
                self.assertNotRegex(line, r"\d{13,}", line)

    def test_list_fits_columns_and_says_why_offline(self):
        self.start_all()
        for width in (80, 120):
            out, _ = self.ctl("list", COLUMNS=str(width))
            for line in out.splitlines():
                self.assertLessEqual(len(line), width, line)
            self.assertIn("…", out)
        # the name and the model gave way to the reason
        dead = [line for line in out.splitlines() if line.startswith("dead ")][0]
        self.assertIn(" no ", dead)
        reason = self.get(device_path("dead"), wbtest.DEVICE, "LastError")
        self.assertIn(reason[:20], dead)
        # in a pipe without COLUMNS nothing is cut
        out, _ = self.ctl("list")
        self.assertTrue(max(len(line) for line in out.splitlines()) > 100)
        self.assertNotIn("…", out)
        self.assertIn("Microinverter %s" % sorted(self.inverters)[0], out)

    def test_monitor_text_and_json_lines(self):
        self.start()
        text = self.start_program([os.environ["WATTBUSCTL"], "--session", "monitor"])
        lines = uxtest.LineReader(text.stdout)
        js = self.start_program([os.environ["WATTBUSCTL"], "--session", "--json", "monitor"])
        js_lines = uxtest.LineReader(js.stdout)
        self.iterate(1)
        self.plug.command("emeter power_mw=777123 current_ma=3141")
        line = lines.wait_for(lambda line: re.search(r" kettle .*Power=777\.1 W", line) is not None)
        # "Name=value unit" pairs apart by "; " (a value may have commas: lists, DPs)
        self.assertRegex(line, r"^\d\d:\d\d:\d\d kettle (\w+=[^;=]+; )*Current=3\.141 A(; \w+=[^;=]+)*$")
        line = js_lines.wait_for(lambda line: '"power"' in line and "777.123" in line)
        event = json.loads(line)
        self.assertEqual((event["event"], event["id"], event["interface"]), ("changed", "kettle", "electricity_meter"))
        self.assertEqual(event["values"]["power"], 777.123)
        self.assertRegex(event["time"], ISO_TIME)
        # every line is JSON; the text says online in words
        self.plug.command("misbehave refuse")
        js_lines.wait_for(lambda line: '"online":false' in line)
        lines.wait_for(lambda line: re.search(r" kettle .*Online=no", line) is not None)
        for seen in js_lines.seen:
            json.loads(seen)
        for seen in lines.seen:
            self.assertNotRegex(seen, r"\d\.\d{4,}", seen)
            self.assertNotRegex(seen, r"LastSeen=\d+", seen)

    # -- item 4: the JSON contract

    def check_object(self, obj, section, schema, what):
        doc = schema[section]
        self.assertIsInstance(obj, dict, what)
        for key, value in obj.items():
            self.assertIn(key, doc, "%s: member %r is not in wattbusctl(1) section %s" % (what, key, section))
            kind = doc[key]
            ok = {
                "string": isinstance(value, str),
                "number": isinstance(value, (int, float)) and not isinstance(value, bool),
                "boolean": isinstance(value, bool),
                "time": isinstance(value, str) and ISO_TIME.match(value) is not None,
                "object": isinstance(value, dict),
                "array": isinstance(value, list),
            }
            allowed = [t for t in ok if kind.startswith(t) or (" or %s" % t) in kind]
            if value is None:
                self.assertIn("or null", kind, "%s: %s is null" % (what, key))
            else:
                self.assertTrue(any(ok[t] for t in allowed), "%s: %s=%r is not %s" % (what, key, value, kind))
        # the members that are always there
        for key, kind in doc.items():
            if "," not in kind and "only" not in kind:
                self.assertIn(key, obj, "%s: no member %r" % (what, key))

    def check_interfaces(self, interfaces, props, what):
        for iface, values in interfaces.items():
            self.assertIn(iface, props, what)
            for key, value in values.items():
                self.assertIn(key, props[iface], "%s: %s.%s is not a property" % (what, iface, key))
                dbus_type = props[iface][key]
                if dbus_type == "t" and value is not None and key != "poll_interval":
                    # every 't' of the API is a time or a counter
                    if iface == "exporter" and key != "last_success":
                        continue
                    self.assertRegex(value, ISO_TIME, "%s: %s.%s" % (what, iface, key))
                if dbus_type == "o":
                    self.assertFalse(value is not None and value.startswith("/"), "%s: %s is a path" % (what, key))

    def test_json_contract(self):
        schema = man_schema()
        self.assertEqual(sorted(schema), ["added", "device", "event", "exporter", "found", "switched",
                                          "version", "water"])
        props = interface_properties()
        sse_port = freeport.free_ports(1)[0]
        self.start_all("[exporter dash]\nkind=sse\nlisten=127.0.0.1:%d\n" % sse_port)
        self.wait_prop(device_path("kettle"), wbtest.DEVICE, "Online", True)

        devices = json.loads(self.ctl("--json", "list")[0])
        self.assertGreater(len(devices), 45)
        for dev in devices:
            self.check_object(dev, "device", schema, "list %s" % dev["id"])
        for dev_id in ("kettle", "garden", "garden_1", "dead", "envoy", "envoy_production",
                       "envoy_inverter_%s" % sorted(self.inverters)[0]):
            dev = json.loads(self.ctl("--json", "show", dev_id)[0])
            self.check_object(dev, "device", schema, "show %s" % dev_id)
            self.check_interfaces(dev["interfaces"], props, "show %s" % dev_id)
        kettle = json.loads(self.ctl("--json", "show", "kettle")[0])
        self.assertRegex(kettle["interfaces"]["device"]["last_seen"], ISO_TIME)
        self.assertEqual(kettle["interfaces"]["device"]["mac_address"], "b0:95:75:00:00:00")
        self.assertIsNone(kettle["interfaces"]["device"]["parent"])
        self.assertEqual(json.loads(self.ctl("--json", "show", "garden_1")[0])["interfaces"]["device"]["parent"],
                         "garden")

        self.check_object(json.loads(self.ctl("--json", "off", "kettle")[0]), "switched", schema, "off")
        self.check_object(json.loads(self.ctl("--json", "version")[0]), "version", schema, "version")
        self.check_object(json.loads(self.ctl("--json", "--version")[0]), "version", schema, "--version")
        for exp in json.loads(self.ctl("--json", "exporters")[0]):
            self.check_object(exp, "exporter", schema, "exporters")
        found, err = self.ctl("--json", "discover", "--target", "127.0.0.1:%d" % self.plug.udp_port, "--timeout", "1")
        found = json.loads(found)
        self.assertEqual(err, "")
        self.assertEqual(found[0]["configured"], "kettle")
        for dev in found:
            self.check_object(dev, "found", schema, "discover")
        added = json.loads(self.ctl("--json", "add", "--driver", "kasa", "--address", self.strip.address,
                                    "--id", "again")[0])
        self.check_object(added, "added", schema, "add")
        self.assertTrue(added["warnings"])

        # the monitor's events
        proc = self.start_program([os.environ["WATTBUSCTL"], "--session", "--json", "monitor"])
        lines = uxtest.LineReader(proc.stdout)
        self.iterate(1)
        self.ctl("on", "kettle")
        self.ctl("remove", "again")
        lines.wait_for(lambda line: '"removed"' in line)
        for line in lines.seen:
            self.check_object(json.loads(line), "event", schema, "monitor")
            self.check_interfaces({k: v for k, v in [(json.loads(line).get("interface"),
                                                      json.loads(line).get("values", {}))] if k},
                                  props, "monitor")

    # -- item 5 and 7: errors, confirmations, small things

    def test_errors_say_what_to_do(self):
        self.start_all()
        _, err = self.ctl("on", "dead", expect=6)
        reason = self.get(device_path("dead"), wbtest.DEVICE, "LastError")
        self.assertEqual(err, "wattbusctl: dead is offline: %s\n" % reason)
        _, err = self.ctl("on", "envoy", expect=1)
        self.assertIn("has no outlet", err)
        # an address configured already, and one that does not answer
        out, err = self.ctl("add", "--driver", "kasa", "--address", self.plug.address, "--id", "kettle2")
        self.assertIn("Added device kettle2", out)
        self.assertIn("warning: %s is configured already as kettle" % self.plug.address, err)
        port = freeport.free_ports(1)[0]
        out, err = self.ctl("add", "--driver", "kasa", "--address", "127.0.0.1:%d" % port, "--id", "nowhere")
        self.assertIn("warning: nowhere does not answer", err)
        self.assertNotIn("configured already", err)
        # discover says what it does, on stderr
        out, err = self.ctl("discover", "--target", "127.0.0.1:%d" % self.plug.udp_port, "--timeout", "1")
        self.assertIn("Asking 127.0.0.1:%d" % self.plug.udp_port, err)
        self.assertNotIn("Asking", out)
        out, _ = self.ctl("--version")
        self.assertRegex(out, r"^wattbusctl \d+\.\d+")
        self.assertIn("wattbusd ", out)

    def test_exporters_counters_and_confirmations(self):
        sse_port = freeport.free_ports(1)[0]
        self.write_config(self.config("[exporter dash]\nkind=sse\nlisten=127.0.0.1:%d\n" % sse_port))
        self.start()
        out, _ = self.ctl("exporters")
        self.assertEqual(out.splitlines()[0].split()[4:9], ["QUEUED", "SENT", "FAILED", "DROPPED", "CLIENTS"])
        row = out.splitlines()[1].split()
        self.assertEqual(row[:4], ["dash", "sse", "127.0.0.1:%d" % sse_port, "connected"])
        # a live kind keeps no queue; it counts its clients and the events they got
        self.assertEqual(row[4:9], ["-", "0", "-", "-", "0"])
        dashboard = socket.create_connection(("127.0.0.1", sse_port), timeout=10)
        self.addCleanup(dashboard.close)
        dashboard.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % sse_port)
        self.assertIn(b"200", dashboard.recv(4096))
        self.wait_for(lambda: self.get(EXPORTER_PATH, EXPORTER, "Clients") == 1, 10, "one client")
        self.plug.command("emeter power_mw=1234000")
        self.wait_for(lambda: self.get(EXPORTER_PATH, EXPORTER, "Sent") > 0, 10, "an event sent")
        row = self.ctl("exporters")[0].splitlines()[1].split()
        self.assertEqual(row[8], "1")
        self.assertGreater(int(row[5]), 0)
        self.assertEqual(json.loads(self.ctl("--json", "exporters")[0])[0]["clients"], 1)
        out, _ = self.ctl("exporters", "disable", "dash")
        self.assertEqual(out, "Exporter dash: disabled\n")
        out, _ = self.ctl("exporters", "enable", "dash")
        self.assertEqual(out, "Exporter dash: enabled\n")
        out, _ = self.ctl("exporters", "flush", "dash")
        self.assertTrue(out.startswith("Exporter dash: flushed"), out)


    # -- issue 17: a command on one device asks the daemon for that device alone

    def monitor_calls(self):
        """dbus-monitor on the test's own bus (the same user may become a monitor of a
        session bus); its lines, once it is monitoring (it has lost its own name)."""
        proc = self.start_program(["dbus-monitor", "--address", self.bus.address])
        lines = uxtest.LineReader(proc.stdout)
        lines.wait_for(lambda line: "member=NameLost" in line)
        return proc, lines

    @staticmethod
    def method_calls(proc, lines):
        """(path, interface, member) of every method call seen until dbus-monitor stops"""
        os.killpg(proc.pid, 15)
        proc.wait(10)
        while True:
            try:
                lines.seen.append(lines.lines.get(timeout=1))
            except Exception:
                break
        calls = []
        for line in lines.seen:
            m = re.match(r"^method call .* path=([^;]*); interface=([^;]*); member=(\S+)", line)
            if m:
                calls.append(m.groups())
        return calls

    def test_one_device_commands_load_only_that_device(self):
        sse_port = freeport.free_ports(1)[0]
        self.write_config(self.config("[exporter dash]\nkind=sse\nlisten=127.0.0.1:%d\n" % sse_port))
        self.start()
        proc, lines = self.monitor_calls()
        out, _ = self.ctl("show", "kettle")
        self.assertIn("HS110(EU)", out)
        shown = json.loads(self.ctl("--json", "show", "garden_1")[0])
        self.assertEqual(shown["parent"], "garden")
        self.assertIn("outlet", shown["interfaces"])
        self.assertRegex(self.ctl("show", "garden_1")[0], r"\n  Parent: +garden\n")
        self.assertEqual(self.ctl("off", "kettle")[0], "kettle: off\n")
        self.assertEqual(self.ctl("on", "kettle")[0], "kettle: on\n")
        self.assertEqual(self.ctl("toggle", "garden_2")[0], "garden_2: on\n")
        self.assertEqual(self.ctl("refresh", "kettle")[0], "kettle: refreshed\n")
        _, err = self.ctl("on", "nosuch", expect=4)
        self.assertEqual(err, "wattbusctl: no device named 'nosuch' (see 'wattbusctl list')\n")
        _, err = self.ctl("show", device_path("garden") + "/x", expect=4)
        self.assertIn("no device named", err)
        _, err = self.ctl("on", "garden", expect=1)
        self.assertIn("has no outlet (the outlets of a strip are devices of their own)", err)
        self.assertEqual(self.ctl("exporters")[0].splitlines()[1].split()[:2], ["dash", "sse"])
        self.assertEqual(self.ctl("exporters", "disable", "dash")[0], "Exporter dash: disabled\n")
        _, err = self.ctl("exporters", "flush", "nosuch", expect=4)
        self.assertIn("no exporter named 'nosuch'", err)
        self.assertIn("wattbusd ", self.ctl("version")[0])
        self.ctl("reload")
        calls = self.method_calls(proc, lines)
        self.assertEqual([call for call in calls if call[2] == "GetManagedObjects"], [])
        # each asked what it needed: the one device, the exporters, the manager
        asked = {path for path, _, _ in calls if path.startswith(wbtest.ROOT)}
        self.assertEqual(asked, {wbtest.ROOT, wbtest.ROOT + "/Exporters", EXPORTER_PATH}
                         | {device_path(d) for d in ("kettle", "garden", "garden_1", "garden_2", "nosuch")}
                         | {device_path("garden") + "/x"})

        # what does load every device says so on the bus: the monitor sees it
        proc, lines = self.monitor_calls()
        self.assertIn("kettle", self.ctl("list")[0])
        self.assertIn("GetManagedObjects", [member for _, _, member in self.method_calls(proc, lines)])


class BatteryCliTest(envoy.EnvoyTest):
    """An Envoy's batteries (Battery interface) in list and show."""

    FOLDER = "8.2.4286_with_3cts_and_battery_split"

    def ctl(self, *args):
        env = dict(os.environ, WATTBUS_BUS="session", DBUS_SESSION_BUS_ADDRESS=self.bus.address, LANG="C.UTF-8")
        env.pop("G_MESSAGES_DEBUG", None)
        proc = subprocess.run([os.environ["WATTBUSCTL"]] + list(args), env=env, capture_output=True, text=True,
                              timeout=60)
        self.assertEqual(proc.returncode, 0, "wattbusctl %s: %s%s" % (args, proc.stdout, proc.stderr))
        return proc.stdout

    def test_batteries(self):
        emu = self.gateway(self.FOLDER)
        path = self.start_envoy(emu, token=emu.token("owner"))
        batteries = envoy.BATTERIES[self.FOLDER]["batteries"]
        self.wait_for(lambda: len([p for p, i in self.children(path).items() if envoy.BATTERY in i])
                      == len(batteries) + 1, 15, "the batteries")
        ids = {i[wbtest.DEVICE]["SerialNumber"]: i[wbtest.DEVICE]["Id"]
               for p, i in self.children(path).items() if envoy.BATTERY in i}
        devices = {d["id"]: d for d in json.loads(self.ctl("--json", "list"))}
        rows = {line.split()[0]: line for line in self.ctl("list").splitlines()[1:]}
        for serial, values in batteries.items():
            dev = devices[ids[serial]]
            # one sign in every tool: Battery.Power's, positive while charging
            self.assertEqual((dev["power"], dev["measurement"]), (values["Power"], "battery"))
            self.assertIn("%.1f W" % values["Power"], rows[ids[serial]])
            self.assertIn(" battery ", rows[ids[serial]])
        serial, values = sorted(batteries.items())[0]
        out = self.ctl("show", ids[serial])
        self.assertRegex(out, r"\nBattery\n")
        self.assertRegex(out, r"\n  State of charge: +%d %%\n" % values["StateOfCharge"])
        self.assertRegex(out, r"\n  Capacity: +%.3f kWh\n" % (values["Capacity"] / 1000))
        self.assertRegex(out, r"\n  Power: +%.1f W\n" % values["Power"])


class WaterMeterCliTest(tuyabase.TuyaBase):
    """valve, water-switch, water-sharing and the water meter's values in show."""

    def ctl(self, *args, expect=0):
        env = dict(os.environ, WATTBUS_BUS="session", DBUS_SESSION_BUS_ADDRESS=self.bus.address, LANG="C.UTF-8",
                   TZ="UTC")
        env.pop("G_MESSAGES_DEBUG", None)
        proc = subprocess.run([os.environ["WATTBUSCTL"]] + list(args), env=env, capture_output=True, text=True,
                              timeout=60)
        self.assertEqual(proc.returncode, expect, "wattbusctl %s: %s%s" % (args, proc.stdout, proc.stderr))
        return proc.stdout, proc.stderr

    def test_water_meter(self):
        emu = self.tuya("--profile", "water-meter", version="3.3")
        plug = self.tuya(version="3.3", device_id="bf0123456789abcdef02")
        self.start_with([self.section("meter", emu, profile="water-meter", poll=30),
                         self.section("plug", plug)], online=["meter", "plug"])
        path = device_path("meter")
        self.wait_prop(path, tuyabase.WATER, "Valve", "opened")
        out, _ = self.ctl("show", "meter")
        self.assertRegex(out, r"\n  Valve openness: +100 %\n")
        self.assertRegex(out, r"\n  Flow: +123\.456 m³\n")
        self.assertRegex(out, r"\n  Today: +210\.0 L\n")
        self.assertRegex(out, r"\n  Day's first reading at: +2023-11-14 22:13:20\n")
        # the DPs as plain values, not GVariant text
        dps = re.search(r"\n  Data points: +(.*)\n", out).group(1)
        self.assertNotIn("<", dps)
        self.assertNotIn("'", dps)
        self.assertRegex(dps, r"^1=123456, ")

        out, _ = self.ctl("valve", "meter", "closed")
        self.assertEqual(out, "meter: Valve closed\n")
        self.assertEqual(emu.state()["dps"]["9"], "closed")
        out, _ = self.ctl("valve", "meter", "40%")
        self.assertEqual(out, "meter: Valve openness 40 %\n")
        self.assertEqual(emu.state()["dps"]["18"], 40)
        out, _ = self.ctl("--json", "valve", "meter", "open")
        self.assertEqual(json.loads(out)["valve"], "opened")
        self.assertEqual(emu.state()["dps"]["9"], "opened")
        self.ctl("water-switch", "meter", "off")
        self.ctl("water-sharing", "meter", "cold", "lease")
        state = emu.state()["dps"]
        self.assertEqual((state["4"], state["15"]), (False, "lease"))
        _, err = self.ctl("water-sharing", "meter", "hot", "shared", expect=1)
        self.assertIn("square_area", err)
        self.ctl("valve", "meter", "ajar", expect=2)
        self.ctl("valve", "meter", "101", expect=2)
        _, err = self.ctl("valve", "plug", "open", expect=1)
        self.assertIn("has no water meter", err)
        # the DPs of a plug too
        out, _ = self.ctl("--json", "show", "plug")
        dps = json.loads(out)["interfaces"]["tuya"]["dps"]
        self.assertIs(dps["1"], True)


if __name__ == "__main__":
    wbtest.main()
