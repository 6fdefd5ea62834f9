"""Retention, legal holds and four-eyes disposal (issue 5), end to end.

Two people are two real Unix users: the actor comes from the OS identity
(embedded mode) or from the daemon's peer credentials, so the second person
runs eakte through setpriv as another user.  In embedded mode that user
keeps CAP_DAC_OVERRIDE (an ambient capability), standing in for the group
permissions a shared archive directory has in production.
"""
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import zlib
from pathlib import Path

import pytest

from conftest import EAKTE, SOURCE_ROOT, run

EAKTED = os.environ.get("EAKTED_BIN") or str(SOURCE_ROOT / "build" / "daemon" / "eakted")
SHIM = os.environ.get("EAKTE_FAULTSHIM") or str(Path(EAKTE).resolve().parents[1] / "tests" / "anomaly" / "libfaultshim.so")

PLAN = """code;title;parent;retention;value
90;Testplan;;10;V
90.1;Zehn Jahre;90;10;V
90.2;Null Jahre;90;0;V
90.3;Dauernd;90;unbefristet;V
90.4;Archivwuerdig;90;5;A
90.5;Bewerten;90;5;B
"""

USERS = {"eakte-t-rec1": "eakte-tg-rec1", "eakte-t-rec2": "eakte-tg-rec2", "eakte-t-read": "eakte-tg-read"}


@pytest.fixture
def users():
    """Real Unix users (the tests run as root in CI)."""
    if os.geteuid() != 0:
        pytest.fail("this test needs root to create Unix users (CI runs as root)")
    for user, group in USERS.items():
        subprocess.run(["userdel", user], capture_output=True)
        subprocess.run(["groupdel", group], capture_output=True)
        subprocess.run(["groupadd", "--system", group], check=True)
        subprocess.run(["useradd", "--system", "--no-create-home", "-g", group, user], check=True)
    yield USERS
    for user, group in USERS.items():
        subprocess.run(["userdel", user], capture_output=True)
        subprocess.run(["groupdel", group], capture_output=True)


def uid(user):
    return int(subprocess.run(["id", "-u", user], capture_output=True, text=True, check=True).stdout)


def as_user(user, *args, archive=None, socket_path=None, env=None):
    """eakte as another Unix user (embedded: with CAP_DAC_OVERRIDE for the archive's files)."""
    cmd = ["setpriv", f"--reuid={user}", f"--regid={USERS[user]}", "--init-groups"]
    if archive is not None:
        cmd += ["--inh-caps=+dac_override", "--ambient-caps=+dac_override"]
    # extra variables (the fault shim) reach eakte only, not setpriv
    cmd += ["env"] + [f"{k}={v}" for k, v in (env or {}).items()] + [EAKTE]
    cmd += ["--archive", str(archive)] if archive is not None else ["--socket", str(socket_path)]
    e = dict(os.environ)
    e.pop("EAKTE_ARCHIVE", None)
    e.pop("EAKTE_SOCKET", None)
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, env=e, timeout=600)


@pytest.fixture
def arch(tmp_path):
    a = tmp_path / "archive"
    run("init", a, "--origin", "test.musterstadt.de/eakte", check=0)
    (tmp_path / "plan.csv").write_text(PLAN, encoding="utf-8")
    run("plan", "import", tmp_path / "plan.csv", archive=a, check=0)
    return a


def akte(a, az, plan, closed=None, title=None):
    run("akte", "create", "--plan", plan, "--az", az, "--title", title or f"Akte {az}", archive=a, check=0)
    if closed:
        run("akte", "close", az, "--date", closed, archive=a, check=0)


def rshow(a, az):
    return json.loads(run("retention", "show", az, "--json", archive=a, check=0).text)


def due(a, at):
    return [e["az"] for e in json.loads(run("retention", "due", "--at", at, "--json", archive=a, check=0).text)["akten"]]


def events(a):
    return [json.loads(line)["event"] for line in run("log", "--json", archive=a, check=0).text.splitlines()]


# ---------------------------------------------------------------- retention

def test_retention_dates_at_year_boundaries_and_leap_days(arch):
    akte(arch, "R-1231", "90.1", closed="2020-12-31")
    akte(arch, "R-0101", "90.1", closed="2021-01-01")
    akte(arch, "R-LEAP", "90.2", closed="2024-02-29")
    akte(arch, "R-DAUER", "90.3", closed="2001-01-01")
    akte(arch, "R-OPEN", "90.2")
    assert rshow(arch, "R-1231")["end"] == "2030-12-31" and rshow(arch, "R-1231")["due_from"] == "2031-01-01"
    assert rshow(arch, "R-0101")["end"] == "2031-12-31"
    leap = rshow(arch, "R-LEAP")
    assert (leap["end"], leap["due_from"], leap["retention"]) == ("2024-12-31", "2025-01-01", 0)
    dauer = rshow(arch, "R-DAUER")
    assert dauer["retention"] == "unbefristet" and dauer["end"] is None and not dauer["ended"]
    op = rshow(arch, "R-OPEN")
    assert op["closed_on"] is None and op["end"] is None and op["state"] == "open"
    # due strictly after the end date
    assert due(arch, "2024-12-31") == []
    assert due(arch, "2025-01-01") == ["R-LEAP"]
    assert due(arch, "2030-12-31") == ["R-LEAP"]
    assert due(arch, "2031-01-01") == ["R-1231", "R-LEAP"]
    assert due(arch, "2032-01-01") == ["R-1231", "R-0101", "R-LEAP"]
    assert "R-DAUER" not in due(arch, "2999-01-01") and "R-OPEN" not in due(arch, "2999-01-01")
    # how it was derived, in words
    t = run("retention", "show", "R-1231", archive=arch, check=0).text
    assert "10 years, from Aktenplan code 90.1" in t and "2030-12-31" in t and "2031-01-01" in t
    assert "open Akten never expire" in run("retention", "show", "R-OPEN", archive=arch, check=0).text
    assert "never (unbefristet)" in run("retention", "show", "R-DAUER", archive=arch, check=0).text
    r = run("retention", "due", "--at", "2025-02-30", archive=arch)
    assert r.code == 2 and "2025-02-30" in r.error


def test_retention_set_by_records_manager(arch):
    akte(arch, "R-SET", "90.1", closed="2020-06-30")
    run("retention", "set", "R-SET", "--years", "3", "--reason", "Ratsbeschluss 12/2026", archive=arch, check=0)
    r = rshow(arch, "R-SET")
    assert (r["retention"], r["plan_retention"], r["end"]) == (3, 10, "2023-12-31")
    seq = r["set_by"]
    ev = events(arch)[seq]
    assert ev["action"] == "retention-set" and ev["retention"] == 3 and ev["reason"] == "Ratsbeschluss 12/2026"
    assert f"set by event {seq}" in run("retention", "show", "R-SET", archive=arch, check=0).text
    assert due(arch, "2024-01-01") == ["R-SET"]
    run("retention", "set", "R-SET", "--unbefristet", "--reason", "historisch bedeutsam", archive=arch, check=0)
    assert rshow(arch, "R-SET")["retention"] == "unbefristet" and due(arch, "2999-01-01") == []
    assert events(arch)[-1]["retention"] == "unbefristet"
    # reindex rebuilds it from the journal
    run("reindex", archive=arch, check=0)
    assert rshow(arch, "R-SET")["retention"] == "unbefristet"
    # usage errors
    assert run("retention", "set", "R-SET", "--years", "201", "--reason", "x", archive=arch).code == 2
    assert run("retention", "set", "R-SET", "--years", "5", archive=arch).code == 2
    assert run("retention", "set", "NOPE", "--years", "5", "--reason", "x", archive=arch).code == 3
    r = run("retention", "set", "R-SET", "--years", "5", "--reason", "zwei\nZeilen", archive=arch)
    assert r.code == 2 and "control character" in r.error


def test_holds(arch):
    akte(arch, "H-1", "90.1", closed="2000-01-01")
    h1 = int(run("hold", "set", "H-1", "--reason", "Klage anhaengig", "--case", "VG 1 K 2/20", archive=arch, check=0).text)
    h2 = int(run("hold", "set", "H-1", "--reason", "Pruefung Rechnungshof", archive=arch, check=0).text)
    holds = json.loads(run("hold", "ls", "--json", archive=arch, check=0).text)["holds"]
    assert [h["id"] for h in holds] == [h1, h2] and holds[0]["case"] == "VG 1 K 2/20"
    assert [h["id"] for h in json.loads(run("retention", "due", "--at", "2020-01-01", "--json", archive=arch,
                                            check=0).text)["akten"][0]["holds"]] == [h1, h2]
    run("hold", "release", "H-1", "--hold", h1, "--reason", "Verfahren beendet", archive=arch, check=0)
    r = run("hold", "release", "H-1", "--hold", h1, "--reason", "nochmal", archive=arch)
    assert r.code == 4 and "already released" in r.error
    r = run("hold", "release", "H-1", "--hold", 999, "--reason", "x", archive=arch)
    assert r.code == 3 and "no hold 999" in r.error
    assert [h["id"] for h in json.loads(run("hold", "ls", "H-1", "--json", archive=arch, check=0).text)["holds"]] == [h2]
    every = json.loads(run("hold", "ls", "--all", "--json", archive=arch, check=0).text)["holds"]
    assert every[0]["released_seq"] is not None and every[0]["release_reason"] == "Verfahren beendet"
    assert "Pruefung Rechnungshof" in run("hold", "ls", archive=arch, check=0).text
    # the index rebuilt from the journal alone gives the same answers
    before = [run(*q, archive=arch, check=0).text for q in (["hold", "ls", "--all", "--json"],
                                                           ["retention", "due", "--at", "2020-01-01", "--json"])]
    run("reindex", archive=arch, check=0)
    assert before == [run(*q, archive=arch, check=0).text for q in (["hold", "ls", "--all", "--json"],
                                                                   ["retention", "due", "--at", "2020-01-01", "--json"])]


# ---------------------------------------------------------------- refusals

def refused(r, *words):
    """Exit 4 with every word in the message (a conftest Result or a CompletedProcess)."""
    code, error = (r.code, r.error) if hasattr(r, "code") else (r.returncode, r.stderr)
    assert code == 4, r
    for w in words:
        assert w in error, (w, error)


def test_every_refusal(arch, users):
    akte(arch, "X-OPEN", "90.1")
    akte(arch, "X-EARLY", "90.1", closed="2025-03-01")
    akte(arch, "X-HELD", "90.1", closed="2000-01-01")
    akte(arch, "X-A", "90.4", closed="2000-01-01")
    akte(arch, "X-B", "90.5", closed="2000-01-01")
    akte(arch, "X-DAUER", "90.3", closed="2000-01-01")
    akte(arch, "X-OK", "90.1", closed="2000-01-01")
    n = len(events(arch))
    refused(run("dispose", "propose", "X-OPEN", "--reason", "Frist", archive=arch), "X-OPEN is open", "never expire")
    refused(run("dispose", "propose", "X-EARLY", "--reason", "Frist", archive=arch), "ends on 2035-12-31", "2036-01-01")
    hold = run("hold", "set", "X-HELD", "--reason", "Klage", archive=arch, check=0).text.strip()
    n += 1
    refused(run("dispose", "propose", "X-HELD", "--reason", "Frist", archive=arch), f"legal hold {hold}", "Klage")
    refused(run("dispose", "propose", "X-A", "--reason", "Frist", archive=arch), "archival value A", "eakte export X-A")
    refused(run("dispose", "propose", "X-B", "--reason", "Frist", archive=arch), "archival value B", "eakte export X-B")
    refused(run("dispose", "propose", "X-DAUER", "--reason", "Frist", archive=arch), "unbefristet")
    refused(run("dispose", "approve", "4711", archive=arch), "no disposal proposal 4711")
    # refusals are not journaled
    assert len(events(arch)) == n
    p = int(run("dispose", "propose", "X-OK", "--reason", "Frist abgelaufen", archive=arch, check=0).text)
    refused(run("dispose", "propose", "X-OK", "--reason", "nochmal", archive=arch), f"open disposal proposal already ({p})")
    # the same person: root proposed, root approves
    refused(run("dispose", "approve", p, archive=arch), "four-eyes", "unix:0:")
    # a hold set after the proposal blocks the approval
    h = run("hold", "set", "X-OK", "--reason", "Auskunftsersuchen", archive=arch, check=0).text.strip()
    refused(as_user("eakte-t-rec2", "dispose", "approve", p, archive=arch), f"legal hold {h}")
    run("hold", "release", "X-OK", "--hold", h, "--reason", "erledigt", archive=arch, check=0)
    # reopened and closed again since: the proposal is stale
    run("akte", "reopen", "X-OK", archive=arch, check=0)
    refused(as_user("eakte-t-rec2", "dispose", "approve", p, archive=arch), f"proposal {p} is older", "reopening")
    run("akte", "close", "X-OK", "--date", "2000-01-02", archive=arch, check=0)
    refused(as_user("eakte-t-rec2", "dispose", "approve", p, archive=arch), f"proposal {p} is older", "zdA")
    assert json.loads(run("dispose", "ls", "--json", archive=arch, check=0).text)["proposals"][0]["stale"] is True
    p2 = int(run("dispose", "propose", "X-OK", "--reason", "Frist abgelaufen", archive=arch, check=0).text)
    seq = int(as_user("eakte-t-rec2", "dispose", "approve", p2, archive=arch).stdout)
    refused(as_user("eakte-t-rec2", "dispose", "approve", p2, archive=arch), "already approved", f"event {seq}")
    refused(run("dispose", "propose", "X-OK", "--reason", "nochmal", archive=arch), "already disposed of")
    d = events(arch)[seq]
    assert d["action"] == "dispose" and d["proposal"] == p2 and d["proposed_by"].startswith("unix:0:")
    assert d["actor"] == f"unix:{uid('eakte-t-rec2')}:eakte-t-rec2" and d["value"] == "V" and "export" not in d
    assert d["retention_end"] == "2010-12-31" and d["reason"] == "Frist abgelaufen"
    # a disposed Akte takes nothing and cannot be reopened
    (arch.parent / "x.txt").write_text("neu\n")
    refused(run("file", arch.parent / "x.txt", "--akte", "X-OK", archive=arch), "disposed of by event")
    refused(run("akte", "reopen", "X-OK", archive=arch), "disposed of by event")
    refused(run("hold", "set", "X-OK", "--reason", "zu spaet", archive=arch), "disposed of")
    assert run("verify", archive=arch).code == 0


# The hotfolder actor (only eakted's hotfolders have one) is refused in
# tests/unit/test_lifecycle.c, through the library: loading libeakte into
# Python with ctypes would not work in the sanitizer builds.


# ---------------------------------------------------------------- removal

def markers(n):
    return [f"Qz{secrets.token_hex(10)}" for _ in range(n)]


def store_leaks(archive, marks):
    """Every place a marker (or the tail of its lower-case form, as the
    full-text index may store it prefix-compressed) still occurs."""
    needles = {m: [m.encode(), m.lower().encode(), m.lower()[-12:].encode()] for m in marks}
    found = []

    def look(where, data):
        for m, ns in needles.items():
            if any(n in data for n in ns):
                found.append((where, m))

    for p in archive.rglob("*"):
        if not p.is_file():
            continue
        data = p.read_bytes()
        look(f"raw {p}", data)
        if p.parent.parent.name == "objects" and len(p.parent.name) == 2:
            look(f"loose {p}", zlib.decompress(data))
    out = subprocess.run(["git", "-c", "safe.directory=*", "-C", str(archive / "store.git"), "cat-file",
                          "--batch-all-objects", "--batch"], capture_output=True, check=True).stdout
    look("cat-file --batch-all-objects", out)
    return found


def file_doc(a, az, path, *extra):
    return run("file", path, "--akte", az, *extra, archive=a, check=0).text.strip()


def test_disposal_removes_every_byte(arch, users, tmp_path):
    marks = markers(9)
    keep = markers(2)
    akte(arch, "D-1", "90.1", title=f"Bauakte {marks[0]}")
    run("akte", "create", "--vorgang", "D-1", "--title", f"Vorgang {marks[1]}", archive=arch, check=0)
    akte(arch, "K-1", "90.1", title=f"Bleibt {keep[0]}")
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text(f"Antrag von {marks[2]} auf Genehmigung\n", encoding="utf-8")
    (src / "a2.txt").write_text(f"Zweite Fassung {marks[3]}\n", encoding="utf-8")
    (src / "scan.pdf").write_bytes(b"%PDF-1.4\n" + f"stored uncompressed {marks[4]}".encode() + os.urandom(3000) + b"\n%%EOF\n")
    (src / "b.txt").write_text(f"Notiz {marks[5]}\n", encoding="utf-8")
    (src / "shared.txt").write_text(f"in beiden Akten {keep[1]}\n", encoding="utf-8")
    (src / "k.txt").write_text(f"Bleibt {keep[1]} erhalten\n", encoding="utf-8")
    d1 = file_doc(arch, "D-1", src / "a.txt", "--title", f"Titel {marks[6]}", "--meta", f"absender={marks[7]}")
    run("file", "--new-version-of", d1, src / "a2.txt", archive=arch, check=0)
    d2 = file_doc(arch, "D-1", src / "scan.pdf", "--vorgang", "1")
    d3 = file_doc(arch, "D-1", src / "b.txt")
    run("meta", "set", d3, f"bemerkung={marks[8]}", archive=arch, check=0)
    d4 = file_doc(arch, "D-1", src / "shared.txt")
    k1 = file_doc(arch, "K-1", src / "k.txt")
    k2 = file_doc(arch, "K-1", src / "shared.txt")
    run("akte", "close", "D-1", "--date", "2001-05-05", archive=arch, check=0)
    before = store_leaks(arch, marks)
    # the scan finds them where they are: loose objects, packs, the index
    for where in ("loose ", "cat-file", "index.sqlite"):
        assert any(where in w for w, _ in before), (where, before)
    assert {m for _, m in before} == set(marks)
    assert json.loads(run("search", marks[3], "--json", archive=arch, check=0).text)["total"] == 1
    p = run("dispose", "propose", "D-1", "--reason", "Aufbewahrungsfrist abgelaufen", archive=arch, check=0).text.strip()
    r = as_user("eakte-t-rec1", "dispose", "approve", p, archive=arch)
    assert r.returncode == 0, r.stderr
    seq = int(r.stdout)
    ev = events(arch)[seq]
    removed = ev["removed"]
    assert sorted((x["doc"], x["version"]) for x in removed["docs"]) == sorted(
        [(d1, 1), (d1, 2), (d2, 1), (d3, 1), (d4, 1)])
    assert len(removed["metas"]) == 3   # akte-create, vorgang-create, one meta event
    leaks = store_leaks(arch, marks)
    assert leaks == [], leaks
    assert all(m not in json.dumps(ev) for m in marks)
    # the other Akte and the content it shares are intact
    assert keep[1] in run("get", k2, archive=arch, check=0).text
    assert keep[1] in run("get", k1, archive=arch, check=0).text
    assert store_leaks(arch, keep)
    for d in (d1, d2, d3, d4):
        g = run("get", d, archive=arch)
        assert g.code == 3 and f"disposed of on" in g.error and f"by event {seq} (proposal {p}" in g.error, g
        s = run("show", d, archive=arch)
        assert s.code == 3 and f"by event {seq}" in s.error
    for args in (["meta", "set", d3, "x=y"], ["file", "--new-version-of", d1, src / "b.txt"]):
        r = run(*args, archive=arch)
        assert r.code == 3 and f"by event {seq}" in r.error, (args, r)
    a = json.loads(run("akte", "show", "D-1", "--json", archive=arch, check=0).text)
    assert a["disposed"]["seq"] == seq and a["documents"] == [] and a["vorgaenge"] == [] and a["title"] == ""
    assert f"event {seq}" in run("akte", "show", "D-1", archive=arch, check=0).text
    assert json.loads(run("search", marks[3], "--json", archive=arch, check=0).text)["total"] == 0
    assert run("verify", archive=arch).code == 0
    fsck = subprocess.run(["git", "-c", "safe.directory=*", "-C", str(arch / "store.git"), "fsck", "--full", "--strict"],
                          capture_output=True, text=True)
    assert fsck.returncode == 0 and "error" not in fsck.stderr and "missing" not in fsck.stdout, fsck
    # the auditor's tools (git, openssl, sha256sum and journal.py) agree
    audit = subprocess.run(["bash", str(SOURCE_ROOT / "docs" / "auditor" / "audit.sh"), str(arch)],
                           capture_output=True, text=True)
    assert audit.returncode == 0 and "AUDIT OK" in audit.stdout, audit
    # a rebuilt index agrees, and brings nothing back
    run("reindex", archive=arch, check=0)
    assert run("verify", archive=arch).code == 0
    assert store_leaks(arch, marks) == []
    assert run("get", d1, archive=arch).code == 3


def test_missing_object_without_dispose_event_still_fails(arch, users, tmp_path):
    akte(arch, "M-1", "90.1")
    akte(arch, "M-2", "90.1", closed="2000-01-01")
    (tmp_path / "x.txt").write_text("Vermerk eins\n")
    (tmp_path / "y.txt").write_text("Vermerk zwei\n")
    keep = file_doc(arch, "M-1", tmp_path / "x.txt")
    run("file", tmp_path / "y.txt", "--akte", "M-1", archive=arch, check=0)
    p = run("dispose", "propose", "M-2", "--reason", "Frist", archive=arch, check=0).text.strip()
    assert as_user("eakte-t-rec1", "dispose", "approve", p, archive=arch).returncode == 0
    assert run("verify", archive=arch).code == 0
    oid = json.loads(run("show", keep, "--json", archive=arch, check=0).text)
    blob = next(e for e in events(arch) if e.get("doc") == keep)["content"]["oid"]
    (arch / "store.git" / "objects" / blob[:2] / blob[2:]).unlink()
    v = run("verify", archive=arch)
    assert v.code == 1 and "no disposal event records its removal" in v.text + v.error, (oid, v)


def crash_env(n):
    # (an ASan build: the shim comes before the sanitizer runtime on purpose)
    return {"LD_PRELOAD": SHIM, "EAKTE_FAULT_CLASS": "write,fsync,rename,open,mmap", "EAKTE_FAULT_N": str(n),
            "EAKTE_FAULT_MODE": "crash", "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}


def test_crash_after_commit_point_is_finished_by_next_writer(arch, users, tmp_path):
    marks = markers(2)
    akte(arch, "C-1", "90.1", title=f"Akte {marks[0]}")
    (tmp_path / "c.txt").write_text(f"Inhalt {marks[1]}\n")
    doc = file_doc(arch, "C-1", tmp_path / "c.txt")
    blob = next(e for e in events(arch) if e.get("doc") == doc)["content"]["oid"]
    run("akte", "close", "C-1", "--date", "2000-01-01", archive=arch, check=0)
    p = run("dispose", "propose", "C-1", "--reason", "Frist", archive=arch, check=0).text.strip()
    n_before = len(events(arch))

    def attempt(n):
        w = tmp_path / f"w{n}"
        shutil.rmtree(w, ignore_errors=True)
        shutil.copytree(arch, w)
        r = as_user("eakte-t-rec1", "dispose", "approve", p, archive=w, env=crash_env(n))
        return w, r

    def first_crash(committed):
        """The smallest crash point after which committed(archive) holds."""
        lo, hi = 1, 4000
        w, r = attempt(hi)
        assert r.returncode == 0, ("more I/O calls than expected", r.stderr)
        shutil.rmtree(w)
        while lo < hi:
            mid = (lo + hi) // 2
            w, r = attempt(mid)
            assert r.returncode in (0, 137), r
            if committed(w):
                hi = mid
            else:
                lo = mid + 1
            shutil.rmtree(w)
        w, r = attempt(lo)
        assert r.returncode == 137 and committed(w), r
        return w

    obj = Path("store.git") / "objects" / blob[:2] / blob[2:]
    # 1. right after the commit point (the journal ref moved, nothing else):
    # the state lags, verify passes, the next writer repairs and removes
    w = first_crash(lambda w: len(events(w)) > n_before)
    assert (w / obj).exists()
    assert run("verify", archive=w).code == 0
    run("akte", "create", "--plan", "90.1", "--az", "NEXT-1", archive=w, check=0)
    assert not (w / obj).exists() and store_leaks(w, marks) == []
    assert run("get", doc, archive=w).code == 3
    assert run("verify", archive=w).code == 0
    # 2. the state moved too (get says disposed), the removal had not finished
    w = first_crash(lambda w: run("get", doc, archive=w).code == 3)
    assert (w / obj).exists()
    assert run("verify", archive=w).code == 0
    run("akte", "create", "--plan", "90.1", "--az", "NEXT-1", archive=w, check=0)
    assert not (w / obj).exists()
    assert store_leaks(w, marks) == []
    assert run("verify", archive=w).code == 0
    fsck = subprocess.run(["git", "-c", "safe.directory=*", "-C", str(w / "store.git"), "fsck", "--full"],
                          capture_output=True, text=True)
    assert fsck.returncode == 0, fsck


# ---------------------------------------------------------------- daemon

class Daemon:
    def __init__(self, archive, sock, roles):
        args = [EAKTED, "--archive", str(archive), "--socket", str(sock)]
        for r in roles:
            args += ["--role", r]
        self.sock = sock
        self.log = open(Path(sock).parent / "eakted.log", "ab")
        self.p = subprocess.Popen(args, stderr=self.log)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(str(sock))
                s.close()
                os.chmod(sock, 0o666)
                return
            except OSError:
                assert self.p.poll() is None, "eakted exited"
                time.sleep(0.02)
        raise AssertionError("eakted did not start listening")

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        rc = self.p.wait(timeout=60)
        self.log.close()
        return rc


def test_four_eyes_through_the_daemon(arch, users, tmp_path):
    akte(arch, "S-1", "90.1", closed="2000-01-01")
    akte(arch, "S-A", "90.4", closed="2000-01-01")
    pub = Path(tempfile.mkdtemp(prefix="eakte-life-"))
    os.chmod(pub, 0o755)
    d = Daemon(arch, pub / "s", ["eakte-tg-rec1=records", "eakte-tg-rec2=records", "eakte-tg-read=reader"])
    try:
        # the same answers as embedded
        for args in (["retention", "show", "S-1"], ["retention", "show", "S-1", "--json"],
                     ["retention", "due", "--at", "2020-01-01", "--json"], ["hold", "ls", "--all", "--json"]):
            r = as_user("eakte-t-read", *args, socket_path=pub / "s")
            assert r.returncode == 0 and r.stdout == run(*args, archive=arch, check=0).text, (args, r.stderr)
        # a reader may not set holds or propose (journaled as a refusal)
        r = as_user("eakte-t-read", "hold", "set", "S-1", "--reason", "x", socket_path=pub / "s")
        assert r.returncode == 4 and "records" in r.stderr
        assert events(arch)[-1]["action"] == "refused"
        h = as_user("eakte-t-rec1", "hold", "set", "S-1", "--reason", "Pruefung", socket_path=pub / "s")
        assert h.returncode == 0, h.stderr
        r = as_user("eakte-t-rec1", "dispose", "propose", "S-1", "--reason", "Frist", socket_path=pub / "s")
        assert r.returncode == 4 and f"legal hold {h.stdout.strip()}" in r.stderr
        assert as_user("eakte-t-rec2", "hold", "release", "S-1", "--hold", h.stdout.strip(), "--reason", "erledigt",
                       socket_path=pub / "s").returncode == 0
        r = as_user("eakte-t-rec1", "dispose", "propose", "S-A", "--reason", "Frist", socket_path=pub / "s")
        assert r.returncode == 4 and "archival value A" in r.stderr
        p = as_user("eakte-t-rec1", "dispose", "propose", "S-1", "--reason", "Frist abgelaufen", socket_path=pub / "s")
        assert p.returncode == 0, p.stderr
        prop = p.stdout.strip()
        r = as_user("eakte-t-rec1", "dispose", "approve", prop, socket_path=pub / "s")
        assert r.returncode == 4 and "four-eyes" in r.stderr and "eakte-t-rec1" in r.stderr
        assert "S-1" in as_user("eakte-t-read", "dispose", "ls", socket_path=pub / "s").stdout
        r = as_user("eakte-t-rec2", "dispose", "approve", prop, socket_path=pub / "s")
        assert r.returncode == 0, r.stderr
        ev = events(arch)[int(r.stdout)]
        assert ev["proposed_by"] == f"unix:{uid('eakte-t-rec1')}:eakte-t-rec1"
        assert ev["actor"] == f"unix:{uid('eakte-t-rec2')}:eakte-t-rec2"
        r = as_user("eakte-t-read", "akte", "show", "S-1", socket_path=pub / "s")
        assert r.returncode == 0 and f"by event {ev['seq']}" in r.stdout
    finally:
        assert d.stop() == 0
        shutil.rmtree(pub, ignore_errors=True)
    assert run("verify", archive=arch).code == 0


def test_json_outputs_match_their_schemas(arch, users):
    from test_schemas import validator
    akte(arch, "J-1", "90.1", closed="2000-01-01")
    akte(arch, "J-2", "90.3")
    run("retention", "set", "J-1", "--years", "2", "--reason", "Beschluss", archive=arch, check=0)
    h = run("hold", "set", "J-1", "--reason", "Pruefung", "--case", "Az 5", archive=arch, check=0).text.strip()
    run("hold", "release", "J-1", "--hold", h, "--reason", "erledigt", archive=arch, check=0)
    run("hold", "set", "J-1", "--reason", "zweite Pruefung", archive=arch, check=0)
    outputs = [run("retention", "show", "J-1", "--json", archive=arch, check=0).text,
               run("retention", "show", "J-2", "--json", archive=arch, check=0).text,
               run("retention", "due", "--at", "2030-01-01", "--json", archive=arch, check=0).text]
    for o in outputs:
        validator("retention-v1").validate(json.loads(o))
    for args in (["hold", "ls", "--json"], ["hold", "ls", "--all", "--json"]):
        validator("holds-v1").validate(json.loads(run(*args, archive=arch, check=0).text))
    run("hold", "release", "J-1", "--hold", int(h) + 2, "--reason", "erledigt", archive=arch, check=0)
    p = run("dispose", "propose", "J-1", "--reason", "Frist", archive=arch, check=0).text.strip()
    validator("holds-v1").validate(json.loads(run("dispose", "ls", "--json", archive=arch, check=0).text))
    assert as_user("eakte-t-rec2", "dispose", "approve", p, archive=arch).returncode == 0
    validator("retention-v1").validate(json.loads(run("retention", "show", "J-1", "--json", archive=arch, check=0).text))
    validator("akte-v1").validate(json.loads(run("akte", "show", "J-1", "--json", archive=arch, check=0).text))
    ev = [json.loads(line)["event"] for line in run("log", "--json", archive=arch, check=0).text.splitlines()]
    for e in ev:
        validator("event-v1").validate(e)
    assert {"retention-set", "hold-set", "hold-release", "dispose-propose", "dispose"} <= {e["action"] for e in ev}


# ------------------------------------------------- disposal after an export

def test_archival_value_a_and_b_disposed_only_after_an_export(arch, users, tmp_path):
    """Value A/B: an export package for the public archive must be produced
    and recorded (an `export` event after zdA) before disposal; a package
    made before zdA does not count; both the BagIt and the xdomea export do;
    a disposed Akte cannot be exported again, and its packages still verify
    on their own."""
    (tmp_path / "d.txt").write_text("Inhalt der Akte A\n")
    akte(arch, "X-A", "90.4")
    akte(arch, "X-B", "90.5")
    run("file", tmp_path / "d.txt", "--akte", "X-A", archive=arch, check=0)
    run("file", tmp_path / "d.txt", "--akte", "X-B", archive=arch, check=0)
    # exported while still open: not the final state, does not count
    run("export", "X-A", "-o", tmp_path / "early.tar", archive=arch, check=0)
    for az in ("X-A", "X-B"):
        run("akte", "close", az, "--date", "2000-01-01", archive=arch, check=0)
    refused(run("dispose", "propose", "X-A", "--reason", "Frist", archive=arch), "archival value A", "eakte export X-A")
    # after zdA: a BagIt package for X-A, an xdomea message for X-B
    run("export", "X-A", "-o", tmp_path / "a.tar", archive=arch, check=0)
    run("export", "X-B", "--xdomea", "-o", tmp_path / "b.zip", "--recipient", "Landesarchiv", archive=arch, check=0)
    exports = {e["akte"]: e["seq"] for e in events(arch) if e["action"] == "export"}
    for az in ("X-A", "X-B"):
        p = int(run("dispose", "propose", az, "--reason", "Frist abgelaufen, angeboten", archive=arch, check=0).text)
        r = as_user("eakte-t-rec2", "dispose", "approve", p, archive=arch)
        assert r.returncode == 0, r.stderr
        d = events(arch)[int(r.stdout)]
        assert d["action"] == "dispose" and d["export"] == exports[az] and d["value"] == az[-1]
    assert run("verify", archive=arch).code == 0
    r = run("export", "X-A", "-o", tmp_path / "again.tar", archive=arch)
    assert r.code in (3, 4) and "disposed" in r.error, r
    assert not (tmp_path / "again.tar").exists()
    # the packages handed over still prove themselves
    for pkg in ("a.tar", "b.zip"):
        run("verify-package", tmp_path / pkg, "--key", arch / "keys" / "note.vkey", check=0)
