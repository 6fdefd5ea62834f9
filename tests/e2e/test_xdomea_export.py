"""`eakte export AZ --xdomea`: a zip that is both the xdomea 3.0.0 message
Aussonderung.Aussonderung.0503 with its primary files (top level) and the
BagIt bag with the proofs.  Checked here with Python's zipfile, hashlib and
ElementTree against what the archive holds; the message is validated against
the official XSD in the `vectors` suite (tests/vectors/xdomea_export.py)."""
import hashlib
import json
import re
import xml.etree.ElementTree as ET
import zipfile

import pytest

from conftest import journal_size, run
from test_packages import AZ, failed, members, rich, verify_package  # noqa: F401 (fixture)

NS = {"x": "urn:xoev-de:xdomea:schema:3.0.0"}
MESSAGE = re.compile(r"^[0-9a-f-]{36}_Aussonderung\.Aussonderung\.0503\.xml$")
BAGIT = {"bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt"}


def export_xdomea(archive, path, *extra):
    return run("export", AZ, "--xdomea", "-o", path, *extra, archive=archive, check=0)


def top_level(files):
    return {n: b for n, b in files.items() if "/" not in n and n not in BAGIT}


def rezip(path, files):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)


def retag(files):
    """The attacker who also fixes the tag manifest."""
    files["tagmanifest-sha256.txt"] = "".join(
        f"{hashlib.sha256(files[n]).hexdigest()}  {n}\n"
        for n in sorted(files) if "/" not in n and n != "tagmanifest-sha256.txt").encode()
    return files


@pytest.fixture
def xpkg(rich, tmp_path):
    archive, ids = rich
    umlaut = tmp_path / "Anhörung Schäfer <1>.txt"
    umlaut.write_text("Anhörung\n", encoding="utf-8")
    run("file", umlaut, "--akte", AZ, archive=archive, check=0)
    run("akte", "close", AZ, archive=archive, check=0)
    pkg = tmp_path / "aussonderung.zip"
    n = journal_size(archive)
    r = export_xdomea(archive, pkg, "--recipient", "Landesarchiv Musterland", "--json")
    res = json.loads(r.text)
    assert res["format"] == "xdomea" and res["seq"] == n
    return archive, ids, pkg


def test_xdomea_export_layout_and_proofs(xpkg):
    archive, ids, pkg = xpkg
    files = members(pkg)
    top = top_level(files)
    msgs = [n for n in top if MESSAGE.match(n)]
    assert len(msgs) == 1, sorted(top)
    root = ET.fromstring(top[msgs[0]])
    assert root.tag == "{urn:xoev-de:xdomea:schema:3.0.0}Aussonderung.Aussonderung.0503"
    assert root.find("x:Kopf/x:Nachrichtentyp/code", NS).text == "0503"
    assert msgs[0].startswith(root.find("x:Kopf/x:ProzessID", NS).text + "_")
    assert root.find("x:Kopf/x:Empfaenger/x:Institution/x:Name", NS).text == "Landesarchiv Musterland"
    akte = root.find("x:Schriftgutobjekt/x:Akte", NS)
    assert akte.find("x:AllgemeineMetadaten/x:Kennzeichen", NS).text == AZ
    assert akte.find("x:AllgemeineMetadaten/x:Aktenplaneinheit/x:Kennzeichen", NS).text == "32.10.02"
    assert akte.find("x:Laufzeit/x:Ende", NS) is not None  # closed (zdA)
    assert akte.find("x:ArchivspezifischeMetadaten/x:Aussonderungsart/x:Aussonderungsart/code", NS).text == "A"
    assert akte.find(".//x:Vorgang", NS) is not None
    # Every primary file is named exactly once and is a filed version, byte for byte.
    named = [e.text for e in akte.iterfind(".//x:Primaerdokument/x:Dateiname", NS)]
    primary = {n for n in top if n not in msgs}
    assert sorted(named) == sorted(primary) and len(named) == len(set(named))
    for n in primary:
        assert re.match(r"^[0-9a-f-]{36}_", n), n
    shas = {hashlib.sha256(top[n]).hexdigest() for n in primary}
    payload = {hashlib.sha256(b).hexdigest() for n, b in files.items() if n.startswith("data/documents/")}
    assert shas == payload  # the same versions as the bag's payload
    assert len(primary) == sum(1 for n in files if n.startswith("data/documents/"))
    # the umlaut file name survives, as UTF-8 (flag bit 11), made safe
    with zipfile.ZipFile(pkg) as z:
        wide = [i for i in z.infolist() if i.filename in primary and not i.filename.isascii()]
        assert [i.filename.split("_", 1)[1] for i in wide] == ["Anhörung Schäfer _1_.txt"]
        assert all(i.flag_bits & 0x800 for i in wide)
    # the tag manifest covers the message and every primary file
    tm = files["tagmanifest-sha256.txt"].decode()
    for n in top:
        assert f"{hashlib.sha256(top[n]).hexdigest()}  {n}\n" in tm
    r = verify_package(pkg, "--key", archive / "keys" / "note.vkey", "--json", check=0)
    assert json.loads(r.text)["format"] == "xdomea"
    ev = json.loads(run("log", "--json", archive=archive, check=0).text.splitlines()[-1])["event"]
    assert ev["action"] == "export" and ev["format"] == "xdomea"
    assert ev["package"]["sha256"] == hashlib.sha256(pkg.read_bytes()).hexdigest()
    run("verify", archive=archive, check=0)


def test_xdomea_tamper(xpkg, tmp_path):
    archive, ids, pkg = xpkg
    files = members(pkg)
    top = top_level(files)
    msg = next(n for n in top if MESSAGE.match(n))
    # the umlaut-named primary file first: messages must name it readably
    prim = sorted((n for n in top if n != msg), key=lambda n: (n.isascii(), n))
    assert not prim[0].isascii()

    # a changed primary file: the tag manifest names it
    t = dict(files)
    t[prim[0]] = t[prim[0]] + b"x"
    rezip(tmp_path / "a.zip", t)
    assert prim[0] in failed(tmp_path / "a.zip")
    # ... and with the tag manifest fixed too: it is no filed version
    rezip(tmp_path / "b.zip", retag(t))
    assert "no document version" in failed(tmp_path / "b.zip")
    # a primary file removed (tag manifest fixed): the message names a missing file
    t = dict(files)
    del t[prim[0]]
    rezip(tmp_path / "c.zip", retag(t))
    assert "not in the package" in failed(tmp_path / "c.zip")
    # an extra file at the top level, even one with a filed version's bytes
    t = dict(files)
    t["00000000-0000-8000-8000-000000000000_extra.txt"] = top[prim[0]]
    rezip(tmp_path / "d.zip", retag(t))
    assert "not named in the message" in failed(tmp_path / "d.zip")
    # a message that is not XML, and one that names a file twice
    t = dict(files)
    t[msg] = b"<xdomea:Aussonderung"
    rezip(tmp_path / "e.zip", retag(t))
    assert "not well-formed" in failed(tmp_path / "e.zip")
    t = dict(files)
    t[msg] = top[msg].replace(b"</xdomea:Schriftgutobjekt>",
                              b"<xdomea:Primaerdokument><xdomea:Dateiname>" + prim[0].encode() +
                              b"</xdomea:Dateiname></xdomea:Primaerdokument></xdomea:Schriftgutobjekt>")
    rezip(tmp_path / "f.zip", retag(t))
    assert "more than once" in failed(tmp_path / "f.zip")
    # two messages
    t = dict(files)
    t["11111111-1111-4111-8111-111111111111_Aussonderung.Aussonderung.0503.xml"] = top[msg]
    rezip(tmp_path / "g.zip", retag(t))
    assert "two xdomea messages" in failed(tmp_path / "g.zip")
    # the untouched package still verifies
    verify_package(pkg, check=0)


def test_xdomea_usage(rich, tmp_path):
    archive, ids = rich
    r = run("export", AZ, "--xdomea", "--format", "tar", "-o", tmp_path / "x.zip", archive=archive)
    assert r.code == 2 and "--xdomea" in r.error
    r = run("export", AZ, "--recipient", "LA", "-o", tmp_path / "x.zip", archive=archive)
    assert r.code == 2 and "--recipient" in r.error
    assert not (tmp_path / "x.zip").exists()
