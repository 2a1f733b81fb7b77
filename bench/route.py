"""Route events through 100 playbook-like patterns with Parry's matcher and with moto's.

Back-tests run every event against every playbook, so the matcher's speed matters.
This prints events/s for both matchers over the same events and patterns, and the
ratio. Events come from ``tests/events/`` (EventBridge envelopes, or the bare
GuardDuty findings / CloudTrail records / Config and SNS payloads kept there, which
are wrapped in the envelope EventBridge would deliver); without that directory, or
with ``--synthetic``, seeded synthetic events are generated instead (and added when
the directory holds fewer than 20 events).

    python bench/route.py [--events DIR] [--synthetic] [-n EVENTS] [--moto-events N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from parry.routing.patterns import compile_pattern  # noqa: E402

Event = dict[str, Any]

GUARDDUTY_PREFIXES = [
    "UnauthorizedAccess:",
    "Recon:",
    "Backdoor:",
    "CryptoCurrency:",
    "Trojan:",
    "Stealth:",
    "PenTest:",
    "Policy:",
    "Exfiltration:",
    "Discovery:",
    "PrivilegeEscalation:",
    "Persistence:",
    "CredentialAccess:",
    "Impact:",
    "DefenseEvasion:",
]
AFSBP = "aws-foundational-security-best-practices/v/1.0.0/"
CONTROLS = [
    "EC2.2",
    "EC2.7",
    "EC2.19",
    "IAM.1",
    "IAM.4",
    "IAM.6",
    "RDS.4",
    "RDS.6",
    "S3.1",
    "S3.8",
    "Lambda.1",
    "KMS.4",
    "CloudTrail.1",
    "GuardDuty.1",
    "Config.1",
]
CLOUDTRAIL_APIS = {
    "iam": [
        "AttachRolePolicy",
        "AttachUserPolicy",
        "PutRolePolicy",
        "PutUserPolicy",
        "CreateAccessKey",
        "CreateLoginProfile",
        "UpdateAssumeRolePolicy",
        "CreateUser",
        "DeleteUserPolicy",
    ],
    "s3": [
        "PutBucketPolicy",
        "PutBucketAcl",
        "DeleteBucketPolicy",
        "PutBucketPublicAccessBlock",
        "DeletePublicAccessBlock",
        "CreateBucket",
    ],
    "lambda": [
        "AddPermission20150331v2",
        "UpdateFunctionCode20150331v2",
        "UpdateFunctionConfiguration20150331v2",
        "CreateFunction20150331",
    ],
    "ec2": ["AuthorizeSecurityGroupIngress", "ModifyInstanceAttribute", "CreateKeyPair", "RunInstances"],
    "cloudtrail": ["StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors"],
    "kms": ["ScheduleKeyDeletion", "DisableKey", "PutKeyPolicy"],
    "signin": ["ConsoleLogin"],
}
CONFIG_TYPES = [
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::Instance",
    "AWS::S3::Bucket",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::SQS::Queue",
    "AWS::Lambda::Function",
    "AWS::RDS::DBInstance",
    "AWS::KMS::Key",
    "AWS::CloudTrail::Trail",
    "AWS::SSM::ManagedInstanceInventory",
    "AWS::EC2::VPC",
    "AWS::EC2::NetworkAcl",
    "AWS::EKS::Cluster",
    "AWS::::Account",
]


# --- the 100 patterns -------------------------------------------------------------------


def playbook_patterns() -> list[dict[str, Any]]:
    """30 GuardDuty, 25 Security Hub, 30 CloudTrail and 15 Config triggers, as playbooks write them."""
    patterns: list[dict[str, Any]] = []
    for i, prefix in enumerate(GUARDDUTY_PREFIXES):
        for severity in ([">=", 7], [">=", 4, "<", 7]):
            detail: dict[str, Any] = {"type": [{"prefix": prefix}], "severity": [{"numeric": severity}]}
            if i % 3 == 0:
                detail["resource"] = {"resourceType": ["AccessKey", "Instance"]}
            if i % 4 == 1:
                detail["service"] = {"archived": [False]}
            patterns.append({"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"], "detail": detail})
    labels = [["CRITICAL"], ["HIGH", "CRITICAL"], ["MEDIUM", "HIGH", "CRITICAL"], ["LOW", "INFORMATIONAL"], ["MEDIUM"]]
    for i in range(25):
        finding: dict[str, Any] = {"Severity": {"Label": labels[i % 5]}}
        if i < 15:
            finding["GeneratorId"] = [AFSBP + CONTROLS[i]]
            finding["Compliance"] = {"Status": ["FAILED"]}
        else:
            finding["GeneratorId"] = [{"prefix": "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/"}]
        if i % 2 == 0:
            finding["Workflow"] = {"Status": ["NEW", "NOTIFIED"]}
        if i % 5 == 3:
            finding["RecordState"] = [{"anything-but": "ARCHIVED"}]
        detail_type = (
            ["Security Hub Findings - Imported"]
            if i % 3
            else ["Security Hub Findings - Imported", "Security Hub Findings - Custom Action"]
        )
        patterns.append({"source": ["aws.securityhub"], "detail-type": detail_type, "detail": {"findings": finding}})
    services = list(itertools.islice(itertools.cycle(CLOUDTRAIL_APIS), 30))
    for i, service in enumerate(services):
        names = CLOUDTRAIL_APIS[service]
        detail = {
            "eventSource": [f"{service}.amazonaws.com"],
            "eventName": names[i % len(names) :] + names[: i % len(names)][:2],
        }
        if i % 3 == 0:
            detail["errorCode"] = [{"exists": False}]
        if i % 4 == 1:
            detail["userIdentity"] = {"type": [{"anything-but": ["AWSService"]}]}
        if i % 5 == 2:
            detail["sourceIPAddress"] = [{"anything-but": {"prefix": "10."}}]
        if i % 7 == 3:
            detail["userIdentity"] = {"arn": [{"wildcard": "arn:aws:iam::*:user/*"}]}
        detail_type = "AWS Console Sign In via CloudTrail" if service == "signin" else "AWS API Call via CloudTrail"
        patterns.append({"source": [f"aws.{service}"], "detail-type": [detail_type], "detail": detail})
    for i, resource_type in enumerate(CONFIG_TYPES):
        item: dict[str, Any] = {"resourceType": [resource_type]}
        if i % 2 == 0:
            item["configurationItemStatus"] = ["OK", "ResourceDiscovered"]
        detail = {"messageType": ["ConfigurationItemChangeNotification"], "configurationItem": item}
        if i % 3 == 1:
            detail = {
                "messageType": ["ComplianceChangeNotification"],
                "resourceType": [resource_type],
                "newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]},
            }
        detail_type = (
            "Config Rules Compliance Change" if "newEvaluationResult" in detail else "Config Configuration Item Change"
        )
        patterns.append({"source": ["aws.config"], "detail-type": [detail_type], "detail": detail})
    assert len(patterns) == 100, len(patterns)
    return patterns


# --- events --------------------------------------------------------------------------------


def envelope(
    detail_type: str,
    source: str,
    detail: dict[str, Any],
    account: str = "123456789012",
    region: str = "us-east-1",
    time_: str = "2024-01-01T00:00:00Z",
) -> Event:
    return {
        "version": "0",
        "id": "00000000-0000-0000-0000-000000000000",
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": time_,
        "region": region,
        "resources": [],
        "detail": detail,
    }


def as_eventbridge(payload: Any) -> Event | None:
    """The EventBridge event a fixture stands for, or None if it is not one Parry routes."""
    if not isinstance(payload, dict):
        return None
    if "detail-type" in payload and "source" in payload:
        return payload
    if "eventSource" in payload and "eventName" in payload:  # a bare CloudTrail record
        service = payload["eventSource"].split(".")[0]
        detail_type = (
            "AWS Console Sign In via CloudTrail"
            if payload["eventName"] == "ConsoleLogin"
            else "AWS API Call via CloudTrail"
        )
        return envelope(
            detail_type,
            f"aws.{service}",
            payload,
            payload.get("recipientAccountId", "123456789012"),
            payload.get("awsRegion", "us-east-1"),
            payload.get("eventTime", "2024-01-01T00:00:00Z"),
        )
    if "schemaVersion" in payload and "severity" in payload and "type" in payload:  # a bare GuardDuty finding
        return envelope(
            "GuardDuty Finding",
            "aws.guardduty",
            payload,
            payload.get("accountId", "123456789012"),
            payload.get("region", "us-east-1"),
            payload.get("updatedAt", "2024-01-01T00:00:00Z"),
        )
    if payload.get("Type") == "Notification" and "Message" in payload:  # SNS delivery of a Config message
        message = payload["Message"]
        return as_eventbridge(json.loads(message) if isinstance(message, str) else message)
    if "invokingEvent" in payload:  # a Config rule invocation: its configuration item
        invoking = payload["invokingEvent"]
        return as_eventbridge(json.loads(invoking) if isinstance(invoking, str) else invoking)
    if payload.get("messageType") == "ComplianceChangeNotification":
        return envelope("Config Rules Compliance Change", "aws.config", payload)
    if "configurationItem" in payload:
        return envelope("Config Configuration Item Change", "aws.config", payload)
    return None


def load_events(directory: Path) -> list[Event]:
    events = []
    for path in sorted(directory.rglob("*.json")):
        try:
            event = as_eventbridge(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
        if event is not None:
            events.append(event)
    return events


def synthetic_events(count: int, seed: int = 7) -> list[Event]:
    """GuardDuty, Security Hub, CloudTrail and Config events with realistic shapes and values."""
    rng = random.Random(seed)
    events: list[Event] = []
    for i in range(count):
        kind = i % 4
        if kind == 0:
            finding_type = rng.choice(GUARDDUTY_PREFIXES) + rng.choice(["IAMUser/", "EC2/", "S3/"]) + "Sample"
            detail = {
                "schemaVersion": "2.0",
                "type": finding_type,
                "severity": rng.choice([2, 5, 5.5, 8, 8.9]),
                "resource": {"resourceType": rng.choice(["AccessKey", "Instance", "S3Bucket"])},
                "service": {"archived": rng.random() < 0.2, "count": rng.randint(1, 9)},
            }
            events.append(envelope("GuardDuty Finding", "aws.guardduty", detail))
        elif kind == 1:
            findings = [
                {
                    "GeneratorId": AFSBP + rng.choice(CONTROLS),
                    "Severity": {"Label": rng.choice(["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"])},
                    "Workflow": {"Status": rng.choice(["NEW", "NOTIFIED", "RESOLVED"])},
                    "Compliance": {"Status": rng.choice(["PASSED", "FAILED"])},
                    "RecordState": rng.choice(["ACTIVE", "ARCHIVED"]),
                }
                for _ in range(rng.randint(1, 3))
            ]
            events.append(envelope("Security Hub Findings - Imported", "aws.securityhub", {"findings": findings}))
        elif kind == 2:
            service = rng.choice(list(CLOUDTRAIL_APIS))
            detail = {
                "eventSource": f"{service}.amazonaws.com",
                "eventName": rng.choice(CLOUDTRAIL_APIS[service]),
                "sourceIPAddress": rng.choice(["10.1.2.3", "198.51.100.7", "AWS Internal"]),
                "userIdentity": {
                    "type": rng.choice(["IAMUser", "AssumedRole", "AWSService", "Root"]),
                    "arn": "arn:aws:iam::123456789012:user/alice",
                },
            }
            if rng.random() < 0.2:
                detail["errorCode"] = "AccessDenied"
            events.append(envelope("AWS API Call via CloudTrail", f"aws.{service}", detail))
        else:
            detail = {
                "messageType": "ConfigurationItemChangeNotification",
                "configurationItem": {
                    "resourceType": rng.choice(CONFIG_TYPES),
                    "configurationItemStatus": rng.choice(["OK", "ResourceDeleted"]),
                },
            }
            events.append(envelope("Config Configuration Item Change", "aws.config", detail))
    return events


# --- timing ------------------------------------------------------------------------------


def route(matchers: list[Callable[[Event], bool]], events: Iterable[Event]) -> tuple[int, int, float]:
    """(events routed, pattern matches, seconds) for every event against every matcher."""
    count = matches = 0
    start = time.perf_counter()
    for event in events:
        count += 1
        for matches_event in matchers:
            if matches_event(event):
                matches += 1
    return count, matches, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--events",
        type=Path,
        default=ROOT / "tests" / "events",
        help="directory of event JSON files (default: tests/events)",
    )
    parser.add_argument("--synthetic", action="store_true", help="use generated events even if files exist")
    parser.add_argument("-n", "--count", type=int, default=20_000, help="events to route through Parry")
    parser.add_argument("--moto-events", type=int, default=2_000, help="events to route through moto")
    args = parser.parse_args(argv)

    base = [] if args.synthetic or not args.events.is_dir() else load_events(args.events)
    origin = f"{len(base)} fixture events from {args.events}"
    if len(base) < 20:  # too few to be representative: pad with generated ones
        origin = f"{origin} + 400 synthetic" if base else "400 synthetic events"
        base += synthetic_events(400)
    events = list(itertools.islice(itertools.cycle(base), args.count))

    patterns = playbook_patterns()
    parry = [compile_pattern(p).matches for p in patterns]
    rows = [("parry", *route(parry, events))]

    note = ""
    try:
        from moto.events.models import EventPattern
    except ImportError:
        note = "moto is not installed: no comparison."
    else:
        moto = [EventPattern.load(json.dumps(p)).matches_event for p in patterns]
        subset = events[: args.moto_events]
        rows.append(("moto", *route(moto, subset)))
        _, parry_matches, _ = route(parry, subset)
        note = (
            f"On moto's {len(subset)} events Parry finds {parry_matches} pattern matches, moto "
            f"{rows[1][2]} (moto cannot match arrays of objects such as Security Hub findings)."
        )

    print(f"events: {origin}; patterns: {len(patterns)} (30 GuardDuty, 25 Security Hub, 30 CloudTrail, 15 Config)")
    print(f"{'matcher':<8}{'events':>9}{'matches':>10}{'seconds':>10}{'events/s':>12}{'us/event':>10}")
    for name, count, matches, seconds in rows:
        print(
            f"{name:<8}{count:>9}{matches:>10}{seconds:>10.3f}{count / seconds:>12,.0f}{seconds / count * 1e6:>10.1f}"
        )
    if len(rows) == 2:
        ratio = (rows[0][1] / rows[0][3]) / (rows[1][1] / rows[1][3])
        print(f"ratio: Parry routes {ratio:.1f}x as many events per second as moto")
    print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
