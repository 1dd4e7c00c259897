"""`exec-auto ci kubernetes`: Indexed Jobs per wave plus the fan-in, validated by kubernetes-validate.

No cluster here: the manifests are validated against the Kubernetes schemas that
kubernetes-validate bundles (strict: unknown fields fail), and the pod's ticket selection runs in
a shell. Running the Jobs themselves is beyond this machine (see the README's limits).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

from exec_auto.ci.command import TICKET_VAR, job_script
from exec_auto.ci.kubernetes import RESULTS_MOUNT, TICKETS_MOUNT
from exec_auto.cli import main
from tests.batch.support import commit_all
from tests.ci.test_ci_github import _plan

BIN = Path(sys.executable).parent


def _project(make_batch) -> Path:
    root = make_batch(["t1"])
    _plan(root, "t1", "Rewrite `README.md`.")
    _plan(root, "t2", "Extend README.md.")
    _plan(root, "t3", "Create `src/other.py`.")
    (root / "src").mkdir()
    (root / "src" / "keep.py").write_text("\n")
    commit_all(root)
    return root


def test_the_manifests_validate_and_run_each_wave_as_an_indexed_job(make_batch, monkeypatch):
    root = _project(make_batch)
    monkeypatch.chdir(root)
    code = main(
        [
            "ci",
            "kubernetes",
            "--all",
            "--max-parallel",
            "5",
            "--repo-url",
            "https://git.example/r.git",
        ]
    )
    assert code == 0
    path = root / "exec-auto-k8s.yaml"
    check = subprocess.run(
        [BIN / "kubernetes-validate", "--strict", "-k", "1.29.0", str(path)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    docs = list(YAML(typ="safe").load_all(path.read_text()))
    kinds = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert kinds == [
        ("PersistentVolumeClaim", "exec-auto-results"),
        ("ConfigMap", "exec-auto-wave-0"),
        ("Job", "exec-auto-wave-0"),
        ("ConfigMap", "exec-auto-wave-1"),
        ("Job", "exec-auto-wave-1"),
        ("Job", "exec-auto-report"),
    ]
    waves = [docs[1]["data"]["tickets"].split(), docs[3]["data"]["tickets"].split()]
    assert sorted(waves[0] + waves[1]) == ["t1", "t2", "t3"]
    assert not ({"t1", "t2"} <= set(waves[0]))
    job = docs[2]["spec"]
    assert job["completionMode"] == "Indexed"
    assert job["completions"] == len(waves[0]) and job["parallelism"] == len(waves[0])
    container = job["template"]["spec"]["containers"][0]
    script = container["command"][2]
    assert script.endswith(job_script(result_dir=RESULTS_MOUNT))
    assert {e["name"] for e in container["env"]} >= {"ANTHROPIC_API_KEY", "EXEC_AUTO_REPO_URL"}
    report = docs[5]["spec"]["template"]["spec"]["containers"][0]["command"][2]
    assert f"exec-auto batch-report --from {RESULTS_MOUNT}" in report
    assert "kubectl -n default wait --for=condition=complete" in path.read_text()


def test_each_index_picks_its_own_ticket(tmp_path):
    from exec_auto.ci.kubernetes import KubeOptions, pod_script

    opts = KubeOptions([["a", "b", "c"]], 3, 60, (), "img", "url", "default")
    line = next(s for s in pod_script(opts).splitlines() if s.startswith(TICKET_VAR))
    tickets = tmp_path / "tickets"
    tickets.write_text("a\nb\nc\n")
    picked = []
    for index in range(3):
        shown = subprocess.run(
            [
                "sh",
                "-c",
                line.replace(f"{TICKETS_MOUNT}/tickets", str(tickets)) + f'; echo "${TICKET_VAR}"',
            ],
            env={"JOB_COMPLETION_INDEX": str(index), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        )
        picked.append(shown.stdout.strip())
    assert picked == ["a", "b", "c"]


def test_kubernetes_needs_a_repository_url(make_batch, monkeypatch, capsys):
    root = _project(make_batch)
    monkeypatch.chdir(root)
    assert main(["ci", "kubernetes", "--all"]) == 2
    assert "needs --repo-url" in capsys.readouterr().err
    assert not (root / "exec-auto-k8s.yaml").exists()
