"""Fault injection in the SQLite manner: fail every I/O call of an operation
in turn (once, and from that call on) and stop the process at each of them
(a crash); after every iteration the operation happened completely or not
at all, its error names what failed, verify passes, the index agrees with
the journal after catch-up, and a retry succeeds.

The shim (faultshim.c, LD_PRELOAD) counts the write, fsync, rename/link,
open and file-mmap calls of eakte, libgit2 and SQLite alike."""
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(os.environ.get("EAKTE_SOURCE_ROOT") or Path(__file__).resolve().parents[2])
EAKTE = os.environ.get("EAKTE_BIN") or str(ROOT / "build" / "cli" / "eakte")
SHIM = os.environ.get("EAKTE_FAULTSHIM") or str(ROOT / "build" / "tests" / "anomaly" / "libfaultshim.so")
IO = "write,fsync,rename,open,mmap"
MIN_POINTS = 10
RESULTS = []   # (operation, mode, points) for docs/reliability.md

ERRNO_TEXT = {"EIO": "Input/output error", "ENOSPC": "No space left on device", "EDQUOT": "Disk quota exceeded",
              "EROFS": "Read-only file system", "ENOMEM": "Cannot allocate memory"}


def run(archive, *args, fault=None, check=None):
    env = dict(os.environ)
    env.pop("EAKTE_ARCHIVE", None)
    env.pop("EAKTE_SOCKET", None)
    if fault is not None:
        env.update({k: str(v) for k, v in fault.items()})
        env["LD_PRELOAD"] = SHIM
        # an ASan build: the shim comes before the sanitizer runtime on purpose
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    p = subprocess.run([EAKTE, "--archive", str(archive), *map(str, args)], capture_output=True, env=env, timeout=300)
    if check is not None:
        assert p.returncode == check, (args, p.returncode, p.stderr.decode(errors="replace"))
    return p


def journal(archive):
    out = run(archive, "log", "--json", check=0).stdout.decode().splitlines()
    return [json.loads(line)["event"] for line in out]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    base = tmp_path_factory.mktemp("faults")
    a = base / "archive"
    subprocess.run([EAKTE, "init", str(a), "--origin", "faults.example/eakte"], check=True, capture_output=True)
    run(a, "plan", "import", ROOT / "docs" / "aktenplan.csv", check=0)
    for az in ("A-1", "A-2"):
        run(a, "akte", "create", "--plan", "32.10.02", "--az", az, check=0)
    d = base / "docs"
    d.mkdir()
    (d / "brief.txt").write_text("Sehr geehrte Frau Müller, Ihr Antrag auf Baugenehmigung ...\n", encoding="utf-8")
    (d / "v2.txt").write_text("Zweite Fassung des Antrags\n", encoding="utf-8")
    (d / "scan.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(20000) + b"\n%%EOF\n")
    (d / "notiz.txt").write_text("Telefonnotiz: Rückruf erbeten\n", encoding="utf-8")
    doc = run(a, "file", d / "brief.txt", "--akte", "A-1", check=0).stdout.decode().strip()
    return a, d, doc


def operations(d, doc):
    """name -> (arguments, events it adds)"""
    return {
        "file": (["file", d / "brief.txt", "--akte", "A-1"], 1),
        "file-batch": (["file", d / "brief.txt", d / "scan.pdf", d / "notiz.txt", "--akte", "A-2"], 3),
        "new-version": (["file", "--new-version-of", doc, d / "v2.txt"], 1),
        "meta": (["meta", "set", doc, "absender=Stadtkasse"], 1),
        "akte-close": (["akte", "close", "A-2", "--date", "2026-11-20"], 1),
        "akte-create": (["akte", "create", "--plan", "32.10.02", "--title", "Neue Akte"], 1),
        "reindex": (["reindex"], 0),
    }


def count_calls(template, args, work):
    shutil.copytree(template, work)
    rep = work.parent / "count.txt"
    rep.unlink(missing_ok=True)
    run(work, *args, fault={"EAKTE_FAULT_CLASS": IO, "EAKTE_FAULT_REPORT": rep}, check=0)
    shutil.rmtree(work)
    return int(rep.read_text().split()[-1])


def check_iteration(work, name, args, added, before, p, injected, mode, errname):
    """The checks after one failed (or crashed) attempt; returns what happened."""
    verb = args[0]
    err = p.stderr.decode(errors="replace")
    if mode == "libgit2-crash":
        # see test_allocation_failures_sampled: a crash inside libgit2
        assert p.returncode == -11, (name, injected, p.returncode, err)
    else:
        assert p.returncode >= 0, f"{name}: killed by signal {-p.returncode} at {injected}: {err}"
    if mode == "crash":
        assert p.returncode == 137, (name, injected, p.returncode, err)
    elif mode == "libgit2-crash":
        pass
    elif p.returncode != 0 and errname == "ENOMEM":
        # jansson reports an allocation that fails while it reads a string
        # as an "invalid token" (its own comment says so), and other
        # libraries are as terse: here only a message of our form is asked
        assert err.startswith(f"eakte {verb}: ") and len(err.splitlines()[0]) > 24, (name, injected, err)
    elif p.returncode != 0:
        # a clear message that names what failed
        assert err.startswith(f"eakte {verb}: ") and len(err) > len(verb) + 12, (name, injected, err)
        # "eakte VERB: STEP: DETAIL", the step being what was being done
        # (libgit2 reports a pack it could not open as "object not found",
        # so the errno itself is not always there)
        first = err.splitlines()[0]
        assert first.count(": ") >= 2 or ERRNO_TEXT[errname] in first or \
            any(w in first for w in ("cannot", "out of memory", "failed")), (name, injected, err)
    events = journal(work)
    delta = len(events) - before
    assert delta in (0, added), (name, injected, delta, err)
    if p.returncode == 0:
        assert delta == added, (name, injected, "succeeded but the events are missing")
    elif delta == added and added > 0 and mode not in ("crash", "libgit2-crash"):
        # failed after the commit point: the message must not deny it
        assert "nothing" not in err or "filed, but" in err, (name, injected, err)
    # a writer's open repairs what a crash left (state, index); then all is
    # consistent and the operation can be retried
    if delta == 0 and added > 0:
        r = run(work, *args)
        assert r.returncode == 0, (name, injected, "retry failed", r.stderr.decode(errors="replace"))
        assert len(journal(work)) - before == added
    else:
        run(work, "reindex", check=0) if name == "reindex" else run(work, "akte", "create", "--plan", "32.10.02",
                                                                       "--az", "RETRY-1", check=0)
    run(work, "search", "Antrag", check=0)          # the index catches up
    v = run(work, "verify")
    assert v.returncode == 0, (name, injected, v.stderr.decode(errors="replace"))
    return delta


MODES = [m for m in [("once", "EIO"), ("persist", "ENOSPC"), ("crash", None)]
         if m[0] in os.environ.get("EAKTE_ANOMALY_MODES", "once,persist,crash").split(",")]


@pytest.mark.parametrize("mode,errname", MODES)
@pytest.mark.parametrize("name", ["file", "file-batch", "new-version", "meta", "akte-close", "akte-create", "reindex"])
def test_every_io_call_fails_in_turn(template, tmp_path, name, mode, errname):
    a, d, doc = template
    args, added = operations(d, doc)[name]
    before = len(journal(a))
    total = count_calls(a, args, tmp_path / "count")
    points = 0
    outcomes = set()
    for n in range(1, total + 2):
        work = tmp_path / f"w{n}"
        shutil.copytree(a, work)
        rep = tmp_path / f"rep{n}"
        fault = {"EAKTE_FAULT_CLASS": IO, "EAKTE_FAULT_N": n, "EAKTE_FAULT_MODE": mode,
                 "EAKTE_FAULT_ERRNO": errname or "EIO", "EAKTE_FAULT_REPORT": rep}
        p = run(work, *args, fault=fault)
        injected = rep.exists() and "injected" in rep.read_text()
        if not injected:
            # past the last call: the operation runs through
            assert p.returncode == 0, (name, n, p.stderr.decode(errors="replace"))
            shutil.rmtree(work)
            break
        points += 1
        outcomes.add(check_iteration(work, name, args, added, before, p, rep.read_text().split()[1], mode,
                                     errname or "EIO"))
        shutil.rmtree(work)
    RESULTS.append((name, mode, points))
    with open(tmp_path.parent.parent / "fault-points.txt", "a") as f:
        f.write(f"{name} {mode} {points} of {total} calls\n")
    assert points >= MIN_POINTS, f"{name}/{mode}: only {points} failure points"
    if added > 0 and mode != "persist":
        # the loop crossed the commit point: both outcomes were seen
        assert outcomes == {0, added}, (name, mode, outcomes)


# Allocations: a filing makes about 17,000 (most in SQLite, libgit2 and
# OpenSSL), too many to fail each in turn in CI; a sample of about 120
# evenly spaced ones.  Not in sanitizer builds, whose runtime owns malloc.
ALLOC = [] if os.environ.get("EAKTE_ANOMALY_ALLOC") == "no" else ["file", "meta"]


@pytest.mark.parametrize("name", ALLOC)
def test_allocation_failures_sampled(template, tmp_path, name):
    a, d, doc = template
    args, added = operations(d, doc)[name]
    before = len(journal(a))
    shutil.copytree(a, tmp_path / "count")
    rep = tmp_path / "count.txt"
    run(tmp_path / "count", *args, fault={"EAKTE_FAULT_CLASS": "alloc", "EAKTE_FAULT_REPORT": rep}, check=0)
    total = int(rep.read_text().split()[-1])
    stride = max(1, total // 120)
    points = failed = libgit2_crashes = 0
    for n in range(1, total + 1, stride):
        work = tmp_path / f"w{n}"
        shutil.copytree(a, work)
        rep = tmp_path / f"rep{n}"
        p = run(work, *args, fault={"EAKTE_FAULT_CLASS": "alloc", "EAKTE_FAULT_N": n, "EAKTE_FAULT_MODE": "once",
                                    "EAKTE_FAULT_ERRNO": "ENOMEM", "EAKTE_FAULT_REPORT": rep})
        if rep.exists() and "injected" in rep.read_text():
            points += 1
            failed += p.returncode != 0
            head = rep.read_text().splitlines()[0]
            # libgit2 1.5.1 dereferences some failed allocations (e.g. in
            # git_reference__alloc): the process dies there.  That is a
            # crash like any other for the archive, which must come through
            # it intact; the crash itself is libgit2's (docs/reliability.md).
            mode = "libgit2-crash" if p.returncode == -11 and "libgit2" in head else "once"
            libgit2_crashes += mode == "libgit2-crash"
            check_iteration(work, name, args, added, before, p, head.split()[1], mode, "ENOMEM")
        shutil.rmtree(work)
    with open(tmp_path.parent.parent / "fault-points.txt", "a") as f:
        f.write(f"{name} alloc {points} sampled of {total} allocations, {failed} failed "
                f"({libgit2_crashes} of them crashes inside libgit2)\n")
    assert points >= MIN_POINTS, f"{name}/alloc: only {points} failure points"


# Disposal (issue 5): every I/O call of `dispose approve` fails in turn, or
# the process crashes there.  Afterwards (and after the next writer, which
# finishes an interrupted removal) the Akte is disposed of completely or not
# at all: with the dispose event in the journal, no byte of its documents
# is left in store.git; without it, every document is still there.

DISPOSE_MARK = "QzFaultMarker7c1e"


PROPOSER = ("eakte-t-fproposer", "eakte-tg-fproposer")


@pytest.fixture(scope="module")
def dispose_template(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.fail("the dispose loop needs root to create a second Unix user (CI runs as root)")
    user, group = PROPOSER
    subprocess.run(["userdel", user], capture_output=True)
    subprocess.run(["groupdel", group], capture_output=True)
    subprocess.run(["groupadd", "--system", group], check=True)
    subprocess.run(["useradd", "--system", "--no-create-home", "-g", group, user], check=True)
    base = tmp_path_factory.mktemp("dispose-faults")
    a = base / "archive"
    subprocess.run([EAKTE, "init", str(a), "--origin", "faults.example/eakte"], check=True, capture_output=True)
    run(a, "plan", "import", ROOT / "docs" / "aktenplan.csv", check=0)
    run(a, "akte", "create", "--plan", "32.10.01", "--az", "V-1", "--title", f"Akte {DISPOSE_MARK}", check=0)
    run(a, "akte", "create", "--plan", "32.10.01", "--az", "K-1", check=0)
    d = base / "docs"
    d.mkdir()
    (d / "a.txt").write_text(f"Antrag {DISPOSE_MARK}\n")
    (d / "b.pdf").write_bytes(b"%PDF-1.4\n" + DISPOSE_MARK.encode() + os.urandom(5000) + b"\n%%EOF\n")
    (d / "a2.txt").write_text(f"Zweite Fassung {DISPOSE_MARK}\n")
    (d / "k.txt").write_text("bleibt\n")
    doc = run(a, "file", d / "a.txt", d / "b.pdf", "--akte", "V-1", "--title", f"T {DISPOSE_MARK}",
              check=0).stdout.decode().split()
    run(a, "file", "--new-version-of", doc[0], d / "a2.txt", check=0)
    run(a, "file", d / "k.txt", "--akte", "K-1", check=0)
    run(a, "akte", "close", "V-1", "--date", "2000-01-01", check=0)
    # the first of the four eyes is another Unix user (with CAP_DAC_OVERRIDE
    # for root's archive); the approver in the loop is root
    env = dict(os.environ)
    env.pop("EAKTE_ARCHIVE", None)
    p = subprocess.run(["setpriv", f"--reuid={user}", f"--regid={group}", "--init-groups", "--inh-caps=+dac_override",
                        "--ambient-caps=+dac_override", EAKTE, "--archive", str(a), "dispose", "propose", "V-1",
                        "--reason", "Frist abgelaufen"], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    oids = [e["content"]["oid"] for e in journal(a) if e["action"] == "file" and e["akte"] == "V-1"]
    yield a, int(p.stdout), oids
    subprocess.run(["userdel", user], capture_output=True)
    subprocess.run(["groupdel", group], capture_output=True)


def disposal_state(work, oids):
    """'done' (event, nothing left), 'none' (no event, all there), or what is wrong."""
    ev = [e for e in journal(work) if e["action"] == "dispose"]
    objs = work / "store.git" / "objects"
    present = [o for o in oids if (objs / o[:2] / o[2:]).exists()]
    dump = subprocess.run(["git", "-C", str(work / "store.git"), "cat-file", "--batch-all-objects", "--batch"],
                          capture_output=True).stdout
    leaked = DISPOSE_MARK.encode() in dump or any(
        DISPOSE_MARK.encode() in p.read_bytes() for p in work.rglob("*") if p.is_file())
    if ev:
        return "done" if not present and not leaked else f"disposed, but left {present} leaked={leaked}"
    return "none" if len(present) == len(oids) else f"not disposed, but objects are gone: {present}"


@pytest.mark.parametrize("mode,errname", MODES)
def test_dispose_every_io_call_fails_in_turn(dispose_template, tmp_path, mode, errname):
    a, prop, oids = dispose_template
    args, added = ["dispose", "approve", prop], 1
    before = len(journal(a))
    total = count_calls(a, args, tmp_path / "count")
    points = 0
    outcomes = set()
    for n in range(1, total + 2):
        work = tmp_path / f"w{n}"
        shutil.copytree(a, work)
        rep = tmp_path / f"rep{n}"
        fault = {"EAKTE_FAULT_CLASS": IO, "EAKTE_FAULT_N": n, "EAKTE_FAULT_MODE": mode,
                 "EAKTE_FAULT_ERRNO": errname or "EIO", "EAKTE_FAULT_REPORT": rep}
        p = run(work, *args, fault=fault)
        injected = rep.exists() and "injected" in rep.read_text()
        if not injected:
            assert p.returncode == 0, (n, p.stderr.decode(errors="replace"))
            assert disposal_state(work, oids) == "done"
            shutil.rmtree(work)
            break
        points += 1
        # check_iteration runs the next writer (a retry, or `akte create`)
        outcomes.add(check_iteration(work, "dispose", args, added, before, p, rep.read_text().split()[1], mode,
                                     errname or "EIO"))
        state = disposal_state(work, oids)
        assert state == "done", (n, mode, state, p.stderr.decode(errors="replace"))
        shutil.rmtree(work)
    with open(tmp_path.parent.parent / "fault-points.txt", "a") as f:
        f.write(f"dispose {mode} {points} of {total} calls\n")
    assert points >= MIN_POINTS, f"dispose/{mode}: only {points} failure points"
    if mode != "persist":
        assert outcomes == {0, added}, (mode, outcomes)


# Export and import (issue 5): every I/O call fails in turn, or the process
# crashes there.
#   export: the package appears only complete (an unnamed file linked into
#   place), and is journaled after it: afterwards there is no file and no
#   event, or a file that verifies without its event (a failure between the
#   two, which the docs allow: disposal only ever relies on an event), or
#   both, the event naming the file's SHA-256.  No temporary file is left.
#   import: the package's events are in the journal completely or not at
#   all; a retry after "not at all" succeeds.

def export_import_templates(template, base):
    a, d, doc = template
    pkg = base / "a1.tar"
    if not pkg.exists():
        run(a, "export", "A-1", "-o", pkg, check=0)
    target = base / "target"
    if not target.exists():
        subprocess.run([EAKTE, "init", str(target), "--origin", "other.example/eakte"], check=True, capture_output=True)
        run(target, "plan", "import", ROOT / "docs" / "aktenplan.csv", check=0)
    return pkg, target


@pytest.mark.parametrize("mode,errname", MODES)
@pytest.mark.parametrize("name", ["export", "import"])
def test_export_and_import_fail_in_turn(template, tmp_path_factory, tmp_path, name, mode, errname):
    a, d, doc = template
    pkg, target = export_import_templates(template, tmp_path_factory.getbasetemp())
    src = a if name == "export" else target
    before = len(journal(src))
    imported = None
    if name == "import":
        shutil.copytree(target, tmp_path / "probe")
        run(tmp_path / "probe", "import", pkg, check=0)
        imported = len(journal(tmp_path / "probe")) - before
        shutil.rmtree(tmp_path / "probe")
    points, outcomes = 0, set()
    for n in range(1, 100000):
        work = tmp_path / f"w{n}"
        out = tmp_path / f"out{n}"
        out.mkdir()
        shutil.copytree(src, work)
        rep = tmp_path / f"rep{n}"
        fault = {"EAKTE_FAULT_CLASS": IO, "EAKTE_FAULT_N": n, "EAKTE_FAULT_MODE": mode,
                 "EAKTE_FAULT_ERRNO": errname or "EIO", "EAKTE_FAULT_REPORT": rep}
        args = ["export", "A-1", "-o", out / "p.tar"] if name == "export" else ["import", pkg]
        p = run(work, *args, fault=fault)
        err = p.stderr.decode(errors="replace")
        injected = rep.exists() and "injected" in rep.read_text()
        if not injected:
            assert p.returncode == 0, (name, n, err)
            shutil.rmtree(work)
            break
        points += 1
        assert p.returncode >= 0, f"{name}: killed by signal {-p.returncode} at call {n}: {err}"
        if mode == "crash":
            assert p.returncode == 137, (name, n, p.returncode, err)
        elif p.returncode != 0:
            assert err.startswith(f"eakte {name}: ") and len(err) > 20, (name, n, err)
        events = journal(work)
        delta = len(events) - before
        if name == "export":
            files = sorted(x.name for x in out.iterdir())
            assert files in ([], ["p.tar"]), (n, files, err)
            assert delta in (0, 1), (n, delta, err)
            if files:
                vp = subprocess.run([EAKTE, "verify-package", str(out / "p.tar")], capture_output=True)
                assert vp.returncode == 0, (n, vp.stderr.decode(errors="replace"))
            if delta == 1:
                assert files and events[-1]["action"] == "export", (n, err)
                assert events[-1]["package"]["sha256"] == hashlib.sha256((out / "p.tar").read_bytes()).hexdigest()
            if p.returncode == 0:
                assert files and delta == 1, (n, "succeeded without the package or its event")
            outcomes.add((bool(files), delta))
        else:
            assert delta in (0, imported), (n, delta, err)
            if p.returncode == 0:
                assert delta == imported, (n, "succeeded but the events are missing")
            if delta == 0:
                r = run(work, "import", pkg)
                assert r.returncode == 0, (n, "retry failed", r.stderr.decode(errors="replace"))
            outcomes.add(delta)
        v = run(work, "verify")
        assert v.returncode == 0, (name, n, v.stderr.decode(errors="replace"))
        shutil.rmtree(work)
        shutil.rmtree(out)
    RESULTS.append((name, mode, points))
    with open(tmp_path.parent.parent / "fault-points.txt", "a") as f:
        f.write(f"{name} {mode} {points} calls\n")
    assert points >= MIN_POINTS, f"{name}/{mode}: only {points} failure points"
    if mode != "persist":
        # the loop crossed the commit point: both outcomes were seen
        if name == "export":
            assert (False, 0) in outcomes and (True, 1) in outcomes, outcomes
        else:
            assert outcomes == {0, imported}, outcomes
