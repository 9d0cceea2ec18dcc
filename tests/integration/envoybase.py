# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared by the Envoy tests: the emulator as a subprocess, and the values a fixture
folder must show, worked out here from its JSON by the rules of the spec
(shared/specs/envoy.md §4, §5, §7), independently of the daemon's C code."""

import json
import math
import os

import wbtest
from wbtest import DEVICE, METER, device_path

INVERTER = wbtest.IFACE + ".Inverter"
BATTERY = wbtest.IFACE + ".Battery"
GATEWAY = wbtest.IFACE + ".Gateway"
ENVOY_FIXTURES = os.path.join(wbtest.DATA, "envoy")
STREAMS = os.path.join(ENVOY_FIXTURES, "stream-meter")
STREAM_1PHASE = os.path.join(STREAMS, "matthew1471-D7.0.88-1phase-night.txt")
STREAM_3PHASE = os.path.join(STREAMS, "siliconjunction-blog-3phase-daytime.txt")
FOLDERS = sorted(d for d in os.listdir(ENVOY_FIXTURES)
                 if os.path.isfile(os.path.join(ENVOY_FIXTURES, d, "info")))
os.environ.setdefault("WATTBUS_ENVOY_EMULATOR",
                      os.path.join(wbtest.SOURCE_DIR, "tests", "emulators", "envoy-emulator.py"))


class EnvoyEmulator(wbtest.EmulatorProcess):
    """tests/emulators/envoy-emulator.py serving one fixture folder."""

    def __init__(self, folder, *args, cert_dir=None, stream=STREAM_1PHASE, log=None):
        cmd = ["--fixture", os.path.join(ENVOY_FIXTURES, folder)]
        if cert_dir:
            cmd += ["--cert-dir", cert_dir]
        if stream:
            cmd += ["--stream", stream]
        if log:
            cmd += ["--log", log]
        super().__init__(os.environ["WATTBUS_ENVOY_EMULATOR"], cmd + list(args))
        ready = self.ready
        self.port = ready["port"]
        self.scheme = ready["scheme"]
        self.serial = ready["serial"]
        self.ca = ready["ca"]
        self.fingerprint = ready["fingerprint"]
        self.address = "%s://127.0.0.1:%d" % (self.scheme, self.port)

    def token(self, role, seconds=3600):
        for line in self.command("token %s %d" % (role, seconds)):
            if line.startswith("TOKEN "):
                return line[len("TOKEN "):]
        raise RuntimeError("no token")


def load_json(folder, name):
    path = os.path.join(ENVOY_FIXTURES, folder, name)
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except ValueError:
        return None  # an HTML page on old firmware


def info_field(folder, tag):
    import re
    with open(os.path.join(ENVOY_FIXTURES, folder, "info")) as f:
        m = re.search(r"<%s>\s*([^<]*?)\s*</%s>" % (tag, tag), f.read())
    return m.group(1) if m else None


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _reading(entry, lines, keys, phases):
    """Totals of entry; per-phase lists from lines when phases > 1."""
    values = {}
    for key, prop in keys:
        if is_number(entry.get(key)):
            v = float(entry[key])
            if phases > 1 and prop in ("Voltage", "PowerFactor"):
                v /= phases  # the gateway sums these over the phases (spec §4.2, §4.5)
            values[prop] = v
    if phases > 1 and isinstance(lines, list) and len(lines) >= phases:
        for key, prop in keys:
            if prop == "Frequency":
                continue
            per = [line.get(key) if isinstance(line, dict) else None for line in lines[:phases]]
            if all(is_number(v) for v in per):
                values["Phase" + prop] = [float(v) for v in per]
    return values


CT_KEYS = [("activePower", "Power"), ("reactivePower", "ReactivePower"),
           ("apparentPower", "ApparentPower"), ("voltage", "Voltage"), ("current", "Current"),
           ("pwrFactor", "PowerFactor"), ("freq", "Frequency")]
EIM_KEYS = [("wNow", "Power"), ("reactPwr", "ReactivePower"), ("apprntPwr", "ApparentPower"),
            ("rmsVoltage", "Voltage"), ("rmsCurrent", "Current"), ("pwrFactor", "PowerFactor")]


def expected_meters(folder):
    """{measurement: {property: value}} for every meter child of the gateway."""
    cts = load_json(folder, "ivp_meters")
    cts = cts if isinstance(cts, list) else []
    enabled = {ct["measurementType"]: ct for ct in cts if ct.get("state") == "enabled"}
    phases = max([min(int(ct.get("phaseCount", 1)), 3) for ct in enabled.values()], default=1)
    readings = load_json(folder, "ivp_meters_readings") or []
    production = load_json(folder, "production.json_details_1") or load_json(folder, "production.json") or {}
    meters = {}
    for kind in ("production", "net-consumption", "total-consumption", "storage", "backfeed", "load"):
        if kind in enabled:
            ct = enabled[kind]
            entry = next(r for r in readings if r.get("eid") == ct["eid"])
            values = _reading(entry, entry.get("channels"), CT_KEYS, phases)
            # both ways apart (envoy-batteries.md §2.8): forward as Energy, the other way exported
            values["Energy"] = entry["actEnergyDlvd"]
            if kind in ("net-consumption", "storage", "backfeed"):
                values["EnergyExported"] = entry["actEnergyRcvd"]
            meters[kind] = values
        elif (kind == "total-consumption" and "net-consumption" in enabled) or \
             (kind == "net-consumption" and "total-consumption" in enabled):
            entry = next((e for e in production.get("consumption", [])
                          if e.get("type") == "eim" and e.get("measurementType") == kind
                          and e.get("activeCount", 0) >= 1), None)
            values = {}
            if entry is not None:
                values = _reading(entry, entry.get("lines"), EIM_KEYS, phases)
                values["Energy"] = float(entry["whLifetime"])
            meters[kind] = values
    if not enabled:
        # no CT: v1 unless broken (all energy 0, power not) or a metered model (spec §7.2, §7.3)
        v1 = load_json(folder, "api_v1_production")
        broken = isinstance(v1, dict) and all(v1.get(k) == 0 for k in
                                              ("wattHoursToday", "wattHoursSevenDays", "wattHoursLifetime")) \
            and v1.get("wattsNow", 0) != 0
        if isinstance(v1, dict) and not broken and info_field(folder, "imeter") != "true":
            # the inverters' own day count is the only whToday trusted (envoy.md §7.6)
            meters["production"] = {"Power": float(v1["wattsNow"]), "Energy": float(v1["wattHoursLifetime"]),
                                    "EnergyToday": float(v1["wattHoursToday"])}
        else:
            inv = next(e for e in production.get("production", []) if e.get("type") == "inverters")
            meters["production"] = {"Power": float(inv["wNow"]), "Energy": float(inv["whLifetime"])}
    return meters, phases


def expected_inverters(folder):
    reports = load_json(folder, "api_v1_production_inverters") or []
    return {r["serialNumber"]: {"Power": float(r["lastReportWatts"]), "MaxPower": float(r["maxReportWatts"]),
                                "LastReport": r["lastReportDate"] * 1000000}
            for r in reports if r.get("devType", 1) == 1}


# The batteries and grid state of each folder as shared/specs/envoy-batteries.md §7 gives
# them (pyenphase 3.2.1's snapshots), in org.wattbus.Wattbus1.Battery's convention: Power
# positive while charging (the gateway's -1 324 000 mW is +1 324 W). "aggregate" is the
# gateway's all-batteries child; absent keys must be NaN. Folders not listed have no
# batteries and GridState "unknown".
NAN_KEYS = ("StateOfCharge", "Power", "Capacity", "AvailableEnergy", "ReserveLevel")
BATTERIES = {
    "8.2.4286_with_3cts_and_battery_split": {
        "grid": "on-grid",
        "aggregate": {"StateOfCharge": 46, "AvailableEnergy": 11600, "Capacity": 25000,
                      "ReserveLevel": 100, "Power": 6592, "State": "charging"},
        "batteries": {
            "492320000140": {"StateOfCharge": 39, "Power": 1324, "Capacity": 5000, "State": "charging"},
            "492320000148": {"StateOfCharge": 48, "Power": 1324, "Capacity": 5000, "State": "charging"},
            "492320000149": {"StateOfCharge": 48, "Power": 1316, "Capacity": 5000, "State": "charging"},
            "492320000158": {"StateOfCharge": 49, "Power": 1317, "Capacity": 5000, "State": "charging"},
            "492335008361": {"StateOfCharge": 48, "Power": 1311, "Capacity": 5000, "State": "charging"},
        },
    },
    # the outage: the relay is open while Enpwr_grid_mode still says multimode-ongrid
    "8.2.127_with_generator_running": {
        "grid": "off-grid",
        "aggregate": {"StateOfCharge": 98, "AvailableEnergy": 3292, "Capacity": 3360,
                      "ReserveLevel": 50, "Power": 1250, "State": "charging"},
        "batteries": {
            "492234001350": {"StateOfCharge": 98, "Power": 1250, "Capacity": 3360, "State": "charging"},
        },
    },
    # AC Batteries only: the aggregate of production.json (wNow -2 W: charging 2 W), the
    # capacity secctrl's Max_energy, the reserve its adjusted_backup_soc; the ACBs one by
    # one from /inventory.json?deleted=1 (1 240 Wh each; their power is not reported)
    "8.3.5169_ACB_inventory": {
        "grid": "unknown",
        "aggregate": {"StateOfCharge": 1, "AvailableEnergy": 25, "Capacity": 2480,
                      "ReserveLevel": 0, "Power": 2, "State": "idle"},
        "batteries": {
            "121917000000": {"StateOfCharge": 2, "Capacity": 1240, "State": "idle"},
            "122047000000": {"StateOfCharge": 0, "Capacity": 1240, "State": "idle"},
        },
    },
    # an IQ System Controller without batteries: its relay is closed
    "8.2.4345_with_device_data": {"grid": "on-grid", "aggregate": None, "batteries": {}},
    # no Enpower: the IQ Meter Collar's grid_state
    "8.3.1598_collar": {
        "grid": "on-grid",
        "aggregate": {"StateOfCharge": 89, "AvailableEnergy": 8900, "Capacity": 10000,
                      "ReserveLevel": 100, "Power": 1084, "State": "charging"},
        "batteries": {
            "492516006337": {"StateOfCharge": 92, "Power": 532, "Capacity": 5000, "State": "charging"},
            "492517004892": {"StateOfCharge": 86, "Power": 552, "Capacity": 5000, "State": "charging"},
        },
    },
}


def expected_batteries(folder):
    """(grid state, aggregate values or None, {serial: values})"""
    entry = BATTERIES.get(folder)
    if entry is None:
        return "unknown", None, {}
    return entry["grid"], entry["aggregate"], entry["batteries"]


def stream_events(path):
    with open(path) as f:
        return [json.loads(line[len("data: "):]) for line in f if line.startswith("data: ")]


def expected_stream(event, measurement, phases):
    """The meter values one stream event gives (spec §5): ph-a alone for one phase;
    else sums, with voltage and power factor averaged and the frequency of ph-a."""
    names = [("p", "Power"), ("q", "ReactivePower"), ("s", "ApparentPower"), ("v", "Voltage"),
             ("i", "Current"), ("pf", "PowerFactor")]
    ph = [event[measurement]["ph-" + c] for c in "abc"][:phases]
    values = {"Frequency": float(ph[0]["f"])}
    for key, prop in names:
        per = [float(p[key]) for p in ph]
        total = sum(per)
        values[prop] = total / phases if prop in ("Voltage", "PowerFactor") else total
        if phases > 1:
            values["Phase" + prop] = per
    return values


class EnvoyTest(wbtest.DaemonTest):
    """Starts an emulator for a folder and the daemon with one gateway."""

    def gateway(self, folder, *args, **kwargs):
        kwargs.setdefault("cert_dir", os.path.join(self.tmp, "certs-" + folder))
        os.makedirs(kwargs["cert_dir"], exist_ok=True)
        emu = EnvoyEmulator(folder, *args, **kwargs)
        self.emulators.append(emu)
        return emu

    def start_envoy(self, emu, dev_id="envoy", address=None, wait=True, **keys):
        # pins live in the state directory, which the driver finds as systemd says
        os.environ["STATE_DIRECTORY"] = self.state_dir
        lines = ["[device %s]" % dev_id, "driver=envoy", "address=%s" % (address or emu.address)]
        lines += ["%s=%s" % (k.replace("_", "-"), v) for k, v in keys.items()]
        self.write_config("\n".join(lines) + "\n")
        self.start_daemon()
        if wait:
            self.wait_online(dev_id, timeout=15)
        return device_path(dev_id)

    def children(self, parent_path):
        out = {}
        for path, ifaces in self.managed_objects().items():
            dev = ifaces.get(DEVICE)
            if dev and dev.get("Parent") == parent_path:
                out[path] = ifaces
        return out

    def meter_paths(self, parent_path):
        return {ifaces[METER]["Measurement"]: path
                for path, ifaces in self.children(parent_path).items() if METER in ifaces}

    def assert_values(self, actual, expected, what):
        for prop, value in expected.items():
            got = actual[prop]
            if isinstance(value, list):
                self.assertEqual(len(got), len(value), "%s %s: %r != %r" % (what, prop, got, value))
                for g, v in zip(got, value):
                    self.assertTrue(math.isclose(g, v, rel_tol=1e-9, abs_tol=1e-9),
                                    "%s %s: %r != %r" % (what, prop, got, value))
            else:
                self.assertTrue(math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-9),
                                "%s %s: %r != %r" % (what, prop, got, value))
