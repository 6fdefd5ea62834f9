"""Crash safety: `eakte file` killed with SIGKILL at random points of a batch
of 200 files, 50 rounds.  Afterwards the archive verifies, every batch is
filed completely or not at all, and every document the CLI reported as filed
is retrievable byte for byte."""
import json
import os
import random
import signal
import subprocess
import time

from conftest import EAKTE, make_akten, run

ROUNDS = 50
BATCH = 200


def make_batch(d, rnd, round_no):
    d.mkdir()
    paths = []
    for i in range(BATCH):
        p = d / f"r{round_no:02d}-{i:03d}.{'pdf' if i % 2 else 'txt'}"
        size = rnd.choice([0, 100, 4096, 20000, 70000])
        if i % 2:
            body = b"%PDF-1.4\n" + rnd.randbytes(size)
        else:
            words = ("Akte", "Bescheid", "Antrag", "Gemeinde", "Frist", "Straße", "Müller", "und", "der")
            body = " ".join(rnd.choice(words) for _ in range(size // 6 + 1)).encode()
        p.write_bytes(body)
        paths.append(p)
    return paths


def test_kill_during_batches(archive, tmp_path):
    rnd = random.Random(int(os.environ.get("EAKTE_CRASH_SEED", "20261125")))
    make_akten(archive, "W-1", "W-2", *(f"K-{r}" for r in range(ROUNDS)))
    # How long does one batch take here?  Kill points are spread over it.
    warm = make_batch(tmp_path / "warm", rnd, 99)
    t0 = time.monotonic()
    run("file", *warm, "--akte", "W-1", archive=archive, check=0)
    duration = time.monotonic() - t0

    acknowledged = {}       # doc id -> path
    killed = completed = 0
    n_events = len(run("log", "--json", archive=archive, check=0).text.splitlines())
    for r in range(ROUNDS):
        paths = make_batch(tmp_path / f"b{r}", rnd, r)
        p = subprocess.Popen([EAKTE, "--archive", str(archive), "file", *map(str, paths), "--akte", f"K-{r}"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(rnd.uniform(0, duration * 1.3))
        p.send_signal(signal.SIGKILL)
        out, err = p.communicate()
        if p.returncode == 0:
            ids = out.decode().split()
            assert len(ids) == BATCH
            acknowledged.update(zip(ids, paths))
            completed += 1
        else:
            assert p.returncode == -signal.SIGKILL, err
            killed += 1
        # all or nothing: the journal grew by 0 or BATCH events
        events = run("log", "--json", archive=archive, check=0).text.splitlines()
        grown = len(events) - n_events
        assert grown in (0, BATCH), f"round {r}: journal grew by {grown}"
        n_events = len(events)
        if r % 10:
            run("verify", "--quick", archive=archive, check=0)
        else:
            run("verify", archive=archive, check=0)
    assert killed >= 10, f"only {killed} of {ROUNDS} rounds were killed mid-batch"
    # a writer completes whatever a crash left unfinished
    run("file", warm[0], "--akte", "W-2", archive=archive, check=0)
    run("verify", archive=archive, check=0)
    for doc_id, path in acknowledged.items():
        assert run("get", doc_id, archive=archive, check=0).out == path.read_bytes()
    print(f"{killed} killed, {completed} completed, {len(acknowledged)} acknowledged documents checked")


def test_stale_reference_locks_from_a_killed_writer(archive, tmp_path):
    """A writer killed while libgit2 moved a reference leaves REF.lock; the
    next writer must not be blocked by it (found by the kill test in CI)."""
    make_akten(archive, "L-1", "L-2")
    doc = tmp_path / "a.txt"
    doc.write_bytes(b"Akte vor dem Absturz\n")
    run("file", doc, "--akte", "L-1", archive=archive, check=0)
    store = archive / "store.git"
    before = (store / "refs/heads/journal").read_text()
    for lock in ("refs/heads/journal.lock", "refs/eakte/state.lock", "packed-refs.lock"):
        (store / lock).write_text("0" * 40 + "\n")
    doc_id = run("file", doc, "--akte", "L-2", archive=archive, check=0).text.strip()
    assert (store / "refs/heads/journal").read_text() != before
    for lock in ("refs/heads/journal.lock", "refs/eakte/state.lock", "packed-refs.lock"):
        assert not (store / lock).exists()
    run("verify", archive=archive, check=0)
    assert run("get", doc_id, archive=archive, check=0).out == doc.read_bytes()
