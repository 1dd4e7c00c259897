"""Dependencies a plan authorises to install: install commands in code, dependency list items."""

from __future__ import annotations

import pytest

from exec_auto.formats.cdd.plan import parse_plan
from exec_auto.formats.cdd.plan.deps import command_packages, item_package


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("poetry add structlog", ["structlog"]),
        ('poetry add "python-jose[cryptography]>=3.3" passlib[bcrypt]', ["python-jose", "passlib"]),
        ("uv add --dev httpx && uv run pytest", ["httpx"]),
        ("pdm add -dG test pytest-cov", ["pytest-cov"]),
        ("pip install -r requirements.txt -e . rich", ["rich"]),
        ("python3 -m pip install --upgrade pip setuptools", ["setuptools"]),
        ("uv pip install 'email-validator==2.1.*'  # signup form", ["email-validator"]),
        ("poetry add structlog@^24.1", ["structlog"]),
        ("pip install git+https://github.com/x/y.git", []),
        ("pip install ./vendor/thing", []),
        ("pip install [package-name]==[version]", []),
        ("pip install <package>", []),
        ("pipx install black", []),
        ("# then pip install requests to talk HTTP", ["requests"]),
        ('subprocess.run("pip install structlog", shell=True)', ["structlog"]),
        ("pip install pathlib dataclasses", []),
        ("pip install requests, then restart the worker", ["requests"]),
        ("pip install it and restart", []),
        ("pip install -e .", []),
    ],
)
def test_command_packages(line: str, names: list[str]):
    assert command_packages(line) == names


@pytest.mark.parametrize(
    ("item", "name"),
    [
        ("structlog", "structlog"),
        ("`python-jose[cryptography]` >= 3.3", "python-jose"),
        ("**httpx** (versão 0.27) - cliente HTTP", "httpx"),
        ("structlog>=24.1 (logging)", "structlog"),
        ("httpx 0.27 - test client", "httpx"),
        ("PostgreSQL database", None),
        ("Redis for the refresh-token denylist", None),
        ("Python 3.11+", None),
        ("None", None),
        ("Nenhuma nova dependência", None),
        ("[External system or service 1]", None),
        ("**[nome-pacote]** (versão X.Y.Z) - [Por que precisamos]", None),
        ("pydantic (already installed)", None),
        ("`requests` (já instalada)", None),
        ("`json` (stdlib)", None),
        ("[ ] `orjson`", "orjson"),
    ],
)
def test_item_package(item: str, name: str | None):
    assert item_package(item) == name


def test_prose_and_non_dependency_sections_are_never_read():
    text = (
        "# Plan: P\n\n"
        "To get started, pip install the toolkit and poetry add whatever you need.\n\n"
        "## Implementation Steps\n\n### Step 1: Go\n- structlog\n\n"
        "## Existing Dependencies\n- fastapi\n\n"
        "## Team Dependencies\n- platform\n\n"
        "## Dependências\n\n- `orjson`\n\n### Dependências Existentes a Atualizar\n- **fastapi**\n"
    )
    assert parse_plan(text).dependencies == ("orjson",)


def test_dependencies_are_deduplicated_in_order_of_first_mention():
    text = (
        "# Plan: P\n\n## Implementation Steps\n\n### Step 1: Add\n"
        "Run `poetry add Structlog rich`, then `pip install structlog`.\n\n"
        "## Dependencies\n\n- rich\n- `PyYAML` >= 6\n- pyyaml\n"
    )
    assert parse_plan(text).dependencies == ("Structlog", "rich", "PyYAML")


def test_requirement_lines_in_a_dependency_section_fence():
    text = (
        "# Plan: P\n\n## Implementation Steps\n\n### Step 1: Add\nAdd them.\n\n"
        "## Dependencies\n\n```bash\n# logging\nstructlog==24.1.0  # why\nblack\n```\n\n"
        "```text\ntenacity\n```\n"
    )
    assert parse_plan(text).dependencies == ("structlog", "tenacity")
