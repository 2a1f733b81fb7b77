"""The member-account stack: a role per playbook, trusted only by that playbook's runner."""

from __future__ import annotations

import json

import pytest

from parry.actions.base import MEMBER_TEMPLATE_FIELDS, template_fields
from stacks import naming
from stacks.policies import render_resource
from tests.support.synth import EXTERNAL_ID, ORGANIZATION_ID, SECURITY_ACCOUNT, Synth, load_playbooks
from tests.support.templates import as_list, logical_id, pinned_to_an_account, statements_of_role

pytestmark = pytest.mark.xdist_group("synth")

PLAYBOOKS = {b.name: b for b in load_playbooks()}
by_playbook = pytest.mark.parametrize("name", sorted(PLAYBOOKS))


def _member_perms(name: str):
    """Permissions on a member account's resources, other than those called from the
    administrator account (GuardDuty, Security Hub: `security_account=True`)."""
    return [
        p
        for p in PLAYBOOKS[name].permissions()
        if not p.security_account and all(template_fields(r) <= MEMBER_TEMPLATE_FIELDS for r in p.resources)
    ]


@by_playbook
def test_member_role_trusts_only_the_runner_role_in_the_org_with_the_external_id(synth: Synth, name: str):
    if not _member_perms(name):
        pytest.skip("playbook acts on the security account's resources only")
    role_id = logical_id(synth.member, "AWS::IAM::Role", RoleName=naming.member_role_name(name))
    role = synth.member["Resources"][role_id]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRole" and trust["Effect"] == "Allow"
    assert SECURITY_ACCOUNT in json.dumps(trust["Principal"])
    runner_arn = json.dumps(trust["Condition"]["ArnEquals"]["aws:PrincipalArn"])
    assert f":iam::{SECURITY_ACCOUNT}:role/{naming.runner_role_name(name, 'eu-west-1')}" in runner_arn
    assert trust["Condition"]["StringEquals"] == {"aws:PrincipalOrgID": ORGANIZATION_ID, "sts:ExternalId": EXTERNAL_ID}
    assert role["MaxSessionDuration"] == 3600 and not role.get("ManagedPolicyArns")


@by_playbook
def test_member_role_holds_the_playbooks_action_permissions_not_the_engines(synth: Synth, name: str):
    perms = _member_perms(name)
    if not perms:
        pytest.skip("playbook acts on the security account's resources only")
    role_id = logical_id(synth.member, "AWS::IAM::Role", RoleName=naming.member_role_name(name))
    statements = statements_of_role(synth.member, role_id)
    granted = {a for st in statements if st["Effect"] == "Allow" for a in as_list(st["Action"])}
    assert granted == {a for p in perms for a in p.actions}
    values = synth.built.member.template_values
    for perm in perms:
        # every region of parry:regions: "*" limited by aws:RequestedRegion (see stacks/policies.py)
        widened = bool(synth.built.member.other_regions)
        want = {
            json.dumps(
                synth.built.member.resolve(
                    render_resource(
                        r, {**values, "region": "*"} if widened and "{region}" in r else values, where="test"
                    )
                )
            )
            for r in perm.resources
        }
        hits = [s for s in statements if sorted(as_list(s["Action"])) == sorted(perm.actions)]
        assert want <= {json.dumps(r) for s in hits for r in as_list(s["Resource"])}, perm.actions


@by_playbook
def test_member_role_statements_are_pinned_to_the_member_account(synth: Synth, name: str):
    if not _member_perms(name):
        pytest.skip("playbook acts on the security account's resources only")
    role_id = logical_id(synth.member, "AWS::IAM::Role", RoleName=naming.member_role_name(name))
    for st in statements_of_role(synth.member, role_id):
        if st["Effect"] == "Allow":
            for resource in as_list(st["Resource"]):
                assert resource == "*" or pinned_to_an_account(st, resource), f"{st['Action']} on {resource}"


def test_administrator_account_apis_stay_with_the_runner(synth: Synth):
    """GuardDuty archiving and Security Hub updates are made from the security account: the
    playbooks' member roles never hold them, and the runners that use them do. (The sweep's role
    updates only Parry's own posture findings, which only the member account may import: see
    test_posture_sweep.py.)"""
    member_actions = {
        a
        for res in synth.resources("ParryMember", "AWS::IAM::Role").values()
        if res["Properties"]["RoleName"] != naming.MEMBER_SWEEP_ROLE
        for st in statements_of_role(synth.member, next(k for k, v in synth.member["Resources"].items() if v is res))
        for a in as_list(st["Action"])
    }
    admin = {a for b in PLAYBOOKS.values() for p in b.permissions() if p.security_account for a in p.actions}
    assert admin, "no playbook uses GuardDuty or Security Hub: the check would be vacuous"
    assert not admin & member_actions, sorted(admin & member_actions)
