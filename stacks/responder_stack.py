"""The responder stack, deployed in the security account: stores, one runner per playbook, routing,
and the front door people's requests enter by, with the keys that seal them.

Composes the constructs in `stacks/constructs` and does every grant here, so one file shows who
may do what. Each runner's role gets exactly its playbook's declared permissions, the engine's
(`parry.permissions.ENGINE_PERMISSIONS`) and what Lambda itself needs (logs, X-Ray, its DLQ).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from aws_cdk import (
    Annotations,
    CfnOutput,
    CfnResource,
    DefaultStackSynthesizer,
    FileAssetPackaging,
    Fn,
    RemovalPolicies,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from parry.engine.permissions import (
    ENGINE_PERMISSIONS,
    MAINTENANCE_PERMISSIONS,
    finding_read_permissions,
)
from parry.playbooks.model import Playbook
from stacks import naming
from stacks.asset import CONTROL_HANDLER, StagedAsset
from stacks.config import ParryConfig
from stacks.constructs import (
    CaseStore,
    ControlPlane,
    EvidenceStore,
    KillSwitch,
    Maintenance,
    Notifications,
    ParryDashboard,
    PlaybookRoutes,
    PlaybookRunner,
    RequestKeys,
    SecurityAlarms,
    SecurityHubActions,
)
from stacks.constructs.evidence_store import guard_key
from stacks.constructs.playbook_runner import TRACING_ACTIONS, log_retention
from stacks.constructs.posture_sweep import PostureSweep, sweep_findings
from stacks.constructs.security_hub_actions import takes_findings
from stacks.nag import (
    ENGINE_WILDCARD_REASONS,
    acknowledge,
    acknowledge_all,
    log_streams_finding,
    nag_value,
    wildcard_findings,
)
from stacks.policies import deny_own_resources, statements
from stacks.regional_forwarder import forwarded_pattern, home_bus_arn, home_bus_statement
from stacks.tokens import ACCOUNT_ID, PARTITION, REGION

POWERTOOLS_LAYER = "AWSLambdaPowertoolsPythonV3-python313-arm64"
ENGINE_ACTIONS = frozenset(a for p in ENGINE_PERMISSIONS for a in p.actions)
RUNTIME_NOTE = "python3.13/arm64"
RUNNER_FINDINGS = (
    (
        "L1",
        f"Pinned to {RUNTIME_NOTE}: the AWS-published Powertools v3 layer is chosen for this runtime and "
        "architecture; runtime and layer move together, deliberately.",
    ),
    (
        "SQS3",
        "The runner's queue is the dead-letter queue: the function's on-failure destination and its rules' "
        "target DLQ. cdk-nag only recognises DLQs named in another queue's redrive policy.",
    ),
)


class ResponderStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ParryConfig,
        playbooks: Sequence[Playbook],
        asset: StagedAsset,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        region = self.region  # a jsii round trip per read: read once
        self.runners: dict[str, PlaybookRunner] = {}
        self.routes: dict[str, PlaybookRoutes] = {}
        # per playbook, the values its permission templates were rendered with (tests re-render)
        self.template_values: dict[str, dict[str, str]] = {}

        # One rotating customer key for the data at rest: evidence, cases, topic, dead letters.
        self.data_key = kms.Key(
            self,
            "DataKey",
            alias="alias/parry-data",
            description="Parry: encrypts evidence, cases, notifications and dead letters",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # EventBridge writes undeliverable events to the encrypted DLQs; CloudWatch alarms
        # publish to the encrypted topic. Both act as services of this account only.
        self.data_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowParryServiceProducers",
                principals=[
                    iam.ServicePrincipal("events.amazonaws.com"),
                    iam.ServicePrincipal("cloudwatch.amazonaws.com"),
                ],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            )
        )

        # Parry's roles by ARN string, not reference: the key and table policies name the roles
        # whose own policies name the keys and the table.
        def role_arn(name: str) -> str:
            return naming.role_arn(name, partition=PARTITION, account=ACCOUNT_ID)

        runner_role_arns = [role_arn(naming.runner_role_name(b.name, region)) for b in playbooks]
        key_admins = self._key_admin_arns(config)
        guard_key(self.data_key, key_admin_arns=key_admins, service_grants=True)
        self.evidence = EvidenceStore(
            self,
            "EvidenceStore",
            data_key=self.data_key,
            retention_days=config.retention_days,
            lock_mode=config.lock_mode,
            auditor_role_name=naming.auditor_role_name(region),
            auditor_principal=iam.AccountRootPrincipal(),
            # the runners and the maintenance sweep seal cases; the front door and the CLI never do
            signer_role_arns=[*runner_role_arns, role_arn(naming.maintenance_role_name(region))] if playbooks else [],
            key_admin_arns=key_admins,
        )
        self.evidence.grant_audit(self.evidence.auditor_role, self.data_key)
        acknowledge(
            self.evidence.auditor_role,
            f"IAM5[Resource::{nag_value(self.resolve(self.evidence.bucket.arn_for_objects('*')))}]",
            "Auditors read every evidence object of the one evidence bucket; read-only, no write or delete.",
        )

        self.request_keys = RequestKeys(
            self,
            "RequestKeys",
            control_plane_role_arn=role_arn(naming.control_plane_role_name(region)) if playbooks else None,
            runner_role_arns=runner_role_arns,
            maintenance_role_arn=role_arn(naming.maintenance_role_name(region)) if playbooks else None,
        )
        writers = [*runner_role_arns, role_arn(naming.maintenance_role_name(region))] if playbooks else []
        self.cases = CaseStore(self, "CaseStore", data_key=self.data_key, writer_role_arns=writers)
        # Only Parry's roles, this account's alarms and the rules connected by publish_from may publish.
        self.notifications = Notifications(
            self,
            "Notifications",
            data_key=self.data_key,
            emails=config.notification_emails,
            publisher_role_arns=[
                *writers,
                role_arn(naming.control_plane_role_name(region)),
                role_arn(naming.posture_sweep_role_name(region)),  # its notice of new posture results
            ]
            if playbooks
            else [],
        )
        key_rule = self.evidence.alert_key_changes(
            topic=self.notifications.topic, key_arns=[self.data_key.key_arn, self.evidence.signing_key.key_arn]
        )
        self.notifications.allow_rule(key_rule.attr_arn)
        self.kill_switch = KillSwitch(
            self, "KillSwitch", topic=self.notifications.topic, playbooks=[b.name for b in playbooks]
        )
        self.notifications.allow_rule(self.kill_switch.change_rule.attr_arn)

        layer_arn = (
            f"arn:{PARTITION}:lambda:{REGION}:{config.powertools_layer_account}:layer:"
            f"{POWERTOOLS_LAYER}:{config.powertools_layer_version}"
        )
        if not asset.has_handler:
            Annotations.of(self).add_warning_v2(
                "parry:no-handler", "functions/runner/handler.py is missing: the runners would fail to start"
            )
        shared_env = {
            "PARRY_EVIDENCE_BUCKET": self.evidence.bucket.bucket_name,
            "PARRY_CASES_TABLE": self.cases.table.table_name,
            "PARRY_TOPIC_ARN": self.notifications.topic.topic_arn,
            "PARRY_SIGNING_KEY_ID": self.evidence.signing_key.key_arn,
            "PARRY_KILL_SWITCH_PARAMETER": self.kill_switch.parameter.parameter_name,
            "PARRY_PROTECTED_ARNS": ",".join(config.protected_arn_patterns),
            "PARRY_RETENTION_DAYS": str(config.retention_days),
            "PARRY_LOCK_MODE": config.lock_mode,
            "PARRY_MAX_CASES_PER_HOUR": str(config.max_cases_per_hour),
            "PARRY_REGIONS": ",".join(config.regions),
            "POWERTOOLS_SERVICE_NAME": "parry",
            "POWERTOOLS_METRICS_NAMESPACE": "Parry",
        }
        if config.external_id:
            shared_env["PARRY_MEMBER_EXTERNAL_ID"] = config.external_id

        resources = {
            "partition": PARTITION,
            "region": REGION,
            "account": ACCOUNT_ID,
            "instance_roles": config.instance_roles,
            "topic_arn": self.notifications.topic.topic_arn,
            "cases_table_arn": self.cases.table.table_arn,
            "evidence_bucket_arn": self.evidence.bucket.bucket_arn,
            "data_key_arn": self.data_key.key_arn,
            "signing_key_arn": self.evidence.signing_key.key_arn,
            "kill_switch_parameter_arn": self.kill_switch.parameter.parameter_arn,
        }

        self.security_hub_actions: SecurityHubActions | None = None
        self.security_hub_action_arns: dict[str, str] = {}  # playbook -> its custom action's ARN
        manual = (
            [b.name for b in playbooks if b.manual and takes_findings(b.trigger)] if config.security_hub_actions else []
        )
        if manual:
            names = naming.security_hub_action_names(manual)
            self.security_hub_actions = SecurityHubActions(
                self,
                "SecurityHubActions",
                actions={
                    name: (
                        naming.security_hub_action_id(name),
                        names[name],
                        f"Run Parry playbook {name} on the selected findings",
                    )
                    for name in manual
                },
                function_name=naming.SECURITY_HUB_ACTIONS_FUNCTION,
                role_name=naming.security_hub_actions_role_name(region),
                log_retention=log_retention(config.log_retention_days),
            )
            acknowledge_all(
                self.security_hub_actions,
                [
                    (
                        "IAM5[Resource::*]",
                        "Security Hub's Create/Update/DeleteActionTarget take no resource-level permissions; "
                        "this deploy-time function may call those three only.",
                    ),
                    (
                        f"IAM5[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:"
                        f"stack/{self.stack_name}/*]",
                        "The function reads back, read-only, the status of its own resource in this stack, "
                        "whose id ends in a UUID CloudFormation picks at creation.",
                    ),
                    RUNNER_FINDINGS[0],
                ],
            )
            self.security_hub_action_arns = dict(self.security_hub_actions.arns)

        # Runners are grouped so that their cdk-nag acknowledgements are made once, for all: each
        # is a wildcard resource (or rule) with its reason, whichever runner's policy it is in.
        runners, routes_of = Construct(self, "Runners"), Construct(self, "Routes")
        actions_resource = (
            cast(CfnResource, self.security_hub_actions.resource.node.default_child)
            if self.security_hub_actions
            else None
        )
        if playbooks:  # one Lambda asset for every runner, staged only when there is a runner
            # build.py staged it in the cloud assembly already: registered as is, one jsii call
            code = self.synthesizer.add_file_asset(
                source_hash=asset.content_hash,
                file_name=asset.path.name,
                packaging=FileAssetPackaging.ZIP_DIRECTORY,
                display_name="Parry runner code",
            )
            code_bucket, code_key = code.bucket_name, code.object_key
        runner_findings: dict[str, str] = dict(RUNNER_FINDINGS)
        # a playbook acts where the resource is: its permissions hold in every region of parry:regions
        # (the home region as the stack's own, a token); the engine's stores stay at home
        self.other_regions = other_regions = config.regions[1:]
        for book in playbooks:
            function_name = naming.function_name(book.name)
            values = {
                **resources,
                "playbook": book.name,
                "function_arn": f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}",
            }
            self.template_values[book.name] = values
            # the runner of a playbook that takes findings re-reads each from its service (GuardDuty, Security
            # Hub, Inspector or Access Analyzer)
            finding_read = finding_read_permissions(book)
            runner = PlaybookRunner(
                runners,
                book.name,
                playbook_name=book.name,
                function_name=function_name,
                role_name=naming.runner_role_name(book.name, region),
                dlq_name=naming.dlq_name(book.name),
                code_bucket=code_bucket,
                code_key=code_key,
                layers=[layer_arn],
                environment={
                    **shared_env,
                    "PARRY_PLAYBOOK": book.name,
                    "PARRY_MEMBER_ROLE_NAME": naming.member_role_name(book.name),
                    "PARRY_REQUEST_KEY_ID": self.request_keys.request_key_arn,
                    "PARRY_CONTINUATION_KEY_ID": self.request_keys.continuation_key_arn,
                },
                permissions=[
                    *statements(
                        book.permissions(),
                        values,
                        where=f"{book.path or book.name}: playbook {book.name}",
                        other_regions=other_regions,
                    ),
                    *statements(ENGINE_PERMISSIONS, values, where="parry/permissions.py: ENGINE_PERMISSIONS"),
                    *statements(
                        finding_read,
                        values,
                        where="parry/engine/permissions.py: finding_read_permissions",
                        other_regions=other_regions,
                    ),
                    *self.request_keys.runner_statements(),
                    *self._member_statements(book.name, config),
                    *deny_own_resources(book.permissions(), values, keep=ENGINE_ACTIONS, other_regions=other_regions),
                ],
                data_key_arn=resources["data_key_arn"],
                alarm_topic_arn=resources["topic_arn"],
                log_retention_days=config.log_retention_days,
                reserved_concurrency=(
                    book.reserved_concurrency
                    if book.reserved_concurrency is not None
                    else (config.runner_reserved_concurrency or None)
                ),
            )
            findings = wildcard_findings(
                self,
                [*book.permissions(), *ENGINE_PERMISSIONS, *finding_read],
                values,
                reasons=ENGINE_WILDCARD_REASONS,
                unscoped_actions=TRACING_ACTIONS,
                other_regions=other_regions,
            )
            if config.organization_id and not config.member_accounts:
                findings.append(
                    (
                        f"IAM5[Resource::arn:<AWS::Partition>:iam::*:role/{naming.member_role_name(book.name)}]",
                        f"Member accounts are those of organization {config.organization_id} "
                        "(aws:ResourceOrgID condition); only this playbook's member role is named.",
                    )
                )
            findings.append(log_streams_finding(function_name))
            for rule, reason in findings:
                runner_findings.setdefault(rule, reason)

            self.runners[book.name] = runner
            self.routes[book.name] = routes = PlaybookRoutes(
                routes_of,
                book.name,
                playbook_name=book.name,
                trigger=book.trigger,
                function_arn=runner.function.attr_arn,
                dead_letter_queue_arn=runner.dlq_arn,
                security_hub_action_arn=self.security_hub_action_arns.get(book.name),
                security_hub_actions=actions_resource,
            )
            runner.accept_dead_letters_from(routes.rule_arns)
        if playbooks:
            acknowledge_all(runners, runner_findings.items())
            # A deleted stack keeps the runners' logs and unprocessed dead letters (one aspect for all).
            RemovalPolicies.of(runners).apply(
                RemovalPolicy.RETAIN, apply_to_resource_types=["AWS::Logs::LogGroup", "AWS::SQS::Queue"]
            )
            self.maintenance = self._maintenance(config, shared_env, resources, code_bucket, code_key, layer_arn)
            self.posture_sweep = self._posture_sweep(config, code_bucket, code_key, layer_arn)
            self.control_plane = self._control_plane(config, asset, resources, code_bucket, code_key, layer_arn)
        self.bus_policy = self._admit_forwarders(config, playbooks)
        self.security_alarms = SecurityAlarms(
            self, "SecurityAlarms", playbooks=[b.name for b in playbooks], topic_arn=resources["topic_arn"]
        )

        self.dashboard = ParryDashboard(
            self,
            "Dashboard",
            dashboard_name=f"Parry-{region}",
            playbooks=[b.name for b in playbooks],
            dlq_names={b.name: naming.dlq_name(b.name) for b in playbooks},
        )

        CfnOutput(self, "EvidenceBucketName", value=self.evidence.bucket.bucket_name)
        CfnOutput(self, "CasesTableName", value=self.cases.table.table_name)
        CfnOutput(self, "TopicArn", value=self.notifications.topic.topic_arn)
        CfnOutput(self, "SigningKeyArn", value=self.evidence.signing_key.key_arn)
        CfnOutput(self, "AuditorRoleArn", value=self.evidence.auditor_role.role_arn)

    def _maintenance(
        self,
        config: ParryConfig,
        environment: dict[str, str],
        resources: dict[str, str],
        code_bucket: str,
        code_key: str,
        layer_arn: str,
    ) -> Maintenance:
        """The scheduled sweep that closes expired approvals and re-drives stuck cases: it keeps cases and
        asks each case's own runner to continue it (a sealed continue), and may do nothing else."""
        runner_arns = [
            f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT_ID}:function:{runner.function_name}"
            for runner in self.runners.values()
        ]
        maintenance = Maintenance(
            self,
            "Maintenance",
            function_name=naming.MAINTENANCE_FUNCTION,
            role_name=naming.maintenance_role_name(self.region),
            rule_name=naming.MAINTENANCE_FUNCTION,
            code_bucket=code_bucket,
            code_key=code_key,
            layers=[layer_arn],
            environment={**environment, "PARRY_CONTINUATION_KEY_ID": self.request_keys.continuation_key_arn},
            permissions=[
                *statements(MAINTENANCE_PERMISSIONS, resources, where="parry/permissions.py: MAINTENANCE_PERMISSIONS"),
                *self.request_keys.maintenance_statements(),
                {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": runner_arns},
            ],
            log_retention_days=config.log_retention_days,
        )
        findings = wildcard_findings(
            self, MAINTENANCE_PERMISSIONS, resources, reasons=ENGINE_WILDCARD_REASONS, unscoped_actions=TRACING_ACTIONS
        )
        findings.append(log_streams_finding(naming.MAINTENANCE_FUNCTION))
        acknowledge_all(maintenance, [*findings, RUNNER_FINDINGS[0]])
        RemovalPolicies.of(maintenance).apply(RemovalPolicy.RETAIN, apply_to_resource_types=["AWS::Logs::LogGroup"])
        return maintenance

    def _posture_sweep(self, config: ParryConfig, code_bucket: str, code_key: str, layer_arn: str) -> PostureSweep:
        """The scheduled `parry sweep --security-hub` of this account and each member account, in every
        region of parry:regions: reads, and writes only Parry's own Security Hub findings and one
        notice of new results on the topic (docs/posture.md)."""
        sweep = PostureSweep(
            self,
            "PostureSweep",
            function_name=naming.POSTURE_SWEEP_FUNCTION,
            role_name=naming.posture_sweep_role_name(self.region),
            schedule_name=naming.POSTURE_SWEEP_FUNCTION,
            schedule_role_name=naming.posture_schedule_role_name(self.region),
            code_bucket=code_bucket,
            code_key=code_key,
            layers=[layer_arn],
            environment={
                "PARRY_REGIONS": ",".join(config.regions),
                # this account first, then each member account through the member stack's sweep role
                "PARRY_SWEEP_ACCOUNTS": ",".join([ACCOUNT_ID, *config.member_accounts]),
                "PARRY_SWEEP_ROLE_NAME": naming.MEMBER_SWEEP_ROLE,
                **({"PARRY_MEMBER_EXTERNAL_ID": config.external_id} if config.external_id else {}),
                "PARRY_TOPIC_ARN": self.notifications.topic.topic_arn,
                "POWERTOOLS_SERVICE_NAME": "parry",
            },
            log_retention_days=config.log_retention_days,
            regions=config.regions,
            topic_arn=self.notifications.topic.topic_arn,
            data_key_arn=self.data_key.key_arn,
            member_accounts=config.member_accounts,
            member_role_name=naming.MEMBER_SWEEP_ROLE,
        )
        acknowledge_all(
            sweep,
            [
                *sweep_findings(config.regions),
                log_streams_finding(naming.POSTURE_SWEEP_FUNCTION),
                RUNNER_FINDINGS[0],
            ],
        )
        RemovalPolicies.of(sweep).apply(RemovalPolicy.RETAIN, apply_to_resource_types=["AWS::Logs::LogGroup"])
        return sweep

    def _control_plane(
        self,
        config: ParryConfig,
        asset: StagedAsset,
        resources: dict[str, str],
        code_bucket: str,
        code_key: str,
        layer_arn: str,
    ) -> ControlPlane:
        """The front door: it reads cases, seals requests with the request key and invokes runners;
        it cannot write a case, verify a seal or act on any account."""
        if not asset.has_control_handler:
            Annotations.of(self).add_warning_v2(
                "parry:no-control-handler",
                "functions/control/handler.py is missing: the front door would fail to start",
            )
        runner_arns = [
            f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT_ID}:function:{runner.function_name}"
            for runner in self.runners.values()
        ]
        control_plane = ControlPlane(
            self,
            "ControlPlane",
            function_name=naming.CONTROL_PLANE_FUNCTION,
            role_name=naming.control_plane_role_name(self.region),
            handler=CONTROL_HANDLER,
            code_bucket=code_bucket,
            code_key=code_key,
            layers=[layer_arn],
            environment={
                "PARRY_REQUEST_KEY_ID": self.request_keys.request_key_arn,
                "PARRY_CASES_TABLE": self.cases.table.table_name,
                "POWERTOOLS_SERVICE_NAME": "parry",
                "POWERTOOLS_METRICS_NAMESPACE": "Parry",
            },
            permissions=[
                *self.request_keys.control_plane_statements(),
                {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": runner_arns},
                {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": resources["cases_table_arn"]},
            ],
            on_call_roles=config.on_call_roles,
            approver_roles=config.approver_roles,
            log_retention_days=config.log_retention_days,
        )
        findings = wildcard_findings(self, (), resources, reasons={}, unscoped_actions=TRACING_ACTIONS)
        acknowledge_all(
            control_plane, [*findings, log_streams_finding(naming.CONTROL_PLANE_FUNCTION), RUNNER_FINDINGS[0]]
        )
        RemovalPolicies.of(control_plane).apply(RemovalPolicy.RETAIN, apply_to_resource_types=["AWS::Logs::LogGroup"])
        return control_plane

    def _admit_forwarders(self, config: ParryConfig, playbooks: Sequence[Playbook]) -> CfnResource | None:
        """The home bus admits the member accounts' regional forwarders, for the trigger sources only."""
        pattern = forwarded_pattern(playbooks)
        statement = pattern and home_bus_statement(
            sources=pattern["source"],
            regions=config.regions,
            member_accounts=config.member_accounts,
            organization_id=config.organization_id,
            bus_arn=home_bus_arn(partition=PARTITION, region=REGION, account=ACCOUNT_ID),
        )
        if not statement:
            return None
        # the L1 class reads its deprecated Principal property and warns on every synth
        return CfnResource(
            self,
            "HomeBusPolicy",
            type="AWS::Events::EventBusPolicy",
            properties={"EventBusName": "default", "StatementId": "ParryForwarders", "Statement": statement},
        )

    def _key_admin_arns(self, config: ParryConfig) -> list[str]:
        """Who may destroy or re-key Parry's keys and rewrite the evidence buckets' policies: the
        break-glass role, and the role CloudFormation deploys with (it writes those policies)."""
        admins = [config.break_glass_role] if config.break_glass_role else []
        if isinstance(self.synthesizer, DefaultStackSynthesizer):
            admins.append(Fn.sub(self.synthesizer.cloud_formation_execution_role_arn))
        if not admins:
            raise ValueError("no key administrator: set parry:breakGlassRole or deploy with the default synthesizer")
        return admins

    def _member_statements(self, playbook: str, config: ParryConfig) -> list[dict[str, Any]]:
        """Assume this playbook's role in member accounts, when cross-account runs are configured."""
        role = naming.member_role_name(playbook)
        if config.member_accounts:
            return [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Resource": [f"arn:{PARTITION}:iam::{account}:role/{role}" for account in config.member_accounts],
                }
            ]
        if config.organization_id:
            return [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Resource": f"arn:{PARTITION}:iam::*:role/{role}",
                    "Condition": {"StringEquals": {"aws:ResourceOrgID": config.organization_id}},
                }
            ]
        return []
