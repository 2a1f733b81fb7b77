"""Rehearsals of guardduty-attack-sequence, ec2-runtime-threat, ecs-runtime-threat and eks-threat on moto.

No published attack sequence keeps its `service.detection.sequence` block (tests/events/SOURCES.md):
the real fixture is completed here with resources in the shape AWS documents for it (ResourceV2:
`uid`, `resourceType`, `accountId`, `region`), each pointed at a resource the test creates. The
runtime findings are GuardDuty's documented format pointed at resources the test creates.
"""

from __future__ import annotations

import pytest

from parry.config import Settings
from parry.engine.run import Engine
from parry.engine.undo import undo
from parry.playbooks.validate import load_file
from parry.store import model as cs
from tests.support.decisions import approve
from tests.support.findings import registered
from tests.support.paths import ROOT
from tests.support.routing import finding, load, routes

SEQUENCE = "guardduty/attacksequence-iam-compromisedcredentials.bare.json"
OUTSIDE = "ap-southeast-2"


def book(name: str):
    return load_file(ROOT / "playbooks" / f"{name}.yaml")


def launch(aws, region: str) -> str:
    ec2 = aws.client("ec2", region)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    return ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", SubnetId=subnet)[
        "Instances"
    ][0]["InstanceId"]


def groups(aws, region: str, instance_id: str) -> list[str]:
    found = aws.client("ec2", region).describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    return sorted(g["GroupId"] for eni in found["NetworkInterfaces"] for g in eni["Groups"])


def key_status(aws, user: str) -> str:
    return aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"][0]["Status"]


@pytest.fixture
def sequence(aws, parry_env, monkeypatch):
    """An attack sequence naming an IAM user's key, an eu-west-1 instance and a bucket outside PARRY_REGIONS."""
    monkeypatch.setenv("PARRY_REGIONS", "us-east-1,eu-west-1")
    iam = aws.client("iam")
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    instance, decoy = launch(aws, "eu-west-1"), launch(aws, "us-east-1")
    aws.client("s3", OUTSIDE).create_bucket(
        Bucket="far-data", CreateBucketConfiguration={"LocationConstraint": OUTSIDE}
    )
    event = load(SEQUENCE)
    account = aws.client("sts").get_caller_identity()["Account"]
    event["account"] = event["detail"]["accountId"] = account
    event["detail"]["service"]["detection"] = {
        "sequence": {
            "uid": "seq-1",
            "resources": [
                {"uid": key, "resourceType": "ACCESS_KEY", "accountId": account, "region": "us-east-1"},
                {"uid": instance, "resourceType": "EC2_INSTANCE", "accountId": account, "region": "eu-west-1"},
                {"uid": "far-data", "resourceType": "S3_BUCKET", "accountId": account, "region": OUTSIDE},
            ],
        }
    }
    return {
        "engine": Engine(aws, Settings.from_env()),
        "event": registered(aws, event),
        "key": key,
        "instance": instance,
        "decoy": decoy,
    }


def test_an_attack_sequence_waits_for_approval_then_contains_each_resource_where_it_is_and_undoes(aws, sequence):
    engine, event = sequence["engine"], sequence["event"]
    assert routes(event) == {"guardduty-attack-sequence"}
    before, decoy = groups(aws, "eu-west-1", sequence["instance"]), groups(aws, "us-east-1", sequence["decoy"])

    case = engine.run(book("guardduty-attack-sequence"), event)

    assert case.status == cs.AWAITING_APPROVAL and case.awaiting["step"] == "contain"
    assert key_status(aws, "alice") == "Active" and groups(aws, "eu-west-1", sequence["instance"]) == before

    approve(engine, case.case_id, who="arn:aws:iam::123456789012:user/bob", reason="the plan is right")
    case = engine.resume(case.case_id, book("guardduty-attack-sequence"))

    contain = next(s for s in case.steps if s.step_id == "contain")
    assert case.status == cs.COMPLETED_WITH_ERRORS, [(s.step_id, s.error) for s in case.steps]
    assert contain.status == "not_contained"
    # the bucket outside PARRY_REGIONS is refused by name, and only it
    (refused,) = contain.unmet
    assert f"AwsS3Bucket far-data" in refused and f"{OUTSIDE} is outside the regions Parry acts in" in refused
    assert {p["status"] for p in contain.output["parts"]} == {"succeeded"}
    # read back where each resource is: the key (IAM), the eu-west-1 instance; nothing in us-east-1
    assert key_status(aws, "alice") == "Inactive"
    assert groups(aws, "eu-west-1", sequence["instance"]) != before
    assert groups(aws, "us-east-1", sequence["decoy"]) == decoy
    s3 = aws.client("s3", OUTSIDE)
    with pytest.raises(s3.exceptions.ClientError):
        s3.get_public_access_block(Bucket="far-data")  # untouched

    undone = undo(engine, case.case_id, who="arn:aws:iam::123456789012:user/carol", reason="false positive")

    assert undone.status == cs.UNDONE, [(s.step_id, s.error) for s in undone.steps]
    assert key_status(aws, "alice") == "Active"
    assert groups(aws, "eu-west-1", sequence["instance"]) == before


def test_the_plan_of_an_attack_sequence_lists_each_resources_calls_in_its_place(aws, sequence):
    plan = sequence["engine"].plan(book("guardduty-attack-sequence"), sequence["event"])

    contain = next(s for s in plan.steps if s.step_id == "contain")
    assert contain.approval and contain.will_run
    assert any("iam:UpdateAccessKey" in c for c in contain.calls)
    assert any("ec2:ModifyNetworkInterfaceAttribute" in c for c in contain.calls)
    parts = {p["type"]: p for p in contain.state["resources"]}
    assert parts["AwsEc2Instance"]["region"] == "eu-west-1" and "action" in parts["AwsEc2Instance"]
    assert "outside the regions Parry acts in" in parts["AwsS3Bucket"]["refused"]


def test_the_real_fixture_without_its_sequence_block_runs_no_containment(aws, parry_env):
    event = load(SEQUENCE)
    event["account"] = event["detail"]["accountId"] = aws.client("sts").get_caller_identity()["Account"]
    engine = Engine(aws, Settings.from_env())

    case = engine.run(book("guardduty-attack-sequence"), registered(aws, event))

    assert next(s for s in case.steps if s.step_id == "contain").status == "skipped"
