# SPDX-License-Identifier: GPL-2.0-or-later
"""A real Mosquitto broker for the MQTT exporter tests, started on 127.0.0.1 on a free port
with a config generated in the test's tmp dir (plain, username/password with an ACL file, or
TLS with required client certificates from a CA made here with the openssl CLI), and a
recording MQTT client (Debian's python3-paho-mqtt) that subscribes to everything."""

import json
import os
import queue
import shutil
import socket
import subprocess
import threading
import time

import paho.mqtt.client as mqtt

import freeport

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"


def free_port():
    return freeport.free_port()


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_pki(directory):
    """A test CA, a server certificate for localhost/127.0.0.1 and two client certificates
    (CN "wattbus" and "reader"), and a client certificate from another CA ("rogue")."""
    os.makedirs(directory, exist_ok=True)
    for ca in ("ca", "rogue-ca"):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", ca + ".key", "-out", ca + ".pem", "-days", "2", "-subj", "/CN=" + ca,
                cwd=directory)
    with open(os.path.join(directory, "server.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for name, ca, ext in (("server", "ca", "server.ext"), ("wattbus", "ca", None),
                          ("reader", "ca", None), ("rogue", "rogue-ca", None)):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name, cwd=directory)
        args = ["x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
                "-CAcreateserial", "-out", name + ".pem", "-days", "2"]
        if ext:
            args += ["-extfile", ext]
        openssl(*args, cwd=directory)
    return {name: os.path.join(directory, name) for name in
            ("ca", "server", "wattbus", "reader", "rogue")}


class Broker:
    """mosquitto as a subprocess. mode: "plain", "password" (users: {name: password},
    acl: the ACL file's text) or "tls" (required client certificates, the CN is the
    user name)."""

    def __init__(self, tmp, mode="plain", users=None, acl=None):
        self.dir = os.path.join(tmp, "mosquitto-%d" % time.monotonic_ns())
        os.makedirs(self.dir)
        self.port = free_port()
        self.mode = mode
        self.pki = None
        self.log_path = os.path.join(self.dir, "mosquitto.log")
        lines = ["per_listener_settings true",
                 "persistence true",
                 "persistence_location %s/" % self.dir,
                 "autosave_interval 1",
                 "log_dest file %s" % self.log_path,
                 "log_type all",
                 "set_tcp_nodelay true",
                 # a backlog published while a recorder reconnects is kept for it whole
                 "max_queued_messages 1000000",
                 "listener %d 127.0.0.1" % self.port]
        if os.geteuid() == 0:
            lines.insert(0, "user root")
        if mode == "plain":
            lines.append("allow_anonymous true")
        elif mode == "password":
            passwd = os.path.join(self.dir, "passwd")
            for i, (user, password) in enumerate((users or {}).items()):
                subprocess.run([MOSQUITTO_PASSWD, "-b"] + (["-c"] if i == 0 else []) +
                               [passwd, user, password], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            acl_path = os.path.join(self.dir, "acl")
            with open(acl_path, "w") as f:
                f.write(acl or "")
            lines += ["allow_anonymous false", "password_file " + passwd, "acl_file " + acl_path]
        elif mode == "tls":
            self.pki = make_pki(os.path.join(self.dir, "pki"))
            lines += ["allow_anonymous false",
                      "cafile %s.pem" % self.pki["ca"],
                      "certfile %s.pem" % self.pki["server"],
                      "keyfile %s.key" % self.pki["server"],
                      "require_certificate true",
                      "use_identity_as_username true"]
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None
        self.start()

    @property
    def url(self):
        return "%s://localhost:%d" % ("mqtts" if self.mode == "tls" else "mqtt", self.port)

    def start(self):
        self.proc = subprocess.Popen([MOSQUITTO, "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("mosquitto exited: %s" % self.log())
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self):
        """SIGTERM: Mosquitto saves its persistence (queued QoS 1 messages) and exits."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def client(self, client_id="test-reader", username=None, password=None, cert=None,
               subscribe=("#",)):
        return Recorder(self, client_id, username, password, cert, subscribe)


class Recorder:
    """An MQTT client with a persistent session (QoS 1, clean_session=False) that records
    every message it gets: (topic, payload as text, retained)."""

    def __init__(self, broker, client_id, username, password, cert, subscribe):
        self.messages = []
        self.lock = threading.Lock()
        self.connected = threading.Event()
        self.subscribe_to = list(subscribe)
        self.client = mqtt.Client(client_id=client_id, clean_session=False,
                                  protocol=mqtt.MQTTv311)
        if username is not None:
            self.client.username_pw_set(username, password)
        if broker.mode == "tls":
            cert = cert or broker.pki["reader"]
            self.client.tls_set(ca_certs=broker.pki["ca"] + ".pem", certfile=cert + ".pem",
                                keyfile=cert + ".key")
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.connect("localhost", broker.port, keepalive=30)
        self.client.loop_start()
        if not self.connected.wait(10):
            raise RuntimeError("the test client could not connect")

    def _on_connect(self, client, userdata, flags, rc):
        if rc == 0:
            for topic in self.subscribe_to:
                client.subscribe(topic, qos=1)
            self.connected.set()

    def _on_message(self, client, userdata, msg):
        with self.lock:
            self.messages.append((msg.topic, msg.payload.decode("utf-8", "replace"),
                                  bool(msg.retain)))

    def on(self, topic):
        """The payloads received on @topic, in order."""
        with self.lock:
            return [m[1] for m in self.messages if m[0] == topic]

    def json_on(self, topic):
        out = []
        for payload in self.on(topic):
            try:
                out.append(json.loads(payload))
            except ValueError:
                pass
        return out

    def clear(self):
        with self.lock:
            self.messages = []

    def publish(self, topic, payload, retain=False, qos=1):
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(5)

    def stop(self):
        self.client.loop_stop()
        self.client.disconnect()
