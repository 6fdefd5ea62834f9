#!/usr/bin/python3
"""Durable filing throughput through eakted with concurrent clients.

  bench_daemon.py [--clients 8] [--docs N] [--runs R] [--flush-delay-ms MS] [--out FILE]

Each of --clients client processes files its share of N documents of 100 KiB
(incompressible, like scanned PDFs), one request per document, and waits for
each acknowledgement (the daemon answers only when the document is durable).
Side by side in the same run, each on a fresh archive, median of R runs:
  - eakted with group commit (its defaults: batch_max 256, batch_wait_ms 2)
  - eakted with batch_max = 1: one commit and fsync round per document
  - the embedded CLI, one `eakte file` per document (one fsync round each,
    plus a process start), with the same number of concurrent callers; they
    queue on the archive's writer lock
Reported: documents/s and the p50/p99 acknowledgement latency.

--flush-delay-ms MS runs eakted and eakte with tests/bench/flushdelay.c
preloaded, which adds MS milliseconds to every fsync, fdatasync and syncfs:
a what-if for a disk whose cache flush is slower than this machine's (a
simulation, reported as such; the default 0 measures the disk as it is).
"""
import argparse
import json
import multiprocessing
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EAKTE = os.environ.get("EAKTE_BIN", str(ROOT / "build" / "cli" / "eakte"))
EAKTED = os.environ.get("EAKTED_BIN", str(ROOT / "build" / "daemon" / "eakted"))
FLUSHDELAY = os.environ.get("EAKTE_FLUSHDELAY", str(ROOT / "build" / "tests" / "bench" / "libflushdelay.so"))
PLAN = ROOT / "docs" / "aktenplan.csv"
FLUSH_ENV = {}   # set by --flush-delay-ms for eakted and the measured eakte calls
AKTE = "32.10.02-2026/0001"


def sh(*args, **kw):
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, **kw)


def new_archive(d):
    d.mkdir(parents=True, exist_ok=True)
    a = d / "archive"
    sh(EAKTE, "init", a, "--origin", "bench.example/eakte")
    sh(EAKTE, "--archive", a, "plan", "import", PLAN)
    sh(EAKTE, "--archive", a, "akte", "create", "--plan", "32.10.02", "--az", AKTE)
    return a


def make_docs(d, n):
    d.mkdir()
    paths = []
    for i in range(n):
        p = d / f"doc{i:06d}.pdf"
        p.write_bytes(b"%PDF-1.5\n" + os.urandom(100 * 1024 - 9))
        paths.append(str(p))
    return paths


def socket_client(args):
    sock, paths = args
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    f = s.makefile("rb")
    lat = []
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        req = json.dumps({"v": 1, "op": "file", "docs": [{"fd": 0, "akte": AKTE, "filename": os.path.basename(p)}]})
        t0 = time.perf_counter()
        socket.send_fds(s, [req.encode() + b"\n"], [fd])
        r = json.loads(f.readline())
        lat.append(time.perf_counter() - t0)
        os.close(fd)
        if not r.get("ok"):
            raise SystemExit(f"refused: {r}")
    s.close()
    return lat


def cli_client(args):
    archive, paths = args
    lat = []
    for p in paths:
        t0 = time.perf_counter()
        while True:
            r = subprocess.run([EAKTE, "--archive", archive, "file", p, "--akte", AKTE], capture_output=True,
                               env=dict(os.environ, **FLUSH_ENV))
            if r.returncode == 0:
                break
            if b"locked" not in r.stderr:   # another caller holds the lock: wait for it, as a user would
                raise SystemExit(r.stderr.decode())
            time.sleep(0.002)
        lat.append(time.perf_counter() - t0)
    return lat


def run_clients(fn, target, paths, clients):
    shares = [paths[k::clients] for k in range(clients)]
    t0 = time.perf_counter()
    with multiprocessing.Pool(clients) as pool:
        lats = pool.map(fn, [(target, s) for s in shares])
    wall = time.perf_counter() - t0
    lat = sorted(x for part in lats for x in part)
    return len(paths) / wall, lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]


def measure_daemon(work, paths, clients, extra):
    a = new_archive(work)
    sock = str(work / "eakted.sock")
    group = sh("id", "-gn").stdout.decode().strip()
    p = subprocess.Popen([EAKTED, "--archive", a, "--socket", sock, "--role", f"{group}=clerk", *extra],
                         stderr=subprocess.DEVNULL, env=dict(os.environ, **FLUSH_ENV))
    for _ in range(500):
        if os.path.exists(sock):
            break
        time.sleep(0.01)
    try:
        return run_clients(socket_client, sock, paths, clients)
    finally:
        p.terminate()
        p.wait()
        sh(EAKTE, "--archive", a, "verify", "--quick")


def measure_cli(work, paths, clients):
    a = new_archive(work)
    return run_clients(cli_client, str(a), paths, clients)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--docs", type=int, default=4000)
    ap.add_argument("--cli-docs", type=int, default=0, help="documents for the embedded CLI (default: --docs / 4)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--flush-delay-ms", type=float, default=0.0)
    ap.add_argument("--out")
    o = ap.parse_args()
    if o.flush_delay_ms > 0:
        if not os.path.exists(FLUSHDELAY):
            raise SystemExit(f"{FLUSHDELAY} is missing: build first (meson compile -C build) or set EAKTE_FLUSHDELAY")
        FLUSH_ENV.update(LD_PRELOAD=FLUSHDELAY, EAKTE_FLUSH_DELAY_MS=str(o.flush_delay_ms),
                         # a sanitized build: the shim comes before ASan's runtime
                         ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
        # ld.so only warns about a preload it cannot load, and goes on
        r = subprocess.run([EAKTE, "--version"], capture_output=True, env=dict(os.environ, **FLUSH_ENV))
        if r.returncode != 0 or r.stderr:
            raise SystemExit(f"eakte with {FLUSHDELAY} preloaded: {r.stderr.decode(errors='replace')}")
    cli_docs = o.cli_docs or max(o.clients, o.docs // 4)
    results = {"group commit": [], "batch_max=1": [], "embedded CLI": []}
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR", "/var/tmp")) as t:
        t = Path(t)
        paths = make_docs(t / "docs", o.docs)
        for r in range(o.runs):
            results["group commit"].append(measure_daemon(t / f"g{r}", paths, o.clients, []))
            results["batch_max=1"].append(measure_daemon(t / f"s{r}", paths, o.clients, ["--config", str(write_conf(t, r))]))
            results["embedded CLI"].append(measure_cli(t / f"c{r}", paths[:cli_docs], o.clients))
            print(f"run {r + 1}: " + ", ".join(f"{k} {v[-1][0]:.0f} docs/s" for k, v in results.items()), flush=True)
    lines = [
        "| mode | documents | documents/s | p50 ack (ms) | p99 ack (ms) |",
        "|---|---|---|---|---|",
    ]
    med = {}
    for k, v in results.items():
        rate = statistics.median(x[0] for x in v)
        med[k] = rate
        n = cli_docs if k == "embedded CLI" else o.docs
        lines.append(f"| {k} | {n} | {rate:,.0f} | {statistics.median(x[1] for x in v) * 1000:.1f} | "
                     f"{statistics.median(x[2] for x in v) * 1000:.1f} |")
    lines.append("")
    lines.append(f"Group commit vs one commit per document: {med['group commit'] / med['batch_max=1']:.1f}x; "
                 f"vs the embedded CLI: {med['group commit'] / med['embedded CLI']:.1f}x.")
    head = (f"{o.clients} clients, 100 KiB incompressible documents, one request per document, "
            f"median of {o.runs} runs; {platform.node()}, {os.cpu_count()} CPUs, load "
            f"{os.getloadavg()[0]:.2f}"
            + (f"; SIMULATED: {o.flush_delay_ms:g} ms added to every fsync/fdatasync/syncfs" if o.flush_delay_ms else "")
            + ".\n\n")
    report = head + "\n".join(lines) + "\n"
    print(report)
    if o.out:
        Path(o.out).write_text(report)


def write_conf(t, r):
    # batch_max is a configuration key only; an otherwise empty config file
    # carries it (archive and socket come from the flags).
    p = t / f"single{r}.conf"
    p.write_text("[daemon]\nbatch_max = 1\nbatch_wait_ms = 0\n")
    return p


if __name__ == "__main__":
    sys.exit(main())
