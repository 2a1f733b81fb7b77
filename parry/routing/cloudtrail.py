"""CloudTrail events authenticated: an "AWS API Call via CloudTrail" event is re-read from CloudTrail.

Anyone who can invoke a runner can describe any API call: "user1 made a key for user2", and
Parry would deactivate user2's key. CloudTrail itself cannot be forged, so Parry asks it:
LookupEvents by EventId, in the event's region, in the account the call was made in (through the
member role there). An event CloudTrail does not know, or whose call (name, source, caller,
parameters, response, error, account, region) differs from CloudTrail's record, is refused with
FindingNotAuthentic; otherwise CloudTrail's record replaces the delivered detail, so nothing a
deliverer added reaches a playbook.

CloudTrail's event history lags EventBridge: CloudTrail delivers an event within about 5 minutes
on average, with no guarantee, and up to ~15 minutes is seen. An event CloudTrail does not hold
yet is retried (EventNotYetRecorded) until it is `LOOKUP_LAG_SECONDS` old; after that it is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from parry.errors import EventNotYetRecorded, FindingNotAuthentic
from parry.routing.events import ACCOUNT_ID, REGION
from parry.routing.reread import differ

if TYPE_CHECKING:
    from parry.aws.clients import ClientFactory

CLOUDTRAIL_DETAIL_TYPES = ("AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail")
# Past this age an event CloudTrail still does not hold is refused: 15 minutes of observed lag, doubled.
LOOKUP_LAG_SECONDS = 30 * 60
CLOCK_SKEW_SECONDS = 5 * 60  # an eventTime further in the future than this is no real call's
EVENT_ID = re.compile(r"[A-Za-z0-9-]{1,128}")
# What a call is: these must be CloudTrail's, byte for byte (as JSON values), for Parry to act on it.
COMPARED = (
    "eventName",
    "eventSource",
    "userIdentity",
    "requestParameters",
    "responseElements",
    "errorCode",
    "recipientAccountId",
    "awsRegion",
)


def is_cloudtrail_event(event: dict[str, Any]) -> bool:
    return event.get("detail-type") in CLOUDTRAIL_DETAIL_TYPES


def takes_cloudtrail_events(trigger: dict[str, Any]) -> bool:
    """Whether a playbook's trigger (an EventBridge pattern, or `$or` of them) takes CloudTrail events:
    its runner, and its member role, then need cloudtrail:LookupEvents to confirm each."""
    branches = trigger.get("$or", [trigger])
    return any(
        isinstance(branch, dict) and set(CLOUDTRAIL_DETAIL_TYPES) & set(branch.get("detail-type") or ())
        for branch in branches
    )


def authentic_cloudtrail_event(
    event: dict[str, Any], in_account: Callable[[str], ClientFactory], now: float
) -> dict[str, Any]:
    """`event` with its detail as CloudTrail recorded the call (`in_account(account)`: the clients there).

    FindingNotAuthentic when CloudTrail does not confirm it; EventNotYetRecorded while it may yet
    (the runner fails the delivery so it is retried). A throttled or failing CloudTrail raises its
    ClientError: a retry can succeed.
    """
    delivered = event["detail"]
    event_id, account, region = (
        delivered.get("eventID"),
        delivered.get("recipientAccountId"),
        delivered.get("awsRegion"),
    )
    if not isinstance(event_id, str) or not EVENT_ID.fullmatch(event_id):
        raise FindingNotAuthentic("the CloudTrail event's detail.eventID is not a CloudTrail event id")
    if not isinstance(account, str) or not ACCOUNT_ID.fullmatch(account):
        raise FindingNotAuthentic(f"CloudTrail event {event_id}: detail.recipientAccountId is not an account id")
    if not isinstance(region, str) or not REGION.fullmatch(region):
        raise FindingNotAuthentic(f"CloudTrail event {event_id}: detail.awsRegion is not an AWS region name")
    envelope = [
        *differ("account", event.get("account", account), account, "detail.recipientAccountId"),
        *differ("region", event.get("region", region), region, "detail.awsRegion"),
    ]
    if envelope:
        raise FindingNotAuthentic(f"CloudTrail event {event_id}: {'; '.join(envelope)}")
    held = _lookup(in_account(account), region, event_id)
    if held is None:
        age = _age(delivered.get("eventTime"), now, event_id)
        if age < LOOKUP_LAG_SECONDS:
            raise EventNotYetRecorded(
                f"CloudTrail holds no event {event_id} in {account} {region} yet ({age / 60:.0f} minutes after the "
                f"call; its history lags by up to ~15): retry the delivery, refused after {LOOKUP_LAG_SECONDS // 60}"
            )
        raise FindingNotAuthentic(f"CloudTrail holds no event {event_id} in account {account}, region {region}")
    differences = [
        d for key in COMPARED for d in differ(f"detail.{key}", delivered.get(key), held.get(key), "CloudTrail")
    ]
    if differences:
        raise FindingNotAuthentic(
            f"CloudTrail event {event_id} differs from what CloudTrail recorded: {'; '.join(differences)}"
        )
    return {**event, "account": account, "region": region, "detail": held}


def _lookup(aws: ClientFactory, region: str, event_id: str) -> dict[str, Any] | None:
    """CloudTrail's record of the call (LookupEvents by EventId in its region), or None if it holds none."""
    from botocore.exceptions import ClientError

    from parry.aws.errors import refusal

    try:
        found = aws.client("cloudtrail", region).lookup_events(
            LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": event_id}], MaxResults=1
        )["Events"]
    except ClientError as exc:
        refused = refusal(exc)
        if refused is None or refused.status >= 500 or "Throttl" in refused.code:
            raise
        raise FindingNotAuthentic(
            f"CloudTrail event {event_id} not confirmed: LookupEvents refused with {refused.code}: {refused.message}"
            " (the runner's role, and the member role, need cloudtrail:LookupEvents)"
        ) from exc
    if not found or not isinstance(found[0].get("CloudTrailEvent"), str):
        return None
    record: dict[str, Any] = json.loads(found[0]["CloudTrailEvent"])
    return record if record.get("eventID") == event_id else None


def _age(event_time: Any, now: float, event_id: str) -> float:
    """Seconds since the call; FindingNotAuthentic for a time no CloudTrail record has."""
    try:
        stamp = datetime.fromisoformat(event_time.replace("Z", "+00:00")) if isinstance(event_time, str) else None
    except ValueError:
        stamp = None
    if stamp is None or stamp.tzinfo is None:
        raise FindingNotAuthentic(f"CloudTrail event {event_id}: detail.eventTime is not an ISO 8601 UTC time")
    age = now - stamp.timestamp()
    if age < -CLOCK_SKEW_SECONDS:
        raise FindingNotAuthentic(f"CloudTrail event {event_id}: detail.eventTime is in the future")
    return age
