"""The on-call engineer's decisions: approve, deny, undo, resume and closing expired approvals.

The decisions themselves are parry.runtime.control's; these commands parse, note and render.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from parry.cli import render
from parry.cli.common import CasesTable, EvidenceBucket, JsonFlag, TopicArn, dump, make_engine, note
from parry.cli.playbooks import load_playbook

if TYPE_CHECKING:
    from parry.runtime.control import ControlPlane, Outcome

Reason = typer.Option("", "--reason", help="why: recorded in the case and the audit log")


def _control(evidence_bucket: str | None, cases_table: str | None, topic_arn: str | None = None) -> ControlPlane:
    from parry.runtime.control import ControlPlane

    return ControlPlane(make_engine(evidence_bucket, cases_table, topic_arn), load_playbook)


def _show(outcome: Outcome, as_json: bool, *, step: str | None = None) -> None:
    """The case; first, when its runner was asked to carry on, what was asked and how to follow it."""
    sent, case = outcome.sent, outcome.case
    if sent is not None and sent.continue_case:
        note(
            f"asked the {sent.playbook} runner to continue case {sent.continue_case}; "
            f"follow it with `parry cases show {sent.continue_case}`"
        )
    elif sent is not None and sent.undo_case:
        what = f"step {step} of case {sent.undo_case}" if step else f"case {sent.undo_case}"
        note(
            f"asked the {sent.playbook} runner to undo {what} (request {case['undo_request']['id']}); "
            f"follow it with `parry cases show {sent.undo_case}`: the topic is told when it is done"
        )
    dump(case) if as_json else render.case(case)


def approve(
    case_id: str,
    reason: str = Reason,
    evidence_bucket: str | None = EvidenceBucket,
    cases_table: str | None = CasesTable,
    topic_arn: str | None = TopicArn,
    as_json: bool = JsonFlag,
) -> None:
    """Approve the paused step of a case; the case continues from there."""
    _show(_control(evidence_bucket, cases_table, topic_arn).approve(case_id, reason=reason), as_json)


def deny(
    case_id: str,
    reason: str = Reason,
    evidence_bucket: str | None = EvidenceBucket,
    cases_table: str | None = CasesTable,
    as_json: bool = JsonFlag,
) -> None:
    """Deny the paused step: the case closes and nothing more runs."""
    _show(_control(evidence_bucket, cases_table).deny(case_id, reason=reason), as_json)


def undo(
    case_id: str,
    step: str | None = typer.Option(None, "--step", help="undo only this step"),
    partial: bool = typer.Option(False, "--partial", help="undo what can be undone when some steps cannot"),
    reason: str = Reason,
    evidence_bucket: str | None = EvidenceBucket,
    cases_table: str | None = CasesTable,
    as_json: bool = JsonFlag,
) -> None:
    """Undo a case's changes in reverse order (or one step), recording each undo.

    Against a deployed account the playbook's runner does it (it can act in member accounts; you
    may not): your request is recorded in the case first. Locally it runs here.
    """
    outcome = _control(evidence_bucket, cases_table).undo(case_id, step=step, reason=reason, partial=partial)
    _show(outcome, as_json, step=step)


def resume(
    case_id: str,
    evidence_bucket: str | None = EvidenceBucket,
    cases_table: str | None = CasesTable,
    as_json: bool = JsonFlag,
) -> None:
    """Continue a RUNNING case from the step it stopped at (blocked, say, until a member account was set up)."""
    _show(_control(evidence_bucket, cases_table).resume(case_id), as_json)


def expire(
    evidence_bucket: str | None = EvidenceBucket,
    cases_table: str | None = CasesTable,
) -> None:
    """Close every case whose approval window has passed (closed-unapproved)."""
    for case_id in _control(evidence_bucket, cases_table).expire():
        typer.echo(case_id)


def register(app: typer.Typer, cases_app: typer.Typer) -> None:
    for command in (approve, deny, undo):
        app.command()(command)
    cases_app.command("expire")(expire)
    cases_app.command("resume")(resume)
