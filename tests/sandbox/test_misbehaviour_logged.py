"""Every escape the kernel refuses in a run is logged as an issue of its own, not only refused.

One run of the real CLI with a command agent that tries each escape of the containment suite in turn,
each against its own canary outside the repository.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.conftest import make_project, requires_sandbox, run_cli

pytestmark = requires_sandbox

# case -> command; {o} is the case's own folder outside, holding {o}/<case>.txt
ESCAPES = {
    "python": "{py} -c \"import shutil; shutil.rmtree('{o}')\"",
    "python-write": "{py} -c \"open('{o}/python-write.txt', 'w').write('gone')\"",
    "redirection": "echo gone > {o}/redirection.txt",
    "append": "echo gone >> {o}/append.txt",
    "rm": "rm -rf {o}",
    "symlink": "ln -s {o}/symlink.txt link.txt && echo gone > link.txt",
    "perl": 'perl -e \'unlink("{o}/perl.txt") or die "$!"\'',
    "node": "node -e \"require('fs').writeFileSync('{o}/node.txt', 'gone')\"",
    "hook": "echo 'touch {o}/hooked' >> .git/hooks/pre-commit",
    "hooks-path": "git config core.hooksPath {o}",
    "ticket": "echo tampered >> specs/tickets/feature-x/plan.md",
}
# What names the case in its issue: the canary's file, or what was written to.
NAMED_BY = {
    "symlink": "link.txt",
    "perl": "at -e line 1",  # perl names no path: its own words, as printed
    "hook": "pre-commit",
    "hooks-path": "`git config core.hooksPath",
    "ticket": "plan.md",
}


def test_each_refused_escape_is_its_own_issue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    cases = [c for c in ESCAPES if c not in ("perl", "node") or shutil.which(c)]
    outside = tmp_path / "outside"
    for case in cases:
        (outside / case).mkdir(parents=True)
        (outside / case / f"{case}.txt").write_text("canary\n")
    root = tmp_path / "proj"
    root.mkdir()
    ticket = make_project(root, titles=["Only"])
    plan = (ticket / "plan.md").read_bytes()
    steps = [ESCAPES[c].format(py=sys.executable, o=outside / c) for c in cases]
    agent = "; ".join(f"({s}) || true" for s in steps) + "; echo work > a.txt"
    run_cli(root, monkeypatch, agent, "--no-gates", "--no-archive", "--sandbox", "on")
    for case in cases:
        assert (outside / case / f"{case}.txt").read_text() == "canary\n", case
    assert not (outside / "hook" / "hooked").exists()
    assert (ticket / "plan.md").read_bytes() == plan
    progress = YAML(typ="safe").load((ticket / "progress.yaml").read_text())
    denied = [i["description"] for i in progress["issues"] if i["type"] == "sandbox_denied"]
    for case in cases:
        token = NAMED_BY.get(case, f"{case}.txt")
        assert sum(token in d for d in denied) >= 1, (case, denied)
    assert len(denied) == len(set(denied))  # once each
