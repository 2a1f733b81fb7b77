"""A finding from another region is acted on where its resource is, and only in the regions Parry is set for.

moto keeps each region's EC2 apart, so an instance isolated in eu-west-1 by a us-east-1 deployment
is changed there, and the us-east-1 instance beside it is not.
"""

from __future__ import annotations

import pytest

from parry.config import Settings
from parry.engine.run import Engine
from parry.errors import EventError
from parry.store import model as cs
from tests.support.control import Context, fresh_runner, lines
from tests.support.findings import registered
from tests.support.playbooks import playbook

FINDING = "guardduty/backdoor-ec2-cc-activity-b-dns.eventbridge.json"


def launch(aws, region):
    ec2 = aws.client("ec2", region)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    return ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", SubnetId=subnet)[
        "Instances"
    ][0]["InstanceId"]


def groups(aws, region, instance_id):
    found = aws.client("ec2", region).describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    return sorted(g["GroupId"] for eni in found["NetworkInterfaces"] for g in eni["Groups"])


def isolate_book():
    """The instance named once through the finding view, whatever format the finding came in."""
    return playbook(
        target={"instance": "finding.resources[?type=='AwsEc2Instance'].id | [0]"},
        steps=[{"id": "isolate", "action": "ec2.isolate_instance", "with": {"instance_id": "${target.instance}"}}],
    )


@pytest.fixture
def eu_finding(aws, parry_env, load_event):
    """A GuardDuty finding on an eu-west-1 instance, and a us-east-1 instance beside it (the decoy)."""
    instance, decoy = launch(aws, "eu-west-1"), launch(aws, "us-east-1")
    event = load_event(FINDING)
    account = aws.client("sts").get_caller_identity()["Account"]
    event["account"] = event["detail"]["accountId"] = account
    event["region"] = "us-east-1"  # forwarded to the home region's bus
    event["detail"]["region"] = "eu-west-1"
    event["detail"]["resource"]["instanceDetails"]["instanceId"] = instance
    return {"event": registered(aws, event), "instance": instance, "decoy": decoy}


def test_a_finding_from_eu_west_1_changes_the_eu_west_1_instance_only(aws, monkeypatch, eu_finding):
    monkeypatch.setenv("PARRY_REGIONS", "us-east-1,eu-west-1")
    engine = Engine(aws, Settings.from_env())
    decoy_before = groups(aws, "us-east-1", eu_finding["decoy"])
    before = groups(aws, "eu-west-1", eu_finding["instance"])

    case = engine.run(isolate_book(), eu_finding["event"])

    assert case.status == cs.SUCCEEDED, [(s.step_id, s.error) for s in case.steps]
    assert case.region == "eu-west-1" and case.target["instance"] == eu_finding["instance"]
    assert groups(aws, "eu-west-1", eu_finding["instance"]) != before  # isolated where it is
    assert groups(aws, "us-east-1", eu_finding["decoy"]) == decoy_before
    assert not aws.client("ec2", "us-east-1").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["parry-isolation*"]}]
    )["SecurityGroups"]


def test_a_finding_outside_the_configured_regions_is_refused_by_name(aws, monkeypatch, eu_finding):
    monkeypatch.setenv("PARRY_REGIONS", "us-east-1")
    engine = Engine(aws, Settings.from_env())
    before = groups(aws, "eu-west-1", eu_finding["instance"])

    with pytest.raises(EventError, match=f"AwsEc2Instance {eu_finding['instance']} in eu-west-1, outside"):
        engine.run(isolate_book(), eu_finding["event"])

    assert groups(aws, "eu-west-1", eu_finding["instance"]) == before
    assert engine.store.list() == []  # no case opened


# ---- through the runner Lambda's handler, with the shipped playbook ---------------------------------


@pytest.fixture
def runner(monkeypatch, tmp_path, parry_env):
    """The ec2-compromise runner of a us-east-1 deployment, as in a new container."""
    runner = fresh_runner(monkeypatch, tmp_path, "ec2-compromise")
    monkeypatch.setattr(runner, "_continue_later", lambda *a: None)
    return runner


def snapshots(aws, region, case_id):
    return aws.client("ec2", region).describe_snapshots(Filters=[{"Name": "tag:parry:case", "Values": [case_id]}])[
        "Snapshots"
    ]


def test_the_runner_contains_the_eu_west_1_instance_and_nothing_in_us_east_1(aws, monkeypatch, runner, eu_finding):
    monkeypatch.setenv("PARRY_REGIONS", "us-east-1,eu-west-1")
    decoy_before = groups(aws, "us-east-1", eu_finding["decoy"])
    before = groups(aws, "eu-west-1", eu_finding["instance"])

    result = runner.handler(eu_finding["event"], Context())

    case = Engine(aws, Settings.from_env()).store.get(result["case_id"])
    assert case.region == "eu-west-1"
    steps = {s.step_id: s.status for s in case.steps}
    assert steps["isolate"] == steps["capture-instance"] == steps["snapshot-disks"] == "succeeded", case.steps
    assert groups(aws, "eu-west-1", eu_finding["instance"]) != before
    assert len(snapshots(aws, "eu-west-1", case.case_id)) == 1
    assert groups(aws, "us-east-1", eu_finding["decoy"]) == decoy_before
    assert snapshots(aws, "us-east-1", case.case_id) == []
    assert not aws.client("ec2", "us-east-1").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["parry-isolation*"]}]
    )["SecurityGroups"]


def test_the_runner_refuses_a_region_it_is_not_set_for_by_name(aws, monkeypatch, runner, eu_finding, capsys):
    monkeypatch.setenv("PARRY_REGIONS", "us-east-1")
    before = groups(aws, "eu-west-1", eu_finding["instance"])

    with pytest.raises(EventError, match=f"AwsEc2Instance {eu_finding['instance']} in eu-west-1, outside"):
        runner.handler(eu_finding["event"], Context())

    log = next(d for d in lines(capsys) if d.get("message") == "event rejected")
    assert "in eu-west-1, outside the regions Parry acts in (us-east-1)" in log["reason"]
    assert groups(aws, "eu-west-1", eu_finding["instance"]) == before
    assert Engine(aws, Settings.from_env()).store.list() == []
