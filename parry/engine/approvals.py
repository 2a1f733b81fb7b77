"""Human decisions on a paused case: approve, deny, and expiry to closed-unapproved.

A decision is a conditional write on the case status, so two people deciding at once cannot both
win; each is recorded with the caller's identity and reason in the case and in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from parry.engine import notices
from parry.errors import DecisionError, ParryError
from parry.store import model as cs
from parry.store.model import Case

if TYPE_CHECKING:
    from parry.aws.clients import ClientFactory
    from parry.engine.run import Engine


def caller_identity(aws: ClientFactory) -> str:
    arn: str = aws.client("sts").get_caller_identity()["Arn"]
    return arn


def _now_iso(clock: Callable[[], float]) -> str:
    return datetime.fromtimestamp(clock(), UTC).isoformat(timespec="seconds")


def _awaiting(engine: Engine, case_id: str) -> Case:
    case = engine.store.get(case_id)
    if case.status != cs.AWAITING_APPROVAL or not case.awaiting:
        raise DecisionError(f"case {case_id} is {case.status}, not waiting for approval")
    if engine.clock() > float(case.awaiting.get("deadline", 0)):
        expire(engine, case)
        raise DecisionError(f"the approval window of case {case_id} has passed: it is now {cs.EXPIRED}")
    return case


def _decide(engine: Engine, case: Case, *, kind: str, status: str, who: str, reason: str) -> Case:
    entry = {
        "kind": kind,
        "step": (case.awaiting or {}).get("step"),
        "by": who,
        "reason": reason,
        "at": _now_iso(engine.clock),
    }
    case.history.append(entry)
    case.status = status
    if status != cs.RUNNING:
        case.awaiting = None
    try:
        engine.store.save(case, expected_status=cs.AWAITING_APPROVAL)
    except ParryError as exc:
        raise DecisionError(f"case {case.case_id} was decided by someone else meanwhile") from exc
    evidence = engine.evidence_for(case)
    evidence.audit(kind, {k: v for k, v in entry.items() if k not in ("kind", "at")})
    engine.seal(evidence)
    return case


def approve(engine: Engine, case_id: str, *, reason: str = "", who: str | None = None) -> Case:
    """Record the approval; the case is RUNNING again and continues at the paused step."""
    case = _awaiting(engine, case_id)
    return _decide(
        engine, case, kind="approved", status=cs.RUNNING, who=who or caller_identity(engine.aws), reason=reason
    )


def deny(engine: Engine, case_id: str, *, reason: str = "", who: str | None = None) -> Case:
    """Close the case without running the paused step or any after it."""
    case = _awaiting(engine, case_id)
    return _decide(engine, case, kind="denied", status=cs.DENIED, who=who or caller_identity(engine.aws), reason=reason)


def expire(engine: Engine, case: Case) -> Case:
    """Close a case whose approval window passed: nothing more runs."""
    return _decide(engine, case, kind="expired", status=cs.EXPIRED, who="parry", reason="approval window passed")


def expire_overdue(engine: Engine) -> list[str]:
    """Close every case whose approval window has passed, telling the on-call; their ids.

    Run on a schedule by the maintenance function (and by `parry cases expire`), so a request
    nobody answered ends as EXPIRED rather than waiting for ever.
    """
    closed = []
    for case in engine.store.list(limit=1000, status=cs.AWAITING_APPROVAL):
        if case.awaiting and engine.clock() > float(case.awaiting.get("deadline", 0)):
            step = case.awaiting.get("step")
            try:
                expire(engine, case)
            except ParryError:
                continue  # decided meanwhile
            closed.append(case.case_id)
            engine.tell(*notices.approval_expired(case, step))
    return closed
