"""What a step's expressions see in its case, and the step's typed parameters resolved from them.

A playbook's `when` conditions and `${...}` values are evaluated against the event, its finding's
typed view (`finding`: parry.routing.finding_view), the target values, the case and the results of the steps run so far; the plan and the run resolve them alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parry.actions import registry
from parry.errors import ActionError, ExpressionError
from parry.routing.expressions import interpolate, search, truthy
from parry.routing.finding_view import finding_view

if TYPE_CHECKING:
    from parry.actions.base import Action, ActionParams
    from parry.playbooks.model import Step
    from parry.store.model import Case


def case_variables(case: Case) -> dict[str, Any]:
    view = finding_view(case.event)
    return {
        "event": case.event,
        "finding": view.as_dict() if view else None,
        "target": case.target,
        "case": {"id": case.case_id, "playbook": case.playbook, "account": case.account, "region": case.region},
        "steps": {
            s.step_id: {"status": s.status, "output": s.output, "before": s.before, "after": s.after}
            for s in case.steps
        },
    }


def when_false(step: Step, case: Case) -> bool:
    """Whether the step has a `when` condition and it is false for the case: the step is skipped."""
    return bool(step.when and not truthy(search(step.when, case_variables(case))))


def step_action(step: Step, case: Case) -> tuple[type[Action[ActionParams]], ActionParams]:
    """The step's action and its parameters; ActionError naming the step or the bad parameter."""
    cls = registry.get(step.action)
    try:
        values = interpolate(step.with_, case_variables(case))
    except ExpressionError as exc:
        raise ActionError(f"step {step.id}: {exc}") from exc
    return cls, registry.build_params(cls, values)
