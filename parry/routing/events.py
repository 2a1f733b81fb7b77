"""Event shapes: check an EventBridge envelope, and wrap bare payloads in the one EventBridge uses.

People paste what they have: a GuardDuty finding from the console, an ASFF or OCSF finding, a
CloudTrail record. The CLI wraps each in the envelope EventBridge would deliver it in (GuardDuty User Guide,
"CloudWatch event format"; Security Hub "Findings - Imported" and "Findings Imported V2"; "AWS API Call via CloudTrail").
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from parry.errors import EventError

ENVELOPE_KEYS = ("source", "detail-type", "detail")
ACCOUNT_ID = re.compile(r"\d{12}")
REGION = re.compile(r"[a-z]{2,4}(-[a-z]+)+-\d{1,2}")


def resource_account(event: dict[str, Any]) -> str | None:
    """The account the event's resources are in: the one Parry must act in.

    The envelope's `account` is the account whose event bus the event was put on. For findings
    aggregated in the GuardDuty or Security Hub administrator (Parry's security account) that is
    the administrator, not the member the finding is about: that one is in the finding itself
    (GuardDuty `detail.accountId`, ASFF `AwsAccountId`, OCSF `cloud.account.uid`). EventError when a Security Hub event
    holds findings of several accounts: one case acts in one account.
    """
    detail = event.get("detail") or {}
    found: set[str] = set()
    if event.get("source") in ("aws.guardduty", "aws.access-analyzer"):  # Access Analyzer: the resource's owner
        account = detail.get("accountId")
        found = {account} if isinstance(account, str) else set()
    elif event.get("source") == "aws.securityhub" and isinstance(detail.get("findings"), list):
        found = {
            account
            for f in detail["findings"]
            if isinstance(f, dict) and isinstance(account := _finding_account(f), str)
        }
    found = {a for a in found if ACCOUNT_ID.fullmatch(a)}
    if len(found) > 1:
        raise EventError(
            f"the event's findings are in {len(found)} accounts ({', '.join(sorted(found))}): "
            "select the findings of one account per run"
        )
    return found.pop() if found else event.get("account")


def _finding_account(finding: dict[str, Any]) -> Any:
    """An ASFF finding's `AwsAccountId`, or an OCSF (Security Hub v2) finding's `cloud.account.uid`."""
    if "AwsAccountId" in finding:
        return finding["AwsAccountId"]
    cloud = finding.get("cloud")
    account = cloud.get("account") if isinstance(cloud, dict) else None
    return account.get("uid") if isinstance(account, dict) else None


def check_envelope(event: Any) -> dict[str, Any]:
    """The event if it is an EventBridge event Parry can act on; EventError naming what is wrong."""
    if not isinstance(event, dict):
        raise EventError(f"an event must be a JSON object, not {type(event).__name__}")
    missing = [k for k in ENVELOPE_KEYS if k not in event]
    if missing:
        raise EventError(f"not an EventBridge event: missing {', '.join(missing)}")
    for key in ("source", "detail-type"):
        if not isinstance(event[key], str):
            raise EventError(f"not an EventBridge event: {key} must be a string")
    if not isinstance(event["detail"], dict):
        raise EventError("not an EventBridge event: detail must be an object")
    for key in ("id", "account", "region", "time"):
        if key in event and not isinstance(event[key], str):
            raise EventError(f"not an EventBridge event: {key} must be a string")
    # EventBridge always sets these so; the case is keyed and filed by them, so nothing else gets in
    if "account" in event and not ACCOUNT_ID.fullmatch(event["account"]):
        raise EventError("not an EventBridge event: account must be a 12-digit account id")
    if "region" in event and not REGION.fullmatch(event["region"]):
        raise EventError("not an EventBridge event: region must be an AWS region name")
    return event


def _envelope(
    source: str,
    detail_type: str,
    detail: dict[str, Any],
    account: str,
    region: str,
    time: str,
    event_id: str | None = None,
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id or stable_id(json.dumps(detail, sort_keys=True)),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": time,
        "region": region,
        "resources": [],
        "detail": detail,
    }


def stable_id(text: str) -> str:
    """An event id (UUID-shaped) derived from `text`: the same input gives the same event, and case."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def guardduty_event(
    finding: dict[str, Any], *, account: str | None = None, event_id: str | None = None
) -> dict[str, Any]:
    """The "GuardDuty Finding" event for a finding in GuardDuty's wire format (camelCase, as in the API).

    `account` is the account whose event bus GuardDuty puts the event on (the administrator's, for a
    member's finding); by default the finding's own account.
    """
    return _envelope(
        "aws.guardduty",
        "GuardDuty Finding",
        finding,
        account or str(finding.get("accountId", "")),
        str(finding.get("region", "")),
        str(finding.get("updatedAt", "")),
        event_id,
    )


def securityhub_event(finding: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    """The "Security Hub Findings - Imported" event Security Hub sends for one ASFF finding."""
    region = str(finding.get("Region") or (str(finding.get("ProductArn", "")).split(":")[3:4] or [""])[0])
    return _envelope(
        "aws.securityhub",
        "Security Hub Findings - Imported",
        {"findings": [finding]},
        str(finding.get("AwsAccountId", "")),
        region,
        str(finding.get("UpdatedAt", "")),
        event_id,
    )


def ocsf_event(finding: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    """The "Findings Imported V2" event Security Hub sends for one OCSF finding (Security Hub v2)."""
    cloud = finding.get("cloud")
    cloud = cloud if isinstance(cloud, dict) else {}
    return _envelope(
        "aws.securityhub",
        "Findings Imported V2",
        {"findings": [finding]},
        str(_finding_account(finding) or ""),
        str(cloud.get("region") or ""),
        str(finding.get("time_dt") or ""),
        event_id,
    )


def wrap(payload: Any) -> tuple[dict[str, Any], str | None]:
    """(EventBridge event, what was wrapped or None). Envelopes pass through unchanged."""
    if not isinstance(payload, dict):
        raise EventError(f"an event must be a JSON object, not {type(payload).__name__}")
    if all(k in payload for k in ENVELOPE_KEYS):
        return payload, None
    if {"schemaVersion", "type", "resource", "service"} <= payload.keys():
        return guardduty_event(payload), "GuardDuty finding"
    if {"SchemaVersion", "ProductArn", "Resources"} <= payload.keys():
        return securityhub_event(payload), "Security Hub (ASFF) finding"
    if {"class_uid", "metadata", "cloud"} <= payload.keys():
        return ocsf_event(payload), "Security Hub v2 (OCSF) finding"
    if {"eventSource", "eventName", "eventVersion"} <= payload.keys():
        service = str(payload["eventSource"]).split(".")[0]
        detail_type = (
            "AWS Console Sign In via CloudTrail"
            if payload.get("eventType") == "AwsConsoleSignIn"
            else "AWS API Call via CloudTrail"
        )
        account = str(payload.get("recipientAccountId") or (payload.get("userIdentity") or {}).get("accountId", ""))
        event = _envelope(
            f"aws.{service}",
            detail_type,
            payload,
            account,
            str(payload.get("awsRegion", "")),
            str(payload.get("eventTime", "")),
        )
        return event, "CloudTrail record"
    raise EventError(
        "not an EventBridge event, GuardDuty finding, ASFF or OCSF finding or CloudTrail record "
        f"(top-level keys: {', '.join(sorted(payload)[:8]) or 'none'})"
    )
