"""The attacker holding events:PutEvents, against the rules the app deploys.

Every EventBridge rule of the synthesized stack is created on moto's default bus, each delivering
to a queue in place of its runner (moto cannot target Lambda). The attacker puts what they can:
the old `Parry Run Request` (start, continue, undo), a `parry` event copying a real GuardDuty
finding, events of invented sources. Nothing reaches any runner; a GuardDuty finding, which only
GuardDuty can put, still does (so the test can fail).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from stacks.nag import nag_value
from tests.support.synth import Synth

pytestmark = pytest.mark.xdist_group("synth")

ACCOUNT = "123456789012"  # moto's account
HERE = {"<AWS::Partition>": "aws", "<AWS::Region>": "us-east-1", "<AWS::AccountId>": ACCOUNT}


def _deployed(value: Any) -> Any:
    """A pattern as CloudFormation would deploy it in moto's account and region."""
    if isinstance(value, dict) and "Fn::Join" in value:
        text = nag_value(value)
        for placeholder, concrete in HERE.items():
            text = text.replace(placeholder, concrete)
        return text
    if isinstance(value, dict):
        return {k: _deployed(v) for k, v in value.items()}
    return [_deployed(v) for v in value] if isinstance(value, list) else value


@pytest.fixture
def deployed_rules(synth: Synth, aws) -> Callable[[], dict[str, list[dict[str, Any]]]]:
    """The stack's rules on moto's default bus; returns what each rule delivered since last asked."""
    sqs, events = aws.client("sqs"), aws.client("events")
    queues: dict[str, str] = {}
    for rule in synth.resources("Parry", "AWS::Events::Rule").values():
        props = rule["Properties"]
        if "EventPattern" not in props:  # the maintenance schedule
            continue
        url = sqs.create_queue(QueueName=props["Name"])["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=props["Name"], EventPattern=json.dumps(_deployed(props["EventPattern"])))
        events.put_targets(Rule=props["Name"], Targets=[{"Id": "runner", "Arn": arn}])
        queues[props["Name"]] = url
    assert len(queues) > 5

    def delivered() -> dict[str, list[dict[str, Any]]]:
        out = {}
        for name, url in queues.items():
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if messages:
                out[name] = [json.loads(m["Body"]) for m in messages]
        return out

    return delivered


def _put(aws, source: str, detail_type: str, detail: dict[str, Any], resources: list[str] | None = None) -> None:
    entry = {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail), "Resources": resources or []}
    (result,) = aws.client("events").put_events(Entries=[entry])["Entries"]
    assert "EventId" in result, result  # the bus took it: the attacker's call succeeded


def test_a_forged_run_request_reaches_no_runner(deployed_rules, aws, load_event):
    finding = load_event("guardduty/unauthorizedaccess-iamuser-toripcaller.eventbridge.json")["detail"]
    for playbook in ("iam-credential-compromise", "manual-quarantine", "ec2-compromise"):
        _put(aws, "parry", "Parry Run Request", {"playbook": playbook, "event": {"detail": finding}})
        _put(aws, "parry", "Parry Run Request", {"playbook": playbook, "continue_case": "c-1"})
        _put(aws, "parry", "Parry Run Request", {"playbook": playbook, "undo_case": "c-1"})
        _put(aws, "parry", "Parry Run Request", {"playbook": playbook, "target": {"user": "admin"}})
    _put(aws, "parry", "GuardDuty Finding", finding)  # a finding's detail under a source anyone may put
    _put(aws, "guardduty", "GuardDuty Finding", finding)
    _put(aws, "custom.securityhub", "Security Hub Findings - Custom Action", {"findings": []})
    assert deployed_rules() == {}


def test_an_aws_service_event_still_reaches_its_runner(deployed_rules, aws, load_event):
    """The positive control: the same bus, rules and queues deliver what only GuardDuty can put
    (moto lets the test put an aws.* source; EventBridge refuses it to customers)."""
    from parry.local.corrections import as_detection

    sample = load_event("guardduty/unauthorizedaccess-iamuser-toripcaller.eventbridge.json")["detail"]
    _put(aws, "aws.guardduty", "GuardDuty Finding", sample)
    assert deployed_rules() == {}  # AWS's published sample, marked as one: no rule takes a sample finding
    _put(aws, "aws.guardduty", "GuardDuty Finding", as_detection(sample))
    assert "parry-iam-credential-compromise-trigger" in deployed_rules()
