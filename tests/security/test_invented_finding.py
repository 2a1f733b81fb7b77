"""Attack: invoke a runner directly (lambda:InvokeFunction, no Parry permission) with an invented GuardDuty finding.

The attacker names a finding GuardDuty never produced, or a real one pointed at another account or
another access key, hoping the runner's cross-account role acts on what the event says. The runner
re-reads the finding from GuardDuty (parry.routing.findings): every invention is refused, nothing
changes (the keys stay Active, no case is opened), and a security event is logged and counted.
"""

from __future__ import annotations

import copy

import pytest

from tests.support.control import Context, emf, fresh_runner, lines
from tests.support.findings import registered

BOOK = "iam-credential-compromise"


@pytest.fixture
def runner(monkeypatch, tmp_path, parry_env):
    return fresh_runner(monkeypatch, tmp_path, BOOK)


@pytest.fixture
def victim(aws) -> dict[str, str]:
    """Another user's key, in the same account: what the attacker wants deactivated."""
    iam = aws.client("iam")
    iam.create_user(UserName="admin")
    key = iam.create_access_key(UserName="admin")["AccessKey"]["AccessKeyId"]
    return {"user": "admin", "key": key}


def key_status(aws, user: str, key: str) -> str:
    keys = aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return next(k["Status"] for k in keys if k["AccessKeyId"] == key)


def cases_opened(aws, parry_env) -> int:
    return aws.client("dynamodb").scan(TableName=parry_env["PARRY_CASES_TABLE"], Select="COUNT")["Count"]


def invented_unknown_id(event: dict, victim: dict) -> dict:
    event["detail"]["id"] = "f" * 32
    event["detail"]["arn"] = event["detail"]["arn"].rsplit("/", 1)[0] + "/" + "f" * 32
    event["detail"]["resource"]["accessKeyDetails"].update(userName=victim["user"], accessKeyId=victim["key"])
    return event


def real_id_another_account(event: dict, victim: dict) -> dict:
    event["account"] = event["detail"]["accountId"] = "210987654321"
    return event


def real_id_another_key(event: dict, victim: dict) -> dict:
    event["detail"]["resource"]["accessKeyDetails"].update(userName=victim["user"], accessKeyId=victim["key"])
    return event


@pytest.mark.parametrize(
    "invent, named",
    [
        (invented_unknown_id, "does not exist"),
        (real_id_another_account, "accountId is '210987654321' in the event, '123456789012' in the service"),
        (real_id_another_key, "resource.accessKeyDetails.accessKeyId is "),
    ],
    ids=["unknown-id", "another-account", "another-access-key"],
)
def test_an_invented_finding_is_refused_changes_nothing_and_is_a_security_event(
    runner, aws, parry_env, compromised_user, victim, capsys, invent, named
):
    lines(capsys)  # what the fixtures printed
    event = invent(copy.deepcopy(compromised_user["event"]), victim)

    result = runner.handler(event, Context())  # returns: a retry cannot make a forgery authentic

    assert result["status"] == "REFUSED" and named in result["error"]
    assert key_status(aws, victim["user"], victim["key"]) == "Active"
    assert key_status(aws, compromised_user["user"], compromised_user["key"]) == "Active"
    assert cases_opened(aws, parry_env) == 0
    records = lines(capsys)
    (logged,) = [r for r in records if r.get("message") == "security event"]
    assert logged["level"] == "WARNING" and logged["security_event"] is True and named in logged["reason"]
    assert logged["playbook"] == BOOK and logged["event_id"] == event["id"]
    assert emf(records) == {"SecurityRejections": [1.0]}


def test_a_real_finding_runs_on_the_services_copy_not_the_delivered_one(
    runner, aws, parry_env, compromised_user, victim
):
    held = compromised_user["event"]
    event = copy.deepcopy(held)
    event["detail"]["injected"] = {"note": "not from GuardDuty"}  # fields GuardDuty never wrote
    event["detail"]["severity"] = 0.1
    event["detail"]["service"]["additionalInfo"] = {"value": '{"steps": "extra"}', "type": "default"}

    result = runner.handler(event, Context())

    assert result["status"] == "SUCCEEDED"
    assert key_status(aws, compromised_user["user"], compromised_user["key"]) == "Inactive"
    assert key_status(aws, victim["user"], victim["key"]) == "Active"
    from parry.config import Settings
    from parry.engine.run import Engine

    stored = Engine(aws, Settings.from_env()).store.get(result["case_id"])
    assert stored.event["detail"] == held["detail"]  # GuardDuty's copy, as registered
    assert "injected" not in stored.event["detail"] and stored.event["detail"]["severity"] == held["detail"]["severity"]


def test_a_real_finding_registered_by_a_member_with_its_own_detector_is_read_from_the_administrators(
    runner, aws, parry_env, compromised_user
):
    """The detector id in the finding's ARN is the member's: Parry asks its own detector, never the event's."""
    event = copy.deepcopy(compromised_user["event"])
    event["detail"]["arn"] = event["detail"]["arn"].replace("/detector/", "/detector/0000")
    event["detail"]["service"]["detectorId"] = "attacker-detector"

    result = runner.handler(event, Context())

    assert result["status"] == "SUCCEEDED"
    assert key_status(aws, compromised_user["user"], compromised_user["key"]) == "Inactive"


def test_registration_stands_for_guardduty_itself(aws, compromised_user):
    """The local GuardDuty answers GetFindings as GuardDuty does: the held finding by id, an unknown id absent."""
    gd = aws.client("guardduty")
    (detector,) = gd.list_detectors()["DetectorIds"]
    known = compromised_user["event"]["detail"]["id"]

    found = gd.get_findings(DetectorId=detector, FindingIds=[known, "f" * 32])["Findings"]

    assert [f["Id"] for f in found] == [known]
    assert registered(aws, compromised_user["event"]) == compromised_user["event"]  # a round trip changes nothing
