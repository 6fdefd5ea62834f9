"""End to end: search correctness on a generated corpus of 11,000 documents.

A deterministic corpus (random.Random(SEED)) is filed through the real CLI:
24 Akten under five Aktenplan codes with Aktenzeichen that share prefixes,
text, XML and JPEG documents built from a vocabulary of German words in
their different spellings (Müller / Mueller / MÜLLER / Muller, Straße /
Strasse, ...) and Zipf-distributed filler words, titles (the file names) and
metadata (sender, kind, date over two years).  Python keeps the ground truth
of every document and a model of the search semantics (lib/ftsde.c,
lib/query.c, lib/search.c, docs/search.md), and every search below is
compared with the model's exact answer: the ids, their order (newest first =
order of filing, a new version moves a document to the front), the total and
whether it is exact.

The model:
  * words are runs of letters and digits; a document word is indexed in its
    primary form (lowercase, ä→ae ö→oe ü→ue ß→ss) and, if it has ä/ö/ü, also
    in its secondary form (ä→a ö→o ü→u); a query word is searched in its
    primary form only.  So Müller = Mueller = MÜLLER, and Muller finds
    Müller, but neither Müller nor Mueller finds Muller.
  * searched columns: title, metadata values (in key order, one column),
    "Aktenzeichen Akte-title", and the extracted text (text/plain as is, XML
    text nodes joined by spaces, nothing for JPEG).
  * the query language: AND (default), OR (binds looser), -exclusion,
    parentheses, "phrases" (within one column), prefix* (of the last word).

The tests share one archive (module fixture) and run in file order: first
read-only searches, then new versions and metadata changes (the model
follows them), then `eakte reindex` and a deleted index.
"""
import datetime
import json
import os
import random
import re
import shlex
import time
from pathlib import Path

import pytest

from conftest import PLAN, run

SEED = 20260315
TARGET_DOCS = 11000
PAGE = 1000                 # --limit maximum
COUNT_CAP = 10000           # lib/search.c: totals are exact up to this
RANK_WINDOW = 5000          # lib/search.c: relevance ranks the newest 5000

# --------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------

# Neutral filler words (ASCII, no spelled-out umlauts), drawn Zipf-like.
FILLER = """
und der die das mit von auf im ist ein eine wird nach bei zum zur wie auch sich
nicht oder aber als noch wir sie den dem des Frist Verfahren Stadt Gemeinde
Bauamt Unterlagen Haus Garten Zaun Dach Fenster Wand Keller Garage Carport
Terrasse Anbau Neubau Umbau Abriss Genehmigung Nachbar Eigentum Flur Plan
Zeichnung Statik Nutzung Wohnung Gewerbe Halle Lager Werkstatt Hof Weg Platz
Ecke Grenze Abstand Flaeche Meter Hoehe Breite Tiefe Termin Sitzung Ausschuss
Rat Beschluss Vorlage Akte Vorgang Eingang Ausgang Post Telefon Mail Brief
Hinweis Auflage Bedingung Widerspruch Klage Gericht Anwalt Vollmacht Zahlung
Konto Betrag Euro Summe Kosten Zuschuss Foerderung Mittel Haushalt Jahr Monat
Woche Tag heute morgen gestern bitte danke Gruss freundlich geehrte Damen Herren
Sehr Ihr Ihre unser unsere diese dieser dieses jeder jede alle keine mehr weniger
neu alt gross klein lang kurz hoch tief schnell langsam gut schlecht richtig
falsch offen geschlossen fertig bereit Anlage Seite Nummer Liste Tabelle Karte
Foto Bild Skizze Entwurfsplan Kanal Wasser Strom Gas Heizung Solar Baum Hecke
Rasen Teich Brunnen Mauer Tor Pforte Licht Lampe Laterne Bank Tisch Stuhl
""".split()

# Families of German words with umlauts or ß in several spellings: every
# variant of a family folds to the same primary form (except Muller, which
# is a name of its own, and the longer words).
FAMILIES = {
    "mueller": (0.12, ["Müller", "Mueller", "MÜLLER", "müller"]),
    "muller": (0.05, ["Muller"]),
    "strasse": (0.15, ["Straße", "Strasse", "STRASSE", "straße"]),
    "grundstueck": (0.12, ["Grundstück", "Grundstueck", "Grundstücke"]),
    "grundsteuer": (0.06, ["Grundsteuer"]),
    "gebuehr": (0.10, ["Gebühr", "Gebuehr", "Gebühren", "GEBÜHR"]),
    "buerger": (0.10, ["Bürger", "Buerger", "Bürgerin"]),
    "groesse": (0.08, ["Größe", "Groesse", "größe"]),
    "uebersicht": (0.07, ["Übersicht", "Uebersicht"]),
    "schaefer": (0.06, ["Schäfer", "Schaefer"]),
    "weiss": (0.05, ["Weiß", "Weiss"]),
    "fussweg": (0.04, ["Fußweg", "Fussweg"]),
}
EXTRA_WORDS = {            # words for AND/OR/NOT tests
    "Bauantrag": 0.15, "Bauvoranfrage": 0.10, "Entwurf": 0.10, "Kopie": 0.08,
    "Baden": 0.03, "Württemberg": 0.02,
}
BIGRAMS = [                # phrase tests
    (0.04, lambda r: ["Max", r.choice(FAMILIES["mueller"][1])]),
    (0.02, lambda r: [r.choice(FAMILIES["mueller"][1]), "Max"]),
    (0.01, lambda r: ["Max", "Muller"]),
    (0.03, lambda r: [r.choice(["Baden-Württemberg", "Baden-Wuerttemberg", "Baden Württemberg"])]),
]

SENDERS = ["Karl Müller", "Karl Mueller", "Erika MÜLLER", "Anna Muller", "Schäfer & Söhne", "Jürgen Weiß",
           "Juergen Weiss", "Stadtwerke Nord", "Bürgerbüro", "Landratsamt", "Ingenieurbüro Groß", "Gartenbau Fuchs"]
KINDS = ["Bescheid", "Antrag", "Schreiben", "Vermerk", "Rechnung", "Stellungnahme", "Protokoll"]
TITLE_WORDS = ["Übersicht", "Straßenplan", "Gebührenbescheid", "Lageplan", "Grundstücksplan", "Nachweis",
               "Anlage", "Größenangabe", "Mitteilung", "Bürgeranfrage"]

# (Aktenzeichen, plan code, Akte title)
AKTEN = [
    ("32.10.02-2025/0001", "32.10.02", "Neubau Einfamilienhaus Lindenweg"),
    ("32.10.02-2025/0001-B", "32.10.02", "Beiakte Lindenweg Statik"),
    ("32.10.02-2025/0002", "32.10.02", "Bauakte Müller Gartenhaus"),
    ("32.10.02-2025/0003", "32.10.02", "Umbau Schäfer Scheune"),
    ("32.10.02-2025/0004", "32.10.02", "Anbau Weiß Wintergarten"),
    ("32.10.02-2025/0005", "32.10.02", "Bauvorhaben Ahornallee"),
    ("32.10.02-2025/0006", "32.10.02", "Bauvorhaben Birkenhof"),
    ("32.10.02-2025/0007", "32.10.02", "Bauvorhaben Eichenring"),
    ("32.10.02-2025/0008", "32.10.02", "Bauvorhaben Kastanienplatz"),
    ("32.10.02-2025/0009", "32.10.02", "Bauvorhaben Tannengrund"),
    ("32.10.02-2025/0010", "32.10.02", "Bauvorhaben Ulmenpark"),
    ("32.10.02-2026/0001", "32.10.02", "Neubau Gewerbehalle Ost"),
    ("32.10.02-2026/0002", "32.10.02", "Neubau Kindergarten Süd"),
    ("32.10.02-2026/0003", "32.10.02", "Umnutzung Bahnhofsgebäude"),
    ("32.10.02-2026/0004", "32.10.02", "Aufstockung Rathausplatz"),
    ("32.10.02-2026/0005", "32.10.02", "Carport Fuchs"),
    ("32.10.01-2025/0001", "32.10.01", "Bauvoranfrage Ulmenstraße"),
    ("32.10.01-2025/0002", "32.10.01", "Bauvoranfrage Seeblick"),
    ("32.10.01-2025/0003", "32.10.01", "Bauvoranfrage Mühlbach"),
    ("32.10.01-2025/0004", "32.10.01", "Bauvoranfrage Hafenkante"),
    ("32.20-2026/0001", "32.20", "Gaststätte Zur Linde"),
    ("50.10-2025/0001", "50.10", "Wohngeld Bürger Nord"),
    ("50.10-2025/0002", "50.10", "Wohngeld Bürger Süd"),
    ("50.10-2025/0003", "50.10", "Wohngeld Härtefälle"),
    ("00.10-2026/0001", "00.10", "Organisation Übersicht Ämter"),
    ("00.10-2026/0002", "00.10", "Organisation Geschäftsverteilung"),
]
AKTE_WEIGHTS = [6, 1, 5, 5, 4, 3, 3, 3, 3, 3, 3, 4, 3, 3, 2, 2, 3, 2, 2, 2, 2, 3, 2, 2, 2, 1]
PLAN_OF = {az: plan for az, plan, _ in AKTEN}
AKTE_TITLE = {az: t for az, _, t in AKTEN}
BOUNDARY_DATES = ["2025-01-01", "2025-12-31", "2026-01-01", "2026-06-30", "2026-07-01", "2026-12-31"]

# --------------------------------------------------------------------------
# The model of the tokenizer and the query language
# --------------------------------------------------------------------------

WORD = re.compile(r"[^\W_]+")


def fold1(w):
    return w.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")


def fold2(w):
    return w.lower().replace("ä", "a").replace("ö", "o").replace("ü", "u").replace("ß", "ss")


def positions(text):
    """The forms indexed at each word position of a column."""
    out = []
    for w in WORD.findall(text):
        p, s = fold1(w), fold2(w)
        out.append((p,) if p == s else (p, s))
    return out


def parse_query(q):
    """lib/query.c's grammar: a tree of ("term", words, prefix),
    ("and", [(neg, node)]), ("or", [node])."""
    n = len(q)

    def is_break(i):
        return i >= n or q[i] in '"()' or q[i].isspace()

    def lex(i, plain):
        while i < n and q[i].isspace():
            i += 1
        if i >= n:
            return ("END", i, None, False)
        c = q[i]
        if c == "(":
            return ("LP", i + 1, None, False)
        if c == ")":
            return ("RP", i + 1, None, False)
        if c == '"':
            j = q.index('"', i + 1)
            e, pre = j + 1, False
            while e < n and q[e] == "*":
                e, pre = e + 1, True
            return ("TERM", e, q[i + 1:j], pre)
        if c == "-" and not plain and (not is_break(i + 1) or (i + 1 < n and q[i + 1] in '"(')):
            return ("MINUS", i + 1, None, False)
        e = i + 1
        while not is_break(e):
            e += 1
        text = q[i:e]
        if not plain and text in ("OR", "AND"):
            return (text, e, None, False)
        pre = False
        while text.endswith("*"):
            text, pre = text[:-1], True
        return ("TERM", e, text, pre)

    def parse_prim(i, plain):
        t = lex(i, plain)
        if t[0] == "TERM":
            return ("term", [fold1(w) for w in WORD.findall(t[2])], t[3]), t[1]
        assert t[0] == "LP", q
        node, i = parse_or(t[1])
        t = lex(i, False)
        assert t[0] == "RP", q
        return node, t[1]

    def parse_and(i):
        kids = []
        while True:
            t = lex(i, False)
            if t[0] in ("END", "RP", "OR"):
                return ("and", kids), i
            if t[0] == "AND":
                i = t[1]
                continue
            neg = t[0] == "MINUS"
            if neg:
                i = t[1]
            node, i = parse_prim(i, neg)
            kids.append((neg, node))

    def parse_or(i):
        kids = []
        node, i = parse_and(i)
        kids.append(node)
        while lex(i, False)[0] == "OR":
            node, i = parse_and(lex(i, False)[1])
            kids.append(node)
        return ("or", kids), i

    node, i = parse_or(0)
    assert lex(i, False)[0] == "END", q
    return node


class Doc:
    __slots__ = ("idx", "num", "id", "akte", "mime", "meta", "title", "body", "version", "order", "date", "content",
                 "old_contents", "cols")

    @property
    def plan(self):
        return PLAN_OF[self.akte]

    def columns(self):
        if self.cols is None:
            meta_text = "\n".join(self.meta[k] for k in sorted(self.meta))
            self.cols = [positions(self.title), positions(meta_text),
                         positions(f"{self.akte} {AKTE_TITLE[self.akte]}"), positions(self.body)]
        return self.cols

    def changed(self):
        self.cols = None

    def describe(self):
        return (f"{self.id} v{self.version} [{self.akte}] {self.title!r} {self.mime} date={self.date} "
                f"meta={self.meta}")


class Model:
    def __init__(self):
        self.docs = []          # in generation order
        self.by_id = {}
        self.order = 0          # next filing position
        self._post = None

    def next_order(self):
        self.order += 1
        return self.order

    def invalidate(self):
        self._post = None

    def postings(self):
        if self._post is None:
            post = {}
            for d in self.docs:
                for col in d.columns():
                    for forms in col:
                        for f in forms:
                            post.setdefault(f, set()).add(d.idx)
            self._post = post
        return self._post

    def _token_docs(self, tok, prefix):
        post = self.postings()
        if not prefix:
            return post.get(tok, set())
        out = set()
        for f, s in post.items():
            if f.startswith(tok):
                out |= s
        return out

    @staticmethod
    def _phrase_in(cols, toks, prefix):
        k = len(toks)
        for col in cols:
            for i in range(len(col) - k + 1):
                for j, t in enumerate(toks):
                    forms = col[i + j]
                    if prefix and j == k - 1:
                        if not any(f.startswith(t) for f in forms):
                            break
                    elif t not in forms:
                        break
                else:
                    return True
        return False

    def _eval(self, node):
        kind = node[0]
        if kind == "term":
            toks, prefix = node[1], node[2]
            if not toks:
                return None                     # dropped: no letters or digits
            cand = None
            for j, t in enumerate(toks):
                s = self._token_docs(t, prefix and j == len(toks) - 1)
                cand = set(s) if cand is None else cand & s
            if len(toks) == 1:
                return cand
            return {i for i in cand if self._phrase_in(self.docs[i].columns(), toks, prefix)}
        if kind == "and":
            pos, neg = None, set()
            for is_neg, kid in node[1]:
                r = self._eval(kid)
                if r is None:
                    continue
                if is_neg:
                    neg |= r
                else:
                    pos = set(r) if pos is None else pos & r
            return None if pos is None else pos - neg
        out = set()
        for kid in node[1]:
            r = self._eval(kid)
            if r is not None:
                out |= r
        return out

    def search(self, query=None, akte=None, plan=None, frm=None, to=None, mime=None, meta=(), sort="newest"):
        """The expected hits, in the expected order (relevance: newest)."""
        if query is not None:
            docs = [self.docs[i] for i in (self._eval(parse_query(query)) or set())]
        else:
            docs = list(self.docs)
        if akte is not None:
            docs = [d for d in docs if (d.akte.startswith(akte[:-1]) if akte.endswith("*") else d.akte == akte)]
        if plan is not None:
            docs = [d for d in docs if d.plan == plan or d.plan.startswith(plan + ".")]
        if frm is not None:
            docs = [d for d in docs if d.date >= frm]
        if to is not None:
            docs = [d for d in docs if d.date <= to]
        if mime is not None:
            docs = [d for d in docs if (d.mime.startswith(mime[:-1]) if mime.endswith("*") else d.mime == mime)]
        for kv in meta:
            k, v = kv.split("=", 1)
            docs = [d for d in docs if d.meta.get(k) == v]
        docs.sort(key=lambda d: d.order, reverse=(sort != "oldest"))
        return docs


# --------------------------------------------------------------------------
# The CLI side
# --------------------------------------------------------------------------

def search_args(query=None, akte=None, plan=None, frm=None, to=None, mime=None, meta=(), sort=None,
                limit=PAGE, offset=0):
    args = ["search", "--json", "--limit", str(limit), "--offset", str(offset)]
    if akte is not None:
        args += ["--akte", akte]
    if plan is not None:
        args += ["--plan", plan]
    if frm is not None:
        args += ["--from", frm]
    if to is not None:
        args += ["--to", to]
    if mime is not None:
        args += ["--type", mime]
    for kv in meta:
        args += ["--meta", kv]
    if sort is not None:
        args += ["--sort", sort]
    if query is not None:
        args += ["--", query]
    return args


def cli_search_raw(archive, **kw):
    r = run(*search_args(**kw), archive=archive)
    assert r.code == 0, f"eakte {' '.join(search_args(**kw))} -> {r!r}"
    return r.out


def cli_search(archive, **kw):
    return json.loads(cli_search_raw(archive, **kw))


def cli_search_all(archive, page=PAGE, **kw):
    """Every hit, paging with --offset; returns (hits, first page's JSON)."""
    hits, first, offset = [], None, 0
    while True:
        res = cli_search(archive, limit=page, offset=offset, **kw)
        if first is None:
            first = res
        hits += res["hits"]
        if len(res["hits"]) < page:
            return hits, first
        offset += page


def describe_query(kw):
    args = [a for a in search_args(**kw) if a != "--json"]
    return "eakte " + " ".join(shlex.quote(a) for a in args)


class Checker:
    """Collects mismatches, so that one test reports every wrong answer."""

    def __init__(self, model, archive):
        self.model = model
        self.archive = archive
        self.failures = []
        self.count = 0

    def fail(self, msg):
        self.failures.append(msg)

    def check(self, query=None, sort=None, min_expected=None, max_expected=None, **filters):
        """Compare one search (all pages) with the model: ids, order, fields,
        total, total_exact.  Returns the expected docs."""
        self.count += 1
        kw = dict(query=query, sort=sort, **filters)
        expected = self.model.search(query, sort=sort or "newest", **filters)
        if min_expected is not None:
            assert len(expected) >= min_expected, f"corpus too thin for {kw}: {len(expected)} expected"
        if max_expected is not None:
            assert len(expected) <= max_expected, f"corpus too thick for {kw}: {len(expected)} expected"
        hits, first = cli_search_all(self.archive, **kw)
        got = [h["id"] for h in hits]
        want = [d.id for d in expected]
        what = describe_query(kw)
        if os.environ.get("EAKTE_SEARCH_CORPUS_VERBOSE"):
            print(f"{len(want):6d}  {what}")
        if set(got) != set(want):
            missing = [self.model.by_id[i] for i in set(want) - set(got)]
            extra = [self.model.by_id.get(i) for i in set(got) - set(want)]
            lines = [f"{what}: expected {len(want)} hits, got {len(got)}: "
                     f"{len(missing)} missing, {len(extra)} unexpected"]
            lines += ["  missing:    " + d.describe() for d in missing[:3]]
            lines += ["  unexpected: " + (d.describe() if d else "unknown id") for d in extra[:3]]
            self.fail("\n".join(lines))
        elif sort != "relevance" and got != want:
            k = next(i for i in range(len(got)) if got[i] != want[i])
            self.fail(f"{what}: right hits, wrong order (sort {sort or 'newest'}): first difference at "
                      f"position {k}: got {self.model.by_id[got[k]].describe()}, "
                      f"expected {self.model.by_id[want[k]].describe()}")
        elif len(got) != len(set(got)):
            self.fail(f"{what}: duplicate hits")
        exp_total = min(len(want), COUNT_CAP)
        if first["total"] != exp_total or first["total_exact"] != (len(want) <= COUNT_CAP):
            self.fail(f"{what}: total {first['total']} (exact {first['total_exact']}), expected {exp_total} "
                      f"(exact {len(want) <= COUNT_CAP}); {len(want)} documents match")
        bad = 0
        for h in hits:
            d = self.model.by_id.get(h["id"])
            if d is None:
                continue
            fields = {"akte": d.akte, "mime": d.mime, "date": d.date, "version": d.version, "title": d.title}
            diff = {k: (h.get(k), v) for k, v in fields.items() if h.get(k) != v}
            if diff and bad < 3:
                self.fail(f"{what}: hit {d.id}: fields differ (got, expected): {diff}")
            bad += bool(diff)
        return expected

    def assert_ok(self):
        assert not self.failures, (f"{len(self.failures)} of {self.count} searches gave wrong answers:\n"
                                   + "\n".join(self.failures))


# --------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------

def zipf_sampler(rng, words):
    weights = [1.0 / (r + 1) for r in range(len(words))]
    return lambda k: rng.choices(words, weights=weights, k=k)


def make_text(rng, draw, idx, marker="Kennung"):
    words = draw(rng.randint(35, 70))
    for fam, (p, variants) in FAMILIES.items():
        if rng.random() < p:
            words.insert(rng.randrange(len(words) + 1), rng.choice(variants))
    for w, p in EXTRA_WORDS.items():
        if rng.random() < p:
            words.insert(rng.randrange(len(words) + 1), w)
    for p, make in BIGRAMS:
        if rng.random() < p:
            at = rng.randrange(len(words) + 1)
            words[at:at] = make(rng)
    words.insert(rng.randrange(len(words) + 1), f"{marker}{idx:05d}")
    # prose: starts with a capital letter, sentences, a few lines
    words[0] = words[0][:1].upper() + words[0][1:]
    out, line = [], []
    for i, w in enumerate(words):
        line.append(w)
        if i % 11 == 10:
            out.append(" ".join(line) + ".")
            line = []
    if line:
        out.append(" ".join(line) + ".")
    return "\n".join(out) + "\n"


def xml_bytes(text):
    lines = text.split("\n", 1)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<schreiben kennung="Attributwort">\n'
            f"<betreff>{lines[0]}</betreff>\n<text>{lines[1] if len(lines) > 1 else ''}</text>\n"
            "</schreiben>\n").encode("utf-8")


class Corpus:
    def __init__(self, archive, workdir, model, timings):
        self.archive = archive
        self.workdir = workdir
        self.model = model
        self.timings = timings
        self.filing_calls = 0


def random_day(rng):
    start = datetime.date(2025, 1, 1)
    return (start + datetime.timedelta(days=rng.randrange(730))).isoformat()


def build_corpus(tmp):
    t0 = time.monotonic()
    rng = random.Random(SEED)
    draw = zipf_sampler(rng, FILLER)
    archive = tmp / "archive"
    run("init", archive, "--origin", "test.musterstadt.de/eakte", check=0)
    run("plan", "import", PLAN, archive=archive, check=0)
    for az, plan, title in AKTEN:
        r = run("akte", "create", "--plan", plan, "--az", az, "--title", title, archive=archive, check=0)
        assert r.text.strip() == az

    # Groups: one `eakte file` call each, sharing Akte and metadata.
    groups = []
    total = 0
    while total < TARGET_DOCS:
        n = min(rng.randint(50, 130), TARGET_DOCS - total)
        meta = {"sender": rng.choice(SENDERS), "kind": rng.choice(KINDS), "date": random_day(rng)}
        if rng.random() < 0.3:
            meta["status"] = rng.choice(["offen", "erledigt"])
        groups.append([rng.choices([a[0] for a in AKTEN], weights=AKTE_WEIGHTS)[0], meta, n])
        total += n
    # boundary dates, a group without date, one with a date that is not YYYY-MM-DD
    for g, day in zip(rng.sample(range(len(groups)), len(BOUNDARY_DATES)), BOUNDARY_DATES):
        groups[g][1]["date"] = day
    special = rng.sample([g for g in range(len(groups)) if groups[g][1]["date"] not in BOUNDARY_DATES], 2)
    del groups[special[0]][1]["date"]
    groups[special[0]][1]["batch"] = "undatiert"
    groups[special[1]][1]["date"] = "15.03.2025"
    groups[special[1]][1]["batch"] = "falschesdatum"

    model = Model()
    idx = 0
    for gi, (akte, meta, n) in enumerate(groups):
        gdir = tmp / "files" / f"g{gi:03d}"
        gdir.mkdir(parents=True)
        paths, docs = [], []
        for _ in range(n):
            idx += 1
            d = Doc()
            d.idx, d.num, d.akte, d.meta = len(model.docs), idx, akte, dict(meta)
            d.version, d.cols, d.old_contents = 1, None, []
            kind_word = meta["kind"]
            r = rng.random()
            text = make_text(rng, draw, idx)
            if r < 0.93:
                d.mime, ext, d.body, d.content = "text/plain", "txt", text, text.encode("utf-8")
            elif r < 0.97:
                d.mime, ext, d.content = "text/xml", "xml", xml_bytes(text)
                d.body = text.replace("\n", " ", 1)      # betreff + " " + text
            else:
                d.mime, ext, d.body = "image/jpeg", "jpg", ""
                d.content = b"\xff\xd8\xff\xe0" + bytes(rng.getrandbits(8) for _ in range(300))
            d.title = f"{kind_word} {rng.choice(TITLE_WORDS)} {idx:05d}.{ext}"
            p = gdir / d.title
            p.write_bytes(d.content)
            paths.append(str(p))
            docs.append(d)
            model.docs.append(d)
        margs = []
        for k, v in meta.items():
            margs += ["--meta", f"{k}={v}"]
        r = run("file", *paths, "--akte", akte, *margs, archive=archive)
        assert r.code == 0 and not r.err.strip(), f"filing group {gi}: {r!r}"
        ids = r.text.split()
        assert len(ids) == n
        for d, i in zip(docs, ids):
            d.id = i
            d.order = model.next_order()
            d.date = meta.get("date") if re.fullmatch(r"\d{4}-\d{2}-\d{2}", meta.get("date", "")) else None
            model.by_id[i] = d
    assert idx == TARGET_DOCS and len(model.by_id) == TARGET_DOCS
    t_filed = time.monotonic()

    # Documents without a valid date: the filing date (filed_at), read back.
    for batch in ("undatiert", "falschesdatum"):
        hits, _ = cli_search_all(archive, meta=(f"batch={batch}",))
        undated = [d for d in model.docs if d.meta.get("batch") == batch]
        assert sorted(h["id"] for h in hits) == sorted(d.id for d in undated)
        for h in hits:
            model.by_id[h["id"]].date = h["filed_at"][:10]
    assert all(d.date for d in model.docs)
    c = Corpus(archive, tmp, model, {"filing_s": t_filed - t0})
    c.filing_calls = len(groups)
    c.rng = random.Random(SEED + 1)
    c.draw = zipf_sampler(c.rng, FILLER)
    return c


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("search-corpus"))


# --------------------------------------------------------------------------
# Searches with known answers
# --------------------------------------------------------------------------

SPELLINGS = [
    "Müller", "Mueller", "MÜLLER", "müller", "mueller", "Muller", "MULLER",
    "Straße", "Strasse", "STRASSE", "strasse",
    "Grundstück", "Grundstueck", "Grundstuck", "Grundstücke",
    "Gebühr", "Gebuehr", "Gebuhr", "GEBÜHR", "Gebühren",
    "Bürger", "Buerger", "Burger", "Bürgerin",
    "Größe", "Groesse", "Grosse", "GRÖSSE",
    "Übersicht", "Uebersicht", "Ubersicht", "übersicht",
    "Schäfer", "Schaefer", "Schafer",
    "Weiß", "Weiss", "Weis",
    "Fußweg", "Fussweg", "Fusweg",
]
PREFIXES = ["Grundst*", "Grundstü*", "Grundstu*", "Grundstue*", "Gebühr*", "Gebu*", "Gebüh*", "Bürger*",
            "Straß*", "Stras*", "Müll*", "Mul*", "Mü*", "Übers*", "Ubers*", "Kennung0001*", "Kennung100*",
            "Größe*", "Lind*", "Wohngel*"]
PHRASES = ['"Max Müller"', '"max mueller"', '"MAX MÜLLER"', '"Max Muller"', '"Müller Max"', '"Max Mül"*',
           '"Baden-Württemberg"', "Baden-Württemberg", '"Baden Wurttemberg"', '"baden wuerttemberg"',
           '"Karl Müller"', '"Bauvoranfrage Ulmenstraße"', '"Gebührenbescheid"', '"Schäfer Söhne"']
BOOLEAN = ["Bauantrag OR Bauvoranfrage", "Schäfer OR Weiß OR Fußweg", "(Bauantrag OR Bauvoranfrage) Müller",
           "Bauantrag Müller OR Schäfer", "Bauantrag AND Müller", "Müller -Entwurf", 'Müller -"Max Müller"',
           "Müller -(Entwurf OR Kopie)", "Straße -Strasse", "Bürger* -Bürgerin", "Grundst* -Grundstück",
           "(Müller OR Muller) -(Mueller OR Entwurf)", "Gebühr (Straße OR Größe) -Kopie",
           "Baden -Württemberg", "Bauantrag Bauvoranfrage Entwurf Kopie"]
AZ_QUERIES = ["Lindenweg", '"32.10.02-2025/0001"', "32.10.02-2025/0001", "2025/0003", "Mühlbach",
              "Muhlbach", "Härtefälle", "Haertefaelle", "Ämter", "32.10.01", "Gaststätte", "Kennung00042",
              "Attributwort", "txt", "jpg", "Jürgen", "Juergen", "Söhne", "Landratsamt", "Ingenieurbüro Groß"]


def test_corpus_size_and_words(corpus):
    """Preconditions: the corpus is as large and as varied as the searches need."""
    m = corpus.model
    assert len(m.docs) >= 10000
    assert corpus.filing_calls < 200
    assert {d.mime for d in m.docs} == {"text/plain", "text/xml", "image/jpeg"}
    assert len({d.akte for d in m.docs}) == len(AKTEN)
    print(f"\n{len(m.docs)} documents filed in {corpus.filing_calls} calls, {corpus.timings['filing_s']:.1f} s")


def test_words_in_every_spelling(corpus):
    c = Checker(corpus.model, corpus.archive)
    for q in SPELLINGS:
        c.check(q)
    # the spelling variants of one word find the same documents
    m = corpus.model
    assert m.search("Müller") and {d.id for d in m.search("Müller")} == {d.id for d in m.search("MUELLER")}
    muller, mueller = {d.id for d in m.search("Muller")}, {d.id for d in m.search("Müller")}
    assert muller - mueller and mueller - muller and muller & mueller
    c.assert_ok()


def test_prefix_phrase_or_not(corpus):
    c = Checker(corpus.model, corpus.archive)
    for q in PREFIXES + PHRASES + BOOLEAN:
        c.check(q)
    c.assert_ok()


def test_aktenzeichen_titles_and_metadata_words(corpus):
    c = Checker(corpus.model, corpus.archive)
    for q in AZ_QUERIES:
        c.check(q)
    c.check("Attributwort", max_expected=0)          # an XML attribute is not text
    c.assert_ok()


def test_filters(corpus):
    c = Checker(corpus.model, corpus.archive)
    for akte in ["32.10.02-2025/0001", "32.10.02-2025/0001-B", "32.10.02-2025/0001*", "32.10.02-2025/000*",
                 "32.10.02-2025/001*", "32.10.02-2025/*", "32.10.02-2026/*", "32.10.0*", "32.10.01-2025/0004",
                 "5*", "00.10-2026/0002", "32.10.02-2026/0007", "32.10.02-2026/0007*", "x*"]:
        c.check(akte=akte)
    for plan in ["32.10.02", "32.10.01", "32.10", "32", "32.20", "50.10", "50", "00", "3", "32.1", "60"]:
        c.check(plan=plan)
    for frm, to in [("2025-01-01", "2025-01-01"), ("2025-12-31", "2026-01-01"), ("2026-06-30", "2026-07-01"),
                    ("2025-03-01", "2025-03-31"), ("2026-07-01", None), (None, "2025-12-31"),
                    ("2026-12-31", None), ("2026-01-02", "2026-06-29"), ("2026-02-01", "2026-01-01")]:
        c.check(frm=frm, to=to)
    for mime in ["text/plain", "text/xml", "text/*", "image/jpeg", "image/*", "application/pdf"]:
        c.check(mime=mime)
    for meta in [("kind=Bescheid",), ("sender=Karl Müller",), ("sender=Karl Mueller",), ("sender=Erika MÜLLER",),
                 ("sender=Schäfer & Söhne",), ("kind=Rechnung", "sender=Bürgerbüro"), ("status=offen",),
                 ("batch=undatiert",), ("date=15.03.2025",), ("date=2025-12-31",), ("sender=karl müller",),
                 ("kind=Antrag", "status=erledigt", "sender=Landratsamt")]:
        c.check(meta=meta)
    c.assert_ok()


def test_queries_with_filters(corpus):
    c = Checker(corpus.model, corpus.archive)
    c.check("Müller", akte="32.10.02-2025/*")
    c.check("Müller", akte="32.10.02-2025/0002")
    c.check("Straße", frm="2025-06-01", to="2025-12-31")
    c.check("Gebühr*", meta=("kind=Rechnung",), mime="text/plain")
    c.check("Schäfer OR Weiß", plan="32.10", to="2025-12-31")
    c.check("Übersicht", mime="image/jpeg")
    c.check("Übersicht", mime="image/*", plan="32")
    c.check('"Max Müller"', akte="32.10.0*", frm="2026-01-01")
    c.check("Bürger* -Bürgerin", plan="50.10")
    c.check("Grundstück", meta=("sender=Karl Müller",), frm="2025-01-01", to="2025-12-31")
    c.check("Kennung00042 OR Kennung10999 OR Kennung05000", akte="32.10.02-2025/0001")
    c.check("Mueller", meta=("batch=undatiert",))
    c.check("2025", plan="00")
    c.assert_ok()


BIG = "Straße OR Bauantrag OR Grundstück OR Gebühr OR Bürger OR Entwurf"


def test_order_paging_relevance(corpus):
    c = Checker(corpus.model, corpus.archive)
    m = corpus.model
    for q in ["Bauantrag", "Schäfer OR Weiß"]:
        c.check(q)
        c.check(q, sort="oldest")
    c.check(plan="32.10.02")
    c.check(plan="32.10.02", sort="oldest")
    c.check(akte="32.10.02-2025/0003", mime="text/*", sort="oldest")
    c.assert_ok()

    # offset paging with an odd page size gives the same list as one walk
    want = [d.id for d in m.search("Bauvoranfrage")]
    assert 1000 < len(want) < COUNT_CAP
    pages, offset = [], 0
    while True:
        res = cli_search(corpus.archive, query="Bauvoranfrage", limit=137, offset=offset)
        assert res["total"] == len(want) and res["offset"] == offset and res["limit"] == 137
        pages += [h["id"] for h in res["hits"]]
        if len(res["hits"]) < 137:
            break
        offset += 137
    assert pages == want
    res = cli_search(corpus.archive, query="Bauvoranfrage", limit=10, offset=len(want) + 5)
    assert res["hits"] == [] and res["total"] == len(want)
    # the default page: 20, newest first
    r = run("search", "--json", "--", "Bauvoranfrage", archive=corpus.archive, check=0)
    assert [h["id"] for h in json.loads(r.out)["hits"]] == want[:20]

    # relevance: the same set as newest when below the ranking window ...
    c = Checker(m, corpus.archive)
    c.check("Schäfer OR Weiß", sort="relevance", max_expected=RANK_WINDOW)
    c.check("Lindenweg", sort="relevance", max_expected=RANK_WINDOW)
    c.assert_ok()
    # ... and above it, only the newest RANK_WINDOW matches are ranked
    big = [d.id for d in m.search(BIG)]
    assert RANK_WINDOW < len(big) < COUNT_CAP
    hits, first = cli_search_all(corpus.archive, query=BIG,
                                 sort="relevance")
    assert first["ranked_window"] == RANK_WINDOW and first["total"] == len(big) and first["total_exact"]
    assert len(hits) == RANK_WINDOW and set(h["id"] for h in hits) == set(big[:RANK_WINDOW])


def test_totals_above_the_cap(corpus):
    """Totals above 10,000 are reported as 10,000 with total_exact false, but
    every hit can still be paged through, in order."""
    c = Checker(corpus.model, corpus.archive)
    c.check("txt OR xml OR jpg", min_expected=COUNT_CAP + 1)      # titles: every document
    c.check(frm="2000-01-01", min_expected=COUNT_CAP + 1)          # a filter alone
    c.check("und", min_expected=COUNT_CAP + 1)                      # the most common filler word
    c.check(plan="32", min_expected=0)                              # whatever side of the cap
    c.check("txt OR jpg")
    c.assert_ok()


# --------------------------------------------------------------------------
# New versions and metadata changes
# --------------------------------------------------------------------------

def test_new_versions(corpus):
    m, A, rng = corpus.model, corpus.archive, corpus.rng
    vdir = corpus.workdir / "versions"
    vdir.mkdir()
    # documents with a "date": the date of the others would be the new version's
    dated_docs = [d for d in m.docs if "batch" not in d.meta]
    chosen = rng.sample([d for d in dated_docs if d.mime == "text/plain"], 20) + \
        rng.sample([d for d in dated_docs if d.mime == "text/xml"], 2) + \
        rng.sample([d for d in dated_docs if d.mime == "image/jpeg"], 2)
    dated = chosen[3]
    for n, d in enumerate(chosen):
        text = make_text(rng, corpus.draw, d.num, marker="Revision") + "Nachtrag zur Größenänderung.\n"
        margs = []
        if d.mime == "text/xml":
            content, body = xml_bytes(text), text.replace("\n", " ", 1)
            name = f"Fassung {n} {d.num:05d}.xml"
        else:
            content, body = text.encode("utf-8"), text
            name = f"Fassung {n} {d.num:05d}.txt"
        if d is dated:
            margs = ["--meta", "date=2024-02-29"]
        p = vdir / name
        p.write_bytes(content)
        r = run("file", "--new-version-of", d.id, p, *margs, archive=A)
        assert r.code == 0 and r.text.split() == [d.id], r
        d.old_contents.append(d.content)
        d.content, d.body, d.version = content, body, d.version + 1
        d.mime = "text/xml" if name.endswith(".xml") else "text/plain"
        d.order = m.next_order()
        if margs:
            d.meta["date"], d.date = "2024-02-29", "2024-02-29"
        d.changed()
    m.invalidate()

    # the old text no longer finds them, the new one does
    old_markers = [f"Kennung{d.num:05d}" for d in chosen]
    c = Checker(m, A)
    c.check(" OR ".join(old_markers), max_expected=0)
    for d in chosen[:3] + chosen[-4:]:
        c.check(f"Kennung{d.num:05d}", max_expected=0)
        c.check(f"Revision{d.num:05d}", min_expected=1)
    c.check("Nachtrag", min_expected=len(chosen), max_expected=len(chosen))   # newest version first
    c.check("Größenänderung Nachtrag", sort="oldest")
    c.check("Grossenanderung")
    c.check("Revision*")
    c.check("Bauantrag")          # versions moved to the front
    c.check(to="2024-12-31")
    c.check(mime="image/jpeg")
    c.check(mime="text/plain", akte=chosen[-1].akte)
    c.check(" OR ".join(d.title.split()[-1] for d in chosen))  # titles carry over
    c.assert_ok()

    # the bytes of every version stay retrievable
    for d in chosen[:3] + chosen[-3:]:
        assert run("get", d.id, "--version", "1", archive=A, check=0).out == d.old_contents[0]
        assert run("get", d.id, archive=A, check=0).out == d.content
        assert run("get", d.id, "--version", "2", archive=A, check=0).out == d.content


def test_metadata_changes(corpus):
    m, A, rng = corpus.model, corpus.archive, corpus.rng
    pool = [d for d in m.docs if d.version == 1 and "batch" not in d.meta]
    picks = rng.sample(pool, 40)
    renamed_sender, no_kind, retitled, redated = picks[:12], picks[12:24], picks[24:32], picks[32:]
    for d in renamed_sender:
        run("meta", "set", d.id, "sender=Zacharias Weißmüller", archive=A, check=0)
        d.meta["sender"] = "Zacharias Weißmüller"
    for d in no_kind:
        run("meta", "set", d.id, "kind=", "status=geprüft", archive=A, check=0)
        del d.meta["kind"]
        d.meta["status"] = "geprüft"
    for d in retitled:
        run("meta", "set", d.id, "--title", "Umbenannt Sonderfall Übergröße", archive=A, check=0)
        d.title = "Umbenannt Sonderfall Übergröße"
    for d in redated:
        run("meta", "set", d.id, "date=2024-01-15", archive=A, check=0)
        d.meta["date"], d.date = "2024-01-15", "2024-01-15"
    for d in picks:
        d.changed()                  # the order stays: a metadata change is no new version
    m.invalidate()

    c = Checker(m, A)
    for q in ["Weißmüller", "Weissmueller", "Weissmuller", "WEISSMÜLLER", '"Zacharias Weißmüller"', "Zacharias"]:
        c.check(q, min_expected=len(renamed_sender), max_expected=len(renamed_sender))
    c.check(meta=("sender=Zacharias Weißmüller",))
    c.check(meta=("sender=Zacharias Weissmüller",), max_expected=0)
    for s in {d.meta["sender"] for d in no_kind}:
        c.check(meta=(f"sender={s}",))
    for k in KINDS:
        c.check(meta=(f"kind={k}",), akte="32.10.02-2025/*")
    c.check(meta=("status=geprüft",))
    c.check("geprüft OR gepruft")
    c.check("Sonderfall", min_expected=len(retitled), max_expected=len(retitled))
    c.check("Übergröße Umbenannt", sort="oldest")
    c.check("Ubergrosse")
    c.check(" OR ".join(f"{d.num:05d}" for d in retitled), max_expected=0)   # the old titles are gone
    c.check(frm="2024-01-01", to="2024-12-31")
    c.check(to="2024-01-15", frm="2024-01-15")
    c.check(plan="32.10", to="2024-06-30", sort="oldest")
    c.check("Bauantrag")          # order unchanged
    c.assert_ok()


# --------------------------------------------------------------------------
# The index rebuilt: reindex, and an index deleted behind the reader's back
# --------------------------------------------------------------------------

REINDEX_QUERIES = [
    dict(query="Müller"), dict(query="Muller", sort="oldest"), dict(query="Straße", limit=50, offset=100),
    dict(query="Grundst*"), dict(query='"Max Müller"'), dict(query="Bauantrag OR Bauvoranfrage", limit=200),
    dict(query="Müller -(Entwurf OR Kopie)"), dict(query="Baden-Württemberg"), dict(query="Nachtrag"),
    dict(query="Revision*"), dict(query="Sonderfall"), dict(query="Weißmüller"), dict(query="Lindenweg"),
    dict(query="Kennung00042"), dict(query="txt OR xml OR jpg", limit=100, offset=9950),
    dict(query="Gebühr", sort="relevance", limit=100), dict(query="Schäfer OR Weiß", sort="relevance"),
    dict(akte="32.10.02-2025/0001"), dict(akte="32.10.02-2025/*", limit=300, offset=700),
    dict(plan="32.10", sort="oldest"), dict(plan="50"), dict(frm="2025-12-31", to="2026-01-01"),
    dict(frm="2024-01-01", to="2024-12-31"), dict(mime="image/*"), dict(mime="text/xml", sort="oldest"),
    dict(meta=("sender=Karl Müller",)), dict(meta=("status=geprüft",)), dict(meta=("batch=undatiert",)),
    dict(query="Gebühr*", meta=("kind=Rechnung",), mime="text/plain", frm="2025-06-01"),
    dict(query="Bürger* -Bürgerin", plan="50.10"), dict(query="und", limit=20, offset=9990),
]


def snapshot(archive):
    return [cli_search_raw(archive, **q) for q in REINDEX_QUERIES]


def compare_snapshots(before, after, what):
    bad = []
    for q, b, a in zip(REINDEX_QUERIES, before, after):
        if a != b:
            jb, ja = json.loads(b), json.loads(a)
            ib, ia = [h["id"] for h in jb["hits"]], [h["id"] for h in ja["hits"]]
            bad.append(f"{describe_query(q)}: before: total {jb['total']}, {len(ib)} hits; after {what}: "
                       f"total {ja['total']}, {len(ia)} hits"
                       + (f" ({len(set(ib) - set(ia))} missing, {len(set(ia) - set(ib))} new)" if ib != ia
                          else " (same hits, other fields differ)"))
    return bad


def check_snapshot_against_model(corpus, snap):
    """Every recorded answer is also the model's answer."""
    m, bad = corpus.model, []
    for q, raw in zip(REINDEX_QUERIES, snap):
        res = json.loads(raw)
        kw = {k: v for k, v in q.items() if k not in ("limit", "offset", "sort")}
        exp = m.search(sort=q.get("sort", "newest"), **kw)
        off, lim = q.get("offset", 0), q.get("limit", PAGE)
        got = [h["id"] for h in res["hits"]]
        if q.get("sort") == "relevance":
            ok = len(exp) <= RANK_WINDOW and set(got) <= {d.id for d in exp} and len(got) == min(lim, len(exp))
        else:
            ok = got == [d.id for d in exp[off:off + lim]]
        if not ok or res["total"] != min(len(exp), COUNT_CAP):
            bad.append(f"{describe_query(q)}: {len(got)} hits, total {res['total']}; the model expects "
                       f"{len(exp)} matches")
    return bad


def test_reindex_gives_identical_answers(corpus):
    A = corpus.archive
    before = snapshot(A)
    problems = check_snapshot_against_model(corpus, before)
    t = time.monotonic()
    r = run("reindex", archive=A)
    assert r.code == 0, r
    corpus.timings["reindex_s"] = time.monotonic() - t
    after = snapshot(A)
    problems += compare_snapshots(before, after, "reindex")
    corpus.before_reindex = before
    print(f"\nreindex: {corpus.timings['reindex_s']:.1f} s")
    assert not problems, "\n".join(problems)


def test_deleted_index_is_rebuilt_by_a_search(corpus):
    """index.sqlite is a cache: deleted, the next reader rebuilds it from the
    journal and must give the same answers as before."""
    A = corpus.archive
    before = getattr(corpus, "before_reindex", None) or snapshot(A)
    for suffix in ("", "-wal", "-shm"):
        p = Path(A) / f"index.sqlite{suffix}"
        if p.exists():
            p.unlink()
    after = snapshot(A)           # read-only: the first search rebuilds the index
    assert (Path(A) / "index.sqlite").exists()
    problems = compare_snapshots(before, after, "deleting index.sqlite and searching")
    problems += check_snapshot_against_model(corpus, after)
    # and once more, now that a reader's rebuilt index is in place
    again = snapshot(A)
    problems += compare_snapshots(before, again, "a second search after deleting index.sqlite")
    assert not problems, ("after index.sqlite was deleted, a search (a reader) rebuilt the index but its "
                          "answers differ from before:\n" + "\n".join(problems))
