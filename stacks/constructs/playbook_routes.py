"""How events reach one playbook's function: its trigger rule (the playbook's `trigger`, verbatim)
and, for a `manual: true` playbook that takes findings, a rule for its Security Hub custom action
(the actions themselves: `SecurityHubActions`).

No rule takes events of source `parry` or any other source a customer can put: anyone holding
events:PutEvents could forge those. People's requests enter through the front door
(control_plane.py) instead; only AWS services can put `aws.*` events.

L1 rules, like the runner (see playbook_runner.py): each rule is its CloudFormation resource and
the permission for EventBridge to invoke the function from that rule alone. The trigger goes into
the template exactly as the playbook wrote it; the L2's EventPattern would rename its keys.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, CfnResource
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks import naming
from stacks.tokens import ACCOUNT_ID, PARTITION, REGION

CUSTOM_ACTION_DETAIL_TYPE = "Security Hub Findings - Custom Action"
CUSTOM_ACTION_RULE = "custom-action"  # the rule's kind, in its name
TARGET_MAX_EVENT_AGE_SECONDS = 3600
TARGET_RETRY_ATTEMPTS = 8


def forgeable_sources(trigger: dict[str, Any]) -> list[str]:
    """The sources a trigger admits that a customer could put (anything but `aws.*`, or no source
    named at all): a trigger admitting any of them gets no rule."""
    forgeable = []
    for branch in trigger.get("$or", [trigger]):
        sources = branch.get("source")
        if not isinstance(sources, list) or not sources:
            forgeable.append("<any>")
            continue
        forgeable.extend(str(s) for s in sources if not (isinstance(s, str) and s.startswith("aws.")))
    return forgeable


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

        self.trigger_rule: events.CfnRule | None = None
        if forgeable := forgeable_sources(trigger):
            Annotations.of(self).add_warning_v2(
                "parry:trigger-not-routed",
                f"playbook {playbook_name}: its trigger admits sources anyone with events:PutEvents can put "
                f"({', '.join(forgeable)}); no rule routes it, so it runs only through the front door",
            )
        else:
            self.trigger_rule = self._rule(
                "Trigger",
                naming.rule_name(playbook_name, "trigger"),
                f"Parry: route matching events to playbook {playbook_name}",
                trigger,
            )
        self.custom_action_rule: events.CfnRule | None = None
        if security_hub_action_arn is not None:
            self.custom_action_rule = self._rule(
                "CustomAction",
                naming.rule_name(playbook_name, CUSTOM_ACTION_RULE),
                f"Parry: the Security Hub custom action of playbook {playbook_name}",
                {
                    "source": ["aws.securityhub"],
                    "detail-type": [CUSTOM_ACTION_DETAIL_TYPE],
                    "resources": [security_hub_action_arn],
                },
            )
            if security_hub_actions is not None:  # delete the rule before the action it names
                self.custom_action_rule.add_resource_dependency(security_hub_actions)

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
