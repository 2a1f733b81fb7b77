"""The read-only plan of a playbook on an event: what each step would do to the resources as they are.

`parry plan` shows it before anything runs. It makes read-only API calls only, opens no case and
writes no evidence; a step that cannot be planned says why instead of stopping the plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from parry.actions.base import Observation
from parry.aws.errors import describe_error
from parry.engine import intake
from parry.engine import steps as st
from parry.engine.variables import step_action, when_false
from parry.errors import ParryError
from parry.routing.events import resource_account
from parry.store.model import Case
from parry.store.step_result import StepResult

if TYPE_CHECKING:
    from parry.engine.run import Engine
    from parry.playbooks.model import Playbook


@dataclass
class StepPlan:
    step_id: str
    action: str
    summary: str
    will_run: bool
    calls: list[str] = field(default_factory=list)
    state: dict[str, Any] | None = None
    approval: bool = False
    error: str | None = None


@dataclass
class Plan:
    playbook: str
    target: dict[str, Any]
    dedup: str
    dry_run_reason: str | None
    steps: list[StepPlan]


def read_only_plan(engine: Engine, playbook: Playbook, event: dict[str, Any], *, manual: bool = False) -> Plan:
    """What each step would do given the resources' current state, as `engine` would run it."""
    event = intake.checked_event(playbook, engine.authentic(event), manual=manual)
    target, dedup = intake.resolve(playbook, event)
    case = Case(
        case_id="(plan)",
        playbook=playbook.name,
        playbook_sha256=playbook.sha256,
        status="PLAN",
        opened_at=datetime.fromtimestamp(engine.clock(), UTC).isoformat(),
        account=resource_account(event) or "",
        region=engine.acting_region(event),
        dedup=dedup,
        event=event,
        target=target,
    )
    reason = "playbook mode is dry-run" if playbook.mode == "dry-run" else None
    planned = []
    for step in playbook.steps:
        if when_false(step, case):
            planned.append(StepPlan(step.id, step.action, f"skipped: when `{step.when}` is false", False))
            continue
        try:
            cls, params = step_action(step, case)
            ctx = engine.action_context(case, step.id, None, engine.clients_for(case, cls))
            summary, calls, state = st.plan(cls(), ctx, params)
            planned.append(StepPlan(step.id, step.action, summary, True, [str(c) for c in calls], state, step.approval))
            output = cls().planned_output(ctx, params, Observation(state=state))
            if output is not None:  # e.g. posture.recheck: the later steps' `when` reads what it found
                case.steps.append(StepResult(step.id, step.action, "planned", output=output))
        except ParryError as exc:
            planned.append(StepPlan(step.id, step.action, "cannot plan", False, error=str(exc)))
        except Exception as exc:  # an AWS error while reading
            planned.append(StepPlan(step.id, step.action, "cannot plan", False, error=describe_error(exc)))
    return Plan(playbook.name, target, dedup, reason, planned)
