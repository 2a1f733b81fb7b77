"""The one finding view: GuardDuty, ASFF and OCSF findings read the same way, places from the fields
each service documents for them."""

from __future__ import annotations

import copy

import pytest

from parry.routing.finding_view import GLOBAL, expression_data, finding_view, ocsf_type
from tests.support.routing import finding, load

ACCOUNT, OTHER = "123456789012", "210987654321"


def kinds(view) -> list[tuple[str, str, str | None, str | None]]:
    return [(r.type, r.id, r.account, r.region) for r in view.resources]


@pytest.mark.parametrize(
    ("resource_type", "resource", "expected"),
    [
        ("Instance", {"instanceDetails": {"instanceId": "i-0abc"}}, [("AwsEc2Instance", "i-0abc")]),
        (
            "AccessKey",
            {"accessKeyDetails": {"accessKeyId": "AKIAEXAMPLE", "userName": "alice", "userType": "IAMUser"}},
            [("AwsIamAccessKey", "AKIAEXAMPLE"), ("AwsIamUser", "alice")],
        ),
        (
            # an assumed role's key names no IAM user to act on
            "AccessKey",
            {"accessKeyDetails": {"accessKeyId": "ASIAEXAMPLE", "userName": "web", "userType": "AssumedRole"}},
            [("AwsIamAccessKey", "ASIAEXAMPLE")],
        ),
        ("S3Bucket", {"s3BucketDetails": [{"name": "logs", "arn": "arn:aws:s3:::logs"}]}, [("AwsS3Bucket", "logs")]),
        ("EKSCluster", {"eksClusterDetails": {"name": "prod", "arn": "arn:eks"}}, [("AwsEksCluster", "prod")]),
        (
            "ECSCluster",
            {"ecsClusterDetails": {"name": "web", "arn": "arn:ecs-cluster", "taskDetails": {"arn": "arn:ecs-task"}}},
            [("AwsEcsCluster", "web"), ("AwsEcsTask", "arn:ecs-task")],
        ),
        (
            "RDSDBInstance",
            {"rdsDbInstanceDetails": {"dbInstanceIdentifier": "db-1", "dbInstanceArn": "arn:rds"}},
            [("AwsRdsDbInstance", "db-1")],
        ),
        ("Lambda", {"lambdaDetails": {"functionName": "fn", "functionArn": "arn:fn"}}, [("AwsLambdaFunction", "fn")]),
    ],
)
def test_guardduty_resource_kinds(resource_type, resource, expected):
    event = finding("Test:Kind/Example", resource_type, 5, resource)
    event["detail"]["region"] = "eu-west-1"

    view = finding_view(event)

    assert [(r.type, r.id) for r in view.resources] == expected
    for r in view.resources:
        assert r.account == ACCOUNT and r.native_type == resource_type
        assert r.region == (GLOBAL if r.type.startswith("AwsIam") else "eu-west-1")


def test_an_attack_sequence_names_each_resource_in_its_own_account_and_region():
    event = finding("AttackSequence:IAM/CompromisedCredentials", "AttackSequence", 9)
    event["detail"]["service"]["detection"] = {
        "sequence": {
            "resources": [
                {"uid": "AKIAEXAMPLE", "accountId": ACCOUNT, "region": "us-east-1", "resourceType": "ACCESS_KEY"},
                {"uid": "i-0abc", "accountId": OTHER, "region": "eu-west-1", "resourceType": "EC2_INSTANCE"},
                {"name": "exfil", "accountId": OTHER, "region": "eu-west-1", "resourceType": "S3_BUCKET"},
                {"uid": "arn:task", "accountId": OTHER, "region": "ap-east-1", "resourceType": "ECS_TASK"},
            ]
        }
    }

    view = finding_view(event)

    assert kinds(view) == [
        ("AwsIamAccessKey", "AKIAEXAMPLE", ACCOUNT, GLOBAL),
        ("AwsEc2Instance", "i-0abc", OTHER, "eu-west-1"),
        ("AwsS3Bucket", "exfil", OTHER, "eu-west-1"),
        ("AwsEcsTask", "arn:task", OTHER, "ap-east-1"),
    ]
    assert view.severity == 90.0 and view.severity_label == "CRITICAL"


@pytest.mark.parametrize(
    ("native", "normalized", "label"),
    [(1.0, 10.0, "LOW"), (3.9, 39.0, "LOW"), (4.0, 40.0, "MEDIUM"), (7.0, 70.0, "HIGH"), (8.9, 89.0, "HIGH")]
    + [(9.0, 90.0, "CRITICAL"), (10.0, 100.0, "CRITICAL")],
)
def test_guardduty_severity_is_on_asffs_scale_with_guarddutys_bands(native, normalized, label):
    view = finding_view(finding("Test:Kind/Example", "Instance", native, {"instanceDetails": {}}))

    assert (view.severity, view.severity_label, view.native_severity) == (pytest.approx(normalized), label, native)


def test_an_asff_finding_uses_each_resources_own_region_and_the_findings_account():
    event = load("securityhub/custom-action-afsbp-rds.6-db-instance.json")
    first = event["detail"]["findings"][0]

    view = finding_view(event)

    assert view.format == "asff" and view.account == first["AwsAccountId"] == "111111111111"
    (db,) = view.resources
    assert (db.type, db.region, db.account) == ("AwsRdsDbInstance", "eu-west-1", "111111111111")
    assert db.arn == db.id and db.id.startswith("arn:aws:rds:eu-west-1:")
    assert (view.severity, view.severity_label) == (first["Severity"]["Normalized"], first["Severity"]["Label"])


def test_asff_resources_without_their_own_region_take_the_findings():
    event = load("securityhub/custom-action-afsbp-rds.6-db-instance.json")
    first = event["detail"]["findings"][0]
    first["Region"] = "eu-central-1"
    del first["Resources"][0]["Region"]

    assert finding_view(event).resources[0].region == "eu-central-1"


def test_an_ocsf_finding_maps_types_and_takes_each_resources_owner_and_region():
    event = load("securityhub-v2/cspm-control-sqs.1-fail-us-east-2-ocsf.bare.json")

    view = finding_view(event)

    assert view.format == "ocsf" and (view.account, view.region) == (ACCOUNT, "us-east-2")
    (queue,) = view.resources
    assert (queue.type, queue.native_type, queue.region) == ("AwsSqsQueue", "AWS::SQS::Queue", "us-east-2")


def test_an_ocsf_resource_owned_by_another_account_is_in_that_account():
    event = load("securityhub-v2/guardduty-runtime-newbinaryexecuted-ec2-ocsf.bare.json")
    resource = event["detail"]["findings"][0]["resources"][0]
    resource["owner"] = {"account": {"uid": OTHER}}
    resource["region"] = "eu-west-1"

    (instance,) = finding_view(event).resources

    assert (instance.type, instance.account, instance.region) == ("AwsEc2Instance", OTHER, "eu-west-1")


@pytest.mark.parametrize(
    ("native", "asff"),
    [
        ("AWS::EC2::Instance", "AwsEc2Instance"),
        ("AWS::IAM::AccessKey", "AwsIamAccessKey"),
        ("AWS::S3::Bucket", "AwsS3Bucket"),
        ("AwsLambdaFunction", "AwsLambdaFunction"),  # already ASFF's spelling (the exposure sample)
        ("Other", "Other"),
    ],
)
def test_ocsf_types_are_read_in_asffs_vocabulary(native, asff):
    assert ocsf_type(native) == asff


@pytest.mark.parametrize(("severity_id", "normalized", "label"), [(1, 0.0, "Informational"), (3, 40.0, "Medium")])
def test_ocsf_severity_id_is_at_the_bottom_of_its_asff_band(severity_id, normalized, label):
    event = load("securityhub-v2/cspm-control-sqs.1-fail-us-east-2-ocsf.bare.json")
    first = event["detail"]["findings"][0]
    first["severity_id"], first["severity"] = severity_id, label

    view = finding_view(event)

    assert (view.severity, view.severity_label, view.native_severity) == (normalized, label, severity_id)


def test_iam_resources_are_global_whatever_region_the_finding_says():
    event = load("securityhub-v2/findings-imported-v2-guardduty-stealth-cloudtrailloggingdisabled.eventbridge.json")
    event["detail"]["findings"][0]["resources"][0]["region"] = "us-east-1"

    (key,) = finding_view(event).resources

    assert (key.type, key.region) == ("AwsIamAccessKey", GLOBAL)


def test_accounts_are_never_read_from_arns():
    """The published v2 sample's GuardDuty ARN (finding_info.uid) names another account than cloud.account.uid."""
    event = load("securityhub-v2/findings-imported-v2-guardduty-stealth-cloudtrailloggingdisabled.eventbridge.json")
    first = event["detail"]["findings"][0]
    first["resources"][0] = {"type": "AWS::IAM::Role", "uid": f"arn:aws:iam::{OTHER}:role/web", "region": "us-east-1"}

    view = finding_view(event)

    assert ":869728294630:" in first["finding_info"]["uid"]
    assert view.account == "869728294964"
    assert view.resources[0].account == "869728294964"  # the finding's account, not the ARN's


def test_the_same_finding_in_three_formats_names_the_same_instance():
    runtime = load("securityhub-v2/guardduty-runtime-newbinaryexecuted-ec2-ocsf.bare.json")
    instance = finding_view(runtime).resources[0].id
    native = finding(
        "Execution:Runtime/NewBinaryExecuted", "Instance", 5, {"instanceDetails": {"instanceId": instance}}
    )
    asff = copy.deepcopy(load("securityhub/custom-action-afsbp-rds.6-db-instance.json"))
    asff["detail"]["findings"][0]["Resources"] = [{"Type": "AwsEc2Instance", "Id": instance, "Region": "us-east-1"}]
    expr = "finding.resources[?type=='AwsEc2Instance'].id | [0]"

    from parry.routing.expressions import search

    assert {search(expr, expression_data(e)) for e in (runtime, native, asff)} == {instance}


def test_events_without_a_finding_have_no_view():
    trail = load("cloudtrail/iam-createaccesskey.bare.json")

    assert finding_view(trail) is None
    assert expression_data(trail)["finding"] is None
    assert finding_view({"source": "aws.securityhub", "detail-type": "Security Hub Insight Results"}) is None
