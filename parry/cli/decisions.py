"""The on-call engineer's decisions: approve, deny, undo, and closing expired approvals."""

from __future__ import annotations

import json
import os
from typing import Optional

import typer

from parry.cli import render
from parry.cli.common import CasesTable, EvidenceBucket, JsonFlag, TopicArn, dump, make_engine, note, run_handler
from parry.cli.playbooks import load_playbook

Reason = typer.Option("", "--reason", help="why: recorded in the case and the audit log")


def _deployed() -> bool:
    """Whether the playbooks' runners are there to ask: any endpoint but a local one (`parry local`)."""
    from urllib.parse import urlparse

    from parry.local.server import LOCAL_HOSTS

    return urlparse(os.environ.get("AWS_ENDPOINT_URL", "")).hostname not in LOCAL_HOSTS


def _send(engine, detail: dict) -> None:
    """Put a `Parry Run Request` on the default bus; ParryError when EventBridge did not take it."""
    from parry.errors import ParryError

    resp = engine.aws.client("events").put_events(Entries=[{
        "Source": "parry", "DetailType": "Parry Run Request", "Detail": json.dumps(detail),
    }])
    if resp.get("FailedEntryCount"):
        failed = (resp.get("Entries") or [{}])[0]
        raise ParryError(f"EventBridge did not take the request: {failed.get('ErrorCode')}: {failed.get('ErrorMessage')}")


def _continue(engine, case) -> dict:
    """Continue an approved case: in-process against a local endpoint, else by asking its Lambda."""
    request = {"source": "parry", "detail-type": "Parry Run Request",
               "detail": {"playbook": case.playbook, "continue_case": case.case_id}}
    if not _deployed():
        return run_handler(request, load_playbook(case.playbook), engine)
    _send(engine, request["detail"])
    note(f"asked the {case.playbook} runner to continue case {case.case_id}; follow it with `parry cases show {case.case_id}`")
    return engine.store.get(case.case_id).as_dict()


def _undo_by_runner(engine, case_id: str, *, step: str | None, who: str, reason: str, partial: bool) -> dict:
    """Record the undo request in the case, then ask the playbook's runner to carry it out.

    The runner's role may act in member accounts; the caller's own credentials may not. If the
    request cannot be sent, it is withdrawn (audited) so that it can be asked again.
    """
    from parry.errors import ParryError
    from parry.aws.errors import describe_error
    from parry.engine.undo import request_undo, withdraw

    case = request_undo(engine, case_id, step_id=step, who=who, reason=reason, partial=partial)
    try:
        _send(engine, {"playbook": case.playbook, "undo_case": case.case_id})
    except Exception as exc:
        error = str(exc) if isinstance(exc, ParryError) else describe_error(exc)
        withdraw(engine, case, error)
        raise ParryError(f"the undo request of case {case_id} could not be sent ({error}): it is withdrawn; ask again") from exc
    what = f"step {step} of case {case_id}" if step else f"case {case_id}"
    note(f"asked the {case.playbook} runner to undo {what} (request {case.undo_request['id']}); "
         f"follow it with `parry cases show {case_id}`: the topic is told when it is done")
    return engine.store.get(case_id).as_dict()


def approve(
    case_id: str,
    reason: str = Reason,
    evidence_bucket: Optional[str] = EvidenceBucket,
    cases_table: Optional[str] = CasesTable,
    topic_arn: Optional[str] = TopicArn,
    as_json: bool = JsonFlag,
) -> None:
    """Approve the paused step of a case; the case continues from there."""
    from parry.engine.approvals import approve as record

    engine = make_engine(evidence_bucket, cases_table, topic_arn)
    case = _continue(engine, record(engine, case_id, reason=reason))
    dump(case) if as_json else render.case(case)


def deny(
    case_id: str,
    reason: str = Reason,
    evidence_bucket: Optional[str] = EvidenceBucket,
    cases_table: Optional[str] = CasesTable,
    as_json: bool = JsonFlag,
) -> None:
    """Deny the paused step: the case closes and nothing more runs."""
    from parry.engine.approvals import deny as record

    case = record(make_engine(evidence_bucket, cases_table), case_id, reason=reason).as_dict()
    dump(case) if as_json else render.case(case)


def undo(
    case_id: str,
    step: Optional[str] = typer.Option(None, "--step", help="undo only this step"),
    partial: bool = typer.Option(False, "--partial", help="undo what can be undone when some steps cannot"),
    reason: str = Reason,
    evidence_bucket: Optional[str] = EvidenceBucket,
    cases_table: Optional[str] = CasesTable,
    as_json: bool = JsonFlag,
) -> None:
    """Undo a case's changes in reverse order (or one step), recording each undo.

    Against a deployed account the playbook's runner does it (it can act in member accounts; you
    may not): your request is recorded in the case first. Locally it runs here.
    """
    from parry.engine.approvals import caller_identity
    from parry.engine.undo import undo as run_undo

    engine = make_engine(evidence_bucket, cases_table)
    who = caller_identity(engine.aws)
    if _deployed():
        case = _undo_by_runner(engine, case_id, step=step, who=who, reason=reason, partial=partial)
    else:
        case = run_undo(engine, case_id, step_id=step, who=who, reason=reason, partial=partial).as_dict()
    dump(case) if as_json else render.case(case)


def resume(
    case_id: str,
    evidence_bucket: Optional[str] = EvidenceBucket,
    cases_table: Optional[str] = CasesTable,
    as_json: bool = JsonFlag,
) -> None:
    """Continue a RUNNING case from the step it stopped at (blocked, say, until a member account was set up)."""
    from parry.store.model import RUNNING
    from parry.errors import ParryError

    engine = make_engine(evidence_bucket, cases_table)
    case = engine.store.get(case_id)
    if case.status != RUNNING:
        raise ParryError(f"case {case_id} is {case.status}: only a RUNNING case can be continued")
    case = _continue(engine, case)
    dump(case) if as_json else render.case(case)


def expire(
    evidence_bucket: Optional[str] = EvidenceBucket,
    cases_table: Optional[str] = CasesTable,
) -> None:
    """Close every case whose approval window has passed (closed-unapproved)."""
    from parry.engine.approvals import expire_overdue

    for case_id in expire_overdue(make_engine(evidence_bucket, cases_table)):
        typer.echo(case_id)


def register(app: typer.Typer, cases_app: typer.Typer) -> None:
    for command in (approve, deny, undo):
        app.command()(command)
    cases_app.command("expire")(expire)
    cases_app.command("resume")(resume)
