"""Verified containment through the `parry` command on a local endpoint (moto server on 127.0.0.1).

An instance launched the usual way (RunInstances with SecurityGroupIds) is isolated for real: it
ends in the isolation group only, read back from EC2. And when EC2 answers a group change that does
not stick (a fault injected into the local endpoint), the step is NOT_CONTAINED, naming the
interface and the group it is still in, the case is not SUCCEEDED, and the on-call is told.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.support.local_endpoint import bootstrapped, endpoint_client, run_parry

ROOT = Path(__file__).resolve().parents[2]
EVENT = ROOT / "tests/events/guardduty/backdoor-ec2-cc-activity-b-dns.eventbridge.json"
ACCOUNT, REGION = "123456789012", "us-east-1"

pytestmark = pytest.mark.xdist_group("containment-cli")  # one local endpoint for the module


@pytest.fixture(scope="module")
def local():
    """A moto server in this process (so a test can inject a fault into it), with Parry bootstrapped."""
    with bootstrapped(REGION) as endpoint:
        yield endpoint


def parry(local, *args: str) -> tuple[int, str, str]:
    out = run_parry(local, *args)
    return out.returncode, out.stdout, out.stderr


client = endpoint_client


@pytest.fixture
def web_instance(local, tmp_path, monkeypatch):
    """An instance launched with SecurityGroupIds=[web], and a GuardDuty finding file about it (in Security Hub too)."""
    from parry.aws.clients import ClientFactory
    from parry.local.sandbox import guardduty_finding_in_security_hub

    ec2 = client(local, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    web = ec2.create_security_group(GroupName="web", Description="web servers", VpcId=vpc)["GroupId"]
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    iid = ec2.run_instances(
        ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", SubnetId=subnet, SecurityGroupIds=[web]
    )["Instances"][0]["InstanceId"]
    event = json.loads(EVENT.read_text())
    event["id"], event["account"], event["region"] = str(uuid.uuid4()), ACCOUNT, REGION
    detail = event["detail"]
    detail.update(id=uuid.uuid4().hex, accountId=ACCOUNT, region=REGION)
    detail["arn"] = f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/d/finding/{detail['id']}"
    detail["resource"]["instanceDetails"] = {"instanceId": iid}
    monkeypatch.setenv("AWS_ENDPOINT_URL", local["endpoint"])
    guardduty_finding_in_security_hub(ClientFactory(region=REGION), event)  # the playbook marks it there
    path = tmp_path / "finding.json"
    path.write_text(json.dumps(event))
    return {"instance": iid, "web": web, "event": str(path)}


def groups_of(local, iid: str) -> tuple[list[str], list[list[str]]]:
    """(the instance's groups, each of its interfaces' groups), as EC2 reports them."""
    ec2 = client(local, "ec2")
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "attachment.instance-id", "Values": [iid]}])
    return [g["GroupId"] for g in inst["SecurityGroups"]], [
        [g["GroupId"] for g in e["Groups"]] for e in enis["NetworkInterfaces"]
    ]


def test_an_instance_launched_with_security_group_ids_ends_in_the_isolation_group_only(local, web_instance):
    code, out, err = parry(local, "run", "ec2-compromise", "--event", web_instance["event"], "--json")
    assert code == 0, err
    case = json.loads(out)
    isolate = next(s for s in case["steps"] if s["step_id"] == "isolate")
    assert case["status"] == "SUCCEEDED", [(s["step_id"], s["status"], s["error"]) for s in case["steps"]]
    iso = isolate["output"]["isolation_group"]
    assert groups_of(local, web_instance["instance"]) == ([iso], [[iso]])


def test_a_group_change_that_does_not_stick_is_not_contained_and_the_on_call_is_told(local, web_instance, monkeypatch):
    from moto.ec2.models.elastic_network_interfaces import NetworkInterfaceBackend

    # the injected fault: the local EC2 answers ModifyNetworkInterfaceAttribute and changes nothing
    monkeypatch.setattr(NetworkInterfaceBackend, "modify_network_interface_attribute", lambda self, *a, **kw: None)
    sqs = client(local, "sqs")
    queue = sqs.create_queue(QueueName=f"on-call-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client(local, "sns").subscribe(TopicArn=local["env"]["PARRY_TOPIC_ARN"], Protocol="sqs", Endpoint=queue_arn)

    code, out, _ = parry(local, "run", "ec2-compromise", "--event", web_instance["event"], "--json")
    case = json.loads(out)
    isolate = next(s for s in case["steps"] if s["step_id"] == "isolate")
    ((eni, _),) = isolate["after"]["network_interfaces"].items()
    still = f"{eni} still in {web_instance['web']} (web)"
    assert code == 1 and case["status"] == "FAILED"  # the step's on_error is abort: nothing after it ran
    assert isolate["status"] == "not_contained" and still in isolate["unmet"] and still in isolate["error"]
    assert [s["step_id"] for s in case["steps"]][-1] == "isolate"
    assert groups_of(local, web_instance["instance"])[1] == [[web_instance["web"]]]

    code, shown, _ = parry(local, "cases", "show", case["case_id"])
    assert code == 0 and "not_contained" in shown and still in shown
    told = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]]
    notice = next(m for m in told if "NOT contained" in m["Subject"])
    assert case["case_id"] in notice["Message"] and still in notice["Message"]
