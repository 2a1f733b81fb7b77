"""The runner Lambda (parry.runtime.runner): powertools metrics (EMF on stdout) and structured logs for a run, a
failure and a malformed event, which is rejected by name and raised (Lambda retries it, then the
DLQ: never an infinite loop)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parry.errors import EventError
from parry.playbooks.validate import load_file
from tests.support.control import Context, emf, fresh_runner, lines
from tests.support.findings import registered

ROOT = Path(__file__).resolve().parents[2]
BOOK = "iam-credential-compromise"


@pytest.fixture
def handler(monkeypatch, tmp_path):
    """A fresh runner, as in a new container (its powertools objects are made on first use, with this env)."""
    runner = fresh_runner(monkeypatch, tmp_path, BOOK)
    continued = []
    monkeypatch.setattr(runner, "_continue_later", lambda *a: continued.append(a))
    runner.continued = continued
    return runner


def test_a_run_emits_runs_step_durations_and_containment_latency(handler, engine, compromised_user, capsys):
    result = handler.handler(compromised_user["event"], Context())

    assert result["status"] == "SUCCEEDED" and result["duplicate"] is False
    records = lines(capsys)
    metrics = emf(records)
    assert metrics["Runs"] == [1.0]
    assert "Failures" not in metrics
    assert len(metrics["StepDuration"]) == len(load_file(ROOT / "playbooks" / f"{BOOK}.yaml").steps)
    assert all(v >= 0 for v in metrics["StepDuration"])
    assert len(metrics["ContainmentLatency"]) == 1 and metrics["ContainmentLatency"][0] > 0
    doc = next(d for d in records if "_aws" in d)
    assert doc["playbook"] == BOOK and ["playbook", "service"] in doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    log = next(d for d in records if d.get("message") == "case")
    assert log["level"] == "INFO" and log["case_id"] == result["case_id"] and log["status"] == "SUCCEEDED"
    assert handler.continued == []


def test_a_redelivery_counts_a_run_but_no_second_containment(handler, engine, compromised_user, capsys):
    handler.handler(compromised_user["event"], Context())
    capsys.readouterr()

    again = handler.handler(compromised_user["event"], Context())

    metrics = emf(lines(capsys))
    assert again["duplicate"] is True
    assert metrics["Runs"] == [1.0] and "ContainmentLatency" not in metrics


def test_a_failed_case_counts_a_failure(handler, engine, aws, compromised_user, capsys):
    event = json.loads(json.dumps(compromised_user["event"]))
    event["detail"]["resource"]["accessKeyDetails"]["userName"] = "nobody-here"
    event = registered(aws, event)

    result = handler.handler(event, Context())

    assert result["status"] == "FAILED"
    metrics = emf(lines(capsys))
    assert metrics["Runs"] == [1.0] and metrics["Failures"] == [1.0]
    assert "ContainmentLatency" not in metrics


@pytest.mark.parametrize(
    "event, reason",
    [
        ({"source": "aws.guardduty", "detail-type": "GuardDuty Finding"}, "missing detail"),
        (["not", "an", "object"], "must be a JSON object"),
        ({"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": "text"}, "detail must be an object"),
    ],
)
def test_a_malformed_event_is_logged_counted_and_raised(handler, engine, event, reason, capsys):
    with pytest.raises(EventError, match=reason):
        handler.handler(event, Context())

    records = lines(capsys)
    log = next(d for d in records if d.get("message") == "event rejected")
    assert log["level"] == "ERROR" and reason in log["reason"] and log["playbook"] == BOOK
    assert emf(records) == {"RejectedEvents": [1.0]}
    (doc,) = [d for d in records if "_aws" in d]
    assert doc["playbook"] == BOOK, "rejections are graphed per playbook, like runs"
    assert handler.continued == []  # a rejection never re-invokes anything


def test_an_event_for_another_playbook_is_rejected_not_run(handler, engine, aws, load_event, capsys):
    event = registered(aws, load_event("cloudtrail/s3-putbucketpolicy-public.bare.json"))  # a real call
    with pytest.raises(EventError, match="does not match the trigger"):
        handler.handler(event, Context())
    assert emf(lines(capsys)) == {"RejectedEvents": [1.0]}


# ---- Security Hub custom action -------------------------------------------------------------------
# GuardDuty is moto's with local mode's GetFindings (parry.local.corrections): the compromised
# user's finding is registered in the account's detector, as the GuardDuty administrator holds it.


def custom_action(aws, *finding_arns: str) -> dict:
    """The event Security Hub sends when the analyst selects these findings and picks the action."""
    hub = aws.client("securityhub")
    findings = [
        hub.get_findings(Filters={"Id": [{"Value": arn, "Comparison": "EQUALS"}]})["Findings"][0]
        for arn in finding_arns
    ]
    return {
        "version": "0",
        "id": "6712ce97-6233-43ce-1fcb-79f10ed5724b",
        "detail-type": "Security Hub Findings - Custom Action",
        "source": "aws.securityhub",
        "account": "123456789012",
        "time": "2024-05-01T10:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:securityhub:us-east-1:123456789012:action/custom/IamCredential"],
        "detail": {
            "actionName": "IamCredential",
            "actionDescription": "Run iam-credential-compromise",
            "findings": findings,
        },
    }


def key_status(aws, user: str, key: str) -> str:
    keys = aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return next(k["Status"] for k in keys if k["AccessKeyId"] == key)


def test_a_custom_action_on_a_guardduty_finding_contains_the_key_as_the_automatic_run_would(
    handler, engine, aws, compromised_user, capsys
):
    from parry.engine import intake

    automatic = compromised_user["event"]
    arn = automatic["detail"]["arn"]
    event = custom_action(aws, arn)
    assert "accessKeyDetails" not in json.dumps(event)  # the ASFF copy alone could not say which key

    result = handler.run_selection(event, Context())

    assert result["errors"] == []
    (case,) = result["cases"]
    book = load_file(ROOT / "playbooks" / f"{BOOK}.yaml")
    target, dedup = intake.resolve(book, automatic)
    assert case["target"] == target and case["dedup"] == dedup == f"123456789012:{compromised_user['key']}"
    assert case["status"] == "SUCCEEDED" and case["manual"] is True and case["duplicate"] is False
    assert [s["step_id"] for s in case["steps"]] == [s.id for s in book.steps]
    assert all(s["status"] == "succeeded" for s in case["steps"]), case["steps"]
    assert key_status(aws, compromised_user["user"], compromised_user["key"]) == "Inactive"
    marked = aws.client("securityhub").get_findings(Filters={"Id": [{"Value": arn, "Comparison": "EQUALS"}]})[
        "Findings"
    ][0]
    assert marked["Workflow"]["Status"] == "NOTIFIED"  # the very finding the analyst selected
    assert emf(lines(capsys))["Runs"] == [1.0]

    again = handler.handler(event, Context())  # the analyst picks the action on it a second time

    assert again == {"cases": [{"case_id": case["case_id"], "status": "SUCCEEDED", "duplicate": True}], "errors": []}


def test_a_custom_action_on_a_finding_parry_already_handled_answers_with_its_case(
    handler, engine, aws, compromised_user
):
    first = handler.handler(compromised_user["event"], Context())  # GuardDuty's own event, routed automatically

    result = handler.handler(custom_action(aws, compromised_user["event"]["detail"]["arn"]), Context())

    assert result == {"cases": [{"case_id": first["case_id"], "status": "SUCCEEDED", "duplicate": True}], "errors": []}


def test_a_custom_action_reads_each_guardduty_finding_from_guardduty_once(handler, engine, aws, compromised_user):
    reads = []
    for region in (None, "us-east-1"):  # the client of the default region and the finding's region's
        engine.aws.client("guardduty", region).meta.events.register(
            "provide-client-params.guardduty.GetFindings", lambda params, **_: reads.append(params["FindingIds"])
        )
    result = handler.run_selection(
        custom_action(aws, compromised_user["event"]["detail"]["arn"]), Context(), engine=engine
    )

    assert result["errors"] == [] and result["cases"][0]["status"] == "SUCCEEDED"
    assert reads == [[compromised_user["event"]["detail"]["id"]]]


def test_a_selection_runs_the_readable_findings_and_names_the_one_that_is_gone(
    handler, engine, aws, compromised_user, capsys
):
    from parry.local.sandbox import guardduty_finding_in_security_hub

    present = compromised_user["event"]
    gone = json.loads(json.dumps(present))
    gone["detail"]["arn"] = present["detail"]["arn"].rsplit("/", 1)[0] + "/0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f"
    guardduty_finding_in_security_hub(aws, gone)  # in Security Hub, since deleted from GuardDuty

    result = handler.handler(custom_action(aws, gone["detail"]["arn"], present["detail"]["arn"]), Context())

    assert [c["status"] for c in result["cases"]] == ["SUCCEEDED"]
    (error,) = result["errors"]
    assert error["finding"] == gone["detail"]["arn"] and "does not exist" in error["error"]
    assert key_status(aws, compromised_user["user"], compromised_user["key"]) == "Inactive"
    records = lines(capsys)
    metrics = emf(records)
    assert metrics["Runs"] == [1.0] and metrics["RejectedFindings"] == [1.0] and "RejectedEvents" not in metrics
    log = next(d for d in records if d.get("message") == "finding rejected")
    assert log["level"] == "ERROR" and log["finding"] == gone["detail"]["arn"]


def test_a_selection_of_which_nothing_can_run_is_rejected_and_returns(handler, engine, aws, compromised_user, capsys):
    arn = compromised_user["event"]["detail"]["arn"]
    gd = aws.client("guardduty")
    for detector in gd.list_detectors()["DetectorIds"]:
        gd.delete_detector(DetectorId=detector)  # GuardDuty turned off since

    result = handler.handler(custom_action(aws, arn), Context())  # returns: no Lambda retry, no DLQ

    assert result["cases"] == [] and [e["finding"] for e in result["errors"]] == [arn]
    assert "GuardDuty is not enabled in us-east-1" in result["errors"][0]["error"]
    records = lines(capsys)
    log = next(d for d in records if d.get("message") == "event rejected")
    assert (
        log["level"] == "ERROR" and arn in log["reason"] and log["event_id"] == "6712ce97-6233-43ce-1fcb-79f10ed5724b"
    )
    assert emf(records) == {"RejectedFindings": [1.0], "RejectedEvents": [1.0]}
    assert key_status(aws, compromised_user["user"], compromised_user["key"]) == "Active"


def test_a_sealed_start_on_a_finding_runs_on_the_services_copy(handler, parry_env, aws, compromised_user, capsys):
    from tests.support.control import ONCALL, sealed

    automatic = compromised_user["event"]  # registered in the local GuardDuty by the fixture
    payload = sealed(parry_env, aws, "start", BOOK, finding_id=automatic["detail"]["arn"], reason="INC-9")

    answer = handler.handler(payload, Context())

    assert answer["status"] == "SUCCEEDED", answer
    case = handler.engine.store.get(answer["case_id"])
    assert case.manual is True and case.event["detail"]["id"] == automatic["detail"]["id"]
    assert key_status(aws, compromised_user["user"], compromised_user["key"]) == "Inactive"
    assert any(r.get("message") == "control request" and r.get("requested_by") == ONCALL for r in lines(capsys))
