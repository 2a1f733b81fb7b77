"""The global kill switch: anything but `off` turns every playbook into a dry run (plan, record, notify).

Every change to the parameter (create, update, label, delete) is told to Parry's topic: someone
turning automation off or on, or deleting the switch (which also means dry run, see
parry.engine.kill_switch), is something the on-call must hear of from Parry, not find later.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from stacks.constructs.dashboard import NAMESPACE, SERVICE

PARAMETER_NAME = "/parry/kill-switch"
RULE_NAME = "parry-kill-switch-changed"
UNREADABLE_METRIC = "KillSwitchUnreadable"  # a runner's run that found the switch missing or unreadable
# EventBridge fills the <fields> from the SSM event; the value itself is not in the event
CHANGE_MESSAGE = (
    '"Parry kill switch <name> changed: <operation> at <time> (account <account>, <region>). '
    "Parry acts only while the parameter reads off: on, any other value, or a deleted parameter make every "
    'case a dry run. Check it: aws ssm get-parameter --name <name>"'
)


class KillSwitch(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        playbooks: Sequence[str] = (),
        parameter_name: str = PARAMETER_NAME,
    ) -> None:
        super().__init__(scope, construct_id)
        self.parameter = ssm.StringParameter(
            self,
            "Parameter",
            parameter_name=parameter_name,
            string_value="off",
            allowed_pattern="^(on|off)$",
            description="Parry kill switch: anything but 'off' makes every playbook a dry run",
            tier=ssm.ParameterTier.STANDARD,
        )
        self.change_rule = events.CfnRule(
            self,
            "Changed",
            name=RULE_NAME,
            description="Parry: tell the topic about every change to the kill switch",
            state="ENABLED",
            event_pattern={
                "source": ["aws.ssm"],
                "detail-type": ["Parameter Store Change"],
                "detail": {"name": [parameter_name]},
            },
            targets=[
                events.CfnRule.TargetProperty(
                    id="Topic",
                    arn=topic.topic_arn,
                    input_transformer=events.CfnRule.InputTransformerProperty(
                        input_paths_map={
                            "name": "$.detail.name",
                            "operation": "$.detail.operation",
                            "time": "$.time",
                            "account": "$.account",
                            "region": "$.region",
                        },
                        input_template=CHANGE_MESSAGE,
                    ),
                )
            ],
        )
        # the caller allows this rule, and only it, to publish to the topic (Notifications.allow_rule)
        # one alarm per runner (an alarm names all of a metric's dimensions): the switch is missing or
        # unreadable, so every case is a dry run until someone puts `off` back
        self.unreadable_alarms = [
            cloudwatch.CfnAlarm(
                self,
                f"Unreadable{index}",
                alarm_name=f"parry-{name}-kill-switch-unreadable",
                alarm_description=f"Parry: the runner of {name} could not read {parameter_name}; its cases are dry runs",
                namespace=NAMESPACE,
                metric_name=UNREADABLE_METRIC,
                dimensions=[
                    cloudwatch.CfnAlarm.DimensionProperty(name="playbook", value=name),
                    cloudwatch.CfnAlarm.DimensionProperty(name="service", value=SERVICE),
                ],
                statistic="Sum",
                period=300,
                evaluation_periods=1,
                threshold=1,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[topic.topic_arn],
            )
            for index, name in enumerate(playbooks)
        ]
