"""docs/verification.md: the auditor's procedure with only git, openssl,
sha256sum and the short script, run exactly as documented."""
import subprocess

from conftest import SOURCE_ROOT, file_docs, git, journal_size, run

AUDIT = SOURCE_ROOT / "docs" / "auditor" / "audit.sh"


def audit(archive, *extra):
    return subprocess.run(["sh", str(AUDIT), str(archive), *map(str, extra)], capture_output=True)


def test_audit_passes_on_a_good_archive(archive, docs, tmp_path):
    saved = tmp_path / "cp"
    saved.write_bytes(run("checkpoint", archive=archive, check=0).out)
    file_docs(archive, sorted(docs.iterdir()))
    p = audit(archive, saved)
    assert p.returncode == 0, p.stderr
    assert f"AUDIT OK: {journal_size(archive)} events, 4 documents".encode() in p.stdout


def test_audit_catches_changed_content(archive, docs):
    ids = file_docs(archive, sorted(docs.iterdir()))
    oid = git(archive, "rev-parse", f"refs/eakte/state:docs/{ids[1][-2:]}/{ids[1][-4:-2]}/{ids[1]}/1.content").stdout.decode().strip()
    p = archive / "store.git" / "objects" / oid[:2] / oid[2:]
    p.chmod(0o644)
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 1
    p.write_bytes(bytes(data))
    r = audit(archive)
    assert r.returncode == 1 and b"AUDIT FAILED" in r.stderr


def test_audit_catches_a_changed_checkpoint_key(archive, docs, tmp_path):
    file_docs(archive, [docs / "brief.txt"])
    other = tmp_path / "other"
    run("init", other, "--origin", "test.musterstadt.de/eakte", check=0)
    (archive / "keys" / "signing.pub.pem").write_bytes((other / "keys" / "signing.pub.pem").read_bytes())
    r = audit(archive)
    assert r.returncode == 1 and b"AUDIT FAILED" in r.stderr
