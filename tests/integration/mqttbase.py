# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared by the MQTT exporter tests (kind=mqtt, aws, azure, jwt): MqttBase, a daemon test
with Tuya and Kasa emulators, real Mosquitto brokers and recording clients."""

import json

import wbtest
from emoncmsemu import EXPORTER, exporter_path
from mqttbroker import Broker
from tuyabase import TuyaBase
from wbtest import device_path

WATER = "org.wattbus.Wattbus1.WaterMeter"
PASSWORD = "s3cret-Mqtt!pw"


class MqttBase(TuyaBase):
    """Helpers: brokers, recording clients, config sections."""

    def setUp(self):
        super().setUp()
        self.brokers = []
        self.recorders = []
        self.addCleanup(self._stop_mqtt)

    def _stop_mqtt(self):
        for rec in self.recorders:
            rec.stop()
        for broker in self.brokers:
            broker.stop()

    def broker(self, *args, **kwargs):
        broker = Broker(self.tmp, *args, **kwargs)
        self.brokers.append(broker)
        return broker

    def recorder(self, broker, **kwargs):
        rec = broker.client(**kwargs)
        self.recorders.append(rec)
        return rec

    @staticmethod
    def exporter(broker, exp_id="mq", **keys):
        text = "[exporter %s]\nkind=mqtt\nurl=%s\n" % (exp_id, broker.url)
        for key, value in keys.items():
            text += "%s=%s\n" % (key.replace("_", "-"), value)
        return text + "\n"

    @staticmethod
    def plug(dev_id, emu, poll=1):
        return "[device %s]\ndriver=kasa\naddress=%s\npoll-interval=%d\n\n" % (dev_id, emu.address, poll)

    def exp(self, prop, exp_id="mq"):
        return self.get(exporter_path(exp_id), EXPORTER, prop)

    def wait_json(self, rec, topic, predicate, timeout=10):
        self.wait_for(lambda: any(predicate(j) for j in rec.json_on(topic)), timeout,
                      "a message on %s" % topic)
        return [j for j in rec.json_on(topic) if predicate(j)][-1]

    def wait_payload(self, rec, topic, payload, timeout=10):
        self.wait_for(lambda: payload in rec.on(topic), timeout, "%r on %s" % (payload, topic))

    def command(self, rec, dev_id, payload, timeout=10):
        """Publishes a command, returns the reply on .../set/result."""
        topic = "wattbus/%s/set/result" % dev_id
        before = len(rec.on(topic))
        rec.publish("wattbus/%s/set" % dev_id, payload)
        self.wait_for(lambda: len(rec.on(topic)) > before, timeout, "a reply on " + topic)
        return json.loads(rec.on(topic)[before])

    # streams of readings: nothing lost

    def stream(self, emu, count, dev_id="plug"):
        """Yields 0..count-1, each before a new reading of the Kasa plug @emu: after each
        the daemon has read it (from then on, the exporter's to deliver) and self.sent
        holds its power (W)."""
        path = device_path(dev_id)
        self.sent = []
        for i in range(count):
            yield i
            power_mw = 1000 + i * 111
            emu.command("emeter power_mw=%d" % power_mw)
            self.wait_prop(path, wbtest.METER, "Power", power_mw / 1000, timeout=5)
            self.sent.append(round(power_mw / 1000, 6))

    def assert_all_arrived(self, readings, exp_id=None):
        """Every reading of self.sent is in readings() (the JSON objects the cloud got),
        in order, at least once."""
        queued = lambda: self.exp("Queued") if exp_id is None else self.exp("Queued", exp_id)
        self.wait_for(lambda: queued() == 0, 20, "the backlog delivered")

        def powers():
            return [round(j["power"], 6) for j in readings() if "power" in j]
        self.wait_for(lambda: all(p in powers() for p in self.sent), 10, "every reading")
        got = [p for p in powers() if p in self.sent]
        # in order (a reading may come twice: at least once)
        dedup = [p for i, p in enumerate(got) if i == 0 or got[i - 1] != p]
        self.assertEqual(dedup, self.sent)

    def check_broker_restart(self, broker, emu, readings, exp_id=None, count=12, down=(3, 8)):
        """@broker stopped during a stream of readings of @emu and started again: every
        reading arrives (readings(): the JSON objects the cloud got)."""
        for i in self.stream(emu, count):
            if i == down[0]:
                broker.stop()
            if i == down[1]:
                broker.start()
        self.assert_all_arrived(readings, exp_id)
