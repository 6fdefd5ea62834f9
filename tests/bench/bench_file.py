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
    for i in range(n):
        p = d / f"doc{i:05d}.{'pdf' if i % 2 == 0 else 'txt'}"
        if i % 2 == 0:
            p.write_bytes(b"%PDF-1.5\n" + rnd.randbytes(100 * 1024 - 9))
        else:
            words = []
            size = 0
            while size < 100 * 1024:
                w = rnd.choices(WORDS, weights=[1 / (k + 1) for k in range(len(WORDS))])[0]
                words.append(w)
                size += len(w.encode()) + 1
            p.write_bytes(" ".join(words).encode()[:100 * 1024])
        paths.append(p)
    big = None
    if big_mib:
        big = d.parent / "big.bin"
        with open(big, "wb") as f:
            block = rnd.randbytes(1 << 20)
            for k in range(big_mib):
                f.write(block[k:] + block[:k])
    return paths, big


def timed(cmd, **kw):
    t = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)
    return time.monotonic() - t


def peak_rss_of(cmd):
    """Run cmd in a fresh child (python -c wrapper) so RUSAGE_CHILDREN is its own."""
    code = ("import resource,subprocess,sys;"
            "r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);sys.exit(r.returncode)")
    t = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code, *cmd], check=True, capture_output=True, text=True).stdout
    return time.monotonic() - t, int(out.strip()) / 1024.0


_counter = [0]


def fresh_archive(tmp):
    # A new directory every time, deleted only at the end: deleting many
    # inodes between runs makes ext4's inode allocator slow for whatever
    # runs next, which would distort the comparison.
    _counter[0] += 1
    a = tmp / f"archive{_counter[0]}"
    subprocess.run([EAKTE, "init", str(a), "--origin", "bench.local/eakte"], check=True, stdout=subprocess.DEVNULL)
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
            res[name] = statistics.median(vals)
            return res[name]

        def eakte_one_call(ps):
            a = fresh_archive(tmp)
            return timed([EAKTE, "--archive", str(a), "file", *map(str, ps), "--akte", "B-1"])

        def eakte_per_100(ps):
            a = fresh_archive(tmp)
            t0 = 0.0
            for k in range(0, len(ps), 100):
                t0 += timed([EAKTE, "--archive", str(a), "file", *map(str, ps[k:k + 100]), "--akte", "B-1"])
            return t0

        median_of("eakte_all", lambda: eakte_one_call(paths))
        median_of("eakte_pdf", lambda: eakte_one_call(pdfs))
        median_of("eakte_100", lambda: eakte_per_100(paths))
        median_of("sha256sum", lambda: timed(["sha256sum", *map(str, paths)]))
        git_paths = paths[: args.git_docs]
        median_of("git_loop", lambda: naive_git(tmp, git_paths))
        lines = []
        n = len(paths)
        lines.append(f"| eakte file, {n} docs in one call (one group commit) | {n / res['eakte_all']:.0f} docs/s | {mb / res['eakte_all']:.0f} MB/s |")
        lines.append(f"| eakte file, {len(pdfs)} incompressible docs in one call | {len(pdfs) / res['eakte_pdf']:.0f} docs/s | {len(pdfs) * 0.1024 / res['eakte_pdf']:.0f} MB/s |")
        lines.append(f"| eakte file, 100 docs per call | {n / res['eakte_100']:.0f} docs/s | {mb / res['eakte_100']:.0f} MB/s |")
        lines.append(f"| git hash-object -w + git commit per doc (core.fsync=all), {len(git_paths)} docs | {len(git_paths) / res['git_loop']:.1f} docs/s | {len(git_paths) * 0.1024 / res['git_loop']:.1f} MB/s |")
        lines.append(f"| sha256sum over the same {n} files (no writes) | {n / res['sha256sum']:.0f} docs/s | {mb / res['sha256sum']:.0f} MB/s |")
        ratio = (n / res["eakte_all"]) / (len(git_paths) / res["git_loop"])
        if big is not None:
            big_mb = big.stat().st_size / 1e6
            runs = []
            for _ in range(args.runs):
                a = fresh_archive(tmp)
                runs.append(peak_rss_of([EAKTE, "--archive", str(a), "file", str(big), "--akte", "B-2"]))
            secs = statistics.median(r[0] for r in runs)
            rss = max(r[1] for r in runs)
            t_sha = statistics.median(timed(["sha256sum", str(big)]) for _ in range(args.runs))
            t_ossl = statistics.median(timed(["openssl", "dgst", "-sha256", str(big)]) for _ in range(args.runs))
            lines.append(f"| eakte file, one {big_mb / 1e3:.1f} GB document | {secs:.1f} s | {big_mb / secs:.0f} MB/s, peak RSS {rss:.1f} MiB |")
            lines.append(f"| sha256sum / openssl dgst over the same document | {t_sha:.1f} s / {t_ossl:.1f} s | {big_mb / t_sha:.0f} / {big_mb / t_ossl:.0f} MB/s |")
        report = "\n".join(["| what | rate | throughput |", "|---|---|---|", *lines, "",
                            f"eakte (one call) vs the naive git loop: {ratio:.0f}x"])
        print(report)
        if args.out:
            Path(args.out).write_text(report + "\n")


if __name__ == "__main__":
    main()
