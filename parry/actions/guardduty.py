"""GuardDuty: archive a finding once a case has handled it (and unarchive it on undo).

Only the GuardDuty administrator account may archive findings, members' findings included, so
these actions run in the security account (Parry's home, the delegated administrator) even for a
case in a member account: `detector_id` is then the administrator's detector.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, Permission
from parry.actions.registry import register
from parry.errors import ResourceNotFound

DETECTOR_ARN = "arn:{partition}:guardduty:{region}:{account}:detector/*"


@dataclass(frozen=True)
class GuardDutyFindingParams(ActionParams):
    detector_id: str = field(metadata={"doc": "GuardDuty detector id (the event's detail.service.detectorId)"})
    finding_id: str = field(metadata={"doc": "GuardDuty finding id (the event's detail.id)"})


class _SetArchived(Action[GuardDutyFindingParams]):
    Params = GuardDutyFindingParams
    mutating = True
    archived: bool  # the end state
    operation: str

    def observe(self, ctx: ActionContext, params: GuardDutyFindingParams) -> Observation:
        gd = ctx.client("guardduty")
        try:
            findings = gd.get_findings(DetectorId=params.detector_id, FindingIds=[params.finding_id])["Findings"]
        except gd.exceptions.BadRequestException as exc:
            raise ResourceNotFound(
                f"GuardDuty detector {params.detector_id} or finding {params.finding_id} does not exist"
            ) from exc
        if not findings:
            raise ResourceNotFound(
                f"GuardDuty finding {params.finding_id} does not exist in detector {params.detector_id}"
            )
        finding = findings[0]
        archived = bool(finding.get("Service", {}).get("Archived"))
        state = {"finding_id": params.finding_id, "type": finding.get("Type"), "archived": archived}
        return Observation(state=state, arn=finding.get("Arn"), done=archived == self.archived)

    def calls(self, ctx: ActionContext, params: GuardDutyFindingParams, seen: Observation) -> list[ApiCall]:
        ids = {"DetectorId": params.detector_id, "FindingIds": [params.finding_id]}
        return [ApiCall(f"guardduty:{self.operation}", ids)]

    def apply(self, ctx: ActionContext, params: GuardDutyFindingParams, seen: Observation) -> dict[str, Any]:
        gd = ctx.client("guardduty")
        call = gd.archive_findings if self.archived else gd.unarchive_findings
        call(DetectorId=params.detector_id, FindingIds=[params.finding_id])
        return {}


@register
class ArchiveFinding(_SetArchived):
    """Archive a GuardDuty finding that a case has handled.

    Only the GuardDuty administrator account (or a standalone account) may archive findings.

    ```yaml
    - id: archive-finding
      action: guardduty.archive_finding
      on_error: continue
      with: {detector_id: "${event.detail.service.detectorId}", finding_id: "${target.finding}"}
    ```
    """

    name = "guardduty.archive_finding"
    summary = "Archive GuardDuty finding {finding_id}"
    archived = True
    operation = "ArchiveFindings"
    undo = "guardduty.unarchive_finding"
    permissions = (
        Permission(("guardduty:GetFindings", "guardduty:ArchiveFindings"), (DETECTOR_ARN,), security_account=True),
    )


@register
class UnarchiveFinding(_SetArchived):
    """Unarchive a GuardDuty finding: the undo of `guardduty.archive_finding`.

    ```yaml
    - id: unarchive-finding
      action: guardduty.unarchive_finding
      with: {detector_id: 12abc34d567e8fa901bc2d34e56789f0, finding_id: 60baffd3f9042e38640f2300d5c5a631}
    ```
    """

    name = "guardduty.unarchive_finding"
    summary = "Unarchive GuardDuty finding {finding_id}"
    archived = False
    operation = "UnarchiveFindings"
    undo = "guardduty.archive_finding"
    permissions = (
        Permission(("guardduty:GetFindings", "guardduty:UnarchiveFindings"), (DETECTOR_ARN,), security_account=True),
    )
