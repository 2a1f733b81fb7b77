"""Seeding the account for each playbook's scenario: the resources it acts on and the event pointing at them.

Every scenario needs a fresh, real-looking incident per run: a `Seeded` holds the event (a real
fixture retargeted at the new resources) and a read-back of containment that asks the actions
themselves, so a scenario can check the account and not only the case record.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parry.aws.clients import ClientFactory
from tests.support.reliability.fixtures import DELETE, load_event, load_playbook, load_record, playbook_paths
from tests.support.reliability.world import ACCOUNT, REGION


@dataclass
class Seeded:
    """Resources a playbook acts on, the event that points at them, and a read-back of containment."""

    event: dict[str, Any]
    contained: Callable[[], bool]
    restore: Callable[[], None] | None = None  # undo the containment behind Parry's back


IAM_FINDING = "guardduty/unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.bare.json"


def contained_by(aws: ClientFactory, book_name: str, event: dict[str, Any]) -> Callable[[], bool]:
    """Containment read back generically: every mutating step the playbook would run observes `done`.

    Evidence and the note on the Security Hub finding are records of the case, not containment.
    """

    def check() -> bool:
        from parry.actions import registry
        from parry.actions.base import ActionContext
        from parry.engine import intake
        from parry.routing.expressions import interpolate, search, truthy

        book = load_playbook(next(p for p in playbook_paths() if load_playbook(p).name == book_name))
        target, _ = intake.resolve(book, event)
        variables = {"event": event, "target": target, "case": {}, "steps": {}}
        for step in book.steps:
            cls = registry.get(step.action)
            if (
                not cls.mutating
                or step.action.startswith(("evidence.", "securityhub."))
                or (step.when and not truthy(search(step.when, variables)))
            ):
                continue
            params = registry.build_params(cls, interpolate(step.with_, variables))
            ctx = ActionContext(
                aws=aws, case_id="check", step_id=step.id, playbook=book.name, account=ACCOUNT, region=REGION
            )
            if not cls().observe(ctx, params).done:
                return False
        return True

    return check


def _role(aws: ClientFactory, name: str, service: str = "lambda.amazonaws.com") -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }
    return aws.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def _function(aws: ClientFactory, name: str, role_arn: str) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return 'ok'\n")
    return aws.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role_arn,
        Handler="index.handler",
        Code={"ZipFile": buf.getvalue()},
    )["FunctionArn"]


_IMAGES: dict[int, str] = {}


def _instance(aws: ClientFactory, profile_arn: str | None = None) -> str:
    """An instance in a VPC of its own (isolation creates one security group per VPC, once)."""
    ec2 = aws.client("ec2")
    if id(aws) not in _IMAGES:
        _IMAGES[id(aws)] = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    kwargs: dict[str, Any] = {
        "ImageId": _IMAGES[id(aws)],
        "MinCount": 1,
        "MaxCount": 1,
        "InstanceType": "t3.micro",
        "SubnetId": subnet,
    }
    if profile_arn:
        kwargs["IamInstanceProfile"] = {"Arn": profile_arn}
    return ec2.run_instances(**kwargs)["Instances"][0]["InstanceId"]


def _guardduty(relpath: str, n: int) -> dict[str, Any]:
    """A GuardDuty fixture in moto's account and region, as finding number `n` (its own event id too)."""
    event = load_event(relpath)
    event["account"] = event["detail"]["accountId"] = ACCOUNT
    event["region"] = event["detail"]["region"] = REGION
    event["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"parry-reliability-{n}"))
    event["detail"]["id"] = f"rel-finding-{n}"
    event["detail"]["arn"] = f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/rel-detector/finding/rel-finding-{n}"
    return event


def recorded(aws: ClientFactory, event: dict[str, Any]) -> dict[str, Any]:
    """The CloudTrail event once CloudTrail's history holds it, for the engine's re-read."""
    from parry.local.corrections import register_finding

    register_finding(aws, event)
    return event


def in_security_hub(aws: ClientFactory, event: dict[str, Any]) -> None:
    """The GuardDuty finding as Security Hub holds it, for the playbooks' mark-finding step, and as
    GuardDuty holds it, for the engine's re-read."""
    from parry.local.corrections import register_finding
    from parry.local.sandbox import guardduty_finding_in_security_hub

    guardduty_finding_in_security_hub(aws, event)
    register_finding(aws, event)


def seed_iam_key(aws: ClientFactory, n: int) -> Seeded:
    """An IAM user with an active key, and the real GuardDuty finding retargeted at it."""
    iam = aws.client("iam")
    user = f"rel-user-{n}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    event = _guardduty(IAM_FINDING, n)
    event["detail"]["resource"]["accessKeyDetails"].update(userName=user, accessKeyId=key)
    in_security_hub(aws, event)

    def status() -> str:
        keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        return next(k["Status"] for k in keys if k["AccessKeyId"] == key)

    return Seeded(
        event,
        lambda: status() == "Inactive",
        lambda: iam.update_access_key(UserName=user, AccessKeyId=key, Status="Active"),
    )


def seed_ec2(aws: ClientFactory, n: int) -> Seeded:
    role = _role(aws, f"rel-ec2-role-{n}", "ec2.amazonaws.com")
    iam = aws.client("iam")
    profile = iam.create_instance_profile(InstanceProfileName=f"rel-profile-{n}")["InstanceProfile"]["Arn"]
    iam.add_role_to_instance_profile(InstanceProfileName=f"rel-profile-{n}", RoleName=role.split("/")[-1])
    instance = _instance(aws, profile)
    event = _guardduty("guardduty/backdoor-ec2-cc-activity-b-dns.eventbridge.json", n)
    details = event["detail"]["resource"]["instanceDetails"]
    details["instanceId"] = instance
    details["iamInstanceProfile"] = {"arn": profile, "id": f"rel-profile-{n}"}
    in_security_hub(aws, event)
    return Seeded(event, contained_by(aws, "ec2-compromise", event))


def seed_instance_credentials(aws: ClientFactory, n: int) -> Seeded:
    role = f"rel-instance-role-{n}"
    _role(aws, role, "ec2.amazonaws.com")
    event = _guardduty(IAM_FINDING, n)
    event["detail"]["resource"]["accessKeyDetails"].update(
        userName=role, userType="AssumedRole", accessKeyId=f"ASIAREL{n:09d}"
    )
    event["detail"]["resource"].setdefault("instanceDetails", {})["instanceId"] = _instance(aws)
    in_security_hub(aws, event)
    return Seeded(event, contained_by(aws, "instance-credential-exfiltration", event))


def seed_lambda_compromise(aws: ClientFactory, n: int) -> Seeded:
    role = _role(aws, f"rel-fn-role-{n}")
    arn = _function(aws, f"rel-fn-{n}", role)
    event = _guardduty(IAM_FINDING, n)
    event["detail"]["type"] = "Execution:Lambda/MaliciousFile"
    event["detail"]["resource"] = {
        "resourceType": "Lambda",
        "lambdaDetails": {"functionName": f"rel-fn-{n}", "functionArn": arn, "role": role},
    }
    in_security_hub(aws, event)
    return Seeded(event, contained_by(aws, "lambda-compromise", event))


def seed_lambda_public(aws: ClientFactory, n: int) -> Seeded:
    name = f"rel-public-fn-{n}"
    _function(aws, name, _role(aws, f"rel-public-role-{n}"))
    aws.client("lambda").add_permission(
        FunctionName=name, StatementId="everyone", Action="lambda:InvokeFunction", Principal="*"
    )
    event = load_record(
        "cloudtrail/lambda-addpermission.bare.json",
        awsRegion=REGION,
        recipientAccountId=ACCOUNT,
        eventID=f"rel-{n}",
        requestParameters__functionName=name,
        requestParameters__statementId="everyone",
        requestParameters__principal="*",
        requestParameters__action="lambda:InvokeFunction",
    )
    return Seeded(recorded(aws, event), contained_by(aws, "lambda-made-public", event))


def seed_s3_exposure(aws: ClientFactory, n: int) -> Seeded:
    bucket = f"rel-exposed-{n}"
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=bucket)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    event = load_record(
        "cloudtrail/s3-putbucketpolicy-public.bare.json",
        awsRegion=REGION,
        recipientAccountId=ACCOUNT,
        eventID=f"rel-{n}",
        requestParameters__bucketName=bucket,
    )
    return Seeded(recorded(aws, event), contained_by(aws, "s3-exposure", event))


def seed_trail_stopped(aws: ClientFactory, n: int) -> Seeded:
    bucket, trail = f"rel-trail-logs-{n}", f"rel-trail-{n}"
    aws.client("s3").create_bucket(Bucket=bucket)
    ct = aws.client("cloudtrail")
    ct.create_trail(Name=trail, S3BucketName=bucket)
    ct.start_logging(Name=trail)
    ct.stop_logging(Name=trail)
    event = load_record(
        "cloudtrail/iam-createaccesskey.bare.json",
        awsRegion=REGION,
        recipientAccountId=ACCOUNT,
        eventID=f"rel-{n}",
        eventSource="cloudtrail.amazonaws.com",
        eventName="StopLogging",
        requestParameters={"name": trail},
        responseElements=None,
        errorCode=DELETE,
    )
    return Seeded(recorded(aws, event), contained_by(aws, "cloudtrail-logging-disabled", event))


def seed_root_login(aws: ClientFactory, n: int) -> Seeded:
    event = load_record(
        "cloudtrail/signin-consolelogin-root.bare.json",
        awsRegion=REGION,
        recipientAccountId=ACCOUNT,
        eventID=f"rel-{n}",
    )
    return Seeded(recorded(aws, event), lambda: True)  # nothing to contain by API: evidence and a notification


def seed_admin_attached(aws: ClientFactory, n: int) -> Seeded:
    from tests.support.iam_policies import ADMIN, aws_managed_policy

    role = f"rel-admin-role-{n}"
    _role(aws, role)
    aws.client("iam").attach_role_policy(RoleName=role, PolicyArn=aws_managed_policy(ACCOUNT, ADMIN))
    event = load_record(
        "cloudtrail/iam-attachrolepolicy-administratoraccess.bare.json",
        awsRegion=REGION,
        recipientAccountId=ACCOUNT,
        eventID=f"rel-{n}",
        requestParameters__roleName=role,
    )
    return Seeded(recorded(aws, event), contained_by(aws, "iam-admin-policy-attached", event))


def seed_key_for_another(aws: ClientFactory, n: int) -> Seeded:
    user = f"rel-other-user-{n}"
    aws.client("iam").create_user(UserName=user)
    key = aws.client("iam").create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    event = load_record(
        "cloudtrail/iam-createaccesskey.bare.json",
        awsRegion=REGION,
        recipientAccountId=ACCOUNT,
        eventID=f"rel-{n}",
        requestParameters__userName=user,
        responseElements__accessKey__userName=user,
        responseElements__accessKey__accessKeyId=key,
    )
    return Seeded(recorded(aws, event), contained_by(aws, "iam-access-key-for-another-user", event))


def seed_manual_quarantine(aws: ClientFactory, n: int) -> Seeded:
    user, role = f"rel-manual-user-{n}", f"rel-manual-role-{n}"
    aws.client("iam").create_user(UserName=user)
    _role(aws, role)
    event = {
        "version": "0",
        "id": f"rel-manual-{n}",
        "source": "parry",
        "detail-type": "Parry Run Request",
        "account": ACCOUNT,
        "region": REGION,
        "time": "2026-11-29T18:00:00Z",
        "resources": [],
        "detail": {"playbook": "manual-quarantine", "user": user, "role": role, "reason": "reliability test"},
    }
    return Seeded(event, contained_by(aws, "manual-quarantine", event))


# Playbook name -> seed. A shipped playbook without one fails test_every_shipped_playbook_has_a_crash_seed.
SEEDS: dict[str, Callable[[ClientFactory, int], Seeded]] = {
    "iam-credential-compromise": seed_iam_key,
    "ec2-compromise": seed_ec2,
    "instance-credential-exfiltration": seed_instance_credentials,
    "lambda-compromise": seed_lambda_compromise,
    "lambda-made-public": seed_lambda_public,
    "s3-exposure": seed_s3_exposure,
    "cloudtrail-logging-disabled": seed_trail_stopped,
    "root-credential-usage": seed_root_login,
    "iam-admin-policy-attached": seed_admin_attached,
    "iam-access-key-for-another-user": seed_key_for_another,
    "manual-quarantine": seed_manual_quarantine,
}


def seedable_playbooks() -> tuple[list[Path], list[str]]:
    """(playbook files with a seed, names of those without one)."""
    with_seed, without = [], []
    for path in playbook_paths():
        name = load_playbook(path).name
        (with_seed if name in SEEDS else without).append(path if name in SEEDS else name)
    return with_seed, without
