"""Shared fixtures: fake credentials, in-process moto, and an action context on it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "tests" / "events"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    """Never reach a real account: fake credentials and a fixed region for every test."""
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    for var in [v for v in os.environ if v.startswith("PARRY_")]:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def moto():
    from moto import mock_aws

    from parry.local.corrections import security_hub_findings_like_aws

    security_hub_findings_like_aws()  # moto has no BatchUpdateFindings; see parry.local.corrections
    with mock_aws():
        yield


@pytest.fixture
def aws(moto):
    from parry.aws.clients import ClientFactory

    return ClientFactory(region="us-east-1")


@pytest.fixture
def parry_env(aws, monkeypatch):
    """Parry's own resources (evidence bucket, case table, topic, kill switch) on in-process moto."""
    from parry.local.bootstrap import provision

    values = provision(aws)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture
def bus(aws):
    """The Parry run requests put on the default bus, as a runner gets them (a rule delivering to a queue)."""
    import json

    sqs, events = aws.client("sqs"), aws.client("events")
    url = sqs.create_queue(QueueName="run-requests")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="parry-run-requests", EventPattern=json.dumps({"source": ["parry"], "detail-type": ["Parry Run Request"]}))
    events.put_targets(Rule="parry-run-requests", Targets=[{"Id": "q", "Arn": arn}])

    def delivered() -> list[dict]:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        for m in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return [json.loads(m["Body"]) for m in got]

    return delivered


@pytest.fixture
def engine(aws, parry_env):
    from parry.engine.run import Engine
    from parry.config import Settings

    return Engine(aws, Settings.from_env())


@pytest.fixture
def load_event():
    """Loader of fixture events from tests/events, wrapped in their EventBridge envelope if bare."""
    import copy
    import json

    from parry.routing.events import wrap

    def load(relpath: str) -> dict:
        event, _ = wrap(json.loads((EVENTS / relpath).read_text()))
        return copy.deepcopy(event)

    return load


@pytest.fixture
def compromised_user(aws, load_event):
    """An IAM user with an active key, and the real GuardDuty finding adapted to point at it.

    The finding is in Security Hub too (enabled in the account), as GuardDuty's integration puts it.
    """
    from parry.local.sandbox import guardduty_finding_in_security_hub

    iam = aws.client("iam")
    iam.create_user(UserName="ci-deployer")
    key = iam.create_access_key(UserName="ci-deployer")["AccessKey"]["AccessKeyId"]
    event = load_event(IAM_FINDING)
    event["account"] = event["detail"]["accountId"] = "123456789012"
    event["region"] = event["detail"]["region"] = "us-east-1"
    event["detail"]["arn"] = in_account(event["detail"]["arn"], "123456789012", "us-east-1")
    event["detail"]["resource"]["accessKeyDetails"].update(userName="ci-deployer", accessKeyId=key)
    guardduty_finding_in_security_hub(aws, event)
    return {"user": "ci-deployer", "key": key, "event": event}


def in_account(arn: str, account: str, region: str) -> str:
    """The same ARN in another account and region (a finding moved into the test's account)."""
    parts = arn.split(":")
    parts[3], parts[4] = region, account
    return ":".join(parts)


IAM_FINDING = "guardduty/unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.bare.json"


def guardduty_api_form(detail: dict) -> tuple[dict, list[str]]:
    """A GuardDuty event's finding as boto3's GetFindings returns it, and what boto3 could not carry.

    The inverse of `parry.custom_actions.wire_format`, by botocore's model: each wire key becomes
    its member name, epoch-second timestamps datetimes. Keys the model does not describe (the
    open `additionalInfo` object of older events), null values (boto3's parser drops them) and
    values of another type than the model's (a number where it says string: the Stubber refuses
    them) cannot come from the API: they are left out and listed by path (`a.b`, `a.b=null`,
    `a.b=<int>`).
    """
    import botocore.session

    model = botocore.session.get_session().get_service_model("guardduty")
    shape = model.operation_model("GetFindings").output_shape.members["Findings"].member
    lost: list[str] = []
    return _api_form(shape, detail, "detail", lost), lost


def _api_form(shape, value, path: str, lost: list[str]):
    from datetime import datetime, timezone

    if shape.type_name == "structure":
        members = {m.serialization.get("name", n): (n, m) for n, m in shape.members.items()}
        out = {}
        for key, item in value.items():
            if key not in members:
                lost.append(f"{path}.{key}")
            elif item is None:
                lost.append(f"{path}.{key}=null")
            elif members[key][1].type_name == "string" and not isinstance(item, str):
                lost.append(f"{path}.{key}=<{type(item).__name__}>")
            else:
                name, member = members[key]
                out[name] = _api_form(member, item, f"{path}.{key}", lost)
        return out
    if shape.type_name == "list":
        return [_api_form(shape.member, item, f"{path}[{i}]", lost) for i, item in enumerate(value)]
    if shape.type_name == "map":
        return {k: _api_form(shape.value, item, f"{path}.{k}", lost) for k, item in value.items()}
    if shape.type_name == "timestamp" and isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    return value


@pytest.fixture
def api_form():
    """`guardduty_api_form`, for tests that stub GuardDuty's GetFindings with a real finding."""
    return guardduty_api_form
