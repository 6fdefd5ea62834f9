#!/usr/bin/env python3
"""Validate the xdomea 0503 message of every model in MODELS_DIR against the
xdomea 3.0.0 XSD with the xmllint program (libxml2-utils), as an archive
receiving the message would.  A message broken on purpose must fail, so
that a passing run means something.

usage: xmllint_xdomea.py XMLLINT XDOMEA_GEN XSD MODELS_DIR
"""
import os
import subprocess
import sys
import tempfile


def xmllint(tool, xsd, path):
    r = subprocess.run([tool, "--noout", "--nonet", "--schema", xsd, path],
                       capture_output=True, text=True, check=False)
    return r.returncode, r.stderr


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    tool, gen, xsd, models = sys.argv[1:]
    names = sorted(n for n in os.listdir(models) if n.endswith(".json"))
    if len(names) < 3:
        print(f"only {len(names)} models in {models}", file=sys.stderr)
        return 1
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for n in names:
            model = os.path.join(models, n)
            name = subprocess.run([gen, "--name", model], capture_output=True, text=True,
                                  check=True).stdout.strip()
            if not name.endswith("_Aussonderung.Aussonderung.0503.xml"):
                print(f"{n}: odd message name {name!r}", file=sys.stderr)
                failed += 1
                continue
            xml = subprocess.run([gen, model], capture_output=True, check=True).stdout
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(xml)
            rc, err = xmllint(tool, xsd, path)
            if rc != 0 or "validates" not in err:
                print(f"{n}: xmllint exit {rc}: {err}", file=sys.stderr)
                failed += 1
            else:
                print(f"{n}: {name} validates")
            # The same message with an Aussonderungsart outside the code list.
            broken = xml.replace(b"<code>A</code>", b"<code>X</code>").replace(
                b"<code>B</code>", b"<code>X</code>").replace(b"<code>V</code>", b"<code>X</code>")
            if broken == xml:
                print(f"{n}: no Aussonderungsart code to break", file=sys.stderr)
                failed += 1
                continue
            bpath = os.path.join(tmp, "broken-" + name)
            with open(bpath, "wb") as f:
                f.write(broken)
            rc, err = xmllint(tool, xsd, bpath)
            if rc == 0:
                print(f"{n}: a message with Aussonderungsart X validates", file=sys.stderr)
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
