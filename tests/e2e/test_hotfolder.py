"""Scanner hotfolders of eakted: a real daemon in a temp dir watching real
folders; files are dropped the way scanners, SMB and rsync drop them."""
import hashlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import pytest

from conftest import EAKTE, SOURCE_ROOT, run

EAKTED = os.environ.get("EAKTED_BIN") or str(SOURCE_ROOT / "build" / "daemon" / "eakted")
AZ = "32.10.02-2026/0007"
AZ2 = "32.10.02-2026/0008"


class Daemon:
    """eakted with a configuration file of hotfolders."""

    def __init__(self, tmp, archive, folders, extra=()):
        self.tmp, self.archive = Path(tmp), archive
        self.sock = self.tmp / "eakted.sock"
        self.conf = self.tmp / "eakted.conf"
        lines = ["[daemon]", f"archive = {archive}", f"socket = {self.sock}", "", "[roles]", "root = admin", ""]
        for name, keys in folders.items():
            lines.append(f"[hotfolder {name}]")
            for k, v in keys.items():
                for item in (v if isinstance(v, list) else [v]):
                    lines.append(f"{k} = {item}")
            lines.append("")
        self.conf.write_text("\n".join(lines))
        self.start(extra)

    def start(self, extra=()):
        self.logf = open(self.tmp / "eakted.log", "ab")
        self.p = subprocess.Popen([EAKTED, "--config", str(self.conf), *extra], stderr=self.logf)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(str(self.sock))
                s.close()
                return
            except OSError:
                if self.p.poll() is not None:
                    raise AssertionError(f"eakted exited with {self.p.returncode}: {self.logtext()}")
                time.sleep(0.02)
        raise AssertionError("eakted did not start listening")

    def logtext(self):
        self.logf.flush()
        return (self.tmp / "eakted.log").read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        rc = self.p.wait(timeout=60)
        self.logf.close()
        return rc


def wait_for(pred, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def sha(data):
    return hashlib.sha256(data).hexdigest()


def filed_events(archive):
    evs = [json.loads(line)["event"] for line in run("log", "--json", archive=archive, check=0).text.splitlines()]
    return [e for e in evs if e.get("action") == "file"]


def search(archive, *args):
    return json.loads(run("search", "--json", "--limit", "1000", *args, archive=archive, check=0).text)


def docs_in(archive, az):
    return search(archive, "--akte", az)["hits"]


def content(archive, doc):
    return run("get", doc, archive=archive, check=0).out


def show(archive, doc):
    return json.loads(run("show", doc, "--json", archive=archive, check=0).text)


def names(d):
    return sorted(p.name for p in Path(d).iterdir()) if Path(d).exists() else []


def drop(folder, name, data):
    """A complete file appears at once, as a scanner that renames does it."""
    tmp = Path(folder) / f".{name}.part"
    tmp.write_bytes(data)
    os.rename(tmp, Path(folder) / name)


@pytest.fixture
def hot(tmp_path):
    d = tmp_path / "scan"
    d.mkdir()
    return d


@pytest.fixture
def daemon(archive, tmp_path, hot):
    d = Daemon(tmp_path, archive, {"post": {"dir": hot, "akte": AZ, "settle_ms": 300, "sidecar_wait": 3,
                                            "meta": "eingang=Poststelle"}})
    yield d
    d.stop()


def test_moved_in_filed_once_and_found(daemon, archive, hot):
    data = b"%PDF-1.4\nBescheid Musterstadt\n" * 50
    drop(hot, "bescheid.txt", data)
    wait_for(lambda: "bescheid.txt" in names(hot / "done"), "done/bescheid.txt")
    assert not (hot / "bescheid.txt").exists()
    hits = docs_in(archive, AZ)
    assert len(hits) == 1 and hits[0]["filename"] == "bescheid.txt"
    assert content(archive, hits[0]["id"]) == data
    doc = show(archive, hits[0]["id"])
    assert doc["actor"] == "hotfolder:post"
    meta = doc["meta"]
    assert meta["eingang"] == "Poststelle"
    assert meta["hotfolder-sha256"] == sha(data)
    assert len(filed_events(archive)) == 1


def test_slow_writer_filed_complete_after_close(daemon, archive, hot):
    chunks = [os.urandom(1000).hex().encode() for _ in range(10)]
    with open(hot / "langsam.txt", "wb") as f:
        for c in chunks:
            f.write(c)
            f.flush()
            time.sleep(0.1)
            assert docs_in(archive, AZ) == [], "filed while still being written"
    wait_for(lambda: "langsam.txt" in names(hot / "done"), "done/langsam.txt")
    hits = docs_in(archive, AZ)
    assert len(hits) == 1
    assert sha(content(archive, hits[0]["id"])) == sha(b"".join(chunks))


def test_temporary_names_wait_until_renamed(daemon, archive, hot):
    temps = [".scan.pdf", "~$brief.docx", "a.tmp", "b.part", "c.partial", "d.filepart", "e.crdownload",
             "f.swp", ".g.txt.Ab12Cd", "h.txt~"]
    for t in temps:
        (hot / t).write_bytes(b"halb fertig " + t.encode())
    time.sleep(1.0)
    assert docs_in(archive, AZ) == []
    assert sorted(set(names(hot)) - {"done", "error"}) == sorted(temps)
    os.rename(hot / "b.part", hot / "b.txt")
    wait_for(lambda: "b.txt" in names(hot / "done"), "done/b.txt")
    assert len(docs_in(archive, AZ)) == 1


def test_sidecar_title_akte_meta(archive, tmp_path):
    hot = tmp_path / "eingang"
    hot.mkdir()
    d = Daemon(tmp_path, archive, {"sc": {"dir": hot, "akte": "sidecar", "settle_ms": 300, "sidecar_wait": 20}})
    try:
        drop(hot, "brief.txt", b"Sehr geehrte Damen und Herren")
        time.sleep(0.5)
        assert names(hot / "done") == [], "filed before its sidecar arrived"
        drop(hot, "brief.txt.json", json.dumps({
            "v": 1, "title": "Antrag auf Baugenehmigung", "akte": AZ2, "sender": "Erika Mustermann",
            "date": "2026-03-01", "meta": {"kassenzeichen": "4711"}}).encode())
        wait_for(lambda: "brief.txt" in names(hot / "done"), "done/brief.txt")
        assert "brief.txt.json" in names(hot / "done")
        hits = docs_in(archive, AZ2)
        assert len(hits) == 1 and hits[0]["title"] == "Antrag auf Baugenehmigung"
        meta = show(archive, hits[0]["id"])["meta"]
        assert meta["absender"] == "Erika Mustermann"
        assert meta["datum"] == "2026-03-01"
        assert meta["kassenzeichen"] == "4711"
        assert search(archive, "--meta", "kassenzeichen=4711")["total"] == 1
        # No sidecar within sidecar_wait: error/.
    finally:
        d.stop()


def test_sidecar_missing_when_required(archive, tmp_path):
    hot = tmp_path / "eingang"
    hot.mkdir()
    d = Daemon(tmp_path, archive, {"sc": {"dir": hot, "akte": "sidecar", "settle_ms": 200, "sidecar_wait": 1}})
    try:
        drop(hot, "ohne.txt", b"ohne Metadaten")
        wait_for(lambda: "ohne.txt.error.txt" in names(hot / "error"), "error/ohne.txt.error.txt")
        text = (hot / "error" / "ohne.txt.error.txt").read_text()
        assert "fehlt" in text and "missing" in text
        assert filed_events(archive) == []
    finally:
        d.stop()


@pytest.mark.parametrize("sidecar,why", [
    (b"{\"title\": \"kaputt\"", "not valid JSON"),
    (b"{\"titel\": \"Tippfehler\"}", "unknown key"),
    (b"{\"title\": 5}", "\"title\" must be"),
    (b"{\"date\": \"2026-02-31\"}", "not a valid date"),
    (b"{\"meta\": {\"a\": 1}}", "must be a string"),
])
def test_sidecar_invalid_goes_to_error(daemon, archive, hot, sidecar, why):
    drop(hot, "x.txt.json", sidecar)
    drop(hot, "x.txt", b"Inhalt")
    wait_for(lambda: "x.txt.error.txt" in names(hot / "error"), "error/x.txt.error.txt")
    assert {"x.txt", "x.txt.json"} <= set(names(hot / "error"))
    text = (hot / "error" / "x.txt.error.txt").read_text()
    assert "Die Datei wurde NICHT abgelegt" in text and "The file was NOT filed" in text
    assert why in text
    assert filed_events(archive) == []


def test_unknown_akte_goes_to_error(archive, tmp_path, hot):
    d = Daemon(tmp_path, archive, {"x": {"dir": hot, "akte": "99.99-2026/0001", "settle_ms": 200}})
    try:
        drop(hot, "brief.txt", b"an eine Akte, die es nicht gibt")
        wait_for(lambda: "brief.txt.error.txt" in names(hot / "error"), "error/brief.txt.error.txt")
        text = (hot / "error" / "brief.txt.error.txt").read_text()
        assert "99.99-2026/0001" in text and "gibt es nicht" in text and "does not exist" in text
        assert filed_events(archive) == []
    finally:
        d.stop()


def make_zip(path, members, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in members:
            z.writestr(name, data)


def test_zip_with_three_members(daemon, archive, hot, tmp_path):
    members = [("a.txt", b"erstens"), ("sub/b.txt", b"zweitens"), ("c.txt", b"drittens")]
    make_zip(tmp_path / "stapel.zip", members)
    os.rename(tmp_path / "stapel.zip", hot / "stapel.zip")
    wait_for(lambda: "stapel.zip" in names(hot / "done"), "done/stapel.zip")
    hits = docs_in(archive, AZ)
    assert sorted(h["filename"] for h in hits) == ["a.txt", "b.txt", "c.txt"]
    got = {h["filename"]: content(archive, h["id"]) for h in hits}
    assert got == {"a.txt": b"erstens", "b.txt": b"zweitens", "c.txt": b"drittens"}


def test_zip_bomb_refused(daemon, archive, hot, tmp_path):
    make_zip(tmp_path / "bombe.zip", [("null.bin", b"\0" * (50 << 20))])
    assert (tmp_path / "bombe.zip").stat().st_size < 200 << 10
    os.rename(tmp_path / "bombe.zip", hot / "bombe.zip")
    wait_for(lambda: "bombe.zip.error.txt" in names(hot / "error"), "error/bombe.zip.error.txt")
    assert "zip_max_ratio" in (hot / "error" / "bombe.zip.error.txt").read_text()
    assert filed_events(archive) == []


def test_zip_path_names_never_touch_the_disk(daemon, archive, hot, tmp_path):
    outside = tmp_path / "evil.txt"
    make_zip(tmp_path / "pfad.zip", [("../../evil.txt", b"boese"), ("/etc/cron.d/x", b"auch boese"),
                                    ("..\\..\\win.txt", b"windows")])
    os.rename(tmp_path / "pfad.zip", hot / "pfad.zip")
    wait_for(lambda: "pfad.zip" in names(hot / "done"), "done/pfad.zip")
    assert not outside.exists() and not Path("/etc/cron.d/x").exists()
    assert sorted(h["filename"] for h in docs_in(archive, AZ)) == ["evil.txt", "win.txt", "x"]
    assert sorted(set(names(hot)) - {"done", "error"}) == []


def test_symlink_to_shadow_refused(daemon, archive, hot):
    before = Path("/etc/shadow").stat() if Path("/etc/shadow").exists() else None
    os.symlink("/etc/shadow", hot / "shadow.txt")
    wait_for(lambda: "shadow.txt.error.txt" in names(hot / "error"), "error/shadow.txt.error.txt")
    assert (hot / "error" / "shadow.txt").is_symlink()
    assert "symbolic link" in (hot / "error" / "shadow.txt.error.txt").read_text()
    if before is not None:
        after = Path("/etc/shadow").stat()
        assert (after.st_mtime_ns, after.st_size, after.st_ino) == (before.st_mtime_ns, before.st_size, before.st_ino)
    assert filed_events(archive) == []


def test_hard_link_refused(daemon, archive, hot, tmp_path):
    secret = tmp_path / "geheim.txt"
    secret.write_bytes(b"nur fuer mich")
    os.link(secret, hot / "link.txt")
    wait_for(lambda: "link.txt.error.txt" in names(hot / "error"), "error/link.txt.error.txt")
    assert "hard link" in (hot / "error" / "link.txt.error.txt").read_text()
    assert secret.read_bytes() == b"nur fuer mich"
    assert filed_events(archive) == []


def test_fifo_refused_without_hanging(daemon, archive, hot):
    os.mkfifo(hot / "rohr.txt")
    wait_for(lambda: "rohr.txt.error.txt" in names(hot / "error"), "error/rohr.txt.error.txt", timeout=20)
    drop(hot, "danach.txt", b"die Schlange lebt noch")
    wait_for(lambda: "danach.txt" in names(hot / "done"), "done/danach.txt")


def test_directory_moved_in(daemon, archive, hot, tmp_path):
    stapel = tmp_path / "stapel"
    stapel.mkdir()
    for i in range(3):
        (stapel / f"s{i}.txt").write_bytes(f"Seite {i}".encode())
    os.rename(stapel, hot / "stapel")
    wait_for(lambda: len(docs_in(archive, AZ)) == 3 and not (hot / "stapel").exists(), "the directory's files")
    assert {"s0.txt", "s1.txt", "s2.txt"} <= set(names(hot / "done"))


def test_duplicate_reported_not_filed_twice(daemon, archive, hot):
    drop(hot, "eins.txt", b"gleicher Inhalt")
    wait_for(lambda: "eins.txt" in names(hot / "done"), "done/eins.txt")
    drop(hot, "zwei.txt", b"gleicher Inhalt")
    wait_for(lambda: "zwei.txt.duplicate.txt" in names(hot / "done"), "done/zwei.txt.duplicate.txt")
    note = (hot / "done" / "zwei.txt.duplicate.txt").read_text()
    assert "Nicht erneut abgelegt" in note and "Not filed again" in note
    assert docs_in(archive, AZ)[0]["id"] in note
    assert len(filed_events(archive)) == 1


def test_content_filed_another_way_is_a_duplicate(daemon, archive, hot, tmp_path):
    """The same bytes already filed into the Akte with eakte file (through
    the daemon), then dropped into the hotfolder: reported, not filed."""
    src = tmp_path / "brief.txt"
    src.write_bytes(b"Schreiben, das schon per Hand abgelegt wurde")
    doc = run("--socket", daemon.sock, "file", src, "--akte", AZ, check=0).text.strip()
    drop(hot, "scan-0001.txt", src.read_bytes())
    wait_for(lambda: "scan-0001.txt.duplicate.txt" in names(hot / "done"), "done/scan-0001.txt.duplicate.txt")
    note = (hot / "done" / "scan-0001.txt.duplicate.txt").read_text()
    assert doc in note and "Not filed again" in note
    assert len(filed_events(archive)) == 1


def test_kill9_and_restart_files_each_exactly_once(archive, tmp_path, hot):
    d = Daemon(tmp_path, archive, {"post": {"dir": hot, "akte": AZ, "settle_ms": 200}})
    n = 60
    payload = {f"d{i:03}.txt": f"Dokument {i} ".encode() * 20 for i in range(n)}
    for k, (name, data) in enumerate(payload.items()):
        drop(hot, name, data)
        if k == n // 2:
            wait_for(lambda: len(names(hot / "done")) > 3, "some filings")
            d.p.send_signal(signal.SIGKILL)
            d.p.wait(timeout=30)
            d.logf.close()
    d.start()
    try:
        wait_for(lambda: set(payload) <= set(names(hot / "done")), "all files in done/", timeout=120)
        evs = filed_events(archive)
        assert len(evs) == n, f"{len(evs)} filings of {n} files"
        shas = sorted(e["content"]["sha256"] for e in evs)
        assert shas == sorted(sha(v) for v in payload.values())
        assert sorted(set(names(hot)) - {"done", "error"}) == []
        assert names(hot / "error") == []
    finally:
        d.stop()
    run("verify", archive=archive, check=0)


def test_two_hotfolders_and_a_cli_client_at_once(archive, tmp_path):
    h1, h2 = tmp_path / "h1", tmp_path / "h2"
    h1.mkdir()
    h2.mkdir()
    d = Daemon(tmp_path, archive, {"eins": {"dir": h1, "akte": AZ, "settle_ms": 200},
                                   "zwei": {"dir": h2, "akte": AZ2, "settle_ms": 200}})
    try:
        n = 25
        src = tmp_path / "cli"
        src.mkdir()

        def feed(folder, tag):
            for i in range(n):
                drop(folder, f"{tag}{i}.txt", f"{tag} {i}".encode())

        def cli():
            for i in range(n):
                p = src / f"c{i}.txt"
                p.write_bytes(f"cli {i}".encode())
                run("file", p, "--akte", AZ, env={"EAKTE_SOCKET": str(d.sock)}, check=0)

        ts = [threading.Thread(target=feed, args=(h1, "a")), threading.Thread(target=feed, args=(h2, "b")),
              threading.Thread(target=cli)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        wait_for(lambda: len(names(h1 / "done")) == n and len(names(h2 / "done")) == n, "both folders done")
        evs = filed_events(archive)
        assert len(evs) == 3 * n
        actors = sorted({e["actor"] for e in evs})
        assert "hotfolder:eins" in actors and "hotfolder:zwei" in actors
        assert len(docs_in(archive, AZ2)) == n
    finally:
        d.stop()
    run("verify", archive=archive, check=0)


def test_flag_and_sighup_reload(archive, tmp_path):
    h1, h2 = tmp_path / "h1", tmp_path / "h2"
    h1.mkdir()
    h2.mkdir()
    flagdir = tmp_path / "flag"
    flagdir.mkdir()
    d = Daemon(tmp_path, archive, {"eins": {"dir": h1, "akte": AZ, "settle_ms": 200}},
               extra=["--hotfolder", f"{flagdir}={AZ2}"])
    try:
        drop(flagdir, "f.txt", b"per Flag")
        wait_for(lambda: "f.txt" in names(flagdir / "done"), "flag folder")
        d.conf.write_text(d.conf.read_text() + f"\n[hotfolder zwei]\ndir = {h2}\nakte = {AZ2}\nsettle_ms = 200\n")
        d.p.send_signal(signal.SIGHUP)
        wait_for(lambda: "watching " + str(h2) in d.logtext(), "the new hotfolder")
        drop(h2, "neu.txt", b"nach dem Neuladen")
        wait_for(lambda: "neu.txt" in names(h2 / "done"), "new folder after SIGHUP")
        drop(flagdir, "g.txt", b"Flag-Ordner bleibt")
        wait_for(lambda: "g.txt" in names(flagdir / "done"), "flag folder after SIGHUP")
    finally:
        assert d.stop() == 0


def test_check_config_rejects_bad_hotfolder(archive, tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text(f"[daemon]\narchive = {archive}\nsocket = {tmp_path}/s\n[hotfolder x]\ndir = {tmp_path}\n"
                    "akte = A-1\nzip_max_ratio = 0\n")
    p = subprocess.run([EAKTED, "--config", str(conf), "--check-config"], capture_output=True)
    assert p.returncode == 2 and b"zip_max_ratio must be a number" in p.stderr
    conf.write_text(f"[daemon]\narchive = {archive}\nsocket = {tmp_path}/s\n[hotfolder x]\ndir = relative\nakte = A-1\n")
    p = subprocess.run([EAKTED, "--config", str(conf), "--check-config"], capture_output=True)
    assert p.returncode == 2 and b"absolute" in p.stderr


def test_found_again_after_restart_is_not_filed_twice(archive, tmp_path, hot):
    """The crash window between a durable filing and the move to done/: the
    same file is in the hotfolder at start; the archive (not the process's
    memory) says it is filed."""
    d = Daemon(tmp_path, archive, {"post": {"dir": hot, "akte": AZ, "settle_ms": 100}})
    drop(hot, "brief.txt", b"einmal und nur einmal")
    wait_for(lambda: "brief.txt" in names(hot / "done"), "done/brief.txt")
    assert d.stop() == 0
    (hot / "brief.txt").write_bytes(b"einmal und nur einmal")
    os.utime(hot / "brief.txt", (time.time() - 10, time.time() - 10))
    d.start()
    try:
        wait_for(lambda: "brief (2).txt.duplicate.txt" in names(hot / "done"), "the duplicate note")
        assert len(filed_events(archive)) == 1
    finally:
        d.stop()
