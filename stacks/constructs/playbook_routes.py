"""How events reach one playbook's function: its trigger rule (the playbook's `trigger`, verbatim),
a rule for manual run requests, and for `manual: true` playbooks the rule of its Security Hub
custom action (the actions themselves: `SecurityHubActions`)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
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
# envelope fields a trigger rarely names: one of them carries the placeholder pattern
PLACEHOLDER_KEYS = {"version": "version", "id": "id", "time": "time", "region": "region", "account": "account"}


class PlaybookRoutes(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        playbook_name: str,
        trigger: dict[str, Any],
        function: lambda_.IFunction,
        dead_letter_queue: sqs.IQueue,
        security_hub_action_arn: str | None = None,
        security_hub_actions: Construct | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.rules: list[events.Rule] = []

        # EventPattern renames and reshapes keys (detail_type -> detail-type, ...), and the L2 rule
        # needs some pattern to exist. The playbook's trigger is already an EventBridge pattern:
        # the rule gets a throwaway placeholder, then the trigger replaces it byte for byte
        # (property overrides merge into the original, so the placeholder key is deleted).
        spare = next((k for k in PLACEHOLDER_KEYS if k not in trigger), None)
        if spare is None:
            raise ValueError(f"playbook {playbook_name}: a trigger naming all of {', '.join(PLACEHOLDER_KEYS)} is not supported")
        self.trigger_rule = self._rule(
            "Trigger",
            naming.rule_name(playbook_name, "trigger"),
            f"Parry: route matching events to playbook {playbook_name}",
            events.EventPattern(**{PLACEHOLDER_KEYS[spare]: ["parry-placeholder"]}),
            function,
            dead_letter_queue,
        )
        cfn_rule = self.trigger_rule.node.default_child
        cfn_rule.add_property_override("EventPattern", trigger)  # type: ignore[union-attr]
        cfn_rule.add_property_deletion_override(f"EventPattern.{spare}")  # type: ignore[union-attr]

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

        self.custom_action_rule: events.Rule | None = None
        if security_hub_action_arn:
            self.custom_action_rule = self._rule(
                "SecurityHubActionRule",
                naming.rule_name(playbook_name, "securityhub"),
                f"Parry: Security Hub custom action for playbook {playbook_name}",
                events.EventPattern(
                    source=["aws.securityhub"],
                    detail_type=[CUSTOM_ACTION_DETAIL_TYPE],
                    resources=[security_hub_action_arn],
                ),
                function,
                dead_letter_queue,
            )
            if security_hub_actions is not None:
                self.custom_action_rule.node.add_dependency(security_hub_actions)

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
