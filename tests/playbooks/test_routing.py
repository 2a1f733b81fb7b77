"""Routing: every fixture event reaches exactly the playbooks it should, and the rest reach none.

Routing uses the playbooks' own triggers through Parry's EventBridge matcher, as `parry route`
does. Real events come from tests/events (see its SOURCES.md). Finding families whose only public
samples are under the Elastic License (see SOURCES.md) are built here from GuardDuty's documented
finding format instead of copied; the few events derived from a real one say what was changed.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from parry.routing.expressions import search, truthy
from tests.support.paths import EVENTS
from tests.support.routing import BOOKS, IAM_KEY, finding, load, routes

# every file in tests/events, and the playbooks it must route to (an empty set: none)
EXPECTED: dict[str, set[str]] = {
    "guardduty/backdoor-ec2-cc-activity-b-dns.eventbridge.json": {"ec2-compromise"},
    "guardduty/unauthorizedaccess-iamuser-toripcaller.eventbridge.json": {"iam-credential-compromise"},
    "guardduty/recon-iamuser-maliciousipcaller.custom.mit0.bare.json": {"iam-credential-compromise"},
    # a CreateSampleFindings sample: its access key is an IAM user's (userType IAMUser), so the IAM
    # user playbook takes it; a real finding names the instance role (AssumedRole), see DOCUMENTED
    "guardduty/unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.bare.json": {
        "iam-credential-compromise",
    },
    "guardduty/canary-ec2-stateless.integtest.mit0.bare.json": set(),  # GuardDuty's own canary
    "guardduty/pentest-s3-parrotlinux.mit0.bare.json": set(),  # PenTest:S3 is not an exposure family
    "guardduty/privilegeescalation-iamuser-administrativepermissions.bare.json": set(),  # no resource
    "cloudtrail/s3-putbucketpolicy-public.bare.json": {"s3-exposure"},
    "cloudtrail/signin-consolelogin-root.bare.json": {"root-credential-usage"},
    "cloudtrail/lambda-addpermission.bare.json": set(),  # the record names no principal
    "cloudtrail/lambda-updatefunctioncode.bare.json": set(),
    "cloudtrail/iam-attachrolepolicy-administratoraccess.bare.json": set(),
    "cloudtrail/iam-createaccesskey.bare.json": set(),
    "cloudtrail/s3-createbucket.eventbridge.json": set(),  # made by root, but not a sign-in
    "cloudtrail/signin-consolelogin-iamuser-nomfa.bare.json": set(),
    "config/configuration-item-change-ec2-instance.eventbridge.json": set(),
    "config/configuration-item-change-oversized-ssm.eventbridge.json": set(),
    "config/configuration-item-change-sqs-queue.eventbridge.json": set(),
    "securityhub/custom-action-afsbp-ec2.2-security-group.json": set(),
    "securityhub/custom-action-afsbp-iam.6-root-hardware-mfa.json": set(),
    "securityhub/custom-action-afsbp-rds.6-db-instance.json": set(),
    "securityhub/custom-action-cloudtrail-finding.json": set(),
    "securityhub/custom-action-guardduty-iam-console-login.json": set(),
    "securityhub/custom-action-lambda-cross-account.json": set(),
    "securityhub/imported-afsbp-ec2.7-ebs-default-encryption.json": set(),
    "securityhub/imported-cis-1.3-unused-credentials.json": set(),
    "securityhub/insight-results.json": set(),
    "access-analyzer/access-analyzer-finding-s3-cross-account.eventbridge.json": {"access-analyzer-external-access"},
    # posture, not incident: an unused permission and access inside the account are for owners to review
    "access-analyzer/unused-access-finding-unusedpermission-role.eventbridge.json": set(),
    "access-analyzer/internal-access-finding-s3-intra-account.eventbridge.json": set(),
}


def assert_targets_resolve(event: dict, names: set[str]) -> None:
    """The routed playbooks find what they act on in the event (their first step's target)."""
    for name in names:
        book = BOOKS[name]
        values = {key: search(expr, event) for key, expr in book.target.items()}
        first = book.steps[0]
        for value in first.with_.values():
            if isinstance(value, str) and value.startswith("${target."):
                key = value[len("${target.") : -1]
                assert values[key], f"{name}: target {key} is empty for this event"


def assert_finding_marked_only_for_guardduty(event: dict, names: set[str]) -> None:
    """The Security Hub step runs for a GuardDuty finding, on its ARN, and is skipped for anything else."""
    for name in names:
        book = BOOKS[name]
        target = {key: search(expr, event) for key, expr in book.target.items()}
        for step in (s for s in book.steps if s.action == "securityhub.update_finding"):
            runs = truthy(search(step.when, {"event": event, "target": target})) if step.when else True
            assert runs == (event["source"] == "aws.guardduty"), f"{name}: {step.id} for {event['source']}"
            if runs:
                assert target["finding_arn"] == event["detail"]["arn"], name


def test_every_guardduty_playbook_marks_the_finding_in_security_hub():
    from_guardduty = {name for name, b in BOOKS.items() if "aws.guardduty" in json.dumps(b.trigger)}
    assert from_guardduty == {
        "ec2-compromise",
        "iam-credential-compromise",
        "instance-credential-exfiltration",
        "lambda-compromise",
        "s3-exposure",
        "cloudtrail-logging-disabled",
        "root-credential-usage",
    }
    for name in from_guardduty:
        (step,) = [s for s in BOOKS[name].steps if s.action == "securityhub.update_finding"]
        assert step.on_error == "continue", f"{name}: Security Hub may be off; that must not fail the case"
        assert step.with_["status"] == "NOTIFIED" and step.with_["finding_id"] == "${target.finding_arn}"
        assert BOOKS[name].steps[-1].action == "notify.sns", (
            f"{name}: the notification says whether the finding was marked"
        )


def test_every_fixture_is_classified():
    on_disk = {str(p.relative_to(EVENTS)) for p in EVENTS.rglob("*.json")}
    assert on_disk == set(EXPECTED), "classify each new fixture in EXPECTED"


@pytest.mark.parametrize("relpath", sorted(EXPECTED))
def test_fixture_routes_to_its_playbooks(relpath):
    event = load(relpath)
    assert routes(event) == EXPECTED[relpath]
    assert_targets_resolve(event, EXPECTED[relpath])
    assert_finding_marked_only_for_guardduty(event, EXPECTED[relpath])


# ---- findings built from GuardDuty's documented format ---------------------------------------------


INSTANCE = {
    "instanceDetails": {
        "instanceId": "i-0123456789abcdef0",
        "iamInstanceProfile": {"arn": "arn:aws:iam::123456789012:instance-profile/web", "id": "AIPA"},
    }
}
ROLE_KEY = {
    "accessKeyDetails": {
        "accessKeyId": "ASIAEXAMPLE",
        "principalId": "AROAEXAMPLE:i-0123456789abcdef0",
        "userName": "web-role",
        "userType": "AssumedRole",
    },
    **INSTANCE,
}
ROOT_KEY = {
    "accessKeyDetails": {
        "accessKeyId": "ASIAROOT",
        "principalId": "123456789012",
        "userName": "Root",
        "userType": "Root",
    }
}
BUCKET = {
    "s3BucketDetails": [
        {
            "name": "data-bucket",
            "arn": "arn:aws:s3:::data-bucket",
            "type": "Destination",
            "publicAccess": {"effectivePermission": "NOT_PUBLIC"},
        }
    ],
    **IAM_KEY,
}
LAMBDA = {
    "lambdaDetails": {
        "functionName": "worker",
        "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:worker",
        "role": "arn:aws:iam::123456789012:role/worker-role",
        "functionVersion": "$LATEST",
    }
}
TRAIL_CALL = {
    "actionType": "AWS_API_CALL",
    "awsApiCallAction": {
        "api": "StopLogging",
        "serviceName": "cloudtrail.amazonaws.com",
        "affectedResources": {"AWS::CloudTrail::Trail": "main"},
    },
}

DOCUMENTED = [
    ("CryptoCurrency:EC2/BitcoinTool.B!DNS", "Instance", 8, INSTANCE, None, {"ec2-compromise"}),
    ("Trojan:EC2/BlackholeTraffic", "Instance", 5, INSTANCE, None, {"ec2-compromise"}),
    ("UnauthorizedAccess:EC2/TorClient", "Instance", 8, INSTANCE, None, {"ec2-compromise"}),
    ("UnauthorizedAccess:EC2/SSHBruteForce", "Instance", 2, INSTANCE, None, set()),  # the instance is the target
    ("Recon:EC2/PortProbeUnprotectedPort", "Instance", 2, INSTANCE, None, set()),
    (
        "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
        "AccessKey",
        8,
        ROLE_KEY,
        None,
        {"instance-credential-exfiltration"},
    ),
    (
        "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS",
        "AccessKey",
        8,
        ROLE_KEY,
        None,
        {"instance-credential-exfiltration"},
    ),
    ("UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B", "AccessKey", 5, IAM_KEY, None, {"iam-credential-compromise"}),
    ("PenTest:IAMUser/KaliLinux", "AccessKey", 5, IAM_KEY, None, {"iam-credential-compromise"}),
    ("Recon:IAMUser/MaliciousIPCaller", "AccessKey", 2, IAM_KEY, None, set()),  # low severity
    ("Exfiltration:S3/MaliciousIPCaller", "S3Bucket", 8, BUCKET, None, {"s3-exposure"}),
    ("Discovery:S3/MaliciousIPCaller", "S3Bucket", 5, BUCKET, None, {"s3-exposure"}),
    ("Discovery:S3/MaliciousIPCaller", "S3Bucket", 2, BUCKET, None, set()),
    ("Policy:IAMUser/RootCredentialUsage", "AccessKey", 2, ROOT_KEY, None, {"root-credential-usage"}),
    ("Stealth:IAMUser/CloudTrailLoggingDisabled", "AccessKey", 2, IAM_KEY, TRAIL_CALL, {"cloudtrail-logging-disabled"}),
    ("Backdoor:Lambda/C&CActivity.B", "Lambda", 8, LAMBDA, None, {"lambda-compromise"}),
    ("CryptoCurrency:Lambda/BitcoinTool.B", "Lambda", 8, LAMBDA, None, {"lambda-compromise"}),
    ("CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin", "RDSDBInstance", 8, {}, None, set()),
    ("Persistence:Kubernetes/SuccessfulAnonymousAccess", "EKSCluster", 8, {}, None, set()),
]


@pytest.mark.parametrize(
    "type_, resource_type, severity, resource, action, expected", DOCUMENTED, ids=[f"{d[0]}@{d[2]}" for d in DOCUMENTED]
)
def test_documented_finding_families_route(type_, resource_type, severity, resource, action, expected):
    event = finding(type_, resource_type, severity, resource, action)
    assert routes(event) == expected
    assert_targets_resolve(event, expected)
    assert_finding_marked_only_for_guardduty(event, expected)


# ---- events derived from a real one ------------------------------------------------------------------


def test_addpermission_granting_everyone_routes_to_lambda_made_public():
    event = load("cloudtrail/lambda-addpermission.bare.json")
    event["detail"]["requestParameters"].update(principal="*", statementId="open", action="lambda:InvokeFunction")
    event["detail"].pop("errorCode", None)  # a successful call's record has no errorCode
    assert routes(event) == {"lambda-made-public"}
    assert search(BOOKS["lambda-made-public"].target["function"], event) == "my-lambda-function"

    event["detail"]["errorCode"] = "AccessDeniedException"  # a refused call changed nothing
    assert routes(event) == set()
    event["detail"].pop("errorCode")
    event["detail"]["requestParameters"]["principal"] = "123456789012"  # one account: not public
    assert routes(event) == set()


@pytest.mark.parametrize(
    "policy, expected",
    [
        (
            {"Statement": [{"Sid": "open", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction"}]},
            {"lambda-made-public"},
        ),
        (
            {
                "Statement": [
                    {"Sid": "open", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "lambda:InvokeFunction"}
                ]
            },
            {"lambda-made-public"},
        ),
        (
            {
                "Statement": [
                    {
                        "Sid": "s3",
                        "Effect": "Allow",
                        "Principal": {"Service": "s3.amazonaws.com"},
                        "Action": "lambda:InvokeFunction",
                    }
                ]
            },
            set(),
        ),
    ],
)
def test_config_item_of_a_public_function_routes_to_lambda_made_public(policy, expected):
    event = load("config/configuration-item-change-sqs-queue.eventbridge.json")
    item = event["detail"]["configurationItem"]
    item.update(resourceType="AWS::Lambda::Function", resourceName="worker", resourceId="worker")
    item["supplementaryConfiguration"] = {"Policy": json.dumps(policy, separators=(",", ":"))}
    assert routes(event) == expected
    if expected:
        assert search(BOOKS["lambda-made-public"].target["function"], event) == "worker"


def test_stoplogging_record_routes_to_cloudtrail_logging_disabled():
    event = load("cloudtrail/iam-createaccesskey.bare.json")
    detail = event["detail"]
    event["source"] = "aws.cloudtrail"
    detail.update(eventSource="cloudtrail.amazonaws.com", eventName="StopLogging", requestParameters={"name": "main"})
    detail.pop("errorCode", None)
    detail.pop("responseElements", None)
    assert routes(event) == {"cloudtrail-logging-disabled"}
    assert search(BOOKS["cloudtrail-logging-disabled"].target["trail"], event) == "main"


def test_guardduty_trail_finding_names_the_trail():
    event = finding("Stealth:IAMUser/CloudTrailLoggingDisabled", "AccessKey", 2, IAM_KEY, TRAIL_CALL)
    book = BOOKS["cloudtrail-logging-disabled"]
    assert search(book.target["trail"], event) == "main"
    assert search(book.target["key"], event) == "AKIAEXAMPLE"


def test_s3_exposure_blocks_public_access_only_when_the_bucket_is_public():
    book = BOOKS["s3-exposure"]
    assert search(book.target["public"], load("cloudtrail/s3-putbucketpolicy-public.bare.json")) is True
    private = finding("Exfiltration:S3/MaliciousIPCaller", "S3Bucket", 8, BUCKET)
    assert not search(book.target["public"], private)
    public = copy.deepcopy(private)
    public["detail"]["resource"]["s3BucketDetails"][0]["publicAccess"]["effectivePermission"] = "PUBLIC"
    assert search(book.target["public"], public) is True


# ---- manual requests -----------------------------------------------------------------------------


def test_manual_request_routes_only_to_manual_quarantine():
    request = {
        "version": "0",
        "id": "r1",
        "source": "parry",
        "detail-type": "Parry Run Request",
        "account": "123456789012",
        "region": "us-east-1",
        "time": "2024-05-01T10:00:00Z",
        "resources": [],
        "detail": {"playbook": "manual-quarantine", "user": "alice", "reason": "INC-1"},
    }
    assert routes(request) == {"manual-quarantine"}
    book = BOOKS["manual-quarantine"]
    target = {key: search(expr, request) for key, expr in book.target.items()}
    chosen = [s.id for s in book.steps if s.when is None or search(s.when, {"target": target, "event": request})]
    assert chosen == ["capture-user", "quarantine-user", "tell"]

    other = copy.deepcopy(request)
    other["detail"]["playbook"] = "ec2-compromise"
    assert routes(other) == set()


def test_every_playbook_comments_the_families_it_covers():
    for book in BOOKS.values():
        head = Path(book.path).read_text().split("version:")[0]
        assert "Covers" in head, f"{book.name}: say which finding families it covers at the top"
