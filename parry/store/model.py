"""The case: what Parry records of one run of a playbook on one event, its statuses and its id."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from parry.store.lifecycle import CaseState, Outcome
from parry.store.step_result import StepResult

# case statuses (parry.store.lifecycle has the transitions between them)
RUNNING = CaseState.RUNNING
AWAITING_APPROVAL = CaseState.AWAITING_APPROVAL
SUCCEEDED = CaseState.SUCCEEDED
COMPLETED_WITH_ERRORS = CaseState.COMPLETED_WITH_ERRORS
FAILED = CaseState.FAILED
DRY_RUN = CaseState.DRY_RUN
DENIED = CaseState.DENIED
EXPIRED = CaseState.CLOSED_UNAPPROVED
UNDONE = CaseState.UNDONE
PARTIALLY_UNDONE = CaseState.PARTIALLY_UNDONE
OPEN_STATUSES = (RUNNING, AWAITING_APPROVAL)

# states of an undo request (Case.undo_request["state"])
UNDO_PENDING = "pending"
UNDO_AWAITING = "awaiting approval"  # gives access back: waits for a second person (parry.engine.undo_approval)
UNDO_DONE = "done"
UNDO_FAILED = "failed"


def new_case_id(now: float | None = None) -> str:
    stamp = datetime.fromtimestamp(now or time.time(), UTC).strftime("%Y%m%d")
    return f"case-{stamp}-{uuid.uuid4().hex[:10]}"


@dataclass
class Case:
    case_id: str
    playbook: str
    playbook_sha256: str
    status: str
    opened_at: str
    account: str
    region: str
    dedup: str
    event: dict[str, Any]
    target: dict[str, Any] = field(default_factory=dict)
    steps: list[StepResult] = field(default_factory=list)
    next_step: int = 0
    dry_run: bool = False
    manual: bool = False
    evidence_prefix: str = ""
    # who asked for the case, as AWS verified it (a role ARN, a Security Hub custom action's ARN, or the
    # AWS service of an automatic run), and through what ("front-door", "custom-action:<arn>", "aws.guardduty")
    requested_by: str | None = None
    requested_via: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)  # approvals, denials, undos, duplicates
    # {"gate": "step:<id>" | "rate-limit", "step": id, "index": n, "reason": .., "deadline": epoch, "separate": bool}
    awaiting: dict[str, Any] | None = None
    duplicates: int = 0
    updated_at: str = ""
    # the earlier case on the same dedup key that this one follows (it was closed when this finding came)
    follows: str | None = None
    # new findings on the same key that came while this case was open ({"event_id", "finding", "severity", "at"})
    attached_findings: list[dict[str, Any]] = field(default_factory=list)
    # the mutating step being applied ({"step", "before", "undo"}), checkpointed just before its change
    inflight: dict[str, Any] | None = None
    # the latest `parry undo` request carried out by the runner (see parry.engine.undo): {"id", "by", "reason",
    # "step", "partial", "at", "state", ...}; "pending" until the runner has carried it out
    undo_request: dict[str, Any] | None = None
    # what the call that returned this object came to (a duplicate, continue later, ...); never stored
    outcome: Outcome = Outcome.RAN
    # the status as last read from or written to the store: the from-state of the next save; never stored
    stored_status: str | None = field(default=None, repr=False, compare=False)

    @property
    def duplicate(self) -> bool:
        return self.outcome is Outcome.DUPLICATE

    @property
    def attached(self) -> bool:
        return self.outcome is Outcome.ATTACHED

    @property
    def continue_later(self) -> bool:
        return self.outcome is Outcome.CONTINUE_LATER

    @property
    def blocked(self) -> bool:
        return self.outcome is Outcome.BLOCKED

    def as_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "playbook": self.playbook,
            "playbook_sha256": self.playbook_sha256,
            "status": self.status,
            "opened_at": self.opened_at,
            "updated_at": self.updated_at,
            "account": self.account,
            "region": self.region,
            "dedup": self.dedup,
            "target": self.target,
            "dry_run": self.dry_run,
            "manual": self.manual,
            "evidence_prefix": self.evidence_prefix,
            "requested_by": self.requested_by,
            "requested_via": self.requested_via,
            "awaiting": self.awaiting,
            "duplicates": self.duplicates,
            "duplicate": self.duplicate,
            "attached": self.attached,
            "outcome": self.outcome.value,
            "follows": self.follows,
            "attached_findings": self.attached_findings,
            "undo_request": self.undo_request,
            "history": self.history,
            "steps": [s.as_dict() for s in self.steps],
            "event": self.event,
        }

    @property
    def opened_datetime(self) -> datetime:
        return datetime.fromisoformat(self.opened_at)
