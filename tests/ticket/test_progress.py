"""progress.yaml: lossless save/load, resuming from older shapes, corrupt files, crash safety."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from progress_samples import big_progress, load_ok, progress_path, rich_progress
from ruamel.yaml import YAML

from exec_auto.errors import ProgressError
from exec_auto.ticket.model import Progress
from exec_auto.ticket.progress import HEADER, load_progress, peek_progress, save_progress

LEGACY = Path(__file__).parent.parent / "fixtures" / "progress"
SRC = Path(__file__).resolve().parents[2] / "src"


def test_absent_file_is_no_progress(tmp_path: Path) -> None:
    assert load_progress(progress_path(tmp_path)) == (None, [])


def test_save_then_load_is_lossless_and_quiet(tmp_path: Path) -> None:
    path = progress_path(tmp_path)
    original = rich_progress()
    save_progress(path, original)
    loaded, warnings = load_ok(path)
    assert loaded == original
    assert warnings == []
    save_progress(path, loaded)
    assert load_ok(path)[0] == original


def test_saved_file_is_readable_yaml_in_schema_order(tmp_path: Path) -> None:
    path = progress_path(tmp_path)
    progress = rich_progress()
    save_progress(path, progress)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(HEADER)
    data = YAML(typ="safe").load(text)
    # The seed's order first; fields added to the schema later follow.
    assert list(data)[:6] == [
        "ticket",
        "implementation_steps",
        "acceptance_criteria",
        "issues",
        "auto_actions_summary",
        "quality_gates",
    ]
    assert list(data) == list(Progress.model_fields)
    assert data == progress.model_dump(mode="json")
    assert '  - step_id: "1"\n' in text  # ids stay strings
    assert '  - step_id: "2.1"\n' in text
    # Multi-line details are block scalars a person can read.
    assert "    details: |\n      multi\n      line\n" in text
    assert "\n\n  - step_id:" in text  # a blank line between steps


def test_duplicate_keys_load_with_a_warning(tmp_path: Path) -> None:
    path = progress_path(tmp_path, "ticket: {name: a}\nissues: []\nissues: [x]\n")
    progress, warnings = load_ok(path)
    assert progress.issues == []
    assert "duplicate key" in warnings[0]


@pytest.mark.parametrize(
    "content",
    [
        "ticket:\n  name: x\n  status: [unclosed\n",
        "- just\n- a list\n",
        "just a sentence\n",
        "",
        b"ticket: \xff\xfe\n",
    ],
    ids=["invalid-yaml", "list", "scalar", "empty", "not-utf8"],
)
def test_unreadable_file_is_moved_aside(tmp_path: Path, content: str | bytes) -> None:
    path = progress_path(tmp_path, content)
    before = path.read_bytes()
    progress, warnings = load_progress(path)
    assert progress is None
    assert not path.exists()
    (backup,) = path.parent.glob("progress.yaml.corrupt-*")
    assert backup.read_bytes() == before
    assert len(warnings) == 1
    assert str(path) in warnings[0] and str(backup) in warnings[0]


def test_peek_reads_without_moving_anything(tmp_path: Path) -> None:
    path = progress_path(tmp_path, "broken: [\n")
    assert peek_progress(path) is None
    assert path.read_text(encoding="utf-8") == "broken: [\n"
    assert peek_progress(tmp_path / "absent.yaml") is None
    shutil.copy(LEGACY / "legacy-steps-overall.yaml", path)
    peeked = peek_progress(path)
    assert peeked is not None and peeked == load_ok(path)[0]


def test_corrupt_copies_never_overwrite_each_other(tmp_path: Path) -> None:
    path = progress_path(tmp_path)
    for round_ in range(3):
        path.write_text(f"broken: [{round_}\n", encoding="utf-8")
        assert load_progress(path)[0] is None
    backups = sorted(path.parent.glob("progress.yaml.corrupt-*"))
    assert sorted(b.read_text(encoding="utf-8") for b in backups) == [
        f"broken: [{n}\n" for n in range(3)
    ]


def test_temp_files_of_killed_saves_are_cleaned_up_when_old(tmp_path: Path) -> None:
    path = progress_path(tmp_path)
    save_progress(path, rich_progress())
    old, fresh = path.parent / ".progress.yaml.abc.tmp", path.parent / ".progress.yaml.def.tmp"
    old.write_text("ticket:\n  na", encoding="utf-8")
    fresh.write_text("ticket:\n  na", encoding="utf-8")
    os.utime(old, (1_000_000_000, 1_000_000_000))
    load_ok(path)
    assert not old.exists()
    assert fresh.exists()  # may belong to a save in progress right now


def test_save_into_a_missing_folder_is_a_progress_error(tmp_path: Path) -> None:
    with pytest.raises(ProgressError, match="cannot write"):
        save_progress(tmp_path / "gone" / "progress.yaml", rich_progress())


CHILD = """
import os, sys
sys.path[:0] = [{src!r}, {tests!r}]
from pathlib import Path
from progress_samples import big_progress
from exec_auto.ticket.progress import save_progress

path = Path(sys.argv[1])
docs = [big_progress(0, 8, 12), big_progress(1, 8, 12)]
for _ in sys.stdin:  # one line per round: fork a writer that saves until it is killed
    pid = os.fork()
    if pid == 0:
        os.write(1, f"{{os.getpid()}}\\n".encode())
        n = 0
        while True:
            save_progress(path, docs[n % 2])
            n += 1
            os.write(1, b".")
    os.waitpid(pid, 0)
    os.write(1, b"reaped\\n")
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_sigkill_during_saves_leaves_a_complete_file(tmp_path: Path) -> None:
    path = progress_path(tmp_path)
    expected = [big_progress(0, 8, 12), big_progress(1, 8, 12)]
    save_progress(path, expected[1])
    script = CHILD.format(src=str(SRC), tests=str(Path(__file__).parent))
    rng = random.Random(20251103)
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        for _ in range(20):
            child.stdin.write(b"go\n")
            child.stdin.flush()
            writer = int(child.stdout.readline())
            # Let it finish a few saves, then kill it at a random point of the next one (a save
            # takes ~10 ms, mostly fsync). The pause only spreads the kills; no outcome waits on it.
            child.stdout.read(rng.randint(1, 3))
            time.sleep(rng.uniform(0, 0.012))
            os.kill(writer, signal.SIGKILL)
            assert child.stdout.readline().endswith(b"reaped\n")
            progress, warnings = load_progress(path)
            assert progress in expected
            assert warnings == []
    finally:
        child.kill()
        child.wait()
    assert not list(path.parent.glob("*.corrupt-*"))
    # Kills inside a save leave the writer's temp file behind; the real file never suffers.
    assert all(p.name.startswith(".progress.yaml.") for p in path.parent.iterdir() if p != path)
