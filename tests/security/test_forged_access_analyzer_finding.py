"""Attack: invoke the runner with an invented or altered IAM Access Analyzer finding.

The attacker wants Parry to rewrite a resource policy it names: a finding the analyzer never
produced, or a real one pointed at another resource, principal or account. The runner re-reads the
finding from the analyzer (parry.routing.access_analyzer): each is refused, the policy stays as it
was, no case is opened, and a security event is logged and counted. The analyzer's own copy is
what a real finding runs on.
"""

from __future__ import annotations

import copy
import json

import pytest

from parry.errors import FindingNotAuthentic
from parry.routing.findings import authentic_event
from tests.support.access_analyzer import BOOK, sandbox_event
from tests.support.control import Context, emf, fresh_runner, lines
from tests.support.findings import registered
from tests.support.paths import EVENTS

POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Partner",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::my-bucket/*",
            }
        ],
    }
)


@pytest.fixture
def runner(monkeypatch, tmp_path, parry_env):
    return fresh_runner(monkeypatch, tmp_path, BOOK)


@pytest.fixture
def real(aws) -> dict:
    """A finding the local analyzer holds, on a bucket whose policy grants it; and a second bucket."""
    s3 = aws.client("s3")
    for name in ("my-bucket", "payroll"):
        s3.create_bucket(Bucket=name)
        s3.put_bucket_policy(Bucket=name, Policy=POLICY.replace("my-bucket", name))
    return registered(aws, sandbox_event())


def unknown_id(event: dict) -> None:
    event["detail"]["id"] = "33333333-aaaa-4444-bbbb-555555555555"


def another_resource(event: dict) -> None:
    event["detail"]["resource"] = "arn:aws:s3:::payroll"


def another_principal(event: dict) -> None:
    event["detail"]["principal"] = {"AWS": "*"}


def another_account(event: dict) -> None:
    event["detail"]["accountId"] = "210987654321"


def another_analyzer(event: dict) -> None:
    event["resources"] = ["arn:aws:access-analyzer:us-east-1:123456789012:analyzer/attacker"]


@pytest.mark.parametrize(
    "forge, named",
    [
        (unknown_id, "holds no finding 33333333"),
        (another_resource, "resource is 'arn:aws:s3:::payroll' in the event, 'arn:aws:s3:::my-bucket' in the analyzer"),
        (another_principal, "principal is {'AWS': '*'} in the event"),
        (another_account, "accountId is '210987654321' in the event, '123456789012' in the analyzer"),
        (another_analyzer, "holds no finding"),
    ],
    ids=["unknown-id", "another-resource", "another-principal", "another-account", "another-analyzer"],
)
def test_a_forged_finding_changes_nothing_and_is_a_security_event(runner, aws, parry_env, real, capsys, forge, named):
    lines(capsys)
    event = copy.deepcopy(real)
    forge(event)

    result = runner.handler(event, Context())

    assert result["status"] == "REFUSED" and named in result["error"]
    s3 = aws.client("s3")
    assert [json.loads(s3.get_bucket_policy(Bucket=b)["Policy"]) for b in ("my-bucket", "payroll")] == [
        json.loads(POLICY),
        json.loads(POLICY.replace("my-bucket", "payroll")),
    ]
    assert aws.client("dynamodb").scan(TableName=parry_env["PARRY_CASES_TABLE"], Select="COUNT")["Count"] == 0
    records = lines(capsys)
    (logged,) = [r for r in records if r.get("message") == "security event"]
    assert logged["security_event"] is True and named in logged["reason"]
    assert emf(records) == {"SecurityRejections": [1.0]}


def test_a_real_finding_runs_on_the_analyzers_copy(aws, real):
    delivered = copy.deepcopy(real)
    delivered["detail"]["condition"] = {"injected": "by the deliverer"}

    checked = authentic_event(delivered, aws)

    assert checked["detail"] == real["detail"] and checked["detail"]["condition"] == {}


def test_an_event_naming_no_analyzer_is_read_from_the_regions_analyzers(aws, real):
    delivered = copy.deepcopy(real)
    delivered["resources"] = []
    assert authentic_event(delivered, aws)["resources"] == real["resources"]


def test_an_analyzer_of_another_region_is_refused(aws, real):
    delivered = copy.deepcopy(real)
    delivered["resources"] = ["arn:aws:access-analyzer:eu-west-1:123456789012:analyzer/MyAnalyzer"]
    with pytest.raises(FindingNotAuthentic, match="not in the event's region us-east-1"):
        authentic_event(delivered, aws)


@pytest.mark.parametrize("resources", [True, 7, "arn:aws:access-analyzer:us-east-1:123456789012:analyzer/MyAnalyzer"])
def test_resources_that_are_not_a_list_are_refused_by_name(aws, real, resources):
    """Found by the generated events: a boolean in `resources` was a TypeError, not a rejection."""
    delivered = copy.deepcopy(real)
    delivered["resources"] = resources
    with pytest.raises(FindingNotAuthentic, match="resources are not a list of ARNs"):
        authentic_event(delivered, aws)


def test_an_unused_access_finding_is_read_with_get_finding_v2(aws):
    event = json.loads(
        (EVENTS / "access-analyzer" / "unused-access-finding-unusedpermission-role.eventbridge.json").read_text()
    )
    event["account"], event["region"] = "123456789012", "us-east-1"
    event["resources"] = ["arn:aws:access-analyzer:us-east-1:123456789012:analyzer/unused"]
    held = registered(aws, event)
    assert held["detail"]["findingId"] == event["detail"]["findingId"]
    forged = copy.deepcopy(event)
    forged["detail"]["findingId"] = "b8ae0460-0000-0000-0000-ba956c986277"
    with pytest.raises(FindingNotAuthentic, match="holds no finding"):
        authentic_event(forged, aws)


def test_the_real_finding_through_the_runner_waits_for_approval_and_changes_nothing_yet(runner, aws, real):
    result = runner.handler(copy.deepcopy(real), Context())

    assert result["status"] == "AWAITING_APPROVAL", result
    policy = aws.client("s3").get_bucket_policy(Bucket="my-bucket")["Policy"]
    assert json.loads(policy) == json.loads(POLICY)
