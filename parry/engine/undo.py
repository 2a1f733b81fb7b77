"""Undo: run the sealed undo of each step of a case, in reverse order, and record it.

Each step's undo was recorded in the sealed audit log when it ran (from what it saw before), so undo
restores the state the case found, not what the playbook assumed, and never what the case table
says (parry.engine.sealed). Steps without an undo are named, never skipped silently.

Two ways to run it. `undo` runs in the caller's process with the caller's credentials (the local
sandbox, tests): whoever runs it could make those calls anyway. Against a deployed account the
on-call's credentials cannot act in a member account (the member role trusts only the playbook's
runner), so the request is recorded in the case (`request_undo`: who, why, which step, when; one
pending at a time) and the runner `carry_out`s it with its own least-privilege role. An undo that
gives access back waits first for a second person (parry.engine.undo_approval).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from parry.actions import registry
from parry.engine import approvals, notices, sealed, undo_approval
from parry.engine import steps as st
from parry.errors import CaseBusy, CaseNotFound, EvidenceMismatch, ParryError, UndoError, UndoRefused
from parry.store import model as cs
from parry.store.lifecycle import Outcome
from parry.store.model import Case
from parry.store.step_result import CHANGED, FAILED, NOOP, SUCCEEDED, StepResult

if TYPE_CHECKING:
    from parry.engine.run import Engine
    from parry.evidence.writer import CaseEvidence


def undoable(case: Case, step_id: str | None) -> tuple[list[StepResult], list[str]]:
    """(steps to undo, newest first; names of changed steps that have no undo)."""
    done = {h.get("step") for h in case.history if h.get("kind") == "undo" and h.get("status") in (SUCCEEDED, NOOP)}
    chosen = [s for s in case.steps if step_id in (None, s.step_id)]
    if step_id is not None and not chosen:
        raise UndoError(
            f"case {case.case_id} has no step {step_id!r} (steps: {', '.join(s.step_id for s in case.steps)})"
        )
    changed = [
        s
        for s in chosen
        if s.status in CHANGED and registry.get(s.action).mutating and s.step_id not in done and not s.keep_on_undo
    ]
    missing = []
    for s in changed:
        if not s.undo:
            cls = registry.get(s.action)
            missing.append(f"{s.step_id} ({s.action}: {cls.no_undo_reason or 'no undo'})")
    return [s for s in reversed(changed) if s.undo], missing


def _to_undo(case: Case, step_id: str | None, partial: bool) -> list[StepResult]:
    """The steps to undo, or UndoError saying why the case cannot be undone as asked."""
    if case.status in cs.OPEN_STATUSES:
        raise UndoError(f"case {case.case_id} is {case.status}: deny or finish it before undoing")
    todo, missing = undoable(case, step_id)
    if missing and not partial:
        raise UndoError(
            "cannot undo " + "; ".join(missing) + (" — pass --partial to undo the rest" if len(todo) else "")
        )
    if not todo:
        raise UndoError(f"nothing to undo in case {case.case_id}" + (f" (step {step_id})" if step_id else ""))
    return todo


def _pending(case: Case) -> dict[str, Any] | None:
    request = case.undo_request
    return request if isinstance(request, dict) and request.get("state") == cs.UNDO_PENDING else None


def _now_iso(engine: Engine) -> str:
    return datetime.fromtimestamp(engine.clock(), UTC).isoformat(timespec="seconds")


def _apply(
    engine: Engine,
    case: Case,
    todo: list[StepResult],
    evidence: CaseEvidence,
    *,
    who: str,
    reason: str,
    checkpoint: Callable[[], None],
    request_id: str | None = None,
) -> dict[str, Any] | None:
    """Undo `todo` newest first, recording and checkpointing each; the entry of the first failure, or None.

    What each undo does comes from the sealed audit log (the undo recorded when the step ran, from
    the state it found before), never from the table: EvidenceMismatch, before any change, when the
    log holds no such change or its undo is not the registry's undo of the step's action.

    Stops at the first failure: undoing further back would leave an inconsistent state. A step
    already undone (by an interrupted run) is not in `todo` again (see `undoable`).
    """
    records = sealed.audit_log(case, evidence)
    undos = [(step, *sealed.sealed_undo(case, records, step.step_id)) for step in todo]  # all, before any change
    for step, action, undo_params in undos:
        cls = registry.get(action)
        step_name = f"undo-{step.step_id}"
        acting_as = None
        try:
            # in the case's account, as the step ran: MemberAccountUnavailable rather than Parry's own credentials
            aws = engine.clients_for(case, cls)
            if aws.role_arn:
                acting_as = {"account": case.account, "role": aws.role_arn, "session": aws.session_name}
            ctx = engine.action_context(case, step_name, evidence, aws)
            params = registry.build_params(cls, undo_params)
            switch = engine.kill_switch.read()  # an undo changes resources too: never while the switch is on
            if switch.on:
                raise UndoError(f"not undone: {switch.reason}")
            result = st.execute(cls(), ctx, params)
        except ParryError as exc:
            result = StepResult(step_name, cls.name, FAILED, error=str(exc))
        entry: dict[str, Any] = {
            "kind": "undo",
            "step": step.step_id,
            "action": cls.name,
            "status": result.status,
            "by": who,
            "reason": reason,
            "error": result.error,
            "before": result.before,
            "after": result.after,
            "at": _now_iso(engine),
        }
        if request_id:
            entry["request"] = request_id
        if acting_as:
            entry["acting_as"] = acting_as
        case.history.append(entry)
        undone = result.status in (SUCCEEDED, NOOP)
        if undone:
            remaining, _ = undoable(case, None)
            case.status = cs.PARTIALLY_UNDONE if remaining else cs.UNDONE
        audited = {k: v for k, v in entry.items() if k not in ("kind", "at")}
        evidence.audit("undo", {**audited, "case_status": case.status})
        checkpoint()
        if not undone:
            return entry
    return None


def _refuse_if_pending(case: Case) -> None:
    pending = _pending(case)
    if pending:
        raise UndoError(
            f"an undo of case {case.case_id} asked by {pending.get('by')} at {pending.get('at')} is pending "
            f"with the {case.playbook} runner: follow it with `parry cases show {case.case_id}`"
        )


def undo(
    engine: Engine, case_id: str, *, step_id: str | None = None, who: str, reason: str = "", partial: bool = False
) -> Case:
    """Undo in this process, with this process's credentials (local sandbox, tests)."""
    case = engine.store.get(case_id)
    _refuse_if_pending(case)
    todo = _to_undo(case, step_id, partial)
    evidence = engine.evidence_for(case)
    failed = _apply(
        engine,
        case,
        todo,
        evidence,
        who=who,
        reason=reason,
        checkpoint=lambda: engine.store.save(case, undo_pending=False),
    )
    engine.seal(evidence)
    if failed:
        raise UndoError(
            f"undo of step {failed['step']} failed: {failed['error']}; case {case_id} records how far it got"
        )
    return case


# ---- through the runner --------------------------------------------------------------------------


def request_undo(
    engine: Engine, case_id: str, *, step_id: str | None = None, who: str, reason: str = "", partial: bool = False
) -> Case:
    """Record in the case that `who` asks its runner to undo it (all of it, or `step_id`); an undo that
    gives access back waits at gate `undo:<request id>` for a second person (parry.engine.undo_approval).

    Checked as `undo` checks it first, so a case that cannot be undone is refused at the terminal.
    A conditional write (see CaseStore.request_undo): one pending request per case, and two people
    asking at once cannot both be recorded. Audited and sealed like an approval.
    """
    case = engine.store.get(case_id)
    _refuse_if_pending(case)
    todo = _to_undo(case, step_id, partial)
    read_at = case.updated_at
    request_id = uuid.uuid4().hex
    request: dict[str, Any] = {
        "id": request_id,
        "by": who,
        "reason": reason,
        "step": step_id,
        "partial": partial,
        "steps": [s.step_id for s in todo],
        "at": _now_iso(engine),
        "state": cs.UNDO_PENDING,
    }
    if undo_approval.needs_second_person(engine, todo):
        request.update(state=cs.UNDO_AWAITING, gate=approvals.undo_gate(request_id))
    case.undo_request = request
    case.history.append(
        {
            "kind": "undo_requested",
            "request": request["id"],
            "step": step_id,
            "partial": partial,
            "by": who,
            "reason": reason,
            "at": request["at"],
        }
    )
    engine.store.request_undo(case, read_at=read_at)
    evidence = engine.evidence_for(case)
    evidence.audit("undo_requested", {k: v for k, v in request.items() if k not in ("at", "state")})
    engine.seal(evidence)
    return case


def withdraw(engine: Engine, case: Case, error: str) -> None:
    """The request could not be sent to the runner: end it (audited), so it can be asked again."""
    request = dict(case.undo_request or {})
    request.update(state="not sent", error=error, finished_at=_now_iso(engine))
    engine.store.withdraw_undo(case.case_id, request)
    evidence = engine.evidence_for(case)
    evidence.audit("undo_request_withdrawn", {"request": request.get("id"), "error": error})
    engine.seal(evidence)


def carry_out(engine: Engine, case_id: str, *, playbook: str, lease_seconds: float) -> Case:
    """The runner's side: carry out the undo request recorded in the case, as the requester asked.

    Only a pending request in the case is carried out (its identity, reason and step come from the
    case, never from the event); otherwise UndoRefused and nothing changes. Under the case's lease,
    so two deliveries never undo at once (CaseBusy: retry later). Each undone step is recorded with
    the requester's identity and checkpointed, so a retried delivery after a crash goes on from
    where it stopped; once the request is finished (done or failed) a redelivery changes nothing
    and returns the case marked `duplicate`. A failure is recorded in the case and told to the
    topic, not raised: the on-call decides what to do, and `parry undo` asks again.
    """
    try:
        case = engine.store.get(case_id)
    except CaseNotFound as exc:
        raise UndoRefused(f"undo refused: {exc}") from exc
    if case.playbook != playbook:
        raise UndoRefused(f"undo refused: case {case_id} belongs to playbook {case.playbook}, not {playbook}")
    if _pending(case) is None:
        return _not_pending(case)
    owner = uuid.uuid4().hex
    if not engine.store.acquire_lease(case_id, owner=owner, seconds=lease_seconds):
        raise CaseBusy(f"case {case_id} is being worked on by another invocation; retry this delivery later")
    try:
        case = engine.store.get(case_id)  # as it is now that this run holds it
        request = _pending(case)
        if request is None:
            return _not_pending(case)
        return _carry_out(engine, case, request, owner)
    except EvidenceMismatch as exc:
        raise UndoRefused(f"undo refused: {exc}") from exc
    finally:
        engine.store.release_lease(case_id, owner=owner)


def _not_pending(case: Case) -> Case:
    request = case.undo_request
    if isinstance(request, dict) and request.get("state") in (cs.UNDO_DONE, cs.UNDO_FAILED):
        case.outcome = Outcome.DUPLICATE  # a redelivery of a request already carried out: nothing more to do
        return case
    if isinstance(request, dict) and request.get("state") == cs.UNDO_AWAITING:
        raise UndoRefused(
            f"undo refused: the undo of case {case.case_id} gives access back and waits for a second person's "
            f"approval at gate {request.get('gate')}"
        )
    raise UndoRefused(
        f"undo refused: case {case.case_id} holds no pending undo request (ask with `parry undo "
        f"{case.case_id}`, which records who asks; a run request alone never undoes a case)"
    )


def _carry_out(engine: Engine, case: Case, request: dict[str, Any], owner: str) -> Case:
    rid = str(request.get("id"))
    who, reason = request.get("by"), request.get("reason") or ""
    step_id, partial = request.get("step"), request.get("partial") is True
    evidence = engine.evidence_for(case)
    error = None
    try:
        if (
            not isinstance(who, str)
            or not who
            or not isinstance(reason, str)
            or not isinstance(step_id, (str, type(None)))
        ):
            raise UndoError(f"the undo request {rid} of case {case.case_id} is malformed (who, reason or step)")
        try:
            todo = _to_undo(case, step_id, partial)
        except UndoError:
            if not any(h.get("request") == rid for h in case.history if h.get("kind") == "undo"):
                raise
            todo = []  # an interrupted delivery already undid every step: only finishing the request is left
        if undo_approval.needs_second_person(engine, todo):  # the registry's and settings' say, not the table's
            undo_approval.check_sealed_approval(case, sealed.audit_log(case, evidence), rid)
        failed = _apply(
            engine,
            case,
            todo,
            evidence,
            who=who,
            reason=reason,
            request_id=rid,
            checkpoint=lambda: engine.store.save(case, owner=owner, undo_pending=rid),
        )
        if failed:
            error = f"undo of step {failed['step']} failed: {failed['error']}"
    except UndoError as exc:
        error = str(exc)
    request.update(
        state=cs.UNDO_FAILED if error else cs.UNDO_DONE,
        error=error,
        finished_at=_now_iso(engine),
        ran_as=approvals.caller_identity(engine.aws),
    )
    case.undo_request = request
    evidence.audit(
        "undo_request_finished",
        {
            "request": rid,
            "by": who,
            "state": request["state"],
            "error": error,
            "ran_as": request["ran_as"],
            "case_status": case.status,
        },
    )
    engine.seal(
        evidence
    )  # before the final checkpoint: a crash in between leaves the request pending, resealed by the retry
    engine.tell(*notices.undo_finished(case, request))
    engine.store.save(case, owner=owner, undo_pending=rid)
    return case
