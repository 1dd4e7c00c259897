"""Red/green evidence in a real run: criteria met only when their check fails before the ticket."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from tests.conftest import init_repo, plan_text, run_cli

OPS = "def add(a, b):\n    return a + b\n"
TESTS = "from calc.ops import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
SPEC = textwrap.dedent(
    """\
    acceptance_criteria:
      - criterion: "mul multiplies"
        tests: [test_mul]
      - criterion: "add keeps working"
        tests: [test_add]
      - criterion: "mul is importable"
        verify: "python -c 'from calc.ops import mul'"
      - criterion: "the package imports"
        verify: "python -c 'import calc.ops'"
    ticket:
      status: planned
    """
)


def make_calc(root: Path) -> Path:
    files = {
        "calc/__init__.py": "",
        "calc/ops.py": OPS,
        "tests/test_ops.py": TESTS,
        "pyproject.toml": '[project]\nname = "calc"\nversion = "0"\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
        "CLAUDE.md": "conventions\n",
        "specs/tickets/feature-x/plan.md": plan_text(["Add mul", "Cover negatives"]),
        "specs/tickets/feature-x/spec.yaml": SPEC,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    init_repo(root)
    return root


def test_red_green_decides_criteria(tmp_path, script_agent, monkeypatch):
    root = make_calc(tmp_path / "calc")
    behaviour = {
        "1": [
            {"append": "calc/ops.py", "text": "\n\ndef mul(a, b):\n    return a * b\n"},
            {
                "write": "tests/test_ops.py",
                "text": TESTS.replace("import add", "import add, mul")
                + "\n\ndef test_mul():\n    assert mul(2, 3) == 6\n",
            },
        ],
        # A test added for behaviour the code already had: it passes before the ticket too.
        "2": [
            {
                "write": "tests/test_negative.py",
                "text": "from calc.ops import add\n\n\ndef test_add_negative():\n    assert add(-1, -2) == -3\n",
            }
        ],
    }
    code = run_cli(root, monkeypatch, script_agent(behaviour), "--no-archive")
    assert code == 1  # two criteria stay unverified
    folder = root / "specs/tickets/feature-x"
    report = json.loads((folder / "report.json").read_text())
    crit = {c["criterion"]: c for c in report["acceptance_criteria"]}

    mul = crit["mul multiplies"]
    assert (mul["status"], mul["proof"]) == ("met", "red_green")
    assert "before the ticket: error (collection error" in mul["evidence"][0]
    assert mul["evidence"][0].endswith("after: passed")

    add = crit["add keeps working"]
    assert (add["status"], add["proof"]) == ("unverified", "passing")
    # Untouched tests run on the base tree as it was: the changed import does not make them red.
    assert "before the ticket: passed; after: passed" in add["evidence"][0]
    assert "passes without this ticket's change" in add["evidence"][-1]

    importable = crit["mul is importable"]
    assert (importable["status"], importable["proof"]) == ("met", "red_green")
    assert "before the ticket: failed (exited 1" in importable["evidence"][0]

    imports = crit["the package imports"]
    assert imports["status"] == "unverified"
    assert "already succeeds on the code before this ticket" in imports["evidence"][0]
    assert "proves nothing by itself" in imports["evidence"][0]

    tests = {t["test_id"]: t for t in report["red_green"]["tests"]}
    assert tests["tests/test_negative.py::test_add_negative"]["verdict"] == "passes_before"
    assert tests["tests/test_negative.py::test_add_negative"]["origin"] == "added in step 2"
    assert tests["tests/test_ops.py::test_mul"]["verdict"] == "proven"

    md = (folder / "report.md").read_text()
    assert "## Evidence (2 proven, 3 only passing, 0 unverified)" in md
    proven = md.split("### Proven")[1].split("###")[0]
    assert "mul multiplies" in proven and "mul is importable" in proven
    passing = md.split("### Only passing")[1].split("###")[0]
    assert "test_add_negative" in passing and "add keeps working" in passing
    assert md.split("### Unverified")[1].split("\n")[1] == "- none"
    # Nothing of the scratch checkouts is left in the user's tree.
    assert not list(root.glob("exec-auto-before-*"))
