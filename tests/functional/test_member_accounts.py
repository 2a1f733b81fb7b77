"""Cases in member accounts: acted on through the member role, never with the security account's credentials.

moto keeps one backend per account and honours sts:AssumeRole across accounts, so a change made
through the assumed role lands in the member account's backend and not in the security account's.
"""

from __future__ import annotations

import json
import time

import pytest

from parry.aws.members import REFRESH_MARGIN_SECONDS
from parry.config import Settings
from parry.engine.run import Engine
from parry.engine.undo import undo
from parry.playbooks.validate import load_file, validate_document
from parry.store import model as cs
from parry.store import step_result as st
from tests.support.decisions import approve
from tests.support.findings import registered
from tests.support.members import (
    BOOK,
    MEMBER,
    ROLE,
    SECURITY,
    audit_records,
    deny_assume_role,
    key_status,
    on_call_messages,
)


@pytest.fixture
def sts_calls(aws):
    """Every AssumeRole Parry makes (its parameters), and the credentials STS handed out."""
    calls: dict[str, list] = {"params": [], "credentials": []}
    events = aws.client("sts").meta.events
    events.register("before-parameter-build.sts.AssumeRole", lambda params, **_: calls["params"].append(dict(params)))
    events.register(
        "after-call.sts.AssumeRole", lambda parsed, **_: calls["credentials"].append(parsed.get("Credentials"))
    )
    return calls


@pytest.fixture
def make_engine(aws, parry_env, monkeypatch):
    def make(clock=time.time, **env: str) -> Engine:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return Engine(aws, Settings.from_env(), clock=clock)

    return make


@pytest.fixture
def book():
    return load_file(f"playbooks/{BOOK}.yaml")


def test_member_finding_is_contained_in_the_member_account_only(make_engine, book, accounts, sts_calls, aws, parry_env):
    engine = make_engine(PARRY_MEMBER_ROLE_NAME=ROLE)
    case = engine.run(book, accounts["event"])

    assert case.status == cs.SUCCEEDED, [(s.step_id, s.error) for s in case.steps]
    member, home = accounts["member_iam"], accounts["home_iam"]
    assert key_status(member, "ci-deployer", accounts["keys"]["member"]) == "Inactive"
    assert member.list_user_policies(UserName="ci-deployer")["PolicyNames"]  # quarantined
    # the security account's namesake user is untouched
    assert key_status(home, "ci-deployer", accounts["keys"]["home"]) == "Active"
    assert home.list_user_policies(UserName="ci-deployer")["PolicyNames"] == []

    assert [c["RoleArn"] for c in sts_calls["params"]] == [f"arn:aws:iam::{MEMBER}:role/{ROLE}"]  # once for the case
    assert sts_calls["params"][0]["RoleSessionName"] == f"parry-{case.case_id}"
    assert "ExternalId" not in sts_calls["params"][0]
    # the capture read the member's user, and stored it in the security account's evidence bucket
    capture = next(s for s in case.steps if s.step_id == "capture-user")
    stored = json.loads(
        aws.client("s3")
        .get_object(Bucket=parry_env["PARRY_EVIDENCE_BUCKET"], Key=capture.output["artifact"]["key"])["Body"]
        .read()
    )
    assert accounts["keys"]["member"] in json.dumps(stored) and accounts["keys"]["home"] not in json.dumps(stored)
    # the notification went to Parry's own topic, from the security account
    assert next(s for s in case.steps if s.step_id == "tell").status == st.SUCCEEDED
    # the audit log says who acted, as the member's CloudTrail shows it
    started = [r for r in audit_records(aws, parry_env, case) if r.get("kind") == "step_started"]
    acting = {r["step"]: r.get("acting_as") for r in started}
    assert acting["deactivate-key"] == {
        "account": MEMBER,
        "role": f"arn:aws:iam::{MEMBER}:role/{ROLE}",
        "session": f"parry-{case.case_id}",
    }
    assert acting["tell"] is None
    # the member's finding is marked where Security Hub aggregates it, with the security account's credentials
    assert acting["mark-finding"] is None
    (finding,) = aws.client("securityhub").get_findings(
        Filters={"Id": [{"Value": accounts["event"]["detail"]["arn"], "Comparison": "EQUALS"}]}
    )["Findings"]
    assert finding["AwsAccountId"] == MEMBER and finding["Workflow"]["Status"] == "NOTIFIED"
    assert finding["Note"]["Text"] == f"Parry playbook {BOOK}, case {case.case_id}"


def test_credentials_are_never_stored_in_the_case_or_its_evidence(
    make_engine, book, accounts, sts_calls, aws, parry_env
):
    case = make_engine(PARRY_MEMBER_ROLE_NAME=ROLE).run(book, accounts["event"])
    (creds,) = sts_calls["credentials"]
    s3 = aws.client("s3")
    bucket = parry_env["PARRY_EVIDENCE_BUCKET"]
    stored = [
        s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
        for o in s3.list_objects_v2(Bucket=bucket, Prefix=case.evidence_prefix)["Contents"]
    ]
    stored.append(json.dumps(aws.client("dynamodb").scan(TableName=parry_env["PARRY_CASES_TABLE"])["Items"]).encode())
    assert len(stored) > 5
    for secret in (creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]):
        assert not any(secret.encode() in body for body in stored)


def test_finding_aggregated_in_the_administrator_account_is_acted_on_in_its_own_account(
    make_engine, book, accounts, sts_calls
):
    """GuardDuty puts a member's finding on the administrator's bus: the envelope names the administrator."""
    event = accounts["event"]
    event["account"] = SECURITY  # detail.accountId stays the member's
    case = make_engine(PARRY_MEMBER_ROLE_NAME=ROLE).run(book, event)

    assert case.account == MEMBER and case.status == cs.SUCCEEDED
    assert key_status(accounts["member_iam"], "ci-deployer", accounts["keys"]["member"]) == "Inactive"
    assert key_status(accounts["home_iam"], "ci-deployer", accounts["keys"]["home"]) == "Active"


def test_external_id_is_passed_when_configured(make_engine, book, accounts, sts_calls):
    engine = make_engine(PARRY_MEMBER_ROLE_NAME=ROLE, PARRY_MEMBER_EXTERNAL_ID="parry-ext-7f3a")
    assert engine.run(book, accounts["event"]).status == cs.SUCCEEDED
    assert sts_calls["params"] and all(c["ExternalId"] == "parry-ext-7f3a" for c in sts_calls["params"])


def test_same_account_case_uses_parrys_own_credentials(make_engine, book, accounts, sts_calls, aws):
    event = accounts["event"]
    event["account"] = event["detail"]["accountId"] = SECURITY
    event["detail"]["resource"]["accessKeyDetails"]["accessKeyId"] = accounts["keys"]["home"]
    event = registered(aws, event)
    case = make_engine(PARRY_MEMBER_ROLE_NAME=ROLE).run(book, event)

    assert case.status == cs.SUCCEEDED
    assert sts_calls["params"] == []
    assert key_status(accounts["home_iam"], "ci-deployer", accounts["keys"]["home"]) == "Inactive"
    assert key_status(accounts["member_iam"], "ci-deployer", accounts["keys"]["member"]) == "Active"


def test_plan_reads_the_member_account(make_engine, book, accounts):
    plan = make_engine(PARRY_MEMBER_ROLE_NAME=ROLE).plan(book, accounts["event"])
    assert [s.error for s in plan.steps] == [None] * len(plan.steps)
    deactivate = next(s for s in plan.steps if s.step_id == "deactivate-key")
    assert deactivate.state["status"] == "Active" and "iam:UpdateAccessKey" in deactivate.calls[0]


def test_without_a_member_role_the_case_waits_instead_of_acting_in_the_wrong_account(
    make_engine, book, accounts, sts_calls, aws, parry_env
):
    read_messages = on_call_messages(aws, parry_env["PARRY_TOPIC_ARN"])
    case = make_engine().run(book, accounts["event"])

    assert case.status == cs.RUNNING and case.next_step == 0 and case.blocked
    (blocked,) = case.steps
    assert blocked.step_id == "deactivate-key" and blocked.status == st.BLOCKED
    assert f"account {MEMBER}" in blocked.error and "PARRY_MEMBER_ROLE_NAME is not set" in blocked.error
    assert sts_calls["params"] == []
    assert key_status(accounts["home_iam"], "ci-deployer", accounts["keys"]["home"]) == "Active"
    assert key_status(accounts["member_iam"], "ci-deployer", accounts["keys"]["member"]) == "Active"
    assert engine_store_status(make_engine(), case) == cs.RUNNING
    (message,) = read_messages()
    assert (
        case.case_id in message
        and "PARRY_MEMBER_ROLE_NAME" in message
        and f"parry cases resume {case.case_id}" in message
    )

    # once configured, the same case continues from the step it stopped at
    resumed = make_engine(PARRY_MEMBER_ROLE_NAME=ROLE).resume(case.case_id, book)
    assert resumed.status == cs.SUCCEEDED
    assert key_status(accounts["member_iam"], "ci-deployer", accounts["keys"]["member"]) == "Inactive"


def engine_store_status(engine: Engine, case) -> str:
    return engine.store.get(case.case_id).status


def test_refused_assume_role_blocks_the_step_and_the_case_resumes_once_fixed(
    make_engine, book, accounts, aws, parry_env
):
    allow = deny_assume_role(aws)
    engine = make_engine(PARRY_MEMBER_ROLE_NAME=ROLE)
    case = engine.run(book, accounts["event"])  # returns: no exception for Lambda to retry in a loop

    assert case.status == cs.RUNNING and case.blocked
    (blocked,) = case.steps
    assert blocked.status == st.BLOCKED
    assert f"arn:aws:iam::{MEMBER}:role/{ROLE}" in blocked.error and f"account {MEMBER}" in blocked.error
    assert "AccessDenied" in blocked.error
    assert key_status(accounts["member_iam"], "ci-deployer", accounts["keys"]["member"]) == "Active"
    assert key_status(accounts["home_iam"], "ci-deployer", accounts["keys"]["home"]) == "Active"
    kinds = [r["kind"] for r in audit_records(aws, parry_env, case)]
    assert "step_blocked" in kinds and "step_started" not in kinds

    # a redelivery of the event finds it still refused: same state, no crash
    again = engine.run(book, accounts["event"])
    assert again.case_id == case.case_id and again.status == cs.RUNNING and again.next_step == 0

    allow()  # the member stack is deployed
    resumed = engine.resume(case.case_id, book)
    assert resumed.status == cs.SUCCEEDED
    assert [s.status for s in resumed.steps] == [st.SUCCEEDED] * 5
    assert key_status(accounts["member_iam"], "ci-deployer", accounts["keys"]["member"]) == "Inactive"


def test_undo_of_a_member_case_restores_the_member_account(make_engine, book, accounts):
    engine = make_engine(PARRY_MEMBER_ROLE_NAME=ROLE)
    case = engine.run(book, accounts["event"])
    undone = undo(engine, case.case_id, who="test", partial=True)

    assert undone.status == cs.UNDONE
    assert key_status(accounts["member_iam"], "ci-deployer", accounts["keys"]["member"]) == "Active"
    assert accounts["member_iam"].list_user_policies(UserName="ci-deployer")["PolicyNames"] == []


def approval_book():
    return validate_document(
        {
            "name": BOOK,
            "trigger": {"source": ["aws.guardduty"]},
            "target": {
                "user": "detail.resource.accessKeyDetails.userName",
                "key": "detail.resource.accessKeyDetails.accessKeyId",
            },
            "dedup": "detail.id",
            "steps": [
                {"id": "capture", "action": "evidence.capture_iam_user", "with": {"user_name": "${target.user}"}},
                {
                    "id": "deactivate",
                    "action": "iam.deactivate_access_key",
                    "approval": "required",
                    "with": {"user_name": "${target.user}", "access_key_id": "${target.key}"},
                },
            ],
        },
        "approval.yaml",
    )


@pytest.mark.parametrize("later, assumed", [(60.0, 1), (3600.0 - REFRESH_MARGIN_SECONDS + 1, 2)])
def test_credentials_are_renewed_before_they_expire(make_engine, accounts, sts_calls, later, assumed):
    now = [time.time()]
    engine = make_engine(clock=lambda: now[0], PARRY_MEMBER_ROLE_NAME=ROLE)
    book = approval_book()
    case = engine.run(book, accounts["event"])
    assert case.status == cs.AWAITING_APPROVAL and len(sts_calls["params"]) == 1

    now[0] += later  # the approval comes later, in the same (reused) Lambda container
    approve(engine, case.case_id, who="on-call", reason="contain it")
    done = engine.resume(case.case_id, book)

    assert done.status == cs.SUCCEEDED
    assert len(sts_calls["params"]) == assumed
    assert key_status(accounts["member_iam"], "ci-deployer", accounts["keys"]["member"]) == "Inactive"
