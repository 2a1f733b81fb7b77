"""`parry sweep` on a seeded account: exactly the misconfigured functions, no secret value anywhere, and
Security Hub findings that a later sweep resolves."""

from __future__ import annotations

import json
import logging

import boto3
import pytest

from tests.support.cli import parry
from tests.support.members import member_session
from tests.support.posture import ACCOUNT_LAYER, EXPECTED, PUBLIC_LAYER, SECRET_DETECTORS, SEEDED_SECRETS, TRUST, seed


@pytest.fixture
def seeded():
    from moto import mock_aws

    from parry.local.corrections import security_hub_findings_like_aws

    security_hub_findings_like_aws()
    with mock_aws(config={"iam": {"load_aws_managed_policies": True}}):  # AdministratorAccess is AWS's own
        session = boto3.Session(region_name="us-east-1")
        yield session, seed(session, member_session())


def _by_resource(results: list[dict]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for x in results:
        found.setdefault(x["resource_arn"], set()).add(x["check_id"])
    return found


def _function_name(x: dict) -> str:
    return (x["detail"].get("function") or x["resource_arn"]).split(":")[6]


def test_sweep_names_exactly_the_misconfigured_functions(seeded, capsys):
    code, out, _ = parry(capsys, "sweep", "--json")
    results = json.loads(out)
    on_functions = [x for x in results if ":layer:" not in x["resource_arn"]]
    found: dict[str, set[str]] = {name: set() for name in EXPECTED}
    for x in on_functions:
        found[_function_name(x)].add(x["check_id"])
    assert found == EXPECTED
    layers = {x["resource_arn"].split(":")[6] for x in results if ":layer:" in x["resource_arn"]}
    assert layers == {PUBLIC_LAYER}  # not ACCOUNT_LAYER, shared with one named account
    assert ACCOUNT_LAYER not in out
    assert code == 1
    for x in results:
        assert x["account"] == "123456789012" and x["region"] == "us-east-1" and x["severity"] and x["remediation"]


def test_secrets_are_named_with_their_detector(seeded, capsys):
    _, out, _ = parry(capsys, "sweep", "--json")
    secrets = next(x for x in json.loads(out) if x["check_id"] == "PARRY-LAMBDA-3")
    assert {v["name"]: v["detector"] for v in secrets["detail"]["variables"]} == SECRET_DETECTORS


def test_no_seeded_secret_value_appears_anywhere(seeded, capsys, caplog, monkeypatch):
    from parry.runtime.posture_sweep import handler

    session, _ = seeded
    hub = session.client("securityhub")
    hub.enable_security_hub()
    sqs = session.client("sqs")
    queue = sqs.create_queue(QueueName="on-call")["QueueUrl"]
    topic = session.client("sns").create_topic(Name="parry")["TopicArn"]
    session.client("sns").subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"],
    )
    monkeypatch.setenv("PARRY_TOPIC_ARN", topic)
    caplog.set_level(logging.INFO)
    outputs = [handler({}, None), parry(capsys, "sweep", "--json", "--security-hub"), parry(capsys, "sweep")]
    findings = hub.get_findings()["Findings"]
    assert any(f["GeneratorId"] == "PARRY-LAMBDA-3" for f in findings)
    (notice,) = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]  # the scheduled sweep's
    assert "PARRY-LAMBDA-3" in notice["Body"]
    written = json.dumps([outputs, findings, notice, caplog.text], default=str)
    for name, value in SEEDED_SECRETS.items():
        assert value not in written, name
        assert value[4:20] not in written, name  # nor a recognisable piece of it


def test_security_hub_findings_are_resolved_when_the_problem_is_gone(seeded, capsys):
    session, arns = seeded
    hub = session.client("securityhub")
    hub.enable_security_hub()
    parry(capsys, "sweep", "--security-hub")
    findings = {f["Id"]: f for f in hub.get_findings()["Findings"]}
    url_open = next(f for f in findings.values() if f["Resources"][0]["Id"] == arns["url-open"])
    assert url_open["GeneratorId"] == "PARRY-LAMBDA-1"
    assert url_open["ProductArn"] == "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default"
    assert url_open["Compliance"]["Status"] == "FAILED" and url_open["RecordState"] == "ACTIVE"
    assert url_open["Types"][0].startswith("Software and Configuration Checks/")
    total = len(findings)

    session.client("lambda").update_function_url_config(FunctionName="url-open", AuthType="AWS_IAM")
    code, _, err = parry(capsys, "sweep", "--security-hub")
    after = {f["Id"]: f for f in hub.get_findings()["Findings"]}
    fixed = after[url_open["Id"]]
    assert fixed["Compliance"]["Status"] == "PASSED"
    assert fixed["RecordState"] == "ARCHIVED"
    assert fixed["Workflow"]["Status"] == "RESOLVED"
    assert fixed["CreatedAt"] == url_open["CreatedAt"]
    still = [f for fid, f in after.items() if fid != url_open["Id"]]
    assert len(after) == total and all(f["RecordState"] == "ACTIVE" for f in still)  # one finding per problem
    assert "1 resolved" in err and code == 1


def test_a_clean_account_exits_zero(capsys):
    from moto import mock_aws

    with mock_aws():
        code, out, _ = parry(capsys, "sweep", "--json")
    assert (code, json.loads(out)) == (0, [])


def test_regions_default_to_parry_regions(seeded, capsys, monkeypatch):
    monkeypatch.setenv("PARRY_REGIONS", "us-east-1, eu-west-1")
    code, out, err = parry(capsys, "sweep", "--json")
    assert {x["region"] for x in json.loads(out)} == {"us-east-1"}
    assert "2 region(s)" not in err  # --json prints no summary
    monkeypatch.setenv("COLUMNS", "80")
    _, table, err = parry(capsys, "sweep")
    assert "in 2 region(s)" in err
    assert "url-open" in table and max(len(line) for line in table.splitlines()) <= 80


def test_another_account_is_swept_through_the_member_role(capsys, monkeypatch):
    from moto import mock_aws

    from tests.support.actions import lambda_zip
    from tests.support.members import MEMBER

    with mock_aws():
        member = member_session()
        lam = member.client("lambda")
        role = member.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"][
            "Arn"
        ]
        lam.create_function(
            FunctionName="member-open", Runtime="python3.13", Role=role, Handler="i.h", Code={"ZipFile": lambda_zip()}
        )
        lam.create_function_url_config(FunctionName="member-open", AuthType="NONE")
        code, _, err = parry(capsys, "sweep", "--account", MEMBER)
        assert code == 2 and "PARRY_MEMBER_ROLE_NAME" in err  # never the security account's own credentials
        monkeypatch.setenv("PARRY_MEMBER_ROLE_NAME", "parry-member-sweep")
        code, out, _ = parry(capsys, "sweep", "--account", MEMBER, "--json")
    found = {(x["check_id"], x["account"], x["resource_arn"].split(":")[6]) for x in json.loads(out)}
    assert ("PARRY-LAMBDA-1", MEMBER, "member-open") in found and code == 1


def test_security_hub_not_enabled_and_a_malformed_account_are_one_clear_line(moto, capsys):
    code, _, err = parry(capsys, "sweep", "--security-hub")
    assert code == 2 and "Security Hub in 123456789012 us-east-1" in err and "not subscribed" in err
    assert "Traceback" not in err
    code, _, err = parry(capsys, "sweep", "--account", "12345")
    assert code == 2 and "an account id is 12 digits: '12345'" in err


def test_the_scheduled_sweep_imports_its_findings_and_logs_only_counts(moto, capsys, monkeypatch):
    from parry.runtime.posture_sweep import handler
    from tests.support.actions import lambda_zip

    session = boto3.Session(region_name="us-east-1")
    role = session.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    lam = session.client("lambda")
    secret = SEEDED_SECRETS["GH_BOT"]
    lam.create_function(
        FunctionName="open",
        Runtime="python3.13",
        Role=role,
        Handler="i.h",
        Code={"ZipFile": lambda_zip()},
        Environment={"Variables": {"GH_BOT": secret}},
    )
    lam.create_function_url_config(FunctionName="open", AuthType="NONE")
    session.client("securityhub").enable_security_hub()
    monkeypatch.setenv("PARRY_REGIONS", "us-east-1")

    summary = handler({"source": "forged", "detail": {"accounts": ["999999999999"]}}, None)  # the event is ignored

    assert summary["functions"] == 1 and summary["imported"] == 3 and summary["problems"] == []
    assert summary["results"] == {"PARRY-LAMBDA-1": 1, "PARRY-LAMBDA-3": 1, "PARRY-LAMBDA-10": 1}
    generators = {f["GeneratorId"] for f in session.client("securityhub").get_findings()["Findings"]}
    assert generators == {"PARRY-LAMBDA-1", "PARRY-LAMBDA-3", "PARRY-LAMBDA-10"}
    assert secret not in capsys.readouterr().out
