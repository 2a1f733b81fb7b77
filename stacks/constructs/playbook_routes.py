"""How events reach one playbook's function: its trigger rule (the playbook's `trigger`, verbatim)
and a rule for manual run requests, which for `manual: true` playbooks also takes its Security Hub
custom action (the actions themselves: `SecurityHubActions`).

L1 rules, like the runner (see playbook_runner.py): each rule is its CloudFormation resource and
the permission for EventBridge to invoke the function from that rule alone. The trigger goes into
the template exactly as the playbook wrote it; the L2's EventPattern would rename its keys.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnResource
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from parry.runtime.start_events import TARGET_DETAIL_TYPE as DETAIL_TYPE
from parry.runtime.start_events import TARGET_SOURCE as SOURCE
from stacks import naming
from stacks.tokens import ACCOUNT_ID, PARTITION, REGION

CUSTOM_ACTION_DETAIL_TYPE = "Security Hub Findings - Custom Action"
TARGET_MAX_EVENT_AGE_SECONDS = 3600
TARGET_RETRY_ATTEMPTS = 8


class PlaybookRoutes(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        playbook_name: str,
        trigger: dict[str, Any],
        function_arn: str,
        dead_letter_queue_arn: str,
        security_hub_action_arn: str | None = None,
        security_hub_actions: CfnResource | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._function_arn = function_arn
        self._dead_letter_queue_arn = dead_letter_queue_arn
        self.rules: list[events.CfnRule] = []
        self.rule_arns: list[str] = []

        self.trigger_rule = self._rule(
            "Trigger",
            naming.rule_name(playbook_name, "trigger"),
            f"Parry: route matching events to playbook {playbook_name}",
            trigger,
        )
        # Started by hand: a run request, or (one rule for both, `$or`) the playbook's Security Hub
        # custom action. Every rule counts against the bus's quota of 300.
        run_request = {"source": [SOURCE], "detail-type": [DETAIL_TYPE], "detail": {"playbook": [playbook_name]}}
        custom_action = {
            "source": ["aws.securityhub"],
            "detail-type": [CUSTOM_ACTION_DETAIL_TYPE],
            "resources": [security_hub_action_arn],
        }
        self.manual_rule = self._rule(
            "Manual",
            naming.rule_name(playbook_name, "manual"),
            f"Parry: run requests for playbook {playbook_name}"
            + (" and its Security Hub custom action" if security_hub_action_arn else ""),
            {"$or": [run_request, custom_action]} if security_hub_action_arn else run_request,
        )
        if security_hub_actions is not None:  # delete the rule before the action it names
            self.manual_rule.add_resource_dependency(security_hub_actions)

    def _rule(self, construct_id: str, rule_name: str, description: str, pattern: dict[str, Any]) -> events.CfnRule:
        rule = events.CfnRule(
            self,
            construct_id,
            name=rule_name,
            description=description,
            state="ENABLED",
            event_pattern=pattern,
            targets=[
                events.CfnRule.TargetProperty(
                    id="Runner",
                    arn=self._function_arn,
                    retry_policy=events.CfnRule.RetryPolicyProperty(
                        maximum_event_age_in_seconds=TARGET_MAX_EVENT_AGE_SECONDS,
                        maximum_retry_attempts=TARGET_RETRY_ATTEMPTS,
                    ),
                    dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=self._dead_letter_queue_arn),
                )
            ],
        )
        # The rule's ARN from its name (on the default bus) rather than read from the rule: the
        # permission and the DLQ policy name exactly this rule either way.
        rule_arn = f"arn:{PARTITION}:events:{REGION}:{ACCOUNT_ID}:rule/{rule_name}"
        lambda_.CfnPermission(
            self,
            f"{construct_id}Invoke",
            action="lambda:InvokeFunction",
            function_name=self._function_arn,
            principal="events.amazonaws.com",
            source_arn=rule_arn,
        )
        self.rules.append(rule)
        self.rule_arns.append(rule_arn)
        return rule
