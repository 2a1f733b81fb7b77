"""Running and planning one action, with the guarantees every action gets from the engine.

`execute` makes every action idempotent (a resource already in the end state is a recorded no-op),
refuses protected resources before any change, records before/after state, and checks a change's
post-condition on the after-state (NOT_CONTAINED) and a capture's completeness (PARTIAL). `plan` does the
same reads and lists the calls `execute` would make, without making them.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, P
from parry.aws.errors import describe_error
from parry.engine.guardrails import protection_reason
from parry.errors import ActionError, ProtectedResource
from parry.store.step_result import (
    FAILED,
    NOOP,
    NOT_CONTAINED,
    PARTIAL,
    PLANNED,
    REFUSED,
    SUCCEEDED,
    StepResult,
)


def _protected(action: Action[P], ctx: ActionContext, arn: str | None, tags: dict[str, str]) -> None:
    if not action.mutating:
        return
    reason = protection_reason(arn, tags, ctx.protected_arns)
    if reason:
        raise ProtectedResource(f"refused: {reason}")


def plan(action: Action[P], ctx: ActionContext, params: P) -> tuple[str, list[ApiCall], dict[str, Any]]:
    """(what would happen, the calls it would make, the state seen); read-only."""
    seen = action.observe(ctx, params)
    reason = protection_reason(seen.arn, seen.tags, ctx.protected_arns)
    if action.mutating and reason:
        return f"would refuse: {reason}", [], seen.state
    if seen.done:
        return "no-op: already in the desired state", [], seen.state
    return action.describe(params), action.calls(ctx, params, seen), seen.state


def prepare(action: Action[P], ctx: ActionContext, params: P) -> tuple[Observation, dict[str, Any]] | None:
    """(what `execute` would observe, the in-flight record of the change it would make: before-state and
    undo) for a change to be checkpointed before its step starts, as the claim of a case does for its
    first; None when the step would change nothing (done, protected, not a change) or its read fails,
    which `execute` then records as it always does."""
    if not action.mutating:
        return None
    try:
        seen = action.observe(ctx, params)
    except Exception:  # the step reads again and records the failure
        return None
    if seen.done or protection_reason(seen.arn, seen.tags, ctx.protected_arns):
        return None
    undo = {"action": action.undo, "params": action.undo_params(params, seen)} if action.undo else None
    return seen, {"before": seen.state, "undo": undo}


def execute(
    action: Action[P],
    ctx: ActionContext,
    params: P,
    *,
    dry_run: bool = False,
    before_apply: Callable[[StepResult], None] | None = None,
    after_apply: Callable[[], None] | None = None,
    seen: Observation | None = None,
) -> StepResult:
    """Observe, check, apply, observe again and check the post-condition; never raises for an action's own failure.

    `before_apply` gets the result (before-state and undo filled in) just before the change is
    made, so the engine can checkpoint it: a crash between apply and the step's checkpoint must
    not lose what the change replaced, nor its undo. `after_apply` is called once the change is
    made, before the post-condition's read. `seen`: what `prepare` observed (not read again).
    """
    result = StepResult(
        step_id=ctx.step_id,
        action=action.name,
        status=FAILED,
        summary=action.describe(params),
        params=jsonable(params),
        started_at=time.time(),
    )
    t0 = time.perf_counter()
    try:
        seen = action.observe(ctx, params) if seen is None else seen
        result.before = seen.state
        _protected(action, ctx, seen.arn, seen.tags)
        if seen.done:
            result.status = NOOP
            result.summary = f"{result.summary}: already done"
            result.output = action.noop_output(ctx, params, seen) or {}
            result.unmet = [] if action.mutating else action.missing(result.output)
            if result.unmet:  # an earlier run stored a partial capture: it stays partial
                result.status, result.error = PARTIAL, "partial: " + "; ".join(result.unmet)
        elif dry_run and action.mutating:
            result.status = PLANNED
            result.calls = [str(c) for c in action.calls(ctx, params, seen)]
        else:
            result.calls = [str(c) for c in action.calls(ctx, params, seen)]
            if action.mutating and action.undo:
                result.undo = {"action": action.undo, "params": action.undo_params(params, seen)}
            if before_apply is not None and action.mutating:
                before_apply(result)
            result.output = action.apply(ctx, params, seen) or {}
            if after_apply is not None:
                after_apply()
            if action.mutating:  # the one read after the change: the after-state and the post-condition
                after = action.observe(ctx, params)
                result.after = after.state
                result.unmet = action.unmet(ctx, params, after)
            else:
                result.unmet = action.missing(result.output)
            if not result.unmet:
                result.status = SUCCEEDED
            elif action.mutating:
                result.status, result.error = NOT_CONTAINED, "not contained: " + "; ".join(result.unmet)
            else:
                result.status, result.error = PARTIAL, "partial: " + "; ".join(result.unmet)
    except ProtectedResource as exc:
        result.status, result.error = REFUSED, str(exc)
    except ActionError as exc:
        result.error = str(exc)
    except Exception as exc:  # an AWS error: record it by its code, never a traceback in the case
        result.error = describe_error(exc)
    result.duration_ms = int((time.perf_counter() - t0) * 1000)
    return result


def jsonable(params: ActionParams) -> dict[str, Any]:
    """The parameters as the case and its audit log record them."""
    return dataclasses.asdict(params)
