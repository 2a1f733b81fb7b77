"""Approve, deny, expiry and undo end to end through the `parry` command, as the on-call engineer
runs it: `python -m parry ...` processes against a local endpoint (moto server on 127.0.0.1),
after `parry local bootstrap`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest

from parry.local.sandbox import guardduty_finding_in_security_hub

ROOT = Path(__file__).resolve().parents[2]
FINDING = ROOT / "tests/events/guardduty/unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.bare.json"

pytestmark = pytest.mark.xdist_group("decisions-cli")  # one local endpoint for the module

BOOK = """\
version: parry/v1
name: approve-then-deactivate
description: Deactivate a key only once a person approves
trigger: {source: [aws.guardduty]}
manual: true
dedup: detail.id
target:
  user: detail.resource.accessKeyDetails.userName
  key: detail.resource.accessKeyDetails.accessKeyId
guardrails: {approval_ttl_hours: 1}
steps:
  - id: capture-user
    action: evidence.capture_iam_user
    with: {user_name: "${target.user}"}
  - id: deactivate-key
    action: iam.deactivate_access_key
    approval: required
    with: {user_name: "${target.user}", access_key_id: "${target.key}"}
"""


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """A moto server, Parry's resources bootstrapped in it, and a folder holding the playbook."""
    from parry.local.server import LocalServer

    server = LocalServer.start()
    home = tmp_path_factory.mktemp("oncall")
    (home / "playbooks").mkdir()
    (home / "playbooks" / "approve-then-deactivate.yaml").write_text(BOOK)
    shipped = ROOT / "playbooks" / "iam-credential-compromise.yaml"
    (home / "playbooks" / shipped.name).write_text(shipped.read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARRY_", "AWS_"))}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=server.endpoint,
        PYTHONPATH=str(ROOT),
    )
    out = subprocess.run(
        [sys.executable, "-m", "parry", "local", "bootstrap"],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    for line in out.stdout.splitlines():
        key, _, value = line.partition("=")
        env[key] = value
    assert env["PARRY_CASES_TABLE"] and env["PARRY_EVIDENCE_BUCKET"]
    yield {"env": env, "home": home, "endpoint": server.endpoint}
    server.stop()


def parry(local, *args: str) -> tuple[int, str, str]:
    out = subprocess.run(
        [sys.executable, "-m", "parry", *args],
        env=local["env"],
        cwd=local["home"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return out.returncode, out.stdout, out.stderr


def client(local, service):
    return boto3.client(
        service,
        endpoint_url=local["endpoint"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def key_status(local, user, key):
    keys = client(local, "iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return next(k["Status"] for k in keys if k["AccessKeyId"] == key)


@pytest.fixture
def incident(local, tmp_path):
    """A user with an active key in the local account, and a finding file pointing at it."""
    iam = client(local, "iam")
    user = f"oncall-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    finding = json.loads(FINDING.read_text())
    finding["id"] = f"finding-{user}"
    finding["accountId"], finding["region"] = "123456789012", "us-east-1"
    finding["resource"]["accessKeyDetails"].update(userName=user, accessKeyId=key)
    path = tmp_path / "finding.json"
    path.write_text(json.dumps(finding))
    return {"user": user, "key": key, "event": str(path)}


def start(local, incident) -> dict:
    code, out, err = parry(local, "run", "approve-then-deactivate", "--event", incident["event"], "--json")
    assert code == 0, err
    case = json.loads(out)
    assert case["status"] == "AWAITING_APPROVAL", case
    assert key_status(local, incident["user"], incident["key"]) == "Active"
    return case


def show(local, case_id) -> dict:
    code, out, err = parry(local, "cases", "show", case_id, "--json")
    assert code == 0, err
    return json.loads(out)


def test_approve_continues_the_case_and_records_who_and_why(local, incident):
    case = start(local, incident)

    code, out, err = parry(
        local, "approve", case["case_id"], "--as", "parry-approver", "--reason", "owner confirmed the leak", "--json"
    )

    assert code == 0, err
    assert json.loads(out)["status"] == "SUCCEEDED"
    assert key_status(local, incident["user"], incident["key"]) == "Inactive"
    shown = show(local, case["case_id"])
    decision = next(h for h in shown["history"] if h["kind"] == "approved")
    assert decision["reason"] == "owner confirmed the leak" and decision["step"] == "deactivate-key"
    assert decision["by"].startswith("arn:aws:sts::123456789012:assumed-role/parry-approver/")
    assert [s["status"] for s in shown["steps"]] == ["succeeded", "succeeded"]


def test_approving_a_case_whose_playbook_came_from_a_path_resumes_the_sealed_version(local, incident, tmp_path):
    elsewhere = tmp_path / "drafts" / "approve-from-a-draft.yaml"
    elsewhere.parent.mkdir()
    elsewhere.write_text(BOOK.replace("name: approve-then-deactivate", "name: approve-from-a-draft"))
    code, out, err = parry(local, "run", str(elsewhere), "--event", incident["event"], "--json")
    assert code == 0, err
    case = json.loads(out)
    assert case["status"] == "AWAITING_APPROVAL" and not (local["home"] / "playbooks" / elsewhere.name).exists()

    code, out, err = parry(local, "approve", case["case_id"], "--as", "parry-approver", "--json")

    assert code == 0, err
    done = json.loads(out)
    assert done["status"] == "SUCCEEDED" and [s["step_id"] for s in done["steps"]] == ["capture-user", "deactivate-key"]
    assert key_status(local, incident["user"], incident["key"]) == "Inactive"


def test_a_changed_playbook_of_the_same_name_does_not_replace_the_sealed_version_on_approve(local, incident):
    case = start(local, incident)
    path = local["home"] / "playbooks" / "approve-then-deactivate.yaml"
    changed = BOOK.replace(
        "id: deactivate-key\n    action: iam.deactivate_access_key", "id: delete-key\n    action: iam.delete_access_key"
    )
    assert changed != BOOK
    path.write_text(changed)
    try:
        code, out, err = parry(local, "approve", case["case_id"], "--as", "parry-approver", "--json")
    finally:
        path.write_text(BOOK)

    assert code == 0, err
    done = json.loads(out)
    assert [s["step_id"] for s in done["steps"]] == ["capture-user", "deactivate-key"]
    assert done["status"] == "SUCCEEDED"
    assert key_status(local, incident["user"], incident["key"]) == "Inactive", "deactivated as sealed, not deleted"


def test_deny_closes_the_case_without_acting_and_cannot_be_reversed(local, incident):
    case = start(local, incident)

    code, out, err = parry(
        local, "deny", case["case_id"], "--as", "parry-approver", "--reason", "false positive: pentest", "--json"
    )

    assert code == 0, err
    assert json.loads(out)["status"] == "DENIED"
    assert key_status(local, incident["user"], incident["key"]) == "Active"
    code, _, err = parry(local, "approve", case["case_id"], "--as", "parry-approver", "--reason", "changed my mind")
    assert code == 2 and "not waiting for approval" in err and "Traceback" not in err
    assert key_status(local, incident["user"], incident["key"]) == "Active"


def test_expire_closes_cases_whose_approval_window_passed(local, incident):
    case = start(local, incident)
    ddb = client(local, "dynamodb")
    table = local["env"]["PARRY_CASES_TABLE"]
    key = {"pk": {"S": f"CASE#{case['case_id']}"}, "sk": {"S": "CASE"}}
    awaiting = json.loads(ddb.get_item(TableName=table, Key=key)["Item"]["awaiting"]["S"])
    assert awaiting["deadline"] > 0 and awaiting["step"] == "deactivate-key"
    awaiting["deadline"] -= 3601  # the one-hour window (guardrails.approval_ttl_hours: 1) is over
    ddb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET awaiting = :a",
        ExpressionAttributeValues={":a": {"S": json.dumps(awaiting)}},
    )

    code, out, err = parry(local, "cases", "expire")

    assert code == 0, err
    assert case["case_id"] in out.split()
    assert show(local, case["case_id"])["status"] == "CLOSED_UNAPPROVED"
    code, _, err = parry(local, "approve", case["case_id"], "--as", "parry-approver")
    assert code == 2 and "CLOSED_UNAPPROVED" in err
    assert key_status(local, incident["user"], incident["key"]) == "Active"


def test_undo_restores_what_the_case_changed_and_says_when_nothing_is_left(local, incident):
    case = start(local, incident)
    assert parry(local, "approve", case["case_id"], "--as", "parry-approver", "--reason", "contain it")[0] == 0
    assert key_status(local, incident["user"], incident["key"]) == "Inactive"

    code, out, err = parry(local, "undo", case["case_id"], "--reason", "the owner rotated the key", "--json")

    # reactivating a key gives access back: the undo waits for a second person, and nothing changed yet
    assert code == 0, err
    request = json.loads(out)["undo_request"]
    assert request["state"] == "awaiting approval" and f"--gate {request['gate']}" in err
    assert key_status(local, incident["user"], incident["key"]) == "Inactive"
    code, _, err = parry(local, "approve", case["case_id"], "--gate", request["gate"])  # the on-call, alone
    assert code == 2 and "may not approve" in err
    assert key_status(local, incident["user"], incident["key"]) == "Inactive"
    code, out, err = parry(local, "approve", case["case_id"], "--as", "parry-approver", "--json")

    assert code == 0, err
    assert json.loads(out)["status"] == "UNDONE"
    assert key_status(local, incident["user"], incident["key"]) == "Active"
    entry = next(h for h in show(local, case["case_id"])["history"] if h["kind"] == "undo")
    assert (
        entry["step"] == "deactivate-key"
        and entry["status"] == "succeeded"
        and entry["reason"] == "the owner rotated the key"
    )
    code, _, err = parry(local, "undo", case["case_id"])
    assert code == 2 and "nothing to undo" in err


def test_resume_continues_a_case_blocked_on_a_member_account_once_its_role_is_set(local, tmp_path):
    member = "222222222222"
    creds = client(local, "sts").assume_role(RoleArn=f"arn:aws:iam::{member}:role/setup", RoleSessionName="setup")[
        "Credentials"
    ]
    iam = boto3.client(
        "iam",
        endpoint_url=local["endpoint"],
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    user = f"member-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    finding = json.loads(FINDING.read_text())
    finding["id"], finding["accountId"], finding["region"] = f"finding-{user}", member, "us-east-1"
    finding["arn"] = f"arn:aws:guardduty:us-east-1:{member}:detector/d1/finding/finding-{user}"
    finding["resource"]["accessKeyDetails"].update(userName=user, accessKeyId=key)
    # Security Hub aggregates the member's finding in the security account, where the playbook marks it
    guardduty_finding_in_security_hub(
        SimpleNamespace(client=lambda service: client(local, service)), {"detail": finding}
    )
    path = tmp_path / "member-finding.json"
    path.write_text(json.dumps(finding))
    book = (ROOT / "playbooks" / "iam-credential-compromise.yaml").read_text()
    (local["home"] / "playbooks" / "iam-credential-compromise.yaml").write_text(book)

    code, out, err = parry(local, "run", "iam-credential-compromise", "--event", str(path), "--json")
    assert code == 0, err
    case = json.loads(out)
    assert case["status"] == "RUNNING" and case["steps"][0]["status"] == "blocked"
    assert "PARRY_MEMBER_ROLE_NAME" in case["steps"][0]["error"]

    local["env"]["PARRY_MEMBER_ROLE_NAME"] = "parry-member-iam-credential-compromise"
    try:
        code, out, err = parry(local, "cases", "resume", case["case_id"], "--json")
    finally:
        del local["env"]["PARRY_MEMBER_ROLE_NAME"]
    assert code == 0, err
    assert json.loads(out)["status"] == "SUCCEEDED"
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    assert keys[0]["Status"] == "Inactive"
    (marked,) = client(local, "securityhub").get_findings(
        Filters={"Id": [{"Value": finding["arn"], "Comparison": "EQUALS"}]}
    )["Findings"]
    assert marked["Workflow"]["Status"] == "NOTIFIED" and case["case_id"] in marked["Note"]["Text"]

    code, _, err = parry(local, "cases", "resume", case["case_id"])
    assert code != 0 and "only a RUNNING case can be continued" in err


def test_run_on_a_target_goes_through_the_front_door_as_the_local_oncall(local):
    iam = client(local, "iam")
    user = f"quarantine-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    book = (ROOT / "playbooks" / "manual-quarantine.yaml").read_text()
    (local["home"] / "playbooks" / "manual-quarantine.yaml").write_text(book)

    code, out, err = parry(local, "run", "manual-quarantine", "--target", f"user={user}", "--reason", "INC-7", "--json")

    assert code == 0, err
    case = json.loads(out)
    assert case["status"] == "AWAITING_APPROVAL"
    assert not iam.list_user_policies(UserName=user)["PolicyNames"]  # a person's start waits for a second person
    code, out, err = parry(local, "approve", case["case_id"], "--as", "parry-approver", "--reason", "INC-7", "--json")
    assert code == 0, err
    assert json.loads(out)["status"] == "SUCCEEDED"
    assert (
        iam.list_user_policies(UserName=user)["PolicyNames"]
        or iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
    )
    code, _, err = parry(local, "run", "manual-quarantine", "--target", "user=x", "--as", "parry-approver")
    assert code == 2 and "not an on-call role" in err


def test_the_local_oncall_is_not_an_approver(local, incident):
    case = start(local, incident)

    code, _, err = parry(local, "approve", case["case_id"], "--reason", "me, myself")

    assert code == 2 and "not an approver role" in err
    assert show(local, case["case_id"])["status"] == "AWAITING_APPROVAL"
    assert key_status(local, incident["user"], incident["key"]) == "Active"


# ---- a new finding on a key whose case is closed opens a new case (parry.engine.dedup) -------------


# the shipped playbook also marks the finding in Security Hub, where this local finding was never imported
CONTAINED = ("SUCCEEDED", "COMPLETED_WITH_ERRORS")


def new_finding(incident, tmp_path, name: str, *, update: bool = False) -> str:
    """Another GuardDuty finding (its own id) on the same user and key, as GuardDuty would raise it later;
    `update`: the same finding updated by GuardDuty instead (same id, activity seen again)."""
    finding = json.loads(Path(incident["event"]).read_text())
    if update:
        finding["updatedAt"] = "2026-12-01T12:00:00.000Z"
        finding["service"]["count"] = finding["service"].get("count", 1) + 1
    else:
        finding["id"] = f"{finding['id']}-{name}"
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(finding))
    return str(path)


def run_on(local, book: str, event: str) -> dict:
    code, out, err = parry(local, "run", book, "--event", event, "--json")
    assert code == 0, err
    return json.loads(out)


def test_a_new_finding_after_an_undo_opens_a_new_case_and_contains_again(local, incident, tmp_path):
    first = run_on(local, "iam-credential-compromise", incident["event"])
    assert first["status"] in CONTAINED and key_status(local, incident["user"], incident["key"]) == "Inactive"
    assert parry(local, "undo", first["case_id"], "--reason", "owner rotated it")[0] == 0
    assert parry(local, "approve", first["case_id"], "--as", "parry-approver")[0] == 0
    assert show(local, first["case_id"])["status"] == "UNDONE"
    assert key_status(local, incident["user"], incident["key"]) == "Active"
    # the same finding delivered again is still a duplicate: nothing changes
    again = run_on(local, "iam-credential-compromise", incident["event"])
    assert again["case_id"] == first["case_id"] and again["duplicate"] is True

    second = run_on(local, "iam-credential-compromise", new_finding(incident, tmp_path, "later"))

    assert second["case_id"] != first["case_id"] and second["duplicate"] is False
    assert second["status"] in CONTAINED and second["follows"] == first["case_id"]
    assert key_status(local, incident["user"], incident["key"]) == "Inactive"


def test_a_new_finding_after_a_denial_opens_a_new_case_that_waits_again(local, incident, tmp_path):
    case = start(local, incident)
    assert parry(local, "deny", case["case_id"], "--as", "parry-approver", "--reason", "pentest")[0] == 0

    # this playbook's key is the finding id: GuardDuty updating the same finding is a new finding on it
    second = run_on(local, "approve-then-deactivate", new_finding(incident, tmp_path, "real", update=True))

    assert second["status"] == "AWAITING_APPROVAL" and second["follows"] == case["case_id"]
    assert parry(local, "approve", second["case_id"], "--as", "parry-approver", "--reason", "real one")[0] == 0
    assert key_status(local, incident["user"], incident["key"]) == "Inactive"


def test_a_new_finding_after_a_dry_run_opens_a_new_case_that_acts(local, incident, tmp_path):
    ssm = client(local, "ssm")
    switch = local["env"]["PARRY_KILL_SWITCH_PARAMETER"]
    ssm.put_parameter(Name=switch, Value="on", Type="String", Overwrite=True)
    try:
        dry = run_on(local, "iam-credential-compromise", incident["event"])
    finally:
        ssm.put_parameter(Name=switch, Value="off", Type="String", Overwrite=True)
    assert dry["status"] == "DRY_RUN" and key_status(local, incident["user"], incident["key"]) == "Active"

    second = run_on(local, "iam-credential-compromise", new_finding(incident, tmp_path, "after-dry-run"))

    assert second["status"] in CONTAINED and second["follows"] == dry["case_id"]
    assert key_status(local, incident["user"], incident["key"]) == "Inactive"


def test_a_new_finding_while_the_case_waits_is_attached_to_it(local, incident, tmp_path):
    case = start(local, incident)

    attached = run_on(local, "approve-then-deactivate", new_finding(incident, tmp_path, "meanwhile", update=True))

    assert attached["case_id"] == case["case_id"] and attached["attached"] is True
    (entry,) = show(local, case["case_id"])["attached_findings"]
    assert entry["finding"] == f"finding-{incident['user']}@2026-12-01T12:00:00.000Z"


def test_the_oncall_opens_a_fresh_case_on_the_same_finding_with_new_case(local, incident, tmp_path):
    finding = uuid.uuid4().hex  # a GuardDuty finding id, as `parry run --finding` takes it
    body = json.loads(Path(incident["event"]).read_text())
    (tmp_path / "gd.json").write_text(json.dumps({**body, "id": finding}))
    first = run_on(local, "iam-credential-compromise", str(tmp_path / "gd.json"))
    assert parry(local, "undo", first["case_id"], "--reason", "wrong key")[0] == 0
    assert parry(local, "approve", first["case_id"], "--as", "parry-approver")[0] == 0
    # the same finding, at the same version, started by hand: the closed case answers for it
    code, out, err = parry(local, "run", "iam-credential-compromise", "--finding", finding, "--json")
    assert code == 0, err
    assert json.loads(out)["case_id"] == first["case_id"] and json.loads(out)["duplicate"] is True
    assert key_status(local, incident["user"], incident["key"]) == "Active"

    code, out, err = parry(local, "run", "iam-credential-compromise", "--finding", finding, "--new-case", "--json")

    assert code == 0, err
    fresh = json.loads(out)
    assert fresh["case_id"] != first["case_id"] and fresh["follows"] == first["case_id"]
    assert key_status(local, incident["user"], incident["key"]) == "Inactive"
    (asked,) = [h for h in show(local, fresh["case_id"])["history"] if h["kind"] == "new_case"]
    assert asked["by"].startswith("arn:aws:sts::123456789012:assumed-role/parry-oncall/")
    assert show(local, fresh["case_id"])["status"] in CONTAINED


def test_cases_list_and_evidence_list_agree_on_every_status(local, incident, tmp_path):
    waiting = start(local, incident)
    denied = run_on(local, "approve-then-deactivate", new_finding(incident, tmp_path, "denied"))
    assert parry(local, "deny", denied["case_id"], "--as", "parry-approver", "--reason", "test")[0] == 0
    undone = run_on(local, "approve-then-deactivate", new_finding(incident, tmp_path, "undone"))
    assert parry(local, "approve", undone["case_id"], "--as", "parry-approver")[0] == 0
    assert parry(local, "undo", undone["case_id"], "--reason", "test")[0] == 0
    assert parry(local, "approve", undone["case_id"], "--as", "parry-approver")[0] == 0
    done = run_on(local, "iam-credential-compromise", new_finding(incident, tmp_path, "done"))
    ids = {c["case_id"] for c in (waiting, denied, done, undone)}

    code, out, err = parry(local, "cases", "list", "--json")
    assert code == 0, err
    table = {c["case_id"]: c["status"] for c in json.loads(out) if c["case_id"] in ids}
    code, out, err = parry(local, "evidence", "list", "--json")
    assert code == 0, err
    evidence = {c["case_id"]: c["status"] for c in json.loads(out) if c["case_id"] in ids}

    assert table == evidence
    assert sorted(table.values()) == sorted(
        ["AWAITING_APPROVAL", "DENIED", show(local, done["case_id"])["status"], "UNDONE"]
    )
