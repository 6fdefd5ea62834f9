"""End to end: every verb of the CLI, its output, its errors and exit codes."""
import fcntl
import hashlib
import json
import os
import re
import subprocess
import shutil
import stat
import tempfile
from pathlib import Path

import pytest

from conftest import EAKTE, file_docs, git, journal_commits, journal_size, run, run_peak

@pytest.fixture
def request_cleanup():
    dirs = []
    yield dirs
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


VERBS = ["init", "plan", "akte", "file", "meta", "show", "get", "search", "ls", "reindex", "log", "checkpoint", "proof",
         "retention", "hold", "dispose",
         "verify-proof", "verify"]


def test_init_layout(bare_archive):
    archive = bare_archive
    assert (archive / "store.git" / "HEAD").exists()
    key = archive / "keys" / "signing.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE((archive / "keys").stat().st_mode) == 0o700
    assert (archive / "keys" / "signing.pub.pem").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    signers = (archive / "keys" / "allowed_signers").read_text()
    assert re.fullmatch(r'test\.musterstadt\.de/eakte namespaces="git" ssh-ed25519 [A-Za-z0-9+/=]+\n', signers)
    vkey = (archive / "keys" / "note.vkey").read_text().strip()
    assert re.fullmatch(r"test\.musterstadt\.de/eakte\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+", vkey)
    # the genesis event names the origin and the key
    log = run("log", "--json", archive=archive, check=0).text.splitlines()
    assert len(log) == 1
    ev = json.loads(log[0])["event"]
    assert ev["action"] == "genesis" and ev["seq"] == 0 and ev["prev"] == "0" * 64
    assert ev["origin"] == "test.musterstadt.de/eakte" and ev["key"]["alg"] == "ed25519"
    run("verify", archive=archive, check=0)


def test_init_refuses_existing(archive, tmp_path):
    r = run("init", archive, check=4)
    assert "not empty" in r.error
    other = tmp_path / "other"
    other.mkdir()
    (other / "x").write_text("x")
    run("init", other, check=4)
    assert (other / "x").read_text() == "x"


def test_init_bad_origin(tmp_path):
    r = run("init", tmp_path / "a", "--origin", "has space", check=2)
    assert "origin" in r.error


def test_key_readable_by_others_is_refused(archive, docs):
    os.chmod(archive / "keys" / "signing.pem", 0o640)
    r = run("file", docs / "brief.txt", "--akte", "A-1", archive=archive, check=4)
    assert "chmod 600" in r.error
    os.chmod(archive / "keys" / "signing.pem", 0o600)
    run("file", docs / "brief.txt", "--akte", "A-1", archive=archive, check=0)


def test_file_show_get_roundtrip(archive, docs, tmp_path):
    paths = sorted(docs.iterdir())
    ids = file_docs(archive, paths, extra=["--meta", "absender=Stadtwerke Musterstadt", "--meta", "eingang=2026-11-20"])
    assert len(set(ids)) == len(ids)
    for doc_id, path in zip(ids, paths):
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", doc_id)
        data = path.read_bytes()
        got = run("get", doc_id, archive=archive, check=0).out
        assert got == data
        out = tmp_path / "out.bin"
        run("get", doc_id, "-o", out, archive=archive, check=0)
        assert out.read_bytes() == data
        js = json.loads(run("show", doc_id, "--json", archive=archive, check=0).text)
        assert js["id"] == doc_id and js["akte"] == "32.10.02-2026/0007"
        assert js["sha256"] == hashlib.sha256(data).hexdigest()
        assert js["size"] == len(data)
        assert js["filename"] == path.name and js["title"] == path.name
        assert js["meta"] == {"absender": "Stadtwerke Musterstadt", "eingang": "2026-11-20"}
        assert js["version"] == 1
        human = run("show", doc_id, archive=archive, check=0).text
        assert hashlib.sha256(data).hexdigest() in human and "absender=Stadtwerke Musterstadt" in human
    kinds = {p.name: json.loads(run("show", i, "--json", archive=archive, check=0).text)["mime"] for i, p in zip(ids, paths)}
    assert kinds["scan.pdf"] == "application/pdf"
    assert kinds["foto.jpg"] == "image/jpeg"
    assert kinds["brief.txt"] == "text/plain"
    assert kinds["empty.txt"] == "application/x-empty"
    run("verify", archive=archive, check=0)


def test_one_batch_is_one_group(archive, docs):
    before = len(journal_commits(archive))
    packs_before = len(list((archive / "store.git" / "objects" / "pack").glob("*.pack")))
    file_docs(archive, sorted(docs.iterdir()))
    assert len(journal_commits(archive)) == before + 4
    # one pack of journal objects for the whole batch
    packs = len(list((archive / "store.git" / "objects" / "pack").glob("*.pack")))
    assert packs == packs_before + 1


def test_title_and_env_archive(archive, docs):
    r = run("file", docs / "brief.txt", "--akte", "A-2", "--title", "Bauantrag Müller", env={"EAKTE_ARCHIVE": str(archive)}, check=0)
    doc_id = r.text.strip()
    js = json.loads(run("show", doc_id, "--json", env={"EAKTE_ARCHIVE": str(archive)}, check=0).text)
    assert js["title"] == "Bauantrag Müller"


def test_no_archive_given(docs):
    r = run("show", "0192f3a4-0000-7000-8000-000000000000", check=2)
    assert "EAKTE_ARCHIVE" in r.error


def test_file_errors(archive, docs, tmp_path):
    n = len(journal_commits(archive))
    r = run("file", tmp_path / "missing.pdf", "--akte", "A-1", archive=archive, check=3)
    assert "missing.pdf" in r.error
    r = run("file", docs, "--akte", "A-1", archive=archive, check=2)
    assert "not a regular file" in r.error
    r = run("file", docs / "brief.txt", archive=archive, check=2)
    assert "--akte" in r.error
    run("file", "--akte", "A-1", archive=archive, check=2)
    # one bad file in a batch: nothing of the batch is filed
    r = run("file", docs / "brief.txt", tmp_path / "missing.pdf", "--akte", "A-1", archive=archive, check=3)
    assert "nothing was filed" in r.error
    assert len(journal_commits(archive)) == n
    run("verify", archive=archive, check=0)


def test_metadata_validation(archive, docs):
    n = len(journal_commits(archive))
    r = run("file", docs / "brief.txt", "--akte", "A-1", "--meta", b"absender=M\xfcller", archive=archive, check=2)
    assert "UTF-8" in r.error
    r = run("file", docs / "brief.txt", "--akte", "A-1", "--title", b"\xff\xfe", archive=archive, check=2)
    assert "UTF-8" in r.error
    r = run("file", docs / "brief.txt", "--akte", "A-1", "--meta", "x=" + "a" * 70000, archive=archive, check=2)
    assert "limit" in r.error
    r = run("file", docs / "brief.txt", "--akte", "A-1", "--title", "t" * 5000, archive=archive, check=2)
    assert "limit" in r.error
    r = run("file", docs / "brief.txt", "--akte", "A-1", "--meta", "no-equals-sign", archive=archive, check=2)
    assert "KEY=VALUE" in r.error
    r = run("file", docs / "brief.txt", "--akte", "A-1", "--meta", "k=1", "--meta", "k=2", archive=archive, check=2)
    assert "twice" in r.error
    r = run("file", docs / "brief.txt", "--akte", "A\n1", archive=archive, check=2)
    assert "control character" in r.error
    assert len(journal_commits(archive)) == n


def test_unreadable_file(request_cleanup):
    """As an unprivileged user (root reads everything), an unreadable file is a clear error."""
    base = Path(tempfile.mkdtemp(prefix="eakte-nobody-", dir="/tmp"))
    request_cleanup.append(base)
    os.chmod(base, 0o777)
    secret = base / "secret.txt"
    secret.write_text("geheim")
    os.chmod(secret, 0o000)
    cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", EAKTE]
    p = subprocess.run(cmd + ["init", str(base / "a")], capture_output=True)
    assert p.returncode == 0, p.stderr
    p = subprocess.run(cmd + ["--archive", str(base / "a"), "file", str(secret), "--akte", "A-1"], capture_output=True)
    assert p.returncode == 5, p
    assert b"secret.txt" in p.stderr and b"Permission denied" in p.stderr


def test_second_writer_is_refused(archive, docs):
    n = len(journal_commits(archive))
    with open(archive / "lock", "r+") as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        r = run("file", docs / "brief.txt", "--akte", "A-1", archive=archive, check=5)
        assert "locked by another writer" in r.error
        # readers are not blocked by the writer lock
        run("verify", archive=archive, check=0)
    assert len(journal_commits(archive)) == n
    run("file", docs / "brief.txt", "--akte", "A-1", archive=archive, check=0)


def test_usage_errors(archive):
    r = run("frobnicate", archive=archive, check=2)
    assert "unknown verb" in r.error
    run("show", "--bogus", archive=archive, check=2)
    run("verify", "--bogus", archive=archive, check=2)
    run(check=2)
    r = run("show", "not-an-id", archive=archive, check=2)
    assert "not a document id" in r.error
    r = run("show", "0192f3a4-0000-7000-8000-000000000000", archive=archive, check=3)
    assert "not in the archive" in r.error
    run("log", "--from", "x", archive=archive, check=2)


@pytest.mark.parametrize("verb", VERBS)
def test_help(verb):
    r = run(verb, "--help", check=0)
    assert r.text.startswith(f"usage: eakte {verb}")


def test_log(archive, docs):
    n = journal_size(archive)   # genesis, the Aktenplan, the Akten
    ids = file_docs(archive, [docs / "brief.txt", docs / "scan.pdf"])
    lines = run("log", archive=archive, check=0).text.splitlines()
    assert len(lines) == n + 2
    assert "genesis" in lines[0] and ids[0] in lines[n] and ids[1] in lines[n + 1]
    assert "plan" in lines[1] and "akte-create" in lines[2]
    js = [json.loads(l) for l in run("log", "--json", archive=archive, check=0).text.splitlines()]
    assert [j["seq"] for j in js] == list(range(n + 2))
    for j in js:
        raw = json.dumps(j["event"], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        assert hashlib.sha256(b"\0" + raw).hexdigest() == j["leaf"]
    assert js[1]["event"]["prev"] == js[0]["leaf"]
    assert js[n]["event"]["content"]["sha256"] == hashlib.sha256((docs / "brief.txt").read_bytes()).hexdigest()
    # no descriptive metadata in the journal: not the file name, not an Akte's title
    assert "brief.txt" not in json.dumps(js) and "Testakte" not in json.dumps(js)
    assert journal_commits(archive) == [j["commit"] for j in js]
    only_last = run("log", "--from", str(n + 1), "--json", archive=archive, check=0).text.splitlines()
    assert len(only_last) == 1 and json.loads(only_last[0])["seq"] == n + 1


def test_checkpoint_format(archive, docs):
    file_docs(archive, [docs / "brief.txt"])
    text = run("checkpoint", archive=archive, check=0).text
    lines = text.split("\n")
    assert lines[0] == "test.musterstadt.de/eakte"
    assert lines[1] == str(journal_size(archive))
    assert re.fullmatch(r"[A-Za-z0-9+/]{43}=", lines[2])
    assert lines[3] == ""
    assert lines[4].startswith("\u2014 test.musterstadt.de/eakte ")
    assert text.endswith("\n")
    key = run("checkpoint", "--key", archive=archive, check=0).text.strip()
    assert key == (archive / "keys" / "note.vkey").read_text().strip()


def test_proof_and_verify_proof(archive, docs, tmp_path):
    ids = file_docs(archive, sorted(docs.iterdir()))
    vkey = (archive / "keys" / "note.vkey").read_text().strip()
    for doc_id in ids:
        proof = run("proof", doc_id, archive=archive, check=0).out
        assert proof.startswith(b"eakte inclusion proof v1\n")
        r = run("verify-proof", "--key", vkey, input=proof, check=0)
        assert "OK: event" in r.text and doc_id in r.text
    for seq in range(0, 5):
        proof = run("proof", "--seq", seq, archive=archive, check=0).out
        p = tmp_path / f"p{seq}"
        p.write_bytes(proof)
        run("verify-proof", p, "--key-file", archive / "keys" / "note.vkey", check=0)
        run("verify-proof", p, archive=archive, check=0)
    run("proof", "--seq", 99, archive=archive, check=3)
    proof = run("proof", "--seq", 2, archive=archive, check=0).out
    # a changed hash, a changed event, an index moved, another key: all fail
    lines = proof.split(b"\n")
    hash_line = next(i for i, l in enumerate(lines) if l.startswith(b"hash "))
    bad = list(lines)
    bad[hash_line] = b"hash " + b"A" * 43 + b"="
    run("verify-proof", "--key", vkey, input=b"\n".join(bad), check=1)
    bad = list(lines)
    bad[1] = b"index 3"
    run("verify-proof", "--key", vkey, input=b"\n".join(bad), check=1)
    bad = [l.replace(b"event ", b"event eyJ") if l.startswith(b"event ") else l for l in lines]
    run("verify-proof", "--key", vkey, input=b"\n".join(bad), check=1)
    other = tmp_path / "other"
    run("init", other, "--origin", "test.musterstadt.de/eakte", check=0)
    okey = (other / "keys" / "note.vkey").read_text().strip()
    r = run("verify-proof", "--key", okey, input=proof, check=1)
    assert "FAILED" in r.error
    run("verify-proof", "--key", "garbage", input=proof, check=2)


def test_git_fsck_and_verify_commit(archive, docs):
    file_docs(archive, sorted(docs.iterdir()))
    p = git(archive, "fsck", "--full", "--strict")
    assert b"error" not in p.stderr.lower()
    for c in journal_commits(archive):
        p = subprocess.run(["git", "-C", str(archive / "store.git"), "-c", "gpg.format=ssh",
                            "-c", "gpg.ssh.allowedSignersFile=../keys/allowed_signers", "verify-commit", c],
                           capture_output=True)
        assert p.returncode == 0, p.stderr
        assert b'Good "git" signature for test.musterstadt.de/eakte' in p.stderr
    # content objects are readable by stock git, byte for byte
    for doc_id, path in zip(file_docs(archive, sorted(docs.iterdir())), sorted(docs.iterdir())):
        oid = json.loads(run("show", doc_id, "--json", archive=archive, check=0).text)["oid"]
        assert git(archive, "cat-file", "blob", oid).stdout == path.read_bytes()


def test_verify_json_and_since(archive, docs, tmp_path):
    cp = tmp_path / "cp"
    cp.write_bytes(run("checkpoint", archive=archive, check=0).out)
    file_docs(archive, sorted(docs.iterdir()))
    n = journal_size(archive)
    js = json.loads(run("verify", "--json", archive=archive, check=0).text)
    # 4 documents (content + metadata) and the metadata objects of the 4 Akten
    assert js["ok"] is True and js["events"] == n and js["objects"] == 12
    assert js["checkpoint"]["size"] == n
    r = run("verify", "--since", cp, archive=archive, check=0)
    assert f"OK: {n} events" in r.text
    q = json.loads(run("verify", "--quick", "--json", archive=archive, check=0).text)
    assert q["objects"] == 0
    run("verify", "--since", tmp_path / "nonexistent", archive=archive, check=3)
    garbage = tmp_path / "garbage"
    garbage.write_text("not a checkpoint\n")
    r = run("verify", "--since", garbage, archive=archive, check=1)
    assert "saved checkpoint" in r.error


def test_large_file_streams_in_bounded_memory(archive, tmp_path):
    """A 512 MiB document files and reads back with memory that does not grow with it."""
    # a JPEG-like scan: allowed by the format policy, no text extractor runs
    big = tmp_path / "big.jpg"
    chunk = b"\xff\xd8\xff\xe0" + os.urandom((1 << 20) - 4)
    h = hashlib.sha256()
    with open(big, "wb") as f:
        for i in range(512):
            c = chunk[i:] + chunk[:i]
            f.write(c)
            h.update(c)
    # The peak of this one process (wait4), not of every child this test
    # run has had: another test's children may have been larger.
    doc_id, peak_kib = run_peak(archive, "file", big, "--akte", "A-1")
    assert peak_kib < 64 * 1024, f"filing peak RSS {peak_kib} KiB"
    doc_id = doc_id.strip()
    out = tmp_path / "out.bin"
    _, peak_kib = run_peak(archive, "get", doc_id, "-o", out)
    assert peak_kib < 64 * 1024, f"reading peak RSS {peak_kib} KiB"
    with open(out, "rb") as f:
        g = hashlib.sha256()
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            g.update(b)
    assert g.hexdigest() == h.hexdigest()


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_has_a_man_page(verb):
    from conftest import SOURCE_ROOT
    page = SOURCE_ROOT / "docs" / "man" / f"eakte-{verb}.1"
    assert page.exists(), page
    assert f"eakte-{verb}.1" in (SOURCE_ROOT / "docs" / "meson.build").read_text()


def test_journal_cache_with_a_hole_is_reread(archive, tmp_path):
    """cache/journal.idx is derived and saved by readers too: a record of
    zeros (a hole left by two saves at once) is never taken for a commit."""
    (tmp_path / "a.txt").write_text("a\n")
    for _ in range(3):
        run("file", tmp_path / "a.txt", "--akte", "A-1", archive=archive, check=0)
    before = run("log", "--json", archive=archive, check=0).text
    cache = archive / "cache" / "journal.idx"
    data = bytearray(cache.read_bytes())
    assert len(data) % 52 == 0 and len(data) // 52 == len(before.splitlines())
    data[2 * 52:4 * 52] = bytes(2 * 52)   # records 2 and 3: zeros
    cache.write_bytes(bytes(data))
    assert run("log", "--json", archive=archive, check=0).text == before
    assert run("verify", archive=archive).code == 0
    # and the cache is whole again
    assert bytes(52) not in [cache.read_bytes()[i:i + 52] for i in range(0, len(data), 52)]
