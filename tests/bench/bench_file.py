#!/usr/bin/python3
"""Filing throughput: eakte against the naive git loop and sha256sum.

  bench_file.py [--docs N] [--big-mib M] [--runs R] [--git-docs K] [--out FILE]

Corpus: N documents of 100 KiB, half incompressible (random bytes behind a
PDF header, like scanned PDF or JPEG content), half German text; and one
document of M MiB (incompressible).  Each measurement is repeated R times on
a fresh archive; the median is reported.  Side by side in the same run:
  - eakte file, all N in one call (one group commit, durable on return)
  - eakte file, 100 documents per call
  - the naive peer: `git hash-object -w` + `git commit` per document (on K
    documents: it is slow), as a git user without eakte would do it
  - sha256sum over the same files (a floor: reading + hashing only)
Peak memory is the max RSS of the eakte process (getrusage of children).
"""
import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EAKTE = os.environ.get("EAKTE_BIN", str(Path(__file__).resolve().parents[2] / "build" / "cli" / "eakte"))

WORDS = ("Antrag Bescheid Gemeinde Verwaltung Bürger Straße Grundstück Genehmigung Frist Widerspruch "
         "Gebühr Satzung Ratsbeschluss Stadtrat Bauordnungsamt Einwohnermeldeamt Ordnungsamt Sachbearbeiterin "
         "Stellungnahme Anhörung Verfügung Zustellung Aktenzeichen Vorgang Müller Schäfer Größe Maß Übersicht "
         "und der die das mit für von zu auf im ist wird nach bei").split()


def make_corpus(d, n, big_mib, rnd):
    d.mkdir(parents=True)
    paths = []
    # 64 distinct German texts of 100 KiB, each document made unique by its
    # first line (generating every text word by word took minutes).
    pool = []
    for _ in range(64):
        words = rnd.choices(WORDS, weights=[1 / (k + 1) for k in range(len(WORDS))], k=16000)
        pool.append(" ".join(words).encode())
    for i in range(n):
        p = d / f"doc{i:05d}.{'pdf' if i % 2 == 0 else 'txt'}"
        if i % 2 == 0:
            p.write_bytes(b"%PDF-1.5\n" + rnd.randbytes(100 * 1024 - 9))
        else:
            head = f"Dokument {i}\n".encode()
            p.write_bytes((head + pool[i % 64])[:100 * 1024])
        paths.append(p)
    big = None
    if big_mib:
        big = d.parent / "big.pdf"          # a scan-like PDF: incompressible
        with open(big, "wb") as f:
            block = rnd.randbytes(1 << 20)
            f.write(b"%PDF-1.5\n")
            for k in range(big_mib):
                f.write(block[k:] + block[:k])
    return paths, big


def timed(cmd, **kw):
    t = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)
    return time.monotonic() - t


def timed_file(cmd, n):
    """(seconds until `eakte file` printed all n ids, i.e. the batch is
    durable and acknowledged; seconds until it exited, after extracting the
    text for the search index)."""
    t = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    for _ in range(n):
        if not p.stdout.readline():
            break
    acked = time.monotonic() - t
    p.stdout.read()
    if p.wait() != 0:
        raise RuntimeError(f"{cmd[:4]} failed")
    return acked, time.monotonic() - t


def peak_rss_of(cmd):
    """Run cmd in a fresh child (python -c wrapper) so RUSAGE_CHILDREN is its own."""
    code = ("import resource,subprocess,sys;"
            "r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);sys.exit(r.returncode)")
    t = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code, *cmd], check=True, capture_output=True, text=True).stdout
    return time.monotonic() - t, int(out.strip()) / 1024.0


_counter = [0]


PLAN = Path(__file__).resolve().parents[2] / "docs" / "aktenplan.csv"


def fresh_archive(tmp):
    # A new directory every time, deleted only at the end: deleting many
    # inodes between runs makes ext4's inode allocator slow for whatever
    # runs next, which would distort the comparison.
    _counter[0] += 1
    a = tmp / f"archive{_counter[0]}"
    subprocess.run([EAKTE, "init", str(a), "--origin", "bench.local/eakte"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([EAKTE, "--archive", str(a), "plan", "import", str(PLAN)], check=True, stdout=subprocess.DEVNULL)
    for az in ("B-1", "B-2"):
        subprocess.run([EAKTE, "--archive", str(a), "akte", "create", "--plan", "32.10.02", "--az", az],
                       check=True, stdout=subprocess.DEVNULL)
    return a


def naive_git(tmp, paths):
    _counter[0] += 1
    repo = tmp / f"naive{_counter[0]}"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@b", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@b")
    subprocess.run(["git", "-C", str(repo), "config", "core.fsync", "all"], check=True)
    t = time.monotonic()
    for p in paths:
        blob = subprocess.run(["git", "-C", str(repo), "hash-object", "-w", str(p)], check=True,
                              capture_output=True, text=True, env=env).stdout.strip()
        subprocess.run(["git", "-C", str(repo), "update-index", "--add", "--cacheinfo", f"100644,{blob},{p.name}"],
                       check=True, env=env)
        subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", p.name], check=True, env=env)
    return time.monotonic() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=10000)
    ap.add_argument("--big-mib", type=int, default=2048)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--git-docs", type=int, default=300)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    rnd = random.Random(1)
    with tempfile.TemporaryDirectory(prefix="eakte-bench-", dir=os.environ.get("TMPDIR", "/var/tmp")) as t:
        tmp = Path(t)
        paths, big = make_corpus(tmp / "corpus", args.docs, args.big_mib, rnd)
        pdfs = [p for p in paths if p.suffix == ".pdf"]
        mb = sum(p.stat().st_size for p in paths) / 1e6
        res = {}

        def median_of(name, fn):
            vals = [fn() for _ in range(args.runs)]
            if isinstance(vals[0], tuple):
                res[name] = statistics.median(v[0] for v in vals)
                res[name + "_exit"] = statistics.median(v[1] for v in vals)
            else:
                res[name] = statistics.median(vals)
            return res[name]

        def eakte_one_call(ps):
            a = fresh_archive(tmp)
            return timed_file([EAKTE, "--archive", str(a), "file", *map(str, ps), "--akte", "B-1"], len(ps))

        def eakte_per_100(ps):
            a = fresh_archive(tmp)
            acked = total = 0.0
            for k in range(0, len(ps), 100):
                x, y = timed_file([EAKTE, "--archive", str(a), "file", *map(str, ps[k:k + 100]), "--akte", "B-1"],
                                  len(ps[k:k + 100]))
                acked += x
                total += y
            return acked, total

        median_of("eakte_all", lambda: eakte_one_call(paths))
        median_of("eakte_pdf", lambda: eakte_one_call(pdfs))
        median_of("eakte_100", lambda: eakte_per_100(paths))
        median_of("sha256sum", lambda: timed(["sha256sum", *map(str, paths)]))
        git_paths = paths[: args.git_docs]
        median_of("git_loop", lambda: naive_git(tmp, git_paths))
        lines = []
        n = len(paths)
        lines.append(f"| eakte file, {n} docs in one call (one group commit), durable | {n / res['eakte_all']:.0f} docs/s | {mb / res['eakte_all']:.0f} MB/s |")
        lines.append(f"| the same until the command exits (text extracted and indexed) | {n / res['eakte_all_exit']:.0f} docs/s | {mb / res['eakte_all_exit']:.0f} MB/s |")
        lines.append(f"| eakte file, {len(pdfs)} incompressible docs in one call, durable | {len(pdfs) / res['eakte_pdf']:.0f} docs/s | {len(pdfs) * 0.1024 / res['eakte_pdf']:.0f} MB/s |")
        lines.append(f"| eakte file, 100 docs per call, durable | {n / res['eakte_100']:.0f} docs/s | {mb / res['eakte_100']:.0f} MB/s |")
        lines.append(f"| git hash-object -w + git commit per doc (core.fsync=all), {len(git_paths)} docs | {len(git_paths) / res['git_loop']:.1f} docs/s | {len(git_paths) * 0.1024 / res['git_loop']:.1f} MB/s |")
        lines.append(f"| sha256sum over the same {n} files (no writes) | {n / res['sha256sum']:.0f} docs/s | {mb / res['sha256sum']:.0f} MB/s |")
        ratio = (len(pdfs) / res["eakte_pdf"]) / (len(git_paths) / res["git_loop"])
        if big is not None:
            big_mb = big.stat().st_size / 1e6
            runs = []
            acks = []
            for _ in range(args.runs):
                a = fresh_archive(tmp)
                runs.append(peak_rss_of([EAKTE, "--archive", str(a), "file", str(big), "--akte", "B-2"]))
                a = fresh_archive(tmp)
                acks.append(timed_file([EAKTE, "--archive", str(a), "file", str(big), "--akte", "B-2"], 1)[0])
            secs = statistics.median(acks)
            rss = max(r[1] for r in runs)
            t_sha = statistics.median(timed(["sha256sum", str(big)]) for _ in range(args.runs))
            t_ossl = statistics.median(timed(["openssl", "dgst", "-sha256", str(big)]) for _ in range(args.runs))
            lines.append(f"| eakte file, one {big_mb / 1e3:.1f} GB document, durable | {secs:.1f} s | {big_mb / secs:.0f} MB/s, peak RSS {rss:.1f} MiB |")
            lines.append(f"| sha256sum / openssl dgst over the same document | {t_sha:.1f} s / {t_ossl:.1f} s | {big_mb / t_sha:.0f} / {big_mb / t_ossl:.0f} MB/s |")
        report = "\n".join(["| what | rate | throughput |", "|---|---|---|", *lines, "",
                            f"eakte (incompressible documents, one call, durable) vs the naive git loop: {ratio:.0f}x"])
        print(report)
        if args.out:
            Path(args.out).write_text(report + "\n")


if __name__ == "__main__":
    main()
