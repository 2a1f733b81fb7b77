"""Contain first: a new case's first change is the next call after its claim.

When the first step of a new case changes something, the engine reads that step's state before it
claims the case (read-only calls, as the step would make them), and the claim's transaction carries
the step's in-flight record (before-state and undo) with the case and its hourly counts: no
checkpoint of its own stands between the claim and the change. The case's opening evidence
(event.json, playbook.json, case_opened, step_started) is made and hashed meanwhile but held
(CaseEvidence.hold), sent all together as soon as the change is made, and landed before the step's
step_finished record and its checkpoint.

What each guarantee rests on then:
- the guardrails: the protection check is the read made here; a case past an hourly limit is claimed
  without the in-flight record and stops for approval before any step (CaseStore.claim);
- a crash after the change and before its opening is written: the table holds the case RUNNING at
  step 0 with its in-flight record; the redelivery resumes it (parry.engine.provenance accepts such a
  case, and runs it only on the delivery's own event, re-read from its service), writes the opening,
  finds the change made, and records it as this case's change with the before-state and undo it had;
- a redelivery of a case already claimed made only this step's reads before finding the claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from parry.engine import steps as st
from parry.engine.variables import step_action, when_false
from parry.errors import ParryError

if TYPE_CHECKING:
    from parry.actions.base import Action, ActionContext, Observation
    from parry.engine.run import Engine
    from parry.evidence.writer import CaseEvidence
    from parry.playbooks.model import Playbook
    from parry.store.model import Case


@dataclass(frozen=True)
class Ready:
    """The first step of a new case, read and about to change something: its claim carries `inflight`."""

    step_id: str
    action: Action[Any]
    ctx: ActionContext
    seen: Observation
    inflight: dict[str, Any]


def prepare(
    engine: Engine, case: Case, playbook: Playbook, evidence: CaseEvidence, reads: dict[tuple[str, ...], Any]
) -> Ready | None:
    """The case's first step ready to change something right after the claim; None when it would not
    (a dry run, an approval, a `when` that is false, nothing to change, a protected resource, no
    credentials, a read that failed): the step then runs as any other, and records why."""
    if case.dry_run or not playbook.steps or playbook.steps[0].approval:
        return None
    step = playbook.steps[0]
    try:
        if when_false(step, case):
            return None
        cls, params = step_action(step, case)
        aws = engine.clients_for(case, cls)
    except ParryError:
        return None
    ctx = engine.action_context(case, step.id, evidence, aws, reads=reads)
    action = cls()
    found = st.prepare(action, ctx, params)
    if found is None:
        return None
    seen, pending = found
    return Ready(step.id, action, ctx, seen, engine.inflight_seals.seal(case.case_id, {"step": step.id, **pending}))
