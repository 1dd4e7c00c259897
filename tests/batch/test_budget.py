"""Batch budgets: once spent, no new ticket starts and running ones stop before their next step."""

from __future__ import annotations

import threading

from ruamel.yaml import YAML

from exec_auto.batch.budget import BatchBudget
from exec_auto.batch.view import TicketWatch
from exec_auto.ticket.model import AgentUsage, StepProgress
from tests.batch.support import agent_command, batch_json, rows


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_time_budget_stops_the_running_ticket_and_starts_no_more(
    make_batch, run_batch_cli, report_dir
):
    root = make_batch(["a", "b", "c"])
    code = run_batch_cli(root, agent_command(sleep=1), "a", "b", "c", "--budget-seconds", "0.5")
    assert code == 1
    by = rows(report_dir)
    assert by["a"]["status"] == "stopped" and by["a"]["exit_code"] == 1
    for name in "bc":
        assert by[name]["status"] == "not_started" and "time budget spent" in by[name]["note"]
    # The stopped ticket stays active with its remaining steps pending, so a rerun resumes it.
    folder = root / "specs" / "tickets" / "a"
    progress = YAML(typ="safe").load((folder / "progress.yaml").read_text())
    assert progress["ticket"]["status"] == "stopped"
    assert progress["implementation_steps"][-1]["status"] == "pending"
    assert [i["type"] for i in progress["issues"]] == ["budget_exhausted"]
    assert (folder / "report.json").is_file() and "status: in_progress" in (
        folder / "spec.yaml"
    ).read_text()
    assert not (root / "b-1.txt").exists()
    assert batch_json(report_dir)["budget"]["exhausted"].startswith("batch time budget spent")


def test_parallel_budget_leaves_queued_tickets_unstarted(make_batch, run_batch_cli, report_dir):
    root = make_batch(["a", "b", "c"])
    run_batch_cli(
        root, agent_command(sleep=1), "a", "b", "c", "--parallel", "2", "--budget-seconds", "0.5"
    )
    by = rows(report_dir)
    # a and b hold both slots for longer than the budget, so c never gets to start.
    assert by["c"]["status"] == "not_started" and by["c"]["branch"] is None
    assert {by["a"]["status"], by["b"]["status"]} <= {"stopped", "not_started"}


def test_usd_budget_counts_spend_reported_by_steps():
    budget = BatchBudget(usd=1.0, clock=FakeClock())
    watch = TicketWatch("a", threading.Event(), budget.add_spend)
    record = StepProgress(step_id="1", description="x")
    record.agent = AgentUsage(cost_usd=0.6)
    watch.step_finished(1, 2, record)
    assert budget.exhausted() is None
    watch.step_finished(2, 2, record)
    assert budget.exhausted() == "batch budget spent: $1.20 of $1.00"
    assert budget.as_dict()["spent_usd"] == 1.2 and watch.cost_usd == 1.2


def test_the_first_reason_is_kept():
    clock = FakeClock()
    budget = BatchBudget(usd=1.0, seconds=10, clock=clock)
    clock.now += 11
    assert "time budget" in (budget.exhausted() or "")
    budget.add_spend(5.0)
    assert "time budget" in (budget.exhausted() or "")


def test_no_limits_never_run_out():
    clock = FakeClock()
    budget = BatchBudget(clock=clock)
    budget.add_spend(1e6)
    clock.now += 1e6
    assert budget.exhausted() is None


def test_usd_budget_counts_estimated_spend_of_api_backends():
    budget = BatchBudget(usd=1.0, clock=FakeClock())
    watch = TicketWatch("a", threading.Event(), budget.add_spend)
    record = StepProgress(step_id="1", description="x")
    record.agent = AgentUsage(estimated_cost_usd=1.5)
    watch.step_finished(1, 1, record)
    assert budget.exhausted() == "batch budget spent: $1.50 of $1.00"
