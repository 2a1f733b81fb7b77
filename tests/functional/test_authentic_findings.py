"""Findings re-read from their service (parry.routing.findings), on moto with local mode's corrections.

The GuardDuty attacks through the runner are in tests/security/test_invented_finding.py; here each
comparison on its own, and Security Hub's ASFF findings.
"""

from __future__ import annotations

import copy
import json

import pytest

from parry.errors import FindingNotAuthentic
from parry.routing.findings import authentic_event
from tests.support.findings import registered
from tests.support.paths import EVENTS


@pytest.fixture
def imported(aws) -> dict:
    """A Security Hub "Findings - Imported" event whose finding Security Hub holds."""
    event = json.loads((EVENTS / "securityhub" / "imported-cis-1.3-unused-credentials.json").read_text())
    for finding in event["detail"]["findings"]:
        finding["AwsAccountId"] = "123456789012"
    event["account"], event["region"] = "123456789012", "us-east-1"
    return registered(aws, event)


def test_a_held_security_hub_finding_is_replaced_by_the_hubs_copy(aws, imported):
    delivered = copy.deepcopy(imported)
    delivered["detail"]["findings"][0]["Title"] = "something else"  # not an identity: the hub's copy wins

    checked = authentic_event(delivered, aws)

    assert checked["detail"]["findings"] == imported["detail"]["findings"]


@pytest.mark.parametrize(
    "change, named",
    [
        (lambda f: f.update(Id=f["Id"] + "-invented"), "holds no finding"),
        (lambda f: f.update(AwsAccountId="210987654321"), "AwsAccountId is '210987654321' in the event"),
        (lambda f: f["Resources"][0].update(Id="arn:aws:iam::123456789012:user/admin"), "Resources[].Id is"),
    ],
    ids=["unknown-id", "another-account", "another-resource"],
)
def test_a_security_hub_finding_the_hub_does_not_confirm_is_refused(aws, imported, change, named):
    delivered = copy.deepcopy(imported)
    change(delivered["detail"]["findings"][0])

    with pytest.raises(FindingNotAuthentic, match=named.replace("[", r"\[").replace("]", r"\]")):
        authentic_event(delivered, aws)


def test_a_security_hub_event_parry_cannot_confirm_is_refused(aws, imported):
    insight = {**imported, "detail-type": "Security Hub Insight Results"}

    with pytest.raises(FindingNotAuthentic, match="cannot confirm"):
        authentic_event(insight, aws)


def test_an_asff_finding_delivered_as_a_v2_event_is_refused(aws, imported):
    v2 = {**imported, "detail-type": "Findings Imported V2"}

    with pytest.raises(FindingNotAuthentic, match="not an OCSF finding"):
        authentic_event(v2, aws)


def test_a_guardduty_finding_of_another_resource_type_is_refused(aws, compromised_user):
    delivered = copy.deepcopy(compromised_user["event"])
    delivered["detail"]["resource"]["resourceType"] = "Instance"

    with pytest.raises(FindingNotAuthentic, match="resource.resourceType is 'Instance' in the event"):
        authentic_event(delivered, aws)


def test_a_guardduty_finding_in_another_region_is_asked_there_and_unknown(aws, compromised_user):
    delivered = copy.deepcopy(compromised_user["event"])
    delivered["region"] = delivered["detail"]["region"] = "eu-west-3"

    with pytest.raises(FindingNotAuthentic, match="GuardDuty is not enabled in eu-west-3"):
        authentic_event(delivered, aws)


def test_other_sources_pass_unchanged(aws, load_event):
    event = load_event("config/configuration-item-change-sqs-queue.eventbridge.json")

    assert authentic_event(event, aws) is event


def test_a_v2_finding_whose_product_is_not_an_object_is_refused_not_crashed_on(aws):
    """Found by the bad-input fuzzer on the Security Hub v2 fixtures: `metadata.product` a string."""
    from tests.support.routing import load

    event = load("securityhub-v2/guardduty-runtime-newbinaryexecuted-ec2-ocsf.bare.json")
    event["detail"]["findings"][0]["metadata"]["product"] = "GuardDuty"

    with pytest.raises(FindingNotAuthentic, match=r"metadata\.product\.uid"):
        authentic_event(event, aws)
