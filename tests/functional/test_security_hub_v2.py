"""Security Hub v2 (OCSF) findings: re-read from Security Hub, and Parry's own write-back is no new finding."""

from __future__ import annotations

import copy

from parry.engine import dedup
from parry.routing.findings import authentic_event
from tests.support.findings import registered

V2 = "securityhub-v2/findings-imported-v2-guardduty-stealth-cloudtrailloggingdisabled.eventbridge.json"


def test_a_write_back_is_a_redelivery_and_a_new_detection_is_not(aws, load_event):
    event = load_event(V2)
    account = aws.client("sts").get_caller_identity()["Account"]
    finding = event["detail"]["findings"][0]
    finding["cloud"]["account"]["uid"] = finding["resources"][0]["owner"]["account"]["uid"] = account
    event = registered(aws, event)
    uid = event["detail"]["findings"][0]["metadata"]["uid"]
    hub = aws.client("securityhub", "us-east-1")

    hub.batch_update_findings_v2(MetadataUids=[uid], StatusId=2, Comment="Parry case case-1")
    written_back = authentic_event({**event, "id": "another-delivery"}, aws)

    assert written_back["detail"]["findings"][0]["comment"] == "Parry case case-1"
    assert dedup.finding_version(written_back) == dedup.finding_version(event)
    detected_again = copy.deepcopy(written_back)
    detected_again["detail"]["findings"][0]["count"] += 1
    assert dedup.finding_version(detected_again) != dedup.finding_version(event)


def test_the_engine_takes_its_own_write_back_for_a_duplicate_and_opens_no_second_case(aws, parry_env, load_event):
    """The loop a naive responder falls into: write back, get the finding again, handle it again."""
    from parry.config import Settings
    from parry.engine.run import Engine
    from parry.store.lifecycle import Outcome
    from tests.support.playbooks import playbook

    event = load_event(V2)
    account = aws.client("sts").get_caller_identity()["Account"]
    finding = event["detail"]["findings"][0]
    finding["cloud"]["account"]["uid"] = finding["resources"][0]["owner"]["account"]["uid"] = account
    event = registered(aws, event)
    book = playbook(
        trigger={"source": ["aws.securityhub"], "detail-type": ["Findings Imported V2"]},
        dedup="finding.finding_id",
        target={"key": "finding.resources[?type=='AwsIamAccessKey'].id | [0]"},
        steps=[{"id": "tell", "action": "notify.sns", "with": {"subject": "key ${target.key}"}}],
    )
    engine = Engine(aws, Settings.from_env())
    first = engine.run(book, event)
    uid = event["detail"]["findings"][0]["metadata"]["uid"]

    aws.client("securityhub").batch_update_findings_v2(MetadataUids=[uid], StatusId=3, Comment=f"Parry {first.case_id}")
    again = engine.run(book, {**event, "id": "the-write-back"})

    assert again.case_id == first.case_id and again.outcome == Outcome.DUPLICATE
    assert [c.case_id for c in engine.store.list()] == [first.case_id]
    assert engine.store.get(first.case_id).duplicates == 1
