"""Shared fixtures: fake credentials, in-process moto, and an action context on it."""

from __future__ import annotations

import os

import pytest

from tests.support.events import IAM_FINDING, guardduty_api_form, in_account
from tests.support.paths import EVENTS


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

    from parry.local.corrections import moto_like_aws

    moto_like_aws()  # where moto differs from AWS in the calls Parry makes (parry.local.corrections)
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
def engine(aws, parry_env):
    from parry.config import Settings
    from parry.engine.run import Engine

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
    from tests.support.findings import registered

    iam = aws.client("iam")
    iam.create_user(UserName="ci-deployer")
    key = iam.create_access_key(UserName="ci-deployer")["AccessKey"]["AccessKeyId"]
    event = load_event(IAM_FINDING)
    event["account"] = event["detail"]["accountId"] = "123456789012"
    event["region"] = event["detail"]["region"] = "us-east-1"
    event["detail"]["arn"] = in_account(event["detail"]["arn"], "123456789012", "us-east-1")
    event["detail"]["resource"]["accessKeyDetails"].update(userName="ci-deployer", accessKeyId=key)
    guardduty_finding_in_security_hub(aws, event)
    event = registered(aws, event)  # in the administrator's GuardDuty, which Parry re-reads it from
    return {"user": "ci-deployer", "key": key, "event": event}


@pytest.fixture
def api_form():
    """`guardduty_api_form`, for tests that stub GuardDuty's GetFindings with a real finding."""
    return guardduty_api_form
