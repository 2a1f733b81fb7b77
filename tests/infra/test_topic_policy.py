"""Who may post on Parry's topic, as synthesized: Parry's roles (the runners, maintenance and the
front door), this account's CloudWatch alarms, and the EventBridge rules connected to it, each
rule by its ARN. Everyone else is denied, however broad their own IAM policy: a fake notice
("ACTION REQUIRED ... run now: parry undo ...") cannot be posted by anyone holding sns:Publish."""

from __future__ import annotations

from typing import Any

import pytest

from stacks import naming
from stacks.nag import nag_value
from tests.support.synth import Synth, load_playbooks
from tests.support.templates import as_list

pytestmark = pytest.mark.xdist_group("synth")

REGION = "eu-west-1"
ALARMS = "arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:*"


def role(name: str) -> str:
    return f"arn:<AWS::Partition>:iam::<AWS::AccountId>:role/{name}"


PARRYS_ROLES = sorted(
    [
        *(role(naming.runner_role_name(b.name, REGION)) for b in load_playbooks()),
        role(naming.maintenance_role_name(REGION)),
        role(naming.control_plane_role_name(REGION)),
        role(naming.posture_sweep_role_name(REGION)),
    ]
)


def _policy(template: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The topic's logical id and its policy's statements (there is one topic and one policy)."""
    resources = template["Resources"]
    (topic,) = [k for k, v in resources.items() if v["Type"] == "AWS::SNS::Topic"]
    (policy,) = [v for v in resources.values() if v["Type"] == "AWS::SNS::TopicPolicy"]
    assert policy["Properties"]["Topics"] == [{"Ref": topic}]
    return topic, policy["Properties"]["PolicyDocument"]["Statement"]


def _publish(statements: list[dict[str, Any]], effect: str) -> list[dict[str, Any]]:
    return [s for s in statements if s["Effect"] == effect and "sns:Publish" in as_list(s["Action"])]


def _rules_targeting(template: dict[str, Any], topic: str) -> list[str]:
    return [
        k
        for k, v in template["Resources"].items()
        if v["Type"] == "AWS::Events::Rule" and {"Ref": topic} in [t["Arn"] for t in v["Properties"].get("Targets", [])]
    ]


def test_people_and_workloads_may_publish_only_as_parrys_roles(synth: Synth):
    _, statements = _policy(synth.responder)
    (deny,) = [s for s in _publish(statements, "Deny") if "aws:PrincipalArn" in s["Condition"].get("ArnNotEquals", {})]
    assert deny["Principal"] == {"AWS": "*"}
    assert sorted(nag_value(a) for a in deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]) == PARRYS_ROLES
    # services are judged by the statement below; a request without the key is a person's, and denied
    assert deny["Condition"]["BoolIfExists"] == {"aws:PrincipalIsAWSService": "false"}


def test_services_may_publish_only_for_this_accounts_alarms_and_parrys_rules(synth: Synth):
    topic, statements = _policy(synth.responder)
    rules = _rules_targeting(synth.responder, topic)
    (deny,) = [s for s in _publish(statements, "Deny") if "aws:SourceArn" in s["Condition"].get("ArnNotLike", {})]
    assert deny["Principal"] == {"AWS": "*"} and deny["Condition"]["Bool"] == {"aws:PrincipalIsAWSService": "true"}
    sources = as_list(deny["Condition"]["ArnNotLike"]["aws:SourceArn"])
    assert [nag_value(s) for s in sources] == [ALARMS, *(f"<{r}.Arn>" for r in rules)]


def test_every_allowance_is_bound_to_its_source(synth: Synth):
    """No statement lets a service publish unconditioned (CDK's SnsTopic target adds one: any
    account's EventBridge rule could then post); alarms of this account, and each rule by its ARN."""
    topic, statements = _policy(synth.responder)
    allows = _publish(statements, "Allow")
    alarms = [s for s in allows if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert [nag_value(s["Condition"]["ArnLike"]["aws:SourceArn"]) for s in alarms] == [ALARMS]
    assert alarms[0]["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    rules = [s for s in allows if s["Principal"] == {"Service": "events.amazonaws.com"}]
    assert sorted(nag_value(s["Condition"]["ArnEquals"]["aws:SourceArn"]) for s in rules) == sorted(
        f"<{r}.Arn>" for r in _rules_targeting(synth.responder, topic)
    )
    assert len(allows) == len(alarms) + len(rules)


def test_a_rule_connected_by_publish_from_is_the_one_rule_allowed():
    """In a bare stack: the rule targets the topic, EventBridge may publish for that rule's ARN only,
    and the services' deny names it, with no unconditioned allowance beside."""
    from aws_cdk import App, Stack
    from aws_cdk import aws_events as events
    from aws_cdk import aws_kms as kms
    from aws_cdk.assertions import Template

    from stacks.constructs import Notifications

    stack = Stack(App(), "Bare")
    notifications = Notifications(
        stack, "N", data_key=kms.Key(stack, "K"), emails=[], publisher_role_arns=["arn:aws:iam::1:role/r"]
    )
    rule = events.Rule(stack, "R", event_pattern=events.EventPattern(source=["aws.kms"]))
    notifications.publish_from(rule)
    template = Template.from_stack(stack).to_json()

    topic, statements = _policy(template)
    (rule_id,) = _rules_targeting(template, topic)
    (events_allow,) = [
        s for s in _publish(statements, "Allow") if s["Principal"] == {"Service": "events.amazonaws.com"}
    ]
    assert events_allow["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}
    (services,) = [s for s in _publish(statements, "Deny") if "ArnNotLike" in s.get("Condition", {})]
    assert as_list(services["Condition"]["ArnNotLike"]["aws:SourceArn"])[1:] == [{"Fn::GetAtt": [rule_id, "Arn"]}]
