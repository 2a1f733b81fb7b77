"""The demo's sandbox: compromised resources seeded in a local account, and the real event for each.

Each scenario seeds what a real finding would point at, adapts the published sample event to the
sandbox's ids (account, region, user, key ...), and reads the resource back afterwards to show the
containment held. The events are package data (parry/local/events, copies of tests/events fixtures). A GuardDuty scenario's
finding is registered in the sandbox's GuardDuty (Parry re-reads every finding from its service)
and put into its Security Hub, as GuardDuty's integration does, for the playbooks to mark.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from parry.aws.arns import guardduty_product_arn
from parry.aws.clients import ClientFactory
from parry.errors import ConfigError
from parry.local.corrections import as_detection, register_finding
from parry.routing.events import wrap

EVENTS = resources.files("parry.local") / "events"


def load_event(relpath: str) -> dict[str, Any]:
    path = EVENTS.joinpath(*relpath.split("/"))
    if not path.is_file():
        raise ConfigError(f"demo event {relpath} is missing from the package (parry/local/events): reinstall parry")
    event, _ = wrap(json.loads(path.read_text()))
    return copy.deepcopy(event)


def _retarget(event: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    """The sample as the sandbox's own detection: its ids, and no sample mark (samples route nowhere)."""
    event["account"], event["region"] = account, region
    if event.get("source") == "aws.guardduty":
        event["detail"] = as_detection(event["detail"])
    detail = event["detail"]
    if "accountId" in detail:
        detail["accountId"], detail["region"] = account, region
    if "recipientAccountId" in detail:  # a CloudTrail record: the call's account and region
        detail["recipientAccountId"], detail["awsRegion"] = account, region
    if isinstance(detail.get("arn"), str) and detail["arn"].startswith("arn:"):  # a GuardDuty finding's own ARN
        parts = detail["arn"].split(":")
        parts[3], parts[4] = region, account
        detail["arn"] = ":".join(parts)
    return event


def finding_status(aws: ClientFactory, event: dict[str, Any]) -> str | None:
    """What an analyst reading Security Hub sees on the scenario's GuardDuty finding; None for other events."""
    if event.get("source") != "aws.guardduty":
        return None
    arn = event["detail"]["arn"]
    found = aws.client("securityhub").get_findings(Filters={"Id": [{"Value": arn, "Comparison": "EQUALS"}]})["Findings"]
    if not found:
        return f"finding {arn} is not in Security Hub"
    workflow, note = found[0].get("Workflow", {}).get("Status"), found[0].get("Note", {}).get("Text")
    return f"finding is {workflow}" + (f', note "{note}"' if note else "")


GUARDDUTY_RESOURCE_TYPES = {
    "AccessKey": "AwsIamAccessKey",
    "Instance": "AwsEc2Instance",
    "S3Bucket": "AwsS3Bucket",
    "Lambda": "AwsLambdaFunction",
}


def guardduty_finding_in_security_hub(aws: ClientFactory, event: dict[str, Any]) -> dict[str, Any]:
    """Put a GuardDuty event's finding into the local Security Hub, as GuardDuty's integration does; the ASFF finding.

    Shaped like GuardDuty's findings in Security Hub (see tests/events/securityhub/
    custom-action-guardduty-iam-console-login.json): Id is the finding ARN, ProductArn GuardDuty's
    product in the finding's region, GeneratorId the detector, workflow NEW. Enables the hub first.
    """
    detail = event["detail"]
    arn = detail["arn"]
    partition, region, account = arn.split(":")[1], arn.split(":")[3], detail.get("accountId") or arn.split(":")[4]
    severity = float(detail.get("severity", 0))
    label = "CRITICAL" if severity >= 9 else "HIGH" if severity >= 7 else "MEDIUM" if severity >= 4 else "LOW"
    resource = detail.get("resource") or {}
    finding = {
        "SchemaVersion": "2018-10-08",
        "Id": arn,
        "ProductArn": guardduty_product_arn(partition, region),
        "GeneratorId": arn.split("/finding/")[0],
        "AwsAccountId": account,
        "Types": [f"TTPs/{detail.get('type', 'GuardDuty').replace('/', '-')}"],
        "CreatedAt": detail.get("createdAt") or event.get("time"),
        "UpdatedAt": detail.get("updatedAt") or event.get("time"),
        "Severity": {"Label": label, "Product": severity, "Normalized": int(severity * 10)},
        "Title": detail.get("title") or detail.get("type", "GuardDuty finding"),
        "Description": detail.get("description") or detail.get("type", "GuardDuty finding"),
        "ProductFields": {
            "detectorId": (detail.get("service") or {}).get("detectorId", ""),
            "aws/securityhub/ProductName": "GuardDuty",
            "aws/securityhub/CompanyName": "AWS",
        },
        "Resources": [
            {
                "Type": GUARDDUTY_RESOURCE_TYPES.get(resource.get("resourceType", ""), "Other"),
                "Id": resource.get("resourceType", "unknown"),
                "Partition": partition,
                "Region": region,
            }
        ],
        "Workflow": {"Status": "NEW"},
        "RecordState": "ACTIVE",
    }
    hub = aws.client("securityhub")
    try:
        hub.enable_security_hub(EnableDefaultStandards=False)
    except hub.exceptions.ResourceConflictException:
        pass  # already subscribed
    failed = hub.batch_import_findings(Findings=[finding])["FailedFindings"]
    if failed:
        raise ConfigError(f"the local Security Hub refused finding {arn}: {failed[0].get('ErrorMessage')}")
    return finding


@dataclass
class Scenario:
    name: str
    title: str
    seed: Callable[[ClientFactory, str, str], dict[str, Any]]  # (aws, account, region) -> event
    check: Callable[[ClientFactory, dict[str, Any]], tuple[bool, str]]  # read back: (contained?, what was seen)


# ---- IAM: an access key used from outside AWS ----------------------------------------------------

DEMO_USER = "ci-deployer"


def _seed_iam_key(aws: ClientFactory, account: str, region: str) -> dict[str, Any]:
    iam = aws.client("iam")
    iam.create_user(UserName=DEMO_USER, Tags=[{"Key": "team", "Value": "platform"}])
    key = iam.create_access_key(UserName=DEMO_USER)["AccessKey"]["AccessKeyId"]
    iam.put_user_policy(
        UserName=DEMO_USER,
        PolicyName="deploy",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}
        ),
    )
    event = _retarget(
        load_event("guardduty/unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.bare.json"),
        account,
        region,
    )
    details = event["detail"]["resource"]["accessKeyDetails"]
    details["userName"], details["accessKeyId"] = DEMO_USER, key
    guardduty_finding_in_security_hub(aws, event)  # GuardDuty's findings reach Security Hub
    register_finding(aws, event)  # and GuardDuty holds it, for Parry to re-read
    return event


def _check_iam_key(aws: ClientFactory, event: dict[str, Any]) -> tuple[bool, str]:
    details = event["detail"]["resource"]["accessKeyDetails"]
    keys = aws.client("iam").list_access_keys(UserName=details["userName"])["AccessKeyMetadata"]
    status = next((k["Status"] for k in keys if k["AccessKeyId"] == details["accessKeyId"]), "missing")
    return status == "Inactive", f"access key {details['accessKeyId']} of {details['userName']} is {status}"


MANUAL_USER = "alice"


def seed_manual_target(aws: ClientFactory) -> str:
    """A user no finding names, for the on-call to quarantine by hand (manual-quarantine, the approval path)."""
    iam = aws.client("iam")
    try:
        iam.create_user(UserName=MANUAL_USER, Tags=[{"Key": "team", "Value": "data"}])
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    return MANUAL_USER


# ---- EC2: an instance talking to a command-and-control server ------------------------------------


def _seed_ec2(aws: ClientFactory, account: str, region: str) -> dict[str, Any]:
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    web = ec2.create_security_group(GroupName="web", Description="web servers", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=web,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    images = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-2023*-x86_64"]}])[
        "Images"
    ]
    if not images:
        raise ConfigError("the local endpoint offers no Amazon Linux 2023 image to launch the sandbox instance from")
    image = images[0]["ImageId"]
    instance = ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        SubnetId=subnet,
        SecurityGroupIds=[web],  # launched the usual way: isolation must take `web` away (local mode's correction)
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web-1"}]}],
    )["Instances"][0]["InstanceId"]
    event = _retarget(load_event("guardduty/backdoor-ec2-cc-activity-b-dns.eventbridge.json"), account, region)
    details = event["detail"]["resource"]["instanceDetails"]
    details["instanceId"] = instance
    details.pop("iamInstanceProfile", None)  # the sandbox instance has no role to take away
    guardduty_finding_in_security_hub(aws, event)
    register_finding(aws, event)
    return event


def _check_ec2(aws: ClientFactory, event: dict[str, Any]) -> tuple[bool, str]:
    instance = event["detail"]["resource"]["instanceDetails"]["instanceId"]
    ec2 = aws.client("ec2")
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "attachment.instance-id", "Values": [instance]}])[
        "NetworkInterfaces"
    ]
    groups = sorted({g["GroupId"] for eni in enis for g in eni["Groups"]})
    rules = ec2.describe_security_groups(GroupIds=groups)["SecurityGroups"] if groups else []
    isolated = bool(rules) and all(not g["IpPermissions"] and not g["IpPermissionsEgress"] for g in rules)
    names = ", ".join(g["GroupName"] for g in rules)
    return isolated, f"instance {instance} is in security group(s) {names} with {'no' if isolated else 'some'} rules"


# ---- Lambda: a function made invocable by anyone -------------------------------------------------

DEMO_FUNCTION = "billing-export"


def _code_package() -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return {'exported': True}\n")
    return buf.getvalue()


def _seed_lambda(aws: ClientFactory, account: str, region: str) -> dict[str, Any]:
    role = aws.client("iam").create_role(
        RoleName="billing-export-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )["Role"]["Arn"]
    lam = aws.client("lambda")
    lam.create_function(
        FunctionName=DEMO_FUNCTION,
        Runtime="python3.13",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": _code_package()},
        Environment={"Variables": {"DB_PASSWORD": "hunter2"}},
    )
    lam.add_permission(
        FunctionName=DEMO_FUNCTION, StatementId="open-to-all", Action="lambda:InvokeFunction", Principal="*"
    )
    event = _retarget(load_event("cloudtrail/lambda-addpermission.bare.json"), account, region)
    event["detail"]["requestParameters"].update(
        functionName=DEMO_FUNCTION, principal="*", statementId="open-to-all", action="lambda:InvokeFunction"
    )
    register_finding(aws, event)  # and CloudTrail recorded the call, for Parry to re-read
    return event


def _check_lambda(aws: ClientFactory, event: dict[str, Any]) -> tuple[bool, str]:
    lam = aws.client("lambda")
    try:
        statements = json.loads(lam.get_policy(FunctionName=DEMO_FUNCTION)["Policy"])["Statement"]
    except lam.exceptions.ResourceNotFoundException:
        statements = []
    public = [s for s in statements if s.get("Principal") in ("*", {"AWS": "*"})]
    return not public, f"function {DEMO_FUNCTION} has {len(public)} public statement(s) in its resource policy"


# ---- S3: a bucket policy that lets anyone read -----------------------------------------------------


def _seed_s3(aws: ClientFactory, account: str, region: str) -> dict[str, Any]:
    event = _retarget(load_event("cloudtrail/s3-putbucketpolicy-public.bare.json"), account, region)
    bucket = event["detail"]["requestParameters"]["bucketName"]
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=bucket)
    policy = event["detail"]["requestParameters"]["bucketPolicy"]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    register_finding(aws, event)  # and CloudTrail recorded the call, for Parry to re-read
    return event


def _check_s3(aws: ClientFactory, event: dict[str, Any]) -> tuple[bool, str]:
    bucket = event["detail"]["requestParameters"]["bucketName"]
    s3 = aws.client("s3")
    try:
        config = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except s3.exceptions.ClientError:
        config = {}
    blocked = bool(config) and all(config.values())
    return blocked, f"bucket {bucket} public access block: {config or 'none'}"


SCENARIOS: list[Scenario] = [
    Scenario(
        "iam-key",
        "An IAM user's access key used from outside AWS (GuardDuty InstanceCredentialExfiltration.OutsideAWS)",
        _seed_iam_key,
        _check_iam_key,
    ),
    Scenario(
        "ec2", "An EC2 instance talking to a command-and-control server (GuardDuty Backdoor:EC2)", _seed_ec2, _check_ec2
    ),
    Scenario(
        "lambda",
        "A Lambda function made invocable by anyone (CloudTrail AddPermission, Principal *)",
        _seed_lambda,
        _check_lambda,
    ),
    Scenario("s3", "A bucket policy granting the world access (CloudTrail PutBucketPolicy)", _seed_s3, _check_s3),
]
