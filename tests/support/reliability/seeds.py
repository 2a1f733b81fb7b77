"""Seeding the account for each playbook's scenario: the resources it acts on and the event pointing at them.

The seeds of the first playbooks are here, those of the findings families and of Lambda in
seeds_findings.py and seeds_lambda.py; SEEDS names them all (what a seed is: seeding.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from parry.aws.clients import ClientFactory
from tests.support.reliability.fixtures import DELETE, load_playbook, load_record, playbook_paths
from tests.support.reliability.seeding import (
    IAM_FINDING,
    Seeded,
    contained_by,
    guardduty_event,
    in_security_hub,
    make_function,
    make_instance,
    make_role,
    recorded,
)
from tests.support.reliability.seeds_findings import FINDING_SEEDS
from tests.support.reliability.seeds_lambda import LAMBDA_SEEDS
from tests.support.reliability.world import ACCOUNT, REGION


def seed_iam_key(aws: ClientFactory, n: int) -> Seeded:
    """An IAM user with an active key, and the real GuardDuty finding retargeted at it."""
    iam = aws.client("iam")
    user = f"rel-user-{n}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    event = guardduty_event(IAM_FINDING, n)
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
    role = make_role(aws, f"rel-ec2-role-{n}", "ec2.amazonaws.com")
    iam = aws.client("iam")
    profile = iam.create_instance_profile(InstanceProfileName=f"rel-profile-{n}")["InstanceProfile"]["Arn"]
    iam.add_role_to_instance_profile(InstanceProfileName=f"rel-profile-{n}", RoleName=role.split("/")[-1])
    instance = make_instance(aws, profile)
    event = guardduty_event("guardduty/backdoor-ec2-cc-activity-b-dns.eventbridge.json", n)
    details = event["detail"]["resource"]["instanceDetails"]
    details["instanceId"] = instance
    details["iamInstanceProfile"] = {"arn": profile, "id": f"rel-profile-{n}"}
    in_security_hub(aws, event)
    return Seeded(event, contained_by(aws, "ec2-compromise", event))


def seed_instance_credentials(aws: ClientFactory, n: int) -> Seeded:
    role = f"rel-instance-role-{n}"
    make_role(aws, role, "ec2.amazonaws.com")
    event = guardduty_event(IAM_FINDING, n)
    event["detail"]["resource"]["accessKeyDetails"].update(
        userName=role, userType="AssumedRole", accessKeyId=f"ASIAREL{n:09d}"
    )
    event["detail"]["resource"].setdefault("instanceDetails", {})["instanceId"] = make_instance(aws)
    in_security_hub(aws, event)
    return Seeded(event, contained_by(aws, "instance-credential-exfiltration", event))


def seed_lambda_compromise(aws: ClientFactory, n: int) -> Seeded:
    role = make_role(aws, f"rel-fn-role-{n}")
    arn = make_function(aws, f"rel-fn-{n}", role)
    event = guardduty_event(IAM_FINDING, n)
    event["detail"]["type"] = "Execution:Lambda/MaliciousFile"
    event["detail"]["resource"] = {
        "resourceType": "Lambda",
        "lambdaDetails": {"functionName": f"rel-fn-{n}", "functionArn": arn, "role": role},
    }
    in_security_hub(aws, event)
    return Seeded(event, contained_by(aws, "lambda-compromise", event))


def seed_lambda_public(aws: ClientFactory, n: int) -> Seeded:
    name = f"rel-public-fn-{n}"
    make_function(aws, name, make_role(aws, f"rel-public-role-{n}"))
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
    make_role(aws, role)
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
    make_role(aws, role)
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
    **FINDING_SEEDS,
    **LAMBDA_SEEDS,
}


def seedable_playbooks() -> tuple[list[Path], list[str]]:
    """(playbook files with a seed, names of those without one)."""
    with_seed, without = [], []
    for path in playbook_paths():
        name = load_playbook(path).name
        (with_seed if name in SEEDS else without).append(path if name in SEEDS else name)
    return with_seed, without
