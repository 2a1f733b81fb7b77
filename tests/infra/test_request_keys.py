"""The HMAC keys that seal control requests, as synthesized: who may GenerateMac and VerifyMac
(exactly the front door's role, exactly the runners'), and that nobody else can, the account root
and its identity policies included."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks import naming
from stacks.nag import nag_value
from tests.support.synth import Synth, load_playbooks
from tests.support.templates import as_list, logical_id, statements_of_role

pytestmark = pytest.mark.xdist_group("synth")

REGION = "eu-west-1"
PLAYBOOKS = sorted(b.name for b in load_playbooks())
ROOT = "arn:<AWS::Partition>:iam::<AWS::AccountId>:root"


def role(name: str) -> str:
    return f"arn:<AWS::Partition>:iam::<AWS::AccountId>:role/{name}"


RUNNER_ROLES = sorted(role(naming.runner_role_name(p, REGION)) for p in PLAYBOOKS)
CONTROL_PLANE_ROLE = [role(naming.control_plane_role_name(REGION))]
MAINTENANCE_ROLE = role(naming.maintenance_role_name(REGION))


def _key(synth: Synth, word: str) -> tuple[str, dict[str, Any]]:
    (lid,) = [k for k, v in synth.resources("Parry", "AWS::KMS::Key").items() if word in v["Properties"]["Description"]]
    return lid, synth.responder["Resources"][lid]


def _who_may(policy: dict[str, Any], action: str) -> list[str]:
    """The principal ARNs a key policy allows `action` to, checking each allowance is denied to all others."""
    allowed = [st for st in policy["Statement"] if st["Effect"] == "Allow" and action in as_list(st["Action"])]
    (allow,) = allowed
    assert nag_value(allow["Principal"]["AWS"]) == ROOT, "the roles are named by condition, never by a wildcard"
    assert allow["Condition"]["StringEquals"] == {"kms:MacAlgorithm": "HMAC_SHA_256"}
    arns = sorted(nag_value(a) for a in allow["Condition"]["ArnEquals"]["aws:PrincipalArn"])
    (deny,) = [st for st in policy["Statement"] if st["Effect"] == "Deny" and action in as_list(st["Action"])]
    assert deny["Principal"] == {"AWS": "*"} and as_list(deny["Action"]) == [action]
    assert sorted(nag_value(a) for a in deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]) == arns
    return arns


@pytest.mark.parametrize("word", ["requests", "continuation"])
def test_both_keys_are_hmac_256_for_macs_only(synth: Synth, word: str):
    _, key = _key(synth, word)
    assert key["Properties"]["KeySpec"] == "HMAC_256" and key["Properties"]["KeyUsage"] == "GENERATE_VERIFY_MAC"


@pytest.mark.parametrize("word", ["requests", "continuation"])
def test_the_root_administers_the_key_but_can_neither_use_it_nor_grant_it(synth: Synth, word: str):
    _, key = _key(synth, word)
    policy = key["Properties"]["KeyPolicy"]
    root_actions = [
        a
        for st in policy["Statement"]
        if st["Effect"] == "Allow" and "Condition" not in st
        for a in as_list(st["Action"])
    ]
    assert root_actions and "kms:PutKeyPolicy" in root_actions, "the deployer can still update the key"
    for action in root_actions:
        assert "*" not in action, f"{action}: administrative actions are listed one by one"
    assert not {"kms:GenerateMac", "kms:VerifyMac", "kms:CreateGrant"} & set(root_actions)
    # every other allowance is conditioned on exactly named roles
    for st in policy["Statement"]:
        if st["Effect"] == "Allow" and "Condition" in st:
            assert set(as_list(st["Action"])) <= {"kms:GenerateMac", "kms:VerifyMac"}


def test_only_the_front_door_seals_requests_and_only_runners_check_them(synth: Synth):
    _, key = _key(synth, "requests")
    policy = key["Properties"]["KeyPolicy"]
    assert _who_may(policy, "kms:GenerateMac") == CONTROL_PLANE_ROLE
    assert _who_may(policy, "kms:VerifyMac") == RUNNER_ROLES


def test_runners_and_maintenance_seal_continuations_and_only_runners_check_them(synth: Synth):
    _, key = _key(synth, "continuation")
    policy = key["Properties"]["KeyPolicy"]
    assert _who_may(policy, "kms:GenerateMac") == sorted([*RUNNER_ROLES, MAINTENANCE_ROLE])
    assert _who_may(policy, "kms:VerifyMac") == RUNNER_ROLES


def test_no_other_iam_policy_of_the_app_names_mac_actions(synth: Synth):
    request_id, _ = _key(synth, "requests")
    continuation_id, _ = _key(synth, "continuation")
    front_door = logical_id(synth.responder, "AWS::IAM::Role", RoleName=naming.control_plane_role_name(REGION))
    maintenance = logical_id(synth.responder, "AWS::IAM::Role", RoleName=naming.maintenance_role_name(REGION))
    runners = {
        logical_id(synth.responder, "AWS::IAM::Role", RoleName=naming.runner_role_name(p, REGION)) for p in PLAYBOOKS
    }
    for lid, res in synth.responder["Resources"].items():
        if res["Type"] != "AWS::IAM::Role":
            continue
        mac = {
            (a, st["Resource"]["Fn::GetAtt"][0])
            for st in statements_of_role(synth.responder, lid)
            for a in as_list(st["Action"])
            if a in ("kms:GenerateMac", "kms:VerifyMac")
        }
        if lid == front_door:
            assert mac == {("kms:GenerateMac", request_id)}
        elif lid == maintenance:
            assert mac == {("kms:GenerateMac", continuation_id)}
        elif lid in runners:
            assert mac == {
                ("kms:VerifyMac", request_id),
                ("kms:GenerateMac", continuation_id),
                ("kms:VerifyMac", continuation_id),
            }
        else:
            assert not mac, lid


@pytest.mark.parametrize("name", PLAYBOOKS)
def test_runners_know_both_keys(synth: Synth, name: str):
    request_id, _ = _key(synth, "requests")
    continuation_id, _ = _key(synth, "continuation")
    lid = logical_id(synth.responder, "AWS::Lambda::Function", FunctionName=naming.function_name(name))
    env = synth.responder["Resources"][lid]["Properties"]["Environment"]["Variables"]
    assert env["PARRY_REQUEST_KEY_ID"] == {"Fn::GetAtt": [request_id, "Arn"]}
    assert env["PARRY_CONTINUATION_KEY_ID"] == {"Fn::GetAtt": [continuation_id, "Arn"]}


def test_without_playbooks_nobody_may_use_the_keys_or_write_cases(tmp_path):
    """No runner, no front door: every MAC action and every case write is denied to all."""
    from stacks.build import build
    from tests.support.synth import TEST_CONTEXT

    (tmp_path / "books").mkdir()
    built = build(
        context={**TEST_CONTEXT, "parry:playbooksDir": str(tmp_path / "books")}, outdir=str(tmp_path / "out"), nag=False
    )
    template = built.app.synth().get_stack_by_name("Parry").template
    keys = [r for r in template["Resources"].values() if r["Properties"].get("KeySpec") == "HMAC_256"]
    assert len(keys) == 2
    for key in keys:
        mac = [st for st in key["Properties"]["KeyPolicy"]["Statement"] if "Mac" in json.dumps(st["Action"])]
        assert mac and all(st["Effect"] == "Deny" and "Condition" not in st for st in mac)
    (table,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    (deny,) = table["Properties"]["ResourcePolicy"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and "Condition" not in deny
    assert not any(r["Type"] == "AWS::Lambda::Url" for r in template["Resources"].values())
