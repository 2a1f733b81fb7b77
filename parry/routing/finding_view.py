"""One typed view of a finding, whichever service format delivered it.

GuardDuty's own events (camelCase `detail`), Security Hub CSPM (ASFF, `detail.findings[]`) and
Security Hub v2 (OCSF, `Findings Imported V2`) name the same things in three shapes. The view reads
the account, region, resources, severity, types and product once, so a playbook's target can say
`finding.resources[?type=='AwsEc2Instance'].id | [0]` for all three. Accounts and regions are read
from the fields each service documents for them (GuardDuty `accountId`/`region`, ASFF
`AwsAccountId`/`Region`, OCSF `cloud.account.uid`/`cloud.region` and each resource's
`owner.account.uid`/`region`), never parsed out of ARNs: a published OCSF sample's GuardDuty ARN
names another account than the finding's.

Resource types use Security Hub's ASFF vocabulary where one exists (`AwsIamAccessKey`,
`AwsEc2Instance`, `AwsS3Bucket` ...), with the service's own spelling kept in `native_type`.
IAM resources are global: their region is `global`, as OCSF says.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

GLOBAL = "global"
OCSF_DETAIL_TYPE = "Findings Imported V2"
# GuardDuty's attack-sequence resource types (ResourceV2.ResourceType) in ASFF's vocabulary
SEQUENCE_TYPES = {
    "ACCESS_KEY": "AwsIamAccessKey",
    "EC2_INSTANCE": "AwsEc2Instance",
    "EC2_NETWORK_INTERFACE": "AwsEc2NetworkInterface",
    "S3_BUCKET": "AwsS3Bucket",
    "S3_OBJECT": "AwsS3Object",
    "EKS_CLUSTER": "AwsEksCluster",
    "ECS_CLUSTER": "AwsEcsCluster",
    "ECS_TASK": "AwsEcsTask",
    "IAM_INSTANCE_PROFILE": "AwsIamInstanceProfile",
}
GLOBAL_TYPES = frozenset({"AwsIamAccessKey", "AwsIamUser", "AwsIamRole", "AwsIamPolicy", "AwsIamInstanceProfile"})
# OCSF severity_id (1 Informational ... 6 Fatal) on ASFF's 0-100 scale, at the bottom of each ASFF label's band
OCSF_SEVERITY = {1: 0.0, 2: 1.0, 3: 40.0, 4: 70.0, 5: 90.0, 6: 100.0}
CFN_TYPE = re.compile(r"AWS::(\w+)::(\w+)")
# What BatchUpdateFindingsV2 (Comment, SeverityId, StatusId) changes on an OCSF finding, and the
# times Security Hub moves with it: a delivery that differs only there is the same detection again
WRITABLE_OCSF = ("comment", "status", "status_id", "status_detail", "severity", "severity_id", "time", "time_dt")
WRITABLE_OCSF_INFO = ("modified_time", "modified_time_dt")


@dataclass(frozen=True)
class Resource:
    """One resource a finding names, in the account and region it is in."""

    type: str
    id: str
    account: str | None
    region: str | None
    arn: str | None = None
    native_type: str | None = None


@dataclass(frozen=True)
class FindingView:
    """What every finding format says: read it with `finding_view`."""

    format: str  # "guardduty", "asff" or "ocsf"
    product: str | None
    finding_id: str
    account: str | None
    region: str | None
    types: tuple[str, ...]
    severity: float | None  # 0-100, ASFF's Normalized scale
    severity_label: str | None
    native_severity: Any
    updated_at: str | None
    resources: tuple[Resource, ...]

    def as_dict(self) -> dict[str, Any]:
        """The view as JSON data: what expressions see as `finding`."""
        values = dataclasses.asdict(self)
        values["types"] = list(self.types)
        values["resources"] = [dataclasses.asdict(r) for r in self.resources]
        return values


def finding_view(event: dict[str, Any]) -> FindingView | None:
    """The view of the event's finding; None for an event that carries no GuardDuty or Security Hub finding.

    A Security Hub event may carry several findings (a custom action's selection): the view is the
    first one's, as the engine's dedup reads it.
    """
    detail = event.get("detail")
    if not isinstance(detail, dict):
        return None
    if event.get("source") == "aws.guardduty" and event.get("detail-type") == "GuardDuty Finding":
        return _guardduty(detail)
    findings = detail.get("findings")
    if event.get("source") != "aws.securityhub" or not isinstance(findings, list) or not findings:
        return None
    first = findings[0] if isinstance(findings[0], dict) else {}
    if event.get("detail-type") == OCSF_DETAIL_TYPE:
        return _ocsf(first)
    return _asff(first) if "SchemaVersion" in first or "ProductArn" in first else None


def expression_data(event: dict[str, Any]) -> dict[str, Any]:
    """What `target` and `dedup` expressions read: the event, with its finding's view as `finding`.

    An EventBridge envelope has no top-level `finding` key, so nothing in the event is hidden.
    """
    view = finding_view(event)
    return {**event, "finding": view.as_dict() if view else None}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _label(normalized: float | None) -> str | None:
    if normalized is None:
        return None
    for floor, label in ((90, "CRITICAL"), (70, "HIGH"), (40, "MEDIUM"), (1, "LOW")):
        if normalized >= floor:
            return label
    return "INFORMATIONAL"


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _resource(kind: str, ident: Any, account: Any, region: Any, arn: Any = None, native: Any = None) -> list[Resource]:
    if not _text(ident):
        return []
    place = GLOBAL if kind in GLOBAL_TYPES else _text(region)
    return [Resource(kind, ident, _text(account), place, _text(arn), _text(native))]


# ---- GuardDuty ------------------------------------------------------------------------------------


def _guardduty(detail: dict[str, Any]) -> FindingView:
    account, region = _text(detail.get("accountId")), _text(detail.get("region"))
    native = detail.get("severity")
    score = _number(native)
    normalized = min(score * 10, 100.0) if score is not None else None
    return FindingView(
        format="guardduty",
        product="GuardDuty",
        finding_id=str(detail.get("id", "")),
        account=account,
        region=region,
        types=tuple(t for t in [_text(detail.get("type"))] if t),
        severity=normalized,
        severity_label=_label(normalized),
        native_severity=native,
        updated_at=_text(detail.get("updatedAt")),
        resources=tuple(_guardduty_resources(detail, account, region)),
    )


def _guardduty_resources(detail: dict[str, Any], account: str | None, region: str | None) -> list[Resource]:
    """The resources of a GuardDuty finding: its `resource` block, or an attack sequence's own list."""
    resource = _dict(detail.get("resource"))
    kind = resource.get("resourceType")
    found: list[Resource] = []
    if kind == "AccessKey":
        key = _dict(resource.get("accessKeyDetails"))
        found += _resource("AwsIamAccessKey", key.get("accessKeyId"), account, region, native=kind)
        if key.get("userType") == "IAMUser":
            found += _resource("AwsIamUser", key.get("userName"), account, region, native=kind)
    elif kind in ("Instance", "Container"):  # a Container of Runtime Monitoring runs on an EC2 host
        instance = _dict(resource.get("instanceDetails"))
        found += _resource("AwsEc2Instance", instance.get("instanceId"), account, region, native=kind)
    elif kind == "S3Bucket" or kind == "S3Object":
        for bucket in _list(resource.get("s3BucketDetails")):
            bucket = _dict(bucket)
            found += _resource("AwsS3Bucket", bucket.get("name"), account, region, bucket.get("arn"), kind)
    elif kind == "EKSCluster":
        cluster = _dict(resource.get("eksClusterDetails"))
        found += _resource("AwsEksCluster", cluster.get("name"), account, region, cluster.get("arn"), kind)
    elif kind == "ECSCluster":
        cluster = _dict(resource.get("ecsClusterDetails"))
        found += _resource("AwsEcsCluster", cluster.get("name"), account, region, cluster.get("arn"), kind)
        task = _dict(cluster.get("taskDetails"))
        found += _resource("AwsEcsTask", task.get("arn"), account, region, task.get("arn"), kind)
    elif kind == "RDSDBInstance":
        db = _dict(resource.get("rdsDbInstanceDetails"))
        found += _resource(
            "AwsRdsDbInstance", db.get("dbInstanceIdentifier"), account, region, db.get("dbInstanceArn"), kind
        )
    elif kind == "Lambda":
        function = _dict(resource.get("lambdaDetails"))
        found += _resource(
            "AwsLambdaFunction", function.get("functionName"), account, region, function.get("functionArn"), kind
        )
    sequence = _dict(_dict(_dict(detail.get("service")).get("detection")).get("sequence"))
    for item in _list(sequence.get("resources")):
        item = _dict(item)
        native = _text(item.get("resourceType")) or ""
        # each resource of an attack sequence is in its own account and region
        found += _resource(
            SEQUENCE_TYPES.get(native, native),
            item.get("uid") or item.get("name"),
            item.get("accountId"),
            item.get("region"),
            native=native,
        )
    return found


# ---- Security Hub CSPM (ASFF) ---------------------------------------------------------------------


def _asff(finding: dict[str, Any]) -> FindingView:
    account, region = _text(finding.get("AwsAccountId")), _text(finding.get("Region"))
    severity = _dict(finding.get("Severity"))
    normalized = _number(severity.get("Normalized"))
    resources = [
        found
        for item in _list(finding.get("Resources"))
        for found in _resource(
            str(_dict(item).get("Type", "")),
            _dict(item).get("Id"),
            account,
            _dict(item).get("Region") or region,
            _dict(item).get("Id") if str(_dict(item).get("Id", "")).startswith("arn:") else None,
        )
    ]
    return FindingView(
        format="asff",
        product=_text(finding.get("ProductName"))
        or _text(_dict(finding.get("ProductFields")).get("aws/securityhub/ProductName")),
        finding_id=str(finding.get("Id", "")),
        account=account,
        region=region,
        types=tuple(t for t in _list(finding.get("Types")) if isinstance(t, str)),
        severity=normalized,
        severity_label=_text(severity.get("Label")) or _label(normalized),
        native_severity=severity or None,
        updated_at=_text(finding.get("UpdatedAt")),
        resources=tuple(resources),
    )


# ---- Security Hub v2 (OCSF) -----------------------------------------------------------------------


def ocsf_type(native: str) -> str:
    """An OCSF resource type in ASFF's vocabulary: `AWS::EC2::Instance` is `AwsEc2Instance`."""
    found = CFN_TYPE.fullmatch(native)
    return f"Aws{found[1].capitalize()}{found[2]}" if found else native


def ocsf_version(finding: dict[str, Any]) -> str:
    """`<metadata.uid>@<digest>` of an OCSF finding, blind to what a write-back changes (`WRITABLE_OCSF`).

    BatchUpdateFindingsV2 makes Security Hub send `Findings Imported V2` again: Parry's own note on a
    finding it handled would otherwise be a new finding to handle, for ever. Whoever wrote the status or
    comment, only a change in what was detected (resources, types, evidence, count, last seen) is new.
    """
    info = {k: v for k, v in _dict(finding.get("finding_info")).items() if k not in WRITABLE_OCSF_INFO}
    detected = {k: v for k, v in finding.items() if k not in WRITABLE_OCSF} | {"finding_info": info}
    digest = hashlib.sha256(json.dumps(detected, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return f"{_dict(finding.get('metadata')).get('uid', '')}@{digest}"


def _ocsf(finding: dict[str, Any]) -> FindingView:
    cloud = _dict(finding.get("cloud"))
    account, region = _text(_dict(cloud.get("account")).get("uid")), _text(cloud.get("region"))
    resources = []
    for item in _list(finding.get("resources")):
        item = _dict(item)
        native = str(item.get("type", ""))
        uid, alt = _text(item.get("uid")), _text(item.get("uid_alt"))
        arn = uid if uid and uid.startswith("arn:") else (alt if alt and alt.startswith("arn:") else None)
        owner = _text(_dict(_dict(item.get("owner")).get("account")).get("uid"))
        resources += _resource(
            ocsf_type(native), uid or alt, owner or account, item.get("region") or region, arn, native
        )
    severity_id = finding.get("severity_id")
    normalized = OCSF_SEVERITY.get(severity_id) if isinstance(severity_id, int) else None
    info, metadata = _dict(finding.get("finding_info")), _dict(finding.get("metadata"))
    return FindingView(
        format="ocsf",
        product=_text(_dict(metadata.get("product")).get("name")),
        finding_id=str(metadata.get("uid") or info.get("uid") or ""),
        account=account,
        region=region,
        types=tuple(t for t in _list(info.get("types")) if isinstance(t, str)),
        severity=normalized,
        severity_label=_text(finding.get("severity")),
        native_severity=severity_id,
        updated_at=_text(info.get("modified_time_dt")) or _text(finding.get("time_dt")),
        resources=tuple(resources),
    )
