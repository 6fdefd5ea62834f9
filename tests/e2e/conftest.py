"""Shared fixtures of the end-to-end tests: they drive the real eakte binary."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

EAKTE = os.environ.get("EAKTE_BIN") or str(Path(__file__).resolve().parents[2] / "build" / "cli" / "eakte")
SOURCE_ROOT = Path(os.environ.get("EAKTE_SOURCE_ROOT") or Path(__file__).resolve().parents[2])


class Result:
    def __init__(self, p):
        self.code = p.returncode
        self.out = p.stdout
        self.err = p.stderr

    @property
    def text(self):
        return self.out.decode("utf-8", "replace")

    @property
    def error(self):
        return self.err.decode("utf-8", "replace")

    def __repr__(self):
        return f"<exit {self.code} out={self.out[:300]!r} err={self.err[:500]!r}>"


def run(*args, archive=None, input=None, env=None, check=None, timeout=600):
    cmd = [EAKTE]
    if archive is not None:
        cmd += ["--archive", str(archive)]
    cmd += [str(a) if not isinstance(a, bytes) else a for a in args]
    e = dict(os.environ)
    e.pop("EAKTE_ARCHIVE", None)
    if env:
        e.update(env)
    p = subprocess.run(cmd, input=input, capture_output=True, env=e, timeout=timeout)
    r = Result(p)
    if check is not None:
        assert r.code == check, f"{cmd!r} -> {r!r}"
    return r


def git(archive, *args, check=True):
    p = subprocess.run(["git", "-C", str(Path(archive) / "store.git"), *args], capture_output=True)
    if check:
        assert p.returncode == 0, f"git {args!r}: {p.stderr!r}"
    return p


PLAN = SOURCE_ROOT / "docs" / "aktenplan.csv"


def make_akten(archive, *azs, plan="32.10.02"):
    """Create Akten with the given Aktenzeichen (filing needs them)."""
    for az in azs:
        run("akte", "create", "--plan", plan, "--az", az, "--title", f"Testakte {az}", archive=archive, check=0)


@pytest.fixture
def archive(tmp_path):
    a = tmp_path / "archive"
    run("init", a, "--origin", "test.musterstadt.de/eakte", check=0)
    run("plan", "import", PLAN, archive=a, check=0)
    make_akten(a, "32.10.02-2026/0007", "32.10.02-2026/0008", "A-1", "A-2")
    return a


@pytest.fixture
def bare_archive(tmp_path):
    """An archive just after init: the genesis event only."""
    a = tmp_path / "bare"
    run("init", a, "--origin", "test.musterstadt.de/eakte", check=0)
    return a


def journal_size(archive):
    return len(run("log", "--json", archive=archive, check=0).text.splitlines())


@pytest.fixture
def docs(tmp_path):
    """A few documents of different kinds."""
    d = tmp_path / "docs"
    d.mkdir()
    (d / "brief.txt").write_text("Sehr geehrte Frau Müller,\nIhr Bauantrag für die Straße ...\n", encoding="utf-8")
    (d / "scan.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(50000) + b"\n%%EOF\n")
    (d / "empty.txt").write_bytes(b"")
    (d / "foto.jpg").write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(20000))
    return d


def file_docs(archive, paths, akte="32.10.02-2026/0007", extra=()):
    r = run("file", *paths, "--akte", akte, *extra, archive=archive, check=0)
    ids = r.text.split()
    assert len(ids) == len(paths)
    return ids


def journal_commits(archive):
    out = git(archive, "rev-list", "--reverse", "--first-parent", "journal").stdout.decode()
    return out.split()


# Linux counts in a child's peak RSS the memory of the process it was forked
# from (exec records the old address space's high-water mark), so the test
# process, which may have grown large in earlier tests, starts eakte through a
# fresh, small Python that reports eakte's own peak (wait4).
_PEAK = """
import os, subprocess, sys
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
out = p.stdout.read()
err = p.stderr.read()
_, status, usage = os.wait4(p.pid, 0)
sys.stdout.buffer.write(b"%d %d\\n" % (os.waitstatus_to_exitcode(status), usage.ru_maxrss) + out)
sys.stderr.buffer.write(err)
"""


def run_peak(archive, *args):
    """Run eakte (on `archive`, or with None on none); its stdout and its own
    peak RSS (KiB)."""
    where = ["--archive", str(archive)] if archive is not None else []
    r = subprocess.run([sys.executable, "-c", _PEAK, EAKTE, *where, *map(str, args)],
                       capture_output=True, timeout=600)
    head, _, out = r.stdout.partition(b"\n")
    code, peak = map(int, head.split())
    assert code == 0, f"eakte {args!r}: {r.stderr!r}"
    return out.decode(), peak
