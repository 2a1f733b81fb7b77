"""Human decisions on a paused case: the gates a case waits at, approve, deny, and expiry.

A case waits at one gate: `step:<id>` (a step that needs approval), `rate-limit` (more cases this
hour than the playbook allows) or `undo:<request id>` (an undo that gives access back). A decision
names the gate it answers and the playbook version (sha256) of the case, carries a nonce that works
once, and is made by someone other than who asked for the case wherever separation applies: so a
decision cannot be replayed on another gate, case or playbook version, nor made by the requester.
The runner records who decided (as the control plane verified it) in the case and the audit log;
the write is conditional on the case status, so two people deciding at once cannot both win.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from parry.engine import notices
from parry.errors import DecisionError, ParryError, ReplayedDecision, SeparationOfDuties
from parry.store import model as cs
from parry.store.model import Case

if TYPE_CHECKING:
    from parry.aws.clients import ClientFactory
    from parry.engine.run import Engine
    from parry.evidence.writer import CaseEvidence
    from parry.playbooks.model import Playbook

APPROVE = "approve"
DENY = "deny"
RATE_LIMIT_GATE = "rate-limit"


def step_gate(step_id: str) -> str:
    return f"step:{step_id}"


def undo_gate(request_id: str) -> str:
    return f"undo:{request_id}"


@dataclass(frozen=True)
class Decision:
    """One person's answer at one gate of one case version, as the control plane verified and sealed it."""

    kind: str  # APPROVE or DENY
    gate: str
    playbook_sha256: str
    nonce: str
    by: str
    reason: str = ""


def caller_identity(aws: ClientFactory) -> str:
    arn: str = aws.client("sts").get_caller_identity()["Arn"]
    return arn


def principal(arn: str) -> str:
    """The principal behind an ARN: an assumed-role session is its role, since whoever may assume the
    role chooses the session name (so two sessions of one role are one person for separation)."""
    head = arn.split()[0] if arn.strip() else arn
    parts = head.split(":", 5)
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        role = parts[5].split("/")[1]
        return f"arn:{parts[1]}:iam::{parts[4]}:role/{role}"
    return head


def separation_required(playbook: Playbook, case: Case, gate: str) -> bool:
    """Whether the decision at `gate` needs someone other than the requester: the playbook says, else
    yes for a manual run and at the rate-limit gate (a flood of cases is what an attacker would start)."""
    if playbook.separate_approver is not None:
        return playbook.separate_approver
    return case.manual or gate == RATE_LIMIT_GATE


def _now_iso(clock: Callable[[], float]) -> str:
    return datetime.fromtimestamp(clock(), UTC).isoformat(timespec="seconds")


def pause(
    engine: Engine,
    case: Case,
    playbook: Playbook,
    evidence: CaseEvidence,
    owner: str,
    *,
    index: int,
    gate: str,
    reason: str,
) -> Case:
    """Stop the case at `gate` before step `index`, tell the on-call, and free the case."""
    ttl = playbook.approval_ttl_hours * 3600
    step_id = playbook.steps[index].id
    case.status = cs.AWAITING_APPROVAL
    case.next_step = index
    case.awaiting = {
        "gate": gate,
        "step": step_id,
        "index": index,
        "reason": reason,
        "deadline": engine.clock() + ttl,
        "separate": separation_required(playbook, case, gate),
    }
    evidence.audit(
        "approval_requested",
        {
            "gate": gate,
            "step": step_id,
            "reason": reason,
            "expires_in_hours": playbook.approval_ttl_hours,
            "case_status": cs.AWAITING_APPROVAL,
        },
    )
    engine.seal(evidence)  # what the case did until now is signed while it waits (hours, maybe days)
    engine.store.save(case, owner=owner, release=True)
    engine.tell(*notices.approval_needed(case, reason))
    return case


def approved(case: Case, gate: str) -> bool:
    """Whether the case holds an approval of `gate` (one recorded by `decide`)."""
    return any(h.get("kind") == "approved" and h.get("gate") == gate for h in case.history)


def _awaiting(engine: Engine, case_id: str) -> Case:
    case = engine.store.get(case_id)
    if case.status != cs.AWAITING_APPROVAL or not case.awaiting:
        raise DecisionError(f"case {case_id} is {case.status}, not waiting for approval")
    if engine.clock() > float(case.awaiting.get("deadline", 0)):
        expire(engine, case)
        raise DecisionError(f"the approval window of case {case_id} has passed: it is now {cs.EXPIRED}")
    return case


def _check(case: Case, decision: Decision) -> None:
    """ReplayedDecision or SeparationOfDuties when `decision` does not answer the case as it waits now."""
    waiting = case.awaiting or {}
    if decision.gate != waiting.get("gate"):
        raise ReplayedDecision(
            f"case {case.case_id} waits at gate {waiting.get('gate')!r}, not {decision.gate!r}: nothing decided"
        )
    if decision.playbook_sha256 != case.playbook_sha256:
        raise ReplayedDecision(
            f"the decision is for playbook version {decision.playbook_sha256[:12] or '?'}, case {case.case_id} "
            f"runs {case.playbook_sha256[:12]}: nothing decided"
        )
    requester = case.requested_by
    if waiting.get("separate", True) and requester and principal(decision.by) == principal(requester):
        raise SeparationOfDuties(
            f"{decision.by} asked for case {case.case_id}, so cannot decide at its gate {decision.gate}: "
            "someone else must approve or deny"
        )


def decide(engine: Engine, case_id: str, decision: Decision) -> Case:
    """Record `decision` at the gate the case waits at: approved, the case is RUNNING again and continues
    there (the caller resumes it); denied, it closes and nothing more runs. The nonce is spent first, so
    a decision that fails later (decided meanwhile) is not replayable either."""
    if decision.kind not in (APPROVE, DENY):
        raise DecisionError(f"a decision approves or denies, not {decision.kind!r}")
    if not decision.by:
        raise DecisionError("a decision names who made it")
    if decision.gate.startswith(undo_gate("")):
        from parry.engine.undo_approval import decide_undo

        return decide_undo(engine, case_id, decision)
    case = _awaiting(engine, case_id)
    _check(case, decision)
    engine.store.use_nonce(decision.nonce, case_id=case_id, gate=decision.gate)
    kind, status = ("approved", cs.RUNNING) if decision.kind == APPROVE else ("denied", cs.DENIED)
    return _record(
        engine, case, kind=kind, status=status, who=decision.by, reason=decision.reason, nonce=decision.nonce
    )


def _record(engine: Engine, case: Case, *, kind: str, status: str, who: str, reason: str, nonce: str = "") -> Case:
    waiting = case.awaiting or {}
    entry = {
        "kind": kind,
        "gate": waiting.get("gate"),
        "step": waiting.get("step"),
        "by": who,
        "reason": reason,
        "at": _now_iso(engine.clock),
    }
    if nonce:
        entry["nonce"] = nonce
    case.history.append(entry)
    case.status = status
    case.awaiting = None  # decided: the case waits at no gate any more (`cases show` says so)
    try:
        engine.store.save(case)  # conditional on AWAITING_APPROVAL, as read: one decision wins
    except ParryError as exc:
        raise DecisionError(f"case {case.case_id} was decided by someone else meanwhile") from exc
    evidence = engine.evidence_for(case)
    try:
        evidence.audit(kind, {**{k: v for k, v in entry.items() if k not in ("kind", "at")}, "case_status": status})
    except BaseException:
        # the audit log does not hold the decision: put the case back at its gate, to be decided again
        case.history.remove(entry)
        case.status, case.awaiting = cs.AWAITING_APPROVAL, waiting
        engine.store.save(case)
        raise
    engine.seal(evidence)  # if this fails the decision stands (it is in the log): the case's next seal covers it
    return case


def expire(engine: Engine, case: Case) -> Case:
    """Close a case whose approval window passed: nothing more runs."""
    return _record(engine, case, kind="expired", status=cs.EXPIRED, who="parry", reason="approval window passed")


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
