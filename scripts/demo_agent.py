"""The scripted 'agent' whose session is recorded into the demo (see record_demo.py).

It plays the part of a coding agent for the demo ticket: each step writes what a model would have
written, including unformatted code, an unused import, and a CLI that breaks ties wrongly.
"""

import os
import sys
from pathlib import Path

STEP = os.environ["EXEC_AUTO_STEP_ID"]
KIND = os.environ.get("EXEC_AUTO_TASK_KIND", "step")

STATS_1 = '''"""Word statistics."""
import os
from collections import Counter
from wordtools.text import words

def word_counts(text: str) -> dict[str, int]:
    """How often each normalised word occurs in text."""
    return dict(Counter( words(text) ))
'''

TEST_STATS_1 = """from wordtools.stats import word_counts


def test_word_counts_ignores_case():
    assert word_counts("Apple apple APPLE pie") == {"apple": 3, "pie": 1}
"""

STATS_2_ADD = '''

def top_words(text: str, n: int) -> list[tuple[str, int]]:
    """The n most frequent words of text with their counts, most frequent first."""
    return Counter(words(text)).most_common(n)
'''

TEST_STATS_2_ADD = """

def test_top_words_most_frequent_first():
    from wordtools.stats import top_words

    assert top_words("a b b c c c", 2) == [("c", 3), ("b", 2)]
"""

CLI = '''"""Command line: print the most frequent words of a file."""

import argparse
from pathlib import Path

from wordtools.stats import top_words


def main(argv: list[str] | None = None) -> int:
    """Print `word count` lines for the top words of FILE."""
    parser = argparse.ArgumentParser(prog="wordtools")
    parser.add_argument("file")
    parser.add_argument("-n", type=int, default=10)
    args = parser.parse_args(argv)
    for word, count in top_words(Path(args.file).read_text(encoding="utf-8"), args.n):
        print(f"{word} {count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
'''

TEST_CLI = """from wordtools.cli import main


def test_cli_prints_top_words(tmp_path, capsys):
    f = tmp_path / "t.txt"
    f.write_text("b a b")
    assert main([str(f), "-n", "1"]) == 0
    assert capsys.readouterr().out == "b 2\\n"


def test_cli_breaks_ties_alphabetically(tmp_path, capsys):
    f = tmp_path / "t.txt"
    f.write_text("pear apple")
    main([str(f), "-n", "2"])
    assert capsys.readouterr().out == "apple 1\\npear 1\\n"
"""

README_ADD = """
## Word statistics

```python
from wordtools.stats import word_counts, top_words

word_counts("Apple apple pie")   # {"apple": 2, "pie": 1}
top_words("a b b c c c", 2)      # [("c", 3), ("b", 2)]
```

From the command line: `python -m wordtools.cli essay.txt -n 5`.
"""


def append(path: str, text: str) -> None:
    p = Path(path)
    p.write_text(p.read_text(encoding="utf-8") + text, encoding="utf-8")


if KIND == "fix" and STEP == "3":
    # A fix attempt that does not find the real problem: it only touches the docstring.
    cli = Path("wordtools/cli.py")
    cli.write_text(cli.read_text().replace("of a file.", "of a text file."), encoding="utf-8")
    print("Adjusted the CLI module; the tie-breaking test may need another look.")
    sys.exit(0)
if KIND != "step":
    sys.exit(0)
if STEP == "1":
    Path("wordtools/stats.py").write_text(STATS_1, encoding="utf-8")
    Path("tests/test_stats.py").write_text(TEST_STATS_1, encoding="utf-8")
elif STEP == "2":
    append("wordtools/stats.py", STATS_2_ADD)
    append("tests/test_stats.py", TEST_STATS_2_ADD)
elif STEP == "3":
    Path("wordtools/cli.py").write_text(CLI, encoding="utf-8")
    Path("tests/test_cli.py").write_text(TEST_CLI, encoding="utf-8")
elif STEP == "4":
    append("README.md", README_ADD)
print(f"step {STEP} done")
