"""The `Parry Run Request`: what the CLI and a runner send is what a runner reads back, and a case id
that is not one is refused by name, so a hand-made or forged request cannot point the runner anywhere."""

from __future__ import annotations

import json

import pytest

from parry.errors import EventError
from parry.runtime.requests import RunRequest

FINDING = {"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": {"id": "f-1"}}


def request_event(detail: dict) -> dict:
    return {"version": "0", "id": "r-1", "source": "parry", "detail-type": "Parry Run Request", "detail": detail}


@pytest.mark.parametrize(
    "request_",
    [
        RunRequest("iam-credential-compromise", continue_case="case-20240501-abc123"),
        RunRequest("iam-credential-compromise", undo_case="case-20240501-abc123"),
        RunRequest("manual-quarantine", event=FINDING),
    ],
)
def test_a_request_sent_is_the_request_read(request_: RunRequest):
    as_event = request_.as_event()
    entry = request_.as_entry()

    assert (
        (as_event["source"], as_event["detail-type"])
        == (entry["Source"], entry["DetailType"])
        == ("parry", "Parry Run Request")
    )
    assert json.loads(entry["Detail"]) == as_event["detail"]
    assert RunRequest.parse(as_event) == request_
    assert RunRequest.parse(request_event(json.loads(entry["Detail"]))) == request_  # as EventBridge delivers it


def test_the_wire_format_is_the_documented_one():
    assert RunRequest("p", undo_case="case-1").as_entry() == {
        "Source": "parry",
        "DetailType": "Parry Run Request",
        "Detail": '{"playbook": "p", "undo_case": "case-1"}',
    }
    assert RunRequest("p", continue_case="case-1").as_event() == {
        "source": "parry",
        "detail-type": "Parry Run Request",
        "detail": {"playbook": "p", "continue_case": "case-1"},
    }


def test_an_event_from_aws_is_no_request():
    assert RunRequest.parse(FINDING) is None
    assert RunRequest.parse({**FINDING, "source": "parry"}) is None  # the detail-type says what it is


def test_a_request_without_an_event_runs_on_itself():
    """A playbook triggered by run requests (manual-quarantine) reads its target from their detail."""
    parsed = RunRequest.parse(
        request_event({"playbook": "manual-quarantine", "user": "mallory", "event": "not an object"})
    )

    assert parsed == RunRequest("manual-quarantine")


@pytest.mark.parametrize("key", ["continue_case", "undo_case"])
@pytest.mark.parametrize("value", [{"a": 1}, "../../other-table", "case id with spaces", "x" * 101, 7])
def test_a_case_id_that_is_not_one_is_refused_read_or_built(key: str, value: object):
    with pytest.raises(EventError, match=f"{key} must be a case id"):
        RunRequest.parse(request_event({"playbook": "p", key: value}))
    with pytest.raises(EventError, match=f"{key} must be a case id"):
        RunRequest("p", **{key: value})


def test_continuing_wins_over_undoing_and_an_empty_case_is_none():
    both = request_event({"playbook": "p", "continue_case": "case-1", "undo_case": "case-2"})
    assert RunRequest.parse(both) == RunRequest("p", continue_case="case-1")
    assert RunRequest.parse(request_event({"playbook": "p", "undo_case": ""})) == RunRequest("p")
