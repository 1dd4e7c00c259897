"""Distribution names are parsed and normalised once, with packaging, wherever they are compared."""

from __future__ import annotations

from pathlib import Path

from exec_auto.distnames import canonical, parse_requirement
from exec_auto.formats.cdd.plan import deps
from exec_auto.gates import dependencies


def test_one_normal_form_for_every_spelling() -> None:
    spellings = ["python-jose", "Python_Jose", "python.jose", "PYTHON--JOSE"]
    assert {canonical(s) for s in spellings} == {"python-jose"}
    assert {deps.canonical(s) for s in spellings} == {dependencies.normalize(s) for s in spellings}


def test_requirement_lines_are_validated_by_packaging() -> None:
    assert parse_requirement("python-jose[crypto] >= 3.3 - JWT tokens") == (
        "python-jose",
        "python-jose[crypto]>=3.3",
    )
    # Specifiers PEP 440 forbids are not requirements, whatever a regex would accept.
    assert parse_requirement("pkg>=1.0+local") is None
    assert parse_requirement("pkg~=1") is None
    assert parse_requirement("https://example.com/pkg.whl") is None


def test_a_plan_dependency_spelt_differently_still_resolves_the_missing_module(
    tmp_path: Path,
) -> None:
    found = dependencies.resolve("jose", ["Python_Jose[cryptography]>=3.3"], tmp_path)
    assert found is not None and found.requirement == "Python_Jose[cryptography]>=3.3"
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["Rich_Text>=1"]\n'
    )
    assert dependencies.resolve("rich_text", [], tmp_path) is not None
