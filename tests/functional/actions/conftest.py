"""Fixtures of the action tests: an action context on moto (with its case's evidence), and a VPC to launch into."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parry.actions.base import ActionContext
from tests.support.actions import ACCOUNT


@pytest.fixture
def evidence_store(aws):
    from parry.evidence.writer import EvidenceStore

    s3 = aws.client("s3")
    s3.create_bucket(Bucket="parry-evidence", ObjectLockEnabledForBucket=True)
    return EvidenceStore(s3, "parry-evidence", retention_days=1)


@pytest.fixture
def ctx(aws, evidence_store) -> ActionContext:
    case = evidence_store.case(case_id="case-1", account=ACCOUNT, opened_at=datetime.now(UTC))
    return ActionContext(
        aws=aws,
        case_id="case-1",
        step_id="step",
        playbook="test",
        account=ACCOUNT,
        region="us-east-1",
        evidence=case,
    )


@pytest.fixture
def ec2(aws):
    return aws.client("ec2")


@pytest.fixture
def net(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    web = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ami = "ami-03cf127a"  # one of the images moto ships (describe_images takes seconds)
    return {"vpc": vpc, "subnet": subnet, "web": web, "ami": ami}
