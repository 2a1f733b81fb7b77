"""Where a case acts: the region of its finding's resources, only among the regions Parry acts in."""

from __future__ import annotations

import pytest

from parry.errors import EventError
from parry.routing.placement import acting_region
from tests.support.routing import IAM_KEY, finding, load

HOME = "us-east-1"


def instance_finding(region: str) -> dict:
    event = finding("Backdoor:EC2/C&CActivity.B", "Instance", 8, {"instanceDetails": {"instanceId": "i-0abc"}})
    event["detail"]["region"] = region
    return event


def sequence(*places: tuple[str, str]) -> dict:
    event = finding("AttackSequence:S3/CompromisedData", "AttackSequence", 9)
    event["detail"]["service"]["detection"] = {
        "sequence": {
            "resources": [
                {"uid": f"r{index}", "accountId": "123456789012", "region": region, "resourceType": kind}
                for index, (kind, region) in enumerate(places)
            ]
        }
    }
    return event


def test_a_case_acts_in_the_region_of_its_findings_resource():
    assert acting_region(instance_finding("eu-west-1"), configured=(HOME, "eu-west-1"), home=HOME) == "eu-west-1"


def test_the_envelope_region_is_not_where_the_resource_is():
    event = instance_finding("eu-west-1")
    event["region"] = HOME  # forwarded to the home region's bus

    assert acting_region(event, configured=(HOME, "eu-west-1"), home=HOME) == "eu-west-1"


def test_a_resource_outside_the_configured_regions_is_refused_by_name():
    with pytest.raises(EventError, match=r"AwsEc2Instance i-0abc in eu-west-1, outside the regions Parry acts in"):
        acting_region(instance_finding("eu-west-1"), configured=(HOME,), home=HOME)


def test_with_no_regions_configured_parry_acts_in_its_home_region_only():
    assert acting_region(instance_finding(HOME), configured=(), home=HOME) == HOME
    with pytest.raises(EventError, match=r"in ap-east-1, outside the regions Parry acts in \(us-east-1\)"):
        acting_region(instance_finding("ap-east-1"), configured=(), home=HOME)


def test_global_iam_resources_act_in_the_findings_region_when_parry_acts_there():
    event = finding("UnauthorizedAccess:IAMUser/TorIPCaller", "AccessKey", 5, IAM_KEY)
    event["detail"]["region"] = "eu-west-1"

    assert acting_region(event, configured=(HOME, "eu-west-1"), home=HOME) == "eu-west-1"
    # IAM answers from every region: a finding from a region Parry does not act in is not refused
    assert acting_region(event, configured=(HOME,), home=HOME) == HOME


def test_an_attack_sequence_across_regions_is_not_refused_as_a_whole():
    """Its step refuses the resource outside by name and contains the others (sequence.contain)."""
    event = sequence(("ACCESS_KEY", HOME), ("EC2_INSTANCE", "eu-west-1"), ("S3_BUCKET", "ap-east-1"))

    assert acting_region(event, configured=(HOME, "eu-west-1"), home=HOME) == HOME  # the finding's own region


def test_an_attack_sequence_from_a_region_parry_does_not_act_in_is_placed_at_home():
    event = sequence(("EC2_INSTANCE", "eu-west-1"))
    event["detail"]["region"] = "ap-east-1"

    assert acting_region(event, configured=(HOME, "eu-west-1"), home=HOME) == HOME


def test_an_asff_finding_acts_where_its_resource_is():
    event = load("securityhub/custom-action-afsbp-rds.6-db-instance.json")  # an eu-west-1 database

    assert acting_region(event, configured=(HOME, "eu-west-1"), home=HOME) == "eu-west-1"
    with pytest.raises(EventError, match="AwsRdsDbInstance arn:aws:rds:eu-west-1:"):
        acting_region(event, configured=(HOME,), home=HOME)


def test_an_event_that_is_no_finding_acts_in_the_runners_region():
    """A CloudTrail record cannot be re-read from its service: its region is only what it says."""
    trail = load("cloudtrail/iam-createaccesskey.bare.json")
    trail["region"] = "eu-west-1"

    assert acting_region(trail, configured=(HOME, "eu-west-1"), home=HOME) == HOME


def _call(source: str, region: str) -> dict:
    return {
        "source": "aws.lambda",
        "detail-type": "AWS API Call via CloudTrail",
        "region": region,
        "detail": {"eventSource": source, "awsRegion": region, "eventName": "AddPermission20150331v2", "eventID": "e1"},
    }


def test_a_cloudtrail_call_acts_in_the_region_it_was_made_in():
    assert (
        acting_region(
            _call("lambda.amazonaws.com", "eu-west-1"), configured=("us-east-1", "eu-west-1"), home="us-east-1"
        )
        == "eu-west-1"
    )


def test_a_cloudtrail_call_outside_the_configured_regions_is_refused_by_name():
    with pytest.raises(EventError, match="AddPermission20150331v2 .* made in eu-west-1"):
        acting_region(_call("lambda.amazonaws.com", "eu-west-1"), configured=("us-east-1",), home="us-east-1")


def test_an_iam_call_acts_from_the_home_region_wherever_cloudtrail_recorded_it():
    assert (
        acting_region(_call("iam.amazonaws.com", "us-east-1"), configured=("eu-west-1",), home="eu-west-1")
        == "eu-west-1"
    )
