"""An undo through the front door: the on-call's request is sealed by the control plane and the
playbook's runner records it in the case and carries it out with its own role (which may assume the
member role; the on-call may not).

On in-process moto: the front door runs with the on-call as the verified caller and hands the
sealed request to the runner (the Lambda path), running as the runner role of the security account.
"""

from __future__ import annotations

import json

import pytest

from parry.config import Settings
from parry.engine.run import Engine
from parry.engine.undo import request_undo
from parry.errors import UndoError
from parry.playbooks.validate import load_file
from parry.runtime.front_door import DoorPolicy, FrontDoor, lambda_invoke, principal
from parry.runtime.in_process import run_in_process
from parry.store import model as cs
from tests.support.cli import parry
from tests.support.control import sealed
from tests.support.members import BOOK, MEMBER, ROLE, audit_records, deny_assume_role, key_status, on_call_messages

RUNNER_ROLE = f"arn:aws:iam::123456789012:role/parry-{BOOK}-us-east-1"
OPERATOR = "arn:aws:sts::123456789012:assumed-role/parry-oncall/alice"


@pytest.fixture(autouse=True)
def kms_signs_digests():
    """moto signs a KMS digest as KMS does only with this (as `parry local` runs it): manifests verify."""
    from parry.local.corrections import sign_digests_like_kms

    sign_digests_like_kms()


@pytest.fixture(autouse=True)
def one_person_undo(monkeypatch):
    """These tests carry requests out; the second person an undo that gives access back needs (on by
    default) is played in tests/security/test_undo_second_person.py."""
    monkeypatch.setenv("PARRY_UNDO_NEEDS_SECOND_PERSON", "false")


@pytest.fixture
def book():
    return load_file(f"playbooks/{BOOK}.yaml")


@pytest.fixture
def make_runner(aws, parry_env):
    """The engine as a fresh runner container has it: the runner role's credentials, the member role's name."""

    def make() -> Engine:
        engine = Engine(aws.assume(RUNNER_ROLE, session_name="parry-runner"), Settings.from_env(member_role_name=ROLE))
        engine.assumed = []
        engine.aws.client("sts").meta.events.register(
            "before-parameter-build.sts.AssumeRole", lambda params, **_: engine.assumed.append(params["RoleArn"])
        )
        return engine

    return make


@pytest.fixture
def runner(make_runner):
    return make_runner()


@pytest.fixture
def contained(runner, book, accounts):
    """A member-account case the runner contained: the member's key is inactive, the user quarantined."""
    case = runner.run(book, accounts["event"])
    assert case.status == cs.SUCCEEDED, [(s.step_id, s.error) for s in case.steps]
    assert key_status(accounts["member_iam"], "ci-deployer", accounts["keys"]["member"]) == "Inactive"
    return case


def operator(aws) -> str:
    return aws.client("sts").get_caller_identity()["Arn"]


def door_for(aws, parry_env, runner, book, caller: str, invoke=None) -> FrontDoor:
    """The front door, admitting `caller` as on-call, asking `runner` in-process."""
    return FrontDoor(
        aws,
        DoorPolicy(frozenset({principal(caller)}), frozenset()),
        parry_env["PARRY_REQUEST_KEY_ID"],
        parry_env["PARRY_CASES_TABLE"],
        invoke or (lambda name, payload: run_in_process(payload, book, runner)),
    )


def undo_request(parry_env, aws, case_id: str, playbook: str = BOOK, **values) -> dict:
    """A sealed undo of the case as the front door makes it (the case's playbook sha256 included)."""
    from parry.playbooks.validate import load_file as load

    sha = load(f"playbooks/{BOOK}.yaml").sha256
    return sealed(
        parry_env, aws, "undo", playbook, requested_by=OPERATOR, case_id=case_id, playbook_sha256=sha, **values
    )


def forged(case_id: str, playbook: str = BOOK) -> dict:
    return {
        "version": "0",
        "id": "forged-1",
        "source": "parry",
        "detail-type": "Parry Run Request",
        "account": "123456789012",
        "region": "us-east-1",
        "time": "2024-01-01T00:00:00Z",
        "detail": {"playbook": playbook, "undo_case": case_id},
    }


def test_member_case_is_undone_by_the_runner_through_the_member_role_recorded_as_the_operator(
    capsys, aws, parry_env, make_runner, book, accounts, contained
):
    read_messages = on_call_messages(aws, parry_env["PARRY_TOPIC_ARN"])
    runner = make_runner()  # the undo runs in another invocation than the containment
    door = door_for(aws, parry_env, runner, book, OPERATOR)

    done = door.handle(
        {"kind": "undo", "case_id": contained.case_id, "partial": True, "reason": "pentest, confirmed"}, OPERATOR
    )

    assert done["status"] == cs.UNDONE and not done["duplicate"]
    asked = done["undo_request"]
    assert asked["by"] == OPERATOR and asked["reason"] == "pentest, confirmed" and asked["state"] == "done"
    member, home = accounts["member_iam"], accounts["home_iam"]
    assert key_status(member, "ci-deployer", accounts["keys"]["member"]) == "Active"
    assert member.list_user_policies(UserName="ci-deployer")["PolicyNames"] == []
    assert key_status(home, "ci-deployer", accounts["keys"]["home"]) == "Active"
    # the runner, not the on-call, assumed the member role
    assert runner.assumed == [f"arn:aws:iam::{MEMBER}:role/{ROLE}"]
    shown = json.loads(parry(capsys, "cases", "show", contained.case_id, "--json")[1])
    undone = [h for h in shown["history"] if h["kind"] == "undo"]
    assert {h["step"] for h in undone} == {"deactivate-key", "quarantine-user", "mark-finding"}
    assert all(
        h["by"] == OPERATOR and h["reason"] == "pentest, confirmed" and h["status"] == "succeeded" for h in undone
    )
    assert all(h["request"] == asked["id"] for h in undone)
    key_undo = next(h for h in undone if h["step"] == "deactivate-key")
    assert key_undo["acting_as"] == {
        "account": MEMBER,
        "role": f"arn:aws:iam::{MEMBER}:role/{ROLE}",
        "session": f"parry-{contained.case_id}",
    }
    assert f"assumed-role/parry-{BOOK}-us-east-1" in shown["undo_request"]["ran_as"]
    kinds = [r["kind"] for r in audit_records(aws, parry_env, contained)]
    assert kinds.index("undo_requested") < kinds.index("undo") < kinds.index("undo_request_finished")
    (message,) = [m for m in read_messages() if "undo" in m]
    assert OPERATOR in message and "done" in message and contained.case_id in message
    code, out, err = parry(capsys, "evidence", "verify", contained.case_id)
    assert code == 0, out + err


def test_a_run_request_alone_never_undoes_a_case(aws, parry_env, runner, book, accounts, contained):
    before = runner.store.get(contained.case_id)
    audited = len(audit_records(aws, parry_env, contained))

    result = run_in_process(forged(contained.case_id), book, runner)  # returns: no retry loop, no DLQ

    assert result["status"] == "REFUSED" and "not a sealed control request" in result["error"]
    assert key_status(accounts["member_iam"], "ci-deployer", accounts["keys"]["member"]) == "Inactive"
    assert accounts["member_iam"].list_user_policies(UserName="ci-deployer")["PolicyNames"]
    after = runner.store.get(contained.case_id)
    assert (after.status, after.history, after.updated_at) == (before.status, before.history, before.updated_at)
    assert len(audit_records(aws, parry_env, contained)) == audited


def test_a_request_is_carried_out_only_by_its_own_playbooks_runner(aws, parry_env, runner, accounts, contained):
    other = load_file("playbooks/lambda-made-public.yaml")

    result = run_in_process(undo_request(parry_env, aws, contained.case_id, other.name, partial=True), other, runner)

    assert result["status"] == "REFUSED" and f"belongs to playbook {BOOK}" in result["error"]
    assert key_status(accounts["member_iam"], "ci-deployer", accounts["keys"]["member"]) == "Inactive"
    assert runner.store.get(contained.case_id).undo_request is None


def test_an_undo_done_asked_again_undoes_nothing_twice(aws, parry_env, runner, book, accounts, contained):
    first = run_in_process(undo_request(parry_env, aws, contained.case_id, partial=True), book, runner)
    assert first["status"] == cs.UNDONE
    member = accounts["member_iam"]
    # the owner turns the key off again by hand; then the same undo is asked again
    member.update_access_key(UserName="ci-deployer", AccessKeyId=accounts["keys"]["member"], Status="Inactive")

    again = run_in_process(undo_request(parry_env, aws, contained.case_id, partial=True), book, runner)

    assert again["status"] == "ERROR" and "nothing to undo" in again["error"]
    assert key_status(member, "ci-deployer", accounts["keys"]["member"]) == "Inactive"
    history = runner.store.get(contained.case_id).history
    assert sorted(h["step"] for h in history if h["kind"] == "undo") == [
        "deactivate-key",
        "mark-finding",
        "quarantine-user",
    ]


def test_a_second_request_cannot_race_the_first(runner, contained):
    request_undo(runner, contained.case_id, who="arn:aws:iam::123456789012:user/alice", partial=True)
    with pytest.raises(UndoError, match="user/alice .* is pending"):
        request_undo(runner, contained.case_id, who="arn:aws:iam::123456789012:user/bob", partial=True)
    # two people who read the case before either wrote: the conditional write lets one through
    stale = runner.store.get(contained.case_id)
    stale.undo_request = {"id": "bob", "by": "bob", "state": "pending"}
    with pytest.raises(Exception, match="changed meanwhile"):
        runner.store.request_undo(stale, read_at=stale.updated_at)
    assert runner.store.get(contained.case_id).undo_request["by"].endswith("user/alice")


def test_a_request_left_pending_by_a_runner_that_died_is_carried_out_by_the_next_request(
    aws, parry_env, runner, book, accounts, contained
):
    request_undo(runner, contained.case_id, who=OPERATOR, partial=True)  # recorded, then the runner died

    done = run_in_process(undo_request(parry_env, aws, contained.case_id, partial=True), book, runner)

    assert done["status"] == cs.UNDONE
    assert key_status(accounts["member_iam"], "ci-deployer", accounts["keys"]["member"]) == "Active"


def test_a_failed_undo_is_recorded_and_told_then_can_be_asked_again(
    aws, parry_env, make_runner, book, accounts, contained
):
    read_messages = on_call_messages(aws, parry_env["PARRY_TOPIC_ARN"])
    runner = make_runner()  # another invocation: it must assume the member role again
    allow = deny_assume_role(runner.aws)  # e.g. the member stack was removed meanwhile

    result = run_in_process(undo_request(parry_env, aws, contained.case_id, partial=True), book, runner)

    # the step in the security account was undone, the member account's could not be: partly undone
    assert result["status"] == cs.PARTIALLY_UNDONE and result["undo_request"]["state"] == "failed"
    assert "AccessDenied" in result["undo_request"]["error"] and f"role/{ROLE}" in result["undo_request"]["error"]
    assert key_status(accounts["member_iam"], "ci-deployer", accounts["keys"]["member"]) == "Inactive"
    assert any("undo failed" in m or "is failed" in m for m in read_messages())
    allow()
    again = run_in_process(undo_request(parry_env, aws, contained.case_id, partial=True), book, runner)
    assert again["status"] == cs.UNDONE
    assert key_status(accounts["member_iam"], "ci-deployer", accounts["keys"]["member"]) == "Active"


def test_undo_in_process_waits_for_a_pending_request(runner, contained):
    from parry.engine.undo import undo

    request_undo(runner, contained.case_id, who="arn:aws:iam::123456789012:user/alice", partial=True)
    with pytest.raises(UndoError, match="pending with the iam-credential-compromise runner"):
        undo(runner, contained.case_id, who="bob", partial=True)


def test_a_runner_the_front_door_cannot_reach_leaves_nothing_recorded(aws, parry_env, runner, book, contained):
    from botocore.exceptions import ClientError

    door = door_for(aws, parry_env, runner, book, OPERATOR, invoke=lambda_invoke(aws))  # no such function here

    with pytest.raises(ClientError, match="ResourceNotFound"):
        door.handle({"kind": "undo", "case_id": contained.case_id, "partial": True}, OPERATOR)

    assert runner.store.get(contained.case_id).undo_request is None
