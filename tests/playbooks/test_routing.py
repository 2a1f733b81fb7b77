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
from parry.routing.finding_view import expression_data
from parry.routing.scan_results import SCAN_RESULT
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
    "guardduty/malware-protection-object-scan-result-threat-found-ca-central-1.eventbridge.json": {"s3-malware-object"},
    "guardduty/credentialaccess-rds-anomalousbehavior-successfullogin.bare.json": {"rds-anomalous-login"},
    # GetFindings' PascalCase answer, not the camelCase event GuardDuty delivers: no trigger reads it
    "guardduty/credentialaccess-rds-maliciousipcaller-failedlogin.api-getfindings.bare.json": set(),
    "cloudtrail/s3-putbucketpolicy-public.bare.json": {"s3-exposure"},
    "cloudtrail/signin-consolelogin-root.bare.json": {"root-credential-usage"},
    "cloudtrail/lambda-addpermission.bare.json": set(),  # the record names no principal
    # HIGH: the patch backlog (a CRITICAL copy with an exploit routes: tests/playbooks/test_posture_responses.py)
    "inspector/inspector2-finding-lambda-package-vulnerability.eventbridge.json": set(),
    "inspector/inspector2-finding-ec2-package-vulnerability-eu-central-1.eventbridge.json": set(),  # patching
    "cloudtrail/lambda-updatefunctioncode.bare.json": {"lambda-changed-outside-pipeline"},  # by an IAM user
    # the Lambda guide's sample: a queue of the caller's own account (the mapping routes; it is not foreign)
    "cloudtrail/lambda-createeventsourcemapping-sqs.bare.json": {"lambda-foreign-event-source"},
    "cloudtrail/iam-attachrolepolicy-administratoraccess.bare.json": {"iam-admin-policy-attached"},
    "cloudtrail/iam-createaccesskey.bare.json": {"iam-access-key-for-another-user"},
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
    "securityhub-v2/cspm-control-sqs.1-fail-us-east-2-ocsf.bare.json": set(),  # a posture control, no threat
    # the GuardDuty finding as Security Hub v2 forwards it: its GuardDuty event is the one acted on
    "securityhub-v2/findings-imported-v2-guardduty-stealth-cloudtrailloggingdisabled.eventbridge.json": set(),
    "access-analyzer/access-analyzer-finding-s3-cross-account.eventbridge.json": {"access-analyzer-external-access"},
    # posture, not incident: an unused permission and access inside the account are for owners to review
    "access-analyzer/unused-access-finding-unusedpermission-role.eventbridge.json": set(),
    "access-analyzer/internal-access-finding-s3-intra-account.eventbridge.json": set(),
    "securityhub-v2/guardduty-runtime-newbinaryexecuted-ec2-ocsf.bare.json": {"ec2-runtime-threat"},
    "securityhub-v2/coverage-finding-guardduty-foundational-ocsf.bare.json": set(),  # a coverage gap, no threat
    "securityhub-v2/exposure-finding-lambda-public-vulnerable-sample.bare.json": set(),  # an exposure sample
    # a Security Lake record (OCSF 1.1), not a Security Hub event: nothing delivers it to EventBridge
    "securityhub-v2/securitylake-ocsf1.1-guardduty-stealth-cloudtrailloggingdisabled-us-east-2.bare.json": set(),
    # the fixture keeps no service.detection.sequence (no published sample does): routed, no step runs
    "guardduty/attacksequence-iam-compromisedcredentials.bare.json": {"guardduty-attack-sequence"},
    "guardduty/backdoor-ec2-cc-activity-b.bare.json": {"ec2-compromise"},
    "guardduty/cryptocurrency-ec2-bitcointool-b-dns.bare.json": {"ec2-compromise"},
    "guardduty/discovery-s3-maliciousipcaller.bare.json": {"s3-exposure"},
    "guardduty/exfiltration-s3-maliciousipcaller.bare.json": {"s3-exposure"},
    "guardduty/pentest-iamuser-kalilinux.bare.json": {"iam-credential-compromise"},
    "guardduty/persistence-kubernetes-successfulanonymousaccess.bare.json": {"eks-threat"},
    "guardduty/policy-iamuser-rootcredentialusage.bare.json": {"root-credential-usage"},
    # a Container on an EC2 host that reached the host's Docker socket: the host is isolated
    "guardduty/privilegeescalation-runtime-dockersocketaccessed.bare.json": {"ec2-runtime-threat"},
    "guardduty/recon-iamuser-maliciousipcaller.bare.json": {"iam-credential-compromise"},
    "guardduty/stealth-iamuser-cloudtrailloggingdisabled.bare.json": {"cloudtrail-logging-disabled"},
    "guardduty/trojan-ec2-blackholetraffic.bare.json": {"ec2-compromise"},
    "guardduty/unauthorizedaccess-ec2-sshbruteforce.bare.json": set(),  # low severity: the instance is the target
    "guardduty/unauthorizedaccess-iamuser-consoleloginsuccess-b.bare.json": {"iam-credential-compromise"},
    # trust policy, layer and public-access-block changes: no shipped playbook takes them yet
    "cloudtrail/iam-updateassumerolepolicy-principal-star.bare.json": set(),
    "cloudtrail/lambda-updatefunctionconfiguration-layers-iamuser.bare.json": {"lambda-changed-outside-pipeline"},
    "cloudtrail/s3-deletebucketpublicaccessblock.bare.json": set(),
    # role assumptions are how AWS is used: not a finding on their own
    "cloudtrail/sts-assumerole-cross-account-caller-account.bare.json": set(),
    "cloudtrail/sts-assumerole-cross-account-role-account.bare.json": set(),
    "cloudtrail/sts-assumerole-role-chaining-session-tags.bare.json": set(),
}


def assert_targets_resolve(event: dict, names: set[str]) -> None:
    """The routed playbooks find what they act on in the event (their first step's target)."""
    for name in names:
        book = BOOKS[name]
        values = {key: search(expr, expression_data(event)) for key, expr in book.target.items()}
        first = book.steps[0]
        for value in first.with_.values():
            if isinstance(value, str) and value.startswith("${target."):
                key = value[len("${target.") : -1]
                assert values[key], f"{name}: target {key} is empty for this event"


def assert_finding_marked_only_for_guardduty(event: dict, names: set[str]) -> None:
    """The Security Hub step runs for a GuardDuty finding, on its ARN, and is skipped for anything else."""
    for name in names:
        book = BOOKS[name]
        target = {key: search(expr, expression_data(event)) for key, expr in book.target.items()}
        for step in (s for s in book.steps if s.action == "securityhub.update_finding"):
            runs = truthy(search(step.when, {"event": event, "target": target})) if step.when else True
            assert runs == (event["source"] == "aws.guardduty"), f"{name}: {step.id} for {event['source']}"
            if runs:
                assert target["finding_arn"] == event["detail"]["arn"], name


def test_every_guardduty_playbook_marks_the_finding_in_security_hub():
    from_guardduty = {
        name
        for name, b in BOOKS.items()
        if "aws.guardduty" in json.dumps(b.trigger) and SCAN_RESULT not in json.dumps(b.trigger)
    }
    assert from_guardduty == {
        "guardduty-attack-sequence",
        "ec2-runtime-threat",
        "ecs-runtime-threat",
        "eks-threat",
        "rds-anomalous-login",
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
EKS = {"eksClusterDetails": {"name": "prod", "arn": "arn:aws:eks:us-east-1:123456789012:cluster/prod"}}
ECS_TASK = {
    "ecsClusterDetails": {
        "name": "prod",
        "arn": "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
        "taskDetails": {
            "arn": "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0",
            "launchType": "FARGATE",
        },
    }
}
RDS = {"rdsDbInstanceDetails": {"dbInstanceIdentifier": "orders", "engine": "postgres"}}
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
    ("CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin", "RDSDBInstance", 8, {}, None, set()),  # no database
    ("CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin", "RDSDBInstance", 8, RDS, None, {"rds-anomalous-login"}),
    ("CredentialAccess:RDS/MaliciousIPCaller.SuccessfulLogin", "RDSDBInstance", 5, RDS, None, {"rds-anomalous-login"}),
    ("CredentialAccess:RDS/MaliciousIPCaller.FailedLogin", "RDSDBInstance", 2, RDS, None, set()),  # low severity
    ("Persistence:Kubernetes/SuccessfulAnonymousAccess", "EKSCluster", 8, {}, None, set()),  # no cluster
    ("Persistence:Kubernetes/SuccessfulAnonymousAccess", "EKSCluster", 8, EKS, None, {"eks-threat"}),
    ("PrivilegeEscalation:Runtime/DockerSocketAccessed", "EKSCluster", 5, EKS, None, {"eks-threat"}),
    ("Execution:Runtime/ReverseShell", "Instance", 8, INSTANCE, None, {"ec2-runtime-threat"}),
    ("Execution:Runtime/NewBinaryExecuted", "Instance", 5, INSTANCE, None, {"ec2-runtime-threat"}),
    ("Execution:Runtime/NewBinaryExecuted", "Instance", 2, INSTANCE, None, set()),  # low severity
    ("Execution:Runtime/ReverseShell", "ECSCluster", 8, ECS_TASK, None, {"ecs-runtime-threat"}),
    ("Execution:Runtime/ReverseShell", "ECSCluster", 8, {"ecsClusterDetails": {"name": "prod"}}, None, set()),
    ("AttackSequence:S3/CompromisedData", "AttackSequence", 9, {}, None, {"guardduty-attack-sequence"}),
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


@pytest.mark.parametrize(
    "verdict, expected",
    [("THREATS_FOUND", {"s3-malware-object"}), ("THREAT_FOUND", {"s3-malware-object"}), ("NO_THREATS_FOUND", set())]
    + [(v, set()) for v in ("UNSUPPORTED", "ACCESS_DENIED", "FAILED")],
)
def test_only_a_scan_result_that_found_threats_routes_to_s3_malware_object(verdict, expected):
    event = load("guardduty/malware-protection-object-scan-result-threat-found-ca-central-1.eventbridge.json")
    event["detail"]["scanResultDetails"]["scanResultStatus"] = verdict
    assert routes(event) == expected


def test_a_guardduty_sample_rds_finding_routes_nowhere():
    sample = load("guardduty/credentialaccess-rds-anomalousbehavior-successfullogin.bare.json", sample=True)
    assert routes(sample) == set()


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


ADMIN_ATTACH = "cloudtrail/iam-attachrolepolicy-administratoraccess.bare.json"
KEY_FOR_ANOTHER = "cloudtrail/iam-createaccesskey.bare.json"


@pytest.mark.parametrize(
    "relpath, change",
    [
        (ADMIN_ATTACH, lambda d: d.update(errorCode="AccessDenied")),  # a failed call changed nothing
        (ADMIN_ATTACH, lambda d: d["requestParameters"].update(policyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")),
        (ADMIN_ATTACH, lambda d: d["userIdentity"].update(arn=CDK_DEPLOYER)),  # an allow-listed caller
        (KEY_FOR_ANOTHER, lambda d: d.update(errorCode="LimitExceeded")),
        (KEY_FOR_ANOTHER, lambda d: d.pop("requestParameters")),  # the caller's own key (no user named)
        (KEY_FOR_ANOTHER, lambda d: d["userIdentity"].update(arn=CDK_DEPLOYER)),
    ],
    ids=["attach-failed", "attach-other-policy", "attach-allowed", "key-failed", "key-own", "key-allowed"],
)
def test_privilege_escalation_playbooks_leave_other_calls_alone(relpath, change):
    event = load(relpath)
    change(event["detail"])

    assert routes(event) == set()


CDK_DEPLOYER = (
    "arn:aws:sts::123456789012:assumed-role/cdk-hnb659fds-cfn-exec-role-123456789012-us-east-1/AWSCloudFormation"
)


@pytest.mark.parametrize(
    "attach, kind", [("AttachRolePolicy", "role"), ("AttachUserPolicy", "user"), ("AttachGroupPolicy", "group")]
)
def test_admin_attached_to_any_kind_of_principal_routes_and_names_it(attach, kind):
    event = load(ADMIN_ATTACH)
    params = {"roleName": "new-role"} if kind == "role" else {f"{kind}Name": "someone"}
    event["detail"].update(eventName=attach, requestParameters={"policyArn": ADMIN_POLICY, **params})
    book = BOOKS["iam-admin-policy-attached"]

    assert routes(event) == {"iam-admin-policy-attached"}
    assert search(book.target["kind"], event) == kind
    assert search(book.target["principal"], event) == params[f"{kind}Name"]


ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


def test_a_key_a_user_makes_for_themselves_runs_no_step():
    event = load(KEY_FOR_ANOTHER)
    book = BOOKS["iam-access-key-for-another-user"]
    assert search(book.target["for_another"], event) is True  # user1 made it for user2

    event["detail"]["requestParameters"]["userName"] = event["detail"]["responseElements"]["accessKey"]["userName"] = (
        "user1"
    )

    assert routes(event) == {"iam-access-key-for-another-user"}
    assert search(book.target["for_another"], event) is False


# ---- CloudTrail change detections for Lambda ---------------------------------------------------------
# UpdateFunctionCode/UpdateFunctionConfiguration and CreateEventSourceMapping are real records (EXPECTED);
# the function URL and layer permission records are built on the real UpdateFunctionCode record in the
# shape their APIs and published detections give (tests/events/SOURCES.md, "Records built here"):
# camelCase request parameters (URI and body alike), the eventName with its API version.

ESM_RECORD = "cloudtrail/lambda-createeventsourcemapping-sqs.bare.json"

CODE_UPDATE = "cloudtrail/lambda-updatefunctioncode.bare.json"
PARRY_ROLE = "arn:aws:sts::123456789012:assumed-role/parry-lambda-url-made-public-us-east-1/parry"


def lambda_call(event_name: str, request: dict, response: dict | None = None) -> dict:
    event = load(CODE_UPDATE)
    event["detail"].update(eventName=event_name, requestParameters=request, responseElements=response)
    return event


@pytest.mark.parametrize(
    "event_name, auth_type, caller, expected",
    [
        # the function URL calls' eventName carries no API version (tests/events/SOURCES.md)
        ("CreateFunctionUrlConfig", "NONE", None, {"lambda-url-made-public"}),
        ("UpdateFunctionUrlConfig", "NONE", None, {"lambda-url-made-public"}),
        ("CreateFunctionUrlConfig20211031", "NONE", None, {"lambda-url-made-public"}),  # nor misses one if it did
        ("CreateFunctionUrlConfig", "AWS_IAM", None, set()),
        ("CreateFunctionUrlConfig", "NONE", CDK_DEPLOYER, set()),
        ("UpdateFunctionUrlConfig", "NONE", PARRY_ROLE, set()),  # Parry's own undo, approved by a person
        ("DeleteFunctionUrlConfig", "NONE", None, set()),
    ],
)
def test_a_function_url_opened_to_anyone_routes_to_lambda_url_made_public(event_name, auth_type, caller, expected):
    event = lambda_call(event_name, {"functionName": "orders", "authType": auth_type, "qualifier": "live"})
    if caller:
        event["detail"]["userIdentity"]["arn"] = caller
    assert routes(event) == expected
    if expected:
        book = BOOKS["lambda-url-made-public"]
        assert search(book.target["function"], event) == "orders"
        assert search(book.target["qualifier"], event) == "live"
    event["detail"]["errorCode"] = "AccessDeniedException"
    assert routes(event) == set()


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda d: None, {"lambda-changed-outside-pipeline"}),
        (lambda d: d.update(eventName="UpdateFunctionConfiguration20150331v2"), {"lambda-changed-outside-pipeline"}),
        (lambda d: d["userIdentity"].update(arn=CDK_DEPLOYER), set()),  # the pipeline
        (lambda d: d.update(errorCode="ResourceConflictException"), set()),
        (lambda d: d.update(eventName="GetFunction20150331v2"), set()),
    ],
    ids=["code", "configuration", "deployer", "failed", "read"],
)
def test_a_change_outside_the_deployers_routes_to_lambda_changed_outside_pipeline(change, expected):
    event = load(CODE_UPDATE)
    change(event["detail"])
    assert routes(event) == expected


def test_a_change_names_the_function_and_the_version_it_published():
    event = load(CODE_UPDATE)
    event["detail"]["responseElements"]["version"] = "7"
    book = BOOKS["lambda-changed-outside-pipeline"]
    assert search(book.target["function"], event) == "production-api"
    assert search(book.target["published"], event) == "7"


@pytest.mark.parametrize(
    "source, foreign",
    [
        ("arn:aws:sqs:us-west-2:210987654321:jobs", True),
        ("arn:aws:kinesis:us-west-2:210987654321:stream/clicks", True),
        ("arn:aws:sqs:us-west-2:123456789012:jobs", False),
        ("arn:aws:dynamodb:us-west-2:123456789012:table/t/stream/2024-01-01T00:00:00.000", False),
        (None, False),  # self-managed Kafka: no ARN
    ],
)
def test_every_event_source_mapping_routes_and_only_another_accounts_source_is_foreign(source, foreign):
    event = load(ESM_RECORD)  # the documented record, its source replaced (or none, as for Kafka)
    request = event["detail"]["requestParameters"]
    request.pop("eventSourceArn")
    request.update({"eventSourceArn": source} if source else {})
    book = BOOKS["lambda-foreign-event-source"]

    assert routes(event) == {"lambda-foreign-event-source"}
    assert search(book.target["foreign"], event) is foreign
    assert search(book.target["mapping"], event) == "a1b2c3d4-5678-90ab-cdef-EXAMPLEaaaaa"
    assert search(book.target["function"], event) == "example-function"


@pytest.mark.parametrize(
    "request_parameters, caller, expected",
    [
        ({"principal": "*"}, None, {"lambda-layer-made-public"}),
        ({"principal": "*", "organizationId": "o-a1b2c3d4e5"}, None, set()),  # the organization only
        ({"principal": "210987654321"}, None, set()),
        ({"principal": "*"}, PARRY_ROLE, set()),  # Parry's own undo
    ],
    ids=["everyone", "organization", "one-account", "parry-undo"],
)
def test_a_layer_version_shared_with_everyone_routes_to_lambda_layer_made_public(request_parameters, caller, expected):
    request = {"layerName": "libs", "versionNumber": 3, "statementId": "open", "action": "lambda:GetLayerVersion"}
    event = lambda_call("AddLayerVersionPermission20181031", {**request, **request_parameters})
    if caller:
        event["detail"]["userIdentity"]["arn"] = caller
    assert routes(event) == expected
    if expected:
        book = BOOKS["lambda-layer-made-public"]
        assert [search(book.target[k], event) for k in ("layer", "version", "statement")] == ["libs", 3, "open"]


def test_admin_attached_to_a_lambda_role_is_iam_admin_policy_attached_s_to_handle():
    """No separate playbook: the AttachRolePolicy record does not say who assumes the role, and the
    existing playbook detaches AdministratorAccess from any role (rehearsed on a Lambda execution role
    in tests/playbooks/test_rehearsals_lambda_changes.py)."""
    assert routes(load(ADMIN_ATTACH)) == {"iam-admin-policy-attached"}
