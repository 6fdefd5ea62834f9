"""eakted under the load the issue names: 8 socket clients filing 1,000
documents each while a slow writer feeds 2 hotfolders in chunks; then the
same load with kill -9 at random moments, 20 times."""
import hashlib
import json
import os
import random
import signal
import socket
import threading
import time
from pathlib import Path

from conftest import run
from test_daemon import Client, Daemon

AZ1, AZ2 = "32.10.02-2026/0007", "32.10.02-2026/0008"


def events(archive):
    return [json.loads(line) for line in run("log", "--json", archive=archive, check=0).text.splitlines()]


def slow_writer(folder, prefix, n, stop=None, rnd=None):
    """Write n files into folder under their final names, each in 3 chunks
    with pauses (as a scanner on a share does); returns their SHA-256s."""
    rnd = rnd or random.Random(prefix)
    hashes = []
    for i in range(n):
        if stop is not None and stop.is_set():
            break
        data = f"Scan {prefix} Nummer {i}\n".encode() + os.urandom(300).hex().encode()
        with open(folder / f"{prefix}-{i:04d}.txt", "wb") as f:
            for k in range(3):
                f.write(data[k * len(data) // 3:(k + 1) * len(data) // 3])
                f.flush()
                time.sleep(rnd.uniform(0.001, 0.01))
        hashes.append(hashlib.sha256(data).hexdigest())
    return hashes


def socket_client(sock, k, n, src, acked, stop=None):
    c = Client(sock)
    for i in range(n):
        if stop is not None and stop.is_set():
            break
        p = src / f"c{k}-{i:04d}.txt"
        p.write_text(f"Eingang Client {k} Nummer {i}\n")
        r = c.file(p, AZ1 if i % 2 else AZ2)
        assert r["ok"], r
        acked[k].append(r["ids"][0])
    c.close()


def hotfolder_content_hashes(archive, az):
    """SHA-256 of the content of every document in Akte az (from the events)."""
    out = {}
    for e in events(archive):
        ev = e["event"]
        if ev["action"] == "file" and ev.get("akte") == az and ev["actor"].startswith("hotfolder:"):
            out.setdefault(ev["content"]["sha256"], []).append(ev["doc"])
    return out


def test_eight_clients_and_two_slow_hotfolders(archive, tmp_path):
    h1, h2, src = tmp_path / "scan1", tmp_path / "scan2", tmp_path / "src"
    for d in (h1, h2, src):
        d.mkdir()
    d = Daemon(archive, tmp_path / "s", extra=["--hotfolder", f"{h1}={AZ1}", "--hotfolder", f"{h2}={AZ2}"])
    acked = {k: [] for k in range(8)}
    hashes = {}
    try:
        clients = [threading.Thread(target=socket_client, args=(d.sock, k, 1000, src, acked)) for k in range(8)]
        writers = [threading.Thread(target=lambda f=f, name=name: hashes.__setitem__(name, slow_writer(f, name, 100)))
                   for f, name in ((h1, "h1"), (h2, "h2"))]
        for t in clients + writers:
            t.start()
        for t in clients + writers:
            t.join()
        # the hotfolders empty themselves
        deadline = time.time() + 60
        while time.time() < deadline and any(p.is_file() for h in (h1, h2) for p in h.iterdir()):
            time.sleep(0.1)
        assert not [p for h in (h1, h2) for p in h.iterdir() if p.is_file()]
        assert not list((h1 / "error").iterdir()) and not list((h2 / "error").iterdir())
    finally:
        assert d.stop() == 0
    ev = events(archive)
    seq_of = {e["event"]["doc"]: e["seq"] for e in ev if e["event"]["action"] == "file"}
    ids = [i for k in acked for i in acked[k]]
    assert len(ids) == len(set(ids)) == 8000
    assert all(i in seq_of for i in ids)
    # each client's documents are in the journal in the order they were acknowledged
    for k in acked:
        seqs = [seq_of[i] for i in acked[k]]
        assert seqs == sorted(seqs), k
    # every hotfolder file exactly once, in its Akte
    for az, name in ((AZ1, "h1"), (AZ2, "h2")):
        got = hotfolder_content_hashes(archive, az)
        assert sorted(got) == sorted(hashes[name])
        assert all(len(v) == 1 for v in got.values())
    run("verify", archive=archive, check=0)


def test_kill9_under_load_twenty_times(archive, tmp_path):
    rnd = random.Random(1126)
    h1, src = tmp_path / "scan1", tmp_path / "src"
    h1.mkdir()
    src.mkdir()
    acked = {k: [] for k in range(4)}
    written = []
    for round_ in range(20):
        d = Daemon(archive, tmp_path / "s", extra=["--hotfolder", f"{h1}={AZ1}"])
        stop = threading.Event()
        sub = tmp_path / f"src{round_}"
        sub.mkdir()

        def client(k):
            try:
                socket_client(d.sock, k, 10**6, sub, acked, stop)
            except (OSError, AssertionError, ValueError):
                pass   # killed under us: that request was not acknowledged

        def writer():
            written.extend(slow_writer(h1, f"r{round_}", 10**6, stop, rnd))

        threads = [threading.Thread(target=client, args=(k,)) for k in range(4)] + [threading.Thread(target=writer)]
        for t in threads:
            t.start()
        time.sleep(rnd.uniform(0.1, 0.6))
        d.p.send_signal(signal.SIGKILL)
        d.p.wait()
        d.log.close()
        stop.set()
        for t in threads:
            t.join()
    # a last, clean run takes in what the hotfolder still holds
    d = Daemon(archive, tmp_path / "s", extra=["--hotfolder", f"{h1}={AZ1}"])
    try:
        deadline = time.time() + 60
        while time.time() < deadline and any(p.is_file() for p in h1.iterdir()):
            time.sleep(0.1)
    finally:
        assert d.stop() == 0
    assert not [p for p in h1.iterdir() if p.is_file()]
    ids = [i for k in acked for i in acked[k]]
    assert len(ids) > 100
    ev = events(archive)
    filed = [e["event"]["doc"] for e in ev if e["event"]["action"] == "file"]
    for i in ids:
        assert filed.count(i) == 1, i
    got = hotfolder_content_hashes(archive, AZ1)
    # every file the writer wrote (it is not killed: it finishes each file)
    # is filed exactly once, whichever daemon took it
    assert set(written) == set(got)
    assert all(len(v) == 1 for v in got.values())
    run("verify", archive=archive, check=0)
