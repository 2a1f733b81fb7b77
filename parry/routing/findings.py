"""Findings authenticated: a GuardDuty or Security Hub finding is re-read from its service before Parry acts.

Anyone who can invoke a runner, or put an event Parry reads, can describe any finding they like:
an access key to deactivate, an instance to isolate. The services themselves cannot be forged,
so Parry asks them: GuardDuty GetFindings in the administrator account (Parry's own credentials,
its detector in the finding's region), Security Hub GetFindings by Id and ProductArn, Security Hub
v2 GetFindingsV2 by `metadata.uid` and `metadata.product.uid` (OCSF findings). A finding
the service does not know, or whose account, region or resource differs from what was delivered,
is refused with FindingNotAuthentic; otherwise the service's copy replaces the delivered one, so
nothing a deliverer added or changed reaches a playbook.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from parry.errors import FindingNotAuthentic, FindingUnavailable
from parry.routing.access_analyzer import SOURCE as ACCESS_ANALYZER
from parry.routing.access_analyzer import authentic_access_analyzer_event
from parry.routing.cloudtrail import authentic_cloudtrail_event, is_cloudtrail_event
from parry.routing.custom_actions import guardduty_finding
from parry.routing.events import REGION
from parry.routing.finding_view import OCSF_DETAIL_TYPE
from parry.routing.inspector import SOURCE as INSPECTOR
from parry.routing.inspector import authentic_inspector_event
from parry.routing.reread import differ
from parry.routing.scan_results import authentic_scan_result, is_scan_result

if TYPE_CHECKING:
    from parry.aws.clients import ClientFactory

AUTHENTICATED_SOURCES = ("aws.guardduty", "aws.securityhub", INSPECTOR, ACCESS_ANALYZER)
ASFF_DETAIL_TYPES = ("Security Hub Findings - Imported", "Security Hub Findings - Custom Action")
GUARDDUTY_FINDING_ID = re.compile(r"[A-Za-z0-9._-]{1,300}")
# The keys of a GuardDuty resource block that name what a playbook acts on: access key id, user
# name, instance id, bucket name or ARN, cluster, function, database, container ...
IDENTIFIER_KEY = re.compile(r"(?i).*(id|arn|name)")
SERVICE = "the service"  # how a difference names GuardDuty's or Security Hub's copy
MAX_DEPTH = 24  # GuardDuty's Resource shape nests about a dozen levels (lists counted)


def authentic_event(
    event: dict[str, Any],
    aws: ClientFactory,
    *,
    in_account: Callable[[str], ClientFactory] | None = None,
    now: float | None = None,
    detectors: dict[str, str] | None = None,
) -> dict[str, Any]:
    """`event` with its finding(s), or CloudTrail record, as the service holds them; any other event unchanged.

    Raises FindingNotAuthentic naming what the service does not know or what differed. A
    throttled or failing service raises its ClientError: a retry can succeed. `in_account`: the
    clients in a CloudTrail event's account (parry.routing.cloudtrail), by default `aws`'s.
    `detectors`: GuardDuty's detector of each region, kept by a caller that reads findings again and again.
    """
    if is_cloudtrail_event(event):
        return authentic_cloudtrail_event(event, in_account or (lambda _: aws), time.time() if now is None else now)
    source = event.get("source")
    if is_scan_result(event):  # Malware Protection for S3: no finding; the object's verdict tag confirms it
        return authentic_scan_result(event, in_account or (lambda _: aws))
    if source == "aws.guardduty":
        return _guardduty(event, aws, detectors)
    if source == "aws.securityhub":
        return _security_hub(event, aws)
    if source == INSPECTOR:
        return authentic_inspector_event(event, aws)
    if source == ACCESS_ANALYZER:
        return authentic_access_analyzer_event(event, aws)
    return event


def _guardduty(event: dict[str, Any], aws: ClientFactory, detectors: dict[str, str] | None) -> dict[str, Any]:
    delivered = event.get("detail") or {}
    finding_id, region = delivered.get("id"), delivered.get("region") or event.get("region")
    if not isinstance(finding_id, str) or not GUARDDUTY_FINDING_ID.fullmatch(finding_id):
        raise FindingNotAuthentic("the GuardDuty event's detail.id is not a GuardDuty finding id")
    if not isinstance(region, str) or not REGION.fullmatch(region):
        raise FindingNotAuthentic(f"GuardDuty finding {finding_id}: detail.region is not an AWS region name")
    resource = delivered.get("resource") or {}
    if not isinstance(resource, dict):
        raise FindingNotAuthentic(f"GuardDuty finding {finding_id}: detail.resource is not an object")
    try:
        held = guardduty_finding(aws, region, finding_id, detectors=detectors)
    except FindingUnavailable as exc:
        raise FindingNotAuthentic(f"not confirmed by GuardDuty: {exc}") from exc
    differences = [
        *differ("accountId", delivered.get("accountId"), held.get("accountId"), SERVICE),
        *differ("region", region, held.get("region"), SERVICE),
        *_resource_differences(resource, held.get("resource") or {}),
    ]
    if differences:
        raise FindingNotAuthentic(
            f"GuardDuty finding {finding_id} in {region} differs from what GuardDuty holds: {'; '.join(differences)}"
        )
    return {**event, "region": held["region"], "detail": held}


def _resource_differences(delivered: dict[str, Any], held: dict[str, Any]) -> list[str]:
    """Where the delivered resource names another resource than GuardDuty's: its type, or an identifier."""
    found = differ("resource.resourceType", delivered.get("resourceType"), held.get("resourceType"), SERVICE)
    theirs = dict(_identifiers(held, "resource"))
    for path, value in _identifiers(delivered, "resource"):
        found += differ(path, value, theirs.get(path), SERVICE)
    return found


def _identifiers(value: Any, path: str, depth: int = 0) -> list[tuple[str, str]]:
    """(path, value) of every string under `value` at a key naming an identifier (`resource.x.accessKeyId`).

    Only as deep as GuardDuty's model goes (`MAX_DEPTH`): anything deeper cannot be in the
    service's copy, which is what the playbook acts on.
    """
    if depth > MAX_DEPTH:
        return []
    if isinstance(value, dict):
        return [
            pair
            for key, item in value.items()
            for pair in ([(f"{path}.{key}", item)] if isinstance(item, str) and IDENTIFIER_KEY.fullmatch(key) else [])
            + _identifiers(item, f"{path}.{key}", depth + 1)
        ]
    if isinstance(value, list):
        return [pair for index, item in enumerate(value) for pair in _identifiers(item, f"{path}[{index}]", depth + 1)]
    return []


def _security_hub(event: dict[str, Any], aws: ClientFactory) -> dict[str, Any]:
    """The event with each finding as Security Hub holds it: ASFF by Id and ProductArn (GetFindings),
    OCSF by metadata.uid and metadata.product.uid (GetFindingsV2)."""
    if event.get("detail-type") == OCSF_DETAIL_TYPE:
        kind, reread = "Security Hub v2", _ocsf_finding
    elif event.get("detail-type") in ASFF_DETAIL_TYPES:
        kind, reread = "Security Hub", _security_hub_finding
    else:
        raise FindingNotAuthentic(
            f"Parry re-reads Security Hub findings of {', '.join((*ASFF_DETAIL_TYPES, OCSF_DETAIL_TYPE))} events only, "
            f"not {str(event.get('detail-type'))[:100]!r}: it cannot confirm this one"
        )
    delivered = (event.get("detail") or {}).get("findings")
    if not isinstance(delivered, list) or not delivered:
        raise FindingNotAuthentic(f"the {kind} event lists no findings in detail.findings")
    region = event.get("region") if isinstance(event.get("region"), str) else aws.region
    hub = aws.client("securityhub", region)
    held = [reread(hub, finding, index) for index, finding in enumerate(delivered)]
    return {**event, "detail": {**event["detail"], "findings": held}}


def _security_hub_finding(hub: Any, finding: Any, index: int) -> dict[str, Any]:
    name, product = (finding.get("Id"), finding.get("ProductArn")) if isinstance(finding, dict) else (None, None)
    if not isinstance(name, str) or not isinstance(product, str):
        raise FindingNotAuthentic(f"detail.findings[{index}] is not an ASFF finding with an Id and a ProductArn")
    filters = {
        "Id": [{"Value": name, "Comparison": "EQUALS"}],
        "ProductArn": [{"Value": product, "Comparison": "EQUALS"}],
    }
    held = _held(hub.get_findings, filters, name, "GetFindings")
    if held is None:
        raise FindingNotAuthentic(f"Security Hub holds no finding {name[:300]} of product {product[:300]}")
    differences = [
        *differ("AwsAccountId", finding.get("AwsAccountId"), held.get("AwsAccountId"), SERVICE),
        *differ("Region", finding.get("Region"), held.get("Region"), SERVICE),
        *differ("Resources[].Id", _resource_ids(finding), _resource_ids(held), SERVICE),
    ]
    if differences:
        raise FindingNotAuthentic(
            f"Security Hub finding {name[:300]} differs from what Security Hub holds: {'; '.join(differences)}"
        )
    return held


def _resource_ids(finding: dict[str, Any]) -> list[str]:
    resources = finding.get("Resources")
    return sorted(str(r.get("Id")) for r in resources if isinstance(r, dict)) if isinstance(resources, list) else []


def _held(
    read: Callable[..., dict[str, Any]], filters: dict[str, Any], name: str, operation: str
) -> dict[str, Any] | None:
    """The one finding Security Hub's `read` (GetFindings or GetFindingsV2) answers `filters` with, or None."""
    from botocore.exceptions import ClientError

    try:
        found = read(Filters=filters, MaxResults=1)["Findings"]
    except ClientError as exc:
        refused = _refused(exc, name, operation)
        if refused is None:
            raise
        raise refused from exc
    return dict(found[0]) if found else None


def _refused(exc: Exception, name: str, operation: str) -> FindingNotAuthentic | None:
    """FindingNotAuthentic for Security Hub refusing the re-read; None when it is throttled or failing
    (the caller re-raises: a retry can succeed)."""
    from parry.aws.errors import refusal

    refused = refusal(exc)
    if refused is None or refused.status >= 500 or "Throttl" in refused.code or "TooMany" in refused.code:
        return None
    return FindingNotAuthentic(
        f"Security Hub finding {name[:300]} not confirmed: {operation} refused with {refused.code}: {refused.message}"
        # GetFindingsV2 is authorized by securityhub:GetFindings too (Security Hub API reference)
        " (the runner's role needs securityhub:GetFindings: parry.engine.permissions.FINDING_READ_PERMISSIONS)"
    )


def _ocsf_finding(hub: Any, finding: Any, index: int) -> dict[str, Any]:
    metadata = finding.get("metadata") if isinstance(finding, dict) else None
    name = metadata.get("uid") if isinstance(metadata, dict) else None
    product_block = metadata.get("product") if isinstance(metadata, dict) else None
    product = product_block.get("uid") if isinstance(product_block, dict) else None
    if not isinstance(name, str) or not isinstance(product, str):
        raise FindingNotAuthentic(
            f"detail.findings[{index}] is not an OCSF finding with a metadata.uid and a metadata.product.uid"
        )
    filters = {
        "CompositeFilters": [
            {
                "StringFilters": [
                    {"FieldName": "metadata.uid", "Filter": {"Value": name, "Comparison": "EQUALS"}},
                    {"FieldName": "metadata.product.uid", "Filter": {"Value": product, "Comparison": "EQUALS"}},
                ],
                "Operator": "AND",
            }
        ]
    }
    held = _held(hub.get_findings_v2, filters, name, "GetFindingsV2")
    if held is None:
        raise FindingNotAuthentic(f"Security Hub holds no v2 finding {name[:300]} of product {product[:300]}")
    differences = [
        *differ("cloud.account.uid", _ocsf_place(finding)[0], _ocsf_place(held)[0], SERVICE),
        *differ("cloud.region", _ocsf_place(finding)[1], _ocsf_place(held)[1], SERVICE),
        *differ("resources[]", _ocsf_resources(finding), _ocsf_resources(held), SERVICE),
    ]
    if differences:
        raise FindingNotAuthentic(
            f"Security Hub v2 finding {name[:300]} differs from what Security Hub holds: {'; '.join(differences)}"
        )
    return held


def _ocsf_place(finding: dict[str, Any]) -> tuple[Any, Any]:
    cloud = finding.get("cloud")
    cloud = cloud if isinstance(cloud, dict) else {}
    account = cloud.get("account")
    return (account.get("uid") if isinstance(account, dict) else None), cloud.get("region")


def _ocsf_resources(finding: dict[str, Any]) -> list[str]:
    """Each resource's uid, uid_alt, type, owner account and region: what a playbook acts on, and where."""
    resources = finding.get("resources")
    if not isinstance(resources, list):
        return []
    return sorted(
        repr((r.get("uid"), r.get("uid_alt"), r.get("type"), r.get("region"), repr(r.get("owner"))))
        for r in resources
        if isinstance(r, dict)
    )
