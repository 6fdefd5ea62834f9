"""Export packages: `eakte export`, `eakte verify-package`, `eakte import`,
the tamper matrix and hostile packages.  Packages are re-checked with
independent tools (Python's tarfile/zipfile and hashlib, openssl, ssh-keygen;
the `bagit` Python module is not packaged in Debian 12, so it is not used)
and changed the way an attacker with the file would change them."""
import base64
import hashlib
import io
import json
import os
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import EAKTE, PLAN, journal_size, make_akten, run, run_peak

AZ = "32.10.02-2026/0007"


@pytest.fixture
def rich(archive, docs, tmp_path):
    """An Akte with a Vorgang, versions, metadata changes and a closed state."""
    v = run("akte", "create", "--vorgang", AZ, "--title", "Bauantrag Müller", archive=archive, check=0).text.strip()
    ids = run("file", docs / "brief.txt", docs / "scan.pdf", "--akte", AZ, "--vorgang", v,
              "--meta", "absender=Müller", archive=archive, check=0).text.split()
    (tmp_path / "v2.txt").write_text("Zweite Fassung des Briefes\n", encoding="utf-8")
    run("file", "--new-version-of", ids[0], tmp_path / "v2.txt", archive=archive, check=0)
    run("meta", "set", ids[1], "absender=Schäfer", "--title", "Scan", archive=archive, check=0)
    run("file", docs / "foto.jpg", docs / "empty.txt", "--akte", AZ, archive=archive, check=0)
    # another Akte's documents must not leak into the package
    run("file", docs / "brief.txt", "--akte", "A-1", archive=archive, check=0)
    return archive, ids


def export(archive, path, *extra, check=0):
    return run("export", AZ, "-o", path, *extra, archive=archive, check=check)


def members(path):
    """name -> bytes of every member, read with Python's own readers."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            return {i.filename: z.read(i) for i in z.infolist()}
    with tarfile.open(path) as t:
        return {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}


def write_tar(path, files, fmt=tarfile.PAX_FORMAT):
    with tarfile.open(path, "w", format=fmt) as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))


def rebag(files):
    """Recompute manifest and tag manifest: the attacker who also fixes the
    BagIt checksums, so that the eakte checks underneath are what fails."""
    payload = sorted(n for n in files if n.startswith("data/"))
    files["manifest-sha256.txt"] = "".join(
        f"{hashlib.sha256(files[n]).hexdigest()}  {n}\n" for n in payload).encode()
    oxum = f"{sum(len(files[n]) for n in payload)}.{len(payload)}"
    info = b"".join(l + b"\n" for l in files["bag-info.txt"].splitlines() if not l.startswith(b"Payload-Oxum"))
    files["bag-info.txt"] = info + f"Payload-Oxum: {oxum}\n".encode()
    files["tagmanifest-sha256.txt"] = "".join(
        f"{hashlib.sha256(files[n]).hexdigest()}  {n}\n"
        for n in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt")).encode()
    return files


def verify_package(path, *extra, check=None):
    return run("verify-package", path, *extra, check=check)


def failed(path, *extra):
    r = verify_package(path, *extra)
    assert r.code == 1, r
    assert "FAILED" in r.error
    return r.error


def package_schema_errors(report):
    from jsonschema import Draft202012Validator
    from conftest import SOURCE_ROOT
    schema = json.loads((SOURCE_ROOT / "schema" / "package-v1.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return [e.message for e in Draft202012Validator(schema).iter_errors(report)]


# --- export and verify-package ----------------------------------------------

@pytest.mark.parametrize("fmt", ["tar", "zip"])
def test_export_verifies_and_is_journaled(rich, tmp_path, fmt):
    archive, ids = rich
    pkg = tmp_path / f"akte.{fmt}"
    n = journal_size(archive)
    r = export(archive, pkg, "--json")
    res = json.loads(r.text)
    assert res["format"] == f"bagit-{fmt}" and res["documents"] == 5
    data = pkg.read_bytes()
    assert res["sha256"] == hashlib.sha256(data).hexdigest() and res["size"] == len(data)
    # the export event: contract shape, journaled after the package
    log = [json.loads(l) for l in run("log", "--json", archive=archive, check=0).text.splitlines()]
    assert len(log) == n + 1
    ev = log[-1]["event"]
    assert ev["action"] == "export" and ev["akte"] == AZ and ev["format"] == f"bagit-{fmt}"
    assert ev["package"] == {"sha256": res["sha256"], "size": res["size"]}
    assert ev["checkpoint"] == res["checkpoint"] == n
    run("verify", archive=archive, check=0)

    out = verify_package(pkg, check=0).text
    assert "OK:" in out and AZ in out
    assert "OK: standard input verifies" in run("verify-package", "-", input=data, check=0).text
    bad = bytearray(data)
    bad[len(bad) // 2] ^= 1
    assert run("verify-package", "-", input=bytes(bad)).code == 1
    fp = out.split("signed by: ")[1].split()[0]
    # the fingerprint is the one ssh-keygen prints for the archive's key
    line = (archive / "keys" / "allowed_signers").read_text().split()
    kg = subprocess.run(["ssh-keygen", "-lf", "-"], input=f"{line[-2]} {line[-1]}\n".encode(),
                        capture_output=True, check=True).stdout.decode()
    assert fp == kg.split()[1]
    assert "not pinned" in out and "only self-consistent" in out
    for key in ("signing.pub.pem", "note.vkey", "allowed_signers"):
        out = verify_package(pkg, "--key", archive / "keys" / key, check=0).text
        assert "matches the pinned key" in out
    rep = json.loads(verify_package(pkg, "--json", check=0).text)
    assert rep["ok"] and rep["key"]["fingerprint"] == fp and rep["key"]["pinned"] is None
    assert rep["package"]["sha256"] == res["sha256"] and package_schema_errors(rep) == []
    cross_check(pkg, archive, ids)


def cross_check(pkg, archive, ids):
    """Independent re-check with Python's readers and hashlib."""
    files = members(pkg)
    assert files["bagit.txt"] == b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    listed = {}
    for l in files["manifest-sha256.txt"].decode().splitlines():
        h, name = l.split("  ", 1)
        assert hashlib.sha256(files[name]).hexdigest() == h, name
        listed[name] = h
    assert sorted(listed) == sorted(n for n in files if n.startswith("data/"))
    for l in files["tagmanifest-sha256.txt"].decode().splitlines():
        h, name = l.split("  ", 1)
        assert hashlib.sha256(files[name]).hexdigest() == h, name
    events = {int(n[13:-5]): json.loads(files[n]) for n in files if n.startswith("data/journal/") and n.endswith(".json")}
    actions = sorted(e["action"] for e in events.values())
    assert actions.count("file") == 5 and actions.count("meta") == 1 and "akte-create" in actions
    assert "vorgang-create" in actions and "genesis" in actions and "plan" in actions
    for seq, e in events.items():
        assert e["seq"] == seq
        if e["action"] == "file":
            content = files[f"data/documents/{e['doc']}/{e['version']}.content"]
            assert hashlib.sha256(content).hexdigest() == e["content"]["sha256"]
            assert len(content) == e["content"]["size"]
            assert e["akte"] == AZ
        if "meta" in e:
            obj = files[f"data/objects/{e['meta']['sha256']}.json"]
            assert hashlib.sha256(obj).hexdigest() == e["meta"]["sha256"]
        # every proof holds on its own with `eakte verify-proof` and the archive's key
        p = files[f"data/journal/{seq}.proof"]
        assert files["data/journal/checkpoint"] in p
        (pkg.parent / "one.proof").write_bytes(p)
        run("verify-proof", pkg.parent / "one.proof", "--key-file", archive / "keys" / "note.vkey", check=0)
    # the content is exactly what `eakte get` gives
    got = run("get", ids[0], "--version", "1", archive=archive, check=0).out
    ev = next(e for e in events.values() if e["action"] == "file" and e["doc"] == ids[0] and e["version"] == 1)
    assert files[f"data/documents/{ids[0]}/1.content"] == got == files[f"data/documents/{ids[0]}/{ev['version']}.content"]
    akte = json.loads(files["data/akte.json"])
    assert akte["az"] == AZ and akte["plan"]["code"] == "32.10.02" and akte["vorgaenge"][0]["title"] == "Bauantrag Müller"
    doc = next(d for d in akte["vorgaenge"][0]["documents"] if d["id"] == ids[0])
    assert [v["version"] for v in doc["versions"]] == [1, 2]
    assert "A-1" not in json.dumps(akte)


def test_export_refusals_leave_nothing(archive, tmp_path):
    n = journal_size(archive)
    r = run("export", "NO-SUCH", "-o", tmp_path / "x.tar", archive=archive, check=3)
    assert "does not exist" in r.error
    (tmp_path / "exists.tar").write_bytes(b"keep")
    r = run("export", AZ, "-o", tmp_path / "exists.tar", archive=archive, check=4)
    assert (tmp_path / "exists.tar").read_bytes() == b"keep"
    run("export", AZ, "-o", tmp_path / "nodir" / "x.tar", archive=archive, check=3)
    run("export", AZ, "-o", tmp_path / "x.tar", "--format", "rar", archive=archive, check=2)
    run("export", AZ, archive=archive, check=2)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["exists.tar"]
    assert journal_size(archive) == n
    # format from the name, else tar
    run("export", AZ, "-o", tmp_path / "a.ZIP", archive=archive, check=0)
    assert zipfile.is_zipfile(tmp_path / "a.ZIP")
    run("export", AZ, "-o", tmp_path / "a.bag", archive=archive, check=0)
    assert tarfile.is_tarfile(tmp_path / "a.bag")


def test_export_streams_large_documents(archive, tmp_path):
    big = tmp_path / "big.txt"
    line = b"Zeile eines grossen Dokuments, das nie ganz im Speicher liegen darf.\n"
    with open(big, "wb") as f:
        for _ in range(160 * 1024 * 1024 // len(line)):
            f.write(line)
    run("file", big, "--akte", AZ, archive=archive, check=0)
    pkg = tmp_path / "big.zip"
    _, peak = run_peak(archive, "export", AZ, "-o", pkg)
    assert peak < 100 * 1024, f"export: peak RSS {peak} KiB for a 160 MiB document"
    _, peak = run_peak(None, "verify-package", pkg)
    assert peak < 100 * 1024, f"verify-package: peak RSS {peak} KiB for a 160 MiB document"
    # killed while writing: no file at all, never a partial one
    out = tmp_path / "killed"
    out.mkdir()
    for delay in (0.05, 0.2, 0.5):
        n = journal_size(archive)
        k = subprocess.Popen([EAKTE, "--archive", str(archive), "export", AZ, "-o", str(out / "p.tar")])
        import time
        time.sleep(delay)
        k.kill()
        k.wait()
        left = list(out.iterdir())
        if left:   # it finished before the kill: then it is complete and journaled
            assert left == [out / "p.tar"]
            verify_package(out / "p.tar", check=0)
            (out / "p.tar").unlink()
        else:
            assert journal_size(archive) == n


# --- the tamper matrix ----------------------------------------------------------

@pytest.fixture
def pkg(rich, tmp_path):
    archive, ids = rich
    p = tmp_path / "akte.tar"
    export(archive, p)
    return archive, p, members(p)


def first(files, action):
    for n in sorted(files):
        if n.startswith("data/journal/") and n.endswith(".json") and json.loads(files[n])["action"] == action:
            return n
    raise AssertionError(action)


def tampered(tmp_path, files, name="t.tar"):
    p = tmp_path / name
    write_tar(p, files)
    return p


def test_tamper_document_byte(pkg, tmp_path):
    archive, p, files = pkg
    ev = json.loads(files[first(files, "file")])
    name = f"data/documents/{ev['doc']}/{ev['version']}.content"
    files[name] = bytes([files[name][0] ^ 1]) + files[name][1:]
    assert f"{name} does not match" in failed(tampered(tmp_path, files))
    # with the bag's checksums fixed the filing event still catches it
    err = failed(tampered(tmp_path, rebag(files), "t2.tar"))
    assert name in err and f"its filing event {ev['seq']}" in err


def test_tamper_event(pkg, tmp_path):
    archive, p, files = pkg
    name = first(files, "meta")
    ev = json.loads(files[name])
    ev["actor"] = "unix:4711:mallory"
    files[name] = json.dumps(ev, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    err = failed(tampered(tmp_path, rebag(files)))
    assert name.replace(".json", ".proof") in err


def test_tamper_metadata_object(pkg, tmp_path):
    archive, p, files = pkg
    name = next(n for n in files if n.startswith("data/objects/"))
    files[name] = files[name].replace(b'"v":1', b'"v":2')
    err = failed(tampered(tmp_path, rebag(files)))
    assert name in err and "does not match event" in err


def test_tamper_removed_proof(pkg, tmp_path):
    archive, p, files = pkg
    name = first(files, "akte-create").replace(".json", ".proof")
    del files[name]
    err = failed(tampered(tmp_path, rebag(files)))
    assert f"{name} (the inclusion proof of event" in err and "missing" in err


def test_tamper_changed_proof(pkg, tmp_path):
    archive, p, files = pkg
    name = first(files, "vorgang-create").replace(".json", ".proof")
    lines = files[name].split(b"\n")
    i = next(i for i, l in enumerate(lines) if l.startswith(b"hash "))
    h = bytearray(base64.b64decode(lines[i][5:]))
    h[0] ^= 1
    lines[i] = b"hash " + base64.b64encode(bytes(h))
    files[name] = b"\n".join(lines)
    err = failed(tampered(tmp_path, rebag(files)))
    assert name in err


def test_tamper_checkpoint(pkg, tmp_path):
    archive, p, files = pkg
    cp = files["data/journal/checkpoint"].split(b"\n")
    cp[1] = str(int(cp[1]) + 1).encode()
    files["data/journal/checkpoint"] = b"\n".join(cp)
    err = failed(tampered(tmp_path, rebag(files)))
    assert "data/journal/checkpoint" in err and "signature" in err


def test_tamper_wrong_key(pkg, tmp_path):
    """A forger's archive with the same origin and Akte signs a self-consistent
    package: only the pinned key tells it apart."""
    archive, p, files = pkg
    forged = tmp_path / "forged"
    run("init", forged, "--origin", "test.musterstadt.de/eakte", check=0)
    run("plan", "import", PLAN, archive=forged, check=0)
    make_akten(forged, AZ)
    fp = tmp_path / "forged.tar"
    run("export", AZ, "-o", fp, archive=forged, check=0)
    out = verify_package(fp, check=0).text
    assert "not pinned" in out
    err = failed(fp, "--key", archive / "keys" / "signing.pub.pem")
    assert "not by the pinned key" in err
    # also when the forger swaps only the key files of the real package
    files["data/journal/note.vkey"] = (forged / "keys" / "note.vkey").read_bytes()
    files["data/journal/signing.pub.pem"] = (forged / "keys" / "signing.pub.pem").read_bytes()
    err = failed(tampered(tmp_path, rebag(files)))
    assert "data/journal/checkpoint" in err
    # and the genesis event names the real key
    files = members(fp)
    files["data/journal/0.json"] = members(p)["data/journal/0.json"]
    files["data/journal/0.proof"] = members(p)["data/journal/0.proof"]
    err = failed(tampered(tmp_path, rebag(files), "g.tar"))
    assert "data/journal/0.proof" in err


def test_tamper_manifest_line_removed(pkg, tmp_path):
    archive, p, files = pkg
    lines = files["manifest-sha256.txt"].split(b"\n")
    removed = next(l for l in lines if b"/objects/" in l)
    files["manifest-sha256.txt"] = b"\n".join(l for l in lines if l != removed)
    err = failed(tampered(tmp_path, files))
    assert "is not listed in manifest-sha256.txt" in err and removed.split(b"  ")[1].decode() in err
    files = rebag(members(p))
    files["manifest-sha256.txt"] = b"\n".join(l for l in files["manifest-sha256.txt"].split(b"\n") if l != removed)
    files["tagmanifest-sha256.txt"] = "".join(
        f"{hashlib.sha256(files[n]).hexdigest()}  {n}\n"
        for n in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt")).encode()
    err = failed(tampered(tmp_path, files, "t2.tar"))
    assert "is not listed in manifest-sha256.txt" in err and removed.split(b"  ")[1].decode() in err


def test_tamper_extra_payload_file(pkg, tmp_path):
    archive, p, files = pkg
    files["data/documents/extra.content"] = b"smuggled"
    err = failed(tampered(tmp_path, files))
    assert "data/documents/extra.content is not listed" in err
    err = failed(tampered(tmp_path, rebag(files), "t2.tar"))
    assert "unexpected member data/documents/extra.content" in err
    files = members(p)
    files["extra.txt"] = b"tag file"
    err = failed(tampered(tmp_path, files, "t3.tar"))
    assert "extra.txt" in err


def test_tamper_truncated(pkg, tmp_path):
    archive, p, files = pkg
    data = p.read_bytes()
    for cut in (len(data) // 2, len(data) - 3000, 700):
        t = tmp_path / f"cut{cut}.tar"
        t.write_bytes(data[:cut])
        err = failed(t)
        assert "damaged or truncated" in err or "is missing" in err or "cannot be read" in err
    z = tmp_path / "akte.zip"
    export(archive, z)
    zd = z.read_bytes()
    t = tmp_path / "cut.zip"
    t.write_bytes(zd[: len(zd) // 2])
    failed(t)
    (tmp_path / "junk").write_bytes(os.urandom(5000))
    assert "not a tar or zip" in failed(tmp_path / "junk")
    verify_package(tmp_path / "missing.tar", check=3)


# --- hostile packages -----------------------------------------------------------

def hostile_tar(path, entries):
    """entries: TarInfo-like dicts: name (str or bytes), type, data, size, linkname."""
    with open(path, "wb") as f:
        for e in entries:
            info = tarfile.TarInfo("x")
            name = e["name"]
            if isinstance(name, bytes):
                name = name.decode("utf-8", "surrogateescape")
            info.name = name
            info.type = e.get("type", tarfile.REGTYPE)
            info.linkname = e.get("linkname", "")
            data = e.get("data", b"")
            info.size = e.get("size", len(data)) if info.type == tarfile.REGTYPE else 0
            f.write(info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape"))
            if info.type == tarfile.REGTYPE:
                f.write(data)
                if len(data) % 512:
                    f.write(b"\0" * (512 - len(data) % 512))
        f.write(b"\0" * 1024)


BAGIT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"


HOSTILE = [
    ("traversal", [{"name": "bagit.txt", "data": BAGIT}, {"name": "data/../../etc/evil", "data": b"x"}], "path traversal"),
    ("absolute", [{"name": "/etc/evil", "data": b"x"}], "absolute name"),
    ("symlink", [{"name": "data/link", "type": tarfile.SYMTYPE, "linkname": "/etc/passwd"}], "symbolic link"),
    ("hardlink", [{"name": "data/a", "data": b"x"}, {"name": "data/b", "type": tarfile.LNKTYPE, "linkname": "data/a"}],
     "hard link"),
    ("device", [{"name": "data/dev", "type": tarfile.CHRTYPE}], "not a regular file"),
    ("fifo", [{"name": "data/fifo", "type": tarfile.FIFOTYPE}], "not a regular file"),
    ("huge", [{"name": "data/huge", "size": 100 << 30, "data": b"x" * 512}], "more than the limit"),
    ("duplicate", [{"name": "bagit.txt", "data": BAGIT}, {"name": "bagit.txt", "data": BAGIT}], "occurs twice"),
    ("non-utf8", [{"name": b"data/\xff\xfe.txt", "data": b"x"}], "not valid UTF-8"),
    ("control", [{"name": "data/a\x1bb", "data": b"x"}], "control character"),
    ("dotdot-only", [{"name": "..", "data": b"x"}], "path traversal"),
    ("long-name", [{"name": "data/" + "a/" * 600 + "x", "data": b"x"}], "limit is 1024"),
]


@pytest.mark.parametrize("case,entries,message", HOSTILE)
def test_hostile_tar(tmp_path, case, entries, message):
    p = tmp_path / f"{case}.tar"
    hostile_tar(p, entries)
    before = set(os.listdir(tmp_path))
    err = failed(p)
    assert message in err, err
    assert set(os.listdir(tmp_path)) == before      # nothing was extracted anywhere
    assert not Path("/etc/evil").exists()


def test_hostile_zip_bomb_and_members(tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("bagit.txt", BAGIT)
        with z.open("data/zeros", "w") as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(64):
                f.write(chunk)
    assert bomb.stat().st_size < 1 << 20
    assert "compression bomb" in failed(bomb)
    # zip names are checked the same way
    z2 = tmp_path / "names.zip"
    with zipfile.ZipFile(z2, "w") as z:
        z.writestr("../evil", b"x")
    assert "path traversal" in failed(z2)
    z3 = tmp_path / "dup.zip"
    with zipfile.ZipFile(z3, "w") as z:
        z.writestr("bagit.txt", BAGIT)
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            z.writestr("bagit.txt", BAGIT)
    assert "occurs twice" in failed(z3)
    z4 = tmp_path / "link.zip"
    with zipfile.ZipFile(z4, "w") as z:
        info = zipfile.ZipInfo("data/link")
        info.external_attr = (0o120777 << 16)
        info.create_system = 3
        z.writestr(info, "/etc/passwd")
    assert "symbolic link" in failed(z4)


def test_hostile_too_many_members(tmp_path):
    p = tmp_path / "many.tar"
    with open(p, "wb") as f:
        info = tarfile.TarInfo("x")
        for i in range(100001):
            info.name = f"data/{i}"
            f.write(info.tobuf(tarfile.USTAR_FORMAT))
        f.write(b"\0" * 1024)
    assert "more than 100000 members" in failed(p)


def test_not_a_bag_and_bag_directories(tmp_path):
    p = tmp_path / "plain.tar"
    write_tar(p, {"data/x": b"x"})
    assert "bagit.txt is missing" in failed(p)
    # a plain bag directory (the conformance suite's form)
    bag = tmp_path / "bag"
    (bag / "data").mkdir(parents=True)
    (bag / "bagit.txt").write_bytes(BAGIT)
    (bag / "data" / "a.txt").write_bytes(b"hello\n")
    (bag / "manifest-md5.txt").write_text(f"{hashlib.md5(b'hello' + bytes([10])).hexdigest()}  data/a.txt\n")
    assert "valid BagIt 1.0 bag" in verify_package(bag, check=0).text
    (bag / "data" / "b.txt").write_bytes(b"unlisted")
    assert "data/b.txt is not listed" in failed(bag)
    (bag / "data" / "b.txt").unlink()
    os.symlink("/etc/passwd", bag / "data" / "link")
    assert "symlinks" in failed(bag)


# --- through the daemon -----------------------------------------------------------

def test_export_through_daemon_roles(rich, tmp_path):
    from test_daemon import Client, Daemon
    archive, ids = rich
    for role, ok in (("auditor", True), ("records", True), ("admin", True), ("reader", False), ("clerk", False)):
        d = Daemon(archive, tmp_path / "s", roles=(f"root={role}",))
        try:
            pkg = tmp_path / f"{role}.zip"
            n = journal_size(archive)
            r = run("--socket", d.sock, "export", AZ, "-o", pkg, "--json")
            if not ok:
                assert r.code == 4 and "permission denied" in r.error, r
                assert not pkg.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(f"{role}.zip")]
                continue
            assert r.code == 0, r
            res = json.loads(r.text)
            assert res["sha256"] == hashlib.sha256(pkg.read_bytes()).hexdigest()
            assert zipfile.is_zipfile(pkg)
            verify_package(pkg, "--key", archive / "keys" / "note.vkey", check=0)
            ev = json.loads(run("log", "--json", archive=archive, check=0).text.splitlines()[-1])["event"]
            assert ev["action"] == "export" and ev["seq"] == n and ev["package"]["sha256"] == res["sha256"]
            # verify-package never needs the daemon, even with --socket given
            assert "OK:" in run("--socket", d.sock, "verify-package", pkg, check=0).text
            # a raw client: the response matches the protocol schema
            c = Client(d.sock)
            fd = os.open(tmp_path / f"{role}.raw.tar", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                resp = c.call({"v": 1, "op": "export", "akte": AZ, "format": "tar"}, [fd])
            finally:
                os.close(fd)
                c.close()
            assert resp["ok"] and resp["size"] == (tmp_path / f"{role}.raw.tar").stat().st_size
            verify_package(tmp_path / f"{role}.raw.tar", check=0)
        finally:
            assert d.stop() == 0, d.logtext()
    run("verify", archive=archive, check=0)


# --- import -------------------------------------------------------------------------

def objects_on_disk(archive):
    return sorted(str(p) for p in (archive / "store.git" / "objects").rglob("*") if p.is_file())


@pytest.fixture
def other(tmp_path):
    o = tmp_path / "other"
    run("init", o, "--origin", "landesarchiv.example/eakte", check=0)
    run("plan", "import", PLAN, archive=o, check=0)
    return o


def log_events(archive):
    return [json.loads(l)["event"] for l in run("log", "--json", archive=archive, check=0).text.splitlines()]


def test_import_into_second_archive(rich, other, tmp_path):
    archive, ids = rich
    pkg = tmp_path / "akte.tar"
    export(archive, pkg)
    src = members(pkg)
    r = run("import", pkg, "--key", archive / "keys" / "allowed_signers", "--json", archive=other, check=0)
    res = json.loads(r.text)
    assert res["akte"] == AZ and res["documents"] == 5
    run("verify", archive=other, check=0)
    show = run("akte", "show", AZ, "--json", archive=other, check=0).text
    assert "Bauantrag Müller" in show and "Testakte" in show
    evs = log_events(other)
    imp = evs[res["seq"]]
    assert imp["action"] == "import" and imp["akte"] == AZ
    assert imp["source"]["origin"] == "test.musterstadt.de/eakte"
    assert imp["source"]["package"] == {"sha256": hashlib.sha256(pkg.read_bytes()).hexdigest(), "size": pkg.stat().st_size}
    assert imp["source"]["fingerprint"] in verify_package(pkg, check=0).text
    replayed = evs[res["seq"] + 1:]
    assert len(replayed) == res["events"] - 1
    assert sorted(e["action"] for e in replayed) == sorted(
        json.loads(v)["action"] for n, v in src.items() if n.endswith(".json") and n.startswith("data/journal/")
        and json.loads(v)["action"] in ("akte-create", "vorgang-create", "file", "meta", "akte-close", "akte-reopen"))
    note = imp["source"]["checkpoint"]["note"]
    assert note.encode() == src["data/journal/checkpoint"]
    vkey = tmp_path / "src.vkey"
    vkey.write_text(imp["source"]["key"] + "\n")
    for e in replayed:
        orig = base64.b64decode(e["imported"]["event"])
        assert orig == src[f"data/journal/{e['imported']['seq']}.json"]
        # the original proof, rebuilt from this archive's journal alone
        proof = (f"eakte inclusion proof v1\nindex {e['imported']['seq']}\nevent {e['imported']['event']}\n"
                 + "".join(f"hash {h}\n" for h in e["imported"]["proof"]) + "\n" + note)
        (tmp_path / "p.proof").write_text(proof)
        run("verify-proof", tmp_path / "p.proof", "--key-file", vkey, check=0)
        if e["action"] == "file":
            o = json.loads(orig)
            assert e["content"]["sha256"] == o["content"]["sha256"] and e["content"]["size"] == o["content"]["size"]
            got = run("get", e["doc"], "--version", str(e["version"]), archive=other, check=0).out
            assert got == src[f"data/documents/{o['doc']}/{o['version']}.content"]
    # the imported Akte exports and verifies again, from its new home
    again = tmp_path / "again.zip"
    run("export", AZ, "-o", again, archive=other, check=0)
    out = verify_package(again, "--key", other / "keys" / "note.vkey", check=0).text
    assert "OK:" in out
    # every event of both archives matches the event schema
    from test_schemas import errors
    for e in log_events(other) + log_events(archive):
        assert errors("event-v1", e) == [], e
    rep = json.loads(verify_package(again, "--json", check=0).text)
    assert package_schema_errors(rep) == []
    bad = json.loads(verify_package(again, "--json", "--key", archive / "keys" / "note.vkey").text)
    assert not bad["ok"] and bad["key"]["pinned"] is False and package_schema_errors(bad) == []

    # the same Aktenzeichen again: refused, nothing changed; --as takes it in
    n = journal_size(other)
    r = run("import", pkg, archive=other, check=4)
    assert "exists already" in r.error and "--as" in r.error
    assert journal_size(other) == n
    run("import", pkg, "--as", "IMP-2", archive=other, check=0)
    run("verify", archive=other, check=0)
    assert "IMP-2" in run("akte", "ls", archive=other, check=0).text


def test_import_refuses_what_does_not_verify(rich, other, tmp_path):
    archive, ids = rich
    pkg = tmp_path / "akte.tar"
    export(archive, pkg)
    files = members(pkg)
    ev = json.loads(files[first(files, "file")])
    name = f"data/documents/{ev['doc']}/{ev['version']}.content"
    files[name] = files[name] + b"!"
    bad = tampered(tmp_path, rebag(files))
    forged = tmp_path / "forged"
    run("init", forged, "--origin", "test.musterstadt.de/eakte", check=0)
    run("plan", "import", PLAN, archive=forged, check=0)
    make_akten(forged, AZ)
    fpkg = tmp_path / "forged.tar"
    run("export", AZ, "-o", fpkg, archive=forged, check=0)
    hostile = tmp_path / "hostile.tar"
    hostile_tar(hostile, [{"name": "bagit.txt", "data": BAGIT}, {"name": "data/../../evil", "data": b"x"}])
    link = tmp_path / "link.tar"
    hostile_tar(link, [{"name": "data/link", "type": tarfile.SYMTYPE, "linkname": "/etc/passwd"}])
    cases = [(bad, (), "does not match its filing event"),
             (fpkg, ("--key", archive / "keys" / "note.vkey"), "not by the pinned key"),
             (hostile, (), "path traversal"), (link, (), "symbolic link")]
    for case, entries, message in HOSTILE:
        hostile_tar(tmp_path / f"h-{case}.tar", entries)
        cases.append((tmp_path / f"h-{case}.tar", (), message))
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("bagit.txt", BAGIT)
        z.writestr("data/zeros", b"\0" * (32 << 20))
    cases.append((bomb, (), "compression bomb"))
    n, objs = journal_size(other), objects_on_disk(other)
    for p, extra, msg in cases:
        r = run("import", p, *extra, archive=other)
        assert r.code == 1 and msg in r.error and "nothing was imported" in r.error, r
        assert journal_size(other) == n and objects_on_disk(other) == objs
    # the format policy applies to imported documents
    conf = other / "eakte.conf"
    conf.write_text(conf.read_text().replace("text/plain", "text/x-nothing"))
    r = run("import", pkg, archive=other, check=4)
    assert "format policy" in r.error and "nothing was imported" in r.error
    assert journal_size(other) == n
    run("verify", archive=other, check=0)


def test_import_through_daemon(rich, other, tmp_path):
    from test_daemon import Client, Daemon
    archive, ids = rich
    pkg = tmp_path / "akte.zip"
    export(archive, pkg)
    for role, ok in (("clerk", False), ("auditor", False), ("records", True)):
        d = Daemon(other, tmp_path / "s", roles=(f"root={role}",))
        try:
            r = run("--socket", d.sock, "import", pkg, "--as", f"IMP-{role}", "--key", archive / "keys" / "signing.pub.pem")
            if ok:
                assert r.code == 0 and f"IMP-{role}" in r.text, r
            else:
                assert r.code == 4 and "permission denied" in r.error, r
            r = run("--socket", d.sock, "import", pkg, "--as", "IMP-x", "--key", other / "keys" / "note.vkey")
            assert r.code == (1 if ok else 4), r
            if ok:   # a raw client: request and response match the protocol schema
                c = Client(d.sock)
                fd = os.open(pkg, os.O_RDONLY)
                try:
                    resp = c.call({"v": 1, "op": "import", "as": "IMP-raw",
                                   "key": (archive / "keys" / "note.vkey").read_text()}, [fd])
                    bad = c.call({"v": 1, "op": "import", "as": "IMP-raw"}, [fd])
                finally:
                    os.close(fd)
                    c.close()
                assert resp["ok"] and resp["az"] == "IMP-raw" and resp["documents"] == 5
                assert not bad["ok"] and bad["error"]["name"] == "exists"
        finally:
            assert d.stop() == 0, d.logtext()
    run("verify", archive=other, check=0)


def openssl(*args, input=None):
    p = subprocess.run(["openssl", *args], input=input, capture_output=True)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_tamper_resigned_with_another_key(pkg, tmp_path):
    """The real package, its checkpoint re-signed (C2SP signed note, with
    openssl) by a key of the forger's and every proof and key file replaced:
    self-consistent, so only the genesis event or a pinned key tells."""
    archive, p, files = pkg
    key = tmp_path / "forger.pem"
    key.write_bytes(openssl("genpkey", "-algorithm", "ed25519"))
    pub = openssl("pkey", "-in", key, "-pubout", "-outform", "DER")[-32:]
    cp = files["data/journal/checkpoint"]
    body = cp[: cp.index(b"\n\n") + 1]
    origin = body.split(b"\n")[0]
    keyid = hashlib.sha256(origin + b"\n\x01" + pub).digest()[:4]
    (tmp_path / "body").write_bytes(body)
    sig = openssl("pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", tmp_path / "body")
    note = body + b"\n" + "\u2014 ".encode() + origin + b" " + base64.b64encode(keyid + sig) + b"\n"
    files["data/journal/checkpoint"] = note
    files["data/journal/note.vkey"] = origin + b"+" + keyid.hex().encode() + b"+" + base64.b64encode(b"\x01" + pub) + b"\n"
    files["data/journal/signing.pub.pem"] = openssl("pkey", "-in", key, "-pubout")
    for name in list(files):
        if name.endswith(".proof"):
            files[name] = files[name][: files[name].index(b"\n\n") + 2] + note
    # with the genesis event the forgery shows without any pinned key
    err = failed(tampered(tmp_path, rebag(dict(files)), "with-genesis.tar"))
    assert "is not the genesis key of origin" in err
    # without it the package is self-consistent: only the pinned key tells
    del files["data/journal/0.json"], files["data/journal/0.proof"]
    forged = tampered(tmp_path, rebag(files), "forged.tar")
    out = verify_package(forged, check=0).text
    assert "not pinned" in out
    real = verify_package(p, check=0).text.split("signed by: ")[1].split()[0]
    assert real not in out
    err = failed(forged, "--key", archive / "keys" / "allowed_signers")
    assert "not by the pinned key" in err and real in err
