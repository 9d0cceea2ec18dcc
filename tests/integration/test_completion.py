#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The bash completion of wattbusctl (data/completion/wattbusctl): bash with the file
sourced, COMP_WORDS and COMP_CWORD set as bash sets them, the function called, against
the daemon with emulated devices."""

import os
import shlex

import uxtest
import wbtest

COMPLETION = os.path.join(wbtest.SOURCE_DIR, "data", "completion", "wattbusctl")
COMMANDS = ["list", "show", "on", "off", "toggle", "refresh", "monitor", "discover", "add", "remove",
            "reload", "version", "exporters", "valve", "water-switch", "water-sharing", "help"]
DEVICES = ["garden", "garden_1", "garden_2", "garden_3", "kettle"]
OUTLETS = ["garden_1", "garden_2", "garden_3", "kettle"]


class CompletionTest(uxtest.UxTest):

    def complete(self, line, **env):
        """What completing the last word of line offers ("" after a trailing space)."""
        words = shlex.split(line) + ([""] if line.endswith(" ") else [])
        script = (". %s\nCOMP_WORDS=(%s)\nCOMP_CWORD=%d\n_wattbusctl\nprintf '%%s\\n' \"${COMPREPLY[@]}\"\n"
                  % (shlex.quote(COMPLETION), " ".join(shlex.quote(w) for w in words), len(words) - 1))
        out = self.run_program(["bash", "--norc", "--noprofile", "-c", script], **env)
        return [w for w in out.split("\n") if w]

    def test_commands_and_options(self):
        # no daemon needed
        self.assertEqual(self.complete("wattbusctl "), COMMANDS)
        self.assertEqual(self.complete("wattbusctl re"), ["refresh", "remove", "reload"])
        self.assertEqual(self.complete("wattbusctl --session t"), ["toggle"])
        self.assertEqual(self.complete("wattbusctl --"), ["--system", "--session", "--json", "--version", "--help"])
        self.assertEqual(self.complete("wattbusctl discover --t"), ["--timeout", "--target"])
        self.assertEqual(self.complete("wattbusctl add --"),
                         ["--system", "--session", "--json", "--help", "--driver", "--address", "--name", "--id",
                          "--poll-interval", "--set"])
        self.assertEqual(self.complete("wattbusctl list --for t"), ["toggle"])
        self.assertEqual(self.complete("wattbusctl water-sharing meter "), ["cold", "hot"])
        self.assertEqual(self.complete("wattbusctl water-sharing meter cold l"), ["lease"])
        self.assertEqual(self.complete("wattbusctl valve meter "), ["open", "closed"])
        self.assertEqual(self.complete("wattbusctl help "), COMMANDS[:-1])
        self.assertEqual(self.complete("wattbusctl exporters "), ["flush", "enable", "disable"])
        # the value of an option is the user's to type
        self.assertEqual(self.complete("wattbusctl add --address "), [])
        # without a daemon there are no ids, and no error either
        self.assertEqual(self.complete("wattbusctl --session on "), [])

    def test_device_ids(self):
        self.write_config("[exporter emon]\nkind=emoncms\nurl=http://127.0.0.1:9\n"
                          "apikey=0123456789abcdef0123456789abcdef\nenabled=false\n", name="conf.d/exporter.conf")
        self.start()
        # only the devices a command can act on: outlets (not the strip) for on/off/toggle
        self.assertEqual(self.complete("wattbusctl --session on "), OUTLETS)
        self.assertEqual(self.complete("wattbusctl --session show g"), DEVICES[:4])
        self.assertEqual(self.complete("wattbusctl --session toggle garden_"), DEVICES[1:4])
        self.assertEqual(self.complete("wattbusctl --session toggle g"), DEVICES[1:4])
        self.assertEqual(self.complete("wattbusctl --session valve "), [])
        self.assertEqual(self.complete("wattbusctl refresh --session k"), ["kettle"])
        # the bus from the environment, as wattbusctl takes it; one device per command
        self.assertEqual(self.complete("wattbusctl off k", WATTBUS_BUS="session"), ["kettle"])
        self.assertEqual(self.complete("wattbusctl --session off kettle "), [])
        # the system bus has no daemon
        self.assertEqual(self.complete("wattbusctl off k"), [])
        # remove: only a device added with 'add', not those of the files nor a strip's sockets;
        # even when the user's language is another one
        self.assertEqual(self.complete("wattbusctl --session remove ", LANGUAGE="de"), [])
        self.call(wbtest.ROOT, wbtest.IFACE, "AddDevice", ({
            "driver": wbtest.GLib.Variant("s", "kasa"), "address": wbtest.GLib.Variant("s", self.plug.address),
            "id": wbtest.GLib.Variant("s", "spare")},), "(a{sv})")
        self.assertEqual(self.complete("wattbusctl --session remove ", LANGUAGE="de"), ["spare"])
        self.assertEqual(self.complete("wattbusctl --session remove ", COLUMNS="20"), ["spare"])
        self.assertEqual(self.complete("wattbusctl --session add --driver k"), ["kasa"])
        self.assertEqual(self.complete("wattbusctl --session exporters flush "), ["emon"])


if __name__ == "__main__":
    wbtest.main()
