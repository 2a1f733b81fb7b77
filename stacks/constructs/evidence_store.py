"""The evidence bucket (Object Lock, KMS, no deletes), its access-log bucket, the manifest
signing key and the auditor's read-only role.

Key administrators (`key_admin_arns`: the break-glass role from `parry:breakGlassRole` and the
CloudFormation role that deploys the stack) are the only principals that may destroy or re-key the
keys or rewrite the buckets' policies, whatever any identity policy in the account allows. Roles
are named by ARN string in an `aws:PrincipalArn` condition, as in request_keys.py: a key policy
naming a role as principal would be refused before the role exists.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.constructs.request_keys import ADMINISTRATIVE_ACTIONS
from stacks.tokens import ACCOUNT_ID, PARTITION

# Nobody, the account root included, may delete evidence or cut a retention short.
DENIED_OBJECT_ACTIONS = ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention")
# What destroys a key or hands out its use: deleting or disabling the data key crypto-shreds the
# COMPLIANCE-locked evidence and the case table; a new key policy or a grant lets anyone sign.
GUARDED_KEY_ACTIONS = ("kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy", "kms:CreateGrant")
# What would lift the bucket's protections: its policy (these denies), its default lock, its lifecycle.
GUARDED_BUCKET_ACTIONS = (
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutLifecycleConfiguration",
)
# Key calls the topic hears of, on the data or signing key (CloudTrail management events).
KEY_STATE_CALLS = (
    "ScheduleKeyDeletion",
    "CancelKeyDeletion",
    "DisableKey",
    "EnableKey",
    "PutKeyPolicy",
    "CreateGrant",
    "DisableKeyRotation",
)
KEY_STATE_RULE = "Parry-KeyStateChanges"
# S3 counts the remaining retention in whole days: a day's slack for the writer's own clock.
RETENTION_SLACK_DAYS = 1


def guard_key(key: kms.Key, *, key_admin_arns: Sequence[str], service_grants: bool) -> None:
    """Deny GUARDED_KEY_ACTIONS to every principal but the key administrators. With
    `service_grants`, a grant an AWS service makes for its own use of the key (DynamoDB for the
    case table: kms:GrantIsForAWSResource) stays allowed to whoever may create that resource."""
    not_admin = {"ArnNotEquals": {"aws:PrincipalArn": list(key_admin_arns)}}
    destructive = [a for a in GUARDED_KEY_ACTIONS if a != "kms:CreateGrant" or not service_grants]
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="DenyKeyDestructionToAllButKeyAdministrators",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=destructive,
            resources=["*"],
            conditions=not_admin,
        )
    )
    if service_grants:
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenyGrantsButForAwsServicesToAllButKeyAdministrators",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["kms:CreateGrant"],
                resources=["*"],
                conditions={**not_admin, "Bool": {"kms:GrantIsForAWSResource": "false"}},
            )
        )


def guard_bucket(bucket: s3.Bucket, *, key_admin_arns: Sequence[str]) -> None:
    """Deny GUARDED_BUCKET_ACTIONS to every principal but the key administrators."""
    bucket.add_to_resource_policy(
        iam.PolicyStatement(
            sid="DenyPolicyLockAndLifecycleChangesToAllButKeyAdministrators",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=list(GUARDED_BUCKET_ACTIONS),
            resources=[bucket.bucket_arn],
            conditions={"ArnNotEquals": {"aws:PrincipalArn": list(key_admin_arns)}},
        )
    )


def signing_key_policy(signer_role_arns: Sequence[str]) -> iam.PolicyDocument:
    """The account administers the key and may let principals verify, but only `signer_role_arns`
    may sign (the runners and the maintenance role, which seal cases) and nobody may grant."""
    root = iam.ArnPrincipal(f"arn:{PARTITION}:iam::{ACCOUNT_ID}:root")
    statements = [
        iam.PolicyStatement(
            sid="AccountAdministersTheKeyAndVerifies",
            principals=[root],
            actions=[*ADMINISTRATIVE_ACTIONS, "kms:GetPublicKey", "kms:Verify"],
            resources=["*"],
        )
    ]
    if signer_role_arns:
        signers = list(signer_role_arns)
        statements.append(
            iam.PolicyStatement(
                sid="AllowSignToParrysSealers",
                principals=[root],
                actions=["kms:Sign"],
                resources=["*"],
                conditions={"ArnEquals": {"aws:PrincipalArn": signers}},
            )
        )
    statements.append(
        iam.PolicyStatement(
            sid="DenySignToOthers",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["kms:Sign"],
            resources=["*"],
            conditions={"ArnNotEquals": {"aws:PrincipalArn": list(signer_role_arns)}} if signer_role_arns else None,
        )
    )
    return iam.PolicyDocument(statements=statements)


class EvidenceStore(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data_key: kms.IKey,
        retention_days: int,
        lock_mode: str,
        auditor_role_name: str,
        auditor_principal: iam.IPrincipal,
        signer_role_arns: Sequence[str],
        key_admin_arns: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        if lock_mode not in ("GOVERNANCE", "COMPLIANCE"):
            raise ValueError(f"lock mode must be GOVERNANCE or COMPLIANCE, not {lock_mode!r}")

        # S3 server access logs cannot be delivered to an SSE-KMS bucket: SSE-S3 here.
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=True,
            # access records live a quarter longer than the evidence they describe, then expire
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(retention_days + 90),
                    noncurrent_version_expiration=Duration.days(30),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Access records are evidence of who read or tried to change the evidence.
        self.access_logs.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenyAccessLogDeletion",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:DeleteObject", "s3:DeleteObjectVersion"],
                resources=[self.access_logs.arn_for_objects("*")],
                conditions={"ArnNotEquals": {"aws:PrincipalArn": list(key_admin_arns)}},
            )
        )
        guard_bucket(self.access_logs, key_admin_arns=key_admin_arns)
        Validations.of(self.access_logs).acknowledge(
            Acknowledgment(
                id="AwsSolutions-S1",
                reason="This is the access-log bucket of the evidence bucket; logging it into itself would loop.",
            )
        )

        retention = Duration.days(retention_days)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=data_key,
            bucket_key_enabled=True,
            versioned=True,
            object_lock_enabled=True,
            object_lock_default_retention=(
                s3.ObjectLockRetention.compliance(retention)
                if lock_mode == "COMPLIANCE"
                else s3.ObjectLockRetention.governance(retention)
            ),
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="evidence/",
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenyEvidenceDeletion",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=list(DENIED_OBJECT_ACTIONS),
                resources=[self.bucket.arn_for_objects("*")],
            )
        )
        # Every write as Parry's writer makes it (parry/evidence/writer.py): the deployed lock mode,
        # at least the deployed retention, and If-None-Match (never a second version of a key).
        objects = [self.bucket.arn_for_objects("*")]
        for sid, condition in (
            ("DenyPutWithoutTheLockMode", {"StringNotEquals": {"s3:object-lock-mode": lock_mode}}),
            ("DenyPutWithoutRetention", {"Null": {"s3:object-lock-remaining-retention-days": "true"}}),
            (
                "DenyPutWithShorterRetention",
                {
                    "NumericLessThan": {
                        "s3:object-lock-remaining-retention-days": str(max(retention_days - RETENTION_SLACK_DAYS, 0))
                    }
                },
            ),
            ("DenyPutWithoutIfNoneMatch", {"Null": {"s3:if-none-match": "true"}}),
        ):
            self.bucket.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    effect=iam.Effect.DENY,
                    principals=[iam.AnyPrincipal()],
                    actions=["s3:PutObject"],
                    resources=objects,
                    conditions=condition,
                )
            )
        guard_bucket(self.bucket, key_admin_arns=key_admin_arns)

        # Manifests are signed with an asymmetric key: anyone holding the public key can verify.
        # Auditors pin it by its ARN (the SigningKeyArn output); it has no alias, which could be re-pointed.
        self.signing_key = kms.Key(
            self,
            "SigningKey",
            description="Parry: signs evidence manifests",
            key_spec=kms.KeySpec.ECC_NIST_P256,
            key_usage=kms.KeyUsage.SIGN_VERIFY,
            removal_policy=RemovalPolicy.RETAIN,
            policy=signing_key_policy(signer_role_arns),
        )
        guard_key(self.signing_key, key_admin_arns=key_admin_arns, service_grants=False)

        self.auditor_role = iam.Role(
            self,
            "AuditorRole",
            role_name=auditor_role_name,
            assumed_by=auditor_principal,
            description="Parry: read-only access to the evidence bucket and manifest verification",
            max_session_duration=Duration.hours(1),
        )

    def grant_audit(self, grantee: iam.IGrantable, data_key: kms.IKey) -> None:
        """Read every evidence object and version, see its lock, decrypt it and verify manifests."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "s3:GetObject",
                    "s3:GetObjectVersion",
                    "s3:GetObjectRetention",
                    "s3:GetObjectLegalHold",
                    "s3:GetObjectAttributes",
                    "s3:GetObjectVersionAttributes",
                ],
                resources=[self.bucket.arn_for_objects("*")],
            )
        )
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "s3:ListBucket",
                    "s3:ListBucketVersions",
                    "s3:GetBucketObjectLockConfiguration",
                    "s3:GetBucketVersioning",
                ],
                resources=[self.bucket.bucket_arn],
            )
        )
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=[data_key.key_arn])
        )
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["kms:Verify", "kms:GetPublicKey"], resources=[self.signing_key.key_arn])
        )

    def alert_key_changes(self, *, topic: sns.ITopic, key_arns: Sequence[str]) -> events.CfnRule:
        """Tell the on-call's topic of every call that changes the state, policy or grants of a key
        (even break-glass's, which may be a stolen session), and when KMS deletes one."""
        rule = events.CfnRule(
            self,
            "KeyStateChanges",
            name=KEY_STATE_RULE,
            description="Parry: a change to the evidence data or signing key",
            state="ENABLED",
            event_pattern={
                "$or": [
                    {
                        "source": ["aws.kms"],
                        "detail-type": ["AWS API Call via CloudTrail"],
                        "detail": {"eventName": list(KEY_STATE_CALLS), "resources": {"ARN": list(key_arns)}},
                    },
                    {"source": ["aws.kms"], "detail-type": ["KMS CMK Deletion"], "resources": list(key_arns)},
                ],
            },
            targets=[events.CfnRule.TargetProperty(id="Topic", arn=topic.topic_arn)],
        )
        return rule  # the caller allows this rule, and only it, to publish (Notifications.allow_rule)
