#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The EmonCMS exporter end to end: the real daemon with Kasa emulator devices, and the
EmonCMS emulator, which enforces the input API's rules and records what it stored.

Expected nodes follow the rule in src/exporters/emoncms/README.md, applied here by hand:
a node per family of devices, named after the id of the device at its top (cut and
hashed beyond 16 bytes), the children's values inputs named after their ids. Expected values come from the Kasa fixture (mW, mV, mA, Wh) and the
emulator commands, converted to SI units here.
"""

import math
import os
import signal
import time

import envoybase as envoy
import wbtest
from emoncmsemu import (EXPORTER, PLUG, READ_KEY, STRIP, WRITE_KEY, ExporterTest,
                        exporter_path)
from wbtest import DEVICE, METER, device_path

ERR = "org.wattbus.Wattbus1.Error."
# the device id, not its name ("Kitchen plug (2)")
PLUG_NODE = "plug"


class EmoncmsTest(ExporterTest):

    def plug_setup(self, poll=1, **exporter_keys):
        self.start_emoncms()
        plug = self.emulator(PLUG, "--alias", "Kitchen plug (2)")
        self.write_config(self.device_config("plug", plug, poll) +
                          self.exporter_config(**exporter_keys))
        self.start_daemon()
        self.wait_online("plug")
        return plug

    def test_live_readings(self):
        plug = self.plug_setup()
        # the first reading: the fixture's values, in SI units
        values = {name: self.wait_stored(PLUG_NODE, name, lambda v: len(v) > 0)[-1][1]
                  for name in ("Power", "Voltage", "Current", "Energy", "Online", "On")}
        self.assertAlmostEqual(values["Power"], 61.753)
        self.assertAlmostEqual(values["Voltage"], 230.837)
        self.assertAlmostEqual(values["Current"], 0.451)
        self.assertAlmostEqual(values["Energy"], 16323)
        self.assertEqual(values["Online"], 1)
        self.assertEqual(values["On"], 1)
        # caught up: from now on a change is one reading, sent on its own
        self.wait_exp("Queued", lambda q: q == 0)
        self.emoncms.command("clear")

        before = math.floor(time.time())
        plug.command("emeter power_mw=12345 voltage_mv=229000")
        stored = self.wait_stored(PLUG_NODE, "Power", lambda v: v and v[-1][1] == 12.345)
        after = time.time()
        # the reading's own time, in whole seconds
        self.assertTrue(before <= stored[-1][0] <= after, (before, stored[-1], after))
        self.assertEqual(self.emoncms.values(PLUG_NODE, "Voltage")[-1], (stored[-1][0], 229.0))
        # a value that did not change is not sent again
        self.iterate(1.2)
        self.assertEqual(self.emoncms.values(PLUG_NODE, "Energy"), [])
        self.assertEqual({s["name"] for s in self.emoncms.stored()}, {"Power", "Voltage"})

        requests = self.emoncms.requests()
        self.assertTrue(requests)
        for req in requests:
            # live: input/post, fulljson, the key only in the Authorization header
            self.assertEqual(req["path"], "/input/post")
            self.assertEqual(req["method"], "POST")
            self.assertTrue(req["auth_header"])
            self.assertNotIn("apikey", req["query_keys"] + req["form_keys"])
            self.assertEqual(req["form_keys"], ["fulljson", "node", "time"])
            self.assertEqual(req["reply"], [200, '{"success": true}'])

        path = exporter_path("emon")
        props = self.get_all(path, EXPORTER)
        self.assertEqual(props["Id"], "emon")
        self.assertEqual(props["Kind"], "emoncms")
        self.assertEqual(props["Target"], "127.0.0.1")
        self.assertEqual(props["State"], "connected")
        self.assertEqual(props["LastError"], "")
        self.assertGreaterEqual(props["Sent"], 2)
        self.assertEqual(props["Failed"], 0)
        self.assertEqual(props["Dropped"], 0)
        self.assertGreater(props["LastSuccess"], before * 1e6 - 60e6)
        # the key is nowhere on the bus
        self.assertNotIn(WRITE_KEY, repr(self.managed_objects()))

    def test_outage_backfill_in_order(self):
        self.start_emoncms()
        strip = self.emulator(STRIP)
        self.write_config(self.device_config("strip", strip) + self.exporter_config(batch_size=8))
        self.start_daemon()
        self.wait_online("strip")
        self.wait_exp("Queued", lambda q: q == 0, what="first readings delivered")
        # the outlets' values are inputs of the strip's node, named after their ids
        self.wait_stored("strip", "6_Power", lambda v: len(v) > 0)

        self.emoncms.command("down")
        sent = []
        for i in range(1, 4):
            power_mw = 100000 * i + 1
            strip.command("emeter power_mw=%d" % power_mw)
            sent.append((time.time(), power_mw / 1000))
            # every outlet read (a poll reads them one after the other)
            self.wait_for(lambda: all(
                math.isclose(self.get(device_path("strip_%d" % n), METER, "Power"),
                             power_mw / 1000) for n in range(1, 7)), 5, "power %d" % i)
        # a backlog: each change is a reading of each of the 6 outlets (the strip itself
        # has one only when a value of its own changes, which depends on the timing)
        self.wait_exp("Queued", lambda q: q >= 18)
        self.wait_exp("State", lambda s: s == "backing-off")
        self.assertIn("Cannot reach EmonCMS", self.exp("LastError"))
        self.assertGreater(self.exp("Failed"), 0)
        queued = self.exp("Queued")

        self.emoncms.command("up")
        self.call(exporter_path("emon"), EXPORTER, "Flush")
        self.wait_exp("Queued", lambda q: q == 0)
        self.assertEqual(self.exp("State"), "connected")
        self.assertGreaterEqual(self.exp("Sent"), queued)
        # backfilled with input/bulk, in batches of at most 8 rows, absolute times
        bulk = [r for r in self.emoncms.requests() if r["path"] == "/input/bulk"]
        self.assertGreaterEqual(len(bulk), 3)
        for req in bulk:
            self.assertEqual(req["query_keys"], ["fulljson", "time"])
            self.assertEqual(req["form_keys"], ["data"])
            self.assertTrue(req["auth_header"])
        for n in range(1, 7):
            node = "%d_Power" % n
            stored = self.emoncms.values("strip", node)
            values = [v for _, v in stored]
            # every value, in order (a value may repeat: at least once)
            got = [v for i, v in enumerate(values) if i == 0 or values[i - 1] != v]
            self.assertEqual(len(got), 4, (node, got))
            for v, (_, p) in zip(got[-3:], sent):
                self.assertTrue(math.isclose(v, p), (node, got, sent))
            times = [t for t, _ in stored]
            self.assertEqual(times, sorted(times), node)
            # each with the time it was read, not the time it was delivered
            for when, power in sent:
                t = [t for t, v in stored if math.isclose(v, power)][0]
                self.assertLessEqual(abs(t - when), 2.5, (node, power))
        # the strip's own inputs, the sum of the outlets
        self.assertAlmostEqual(self.emoncms.values("strip", "Power")[-1][1],
                               6 * sent[-1][1])

    def test_sigkill_with_backlog(self):
        plug = self.plug_setup()
        self.wait_stored(PLUG_NODE, "Power", lambda v: len(v) > 0)
        self.emoncms.command("down")
        backlog = []
        for i in range(1, 4):
            plug.command("emeter power_mw=%d" % (1000 * i))
            backlog.append(float(i))
            self.wait_prop(device_path("plug"), METER, "Power", float(i))
        self.wait_exp("Queued", lambda q: q >= 3)
        self.stop_daemon(signal.SIGKILL)

        self.emoncms.command("up")
        plug.command("emeter power_mw=77000")
        self.start_daemon()
        self.wait_for(lambda: "readings queued from before" in self.daemon_log(), 5, "backlog found")
        stored = self.wait_stored(PLUG_NODE, "Power", lambda v: 77.0 in [x for _, x in v])
        values = [v for _, v in stored]
        # the backlog of the killed daemon first, in order, then the new reading
        self.assertEqual([v for v in values if v in backlog + [77.0]], backlog + [77.0])

    def test_wrong_key_is_an_error_and_loses_nothing(self):
        plug = self.plug_setup(apikey="00000000000000000000000000000000")
        self.wait_exp("State", lambda s: s == "error")
        self.assertIn("Invalid API key", self.exp("LastError"))
        self.assertIn("HTTP 401", self.exp("LastError"))
        failed = self.exp("Failed")
        plug.command("emeter power_mw=4242000")
        self.wait_exp("Queued", lambda q: q >= 2)
        # an error, not a retry loop
        self.iterate(2.5)
        self.assertEqual(self.exp("Failed"), failed)
        self.assertEqual(self.exp("State"), "error")
        self.assertEqual(self.emoncms.stored(), [])

        # fixed: everything queued arrives
        self.write_config(self.device_config("plug", plug) + self.exporter_config())
        self.call(wbtest.ROOT, wbtest.IFACE, "Reload")
        self.wait_stored(PLUG_NODE, "Power", lambda v: [x for _, x in v][:2] == [61.753, 4242.0])
        self.wait_exp("State", lambda s: s == "connected")

    def test_read_key_stores_nothing(self):
        self.plug_setup(apikey=READ_KEY)
        self.wait_exp("State", lambda s: s == "error")
        self.assertIn("empty reply", self.exp("LastError"))
        self.assertGreater(self.exp("Queued"), 0)

    def test_refusal_message_is_shown(self):
        # EmonCMS's own message, e.g. the node limit
        self.start_emoncms("--max-nodes", "0")
        plug = self.emulator(PLUG)
        self.write_config(self.device_config("plug", plug) + self.exporter_config())
        self.start_daemon()
        self.wait_exp("State", lambda s: s == "error")
        self.assertIn("Reached the maximal allowed number of different NodeIds",
                      self.exp("LastError"))

    def test_full_spool_drops_oldest(self):
        plug = self.plug_setup(max_queued=2)
        self.wait_stored(PLUG_NODE, "Power", lambda v: len(v) > 0)
        self.emoncms.command("down")
        for i in range(1, 4):
            plug.command("emeter power_mw=%d" % (1000 * i))
            self.wait_prop(device_path("plug"), METER, "Power", float(i))
        self.wait_exp("Dropped", lambda d: d == 1)
        self.assertEqual(self.exp("Queued"), 2)
        self.assertIn("spool full (max-queued=2): dropped the 1 oldest readings", self.daemon_log())
        self.emoncms.command("up")
        self.call(exporter_path("emon"), EXPORTER, "Flush")
        self.wait_exp("Queued", lambda q: q == 0)
        values = [v for _, v in self.emoncms.values(PLUG_NODE, "Power")]
        # the oldest (1 W) was dropped
        self.assertEqual(values, [61.753, 2.0, 3.0])
        self.assertEqual(self.exp("Dropped"), 1)

    def test_hanging_sink_does_not_block(self):
        plug = self.plug_setup(timeout=2)
        self.wait_stored(PLUG_NODE, "Power", lambda v: len(v) > 0)
        self.emoncms.command("reply stall")
        plug.command("emeter power_mw=5000")
        self.wait_exp("Queued", lambda q: q >= 1)
        # while the request hangs, the bus and the devices answer at once
        for _ in range(5):
            start = time.monotonic()
            self.call(device_path("plug"), DEVICE, "Refresh")
            self.get(exporter_path("emon"), EXPORTER, "Queued")
            self.assertLess(time.monotonic() - start, 0.5)
        self.wait_exp("State", lambda s: s == "backing-off", timeout=5)
        self.assertIn("within 2 s", self.exp("LastError"))
        self.emoncms.command("reply normal")
        self.call(exporter_path("emon"), EXPORTER, "Flush")
        self.wait_stored(PLUG_NODE, "Power", lambda v: v and v[-1][1] == 5.0)

    def test_server_error_backs_off(self):
        plug = self.plug_setup()
        self.wait_stored(PLUG_NODE, "Power", lambda v: len(v) > 0)
        self.emoncms.command("reply error500")
        plug.command("emeter power_mw=6000")
        self.wait_exp("State", lambda s: s == "backing-off")
        self.assertEqual(self.exp("LastError"), "EmonCMS answered HTTP 500")
        self.emoncms.command("reply garbage")
        self.call(exporter_path("emon"), EXPORTER, "Flush")
        self.wait_exp("LastError", lambda e: e.startswith("Unexpected reply from EmonCMS"))
        self.assertEqual(self.exp("State"), "backing-off")
        self.emoncms.command("reply normal")
        # the back-off retries by itself (1 s, then 2 s)
        self.wait_stored(PLUG_NODE, "Power", lambda v: v and v[-1][1] == 6.0, timeout=8)

    def test_https_is_verified(self):
        cert = os.path.join(self.tmp, "emoncms.pem")
        self.start_emoncms("--tls", cert)
        plug = self.emulator(PLUG, "--alias", "Kitchen plug (2)")
        self.write_config(self.device_config("plug", plug) +
                          self.exporter_config("untrusted") +
                          self.exporter_config("trusted", ca_file=cert, node="plug:pinned"))
        self.start_daemon()
        self.wait_online("plug")
        self.wait_stored("pinned", "Power", lambda v: len(v) > 0)
        self.wait_exp("State", lambda s: s == "backing-off", exp_id="untrusted")
        self.assertIn("Cannot reach EmonCMS", self.exp("LastError", "untrusted"))
        self.assertEqual([s for s in self.emoncms.stored() if s["node"] != "pinned"], [])

    def test_device_selection_and_names(self):
        self.start_emoncms()
        plug = self.emulator(PLUG, "--alias", "Kitchen plug (2)")
        strip = self.emulator(STRIP)
        self.write_config(self.device_config("plug", plug) +
                          self.device_config("strip", strip, name="Büro: Leiste/1 (Schreibtisch)") +
                          self.exporter_config(devices="strip;strip_2", values="Power;Energy"))
        self.start_daemon()
        self.wait_online("plug")
        # one node for the strip and its outlets, named after its id whatever its name
        self.wait_stored("strip", "Power", lambda v: len(v) > 0)
        self.wait_stored("strip", "2_Energy", lambda v: len(v) > 0)
        self.iterate(1.5)
        nodes = {s["node"] for s in self.emoncms.stored()}
        names = {s["name"] for s in self.emoncms.stored()}
        self.assertEqual(nodes, {"strip"})
        self.assertEqual(names, {"Power", "Energy", "2_Power", "2_Energy"})

    def test_bad_settings_are_reported(self):
        self.start_emoncms()
        plug = self.emulator(PLUG)
        self.write_config(self.device_config("plug", plug) +
                          self.exporter_config("nokey", apikey="secret-but-not-hex") +
                          self.exporter_config("creds", url="https://user:pw@emoncms.org") +
                          self.exporter_config("good"))
        self.start_daemon()
        self.wait_online("plug")
        self.wait_exp("State", lambda s: s == "connected", exp_id="good")
        paths = self.managed_objects().keys()
        self.assertNotIn(exporter_path("nokey"), paths)
        self.assertNotIn(exporter_path("creds"), paths)
        log = self.daemon_log()
        self.assertIn("Exporter 'nokey': the API key must be the 32 hexadecimal characters", log)
        self.assertNotIn("secret-but-not-hex", log)
        self.assertIn("Exporter 'creds': url must not contain a user", log)
        self.assertNotIn("user:pw", log)


class EmoncmsEnvoyTest(ExporterTest, envoy.EnvoyTest):
    """Inverters report every few minutes: posted only when the report time changes,
    with that time (the Envoy emulator and its fixtures, tests/data/envoy)."""

    def test_inverters_posted_with_their_report_time(self):
        self.start_emoncms()
        gateway = self.gateway("8.2.4345_with_device_data")
        expected = envoy.expected_inverters("8.2.4345_with_device_data")
        serial = sorted(expected)[0]
        inverter = "envoy_inverter_" + serial
        # the driver keeps its certificate pins in the state directory
        os.environ["STATE_DIRECTORY"] = self.state_dir
        self.write_config("[device envoy]\ndriver=envoy\naddress=%s\ntoken=%s\npoll-interval=60\n\n"
                          % (gateway.address, gateway.token("owner")) +
                          self.exporter_config(devices=inverter, values="Power;MaxPower",
                                               node="%s:inv1" % inverter))
        self.start_daemon()
        self.wait_online("envoy", timeout=15)
        # the fixture's report, at the fixture's time
        first = self.wait_stored("inv1", "Power", lambda v: len(v) > 0)
        self.assertEqual(first, [(expected[serial]["LastReport"] // 1000000, expected[serial]["Power"])])
        self.assertEqual(self.emoncms.values("inv1", "MaxPower")[0][1], expected[serial]["MaxPower"])

        # other watts without a new report: nothing is posted
        gateway.command("watts %s 999" % serial)
        self.call(device_path("envoy"), DEVICE, "Refresh")
        self.iterate(1)
        self.assertEqual(len(self.emoncms.values("inv1", "Power")), 1)

        # a new report: every value again, stamped with the new report time
        gateway.command("report %s 123" % serial)
        self.call(device_path("envoy"), DEVICE, "Refresh")
        stored = self.wait_stored("inv1", "Power", lambda v: len(v) == 2)
        report = self.get(device_path(inverter), "org.wattbus.Wattbus1.Inverter", "LastReport")
        self.assertEqual(stored[1], (report // 1000000, 123.0))
        self.assertGreater(stored[1][0], stored[0][0])
        self.assertEqual(self.emoncms.values("inv1", "MaxPower")[1],
                         (report // 1000000, expected[serial]["MaxPower"]))

    def test_batteries_as_inputs(self):
        """An Enphase site's batteries and storage CT reach EmonCMS as inputs of the
        gateway's node: the aggregate's and each battery's numbers (Power positive while
        charging; a boolean as 1; the State string is not a number and is left out), the
        storage meter's both counters; values as envoy-batteries.md §7 gives them."""
        folder = "8.2.4286_with_3cts_and_battery_split"
        grid, aggregate, batteries = envoy.expected_batteries(folder)
        meters, _ = envoy.expected_meters(folder)
        self.start_emoncms()
        gateway = self.gateway(folder)
        os.environ["STATE_DIRECTORY"] = self.state_dir
        self.write_config("[device envoy]\ndriver=envoy\naddress=%s\ntoken=%s\npoll-interval=60\n\n"
                          % (gateway.address, gateway.token("owner")) + self.exporter_config())
        self.start_daemon()
        self.wait_online("envoy", timeout=15)
        for name in ("StateOfCharge", "Power", "Capacity", "AvailableEnergy", "ReserveLevel"):
            stored = self.wait_stored("envoy", "batteries_" + name, lambda v: len(v) > 0)
            self.assertEqual(stored[-1][1], aggregate[name], name)
        self.assertEqual(self.wait_stored("envoy", "batteries_Aggregate", lambda v: len(v) > 0)[-1][1], 1)
        for serial, values in batteries.items():
            for name in ("StateOfCharge", "Power", "Capacity"):
                stored = self.wait_stored("envoy", "battery_%s_%s" % (serial, name), lambda v: len(v) > 0)
                self.assertEqual(stored[-1][1], values[name], "%s %s" % (serial, name))
        names = {s["name"] for s in self.emoncms.stored() if s["node"] == "envoy"}
        self.assertNotIn("batteries_State", names)
        self.assertNotIn("battery_%s_ReserveLevel" % sorted(batteries)[0], names)  # NaN
        for name in ("Energy", "EnergyExported"):
            stored = self.wait_stored("envoy", "storage_" + name, lambda v: len(v) > 0)
            self.assertEqual(stored[-1][1], meters["storage"][name], name)

    def family_config(self, envoy_emu, lamps, envoy_first=False):
        lamp_text = "".join(self.device_config(dev_id, emu, poll=2) for dev_id, emu in lamps)
        envoy_text = ("[device solar]\ndriver=envoy\naddress=%s\nusername=installer\n"
                      "name=Solar gateway\npoll-interval=60\n\n" % envoy_emu.address)
        devices = envoy_text + lamp_text if envoy_first else lamp_text + envoy_text
        return devices + self.exporter_config(values="Power;MaxPower;Online")

    def test_one_node_per_family_stable(self):
        """The demo's gateway with 40 microinverters ("Microinverter 1215…", ids
        solar_inverter_1215…, both the same in their first 16 bytes) and Kasa plugs
        whose names are the same in their first 16 bytes: no two devices' values ever
        share an input; the same nodes and inputs after a restart in which the devices
        appear in another order."""
        self.start_emoncms()
        gateway = self.gateway("5.0.62")
        expected = envoy.expected_inverters("5.0.62")
        self.assertEqual(len(expected), 40)
        lamps = [("lamp-left", self.emulator(PLUG, "--alias", "Living room lamp left")),
                 ("lamp-right", self.emulator(PLUG, "--alias", "Living room lamp right"))]
        os.environ["STATE_DIRECTORY"] = self.state_dir
        self.write_config(self.family_config(gateway, lamps))
        self.start_daemon()
        self.wait_online("solar", timeout=15)
        for dev_id, _ in lamps:
            self.wait_online(dev_id)

        def inputs():
            return {(s["node"], s["name"]) for s in self.emoncms.stored()}

        # every inverter's report: inputs of the gateway's node, named after its own id
        wanted = {("solar", "inverter_%s_Power" % serial) for serial in expected}
        wanted |= {("lamp-left", "Power"), ("lamp-right", "Power")}
        self.wait_for(lambda: wanted <= inputs(), 20, "every device's values")
        for serial, values in expected.items():
            stored = self.emoncms.values("solar", "inverter_%s_Power" % serial)
            self.assertEqual(stored, [(values["LastReport"] // 1000000, values["Power"])], serial)
            self.assertEqual(self.emoncms.values("solar", "inverter_%s_MaxPower" % serial)[0][1],
                             values["MaxPower"])
        # the plugs: a node each, their own readings only
        for dev_id, _ in lamps:
            self.assertEqual({v for _, v in self.emoncms.values(dev_id, "Power")}, {61.753})
        first = inputs()
        self.assertEqual({node for node, _ in first}, {"solar", "lamp-left", "lamp-right"})
        self.assertEqual(self.exp("State"), "connected")

        # restarted, the devices configured (and appearing) in another order
        self.wait_exp("Queued", lambda q: q == 0)
        self.stop_daemon()
        self.emoncms.command("clear")
        self.write_config(self.family_config(gateway, list(reversed(lamps)), envoy_first=True))
        self.start_daemon()
        self.wait_for(lambda: wanted <= inputs(), 20, "every device's values again")
        self.iterate(1)
        self.assertEqual(inputs(), first)

    def test_node_collisions_are_configuration_errors(self):
        self.start_emoncms()
        plugs = [(dev_id, self.emulator(PLUG)) for dev_id in ("left", "right")]
        self.write_config("".join(self.device_config(d, e) for d, e in plugs) +
                          # two devices configured into one node: refused at once
                          self.exporter_config("same", node="left:lamps;right:lamps") +
                          # a configured node that is another device's own
                          self.exporter_config("taken", node="left:right") +
                          self.exporter_config("good", node="left:lamp1"))
        self.start_daemon()
        self.wait_online("left")
        self.wait_online("right")
        self.assertNotIn(exporter_path("same"), self.managed_objects())
        self.assertIn("Exporter 'same': node: devices 'left' and 'right' both have node 'lamps'",
                      self.daemon_log())
        self.wait_exp("State", lambda s: s == "error", exp_id="taken")
        self.assertIn("Node 'right' would hold the readings of both", self.exp("LastError", "taken"))
        self.wait_stored("lamp1", "Power", lambda v: len(v) > 0)
        self.wait_stored("right", "Power", lambda v: len(v) > 0)
        # nothing merged: what "taken" sent before it stopped is one device's per node
        self.assertNotIn("lamps", {s["node"] for s in self.emoncms.stored()})


if __name__ == "__main__":
    wbtest.main()
