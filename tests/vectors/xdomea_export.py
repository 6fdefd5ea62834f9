#!/usr/bin/env python3
"""`eakte export --xdomea` end to end against the official xdomea 3.0.0 XSD:
an archive is made with the real CLI (an Akte with Vorgänge, several
documents and versions, umlauts and XML-special characters in titles and
file names, closed), exported, and the message taken from the zip is
validated with the xmllint program, as the receiving public archive would.
The package must also pass `eakte verify-package`.

usage: xdomea_export.py EAKTE XMLLINT XSD AKTENPLAN_CSV
"""
import os
import subprocess
import sys
import tempfile
import zipfile


def run(*args, **kw):
    r = subprocess.run([str(a) for a in args], capture_output=True, **kw)
    if r.returncode != 0:
        raise SystemExit(f"{args!r}: exit {r.returncode}: {r.stderr.decode(errors='replace')}")
    return r.stdout.decode()


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    eakte, xmllint, xsd, plan = sys.argv[1:]
    with tempfile.TemporaryDirectory() as t:
        a = os.path.join(t, "archive")
        run(eakte, "init", a, "--origin", "stadt-musterstadt.example/eakte")
        e = [eakte, "--archive", a]
        run(*e, "plan", "import", plan)
        az = run(*e, "akte", "create", "--plan", "32.10.02", "--title", "Bauantrag <Müller & Söhne> \"Neubau\"").strip()
        v1 = run(*e, "akte", "create", "--vorgang", az, "--title", "Anhörung der Nachbarn").strip()
        run(*e, "akte", "create", "--vorgang", az, "--title", "Stellungnahme Straßenbauamt")
        docs = []
        for name, body in (("Antrag Müller.txt", "Antrag\n"), ("Lageplan.txt", "Plan\n"),
                           ("Brief <1> & 2.txt", "Brief\n")):
            p = os.path.join(t, name)
            with open(p, "w", encoding="utf-8") as f:
                f.write(body)
            docs.append(p)
        ids = run(*e, "file", docs[0], docs[1], "--akte", az, "--title", "Bauantrag & Anlagen").split()
        run(*e, "file", docs[2], "--akte", az, "--vorgang", v1)
        p2 = os.path.join(t, "Antrag Müller (2. Fassung).txt")
        with open(p2, "w", encoding="utf-8") as f:
            f.write("Antrag, zweite Fassung\n")
        run(*e, "file", "--new-version-of", ids[0], p2)
        run(*e, "akte", "close", az)
        pkg = os.path.join(t, "aussonderung.zip")
        run(*e, "export", az, "--xdomea", "-o", pkg, "--recipient", "Landesarchiv Musterland")
        run(eakte, "verify-package", pkg, "--key", os.path.join(a, "keys", "note.vkey"))
        with zipfile.ZipFile(pkg) as z:
            msgs = [n for n in z.namelist() if n.endswith("_Aussonderung.Aussonderung.0503.xml") and "/" not in n]
            if len(msgs) != 1:
                raise SystemExit(f"expected one message at the top level, found {msgs}")
            path = os.path.join(t, msgs[0])
            with open(path, "wb") as f:
                f.write(z.read(msgs[0]))
        r = subprocess.run([xmllint, "--noout", "--nonet", "--schema", xsd, path], capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stderr, file=sys.stderr)
            return 1
        # A broken copy must fail: the validation is real.
        with open(path, encoding="utf-8") as f:
            xml = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(xml.replace("<code>0503</code>", "<code>0599</code>", 1))
        r2 = subprocess.run([xmllint, "--noout", "--nonet", "--schema", xsd, path], capture_output=True, text=True)
        if r2.returncode == 0:
            print("a message with Nachrichtentyp 0599 validated: the check proves nothing", file=sys.stderr)
            return 1
    print(f"ok: {msgs[0]} validates against {xsd}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
