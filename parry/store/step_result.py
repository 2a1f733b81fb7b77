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
NOT_CONTAINED = "not_contained"  # applied, but the fresh observe shows its post-condition does not hold
PARTIAL = "partial"  # a capture stored some of what it lists, not all (StepResult.unmet names the rest)

# a step that stops the case under `on_error: abort`; a partial capture does not stop containment
ABORTING = (FAILED, REFUSED, NOT_CONTAINED)
# a step that keeps its case from SUCCEEDED
SHORT = (*ABORTING, PARTIAL)
# a step that changed something, so the case's undo puts it back
CHANGED = (SUCCEEDED, NOT_CONTAINED)


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
    # what is still open after the change (NOT_CONTAINED) or what a capture could not take (PARTIAL)
    unmet: list[str] = field(default_factory=list)
    started_at: float = 0.0
    duration_ms: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepResult:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
