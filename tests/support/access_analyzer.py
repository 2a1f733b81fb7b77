"""The published Access Analyzer event (tests/events/access-analyzer), moved into the sandbox."""

from __future__ import annotations

import json
from typing import Any

from tests.support.paths import EVENTS

ACCOUNT, REGION = "123456789012", "us-east-1"
BOOK = "access-analyzer-external-access"
FIXTURE = EVENTS / "access-analyzer" / "access-analyzer-finding-s3-cross-account.eventbridge.json"


def sandbox_event(resource: str = "arn:aws:s3:::my-bucket", resource_type: str = "AWS::S3::Bucket") -> dict[str, Any]:
    """The published external-access event, in the sandbox account and region, on `resource`."""
    event: dict[str, Any] = json.loads(FIXTURE.read_text())
    event["account"], event["region"] = ACCOUNT, REGION
    event["resources"] = [f"arn:aws:access-analyzer:{REGION}:{ACCOUNT}:analyzer/MyAnalyzer"]
    event["detail"].update(accountId=ACCOUNT, region=REGION, resource=resource, resourceType=resource_type)
    return event
