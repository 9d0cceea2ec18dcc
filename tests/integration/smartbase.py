# SPDX-License-Identifier: GPL-2.0-or-later
"""TP-Link SMART fixtures (tests/data/kasa-smart) for the tests of test_kasa_smart.py and
test_kasa_smart_exporters.py: the values a device must show, worked out from a fixture by
the units of shared/specs/kasa-smart.md §5.7 (mW, W, Wh, mV, mA), apart from the daemon's
C code; the account the emulator is started with."""

import base64
import glob
import json
import os

import wbtest

FIXTURES = sorted(os.path.basename(p) for p in glob.glob(os.path.join(wbtest.SMART_FIXTURES, "*.json")))
USER = "user@example.com"
PASSWORD = "s3cret-Pa55"


def load(name):
    with open(os.path.join(wbtest.SMART_FIXTURES, name)) as f:
        return json.load(f)


def is_iot(fixture):
    return fixture["discovery_result"]["result"]["device_type"].startswith("IOT.")


def transports(fixture):
    """IOT devices moved to KLAP only; SMART plugs, strips and switches ship with AES on
    older and KLAP on newer firmware (kasa-smart.md §7), so both are tested."""
    return ["klap"] if is_iot(fixture) else ["klap", "aes"]


def components(fixture):
    return {c["id"]: c["ver_code"] for c in fixture.get("component_nego", {}).get("component_list", [])}


def expected_reading(methods, on, energy_version):
    """SI values the meter must show for one plug or outlet."""
    usage = methods.get("get_energy_usage", {})
    cp = methods.get("get_current_power") if energy_version >= 2 else None
    ed = methods.get("get_emeter_data") if energy_version >= 2 else None
    values = {}
    if ed and "power_mw" in ed:
        values["Power"] = ed["power_mw"] / 1000.0
    elif "current_power" in usage:
        values["Power"] = usage["current_power"] / 1000.0
    elif cp and "current_power" in cp:
        values["Power"] = float(cp["current_power"])
    if ed and "voltage_mv" in ed:
        values["Voltage"] = ed["voltage_mv"] / 1000.0
    if ed and "current_ma" in ed:
        values["Current"] = ed["current_ma"] / 1000.0
    if "today_energy" in usage:
        values["EnergyToday"] = float(usage["today_energy"])
        values["Energy"] = float(max(usage.get("month_energy", 0), usage["today_energy"]))
    if "month_energy" in usage:
        values["EnergyThisMonth"] = float(usage["month_energy"])
    if not on:
        # the emulator, like a plug, reports no load through an open relay
        for k in ("Power", "Current"):
            if k in values:
                values[k] = 0.0
    return values


def name_of(b64):
    return base64.b64decode(b64).decode() if b64 else None
