"""Security Hub and GuardDuty finding actions: moto lacks these APIs, so botocore's Stubber answers.

Each test queues exactly the calls the engine must make, in order; `assert_no_pending_responses`
proves no call was skipped, and the Stubber fails any call that was not expected (e.g. a second write).
"""

from __future__ import annotations

import pytest
from botocore.stub import ANY, Stubber

from tests.support.actions import run, run_undo

ACCOUNT = "123456789012"
GD_ARN = f"arn:aws:guardduty:us-east-1:{ACCOUNT}:detector/det1/finding/f1"
GD_PRODUCT = "arn:aws:securityhub:us-east-1::product/aws/guardduty"


def _finding(status: str, note: str | None = None) -> dict:
    finding = {
        "SchemaVersion": "2018-10-08",
        "Id": GD_ARN,
        "ProductArn": GD_PRODUCT,
        "GeneratorId": "g",
        "AwsAccountId": ACCOUNT,
        "CreatedAt": "2024-05-01T10:00:00Z",
        "UpdatedAt": "2024-05-01T10:00:00Z",
        "Title": "t",
        "Description": "d",
        "Resources": [{"Type": "AwsIamAccessKey", "Id": "AKIA"}],
        "Workflow": {"Status": status},
    }
    if note:
        finding["Note"] = {"Text": note, "UpdatedBy": "parry", "UpdatedAt": "2024-05-01T10:00:00Z"}
    return finding


@pytest.fixture
def hub(aws):
    client = aws.client("securityhub")
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def gd(aws):
    client = aws.client("guardduty")
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def test_update_finding_then_noop_then_undo(ctx, hub):
    note = "Parry playbook test, case case-1"
    hub.add_response("get_findings", {"Findings": [_finding("NEW")]})
    hub.add_response(
        "batch_update_findings",
        {"ProcessedFindings": [{"Id": GD_ARN, "ProductArn": GD_PRODUCT}], "UnprocessedFindings": []},
        {
            "FindingIdentifiers": [{"Id": GD_ARN, "ProductArn": GD_PRODUCT}],
            "Workflow": {"Status": "NOTIFIED"},
            "Note": {"Text": note, "UpdatedBy": "parry"},
        },
    )
    hub.add_response("get_findings", {"Findings": [_finding("NOTIFIED", note)]})
    hub.add_response("get_findings", {"Findings": [_finding("NOTIFIED", note)]})  # the second run

    first = run(ctx, "securityhub.update_finding", finding_id=GD_ARN)
    assert first.status == "succeeded", first.error
    assert first.before == {"finding_id": GD_ARN, "workflow_status": "NEW", "note": None}
    assert first.after == {"finding_id": GD_ARN, "workflow_status": "NOTIFIED", "note": note}
    assert run(ctx, "securityhub.update_finding", finding_id=GD_ARN).status == "noop"

    undo_note = "Parry undo: workflow status set back to NEW"
    hub.add_response("get_findings", {"Findings": [_finding("NOTIFIED", note)]})
    hub.add_response(
        "batch_update_findings",
        {"ProcessedFindings": [], "UnprocessedFindings": []},
        {"FindingIdentifiers": ANY, "Workflow": {"Status": "NEW"}, "Note": {"Text": undo_note, "UpdatedBy": "parry"}},
    )
    hub.add_response("get_findings", {"Findings": [_finding("NEW", undo_note)]})
    undone = run_undo(ctx, first)
    assert undone.status == "succeeded", undone.error
    assert undone.after["workflow_status"] == first.before["workflow_status"]


def test_update_finding_missing_and_unprocessed(ctx, hub):
    hub.add_response("get_findings", {"Findings": []})
    missing = run(ctx, "securityhub.update_finding", finding_id=GD_ARN)
    assert missing.status == "failed" and f"Security Hub finding {GD_ARN} does not exist" in missing.error

    hub.add_response("get_findings", {"Findings": [_finding("NEW")]})
    hub.add_response(
        "batch_update_findings",
        {
            "ProcessedFindings": [],
            "UnprocessedFindings": [
                {
                    "FindingIdentifier": {"Id": GD_ARN, "ProductArn": GD_PRODUCT},
                    "ErrorCode": "x",
                    "ErrorMessage": "finding is archived",
                }
            ],
        },
    )
    failed = run(ctx, "securityhub.update_finding", finding_id=GD_ARN)
    assert failed.status == "failed" and "finding is archived" in failed.error


def test_update_finding_needs_product_arn_for_other_findings(ctx, hub):
    result = run(ctx, "securityhub.update_finding", finding_id="arn:aws:securityhub:us-east-1:1:subscription/x")
    assert result.status == "failed" and "product_arn is required" in result.error


def _gd_finding(archived: bool) -> dict:
    return {
        "AccountId": ACCOUNT,
        "Arn": GD_ARN,
        "CreatedAt": "2024-05-01T10:00:00Z",
        "Id": "f1",
        "Partition": "aws",
        "Region": "us-east-1",
        "Resource": {"ResourceType": "AccessKey"},
        "SchemaVersion": "2.0",
        "Severity": 5.0,
        "Type": "UnauthorizedAccess:IAMUser/TorIPCaller",
        "UpdatedAt": "2024-05-01T10:00:00Z",
        "Service": {"Archived": archived, "DetectorId": "det1", "ServiceName": "guardduty"},
    }


def test_archive_finding_then_noop_then_undo(ctx, gd):
    ids = {"DetectorId": "det1", "FindingIds": ["f1"]}
    gd.add_response("get_findings", {"Findings": [_gd_finding(False)]}, ids)
    gd.add_response("archive_findings", {}, ids)
    gd.add_response("get_findings", {"Findings": [_gd_finding(True)]}, ids)
    gd.add_response("get_findings", {"Findings": [_gd_finding(True)]}, ids)
    first = run(ctx, "guardduty.archive_finding", detector_id="det1", finding_id="f1")
    assert first.status == "succeeded", first.error
    assert (first.before["archived"], first.after["archived"]) == (False, True)
    assert run(ctx, "guardduty.archive_finding", detector_id="det1", finding_id="f1").status == "noop"

    gd.add_response("get_findings", {"Findings": [_gd_finding(True)]}, ids)
    gd.add_response("unarchive_findings", {}, ids)
    gd.add_response("get_findings", {"Findings": [_gd_finding(False)]}, ids)
    undone = run_undo(ctx, first)
    assert undone.status == "succeeded" and undone.after == first.before


def test_archive_finding_missing(ctx, gd):
    gd.add_response("get_findings", {"Findings": []})
    result = run(ctx, "guardduty.archive_finding", detector_id="det1", finding_id="nope")
    assert result.status == "failed" and "GuardDuty finding nope does not exist" in result.error
    gd.add_client_error(
        "get_findings",
        "BadRequestException",
        "The request is rejected because the input detectorId is not owned by the current account.",
    )
    result = run(ctx, "guardduty.archive_finding", detector_id="bad", finding_id="f1")
    assert result.status == "failed" and "does not exist" in result.error
