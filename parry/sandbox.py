"""The demo's sandbox: compromised resources seeded in a local account, and the real event for each.

Each scenario seeds what a real finding would point at, adapts the published sample event to the
sandbox's ids (account, region, user, key ...), and reads the resource back afterwards to show the
containment held. The events are the project's fixtures in tests/events.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from parry.aws import ClientFactory
from parry.errors import ConfigError
from parry.events import wrap

EVENTS_DIR = Path(__file__).resolve().parent.parent / "tests" / "events"


def load_event(relpath: str) -> dict[str, Any]:
    path = EVENTS_DIR / relpath
    if not path.is_file():
        raise ConfigError(f"demo event {relpath} not found under {EVENTS_DIR} (run the demo from a clone of the repository)")
    event, _ = wrap(json.loads(path.read_text()))
    return copy.deepcopy(event)


def _retarget(event: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    event["account"], event["region"] = account, region
    detail = event["detail"]
    if "accountId" in detail:
        detail["accountId"], detail["region"] = account, region
    return event


@dataclass
class Scenario:
    name: str
    title: str
    seed: Callable[[ClientFactory, str, str], dict[str, Any]]  # (aws, account, region) -> event
    check: Callable[[ClientFactory, dict[str, Any]], tuple[bool, str]]  # read back: (contained?, what was seen)


# ---- IAM: an access key used from outside AWS ----------------------------------------------------

DEMO_USER = "ci-deployer"


def _seed_iam_key(aws: ClientFactory, account: str, region: str) -> dict[str, Any]:
    iam = aws.client("iam")
    iam.create_user(UserName=DEMO_USER, Tags=[{"Key": "team", "Value": "platform"}])
    key = iam.create_access_key(UserName=DEMO_USER)["AccessKey"]["AccessKeyId"]
    iam.put_user_policy(
        UserName=DEMO_USER,
        PolicyName="deploy",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}
        ),
    )
    event = _retarget(load_event("guardduty/unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.bare.json"), account, region)
    details = event["detail"]["resource"]["accessKeyDetails"]
    details["userName"], details["accessKeyId"] = DEMO_USER, key
    return event


def _check_iam_key(aws: ClientFactory, event: dict[str, Any]) -> tuple[bool, str]:
    details = event["detail"]["resource"]["accessKeyDetails"]
    keys = aws.client("iam").list_access_keys(UserName=details["userName"])["AccessKeyMetadata"]
    status = next((k["Status"] for k in keys if k["AccessKeyId"] == details["accessKeyId"]), "missing")
    return status == "Inactive", f"access key {details['accessKeyId']} of {details['userName']} is {status}"


SCENARIOS: list[Scenario] = [
    Scenario(
        "iam-key",
        "An IAM user's access key used from outside AWS (GuardDuty InstanceCredentialExfiltration.OutsideAWS)",
        _seed_iam_key,
        _check_iam_key,
    ),
]
