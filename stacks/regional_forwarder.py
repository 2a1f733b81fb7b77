"""Delivery from every region: the regional forwarder stack, and the home bus's policy that admits
exactly its forwarders.

GuardDuty, Access Analyzer, CloudTrail and Config put their events on the default bus of the region
(and account) they happen in; Parry's rules listen on one bus, the security account's in the home
region. `ParryRegionalForwarder` goes into every account and region Parry acts in (a
service-managed StackSet) and forwards, through a role that may put events on that one bus, the
events of the `aws.*` sources and detail types the playbooks' routed triggers name. Only AWS
services can put `aws.*` events, so what the forwarder delivers is still an AWS service's event.

No assets and no bootstrap version check, so the template deploys as is; nothing is retained and
the only names (rule, role) are per region, so a failed or deleted instance leaves nothing behind
and can be created again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnCondition, CfnParameter, CfnResource, Fn, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from constructs import Construct

from parry.playbooks.model import Playbook
from stacks import naming
from stacks.constructs.playbook_routes import forgeable_sources
from stacks.tokens import ACCOUNT_ID, PARTITION, REGION

HOME_BUS = "default"
# EventBridge's own bounds for a target: a forwarded event is retried for a day before it is dropped
FORWARD_MAX_EVENT_AGE_SECONDS = 86400
FORWARD_RETRY_ATTEMPTS = 185


def forwarded_pattern(playbooks: Sequence[Playbook]) -> dict[str, list[Any]] | None:
    """The forwarding rule's pattern: every source of the playbooks' routed triggers (`aws.*`
    only: a trigger admitting any other source gets no rule at home either), and their detail
    types when every branch names some. None when no trigger is routed."""
    sources: set[str] = set()
    detail_types: dict[str, Any] = {}
    every_branch_typed = True
    for book in playbooks:
        if forgeable_sources(book.trigger):
            continue
        for branch in book.trigger.get("$or", [book.trigger]):
            sources.update(branch["source"])
            types = branch.get("detail-type")
            if isinstance(types, list) and types:
                detail_types.update((json.dumps(t, sort_keys=True), t) for t in types)
            else:
                every_branch_typed = False
    if not sources:
        return None
    pattern: dict[str, list[Any]] = {"source": sorted(sources)}
    if every_branch_typed:
        pattern["detail-type"] = [detail_types[key] for key in sorted(detail_types)]
    return pattern


def home_bus_arn(*, partition: str, region: str, account: str) -> str:
    return f"arn:{partition}:events:{region}:{account}:event-bus/{HOME_BUS}"


def home_bus_statement(
    *,
    sources: Sequence[str],
    regions: Sequence[str],
    member_accounts: Sequence[str],
    organization_id: str | None,
    bus_arn: str,
) -> dict[str, Any] | None:
    """The home bus's statement for the other accounts' forwarders: PutEvents by a role named like
    a forwarder of a configured region, of a listed member account (or of the organization), for
    events of the forwarded sources only. None without member accounts or an organization: the
    security account's own forwarders put with their role's identity policy and need no grant."""
    if not (member_accounts or organization_id):
        return None
    conditions: dict[str, dict[str, Any]] = {
        "ArnLike": {
            "aws:PrincipalArn": [
                f"arn:{PARTITION}:iam::*:role/{naming.forwarder_role_name(region)}" for region in regions
            ]
        },
        # every entry's source one of these; and a source there must be (ForAllValues of none is true)
        "ForAllValues:StringEquals": {"events:source": list(sources)},
        "Null": {"events:source": "false"},
    }
    if organization_id:
        conditions["StringEquals"] = {"aws:PrincipalOrgID": organization_id}
    principal: Any = (
        {"AWS": [f"arn:{PARTITION}:iam::{account}:root" for account in member_accounts]} if member_accounts else "*"
    )
    return {
        "Effect": "Allow",
        "Principal": principal,
        "Action": "events:PutEvents",
        "Resource": bus_arn,
        "Condition": conditions,
    }


class RegionalForwarderStack(Stack):
    """One rule on the region's default bus forwarding the trigger sources to the home bus, and
    the role EventBridge forwards with. In the security account's home region it creates neither
    (the rule would put events back on its own bus)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pattern: dict[str, list[Any]],
        home_region: str,
        security_account: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        if security_account is None:
            security_account = CfnParameter(
                self,
                "SecurityAccountId",
                type="String",
                allowed_pattern=r"^\d{12}$",
                description="The account Parry's responder stack runs in",
            ).value_as_string
        bus_arn = home_bus_arn(partition=PARTITION, region=home_region, account=security_account)
        rule_arn = f"arn:{PARTITION}:events:{REGION}:{ACCOUNT_ID}:rule/{naming.FORWARDER_RULE}"
        self.forwards = CfnCondition(
            self,
            "ForwardsElsewhere",
            expression=Fn.condition_not(
                Fn.condition_and(
                    Fn.condition_equals(ACCOUNT_ID, security_account), Fn.condition_equals(REGION, home_region)
                )
            ),
        )
        # L1 throughout, like the member stack: the template is what CloudFormation deploys, as written
        self.role = iam.CfnRole(
            self,
            "Role",
            role_name=naming.forwarder_role_name(REGION),
            description=f"Parry: forwards this region's trigger events to the home bus in {home_region}",
            assume_role_policy_document={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
                            "ArnEquals": {"aws:SourceArn": rule_arn},
                        },
                    }
                ],
            },
            policies=[
                iam.CfnRole.PolicyProperty(
                    policy_name="PutOnTheHomeBus",
                    policy_document={
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": bus_arn}],
                    },
                )
            ],
        )
        self.rule = events.CfnRule(
            self,
            "Rule",
            name=naming.FORWARDER_RULE,
            description=f"Parry: forward the events its playbooks trigger on to the home bus in {home_region}",
            state="ENABLED",
            event_pattern=pattern,
            targets=[
                events.CfnRule.TargetProperty(
                    id="HomeBus",
                    arn=bus_arn,
                    role_arn=self.role.attr_arn,
                    retry_policy=events.CfnRule.RetryPolicyProperty(
                        maximum_event_age_in_seconds=FORWARD_MAX_EVENT_AGE_SECONDS,
                        maximum_retry_attempts=FORWARD_RETRY_ATTEMPTS,
                    ),
                )
            ],
        )
        for resource in (self.role, self.rule):
            resource.cfn_options.condition = self.forwards
        # CloudFormation creates no stack whose every resource is conditioned away: this handle,
        # which is nothing, keeps the home region's instance valid.
        CfnResource(self, "Placeholder", type="AWS::CloudFormation::WaitConditionHandle")
