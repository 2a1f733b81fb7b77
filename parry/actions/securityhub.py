"""Security Hub: record on the finding itself what Parry did (workflow status and a note).

Runs in the security account even for a case in a member account: Security Hub's administrator
account sees and may update its members' findings (a member may update only its own, and only in
its own region), and that is where the findings are aggregated and the analysts read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, Permission
from parry.actions.registry import register
from parry.aws.arns import guardduty_product_arn, partition
from parry.errors import ActionError, ResourceNotFound

HUB_ARN = "arn:{partition}:securityhub:{region}:{account}:hub/default"
WORKFLOW = ("NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED")
NOTE_LIMIT = 512  # BatchUpdateFindings refuses longer notes


@dataclass(frozen=True)
class FindingParams(ActionParams):
    finding_id: str = field(metadata={"doc": "the ASFF finding Id (for GuardDuty: the finding ARN)"})
    product_arn: str | None = field(
        default=None, metadata={"doc": "the finding's ProductArn; default: GuardDuty's, for a GuardDuty finding ARN"}
    )
    status: str = field(default="NOTIFIED", metadata={"doc": "workflow status: NEW, NOTIFIED, RESOLVED or SUPPRESSED"})
    note: str | None = field(default=None, metadata={"doc": "note text; default: the playbook and case id"})


def product_arn(ctx: ActionContext, params: FindingParams) -> str:
    if params.product_arn:
        return params.product_arn
    if ":guardduty:" in params.finding_id:
        # the product of the finding's own region: GuardDuty's findings keep it in Security Hub, in that
        # region and in an aggregation region alike (arn:PARTITION:guardduty:REGION:ACCOUNT:detector/...)
        parts = params.finding_id.split(":")
        region = parts[3] if len(parts) > 3 and parts[3] else ctx.region
        return guardduty_product_arn(partition(region), region)
    raise ActionError(f"securityhub.update_finding: product_arn is required for finding {params.finding_id}")


def note_text(ctx: ActionContext, params: FindingParams) -> str:
    return (params.note or f"Parry playbook {ctx.playbook}, case {ctx.case_id}")[:NOTE_LIMIT]


@register
class UpdateFinding(Action[FindingParams]):
    """Set a Security Hub finding's workflow status and add a note saying which case handled it.

    ```yaml
    - id: mark-finding
      action: securityhub.update_finding
      on_error: continue
      with: {finding_id: "${target.finding_arn}", status: NOTIFIED}
    ```
    """

    name = "securityhub.update_finding"
    Params = FindingParams
    mutating = True
    summary = "Set Security Hub finding {finding_id} to {status}, with a note"
    undo = "securityhub.update_finding"
    permissions = (
        Permission(("securityhub:GetFindings", "securityhub:BatchUpdateFindings"), (HUB_ARN,), security_account=True),
    )

    def _identifier(self, ctx: ActionContext, params: FindingParams) -> dict[str, str]:
        return {"Id": params.finding_id, "ProductArn": product_arn(ctx, params)}

    def observe(self, ctx: ActionContext, params: FindingParams) -> Observation:
        if params.status not in WORKFLOW:
            raise ActionError(f"securityhub.update_finding: status must be one of {', '.join(WORKFLOW)}")
        ident = self._identifier(ctx, params)
        filters = {k: [{"Value": v, "Comparison": "EQUALS"}] for k, v in ident.items()}
        findings = ctx.client("securityhub").get_findings(Filters=filters)["Findings"]
        if not findings:
            raise ResourceNotFound(f"Security Hub finding {params.finding_id} does not exist")
        finding = findings[0]
        state = {
            "finding_id": params.finding_id,
            "workflow_status": finding.get("Workflow", {}).get("Status"),
            "note": finding.get("Note", {}).get("Text"),
        }
        done = state["workflow_status"] == params.status and state["note"] == note_text(ctx, params)
        return Observation(state=state, arn=params.finding_id, done=done)

    def _request(self, ctx: ActionContext, params: FindingParams) -> dict[str, Any]:
        return {
            "FindingIdentifiers": [self._identifier(ctx, params)],
            "Workflow": {"Status": params.status},
            "Note": {"Text": note_text(ctx, params), "UpdatedBy": "parry"},
        }

    def calls(self, ctx: ActionContext, params: FindingParams, seen: Observation) -> list[ApiCall]:
        return [ApiCall("securityhub:BatchUpdateFindings", self._request(ctx, params))]

    def apply(self, ctx: ActionContext, params: FindingParams, seen: Observation) -> dict[str, Any]:
        resp = ctx.client("securityhub").batch_update_findings(**self._request(ctx, params))
        failed = resp.get("UnprocessedFindings") or []
        if failed:
            raise ActionError(f"Security Hub did not update {params.finding_id}: {failed[0].get('ErrorMessage')}")
        return {}

    def undo_params(self, params: FindingParams, seen: Observation) -> dict[str, Any]:
        previous = seen.state["workflow_status"] or "NEW"
        return {
            "finding_id": params.finding_id,
            "product_arn": params.product_arn,
            "status": previous,
            "note": f"Parry undo: workflow status set back to {previous}",
        }
