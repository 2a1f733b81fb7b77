"""The scheduled sweep across member accounts (each result naming its account, one account it cannot
enter reported while the others are swept), and its one notice of new results on Parry's topic."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.support.actions import lambda_zip
from tests.support.cli import parry
from tests.support.members import MEMBER, SECURITY, member_session
from tests.support.posture import TRUST

OTHER_MEMBER = "333333333333"
SWEEP_ROLE = "Parry-MemberSweep"  # stacks/naming.py MEMBER_SWEEP_ROLE, as the stack sets PARRY_SWEEP_ROLE_NAME


def _open_function(session: boto3.Session, name: str) -> str:
    """A function with a public URL (PARRY-LAMBDA-1) and an on-failure destination (no PARRY-LAMBDA-10)."""
    lam = session.client("lambda")
    role = session.client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(TRUST))
    sqs = session.client("sqs")
    dlq = sqs.get_queue_attributes(
        QueueUrl=sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    arn = lam.create_function(
        FunctionName=name, Runtime="python3.13", Role=role["Role"]["Arn"], Handler="i.h", Code={"ZipFile": lambda_zip()}
    )["FunctionArn"]
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnFailure": {"Destination": dlq}})
    lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    return arn


def _refuse_assume_role_into(monkeypatch: pytest.MonkeyPatch, account: str) -> None:
    """STS refuses AssumeRole into `account`, as it does when the role is missing there or does not trust the sweep."""
    from botocore.exceptions import ClientError

    from parry.aws import clients

    real = clients._assume

    def refusing(sts: Any, role_arn: str, **kwargs: Any) -> dict[str, Any]:
        if f"::{account}:" in role_arn:
            raise ClientError(
                {
                    "Error": {
                        "Code": "AccessDenied",
                        "Message": f"not authorized to perform: sts:AssumeRole on {role_arn}",
                    }
                },
                "AssumeRole",
            )
        return real(sts, role_arn, **kwargs)

    monkeypatch.setattr(clients, "_assume", refusing)


@pytest.fixture
def accounts(moto, monkeypatch):
    """The security account and two member accounts, each with one public function and Security Hub on;
    Parry's topic with a queue subscribed to read its notices; the sweep configured as the stack does."""
    sessions = {SECURITY: boto3.Session(region_name="us-east-1"), MEMBER: member_session(MEMBER)}
    sessions[OTHER_MEMBER] = member_session(OTHER_MEMBER)
    arns = {account: _open_function(session, f"open-{account}") for account, session in sessions.items()}
    for session in sessions.values():
        session.client("securityhub").enable_security_hub()
    home = sessions[SECURITY]
    topic = home.client("sns").create_topic(Name="parry")["TopicArn"]
    sqs = home.client("sqs")
    queue = sqs.create_queue(QueueName="on-call")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    home.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    monkeypatch.setenv("PARRY_REGIONS", "us-east-1")
    monkeypatch.setenv("PARRY_SWEEP_ACCOUNTS", f"{SECURITY},{MEMBER},{OTHER_MEMBER}")
    monkeypatch.setenv("PARRY_SWEEP_ROLE_NAME", SWEEP_ROLE)
    monkeypatch.setenv("PARRY_TOPIC_ARN", topic)

    def notices() -> list[dict[str, str]]:
        """The notices the topic delivered since the last call."""
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        for message in got:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(m["Body"]) for m in got]

    return sessions, arns, notices


def _hub_findings(session: boto3.Session) -> list[dict[str, Any]]:
    return [f for f in session.client("securityhub").get_findings()["Findings"] if f["RecordState"] == "ACTIVE"]


def test_the_scheduled_sweep_sweeps_each_member_account_with_its_own_findings(accounts):
    from parry.runtime.posture_sweep import handler

    sessions, arns, _ = accounts
    summary = handler({}, None)

    assert summary["accounts"] == sorted(sessions) and summary["functions"] == 3 and summary["problems"] == []
    assert summary["results"] == {"PARRY-LAMBDA-1": 3}
    for account, session in sessions.items():
        (finding,) = _hub_findings(session)  # in that account's Security Hub, as only it may import them
        assert finding["AwsAccountId"] == account and finding["Resources"][0]["Id"] == arns[account]
        assert finding["ProductArn"] == f"arn:aws:securityhub:us-east-1:{account}:product/{account}/default"


def test_an_account_the_sweep_cannot_enter_is_reported_and_the_others_swept(accounts, monkeypatch, capsys):
    from parry.runtime.posture_sweep import handler

    sessions, arns, notices = accounts
    _refuse_assume_role_into(monkeypatch, OTHER_MEMBER)

    summary = handler({}, None)
    assert summary["accounts"] == [SECURITY, MEMBER] and summary["functions"] == 2
    (problem,) = summary["problems"]
    assert problem.startswith(f"account {OTHER_MEMBER}: assuming arn:aws:iam::{OTHER_MEMBER}:role/{SWEEP_ROLE} failed")
    assert "AccessDenied" in problem
    assert _hub_findings(sessions[OTHER_MEMBER]) == []
    (notice,) = notices()
    assert f"Not swept:\n  {json.dumps(problem)}" in notice["Message"]

    capsys.readouterr()
    code, out, err = parry(capsys, "sweep", "--account", MEMBER, "--account", OTHER_MEMBER, "--json")
    found = {(x["account"], x["resource_arn"]) for x in json.loads(out)}
    assert found == {(MEMBER, arns[MEMBER])} and code == 1
    assert f"account {OTHER_MEMBER}: assuming" in err and "AccessDenied" in err


def test_new_results_are_told_once_on_the_topic(accounts):
    from parry.runtime.posture_sweep import handler

    sessions, arns, notices = accounts
    handler({}, None)
    (notice,) = notices()
    assert notice["Subject"] == "[Parry] posture sweep: 3 new result(s), worst HIGH"
    body = notice["Message"]
    assert "By severity:\n  HIGH: 3\n" in body and "By check:\n  PARRY-LAMBDA-1: 3\n" in body
    for account, arn in arns.items():
        assert f"  PARRY-LAMBDA-1 {account} {json.dumps(arn)}\n" in body

    assert handler({}, None)["new"] == 0
    assert notices() == []  # Security Hub holds them from the first sweep: nothing new, no notice

    session = sessions[MEMBER]
    session.client("lambda").add_permission(
        FunctionName=f"open-{MEMBER}", StatementId="anyone", Action="lambda:InvokeFunction", Principal="*"
    )
    assert handler({}, None)["new"] == 1
    (notice,) = notices()
    assert "By check:\n  PARRY-LAMBDA-2: 1\n" in notice["Message"]
    assert f"  PARRY-LAMBDA-2 {MEMBER} {json.dumps(arns[MEMBER])}\n" in notice["Message"]
    assert "PARRY-LAMBDA-1 " not in notice["Message"]
