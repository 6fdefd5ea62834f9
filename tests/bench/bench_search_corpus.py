#!/usr/bin/python3
"""Search benchmark: a large archive of realistic German documents.

  bench_search_corpus.py [--docs N] [--archive DIR] [--queries Q] [--runs R]
                         [--cli-queries C] [--no-reindex] [--no-sqlite]
                         [--keep] [--smoke] [--out FILE]

Builds an archive of N documents (default 1,000,000) deterministically: a
German administrative vocabulary of about 5,000 words (function words,
administrative nouns and verbs, surnames, given names, places, streets and
generated compounds) with a Zipf distribution (weight 1/rank); titles of 4-10
words, metadata (absender, date over 5 years, art) and text/plain bodies of
30-200 words.  The documents are filed by bench_fill (a C program against
libeakte: per-document title and metadata, 10,000 documents per group
commit, text extraction after each commit).

Then, with Q queries drawn from the same Zipf weights (content words only:
half one word, 30 % two words, 20 % a prefix "abc*"):
  - bench_search: in-process eakte_search(), --limit 20, newest first and
    relevance, R runs each, p50/p90/p99/max
  - the CLI: `eakte search Q --limit 20` as a subprocess (wall time)
  - the sqlite3 shell on a plain FTS5 table (unicode61 remove_diacritics 2)
    filled from the index's fts_content: the same queries ORDER BY rowid DESC
    LIMIT 20 and ORDER BY rank LIMIT 20, timed with .timer on
  - `eakte reindex` of the whole archive, and the search again afterwards
  - the size of index.sqlite (+ -wal, -shm) and of the archive
The archive goes to --archive DIR (must not exist) or a new directory in
$TMPDIR (default /var/tmp), deleted at the end unless --keep.
--smoke: 2,000 documents, few queries, one run (for CI, under a minute).
"""
import argparse
import io
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from bisect import bisect
from itertools import accumulate
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EAKTE = os.environ.get("EAKTE_BIN", str(ROOT / "build" / "cli" / "eakte"))
BENCH_DIR = Path(EAKTE).resolve().parents[1] / "tests" / "bench"
FILL = os.environ.get("EAKTE_BENCH_FILL", str(BENCH_DIR / "bench_fill"))
SEARCH = os.environ.get("EAKTE_BENCH_SEARCH", str(BENCH_DIR / "bench_search"))
SQLITE3 = os.environ.get("SQLITE3", "sqlite3")
PLAN_CSV = ROOT / "docs" / "aktenplan.csv"

# ---------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------

# Function words, roughly in the order of their frequency in German text.
FUNCTION = """der die und in den von zu das mit sich des auf für ist im dem nicht ein
eine als auch es an werden aus er hat dass sie nach wird bei einer um am sind noch wie
einem über einen so zum war haben nur oder aber vor zur bis mehr durch man sein wurde
sei gegen vom kann wenn ihre seine unter wir ob sowie hier bereits sowie jedoch gemäß
innerhalb bzw soweit hiermit insbesondere daher sodass wegen seit ohne zwischen dieser
diese dieses keine kein alle ihr ihnen uns mir mich wir muss müssen sollte können""".split()

# Administrative core: nouns, verbs, adjectives of letters and decisions.
CORE = """Antrag Bescheid Baugenehmigung Grundstück Straße Widerspruch Gebühr Satzung Verwaltung
Gemeinde Stadt Behörde Frist Anhörung Stellungnahme Verfügung Zustellung Aktenzeichen Vorgang
Bürger Bürgerin Antragsteller Antragstellerin Eigentümer Eigentümerin Nachbar Nachbarin
Genehmigung Erlaubnis Ablehnung Zustimmung Auflage Auflagen Bedingung Unterlagen Nachweis
Nachweise Anlage Anlagen Schreiben Mitteilung Benachrichtigung Einladung Erinnerung Mahnung
Rechnung Zahlung Betrag Kosten Forderung Vollstreckung Säumniszuschlag Ratenzahlung Stundung
Erstattung Rückzahlung Festsetzung Veranlagung Prüfung Überprüfung Entscheidung Beschluss
Ratsbeschluss Stadtrat Gemeinderat Ausschuss Sitzung Niederschrift Protokoll Tagesordnung
Vorlage Beschlussvorlage Haushalt Haushaltsjahr Haushaltsplan Mittel Zuschuss Förderung
Zuwendung Verwendungsnachweis Vergabe Ausschreibung Angebot Auftrag Vertrag Kündigung
Verlängerung Änderung Ergänzung Berichtigung Aufhebung Rücknahme Widerruf Einspruch Klage
Verwaltungsgericht Urteil Beschwerde Petition Anfrage Auskunft Akteneinsicht Datenschutz
Einwilligung Vollmacht Bevollmächtigter Rechtsanwalt Rechtsanwältin Kanzlei Notar Gutachten
Sachverständiger Ortstermin Besichtigung Vermessung Flurstück Gemarkung Flur Grundbuch
Lageplan Bauzeichnung Bebauungsplan Flächennutzungsplan Baulast Abstandsfläche Stellplatz
Stellplätze Garage Carport Anbau Umbau Neubau Abriss Nutzungsänderung Wohnhaus Einfamilienhaus
Mehrfamilienhaus Gebäude Wohnung Dachgeschoss Balkon Terrasse Zaun Einfriedung Hecke Baum
Baumfällung Gewerbe Gewerbeanmeldung Gewerbeabmeldung Gaststätte Konzession Veranstaltung
Sondernutzung Markt Wochenmarkt Parkplatz Parkausweis Anwohner Verkehr Verkehrszeichen
Beschilderung Baustelle Sperrung Umleitung Lärm Ruhestörung Beschwerdeführer Ordnungswidrigkeit
Bußgeld Verwarnung Anzeige Polizei Feuerwehr Rettungsdienst Brandschutz Brandschau Sicherheit
Ordnung Meldebehörde Anmeldung Ummeldung Abmeldung Wohnsitz Nebenwohnsitz Personalausweis
Reisepass Führerschein Fahrerlaubnis Kraftfahrzeug Zulassung Kennzeichen Hund Hundesteuer
Grundsteuer Gewerbesteuer Abwasser Niederschlagswasser Trinkwasser Abfall Müllabfuhr
Straßenreinigung Winterdienst Friedhof Grabstätte Nutzungsrecht Schule Kindergarten
Kindertagesstätte Betreuungsplatz Elternbeitrag Jugendamt Sozialamt Wohngeld Grundsicherung
Leistung Leistungen Bedarf Einkommen Vermögen Miete Mietvertrag Heizkosten Unterkunft
Sachbearbeiter Sachbearbeiterin Amtsleiter Amtsleiterin Bürgermeister Bürgermeisterin
Dezernent Fachbereich Abteilung Amt Bauamt Ordnungsamt Bürgeramt Kämmerei Stadtkasse
Personalamt Hauptamt Rechtsamt Umweltamt Grünflächenamt Tiefbauamt Hochbauamt Stadtplanung
Bauordnungsamt Einwohnermeldeamt Standesamt Geburt Eheschließung Sterbefall Urkunde
beantragt genehmigt abgelehnt eingereicht erteilt festgesetzt erhoben zugestellt übersandt
gebeten mitgeteilt geprüft bearbeitet weitergeleitet nachgereicht vorgelegt erforderlich
zuständig fristgerecht verspätet unvollständig vollständig zulässig unzulässig begründet
unbegründet rechtskräftig vorläufig endgültig gebührenpflichtig beigefügt anliegend
freundlichen Grüßen Sehr geehrte geehrter Damen Herren Frau Herr Anschrift Telefon
Bitte bitte Rückfragen Datum Betreff Bezug Ihr Ihre Ihren Schreiben vom Eingang""".split()

SURNAMES = """Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer
Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann
Hartmann Lange Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler
Herrmann König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn
Schubert Vogel Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann
Franke Albrecht Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt
Stein Jäger Otto Sommer Groß Seidel Heinrich Brandt Haas Schreiber Graf Schulte Dietrich
Ziegler Kuhn Kühn Pohl Engel Horn Busch Bergmann Thomas Voigt Sauer Arnold Wolff Pfeiffer
Ernst Lindner Hübner Kramer Jansen Franz Peter Hansen Wenzel Götz Paul Barth Kern Lange
Böttcher Haase Schenk Schindler Marx Beyer Ritter Hess Kolb Kurz Lenz Dörr Wirth Brinkmann
Sander Kirchner Ebert Thiel Kruse Witt Bock Schilling Busch Reuter Kuhlmann Brand Adam
Nowak Kowalski Yilmaz Kaya Demir Şahin Çelik Öztürk Popescu Ivanova Nguyen Rossi Novak""".split()

GIVEN = """Max Anna Peter Maria Thomas Sabine Michael Andrea Stefan Claudia Andreas Susanne
Christian Petra Markus Monika Frank Birgit Jürgen Ursula Klaus Karin Wolfgang Gabriele
Uwe Heike Jörg Kerstin Dieter Nicole Bernd Katrin Ralf Julia Matthias Sandra Tobias Laura
Jan Lena Lukas Sophie Felix Hannah Paul Lea Jonas Emma Leon Mia Elias Marie Finn Lina
Günter Renate Horst Gisela Manfred Brigitte Helmut Ingrid Hans Elke Rüdiger Jutta Björn
Jörn Sören Gülay Mehmet Ayşe Dragan Zoran Ewa Agnieszka""".split()

PLACES = """Berlin Hamburg München Köln Frankfurt Stuttgart Düsseldorf Leipzig Dortmund Essen
Bremen Dresden Hannover Nürnberg Duisburg Bochum Wuppertal Bielefeld Bonn Münster Mannheim
Karlsruhe Augsburg Wiesbaden Mönchengladbach Gelsenkirchen Aachen Braunschweig Kiel Chemnitz
Halle Magdeburg Freiburg Krefeld Mainz Lübeck Erfurt Oberhausen Rostock Kassel Hagen Potsdam
Saarbrücken Hamm Ludwigshafen Oldenburg Mülheim Osnabrück Leverkusen Darmstadt Heidelberg
Solingen Herne Neuss Regensburg Paderborn Ingolstadt Offenbach Fürth Würzburg Ulm Heilbronn
Pforzheim Wolfsburg Göttingen Bottrop Reutlingen Koblenz Bremerhaven Recklinghausen Erlangen
Bergisch Gladbach Remscheid Jena Trier Salzgitter Moers Siegen Hildesheim Cottbus Gütersloh
Kaiserslautern Witten Schwerin Gera Iserlohn Zwickau Düren Esslingen Ratingen Lünen Hanau
Flensburg Ludwigsburg Tübingen Villingen Schwenningen Konstanz Worms Marburg Lüneburg Minden
Bamberg Celle Bayreuth Plauen Wismar Stralsund Greifswald Passau Landshut Rosenheim Kempten
Musterstadt Neustadt Altstadt Nordstadt Südstadt Weststadt Oststadt Innenstadt Vorstadt""".split()

STREET_BASES = """Haupt Bahnhof Schul Kirch Garten Berg Linden Birken Eichen Buchen Ahorn Tannen
Rosen Tulpen Goethe Schiller Mozart Beethoven Bismarck Friedrich Wilhelm Luisen Karl Ludwig
Markt Mühlen Brunnen Wald Feld Wiesen Bach Teich See Burg Schloss Kloster Post Rathaus
Industrie Gewerbe Hafen Brücken Park Sonnen Mond Stern Hof Dorf Forst Heide Moor Anger
Kant Lessing Heine Uhland Herder Körner Humboldt Gutenberg Kepler Luther Lindenhof Sand
Kiefern Erlen Weiden Pappel Ulmen Holunder Flieder Nelken Veilchen Lilien Narzissen""".split()
STREET_SUFFIXES = ["straße", "weg", "platz", "allee", "gasse", "ring", "damm", "ufer"]

COMPOUND_HEADS = """Bau Grund Gewerbe Steuer Wasser Abwasser Straßen Verkehrs Schul Kinder Sozial Wohn
Miet Haushalts Personal Vergabe Umwelt Natur Denkmal Brand Feuer Lärm Park Sonder Nutzungs
Melde Pass Ausweis Fahrzeug Hunde Abfall Friedhofs Markt Gaststätten Veranstaltungs Jugend
Renten Kranken Pflege Familien Ausländer Einbürgerungs Wahl Stadt Gemeinde Kreis Landes
Bundes Verwaltungs Gerichts Vollstreckungs Zahlungs Kassen Buchungs Rechnungs Vertrags
Planungs Vermessungs Kataster Grünflächen Spielplatz Sport Kultur Bibliotheks Museums
Energie Strom Gas Heizungs Dach Fassaden Fenster Keller Garagen""".split()
COMPOUND_TAILS = """antrag bescheid genehmigung gebühr satzung ordnung verfahren amt stelle plan vertrag
recht pflicht prüfung erlaubnis anzeige nachweis unterlagen kosten abgabe zuschuss förderung
bericht verordnung verwaltung konzept gutachten kontrolle aufsicht behörde angelegenheit
änderung schaden sanierung maßnahme entwicklung planung vermerk register liste akte
frist beitrag regelung übersicht statistik beratung meldung auskunft""".split()


def vocabulary():
    """(ranked words, number of function words): rank 1 first."""
    rnd = random.Random(7)
    seen = set()

    def uniq(ws):
        out = []
        for w in ws:
            if w.lower() not in seen:
                seen.add(w.lower())
                out.append(w)
        return out

    fn = uniq(FUNCTION)
    core = uniq(CORE)
    rnd.shuffle(core)
    rest = uniq(SURNAMES + GIVEN + PLACES)
    rest += uniq(b + s for b in STREET_BASES for s in STREET_SUFFIXES)
    rest += uniq(h + t for h in COMPOUND_HEADS for t in COMPOUND_TAILS)
    rnd.shuffle(rest)
    return fn + core + rest, len(fn)


class Zipf:
    def __init__(self, words, rnd):
        self.words = words
        self.cum = list(accumulate(1.0 / (r + 1) for r in range(len(words))))
        self.total = self.cum[-1]
        self.rnd = rnd

    def draw(self, k):
        r, cum, tot, w = self.rnd.random, self.cum, self.total, self.words
        return [w[bisect(cum, r() * tot)] for _ in range(k)]


KINDS = ["Antrag", "Bescheid", "Schreiben", "Vermerk", "Widerspruch", "Stellungnahme", "Rechnung",
         "Protokoll", "Anhörung", "Verfügung", "Mitteilung", "Gutachten", "Mahnung", "Einladung"]
PLANS = ["00.10", "32.10.01", "32.10.02", "32.20", "50.10", "60"]
DOCS_PER_AKTE = 1000
DAYS = 5 * 365 + 1  # 2020-01-01 .. 2024-12-31


def day_string(d):
    t = time.gmtime(1577836800 + d * 86400)  # 2020-01-01
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"


def corpus(n, batch, out):
    """Write the fill protocol for n documents to out (a binary stream).

    A\\tPLAN\\tAZ\\tTITLE        create an Akte (between batches only)
    D\\tAZ\\tTITLE\\tFILENAME\\tABSENDER\\tDATE\\tART\\tLEN  then LEN bytes of text
    C                           commit the batch, extract text
    """
    words, nfn = vocabulary()
    rnd = random.Random(42)
    allz = Zipf(words, rnd)
    content = Zipf(words[nfn:], rnd)
    plz = {p: 10000 + (hash_str(p) % 89999) for p in PLACES}
    streets = [w for w in words if any(w.endswith(s) for s in STREET_SUFFIXES)]
    akten = {}
    for start in range(0, n, batch):
        end = min(n, start + batch)
        lines = []
        for k in range(start // DOCS_PER_AKTE, (end - 1) // DOCS_PER_AKTE + 1):
            if k in akten:
                continue
            day = min(DAYS - 1, k * DOCS_PER_AKTE * DAYS // max(n, 1))
            plan = PLANS[k % len(PLANS)]
            az = f"{plan}-{day_string(day)[:4]}/{k + 1:05d}"
            t = " ".join([rnd.choice(KINDS[:1] + ["Bauantrag", "Verfahren", "Angelegenheit"]),
                          rnd.choice(SURNAMES)] + content.draw(2))
            akten[k] = az
            lines.append(f"A\t{plan}\t{az}\t{t}\n".encode())
        out.write(b"".join(lines))
        for i in range(start, end):
            az = akten[i // DOCS_PER_AKTE]
            kind = rnd.choice(KINDS)
            tw = content.draw(rnd.randint(3, 9))
            if rnd.random() < 0.5:
                tw.insert(rnd.randint(1, len(tw)), rnd.choice(["über", "zur", "zum", "vom", "für", "gegen", "wegen"]))
            title = " ".join([kind] + tw)[:4000]
            given, sur, place = rnd.choice(GIVEN), rnd.choice(SURNAMES), rnd.choice(PLACES)
            absender = f"{given} {sur}"
            day = min(DAYS - 1, max(0, i * DAYS // max(n, 1) + rnd.randint(-30, 5)))
            date = day_string(day)
            body = [f"{absender}\n{rnd.choice(streets)} {rnd.randint(1, 150)}\n{plz[place]} {place}\n\n",
                    f"Betreff: {title}\n\n"]
            nw = rnd.randint(30, 200)
            ws = allz.draw(nw)
            sent = 0
            for j, w in enumerate(ws):
                if sent == 0:
                    w = w[0].upper() + w[1:]
                sent += 1
                end_s = sent >= 6 and rnd.random() < 0.15
                body.append(w)
                if end_s or j == nw - 1:
                    body.append(".\n\n" if rnd.random() < 0.2 else ". ")
                    sent = 0
                else:
                    body.append(", " if rnd.random() < 0.04 else " ")
            body.append(f"\nMit freundlichen Grüßen\n{absender}\n")
            data = "".join(body).encode()
            fn = f"doc{i:07d}.txt"
            out.write(f"D\t{az}\t{title}\t{fn}\t{absender}\t{date}\t{kind}\t{len(data)}\n".encode())
            out.write(data)
        out.write(b"C\n")


def hash_str(s):
    h = 5381
    for c in s.encode():
        h = (h * 33 + c) & 0xFFFFFFFF
    return h


def make_queries(q, seed=99):
    """Q queries in eakte syntax and the same as FTS5 MATCH strings for a
    plain unicode61 table: 50 % one word, 30 % two words, 20 % prefix."""
    words, nfn = vocabulary()
    rnd = random.Random(seed)
    content = Zipf(words[nfn:], rnd)  # same 1/rank weights as in the corpus, function words left out
    eq, fq = [], []
    for _ in range(q):
        x = rnd.random()
        if x < 0.5:
            w = content.draw(1)
            eq.append(w[0])
            fq.append(f'"{w[0]}"')
        elif x < 0.8:
            w = content.draw(2)
            while w[1] == w[0]:
                w[1] = content.draw(1)[0]
            eq.append(f"{w[0]} {w[1]}")
            fq.append(f'"{w[0]}" "{w[1]}"')
        else:
            w = content.draw(1)[0]
            p = w[: rnd.randint(3, min(6, len(w)))] if len(w) > 3 else w
            eq.append(p + "*")
            fq.append(f'"{p}"*')
    return eq, fq


# ---------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------

def pct(vals, p):
    """Nearest-rank percentile."""
    s = sorted(vals)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def summary(vals):
    return {"p50": pct(vals, 50), "p90": pct(vals, 90), "p99": pct(vals, 99), "max": max(vals), "n": len(vals)}


def fmt(ms):
    if ms != ms:
        return "–"
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 10 else f"{ms:.1f}" if ms < 100 else f"{ms:.0f}"


def log(*a):
    print(*a, flush=True)


def fill(archive, n, batch):
    subprocess.run([EAKTE, "init", str(archive), "--origin", "bench.local/search"], check=True, stdout=subprocess.DEVNULL)
    t0 = time.monotonic()
    p = subprocess.Popen([FILL, str(archive), str(PLAN_CSV)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    lines = []

    def echo():
        for line in io.TextIOWrapper(p.stdout):
            lines.append(line)
            sys.stdout.write(line)
            sys.stdout.flush()

    th = threading.Thread(target=echo)
    th.start()
    try:
        corpus(n, batch, p.stdin)
        p.stdin.close()
    except BrokenPipeError:
        pass
    rc = p.wait()
    th.join()
    if rc != 0:
        sys.exit(f"bench_fill failed with exit code {rc}")
    parts = {}
    for line in lines:
        if line.startswith("FILL "):
            parts = {k: float(v) for k, v in (x.split("=") for x in line.split()[1:])}
    return time.monotonic() - t0, parts


def run_bench_search(archive, qfile, runs, tag, outdir):
    out = outdir / f"search-{tag}.tsv"
    r = subprocess.run([SEARCH, str(archive), str(qfile), "--runs", str(runs), "--limit", "20", "--tsv", str(out)],
                       check=True, capture_output=True, text=True)
    sys.stdout.write(r.stdout)
    res = {}
    for line in r.stdout.splitlines():
        if line.startswith("RESULT "):
            kv = dict(x.split("=", 1) for x in line.split()[1:])
            res.setdefault(kv["sort"], []).append({k: float(v) for k, v in kv.items() if k not in ("sort",)})
        if line.startswith("OPEN "):
            k, v = line.split()[1].split("=")
            res[k] = float(v)
    return res, out


def slowest(tsv, sort, k=5):
    rows = []
    for line in tsv.read_text().splitlines()[1:]:
        f = line.split("\t")
        if f[1] == sort:
            rows.append((float(f[3]), f[4], int(f[5])))
    rows.sort(reverse=True)
    seen, out = set(), []
    for ms, q, total in rows:
        if q not in seen:
            seen.add(q)
            out.append((ms, q, total))
        if len(out) == k:
            break
    return out


def match_totals(tsv):
    """Match counts of the queries (eakte counts exactly up to 10,000)."""
    tot = {}
    for line in tsv.read_text().splitlines()[1:]:
        f = line.split("\t")
        tot[int(f[2])] = int(f[5])
    v = list(tot.values())
    return {"median": statistics.median(v), "capped": sum(1 for x in v if x >= 10000) / len(v),
            "zero": sum(1 for x in v if x == 0) / len(v)}


def kind_of(q):
    return "prefix" if q.endswith("*") else "two words" if " " in q else "one word"


def by_kind(tsv):
    """p50/p99 per query kind and sort, over all runs."""
    d = {}
    for line in tsv.read_text().splitlines()[1:]:
        f = line.split("\t")
        d.setdefault((f[1], kind_of(f[4])), []).append(float(f[3]))
    return {f"{s}/{k}": summary(v) for (s, k), v in sorted(d.items())}


def cli_times(archive, queries):
    ts = []
    for q in queries:
        t = time.perf_counter()
        subprocess.run([EAKTE, "--archive", str(archive), "search", q, "--limit", "20"], check=True,
                       stdout=subprocess.DEVNULL)
        ts.append((time.perf_counter() - t) * 1000)
    return ts


TIMER = re.compile(r"^Run Time: real ([0-9.]+) user ([0-9.]+) sys ([0-9.]+)")


def sqlite_build(index, cmp_db):
    sql = (f"ATTACH 'file:{index}?mode=ro' AS ix;\n"
           "CREATE VIRTUAL TABLE t USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2');\n"
           "INSERT INTO t (rowid, title, body) SELECT rowid, title, body FROM ix.fts_content;\n"
           "DETACH ix;\n")
    t = time.monotonic()
    subprocess.run([SQLITE3, "-bail", str(cmp_db)], input=sql, text=True, check=True)
    return time.monotonic() - t


def sqlite_times(cmp_db, fq, order, runs):
    """Each run: one sqlite3 process, .timer on, every query; the
    real/user+sys of each statement in ms."""
    lines = [".timer on"]
    for m in fq:
        m2 = m.replace("'", "''")
        lines.append(f"SELECT rowid FROM t WHERE t MATCH '{m2}' ORDER BY {order} LIMIT 20;")
    script = "\n".join(lines) + "\n"
    real, cpu = [], []
    for _ in range(runs):
        r = subprocess.run([SQLITE3, "-bail", str(cmp_db)], input=script, text=True, capture_output=True, check=True)
        rr, cc = [], []
        for line in r.stdout.splitlines():
            m = TIMER.match(line)
            if m:
                rr.append(float(m.group(1)) * 1000)
                cc.append((float(m.group(2)) + float(m.group(3))) * 1000)
        if len(rr) != len(fq):
            sys.exit(f"sqlite3: expected {len(fq)} timings, got {len(rr)}")
        real.append(rr)
        cpu.append(cc)
    return real, cpu


def sqlite_by_kind(eq, cpu_runs):
    """p50/p99 (user+sys) per query kind over all runs."""
    d = {}
    for run in cpu_runs:
        for q, ms in zip(eq, run):
            d.setdefault(kind_of(q), []).append(ms)
    return {k: summary(v) for k, v in sorted(d.items())}


def file_size(p):
    try:
        return p.stat().st_size
    except FileNotFoundError:
        return 0


def du(p):
    r = subprocess.run(["du", "-sb", str(p)], capture_output=True, text=True, check=True)
    return int(r.stdout.split()[0])


def index_size(archive):
    ix = archive / "index.sqlite"
    return {"db": file_size(ix), "wal": file_size(Path(str(ix) + "-wal")), "shm": file_size(Path(str(ix) + "-shm"))}


def mib(b):
    return f"{b / 2**20:,.0f} MiB" if b >= 10 * 2**20 else f"{b / 2**20:,.1f} MiB"


def hms(s):
    return f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min"


def med(runs, sort, key):
    return statistics.median(r[key] for r in runs[sort])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--archive", default=None, help="directory for the archive (must not exist)")
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cli-queries", type=int, default=200)
    ap.add_argument("--after-runs", type=int, default=1, help="runs of bench_search after the reindex")
    ap.add_argument("--no-reindex", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the archive and the work files")
    ap.add_argument("--reuse", action="store_true",
                    help="with --archive DIR: measure the archive a previous --keep run left in DIR (no filing)")
    ap.add_argument("--sqlite-runs", type=int, default=None, help="runs of the sqlite3 shell timings (default: --runs)")
    ap.add_argument("--smoke", action="store_true", help="2,000 documents, 50 queries, one run")
    ap.add_argument("--out", default=None, help="write the results (markdown) here")
    args = ap.parse_args()
    if args.smoke:
        args.docs, args.batch, args.queries, args.runs, args.cli_queries = 2000, 1000, 50, 1, 10
    if args.reuse:
        args.keep = True
        if not args.archive:
            sys.exit("--reuse needs --archive DIR")
    if args.sqlite_runs is None:
        args.sqlite_runs = args.runs
    for prog in (EAKTE, FILL, SEARCH):
        if not os.access(prog, os.X_OK):
            sys.exit(f"{prog} is missing: build first (meson compile -C build)")
    sqlite_ok = not args.no_sqlite and shutil.which(SQLITE3) is not None

    if args.archive:
        work = Path(args.archive).resolve()
        if args.reuse:
            if not (work / "archive").is_dir():
                sys.exit(f"--reuse: {work}/archive does not exist")
        elif work.exists():
            sys.exit(f"{work} exists; give a new directory (or --reuse to measure its archive again)")
        else:
            work.mkdir(parents=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="eakte-search-", dir=os.environ.get("TMPDIR", "/var/tmp")))
    archive = work / "archive"
    try:
        return run(args, work, archive, sqlite_ok)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"kept {work}")


def run(args, work, archive, sqlite_ok):
    res = {"docs": args.docs, "queries": args.queries, "runs": args.runs}
    eq, fq = make_queries(args.queries)
    qfile = work / "queries.txt"
    qfile.write_text("\n".join(eq) + "\n")
    words, nfn = vocabulary()
    log(f"vocabulary: {len(words)} words ({nfn} function words); {args.docs} documents; {args.queries} queries")

    res["load"] = {}

    def load(phase):
        res["load"][phase] = os.getloadavg()[0]

    fill_json = work / "fill.json"
    if args.reuse:
        log(f"== reusing {archive} (no filing)")
        res.update(json.loads(fill_json.read_text()) if fill_json.exists() else {"fill_s": float("nan"), "fill_parts": {}})
        res.setdefault("index", index_size(archive))
        res.setdefault("archive_bytes", du(archive))
    else:
        log(f"== filing {args.docs} documents into {archive}")
        load("fill start")
        res["fill_s"], res["fill_parts"] = fill(archive, args.docs, args.batch)
        load("fill end")
        log(f"fill: {hms(res['fill_s'])} ({args.docs / res['fill_s']:.0f} docs/s, text extraction included)")
        res["index"] = index_size(archive)
        res["archive_bytes"] = du(archive)
        res["fts_content"] = subprocess.run(
            [SQLITE3, f"file:{archive / 'index.sqlite'}?mode=ro",
             "SELECT count(*), sum(length(title)), sum(length(body)) FROM fts_content"],
            capture_output=True, text=True).stdout.strip() if sqlite_ok else ""
        fill_json.write_text(json.dumps({k: res[k] for k in ("fill_s", "fill_parts", "index", "archive_bytes", "fts_content")}))
    nbody = res.get("fts_content", "")
    log(f"index.sqlite {mib(res['index']['db'])} (+wal {mib(res['index']['wal'])}), archive {mib(res['archive_bytes'])}; "
        f"fts_content count|title chars|body chars = {nbody}")

    log("== in-process search (bench_search)")
    load("search start")
    res["search"], tsv = run_bench_search(archive, qfile, args.runs, "fill", work)
    load("search end")
    res["slow_newest"] = slowest(tsv, "newest")
    res["slow_relevance"] = slowest(tsv, "relevance")
    res["totals"] = match_totals(tsv)
    res["by_kind"] = by_kind(tsv)

    log(f"== CLI: {args.cli_queries} x `eakte search Q --limit 20`")
    cq = eq[: args.cli_queries]
    cli_runs = [cli_times(archive, cq) for _ in range(max(1, min(args.runs, 3)))]
    res["cli"] = [summary(r) for r in cli_runs]
    for s in res["cli"]:
        log(f"CLI wall: p50 {fmt(s['p50'])} ms, p90 {fmt(s['p90'])} ms, p99 {fmt(s['p99'])} ms, max {fmt(s['max'])} ms")
    ts = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([EAKTE, "--help"], check=True, stdout=subprocess.DEVNULL)
        ts.append((time.perf_counter() - t) * 1000)
    res["cli_help_ms"] = statistics.median(ts)

    if sqlite_ok:
        cmp_db = work / "plain-fts5.sqlite"
        if cmp_db.exists():
            cmp_db.unlink()
        log(f"== sqlite3 shell: building {cmp_db.name} (fts5(title, body), unicode61 remove_diacritics 2)")
        res["sqlite_build_s"] = sqlite_build(archive / "index.sqlite", cmp_db)
        res["sqlite_db"] = file_size(cmp_db)
        log(f"built in {hms(res['sqlite_build_s'])}, {mib(res['sqlite_db'])}")
        for order, key in (("rowid DESC", "sqlite_unranked"), ("rank", "sqlite_ranked")):
            real, cpu = sqlite_times(cmp_db, fq, order, args.sqlite_runs)
            res[key] = {"real": [summary(r) for r in real], "cpu": [summary(c) for c in cpu],
                        "by_kind": sqlite_by_kind(eq, cpu)}
            for s, c in zip(res[key]["real"], res[key]["cpu"]):
                log(f"sqlite3 ORDER BY {order} LIMIT 20: real p50 {fmt(s['p50'])} p99 {fmt(s['p99'])} max {fmt(s['max'])} ms; "
                    f"user+sys p50 {fmt(c['p50'])} p99 {fmt(c['p99'])} max {fmt(c['max'])} ms")
        if not args.keep:
            cmp_db.unlink()

    if not args.no_reindex:
        log("== eakte reindex")
        load("reindex start")
        t = time.monotonic()
        subprocess.run([EAKTE, "--archive", str(archive), "reindex"], check=True, stdout=subprocess.DEVNULL)
        res["reindex_s"] = time.monotonic() - t
        res["index_after"] = index_size(archive)
        log(f"reindex: {hms(res['reindex_s'])}; index.sqlite {mib(res['index_after']['db'])} (+wal {mib(res['index_after']['wal'])})")
        log("== in-process search after reindex")
        res["search_after"], _ = run_bench_search(archive, qfile, args.after_runs, "reindexed", work)
        load("end")

    report = render(args, res, sqlite_ok)
    print(report)
    (work / "results.json").write_text(json.dumps(res, indent=1, default=str))
    if args.out:
        Path(args.out).write_text(report + "\n")
        Path(args.out).with_suffix(".json").write_text(json.dumps(res, indent=1, default=str))
    return 0


def machine():
    def sh(cmd):
        r = subprocess.run(cmd, shell=True, capture_output=True, text=True)
        return r.stdout.strip()
    model = sh("lscpu | sed -n 's/^Model name: *//p'")
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2 / 1048576}' /proc/meminfo")
    deb = sh("cat /etc/debian_version")
    fs = sh(f"df -T {os.environ.get('TMPDIR', '/var/tmp')} | awk 'NR==2 {{print $2}}'")
    sq = sh(f"{SQLITE3} --version | cut -d' ' -f1")
    return (f"{os.cpu_count()} CPUs ({model}), {mem} RAM, Linux {os.uname().release}, Debian {deb}, "
            f"SQLite {sq} (shell and library), work directory on {fs}")


def render(args, res, sqlite_ok):
    L = []
    n = args.docs
    L.append(f"Machine: {machine()}.")
    L.append("")
    L.append(f"{n:,} documents, {args.queries:,} queries (--limit 20), {args.runs} run(s) each; "
             "figures are the median over the runs, in ms.")
    L.append("")
    L.append("| what | p50 | p90 | p99 | max |")
    L.append("|---|---|---|---|---|")

    def row(name, runs):
        L.append(f"| {name} | {fmt(statistics.median(r['p50'] for r in runs))} | "
                 f"{fmt(statistics.median(r['p90'] for r in runs))} | {fmt(statistics.median(r['p99'] for r in runs))} | "
                 f"{fmt(statistics.median(r['max'] for r in runs))} |")

    s = res["search"]
    row("eakte_search, newest first (in-process)", s["newest"])
    row("eakte_search, --sort relevance (in-process)", s["relevance"])
    if "search_after" in res:
        row("eakte_search, newest first, after reindex", res["search_after"]["newest"])
        row("eakte_search, relevance, after reindex", res["search_after"]["relevance"])
    row(f"`eakte search Q --limit 20` wall time ({args.cli_queries} queries)", res["cli"])
    if sqlite_ok:
        row("sqlite3 shell, plain FTS5, ORDER BY rowid DESC LIMIT 20 (real)", res["sqlite_unranked"]["real"])
        row("sqlite3 shell, same, user+sys CPU", res["sqlite_unranked"]["cpu"])
        row("sqlite3 shell, plain FTS5, ORDER BY rank LIMIT 20 (real)", res["sqlite_ranked"]["real"])
        row("sqlite3 shell, same, user+sys CPU", res["sqlite_ranked"]["cpu"])
    L.append("")
    L.append(f"- eakte_archive_open (read-only): {fmt(s['archive_open_ms'])} ms; the first search after it "
             f"(opens the index, loads the journal index; not in the table): {fmt(s['first_search_ms'])} ms")
    L.append("- 1-minute load average at: " + ", ".join(f"{k} {v:.2f}" for k, v in res["load"].items()))
    L.append(f"- `eakte --help` wall time (process start floor): {fmt(res['cli_help_ms'])} ms")
    fp = res.get("fill_parts", {})
    L.append(f"- fill: {hms(res['fill_s'])} ({n / res['fill_s']:.0f} documents/s, batches of {args.batch:,}); of that "
             f"adding {hms(fp.get('add', 0))}, commit {hms(fp.get('commit', 0))}, text extraction {hms(fp.get('extract', 0))}")
    t = res["totals"]
    L.append(f"- matches per query: median {t['median']:,.0f}; {t['capped'] * 100:.0f} % of the queries have 10,000 or more "
             f"(eakte counts exactly up to 10,000), {t['zero'] * 100:.0f} % none")
    ix = res["index"]
    L.append(f"- index.sqlite after filing: {mib(ix['db'])} (-wal {mib(ix['wal'])}, -shm {mib(ix['shm'])}); "
             f"whole archive {mib(res['archive_bytes'])}")
    if "reindex_s" in res:
        ia = res["index_after"]
        L.append(f"- `eakte reindex`: {hms(res['reindex_s'])}; index.sqlite afterwards {mib(ia['db'])} (-wal {mib(ia['wal'])})")
    if sqlite_ok:
        L.append(f"- plain FTS5 comparison table (title, body): built in {hms(res['sqlite_build_s'])}, {mib(res['sqlite_db'])}")
    L.append("")
    L.append("By query kind (in-process, all runs): " + "; ".join(
        f"{k}: p50 {fmt(v['p50'])}, p99 {fmt(v['p99'])}" for k, v in res["by_kind"].items()))
    if sqlite_ok:
        for key, name in (("sqlite_unranked", "rowid DESC"), ("sqlite_ranked", "rank")):
            L.append("")
            L.append(f"sqlite3 shell ORDER BY {name} by query kind (user+sys): " + "; ".join(
                f"{k}: p50 {fmt(v['p50'])}, p99 {fmt(v['p99'])}" for k, v in res[key]["by_kind"].items()))
    L.append("")
    L.append("Slowest queries (newest first): " + "; ".join(f"`{q}` {fmt(ms)} ms ({t} matches)" for ms, q, t in res["slow_newest"]))
    L.append("")
    L.append("Slowest queries (relevance): " + "; ".join(f"`{q}` {fmt(ms)} ms ({t} matches)" for ms, q, t in res["slow_relevance"]))
    return "\n".join(L)


if __name__ == "__main__":
    sys.exit(main())
