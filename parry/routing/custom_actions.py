"""Security Hub custom actions: the events to run a playbook on, one per finding the analyst selected.

Security Hub sends the selected findings in ASFF ("Security Hub Findings - Custom Action",
`detail.findings`; Security Hub User Guide, "EventBridge event formats"). Playbooks read the event
their trigger names, and the shipped ones read GuardDuty's (`detail.resource.accessKeyDetails...`),
which ASFF does not carry. So a finding GuardDuty produced is read back from GuardDuty and put in
the "GuardDuty Finding" event GuardDuty itself sends; any other finding becomes the "Security Hub
Findings - Imported" event a playbook triggered by Security Hub findings sees.

GuardDuty's event `detail` is the finding in the API's wire format (camelCase: `accountId`,
`productCodeId`, `lat`); boto3 returns it with the model's member names (`AccountId`, `Code`,
`Latitude`). `wire_format` converts with botocore's service model, not by guessing names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from parry.aws.errors import refusal
from parry.errors import EventError, FindingUnavailable
from parry.routing.events import guardduty_event, securityhub_event, stable_id

if TYPE_CHECKING:
    from botocore.model import Shape

    from parry.aws.clients import ClientFactory

CUSTOM_ACTION_DETAIL_TYPE = "Security Hub Findings - Custom Action"
GUARDDUTY_PRODUCT = re.compile(r"arn:[a-z-]+:securityhub:[a-z0-9-]+::product/aws/guardduty")
GUARDDUTY_FINDING = re.compile(
    r"arn:(?P<partition>[a-z-]+):guardduty:(?P<region>[a-z0-9-]+):(?P<account>\d{12})"
    r":detector/(?P<detector>[A-Za-z0-9]+)/finding/(?P<finding>[A-Za-z0-9]+)"
)
# Errors worth a retry of the whole event (throttled past the client's own retries, a service
# fault): the findings that already ran answer with their cases on the retry. Any other error of
# a finding is final for it: asking again will not bring back a deleted finding.
TRANSIENT_CODES = frozenset({"ThrottlingException", "TooManyRequestsException", "Throttling", "RequestLimitExceeded"})
# what GuardDuty answers for a detector id its account no longer has ("... detectorId is not owned by the current account")
STALE_DETECTOR = "BadRequestException"


@dataclass(frozen=True)
class SelectedFinding:
    """One finding of a custom action: the event to run on, or why there is none."""

    finding_id: str  # the ASFF Id, as the analyst saw it in Security Hub
    event: dict[str, Any] | None = None
    error: str | None = None
    read_from_service: bool = False  # the event is the service's copy, just read (a GuardDuty finding)


def is_custom_action(event: Any) -> bool:
    return (
        isinstance(event, dict)
        and event.get("source") == "aws.securityhub"
        and event.get("detail-type") == CUSTOM_ACTION_DETAIL_TYPE
    )


def selected_events(event: dict[str, Any], aws: ClientFactory) -> list[SelectedFinding]:
    """The event to run for each selected finding, in the order selected; EventError if none are listed.

    A finding Parry cannot read is a `SelectedFinding` with its error (FindingUnavailable's
    message); a throttled or failing GuardDuty raises, for the caller to retry the whole event.
    """
    findings = (event.get("detail") or {}).get("findings")
    if not isinstance(findings, list) or not findings:
        raise EventError("a Security Hub custom action event must list its findings in detail.findings")
    detectors: dict[str, str] = {}
    selected = []
    for index, finding in enumerate(findings):
        name = finding.get("Id") if isinstance(finding, dict) else None
        if not isinstance(name, str) or not name:
            selected.append(
                SelectedFinding(
                    f"detail.findings[{index}]", error=f"detail.findings[{index}] is not an ASFF finding with an Id"
                )
            )
            continue
        try:
            from_guardduty = bool(GUARDDUTY_PRODUCT.fullmatch(str(finding.get("ProductArn", ""))))
            selected.append(
                SelectedFinding(
                    name,
                    event=_event_for(finding, event, aws, detectors, from_guardduty),
                    read_from_service=from_guardduty,
                )
            )
        except FindingUnavailable as exc:
            selected.append(SelectedFinding(name, error=str(exc)))
    return selected


def _event_for(
    finding: dict[str, Any], action: dict[str, Any], aws: ClientFactory, detectors: dict[str, str], from_guardduty: bool
) -> dict[str, Any]:
    if from_guardduty:
        return guardduty_finding_event(aws, finding["Id"], bus_account=action.get("account"), detectors=detectors)
    return securityhub_event(finding, event_id=stable_id(f"{finding.get('ProductArn')}|{finding['Id']}"))


def guardduty_finding_event(
    aws: ClientFactory, finding_arn: str, *, bus_account: str | None = None, detectors: dict[str, str] | None = None
) -> dict[str, Any]:
    """The "GuardDuty Finding" event for a finding, read from GuardDuty with `aws`'s credentials.

    Parry's account is the GuardDuty administrator: its own detector in the finding's region reads
    its members' findings too (the detector id in the ARN is the member's, which it cannot use).
    The envelope's account is `bus_account` (the account Security Hub and GuardDuty send their
    events to, the one GuardDuty's own event would name), so a playbook's dedup on `account` gives
    the case the automatic run opened. FindingUnavailable names the finding and what is wrong.
    """
    found = GUARDDUTY_FINDING.fullmatch(finding_arn)
    if found is None:
        raise FindingUnavailable(
            f"{finding_arn}: Security Hub says GuardDuty produced it, but its Id is not a GuardDuty finding ARN"
        )
    detail = guardduty_finding(
        aws, found["region"], found["finding"], detectors=detectors, name=f"GuardDuty finding {finding_arn}"
    )
    return guardduty_event(detail, account=bus_account or None, event_id=stable_id(finding_arn))


def guardduty_finding(
    aws: ClientFactory,
    region: str,
    finding_id: str,
    *,
    detectors: dict[str, str] | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """GuardDuty finding `finding_id` of `region` in the wire format of GuardDuty's events, read from
    GuardDuty with `aws`'s credentials (its detector there: ListDetectors, cached in `detectors`; a
    cached detector GuardDuty no longer knows is listed again, once).

    FindingUnavailable names the finding (`name`, by default its id and region) and what is wrong (no detector, refused, unknown id); a
    throttled or failing GuardDuty raises its ClientError, for the caller to retry.
    """
    from botocore.exceptions import ClientError

    name = name or f"GuardDuty finding {finding_id} in {region}"
    gd = aws.client("guardduty", region)
    cache = detectors if detectors is not None else {}
    for _ in range(2):
        cached = region in cache
        try:
            if not cached:
                ids = gd.list_detectors().get("DetectorIds", [])
                if not ids:
                    raise FindingUnavailable(
                        f"{name}: GuardDuty is not enabled in {region} for Parry's account (no detector there)"
                    )
                cache[region] = ids[0]
            response = gd.get_findings(DetectorId=cache[region], FindingIds=[finding_id])
        except ClientError as exc:
            refused = refusal(exc)
            if refused is None or refused.code in TRANSIENT_CODES or refused.status >= 500:
                raise
            if cached and refused.code == STALE_DETECTOR:  # deleted since it was cached (GuardDuty re-enabled)
                del cache[region]
                continue
            hint = (
                (
                    " (the runner's role needs guardduty:ListDetectors and guardduty:GetFindings: "
                    "parry.engine.permissions.FINDING_READ_PERMISSIONS)"
                )
                if "AccessDenied" in refused.code
                else ""
            )
            raise FindingUnavailable(
                f"{name}: {refused.operation} refused with {refused.code or refused.status}: {refused.message}{hint}"
            ) from exc
        break
    findings = response.get("Findings", [])
    if not findings:
        raise FindingUnavailable(
            f"{name} does not exist for detector {cache[region]} in {region}: it was deleted or has expired (GuardDuty keeps "
            "findings 90 days), or its account is not a member of Parry's GuardDuty administrator account"
        )
    output = gd.meta.service_model.operation_model("GetFindings").output_shape
    detail: dict[str, Any] = wire_format(output.members["Findings"].member, findings[0])
    return detail


def wire_format(shape: Shape, value: Any) -> Any:
    """`value`, as boto3 parsed it against `shape`, back in the service's wire format.

    Structure members take their wire name (`serialization["name"]`, else the member name);
    timestamps go back to the protocol's format (epoch seconds for GuardDuty's rest-json, as its
    events carry them). A key the model does not describe cannot come from boto3's parser and is
    left out.
    """
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        return {
            member.serialization.get("name", name): wire_format(member, value[name])
            for name, member in shape.members.items()
            if name in value
        }
    if kind == "list":
        return [wire_format(shape.member, item) for item in value]
    if kind == "map":
        return {key: wire_format(shape.value, item) for key, item in value.items()}
    if kind == "timestamp" and isinstance(value, datetime):
        return _timestamp(shape, value)
    return value


def _timestamp(shape: Shape, value: datetime) -> Any:
    stamp = value if value.tzinfo else value.replace(tzinfo=UTC)
    fmt = shape.serialization.get("timestampFormat") or "unixTimestamp"
    if fmt == "iso8601":
        return stamp.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if fmt == "rfc822":
        from email.utils import format_datetime

        return format_datetime(stamp.astimezone(UTC), usegmt=True)
    seconds = stamp.timestamp()
    return int(seconds) if stamp.microsecond == 0 else round(seconds, 6)
