"""The case store: one DynamoDB table for cases, step checkpoints, approvals and rate counters.

Its resource policy refuses every data-plane write to every principal but Parry's own roles
(`writer_role_arns`), whatever their identity policies allow: an approval, a claim or a case
written by anyone else cannot exist. TransactWriteItems is authorized per item as PutItem,
UpdateItem or DeleteItem, so it is covered; PartiQL's writes are actions of their own.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from parry.store import schema

WRITE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
)


def writes_denied_but_to(role_arns: Sequence[str]) -> iam.PolicyDocument:
    """Resource "*" is the table the policy is attached to (naming the table would be a cycle).
    Without any role (no playbook deployed), nobody writes."""
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                sid="OnlyParrysRolesWrite",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=list(WRITE_ACTIONS),
                resources=["*"],
                conditions={"ArnNotLike": {"aws:PrincipalArn": list(role_arns)}} if role_arns else None,
            )
        ]
    )


class CaseStore(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, data_key: kms.IKey, writer_role_arns: Sequence[str]
    ) -> None:
        """`writer_role_arns`: built from the roles' names, since the roles' policies name the table."""
        super().__init__(scope, construct_id)
        string = dynamodb.AttributeType.STRING
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=schema.PARTITION_KEY, type=string),
            sort_key=dynamodb.Attribute(name=schema.SORT_KEY, type=string),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=data_key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=schema.TTL_ATTRIBUTE,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
            resource_policy=writes_denied_but_to(writer_role_arns),
        )
        self.table.add_global_secondary_index(
            index_name=schema.INDEX,
            partition_key=dynamodb.Attribute(name=schema.INDEX_PARTITION_KEY, type=string),
            sort_key=dynamodb.Attribute(name=schema.INDEX_SORT_KEY, type=string),
            projection_type=dynamodb.ProjectionType.ALL,
        )
