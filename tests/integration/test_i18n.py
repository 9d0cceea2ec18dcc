#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The German translation (po/de.po): wattbusctl speaks German when the user's language
is German, and the polkit actions carry German messages. glibc honours LANGUAGE=de with
LANG=C.UTF-8, so no de_DE locale has to be generated; WATTBUS_LOCALEDIR points
wattbusctl at the translations in the build dir."""

import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import freeport
import uxtest
import wbtest

LOCALEDIR = os.path.join(uxtest.BUILD_DIR, "po")
GERMAN = {"LANGUAGE": "de", "LANG": "C.UTF-8", "WATTBUS_LOCALEDIR": LOCALEDIR}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class TranslationTest(uxtest.UxTest):

    def ctl(self, *args, expect=0, **env):
        proc = subprocess.run([os.environ["WATTBUSCTL"]] + list(args), env=self.user_env(**env),
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, expect, "%s: %s%s" % (args, proc.stdout, proc.stderr))
        return proc.stdout, proc.stderr

    def test_help_in_german(self):
        self.assertTrue(os.path.exists(os.path.join(LOCALEDIR, "de", "LC_MESSAGES", "wattbus.mo")))
        out, _ = self.ctl("--help", **GERMAN)
        for text in ("Befehle:", "Die Geräte auflisten", "show GERÄT", "Eine Steckdose einschalten",
                     "Mit dem Dienst auf dem Sitzungsbus sprechen (für Tests)", "Rückgabewert:",
                     "der Dienst läuft nicht"):
            self.assertIn(text, out)
        self.assertNotIn("List the devices", out)
        # the option help of a command too
        out, _ = self.ctl("add", "--help", **GERMAN)
        self.assertIn("Der Treiber des Geräts", out)
        # and English without the translation
        out, _ = self.ctl("--help")
        self.assertIn("List the devices", out)

    def test_errors_in_german(self):
        # no daemon on the bus
        _, err = self.ctl("--session", "list", expect=3, **GERMAN)
        self.assertEqual(err, "wattbusctl: der Wattbus-Dienst läuft nicht\n")
        _, err = self.ctl("frobnicate", expect=2, **GERMAN)
        self.assertEqual(err, "wattbusctl: unbekannter Befehl »frobnicate«\nVersuchen Sie »wattbusctl --help«.\n")
        _, err = self.ctl("--session", "--system", "list", expect=2, **GERMAN)
        self.assertIn("--session und --system schließen einander aus", err)

    def test_output_in_german(self):
        self.start()
        out, _ = self.ctl("--session", "list", **GERMAN)
        header = out.splitlines()[0].split()
        # the column header "ID" is its own message (msgctxt "column"), not the label of show
        self.assertEqual(header[1:7], ["ART", "NAME", "MODELL", "ERREICHBAR", "EIN", "LEISTUNG"])
        kettle = [line for line in out.splitlines() if line.startswith("kettle")][0]
        self.assertIn(" ja ", kettle)
        self.assertIn(" ein ", kettle)
        out, _ = self.ctl("--session", "show", "kettle", **GERMAN)
        for label in ("Seriennummer", "Spannung", "Leistung", "Energie", "Steckdose", "Stromzähler"):
            self.assertIn(label, out)
        _, err = self.ctl("--session", "on", "nosuch", expect=4, **GERMAN)
        self.assertIn("kein Gerät namens »nosuch«", err)

    def test_catalog_complete(self):
        """Every message of de.po is translated, none fuzzy, and the C format strings
        match (msgfmt --check)."""
        po = os.path.join(wbtest.SOURCE_DIR, "po", "de.po")
        proc = subprocess.run(["msgfmt", "--check", "--statistics", "-o", "/dev/null", po],
                              capture_output=True, text=True, env=dict(os.environ, LC_ALL="C"))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertRegex(proc.stderr, r"^\d+ translated messages\.\n$")
        with open(os.path.join(wbtest.SOURCE_DIR, "po", "LINGUAS")) as f:
            self.assertIn("de", [line.strip() for line in f if not line.startswith("#")])

    def test_exporters_in_german(self):
        """The exporters' table and confirmations in German, the states included (JSON
        keeps the daemon's values)."""
        with open(os.path.join(self.config_dir, "wattbus.conf"), "a") as f:
            f.write("\n[exporter dash]\nkind=sse\nlisten=127.0.0.1:%d\n" % freeport.free_port())
        self.start()
        out, _ = self.ctl("--session", "exporters", **GERMAN)
        line = [l for l in out.splitlines() if l.startswith("dash ")]
        self.assertEqual(len(line), 1, out)
        self.assertIn(" verbunden ", line[0] + " ")
        self.assertNotIn("connected", out)
        out, _ = self.ctl("--session", "exporters", "disable", "dash", **GERMAN)
        self.assertEqual(out, "Exporter dash: deaktiviert\n")
        out, _ = self.ctl("--session", "exporters", **GERMAN)
        self.assertIn(" deaktiviert", out)
        out, _ = self.ctl("--session", "--json", "exporters", **GERMAN)
        self.assertIn('"disabled"', out)

    def test_catalog_covers_the_sources(self):
        """Every file with translatable strings is in POTFILES.in, and every string they
        mark today is translated in de.po: the catalog is made afresh from the sources
        (xgettext with meson's glib preset) and merged into de.po, as
        `ninja wattbus-update-po` would, then counted by `msgfmt --statistics`."""
        src = os.path.join(wbtest.SOURCE_DIR, "src")
        marked = set()
        for folder, _, files in os.walk(src):
            for name in files:
                if name.endswith(".c"):
                    path = os.path.join(folder, name)
                    with open(path, encoding="utf-8") as f:
                        if re.search(r"(?<![\w])N?C?_\(\s*\"", f.read()):
                            marked.add(os.path.relpath(path, wbtest.SOURCE_DIR))
        with open(os.path.join(wbtest.SOURCE_DIR, "po", "POTFILES.in")) as f:
            listed = [line.strip() for line in f if line.strip() and not line.startswith("#")]
        self.assertTrue(marked)
        self.assertEqual(sorted(marked - set(listed)), [], "files with _() missing in po/POTFILES.in")
        tmp = tempfile.mkdtemp(prefix="wattbus-i18n-")
        self.addCleanup(shutil.rmtree, tmp, True)
        pot = os.path.join(tmp, "wattbus.pot")
        subprocess.run(["xgettext", "--package-name=wattbus", "--from-code=UTF-8", "--add-comments",
                        "--keyword=_", "--keyword=N_", "--keyword=C_:1c,2", "--keyword=NC_:1c,2",
                        "--keyword=g_dcgettext:2", "--keyword=g_dngettext:2,3",
                        "--keyword=g_dpgettext2:2c,3", "--flag=N_:1:pass-c-format",
                        "--flag=C_:2:pass-c-format", "--flag=NC_:2:pass-c-format",
                        "--flag=g_dngettext:2:pass-c-format", "--flag=g_strdup_printf:1:c-format",
                        "--flag=g_string_printf:2:c-format", "--flag=g_string_append_printf:2:c-format",
                        "--flag=g_error_new:3:c-format", "--flag=g_set_error:4:c-format",
                        "--flag=g_markup_printf_escaped:1:c-format", "--flag=g_log:3:c-format",
                        "--flag=g_print:1:c-format", "--flag=g_printerr:1:c-format",
                        "--flag=g_printf:1:c-format", "--flag=g_fprintf:2:c-format",
                        "--flag=g_sprintf:2:c-format", "--flag=g_snprintf:3:c-format",
                        "-D", wbtest.SOURCE_DIR, "-o", pot] + listed, check=True, capture_output=True)
        merged = os.path.join(tmp, "de.po")
        subprocess.run(["msgmerge", "--quiet", "--no-fuzzy-matching", "-o", merged,
                        os.path.join(wbtest.SOURCE_DIR, "po", "de.po"), pot], check=True)
        proc = subprocess.run(["msgfmt", "--check", "--statistics", "-o", "/dev/null", merged],
                              capture_output=True, text=True, env=dict(os.environ, LC_ALL="C"))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        missing = subprocess.run(["msgattrib", "--untranslated", "--no-obsolete", merged],
                                 capture_output=True, text=True, check=True).stdout
        self.assertRegex(proc.stderr, r"^\d+ translated messages\.\n$",
                         "strings of the sources that de.po does not translate:\n" + missing[-4000:])

    def test_polkit_actions_in_german(self):
        policy = os.path.join(uxtest.BUILD_DIR, "data", "org.wattbus.Wattbus1.policy")
        actions = ET.parse(policy).getroot().findall("action")
        self.assertTrue(actions)
        for action in actions:
            for tag in ("description", "message"):
                german = [e.text for e in action.findall(tag) if e.get(XML_LANG) == "de"]
                self.assertEqual(len(german), 1, "%s has no German %s" % (action.get("id"), tag))
        switch = [a for a in actions if a.get("id") == "org.wattbus.Wattbus1.switch-outlet"][0]
        self.assertEqual([e.text for e in switch.findall("description") if e.get(XML_LANG) == "de"],
                         ["Eine Steckdose ein- oder ausschalten"])


if __name__ == "__main__":
    wbtest.main()
