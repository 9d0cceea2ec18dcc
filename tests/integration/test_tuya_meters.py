#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Tuya energy meters end to end: each direct-device snapshot of tests/data/tuya/meters.json
(shared/fixtures/tuya/meters.json) served by the Tuya emulator over a real socket, read
through the shipped profile, and checked on D-Bus against the values the fixture gives.
Raw (base64) phase records of the wrong length are refused with a log line.
"""

import json
import math
import os

import wbtest
from wbtest import DEVICE, METER, OUTLET, device_path
from tuyabase import TUYA, TuyaBase

with open(os.path.join(wbtest.SOURCE_DIR, "tests", "data", "tuya", "meters.json")) as f:
    METERS = {d["id"]: d for d in json.load(f)["devices"]}


class TuyaMeterTest(TuyaBase):

    def meter(self, fixture, profile, version=None):
        dev = METERS[fixture]
        version = version or dev["protocol_version"]
        emu = self.tuya("--dps", json.dumps(dev["dps"]), version=version)
        self.start_with([self.section("meter", emu, profile=profile, poll=30)], online=["meter"])
        path = device_path("meter")
        self.wait_for(lambda: not math.isnan(self.get(path, METER, "Power")), 10, "a power reading")
        return emu, path, dev["expected"]

    def close(self, path, prop, value, tol=1e-6):
        got = self.get(path, METER, prop)
        self.assertTrue(math.isclose(got, value, abs_tol=tol), "%s = %r, not %r" % (prop, got, value))

    def phases(self, path, prop, values):
        got = self.get(path, METER, prop)
        self.assertEqual(len(got), len(values), "%s = %r" % (prop, got))
        for g, v in zip(got, values):
            self.assertTrue(math.isclose(g, v, abs_tol=1e-6), "%s = %r, not %r" % (prop, got, values))

    def test_din_single_phase(self):
        emu, path, want = self.meter("din_single_phase_smt006", "din-meter-1p")
        self.close(path, "Voltage", want["voltage_v"])
        self.close(path, "Current", want["current_a"])
        self.close(path, "Power", want["power_w"])
        self.close(path, "ApparentPower", want["apparent_power_va"], tol=0.05)
        self.close(path, "Energy", want["energy_forward_kwh"] * 1000)
        self.assertTrue(math.isnan(self.get(path, METER, "EnergyExported")))
        self.assertEqual(self.get(path, METER, "Phases"), 0)
        self.assertEqual(self.get(path, OUTLET, "On"), want["switch_on"])
        self.assertEqual(self.get(path, DEVICE, "Kind"), "meter")
        # the prepayment balance is no energy: shown raw only
        self.assertEqual(self.get(path, TUYA, "Dps")["13"], 0)
        self.assertEqual(sorted(self.get(path, METER, "Measured")),
                         ["ApparentPower", "Current", "Energy", "Power", "Voltage"])
        # a push of the next record
        emu.command('set 6 "CV4AAPoAAC0="')
        self.wait_prop(path, METER, "Power", 45.0)
        self.close(path, "Current", 0.25)

    def test_wrong_length_is_refused(self):
        emu, path, want = self.meter("din_single_phase_smt006", "din-meter-1p")
        emu.command('set 6 "CWkAARgAACoA"')
        self.wait_for(lambda: "DP 6 (phase_a): a record of 9 bytes, the profile expects 8" in self.daemon_log(),
                      10, "the refusal in the log")
        line = [l for l in self.daemon_log().splitlines() if "DP 6 (phase_a)" in l][0]
        self.assertIn("meter", line)
        # nothing guessed: the last good record stays, the device stays online
        self.close(path, "Power", want["power_w"])
        self.close(path, "Voltage", want["voltage_v"])
        self.assertTrue(self.get(path, DEVICE, "Online"))
        self.assertEqual(self.get(path, TUYA, "Dps")["6"], "CWkAARgAACoA")

    def check_three_phase(self, version):
        emu, path, want = self.meter("three_phase_yagusmart_3pn", "din-meter-3p", version)
        ph = [want["phase_a"], want["phase_b"], want["phase_c"]]
        self.assertEqual(self.get(path, METER, "Phases"), 3)
        self.phases(path, "PhaseVoltage", [p["voltage_v"] for p in ph])
        self.phases(path, "PhaseCurrent", [p["current_a"] for p in ph])
        self.phases(path, "PhasePower", [p["power_w"] for p in ph])
        self.close(path, "Power", want["total_power_w"])
        self.close(path, "Energy", want["energy_forward_kwh"] * 1000)
        self.close(path, "EnergyExported", want["energy_reverse_kwh"] * 1000)
        # one phase changes: the sum follows
        emu.command('set 7 "CQAAFAMABH4="')
        self.wait_prop(path, METER, "Power", 42.0 + 1150 + 40)
        self.phases(path, "PhaseCurrent", [0.28, 5.123, 0.441])

    def test_three_phase_v33(self):
        self.check_three_phase("3.3")

    def test_three_phase_v35(self):
        self.check_three_phase("3.5")

    def test_signed_clamp(self):
        emu, path, want = self.meter("clamp_owon_pc341_signed", "clamp-meter-3p-signed")
        ph = [want["phase_a"], want["phase_b"], want["phase_c"]]
        self.phases(path, "PhaseVoltage", [p["voltage_v"] for p in ph])
        self.phases(path, "PhaseCurrent", [p["current_a"] for p in ph])
        self.phases(path, "PhasePower", [p["power_w"] for p in ph])
        self.phases(path, "PhaseReactivePower", [p["reactive_power_var"] for p in ph])
        self.phases(path, "PhaseApparentPower", [p["apparent_power_va"] for p in ph])
        self.phases(path, "PhasePowerFactor", [p["power_factor"] for p in ph])
        self.close(path, "Power", want["net_power_w"])
        self.close(path, "Energy", want["energy_forward_kwh"] * 1000)
        self.close(path, "EnergyExported", want["energy_reverse_kwh"] * 1000)
        self.assertEqual(self.get(path, METER, "Measurement"), "net-consumption")

    # the hub's two sub-devices, here connected directly (their DPs and values are the same)

    def sub_device(self, cid):
        hub = METERS["zigbee_gateway_with_two_meters"]
        sub = [d for d in hub["sub_devices"] if d["cid"] == cid][0]
        return {"id": "zigbee_gateway_with_two_meters", "protocol_version": hub["protocol_version"],
                "dps": sub["dps"], "expected": sub["expected"]}

    def test_zigbee_din_meter(self):
        METERS["spm01"] = self.sub_device("a4c13862d1e5f0a7")
        emu, path, want = self.meter("spm01", "din-meter-1p-zigbee")
        self.close(path, "Voltage", want["voltage_v"])
        self.close(path, "Current", want["current_a"])
        self.close(path, "Power", want["power_w"])
        self.close(path, "Frequency", want["frequency_hz"])
        self.close(path, "Energy", want["energy_forward_kwh"] * 1000)
        self.close(path, "EnergyExported", want["energy_reverse_kwh"] * 1000)
        self.assertEqual(self.get(path, OUTLET, "On"), want["switch_on"])

    def test_two_channel_clamp(self):
        METERS["pj1203a"] = self.sub_device("a4c1385b9e20c3d1")
        emu, path, want = self.meter("pj1203a", "clamp-meter-2ch")
        a, b = want["channel_a"], want["channel_b"]
        self.close(path, "Power", want["total_power_w"])
        self.close(path, "Voltage", want["voltage_v"])
        self.close(path, "Frequency", want["frequency_hz"])
        self.close(path, "Energy", want["energy_forward_kwh"] * 1000)
        self.close(path, "EnergyExported", want["energy_reverse_kwh"] * 1000)
        self.assertEqual(self.get(path, METER, "Phases"), 2)
        self.phases(path, "PhasePower", [a["power_w"], b["power_w"]])
        self.phases(path, "PhaseCurrent", [a["current_a"], b["current_a"]])
        self.phases(path, "PhasePowerFactor", [a["power_factor"], b["power_factor"]])
        # the fixture's pushes: step 4, then step 6 (channel A reverses)
        msgs = {m["step"]: m["payload"]["data"]["dps"] for m in METERS["zigbee_gateway_with_two_meters"]["messages"]
                if m["cmd"] == "0x08"}
        for k, v in msgs[4].items():
            emu.command("set %s %s" % (k, json.dumps(v)))
        self.wait_prop(path, METER, "Power", 1187.0)
        self.phases(path, "PhasePower", [1187.0, 0.0])
        self.phases(path, "PhaseCurrent", [5.54, 0.0])
        emu.command("set 102 \"REVERSE\"")
        self.wait_for(lambda: self.get(path, METER, "PhasePower")[0] == -1187.0, 10, "channel A reversed")
        emu.command("set 101 3120")
        self.wait_for(lambda: self.get(path, METER, "PhasePower")[0] == -312.0, 10, "channel A at -312 W")

    # add_ele: the fixture's sequence, with a restart at its reconnect step

    def test_add_ele_sequence(self):
        seq = METERS["plug_add_ele_sequence"]
        steps = {e["step"]: e for e in seq["events"]}
        want = {s["step"]: s["total_wh"] for s in seq["expected"]["per_step"]}
        state = os.path.join(self.state_dir, "tuya")
        os.makedirs(state, exist_ok=True)
        with open(os.path.join(state, "plug.energy"), "w") as f:
            f.write("[energy]\ntotal-wh=%d\n" % seq["counter_start_wh"])
        emu = self.tuya("--dps", json.dumps(steps[1]["payload"]["dps"]), version="3.3")
        self.start_with([self.section("plug", emu, profile="metering-plug-v2", poll=30)], online=["plug"])
        path = device_path("plug")

        def push(step):
            payload = steps[step]["payload"]
            emu.command("push %d %s" % (payload["t"], json.dumps(payload["dps"])))

        self.wait_prop(path, METER, "Power", seq["expected"]["power_w_after_step_1"])
        self.wait_prop(path, METER, "Energy", float(want[1]))
        push(2)
        self.wait_prop(path, METER, "Energy", float(want[2]))
        push(3)
        self.wait_prop(path, METER, "Power", seq["expected"]["power_w_after_step_3"])
        self.close(path, "Voltage", seq["expected"]["voltage_v_after_step_3"])
        self.close(path, "Current", seq["expected"]["current_a_after_step_3"])
        self.close(path, "Energy", want[3])
        push(4)
        self.wait_prop(path, METER, "Energy", float(want[4]))
        push(5)
        # the same push again; a later push shows it was handled
        emu.command('push 1700003601 {"19": 314}')
        self.wait_prop(path, METER, "Power", 31.4)
        self.close(path, "Energy", want[5])

        # step 6: a reconnect, here a restart: the counter comes back from the state
        # directory, and the query reply (which lists DP 17) adds nothing
        self.stop_daemon()
        self.assertIn("17", emu.state()["dps"])
        self.start_daemon()
        self.wait_online("plug")
        self.wait_prop(path, METER, "Power", 31.4)
        self.close(path, "Energy", want[6])
        self.assertIn("Energy", self.get(path, METER, "Measured"))
        push(7)
        push(8)
        self.wait_prop(path, METER, "Energy", float(want[8]))
        push(9)
        push(10)
        self.wait_prop(path, METER, "Energy", float(want[10]))
        self.assertEqual(want[10], seq["expected"]["final_counter_wh"])
        self.assertIn("an increment of 10000 Wh is implausible", self.daemon_log())
        with open(os.path.join(state, "plug.energy")) as f:
            self.assertIn("total-wh=%g" % want[10], f.read())


if __name__ == "__main__":
    wbtest.main()
