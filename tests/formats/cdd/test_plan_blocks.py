"""Block structure: nested-fence repair keeps line numbers and hides embedded documents."""

from __future__ import annotations

from exec_auto.formats.cdd.plan.blocks import mask_nested_fences, parse_document

EMBEDDED = """\
intro
```markdown
# Inner
```python
x = 1
```
## Implementation Steps
```
after
```python
y = 2
```
"""


def test_nested_markdown_fence_is_blanked_and_line_count_kept():
    lines = EMBEDDED.split("\n")
    masked = mask_nested_fences(lines)
    assert len(masked) == len(lines)
    assert masked[1] == "```markdown" and masked[7] == "```"
    assert all(line == "" for line in masked[2:7])
    assert masked[8:] == lines[8:]


def test_plain_code_blocks_are_left_alone():
    lines = ["a", "```python", "# comment", "```", "```bash", "```", "~~~", "```", "~~~", ""]
    assert mask_nested_fences(lines) == lines


def test_bare_inner_block_followed_by_code_opens_rather_than_closes():
    lines = [
        "```md",
        "# Doc",
        "```",
        "src/",
        "  app.py",
        "```",
        "## Step 1: inner",
        "```",
        "",
        "## Real",
        "",
    ]
    masked = mask_nested_fences(lines)
    assert masked[7] == "```" and all(line == "" for line in masked[1:7])
    doc = parse_document("\n".join(lines))
    assert [h.text for h in doc.headings] == ["Real"]


def test_document_records_headings_items_and_code_with_source_lines():
    doc = parse_document(
        "# T\n\n## S\n\n1. **A** (5 min)\n   - x\n2. B\n\n```python\n# not a heading\n```\n"
    )
    assert [(h.line, h.level, h.text) for h in doc.headings] == [(0, 1, "T"), (2, 2, "S")]
    assert [(i.line, i.number, i.text) for i in doc.items] == [(4, 1, "**A** (5 min)"), (6, 2, "B")]
    assert [(c.start, c.lang) for c in doc.code] == [(8, "python")]


def test_markdown_block_closed_right_before_a_sentence_stays_closed():
    lines = [
        "```markdown",
        "## Notes",
        "- x",
        "```",
        "Now commit it.",
        "",
        "More prose.",
        "```",
        "code",
        "```",
        "",
    ]
    assert mask_nested_fences(lines) == lines
    doc = parse_document("\n".join(lines))
    assert [(c.start, c.end) for c in doc.code] == [(0, 4), (7, 10)]


def test_unbalanced_nesting_falls_back_to_commonmark_and_keeps_scanning():
    lines = [
        "```markdown",
        "```python",
        "x",
        "```",
        "",
        "text",
        "```text",
        "```python",
        "y",
        "```",
        "```",
        "",
    ]
    masked = mask_nested_fences(lines)
    # The first block never balances (its inner python block swallows the rest): CommonMark
    # closes it at line 3; the second block nests properly and is blanked.
    assert masked[:7] == lines[:7]
    assert masked[7:10] == ["", "", ""] and masked[10] == "```"
