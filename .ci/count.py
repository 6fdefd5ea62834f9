#!/usr/bin/python3
"""Count test results from JUnit XML (cmocka, pytest) and meson's testlog.

A meson test whose own XML reports no case (a crash before any output, or a
test that writes none) counts as one case, failed or passed as meson saw it.
Prints 'N passed, N failed' and exits 1 if anything failed or nothing ran.
"""
import glob
import json
import os
import sys
import xml.etree.ElementTree as ET


def count_dir(d):
    passed = failed = 0
    xml_cases = {}
    for path in sorted(glob.glob(os.path.join(d, "*.xml"))):
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError:
            failed += 1
            print(f"count: unreadable result file {path}", file=sys.stderr)
            continue
        n = bad = 0
        for case in root.iter("testcase"):
            n += 1
            if case.find("failure") is not None or case.find("error") is not None:
                bad += 1
        passed += n - bad
        failed += bad
        xml_cases[os.path.basename(path)] = (n, bad)
    log = os.path.join(d, "meson-testlog.json")
    if os.path.exists(log):
        with open(log) as f:
            for line in f:
                t = json.loads(line)
                name = t["name"].split(" / ")[-1]
                xml = xml_cases.get(f"cmocka-{name}.xml") or xml_cases.get(f"pytest-{name}.xml")
                has_xml = xml is not None
                ok = t["result"] in ("OK", "EXPECTEDFAIL", "SKIP")
                if t["result"] == "SKIP":
                    print(f"count: meson test {name} was skipped", file=sys.stderr)
                    failed += 1
                    continue
                if not ok and not has_xml:
                    failed += 1
                elif not ok and has_xml and xml[1] == 0:
                    # The binary failed (crash, sanitizer report, leak) with
                    # no failed case in its XML: count the process failure.
                    failed += 1
                elif ok and not has_xml:
                    passed += 1
    return passed, failed


def main():
    args = sys.argv[1:]
    total = False
    if args and args[0] == "--total":
        total = True
        args = args[1:]
    p = f = 0
    for d in args:
        a, b = count_dir(d)
        p += a
        f += b
    if total:
        print(f"{p} passed, {f} failed")
    else:
        print(f"results in {' '.join(args)}: {p} passed, {f} failed")
    return 0 if f == 0 and p > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
