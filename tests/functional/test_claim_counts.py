"""The claim counts its case in the same transaction: a counter at its limit is told apart from a claim
another case holds (each by its own cancellation reason), so a storm still stops before any change and a
redelivery is still a redelivery."""

from __future__ import annotations

import pytest

from parry.store.hourly import HourlyLimits
from parry.store.model import Case
from parry.store.store import CaseStore

INFLIGHT = {"step": "deactivate-key", "before": {"status": "Active"}, "undo": {"action": "activate-access-key"}}


@pytest.fixture
def store(aws, parry_env):
    return CaseStore(aws.client("dynamodb"), parry_env["PARRY_CASES_TABLE"], clock=lambda: 1_764_597_600.0)


def _case(n: int, dedup: str | None = None) -> Case:
    return Case(
        case_id=f"case-20261201-cccc00000{n}",
        playbook="iam-credential-compromise",
        playbook_sha256="ab" * 32,
        status="RUNNING",
        opened_at=f"2026-12-01T14:00:0{n}+00:00",
        account="123456789012",
        region="us-east-1",
        dedup=dedup or f"finding-{n}",
        event={"id": f"evt-{n}"},
        inflight=dict(INFLIGHT),
    )


def test_a_case_within_the_limit_is_claimed_with_its_first_change_in_flight(store):
    claimed = store.claim(_case(1), lease_seconds=60, owner="run-1", hourly=HourlyLimits(2, 100))

    assert claimed.fresh and claimed.over == ()
    assert store.get(claimed.case.case_id).inflight == INFLIGHT


def test_a_case_past_the_playbooks_limit_is_claimed_without_its_change_and_says_so(store):
    store.claim(_case(1), lease_seconds=60, owner="run-1", hourly=HourlyLimits(1, 100))

    claimed = store.claim(_case(2), lease_seconds=60, owner="run-2", hourly=HourlyLimits(1, 100))

    assert claimed.fresh and claimed.over == ("playbook",)
    assert store.get(claimed.case.case_id).inflight is None  # nothing runs before an approval
    assert store.count_case("iam-credential-compromise", "123456789012", manual=False) == (3, 3)  # both counted


def test_the_cap_across_playbooks_is_named_apart_from_the_playbooks_limit(store):
    store.claim(_case(1), lease_seconds=60, owner="run-1", hourly=HourlyLimits(None, 1))

    claimed = store.claim(_case(2), lease_seconds=60, owner="run-2", hourly=HourlyLimits(None, 1))

    assert claimed.over == ("all",)


def test_a_redelivery_at_the_limit_finds_its_case_and_counts_nothing(store):
    first = store.claim(_case(1, "same"), lease_seconds=60, owner="run-1", hourly=HourlyLimits(1, 100))

    again = store.claim(_case(2, "same"), lease_seconds=60, owner="run-2", hourly=HourlyLimits(1, 100))

    assert not again.fresh and again.case.case_id == first.case.case_id
    assert store.count_case("iam-credential-compromise", "123456789012", manual=False) == (2, 2)


def _conflicting(store, monkeypatch, times: int) -> list[dict]:
    """DynamoDB cancels the first `times` claims as it does two transactions on one counter at once: the
    counter's reason is TransactionConflict (moto never cancels concurrent transactions, so it is injected)."""
    real, calls = store.ddb.transact_write_items, []

    def transact(**request):
        calls.append(request)
        if len(calls) <= times:
            reasons = [{"Code": "None"}, {"Code": "None"}, {"Code": "TransactionConflict"}, {"Code": "None"}]
            raise store.ddb.exceptions.TransactionCanceledException(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
                    "CancellationReasons": reasons,
                },
                "TransactWriteItems",
            )
        return real(**request)

    monkeypatch.setattr(store.ddb, "transact_write_items", transact)
    monkeypatch.setattr("parry.store.store.time.sleep", lambda seconds: None)
    return calls


def test_a_claim_cancelled_by_a_concurrent_case_on_its_counter_is_tried_again(store, monkeypatch):
    calls = _conflicting(store, monkeypatch, times=1)

    claimed = store.claim(_case(1), lease_seconds=60, owner="run-1", hourly=HourlyLimits(2, 100))

    assert claimed.fresh and claimed.over == () and len(calls) == 2
    assert store.get(claimed.case.case_id).inflight == INFLIGHT  # not taken for a counter at its limit
    assert store.count_case("iam-credential-compromise", "123456789012", manual=False) == (2, 2)  # counted once


def test_a_claim_that_keeps_conflicting_leaves_nothing_and_the_delivery_is_retried(store, monkeypatch):
    _conflicting(store, monkeypatch, times=99)

    with pytest.raises(store.ddb.exceptions.TransactionCanceledException):
        store.claim(_case(1), lease_seconds=60, owner="run-1", hourly=HourlyLimits(2, 100))

    assert store.claimed_case("iam-credential-compromise", "finding-1") is None
    assert store.count_case("iam-credential-compromise", "123456789012", manual=False) == (1, 1)
