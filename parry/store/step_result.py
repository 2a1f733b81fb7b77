"""What one step of a case did, as the case records it: `StepResult` and the step statuses.

The engine makes these (parry.engine.steps); the case store keeps them with the case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SUCCEEDED = "succeeded"
NOOP = "noop"  # already in the end state: nothing to do, recorded as such
SKIPPED = "skipped"  # `when` was false
REFUSED = "refused"  # protected resource
FAILED = "failed"
PLANNED = "planned"  # dry-run: recorded what would have been done
BLOCKED = "blocked"  # not run: no credentials for the case's account; the case waits at this step


@dataclass
class StepResult:
    step_id: str
    action: str
    status: str
    summary: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    calls: list[str] = field(default_factory=list)
    output: dict[str, Any] = field(default_factory=dict)
    undo: dict[str, Any] | None = None  # {"action": name, "params": {...}} when undoable
    keep_on_undo: bool = False  # the playbook says `undo: false`: `parry undo` leaves it on purpose
    error: str | None = None
    started_at: float = 0.0
    duration_ms: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepResult:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
