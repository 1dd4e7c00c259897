"""CDD behind the format protocol: specs/tickets/<name>/ plan.md + spec.yaml, progress.yaml beside them."""

from __future__ import annotations

from pathlib import Path

from exec_auto.formats.base import LoadedTicket, RunSummary
from exec_auto.ticket.model import Step, StepStatus
from exec_auto.ticket.resolve import (
    ARCHIVE,
    TICKETS,
    TicketRef,
    active_tickets,
    archived_tickets,
    ticket_from_path,
)


class Cdd:
    """exec-auto's own layout; it keeps working exactly as before the formats layer existed."""

    name = "cdd"
    label = "CDD (specs/tickets)"
    uses_state_home = False
    archives = True

    def detect(self, root: Path) -> bool:
        """specs/tickets or specs/archive exists."""
        return (root / TICKETS).is_dir() or (root / ARCHIVE).is_dir()

    def list_tickets(self, root: Path) -> list[TicketRef]:
        """Active tickets, then archived ones."""
        return [*active_tickets(root), *archived_tickets(root)]

    def owns(self, path: Path, root: Path) -> TicketRef | None:
        """A path inside specs/tickets or specs/archive."""
        return ticket_from_path(path, root)

    def load(self, ref: TicketRef) -> LoadedTicket:
        """plan.md (steps) and spec.yaml (criteria, type, status) when present.

        An unreadable spec.yaml does not stop the ticket: its plan runs, the spec is left as it
        is, and the run logs that the criteria and status could not be read (one rule, shared by
        `show` and `run`: `executor.startup.read_spec`).
        """
        from exec_auto.executor.startup import read_spec, spec_issue
        from exec_auto.formats.cdd.plan import load_plan

        plan = load_plan(ref.plan_path)
        state = read_spec(ref)
        spec = state.spec
        files = [f"{ref.rel_dir}/plan.md"] + ([f"{ref.rel_dir}/spec.yaml"] if state.present else [])
        warnings = list(spec.warnings) if spec else []
        problems: list[tuple[str, str, str]] = []
        if not state.present:
            warnings.append("spec.yaml not found: no acceptance criteria")
        elif (issue := spec_issue(state)) is not None:
            unreadable = state.problem is not None
            warnings.append(
                f"{issue}; `exec-auto run` runs the plan and leaves spec.yaml as it is"
                if unreadable
                else f"{issue}; `exec-auto run` uses the first value and will not record status"
            )
            problems.append(
                ("spec_unreadable", "medium", issue)
                if unreadable
                else ("spec_not_updated", "low", issue)
            )
        return LoadedTicket(
            ref=ref,
            format=self.name,
            title=spec.title if spec and spec.title else plan.title,
            plan=plan,
            criteria=spec.criteria if spec else (),
            ticket_type=spec.ticket_type if spec else None,
            status=(spec.status if spec else None),
            files=tuple(files),
            warnings=tuple(warnings),
            no_criteria_note=None
            if state.present
            else "spec.yaml not found: no acceptance criteria to validate",
            derivation=(
                "steps: plan.md's implementation section (Step N headings, numbered items or phases)",
                "criteria: spec.yaml acceptance_criteria",
            ),
            problems=tuple(problems),
            rewritten=(f"{ref.rel_dir}/spec.yaml",) if state.writable else (),
        )

    def mark_started(self, ticket: LoadedTicket, now: str) -> list[str]:
        """spec.yaml's status becomes in_progress (a resumed run whose spec was edited, too)."""
        from exec_auto.formats.cdd.spec import set_spec_status

        ref = ticket.ref
        if not ticket.rewritten or ticket.status == "in_progress":
            return []
        set_spec_status(ref.spec_path, "in_progress", now)
        return ['Updating spec.yaml status to "in_progress"']

    def mark_step(self, ticket: LoadedTicket, step: Step, status: StepStatus) -> list[str]:
        """progress.yaml is CDD's step record; nothing else to write."""
        return []

    def mark_finished(
        self, ticket: LoadedTicket, now: str, *, clean: bool, summary: RunSummary
    ) -> list[str]:
        """spec.yaml's status becomes completed."""
        from exec_auto.formats.cdd.spec import set_spec_status

        if not ticket.rewritten:
            return []  # no spec, or one the run could not read: left as it is
        # Raises when the agent broke spec.yaml meanwhile: logged, and the report still comes.
        set_spec_status(ticket.ref.spec_path, "completed", now)
        return ['Updating spec.yaml status to "completed"']

    def archive_destination(self, ticket: LoadedTicket) -> str:
        """specs/archive/<name>."""
        return ticket.ref.moved(archived=True).rel_dir

    def restore_hint(self, ticket: LoadedTicket) -> str | None:
        """exec-auto restore <name>."""
        from exec_auto.formats.cdd.archive import restore_command

        return restore_command(ticket.ref)

    def archive(self, ticket: LoadedTicket) -> TicketRef:
        """Move the folder to specs/archive (spec status archived)."""
        from exec_auto.formats.cdd.archive import archive_ticket

        return archive_ticket(ticket.ref)
