#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Prints the id of every test method of a test file, one per line, so that meson can
run each as its own test (failures are named, and they run in parallel).
With --files DIR: prints the test files (test_*.py) of DIR, for meson to check that each
is listed. Shared helpers (wbtest.py, tuyabase.py, ...) are not named test_*.py."""

import importlib.util
import os
import sys
import unittest


def main():
    if sys.argv[1] == "--files":
        print("\n".join(sorted(f for f in os.listdir(sys.argv[2])
                                if f.startswith("test_") and f.endswith(".py"))))
        return
    path = sys.argv[1]
    sys.path.insert(0, os.path.dirname(path))
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)

    def walk(s):
        for t in s:
            if isinstance(t, unittest.TestSuite):
                yield from walk(t)
            else:
                yield t.id().split(".", 1)[1]

    for test_id in walk(suite):
        print(test_id)


if __name__ == "__main__":
    main()
