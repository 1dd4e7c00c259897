"""Gate cost of one step touching one module: affected-test selection vs. the whole suite.

Generates a project of `--modules` modules with `--tests` tests each (300 tests by default), each
test costing `--test-ms` milliseconds, then times `PythonGates.after_step` for a step that touched
one module, with selection on and off, and prints a table and the ratio.

    .venv/bin/python benchmarks/gates.py [--modules 30] [--tests 10] [--test-ms 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from exec_auto.config import GatesConfig
from exec_auto.gates.base import GateContext
from exec_auto.gates.python import PythonGates


def generate(root: Path, modules: int, tests: int, test_ms: float) -> None:
    """A src-layout project: module i imports module i-1 every third module, one test file each."""
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "src" / "pkg" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "bench"\nversion = "0"\n\n'
        '[tool.pytest.ini_options]\npythonpath = ["src"]\ntestpaths = ["tests"]\n'
    )
    for i in range(modules):
        chained = i % 3 != 0
        body = f"from pkg.mod_{i - 1} import value_{i - 1}\n\n\n" if chained else ""
        body += f"def value_{i}(x):\n    return x + {i}" + (
            f" + value_{i - 1}(0)" if chained else ""
        )
        (root / "src" / "pkg" / f"mod_{i}.py").write_text(body + "\n")
        cases = "".join(
            f"\n\ndef test_{i}_{t}():\n    time.sleep({test_ms / 1000!r})\n"
            f"    assert value_{i}({t}) >= {t}\n"
            for t in range(tests)
        )
        (root / "tests" / f"test_mod_{i}.py").write_text(
            f"import time\n\nfrom pkg.mod_{i} import value_{i}\n{cases}"
        )
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / ".venv")], check=True)
    site = next((root / ".venv" / "lib").glob("python*/site-packages"))
    (site / "shared.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")


def measure(root: Path, touched: str, select: bool, repeat: int) -> tuple[float, float, int]:
    """Median seconds for the whole step gate and for pytest alone, and the tests run."""
    config = GatesConfig(runner="venv", select_tests=select, baseline=False)
    gates = PythonGates(config)
    ctx = GateContext(root, (touched,), "1", config)
    gates.after_step(ctx)  # warm-up: environment probe, import-graph cache, bytecode
    totals, pytest_times, ran = [], [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        report = gates.after_step(ctx)
        totals.append(time.perf_counter() - start)
        pytest_times.append(report.results[-1].duration)
        ran = report.tests.run
    return statistics.median(totals), statistics.median(pytest_times), ran


def main() -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=30)
    parser.add_argument("--tests", type=int, default=10)
    parser.add_argument("--test-ms", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="exec-auto-bench-"))
    try:
        generate(root, args.modules, args.tests, args.test_ms)
        # A module in the middle that the next module imports: selection must follow that import.
        middle = next((i for i in range(args.modules // 2, args.modules) if i % 3 == 1), 0)
        touched = f"src/pkg/mod_{middle}.py"
        rows = [
            ("affected tests", *measure(root, touched, True, args.repeat)),
            ("whole suite", *measure(root, touched, False, args.repeat)),
        ]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    total_tests = args.modules * args.tests
    print(f"Step touching {touched} in a project of {total_tests} tests ({args.test_ms:g} ms each)")
    print(f"{'mode':<16} {'tests run':>9} {'pytest s':>9} {'gate s':>8}")
    for mode, total, pytest_s, ran in rows:
        print(f"{mode:<16} {ran:>9} {pytest_s:>9.2f} {total:>8.2f}")
    ratio = rows[1][1] / rows[0][1]
    print(f"whole suite / affected tests: {ratio:.1f}x gate time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
