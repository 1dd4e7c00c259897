"""`exec-auto plan-batch [TICKETS|--all] [--json]`: the batch plan without running anything.

Prints the forecast, the waves and the overlaps; `--json` prints the matrix per wave and shard
(what a CI plan job emits); `--github-output FILE` appends the matrix outputs a generated
workflow expects (`--waves`/`--shards` say how many matrix jobs it has).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from exec_auto.errors import ExecAutoError


def main(args: argparse.Namespace) -> int:
    """Plan the selected tickets and print (or emit) the plan."""
    from exec_auto.batch.plan import (
        check_shard_size,
        github_outputs,
        make_plan,
        plan_data,
        render_plan,
    )
    from exec_auto.commands.run_cmd import select_tickets

    size = check_shard_size(args.shard_size)
    tickets = select_tickets(args, Path.cwd())
    if not tickets:
        raise ExecAutoError("no runnable tickets", hint="name tickets, or add some with a plan.md")
    plan = make_plan(tickets)
    if args.github_output:
        text = github_outputs(plan, args.waves, args.shards, size)
        with open(args.github_output, "a", encoding="utf-8") as out:
            out.write(text)
    if args.json:
        print(json.dumps(plan_data(plan, size), indent=2))
    elif not args.github_output:
        print("\n".join(render_plan(plan, args.parallel)))
    return 0
