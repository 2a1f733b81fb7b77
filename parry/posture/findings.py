"""Sweep results as Security Hub findings (ASFF, Parry as the account's own custom product).

Each (check, resource) has one finding with a stable Id, imported with BatchImportFindings into the
Security Hub of the result's account and region (the default product ARN takes findings only for
the caller's own account: a member account's go in through the member stack's sweep role). A finding a
later sweep no longer produces, for a resource that sweep could read, is imported again with
Compliance PASSED and RecordState ARCHIVED, and its workflow set to RESOLVED with a note. The
active findings before an import are the record of the previous sweep: a result with none is new.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from parry.aws.arns import partition
from parry.aws.errors import describe_error
from parry.errors import ParryError
from parry.posture.results import CHECK_ID_PREFIX, CHECKS, Result

if TYPE_CHECKING:
    from parry.aws.clients import ClientFactory
    from parry.posture.reader import RegionRead
    from parry.posture.sweep import SweepReport

PRODUCT_NAME = COMPANY_NAME = "Parry"
IMPORT_BATCH = 100  # BatchImportFindings takes at most 100 findings per call
UPDATE_BATCH = 100
DESCRIPTION_MAX = 1024
RESOURCE_TYPES = {":layer:": "AwsLambdaLayerVersion", ":event-source-mapping:": "Other"}
# what a resolved finding is imported again with: what Parry wrote, not what Security Hub or people added
REIMPORTED = (
    "SchemaVersion",
    "Id",
    "ProductArn",
    "ProductName",
    "CompanyName",
    "GeneratorId",
    "AwsAccountId",
    "Region",
    "Types",
    "CreatedAt",
    "Severity",
    "Title",
    "Description",
    "Remediation",
    "ProductFields",
    "Resources",
)
_TYPES = {check.check_id: check.asff_type for check in CHECKS}


@dataclass(frozen=True)
class Published:
    imported: int
    resolved: int
    new: tuple[Result, ...] = ()  # results with no active finding before this sweep: what a notice tells


def product_arn(region: str, account: str) -> str:
    return f"arn:{partition(region)}:securityhub:{region}:{account}:product/{account}/default"


def finding_id(result: Result) -> str:
    """Stable per (check, resource): a later sweep's result updates the same finding."""
    return f"parry-posture/{result.check_id}/{result.resource_arn}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _description(result: Result) -> str:
    details = "; ".join(f"{key}: {value}" for key, value in result.detail.items())
    text = f"{result.title} ({result.resource_arn}). {details}".strip()
    return text if len(text) <= DESCRIPTION_MAX else text[: DESCRIPTION_MAX - 1] + "…"


def _resource_type(arn: str) -> str:
    return next((kind for marker, kind in RESOURCE_TYPES.items() if marker in arn), "AwsLambdaFunction")


def asff(result: Result, now: str, created_at: str | None = None) -> dict[str, Any]:
    """The ASFF finding of `result`: names and identifiers only, as the result holds them."""
    return {
        "SchemaVersion": "2018-10-08",
        "Id": finding_id(result),
        "ProductArn": product_arn(result.region, result.account),
        "ProductName": PRODUCT_NAME,
        "CompanyName": COMPANY_NAME,
        "GeneratorId": result.check_id,
        "AwsAccountId": result.account,
        "Region": result.region,
        "Types": [_TYPES[result.check_id]],
        "CreatedAt": created_at or now,
        "UpdatedAt": now,
        "Severity": {"Label": result.severity, "Original": result.severity},
        "Title": f"{result.check_id} {result.title}",
        "Description": _description(result),
        "Remediation": {"Recommendation": {"Text": result.remediation}},
        "ProductFields": {"parry/check": result.check_id},
        "Resources": [
            {
                "Type": _resource_type(result.resource_arn),
                "Id": result.resource_arn,
                "Partition": partition(result.region),
                "Region": result.region,
            }
        ],
        "Compliance": {"Status": "FAILED"},
        "RecordState": "ACTIVE",
    }


def active_findings(hub: Any, region: str, account: str) -> list[dict[str, Any]]:
    """Parry's active posture findings in this account and region, every page."""
    filters = {
        "ProductArn": [{"Value": product_arn(region, account), "Comparison": "EQUALS"}],
        "ProductName": [{"Value": PRODUCT_NAME, "Comparison": "EQUALS"}],
        "AwsAccountId": [{"Value": account, "Comparison": "EQUALS"}],
        "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
    }
    found: list[dict[str, Any]] = []
    for page in hub.get_paginator("get_findings").paginate(Filters=filters):
        found.extend(f for f in page["Findings"] if str(f.get("GeneratorId", "")).startswith(CHECK_ID_PREFIX))
    return found


def _import(hub: Any, findings: list[dict[str, Any]]) -> None:
    for start in range(0, len(findings), IMPORT_BATCH):
        answer = hub.batch_import_findings(Findings=findings[start : start + IMPORT_BATCH])
        if answer.get("FailedCount"):
            failed = answer.get("FailedFindings", [])
            reasons = sorted({f"{f.get('ErrorCode')}: {f.get('ErrorMessage')}" for f in failed})
            raise ParryError(f"Security Hub refused {answer['FailedCount']} posture findings: {'; '.join(reasons)}")


def _resolved(previous: dict[str, Any], now: str) -> dict[str, Any]:
    finding = {key: previous[key] for key in REIMPORTED if key in previous}
    finding.update(UpdatedAt=now, Compliance={"Status": "PASSED"}, RecordState="ARCHIVED")
    return finding


def publish(aws: ClientFactory, read: RegionRead, results: Iterable[Result]) -> Published:
    """Import `results` of one swept (account, region) and resolve what that sweep no longer finds."""
    hub = aws.client("securityhub", read.region)
    now = _now()
    previous = {f["Id"]: f for f in active_findings(hub, read.region, read.account)}
    results = list(results)
    current = [asff(x, now, previous.get(finding_id(x), {}).get("CreatedAt")) for x in results]
    new = tuple(x for x in results if finding_id(x) not in previous)
    _import(hub, current)
    if not read.complete:
        return Published(len(current), 0, new)
    still = {f["Id"] for f in current}
    gone = [
        f
        for fid, f in previous.items()
        if fid not in still and not any(r.get("Id") in read.unreadable for r in f.get("Resources", []))
    ]
    _import(hub, [_resolved(f, now) for f in gone])
    for start in range(0, len(gone), UPDATE_BATCH):
        hub.batch_update_findings(
            FindingIdentifiers=[
                {"Id": f["Id"], "ProductArn": f["ProductArn"]} for f in gone[start : start + UPDATE_BATCH]
            ],
            Workflow={"Status": "RESOLVED"},
            Note={"Text": "parry sweep no longer finds this problem", "UpdatedBy": "parry-sweep"},
        )
    return Published(len(current), len(gone), new)


def publish_each(report: SweepReport) -> tuple[list[tuple[str, str, Published]], list[str]]:
    """`publish` for each swept (account, region) of `report`, with that account's clients: what was
    published, and a line for each region whose Security Hub refused (not enabled, no permission),
    which does not stop the others."""
    from botocore.exceptions import ClientError

    published, refused = [], []
    for scope, read in zip(report.scopes, report.regions, strict=True):
        mine = [x for x in report.results if (x.account, x.region) == (scope.account, scope.region)]
        try:
            published.append((scope.account, scope.region, publish(scope.aws, read, mine)))
        except ClientError as exc:
            refused.append(f"Security Hub in {scope.account} {scope.region}: {describe_error(exc)}")
    return published, refused


def publish_report(report: SweepReport) -> list[tuple[str, str, Published]]:
    """`publish_each`, then one ParryError naming each refusal, if any."""
    published, refused = publish_each(report)
    if refused:
        raise ParryError("\n".join(refused))
    return published
