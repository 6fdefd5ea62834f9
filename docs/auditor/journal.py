#!/usr/bin/env python3
"""journal.py WORK N CHECKPOINT [SAVED]: the part of the audit that needs a
few lines of code.  Standard library only.

Reads WORK/event.0 .. event.N-1 (the journal's event.json blobs, oldest
first) and checks: canonical JSON, seq, prev; computes the RFC 9162 Merkle
root; compares it with the checkpoint; writes the checkpoint's signed text
and raw signature (for openssl) and the genesis key; lists content objects
to hash.  With SAVED, checks that the first SAVED-size events still have the
saved checkpoint's root (the journal extends it).
"""
import base64
import hashlib
import json
import sys


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def mth(leaves):
    """RFC 9162 section 2.1.1 Merkle Tree Hash over leaf hashes."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def split_note(path, work, name):
    data = open(path, "rb").read()
    text, sep, sigs = data.partition(b"\n\n")
    if not sep:
        sys.exit(f"{path}: not a signed note")
    text += b"\n"
    lines = text.decode().split("\n")
    origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2])
    sig = None
    for line in sigs.decode().splitlines():
        if line.startswith("\u2014 " + origin + " "):
            sig = base64.b64decode(line.split(" ")[2])[4:]
    if sig is None or len(sig) != 64:
        sys.exit(f"{path}: no signature by {origin}")
    open(f"{work}/{name}.text", "wb").write(text)
    open(f"{work}/{name}.sig", "wb").write(sig)
    return origin, size, root


def uid(actor):
    return actor.split(":")[1] if actor.startswith("unix:") else actor


def check_dispose(ev, filed, doc_akte, metas, proposals):
    """A dispose event (docs/format.md): its removed list is exactly what
    the journal filed for the Akte, and its proposal was made by another
    person.  The objects it lists are excused from step 4."""
    i, akte = ev["seq"], ev["akte"]
    want = sorted((d, v, c, m) for (d, v), (a, c, m, _, _) in filed.items() if a == akte)
    got = sorted((d["doc"], d["version"], d["content"], d["meta"]) for d in ev["removed"]["docs"])
    if want != got:
        sys.exit(f"event {i}: the disposal of Akte {akte} does not list exactly the documents filed into it")
    want = sorted((s, h) for s, a, d, h in metas if (a or doc_akte.get(d)) == akte)
    got = sorted((m["seq"], m["sha256"]) for m in ev["removed"]["metas"])
    if want != got:
        sys.exit(f"event {i}: the disposal of Akte {akte} does not list exactly its metadata objects")
    p = proposals.get(ev["proposal"])
    if p is None or p[0] != akte or p[1] != ev["proposed_by"]:
        sys.exit(f"event {i}: proposal {ev['proposal']} is no earlier proposal for Akte {akte} by {ev['proposed_by']}")
    if uid(p[1]) == uid(ev["actor"]) or "hotfolder:" in (p[1][:10], ev["actor"][:10]):
        sys.exit(f"event {i}: proposed and approved by the same person (four-eyes principle broken)")


def main():
    work, n, checkpoint = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    saved = sys.argv[4] if len(sys.argv) > 4 else None
    leaves = []
    contents = []
    filed = {}       # (doc, version) -> (akte, content sha256, meta sha256, seq)
    doc_akte = {}    # doc -> akte
    metas = []       # (seq, akte or None, doc or None, sha256) of meta, akte-create, vorgang-create
    proposals = {}   # seq -> (akte, actor)
    gone = set()     # (doc, version) removed by a dispose event
    prev = "0" * 64
    for i in range(n):
        raw = open(f"{work}/event.{i}", "rb").read()
        ev = json.loads(raw)
        if canonical(ev) != raw:
            sys.exit(f"event {i}: not canonical JSON")
        if ev["seq"] != i:
            sys.exit(f"event {i}: seq expected={i} actual={ev['seq']}")
        if ev["prev"] != prev:
            sys.exit(f"event {i}: prev expected={prev} actual={ev['prev']}")
        leaf = hashlib.sha256(b"\x00" + raw).digest()
        leaves.append(leaf)
        prev = leaf.hex()
        if i == 0:
            if ev["action"] != "genesis":
                sys.exit("event 0 is not the genesis event")
            open(f"{work}/genesis.key", "wb").write(base64.b64decode(ev["key"]["public"]))
            origin = ev["origin"]
        a = ev["action"]
        if a == "file":
            filed[(ev["doc"], ev["version"])] = (ev["akte"], ev["content"]["sha256"], ev["meta"]["sha256"], i,
                                                 ev["content"]["oid"])
            doc_akte[ev["doc"]] = ev["akte"]
        elif a in ("meta", "akte-create", "vorgang-create"):
            metas.append((i, ev.get("akte"), ev.get("doc"), ev["meta"]["sha256"]))
        elif a == "dispose-propose":
            proposals[i] = (ev["akte"], ev["actor"])
        elif a == "dispose":
            check_dispose(ev, filed, doc_akte, metas, proposals)
            gone.update((d["doc"], d["version"]) for d in ev["removed"]["docs"])
    for (doc, version), (akte, sha, _, _, oid) in filed.items():
        if (doc, version) not in gone:
            contents.append(f"{oid} {sha} {doc}")
    cp_origin, size, root = split_note(checkpoint, work, "checkpoint")
    if cp_origin != origin:
        sys.exit(f"checkpoint origin {cp_origin} is not the archive's {origin}")
    if size > n:
        sys.exit(f"the checkpoint covers {size} events, the journal has {n}: truncated")
    if mth(leaves[:size]) != root:
        sys.exit(f"Merkle root of the first {size} events does not match the checkpoint")
    if saved:
        s_origin, s_size, s_root = split_note(saved, work, "saved")
        if s_origin != origin or s_size > n or mth(leaves[:s_size]) != s_root:
            sys.exit(f"the journal does not extend the saved checkpoint of size {s_size}")
    with open(f"{work}/contents", "w") as f:
        for c in contents:
            f.write(c + "\n")


if __name__ == "__main__":
    main()
