"""Attack: invoke the front door directly (lambda:InvokeFunction on Parry-ControlPlane, which an IAM
policy in the account can grant without the function URL) with an invented requestContext naming
the on-call role. The requestContext proves nothing there; who asks is whoever STS names for the
caller proof, a GetCallerIdentity signed with the caller's own credentials over the body's sha256.
Each forgery is refused before anything is sealed, and logged and counted as a security event."""

from __future__ import annotations

import json

import pytest

from parry.aws import caller_proof
from parry.runtime import front_door
from parry.runtime.front_door import DoorPolicy, FrontDoor, lambda_handler, principal
from tests.support.control import fresh_runner, lines, security_events

TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})


@pytest.fixture
def sessions(aws, parry_env):
    """Sessions of the local on-call role (alice), approver role (bob) and a developer with no Parry role (mallory)."""
    iam = aws.client("iam")
    iam.create_role(RoleName="developer", AssumeRolePolicyDocument=TRUST)
    roles = (("parry-oncall", "alice"), ("parry-approver", "bob"), ("developer", "mallory"))
    return {who: aws.assume(iam.get_role(RoleName=role)["Role"]["Arn"], session_name=who) for role, who in roles}


@pytest.fixture
def asked(monkeypatch, tmp_path, aws, parry_env, sessions):
    """The deployed door, whose runner only records what it was asked."""
    fresh_runner(monkeypatch, tmp_path, "iam-credential-compromise")  # log and metrics onto this test's stdout
    oncall = principal(sessions["alice"].role_arn or "")
    approver = principal(sessions["bob"].role_arn or "")
    calls: list[tuple[str, dict]] = []
    door = FrontDoor(
        aws,
        DoorPolicy(frozenset({oncall}), frozenset({approver})),
        parry_env["PARRY_REQUEST_KEY_ID"],
        parry_env["PARRY_CASES_TABLE"],
        lambda name, payload: calls.append((name, payload)) or {"status": "SUCCEEDED", "case_id": "case-1"},
    )
    monkeypatch.setattr(front_door._Deployed, "door", door)
    return calls


START = {"kind": "start", "playbook": "manual-quarantine", "target": {"user": "alice-admin"}}


def invoke(body: dict, url_caller: str | None, proof: str | None) -> dict:
    """The event a function URL hands the function (or a direct invoke pretends it did)."""
    event: dict = {"body": json.dumps(body), "headers": {}, "requestContext": {}}
    if url_caller:
        event["requestContext"] = {"authorizer": {"iam": {"userArn": url_caller}}}
    if proof:
        event["headers"][caller_proof.HEADER] = proof
    response = lambda_handler(event, None)
    return {"code": response["statusCode"], **json.loads(response["body"])}


def refused(answer: dict, asked: list, capsys, match: str) -> None:
    assert answer["code"] == 403 and answer["status"] == "REFUSED", answer
    assert match in answer["error"]
    assert asked == []  # nothing sealed, no runner asked
    (event,) = security_events(lines(capsys))
    assert event["playbook"] == "control-plane"


def arn_of(factory) -> str:
    return factory.client("sts").get_caller_identity()["Arn"]


def test_the_on_call_with_a_proof_starts_and_is_recorded_as_sts_names_them(asked, sessions):
    alice = sessions["alice"]
    answer = invoke(START, arn_of(alice), caller_proof.sign(alice, json.dumps(START).encode()))

    assert answer["code"] == 200 and answer["case_id"] == "case-1"
    ((name, payload),) = asked
    assert name == "manual-quarantine"
    assert payload["parry_control"]["request"]["requested_by"] == arn_of(alice)


def test_a_direct_invoke_with_an_invented_request_context_and_no_proof_is_refused(asked, sessions, capsys):
    refused(invoke(START, arn_of(sessions["alice"]), None), asked, capsys, "no caller proof")


def test_a_proof_signed_by_someone_without_a_parry_role_is_refused(asked, sessions, capsys):
    mallory, alice = sessions["mallory"], sessions["alice"]
    # mallory claims to be alice in the requestContext and proves she is mallory
    answer = invoke(START, arn_of(alice), caller_proof.sign(mallory, json.dumps(START).encode()))
    refused(answer, asked, capsys, "the caller proof is")
    # and claiming to be herself, she is not on-call
    answer = invoke(START, arn_of(mallory), caller_proof.sign(mallory, json.dumps(START).encode()))
    refused(answer, asked, capsys, "not an on-call role")


def test_a_proof_lifted_from_one_request_does_not_carry_another(asked, sessions, capsys):
    alice = sessions["alice"]
    seen = caller_proof.sign(alice, json.dumps(START).encode())  # e.g. captured from a log or a proxy
    other = {**START, "target": {"user": "ciso"}}
    refused(invoke(other, arn_of(alice), seen), asked, capsys, "signed for another request body")


@pytest.mark.parametrize(
    ("tamper", "match"),
    [
        (lambda p: {**p, "url": "https://attacker.example/"}, "not this door's STS endpoint"),
        (lambda p: {**p, "headers": {**p["headers"], "host": "attacker.example"}}, "may carry only the headers"),
        (
            lambda p: {
                **p,
                "headers": {**p["headers"], "authorization": p["headers"]["authorization"].replace("/sts/", "/s3/")},
            },
            "not a SigV4 signature for sts",
        ),
        (lambda p: "not base64 at all", "not a signed sts:GetCallerIdentity"),
    ],
)
def test_a_proof_that_is_not_a_signed_sts_request_for_this_door_is_refused(asked, sessions, capsys, tamper, match):
    import base64

    alice = sessions["alice"]
    proof = json.loads(base64.b64decode(caller_proof.sign(alice, json.dumps(START).encode())))
    forged = tamper(proof)
    forged = forged if isinstance(forged, str) else base64.b64encode(json.dumps(forged).encode()).decode()
    refused(invoke(START, arn_of(alice), forged), asked, capsys, match)
