"""A second person for an undo that gives access back (reactivates a key, adds a permission, attaches
a profile, lifts a quarantine): such an undo, asked of a runner, waits at gate `undo:<request id>`
until someone other than the requester approves it.

Whether an undo needs it is the registry's say (`restores_access` on the undo action of each step's
action) and the settings', never the table's; the runner checks the approval in the sealed audit
log before it undoes anything, so an approval written into the table does not count.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from parry.actions import registry
from parry.engine.approvals import APPROVE, Decision, principal, undo_gate
from parry.errors import DecisionError, EvidenceMismatch, ParryError, ReplayedDecision, SeparationOfDuties
from parry.store.model import UNDO_AWAITING, UNDO_PENDING, Case
from parry.store.step_result import StepResult

if TYPE_CHECKING:
    from parry.engine.run import Engine

UNDO_DENIED = "denied"


def gives_access_back(steps: list[StepResult]) -> bool:
    """Whether undoing `steps` gives access back: the registry's undo of any step's action restores it."""
    for step in steps:
        undo = registry.get(step.action).undo
        if undo and registry.get(undo).restores_access:
            return True
    return False


def needs_second_person(engine: Engine, steps: list[StepResult]) -> bool:
    return engine.settings.undo_needs_second_person and gives_access_back(steps)


def decide_undo(engine: Engine, case_id: str, decision: Decision) -> Case:
    """Approve or deny the undo request waiting at `decision.gate`; approved, it is pending for the runner."""
    case = engine.store.get(case_id)
    request: dict[str, Any] = dict(case.undo_request or {})
    if request.get("state") != UNDO_AWAITING or undo_gate(str(request.get("id"))) != decision.gate:
        raise ReplayedDecision(f"case {case_id} holds no undo request waiting at gate {decision.gate!r}")
    if decision.playbook_sha256 != case.playbook_sha256:
        raise ReplayedDecision(f"the decision is for another playbook version than case {case_id}'s: nothing decided")
    if principal(decision.by) == principal(str(request.get("by"))):
        raise SeparationOfDuties(
            f"{decision.by} asked for this undo of case {case_id}, which gives access back: someone else must approve"
        )
    engine.store.use_nonce(decision.nonce, case_id=case_id, gate=decision.gate)
    kind = "undo_approved" if decision.kind == APPROVE else "undo_denied"
    at = datetime.fromtimestamp(engine.clock(), UTC).isoformat(timespec="seconds")
    entry = {"kind": kind, "gate": decision.gate, "request": request["id"], "by": decision.by}
    entry.update(reason=decision.reason, nonce=decision.nonce, at=at)
    request["state"] = UNDO_PENDING if decision.kind == APPROVE else UNDO_DENIED
    case.undo_request = request
    case.history.append(entry)
    try:
        engine.store.save(case, undo_pending=str(request["id"]))
    except ParryError as exc:
        raise DecisionError(f"the undo request of case {case_id} was decided meanwhile") from exc
    evidence = engine.evidence_for(case)
    evidence.audit(kind, {k: v for k, v in entry.items() if k not in ("kind", "at")})
    engine.seal(evidence)
    return case


def check_sealed_approval(case: Case, records: list[dict[str, Any]], request_id: str) -> None:
    """EvidenceMismatch unless the sealed log holds this request and its approval by someone else."""
    gate = undo_gate(request_id)
    asked = [r for r in records if r.get("kind") == "undo_requested" and r.get("id") == request_id]
    approved = [r for r in records if r.get("kind") == "undo_approved" and r.get("gate") == gate]
    if not asked or not approved:
        raise EvidenceMismatch(
            f"the undo {request_id} of case {case.case_id} gives access back and its sealed audit log holds "
            "no approval of it by a second person"
        )
    if principal(str(approved[-1].get("by"))) == principal(str(asked[-1].get("by"))):
        raise EvidenceMismatch(f"the undo {request_id} of case {case.case_id} was approved by its own requester")
