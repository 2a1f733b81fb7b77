"""The event a verified `start` request runs its playbook on, built by the runner, never taken from a caller.

On a finding id: the finding as its service holds it (GuardDuty read back by the administrator
account, any other finding from Security Hub), in the event that service sends. On a target: the
request's named values for a playbook whose target reads them from the request (`detail.<name>`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from parry.errors import EventError, FindingUnavailable
from parry.routing.custom_actions import GUARDDUTY_FINDING, GUARDDUTY_PRODUCT, guardduty_finding_event
from parry.routing.events import securityhub_event, stable_id

if TYPE_CHECKING:
    from parry.aws.clients import ClientFactory
    from parry.playbooks.model import Playbook
    from parry.runtime.control_requests import ControlRequest

TARGET_SOURCE = "parry"
TARGET_DETAIL_TYPE = "Parry Run Request"  # what manual-quarantine's trigger names; never put on a bus
RESERVED_TARGET_NAMES = frozenset({"playbook", "requested_by"})
GUARDDUTY_ID = re.compile(r"[0-9a-f]{32}")  # the shape of GuardDuty's finding ids


def finding_event(aws: ClientFactory, finding_id: str) -> dict[str, Any]:
    """The service's event for a finding: a GuardDuty finding ARN or id, or a Security Hub finding Id."""
    if GUARDDUTY_FINDING.fullmatch(finding_id):
        return guardduty_finding_event(aws, finding_id)
    if GUARDDUTY_ID.fullmatch(finding_id):  # a bare GuardDuty id: no need for Security Hub to be enabled
        return guardduty_finding_event(aws, _guardduty_arn(aws, finding_id))
    found = aws.client("securityhub").get_findings(Filters={"Id": [{"Value": finding_id, "Comparison": "EQUALS"}]})
    findings = found.get("Findings", [])
    if not findings:
        if finding_id.isalnum():
            return guardduty_finding_event(aws, _guardduty_arn(aws, finding_id))
        raise FindingUnavailable(f"finding {finding_id} is not known to Security Hub or GuardDuty")
    finding = findings[0]
    if GUARDDUTY_PRODUCT.fullmatch(str(finding.get("ProductArn", ""))):
        return guardduty_finding_event(aws, finding["Id"])
    return securityhub_event(finding, event_id=stable_id(f"{finding.get('ProductArn')}|{finding['Id']}"))


def _guardduty_arn(aws: ClientFactory, finding_id: str) -> str:
    """The ARN of a bare GuardDuty finding id, in Parry's own account and region (the administrator's)."""
    region = aws.region
    account = aws.client("sts").get_caller_identity()["Account"]
    detectors = aws.client("guardduty", region).list_detectors().get("DetectorIds", [])
    if not detectors:
        raise FindingUnavailable(f"GuardDuty finding {finding_id}: GuardDuty is not enabled in {region}")
    return f"arn:{aws.session.get_partition_for_region(region)}:guardduty:{region}:{account}:detector/{detectors[0]}/finding/{finding_id}"


def target_event(playbook: Playbook, request: ControlRequest, account: str, region: str) -> dict[str, Any]:
    """The event a target start runs on: the request's values, each one the playbook reads as `detail.<name>`."""
    target = request.target or {}
    if not target:
        raise EventError("a start on a target names at least one value (--target name=value)")
    for name in target:
        if name in RESERVED_TARGET_NAMES or playbook.target.get(name) != f"detail.{name}":
            raise EventError(f"playbook {playbook.name} does not start on a target named {name!r}")
    return {
        "version": "0",
        "id": stable_id(f"{request.playbook}|{request.nonce}"),
        "source": TARGET_SOURCE,
        "detail-type": TARGET_DETAIL_TYPE,
        "account": account,
        "region": region,
        "time": datetime.fromtimestamp(request.issued_at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "resources": [],
        "detail": {
            "reason": request.reason,
            **target,
            "playbook": request.playbook,
            "requested_by": request.requested_by,
        },
    }
