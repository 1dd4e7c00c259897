"""The YAML helpers: the fast writer reads back exactly, and located edits change only their lines."""

from __future__ import annotations

import random

import pytest
from progress_samples import AWKWARD_TEXT
from ruamel.yaml import YAML

from exec_auto.ticket.yamledit import YAMLEditError, update_mapping
from exec_auto.ticket.yamlio import YAMLError, describe_parse_error, dump_block, load_rt


def read(text: str) -> object:
    return YAML(typ="safe").load(text)


def test_awkward_strings_read_back_exactly() -> None:
    data = {
        "texts": AWKWARD_TEXT,
        "by_key": {text or "empty": text for text in AWKWARD_TEXT},
        "items": [{"details": text, "n": index} for index, text in enumerate(AWKWARD_TEXT)],
    }
    assert read(dump_block(data)) == data


def test_random_strings_read_back_exactly() -> None:
    rng = random.Random(7)
    alphabet = "ab :#-'\"\n\t\\é✅\u2028\x85\x00\x1b{}[]&*!|>%@`,?"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20)))
        data = {"value": text, "list": [text, {"nested": text}]}
        assert read(dump_block(data)) == data, repr(text)


def test_scalars_of_every_type() -> None:
    data = {"none": None, "yes": True, "no": False, "int": 7, "float": 0.25, "empty": {}, "nil": []}
    assert read(dump_block(data)) == data


def test_multiline_text_is_a_literal_block() -> None:
    text = dump_block({"issue": {"details": "line one\nline two\n"}}, spaced=False)
    assert text == "issue:\n  details: |\n    line one\n    line two\n"


def test_parse_error_locations_are_one_based() -> None:
    text = "a: 1\nb: c: d\n"
    with pytest.raises(YAMLError) as caught:
        load_rt(text)
    problem = describe_parse_error(caught.value, text)
    assert (problem.line, problem.column) == (2, 5)
    text = "a: ok\nb: bell\x07\n"
    with pytest.raises(YAMLError) as caught:
        load_rt(text)
    assert describe_parse_error(caught.value, text).line == 2


def test_update_mapping_replaces_and_appends_in_place() -> None:
    text = "# top\nticket:\n    type: bug   # why\n    status: 'draft'\nother: [1, 2]\n"
    edited = update_mapping(text, ("ticket",), {"status": "planned", "owner": "ana"})
    assert edited == (
        "# top\nticket:\n    type: bug   # why\n    status: 'planned'\n    owner: ana\nother: [1, 2]\n"
    )


def test_update_mapping_creates_nested_blocks() -> None:
    edited = update_mapping("title: t\n", ("a", "b"), {"k": "v: w"})
    assert edited == 'title: t\n\na:\n  b:\n    k: "v: w"\n'


def test_update_mapping_refuses_a_top_level_that_is_not_a_mapping() -> None:
    with pytest.raises(YAMLEditError):
        update_mapping("- a\n", ("ticket",), {"status": "x"})


def test_one_line_flow_mapping_is_extended_in_place() -> None:
    text = "title: t\nticket: { type: bug }  # keep\n"
    edited = update_mapping(text, ("ticket",), {"status": "planned"})
    assert edited == "title: t\nticket: { type: bug, status: planned }  # keep\n"


@pytest.mark.parametrize(
    ("text", "indent"),
    [
        (
            "title: x\nscope:\n    backend:\n      - a\n      - b: 1\n        c: 2\nticket:\n",
            "    ",
        ),
        ("title: x\nscope:\n  backend:\n  - a\n  - b: 1\n    c: 2\nticket: ~\n", "  "),
    ],
    ids=["map4-seq4-offset2", "map2-seq2-offset0"],
)
def test_round_trip_fallback_keeps_the_files_indentation(text: str, indent: str) -> None:
    # An empty `ticket:` has no lines to extend, so ruamel re-emits the file in its own style.
    edited = update_mapping(text, ("ticket",), {"status": "planned"})
    assert edited == text.replace(" ~", "") + f"{indent}status: planned\n"
