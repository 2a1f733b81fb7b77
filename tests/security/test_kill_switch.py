"""The kill switch is read before every step, at resume and at undo: turned on mid-case it stops the
next change; deleted or unreadable it means dry run (a switch that fails must not turn Parry on)."""

from __future__ import annotations

import pytest
from botocore.awsrequest import AWSResponse

from parry.config import Settings
from parry.engine.kill_switch import CACHE_SECONDS
from parry.engine.run import Engine
from parry.engine.undo import undo
from parry.errors import UndoError
from parry.evidence.sources import S3Source
from parry.evidence.verify import verify_case
from parry.evidence.writer import sha256_hex
from parry.store import model as cs
from tests.support.decisions import approve
from tests.support.members import audit_records, key_status, on_call_messages
from tests.support.playbooks import approval_book, playbook

ON_CALL = "arn:aws:iam::123456789012:user/oncall"


@pytest.fixture
def now():
    return [1_800_000_000.0]


@pytest.fixture
def engine(aws, parry_env, now):
    from parry.local.corrections import sign_digests_like_kms

    sign_digests_like_kms()  # moto signs a digest as if it were the message; the seals must verify
    return Engine(aws, Settings.from_env(), clock=lambda: now[0])


def switch(aws, parry_env, value):
    aws.client("ssm").put_parameter(
        Name=parry_env["PARRY_KILL_SWITCH_PARAMETER"], Value=value, Type="String", Overwrite=True
    )


def two_keys_book(second_key):
    """Deactivate the finding's key, then a second key of the same user: two changes, one after the other."""
    return playbook(
        steps=[
            {
                "id": "first",
                "action": "iam.deactivate_access_key",
                "with": {"user_name": "${target.user}", "access_key_id": "${target.key}"},
            },
            {
                "id": "second",
                "action": "iam.deactivate_access_key",
                "with": {"user_name": "${target.user}", "access_key_id": second_key},
            },
        ]
    )


def test_switch_turned_on_between_steps_stops_the_next_change(engine, aws, parry_env, compromised_user, now):
    iam = aws.client("iam")
    second = iam.create_access_key(UserName="ci-deployer")["AccessKey"]["AccessKeyId"]

    def turn_on_after_first_change(**_):  # someone flips the switch while the case runs
        iam.meta.events.unregister("after-call.iam.UpdateAccessKey", turn_on_after_first_change)
        switch(aws, parry_env, "on")
        now[0] += CACHE_SECONDS + 1

    iam.meta.events.register("after-call.iam.UpdateAccessKey", turn_on_after_first_change)
    case = engine.run(two_keys_book(second), compromised_user["event"])

    first, rest = case.steps
    assert first.status == "succeeded" and key_status(iam, "ci-deployer", compromised_user["key"]) == "Inactive"
    assert rest.status == "planned" and key_status(iam, "ci-deployer", second) == "Active"
    # not a dry run: one change was made, and the on-call can undo it
    assert case.dry_run and case.status == cs.COMPLETED_WITH_ERRORS
    stopped = [r for r in audit_records(aws, parry_env, case) if r["kind"] == "kill_switch_on"]
    assert [r["step"] for r in stopped] == ["second"]
    public = aws.client("kms").get_public_key(KeyId=parry_env["PARRY_SIGNING_KEY_ID"])["PublicKey"]
    found = verify_case(
        S3Source(aws.client("s3"), parry_env["PARRY_EVIDENCE_BUCKET"], case.evidence_prefix),
        trusted_keys={sha256_hex(bytes(public))},  # an unpinned verify is never intact
    )
    assert found.ok, [p.as_dict() for p in found.problems]
    switch(aws, parry_env, "off")  # once automation is allowed again, the change it made can be undone
    now[0] += CACHE_SECONDS + 1
    assert undo(engine, case.case_id, who=ON_CALL, reason="switched off mid-case").status == cs.UNDONE
    assert key_status(iam, "ci-deployer", compromised_user["key"]) == "Active"


def test_switch_turned_on_before_the_approval_stops_the_approved_step(engine, aws, parry_env, compromised_user, now):
    book = approval_book()
    paused = engine.run(book, compromised_user["event"])
    assert paused.status == cs.AWAITING_APPROVAL

    switch(aws, parry_env, "on")
    now[0] += CACHE_SECONDS + 1
    approve(engine, paused.case_id, who=ON_CALL, reason="looks real")
    done = engine.resume(paused.case_id, book)

    assert done.steps[0].status == "planned" and done.status == cs.DRY_RUN
    assert key_status(aws.client("iam"), "ci-deployer", compromised_user["key"]) == "Active"


def test_a_deleted_switch_means_dry_run_and_the_on_call_is_told(engine, aws, parry_env, compromised_user):
    messages = on_call_messages(aws, parry_env["PARRY_TOPIC_ARN"])
    aws.client("ssm").delete_parameter(Name=parry_env["PARRY_KILL_SWITCH_PARAMETER"])

    case = engine.run(playbook(), compromised_user["event"])

    assert case.dry_run and case.status == cs.DRY_RUN and case.steps[0].status == "planned"
    assert key_status(aws.client("iam"), "ci-deployer", compromised_user["key"]) == "Active"
    told = messages()
    assert len(told) == 1 and "is missing" in told[0] and "/parry/kill-switch" in told[0]


def test_an_unreadable_switch_means_dry_run(engine, aws, compromised_user):
    def denied(**_):
        body = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}
        return AWSResponse("https://ssm.amazonaws.com/", 400, {}, None), body

    aws.client("ssm").meta.events.register("before-call.ssm.GetParameter", denied)
    case = engine.run(playbook(), compromised_user["event"])

    assert case.dry_run and case.steps[0].status == "planned"
    assert key_status(aws.client("iam"), "ci-deployer", compromised_user["key"]) == "Active"


def test_a_value_other_than_off_means_dry_run(engine, aws, parry_env, compromised_user):
    switch(aws, parry_env, "disabled")
    case = engine.run(playbook(), compromised_user["event"])
    assert case.dry_run and key_status(aws.client("iam"), "ci-deployer", compromised_user["key"]) == "Active"


def test_undo_changes_nothing_while_the_switch_is_on(engine, aws, parry_env, compromised_user, now):
    case = engine.run(playbook(), compromised_user["event"])
    assert key_status(aws.client("iam"), "ci-deployer", compromised_user["key"]) == "Inactive"

    switch(aws, parry_env, "on")
    now[0] += CACHE_SECONDS + 1
    with pytest.raises(UndoError, match="kill switch"):
        undo(engine, case.case_id, who=ON_CALL, reason="false positive")

    assert key_status(aws.client("iam"), "ci-deployer", compromised_user["key"]) == "Inactive"
    assert engine.store.get(case.case_id).status == cs.SUCCEEDED


def test_the_runner_counts_a_run_that_found_the_switch_missing(
    monkeypatch, tmp_path, aws, parry_env, compromised_user, capsys
):
    from tests.support.control import Context, emf, fresh_runner, lines

    runner = fresh_runner(monkeypatch, tmp_path, "iam-credential-compromise")
    lines(capsys)
    aws.client("ssm").delete_parameter(Name=parry_env["PARRY_KILL_SWITCH_PARAMETER"])

    result = runner.handler(compromised_user["event"], Context())

    assert result["status"] == cs.DRY_RUN
    assert emf(lines(capsys))["KillSwitchUnreadable"] == [1.0]  # alarmed per runner (stacks/constructs/kill_switch.py)
