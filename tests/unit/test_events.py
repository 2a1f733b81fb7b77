"""Wrapping bare payloads in their EventBridge envelope, and refusing what is not an event."""

from __future__ import annotations

import pytest

from parry.errors import EventError
from parry.routing.events import check_envelope, wrap


def test_bare_guardduty_finding_is_wrapped(load_event):
    event = load_event("guardduty/unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.bare.json")
    assert event["source"] == "aws.guardduty" and event["detail-type"] == "GuardDuty Finding"
    assert event["account"] == event["detail"]["accountId"] and event["region"] == event["detail"]["region"]
    assert check_envelope(event) is event


def test_envelope_passes_through_unchanged():
    event = {"source": "x", "detail-type": "y", "detail": {}}
    assert wrap(event) == (event, None)


def test_cloudtrail_record_is_wrapped_with_its_service_source():
    record = {
        "eventVersion": "1.08",
        "eventSource": "iam.amazonaws.com",
        "eventName": "CreateAccessKey",
        "awsRegion": "us-east-1",
        "recipientAccountId": "111122223333",
        "eventTime": "2024-01-01T00:00:00Z",
    }
    event, what = wrap(record)
    assert what == "CloudTrail record"
    assert (event["source"], event["detail-type"], event["account"]) == (
        "aws.iam",
        "AWS API Call via CloudTrail",
        "111122223333",
    )


def test_asff_finding_is_wrapped_as_an_imported_finding():
    finding = {
        "SchemaVersion": "2018-10-08",
        "ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/guardduty",
        "Resources": [],
        "AwsAccountId": "111122223333",
    }
    event, _ = wrap(finding)
    assert event["detail"]["findings"] == [finding] and event["region"] == "eu-west-1"


@pytest.mark.parametrize(
    "payload, message",
    [
        ([], "must be a JSON object"),
        ({"hello": "world"}, "not an EventBridge event, GuardDuty finding"),
    ],
)
def test_unknown_shapes_are_refused(payload, message):
    with pytest.raises(EventError, match=message):
        wrap(payload)


@pytest.mark.parametrize(
    "event, message",
    [
        ({"source": "a", "detail-type": "b", "detail": []}, "detail must be an object"),
        ({"source": 1, "detail-type": "b", "detail": {}}, "source must be a string"),
        ({"source": "a", "detail-type": "b", "detail": {}, "account": 5}, "account must be a string"),
    ],
)
def test_malformed_envelopes_are_refused(event, message):
    with pytest.raises(EventError, match=message):
        check_envelope(event)


def test_resource_account_is_the_findings_own_account_not_the_administrators():
    """Aggregated findings arrive on the administrator's bus: the envelope names the administrator."""
    from parry.routing.events import resource_account

    guardduty = {"source": "aws.guardduty", "account": "111111111111", "detail": {"accountId": "222222222222"}}
    assert resource_account(guardduty) == "222222222222"
    hub = {
        "source": "aws.securityhub",
        "account": "111111111111",
        "detail": {"findings": [{"AwsAccountId": "333333333333"}, {"AwsAccountId": "333333333333"}]},
    }
    assert resource_account(hub) == "333333333333"
    trail = {"source": "aws.iam", "account": "444444444444", "detail": {"recipientAccountId": "555555555555"}}
    assert resource_account(trail) == "444444444444"
    assert (
        resource_account({"source": "aws.guardduty", "account": "111111111111", "detail": {"accountId": "x"}})
        == "111111111111"
    )


def test_resource_account_refuses_findings_of_several_accounts():
    from parry.errors import EventError
    from parry.routing.events import resource_account

    hub = {
        "source": "aws.securityhub",
        "account": "111111111111",
        "detail": {"findings": [{"AwsAccountId": "222222222222"}, {"AwsAccountId": "333333333333"}]},
    }
    with pytest.raises(EventError, match="222222222222, 333333333333"):
        resource_account(hub)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("account", "9" * 120_000, "account must be a 12-digit account id"),
        ("account", "12345678901", "account must be a 12-digit account id"),
        ("region", "us-east-1; drop", "region must be an AWS region name"),
        ("region", "", "region must be an AWS region name"),
    ],
)
def test_an_envelope_account_or_region_eventbridge_would_never_send_is_refused(key, value, message):
    event = {"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": {}, "account": "123456789012"}
    with pytest.raises(EventError, match=message):
        check_envelope({**event, key: value})


@pytest.mark.parametrize(
    "region", ["us-east-1", "us-gov-west-1", "cn-north-1", "us-isob-east-1", "eusc-de-east-1", "ap-southeast-5"]
)
def test_every_partitions_region_names_pass(region):
    event = {"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": {}, "account": "123456789012"}
    assert check_envelope({**event, "region": region})["region"] == region
