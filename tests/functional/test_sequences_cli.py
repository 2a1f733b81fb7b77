"""guardduty-attack-sequence and ecs-runtime-threat through the `parry` command on a local endpoint.

The home region is us-east-1 and Parry acts in us-east-1 and eu-west-1 (PARRY_REGIONS). The attack
sequence is the real fixture completed with a `service.detection.sequence` block in AWS's documented
shape (no published sample keeps it): an IAM user's key, an eu-west-1 instance and a bucket in
ap-southeast-2. Each effect is read back in the resource's own region.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
SEQUENCE = ROOT / "tests/events/guardduty/attacksequence-iam-compromisedcredentials.bare.json"
ACCOUNT, HOME, OUTSIDE = "123456789012", "us-east-1", "ap-southeast-2"

pytestmark = pytest.mark.xdist_group("sequences-cli")  # one local endpoint for the module


@pytest.fixture(scope="module")
def local():
    from parry.local.server import LocalServer

    server = LocalServer.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARRY_", "AWS_"))}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION=HOME,
        AWS_DEFAULT_REGION=HOME,
        AWS_ENDPOINT_URL=server.endpoint,
        PYTHONPATH=str(ROOT),
    )
    out = subprocess.run(
        [sys.executable, "-m", "parry", "local", "bootstrap"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    env.update(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    env["PARRY_REGIONS"] = f"{HOME},eu-west-1"
    yield {"env": env, "endpoint": server.endpoint}
    server.stop()


def parry(local, *args: str) -> tuple[int, str, str]:
    out = subprocess.run(
        [sys.executable, "-m", "parry", *args], env=local["env"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    return out.returncode, out.stdout, out.stderr


def client(local, service: str, region: str = HOME):
    return boto3.client(
        service,
        endpoint_url=local["endpoint"],
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def launch(local, region: str) -> str:
    ec2 = client(local, "ec2", region)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    return ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", SubnetId=subnet)[
        "Instances"
    ][0]["InstanceId"]


def groups(local, region: str, instance_id: str) -> list[str]:
    found = client(local, "ec2", region).describe_instances(InstanceIds=[instance_id])
    instance = found["Reservations"][0]["Instances"][0]
    return sorted(g["GroupId"] for eni in instance["NetworkInterfaces"] for g in eni["Groups"])


def test_an_attack_sequence_is_planned_approved_and_contained_where_each_resource_is(local, tmp_path, monkeypatch):
    from parry.aws.clients import ClientFactory
    from parry.local.sandbox import guardduty_finding_in_security_hub
    from parry.routing.events import wrap

    iam = client(local, "iam")
    iam.create_user(UserName="mallory-target")
    key = iam.create_access_key(UserName="mallory-target")["AccessKey"]["AccessKeyId"]
    instance, decoy = launch(local, "eu-west-1"), launch(local, HOME)
    before, decoy_before = groups(local, "eu-west-1", instance), groups(local, HOME, decoy)
    client(local, "s3", OUTSIDE).create_bucket(
        Bucket="cli-far-data", CreateBucketConfiguration={"LocationConstraint": OUTSIDE}
    )
    detail = json.loads(SEQUENCE.read_text())
    detail["accountId"] = ACCOUNT
    detail["service"]["detection"] = {
        "sequence": {
            "uid": "seq-cli",
            "resources": [
                {"uid": key, "resourceType": "ACCESS_KEY", "accountId": ACCOUNT, "region": HOME},
                {"uid": instance, "resourceType": "EC2_INSTANCE", "accountId": ACCOUNT, "region": "eu-west-1"},
                {"uid": "cli-far-data", "resourceType": "S3_BUCKET", "accountId": ACCOUNT, "region": OUTSIDE},
            ],
        }
    }
    event = wrap(detail)[0]
    monkeypatch.setenv("AWS_ENDPOINT_URL", local["endpoint"])
    guardduty_finding_in_security_hub(ClientFactory(region=HOME), event)
    path = tmp_path / "sequence.json"
    path.write_text(json.dumps(event))

    assert parry(local, "route", str(path))[1].splitlines() == ["guardduty-attack-sequence"]
    code, out, err = parry(local, "plan", "guardduty-attack-sequence", "--event", str(path))
    assert code == 0, err
    assert "would call iam:UpdateAccessKey" in out and "would call ec2:ModifyNetworkInterfaceAttribute" in out
    assert groups(local, "eu-west-1", instance) == before  # a plan changes nothing

    code, out, err = parry(local, "run", "guardduty-attack-sequence", "--event", str(path), "--json")
    case = json.loads(out)
    assert code == 0 and case["status"] == "AWAITING_APPROVAL", err
    assert iam.list_access_keys(UserName="mallory-target")["AccessKeyMetadata"][0]["Status"] == "Active"

    code, out, err = parry(local, "approve", case["case_id"], "--as", "parry-approver", "--reason", "checked", "--json")
    assert code == 0, err
    code, out, err = parry(local, "cases", "show", case["case_id"], "--json")
    shown = json.loads(out)
    assert shown["status"] == "COMPLETED_WITH_ERRORS", (err, [(s["step_id"], s["error"]) for s in shown["steps"]])
    contain = next(s for s in shown["steps"] if s["step_id"] == "contain")
    assert len(contain["unmet"]) == 1 and "cli-far-data" in contain["unmet"][0] and OUTSIDE in contain["unmet"][0]

    assert iam.list_access_keys(UserName="mallory-target")["AccessKeyMetadata"][0]["Status"] == "Inactive"
    assert groups(local, "eu-west-1", instance) != before  # isolated in eu-west-1
    assert groups(local, HOME, decoy) == decoy_before  # nothing changed in us-east-1
    s3 = client(local, "s3", OUTSIDE)
    with pytest.raises(s3.exceptions.ClientError):
        s3.get_public_access_block(Bucket="cli-far-data")
