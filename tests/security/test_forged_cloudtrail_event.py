"""Attack: invoke a runner directly with a forged "AWS API Call via CloudTrail" event.

The attacker describes a call nobody made ("user1 made a key for admin"), or a real call altered to
name another key, hoping the runner deactivates a key of their choosing. The runner re-reads the
event from CloudTrail (parry.routing.cloudtrail): every forgery is refused, nothing changes (the
keys stay Active, no case is opened), and a security event is logged and counted. An event
CloudTrail does not hold *yet* (its history lags) is retried, not refused, until it is too old.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from parry.errors import CaseBusy
from parry.routing.cloudtrail import LOOKUP_LAG_SECONDS
from tests.support.control import Context, emf, fresh_runner, lines
from tests.support.findings import registered
from tests.support.routing import load

BOOK = "iam-access-key-for-another-user"
ACCOUNT = "123456789012"


@pytest.fixture
def runner(monkeypatch, tmp_path, parry_env):
    return fresh_runner(monkeypatch, tmp_path, BOOK)


@pytest.fixture
def keys(aws) -> dict[str, str]:
    """user2's key that user1 really made (CloudTrail recorded it), and admin's key: what the attacker wants off."""
    iam = aws.client("iam")
    for user in ("user2", "admin"):
        iam.create_user(UserName=user)
    made = iam.create_access_key(UserName="user2")["AccessKey"]["AccessKeyId"]
    victim = iam.create_access_key(UserName="admin")["AccessKey"]["AccessKeyId"]
    return {"made": made, "victim": victim}


@pytest.fixture
def recorded(aws, keys) -> dict:
    """The real CreateAccessKey call, as CloudTrail delivers it and holds it."""
    event = load("cloudtrail/iam-createaccesskey.bare.json")
    event["account"], event["region"] = ACCOUNT, "us-east-1"
    event["detail"].update(recipientAccountId=ACCOUNT, awsRegion="us-east-1", eventTime="2022-09-27T17:09:18Z")
    event["detail"]["responseElements"]["accessKey"]["accessKeyId"] = keys["made"]
    return registered(aws, event)


def statuses(aws) -> dict[str, str]:
    iam = aws.client("iam")
    return {
        k["AccessKeyId"]: k["Status"]
        for user in ("user2", "admin")
        for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    }


def cases_opened(aws, parry_env) -> int:
    return aws.client("dynamodb").scan(TableName=parry_env["PARRY_CASES_TABLE"], Select="COUNT")["Count"]


def unknown_call(event: dict, keys: dict) -> dict:
    event["detail"]["eventID"] = "0f0f0f0f-0000-4000-8000-000000000000"
    event["detail"]["requestParameters"]["userName"] = "admin"
    event["detail"]["responseElements"]["accessKey"].update(userName="admin", accessKeyId=keys["victim"])
    return event


def altered_parameters(event: dict, keys: dict) -> dict:
    event["detail"]["requestParameters"]["userName"] = "admin"
    return event


def altered_response(event: dict, keys: dict) -> dict:
    event["detail"]["responseElements"]["accessKey"].update(userName="admin", accessKeyId=keys["victim"])
    return event


def another_account(event: dict, keys: dict) -> dict:
    event["account"] = "210987654321"
    return event


@pytest.mark.parametrize(
    "forge, named",
    [
        (unknown_call, "CloudTrail holds no event 0f0f0f0f-0000-4000-8000-000000000000"),
        (altered_parameters, "detail.requestParameters.userName is 'admin' in the event, 'user2' in CloudTrail"),
        (altered_response, "detail.responseElements.accessKey.userName is 'admin' in the event"),
        (another_account, "account is '210987654321' in the event, '123456789012' in detail.recipientAccountId"),
    ],
    ids=["unknown-event-id", "altered-request-parameters", "altered-response", "another-account"],
)
def test_a_forged_cloudtrail_event_is_refused_changes_nothing_and_is_a_security_event(
    runner, aws, parry_env, keys, recorded, capsys, forge, named
):
    lines(capsys)  # what the fixtures printed
    event = forge(copy.deepcopy(recorded), keys)

    result = runner.handler(event, Context())  # returns: a retry cannot make a forgery authentic

    assert result["status"] == "REFUSED" and named in result["error"]
    assert statuses(aws) == {keys["made"]: "Active", keys["victim"]: "Active"}
    assert cases_opened(aws, parry_env) == 0
    records = lines(capsys)
    (logged,) = [r for r in records if r.get("message") == "security event"]
    assert logged["security_event"] is True and named in logged["reason"] and logged["playbook"] == BOOK
    assert emf(records) == {"SecurityRejections": [1.0]}


def test_the_real_call_runs_on_cloudtrails_copy(runner, aws, parry_env, keys, recorded):
    event = copy.deepcopy(recorded)
    event["detail"]["injected"] = {"note": "not from CloudTrail"}

    result = runner.handler(event, Context())

    assert result["status"] == "SUCCEEDED"
    assert statuses(aws) == {keys["made"]: "Inactive", keys["victim"]: "Active"}
    from parry.config import Settings
    from parry.engine.run import Engine

    stored = Engine(aws, Settings.from_env()).store.get(result["case_id"])
    assert stored.event["detail"] == recorded["detail"] and "injected" not in stored.event["detail"]


def _at(age: timedelta) -> str:
    return (datetime.now(UTC) - age).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_call_cloudtrail_does_not_hold_yet_is_retried_then_refused_once_too_old(
    runner, aws, parry_env, keys, recorded, capsys
):
    lines(capsys)
    fresh = unknown_call(copy.deepcopy(recorded), keys)
    fresh["detail"]["eventTime"] = _at(timedelta(minutes=2))

    with pytest.raises(CaseBusy, match="CloudTrail holds no event .* yet"):  # Lambda retries the delivery
        runner.handler(fresh, Context())

    assert not [r for r in lines(capsys) if r.get("message") == "security event"]
    stale = copy.deepcopy(fresh)
    stale["detail"]["eventTime"] = _at(timedelta(seconds=LOOKUP_LAG_SECONDS + 60))

    result = runner.handler(stale, Context())

    assert result["status"] == "REFUSED" and "CloudTrail holds no event" in result["error"]
    assert statuses(aws) == {keys["made"]: "Active", keys["victim"]: "Active"}
    assert cases_opened(aws, parry_env) == 0


def test_an_event_time_in_the_future_is_refused(runner, aws, parry_env, keys, recorded):
    forged = unknown_call(copy.deepcopy(recorded), keys)
    forged["detail"]["eventTime"] = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    result = runner.handler(forged, Context())

    assert result["status"] == "REFUSED" and "in the future" in result["error"]
