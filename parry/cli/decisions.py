"""The on-call engineer's decisions: approve, deny, undo, resume and closing expired approvals.

Each goes through the front door (parry.runtime.control); these commands parse and render.
"""

from __future__ import annotations

import typer

from parry.cli import case_ids, render
from parry.cli.common import dump, make_control, note
from parry.cli.options import ActAs, CasesTable, ControlUrl, EvidenceBucket, JsonFlag, TopicArn
from parry.store.model import UNDO_AWAITING

CaseId = typer.Argument(..., metavar="CASE_ID", help="the case id, or a unique prefix of it")
Reason = typer.Option("", "--reason", help="why: recorded in the case and the audit log")
Gate = typer.Option(
    None, "--gate", help='the gate decided: "step:<step id>" or "rate-limit" (default: the one waiting)'
)


def _show(case: dict, as_json: bool) -> None:
    dump(case) if as_json else render.case(case)


def _case_id(given: str, evidence_bucket: str | None, cases_table: str | None) -> str:
    """The full id of the case `given` names (it may be a unique prefix), read from the case table."""
    from parry.cli.common import make_engine

    return case_ids.from_table(make_engine(evidence_bucket, cases_table).store, given)


def _reason(reason: str, what: str) -> str:
    """The reason given, or, on a terminal, one asked for: a denial or an undo is read later by others."""
    import sys

    if reason.strip() or not sys.stdin.isatty():
        return reason
    return str(typer.prompt(f"why {what}? (recorded in the case and the audit log)", default="", show_default=False))


def approve(
    case_id: str = CaseId,
    gate: str | None = Gate,
    reason: str = Reason,
    act_as: str | None = ActAs,
    control_url: str | None = ControlUrl,
    evidence_bucket: str | None = EvidenceBucket,
    cases_table: str | None = CasesTable,
    topic_arn: str | None = TopicArn,
    as_json: bool = JsonFlag,
) -> None:
    """Approve the paused step of a case; its runner records you and continues from there."""
    case_id = _case_id(case_id, evidence_bucket, cases_table)
    control = make_control(evidence_bucket, cases_table, topic_arn, control_url=control_url, act_as=act_as)
    _show(control.approve(case_id, gate=gate, reason=reason), as_json)


def deny(
    case_id: str = CaseId,
    gate: str | None = Gate,
    reason: str = Reason,
    act_as: str | None = ActAs,
    control_url: str | None = ControlUrl,
    evidence_bucket: str | None = EvidenceBucket,
    cases_table: str | None = CasesTable,
    as_json: bool = JsonFlag,
) -> None:
    """Deny the paused step: the case closes and nothing more runs."""
    case_id = _case_id(case_id, evidence_bucket, cases_table)
    control = make_control(evidence_bucket, cases_table, control_url=control_url, act_as=act_as)
    _show(control.deny(case_id, gate=gate, reason=_reason(reason, "deny")), as_json)


def undo(
    case_id: str = CaseId,
    step: str | None = typer.Option(None, "--step", help="undo only this step"),
    partial: bool = typer.Option(False, "--partial", help="undo what can be undone when some steps cannot"),
    reason: str = Reason,
    act_as: str | None = ActAs,
    control_url: str | None = ControlUrl,
    evidence_bucket: str | None = EvidenceBucket,
    cases_table: str | None = CasesTable,
    as_json: bool = JsonFlag,
) -> None:
    """Undo a case's changes in reverse order (or one step), recording each undo.

    The playbook's runner does it (it can act in member accounts; you may not), recorded as you.
    """
    case_id = _case_id(case_id, evidence_bucket, cases_table)
    control = make_control(evidence_bucket, cases_table, control_url=control_url, act_as=act_as)
    case = control.undo(case_id, step=step, reason=_reason(reason, "undo"), partial=partial)
    request = case.get("undo_request") or {}
    if request.get("state") == UNDO_AWAITING:
        note(
            f"this undo gives access back: someone other than you approves it with "
            f"`parry approve {case_id} --gate {request.get('gate')}`"
        )
    _show(case, as_json)


def resume(
    case_id: str = CaseId,
    act_as: str | None = ActAs,
    control_url: str | None = ControlUrl,
    evidence_bucket: str | None = EvidenceBucket,
    cases_table: str | None = CasesTable,
    as_json: bool = JsonFlag,
) -> None:
    """Continue a RUNNING case from the step it stopped at (blocked, say, until a member account was set up)."""
    case_id = _case_id(case_id, evidence_bucket, cases_table)
    control = make_control(evidence_bucket, cases_table, control_url=control_url, act_as=act_as)
    _show(control.resume(case_id), as_json)


def expire(
    evidence_bucket: str | None = EvidenceBucket,
    cases_table: str | None = CasesTable,
) -> None:
    """Close every case whose approval window has passed (closed-unapproved), continue the RUNNING cases
    nothing is working on and name the cases deleted from the case table, as the maintenance function
    does; prints each case and what was done."""
    from parry.cli.common import load_playbook, make_engine
    from parry.runtime.control import ControlPlane

    swept = ControlPlane(make_engine(evidence_bucket, cases_table), load_playbook).sweep()
    for case_id in swept["expired"]:
        typer.echo(render.inert(case_id))
    for case_id in swept["redriven"]:
        typer.echo(f"{render.inert(case_id)}  continued")
    for case_id, why in swept["left"].items():
        note(f"{case_id}  left RUNNING: {why}")
    for case_id in swept["vanished"]:
        note(
            f"{render.inert(case_id)}  gone from the case table, its evidence remains: parry evidence verify {case_id}"
        )
    if not any(swept.values()):
        note("nothing to do: no approval window has passed and no RUNNING case is left without a run")


def register(app: typer.Typer, cases_app: typer.Typer) -> None:
    for command in (approve, deny, undo):
        app.command()(command)
    cases_app.command("expire")(expire)
    cases_app.command("resume")(resume)
