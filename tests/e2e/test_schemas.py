"""End to end: every --json output of the CLI and every journal event
validates against its JSON schema in schema/ (draft 2020-12).

One small archive is built through the CLI (Aktenplan import, Akten,
Vorgänge, documents with metadata, a new version, a metadata change,
zdA and reopening); then each read verb's JSON and each event of
`eakte log --json` is checked.  A few hand-made instances check that the
schemas are strict enough to reject what the CLI must never print.
"""
import copy
import json
import os

import pytest
from jsonschema import Draft202012Validator

from conftest import PLAN, SOURCE_ROOT, run

SCHEMA_DIR = SOURCE_ROOT / "schema"
SCHEMA_FILES = [
    "event-v1", "log-v1", "doc-v1", "verify-v1",
    "plan-v1", "akte-v1", "akten-v1", "tree-v1", "history-v1", "search-v1", "retention-v1", "holds-v1",
]

# A 1x1 PNG (signature and IHDR are what MIME detection looks at).
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
       b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


def load_schemas():
    return {name: json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
            for name in SCHEMA_FILES}


SCHEMAS = load_schemas()


def validator(name):
    """A validator for schema `name` that resolves references to the other schema files."""
    schema = SCHEMAS[name]
    try:  # jsonschema >= 4.18
        from referencing import Registry, Resource
        registry = Registry().with_resources(
            [(s["$id"], Resource.from_contents(s)) for s in SCHEMAS.values()])
        return Draft202012Validator(schema, registry=registry)
    except ImportError:  # Debian 12: jsonschema 4.10
        from jsonschema import RefResolver
        resolver = RefResolver.from_schema(schema, store={s["$id"]: s for s in SCHEMAS.values()})
        return Draft202012Validator(schema, resolver=resolver)


VALIDATORS = {name: validator(name) for name in SCHEMA_FILES}


def errors(name, instance):
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in VALIDATORS[name].iter_errors(instance)]


def check(name, instance):
    errs = errors(name, instance)
    assert not errs, f"{name}: {json.dumps(instance, ensure_ascii=False)[:2000]}\n" + "\n".join(errs)
    return instance


def jrun(archive, *args):
    """Run a read verb with --json; exactly one JSON object on one line."""
    r = run(*args, "--json", archive=archive, check=0)
    lines = r.text.splitlines()
    assert len(lines) == 1, r
    return json.loads(lines[0])


class Built:
    pass


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A small archive with one of everything, made through the CLI."""
    tmp = tmp_path_factory.mktemp("schemas")
    a = tmp / "archive"
    b = Built()
    b.archive = a
    run("init", a, "--origin", "test.musterstadt.de/eakte", check=0)
    run("plan", "import", PLAN, archive=a, check=0)
    # A second import in JSON form updates one code and adds a sub-code.
    plan_json = tmp / "plan.json"
    plan_json.write_text(json.dumps({"entries": [
        {"code": "32.10.02", "title": "Baugenehmigungen", "parent": "32.10", "retention": 30, "value": "A"},
        {"code": "32.10.02.1", "title": "Abbruch", "parent": "32.10.02", "retention": "unbefristet", "value": "b"},
    ]}), encoding="utf-8")
    run("plan", "import", plan_json, archive=a, check=0)

    b.akte = run("akte", "create", "--plan", "32.10.02", "--title", "Neubau Lindenweg 4",
                 archive=a, check=0).text.strip()
    b.akte2 = "32.10.02-2026/0900"
    run("akte", "create", "--plan", "32.10.02", "--az", b.akte2, "--title", "Garage Birkenstraße 9",
        archive=a, check=0)
    b.closed = run("akte", "create", "--plan", "50.10", archive=a, check=0).text.strip()
    assert run("akte", "create", "--vorgang", b.akte, "--title", "Widerspruch",
               archive=a, check=0).text.strip() == "1"
    assert run("akte", "create", "--vorgang", b.akte, archive=a, check=0).text.strip() == "2"

    d = tmp / "docs"
    d.mkdir()
    (d / "antrag.txt").write_text("Sehr geehrte Frau Müller,\nIhr Bauantrag für die Straße ...\n",
                                  encoding="utf-8")
    (d / "eingang.xml").write_text('<?xml version="1.0"?><eingang><von>Erika Müller</von></eingang>\n',
                                   encoding="utf-8")
    (d / "skizze.png").write_bytes(PNG)
    (d / "leer.txt").write_bytes(b"")
    (d / "scan.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(3000) + b"\n%%EOF\n")
    (d / "bescheid.txt").write_text("Bescheid: genehmigt.\n", encoding="utf-8")
    (d / "bescheid-v2.txt").write_text("Bescheid: genehmigt mit Auflagen.\n", encoding="utf-8")

    ids = run("file", d / "antrag.txt", d / "eingang.xml", d / "leer.txt", d / "scan.pdf",
              "--akte", b.akte, "--title", "Bauantrag", "--meta", "absender=Erika Müller",
              "--meta", "date=2026-03-02", archive=a, check=0).text.split()
    assert len(ids) == 4
    b.antrag, b.xml, b.empty, b.pdf = ids
    b.png, b.bescheid = run("file", d / "skizze.png", d / "bescheid.txt", "--akte", b.akte,
                            "--vorgang", "1", archive=a, check=0).text.split()
    b.other = run("file", d / "bescheid.txt", "--akte", b.akte2, archive=a, check=0).text.strip()
    assert run("file", "--new-version-of", b.bescheid, d / "bescheid-v2.txt", "--meta", "stand=berichtigt",
               archive=a, check=0).text.strip() == b.bescheid
    run("meta", "set", b.antrag, "absender=Erika Mueller-Schmidt", "date=", "eingang=2026-03-04",
        "--title", "Bauantrag Neubau", archive=a, check=0)
    run("akte", "close", b.akte2, "--date", "2026-01-15", archive=a, check=0)
    run("akte", "reopen", b.akte2, archive=a, check=0)
    run("akte", "close", b.closed, archive=a, check=0)
    b.docs = [b.antrag, b.xml, b.empty, b.pdf, b.png, b.bescheid, b.other]
    return b


def test_schemas_are_valid_draft_2020_12():
    for name, schema in SCHEMAS.items():
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        assert schema["$id"] == f"https://eakte.invalid/schema/{name}.schema.json", name


def test_plan(built):
    a = built.archive
    ls = check("plan-v1", jrun(a, "plan", "ls"))
    assert ls["schema"] == "eakte.plan/1"
    codes = {e["code"]: e for e in ls["entries"]}
    assert codes["60"]["retention"] == "unbefristet" and codes["32"]["parent"] is None
    assert codes["32.10.02.1"]["value"] == "B"
    assert codes["32.10.02"]["akten"] == 2

    show = check("plan-v1", jrun(a, "plan", "show", "32.10.02"))
    assert show["schema"] == "eakte.plan-entry/1"
    assert [c["code"] for c in show["children"]] == ["32.10.02.1"]
    assert {x["az"] for x in show["akten_list"]} == {built.akte, built.akte2}
    top = check("plan-v1", jrun(a, "plan", "show", "60"))
    assert top["parent"] is None and top["children"] == [] and top["akten_list"] == []
    closed = check("plan-v1", jrun(a, "plan", "show", "50.10"))
    assert closed["akten_list"][0]["closed_on"] is not None
    # One shape does not pass as the other.
    assert errors("plan-v1", dict(ls, schema="eakte.plan-entry/1"))
    assert errors("plan-v1", dict(show, schema="eakte.plan/1"))


def test_akte_show_and_ls(built):
    a = built.archive
    akte = check("akte-v1", jrun(a, "akte", "show", built.akte))
    assert akte["schema"] == "eakte.akte/1" and akte["closed_on"] is None
    assert [v["vorgang"] for v in akte["vorgaenge"]] == [1, 2]
    by_id = {d["id"]: d for d in akte["documents"]}
    assert by_id[built.png]["vorgang"] == 1 and by_id[built.antrag]["vorgang"] is None
    assert by_id[built.bescheid]["version"] == 2
    check("akte-v1", jrun(a, "akte", "show", built.closed))
    assert jrun(a, "ls", built.akte2) == jrun(a, "akte", "show", built.akte2)

    for extra in ((), ("--open",), ("--closed",), ("--plan", "32.10.02"), ("--plan", "60")):
        ls = check("akten-v1", jrun(a, "akte", "ls", *extra))
        assert ls["schema"] == "eakte.akten/1"
    assert [x["az"] for x in jrun(a, "akte", "ls", "--closed")["akten"]] == [built.closed]
    assert jrun(a, "akte", "ls", "--plan", "60")["akten"] == []


def test_tree(built):
    tree = check("tree-v1", jrun(built.archive, "ls"))
    assert tree["schema"] == "eakte.tree/1"
    akten = {x["az"]: x for x in tree["akten"]}
    assert akten[built.akte]["vorgaenge"] == 2 and akten[built.akte]["documents"] == 6
    assert akten[built.closed]["closed_on"] is not None


def test_show(built):
    a = built.archive
    status = {}
    for doc in built.docs:
        js = check("doc-v1", jrun(a, "show", doc))
        assert js["schema"] == "eakte.doc/1" and js["id"] == doc
        assert [v["version"] for v in js["versions"]] == list(range(1, js["version"] + 1))
        status[doc] = js["text"]["status"]
    assert status[built.antrag] == "ok" and status[built.xml] == "ok"
    assert status[built.png] == "none" and status[built.pdf] == "failed"
    png = jrun(a, "show", built.png)
    assert png["vorgang"] == 1 and png["text"]["reason"]
    assert "vorgang" not in jrun(a, "show", built.antrag)
    b = jrun(a, "show", built.bescheid)
    assert b["version"] == 2 and b["vorgang"] == 1 and b["meta"] == {"stand": "berichtigt"}
    meta = jrun(a, "show", built.antrag)["meta"]
    assert meta == {"absender": "Erika Mueller-Schmidt", "eingang": "2026-03-04"}


def test_history(built):
    a = built.archive
    for doc in built.docs:
        h = check("history-v1", jrun(a, "show", doc, "--history"))
        assert h["schema"] == "eakte.history/1" and h["id"] == doc
        for ev in h["events"]:
            check("event-v1", ev)
    h = jrun(a, "show", built.antrag, "--history")
    assert [e["action"] for e in h["events"]] == ["file", "meta"]
    h = jrun(a, "show", built.bescheid, "--history")
    assert [(e["action"], e["version"], e.get("vorgang")) for e in h["events"]] == [("file", 1, 1), ("file", 2, 1)]


@pytest.mark.parametrize("args", [
    ("Bauantrag",),
    ("Mueller",),
    ("Strasse OR Auflagen", "--sort", "relevance"),
    ('"Erika Müller"', "--sort", "oldest", "--limit", "1", "--offset", "1"),
    ("nichtvorhanden",),
    ("--akte", "32.10.02-2026/*"),
    ("--plan", "32.10", "--type", "text/*"),
    ("--meta", "stand=berichtigt"),
    ("--from", "2026-03-01", "--to", "2026-03-31"),
])
def test_search(built, args):
    js = check("search-v1", jrun(built.archive, "search", *args))
    assert js["schema"] == "eakte.search/1" and js["total_exact"] is True and js["ranked_window"] is None
    assert len(js["hits"]) <= js["total"]
    for h in js["hits"]:
        assert ("vorgang" in h) == (h["id"] in (built.png, built.bescheid))


def test_search_hits(built):
    js = jrun(built.archive, "search", "--akte", built.akte, "--limit", "1000")
    assert {h["id"] for h in js["hits"]} == set(built.docs) - {built.other}
    assert js["total"] == 6 and js["limit"] == 1000 and js["sort"] == "newest"
    # The hit of a Vorgang document carries it, the snippet marks the words found.
    js = jrun(built.archive, "search", "Auflagen")
    assert [h["id"] for h in js["hits"]] == [built.bescheid] and js["hits"][0]["vorgang"] == 1
    assert "[Auflagen]" in js["hits"][0]["snippet"]


def test_log_and_every_event(built):
    lines = run("log", "--json", archive=built.archive, check=0).text.splitlines()
    actions = set()
    for i, line in enumerate(lines):
        entry = check("log-v1", json.loads(line))
        ev = check("event-v1", entry["event"])
        assert ev["seq"] == entry["seq"] == i
        actions.add(ev["action"])
    assert actions == {"genesis", "plan", "akte-create", "vorgang-create", "file", "meta",
                       "akte-close", "akte-reopen"}


def test_verify_json(built):
    js = check("verify-v1", jrun(built.archive, "verify"))
    assert js["ok"] is True


def events_by_action(built):
    out = {}
    for line in run("log", "--json", archive=built.archive, check=0).text.splitlines():
        ev = json.loads(line)["event"]
        out.setdefault(ev["action"], ev)
    return out


def test_event_schema_is_strict(built):
    """Hand-altered events that the library never writes are rejected."""
    evs = events_by_action(built)
    bad = []

    def mutate(action, fn):
        ev = copy.deepcopy(evs[action])
        fn(ev)
        bad.append((action, ev))

    mutate("genesis", lambda e: e.update(extra=1))
    mutate("genesis", lambda e: e.update(action="unknown"))
    mutate("file", lambda e: e.update(version=0))
    mutate("file", lambda e: e.update(vorgang=0))
    mutate("file", lambda e: e.update(title="Bauantrag"))          # descriptive data in the journal
    mutate("file", lambda e: e["meta"].update(salt="x"))
    mutate("plan", lambda e: e["entries"][0].update(parent=None))  # canonical form: absent, never null
    mutate("plan", lambda e: e["entries"][0].update(retention="10"))
    mutate("plan", lambda e: e["entries"][0].update(value="b"))
    mutate("plan", lambda e: e.update(entries=[]))
    mutate("akte-create", lambda e: e.pop("plan"))
    mutate("akte-create", lambda e: e.update(title="Neubau"))
    mutate("vorgang-create", lambda e: e.update(vorgang="1"))
    mutate("akte-close", lambda e: e.update(date="15.01.2026"))
    mutate("akte-close", lambda e: e.pop("date"))
    mutate("akte-reopen", lambda e: e.update(date="2026-01-15"))
    mutate("meta", lambda e: e.pop("version"))
    mutate("meta", lambda e: e.update(doc="not-a-doc"))
    for action, ev in bad:
        assert errors("event-v1", ev), f"{action}: accepted {ev}"


def test_output_schemas_are_strict(built):
    a = built.archive
    doc = jrun(a, "show", built.png)
    for fn in (lambda d: d.update(text={"status": "done", "reason": ""}),
               lambda d: d.pop("text"),                          # versions without text
               lambda d: d["versions"][0].pop("sha256"),
               lambda d: d.update(vorgang=None)):
        d = copy.deepcopy(doc)
        fn(d)
        assert errors("doc-v1", d)
    res = jrun(a, "search", "Bauantrag")
    for fn in (lambda r: r.update(sort="best"),
               lambda r: r.update(ranked_window=100),
               lambda r: r.update(total=10001),
               lambda r: r["hits"][0].update(vorgang=None),
               lambda r: r["hits"][0].pop("snippet")):
        r = copy.deepcopy(res)
        fn(r)
        assert errors("search-v1", r)
    # Over 10,000 matches and a relevance window: what the library prints then.
    assert not errors("search-v1", dict(res, total=10000, total_exact=False, sort="relevance", ranked_window=5000))
    akte = jrun(a, "akte", "show", built.akte)
    assert errors("akte-v1", dict(akte, closed_on="15.01.2026"))
    assert errors("akten-v1", {"schema": "eakte.akten/1", "akten": [{"az": built.akte}]})
    tree = jrun(a, "ls")
    assert errors("tree-v1", dict(tree, schema="eakte.akte/1"))
