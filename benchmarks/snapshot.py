"""What measuring a step costs on a large repository: one snapshot (a git tree of the work tree).

Every agent call is bracketed by two snapshots, so this is the harness's per-call overhead that grows
with the repository. Generates a repo of N files (committed), dirties a few, and times `take()`.

    .venv/bin/python benchmarks/snapshot.py [--files 20000] [--dirty 20] [--repeat 5] [--big-mb 100]
        [--disk-mb 200]

The disk table: an agent writes a file of --disk-mb random bytes during a fix attempt and removes it
again; how much `.git/objects` and the ticket's snapshot store grow, and what archiving frees. Then
the same file written in step 1 and deleted in step 2 (a step snapshot, not an attempt): what the
store keeps before archive, and after (the file is over `history.keep_bytes`, 10 MB by default).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from exec_auto.config import HistoryConfig
from exec_auto.executor.compact import compact_at_archive
from exec_auto.executor.history import StepHistory
from exec_auto.executor.snapshot import Snapshotter


def _git(root: Path, *args: str) -> None:
    ident = ["-c", "user.name=b", "-c", "user.email=b@b"]
    subprocess.run(["git", *ident, *args], cwd=root, check=True, capture_output=True)


def main() -> int:
    """Print a table of snapshot timings for a generated repository."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--dirty", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--big-mb", dest="big_mb", type=int, default=100)
    parser.add_argument("--disk-mb", dest="disk_mb", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for i in range(args.files):
            folder = root / f"pkg{i // 500}"
            folder.mkdir(exist_ok=True)
            (folder / f"mod{i}.py").write_text(f"VALUE = {i}\n")
        _git(root, "init", "-q")
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", "init")
        snaps = Snapshotter(root)
        rows = []
        for label, dirty in (("clean tree", 0), (f"{args.dirty} files changed", args.dirty)):
            for i in range(dirty):
                (root / "pkg0" / f"mod{i}.py").write_text(f"VALUE = -{i}\n")
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                snaps.take()
                times.append(time.perf_counter() - start)
            rows.append((label, statistics.median(times), max(times)))
        big = root / "data.bin"  # untracked and not ignored: hashed once, then cached
        big.write_bytes(bytes(range(256)) * (args.big_mb * 4096))
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            snaps.take()
            times.append(time.perf_counter() - start)
        rows.append((f"+{args.big_mb} MB untracked", statistics.median(times), max(times)))
        before = snaps.take()
        (root / "new.py").write_text("x = 1\n")
        start = time.perf_counter()
        snaps.changes(before, snaps.take())
        diff_time = time.perf_counter() - start
        disk = _disk(root, args.disk_mb)
    print(f"Snapshots of a repository of {args.files} files (median of {args.repeat})")
    print(f"{'state':<22}{'median s':>10}{'max s':>10}")
    for label, median, worst in rows:
        print(f"{label:<22}{median:>10.3f}{worst:>10.3f}")
    print(f"{'snapshot + changes':<22}{diff_time:>10.3f}")
    print()
    print(f"Disk: a {args.disk_mb} MB random file written, then deleted by the next snapshot")
    print(f"{'where':<50}{'MB':>10}")
    for label, size in disk:
        print(f"{label:<50}{size / 1e6:>10.1f}")
    return 0


def _size(folder: Path) -> int:
    return sum((Path(d) / f).stat().st_size for d, _, files in os.walk(folder) for f in files)


def _disk(root: Path, mb: int) -> list[tuple[str, int]]:
    """.git/objects and snapshot-store sizes around an agent's big temporary file."""
    objects = _size(root / ".git" / "objects")
    snaps = Snapshotter(root, ticket="bench")
    history = StepHistory(snaps.store, "bench", ["1"])
    history.begin(snaps.take())
    store_start = snaps.store.size_bytes()
    big = root / "agent-output.bin"
    _write_random(big, mb)
    history.record_attempt("1", "fix-1", snaps.take())
    big.unlink()
    history.record_step("1", "step", "completed", snaps.take())
    grown = snaps.store.size_bytes()
    keep = HistoryConfig().keep_bytes
    compact_at_archive(root, "bench", keep)
    rows = [
        ("fix attempt: .git/objects growth", _size(root / ".git" / "objects") - objects),
        ("fix attempt: store growth, before archive", grown - store_start),
        ("fix attempt: store growth, after archive", snaps.store.size_bytes() - store_start),
    ]
    snaps.close()
    # The same file in a step: written in step 1, deleted in step 2.
    snaps = Snapshotter(root, ticket="bench-step")
    history = StepHistory(snaps.store, "bench", ["1", "2"])
    history.begin(snaps.take())
    store_start = snaps.store.size_bytes()
    _write_random(big, mb)
    history.record_step("1", "write", "completed", snaps.take())
    big.unlink()
    history.record_step("2", "delete", "completed", snaps.take())
    grown = snaps.store.size_bytes()
    start = time.perf_counter()
    compact_at_archive(root, "bench-step", keep)
    took = time.perf_counter() - start
    rows += [
        ("step: .git/objects growth", _size(root / ".git" / "objects") - objects),
        ("step: store growth, before archive", grown - store_start),
        (
            f"step: store growth, after archive ({took:.1f} s)",
            snaps.store.size_bytes() - store_start,
        ),
    ]
    snaps.close()
    return rows


def _write_random(path: Path, mb: int) -> None:
    with open(path, "wb") as f:
        for _ in range(mb):
            f.write(os.urandom(1_000_000))


if __name__ == "__main__":
    raise SystemExit(main())
