"""Records structure and index (issue 3): Aktenplan, Akten, Vorgänge, zdA,
versions, metadata changes, format policy, the index's catch-up and rebuild,
hostile search input and a hostile PDF extractor."""
import json
import os
import shutil
import stat

from conftest import PLAN, SOURCE_ROOT, make_akten, run


def search_ids(archive, *args):
    js = json.loads(run("search", *args, "--json", "--limit", "1000", archive=archive, check=0).text)
    return [h["id"] for h in js["hits"]]


# --- Aktenplan -------------------------------------------------------------

def test_plan_import_show_ls(bare_archive, tmp_path):
    a = bare_archive
    assert "10 Aktenplan entries imported" in run("plan", "import", PLAN, archive=a, check=0).text
    ls = json.loads(run("plan", "ls", "--json", archive=a, check=0).text)
    codes = {e["code"]: e for e in ls["entries"]}
    assert codes["32.10.02"]["retention"] == 30 and codes["32.10.02"]["value"] == "A"
    assert codes["60"]["retention"] == "unbefristet"
    show = json.loads(run("plan", "show", "32.10", "--json", archive=a, check=0).text)
    assert [c["code"] for c in show["children"]] == ["32.10.01", "32.10.02"]
    run("plan", "show", "99.99", archive=a, check=3)
    # an update of an existing code is a new event, the old entry stays in the journal
    upd = tmp_path / "upd.json"
    upd.write_text(json.dumps([{"code": "32.10.02", "title": "Baugenehmigungen (neu)", "parent": "32.10",
                                "retention": 20, "value": "B"}]))
    run("plan", "import", upd, archive=a, check=0)
    e = json.loads(run("plan", "show", "32.10.02", "--json", archive=a, check=0).text)
    assert e["retention"] == 20 and e["title"] == "Baugenehmigungen (neu)"
    actions = [json.loads(l)["event"]["action"] for l in run("log", "--json", archive=a, check=0).text.splitlines()]
    assert actions == ["genesis", "plan", "plan"]


def test_plan_import_errors_name_line_and_field(bare_archive, tmp_path):
    a = bare_archive
    bad = tmp_path / "bad.csv"
    bad.write_text("code;title;parent;retention;value\n32;Bau;;10;B\n32.10;Bauordnung;32;zehn;B\n")
    r = run("plan", "import", bad, archive=a, check=2)
    assert "line 3" in r.error and "retention" in r.error and "zehn" in r.error
    bad.write_text("code;title;parent;retention;value\n32.10;Bauordnung;99;10;B\n")
    r = run("plan", "import", bad, archive=a, check=2)
    assert "line 2" in r.error and "parent" in r.error
    bad.write_text("code;titel;parent;retention;value;farbe\n")
    r = run("plan", "import", bad, archive=a, check=2)
    assert "farbe" in r.error
    bad.write_bytes(b"\x00\xff\xfe garbage")
    run("plan", "import", bad, archive=a, check=2)
    # nothing of a refused file was recorded
    assert len(run("log", archive=a, check=0).text.splitlines()) == 1


# --- Akten and Vorgänge ----------------------------------------------------

def test_akte_generated_aktenzeichen_and_serials(archive):
    year = run("akte", "create", "--plan", "50.10", "--title", "Wohngeld Schäfer", archive=archive, check=0).text.strip()
    assert year.startswith("50.10-") and year.endswith("/0001")
    y = year.split("-")[1].split("/")[0]
    assert run("akte", "create", "--plan", "50.10", archive=archive, check=0).text.strip() == f"50.10-{y}/0002"
    # a hand-given Aktenzeichen of the generated form takes its serial too
    make_akten(archive, f"50.10-{y}/0007", plan="50.10")
    assert run("akte", "create", "--plan", "50.10", archive=archive, check=0).text.strip() == f"50.10-{y}/0008"
    # other codes count separately
    assert run("akte", "create", "--plan", "50", archive=archive, check=0).text.strip() == f"50-{y}/0001"
    # the serials survive a rebuild of the index
    run("reindex", archive=archive, check=0)
    assert run("akte", "create", "--plan", "50.10", archive=archive, check=0).text.strip() == f"50.10-{y}/0009"
    r = run("akte", "create", "--plan", "50.10", "--az", f"50.10-{y}/0002", archive=archive, check=4)
    assert "exists already" in r.error
    r = run("akte", "create", "--plan", "77.77", archive=archive, check=3)
    assert "77.77" in r.error and "plan" in r.error
    run("akte", "create", "--plan", "50.10", "--az", "bad*az", archive=archive, check=2)
    run("akte", "create", "--title", "no plan", archive=archive, check=2)


def test_filing_into_unknown_or_closed_akte_is_refused(archive, docs):
    r = run("file", docs / "brief.txt", "--akte", "99-9999/9", archive=archive, check=3)
    assert "99-9999/9" in r.error and "akte create" in r.error
    run("akte", "close", "A-1", "--date", "2026-01-15", archive=archive, check=0)
    r = run("file", docs / "brief.txt", "--akte", "A-1", archive=archive, check=4)
    assert "A-1" in r.error and "2026-01-15" in r.error and "reopen" in r.error
    show = json.loads(run("akte", "show", "A-1", "--json", archive=archive, check=0).text)
    assert show["closed_on"] == "2026-01-15"
    assert [x["az"] for x in json.loads(run("akte", "ls", "--closed", "--json", archive=archive, check=0).text)["akten"]] == ["A-1"]
    assert "A-1" not in run("akte", "ls", "--open", archive=archive, check=0).text
    run("akte", "close", "A-1", archive=archive, check=4)          # closed already
    run("akte", "close", "A-2", "--date", "2999-01-01", archive=archive, check=2)
    run("akte", "close", "A-2", "--date", "2026-02-30", archive=archive, check=2)
    run("akte", "reopen", "A-2", archive=archive, check=4)         # open
    run("akte", "reopen", "A-1", archive=archive, check=0)
    run("file", docs / "brief.txt", "--akte", "A-1", archive=archive, check=0)
    run("verify", archive=archive, check=0)


def test_vorgang(archive, docs):
    assert run("akte", "create", "--vorgang", "A-1", "--title", "Anhörung", archive=archive, check=0).text.strip() == "1"
    assert run("akte", "create", "--vorgang", "A-1", "--title", "Widerspruch", archive=archive, check=0).text.strip() == "2"
    doc = run("file", docs / "brief.txt", "--akte", "A-1", "--vorgang", "2", archive=archive, check=0).text.strip()
    r = run("file", docs / "brief.txt", "--akte", "A-1", "--vorgang", "9", archive=archive, check=3)
    assert "Vorgang 9" in r.error
    show = json.loads(run("akte", "show", "A-1", "--json", archive=archive, check=0).text)
    assert [(v["vorgang"], v["title"], v["documents"]) for v in show["vorgaenge"]] == [(1, "Anhörung", 0), (2, "Widerspruch", 1)]
    assert json.loads(run("show", doc, "--json", archive=archive, check=0).text)["vorgang"] == 2
    tree = run("ls", "A-1", archive=archive, check=0).text
    assert "Vorgang 2  Widerspruch" in tree and doc in tree


# --- Versions and metadata -------------------------------------------------

def test_new_version_supersedes_and_never_changes_the_old(archive, tmp_path):
    v1 = tmp_path / "bescheid.txt"
    v1.write_text("Bescheid über die Gebühr, erste Fassung\n")
    doc = run("file", v1, "--akte", "A-1", "--meta", "absender=Ordnungsamt", archive=archive, check=0).text.strip()
    v2 = tmp_path / "bescheid-korrigiert.txt"
    v2.write_text("Bescheid über die Gebühr, berichtigte Fassung\n")
    out = run("file", "--new-version-of", doc, v2, "--meta", "stand=berichtigt", archive=archive, check=0).text.strip()
    assert out == doc
    show = json.loads(run("show", doc, "--json", archive=archive, check=0).text)
    assert show["version"] == 2 and show["meta"] == {"absender": "Ordnungsamt", "stand": "berichtigt"}
    assert [v["version"] for v in show["versions"]] == [1, 2]
    assert run("get", doc, "--version", "1", archive=archive, check=0).out == v1.read_bytes()
    assert run("get", doc, "--version", "2", archive=archive, check=0).out == v2.read_bytes()
    assert run("get", doc, archive=archive, check=0).out == v2.read_bytes()
    run("get", doc, "--version", "3", archive=archive, check=3)
    # search finds the current text only
    assert search_ids(archive, "berichtigte") == [doc]
    assert search_ids(archive, "erste Fassung") == []
    # a new version stays in its Akte
    run("file", "--new-version-of", doc, v2, "--akte", "A-2", archive=archive, check=2)
    run("file", "--new-version-of", "0" * 8 + "-0000-7000-8000-" + "0" * 12, v2, archive=archive, check=3)
    run("verify", archive=archive, check=0)


def test_meta_set_and_history(archive, docs):
    doc = run("file", docs / "brief.txt", "--akte", "A-1", "--meta", "absender=Müller", archive=archive, check=0).text.strip()
    run("meta", "set", doc, "absender=Schäfer", "az-alt=II/4711", "--title", "Bauantrag Schäfer", archive=archive, check=0)
    show = json.loads(run("show", doc, "--json", archive=archive, check=0).text)
    assert show["title"] == "Bauantrag Schäfer" and show["meta"] == {"absender": "Schäfer", "az-alt": "II/4711"}
    run("meta", "set", doc, "az-alt=", archive=archive, check=0)          # KEY= removes
    assert json.loads(run("show", doc, "--json", archive=archive, check=0).text)["meta"] == {"absender": "Schäfer"}
    hist = json.loads(run("show", doc, "--history", "--json", archive=archive, check=0).text)
    assert [e["action"] for e in hist["events"]] == ["file", "meta", "meta"]
    human = run("show", doc, "--history", archive=archive, check=0).text
    assert human.count("meta") == 2
    # the journal holds no metadata values
    assert "Schäfer" not in run("log", "--json", archive=archive, check=0).text
    assert search_ids(archive, "schaefer") == [doc]
    assert search_ids(archive, "--meta", "absender=Müller") == []
    run("meta", "set", doc, archive=archive, check=2)
    run("meta", "set", doc, "bad key=x", archive=archive, check=2)
    run("verify", archive=archive, check=0)


# --- Format policy ---------------------------------------------------------

def test_format_policy_by_detected_type(archive, docs, tmp_path):
    fake = tmp_path / "bescheid.pdf"            # the name says PDF, the bytes say program
    shutil.copy("/bin/true", fake)
    r = run("file", docs / "brief.txt", fake, "--akte", "A-1", archive=archive, check=4)
    assert "bescheid.pdf" in r.error and "application/x-" in r.error and "policy" in r.error
    # nothing of that batch was filed
    assert search_ids(archive, "--akte", "A-1") == []
    named_pdf = tmp_path / "brief.pdf"           # text named .pdf is text
    named_pdf.write_text("Ein Brief in Textform\n")
    doc = run("file", named_pdf, "--akte", "A-1", archive=archive, check=0).text.strip()
    assert json.loads(run("show", doc, "--json", archive=archive, check=0).text)["mime"] == "text/plain"
    # the policy is the archive's: only PDF now
    conf = archive / "eakte.conf"
    conf.write_text("[policy]\nformats = application/pdf\n")
    r = run("file", docs / "brief.txt", "--akte", "A-1", archive=archive, check=4)
    assert "text/plain" in r.error and "allowed: application/pdf" in r.error
    run("file", docs / "scan.pdf", "--akte", "A-1", archive=archive, check=0)
    conf.write_text("[policy]\nformats = application/pdf\n[polcy]\nx = 1\n")
    r = run("file", docs / "scan.pdf", "--akte", "A-1", archive=archive, check=2)
    assert "eakte.conf line 4" in r.error and "[polcy] x" in r.error


# --- The index -------------------------------------------------------------

QUERIES = [["mueller"], ["Müller"], ["Straße"], ["brief*"], ["--akte", "A-1"], ["--akte", "32.10.02*"],
           ["Bauantrag", "--sort", "relevance"], ["--type", "text/plain"]]


def all_results(archive):
    return [run("search", *q, "--json", archive=archive, check=0).text for q in QUERIES]


def fill(archive, docs, tmp_path):
    (tmp_path / "x").mkdir()
    paths = []
    for i in range(30):
        p = tmp_path / "x" / f"d{i}.txt"
        p.write_text(f"Bauantrag {i} von Frau Müller, Grundstück an der Straße Nr. {i}\n")
        paths.append(p)
    run("file", *paths, "--akte", "A-1", archive=archive, check=0)
    run("file", docs / "brief.txt", "--akte", "32.10.02-2026/0007", archive=archive, check=0)


def test_reindex_gives_identical_results(archive, docs, tmp_path):
    fill(archive, docs, tmp_path)
    before = all_results(archive)
    assert json.loads(before[0])["total"] == 31
    run("reindex", archive=archive, check=0)
    assert all_results(archive) == before


def test_crash_between_journal_and_index_catches_up(archive, docs, tmp_path):
    """The index lagging behind the journal (a crash after the journal
    commit) is caught up on the next open, and is not drift."""
    old = tmp_path / "old-index"
    old.mkdir()
    for f in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
        if (archive / f).exists():
            shutil.copy(archive / f, old / f)
    fill(archive, docs, tmp_path)
    expected = all_results(archive)
    for f in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
        (archive / f).unlink(missing_ok=True)
        if (old / f).exists():
            shutil.copy(old / f, archive / f)
    run("verify", archive=archive, check=0)       # behind is not wrong
    assert all_results(archive) == expected


def test_index_deleted_is_reported_then_rebuilt(archive, docs, tmp_path):
    fill(archive, docs, tmp_path)
    expected = all_results(archive)
    for f in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
        (archive / f).unlink(missing_ok=True)
    r = run("verify", archive=archive, check=1)
    assert "index" in r.error and "missing" in r.error
    assert all_results(archive) == expected        # rebuilt from the journal
    run("verify", archive=archive, check=0)


def test_index_corrupted_is_reported_then_rebuilt(archive, docs, tmp_path):
    fill(archive, docs, tmp_path)
    expected = all_results(archive)
    run("reindex", archive=archive, check=0)       # one file, no WAL to consider
    for f in ("index.sqlite-wal", "index.sqlite-shm"):
        (archive / f).unlink(missing_ok=True)
    data = bytearray((archive / "index.sqlite").read_bytes())
    data[0:16] = b"this is garbage!"
    (archive / "index.sqlite").write_bytes(bytes(data))
    r = run("verify", archive=archive, check=1)
    assert "index drift" in r.error
    # a writer sets the damaged file aside and rebuilds
    make_akten(archive, "A-9")
    assert any(p.name.startswith("index.sqlite.corrupt-") for p in archive.iterdir())
    assert all_results(archive) == expected
    run("verify", archive=archive, check=0)


def test_index_drift_after_foreign_change_is_reported(archive, docs, tmp_path):
    fill(archive, docs, tmp_path)
    run("verify", archive=archive, check=0)
    subprocess_sqlite(archive, "DELETE FROM version WHERE (doc_id, version) IN (SELECT doc_id, version FROM version LIMIT 1)")
    r = run("verify", archive=archive, check=1)
    assert "index drift" in r.error and "documents" in r.error
    run("reindex", archive=archive, check=0)
    run("verify", archive=archive, check=0)


def subprocess_sqlite(archive, sql):
    import subprocess
    p = subprocess.run(["sqlite3", str(archive / "index.sqlite"), sql], capture_output=True)
    assert p.returncode == 0, p.stderr


# --- Hostile search input --------------------------------------------------

def test_hostile_queries_give_clear_errors(archive, docs, tmp_path):
    fill(archive, docs, tmp_path)
    for q in ['title:Müller', 'NEAR(a b)', '^Bau', '"', '(((', 'a OR OR b', 'OR', '-Bau', '*', 'a AND', ')',
              '{title body}: x', "' OR 1=1 --"]:
        r = run("search", "--", q, archive=archive)
        assert r.code in (0, 2), (q, r)
        assert "fts5" not in r.error.lower() and "sqlite" not in r.error.lower(), (q, r.error)
        if r.code == 2:
            assert "search query" in r.error, (q, r.error)
    big = tmp_path / "big-query"
    big.write_bytes(b"a" * (1 << 20))
    r = run("search", "--query-file", big, archive=archive, check=2)
    assert "limit is 4096" in r.error
    nul = tmp_path / "nul-query"
    nul.write_bytes(b"Bau\0antrag")
    r = run("search", "--query-file", nul, archive=archive, check=2)
    assert "NUL" in r.error or "nul" in r.error.lower()
    run("search", "Bau", "--from", "2026-13-01", archive=archive, check=2)
    run("search", "Bau", "--sort", "random", archive=archive, check=2)
    run("search", "Bau", "--limit", "0", archive=archive, check=2)
    run("search", archive=archive, check=2)          # neither query nor filter
    # the archive is unharmed
    run("verify", archive=archive, check=0)


# --- Text extraction that fails --------------------------------------------

def write_script(path, body):
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_pdf_extractor_that_hangs_or_crashes_does_not_block_filing(archive, docs, tmp_path):
    for name, body, reason in [("hang", "sleep 60", "did not finish"),
                               ("crash", "kill -SEGV $$", "crashed"),
                               ("fail", "echo 'Syntax Error: broken xref' >&2; exit 1", "exit status 1")]:
        script = tmp_path / f"pdftotext-{name}"
        write_script(script, body)
        (archive / "eakte.conf").write_text(f"[extract]\npdftotext = {script}\ntimeout = 1\n")
        doc = run("file", docs / "scan.pdf", "--akte", "A-1", archive=archive, check=0).text.strip()
        show = run("show", doc, archive=archive, check=0).text
        assert "text not extracted:" in show and reason in show, show
        js = json.loads(run("show", doc, "--json", archive=archive, check=0).text)
        assert js["text"]["status"] == "failed"
    run("verify", archive=archive, check=0)


def test_real_pdf_text_is_searchable(archive, tmp_path):
    pdf = tmp_path / "bescheid.pdf"
    pdf.write_bytes(minimal_pdf("Grundsteuerbescheid Hauptstrasse"))
    doc = run("file", pdf, "--akte", "A-1", archive=archive, check=0).text.strip()
    assert search_ids(archive, "grundsteuerbescheid") == [doc]
    assert search_ids(archive, "Hauptstraße") == [doc]


def minimal_pdf(text):
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            None,
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    stream = b"BT /F1 12 Tf 72 720 Td (" + text.encode("latin-1") + b") Tj ET"
    objs[3] = b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + o + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# --- Consistency rules (found in review) ------------------------------------

def test_generated_aktenzeichen_steps_over_a_foreign_one(archive):
    y = run("akte", "create", "--plan", "32.10.01", archive=archive, check=0).text.strip().split("-")[1].split("/")[0]
    # a hand-given Aktenzeichen of 32.10.01's form, but filed under another code
    make_akten(archive, f"32.10.01-{y}/0002", plan="50.10")
    assert run("akte", "create", "--plan", "32.10.01", archive=archive, check=0).text.strip() == f"32.10.01-{y}/0003"


def test_akte_rules(archive, docs):
    run("akte", "ls", "--open", "--closed", archive=archive, check=2)
    run("akte", "ls", "--plan", "99", archive=archive, check=3)
    listed = json.loads(run("akte", "ls", "--plan", "32.10", "--json", archive=archive, check=0).text)["akten"]
    assert {"A-1", "32.10.02-2026/0007"} <= {x["az"] for x in listed}        # sub-codes included
    run("search", "--akte", "A-1", "--from", "2026-02-31", archive=archive, check=2)


def test_metadata_rules(archive, docs, tmp_path):
    doc = run("file", docs / "brief.txt", "--akte", "A-1", "--meta", "a=1", "--meta", "b=2", archive=archive, check=0).text.strip()
    run("meta", "set", doc, "a=1", archive=archive, check=2)                 # changes nothing
    run("meta", "set", doc, "c=", archive=archive, check=2)                  # removes nothing
    run("meta", "set", doc, "a=3", "a=4", archive=archive, check=2)          # key twice
    v2 = tmp_path / "v2.txt"
    v2.write_text("zweite Fassung\n")
    run("file", "--new-version-of", doc, v2, "--meta", "b=", archive=archive, check=0)
    assert json.loads(run("show", doc, "--json", archive=archive, check=0).text)["meta"] == {"a": "1"}
    run("akte", "close", "A-1", archive=archive, check=0)
    r = run("meta", "set", doc, "a=5", archive=archive, check=4)
    assert "closed" in r.error and "reopen" in r.error
    run("verify", archive=archive, check=0)


def test_index_schema_migration(archive, docs, tmp_path):
    """An index of an older schema is migrated forward when opened for
    writing (here: back to version 1 by hand, then any search)."""
    import subprocess
    fill(archive, docs, tmp_path)
    expected = all_results(archive)
    db = str(archive / "index.sqlite")
    p = subprocess.run(["sqlite3", db, "DROP INDEX doc_text_pending; PRAGMA user_version = 1;"], capture_output=True)
    assert p.returncode == 0, p.stderr
    r = run("verify", archive=archive, check=1)           # read-only: reports, does not migrate
    assert "index drift" in r.error and "migrat" in r.error
    assert all_results(archive) == expected
    out = subprocess.run(["sqlite3", db, "PRAGMA user_version; SELECT name FROM sqlite_master WHERE name = 'doc_text_pending'"],
                         capture_output=True, text=True).stdout.split()
    current = str(len(list((SOURCE_ROOT / "schema" / "index").glob("[0-9][0-9][0-9]-*.sql"))))
    assert out == [current, "doc_text_pending"]
    # migration 3 rebuilt the full-text index with prefixes up to 6 characters
    sql = subprocess.run(["sqlite3", db, "SELECT sql FROM sqlite_master WHERE name = 'fts'"],
                         capture_output=True, text=True).stdout
    assert "prefix = '2 3 4 5 6'" in sql
    assert all_results(archive) == expected
    run("verify", archive=archive, check=0)
    # an index newer than this eakte is refused, not misread
    subprocess.run(["sqlite3", db, "PRAGMA user_version = 99"], check=True)
    r = run("search", "Bauantrag", archive=archive)
    assert r.code != 0 and "newer" in r.error
