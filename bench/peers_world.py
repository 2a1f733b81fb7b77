"""The shared ground for bench/peers.py: one local endpoint that counts the API calls it answers,
fresh compromised resources for each run, and the account effects read back afterwards.

The count is taken by the server (a hook on moto's WSGI dispatcher in this process), so every
contender is counted the same way whatever its SDK or its process: service and operation from
the request as AWS would route it (X-Amz-Target, the query protocol's Action, or the REST
method and path matched against botocore's model).
"""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT, REGION = "123456789012", "us-east-1"
KEY_FINDING = "guardduty/unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.bare.json"
INSTANCE_FINDING = "guardduty/backdoor-ec2-cc-activity-b-dns.eventbridge.json"
# the call that contains each scenario: the key goes Inactive, the instance leaves its groups
CONTAINING = {
    "key": {"iam:UpdateAccessKey"},
    "instance": {"ec2:ModifyNetworkInterfaceAttribute", "ec2:ModifyInstanceAttribute"},
}
QUARANTINE_POLICY = "parry-quarantine"  # the name Parry's iam.quarantine_user gives its deny-all policy


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    answered: float  # time.monotonic() when the server had answered (one clock for every process here)

    @property
    def name(self) -> str:
        return f"{self.service}:{self.operation}"


@dataclass
class CallLog:
    """Every request the local endpoint answered, in the order it answered them."""

    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    @contextmanager
    def window(self) -> Iterator[list[Call]]:
        """The calls answered while the block runs (the block must wait for its contender to finish)."""
        seen: list[Call] = []
        start = len(self.calls)
        try:
            yield seen
        finally:
            with self.lock:
                seen += self.calls[start:]


def operation_of(environ: dict[str, Any], body: bytes) -> tuple[str, str]:
    """(service, operation) of one request, as AWS routes it."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/") if "Credential=" in auth else []
    service = scope[3] if len(scope) > 3 else "unknown"
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, target.split(".")[-1]
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if not action and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
    if action:
        return service, action[0]
    from moto.core.routing import get_service_router
    from werkzeug.wrappers import Request

    try:
        request = Request(dict(environ, **{"wsgi.input": io.BytesIO(body)}))
        request.raw_path = environ.get("RAW_URI", request.path).split("?", 1)[0]  # what moto's router reads
        operation, _ = get_service_router(service).match(request)
        return service, operation.name
    except Exception:  # what the router does not match (S3 path-style): method, object or bucket, query keys
        path, query = environ.get("PATH_INFO", ""), sorted(parse_qs(environ.get("QUERY_STRING", ""), True))
        what = "object" if path.strip("/").count("/") else "bucket"
        return service, f"{environ.get('REQUEST_METHOD')} {what}{'?' + '&'.join(query) if query else ''}"


@contextmanager
def counting(log: CallLog) -> Iterator[CallLog]:
    """Hook moto's WSGI dispatcher (this process only, while the block runs) so every request it answers lands in `log`."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.__call__

    def counted(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        service, operation = operation_of(environ, body)
        answer = original(self, dict(environ, **{"wsgi.input": io.BytesIO(body)}), start_response)
        log.add(Call(service, operation, time.monotonic()))
        return answer

    DomainDispatcherApplication.__call__ = counted  # type: ignore[method-assign]
    try:
        yield log
    finally:
        DomainDispatcherApplication.__call__ = original  # type: ignore[method-assign]


def summary(calls: list[Call], containing: set[str]) -> dict[str, Any]:
    """Calls per operation, and how many came before the first containing call (and when it was answered)."""
    first = next((i for i, c in enumerate(calls) if c.name in containing), None)
    return {
        "calls": len(calls),
        "by_operation": dict(Counter(c.name for c in calls)),
        "before_containing": first,
        "contained_at": calls[first].answered if first is not None else None,
    }


# ---- fresh compromised resources ---------------------------------------------------------------


def _finding(relpath: str) -> dict[str, Any]:
    event = json.loads((ROOT / "tests" / "events" / relpath).read_text())
    from parry.routing.events import wrap

    event, _ = wrap(event)
    event["account"] = event["detail"]["accountId"] = ACCOUNT
    event["region"] = event["detail"]["region"] = REGION
    event["id"] = str(uuid.uuid4())
    event["detail"]["id"] = uuid.uuid4().hex
    event["detail"]["arn"] = f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/peers/finding/{event['detail']['id']}"
    service = event["detail"].setdefault("service", {})
    service["additionalInfo"] = {k: v for k, v in (service.get("additionalInfo") or {}).items() if k != "sample"}
    return event


def _in_services(aws: Any, event: dict[str, Any]) -> None:
    """The finding held by GuardDuty (every contender may re-read it) and by Security Hub (to be marked)."""
    from parry.local.corrections import register_finding
    from parry.local.sandbox import guardduty_finding_in_security_hub

    guardduty_finding_in_security_hub(aws, event)
    register_finding(aws, event)


def seed_key(aws: Any, name: str) -> dict[str, Any]:
    """An IAM user with an active key, and a real GuardDuty finding retargeted at it."""
    iam = aws.client("iam")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    event = _finding(KEY_FINDING)
    event["detail"]["resource"]["accessKeyDetails"].update(userName=name, accessKeyId=key)
    _in_services(aws, event)
    return event


_IMAGE: dict[str, str] = {}


def seed_instance(aws: Any, name: str) -> dict[str, Any]:
    """A running instance with an instance profile and its own interface in a VPC of its own, and a finding on it."""
    ec2, iam = aws.client("ec2"), aws.client("iam")
    iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )
    profile = iam.create_instance_profile(InstanceProfileName=name)["InstanceProfile"]["Arn"]
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    if "id" not in _IMAGE:
        _IMAGE["id"] = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    web = ec2.create_security_group(GroupName=f"{name}-web", Description="web", VpcId=vpc)["GroupId"]
    eni = ec2.create_network_interface(SubnetId=subnet, Groups=[web])["NetworkInterface"]["NetworkInterfaceId"]
    instance = ec2.run_instances(
        ImageId=_IMAGE["id"],
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        NetworkInterfaces=[{"NetworkInterfaceId": eni, "DeviceIndex": 0}],  # launched as AWS keeps its groups
        IamInstanceProfile={"Arn": profile},
    )["Instances"][0]["InstanceId"]
    event = _finding(INSTANCE_FINDING)
    details = event["detail"]["resource"]["instanceDetails"]
    details["instanceId"] = instance
    details["iamInstanceProfile"] = {"arn": profile, "id": name}
    _in_services(aws, event)
    return event


# ---- the effects, read back --------------------------------------------------------------------


@dataclass
class Inbox:
    """An SQS queue subscribed to Parry's topic: how a notification is read back."""

    sqs: Any
    url: str

    @classmethod
    def on(cls, aws: Any, topic_arn: str) -> Inbox:
        sqs = aws.client("sqs")
        url = sqs.create_queue(QueueName="peers-inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        aws.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
        return cls(sqs, url)

    def drain(self) -> list[str]:
        bodies: list[str] = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return bodies
            for m in got:
                bodies.append(m["Body"])
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])


def _marked(aws: Any, event: dict[str, Any]) -> bool:
    found = aws.client("securityhub").get_findings(
        Filters={"Id": [{"Value": event["detail"]["arn"], "Comparison": "EQUALS"}]}
    )["Findings"]
    return bool(found) and found[0].get("Workflow", {}).get("Status") == "NOTIFIED"


def _denies_everything(document: Any) -> bool:
    doc = json.loads(document) if isinstance(document, str) else document
    statements = doc.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    return any(s.get("Effect") == "Deny" and s.get("Action") in ("*", ["*"]) for s in statements)


def key_effects(aws: Any, event: dict[str, Any], inbox: Inbox | None) -> list[str]:
    """What is missing of a contained key's effects; `inbox` None: the key alone (the one-step set)."""
    iam = aws.client("iam")
    details = event["detail"]["resource"]["accessKeyDetails"]
    user, key = details["userName"], details["accessKeyId"]
    missing = []
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    if [k["Status"] for k in keys if k["AccessKeyId"] == key] != ["Inactive"]:
        missing.append(f"key {key} Inactive")
    if inbox is None:
        return missing
    names = iam.list_user_policies(UserName=user)["PolicyNames"]
    policy = iam.get_user_policy(UserName=user, PolicyName=QUARANTINE_POLICY) if QUARANTINE_POLICY in names else None
    if policy is None or not _denies_everything(policy["PolicyDocument"]):
        missing.append(f"user {user} quarantined by a deny-all {QUARANTINE_POLICY}")
    if not _marked(aws, event):
        missing.append("finding NOTIFIED in Security Hub")
    if not any(key in body for body in inbox.drain()):
        missing.append("one notification naming the key")
    return missing


def instance_effects(aws: Any, event: dict[str, Any], inbox: Inbox) -> list[str]:
    """What is missing of an isolated instance's effects (snapshot + isolate, as ec2-compromise does)."""
    ec2 = aws.client("ec2")
    iid = event["detail"]["resource"]["instanceDetails"]["instanceId"]
    instance = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    missing = []
    volumes = [m["Ebs"]["VolumeId"] for m in instance.get("BlockDeviceMappings", []) if "Ebs" in m]
    for volume in volumes:
        if not ec2.describe_snapshots(Filters=[{"Name": "volume-id", "Values": [volume]}])["Snapshots"]:
            missing.append(f"a snapshot of {volume}")
    for eni in instance["NetworkInterfaces"]:
        groups = [g["GroupId"] for g in eni["Groups"]]
        rules = ec2.describe_security_groups(GroupIds=groups)["SecurityGroups"] if groups else []
        if len(groups) != 1 or rules[0]["IpPermissions"] or rules[0]["IpPermissionsEgress"]:
            missing.append(f"{eni['NetworkInterfaceId']} only in a group without rules")
    if not ec2.describe_instance_attribute(InstanceId=iid, Attribute="disableApiTermination")["DisableApiTermination"][
        "Value"
    ]:
        missing.append("termination protection on")
    shutdown = ec2.describe_instance_attribute(InstanceId=iid, Attribute="instanceInitiatedShutdownBehavior")
    if shutdown["InstanceInitiatedShutdownBehavior"]["Value"] != "stop":
        missing.append("shutdown behaviour stop")
    associations = ec2.describe_iam_instance_profile_associations(Filters=[{"Name": "instance-id", "Values": [iid]}])
    if [a for a in associations["IamInstanceProfileAssociations"] if a["State"] in ("associated", "associating")]:
        missing.append("instance profile detached")
    if not volumes:
        missing.append("a volume to snapshot")
    if not _marked(aws, event):
        missing.append("finding NOTIFIED in Security Hub")
    if not any(iid in body for body in inbox.drain()):
        missing.append("one notification naming the instance")
    return missing


def retire_key(aws: Any, event: dict[str, Any]) -> None:
    """Delete the run's user once read back, so every run meets an account of the same size (custodian lists all users)."""
    iam = aws.client("iam")
    user = event["detail"]["resource"]["accessKeyDetails"]["userName"]
    for name in iam.list_user_policies(UserName=user)["PolicyNames"]:
        iam.delete_user_policy(UserName=user, PolicyName=name)
    for key in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName=user)
