"""The case: what Parry records of one run of a playbook on one event, its statuses and its id."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from parry.store.step_result import StepResult

# case statuses
RUNNING = "RUNNING"
AWAITING_APPROVAL = "AWAITING_APPROVAL"
SUCCEEDED = "SUCCEEDED"
COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS"
FAILED = "FAILED"
DRY_RUN = "DRY_RUN"
DENIED = "DENIED"
EXPIRED = "CLOSED_UNAPPROVED"
UNDONE = "UNDONE"
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
    # the mutating step being applied ({"step", "before", "undo"}), checkpointed just before its change
    inflight: dict[str, Any] | None = None
    # the latest `parry undo` request carried out by the runner (see parry.engine.undo): {"id", "by", "reason",
    # "step", "partial", "at", "state", ...}; "pending" until the runner has carried it out
    undo_request: dict[str, Any] | None = None
    # set on the object returned for a redelivery; never stored
    duplicate: bool = False
    # set on the object returned by a run that stopped near its deadline; never stored
    continue_later: bool = False
    # set on the object returned by a run that stopped at a step it had no credentials for; never stored
    blocked: bool = False

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
            "undo_request": self.undo_request,
            "history": self.history,
            "steps": [s.as_dict() for s in self.steps],
            "event": self.event,
        }

    @property
    def opened_datetime(self) -> datetime:
        return datetime.fromisoformat(self.opened_at)
