"""IAM Access Analyzer findings authenticated: re-read from the analyzer before Parry acts on them.

An `aws.access-analyzer` event names the analyzer that produced it (`resources[0]`) and the
finding: `detail.id` for external-access findings ("Access Analyzer Finding", read with
GetFinding), `detail.findingId` for unused-access ones and `detail.id` for internal-access ones
(read with GetFindingV2). Parry reads the finding with its own credentials from that analyzer, in
its region: an organization analyzer in Parry's account (the delegated administrator) or Parry's
own account analyzer. When the event names no analyzer, each active analyzer of the region is
asked. What the analyzer does not hold, or holds with another account, resource, principal or
action, is refused with FindingNotAuthentic; otherwise the playbook runs on the analyzer's copy.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from parry.errors import FindingNotAuthentic
from parry.routing.events import REGION
from parry.routing.reread import shown

if TYPE_CHECKING:
    from parry.aws.clients import ClientFactory

SOURCE = "aws.access-analyzer"
EXTERNAL_ACCESS = "Access Analyzer Finding"  # GetFinding; every other detail-type is a v2 finding
ANALYZER_ARN = re.compile(r"arn:aws[a-z-]*:access-analyzer:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):analyzer/[\w.-]+")
FINDING_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
# what a playbook acts on, compared between the delivered finding and the analyzer's (the status is
# not: a finding resolved since is simply the analyzer's copy, which no ACTIVE trigger matches)
COMPARED = ("accountId", "region", "resource", "resourceType")
COMPARED_EXTERNAL = (*COMPARED, "principal", "action", "isPublic")
# an analyzer that does not hold the finding (or is of another kind: ValidationException): ask the next
UNAVAILABLE = ("ResourceNotFoundException", "ValidationException")


def authentic_access_analyzer_event(event: dict[str, Any], aws: ClientFactory) -> dict[str, Any]:
    """`event` with its finding as the analyzer holds it; FindingNotAuthentic naming what is wrong.

    A throttled or failing Access Analyzer raises its ClientError: a retry can succeed.
    """
    delivered = event.get("detail") or {}
    external = event.get("detail-type") == EXTERNAL_ACCESS
    finding_id = delivered.get("id") if external else delivered.get("findingId") or delivered.get("id")
    if not isinstance(finding_id, str) or not FINDING_ID.fullmatch(finding_id):
        raise FindingNotAuthentic("the Access Analyzer event names no finding id (detail.id or detail.findingId)")
    region = event.get("region")
    if not isinstance(region, str) or not REGION.fullmatch(region):
        raise FindingNotAuthentic(f"Access Analyzer finding {finding_id}: the event's region is not a region name")
    client = aws.client("accessanalyzer", region)
    held, analyzer = None, None
    for analyzer in _analyzers(event, client, region):
        held = _read(client, analyzer, finding_id, external, region)
        if held is not None:
            break
    if held is None:
        raise FindingNotAuthentic(
            f"Access Analyzer in {region} holds no finding {finding_id} (asked {analyzer or 'no analyzer'})"
        )
    differences = [
        f"{key} is {shown(delivered.get(key))} in the event, {shown(held.get(key))} in the analyzer"
        for key in (COMPARED_EXTERNAL if external else COMPARED)
        if key in delivered and delivered.get(key) != held.get(key)
    ]
    if differences:
        raise FindingNotAuthentic(
            f"Access Analyzer finding {finding_id} differs from what {analyzer} holds: {'; '.join(differences)}"
        )
    return {**event, "resources": [analyzer], "detail": held}


def _analyzers(event: dict[str, Any], client: Any, region: str) -> list[str]:
    """The analyzer the event names (it must be of the event's region), or every active one of the region."""
    resources = event.get("resources") or []
    if not isinstance(resources, list):
        raise FindingNotAuthentic("the Access Analyzer event's resources are not a list of ARNs")
    named = [r for r in resources if isinstance(r, str) and ANALYZER_ARN.fullmatch(r)]
    if named:
        found = ANALYZER_ARN.fullmatch(named[0])
        if found is None or found["region"] != region:
            raise FindingNotAuthentic(f"the event's analyzer {named[0][:200]} is not in the event's region {region}")
        return named[:1]
    listed = client.get_paginator("list_analyzers").paginate().build_full_result().get("analyzers", [])
    return [a["arn"] for a in listed if a.get("status") == "ACTIVE"]


def _read(client: Any, analyzer: str, finding_id: str, external: bool, region: str) -> dict[str, Any] | None:
    """The finding as `analyzer` holds it, in the form of its EventBridge event; None when it holds none."""
    from botocore.exceptions import ClientError

    from parry.aws.errors import refusal

    try:
        if external:
            answer = client.get_finding(analyzerArn=analyzer, id=finding_id)["finding"]
        else:
            answer = client.get_finding_v2(analyzerArn=analyzer, id=finding_id)
            answer = {k: v for k, v in answer.items() if k not in ("ResponseMetadata", "nextToken")}
    except ClientError as exc:
        refused = refusal(exc)
        if refused is not None and refused.code == "AccessDeniedException":
            raise FindingNotAuthentic(
                f"Access Analyzer finding {finding_id} not confirmed: {analyzer} refused GetFinding "
                "(the runner's role needs access-analyzer:GetFinding on analyzers in Parry's account: "
                "parry.engine.permissions.ACCESS_ANALYZER_READ_PERMISSIONS)"
            ) from exc
        if refused is None or refused.code not in UNAVAILABLE:
            raise
        return None
    held = {key: _plain(value) for key, value in answer.items()}
    # the event's names for the same facts: the resource's account, the finding id of a v2 finding
    held["accountId"] = held.get("resourceOwnerAccount")
    held["region"] = region
    if not external:
        held["findingId"] = held.get("id")
    return held


def _plain(value: Any) -> Any:
    """A value of botocore's answer as JSON (timestamps in ISO 8601, as the event has them)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
