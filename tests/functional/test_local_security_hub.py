"""Local mode's Security Hub: moto plus the finding calls it lacks (parry.local.corrections), answered as AWS does.

The demo's mark-finding step is only as honest as these answers: each one below is what Security
Hub's API reference documents (InvalidAccessException when not subscribed, FindingNotFound for an
unknown identifier) or what an analyst sees on the finding afterwards.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from parry.local.sandbox import guardduty_finding_in_security_hub


def by_id(finding_id: str) -> dict:
    return {"Id": [{"Value": finding_id, "Comparison": "EQUALS"}]}


def test_an_account_without_security_hub_is_refused(aws):
    with pytest.raises(ClientError) as refused:
        aws.client("securityhub").get_findings(Filters=by_id("x"))
    assert refused.value.response["Error"]["Code"] == "InvalidAccessException"
    assert "not subscribed to AWS Security Hub" in str(refused.value)


def test_guardduty_findings_are_found_by_id_and_updated_with_workflow_and_note(aws, load_event):
    tor = load_event("guardduty/unauthorizedaccess-iamuser-toripcaller.eventbridge.json")
    ec2 = load_event("guardduty/backdoor-ec2-cc-activity-b-dns.eventbridge.json")
    imported = guardduty_finding_in_security_hub(aws, tor)
    guardduty_finding_in_security_hub(aws, ec2)
    hub = aws.client("securityhub")

    # shaped like GuardDuty's findings in Security Hub: Id is the finding ARN, GuardDuty's product
    assert imported["Id"] == tor["detail"]["arn"]
    assert imported["ProductArn"] == "arn:aws:securityhub:us-east-1::product/aws/guardduty"
    (found,) = hub.get_findings(Filters=by_id(tor["detail"]["arn"]))["Findings"]  # moto alone returns both
    assert found["Workflow"]["Status"] == "NEW"

    ident = {"Id": imported["Id"], "ProductArn": imported["ProductArn"]}
    unknown = {"Id": "arn:aws:guardduty:us-east-1:1:detector/d/finding/none", "ProductArn": imported["ProductArn"]}
    answer = hub.batch_update_findings(
        FindingIdentifiers=[ident, unknown],
        Workflow={"Status": "NOTIFIED"},
        Note={"Text": "Parry playbook p, case c", "UpdatedBy": "parry"},
    )
    assert answer["ProcessedFindings"] == [ident]
    assert answer["UnprocessedFindings"] == [
        {"FindingIdentifier": unknown, "ErrorCode": "FindingNotFound", "ErrorMessage": "Finding Not Found"}
    ]
    (found,) = hub.get_findings(Filters=by_id(tor["detail"]["arn"]))["Findings"]
    assert found["Workflow"]["Status"] == "NOTIFIED" and found["Note"]["Text"] == "Parry playbook p, case c"
    (other,) = hub.get_findings(Filters=by_id(ec2["detail"]["arn"]))["Findings"]
    assert other["Workflow"]["Status"] == "NEW" and "Note" not in other
