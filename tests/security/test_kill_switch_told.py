"""Every change to the kill switch (turned on or off, deleted) is told to Parry's topic."""

from __future__ import annotations

from aws_cdk import App, Stack
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from stacks.constructs.kill_switch import KillSwitch


def template() -> Template:
    stack = Stack(App(), "Switch")
    KillSwitch(stack, "KillSwitch", topic=sns.Topic(stack, "Topic"))
    return Template.from_stack(stack)


def test_each_change_of_the_parameter_is_published_naming_it_and_the_operation():
    rules = template().find_resources(
        "AWS::Events::Rule",
        {
            "Properties": {
                "EventPattern": {
                    "source": ["aws.ssm"],
                    "detail-type": ["Parameter Store Change"],
                    "detail": {"name": ["/parry/kill-switch"]},
                }
            }
        },
    )
    (rule,) = rules.values()
    (target,) = rule["Properties"]["Targets"]
    assert "Ref" in target["Arn"]  # the topic
    transformer = target["InputTransformer"]
    assert transformer["InputPathsMap"]["name"] == "$.detail.name"
    assert transformer["InputPathsMap"]["operation"] == "$.detail.operation"
    assert "<name>" in transformer["InputTemplate"] and "<operation>" in transformer["InputTemplate"]


def test_the_topic_takes_the_rule_s_messages_from_that_rule_only():
    policy = template().find_resources("AWS::SNS::TopicPolicy")
    (statement,) = next(iter(policy.values()))["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"} and statement["Action"] == "sns:Publish"
    source = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert "rule/parry-kill-switch-changed" in str(source)
