"""Every change to the kill switch (turned on or off, deleted) is told to Parry's topic."""

from __future__ import annotations

from aws_cdk import App, Stack
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from stacks.constructs.kill_switch import KillSwitch


def template() -> Template:
    """The switch beside Parry's topic, connected as the responder stack connects them."""
    from aws_cdk import aws_kms as kms

    from stacks.constructs import Notifications

    stack = Stack(App(), "Switch")
    notifications = Notifications(
        stack, "N", data_key=kms.Key(stack, "K"), emails=[], publisher_role_arns=["arn:aws:iam::1:role/r"]
    )
    switch = KillSwitch(stack, "KillSwitch", topic=notifications.topic)
    notifications.allow_rule(switch.change_rule.attr_arn)
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
    found = template()
    (rule_id,) = found.find_resources("AWS::Events::Rule", {"Properties": {"Name": "parry-kill-switch-changed"}})
    policy = found.find_resources("AWS::SNS::TopicPolicy")
    statements = next(iter(policy.values()))["Properties"]["PolicyDocument"]["Statement"]
    (allow,) = [s for s in statements if s.get("Principal") == {"Service": "events.amazonaws.com"}]
    assert allow["Effect"] == "Allow" and allow["Action"] == "sns:Publish"
    assert allow["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}


def test_each_runner_s_unreadable_switch_is_alarmed_to_the_topic():
    stack = Stack(App(), "Switch")
    topic = sns.Topic(stack, "Topic")
    KillSwitch(stack, "KillSwitch", topic=topic, playbooks=["book-a", "book-b"])
    alarms = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")

    found = {a["Properties"]["AlarmName"]: a["Properties"] for a in alarms.values()}
    assert set(found) == {"parry-book-a-kill-switch-unreadable", "parry-book-b-kill-switch-unreadable"}
    for name, props in found.items():
        assert props["MetricName"] == "KillSwitchUnreadable" and props["Threshold"] == 1
        assert {"Name": "playbook", "Value": name.split("parry-")[1].split("-kill")[0]} in props["Dimensions"]
        assert props["AlarmActions"] == [
            {"Ref": next(iter(Template.from_stack(stack).find_resources("AWS::SNS::Topic")))}
        ]
