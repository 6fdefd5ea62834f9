#!/usr/bin/python3
"""The ABI is deliberate: the symbols libeakte exports, the functions the
public header declares and the linker version script name the same set; the
header compiles alone as C17 and as C++ with -Wall -Wextra -Wpedantic -Werror.

usage: check_abi.py LIBRARY HEADER MAPFILE
"""
import re
import subprocess
import sys
import tempfile


def main():
    lib, header, mapfile = sys.argv[1:4]
    nm = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True, check=True).stdout
    exported = {l.split()[-1].split("@")[0] for l in nm.splitlines() if re.search(r" [TDB] ", l)}
    exported = {s for s in exported if not s.startswith("_")}
    text = open(header).read()
    declared = set(re.findall(r"EAKTE_EXTERN\s+[^;(]*?\b(eakte_\w+)\s*\(", text, re.S))
    mapped = set(re.findall(r"^\s*(eakte_\w+);", open(mapfile).read(), re.M))
    ok = True
    for name, a, b in (("exported but not declared", exported, declared),
                       ("declared but not exported", declared, exported),
                       ("in the map but not declared", mapped, declared),
                       ("declared but not in the map", declared, mapped)):
        diff = sorted(a - b)
        if diff:
            ok = False
            print(f"{name}: {', '.join(diff)}")
    if not declared:
        print("no declarations found in the header")
        ok = False
    with tempfile.TemporaryDirectory() as d:
        for compiler, std, ext in (("cc", "-std=c17", "c"), ("c++", "-std=c++17", "cc")):
            src = f"{d}/t.{ext}"
            with open(src, "w") as f:
                f.write('#include "eakte/eakte.h"\nint main(void) { return eakte_version() == 0; }\n')
            inc = header.rsplit("/eakte/", 1)[0]
            p = subprocess.run([compiler, std, "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-fsyntax-only",
                                "-I", inc, src], capture_output=True, text=True)
            if p.returncode != 0:
                ok = False
                print(f"header does not compile alone with {compiler} {std}:\n{p.stderr}")
    print(f"{len(declared)} public functions checked")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
