"""A protected resource stays protected whatever region the event names: protection is matched on
ARNs built from the region the calls go to (the client's), never from the event's `region`."""

from __future__ import annotations

import pytest

from parry.config import Settings
from parry.engine.run import Engine
from parry.store import model as cs
from tests.support.playbooks import playbook

PROTECTED = "arn:aws:ec2:us-east-1:123456789012:instance/*"  # every instance of the runner's region


@pytest.fixture
def instance(aws):
    ec2 = aws.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    return ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", SubnetId=subnet)[
        "Instances"
    ][0]["InstanceId"]


def isolate_book():
    return playbook(
        trigger={"source": ["aws.ec2"]},
        target={"instance": 'detail."instance-id"'},
        dedup='detail."instance-id"',
        steps=[{"id": "isolate", "action": "ec2.isolate_instance", "with": {"instance_id": "${target.instance}"}}],
    )


def groups(aws, instance_id):
    found = aws.client("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    return sorted(g["GroupId"] for eni in found["NetworkInterfaces"] for g in eni["Groups"])


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "cn-north-1"])
def test_an_event_naming_another_region_cannot_touch_a_protected_instance(aws, parry_env, instance, region):
    engine = Engine(aws, Settings.from_env(protected_arns=(PROTECTED,)))
    before = groups(aws, instance)
    event = {
        "version": "0",
        "id": f"spoof-{region}",
        "source": "aws.ec2",
        "detail-type": "EC2 Instance State-change Notification",
        "account": "123456789012",
        "region": region,  # the calls still go to the runner's us-east-1
        "time": "2026-12-01T12:00:00Z",
        "resources": [],
        "detail": {"instance-id": instance, "state": "running"},
    }

    case = engine.run(isolate_book(), event)

    (step,) = case.steps
    assert step.status == "refused" and PROTECTED in step.error
    assert f"arn:aws:ec2:us-east-1:123456789012:instance/{instance}" in step.error
    assert groups(aws, instance) == before and case.status == cs.FAILED  # the playbook aborts at a refusal
