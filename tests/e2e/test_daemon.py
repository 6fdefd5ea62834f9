"""The daemon eakted: a real daemon on a socket in a temp dir, driven by the
real CLI and by raw protocol clients (JSON lines, descriptors passed with
SCM_RIGHTS)."""
import json
import os
import random
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import EAKTE, SOURCE_ROOT, run

EAKTED = os.environ.get("EAKTED_BIN") or str(SOURCE_ROOT / "build" / "daemon" / "eakted")


class Daemon:
    def __init__(self, archive, sock, roles=("root=admin",), extra=()):
        self.archive, self.sock = archive, sock
        args = [EAKTED, "--archive", str(archive), "--socket", str(sock)]
        for r in roles:
            args += ["--role", r]
        self.log = open(Path(sock).parent / "eakted.log", "ab")
        self.p = subprocess.Popen(args + list(extra), stderr=self.log)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(str(sock))
                s.close()
                return
            except OSError:
                if self.p.poll() is not None:
                    raise AssertionError(f"eakted exited with {self.p.returncode}: {self.logtext()}")
                time.sleep(0.02)
        raise AssertionError("eakted did not start listening")

    def logtext(self):
        self.log.flush()
        return (Path(self.sock).parent / "eakted.log").read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        rc = self.p.wait(timeout=60)
        self.log.close()
        return rc


def _protocol_validators():
    from jsonschema import Draft202012Validator
    schema = json.loads((SOURCE_ROOT / "schema" / "protocol-v1.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    defs = schema["$defs"]
    req = dict(defs["request"], **{"$defs": defs})
    resp = dict(defs["response"], **{"$defs": defs})
    return Draft202012Validator(req), Draft202012Validator(resp)


REQUEST_SCHEMA, RESPONSE_SCHEMA = _protocol_validators()


class Client:
    """A raw protocol client; every well-formed request it sends and every
    response it reads is checked against schema/protocol-v1.schema.json."""

    def __init__(self, sock):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(str(sock))
        self.f = self.s.makefile("rb")

    def send(self, req, fds=()):
        if isinstance(req, dict) and req.get("v") == 1 and isinstance(req.get("op"), str) and \
                req["op"] in REQUEST_SCHEMA.schema["properties"]["op"]["enum"] and \
                not (req["op"] == "search" and req.get("limit", 0) < 0):
            REQUEST_SCHEMA.validate(req)
        data = (req if isinstance(req, bytes) else json.dumps(req).encode()) + b"\n"
        if fds:
            socket.send_fds(self.s, [data], list(fds))
        else:
            self.s.sendall(data)

    def recv(self):
        line = self.f.readline()
        assert line, "the daemon closed the connection"
        r = json.loads(line)
        RESPONSE_SCHEMA.validate(r)
        return r

    def call(self, req, fds=()):
        self.send(req, fds)
        return self.recv()

    def file(self, path, akte, **extra):
        fd = os.open(path, os.O_RDONLY)
        try:
            return self.call({"v": 1, "op": "file", "docs": [dict(fd=0, akte=akte, **extra)]}, [fd])
        finally:
            os.close(fd)

    def close(self):
        self.f.close()
        self.s.close()


@pytest.fixture
def daemon(archive, tmp_path):
    d = Daemon(archive, tmp_path / "eakted.sock")
    yield d
    assert d.stop() == 0, d.logtext()


def via(d, *args, **kw):
    return run("--socket", d.sock, *args, **kw)


def test_cli_through_daemon_matches_embedded(daemon, archive, tmp_path):
    docs = tmp_path / "d"
    docs.mkdir()
    (docs / "a.txt").write_text("Antrag auf Baugenehmigung für die Gartenstraße\n", encoding="utf-8")
    (docs / "b.txt").write_text("Widerspruch gegen den Gebührenbescheid\n", encoding="utf-8")
    r = via(daemon, "file", docs / "a.txt", docs / "b.txt", "--akte", "A-1", "--meta", "absender=Müller", check=0)
    ids = r.text.split()
    assert len(ids) == 2
    # the same documents, seen directly (readers do not need the lock)
    for i in ids:
        assert run("show", i, archive=archive, check=0).text.startswith(f"Document   {i}")
    time.sleep(0.2)  # the daemon extracts text when idle; search catches up anyway
    for q in (["Gartenstrasse"], ["Gebühr*", "--json"], ["", "--meta", "absender=Müller", "--json"],
              ["absender:Müller", "--sort", "relevance"]):
        emb = run("search", *q, archive=archive)
        dae = via(daemon, "search", *q)
        assert (dae.code, dae.out, dae.err) == (emb.code, emb.out, emb.err), q
    # errors: the same message and exit code in both modes
    run("akte", "close", "A-2", archive=archive, check=5)  # the daemon holds the writer lock
    for args in (["file", docs / "missing.txt", "--akte", "A-1"],
                 ["file", docs / "a.txt", "--akte", "A-9"],
                 ["search", "\"unclosed"],
                 ["search", "x", "--from", "2026-13-01"]):
        dae = via(daemon, *args)
        daemon.stop()
        emb = run(*args, archive=archive)
        daemon.__init__(archive, daemon.sock)
        assert (dae.code, dae.err) == (emb.code, emb.err), args
        assert dae.code != 0


def test_policy_refusal_names_the_path(daemon, archive, tmp_path):
    p = tmp_path / "prog.bin"
    p.write_bytes(b"\x7fELF" + os.urandom(3000))
    r = via(daemon, "file", p, "--akte", "A-1", check=4)
    assert str(p) in r.error and "format policy" in r.error and "nothing of this batch was filed" in r.error


def test_init_does_not_go_through_daemon(daemon, tmp_path):
    r = via(daemon, "init", tmp_path / "new", check=2)
    assert "does not work through eakted" in r.error


def test_every_read_verb_matches_embedded(daemon, archive, tmp_path):
    doc = tmp_path / "brief.txt"
    doc.write_text("Anhörung zum Bebauungsplan Nord\n", encoding="utf-8")
    d1 = via(daemon, "file", doc, "--akte", "A-1", "--meta", "absender=Stadtwerke", check=0).text.strip()
    d2 = via(daemon, "file", "--new-version-of", d1, doc, check=0).text.strip()
    assert d1 == d2
    via(daemon, "meta", "set", d1, "aktenzeichen-extern=VG 4 K 17/26", check=0)
    # The daemon extracts text in the background (once its writer is idle)
    # and embedded `show` extracts on the spot: compare once it is done.
    for _ in range(200):
        if "not extracted yet" not in via(daemon, "show", d1, check=0).text:
            break
        time.sleep(0.05)
    proof = tmp_path / "proof.txt"
    out = tmp_path / "out"
    for args in (["show", d1], ["show", d1, "--json"], ["show", d1, "--history"], ["show", d1, "--history", "--json"],
                 ["get", d1], ["get", d1, "--version", "1"], ["akte", "show", "A-1"], ["akte", "ls"],
                 ["akte", "ls", "--closed"], ["plan", "ls"], ["plan", "show", "32.10.02"], ["ls"], ["ls", "A-1"],
                 ["log"], ["log", "--json", "--from", "3"], ["checkpoint"], ["checkpoint", "--key"],
                 ["proof", d1], ["proof", "--seq", "2"], ["verify"], ["verify", "--json"], ["verify", "--quick"],
                 # errors
                 ["show", "01a00000-0000-7000-8000-000000000000"], ["show", "kein-dokument"], ["get", d1, "--version", "9"],
                 ["akte", "show", "X-99"], ["plan", "show", "99.99"], ["proof", "--seq", "99999"]):
        dae = via(daemon, *args)
        emb = run(*args, archive=archive)
        assert (dae.code, dae.out, dae.err) == (emb.code, emb.out, emb.err), args
    # a proof fetched through the daemon verifies against the daemon's key
    proof.write_bytes(via(daemon, "proof", d1, check=0).out)
    key = via(daemon, "checkpoint", "--key", check=0).text.strip()
    run("verify-proof", proof, "--key", key, check=0)
    via(daemon, "verify-proof", proof, check=0)
    # get -o writes the file only when the content checks out
    via(daemon, "get", d1, "-o", out, check=0)
    assert out.read_bytes() == doc.read_bytes()


def test_every_write_verb_matches_embedded(archive, tmp_path):
    """Each write through the daemon prints and exits as the same write in
    embedded mode on an identical copy of the archive."""
    import shutil
    plan = tmp_path / "plan.csv"
    plan.write_text("code,title,parent,retention,value\n99,Testgruppe,,10,B\n99.01,Testakten,99,5,V\n", encoding="utf-8")
    bad_plan = tmp_path / "bad.csv"
    bad_plan.write_text("code,title,parent,retention,value\n99.02,Kaputt,99,zehn,B\n", encoding="utf-8")
    doc = tmp_path / "x.txt"
    doc.write_text("Vermerk\n")
    d1 = run("file", doc, "--akte", "A-1", archive=archive, check=0).text.strip()
    steps = [["akte", "create", "--plan", "32.10.02", "--az", "W-1", "--title", "Wasserrecht"],
             ["akte", "create", "--plan", "32.10.02"],
             ["akte", "create", "--plan", "32.10.02", "--az", "W-1"],
             ["akte", "create", "--plan", "77.77"],
             ["akte", "create", "W-1", "--vorgang", "Erlaubnis"],
             ["akte", "close", "W-1", "--date", "2026-11-20"],
             ["akte", "close", "W-1"],
             ["akte", "reopen", "W-1"],
             ["akte", "reopen", "W-1"],
             ["meta", "set", d1, "absender=Kreis", "--title", "Neuer Titel"],
             ["meta", "set", d1, "absender=Kreis"],
             ["meta", "set", "01a00000-0000-7000-8000-000000000000", "a=b"],
             ["plan", "import", plan],
             ["plan", "import", bad_plan],
             ["reindex"]]
    copy = tmp_path / "copy"
    shutil.copytree(archive, copy)
    d = Daemon(archive, tmp_path / "s")
    try:
        for args in steps:
            dae = via(d, *args)
            emb = run(*args, archive=copy)
            # generated Aktenzeichen carry the year: equal in both
            assert (dae.code, dae.out, dae.err) == (emb.code, emb.out, emb.err), args
    finally:
        assert d.stop() == 0
    run("verify", archive=archive, check=0)
    import re
    def masked(a):   # the creation time differs by when each ran
        return re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"TIME", run("akte", "show", "W-1", archive=a, check=0).out)
    assert masked(archive) == masked(copy)


def test_roles_per_verb(archive, tmp_path):
    doc = tmp_path / "x.txt"
    doc.write_text("Vermerk\n")
    d1 = run("file", doc, "--akte", "A-1", archive=archive, check=0).text.strip()
    plan = tmp_path / "plan.csv"
    plan.write_text("code,title,parent,retention,value\n99,Testgruppe,,10,B\n", encoding="utf-8")
    verbs = {
        "read": [["show", d1], ["get", d1], ["search", "Vermerk"], ["akte", "show", "A-1"], ["ls"], ["plan", "ls"]],
        "write": [["file", doc, "--akte", "A-1"], ["meta", "set", d1, "k=ROLE"], ["akte", "create", "--plan", "32.10.02"]],
        "audit": [["log"], ["verify", "--quick"], ["checkpoint"], ["proof", d1]],
        "admin": [["plan", "import", plan], ["reindex"]],
    }
    allowed = {"reader": {"read"}, "clerk": {"read", "write"}, "auditor": {"read", "audit"},
               "records": {"read", "write"}, "admin": {"read", "write", "audit", "admin"}}
    for role, kinds in allowed.items():
        d = Daemon(archive, tmp_path / "s", roles=(f"root={role}",))
        try:
            for kind, cmds in verbs.items():
                for args in cmds:
                    args = [a.replace("ROLE", role) if isinstance(a, str) else a for a in args]
                    r = via(d, *args)
                    if kind in kinds:
                        assert r.code == 0, (role, args, r)
                    else:
                        assert r.code == 4 and "permission denied" in r.error and role in r.error, (role, args, r)
        finally:
            assert d.stop() == 0


def test_roles_and_forged_identity(archive, tmp_path):
    d = Daemon(archive, tmp_path / "s", roles=("root=reader",))
    try:
        doc = tmp_path / "x.txt"
        doc.write_text("Bescheid\n")
        r = via(d, "file", doc, "--akte", "A-1", check=4)
        assert "permission denied" in r.error and "clerk" in r.error and "root" in r.error
        via(d, "search", "Bescheid", check=0)
        c = Client(d.sock)
        hello = c.call({"v": 1, "op": "hello", "user": "admin", "roles": "admin"})
        assert hello["ok"] and hello["user"] == "root" and hello["roles"] == "reader"
        fd = os.open(doc, os.O_RDONLY)
        r = c.call({"v": 1, "op": "file", "user": "admin", "actor": "admin", "roles": "admin",
                    "docs": [{"fd": 0, "akte": "A-1", "actor": "admin"}]}, [fd])
        os.close(fd)
        assert not r["ok"] and r["error"]["code"] == -7
        # the same refusal again on this connection is answered, not journaled again
        fd = os.open(doc, os.O_RDONLY)
        assert not c.call({"v": 1, "op": "file", "docs": [{"fd": 0, "akte": "A-1"}]}, [fd])["ok"]
        os.close(fd)
        c.close()
    finally:
        assert d.stop() == 0
    events = [json.loads(line)["event"] for line in run("log", "--json", archive=archive, check=0).text.splitlines()]
    refused = [e for e in events if e["action"] == "refused"]
    # the CLI's refusal (one connection) and the raw client's (another)
    assert len(refused) == 2, refused
    for e in refused:
        assert e["op"] == "file" and e["actor"] == "unix:0:root" and "clerk" in e["reason"]
    run("verify", archive=archive, check=0)
    # a clerk's document records the peer's user, not what the request claims
    d = Daemon(archive, tmp_path / "s", roles=("root=clerk",))
    try:
        c = Client(d.sock)
        r = c.file(doc, "A-1", actor="mallory", title="Bescheid")
        assert r["ok"], r
        c.close()
    finally:
        assert d.stop() == 0
    events = [json.loads(line) for line in run("log", "--json", archive=archive, check=0).text.splitlines()]
    filed = [e["event"] for e in events if e["event"]["action"] == "file"]
    assert filed
    assert "mallory" not in json.dumps(filed) and filed[-1]["actor"] == "unix:0:root"


def test_concurrent_clients_group_commit(daemon, archive, tmp_path):
    n_clients, per_client = 8, 60
    src = tmp_path / "src"
    src.mkdir()
    results = {}

    def worker(k):
        c = Client(daemon.sock)
        ids = []
        for i in range(per_client):
            p = src / f"c{k}-{i}.txt"
            p.write_text(f"Eingang {k} Nummer {i}\n")
            r = c.file(p, "A-1" if i % 2 else "A-2", title=f"Eingang {k}/{i}")
            assert r["ok"], r
            ids.append(r["ids"][0])
        c.close()
        results[k] = ids

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [i for k in range(n_clients) for i in results[k]]
    assert len(ids) == len(set(ids)) == n_clients * per_client
    daemon.stop()
    run("verify", archive=archive, check=0)
    events = run("log", "--json", archive=archive, check=0).text
    for i in ids:
        assert events.count(i) == 1
    daemon.__init__(archive, daemon.sock)


def test_hostile_input_keeps_serving(daemon, tmp_path):
    good = Client(daemon.sock)
    assert good.call({"v": 1, "op": "hello"})["ok"]
    idle = Client(daemon.sock)          # connects and never speaks
    c = Client(daemon.sock)
    for bad, what in ((b"{not json", "not JSON"), (b"[1,2]", "JSON object"), (b'{"v":1}', "no \"op\""),
                      (b'{"v":2,"op":"hello"}', "version"), (b'{"v":1,"op":"rm -rf"}', "unknown op"),
                      (b'{"v":1,"op":"file","docs":[{"fd":0,"akte":"A-1"}]}', "descriptor"),
                      (b'{"v":1,"op":"search","query":"x","limit":-1}', "negative"),
                      (b'{"v":1,"op":"search","query":"a\\u0000b"}', "NUL")):
        r = c.call(bad)
        assert not r["ok"] and what in r["error"]["message"], (bad, r)
    # a pipe is not a document
    rfd, wfd = os.pipe()
    r = c.call({"v": 1, "op": "file", "docs": [{"fd": 0, "akte": "A-1"}]}, [rfd])
    os.close(rfd)
    os.close(wfd)
    assert not r["ok"] and "regular file" in r["error"]["message"]
    # a client that disconnects in the middle of a request
    half = socket.socket(socket.AF_UNIX)
    half.connect(str(daemon.sock))
    half.sendall(b'{"v":1,"op":"search","qu')
    half.close()
    # a 100 MiB line: refused once it passes the limit, the connection closed
    big = Client(daemon.sock)
    chunk = b"x" * (1 << 20)
    try:
        for _ in range(100):
            big.s.sendall(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    line = big.f.readline()
    assert b"longer than" in line
    big.close()
    # everyone else is still served
    assert good.call({"v": 1, "op": "search", "query": "x"})["ok"]
    assert c.call({"v": 1, "op": "hello"})["ok"]
    for x in (good, idle, c):
        x.close()


def test_sigterm_drains_requests_in_flight(archive, tmp_path):
    d = Daemon(archive, tmp_path / "s")
    big = tmp_path / "big.txt"
    with open(big, "w") as f:
        for i in range(400000):
            f.write(f"Zeile {i} eines langen Protokolls der Ratssitzung\n")
    c = Client(d.sock)
    fd = os.open(big, os.O_RDONLY)
    c.send({"v": 1, "op": "file", "docs": [{"fd": 0, "akte": "A-1"}]}, [fd])
    os.close(fd)
    time.sleep(0.05)
    d.p.send_signal(signal.SIGTERM)
    r = c.recv()
    assert r["ok"], r
    assert d.stop() == 0
    assert run("show", r["ids"][0], archive=archive, check=0).code == 0


def test_kill9_loses_nothing_acknowledged(archive, tmp_path):
    """kill -9 at random moments while 4 clients file; after each restart
    every acknowledged document is there exactly once and verify passes."""
    rnd = random.Random(7)
    sock = tmp_path / "s"
    acked = []
    src = tmp_path / "src"
    src.mkdir()
    for rnd_i in range(20):
        d = Daemon(archive, sock)
        stop = threading.Event()

        def worker(k):
            try:
                c = Client(sock)
                i = 0
                while not stop.is_set():
                    p = src / f"r{rnd_i}-{k}-{i}.txt"
                    p.write_text(f"Runde {rnd_i} Client {k} Dokument {i}\n")
                    r = c.file(p, "A-1")
                    if r.get("ok"):
                        acked.append(r["ids"][0])
                    i += 1
            except (OSError, AssertionError, ValueError):
                pass   # the daemon died under us: unacknowledged, may or may not be filed

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        time.sleep(rnd.uniform(0.05, 0.4))
        d.p.send_signal(signal.SIGKILL)
        d.p.wait()
        d.log.close()
        stop.set()
        for t in threads:
            t.join()
    assert len(acked) > 50
    run("verify", archive=archive, check=0)
    events = run("log", "--json", archive=archive, check=0).text
    for i in acked:
        assert events.count(i) == 1, i


def test_check_config(archive, tmp_path):
    conf = tmp_path / "eakted.conf"
    conf.write_text(f"[daemon]\narchive = {archive}\nsocket = {tmp_path}/s\nbatch_max = 64\n\n[roles]\nroot = clerk, auditor\n")
    p = subprocess.run([EAKTED, "--config", str(conf), "--check-config"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    conf.write_text(f"[daemon]\narchive = {archive}\nsocket = {tmp_path}/s\nbatch_max = lots\n")
    p = subprocess.run([EAKTED, "--config", str(conf), "--check-config"], capture_output=True, text=True)
    assert p.returncode == 2 and "line 4" in p.stderr and "batch_max" in p.stderr
    conf.write_text(f"[daemon]\narchive = {archive}\nsocket = {tmp_path}/s\n[roles]\nroot = superuser\n")
    p = subprocess.run([EAKTED, "--config", str(conf), "--check-config"], capture_output=True, text=True)
    assert p.returncode == 2 and "line 5" in p.stderr and "superuser" in p.stderr
    conf.write_text(f"[daemon]\narchive = {archive}\nsoket = {tmp_path}/s\n")
    p = subprocess.run([EAKTED, "--config", str(conf), "--check-config"], capture_output=True, text=True)
    assert p.returncode == 2 and "soket" in p.stderr


def test_reads_and_filing_never_wait_for_text_extraction(archive, tmp_path):
    """The daemon extracts text in its own thread: with an extractor that
    takes 20 s per PDF, filing, search and show answer at once, and the text
    arrives later."""
    script = tmp_path / "pdftotext-slow"
    script.write_text("#!/bin/sh\nsleep 20\nexit 1\n")
    script.chmod(0o755)
    (archive / "eakte.conf").write_text(f"[extract]\npdftotext = {script}\ntimeout = 25\n")
    d = Daemon(archive, tmp_path / "s")
    try:
        pdf = tmp_path / "scan.pdf"
        pdf.write_bytes(b"%PDF-1.4\n" + os.urandom(2000) + b"\n%%EOF\n")
        t0 = time.monotonic()
        ids = [via(d, "file", pdf, "--akte", "A-1", "--title", f"Scan {i}", check=0).text.strip() for i in range(3)]
        hits = json.loads(via(d, "search", "Scan", "--json", check=0).text)
        show = via(d, "show", ids[-1], check=0).text
        elapsed = time.monotonic() - t0
        assert {h["id"] for h in hits["hits"]} == set(ids)
        assert "not extracted yet" in show, show
        # far below one extraction (20 s): nothing above waited for one
        assert elapsed < 10, elapsed
    finally:
        t0 = time.monotonic()
        assert d.stop() == 0
        # SIGTERM does not wait for the extractor either; its work stays pending
        assert time.monotonic() - t0 < 10
    (archive / "eakte.conf").write_text(f"[extract]\npdftotext = {script}\ntimeout = 1\n")
    js = json.loads(run("show", ids[0], "--json", archive=archive, check=0).text)
    assert js["text"]["status"] in ("pending", "failed")


def test_sd_notify_ready_and_stopping(archive, tmp_path):
    ns = tmp_path / "notify"
    n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    n.bind(str(ns))
    n.settimeout(10)
    env = dict(os.environ, NOTIFY_SOCKET=str(ns))
    log = open(tmp_path / "log", "wb")
    p = subprocess.Popen([EAKTED, "--archive", str(archive), "--socket", str(tmp_path / "s"), "--role", "root=admin"],
                         env=env, stderr=log)
    try:
        msg = n.recv(4096).decode()
        assert "READY=1" in msg and f"MAINPID={p.pid}" in msg
        # ready means serving
        c = Client(tmp_path / "s")
        assert c.call({"v": 1, "op": "hello"})["ok"]
        c.close()
        p.send_signal(signal.SIGTERM)
        assert "STOPPING=1" in n.recv(4096).decode()
        assert p.wait(timeout=30) == 0
    finally:
        if p.poll() is None:
            p.kill()
        log.close()
        n.close()


def test_sighup_rereads_roles(archive, tmp_path):
    conf = tmp_path / "eakted.conf"
    conf.write_text(f"[daemon]\narchive = {archive}\nsocket = {tmp_path}/s\n[roles]\nroot = reader\n")
    log = open(tmp_path / "log", "wb")
    p = subprocess.Popen([EAKTED, "--config", str(conf)], stderr=log)
    d = None
    try:
        deadline = time.time() + 10
        while not (tmp_path / "s").exists() and time.time() < deadline:
            time.sleep(0.02)
        doc = tmp_path / "x.txt"
        doc.write_text("Vermerk\n")
        r = run("--socket", tmp_path / "s", "file", doc, "--akte", "A-1")
        assert r.code == 4
        conf.write_text(f"[daemon]\narchive = {archive}\nsocket = {tmp_path}/s\n[roles]\nroot = clerk\n")
        p.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while b"re-read the roles" not in (tmp_path / "log").read_bytes() and time.time() < deadline:
            time.sleep(0.05)
        run("--socket", tmp_path / "s", "file", doc, "--akte", "A-1", check=0)
        # a broken file keeps the old roles
        conf.write_text("[daemon]\nnonsense = 1\n")
        p.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while b"keeping the old roles" not in (tmp_path / "log").read_bytes() and time.time() < deadline:
            time.sleep(0.05)
        assert b"keeping the old roles" in (tmp_path / "log").read_bytes()
        run("--socket", tmp_path / "s", "search", "Vermerk", check=0)
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=30) == 0
        log.close()


@pytest.fixture
def unix_users():
    """Two real Unix users in two groups (the tests run as root in CI)."""
    if os.geteuid() != 0:
        pytest.fail("this test needs root to create Unix users (CI runs as root)")
    names = {"eakte-t-clerk": "eakte-tg-clerk", "eakte-t-reader": "eakte-tg-reader"}
    for user, group in names.items():
        subprocess.run(["userdel", user], capture_output=True)
        subprocess.run(["groupdel", group], capture_output=True)
        subprocess.run(["groupadd", "--system", group], check=True)
        subprocess.run(["useradd", "--system", "--no-create-home", "-g", group, user], check=True)
    yield names
    for user, group in names.items():
        subprocess.run(["userdel", user], capture_output=True)
        subprocess.run(["groupdel", group], capture_output=True)


@pytest.fixture
def public_dir():
    """A directory other users can reach (pytest's tmp_path is 0700)."""
    import shutil
    import tempfile
    d = Path(tempfile.mkdtemp(prefix="eakte-test-"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_real_users_get_their_groups_roles(archive, public_dir, unix_users):
    sockdir = public_dir
    d = Daemon(archive, sockdir / "s", roles=("eakte-tg-clerk=clerk", "eakte-tg-reader=reader"),
               extra=[])
    os.chmod(sockdir / "s", 0o666)
    doc = public_dir / "brief.txt"
    doc.write_text("Brief an die Kämmerei\n", encoding="utf-8")
    os.chmod(doc, 0o644)

    def as_user(user, *args):
        return subprocess.run(["setpriv", f"--reuid={user}", f"--regid={user.replace('-t-', '-tg-')}", "--init-groups",
                               EAKTE, "--socket", str(sockdir / "s"), *map(str, args)], capture_output=True, text=True)
    try:
        r = as_user("eakte-t-clerk", "file", doc, "--akte", "A-1")
        assert r.returncode == 0, r.stderr
        doc_id = r.stdout.strip()
        r = as_user("eakte-t-reader", "file", doc, "--akte", "A-1")
        assert r.returncode == 4 and "eakte-t-reader" in r.stderr and "clerk" in r.stderr
        r = as_user("eakte-t-reader", "show", doc_id)
        assert r.returncode == 0 and "Kämmerei" not in r.stderr
    finally:
        assert d.stop() == 0
    ev = [json.loads(line)["event"] for line in run("log", "--json", archive=archive, check=0).text.splitlines()]
    uid_clerk = int(subprocess.run(["id", "-u", "eakte-t-clerk"], capture_output=True, text=True).stdout)
    uid_reader = int(subprocess.run(["id", "-u", "eakte-t-reader"], capture_output=True, text=True).stdout)
    filed = [e for e in ev if e["action"] == "file" and e["doc"] == doc_id]
    assert filed[0]["actor"] == f"unix:{uid_clerk}:eakte-t-clerk"
    refused = [e for e in ev if e["action"] == "refused"]
    assert refused[-1]["actor"] == f"unix:{uid_reader}:eakte-t-reader"


def test_privilege_drop_to_its_own_user(archive, public_dir, unix_users):
    """Started as root with user = eakte-t-clerk: the daemon binds the socket
    and opens the archive, then runs as that user."""
    import shutil
    tmp_path = public_dir
    moved = public_dir / "archive"
    shutil.move(str(archive), str(moved))
    archive = moved
    subprocess.run(["chown", "-R", "eakte-t-clerk:eakte-tg-clerk", str(archive)], check=True)
    conf = tmp_path / "eakted.conf"
    conf.write_text(f"[daemon]\narchive = {archive}\nsocket = {tmp_path}/s\nuser = eakte-t-clerk\n"
                    f"socket_mode = 0666\n[roles]\nroot = clerk\n")
    log = open(tmp_path / "log", "wb")
    p = subprocess.Popen([EAKTED, "--config", str(conf)], stderr=log)
    try:
        deadline = time.time() + 10
        while not (tmp_path / "s").exists() and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)
        status = Path(f"/proc/{p.pid}/status").read_text()
        uid = int(subprocess.run(["id", "-u", "eakte-t-clerk"], capture_output=True, text=True).stdout)
        uids = [int(x) for x in next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]]
        assert uids == [uid] * 4, status
        assert "CapEff:\t0000000000000000" in status
        doc = tmp_path / "x.txt"
        doc.write_text("Vermerk\n")
        doc_id = run("--socket", tmp_path / "s", "file", doc, "--akte", "A-1", check=0).text.strip()
        assert doc_id
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=30) == 0
        log.close()
    # what it wrote belongs to its user
    owners = {f.stat().st_uid for f in (archive / "store.git" / "objects").rglob("*") if f.is_file()}
    assert owners == {uid}
    subprocess.run(["chown", "-R", "root:root", str(archive)], check=True)
    run("verify", archive=archive, check=0)


def test_a_large_document_delays_nobody_else(daemon, tmp_path):
    """Content is written on the sending connection's thread, not by the
    writer: a small document sent while a large one is still being stored
    is acknowledged first (with the content written by the writer, it
    waited for the large one's whole write)."""
    big = tmp_path / "big.pdf"
    with open(big, "wb") as f:
        f.write(b"%PDF-1.4\n")
        f.truncate(1 << 30)   # sparse: reading it costs no disk, storing it takes seconds
    small = tmp_path / "small.txt"
    small.write_text("Antrag auf Akteneinsicht\n", encoding="utf-8")
    a, b = Client(daemon.sock), Client(daemon.sock)
    try:
        fd = os.open(big, os.O_RDONLY)
        a.send({"v": 1, "op": "file", "docs": [{"fd": 0, "akte": "A-1", "filename": "big.pdf"}]}, [fd])
        os.close(fd)
        time.sleep(0.2)   # the daemon has started storing it
        r = b.file(small, "A-1", filename="small.txt")
        assert r["ok"], r
        # The large one is still being stored: no answer for it yet.
        a.s.setblocking(False)
        with pytest.raises(BlockingIOError):
            a.s.recv(1, socket.MSG_PEEK)
        a.s.setblocking(True)
        r = a.recv()
        assert r["ok"], r
    finally:
        a.close()
        b.close()
    log = [json.loads(l) for l in run("log", "--json", archive=daemon.archive, check=0).text.splitlines()]
    filed = [e["event"]["content"]["size"] for e in log if e["event"]["action"] == "file"]
    # journal order matches the acknowledgements: the small one first
    assert filed[-2:] == [small.stat().st_size, big.stat().st_size]


def test_a_reference_locked_by_another_program_files_nothing(daemon, archive, tmp_path):
    """The journal reference moves only under git's lock protocol: while
    another program holds refs/heads/journal.lock, a commit fails with
    nothing filed and a message that says why; once the lock is gone,
    filing works (the compare-and-swap itself: unit_refs)."""
    from conftest import git, journal_size
    doc = tmp_path / "brief.txt"
    doc.write_text("Antrag auf Sondernutzung\n", encoding="utf-8")
    store = archive / "store.git"
    via(daemon, "file", doc, "--akte", "A-1", check=0)
    n = journal_size(archive)
    head = git(archive, "rev-parse", "journal").stdout.decode().strip()

    (store / "refs" / "heads" / "journal.lock").write_text("0" * 40 + "\n")
    r = via(daemon, "file", doc, "--akte", "A-1", check=5)
    assert "refs/heads/journal is locked by another program" in r.error and "nothing" in r.error, r.error
    assert journal_size(archive) == n
    assert git(archive, "rev-parse", "journal").stdout.decode().strip() == head
    # The daemon opens the archive again after a failed commit, and an open
    # removes reference locks as left over from a crash of its own
    # (docs/operations.md: no git tool may lock references meanwhile).
    (store / "refs" / "heads" / "journal.lock").unlink(missing_ok=True)
    via(daemon, "file", doc, "--akte", "A-1", check=0)
    assert journal_size(archive) == n + 1
    assert not list(store.glob("refs/**/*.lock"))
    run("verify", archive=archive, check=0)
