"""Pack consolidation: every write adds a pack to store.git; writers merge
the small ones so that their number stays bounded, without losing or
duplicating anything (checked with the real git and eakte verify)."""
import subprocess

from conftest import PLAN, git, run

PACKS_MAX = 32  # EAKTE_PACKS_MAX in lib/archive.h


def packs(archive):
    d = archive / "store.git" / "objects" / "pack"
    return sorted(p.name[:-5] for p in d.glob("pack-*.pack"))


def all_objects(archive):
    out = git(archive, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)").stdout.decode()
    return set(out.split())


def check_archive(archive):
    fsck = git(archive, "fsck", "--full", "--strict", check=False)
    assert fsck.returncode == 0, fsck.stderr
    run("verify", archive=archive, check=0)
    # every idx has its pack and vice versa: nothing half-removed
    d = archive / "store.git" / "objects" / "pack"
    assert {p.stem for p in d.glob("*.idx")} == {p.stem for p in d.glob("*.pack")}


def test_packs_stay_bounded_and_complete(tmp_path):
    a = tmp_path / "archive"
    run("init", a, "--origin", "test.musterstadt.de/eakte", check=0)
    run("plan", "import", PLAN, archive=a, check=0)
    doc = tmp_path / "brief.txt"
    ids = []
    most = 0
    writes = 2
    before = set()
    for i in range(70):
        az = f"32.10.02-2026/{i + 1:04d}"
        run("akte", "create", "--plan", "32.10.02", "--az", az, archive=a, check=0)
        doc.write_text(f"Schreiben Nummer {i} an die Stadtkasse\n", encoding="utf-8")
        ids.append(run("file", doc, "--akte", az, archive=a, check=0).text.strip())
        writes += 2
        n = len(packs(a))
        most = max(most, n)
        assert n <= PACKS_MAX, f"{n} packs after {writes} writes"
        if i == 20:
            before = all_objects(a)
    assert writes > 2 * PACKS_MAX
    assert most == PACKS_MAX, "consolidation should start only above the threshold"
    # no object that existed was lost by the merges
    assert before <= all_objects(a)
    check_archive(a)
    for i, d in enumerate(ids):
        assert run("get", d, archive=a, check=0).out == f"Schreiben Nummer {i} an die Stadtkasse\n".encode()
    assert len(run("search", "Stadtkasse", "--limit", "100", "--json", archive=a, check=0).text.splitlines()) >= 1


def test_merge_handles_git_packs_with_deltas_and_duplicates(tmp_path):
    """Packs written by git itself (deltas, objects also in other packs),
    as a crash in the middle of a merge or an operator's `git repack`
    would leave them, are merged correctly."""
    a = tmp_path / "archive"
    run("init", a, "--origin", "test.musterstadt.de/eakte", check=0)
    run("plan", "import", PLAN, archive=a, check=0)
    for i in range(8):
        run("akte", "create", "--plan", "32.10.02", "--az", f"A-{i}", archive=a, check=0)
    commits = git(a, "rev-list", "journal").stdout.decode().split()
    store = a / "store.git"
    for i in range(6):
        # overlapping sets: commit i and i+1 with their trees and blobs
        objs = git(a, "rev-list", "--objects", "--no-walk", commits[i], commits[i + 1]).stdout.decode()
        names = "".join(line.split()[0] + "\n" for line in objs.splitlines())
        p = subprocess.run(["git", "-C", str(store), "pack-objects", "--window=10", "objects/pack/pack"],
                           input=names.encode(), capture_output=True)
        assert p.returncode == 0, p.stderr
    objects = all_objects(a)
    assert len(packs(a)) > 10
    # push the number of packs over the threshold
    for i in range(PACKS_MAX):
        run("akte", "create", "--plan", "32.10.02", "--az", f"B-{i}", archive=a, check=0)
    assert len(packs(a)) <= PACKS_MAX
    assert objects <= all_objects(a)
    check_archive(a)
    assert run("akte", "show", "A-3", archive=a, check=0).code == 0


def test_kept_packs_are_never_merged(tmp_path):
    a = tmp_path / "archive"
    run("init", a, "--origin", "test.musterstadt.de/eakte", check=0)
    d = a / "store.git" / "objects" / "pack"
    first = packs(a)
    assert first
    for name in first:
        (d / f"{name}.keep").write_text("kept by the operator\n")
    run("plan", "import", PLAN, archive=a, check=0)
    for i in range(PACKS_MAX + 5):
        run("akte", "create", "--plan", "32.10.02", "--az", f"K-{i}", archive=a, check=0)
    now = packs(a)
    assert set(first) <= set(now)
    check_archive(a)


def test_references_are_git_references_even_after_pack_refs(archive, tmp_path):
    """eakte moves refs/heads/journal and refs/eakte/state itself (lock file,
    flushed with the pack, renamed): git must see them as its own, no lock
    file may stay behind, and `git pack-refs` (which moves the references
    into packed-refs and removes their emptied directories) must not stop
    the next write."""
    doc = tmp_path / "brief.txt"
    doc.write_text("Antrag auf Sondernutzung\n", encoding="utf-8")
    store = archive / "store.git"

    def heads():
        return (git(archive, "rev-parse", "refs/heads/journal").stdout.decode().strip(),
                git(archive, "rev-parse", "refs/eakte/state").stdout.decode().strip())

    before = heads()
    run("file", doc, "--akte", "A-1", archive=archive, check=0)
    after = heads()
    assert after[0] != before[0] and after[1] != before[1]
    # the journal head is the newest event's commit, its parent the one before
    assert git(archive, "rev-parse", "journal~1").stdout.decode().strip() == before[0]
    assert not list(store.glob("refs/**/*.lock"))
    git(archive, "pack-refs", "--all", "--prune")
    assert not (store / "refs" / "eakte" / "state").exists()
    assert not (store / "refs" / "heads" / "journal").exists()
    (store / "refs" / "eakte").rmdir()   # as older gits do once it is empty
    assert heads() == after
    run("file", doc, "--akte", "A-2", archive=archive, check=0)
    final = heads()
    assert final != after and (store / "refs" / "eakte" / "state").is_file()
    assert git(archive, "rev-parse", "journal~1").stdout.decode().strip() == after[0]
    assert not list(store.glob("refs/**/*.lock"))
    check_archive(archive)
