"""The tamper matrix: each manipulation makes `eakte verify` exit 1 and name
the right event or object.  The archive is changed with stock git plumbing,
the way an attacker with access to the files would."""
import json
import os
import subprocess
import zlib
from pathlib import Path

import pytest

from conftest import PLAN, file_docs, git, journal_commits, make_akten, run


def sh_git(archive, *args, input=None, env=None):
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run(["git", "-C", str(Path(archive) / "store.git"), *args], input=input,
                       capture_output=True, env=e)
    assert p.returncode == 0, (args, p.stderr)
    return p.stdout.decode().strip()


def write_object(archive, kind, data):
    return sh_git(archive, "hash-object", "-t", kind, "-w", "--stdin", input=data)


def event_of(archive, commit):
    return git(archive, "cat-file", "blob", f"{commit}:event.json").stdout


def make_commit(archive, template, event, parent, strip_signature=False):
    """A commit like `template` (raw bytes) with a new event and parent."""
    blob = write_object(archive, "blob", event)
    tree = sh_git(archive, "mktree", input=f"100644 blob {blob}\tevent.json\n".encode())
    head, _, message = template.partition(b"\n\n")
    lines = head.split(b"\n")
    out = []
    skipping = False
    for line in lines:
        if skipping and line.startswith(b" "):
            continue
        skipping = False
        if line.startswith(b"tree "):
            out.append(b"tree " + tree.encode())
            if parent:
                out.append(b"parent " + parent.encode())
        elif line.startswith(b"parent "):
            continue
        elif line.startswith(b"gpgsig ") and strip_signature:
            skipping = True
        else:
            out.append(line)
    return write_object(archive, "commit", b"\n".join(out) + b"\n\n" + message)


def rewrite(archive, entries, start, strip_signature_at=None):
    """entries: list of (raw commit template, event bytes) for the whole new
    journal; commits before `start` are kept as they are."""
    commits = journal_commits(archive)
    parent = commits[start - 1]
    for i in range(start, len(entries)):
        template, event = entries[i]
        parent = make_commit(archive, template, event, parent, strip_signature=(i == strip_signature_at))
    sh_git(archive, "update-ref", "refs/heads/journal", parent)


def entries_of(archive):
    return [(git(archive, "cat-file", "commit", c).stdout, event_of(archive, c)) for c in journal_commits(archive)]


def expect_failure(archive, *needles, args=()):
    r = run("verify", *args, archive=archive, check=1)
    msg = r.error
    for n in needles:
        assert n in msg, f"{n!r} not in {msg!r}"
    js = json.loads(run("verify", "--json", *args, archive=archive, check=1).text)
    assert js["ok"] is False and js["failure"]["message"]
    return msg


@pytest.fixture
def filled(archive, docs):
    ids = file_docs(archive, sorted(docs.iterdir()))
    ids += file_docs(archive, [docs / "brief.txt"], akte="32.10.02-2026/0008")
    run("verify", archive=archive, check=0)
    return archive, ids


def loose_path(archive, oid):
    return Path(archive) / "store.git" / "objects" / oid[:2] / oid[2:]


def seq_of(archive, doc_id):
    """The journal seq of a document's filing event (the fixture's Aktenplan
    and Akten come first)."""
    return json.loads(run("show", doc_id, "--json", archive=archive, check=0).text)["seq"]


def doc_oid(archive, doc_id):
    return json.loads(run("show", doc_id, "--json", archive=archive, check=0).text)["oid"]


def test_flipped_byte_in_content(filled):
    archive, ids = filled
    p = loose_path(archive, doc_oid(archive, ids[1]))   # scan.pdf, stored uncompressed
    data = bytearray(p.read_bytes())
    os.chmod(p, 0o644)
    data[len(data) // 2] ^= 0x01
    p.write_bytes(bytes(data))
    expect_failure(archive, f"document {ids[1]}", f"event {seq_of(archive, ids[1])}")
    # --quick does not re-hash content
    run("verify", "--quick", archive=archive, check=0)
    # get refuses to hand out the changed bytes as good
    run("get", ids[1], archive=archive, check=1)


def test_content_replaced_by_other_valid_blob(filled, tmp_path):
    archive, ids = filled
    other = write_object(archive, "blob", b"%PDF-1.4 a forged document\n")
    state = sh_git(archive, "rev-parse", "refs/eakte/state")
    env = {"GIT_INDEX_FILE": str(tmp_path / "index")}
    sh_git(archive, "read-tree", state, env=env)
    path = f"docs/{ids[0][-2:]}/{ids[0][-4:-2]}/{ids[0]}/1.content"
    sh_git(archive, "update-index", "--cacheinfo", f"100644,{other},{path}", env=env)
    tree = sh_git(archive, "write-tree", env=env)
    commit = sh_git(archive, "commit-tree", tree, "-m", "eakte state", env=env)
    sh_git(archive, "update-ref", "refs/eakte/state", commit)
    expect_failure(archive, f"document {ids[0]}", f"event {seq_of(archive, ids[0])}", "content object expected=",
                   f"actual={other}")


def test_loose_object_replaced_by_other_valid_zlib(filled):
    archive, ids = filled
    p = loose_path(archive, doc_oid(archive, ids[0]))
    os.chmod(p, 0o644)
    p.write_bytes(zlib.compress(b"blob 5\0forge"))
    expect_failure(archive, f"document {ids[0]}", "SHA-1 expected=")


def test_document_missing_without_disposal(filled, tmp_path):
    archive, ids = filled
    state = sh_git(archive, "rev-parse", "refs/eakte/state")
    env = {"GIT_INDEX_FILE": str(tmp_path / "index")}
    sh_git(archive, "read-tree", state, env=env)
    zero = "0" * 40
    removal = "".join(f"0 {zero}\tdocs/{ids[2][-2:]}/{ids[2][-4:-2]}/{ids[2]}/1.{s}\n" for s in ("content", "meta", "event"))
    sh_git(archive, "update-index", "--index-info", input=removal.encode(), env=env)
    tree = sh_git(archive, "write-tree", env=env)
    sh_git(archive, "update-ref", "refs/eakte/state", sh_git(archive, "commit-tree", tree, "-m", "x", env=env))
    expect_failure(archive, f"document {ids[2]}", "missing", "no disposal event")


def test_event_edited_and_recommitted(filled):
    archive, ids = filled
    k = seq_of(archive, ids[1])
    entries = entries_of(archive)
    template, event = entries[k]
    ev = json.loads(event)
    ev["content"]["size"] += 1
    entries[k] = (template, json.dumps(ev, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    rewrite(archive, entries, k)
    expect_failure(archive, f"event {k} ", "signature does not verify")


def test_event_inserted(filled):
    archive, ids = filled
    k = seq_of(archive, ids[1])
    entries = entries_of(archive)
    template, event = entries[k]
    entries.insert(k, (template, event))
    rewrite(archive, entries, k)
    expect_failure(archive, f"event {k + 1} ", f"seq expected={k + 1} actual={k}")


def test_event_inserted_with_matching_seq(filled):
    """An inserted event that even claims the right seq and prev is caught by its signature."""
    archive, ids = filled
    k = seq_of(archive, ids[1])
    entries = entries_of(archive)
    template, event = entries[k]
    ev = json.loads(event)
    entries.insert(k + 1, (template, json.dumps(dict(ev, seq=k + 1), sort_keys=True, separators=(",", ":")).encode()))
    rewrite(archive, entries, k + 1)
    msg = expect_failure(archive, f"event {k + 1} ")
    assert "prev expected=" in msg or "signature" in msg


def test_event_removed(filled):
    archive, ids = filled
    k = seq_of(archive, ids[1])
    entries = entries_of(archive)
    del entries[k]
    rewrite(archive, entries, k)
    expect_failure(archive, f"event {k} ", f"seq expected={k} actual={k + 1}")


def test_events_swapped(filled):
    archive, ids = filled
    k = seq_of(archive, ids[1])
    entries = entries_of(archive)
    entries[k], entries[k + 1] = entries[k + 1], entries[k]
    rewrite(archive, entries, k)
    expect_failure(archive, f"event {k} ", f"seq expected={k} actual={k + 1}")


def test_signature_stripped(filled):
    archive, ids = filled
    k = seq_of(archive, ids[2])
    entries = entries_of(archive)
    commits = journal_commits(archive)
    # strip only commit k's signature, keep its content: rebuild from k
    rewrite(archive, entries, k, strip_signature_at=k)
    expect_failure(archive, f"event {k} ", "not signed")
    assert commits[:k] == journal_commits(archive)[:k]


def test_key_replaced(filled, tmp_path):
    archive, ids = filled
    other = tmp_path / "other"
    run("init", other, "--origin", "test.musterstadt.de/eakte", check=0)
    for name in ("signing.pem", "signing.pub.pem", "allowed_signers", "note.vkey"):
        (archive / "keys" / name).write_bytes((other / "keys" / name).read_bytes())
    expect_failure(archive, "keys/signing.pub.pem is not the key named in the genesis event")
    r = run("file", archive / "keys" / "note.vkey", "--akte", "A-1", archive=archive)
    assert r.code == 1 and "not the archive's signing key" in r.error


def test_journal_truncated_caught_with_since(filled, tmp_path, docs):
    archive, ids = filled
    commits = journal_commits(archive)
    old_state = sh_git(archive, "rev-parse", "refs/eakte/state")
    saved = tmp_path / "checkpoint"
    file_docs(archive, [docs / "scan.pdf"])
    saved.write_bytes(run("checkpoint", archive=archive, check=0).out)
    n = len(journal_commits(archive))
    # cut the journal back and put back the matching older state
    sh_git(archive, "update-ref", "refs/heads/journal", commits[-1])
    sh_git(archive, "update-ref", "refs/eakte/state", old_state)
    # the index still knows the cut event ...
    expect_failure(archive, "index drift", "applied")
    # ... unless the operator rebuilds it too
    run("reindex", archive=archive, check=0)
    run("verify", archive=archive, check=0)      # consistent on its own
    expect_failure(archive, f"fewer than the {n}", "truncated", args=["--since", str(saved)])


def test_truncated_without_state_restore(filled):
    archive, ids = filled
    commits = journal_commits(archive)
    sh_git(archive, "update-ref", "refs/heads/journal", commits[-3])
    expect_failure(archive, "truncated")


def test_rewritten_resigned_history(tmp_path, docs):
    """Two archives share a key; one's history replaces the other's: only --since catches it."""
    a = tmp_path / "a"
    run("init", a, "--origin", "test.musterstadt.de/eakte", check=0)
    run("plan", "import", PLAN, archive=a, check=0)
    make_akten(a, "32.10.02-2026/0007")
    file_docs(a, [docs / "brief.txt", docs / "scan.pdf"])
    saved = tmp_path / "checkpoint"
    saved.write_bytes(run("checkpoint", archive=a, check=0).out)
    # The operator keeps the key and genesis, and builds a different history
    # of the same length and more, signed with the same key: restore the
    # state at genesis and file other documents through eakte itself.
    commits = journal_commits(a)
    sh_git(a, "update-ref", "refs/heads/journal", commits[0])
    # find the first state commit (the one written at init) among all objects
    objs = sh_git(a, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)").splitlines()
    states = []
    for line in objs:
        oid, kind = line.split()
        if kind != "commit":
            continue
        body = git(a, "cat-file", "commit", oid).stdout
        if b"eakte state" in body:
            head = json.loads(git(a, "cat-file", "blob", f"{oid}:head.json").stdout)
            states.append((head["size"], oid))
    first = min(states)[1]
    sh_git(a, "update-ref", "refs/eakte/state", first)
    other = tmp_path / "other.txt"
    other.write_text("a quite different document")
    # the index notices that the journal was rewritten and rebuilds itself
    run("plan", "import", PLAN, archive=a, check=0)
    make_akten(a, "32.10.02-2026/0007")
    file_docs(a, [other, docs / "foto.jpg", docs / "empty.txt"])
    run("verify", archive=a, check=0)              # a perfectly signed archive
    r = run("verify", "--since", saved, archive=a, check=1)
    assert "does not extend the saved checkpoint" in r.error


def test_akte_metadata_object_replaced(filled, tmp_path):
    """The title of an Akte lives in a salted object named by its signed
    akte-create event: replacing it is caught."""
    archive, ids = filled
    other = write_object(archive, "blob", b'{"akte":"A-1","salt":"x","title":"forged","v":1}')
    state = sh_git(archive, "rev-parse", "refs/eakte/state")
    env = {"GIT_INDEX_FILE": str(tmp_path / "index")}
    sh_git(archive, "read-tree", state, env=env)
    paths = sh_git(archive, "ls-files", env=env).splitlines()
    akte = next(p for p in paths if p.startswith("akten/") and p.endswith("/akte.meta"))
    sh_git(archive, "update-index", "--cacheinfo", f"100644,{other},{akte}", env=env)
    tree = sh_git(archive, "write-tree", env=env)
    sh_git(archive, "update-ref", "refs/eakte/state", sh_git(archive, "commit-tree", tree, "-m", "eakte state", env=env))
    expect_failure(archive, "metadata object expected=", f"actual={other}")
