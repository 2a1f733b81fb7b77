"""The evidence bucket (Object Lock, KMS, no deletes), its access-log bucket, the manifest
signing key and the auditor's read-only role."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

# Nobody, the account root included, may delete evidence or cut a retention short.
DENIED_OBJECT_ACTIONS = ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention")


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

        # Manifests are signed with an asymmetric key: anyone holding the public key can verify.
        self.signing_key = kms.Key(
            self,
            "SigningKey",
            description="Parry: signs evidence manifests",
            key_spec=kms.KeySpec.ECC_NIST_P256,
            key_usage=kms.KeyUsage.SIGN_VERIFY,
            removal_policy=RemovalPolicy.RETAIN,
        )

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
