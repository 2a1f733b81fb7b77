"""The case lifecycle: its states and the one table of transitions every write is checked against.

A case moves only along `TRANSITIONS` (from, event → to). `CaseStore.save` refuses any other
change and writes conditionally on the from-state it read, so two runs, a run and a person, or a
stale object can never move a case along a path the table does not have, nor undo each other's
move. docs/architecture.md shows the diagram `mermaid()` draws from this table.
"""

from __future__ import annotations

from enum import StrEnum

from parry.errors import ParryError


class CaseState(StrEnum):
    RUNNING = "RUNNING"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    SUCCEEDED = "SUCCEEDED"
    COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS"
    FAILED = "FAILED"
    DRY_RUN = "DRY_RUN"
    DENIED = "DENIED"
    CLOSED_UNAPPROVED = "CLOSED_UNAPPROVED"
    UNDONE = "UNDONE"
    PARTIALLY_UNDONE = "PARTIALLY_UNDONE"


class Outcome(StrEnum):
    """What one call on a case came to, besides the case's state: the caller's answer to act on."""

    RAN = "ran"  # the case ran as far as it could
    DUPLICATE = "duplicate"  # a redelivery: nothing changed
    ATTACHED = "attached"  # a new finding recorded with the open case holding its key
    CONTINUE_LATER = "continue later"  # stopped near the Lambda deadline: the handler re-invokes
    BLOCKED = "blocked"  # stopped at a step Parry has no credentials for


OPEN = frozenset({CaseState.RUNNING, CaseState.AWAITING_APPROVAL})
# closed cases whose steps may have changed something: what `parry undo` can take back
UNDOABLE = frozenset(
    {
        CaseState.SUCCEEDED,
        CaseState.COMPLETED_WITH_ERRORS,
        CaseState.FAILED,
        CaseState.DENIED,
        CaseState.CLOSED_UNAPPROVED,
        CaseState.PARTIALLY_UNDONE,
    }
)

S = CaseState
TRANSITIONS: tuple[tuple[CaseState | None, str, CaseState], ...] = (
    (None, "open", S.RUNNING),
    (S.RUNNING, "checkpoint", S.RUNNING),
    (S.RUNNING, "needs approval", S.AWAITING_APPROVAL),
    (S.AWAITING_APPROVAL, "approve", S.RUNNING),
    (S.AWAITING_APPROVAL, "deny", S.DENIED),
    (S.AWAITING_APPROVAL, "expire", S.CLOSED_UNAPPROVED),
    # a decision whose audit record could not be sealed is taken back: the case waits at its gate again
    (S.DENIED, "decision not sealed", S.AWAITING_APPROVAL),
    (S.CLOSED_UNAPPROVED, "decision not sealed", S.AWAITING_APPROVAL),
    (S.RUNNING, "all steps ran", S.SUCCEEDED),
    (S.RUNNING, "all steps ran, some failed", S.COMPLETED_WITH_ERRORS),
    (S.RUNNING, "all steps planned (dry run)", S.DRY_RUN),
    (S.RUNNING, "a step failed with on_error: abort", S.FAILED),
    *((state, "undo every change", S.UNDONE) for state in sorted(UNDOABLE)),
    *((state, "undo some changes", S.PARTIALLY_UNDONE) for state in sorted(UNDOABLE)),
)
# a case records things without moving (a checkpoint, an undo request, a runner's refusal to go on)
RECORDS = frozenset(CaseState)

ALLOWED = frozenset((start, end) for start, _, end in TRANSITIONS) | frozenset((s, s) for s in RECORDS)


class IllegalTransition(ParryError):
    """A write that would move a case along no transition of the lifecycle: nothing was written."""


def check(case_id: str, start: str | None, end: str) -> None:
    """IllegalTransition unless the lifecycle has a way from `start` (None: a new case) to `end`."""
    try:
        pair = (CaseState(start) if start else None, CaseState(end))
    except ValueError as exc:
        raise IllegalTransition(f"case {case_id}: {exc}") from exc
    if pair not in ALLOWED:
        raise IllegalTransition(
            f"case {case_id} cannot go from {start or '(new)'} to {end}: the lifecycle has no such transition"
        )


def is_open(status: str) -> bool:
    return status in OPEN


def mermaid() -> str:
    """The lifecycle as a mermaid state diagram (docs/architecture.md embeds it)."""
    lines = ["stateDiagram-v2"]
    for start, event, end in TRANSITIONS:
        if start == end:
            continue
        lines.append(f"    {start.value if start else '[*]'} --> {end.value}: {event}")
    return "\n".join(lines)
