#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes a copy of gdbus-codegen's C file whose doc comments carry the documentation
of introspection/*.xml, for g-ir-scanner (the copy is not compiled).

gdbus-codegen documents a property of the generated GObject types only as "Represents
the D-Bus property ...", so the GI reference (and Python's help()) would miss what the
D-Bus reference says: units, NaN when not measured, "/" for no parent, which
properties are not announced. Here the XML's doc comment of each interface, property
and method is added after the line that names it.

Usage: gir-docs.py GENERATED.c OUTPUT.c INTERFACE.xml...
"""

import re
import sys
import xml.etree.ElementTree as ET

COMMENT = re.compile(r"<!--(.*?)-->|<(interface|property|method)\s+name=\"([^\"]+)\"", re.S)
LINK = re.compile(r'^(\s*\* )(?:Represents the D-Bus property|Gets the value of the|'
                  r'Asynchronously invokes the|Synchronously invokes the|'
                  r'Abstract interface type for the D-Bus interface) '
                  r'<link linkend="gdbus-(property|method|interface)-([^"]+?)(?:\.top_of_page)?">')


def markdown(text):
    """DocBook bits of the XML comments as gi-docgen's Markdown."""
    text = re.sub(r"<literal>(.*?)</literal>", r"`\1`", text, flags=re.S)
    text = re.sub(r"#org\.wattbus\.Wattbus1\.(\w+):(\w+)", r"`\1.\2`", text)
    text = re.sub(r"#org\.wattbus\.Wattbus1\.(\w+)\.(\w+)\(\)", r"`\1.\2()`", text)
    text = re.sub(r"#org\.wattbus\.Wattbus1\.(\w+)", r"`\1`", text)
    text = re.sub(r"</?(?:para|emphasis)>", "", text)
    return text


def body(comment):
    """The text of a doc comment without its first line (the name), its @tags and
    Since:, dedented, as lines."""
    lines = comment.strip("\n").split("\n")[1:]
    out = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("@") or stripped.startswith("Since:"):
            continue
        out.append(stripped)
    while out and not out[0]:
        out.pop(0)
    while out and not out[-1]:
        out.pop()
    return markdown("\n".join(out)).replace("*/", "* /").split("\n")


def docs(paths):
    """{'property-org.wattbus.Wattbus1.Device.LastSeen': [lines], ...} as linkends name them."""
    result = {}
    for path in paths:
        ET.parse(path)  # a broken file fails here, loudly
        with open(path, encoding="utf-8") as f:
            text = f.read()
        pending = None
        interface = None
        for m in COMMENT.finditer(text):
            if m.group(1) is not None:
                pending = m.group(1)
                continue
            kind, name = m.group(2), m.group(3)
            if kind == "interface":
                interface = name
                key = "interface-" + name.replace(".", "-")
            else:
                key = "%s-%s.%s" % (kind, interface.replace(".", "-"), name)
            if pending is not None and pending.strip().split("\n")[0].strip().rstrip(":") in (name, interface):
                result[key] = body(pending)
            pending = None
    return result


def main():
    generated, output, xmls = sys.argv[1], sys.argv[2], sys.argv[3:]
    table = docs(xmls)
    out = []
    with open(generated, encoding="utf-8") as f:
        for line in f:
            out.append(line)
            m = LINK.match(line)
            if not m:
                continue
            prefix, kind, target = m.groups()
            lines = table.get("%s-%s" % (kind, target))
            if lines:
                out.append(prefix.rstrip() + "\n")
                out.extend((prefix + l).rstrip() + "\n" for l in lines)
    with open(output, "w", encoding="utf-8") as f:
        f.writelines(out)


if __name__ == "__main__":
    main()
