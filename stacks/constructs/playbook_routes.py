"""How events reach one playbook's function: its trigger rule (the playbook's `trigger`, verbatim),
a rule for manual run requests, and for `manual: true` playbooks a Security Hub custom action."""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, CfnResource, Duration, Validations
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks import naming

MANUAL_SOURCE = "parry"
MANUAL_DETAIL_TYPE = "Parry Run Request"
CUSTOM_ACTION_DETAIL_TYPE = "Security Hub Findings - Custom Action"
TARGET_MAX_EVENT_AGE = Duration.hours(1)
TARGET_RETRY_ATTEMPTS = 8
ACTION_TARGET_TYPE = "AWS::SecurityHub::ActionTarget"


class PlaybookRoutes(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        playbook_name: str,
        trigger: dict[str, Any],
        manual: bool,
        function: lambda_.IFunction,
        dead_letter_queue: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.rules: list[events.Rule] = []

        # EventPattern renames and reshapes keys (detail_type -> detail-type, ...). The playbook's
        # trigger is already an EventBridge pattern, so the rule carries it byte for byte.
        self.trigger_rule = self._rule(
            "Trigger",
            naming.rule_name(playbook_name, "trigger"),
            f"Parry: route matching events to playbook {playbook_name}",
            events.EventPattern(source=list(trigger.get("source") or ["-"])),
            function,
            dead_letter_queue,
        )
        self.trigger_rule.node.default_child.add_property_override("EventPattern", trigger)  # type: ignore[union-attr]

        self.manual_rule = self._rule(
            "Manual",
            naming.rule_name(playbook_name, "manual"),
            f"Parry: run requests for playbook {playbook_name}",
            events.EventPattern(
                source=[MANUAL_SOURCE], detail_type=[MANUAL_DETAIL_TYPE], detail={"playbook": [playbook_name]}
            ),
            function,
            dead_letter_queue,
        )

        self.action_target: CfnResource | None = None
        self.action_target_arn: str | None = None
        self.custom_action_rule: events.Rule | None = None
        if manual:
            # aws-cdk-lib has no L1 class for this CloudFormation type.
            self.action_target = CfnResource(
                self,
                "SecurityHubAction",
                type=ACTION_TARGET_TYPE,
                properties={
                    "Id": naming.security_hub_action_id(playbook_name),
                    "Name": naming.security_hub_action_name(playbook_name),
                    "Description": f"Run Parry playbook {playbook_name} on the selected findings",
                },
            )
            self.action_target_arn = self.action_target.get_att("ActionTargetArn").to_string()
            Validations.of(self.action_target).acknowledge(
                Acknowledgment(
                    id="CloudFormation-Validate::F3006",
                    reason="AWS::SecurityHub::ActionTarget is a CloudFormation resource type (see the CloudFormation "
                    "registry and cfn-lint's schemas); only aws-cdk-lib's bundled specification lacks it.",
                )
            )
            self.custom_action_rule = self._rule(
                "SecurityHubActionRule",
                naming.rule_name(playbook_name, "securityhub"),
                f"Parry: Security Hub custom action for playbook {playbook_name}",
                events.EventPattern(
                    source=["aws.securityhub"],
                    detail_type=[CUSTOM_ACTION_DETAIL_TYPE],
                    resources=[self.action_target_arn],
                ),
                function,
                dead_letter_queue,
            )

    def _rule(
        self,
        construct_id: str,
        rule_name: str,
        description: str,
        pattern: events.EventPattern,
        function: lambda_.IFunction,
        dead_letter_queue: sqs.IQueue,
    ) -> events.Rule:
        rule = events.Rule(self, construct_id, rule_name=rule_name, description=description, event_pattern=pattern)
        rule.add_target(
            targets.LambdaFunction(
                function,
                dead_letter_queue=dead_letter_queue,
                max_event_age=TARGET_MAX_EVENT_AGE,
                retry_attempts=TARGET_RETRY_ATTEMPTS,
            )
        )
        self.rules.append(rule)
        return rule
