"""One step acting on resources in several accounts and regions (an attack sequence's).

A case has one account and one region; `sequence.contain` acts on each resource of its finding
in that resource's own. The engine hands it two things through the action context: the context
for a resource elsewhere (`context_in`: the member role of that account, clients in that region,
refused by name outside PARRY_REGIONS), and its own run of one action there (`run_one`: the same
idempotence, protection check, before/after state and post-condition as any step).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from parry.actions.base import Action, ActionContext, ActionParams
from parry.engine import steps as st
from parry.errors import ActionError
from parry.routing.finding_view import GLOBAL

if TYPE_CHECKING:
    from parry.engine.run import Engine
    from parry.evidence.writer import CaseEvidence
    from parry.store.model import Case


def context_in(
    engine: Engine,
    case: Case,
    step_id: str,
    evidence: CaseEvidence | None,
    account: str | None,
    region: str | None,
    part: str,
) -> ActionContext:
    """The context of part `part` of step `step_id`, acting in `account` and `region` (IAM's `global`: the case's).

    ActionError naming the region when Parry does not act there; MemberAccountUnavailable when it
    has no role in the account. Never the case's own clients for another place.
    """
    place = case.region if region in (None, GLOBAL) else region
    allowed = engine.settings.regions or (engine.aws.region,)
    if place not in allowed:
        raise ActionError(
            f"{place} is outside the regions Parry acts in ({', '.join(allowed)}): nothing was done to it. "
            "Add the region to the CDK context parry:regions (PARRY_REGIONS on the runners) to act there"
        )
    owner = account or case.account
    home = engine.caller_account()
    base = engine.aws if owner == home else engine.members.factory(owner, case_id=case.case_id, home_account=home)
    ctx = engine.action_context(case, f"{step_id}.{part}", evidence, base.in_region(place))
    return dataclasses.replace(ctx, account=owner)


def run_one(action: Action[Any], ctx: ActionContext, params: ActionParams) -> dict[str, Any]:
    """One action in `ctx`'s place, with every guarantee a step gets; its result as the case records it."""
    return st.execute(action, ctx, params).as_dict()
