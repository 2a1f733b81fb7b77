"""CloudTrail: put the audit trail back when someone turned it off."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parry.actions._common import tag_dict
from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, Permission
from parry.actions.registry import register
from parry.errors import ResourceNotFound

TRAIL_ARN = "arn:{partition}:cloudtrail:{region}:{account}:trail/*"


@dataclass(frozen=True)
class TrailParams(ActionParams):
    trail: str = field(metadata={"doc": "trail name or ARN (the event's requestParameters.name)"})


@register
class StartLogging(Action[TrailParams]):
    """Restart logging on a trail that was stopped.

    ```yaml
    - id: restart-trail
      action: cloudtrail.start_logging
      with: {trail: "${target.trail}"}
    ```
    """

    name = "cloudtrail.start_logging"
    Params = TrailParams
    mutating = True
    summary = "Start logging on CloudTrail trail {trail}"
    no_undo_reason = (
        "none needed: it only restores the account's audit log; stopping a trail again would hide "
        "activity, which no incident response should do"
    )
    permissions = (
        Permission(
            ("cloudtrail:GetTrail", "cloudtrail:GetTrailStatus", "cloudtrail:ListTags", "cloudtrail:StartLogging"),
            (TRAIL_ARN,),
        ),
    )

    def observe(self, ctx: ActionContext, params: TrailParams) -> Observation:
        ct = ctx.client("cloudtrail")
        try:
            trail = ct.get_trail(Name=params.trail)["Trail"]
        except ct.exceptions.TrailNotFoundException as exc:
            raise ResourceNotFound(f"CloudTrail trail {params.trail} does not exist") from exc
        status = ct.get_trail_status(Name=trail["TrailARN"])
        tags = ct.list_tags(ResourceIdList=[trail["TrailARN"]])["ResourceTagList"]
        state = {
            "trail": trail["Name"],
            "is_logging": bool(status.get("IsLogging")),
            "latest_delivery_error": status.get("LatestDeliveryError"),
        }
        return Observation(
            state=state,
            arn=trail["TrailARN"],
            tags=tag_dict(tags[0].get("TagsList") if tags else []),
            done=state["is_logging"],
        )

    def calls(self, ctx: ActionContext, params: TrailParams, seen: Observation) -> list[ApiCall]:
        return [ApiCall("cloudtrail:StartLogging", {"Name": seen.arn})]

    def apply(self, ctx: ActionContext, params: TrailParams, seen: Observation) -> dict[str, Any]:
        ctx.client("cloudtrail").start_logging(Name=seen.arn)
        return {}
