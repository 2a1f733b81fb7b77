"""Security Hub custom actions: each selected finding becomes the event its playbook reads.

GuardDuty is stubbed with botocore's Stubber (moto 5.2.5 implements neither GetFindings nor
CreateSampleFindings); the Stubber checks every stubbed response and request against GuardDuty's
service model, so a finding that boto3 could not return cannot be stubbed either.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from parry.aws.clients import ClientFactory
from parry.engine import intake
from parry.errors import EventError, ExpressionError
from parry.local.corrections import as_detection
from parry.playbooks.validate import load_all
from parry.routing.custom_actions import guardduty_finding_event, is_custom_action, selected_events, wire_format
from parry.routing.patterns import compile_pattern

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "tests" / "events"
# the GuardDuty findings in EventBridge's camelCase form; not a Malware Protection scan result (no
# finding) nor a finding published in GetFindings' PascalCase form
GUARDDUTY_FIXTURES = sorted(
    p.name
    for p in (EVENTS / "guardduty").glob("*.json")
    if "malware-protection-object-scan-result" not in p.name
    and ".api-getfindings." not in p.name
    # hand-edited by its publisher with fields GuardDuty's API has not (tests/events/SOURCES.md): shape only
    and "runtime-dockersocketaccessed" not in p.name
)
BOOKS = load_all([ROOT / "playbooks"])
SECURITY_ACCOUNT = "111122223333"
DETECTOR = "a2b4c6d8e0f2a4b6c8d0e2f4a6b8c0d2"


# Values whose type differs from GuardDuty's model, which GetFindings cannot return as published:
# canary-ec2-stateless is GuardDuty's integration-test canary (aws-samples), with launchTime in epoch
# milliseconds; it and the 2017 sample toripcaller carry asn as a number. The model, and the other
# findings here ("launchTime": "2016-08-02T02:05:06Z", "asn": "-1"), have strings. No playbook reads them.
MISTYPED = {
    "canary-ec2-stateless.integtest.mit0.bare.json": (
        "detail.resource.instanceDetails.launchTime=<int>",
        "detail.service.action.networkConnectionAction.remoteIpDetails.organization.asn=<int>",
    ),
    "unauthorizedaccess-iamuser-toripcaller.eventbridge.json": (
        "detail.service.action.awsApiCallAction.remoteIpDetails.organization.asn=<int>",
    ),
}


def fixture_detail(name: str) -> dict:
    """The finding of a GuardDuty fixture: the envelope's detail, or the bare finding."""
    payload = json.loads((EVENTS / "guardduty" / name).read_text())
    detail = payload["detail"] if "detail-type" in payload else payload
    # the publisher (panther-analysis) cut this record's resource block; GetFindings always returns
    # one (required in the model), so an empty one stands in for it
    detail.setdefault("resource", {})
    return detail


def without(detail: dict, lost: list[str]) -> dict:
    """`detail` less the paths `guardduty_api_form` could not carry (no lists on those paths)."""
    out = copy.deepcopy(detail)
    for path in lost:
        *parents, leaf = path.split("=")[0].split(".")[1:]
        node = out
        for key in parents:
            node = node[key]
        del node[leaf]
    return out


def stub_guardduty(aws: ClientFactory, region: str) -> Stubber:
    stubber = Stubber(aws.client("guardduty", region))
    stubber.activate()
    return stubber


def finding_arn(detail: dict) -> str:
    """The fixture's finding ARN, made well-formed where the publisher shortened the account id."""
    parts = detail["arn"].split(":")
    parts[4] = parts[4] if len(parts[4]) == 12 and parts[4].isdigit() else "123456789012"
    return ":".join(parts)


# ---- the wire format ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", GUARDDUTY_FIXTURES)
def test_a_guardduty_finding_read_from_the_api_is_the_fixture_events_detail(name, api_form):
    detail = fixture_detail(name)
    api, lost = api_form(detail)
    # the only keys the API cannot return: nulls (boto3 drops them), the open additionalInfo
    # object of older events (the API models additionalInfo as {value: JSON string, type}), and
    # the numbers GuardDuty's integration-test canary carries where real findings have strings
    assert all(
        p.endswith("=null") or p.startswith("detail.service.additionalInfo.") or p in MISTYPED.get(name, ())
        for p in lost
    ), lost
    arn = finding_arn(detail)
    region, finding_id = arn.split(":")[3], arn.rsplit("/", 1)[1]
    aws = ClientFactory(region="us-east-1")
    stubber = stub_guardduty(aws, region)
    stubber.add_response("list_detectors", {"DetectorIds": [DETECTOR]}, {})
    stubber.add_response("get_findings", {"Findings": [api]}, {"DetectorId": DETECTOR, "FindingIds": [finding_id]})

    event = guardduty_finding_event(aws, arn, bus_account=SECURITY_ACCOUNT)

    stubber.assert_no_pending_responses()
    assert event["detail"] == without(detail, lost)
    assert json.loads(json.dumps(event)) == event  # plain JSON: no datetime left behind
    assert event["source"] == "aws.guardduty" and event["detail-type"] == "GuardDuty Finding"
    assert event["account"] == SECURITY_ACCOUNT and event["region"] == detail["region"]
    assert event["time"] == detail["updatedAt"] and event["version"] == "0" and event["resources"] == []


def test_member_wire_names_come_from_the_model_not_from_lowercasing():
    """ProductCode's Code is `productCodeId` on the wire, NetworkGeoLocation's Latitude `lat`."""
    import botocore.session

    shape = botocore.session.get_session().get_service_model("guardduty").shape_for("Finding")
    location = {"City": "Paris", "Country": "France", "Latitude": 48.85, "Longitude": 2.35}
    finding = {
        "Resource": {"InstanceDetails": {"ProductCodes": [{"Code": "abc", "ProductType": "marketplace"}]}},
        "Service": {"Detection": {"Sequence": {"Endpoints": [{"Id": "e1", "Location": location}]}}},
    }

    wire = wire_format(shape, finding)

    assert wire["resource"]["instanceDetails"]["productCodes"] == [
        {"productCodeId": "abc", "productCodeType": "marketplace"}
    ]
    assert wire["service"]["detection"]["sequence"]["endpoints"] == [
        {"id": "e1", "location": {"city": "Paris", "country": "France", "lat": 48.85, "lon": 2.35}}
    ]


def test_timestamps_go_back_to_epoch_seconds_as_guardduty_events_carry_them():
    """e.g. an S3 bucket's createdAt: 1513612691.551 in GuardDuty's published S3 findings."""
    import botocore.session

    shape = botocore.session.get_session().get_service_model("guardduty").shape_for("Finding")
    created = datetime.fromtimestamp(1513612691.551, UTC)

    wire = wire_format(
        shape,
        {
            "Resource": {
                "S3BucketDetails": [{"Name": "b", "CreatedAt": created}],
                "LambdaDetails": {"LastModifiedAt": datetime(2024, 1, 2, tzinfo=UTC)},
            }
        },
    )

    assert wire["resource"]["s3BucketDetails"] == [{"name": "b", "createdAt": 1513612691.551}]
    assert wire["resource"]["lambdaDetails"] == {"lastModifiedAt": 1704153600}


@pytest.mark.parametrize("name", GUARDDUTY_FIXTURES)
def test_every_playbook_routes_and_resolves_the_read_back_finding_as_the_original(name, api_form):
    """What a playbook relies on (trigger, target, dedup) survives the trip through the API, for the
    detection each published sample stands for (the API's model has no field for the sample mark of
    these events' open `additionalInfo`: the shipped triggers keep samples out at the rule)."""
    detail = as_detection(fixture_detail(name))
    api, _ = api_form(detail)
    arn = finding_arn(detail)
    aws = ClientFactory(region="us-east-1")
    stubber = stub_guardduty(aws, arn.split(":")[3])
    stubber.add_response("list_detectors", {"DetectorIds": [DETECTOR]}, {})
    stubber.add_response("get_findings", {"Findings": [api]})
    from parry.routing.events import guardduty_event

    original = guardduty_event(detail, account=SECURITY_ACCOUNT)
    read_back = guardduty_finding_event(aws, arn, bus_account=SECURITY_ACCOUNT)

    for book in BOOKS:
        pattern = compile_pattern(book.trigger)
        assert pattern.matches(read_back) == pattern.matches(original), book.name
        assert resolved(book, read_back) == resolved(book, original), book.name


def resolved(book, event) -> tuple:
    """(target, dedup) or the error, with the event id standing for itself (ids differ by design)."""
    try:
        target, dedup = intake.resolve(book, event)
    except ExpressionError as exc:
        return ("error", str(exc))
    return target, "<event id>" if dedup == event["id"] else dedup


# ---- a custom action's findings --------------------------------------------------------------------


def custom_action(*findings: dict, account: str = SECURITY_ACCOUNT) -> dict:
    return {
        "version": "0",
        "id": "25a1be76-1141-cb5d-be5c-bbaa5461e626",
        "detail-type": "Security Hub Findings - Custom Action",
        "source": "aws.securityhub",
        "account": account,
        "time": "2024-05-01T10:00:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:securityhub:us-east-1:{account}:action/custom/IamCredential"],
        "detail": {
            "actionName": "IamCredential",
            "actionDescription": "Run iam-credential-compromise",
            "findings": list(findings),
        },
    }


def asff(name: str) -> dict:
    return json.loads((EVENTS / "securityhub" / name).read_text())["detail"]["findings"][0]


def test_fixtures_are_custom_actions():
    event = json.loads((EVENTS / "securityhub" / "custom-action-guardduty-iam-console-login.json").read_text())
    assert is_custom_action(event)
    assert not is_custom_action({**event, "detail-type": "Security Hub Findings - Imported"})


def test_any_other_finding_becomes_the_findings_imported_event_without_asking_guardduty():
    finding = asff("custom-action-afsbp-ec2.2-security-group.json")
    aws = ClientFactory(region="us-east-1")
    stubber = stub_guardduty(aws, "us-east-1")  # no responses: any GuardDuty call fails the test

    (selected,) = selected_events(custom_action(finding), aws)

    stubber.assert_no_pending_responses()
    assert selected.error is None and selected.finding_id == finding["Id"]
    event = selected.event
    assert event["source"] == "aws.securityhub" and event["detail-type"] == "Security Hub Findings - Imported"
    assert event["detail"] == {"findings": [finding]}
    assert event["account"] == finding["AwsAccountId"] and event["region"] == "us-east-1"
    assert event["time"] == finding["UpdatedAt"]


def test_selecting_the_same_finding_again_gives_the_same_event_id_and_another_finding_another():
    """A playbook without a dedup expression deduplicates on the event id: one case per finding."""
    finding = asff("custom-action-afsbp-ec2.2-security-group.json")
    updated = {**finding, "UpdatedAt": "2030-01-01T00:00:00Z", "Workflow": {"Status": "NOTIFIED"}}
    other = asff("custom-action-afsbp-rds.6-db-instance.json")
    aws = ClientFactory(region="us-east-1")

    first, again, different = selected_events(custom_action(finding, updated, other), aws)

    assert first.event["id"] == again.event["id"] != different.event["id"]


def test_each_unreadable_guardduty_finding_is_named_and_the_others_still_resolve(api_form):
    base = "arn:aws:guardduty:us-east-1:123456789012:detector/0123456789abcdef0123456789abcdef/finding/"
    gone = {
        **asff("custom-action-guardduty-iam-console-login.json"),
        "Id": base + "aaaa1111",
        "AwsAccountId": "123456789012",
    }
    denied = {**gone, "Id": base + "bbbb2222"}
    wrong = {**gone, "Id": "arn:aws:guardduty:us-east-1:123456789012:detector/x"}
    present = {**gone, "Id": base + "cccc3333"}
    control = asff("custom-action-afsbp-iam.6-root-hardware-mfa.json")
    detail = fixture_detail("unauthorizedaccess-iamuser-toripcaller.eventbridge.json")
    api, _ = api_form({**detail, "id": "cccc3333", "arn": present["Id"], "region": "us-east-1"})
    aws = ClientFactory(region="us-east-1")
    stubber = stub_guardduty(aws, "us-east-1")
    stubber.add_response("list_detectors", {"DetectorIds": [DETECTOR]}, {})  # once per region
    stubber.add_response("get_findings", {"Findings": []}, {"DetectorId": DETECTOR, "FindingIds": ["aaaa1111"]})
    stubber.add_client_error(
        "get_findings",
        "AccessDeniedException",
        "User is not authorized to perform: guardduty:GetFindings",
        403,
        expected_params={"DetectorId": DETECTOR, "FindingIds": ["bbbb2222"]},
    )
    stubber.add_response("get_findings", {"Findings": [api]}, {"DetectorId": DETECTOR, "FindingIds": ["cccc3333"]})

    result = selected_events(custom_action(gone, denied, wrong, present, control, "not a finding"), aws)

    stubber.assert_no_pending_responses()
    assert [s.finding_id for s in result] == [
        gone["Id"],
        denied["Id"],
        wrong["Id"],
        present["Id"],
        control["Id"],
        "detail.findings[5]",
    ]
    errors = [s.error for s in result]
    assert f"GuardDuty finding {gone['Id']} does not exist" in errors[0] and "90 days" in errors[0]
    assert (
        denied["Id"] in errors[1] and "AccessDeniedException" in errors[1] and "FINDING_READ_PERMISSIONS" in errors[1]
    )
    assert wrong["Id"] in errors[2] and "not a GuardDuty finding ARN" in errors[2]
    assert (
        errors[3] is None
        and result[3].event["detail"]["resource"]["accessKeyDetails"]["userName"] == "GeneratedFindingUserName"
    )
    assert errors[4] is None and result[4].event["source"] == "aws.securityhub"
    assert "detail.findings[5] is not an ASFF finding" in errors[5]


def test_guardduty_not_enabled_in_the_findings_region_is_named():
    finding = {**asff("custom-action-guardduty-iam-console-login.json")}
    finding["Id"] = finding["Id"].replace("us-east-1", "eu-west-3")
    aws = ClientFactory(region="us-east-1")
    stubber = stub_guardduty(aws, "eu-west-3")  # asked in the finding's region, not the function's
    stubber.add_response("list_detectors", {"DetectorIds": []}, {})

    (selected,) = selected_events(custom_action(finding), aws)

    assert selected.event is None
    assert (
        selected.error
        == f"GuardDuty finding {finding['Id']}: GuardDuty is not enabled in eu-west-3 for Parry's account (no detector there)"
    )


def test_a_throttled_guardduty_raises_for_the_whole_event_to_be_retried():
    aws = ClientFactory(region="us-east-1")
    stubber = stub_guardduty(aws, "us-east-1")
    stubber.add_client_error("list_detectors", "ThrottlingException", "Rate exceeded", 400)

    with pytest.raises(ClientError, match="ThrottlingException"):
        selected_events(custom_action(asff("custom-action-guardduty-iam-console-login.json")), aws)


@pytest.mark.parametrize("detail", [{}, {"findings": []}, {"findings": "all"}])
def test_a_custom_action_without_findings_is_refused(detail):
    event = {**custom_action(), "detail": detail}
    with pytest.raises(EventError, match="detail.findings"):
        selected_events(event, ClientFactory(region="us-east-1"))


def test_the_calls_made_are_exactly_those_finding_read_permissions_grant(api_form):
    from parry.engine.permissions import FINDING_READ_PERMISSIONS, render

    detail = fixture_detail("unauthorizedaccess-iamuser-toripcaller.eventbridge.json")
    arn = finding_arn(detail)
    aws = ClientFactory(region="us-east-1")
    client = aws.client("guardduty", arn.split(":")[3])
    called: list[str] = []
    client.meta.events.register(
        "before-parameter-build.guardduty.*", lambda model, **_: called.append(f"guardduty:{model.name}")
    )
    stubber = stub_guardduty(aws, arn.split(":")[3])
    stubber.add_response("list_detectors", {"DetectorIds": [DETECTOR]}, {})
    stubber.add_response("get_findings", {"Findings": [api_form(detail)[0]]})

    guardduty_finding_event(aws, arn)

    granted = {
        a: render(p, {"partition": "aws", "region": "us-west-2", "account": SECURITY_ACCOUNT})
        for p in FINDING_READ_PERMISSIONS
        for a in p.actions
        if a.startswith("guardduty:")
    }
    assert sorted(called) == sorted(granted) == ["guardduty:GetFindings", "guardduty:ListDetectors"]
    assert granted["guardduty:ListDetectors"] == ["*"]  # no resource-level permissions for ListDetectors
    # the finding's region, whichever it is: GuardDuty runs in each, and only this account's detectors
    assert granted["guardduty:GetFindings"] == [f"arn:aws:guardduty:*:{SECURITY_ACCOUNT}:detector/*"]
    assert not any(p.member for p in FINDING_READ_PERMISSIONS)  # the runner's own role, never a member role


def test_a_warm_runner_lists_the_detector_once_and_again_only_when_guardduty_replaced_it(api_form):
    from parry.routing.custom_actions import guardduty_finding

    detail = fixture_detail("unauthorizedaccess-iamuser-toripcaller.eventbridge.json")
    api, _ = api_form({**detail, "id": "cccc3333", "region": "us-east-1"})
    aws = ClientFactory(region="us-east-1")
    stubber = stub_guardduty(aws, "us-east-1")
    replaced = "b2b4c6d8e0f2a4b6c8d0e2f4a6b8c0d2"
    stubber.add_response("list_detectors", {"DetectorIds": [DETECTOR]}, {})
    stubber.add_response("get_findings", {"Findings": [api]}, {"DetectorId": DETECTOR, "FindingIds": ["cccc3333"]})
    stubber.add_response("get_findings", {"Findings": [api]}, {"DetectorId": DETECTOR, "FindingIds": ["cccc3333"]})
    stubber.add_client_error(
        "get_findings",
        "BadRequestException",
        "The request is rejected because the input detectorId is not owned by the current account.",
        400,
        expected_params={"DetectorId": DETECTOR, "FindingIds": ["cccc3333"]},
    )
    stubber.add_response("list_detectors", {"DetectorIds": [replaced]}, {})
    stubber.add_response("get_findings", {"Findings": [api]}, {"DetectorId": replaced, "FindingIds": ["cccc3333"]})
    detectors: dict[str, str] = {}

    for _ in range(3):  # the third after GuardDuty was disabled and enabled again: a new detector
        assert guardduty_finding(aws, "us-east-1", "cccc3333", detectors=detectors)["id"] == "cccc3333"

    stubber.assert_no_pending_responses()
    assert detectors == {"us-east-1": replaced}
