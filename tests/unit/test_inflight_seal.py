"""An in-flight record holds only as a runner sealed it: for its case, step, before-state and undo."""

from __future__ import annotations

import pytest

from parry.engine.inflight_seal import InflightSeals

RECORD = {
    "step": "deactivate-key",
    "before": {"status": "Active"},
    "undo": {"action": "iam.activate_access_key", "params": {"user_name": "ci-deployer", "access_key_id": "AKIA1"}},
}


@pytest.fixture
def seals(aws, parry_env):
    return lambda: InflightSeals(lambda: aws.client("kms"), parry_env["PARRY_CONTINUATION_KEY_ID"])


def test_a_sealed_record_holds_for_its_case_in_this_and_another_runner(seals):
    sealed = seals().seal("case-1", RECORD)
    assert seals().holds("case-1", sealed)  # another warm runner, with a key of its own, checks it


@pytest.mark.parametrize(
    "change",
    [
        {"before": {"status": "Inactive"}},
        {"undo": {**RECORD["undo"], "params": {"user_name": "payments-batch", "access_key_id": "AKIA2"}}},
        {"step": "quarantine-user"},
        {"mac": "0" * 32 + ":" + "0" * 64},
        {"mac": "not a seal"},
    ],
    ids=["before", "undo", "step", "made-up-mac", "malformed-mac"],
)
def test_a_record_changed_after_its_seal_does_not_hold(seals, change):
    sealed = seals().seal("case-1", RECORD)
    assert not seals().holds("case-1", {**sealed, **change})


def test_a_seal_is_bound_to_its_case(seals):
    assert not seals().holds("case-2", seals().seal("case-1", RECORD))


def test_without_the_continuation_key_nothing_is_sealed_and_nothing_holds(aws):
    unkeyed = InflightSeals(lambda: aws.client("kms"), None)
    assert unkeyed.seal("case-1", RECORD) == RECORD
    assert not unkeyed.holds("case-1", RECORD)


def test_a_warm_runner_derives_its_key_once(aws, parry_env, monkeypatch):
    calls = []
    kms = aws.client("kms")
    monkeypatch.setattr(kms, "generate_mac", lambda **kw: calls.append(kw) or {"Mac": b"k" * 32})
    seals = InflightSeals(lambda: kms, parry_env["PARRY_CONTINUATION_KEY_ID"])
    for case in ("case-1", "case-2", "case-3"):
        assert seals.holds(case, seals.seal(case, RECORD))
    assert len(calls) == 1
