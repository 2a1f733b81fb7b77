"""The notification topic (KMS-encrypted, TLS only) and its e-mail subscriptions.

The on-call acts on what this topic says, so only Parry may say it: its policy denies sns:Publish
to every principal but Parry's roles (named by ARN), this account's CloudWatch alarms, and the
EventBridge rules that `publish_from` connects, each by its own ARN. An identity policy that
allows sns:Publish on `*`, or a rule some other stack points at the topic, cannot post a notice.
"""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk.interfaces import aws_events as events_refs
from constructs import Construct

from stacks.tokens import ACCOUNT_ID, PARTITION, REGION


class Notifications(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data_key: kms.IKey,
        emails: Sequence[str],
        publisher_role_arns: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="Parry",
            master_key=data_key,
            enforce_ssl=True,
        )
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))

        self._alarms = f"arn:{PARTITION}:cloudwatch:{REGION}:{ACCOUNT_ID}:alarm:*"
        self._rule_arns: list[str] = []
        # The policy replaces SNS's default one, so this account's alarms need an explicit allowance
        # (the data key's policy lets them use the key).
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisAccountsAlarms",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Stack.of(self).account},
                    "ArnLike": {"aws:SourceArn": self._alarms},
                },
            )
        )
        # People and workloads: Parry's roles only, whatever their identity policies allow.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenyPublishButParrysRoles",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    **(
                        {"ArnNotEquals": {"aws:PrincipalArn": list(publisher_role_arns)}} if publisher_role_arns else {}
                    ),
                    "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
                },
            )
        )
        # AWS services: on behalf of this account's alarms and Parry's rules only, even if another
        # statement (a CDK SnsTopic target's, say) allows a service without a condition.
        self._services = iam.PolicyStatement(
            sid="DenyPublishButParrysAlarmsAndRules",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["sns:Publish"],
            resources=[self.topic.topic_arn],
            conditions=self._service_conditions(),
        )
        self.topic.add_to_resource_policy(self._services)

    def publish_from(self, rule: events.Rule) -> None:
        """Deliver `rule`'s events to the topic, and allow EventBridge to publish on behalf of that rule only."""
        rule.add_target(_Topic(self.topic))
        self.allow_rule(rule.rule_arn)

    def allow_rule(self, rule_arn: str) -> None:
        """Allow EventBridge to publish on behalf of the rule `rule_arn` only (a CfnRule that names the
        topic as its target itself, e.g. one whose pattern needs `$or`)."""
        self._rule_arns.append(rule_arn)
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"AllowRule{len(self._rule_arns)}",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"ArnEquals": {"aws:SourceArn": rule_arn}},
            )
        )
        for operator, values in self._service_conditions().items():
            self._services.add_condition(operator, values)  # the same key: the new list replaces the old

    def _service_conditions(self) -> dict[str, dict[str, object]]:
        return {
            "Bool": {"aws:PrincipalIsAWSService": "true"},
            "ArnNotLike": {"aws:SourceArn": [self._alarms, *self._rule_arns]},
        }


@jsii.implements(events.IRuleTarget)
class _Topic:
    """The topic as a rule's target, without the unconditioned service allowance CDK's SnsTopic adds."""

    def __init__(self, topic: sns.ITopic) -> None:
        self._topic = topic

    def bind(self, rule: events_refs.IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self._topic.topic_arn)
