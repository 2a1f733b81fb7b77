"""CloudTrail events re-read from CloudTrail (parry.routing.cloudtrail): in the account and region of the call.

moto keeps one CloudTrail history per account and region (local mode's LookupEvents), so a call is
confirmed only where CloudTrail recorded it: a member's call through the member role, in its region.
The attacks through the runner are in tests/security/test_forged_cloudtrail_event.py.
"""

from __future__ import annotations

import copy

import pytest

from parry.aws.clients import ClientFactory
from parry.config import Settings
from parry.engine.run import Engine
from parry.errors import FindingNotAuthentic
from parry.local.corrections import register_finding
from parry.playbooks.validate import load_file
from parry.routing.findings import authentic_event
from parry.store import model as cs
from tests.support.members import MEMBER, SECURITY, key_status, member_session
from tests.support.routing import load

BOOK = "iam-access-key-for-another-user"
ROLE = f"parry-member-{BOOK}"


def key_made(iam, user: str = "user2") -> str:
    iam.create_user(UserName=user)
    return iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]


def call(account: str, region: str, key: str) -> dict:
    """The fixture's CreateAccessKey, made in `account` and `region` for user2's key `key`."""
    event = load("cloudtrail/iam-createaccesskey.bare.json")
    event["account"], event["region"] = account, region
    event["detail"].update(recipientAccountId=account, awsRegion=region, eventTime="2022-09-27T17:09:18Z")
    event["detail"]["responseElements"]["accessKey"]["accessKeyId"] = key
    return event


@pytest.fixture
def member_aws(aws) -> ClientFactory:
    return ClientFactory(session=member_session())


def test_a_members_call_is_confirmed_in_its_history_through_the_member_role_and_acted_on_there(
    aws, parry_env, member_aws, monkeypatch
):
    assumed: list[str] = []
    aws.client("sts").meta.events.register(
        "before-parameter-build.sts.AssumeRole", lambda params, **_: assumed.append(params["RoleArn"])
    )
    member_key, home_key = key_made(member_aws.client("iam")), key_made(aws.client("iam"))
    event = call(MEMBER, "us-east-1", member_key)
    register_finding(member_aws, event)  # the member's CloudTrail recorded it; the security account's did not
    monkeypatch.setenv("PARRY_MEMBER_ROLE_NAME", ROLE)

    case = Engine(aws, Settings.from_env()).run(load_file(f"playbooks/{BOOK}.yaml"), event)

    assert case.status == cs.SUCCEEDED and case.account == MEMBER, [(s.step_id, s.error) for s in case.steps]
    assert key_status(member_aws.client("iam"), "user2", member_key) == "Inactive"
    assert key_status(aws.client("iam"), "user2", home_key) == "Active"
    assert assumed and set(assumed) == {f"arn:aws:iam::{MEMBER}:role/{ROLE}"}


def test_a_members_call_recorded_only_in_the_security_account_is_refused(aws, member_aws, monkeypatch):
    event = call(MEMBER, "us-east-1", "AKIAEXAMPLE")
    register_finding(aws, {**event, "detail": {**event["detail"]}})  # in the security account's history only
    monkeypatch.setenv("PARRY_MEMBER_ROLE_NAME", ROLE)
    engine = Engine(aws, Settings.from_env())

    with pytest.raises(FindingNotAuthentic, match=f"holds no event 12345 in account {MEMBER}, region us-east-1"):
        engine.authentic(event)


def test_a_call_is_looked_up_in_its_own_region(aws):
    event = call(SECURITY, "eu-west-1", "AKIAEXAMPLE")
    register_finding(aws, event)

    assert authentic_event(copy.deepcopy(event), aws)["detail"] == event["detail"]
    moved = copy.deepcopy(event)
    moved["region"] = moved["detail"]["awsRegion"] = "eu-central-1"
    with pytest.raises(FindingNotAuthentic, match="holds no event 12345 in account 123456789012, region eu-central-1"):
        authentic_event(moved, aws)


@pytest.mark.parametrize(
    "change, named",
    [
        (lambda d: d.update(eventID="../../x"), "detail.eventID is not a CloudTrail event id"),
        (lambda d: d.update(recipientAccountId="123"), "detail.recipientAccountId is not an account id"),
        (lambda d: d.update(awsRegion="moon-1"), "detail.awsRegion is not an AWS region name"),
        (lambda d: d.update(eventID="unrecorded", eventTime="yesterday"), "detail.eventTime is not an ISO 8601"),
    ],
    ids=["event-id", "account", "region", "event-time"],
)
def test_a_malformed_cloudtrail_event_is_refused_by_name(aws, change, named):
    event = call(SECURITY, "us-east-1", "AKIAEXAMPLE")
    change(event["detail"])
    event["region"] = "us-east-1"

    with pytest.raises(FindingNotAuthentic, match=named):
        authentic_event(event, aws)


def test_playbooks_taking_cloudtrail_events_may_look_them_up_in_every_account():
    lookups = {
        name: [p for p in load_file(f"playbooks/{name}.yaml").permissions() if "cloudtrail:LookupEvents" in p.actions]
        for name in ("iam-access-key-for-another-user", "lambda-made-public", "ec2-compromise")
    }

    assert [p.member for p in lookups["iam-access-key-for-another-user"]] == [True]
    assert [p.resources for p in lookups["lambda-made-public"]] == [("*",)]  # LookupEvents has no resource ARNs
    assert lookups["ec2-compromise"] == []  # GuardDuty only: its findings are read from GuardDuty
