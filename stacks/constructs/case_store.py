"""The case store: one DynamoDB table for cases, step checkpoints, approvals and rate counters."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from parry.store import schema


class CaseStore(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, data_key: kms.IKey) -> None:
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
        )
        self.table.add_global_secondary_index(
            index_name=schema.INDEX,
            partition_key=dynamodb.Attribute(name=schema.INDEX_PARTITION_KEY, type=string),
            sort_key=dynamodb.Attribute(name=schema.INDEX_SORT_KEY, type=string),
            projection_type=dynamodb.ProjectionType.ALL,
        )
