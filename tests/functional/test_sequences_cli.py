"""guardduty-attack-sequence, ecs-runtime-threat, eks-threat and ec2-runtime-threat through the `parry`
command on a local endpoint.

The home region is us-east-1 and Parry acts in us-east-1 and eu-west-1 (PARRY_REGIONS); each effect
is read back with a client of the resource's own region, and us-east-1 is checked untouched. The
attack sequence is the real fixture completed with a `service.detection.sequence` block in AWS's
documented shape (no published sample keeps it): an IAM user's key, an eu-west-1 instance and a
bucket in ap-southeast-2. No published Runtime Monitoring finding names an ECS task: the ECS
rehearsal takes the real runtime finding (DockerSocketAccessed, its attacker-settable process fields
kept) with its resource block pointed at an eu-west-1 Fargate task, in GuardDuty's documented
ecsClusterDetails shape. The EKS rehearsal runs the real EKS audit finding in its own us-east-1; the EC2 one the real
Security Hub v2 (OCSF) runtime finding, moved to an eu-west-1 instance.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.local_endpoint import bootstrapped, endpoint_client, run_parry

ROOT = Path(__file__).resolve().parents[2]
SEQUENCE = ROOT / "tests/events/guardduty/attacksequence-iam-compromisedcredentials.bare.json"
ACCOUNT, HOME, OUTSIDE = "123456789012", "us-east-1", "ap-southeast-2"

pytestmark = pytest.mark.xdist_group("sequences-cli")  # one local endpoint for the module


@pytest.fixture(scope="module")
def local():
    with bootstrapped(HOME, PARRY_REGIONS=f"{HOME},eu-west-1") as endpoint:
        yield endpoint


def parry(local, *args: str) -> tuple[int, str, str]:
    out = run_parry(local, *args)
    return out.returncode, out.stdout, out.stderr


client = endpoint_client


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


# ---- Runtime Monitoring and EKS ------------------------------------------------------------------

RUNTIME = ROOT / "tests/events/guardduty/privilegeescalation-runtime-dockersocketaccessed.bare.json"
EKS_AUDIT = ROOT / "tests/events/guardduty/persistence-kubernetes-successfulanonymousaccess.bare.json"
OCSF_RUNTIME = ROOT / "tests/events/securityhub-v2/guardduty-runtime-newbinaryexecuted-ec2-ocsf.bare.json"


def guardduty_event(local, monkeypatch, detail: dict, region: str, tmp_path: Path, name: str) -> Path:
    """A real GuardDuty finding placed in `region` of the local account, as a file `parry` reads; the
    finding is in the home region's local Security Hub, as GuardDuty's integration and Security Hub's
    cross-region aggregation put it (`parry run` registers it in GuardDuty itself)."""
    from parry.aws.clients import ClientFactory
    from parry.local.corrections import as_detection
    from parry.local.sandbox import guardduty_finding_in_security_hub
    from parry.routing.events import wrap

    detail = as_detection(detail)  # the published samples carry the sample mark; a real detection does not
    detail.update(accountId=ACCOUNT, region=region)
    detail["arn"] = f"arn:aws:guardduty:{region}:{ACCOUNT}:detector/d1/finding/{detail['id']}"
    event = wrap(detail)[0]
    monkeypatch.setenv("AWS_ENDPOINT_URL", local["endpoint"])
    guardduty_finding_in_security_hub(ClientFactory(region=HOME), event)  # aggregated into the home region's hub
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(event))
    return path


def stored_artifact(local, case_id: str, step_id: str) -> dict:
    """The JSON a step captured, read from the evidence bucket where `parry cases show` says it is."""
    code, out, err = parry(local, "cases", "show", case_id, "--json")
    assert code == 0, err
    step = next(s for s in json.loads(out)["steps"] if s["step_id"] == step_id)
    key = step["output"]["artifact"]["key"]
    body = client(local, "s3").get_object(Bucket=local["env"]["PARRY_EVIDENCE_BUCKET"], Key=key)["Body"]
    return json.loads(body.read())


def fargate_task(local) -> dict:
    """A Fargate task in eu-west-1 with its own network interface in the `web` group."""
    ec2, ecs = client(local, "ec2", "eu-west-1"), client(local, "ecs", "eu-west-1")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    web = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ecs.create_cluster(clusterName="cli-prod")
    ecs.register_task_definition(
        family="cli-api",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "api", "image": "public.ecr.aws/nginx/nginx:latest", "memory": 512}],
    )
    task = ecs.run_task(
        cluster="cli-prod",
        taskDefinition="cli-api",
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [web]}},
    )["tasks"][0]
    return {"arn": task["taskArn"], "definition": task["taskDefinitionArn"], "web": web, "ecs": ecs, "ec2": ec2}


@pytest.fixture
def tasks_run_until_stopped():
    """ECS tasks that keep running until stopped, as in AWS: moto's own lifecycle moves a task one state
    further (RUNNING, DEACTIVATING, ... STOPPED) at each DescribeTasks, so it would stop by itself."""
    from moto.moto_api import state_manager

    state_manager.set_transition(model_name="ecs::task", transition={"progression": "manual", "times": 10**9})
    yield
    state_manager.unset_transition(model_name="ecs::task")


def task_state(task: dict) -> tuple[list[str], str, str]:
    """(the groups of the task's network interface, its last and desired status), read back in eu-west-1."""
    found = task["ecs"].describe_tasks(cluster="cli-prod", tasks=[task["arn"]])["tasks"][0]
    eni = next(d["value"] for a in found["attachments"] for d in a["details"] if d["name"] == "networkInterfaceId")
    interface = task["ec2"].describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]
    return sorted(g["GroupId"] for g in interface["Groups"]), found["lastStatus"], found["desiredStatus"]


def test_an_ecs_runtime_threat_is_isolated_where_the_task_runs_and_stopped_only_once_approved(
    local, tmp_path, monkeypatch, tasks_run_until_stopped
):
    task = fargate_task(local)
    detail = json.loads(RUNTIME.read_text())
    detail["resource"] = {
        "resourceType": "ECSCluster",
        "ecsClusterDetails": {
            "name": "cli-prod",
            "arn": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:cluster/cli-prod",
            "taskDetails": {"arn": task["arn"], "definitionArn": task["definition"], "launchType": "FARGATE"},
        },
    }
    path = guardduty_event(local, monkeypatch, detail, "eu-west-1", tmp_path, "ecs-runtime")

    assert parry(local, "route", str(path))[1].splitlines() == ["ecs-runtime-threat"]
    code, out, err = parry(local, "plan", "ecs-runtime-threat", "--event", str(path))
    assert code == 0, err
    assert "would call ec2:ModifyNetworkInterfaceAttribute" in out and "would call ecs:StopTask" in out
    assert task_state(task) == ([task["web"]], "RUNNING", "RUNNING")  # a plan changes nothing

    code, out, err = parry(local, "run", "ecs-runtime-threat", "--event", str(path), "--json")
    case = json.loads(out)
    assert code == 0 and case["status"] == "AWAITING_APPROVAL", err
    (isolation,), *status = task_state(task)
    assert isolation != task["web"] and status == ["RUNNING", "RUNNING"]  # isolated in eu-west-1, still running
    group = task["ec2"].describe_security_groups(GroupIds=[isolation])["SecurityGroups"][0]
    assert group["GroupName"] == "parry-isolation" and not group["IpPermissions"] + group["IpPermissionsEgress"]
    captured = stored_artifact(local, case["case_id"], "capture-task")
    assert captured["task"]["taskArn"] == task["arn"]
    assert captured["task_definition"]["taskDefinition"]["family"] == "cli-api"

    code, out, err = parry(local, "approve", case["case_id"], "--as", "parry-approver", "--reason", "checked", "--json")
    assert code == 0, err
    code, out, err = parry(local, "cases", "show", case["case_id"], "--json")
    shown = json.loads(out)
    steps = {s["step_id"]: s["status"] for s in shown["steps"]}
    assert shown["region"] == "eu-west-1"
    assert [steps[s] for s in ("capture-task", "isolate-task", "stop-task")] == ["succeeded"] * 3, (err, steps)
    assert task_state(task)[1:] == ("STOPPED", "STOPPED")  # stopped by Parry, read back in eu-west-1
    assert not client(local, "ecs", HOME).list_clusters()["clusterArns"]  # nothing made in us-east-1
    assert not client(local, "ec2", HOME).describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["parry-isolation"]}]
    )["SecurityGroups"]


def test_an_eks_finding_captures_the_clusters_configuration_into_evidence_and_changes_nothing(
    local, tmp_path, monkeypatch
):
    eks = client(local, "eks")
    eks.create_cluster(
        name="cli-k8s",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks",
        resourcesVpcConfig={"subnetIds": [], "securityGroupIds": []},
    )
    before = eks.describe_cluster(name="cli-k8s")["cluster"]
    detail = json.loads(EKS_AUDIT.read_text())
    detail["resource"]["eksClusterDetails"].update(name="cli-k8s", arn=f"arn:aws:eks:{HOME}:{ACCOUNT}:cluster/cli-k8s")
    path = guardduty_event(local, monkeypatch, detail, HOME, tmp_path, "eks-audit")

    assert parry(local, "route", str(path))[1].splitlines() == ["eks-threat"]
    code, out, err = parry(local, "run", "eks-threat", "--event", str(path), "--json")
    case = json.loads(out)
    assert code == 0 and case["status"] == "SUCCEEDED", err

    code, out, err = parry(local, "evidence", "show", case["case_id"], "--json")
    assert code == 0, err
    assert any(o["path"].endswith("cluster.json") for o in json.loads(out)["objects"])
    captured = stored_artifact(local, case["case_id"], "capture-cluster")
    assert captured["cluster"]["name"] == "cli-k8s" and captured["cluster"]["arn"] == before["arn"]
    after = eks.describe_cluster(name="cli-k8s")["cluster"]
    assert (after["status"], after["resourcesVpcConfig"]) == (before["status"], before["resourcesVpcConfig"])
    assert client(local, "eks", "eu-west-1").list_clusters()["clusters"] == []


def test_an_ec2_runtime_threat_from_security_hub_v2_isolates_the_instance_in_its_own_region(local, tmp_path):
    from parry.local.corrections import register_ocsf_findings
    from parry.routing.events import wrap

    instance, decoy = launch(local, "eu-west-1"), launch(local, HOME)
    before, decoy_before = groups(local, "eu-west-1", instance), groups(local, HOME, decoy)
    finding = json.loads(OCSF_RUNTIME.read_text())
    finding["cloud"]["region"] = "eu-west-1"
    (resource,) = finding["resources"]
    resource.update(uid=instance, name=instance, region="eu-west-1")
    resource["data"]["instance_id"] = instance
    event = wrap(finding)[0]
    # no API imports an OCSF finding: the local Security Hub v2 (this process's moto) is given it
    register_ocsf_findings(ACCOUNT, event)
    path = tmp_path / "ocsf-runtime.json"
    path.write_text(json.dumps(event))

    assert parry(local, "route", str(path))[1].splitlines() == ["ec2-runtime-threat"]
    code, out, err = parry(local, "run", "ec2-runtime-threat", "--event", str(path), "--json")
    case = json.loads(out)
    assert code == 0 and case["status"] == "SUCCEEDED", err

    code, out, err = parry(local, "cases", "show", case["case_id"], "--json")
    shown = json.loads(out)
    assert shown["region"] == "eu-west-1" and shown["target"]["instance"] == instance
    assert groups(local, "eu-west-1", instance) != before  # isolated, read back in eu-west-1
    assert groups(local, HOME, decoy) == decoy_before  # nothing changed in us-east-1
