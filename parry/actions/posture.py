"""A posture check run again on one function, live, before a response changes anything.

A sweep result is neither a service's event nor a person's decision: a response playbook's first
step re-reads the function (parry.posture.recheck) and the later steps run only while the check
still fails (`when: steps.recheck.output.still_failing`). Read-only; its output names variables,
policies and statements, never a value read from the function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, Permission
from parry.actions.lambda_ import FUNCTION_ARN, MAPPINGS_LIST
from parry.actions.registry import register
from parry.errors import ActionError, ResourceNotFound
from parry.posture.recheck import recheck
from parry.posture.results import CHECKS

CHECK_IDS = tuple(check.check_id for check in CHECKS)
ROLE_ARN = "arn:{partition}:iam::{account}:role/*"
POLICY_ARN = "arn:{partition}:iam::*:policy/*"  # an execution role's managed policies may be AWS's own


@dataclass(frozen=True)
class RecheckParams(ActionParams):
    function_name: str = field(metadata={"doc": "Lambda function name or ARN"})
    check_id: str = field(metadata={"doc": "the posture check to run again (PARRY-LAMBDA-1 ...)"})

    def __post_init__(self) -> None:
        if self.check_id not in CHECK_IDS:
            raise ActionError(f"posture.recheck: {self.check_id!r} is not a posture check ({', '.join(CHECK_IDS)})")


@register
class Recheck(Action[RecheckParams]):
    """Run one posture check again on a function as Lambda and IAM describe it now.

    Its output says whether the problem is still there (`still_failing`), what the check found
    (`findings`: names only) and the advice to pass on (`advice`).

    ```yaml
    - id: recheck
      action: posture.recheck
      with: {function_name: "${target.function}", check_id: PARRY-LAMBDA-1}
    ```
    """

    name = "posture.recheck"
    Params = RecheckParams
    mutating = False
    summary = "Check Lambda function {function_name} for {check_id} again, live"
    no_undo_reason = "it only reads"
    permissions = (
        Permission(
            (
                "lambda:GetFunctionConfiguration",
                "lambda:GetPolicy",
                "lambda:GetFunctionUrlConfig",
                "lambda:ListAliases",
                "lambda:GetFunctionEventInvokeConfig",
            ),
            (FUNCTION_ARN,),
        ),
        MAPPINGS_LIST,
        Permission(("iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:GetRolePolicy"), (ROLE_ARN,)),
        Permission(("iam:GetPolicy", "iam:GetPolicyVersion"), (POLICY_ARN,)),
    )

    def observe(self, ctx: ActionContext, params: RecheckParams) -> Observation:
        from botocore.exceptions import ClientError

        from parry.aws.errors import error_code

        try:
            found = recheck(ctx.aws, params.function_name, ctx.account, ctx.region)
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                raise ResourceNotFound(f"Lambda function {params.function_name} does not exist") from exc
            raise
        results = [x.as_dict() for x in found if x.check_id == params.check_id]
        return Observation(
            state={"function_name": params.function_name, "check_id": params.check_id, "findings": results}
        )

    def calls(self, ctx: ActionContext, params: RecheckParams, seen: Observation) -> list[ApiCall]:
        return []

    def apply(self, ctx: ActionContext, params: RecheckParams, seen: Observation) -> dict[str, Any]:
        findings = seen.state["findings"]
        if not findings:
            return {
                "still_failing": False,
                "check_id": params.check_id,
                "findings": [],
                "advice": f"{params.check_id} no longer fails on {params.function_name}: nothing to change",
            }
        first = findings[0]
        return {
            "still_failing": True,
            "check_id": params.check_id,
            "findings": findings,
            "advice": f"{first['title']}: {_named(first['detail'])}. {first['remediation']}",
        }

    def planned_output(self, ctx: ActionContext, params: RecheckParams, seen: Observation) -> dict[str, Any]:
        return self.apply(ctx, params, seen)  # the verdict is read from the observation, nothing more


def _named(detail: dict[str, Any]) -> str:
    """The names a result carries (variables, statements, policies, URLs), in one line."""
    parts = []
    for key, value in detail.items():
        if isinstance(value, list):
            value = ", ".join(
                item["name"] if isinstance(item, dict) and "name" in item else str(item) for item in value
            )
        parts.append(f"{key}: {value}")
    return "; ".join(parts)
