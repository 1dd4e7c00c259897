"""`exec-auto insights [--json]`: what keeps failing in this repository, from past progress files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from exec_auto.errors import EXIT_OK


def main(args: argparse.Namespace) -> int:
    """Read every active and archived ticket's progress.yaml; print the lessons."""
    from exec_auto.insights.collect import collect
    from exec_auto.insights.lessons import learn, pitfalls_section, render
    from exec_auto.repo import find_root

    insights = learn(collect(find_root(Path.cwd())))
    if args.json:
        data = insights.as_dict()
        data["prompt_pitfalls"] = pitfalls_section(insights)
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(render(insights))
    return EXIT_OK
